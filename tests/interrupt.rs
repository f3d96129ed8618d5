//! Interrupting a run, against the real engine, as a person (Ctrl-C) or Jenkins' abort
//! (SIGTERM) does: the first interrupt starts no new case and lets running steps finish
//! within a grace period; a second stops at once. Either way the run exits 130, its JUnit
//! is valid and accounts for every case, and nothing of the run remains on the engine.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{
    containers_of_run, one_at_a_time, processes_in, running_containers_of_module, Rehearsal,
    Running,
};

/// `rehearsal run` of the `slow` fixture's `first` case then the quick ones, one at a time.
fn start(first: &str) -> Running {
    Rehearsal::new()
        .args([
            "run",
            "tests/fixtures/interrupt",
            "--jobs",
            "1",
            "--case",
            first,
        ])
        .args(["--case", "quick*"])
        .json()
        .junit()
        .spawn()
}

/// Waits until the run's first case is applying (`sleep SECONDS` runs in it), and
/// returns the run and the container's run id label.
fn wait_for_the_sleeping_apply(mut run: Running, seconds: u32) -> (Running, String) {
    let begun = Instant::now();
    loop {
        if let Some(status) = run.try_wait() {
            panic!(
                "the run ended before it was interrupted: {status}\n{}",
                run.wait().show()
            );
        }
        for (id, run_id) in running_containers_of_module("slow") {
            if processes_in(&id).contains(&format!("sleep {seconds}")) {
                return (run, run_id);
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
fn check_the_aftermath(run: Running, run_id: &str, first: &str) -> (Value, String) {
    let out = run.wait();
    let stderr = out.stderr().to_string();
    assert_eq!(out.code(), Some(130), "stderr:\n{stderr}");

    let doc = roxmltree::Document::parse(out.junit()).expect("the JUnit report is valid XML");
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

    let json = out.json().clone();
    assert_eq!(common::cases(&json).len(), 3);
    assert_eq!(json["run_id"], run_id);

    let left = containers_of_run(run_id);
    assert!(left.is_empty(), "containers of the run remain: {left:?}");
    (json, stderr)
}

fn case<'a>(json: &'a Value, name: &str) -> &'a Value {
    common::case(json, &[("case", name)])
}

#[test]
fn a_first_interrupt_lets_a_running_step_finish_and_starts_nothing_new() {
    // The tests here find their run's container by its module and what it runs: two at
    // once could each take the other's.
    let _one = one_at_a_time();
    let (run, run_id) = wait_for_the_sleeping_apply(start("naps"), 8);
    run.signal("INT");
    let (json, stderr) = check_the_aftermath(run, &run_id, "naps");
    assert!(stderr.contains("no new case starts"), "{stderr}");
    assert!(!stderr.contains("the grace period is over"), "{stderr}");
    assert_eq!(case(&json, "naps")["status"], "passed", "{json}");
    for name in ["quick one", "quick two"] {
        assert_eq!(case(&json, name)["status"], "skipped", "{json}");
    }
}

#[test]
fn a_step_longer_than_the_grace_period_is_stopped_at_its_end() {
    let _one = one_at_a_time();
    let (run, run_id) = wait_for_the_sleeping_apply(start("sleeps"), 120);
    run.signal("INT");
    let (json, stderr) = check_the_aftermath(run, &run_id, "sleeps");
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
    let _one = one_at_a_time();
    let (run, run_id) = wait_for_the_sleeping_apply(start("sleeps"), 120);
    run.signal("TERM");
    thread::sleep(Duration::from_millis(500));
    run.signal("INT");
    let (_, stderr) = check_the_aftermath(run, &run_id, "sleeps");
    assert!(
        stderr.contains("interrupted again: stopping now"),
        "{stderr}"
    );
    assert!(!stderr.contains("the grace period is over"), "{stderr}");
}
