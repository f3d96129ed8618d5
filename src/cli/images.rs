//! `rehearsal images` and `rehearsal clean`: what the harness keeps on the engine.

use crate::labels;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::connect;
use crate::backend::{Backend, ContainerSummary};
use crate::error::{exit, Error};
use crate::platform::{self, Platform, Source};

/// `--from`: how `images build` makes an image (the command line's spelling of
/// [`Source`]; the platform stage knows nothing of clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    Debootstrap,
    Dockerfile,
}

impl From<SourceArg> for Source {
    fn from(arg: SourceArg) -> Source {
        match arg {
            SourceArg::Debootstrap => Source::Debootstrap,
            SourceArg::Dockerfile => Source::Dockerfile,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build platform images that are missing or whose definition changed.
    Build {
        /// Platforms to build (default: all).
        names: Vec<String>,
        /// How to build (default: debootstrap when the definition has it, else Dockerfile).
        #[arg(long, value_enum)]
        from: Option<SourceArg>,
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
    let errors: Vec<_> = results.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Image(errors))
    }
}

pub(super) async fn build_images(
    names: Vec<String>,
    from: Option<Source>,
    force: bool,
    images: Option<PathBuf>,
    engine: Option<super::EngineArg>,
) -> Result<u8, Error> {
    let all = platform::load(images.as_deref())?;
    let chosen: Vec<Arc<Platform>> = if names.is_empty() {
        all.iter().cloned().map(Arc::new).collect()
    } else {
        platform::select(&all, &names)?
            .into_iter()
            .cloned()
            .map(Arc::new)
            .collect()
    };
    let backend = connect(engine).await?;
    ensure_images(&backend, &chosen, from, force).await?;
    for p in &chosen {
        println!("{}\t{}", p.name, p.image());
    }
    Ok(exit::SUCCESS)
}

pub(super) async fn list_images(
    images: Option<PathBuf>,
    engine: Option<super::EngineArg>,
) -> Result<u8, Error> {
    let all = platform::load(images.as_deref())?;
    let backend = connect(engine).await?;
    println!(
        "{:<12} {:<32} {:<10} {:>9}  DESCRIPTION",
        "PLATFORM", "IMAGE", "STATE", "SIZE"
    );
    for p in &all {
        let found = backend.image(&p.image()).await.map_err(Error::from)?;
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
    let mut snapshots = snapshot_images(&backend).await?;
    if snapshots.is_empty() {
        println!("\nno snapshots (a site baseline or a spec's `prepare` makes them)");
        return Ok(exit::SUCCESS);
    }
    snapshots.sort_by_key(|i| std::cmp::Reverse(i.created));
    let now = chrono::Utc::now().timestamp();
    println!(
        "\n{:<44} {:<9} {:>8} {:>9}  OF",
        "SNAPSHOT", "LAYER", "AGE", "SIZE"
    );
    for image in &snapshots {
        let name = image
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "<untagged>".into());
        let age = std::time::Duration::from_secs(now.saturating_sub(image.created).max(0) as u64);
        println!(
            "{:<44} {:<9} {:>8} {:>9}  {}",
            name,
            image
                .labels
                .get(labels::SNAPSHOT)
                .map(String::as_str)
                .unwrap_or("?"),
            short_age(age),
            format!("{} MB", image.size / 1_000_000),
            super::relative(
                image
                    .labels
                    .get(labels::SNAPSHOT_OF)
                    .map(String::as_str)
                    .unwrap_or("")
            ),
        );
    }
    Ok(exit::SUCCESS)
}

/// Every snapshot image on the engine.
async fn snapshot_images<B: Backend>(
    backend: &B,
) -> Result<Vec<crate::backend::ImageSummary>, Error> {
    backend
        .images_labelled(
            &[
                (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
                (labels::SNAPSHOT, ""),
            ],
            false,
        )
        .await
        .map_err(Error::from)
}

/// `3d`, `5h`, `12m`, `40s`: an age at a glance.
fn short_age(age: std::time::Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Only containers created longer ago than this (like 1h, 30m, 2days), for shared
    /// hosts where other runs may be live.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,
    /// Also remove snapshot images (site baselines, `prepare` code); the next run builds
    /// the ones it needs again.
    #[arg(long)]
    pub snapshots: bool,
}

pub(super) async fn clean(args: CleanArgs, engine: Option<super::EngineArg>) -> Result<u8, Error> {
    let backend = connect(engine).await?;
    let found = backend
        .containers(&[(labels::MANAGED_BY, labels::MANAGED_BY_VALUE)])
        .await
        .map_err(Error::from)?;
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
    failed += clean_images(&backend, &args).await?;
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::ENGINE
    })
}

/// Removes the harness's dangling images (a snapshot replaced under its tag) and, with
/// `--snapshots`, every snapshot; `--older-than` applies to them too. Returns how many
/// could not be removed (one still used by a container, say).
async fn clean_images<B: Backend>(backend: &B, args: &CleanArgs) -> Result<usize, Error> {
    let engine = Error::from;
    let cutoff = args.older_than.map(|age| {
        chrono::Utc::now()
            .timestamp()
            .saturating_sub(i64::try_from(age.as_secs()).unwrap_or(i64::MAX))
    });
    let old_enough = |created: i64| cutoff.is_none_or(|cutoff| created < cutoff);
    let mut names: Vec<String> = Vec::new();
    if args.snapshots {
        let mut snapshots = snapshot_images(backend).await?;
        // A `prepare` snapshot stands on a baseline one: the upper layer goes first.
        snapshots.sort_by_key(|i| {
            i.labels.get(labels::SNAPSHOT).map(String::as_str) == Some("baseline")
        });
        for image in snapshots.iter().filter(|i| old_enough(i.created)) {
            names.extend(image.tags.iter().cloned());
        }
    }
    let mut failed = 0;
    let mut removed = 0;
    for name in &names {
        match backend.remove_image(name).await {
            Ok(()) => removed += 1,
            Err(err) => {
                eprintln!("warning: {err} (image {name})");
                failed += 1;
            }
        }
    }
    // Untagged leftovers, those just untagged included.
    let dangling = backend
        .images_labelled(&[(labels::MANAGED_BY, labels::MANAGED_BY_VALUE)], true)
        .await
        .map_err(engine)?;
    let mut dangling_removed = 0;
    for image in dangling.iter().filter(|i| old_enough(i.created)) {
        // A layer a kept snapshot still stands on is not dangling in truth: skip it.
        if backend.remove_image(&image.id).await.is_ok() {
            dangling_removed += 1;
        }
    }
    if args.snapshots {
        println!("removed {removed} snapshot{}", plural(removed));
    }
    if dangling_removed > 0 {
        println!(
            "removed {dangling_removed} dangling image{}",
            plural(dangling_removed)
        );
    }
    Ok(failed)
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
