//! The command line without the engine: planning, shards, and runs with nothing to do.
//! Each test points DOCKER_HOST at a socket that does not exist, so any attempt to use
//! the engine would fail the test.

use std::path::Path;

use crate::common::{copy_tree, git, repo, Outcome, Rehearsal};

/// The binary in the repository's root, without an engine.
fn rehearsal(args: &[&str]) -> Outcome {
    Rehearsal::new().no_engine().args(args).run()
}

/// The lines a successful run printed.
fn rows(out: &Outcome) -> Vec<String> {
    out.success();
    out.stdout().lines().map(str::to_string).collect()
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
    rehearsal(&["list", "sample-modules", "--shard", "5/4"])
        .exit(2)
        .stderr_contains("invalid shard `5/4`");
    rehearsal(&[
        "list",
        "sample-modules",
        "--shard",
        "1/2",
        "--timings",
        "/nonexistent/report.json",
    ])
    .exit(2)
    .stderr_contains("cannot read --timings");
}

#[test]
fn nothing_to_test_exits_0_with_an_empty_but_valid_junit_and_no_engine() {
    // One case on one platform; shard 2 of 2 is empty.
    let out = Rehearsal::new()
        .no_engine()
        .args(["run", "tests/fixtures/modules/uses_lib", "--shard", "2/2"])
        .junit()
        .json()
        .run();
    out.exit(0).stdout_contains("nothing to test");
    let doc = roxmltree::Document::parse(out.junit()).expect("valid XML");
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
    assert_eq!(doc.root_element().attribute("tests"), Some("0"));
    assert_eq!(out.json()["cases"], serde_json::json!([]));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A git repository holding a copy of the sample modules, committed.
fn sample_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("sample-modules"), &dir.path().join("modules"));
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "modules"]);
    dir
}

/// The binary in `dir`, without an engine or the Gerrit Trigger's branch.
fn rehearsal_in(dir: &Path, args: &[&str]) -> Outcome {
    Rehearsal::new()
        .current_dir(dir)
        .no_engine()
        .env_remove("GERRIT_BRANCH")
        .args(args)
        .run()
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
    out.stderr_contains("ntpsettings")
        .stderr_contains("confkit");
    // The Gerrit Trigger's variable is the default base.
    let out = Rehearsal::new()
        .current_dir(repo.path())
        .env("GERRIT_BRANCH", "main")
        .args(["list", "modules", "--changed-since"])
        .run();
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
    rehearsal_in(
        repo.path(),
        &[
            "run",
            "modules",
            "--changed-since",
            "main",
            "--junit",
            path(&junit),
        ],
    )
    .exit(0)
    .stdout_contains("nothing to test")
    .stderr_contains("no module is affected");
    roxmltree::Document::parse(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    rehearsal_in(repo.path(), &["list", "modules", "--changed-since"])
        .exit(2)
        .stderr_contains("GERRIT_BRANCH");
}

#[test]
fn run_with_gerrit_but_no_change_to_post_to_fails_before_any_container() {
    let out = Rehearsal::new()
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .no_engine()
        .args(["run", "tests/fixtures/modules/uses_lib", "--gerrit"])
        .run();
    out.exit(2).stderr_contains("GERRIT_CHANGE_NUMBER");
    assert!(
        !out.stderr().contains("engine"),
        "it must fail before the engine: {}",
        out.stderr()
    );
}

/// A --diff-against that cannot be compared says why, under its own name, before the
/// engine; one beside --no-gate or --no-compile (which compile nothing) is refused.
#[test]
fn a_bad_diff_against_is_a_usage_error_before_the_engine() {
    let repo = sample_repo();
    let out = rehearsal_in(
        repo.path(),
        &["run", "modules/motd", "--diff-against", "no-such-branch"],
    );
    out.exit(2)
        .stderr_contains("unknown revision `no-such-branch`");
    assert!(
        !out.stderr().contains("--changed-since"),
        "{}",
        out.stderr()
    );
    rehearsal_in(repo.path(), &["run", "modules/motd", "--diff-against"])
        .exit(2)
        .stderr_contains("--diff-against needs a revision")
        .stderr_contains("GERRIT_BRANCH");
    rehearsal_in(
        repo.path(),
        &[
            "run",
            "modules/motd",
            "--diff-against",
            "main",
            "--no-compile",
        ],
    )
    .exit(2)
    .stderr_contains("--no-compile");
    let outside = tempfile::tempdir().unwrap();
    copy_tree(
        &crate::common::repo().join("sample-modules/motd"),
        &outside.path().join("motd"),
    );
    rehearsal_in(outside.path(), &["run", "motd", "--diff-against", "main"])
        .exit(2)
        .stderr_contains("is not inside a git repository");
}
