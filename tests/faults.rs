//! Faults during a run, against the real engine: one `rehearsal run` of the modules under
//! `tests/fixtures/faults/run`, in which a container is killed from outside mid-apply
//! (by this test), one runs out of memory, an apply and a probe hang, a manifest fills
//! /tmp, one forks without bound and one tries to write into its module, while ordinary
//! cases beside them pass. Each fault must fail its own case with a clear reason, the
//! run must go on, the JUnit must stay valid with every case in it, and no container of
//! the run may remain.

mod common;

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{containers_of_run, docker, repo, step, text};

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

/// The module directory of every fault fixture, and the cases each holds.
const MODULES: &[(&str, usize)] = &[
    ("killed", 1),
    ("hungry", 1),
    ("hangs", 2),
    ("filler", 1),
    ("forks", 1),
    ("steady", 4),
];

struct Run {
    output: Output,
    json: Value,
    junit: String,
    /// What the killer thread did: the container it killed, or why it did not.
    killed: Result<String, String>,
}

/// Waits for the `killed` case's container to be inside its sleeping apply, then kills
/// it with `docker kill`, as an operator or another job on the host might. Gives up
/// when the run is over.
fn kill_mid_apply(run_over: &AtomicBool) -> Result<String, String> {
    let clock = Instant::now();
    while clock.elapsed() < Duration::from_secs(180) && !run_over.load(Ordering::Relaxed) {
        let found = docker(&[
            "ps",
            "-q",
            "--filter",
            "label=rehearsal.module=killed",
            "--filter",
            "label=rehearsal.case=killed mid-apply",
        ]);
        if let Some(id) = text(&found.stdout).lines().next() {
            let top = docker(&["top", id]);
            if text(&top.stdout).contains("sleep 60") {
                let killed = docker(&["kill", id]);
                return if killed.status.success() {
                    Ok(id.to_string())
                } else {
                    Err(format!("docker kill failed: {}", text(&killed.stderr)))
                };
            }
        }
        thread::sleep(Duration::from_millis(200));
    }
    Err("the killed case's container never reached its sleeping apply".into())
}

/// The shared run (the first test to get here starts it).
fn faults_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let reports = tempfile::tempdir().unwrap().keep();
        let json = reports.join("report.json");
        let junit = reports.join("junit.xml");
        let run_over = Arc::new(AtomicBool::new(false));
        let killer = thread::spawn({
            let run_over = run_over.clone();
            move || kill_mid_apply(&run_over)
        });
        let output = Command::new(BIN)
            .current_dir(repo())
            .args(["run", "tests/fixtures/faults/run", "--jobs", "3", "--json"])
            .arg(&json)
            .arg("--junit")
            .arg(&junit)
            .output()
            .expect("run rehearsal");
        run_over.store(true, Ordering::Relaxed);
        let killed = killer.join().expect("the killer thread");
        let report = std::fs::read_to_string(&json).unwrap_or_else(|err| {
            panic!(
                "no JSON report ({err}); stdout:\n{}\nstderr:\n{}",
                text(&output.stdout),
                text(&output.stderr)
            )
        });
        Run {
            json: serde_json::from_str(&report).unwrap(),
            junit: std::fs::read_to_string(&junit).unwrap(),
            output,
            killed,
        }
    })
}

fn case(module: &str, name: &str) -> &'static Value {
    let run = faults_run();
    run.json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"]["module"] == module && c["id"]["case"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no case {module} › {name} in the report; stdout:\n{}",
                text(&run.output.stdout)
            )
        })
}

fn status(value: &Value) -> &str {
    value["status"].as_str().unwrap()
}

fn message(value: &Value) -> &str {
    value["message"].as_str().unwrap_or("")
}

#[test]
fn a_container_killed_mid_apply_is_an_error_that_says_so() {
    let run = faults_run();
    let killed = run.killed.as_ref().expect("the test killed the container");
    let c = case("killed", "killed mid-apply");
    assert_eq!(status(c), "error", "{c:#}");
    let apply = step(c, "apply");
    assert_eq!(status(apply), "error", "{apply:#}");
    assert!(
        message(apply)
            == "the container was killed from outside (SIGKILL, `docker kill` or the like) while the case ran",
        "container {killed}: {apply:#}"
    );
    assert_eq!(status(step(c, "idempotent")), "skipped");
}

#[test]
fn an_out_of_memory_kill_names_the_memory_limit() {
    let c = case("hungry", "out of memory");
    assert_eq!(status(c), "error", "{c:#}");
    let apply = step(c, "apply");
    assert!(
        message(apply).starts_with(
            "out of memory: the kernel killed a process of the case at its 256M limit"
        ),
        "{apply:#}"
    );
    // Puppet's own account of it is kept below.
    assert!(message(apply).contains("returned 137"), "{apply:#}");
}

