//! `rehearsal images` and `rehearsal clean`: what the harness keeps on the engine.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::connect;
use crate::backend::{Backend, ContainerSummary, LABEL_MANAGED_BY, MANAGED_BY};
use crate::error::{exit, Error};
use crate::platform::{self, Platform, Source};

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build platform images that are missing or whose definition changed.
    Build {
        /// Platforms to build (default: all).
        names: Vec<String>,
        /// How to build (default: debootstrap when the definition has it, else Dockerfile).
        #[arg(long, value_enum)]
        from: Option<Source>,
        /// Rebuild even when the image is current.
        #[arg(long)]
        force: bool,
        #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
        images: Option<PathBuf>,
    },
    /// List platforms, their image and whether it is built and current.
    List {
        #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
        images: Option<PathBuf>,
    },
}

/// Builds the images that are missing or stale, all at once, printing progress.
pub(super) async fn ensure_images<B: Backend>(
    backend: &B,
    platforms: &[Arc<Platform>],
    from: Option<Source>,
    force: bool,
) -> Result<(), Error> {
    let builds = platforms.iter().map(|p| async move {
        let name = p.name.clone();
        let progress = move |line: &str| eprintln!("[{name}] {line}");
        if force
            || !platform::build::is_current(backend, p)
                .await
                .unwrap_or(false)
        {
            eprintln!(
                "[{}] building image {} ({})",
                p.name,
                p.image(),
                p.definition
                    .description
                    .as_deref()
                    .unwrap_or("no description")
            );
        }
        platform::build::ensure(backend, p, from, force, &progress).await
    });
    let results = futures_util::future::join_all(builds).await;
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Engine(errors.join("\nerror: ")))
    }
}

pub(super) async fn build_images(
    names: Vec<String>,
    from: Option<Source>,
    force: bool,
    images: Option<PathBuf>,
) -> Result<u8, Error> {
    let all = platform::load(images.as_deref()).map_err(Error::usage)?;
    let chosen: Vec<Arc<Platform>> = if names.is_empty() {
        all.iter().cloned().map(Arc::new).collect()
    } else {
        platform::select(&all, &names)
            .map_err(Error::usage)?
            .into_iter()
            .cloned()
            .map(Arc::new)
            .collect()
    };
    let backend = connect().await?;
    ensure_images(&backend, &chosen, from, force).await?;
    for p in &chosen {
        println!("{}\t{}", p.name, p.image());
    }
    Ok(exit::SUCCESS)
}

pub(super) async fn list_images(images: Option<PathBuf>) -> Result<u8, Error> {
    let all = platform::load(images.as_deref()).map_err(Error::usage)?;
    let backend = connect().await?;
    println!(
        "{:<12} {:<32} {:<10} {:>9}  DESCRIPTION",
        "PLATFORM", "IMAGE", "STATE", "SIZE"
    );
    for p in &all {
        let found = backend
            .image(&p.image())
            .await
            .map_err(|e| Error::Engine(e.to_string()))?;
        let (state, size) = match found {
            Some(info) => ("built", format!("{} MB", info.size / 1_000_000)),
            None => ("missing", "-".to_string()),
        };
        println!(
            "{:<12} {:<32} {:<10} {:>9}  {}",
            p.name,
            p.image(),
            state,
            size,
            p.definition.description.as_deref().unwrap_or("")
        );
    }
    Ok(exit::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Only containers created longer ago than this (like 1h, 30m, 2days), for shared
    /// hosts where other runs may be live.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,
}

pub(super) async fn clean(args: CleanArgs) -> Result<u8, Error> {
    let backend = connect().await?;
    let found = backend
        .containers(&[(LABEL_MANAGED_BY, MANAGED_BY)])
        .await
        .map_err(|e| Error::Engine(e.to_string()))?;
    let (chosen, spared) = older_than(found, args.older_than, chrono::Utc::now().timestamp());
    let mut failed = 0;
    for container in &chosen {
        if let Err(err) = backend.remove(&container.id).await {
            eprintln!("warning: {err} (container {})", container.name);
            failed += 1;
        }
    }
    let removed = chosen.len() - failed;
    print!("removed {removed} container{}", plural(removed));
    match args.older_than {
        Some(age) => println!(
            " older than {}; {spared} younger left alone",
            humantime::format_duration(age)
        ),
        None => println!(),
    }
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::ENGINE
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The containers created before `now - age` (all of them without an age), and how many
/// were spared. A container whose creation time is unknown is spared.
fn older_than(
    found: Vec<ContainerSummary>,
    age: Option<std::time::Duration>,
    now: i64,
) -> (Vec<ContainerSummary>, usize) {
    let Some(age) = age else {
        return (found, 0);
    };
    let cutoff = now.saturating_sub(i64::try_from(age.as_secs()).unwrap_or(i64::MAX));
    let total = found.len();
    let chosen: Vec<ContainerSummary> = found
        .into_iter()
        .filter(|c| c.created.is_some_and(|created| created < cutoff))
        .collect();
    let spared = total - chosen.len();
    (chosen, spared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, created: Option<i64>) -> ContainerSummary {
        ContainerSummary {
            id: name.into(),
            name: name.into(),
            labels: Default::default(),
            created,
            running: true,
        }
    }

    #[test]
    fn older_than_keeps_young_and_unknown_containers() {
        let now = 1_000_000;
        let found = vec![
            container("old", Some(now - 7200)),
            container("young", Some(now - 60)),
            container("unknown", None),
        ];
        let hour = Some(std::time::Duration::from_secs(3600));
        let (chosen, spared) = older_than(found.clone(), hour, now);
        assert_eq!(chosen, [container("old", Some(now - 7200))]);
        assert_eq!(spared, 2);
        let (all, spared) = older_than(found.clone(), None, now);
        assert_eq!((all, spared), (found, 0));
    }
}
