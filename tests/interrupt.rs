//! Interrupting a run, against the real engine, as a person (Ctrl-C) or Jenkins' abort
//! (SIGTERM) does: the first interrupt starts no new case and lets running steps finish
//! within a grace period; a second stops at once. Either way the run exits 130, its JUnit
//! is valid and accounts for every case, and nothing of the run remains on the engine.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{containers_of_run, repo, signal};

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

/// `rehearsal run` of the `slow` fixture's `first` case then the quick ones, one at a time.
fn start(reports: &Path, first: &str) -> Child {
    Command::new(BIN)
        .current_dir(repo())
        .args([
            "run",
            "tests/fixtures/interrupt",
            "--jobs",
            "1",
            "--case",
            first,
        ])
        .args(["--case", "quick*", "--json"])
        .arg(reports.join("report.json"))
        .arg("--junit")
        .arg(reports.join("junit.xml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rehearsal")
}

/// Waits until the run's first case is applying (`sleep SECONDS` runs in it), and
/// returns the container's run id label.
fn wait_for_the_sleeping_apply(child: &mut Child, seconds: u32) -> String {
    let begun = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended before it was interrupted: {status}");
        }
        let out = Command::new("docker")
            .args([
                "ps",
                "--filter",
                "label=rehearsal.module=slow",
                "--format",
                "{{.ID}} {{.Label \"rehearsal.run-id\"}}",
            ])
            .output()
            .unwrap();
        let listed = String::from_utf8_lossy(&out.stdout).to_string();
        for line in listed.lines() {
            let (id, run) = line.split_once(' ').unwrap();
            let top = Command::new("docker").args(["top", id]).output().unwrap();
            if String::from_utf8_lossy(&top.stdout).contains(&format!("sleep {seconds}")) {
                return run.to_string();
            }
        }
        assert!(
            begun.elapsed() < Duration::from_secs(240),
            "the sleeping apply never started"
        );
        thread::sleep(Duration::from_millis(300));
    }
}

/// Checks what every interrupted run must leave: exit 130, a valid JUnit with all three
/// cases, a JSON report, and no container of the run. Returns the JSON and stderr.
fn check_the_aftermath(child: Child, reports: &Path, run_id: &str, first: &str) -> (Value, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(130), "stderr:\n{stderr}");

    let junit = std::fs::read_to_string(reports.join("junit.xml")).expect("a JUnit report");
    let doc = roxmltree::Document::parse(&junit).expect("the JUnit report is valid XML");
    let cases: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    for case in [first, "quick one", "quick two"] {
        assert!(
            cases.iter().any(|c| c.starts_with(case)),
            "{case} missing from the JUnit: {cases:?}"
        );
    }

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["cases"].as_array().unwrap().len(), 3);
    assert_eq!(json["run_id"], run_id);

    let left = containers_of_run(run_id);
    assert!(left.is_empty(), "containers of the run remain: {left}");
    (json, stderr)
}

fn case<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"]["case"] == name)
        .unwrap()
}

#[test]
fn a_first_interrupt_lets_a_running_step_finish_and_starts_nothing_new() {
    let reports = tempfile::tempdir().unwrap();
    let mut child = start(reports.path(), "naps");
    let run_id = wait_for_the_sleeping_apply(&mut child, 8);
    signal(&child, "INT");
    let (json, stderr) = check_the_aftermath(child, reports.path(), &run_id, "naps");
    assert!(stderr.contains("no new case starts"), "{stderr}");
    assert!(!stderr.contains("the grace period is over"), "{stderr}");
    assert_eq!(case(&json, "naps")["status"], "passed", "{json}");
    for name in ["quick one", "quick two"] {
        assert_eq!(case(&json, name)["status"], "skipped", "{json}");
    }
}

#[test]
fn a_step_longer_than_the_grace_period_is_stopped_at_its_end() {
    let reports = tempfile::tempdir().unwrap();
    let mut child = start(reports.path(), "sleeps");
    let run_id = wait_for_the_sleeping_apply(&mut child, 120);
    signal(&child, "INT");
    let (json, stderr) = check_the_aftermath(child, reports.path(), &run_id, "sleeps");
    // The sleeping apply outlasts the grace period, so it is stopped there.
    assert!(stderr.contains("the grace period is over"), "{stderr}");
    for name in ["sleeps", "quick one", "quick two"] {
        let c = case(&json, name);
        assert_eq!(c["status"], "skipped", "{c}");
    }
    assert!(case(&json, "quick one")["steps"][0]["message"]
        .as_str()
        .unwrap()
        .contains("interrupted"));
}

#[test]
fn a_second_interrupt_stops_at_once() {
    let reports = tempfile::tempdir().unwrap();
    let mut child = start(reports.path(), "sleeps");
    let run_id = wait_for_the_sleeping_apply(&mut child, 120);
    signal(&child, "TERM");
    thread::sleep(Duration::from_millis(500));
    signal(&child, "INT");
    let (_, stderr) = check_the_aftermath(child, reports.path(), &run_id, "sleeps");
    assert!(
        stderr.contains("interrupted again: stopping now"),
        "{stderr}"
    );
    assert!(!stderr.contains("the grace period is over"), "{stderr}");
}
