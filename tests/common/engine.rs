//! The container engine, as the tests look at it from outside: every call to its command
//! line is here, under names that say what is asked, not which engine answers. The
//! engine is the one the binary under test picks from `REHEARSAL_ENGINE` (docker when it
//! is unset): `docker`, or `podman --remote` (the API service rehearsal talks to, not a
//! store of its own), or for LXC its tools and the `rehearsal.json` the backend keeps
//! beside each container's config (what the fault, isolation and interrupt tests ask).

use std::process::{Command, Output};

use super::text;

/// The engine under test, as `REHEARSAL_ENGINE` names it (docker when unset).
pub fn engine_name() -> String {
    std::env::var("REHEARSAL_ENGINE")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "docker".into())
}

/// The engine's CLI, run to the end; `Err` when it cannot be started at all.
pub fn try_engine_cli(args: &[&str]) -> std::io::Result<Output> {
    match engine_name().as_str() {
        "podman" => Command::new("podman").arg("--remote").args(args).output(),
        _ => Command::new("docker").args(args).output(),
    }
}

/// The engine's CLI, run to the end.
pub fn engine_cli(args: &[&str]) -> Output {
    try_engine_cli(args).expect("run the container engine's CLI")
}

/// Whether the engine answers.
pub fn engine_answers() -> bool {
    if lxc() {
        return Command::new("lxc-ls")
            .output()
            .is_ok_and(|o| o.status.success());
    }
    engine_cli(&["info"]).status.success()
}

fn label_filters(labels: &[&str], args: &mut Vec<String>) {
    for label in labels {
        args.push("--filter".into());
        args.push(format!("label={label}"));
    }
}

fn ids(args: Vec<String>) -> Vec<String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = engine_cli(&args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    text(&out.stdout).lines().map(str::to_string).collect()
}

/// The full ids of the containers carrying all these labels (`key=value`), stopped ones
/// included.
pub fn containers(labels: &[&str]) -> Vec<String> {
    if lxc() {
        return lxc_view::containers(labels)
            .into_iter()
            .map(|c| c.0)
            .collect();
    }
    let mut args = vec!["ps".to_string(), "-aq".into(), "--no-trunc".into()];
    label_filters(labels, &mut args);
    ids(args)
}

/// The full ids of the running containers carrying all these labels (`key=value`);
/// empty when the engine does not answer.
pub fn running_containers(labels: &[&str]) -> Vec<String> {
    if lxc() {
        return lxc_view::containers(labels)
            .into_iter()
            .filter(|c| c.2)
            .map(|c| c.0)
            .collect();
    }
    let mut args = vec!["ps".to_string(), "-q".into(), "--no-trunc".into()];
    label_filters(labels, &mut args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    text(&engine_cli(&args).stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The containers of a run (by its run-id label), stopped ones included; empty when none
/// is left.
pub fn containers_of_run(run_id: &str) -> Vec<String> {
    containers(&[&format!("rehearsal.run-id={run_id}")])
}

/// The running containers of a module (by its module label): (id, run id).
pub fn running_containers_of_module(module: &str) -> Vec<(String, String)> {
    if lxc() {
        return lxc_view::containers(&[&format!("rehearsal.module={module}")])
            .into_iter()
            .filter(|c| c.2)
            .map(|(name, labels, _)| {
                let run = labels["rehearsal.run-id"].as_str().unwrap_or_default();
                (name, run.to_string())
            })
            .collect();
    }
    // Docker's format has `.Label`; Podman's has the labels as a map.
    let format = match engine_name().as_str() {
        "podman" => "{{.ID}} {{index .Labels \"rehearsal.run-id\"}}",
        _ => "{{.ID}} {{.Label \"rehearsal.run-id\"}}",
    };
    let out = engine_cli(&[
        "ps",
        "--filter",
        &format!("label=rehearsal.module={module}"),
        "--format",
        format,
    ]);
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, run)| (id.to_string(), run.to_string()))
        .collect()
}

/// The processes running in a container, as the engine lists them (one a line).
pub fn processes_in(container: &str) -> String {
    if lxc() {
        return lxc_view::processes_in(container);
    }
    text(&engine_cli(&["top", container]).stdout)
}

/// Kills a container from outside, as an operator or another job on the host might.
pub fn kill_container(id: &str) -> Result<(), String> {
    if lxc() {
        return lxc_view::kill(id);
    }
    let killed = engine_cli(&["kill", id]);
    if killed.status.success() {
        Ok(())
    } else {
        Err(format!("kill {id} failed: {}", text(&killed.stderr)))
    }
}

/// Removes these containers, running or not; what cannot be removed is left.
pub fn remove_containers(ids: &[String]) {
    if lxc() {
        return ids.iter().for_each(|id| lxc_view::remove(id));
    }
    if !ids.is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.iter().map(String::as_str));
        let _ = try_engine_cli(&args);
    }
}