#[test]
fn a_hung_apply_times_out_and_says_after_how_long() {
    let c = case("hangs", "apply hangs");
    let apply = step(c, "apply");
    assert_eq!(status(apply), "error", "{apply:#}");
    assert!(
        message(apply).starts_with("timed out after 5s"),
        "{apply:#}"
    );
}

#[test]
fn a_hung_probe_times_out_and_says_after_how_long() {
    let c = case("hangs", "probe hangs");
    assert_eq!(status(step(c, "apply")), "passed", "{c:#}");
    let verify = step(c, "verify");
    assert_eq!(status(verify), "error", "{verify:#}");
    assert!(
        message(verify).starts_with("timed out after 5s"),
        "{verify:#}"
    );
}

#[test]
fn a_full_tmp_fails_the_case_with_no_space_left() {
    let c = case("filler", "fills /tmp");
    assert_eq!(status(c), "failed", "{c:#}");
    let apply = step(c, "apply");
    assert!(
        message(apply).starts_with("puppet apply failed"),
        "{apply:#}"
    );
    assert!(
        apply["output"]
            .as_str()
            .unwrap()
            .contains("No space left on device"),
        "{apply:#}"
    );
}

#[test]
fn a_fork_bomb_is_stopped_at_the_process_limit_and_named() {
    let c = case("forks", "forks without bound");
    assert_eq!(status(c), "error", "{c:#}");
    let apply = step(c, "apply");
    assert!(
        message(apply)
            .starts_with("out of processes: the container reached its limit of 128 processes"),
        "{apply:#}"
    );
}

#[test]
fn limits_network_and_confinement_reach_the_container() {
    for name in [
        "passes beside the faults",
        "limits and network reach the container",
        "the case's own limits and network win",
    ] {
        let c = case("steady", name);
        let failed: Vec<&Value> = c["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| status(k) != "passed")
            .collect();
        assert!(failed.is_empty(), "steady › {name}: {failed:#?}");
        assert_eq!(status(c), "passed", "steady › {name}: {c:#}");
    }
}

#[test]
fn a_manifest_cannot_write_into_the_module() {
    let c = case("steady", "a manifest cannot write into the module");
    // The case expects the write to fail with `Read-only file system`.
    assert_eq!(status(c), "passed", "{c:#}");
    assert!(!repo()
        .join("tests/fixtures/faults/run/steady/written-by-a-case")
        .exists());
}

#[test]
fn the_run_goes_on_and_the_junit_accounts_for_every_case() {
    let run = faults_run();
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "stderr:\n{}",
        text(&run.output.stderr)
    );
    let expected: usize = MODULES.iter().map(|(_, n)| n).sum();
    assert_eq!(run.json["cases"].as_array().unwrap().len(), expected);

    let doc = roxmltree::Document::parse(&run.junit).expect("the JUnit file parses");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    for (module, cases) in MODULES {
        let suite = root
            .children()
            .find(|n| {
                n.has_tag_name("testsuite") && n.attribute("name").unwrap_or("").contains(module)
            })
            .unwrap_or_else(|| panic!("no testsuite for {module}:\n{}", run.junit));
        // Every case has at least its start step as a test case.
        let starts = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .filter(|n| n.attribute("name").unwrap_or("").ends_with(" › start"))
            .count();
        assert_eq!(starts, *cases, "{module}:\n{}", run.junit);
    }
    // The faults are errors or failures, never lost; the ordinary cases passed.
    let errors: usize = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter(|n| n.children().any(|c| c.has_tag_name("error")))
        .count();
    assert!(errors >= 5, "{}", run.junit);
}

#[test]
fn no_container_of_the_run_is_left() {
    let run = faults_run();
    let run_id = run.json["run_id"].as_str().expect("the report's run id");
    assert_eq!(
        containers_of_run(run_id),
        "",
        "containers of run {run_id} remain"
    );
}

#[test]
fn bad_limits_are_refused_at_their_line_before_any_container() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("limited");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("manifests/init.pp"), "class limited { }\n").unwrap();
    std::fs::write(
        module.join("rehearsal.yaml"),
        "limits: { memory: 512M }\ncases:\n  a:\n    manifest: include limited\n    limits: { memory: lots }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["run", "limited"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: limited/rehearsal.yaml:5:23: cases.a.limits.memory: `lots` is not a size"
        ),
        "{stderr}"
    );
}
