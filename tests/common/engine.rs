//! The container engine, as the tests look at it from outside: every call to its command
//! line is here, under names that say what is asked, not which engine answers. The
//! engine is the one the binary under test picks from `REHEARSAL_ENGINE` (docker when it
//! is unset): `docker`, or `podman --remote` (the API service rehearsal talks to, not a
//! store of its own).

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
    let mut args = vec!["ps".to_string(), "-aq".into(), "--no-trunc".into()];
    label_filters(labels, &mut args);
    ids(args)
}

/// The full ids of the running containers carrying all these labels (`key=value`);
/// empty when the engine does not answer.
pub fn running_containers(labels: &[&str]) -> Vec<String> {
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
    let out = engine_cli(&[
        "ps",
        "--filter",
        &format!("label=rehearsal.module={module}"),
        "--format",
        "{{.ID}} {{.Label \"rehearsal.run-id\"}}",
    ]);
    text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(id, run)| (id.to_string(), run.to_string()))
        .collect()
}

/// The processes running in a container, as the engine lists them (one a line).
pub fn processes_in(container: &str) -> String {
    text(&engine_cli(&["top", container]).stdout)
}

/// Kills a container from outside, as an operator or another job on the host might.
pub fn kill_container(id: &str) -> Result<(), String> {
    let killed = engine_cli(&["kill", id]);
    if killed.status.success() {
        Ok(())
    } else {
        Err(format!("kill {id} failed: {}", text(&killed.stderr)))
    }
}

/// Removes these containers, running or not; what cannot be removed is left.
pub fn remove_containers(ids: &[String]) {
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