/// Removes an image, even one a container still uses; a missing one is no error.
pub fn force_remove_image(image: &str) {
    let _ = try_engine_cli(&["rmi", "-f", image]);
}

/// Removes an image unless a container uses it; a missing one is no error.
pub fn remove_image(image: &str) {
    let _ = try_engine_cli(&["rmi", image]);
}

/// The snapshot images (labelled `rehearsal.snapshot`): (name:tag, labels as JSON).
/// Empty when the engine cannot be asked.
pub fn snapshot_images() -> Vec<(String, String)> {
    let Ok(out) = try_engine_cli(&[
        "images",
        "--filter",
        "label=rehearsal.snapshot",
        "--format",
        "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]) else {
        return Vec::new();
    };
    let mut images = Vec::new();
    for line in text(&out.stdout).lines() {
        let Some((name, _)) = line.split_once(' ') else {
            continue;
        };
        let inspect = try_engine_cli(&[
            "image",
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            name,
        ]);
        if let Ok(inspect) = inspect {
            // Podman lists local images under localhost/.
            let name = name.strip_prefix("localhost/").unwrap_or(name);
            images.push((name.to_string(), text(&inspect.stdout)));
        }
    }
    images
}

/// Whether the engine under test is LXC.
fn lxc() -> bool {
    engine_name() == "lxc"
}

/// LXC's side of the questions above.
mod lxc_view {
    use std::path::PathBuf;
    use std::process::Command;

    use serde_json::Value;

    use super::text;

    fn lxcpath() -> PathBuf {
        if let Some(path) = std::env::var_os("REHEARSAL_LXC_PATH").filter(|p| !p.is_empty()) {
            return path.into();
        }
        let out = Command::new("lxc-config")
            .arg("lxc.lxcpath")
            .output()
            .expect("run lxc-config");
        PathBuf::from(text(&out.stdout).trim())
    }

    /// The harness's case containers: (name, labels, running).
    pub fn containers(labels: &[&str]) -> Vec<(String, Value, bool)> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir(lxcpath()) else {
            return found;
        };
        for entry in entries.flatten() {
            let Ok(record) = std::fs::read(entry.path().join("rehearsal.json")) else {
                continue;
            };
            let Ok(record) = serde_json::from_slice::<Value>(&record) else {
                continue;
            };
            if record["kind"] != "container" {
                continue;
            }
            let wanted = labels.iter().all(|l| {
                let (k, v) = l.split_once('=').unwrap_or((l, ""));
                record["labels"][k]
                    .as_str()
                    .is_some_and(|have| v.is_empty() || have == v)
            });
            if wanted {
                let name = record["name"].as_str().unwrap_or_default().to_string();
                let running = state(&name) == "RUNNING";
                found.push((name, record["labels"].clone(), running));
            }
        }
        found
    }

    fn state(name: &str) -> String {
        let out = Command::new("lxc-info")
            .arg("-P")
            .arg(lxcpath())
            .args(["-n", name, "-s", "-H"])
            .output();
        out.map(|o| text(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    pub fn processes_in(name: &str) -> String {
        let out = Command::new("lxc-attach")
            .arg("-P")
            .arg(lxcpath())
            .args(["-n", name, "--", "ps", "-eo", "args"])
            .output();
        out.map(|o| text(&o.stdout)).unwrap_or_default()
    }

    pub fn kill(name: &str) -> Result<(), String> {
        let out = Command::new("lxc-stop")
            .arg("-P")
            .arg(lxcpath())
            .args(["-n", name, "--kill"])
            .output()
            .map_err(|e| e.to_string())?;
        match out.status.success() {
            true => Ok(()),
            false => Err(format!(
                "lxc-stop --kill {name} failed: {}",
                text(&out.stderr)
            )),
        }
    }

    pub fn remove(name: &str) {
        let _ = Command::new("lxc-destroy")
            .arg("-P")
            .arg(lxcpath())
            .args(["-n", name, "-f"])
            .output();
    }
}
