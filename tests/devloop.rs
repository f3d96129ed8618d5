//! The developer's loop against the real engine: `init`, `--keep` and `login`, `clean`
//! (with and without `--older-than`) and `run --verbose`.
//!
//! `rehearsal clean` removes every labelled container on the engine, so every test here
//! that starts containers or cleans holds `one_at_a_time()`, and tests assert on
//! their own containers, found by a module name no other test uses.

mod common;

use std::path::{Path, PathBuf};

use common::{
    containers, copy_tree, one_at_a_time, remove_containers, repo, write, Outcome, Rehearsal,
};

/// The binary in `cwd`, outside CI (as a developer runs it).
fn rehearsal(cwd: &Path, args: &[&str]) -> Outcome {
    Rehearsal::new()
        .current_dir(cwd)
        .args(args)
        .env_remove("CI")
        .run()
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
        write(
            &path,
            "manifests/init.pp",
            format!(
                "class {name} (String $word = 'kept') {{\n  file {{ '/etc/devloop.txt':\n    ensure  => file,\n    content => \"${{word}} by devloop\\n\",\n  }}\n}}\n"
            ),
        );
        write(
            &path,
            "rehearsal.yaml",
            format!(
                "platforms: [debian12]\ncases:\n  writes:\n    manifest: include {name}\n    expect:\n      - file: /etc/devloop.txt\n        contains: [kept by devloop]\n  other word:\n    manifest: \"class {{ '{name}': word => 'other' }}\"\n"
            ),
        );
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
        run.success();
        let kept = self.containers("writes");
        assert_eq!(kept.len(), 1, "{}", run.show());
        kept
    }

    /// Removes this module's containers, and only them.
    fn remove_containers(&self) {
        remove_containers(&containers(&[&format!("rehearsal.module={}", self.name)]));
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
    copy_tree(&repo().join("tests/fixtures/modules/good"), &module);
    std::fs::remove_file(module.join("rehearsal.yaml")).unwrap();
    let path = module.to_str().unwrap();

    let out = rehearsal(dir.path(), &["init", path]);
    out.success();
    assert!(
        out.stdout()
            .contains("1 case and 4 checks for the module `good`")
            && out
                .stdout()
                .contains(&format!("run it: rehearsal run {path}")),
        "{}",
        out.show()
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
    again.exit(2);
    assert!(again.stderr().contains("--force"), "{}", again.show());

    let _one = one_at_a_time();
    let run = rehearsal(dir.path(), &["run", path, "-p", "debian12"]);
    assert!(run.status().success(), "{}\n{spec}", run.show());
    assert!(
        run.stdout().contains("PASS   debian12  good › good"),
        "{}",
        run.show()
    );
}

#[test]
fn a_kept_container_is_entered_by_login_and_without_one_login_runs_the_case() {
    let module = Module::new();
    let _one = one_at_a_time();
    let kept = module.run_and_keep_writes();

    // By path: the command's output and status are login's.
    let login = rehearsal(
        &module.parent,
        &["login", module.dir(), "--", "cat", "/etc/devloop.txt"],
    );
    login.success();
    assert_eq!(login.stdout(), "kept by devloop\n");
    assert!(
        login.stderr().contains("rehearsal clean"),
        "{}",
        login.show()
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
    status.exit(3);
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
    fresh.success();
    assert_eq!(fresh.stdout(), "other by devloop\n");
    assert!(
        fresh.stderr().contains("no kept container of")
            && fresh.stderr().contains("PASS   debian12"),
        "{}",
        fresh.show()
    );
    assert_eq!(module.containers("other word").len(), 1);

    // An unknown case is a usage error that lists the cases.
    let wrong = rehearsal(
        &module.parent,
        &["login", module.dir(), "nope", "--", "true"],
    );
    wrong.exit(2);
    assert!(
        wrong.stderr().contains("no case `nope`") && wrong.stderr().contains("writes"),
        "{}",
        wrong.show()
    );
}

#[test]
fn clean_older_than_spares_a_young_kept_container_and_clean_removes_it() {
    let module = Module::new();
    let _one = one_at_a_time();
    let kept = module.run_and_keep_writes();

    let young = rehearsal(&module.parent, &["clean", "--older-than", "1h"]);
    young.success();
    assert!(young.stdout().contains("older than 1h"), "{}", young.show());
    assert_eq!(module.containers("writes"), kept, "{}", young.show());

    let bad = rehearsal(&module.parent, &["clean", "--older-than", "soon"]);
    bad.exit(2);

    let before = containers(&["rehearsal.managed-by=rehearsal"]);
    let all = rehearsal(&module.parent, &["clean"]);
    all.success();
    assert!(module.containers("writes").is_empty(), "{}", all.show());
    // Nothing that was labelled before the clean is left.
    let after = containers(&["rehearsal.managed-by=rehearsal"]);
    let left: Vec<&String> = before.iter().filter(|id| after.contains(id)).collect();
    assert!(left.is_empty(), "left: {left:?}\n{}", all.show());
}

#[test]
fn verbose_streams_the_applies_of_one_case() {
    let module = Module::new();
    // More than one case: refused before the engine is touched.
    let many = rehearsal(&module.parent, &["run", module.dir(), "-v"]);
    many.exit(2);
    assert!(
        many.stderr()
            .contains("--verbose streams one case; narrow with --case/--platform"),
        "{}",
        many.show()
    );

    let _one = one_at_a_time();
    let one = rehearsal(
        &module.parent,
        &["run", module.dir(), "--case", "writes", "--verbose"],
    );
    one.success();
    let err = one.stderr();
    let applied: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("Notice: Applied catalog"))
        .collect();
    assert!(
        applied.len() == 2
            && applied[0].starts_with("[apply] ")
            && applied[1].starts_with("[idempotent] "),
        "{}",
        one.show()
    );
    assert!(
        err.contains("[apply] Notice: /Stage[main]/"),
        "{}",
        one.show()
    );
    // Not repeated on stdout: the console report is as without --verbose.
    assert!(!one.stdout().contains("Applied catalog"), "{}", one.show());
}
