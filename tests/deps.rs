//! Fixtures from git and `.fixtures.yml`, against the real engine (debian11, the fastest
//! Puppet): a spec's `{ git: …, ref: v1 }` and a `.fixtures.yml` repository on a branch
//! are checked out and mounted, their commits named in the JSON report; moving the ref
//! rebuilds the `prepare` snapshot that uses the fixture; `--offline` runs from the cache;
//! a bad `.fixtures.yml` is exit 2 at its line and a repository that cannot be fetched
//! exit 3 naming it without its credentials, neither touching the engine; a site
//! baseline's Puppetfile puts its git module on the baseline's modulepath. Every git
//! repository is local (made here); the cache is a temporary directory.

mod common;

use std::path::{Path, PathBuf};

use common::{git, Rehearsal};
use serde_json::Value;

/// A bare repository holding the module `gitdep` (it writes /etc/gitdep): tag v1 says
/// one, tag v2 and `main` say two.
struct Origin {
    dir: tempfile::TempDir,
    v1: String,
    v2: String,
}

impl Origin {
    fn new() -> Origin {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("manifests")).unwrap();
        git(dir.path(), &["init", "-q", "-b", "main", "work"]);
        let commit = |words: &str, tag: &str| {
            common::write(
                &work,
                "manifests/init.pp",
                format!(
                    "class gitdep {{\n  file {{ '/etc/gitdep': content => \"{words}\\n\" }}\n}}\n"
                ),
            );
            common::write(
                &work,
                "metadata.json",
                format!(
                    "{{\"name\": \"test-gitdep\", \"version\": \"{}.0.0\", \"author\": \"test\", \"summary\": \"a git fixture\", \"license\": \"Apache-2.0\", \"source\": \"https://example.invalid/gitdep\", \"dependencies\": []}}\n",
                    tag.trim_start_matches('v')
                ),
            );
            git(&work, &["add", "-A"]);
            git(&work, &["commit", "-q", "-m", words]);
            git(&work, &["tag", tag]);
            git(&work, &["rev-parse", "HEAD"]).trim().to_string()
        };
        let v1 = commit("one", "v1");
        let v2 = commit("two", "v2");
        git(dir.path(), &["clone", "-q", "--bare", "work", "origin.git"]);
        Origin { dir, v1, v2 }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("origin.git")
    }
}

/// A tree of modules under test and the cache their fixtures go to.
struct Tree {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// A module `name` in the tree; its spec file.
    fn module(&self, name: &str, spec: &str) -> PathBuf {
        common::module(&self.dir.path().join(name), name, spec).join("rehearsal.yaml")
    }

    fn run(&self, extra: &[&str]) -> common::Outcome {
        self.rehearsal(extra).json().run()
    }

    /// `rehearsal list --explain` of the tree, with its cache: where each module on a
    /// modulepath comes from.
    fn explained(&self) -> common::Outcome {
        Rehearsal::new()
            .arg("list")
            .arg(self.dir.path())
            .arg("--explain")
            .env_remove("REHEARSAL_CACHE")
            .env("XDG_CACHE_HOME", self.cache.path())
            .no_engine()
            .run()
    }

    fn rehearsal(&self, extra: &[&str]) -> Rehearsal {
        Rehearsal::new()
            .arg("run")
            .arg(self.dir.path())
            .args(["--platform", "debian11"])
            .args(extra)
            .env_remove("REHEARSAL_CACHE")
            .env("XDG_CACHE_HOME", self.cache.path())
    }
}

