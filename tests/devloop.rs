//! The developer's loop against the real engine: `init`, `--keep` and `login`, `clean`
//! (with and without `--older-than`) and `run --verbose`.
//!
//! `rehearsal clean` removes every labelled container on the engine, so every test here
//! that starts containers or cleans holds `ENGINE` (one at a time), and tests assert on
//! their own containers, found by a module name no other test uses.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

use common::repo;

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

static ENGINE: Mutex<()> = Mutex::new(());

fn engine() -> MutexGuard<'static, ()> {
    ENGINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn rehearsal(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .env_remove("CI")
        .output()
        .expect("run rehearsal")
}

fn text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The ids of containers carrying all these labels (`key=value`), running or not.
fn containers(labels: &[&str]) -> Vec<String> {
    let mut docker = Command::new("docker");
    docker.args(["ps", "-aq", "--no-trunc"]);
    for label in labels {
        docker.args(["--filter", &format!("label={label}")]);
    }
    let out = docker.output().expect("run docker ps");
    assert!(out.status.success(), "{}", text(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

/// A module of its own (a name no other test uses), with two cases that write a file.
struct Module {
    _dir: tempfile::TempDir,
    parent: PathBuf,
    path: PathBuf,
    name: String,
}

impl Module {
    fn new() -> Module {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("devloop{}", &uuid_like()[..10]);
        let path = dir.path().join(&name);
        std::fs::create_dir_all(path.join("manifests")).unwrap();
        std::fs::write(
            path.join("manifests/init.pp"),
            format!(
                "class {name} (String $word = 'kept') {{\n  file {{ '/etc/devloop.txt':\n    ensure  => file,\n    content => \"${{word}} by devloop\\n\",\n  }}\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            path.join("rehearsal.yaml"),
            format!(
                "platforms: [debian12]\ncases:\n  writes:\n    manifest: include {name}\n    expect:\n      - file: /etc/devloop.txt\n        contains: [kept by devloop]\n  other word:\n    manifest: \"class {{ '{name}': word => 'other' }}\"\n"
            ),
        )
        .unwrap();
        Module {
            parent: dir.path().to_path_buf(),
            _dir: dir,
            path,
            name,
        }
    }

    fn dir(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn containers(&self, case: &str) -> Vec<String> {
        containers(&[
            &format!("rehearsal.module={}", self.name),
            &format!("rehearsal.case={case}"),
        ])
    }

    /// Runs the case `writes` with `--keep always`; returns its one kept container.
    fn run_and_keep_writes(&self) -> Vec<String> {
        let run = rehearsal(
            &self.parent,
            &["run", self.dir(), "--case", "writes", "--keep", "always"],
        );
        assert!(run.status.success(), "{}", text(&run));
        let kept = self.containers("writes");
        assert_eq!(kept.len(), 1, "{}", text(&run));
        kept
    }

    /// Removes this module's containers, and only them.
    fn remove_containers(&self) {
        let ids = containers(&[&format!("rehearsal.module={}", self.name)]);
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .output();
        }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        self.remove_containers();
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
        .chars()
        .rev()
        .collect()
}

#[test]
fn init_writes_a_spec_that_passes_on_its_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("good");
    copy_dir(&repo().join("tests/fixtures/modules/good"), &module);
    std::fs::remove_file(module.join("rehearsal.yaml")).unwrap();
    let path = module.to_str().unwrap();

    let out = rehearsal(dir.path(), &["init", path]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stdout(&out).contains("1 case and 4 checks for the module `good`")
            && stdout(&out).contains(&format!("run it: rehearsal run {path}")),
        "{}",
        text(&out)
    );
    let spec = std::fs::read_to_string(module.join("rehearsal.yaml")).unwrap();
    for check in [
        "- file: /etc/good.conf",
        "- user: gooduser",
        "- group: goodies",
        "- service: cron",
    ] {
        assert!(spec.contains(check), "{check} missing from:\n{spec}");
    }

    // A second init refuses to overwrite it.
    let again = rehearsal(dir.path(), &["init", path]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(stderr(&again).contains("--force"), "{}", text(&again));

    let _engine = engine();
    let run = rehearsal(dir.path(), &["run", path, "-p", "debian12"]);
    assert!(run.status.success(), "{}\n{spec}", text(&run));
    assert!(
        stdout(&run).contains("PASS   debian12  good › good"),
        "{}",
        text(&run)
    );
}

#[test]
fn a_kept_container_is_entered_by_login_and_without_one_login_runs_the_case() {
    let module = Module::new();
    let _engine = engine();
    let kept = module.run_and_keep_writes();

    // By path: the command's output and status are login's.
    let login = rehearsal(
        &module.parent,
        &["login", module.dir(), "--", "cat", "/etc/devloop.txt"],
    );
    assert!(login.status.success(), "{}", text(&login));
    assert_eq!(stdout(&login), "kept by devloop\n");
    assert!(
        stderr(&login).contains("rehearsal clean"),
        "{}",
        text(&login)
    );
    // By name, from the directory above it, with the case and platform named.
    let status = rehearsal(
        &module.parent,
        &[
            "login",
            &module.name,
            "writes",
            "--platform",
            "debian12",
            "--",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    assert_eq!(
        module.containers("writes"),
        kept,
        "login made no new container"
    );

    // No kept container of this case: login runs it, keeps it, and enters it.
    assert!(module.containers("other word").is_empty());
    let fresh = rehearsal(
        &module.parent,
        &[
            "login",
            module.dir(),
            "other word",
            "--",
            "cat",
            "/etc/devloop.txt",
        ],
    );
    assert!(fresh.status.success(), "{}", text(&fresh));
    assert_eq!(stdout(&fresh), "other by devloop\n");
    assert!(
        stderr(&fresh).contains("no kept container of")
            && stderr(&fresh).contains("PASS   debian12"),
        "{}",
        text(&fresh)
    );
    assert_eq!(module.containers("other word").len(), 1);

    // An unknown case is a usage error that lists the cases.
    let wrong = rehearsal(
        &module.parent,
        &["login", module.dir(), "nope", "--", "true"],
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(
        stderr(&wrong).contains("no case `nope`") && stderr(&wrong).contains("writes"),
        "{}",
        text(&wrong)
    );
}

#[test]
fn clean_older_than_spares_a_young_kept_container_and_clean_removes_it() {
    let module = Module::new();
    let _engine = engine();
    let kept = module.run_and_keep_writes();

    let young = rehearsal(&module.parent, &["clean", "--older-than", "1h"]);
    assert!(young.status.success(), "{}", text(&young));
    assert!(stdout(&young).contains("older than 1h"), "{}", text(&young));
    assert_eq!(module.containers("writes"), kept, "{}", text(&young));

    let bad = rehearsal(&module.parent, &["clean", "--older-than", "soon"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));

    let before = containers(&["rehearsal.managed-by=rehearsal"]);
    let all = rehearsal(&module.parent, &["clean"]);
    assert!(all.status.success(), "{}", text(&all));
    assert!(module.containers("writes").is_empty(), "{}", text(&all));
    // Nothing that was labelled before the clean is left.
    let after = containers(&["rehearsal.managed-by=rehearsal"]);
    let left: Vec<&String> = before.iter().filter(|id| after.contains(id)).collect();
    assert!(left.is_empty(), "left: {left:?}\n{}", text(&all));
}

#[test]
fn verbose_streams_the_applies_of_one_case() {
    let module = Module::new();
    // More than one case: refused before the engine is touched.
    let many = rehearsal(&module.parent, &["run", module.dir(), "-v"]);
    assert_eq!(many.status.code(), Some(2), "{}", text(&many));
    assert!(
        stderr(&many).contains("--verbose streams one case; narrow with --case/--platform"),
        "{}",
        text(&many)
    );

    let _engine = engine();
    let one = rehearsal(
        &module.parent,
        &["run", module.dir(), "--case", "writes", "--verbose"],
    );
    assert!(one.status.success(), "{}", text(&one));
    let err = stderr(&one);
    let applied: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("Notice: Applied catalog"))
        .collect();
    assert!(
        applied.len() == 2
            && applied[0].starts_with("[apply] ")
            && applied[1].starts_with("[idempotent] "),
        "{}",
        text(&one)
    );
    assert!(
        err.contains("[apply] Notice: /Stage[main]/"),
        "{}",
        text(&one)
    );
    // Not repeated on stdout: the console report is as without --verbose.
    assert!(!stdout(&one).contains("Applied catalog"), "{}", text(&one));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
