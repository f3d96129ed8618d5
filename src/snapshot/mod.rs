//! Baseline snapshots: Puppet code that many cases share (the site's base role, a spec's
//! `prepare`) is applied once per platform in a container that is then committed as an
//! image; the cases start from that image instead of applying the code again.
//!
//! A snapshot is named by a content hash of everything that could change it (the parent
//! image's id, the code, every file of the modules and hiera data it can read, its facts),
//! so an unchanged input reuses it across runs and a changed one builds a new one. Layers
//! stack: platform image → site baseline → the spec's `prepare` → the case.

pub mod build;
mod key;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::layout::{self, CASE_DIR, MODULEPATH};
pub use crate::outcome::snapshot::{Kind, Outcome, SnapshotReport};
use crate::plan::PlannedCase;
use crate::spec::limits::Limits;
use crate::spec::site::BaselineManifest;
use crate::spec::ModuleSpec;

/// The repository every snapshot image is tagged in.
pub const REPOSITORY: &str = "rehearsal/snapshot";

/// One layer of code to apply and snapshot, with everything it reads.
#[derive(Debug, Clone)]
pub struct Layer {
    pub kind: Kind,
    /// What it belongs to: the site file or the module, for people and labels.
    pub owner: String,
    /// The file that defines it (for messages).
    pub defined_in: PathBuf,
    /// The Puppet code.
    pub code: String,
    /// Host directories mounted read-only in the container, and where.
    pub mounts: Vec<(PathBuf, String)>,
    /// Puppet's `--modulepath` inside the container.
    pub modulepath: String,
    pub hiera_config: Option<PathBuf>,
    pub hiera_data: Map<String, Value>,
    pub facts: Map<String, Value>,
    /// Each apply of the layer is bounded by this.
    pub timeout: Duration,
    /// The build container's limits: the platform's (its cases' own limits do not apply).
    pub limits: Limits,
}

impl Layer {
    /// The site baseline that applies to a spec, unless the spec opts out.
    pub fn baseline_of(spec: &ModuleSpec) -> Result<Option<Layer>, LayerError> {
        let Some(site) = spec.site.as_deref().filter(|_| spec.use_baseline) else {
            return Ok(None);
        };
        let Some(baseline) = &site.baseline else {
            return Ok(None);
        };
        let code = match &baseline.manifest {
            BaselineManifest::Inline(code) => code.clone(),
            BaselineManifest::File(file) => {
                std::fs::read_to_string(file).map_err(|source| LayerError::ReadManifest {
                    file: file.clone(),
                    source,
                })?
            }
        };
        let mut mounts: Vec<(PathBuf, String)> = baseline
            .modulepath
            .iter()
            .enumerate()
            .map(|(i, dir)| (dir.clone(), layout::site_dir(i)))
            .collect();
        let mut dirs: Vec<String> = mounts.iter().map(|(_, at)| at.clone()).collect();
        // The Puppetfile's modules, one directory each, after the listed directories (as
        // r10k's moduledir follows a control repository's `site`).
        if !baseline.modules.is_empty() {
            mounts.extend(
                baseline
                    .modules
                    .iter()
                    .map(|m| (m.path.clone(), layout::site_module_dir(&m.name))),
            );
            dirs.push(layout::SITE_PUPPETFILE_DIR.to_string());
        }
        let modulepath = if dirs.is_empty() {
            MODULEPATH.to_string()
        } else {
            dirs.join(":")
        };
        Ok(Some(Layer {
            kind: Kind::Baseline,
            owner: site.file.display().to_string(),
            defined_in: site.file.clone(),
            code,
            mounts,
            modulepath,
            hiera_config: baseline.hiera_config.clone(),
            hiera_data: baseline.hiera_data.clone(),
            facts: baseline.facts.clone(),
            timeout: baseline.timeout,
            limits: Limits::DEFAULT,
        }))
    }

    /// A spec's `prepare` code. It sees the spec's fixtures, hiera and facts, but not the
    /// module under test, so editing the module never rebuilds its snapshot.
    pub fn prepare_of(spec: &ModuleSpec) -> Option<Layer> {
        let code = spec.prepare.clone()?;
        let mounts = spec
            .fixtures
            .iter()
            .filter(|f| f.name != spec.module_name)
            .map(|f| (f.path.clone(), layout::module_dir(&f.name)))
            .collect();
        let timeout = spec
            .cases
            .iter()
            .map(|c| c.timeouts.apply)
            .max()
            .unwrap_or(crate::spec::Timeouts::default().apply);
        Some(Layer {
            kind: Kind::Prepare,
            owner: spec.module_name.clone(),
            defined_in: spec.file.clone(),
            code,
            mounts,
            modulepath: MODULEPATH.to_string(),
            hiera_config: spec.hiera_config.clone(),
            hiera_data: spec.hiera_data.clone(),
            facts: spec.facts.clone(),
            timeout,
            limits: Limits::DEFAULT,
        })
    }

