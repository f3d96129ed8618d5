//! What every `puppet apply` of the harness reads from the case directory besides its
//! manifest: a Hiera config that puts the spec's data first, that data, the facts, and
//! the Puppet driver that runs the apply.
//! The runner writes them for a case and the snapshot layers for a layer, the same way.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::layout::{CASE_DIR, DATA_JSON, DRIVER_RB, FACTS_JSON, HIERA_DIR, HIERA_YAML};

/// Writes what every `puppet apply` of the harness reads from [`CASE_DIR`] besides its
/// manifest: the Hiera config (the given data first, then the user's levels), the data
/// and the facts. `what` names the owner in errors ("the case").
pub fn write_apply_inputs(
    dir: &Path,
    user_config: Option<&Path>,
    data: &Map<String, Value>,
    facts: &Map<String, Value>,
    what: &str,
) -> Result<(), InputsError> {
    write_inputs_at(dir, user_config, data, facts, what, (CASE_DIR, HIERA_DIR))?;
    write_input(dir, DRIVER_RB, super::DRIVER.as_bytes().to_vec(), what)
}

/// The Hiera config, data and facts of an apply (or a compile) whose case directory and
/// Hiera directory are mounted at `at` (`(case dir, hiera dir)` in the container): the
/// gate mounts many cases' files in one container.
pub fn write_inputs_at(
    dir: &Path,
    user_config: Option<&Path>,
    data: &Map<String, Value>,
    facts: &Map<String, Value>,
    what: &str,
    at: (&str, &str),
) -> Result<(), InputsError> {
    let user_hiera = match user_config {
        Some(file) => Some(read_hiera_config(file)?),
        None => None,
    };
    let files = [
        (
            HIERA_YAML,
            serde_yaml::to_string(&hiera_config_at(user_hiera.as_ref(), at))
                .expect("YAML of JSON values")
                .into_bytes(),
        ),
        (DATA_JSON, serde_json::to_vec_pretty(data).expect("JSON")),
        (FACTS_JSON, serde_json::to_vec_pretty(facts).expect("JSON")),
    ];
    for (name, content) in files {
        write_input(dir, name, content, what)?;
    }
    Ok(())
}

fn write_input(
    dir: &Path,
    name: &'static str,
    content: Vec<u8>,
    what: &str,
) -> Result<(), InputsError> {
    std::fs::write(dir.join(name), content).map_err(|source| InputsError::Write {
        name,
        what: what.to_string(),
        source,
    })
}

/// The host directory of a Hiera config, mounted read-only at [`HIERA_DIR`] (its
/// datadirs live there).
pub fn hiera_dir(config: &Path) -> PathBuf {
    config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// Why an apply's inputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    #[error("cannot read the hiera config {}: {source}", .file.display())]
    ReadHiera {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid YAML: {source}", .file.display())]
    HieraYaml {
        file: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("{}: only Hiera 5 configs are supported (`version: 5` at the top)", .0.display())]
    NotHiera5(PathBuf),
    #[error("cannot write {name} for {what}: {source}")]
    Write {
        name: &'static str,
        what: String,
        source: std::io::Error,
    },
}

fn read_hiera_config(file: &Path) -> Result<Map<String, Value>, InputsError> {
    let text = std::fs::read_to_string(file).map_err(|source| InputsError::ReadHiera {
        file: file.to_path_buf(),
        source,
    })?;
    let value: Value = serde_yaml::from_str(&text).map_err(|source| InputsError::HieraYaml {
        file: file.to_path_buf(),
        source,
    })?;
    match value {
        Value::Object(map) if map.get("version").and_then(Value::as_i64) == Some(5) => Ok(map),
        _ => Err(InputsError::NotHiera5(file.to_path_buf())),
    }
}

/// The Hiera config the case runs with: a first level holding the spec's data (top
/// priority), then the user's levels with their datadirs made absolute inside the
/// container (a user's datadir is relative to their hiera.yaml).
pub fn hiera_config(user: Option<&Map<String, Value>>) -> Value {
    hiera_config_at(user, (CASE_DIR, HIERA_DIR))
}

/// [`hiera_config`] for a case directory and Hiera directory mounted at `at`.
fn hiera_config_at(user: Option<&Map<String, Value>>, at: (&str, &str)) -> Value {
    let (case_dir, hiera_dir) = at;
    let mut hierarchy = vec![json!({
        "name": "rehearsal: the spec's hiera data",
        "datadir": case_dir,
        "path": DATA_JSON,
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
        d.insert(
            "datadir".into(),
            Value::String(absolute(&datadir, hiera_dir)),
        );
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
                    Value::String(absolute(own.as_deref().unwrap_or(&datadir), hiera_dir)),
                );
            }
            hierarchy.push(level);
        }
    }
    json!({ "version": 5, "defaults": defaults, "hierarchy": hierarchy })
}

fn absolute(datadir: &str, hiera_dir: &str) -> String {
    if datadir.starts_with('/') {
        datadir.to_string()
    } else {
        format!("{hiera_dir}/{}", datadir.trim_start_matches("./"))
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
