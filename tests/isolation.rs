//! Two runs on one engine at once, as two Jenkins executors on one host: one is stopped
//! with SIGTERM mid-run and must remove only its own containers, while the other goes on
//! and passes; each run's containers carry its own run id. And a run killed outright
//! (SIGKILL) leaves the previous report whole, never a truncated one.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{containers_of_run, docker, repo, signal, text};

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

/// `rehearsal run MODULE --jobs N` with its reports in `reports`, output captured.
fn start_run(module: &str, jobs: &str, reports: &Path) -> Child {
    Command::new(BIN)
        .current_dir(repo())
        .args(["run", module, "--jobs", jobs, "--json"])
        .arg(reports.join("report.json"))
        .arg("--junit")
        .arg(reports.join("junit.xml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rehearsal")
}

/// The running containers of a fixture module: (id, run id label).
fn containers_of(module: &str) -> Vec<(String, String)> {
    let out = docker(&[
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

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("the JSON report");
    serde_json::from_str(&text).unwrap()
}

/// Every case of a JUnit file: (classname, case name) of its test cases, which are
/// named `<case> › <step or check>`, or `<case>` alone for a case that never started.
fn junit_cases(dir: &Path) -> BTreeSet<(String, String)> {
    let xml = std::fs::read_to_string(dir.join("junit.xml")).expect("the JUnit report");
    let doc = roxmltree::Document::parse(&xml).expect("the JUnit file parses");
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
        .collect()
}

/// Polls `probe` every 200 ms until it returns a value or `limit` passes.
fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let clock = Instant::now();
    while clock.elapsed() < limit {
        if let Some(found) = probe() {
            return Some(found);
        }
        thread::sleep(Duration::from_millis(200));
    }
    None
}

/// The tests here watch containers by module: one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn two_runs_at_once_never_touch_each_others_containers() {
    let _one = one_at_a_time();
    let calm_dir = tempfile::tempdir().unwrap();
    let sleepy_dir = tempfile::tempdir().unwrap();
    let calm = start_run("tests/fixtures/faults/isolation/calm", "2", calm_dir.path());
    let sleepy = start_run(
        "tests/fixtures/faults/isolation/sleepy",
        "2",
        sleepy_dir.path(),
    );

    // Both are at work: the sleepy run inside its sleeping applies, the calm run with
    // containers of its own.
    let mut seen_calm: BTreeSet<String> = BTreeSet::new();
    let mut seen_sleepy: BTreeSet<String> = BTreeSet::new();
    let sleeping = wait_for(Duration::from_secs(120), || {
        seen_calm.extend(containers_of("calm").into_iter().map(|(_, run)| run));
        let sleepy_now = containers_of("sleepy");
        seen_sleepy.extend(sleepy_now.iter().map(|(_, run)| run.clone()));
        let asleep = sleepy_now
            .iter()
            .filter(|(id, _)| text(&docker(&["top", id]).stdout).contains("sleep 45"))
            .count();
        (asleep == 2 && !containers_of("calm").is_empty()).then_some(())
    });
    assert!(
        sleeping.is_some(),
        "the two runs were never at work at once"
    );
    let calm_before: Vec<String> = containers_of("calm")
        .into_iter()
        .map(|(id, _)| id)
        .collect();

    // Twice: the first interrupt would give running steps a grace period, in which the
    // calm run's short cases could end on their own; the second stops at once, so what
    // vanishes now could only be the sweep's doing.
    signal(&sleepy, "TERM");
    thread::sleep(Duration::from_millis(300));
    signal(&sleepy, "TERM");
    let sleepy = sleepy.wait_with_output().unwrap();
    assert_eq!(
        sleepy.status.code(),
        Some(130),
        "stderr:\n{}",
        text(&sleepy.stderr)
    );

    // The stopped run removed its own containers and only those: the calm run's are
    // still there, unless they finished on their own meanwhile (then the run passes
    // below only if they were not removed under it).
    let sleepy_report = report(sleepy_dir.path());
    let sleepy_id = sleepy_report["run_id"].as_str().unwrap().to_string();
    assert_eq!(
        containers_of_run(&sleepy_id),
        "",
        "the stopped run left containers"
    );
    let calm_after: BTreeSet<String> = containers_of("calm")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let survived = calm_before
        .iter()
        .filter(|id| calm_after.contains(*id))
        .count();
    assert!(
        survived > 0 || calm_before.is_empty(),
        "the calm run's containers {calm_before:?} vanished with the other run's sweep"
    );

    let calm = calm.wait_with_output().unwrap();
    assert_eq!(
        calm.status.code(),
        Some(0),
        "the calm run did not pass:\n{}\n{}",
        text(&calm.stdout),
        text(&calm.stderr)
    );
    let calm_report = report(calm_dir.path());
    let calm_id = calm_report["run_id"].as_str().unwrap().to_string();
    assert_ne!(calm_id, sleepy_id);
    assert_eq!(containers_of_run(&calm_id), "");
    let statuses: Vec<&str> = calm_report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed"; 4]);

    // Each run's containers carried its own id, and only its own.
    assert_eq!(seen_calm, BTreeSet::from([calm_id]));
    assert_eq!(seen_sleepy, BTreeSet::from([sleepy_id]));

    // The stopped run's reports are whole, with every case: the unfinished ones skipped.
    assert_eq!(junit_cases(sleepy_dir.path()).len(), 3);
    assert_eq!(junit_cases(calm_dir.path()).len(), 4);
    let skipped = sleepy_report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "skipped")
        .count();
    assert_eq!(skipped, 3, "{sleepy_report:#}");
}

#[test]
fn a_killed_run_leaves_the_previous_report_whole() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let previous = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"previous\" tests=\"0\" failures=\"0\" errors=\"0\"/>\n";
    std::fs::write(dir.path().join("junit.xml"), previous).unwrap();
    let child = start_run("tests/fixtures/faults/isolation/calm", "1", dir.path());

    // Killed outright while its first case works: no handler runs, nothing is swept.
    let found = wait_for(Duration::from_secs(120), || {
        containers_of("calm").into_iter().next()
    });
    signal(&child, "KILL");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), None, "killed by a signal");
    if let Some((_, run_id)) = &found {
        let left = containers_of_run(run_id);
        let mut rm = vec!["rm", "-f"];
        rm.extend(left.split_whitespace());
        docker(&rm);
    }
    assert!(found.is_some(), "the run never started a container");

    assert_eq!(
        std::fs::read_to_string(dir.path().join("junit.xml")).unwrap(),
        previous
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["junit.xml"], "no temporary or partial file is left");
}
