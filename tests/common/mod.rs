//! What the integration tests share: [`Rehearsal`], the one way they run the binary and
//! read its reports (`run.rs`); the container engine's command line, in one place
//! (`engine.rs`); and here, the repository, files and git repositories to test in, and
//! readers of the reports. Each test binary compiles this module on its own, so one that
//! uses only some of it must not warn about the rest.
#![allow(dead_code)]

mod engine;
pub mod gerrit;
mod run;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use engine::*;
#[allow(unused_imports)]
pub use run::{Outcome, Rehearsal, Running};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Held by the tests of a binary that must not run beside each other (they watch the
/// engine's containers by module, or clean them all): one at a time, even after one of
/// them failed.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes a process printed, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `contents` to `root/rel`, making the directories it needs; returns the path.
pub fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}

/// A module at `dir`: `manifests/init.pp` holding an empty class `class`, and `spec` as
/// its `rehearsal.yaml`. Returns `dir`.
pub fn module(dir: &Path, class: &str, spec: impl AsRef<[u8]>) -> PathBuf {
    write(dir, "manifests/init.pp", format!("class {class} {{ }}\n"));
    write(dir, "rehearsal.yaml", spec);
    dir.to_path_buf()
}

/// Copies the directory `from` to `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs git in `dir`, away from the user's and the system's configuration, as a fixed
/// author; asserts it succeeded and returns its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The cases of a JSON report.
pub fn cases(report: &Value) -> &[Value] {
    report["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("no cases in the report: {report:#}"))
}

/// The case of a JSON report whose id has these fields (`module`, `case`, `platform`;
/// those left out match any).
pub fn find_case<'a>(report: &'a Value, id: &[(&str, &str)]) -> Option<&'a Value> {
    cases(report)
        .iter()
        .find(|c| id.iter().all(|(field, value)| c["id"][field] == *value))
}

/// As [`find_case`], failing the test when the report has no such case.
#[track_caller]
pub fn case<'a>(report: &'a Value, id: &[(&str, &str)]) -> &'a Value {
    find_case(report, id).unwrap_or_else(|| {
        let ids: Vec<String> = cases(report).iter().map(|c| c["id"].to_string()).collect();
        panic!("no case {id:?} in the report, only:\n{}", ids.join("\n"))
    })
}

/// A step of a case in the JSON report, by name.
#[track_caller]
pub fn step<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {case:#}"))
}

/// The cases of a JUnit report: (classname, case name) of its test cases, which are
/// named `<case> › <step or check>`, or `<case>` alone for a case that never started.
pub fn junit_cases(xml: &str) -> BTreeSet<(String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit file parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        // The gate's suites (`validate.<module>`) are files checked, not cases.
        .filter(|n| {
            !n.attribute("classname")
                .unwrap_or("")
                .starts_with("validate.")
        })
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
