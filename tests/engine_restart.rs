//! The engine restarted mid-run, against the real engine: the cases in flight fail as
//! errors, the later ones run once it is back, and the JUnit holds every case; an engine
//! that stays away stops the run with exit 3 after a bounded wait.
//!
//! Restarting the engine kills every container on it, so this is its own test binary
//! (cargo runs test binaries one after another) with a single test. It stops dockerd the
//! way `harness/engine` starts it here (in the background, not under systemd): SIGTERM
//! to the pid in /var/run/docker.pid, then `harness/engine` again; a guard restarts the
//! engine however the test ends.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{
    containers_of_run, engine_answers, junit_cases, processes_in, remove_containers, repo,
    running_containers, Rehearsal,
};

/// Starts the engine as `harness/engine` does, and waits until it answers.
fn start_engine() {
    let status = Command::new(repo().join("harness/engine"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("run harness/engine");
    assert!(
        status.success(),
        "harness/engine could not start the engine"
    );
}

/// Stops dockerd (SIGTERM, as a service manager would) and waits until it is gone.
fn stop_engine() {
    let pid = std::fs::read_to_string("/var/run/docker.pid")
        .expect("dockerd's pid file (/var/run/docker.pid)")
        .trim()
        .to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}");
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let clock = Instant::now();
    while proc.exists() && clock.elapsed() < Duration::from_secs(90) {
        thread::sleep(Duration::from_millis(200));
    }
    assert!(!proc.exists(), "dockerd {pid} did not stop within 90s");
}

/// Restarts the engine when dropped if it does not answer, so a failed test never
/// leaves the host without one.
struct EngineGuard;

impl Drop for EngineGuard {
    fn drop(&mut self) {
        if !engine_answers() {
            start_engine();
        }
    }
}

fn start_run() -> Rehearsal {
    Rehearsal::new()
        .args(["run", "tests/fixtures/faults/restart", "--jobs", "2"])
        .json()
        .junit()
}

/// Waits until both slow cases of the fixture sleep in their apply.
fn wait_for_both_in_flight() {
    let clock = Instant::now();
    while clock.elapsed() < Duration::from_secs(120) {
        let asleep = running_containers(&["rehearsal.module=steadfast"])
            .iter()
            .filter(|id| processes_in(id).contains("sleep 40"))
            .count();
        if asleep == 2 {
            return;
        }
        thread::sleep(Duration::from_millis(200));
    }
    panic!("the two slow cases never reached their sleeping apply");
}

fn case<'a>(report: &'a Value, name: &str) -> &'a Value {
    common::find_case(report, &[("case", name)])
        .unwrap_or_else(|| panic!("no case {name} in {report:#}"))
}

fn first_message(case: &Value) -> String {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "error")
        .and_then(|s| s["message"].as_str())
        .unwrap_or("")
        .to_string()
}

fn remove_run(run_id: &str) {
    remove_containers(&containers_of_run(run_id));
}

#[test]
fn an_engine_restart_fails_the_cases_in_flight_and_the_run_goes_on() {
    assert!(
        engine_answers(),
        "the engine must run: start it with harness/engine"
    );
    let _guard = EngineGuard;

    // 1. Restarted at once: the cases in flight are errors, the later ones pass.
    let run = start_run().spawn();
    wait_for_both_in_flight();
    stop_engine();
    start_engine();
    let out = run.wait();
    let json = out.json();
    let run_id = json["run_id"].as_str().unwrap().to_string();
    out.exit(1);
    for name in ["in flight 1", "in flight 2"] {
        let c = case(json, name);
        assert_eq!(c["status"], "error", "{c:#}");
        let message = first_message(c);
        assert!(
            ["engine", "container stopped", "container was killed"]
                .iter()
                .any(|cause| message.contains(cause)),
            "{name}: {message}"
        );
    }
    for name in ["after 1", "after 2"] {
        let c = case(json, name);
        assert_eq!(c["status"], "passed", "{c:#}");
    }
    assert_eq!(junit_cases(out.junit()).len(), 4, "{}", out.junit());
    let left = containers_of_run(&run_id);
    assert!(left.is_empty(), "containers of the run remain: {left:?}");

    // 2. Away for longer than the run waits (5 s here): the run stops with exit 3 and
    // reports every case.
    let run = start_run().env("REHEARSAL_ENGINE_WAIT", "5s").spawn();
    wait_for_both_in_flight();
    stop_engine();
    let out = run.wait();
    start_engine();
    let json = out.json();
    // The engine was away when the run ended: its stopped containers are left, labelled.
    remove_run(json["run_id"].as_str().unwrap());
    out.exit(3)
        .stderr_contains("the container engine stopped answering");
    let statuses: Vec<&str> = common::cases(json)
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4, "{json:#}");
    assert!(
        statuses.iter().all(|s| *s == "error" || *s == "skipped"),
        "{statuses:?}"
    );
    assert_eq!(junit_cases(out.junit()).len(), 4, "{}", out.junit());
}