fn fixture<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["fixtures"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no fixture {name} in {case:#}"))
}

fn spec_at(origin: &Path, rev: &str) -> String {
    format!(
        "platforms: [debian11]
fixtures:
  - {{ git: {}, ref: {rev}, name: gitdep }}
prepare: include gitdep
cases:
  sees its fixture:
    manifest: include gitdep
    expect:
      - file: /etc/gitdep
        contains: [\"{}\"]
",
        origin.display(),
        if rev == "v1" { "one" } else { "two" }
    )
}

#[test]
fn git_fixtures_are_checked_out_mounted_and_named_and_their_revision_keys_the_snapshot() {
    let origin = Origin::new();
    let tree = Tree::new();
    let spec = tree.module("usesgit", &spec_at(&origin.path(), "v1"));
    let fixtures_yml = tree.module(
        "usesyml",
        "platforms: [debian11]\ncases:\n  sees the branch:\n    manifest: include gitdep\n    expect:\n      - file: /etc/gitdep\n        contains: [two]\n",
    );
    common::write(
        fixtures_yml.parent().unwrap(),
        ".fixtures.yml",
        format!(
            "fixtures:\n  repositories:\n    gitdep:\n      repo: \"file://{}\"\n      branch: main\n",
            origin.path().display()
        ),
    );

    let first = tree.run(&[]);
    assert_eq!(first.code(), Some(0), "{}", first.show());
    let case = common::case(first.json(), &[("module", "usesgit")]);
    let dep = fixture(case, "gitdep");
    assert_eq!(dep["revision"], "v1");
    assert_eq!(dep["commit"], origin.v1.as_str());
    assert_eq!(dep["git"], origin.path().display().to_string());
    assert!(
        dep["declared_at"]
            .as_str()
            .unwrap()
            .ends_with("usesgit/rehearsal.yaml:3"),
        "{dep}"
    );
    let yml = fixture(
        common::case(first.json(), &[("module", "usesyml")]),
        "gitdep",
    );
    assert_eq!(yml["revision"], "branch main");
    assert_eq!(yml["commit"], origin.v2.as_str());
    assert!(
        yml["declared_at"]
            .as_str()
            .unwrap()
            .ends_with("usesyml/.fixtures.yml:3"),
        "{yml}"
    );
    // The `prepare` snapshot's image: its tag is the key of what it was made from.
    let prepare_image = |run: &common::Outcome| {
        run.json()["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == "prepare")
            .and_then(|s| s["image"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no prepare snapshot: {}", run.show()))
    };
    let at_v1 = prepare_image(&first);

    // Offline, from the cache: the same commits, the snapshot reused.
    let offline = tree.run(&["--offline"]);
    assert_eq!(offline.code(), Some(0), "{}", offline.show());
    assert_eq!(prepare_image(&offline), at_v1);

    // The spec moves to v2: its case sees two, from a snapshot of another key.
    std::fs::write(&spec, spec_at(&origin.path(), "v2")).unwrap();
    let moved = tree.run(&["--case", "sees its fixture"]);
    assert_eq!(moved.code(), Some(0), "{}", moved.show());
    let dep = fixture(
        common::case(moved.json(), &[("module", "usesgit")]),
        "gitdep",
    );
    assert_eq!(dep["commit"], origin.v2.as_str());
    assert_ne!(prepare_image(&moved), at_v1);

    // `list --explain` says where each module on the modulepath comes from.
    let listed = tree.explained();
    assert_eq!(listed.code(), Some(0), "{}", listed.show());
    let short = &origin.v2[..12];
    assert!(
        listed.stderr().contains(&format!(
            "  gitdep: {} at v2 (commit {short}), checked out in ",
            origin.path().display()
        )),
        "{}",
        listed.show()
    );
}

#[test]
fn a_site_baselines_puppetfile_puts_its_modules_on_the_baselines_modulepath() {
    let origin = Origin::new();
    let tree = Tree::new();
    common::write(
        tree.dir.path(),
        "Puppetfile",
        format!(
            "# the control repository's modules\nmod 'gitdep',\n  :git => 'file://{}',\n  :tag => 'v1'\n",
            origin.path().display()
        ),
    );
    common::write(
        tree.dir.path(),
        "rehearsal-site.yaml",
        "baseline:\n  manifest: include gitdep\n  puppetfile: Puppetfile\n",
    );
    tree.module(
        "onbase",
        "platforms: [debian11]\ncases:\n  starts from the baseline:\n    manifest: include onbase\n    expect:\n      - file: /etc/gitdep\n        contains: [one]\n",
    );
    let run = tree.run(&[]);
    assert_eq!(run.code(), Some(0), "{}", run.show());
    let baseline = run.json()["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "baseline")
        .unwrap_or_else(|| panic!("no baseline snapshot: {}", run.show()));
    assert_eq!(baseline["platform"], "debian11", "{baseline}");

    let listed = tree.explained();
    assert_eq!(listed.code(), Some(0), "{}", listed.show());
    let short = &origin.v1[..12];
    assert!(
        listed.stderr().contains(&format!(
            "  its site baseline's Puppetfile:\n    gitdep: file://{} at v1 (commit {short}), checked out in ",
            origin.path().display()
        )) && listed.stderr().contains("Puppetfile:2\n"),
        "{}",
        listed.show()
    );
}

#[test]
fn bad_fixtures_files_and_unreachable_repositories_stop_the_run_before_the_engine() {
    let tree = Tree::new();
    let module = tree.module("badyml", "cases:\n  a:\n    manifest: include badyml\n");
    let root = module.parent().unwrap();
    common::write(root, ".fixtures.yml", "fixtures:\n  repositories:\n    x:\n      repo: https://example.invalid/x.git\n      reff: v1\n");
    let bad = tree.rehearsal(&[]).no_engine().run();
    assert_eq!(bad.code(), Some(2), "{}", bad.show());
    assert!(
        bad.stderr()
            .contains(".fixtures.yml:5:7: unknown option `reff` of fixture `x`"),
        "{}",
        bad.show()
    );

    common::write(
        root,
        ".fixtures.yml",
        "fixtures:\n  repositories:\n    x: https://ci:hunter2@127.0.0.1:9/x.git\n",
    );
    let unreachable = tree.rehearsal(&[]).no_engine().run();
    assert_eq!(unreachable.code(), Some(3), "{}", unreachable.show());
    assert!(
        unreachable
            .stderr()
            .contains(".fixtures.yml:3: fixture `x`: cannot fetch https://***@127.0.0.1:9/x.git: "),
        "{}",
        unreachable.show()
    );
    assert!(
        !unreachable.stderr().contains("hunter2"),
        "{}",
        unreachable.show()
    );

    let origin = Origin::new();
    common::write(root, ".fixtures.yml", "fixtures: {}\n");
    std::fs::write(&module, spec_at(&origin.path(), "v7")).unwrap();
    let missing = tree.rehearsal(&[]).no_engine().run();
    assert_eq!(missing.code(), Some(3), "{}", missing.show());
    assert!(
        missing.stderr().contains(&format!(
            "rehearsal.yaml:3: fixture `gitdep`: {} has no tag, branch or commit `v7`",
            origin.path().display()
        )),
        "{}",
        missing.show()
    );
}