    /// The content hash of this layer on top of the image whose id is `parent_id`.
    pub fn key(&self, parent_id: &str) -> Result<String, LayerError> {
        key::layer_key(self, parent_id)
    }

    /// `baseline (rehearsal-site.yaml)`, `prepare (motd)`: for people.
    pub fn describe(&self) -> String {
        let owner = match self.kind {
            Kind::Baseline => Path::new(&self.owner)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| self.owner.clone()),
            Kind::Prepare => self.owner.clone(),
        };
        format!("{} ({owner})", self.kind.name())
    }

    /// The name of the layer's code in [`CASE_DIR`], as Puppet's messages name it: a
    /// spec's `prepare` is `prepare.pp`, which the review maps back to the spec.
    pub fn code_file(&self) -> &'static str {
        match self.kind {
            Kind::Baseline => layout::SITE_PP,
            Kind::Prepare => layout::PREPARE_PP,
        }
    }

    /// The files the layer's container needs: the code, the hiera config (the layer's data
    /// first), the data and the facts, in a temporary directory mounted at [`CASE_DIR`].
    fn workspace(&self) -> Result<(tempfile::TempDir, Vec<crate::backend::Mount>), LayerError> {
        let dir = tempfile::Builder::new()
            .prefix("rehearsal-snapshot-")
            .tempdir()
            .map_err(LayerError::CreateDir)?;
        std::fs::write(dir.path().join(self.code_file()), &self.code).map_err(|source| {
            LayerError::Write {
                name: self.code_file(),
                source,
            }
        })?;
        crate::puppet::inputs::write_apply_inputs(
            dir.path(),
            self.hiera_config.as_deref(),
            &self.hiera_data,
            &self.facts,
            "the snapshot",
        )?;
        let mount = |host: &Path, container: &str| crate::backend::Mount {
            host: host.to_path_buf(),
            container: container.to_string(),
            read_only: true,
        };
        let mut mounts = vec![mount(dir.path(), CASE_DIR)];
        for (host, at) in &self.mounts {
            mounts.push(mount(host, at));
        }
        if let Some(config) = self.hiera_config.as_deref() {
            mounts.push(mount(
                &crate::puppet::inputs::hiera_dir(config),
                layout::HIERA_DIR,
            ));
        }
        Ok((dir, mounts))
    }
}

/// Why a layer's inputs cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot read the baseline's manifest {}: {source}", .file.display())]
    ReadManifest {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {} to key its snapshot: {source}", .dir.display())]
    Tree {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create a snapshot directory: {0}")]
    CreateDir(#[source] std::io::Error),
    #[error("cannot write {name} for the snapshot: {source}")]
    Write {
        name: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Inputs(#[from] crate::puppet::inputs::InputsError),
}

/// The layers a planned case starts from, bottom first.
pub fn chain_of(row: &PlannedCase) -> Result<Vec<Layer>, LayerError> {
    let mut layers = Vec::new();
    layers.extend(Layer::baseline_of(&row.spec)?);
    layers.extend(Layer::prepare_of(&row.spec));
    let limits = row.platform.definition.limits.resolve();
    for layer in &mut layers {
        layer.limits = limits;
    }
    Ok(layers)
}

/// A snapshot that is there to start from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ready {
    /// `rehearsal/snapshot:<platform>-<key>`.
    pub image: String,
    /// Built by this run (else reused).
    pub built: bool,
    /// This run waited for another run building the same snapshot.
    pub waited: bool,
}

/// A layer whose code did not apply cleanly: no case may start from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// One or a few lines: what went wrong, and what to do.
    pub message: String,
    /// The Puppet errors that name their place, when the apply failed.
    pub errors: Vec<crate::outcome::PuppetError>,
    /// Puppet's output (the end of it).
    pub output: String,
}

impl Failure {
    /// A failure that is not Puppet's (the engine, a file that cannot be written).
    pub fn new(message: String, output: String) -> Failure {
        Failure {
            message,
            errors: Vec::new(),
            output,
        }
    }
}

/// The image each (spec, platform) of a plan starts from: the platform image when no
/// layer applies, else the top snapshot of its chain, or the failure that prevents it.
pub type Starts = HashMap<(PathBuf, String), Result<String, Arc<StartFailure>>>;

/// Why the cases of a (spec, platform) cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartFailure {
    pub kind: Kind,
    /// The layer, for people: `baseline (rehearsal-site.yaml)`.
    pub layer: String,
    pub platform: String,
    pub failure: Failure,
}

#[cfg(test)]
mod tests;
