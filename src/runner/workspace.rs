//! A case's workspace: the files a case needs inside its container (the manifest, a
//! Hiera config that puts the spec's data first, the facts, the probe), written to a
//! temporary host directory mounted read-only, and the mounts that go with it.

use std::path::Path;

use crate::backend::Mount;
use crate::layout::{self, CASE_DIR, SITE_PP};
use crate::plan::PlannedCase;
use crate::puppet::inputs;
use crate::spec::Manifest;

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
    pub fn create(row: &PlannedCase) -> Result<Workspace, String> {
        let spec = &row.spec;
        let case = row.case();
        let dir = tempfile::Builder::new()
            .prefix("rehearsal-case-")
            .tempdir()
            .map_err(|err| format!("cannot create a case directory: {err}"))?;
        let write = |name: &str, content: &[u8]| {
            std::fs::write(dir.path().join(name), content)
                .map_err(|err| format!("cannot write {name} for the case: {err}"))
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
        )
        .map_err(|err| err.to_string())?;

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
