//! A case's workspace: the files a case needs inside its container (the manifest, a
//! Hiera config that puts the spec's data first, the facts, the probe), written to a
//! temporary host directory mounted read-only, and the mounts that go with it; and the
//! way back from the container's paths to the host's, for Puppet's messages.

use std::io;
use std::path::Path;

use crate::backend::Mount;
use crate::layout::{self, CASE_DIR, SITE_PP};
use crate::plan::PlannedCase;
use crate::puppet::inputs::{self, InputsError};
use crate::spec::Manifest;

/// Why a case's files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("cannot create a case directory: {0}")]
    CreateDir(#[source] io::Error),
    #[error("cannot write {name} for the case: {source}")]
    Write {
        name: &'static str,
        source: io::Error,
    },
    #[error(transparent)]
    Inputs(#[from] InputsError),
}

/// A case's files on the host; removed when dropped.
pub struct Workspace {
    dir: tempfile::TempDir,
    pub mounts: Vec<Mount>,
    /// The manifest to apply, as a path inside the container.
    pub manifest: String,
}

impl Workspace {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes the workspace for a planned case.
    pub fn create(row: &PlannedCase) -> Result<Workspace, WorkspaceError> {
        let spec = &row.spec;
        let case = row.case();
        let dir = tempfile::Builder::new()
            .prefix("rehearsal-case-")
            .tempdir()
            .map_err(WorkspaceError::CreateDir)?;
        let write = |name: &'static str, content: &[u8]| {
            std::fs::write(dir.path().join(name), content)
                .map_err(|source| WorkspaceError::Write { name, source })
        };

        let manifest = match &case.manifest {
            Manifest::Inline(code) => {
                write(SITE_PP, code.as_bytes())?;
                layout::case_file(SITE_PP)
            }
            Manifest::File(rel) => {
                format!(
                    "{}/{}",
                    layout::module_dir(&spec.module_name),
                    rel.display()
                )
            }
        };

        inputs::write_apply_inputs(
            dir.path(),
            spec.hiera_config.as_deref(),
            &case.hiera_data,
            &case.facts,
            "the case",
        )?;

        let mut mounts = vec![
            Mount {
                host: dir.path().to_path_buf(),
                container: CASE_DIR.into(),
                read_only: true,
            },
            Mount {
                host: spec.module_dir.clone(),
                container: layout::module_dir(&spec.module_name),
                read_only: true,
            },
        ];
        for fixture in &spec.fixtures {
            if fixture.name == spec.module_name {
                continue;
            }
            mounts.push(Mount {
                host: fixture.path.clone(),
                container: layout::module_dir(&fixture.name),
                read_only: true,
            });
        }
        if let Some(config) = spec.hiera_config.as_deref() {
            mounts.push(Mount {
                host: inputs::hiera_dir(config),
                container: layout::HIERA_DIR.into(),
                read_only: true,
            });
        }
        Ok(Workspace {
            dir,
            mounts,
            manifest,
        })
    }
}

/// Container paths of a case and the host paths they come from (shown relative to the
/// current directory when inside it).
pub fn workspace_paths(row: &PlannedCase) -> Vec<(String, String)> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let show = |p: &Path| -> String {
        p.strip_prefix(&cwd)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let mut pairs = vec![(
        layout::module_dir(&row.spec.module_name),
        show(&row.spec.module_dir),
    )];
    for fixture in &row.spec.fixtures {
        pairs.push((layout::module_dir(&fixture.name), show(&fixture.path)));
    }
    pairs
}

/// Maps container paths in Puppet's messages back to the repository's paths, so an
/// error at `/etc/rehearsal/modules/motd/manifests/init.pp` names the file you edit.
pub struct PathMap(Vec<(String, String)>);

impl PathMap {
    pub fn new(row: &PlannedCase) -> PathMap {
        let mut pairs: Vec<(String, String)> = workspace_paths(row);
        // Longest first, so a fixture inside a module maps to itself.
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        PathMap(pairs)
    }

    pub fn to_host(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.0 {
            out = out.replace(from.as_str(), to);
        }
        out
    }
}
