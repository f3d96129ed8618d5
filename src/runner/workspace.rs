//! A case's workspace: the files a case needs inside its container (the manifest, a
//! Hiera config that puts the spec's data first, the facts, the probe), written to a
//! temporary host directory mounted read-only, and the mounts that go with it.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::backend::Mount;
use crate::plan::PlannedCase;
use crate::spec::Manifest;

/// Where things are inside the container.
pub const MODULEPATH: &str = "/etc/rehearsal/modules";
pub const CASE_DIR: &str = "/etc/rehearsal/case";
pub const HIERA_DIR: &str = "/etc/rehearsal/hiera";

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
                write("site.pp", code.as_bytes())?;
                format!("{CASE_DIR}/site.pp")
            }
            Manifest::File(rel) => format!("{MODULEPATH}/{}/{}", spec.module_name, rel.display()),
        };

        write_apply_inputs(
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
                container: format!("{MODULEPATH}/{}", spec.module_name),
                read_only: true,
            },
        ];
        for fixture in &spec.fixtures {
            if fixture.name == spec.module_name {
                continue;
            }
            mounts.push(Mount {
                host: fixture.path.clone(),
                container: format!("{MODULEPATH}/{}", fixture.name),
                read_only: true,
            });
        }
        mounts.extend(spec.hiera_config.as_deref().map(hiera_mount));
        Ok(Workspace {
            dir,
            mounts,
            manifest,
        })
    }
}

/// Writes what every `puppet apply` of the harness reads from [`CASE_DIR`] besides its
/// manifest: the Hiera config (the given data first, then the user's levels), the data
/// and the facts. `what` names the owner in errors ("the case").
pub(crate) fn write_apply_inputs(
    dir: &Path,
    user_config: Option<&Path>,
    data: &Map<String, Value>,
    facts: &Map<String, Value>,
    what: &str,
) -> Result<(), String> {
    let user_hiera = match user_config {
        Some(file) => Some(read_hiera_config(file)?),
        None => None,
    };
    let files = [
        (
            "hiera.yaml",
            serde_yaml::to_string(&hiera_config(user_hiera.as_ref()))
                .expect("YAML of JSON values")
                .into_bytes(),
        ),
        ("data.json", serde_json::to_vec_pretty(data).expect("JSON")),
        (
            "facts.json",
            serde_json::to_vec_pretty(facts).expect("JSON"),
        ),
    ];
    for (name, content) in files {
        std::fs::write(dir.join(name), content)
            .map_err(|err| format!("cannot write {name} for {what}: {err}"))?;
    }
    Ok(())
}

/// The read-only mount of a Hiera config's directory (its datadirs live there).
pub(crate) fn hiera_mount(config: &Path) -> Mount {
    Mount {
        host: config
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
        container: HIERA_DIR.into(),
        read_only: true,
    }
}

fn read_hiera_config(file: &Path) -> Result<Map<String, Value>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|err| format!("cannot read the hiera config {}: {err}", file.display()))?;
    let value: Value = serde_yaml::from_str(&text)
        .map_err(|err| format!("{}: not valid YAML: {err}", file.display()))?;
    match value {
        Value::Object(map) if map.get("version").and_then(Value::as_i64) == Some(5) => Ok(map),
        _ => Err(format!(
            "{}: only Hiera 5 configs are supported (`version: 5` at the top)",
            file.display()
        )),
    }
}

/// The Hiera config the case runs with: a first level holding the spec's data (top
/// priority), then the user's levels with their datadirs made absolute inside the
/// container (a user's datadir is relative to their hiera.yaml).
pub fn hiera_config(user: Option<&Map<String, Value>>) -> Value {
    let mut hierarchy = vec![json!({
        "name": "rehearsal: the spec's hiera data",
        "datadir": CASE_DIR,
        "path": "data.json",
        "data_hash": "json_data",
    })];
    let mut defaults = json!({});
    if let Some(user) = user {
        let user_defaults = user
            .get("defaults")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let datadir = user_defaults
            .get("datadir")
            .and_then(Value::as_str)
            .unwrap_or("data")
            .to_string();
        let mut d = user_defaults.clone();
        d.insert("datadir".into(), Value::String(absolute(&datadir)));
        defaults = Value::Object(d);
        for level in user
            .get("hierarchy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut level = level.clone();
            if let Some(map) = level.as_object_mut() {
                let own = map
                    .get("datadir")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                map.insert(
                    "datadir".into(),
                    Value::String(absolute(own.as_deref().unwrap_or(&datadir))),
                );
            }
            hierarchy.push(level);
        }
    }
    json!({ "version": 5, "defaults": defaults, "hierarchy": hierarchy })
}

fn absolute(datadir: &str) -> String {
    if datadir.starts_with('/') {
        datadir.to_string()
    } else {
        format!("{HIERA_DIR}/{}", datadir.trim_start_matches("./"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_data_comes_first_and_user_datadirs_become_absolute() {
        let user: Value = serde_yaml::from_str(
            "version: 5\ndefaults: { datadir: data, data_hash: yaml_data }\nhierarchy:\n  - { name: role, path: 'roles/%{facts.role}.yaml' }\n  - { name: common, path: common.yaml, datadir: other }\n",
        )
        .unwrap();
        let config = hiera_config(Some(user.as_object().unwrap()));
        let levels = config["hierarchy"].as_array().unwrap();
        assert_eq!(levels[0]["datadir"], CASE_DIR);
        assert_eq!(levels[1]["datadir"], "/etc/rehearsal/hiera/data");
        assert_eq!(levels[1]["path"], "roles/%{facts.role}.yaml");
        assert_eq!(levels[2]["datadir"], "/etc/rehearsal/hiera/other");
        assert_eq!(config["defaults"]["data_hash"], "yaml_data");
    }

    #[test]
    fn without_a_user_config_only_the_spec_data() {
        let config = hiera_config(None);
        assert_eq!(config["hierarchy"].as_array().unwrap().len(), 1);
        assert_eq!(config["version"], 5);
    }
}
