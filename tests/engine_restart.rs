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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{containers_of_run, docker, repo, text};

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

fn engine_answers() -> bool {
    docker(&["info"]).status.success()
}

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

fn start_run(reports: &Path, extra_env: &[(&str, &str)]) -> Child {
    Command::new(BIN)
        .current_dir(repo())
        .args([
            "run",
            "tests/fixtures/faults/restart",
            "--jobs",
            "2",
            "--json",
        ])
        .arg(reports.join("report.json"))
        .arg("--junit")
        .arg(reports.join("junit.xml"))
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rehearsal")
}

/// Waits until both slow cases of the fixture sleep in their apply.
fn wait_for_both_in_flight() {
    let clock = Instant::now();
    while clock.elapsed() < Duration::from_secs(120) {
        let ids = docker(&["ps", "-q", "--filter", "label=rehearsal.module=steadfast"]);
        let asleep = text(&ids.stdout)
            .lines()
            .filter(|id| text(&docker(&["top", id]).stdout).contains("sleep 40"))
            .count();
        if asleep == 2 {
            return;
        }
        thread::sleep(Duration::from_millis(200));
    }
    panic!("the two slow cases never reached their sleeping apply");
}

fn case<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"]["case"] == name)
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

/// How many cases the JUnit file holds: its test cases are named `<case> › <step or
/// check>`, or `<case>` alone for a case that never started.
fn junit_cases(xml: &str) -> usize {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit file parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let name = n.attribute("name").unwrap_or("");
            let case = name.split(" › ").next().unwrap_or(name);
            (
                n.attribute("classname").unwrap_or("").to_string(),
                case.to_string(),
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn remove_run(run_id: &str) {
    let left = containers_of_run(run_id);
    let mut rm = vec!["rm", "-f"];
    rm.extend(left.split_whitespace());
    if rm.len() > 2 {
        docker(&rm);
    }
}

#[test]
fn an_engine_restart_fails_the_cases_in_flight_and_the_run_goes_on() {
    assert!(
        engine_answers(),
        "the engine must run: start it with harness/engine"
    );
    let _guard = EngineGuard;

    // 1. Restarted at once: the cases in flight are errors, the later ones pass.
    let reports = tempfile::tempdir().unwrap();
    let run = start_run(reports.path(), &[]);
    wait_for_both_in_flight();
    stop_engine();
    start_engine();
    let out = run.wait_with_output().unwrap();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(reports.path().join("report.json")).unwrap_or_else(|err| {
            panic!(
                "no JSON report ({err}):\n{}\n{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        }),
    )
    .unwrap();
    let run_id = json["run_id"].as_str().unwrap().to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    for name in ["in flight 1", "in flight 2"] {
        let c = case(&json, name);
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
        let c = case(&json, name);
        assert_eq!(c["status"], "passed", "{c:#}");
    }
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap();
    assert_eq!(junit_cases(&junit), 4, "{junit}");
    assert_eq!(
        containers_of_run(&run_id),
        "",
        "containers of the run remain"
    );

    // 2. Away for longer than the run waits (5 s here): the run stops with exit 3 and
    // reports every case.
    let reports = tempfile::tempdir().unwrap();
    let run = start_run(reports.path(), &[("REHEARSAL_ENGINE_WAIT", "5s")]);
    wait_for_both_in_flight();
    stop_engine();
    let out = run.wait_with_output().unwrap();
    start_engine();
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.path().join("report.json")).unwrap())
            .unwrap();
    // The engine was away when the run ended: its stopped containers are left, labelled.
    remove_run(json["run_id"].as_str().unwrap());
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("the container engine stopped answering"),
        "{}",
        text(&out.stderr)
    );
    let statuses: Vec<&str> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 4, "{json:#}");
    assert!(
        statuses.iter().all(|s| *s == "error" || *s == "skipped"),
        "{statuses:?}"
    );
    let junit = std::fs::read_to_string(reports.path().join("junit.xml")).unwrap();
    assert_eq!(junit_cases(&junit), 4, "{junit}");
}
