//! `rehearsal images` and `rehearsal clean`: what the harness keeps on the engine.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;

use super::connect;
use crate::backend::{Backend, LABEL_MANAGED_BY, MANAGED_BY};
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

pub(super) async fn clean() -> Result<u8, Error> {
    let backend = connect().await?;
    let ids = backend
        .containers_labelled(&[(LABEL_MANAGED_BY, MANAGED_BY)])
        .await
        .map_err(|e| Error::Engine(e.to_string()))?;
    let mut failed = 0;
    for id in &ids {
        if let Err(err) = backend.remove(id).await {
            eprintln!("warning: {err}");
            failed += 1;
        }
    }
    println!(
        "removed {} container{}",
        ids.len() - failed,
        if ids.len() - failed == 1 { "" } else { "s" }
    );
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::ENGINE
    })
}
