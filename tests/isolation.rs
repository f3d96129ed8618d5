//! Two runs on one engine at once, as two Jenkins executors on one host: one is stopped
//! with SIGTERM mid-run and must remove only its own containers, while the other goes on
//! and passes; each run's containers carry its own run id. And a run killed outright
//! (SIGKILL) leaves the previous report whole, never a truncated one.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    containers_of_run, junit_cases, one_at_a_time, processes_in, remove_containers,
    running_containers_of_module, Rehearsal,
};

/// `rehearsal run MODULE --jobs N` with its JSON and JUnit reports, output captured.
fn start_run(module: &str, jobs: &str) -> Rehearsal {
    Rehearsal::new()
        .args(["run", module, "--jobs", jobs])
        .json()
        .junit()
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

#[test]
fn two_runs_at_once_never_touch_each_others_containers() {
    // The tests here watch containers by module.
    let _one = one_at_a_time();
    let calm = start_run("tests/fixtures/faults/isolation/calm", "2").spawn();
    let sleepy = start_run("tests/fixtures/faults/isolation/sleepy", "2").spawn();

    // Both are at work: the sleepy run inside its sleeping applies, the calm run with
    // containers of its own.
    let mut seen_calm: BTreeSet<String> = BTreeSet::new();
    let mut seen_sleepy: BTreeSet<String> = BTreeSet::new();
    let sleeping = wait_for(Duration::from_secs(120), || {
        seen_calm.extend(
            running_containers_of_module("calm")
                .into_iter()
                .map(|(_, run)| run),
        );
        let sleepy_now = running_containers_of_module("sleepy");
        seen_sleepy.extend(sleepy_now.iter().map(|(_, run)| run.clone()));
        let asleep = sleepy_now
            .iter()
            .filter(|(id, _)| processes_in(id).contains("sleep 45"))
            .count();
        (asleep == 2 && !running_containers_of_module("calm").is_empty()).then_some(())
    });
    assert!(
        sleeping.is_some(),
        "the two runs were never at work at once"
    );
    let calm_before: Vec<String> = running_containers_of_module("calm")
        .into_iter()
        .map(|(id, _)| id)
        .collect();

    // Twice: the first interrupt would give running steps a grace period, in which the
    // calm run's short cases could end on their own; the second stops at once, so what
    // vanishes now could only be the sweep's doing.
    sleepy.signal("TERM");
    thread::sleep(Duration::from_millis(300));
    sleepy.signal("TERM");
    let sleepy = sleepy.wait();
    sleepy.exit(130);

    // The stopped run removed its own containers and only those: the calm run's are
    // still there, unless they finished on their own meanwhile (then the run passes
    // below only if they were not removed under it).
    let sleepy_report = sleepy.json();
    let sleepy_id = sleepy_report["run_id"].as_str().unwrap().to_string();
    let left = containers_of_run(&sleepy_id);
    assert!(left.is_empty(), "the stopped run left containers: {left:?}");
    let calm_after: BTreeSet<String> = running_containers_of_module("calm")
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

    // The calm run passed.
    let calm = calm.wait();
    calm.exit(0);
    let calm_report = calm.json();
    let calm_id = calm_report["run_id"].as_str().unwrap().to_string();
    assert_ne!(calm_id, sleepy_id);
    assert_eq!(containers_of_run(&calm_id), Vec::<String>::new());
    let statuses: Vec<&str> = common::cases(calm_report)
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed"; 4]);

    // Each run's containers carried its own id, and only its own.
    assert_eq!(seen_calm, BTreeSet::from([calm_id]));
    assert_eq!(seen_sleepy, BTreeSet::from([sleepy_id]));

    // The stopped run's reports are whole, with every case: the unfinished ones skipped.
    assert_eq!(junit_cases(sleepy.junit()).len(), 3);
    assert_eq!(junit_cases(calm.junit()).len(), 4);
    let skipped = common::cases(sleepy_report)
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
    let run = start_run("tests/fixtures/faults/isolation/calm", "1")
        .reports_in(dir.path())
        .spawn();

    // Killed outright while its first case works: no handler runs, nothing is swept.
    let found = wait_for(Duration::from_secs(120), || {
        running_containers_of_module("calm").into_iter().next()
    });
    run.signal("KILL");
    let out = run.wait();
    assert_eq!(out.code(), None, "killed by a signal");
    if let Some((_, run_id)) = &found {
        remove_containers(&containers_of_run(run_id));
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
