//! Small helpers the engine tests share. Each test file compiles this module on its own,
//! so one that uses only some of them must not warn about the rest.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The docker CLI, run to the end.
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// Bytes a process printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A step of a case in the JSON report, by name.
pub fn step<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {case:#}"))
}

/// The ids of the containers of a run (by its run-id label), stopped ones included, one a
/// line; empty when none is left.
pub fn containers_of_run(run_id: &str) -> String {
    let out = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=rehearsal.run-id={run_id}"),
    ]);
    assert!(out.status.success(), "docker ps: {out:?}");
    text(&out.stdout).trim().to_string()
}

/// Sends a signal (`TERM`, `INT`, `KILL`…) to a child process.
pub fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {}", child.id());
}
