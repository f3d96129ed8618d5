//! The command line without the engine: planning, shards, and runs with nothing to do.
//! Each test points DOCKER_HOST at a socket that does not exist, so any attempt to use
//! the engine would fail the test.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::repo;

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

fn rehearsal(args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(repo())
        .env("DOCKER_HOST", "unix:///nonexistent/rehearsal-test.sock")
        .args(args)
        .output()
        .expect("run rehearsal")
}

fn rows(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn shards_partition_the_sample_plan_with_nothing_lost_or_doubled() {
    let all = rows(&rehearsal(&["list", "sample-modules"]));
    assert!(all.len() >= 60, "{all:?}");
    let report = tempfile::NamedTempFile::new().unwrap();
    // Timings where one module is slow: a balanced split still covers everything once.
    let cases: Vec<serde_json::Value> = all
        .iter()
        .map(|row| {
            let f: Vec<&str> = row.split('\t').collect();
            serde_json::json!({
                "id": { "module": f[0], "case": f[1], "platform": f[2] },
                "duration": if f[0] == "heartbeat" { 40.0 } else { 5.0 },
            })
        })
        .collect();
    std::fs::write(
        report.path(),
        serde_json::json!({ "cases": cases }).to_string(),
    )
    .unwrap();
    for timings in [None, Some(report.path())] {
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=4 {
            let shard = format!("{k}/4");
            let mut args = vec!["list", "sample-modules", "--shard", &shard];
            let t;
            if let Some(path) = timings {
                t = path.display().to_string();
                args.extend(["--timings", &t]);
            }
            let part = rows(&rehearsal(&args));
            assert!(!part.is_empty(), "shard {shard} is empty");
            seen.extend(part);
        }
        seen.sort();
        let mut want = all.clone();
        want.sort();
        assert_eq!(seen, want, "timings: {timings:?}");
    }
}

#[test]
fn a_bad_shard_or_timings_file_is_a_usage_error() {
    let out = rehearsal(&["list", "sample-modules", "--shard", "5/4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid shard `5/4`"));
    let out = rehearsal(&[
        "list",
        "sample-modules",
        "--shard",
        "1/2",
        "--timings",
        "/nonexistent/report.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read --timings"));
}

#[test]
fn nothing_to_test_exits_0_with_an_empty_but_valid_junit_and_no_engine() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let json = dir.path().join("report.json");
    // One case on one platform; shard 2 of 2 is empty.
    let out = rehearsal(&[
        "run",
        "tests/fixtures/modules/uses_lib",
        "--shard",
        "2/2",
        "--junit",
        path(&junit),
        "--json",
        path(&json),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to test"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
    assert_eq!(doc.root_element().attribute("tests"), Some("0"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases"], serde_json::json!([]));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A git repository holding a copy of the sample modules, committed.
fn sample_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    let copy = Command::new("cp")
        .arg("-r")
        .arg(repo().join("sample-modules"))
        .arg(dir.path().join("modules"))
        .status()
        .unwrap();
    assert!(copy.success());
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "modules"]);
    dir
}

fn rehearsal_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env("DOCKER_HOST", "unix:///nonexistent/rehearsal-test.sock")
        .env_remove("GERRIT_BRANCH")
        .args(args)
        .output()
        .expect("run rehearsal")
}

#[test]
fn changed_since_plans_the_changed_module_and_its_dependants_only() {
    let repo = sample_repo();
    let init = repo.path().join("modules/confkit/manifests/setting.pp");
    let text = std::fs::read_to_string(&init).unwrap();
    std::fs::write(&init, format!("{text}\n# a comment\n")).unwrap();
    let out = rehearsal_in(
        repo.path(),
        &["list", "modules", "--changed-since", "main", "--explain"],
    );
    let modules: std::collections::BTreeSet<String> = rows(&out)
        .iter()
        .map(|r| r.split('\t').next().unwrap().to_string())
        .collect();
    assert_eq!(
        modules.into_iter().collect::<Vec<_>>(),
        ["confkit", "ntpsettings"]
    );
    let explained = String::from_utf8_lossy(&out.stderr);
    assert!(explained.contains("ntpsettings"), "{explained}");
    assert!(explained.contains("confkit"), "{explained}");
    // The Gerrit Trigger's variable is the default base.
    let out = Command::new(BIN)
        .current_dir(repo.path())
        .env("GERRIT_BRANCH", "main")
        .args(["list", "modules", "--changed-since"])
        .output()
        .unwrap();
    let both = rehearsal_in(
        repo.path(),
        &["list", "modules/confkit", "modules/ntpsettings"],
    );
    assert_eq!(rows(&out), rows(&both), "confkit's and ntpsettings' cases");
}

#[test]
fn changed_since_with_nothing_changed_runs_nothing_and_exits_0() {
    let repo = sample_repo();
    let junit = repo.path().join("reports/junit.xml");
    let out = rehearsal_in(
        repo.path(),
        &[
            "run",
            "modules",
            "--changed-since",
            "main",
            "--junit",
            path(&junit),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to test"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no module is affected"));
    roxmltree::Document::parse(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    let out = rehearsal_in(repo.path(), &["list", "modules", "--changed-since"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GERRIT_BRANCH"));
}

#[test]
fn run_with_gerrit_but_no_change_to_post_to_fails_before_any_container() {
    let out = Command::new(BIN)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("DOCKER_HOST", "unix:///nonexistent/rehearsal-test.sock")
        .args(["run", "tests/fixtures/modules/uses_lib", "--gerrit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GERRIT_CHANGE_NUMBER"), "{err}");
    assert!(
        !err.contains("engine"),
        "it must fail before the engine: {err}"
    );
}
