//! `--changed-since`: in a temporary git repository made from a copy of `sample-modules/`
//! and `images/`, change one file and check exactly which modules are selected, for each
//! rule. The repositories are set up with the `git` command; the library reads them.
//! (No engine needed.)

use std::path::PathBuf;
use std::process::Command;

use rehearsal::select::{self, Change, ChangedFile, Module, SelectError, Selection};
use rehearsal::spec;

use crate::common::{copy_tree, git, repo, write};

const ALL: [&str; 6] = [
    "accounts",
    "confkit",
    "heartbeat",
    "motd",
    "ntpsettings",
    "roles",
];

/// A throw-away repository: `sample-modules/` and `images/` on branch `main`, committed.
struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        Repo::with(|_| {})
    }

    /// As [`Repo::new`], with `tweak` applied to the files before the first commit.
    fn with(tweak: impl FnOnce(&Repo)) -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap().join("site-repo");
        let source = repo();
        copy_tree(&source.join("sample-modules"), &root.join("sample-modules"));
        copy_tree(&source.join("images"), &root.join("images"));
        let repo = Repo { _tmp: tmp, root };
        repo.write("README.md", "# Site modules\n");
        repo.write(".gitignore", "*.log\n");
        tweak(&repo);
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.commit_all("initial");
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        git(&self.root, args)
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--message", message]);
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        write(&self.root, rel, text);
    }

    fn append(&self, rel: &str, text: &str) {
        let mut old = std::fs::read_to_string(self.path(rel)).unwrap();
        old.push_str(text);
        self.write(rel, &old);
    }

    fn prepend(&self, rel: &str, text: &str) {
        let old = std::fs::read_to_string(self.path(rel)).unwrap();
        self.write(rel, &format!("{text}{old}"));
    }

    /// The modules under `under` (relative), read as `rehearsal run` reads them.
    fn modules(&self, under: &str) -> Vec<Module> {
        let files = spec::discover(&[self.path(under)]).unwrap();
        files
            .iter()
            .map(|file| {
                // As `run` and `list` do: the fixtures resolved (`.fixtures.yml` read).
                let mut spec = spec::load(file).unwrap();
                let fetchers = rehearsal::deps::Fetchers::new(
                    &self.root.join(".no-cache"),
                    rehearsal::deps::forge::PUBLIC.into(),
                    true,
                );
                spec.fixtures = rehearsal::deps::resolve(&spec, &fetchers, &|_| None).unwrap();
                Module::from_spec(&spec)
            })
            .collect()
    }

    /// The selection among every sample module, against `main`, with `images/`.
    fn select(&self) -> Selection {
        self.select_among("sample-modules", "main")
    }

    fn select_among(&self, under: &str, rev: &str) -> Selection {
        let changed = select::changed_files(&self.root, rev).unwrap();
        select::select(&changed, &self.modules(under), Some(&self.path("images")))
    }
}

fn assert_selected(selection: &Selection, expected: &[&str]) {
    assert_eq!(
        selection.names(),
        expected,
        "explanation:\n{}",
        selection.explain()
    );
}

fn reasons(selection: &Selection, name: &str) -> Vec<String> {
    let module = selection
        .modules
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} not selected:\n{}", selection.explain()));
    module.reasons.iter().map(ToString::to_string).collect()
}

// ---- Rule 1: a file inside a module selects that module ----

#[test]
fn a_changed_manifest_selects_only_its_module() {
    let repo = Repo::new();
    repo.append("sample-modules/motd/manifests/init.pp", "# tweak\n");
    let selection = repo.select();
    assert_selected(&selection, &["motd"]);
    assert_eq!(reasons(&selection, "motd"), ["changed: manifests/init.pp"]);
    assert!(!selection.everything());
}

#[test]
fn a_changed_spec_or_test_data_selects_only_its_module() {
    let repo = Repo::new();
    repo.append("sample-modules/heartbeat/rehearsal.yaml", "# tweak\n");
    assert_selected(&repo.select(), &["heartbeat"]);

    let repo = Repo::new();
    repo.append(
        "sample-modules/accounts/spec/fixtures/hiera/data/common.yaml",
        "# tweak\n",
    );
    let selection = repo.select();
    assert_selected(&selection, &["accounts"]);
    assert_eq!(
        reasons(&selection, "accounts"),
        ["changed: spec/fixtures/hiera/data/common.yaml"]
    );
}

// ---- Rule 6: dependants, through metadata.json and fixtures ----

#[test]
fn a_changed_library_selects_its_dependants() {
    let repo = Repo::new();
    repo.append("sample-modules/confkit/manifests/file.pp", "# tweak\n");
    let selection = repo.select();
    assert_selected(&selection, &["confkit", "ntpsettings"]);
    assert_eq!(
        reasons(&selection, "ntpsettings"),
        [
            "depends on confkit (metadata.json)",
            "depends on confkit (fixture ../confkit)"
        ]
    );
}

#[test]
fn dependants_are_selected_transitively() {
    // roles comes to depend on ntpsettings, which depends on confkit.
    let repo = Repo::with(|repo| {
        let metadata = repo.path("sample-modules/roles/metadata.json");
        let text = std::fs::read_to_string(&metadata).unwrap().replace(
            "\"dependencies\": []",
            "\"dependencies\": [{ \"name\": \"rehearsal-ntpsettings\" }]",
        );
        std::fs::write(metadata, text).unwrap();
    });
    repo.append("sample-modules/confkit/functions/render.pp", "# tweak\n");
    let selection = repo.select();
    assert_selected(&selection, &["confkit", "ntpsettings", "roles"]);
    assert_eq!(
        reasons(&selection, "roles"),
        ["depends on ntpsettings (metadata.json)"]
    );
}

#[test]
fn a_fixture_outside_the_modules_under_test_selects_its_dependants() {
    // Only ntpsettings is under test; its fixture confkit changes.
    let repo = Repo::new();
    repo.append("sample-modules/confkit/manifests/setting.pp", "# tweak\n");
    let selection = repo.select_among("sample-modules/ntpsettings", "main");
    assert_selected(&selection, &["ntpsettings"]);
    assert_eq!(selection.outside.len(), 1);
    assert_eq!(selection.outside[0].name, "confkit");
    assert_eq!(selection.outside[0].dependants, ["ntpsettings"]);

    // …and a module that nothing under test depends on selects nothing.
    let repo = Repo::new();
    repo.append("sample-modules/motd/manifests/init.pp", "# tweak\n");
    let selection = repo.select_among("sample-modules/ntpsettings", "main");
    assert_selected(&selection, &[]);
    assert!(!selection.everything());
    assert!(selection
        .explain()
        .contains("motd (sample-modules/motd): manifests/init.pp; no module under test depends on it, so it selects nothing"));
}

// ---- Rule 5: platform definitions ----

#[test]
fn a_changed_image_definition_selects_the_modules_on_that_platform() {
    let repo = Repo::with(|repo| {
        repo.prepend(
            "sample-modules/motd/rehearsal.yaml",
            "platforms: [debian11]\n",
        );
        repo.prepend(
            "sample-modules/heartbeat/rehearsal.yaml",
            "platforms: [debian12, debian13]\n",
        );
    });
    repo.append("images/debian12/platform.yaml", "# tweak\n");
    let selection = repo.select();
    assert_selected(
        &selection,
        &["accounts", "confkit", "heartbeat", "ntpsettings", "roles"],
    );
    assert_eq!(
        reasons(&selection, "heartbeat"),
        ["platform debian12's image definition changed: images/debian12/platform.yaml"]
    );

    let repo2 = Repo::with(|repo| {
        repo.prepend(
            "sample-modules/heartbeat/rehearsal.yaml",
            "platforms: [debian13]\n",
        );
    });
    repo2.append("images/debian11/Dockerfile", "# tweak\n");
    assert_selected(
        &repo2.select(),
        &["accounts", "confkit", "motd", "ntpsettings", "roles"],
    );
}

// ---- Rule 4: shared files a spec uses ----

/// motd and roles read a site-level Hiera hierarchy outside every module.
fn repo_with_shared_hiera() -> Repo {
    Repo::with(|repo| {
        repo.write(
            "site/hiera/hiera.yaml",
            "version: 5\ndefaults: { datadir: data, data_hash: yaml_data }\n\
             hierarchy:\n  - { name: common, path: common.yaml }\n",
        );
        repo.write(
            "site/hiera/data/common.yaml",
            "motd::contact: ops@example.com\n",
        );
        repo.write("site/examples/motd.pp", "include motd\n");
        for module in ["motd", "roles"] {
            repo.prepend(
                &format!("sample-modules/{module}/rehearsal.yaml"),
                "hiera:\n  config: ../../site/hiera/hiera.yaml\n",
            );
        }
    })
}

#[test]
fn changed_shared_hiera_data_selects_the_modules_whose_specs_use_it() {
    let repo = repo_with_shared_hiera();
    repo.append("site/hiera/data/common.yaml", "motd::mode: '0640'\n");
    let selection = repo.select();
    assert_selected(&selection, &["motd", "roles"]);
    assert_eq!(
        reasons(&selection, "roles"),
        ["uses hiera data site/hiera/data, where site/hiera/data/common.yaml changed"]
    );

    // A new data file counts too, even before `git add`.
    let repo = repo_with_shared_hiera();
    repo.write("site/hiera/data/nodes/web1.yaml", "{}\n");
    assert_selected(&repo.select(), &["motd", "roles"]);

    let repo = repo_with_shared_hiera();
    repo.append("site/hiera/hiera.yaml", "# tweak\n");
    let selection = repo.select();
    assert_selected(&selection, &["motd", "roles"]);
    assert_eq!(
        reasons(&selection, "motd"),
        ["uses hiera config site/hiera/hiera.yaml, which changed"]
    );
}

#[test]
fn a_site_manifest_file_outside_the_module_is_refused_when_the_spec_is_read() {
    // A case applies a file of its own module only (the runner mounts the module, not the
    // repository), so a site example can never be what selects a module.
    let repo = repo_with_shared_hiera();
    repo.append(
        "sample-modules/heartbeat/rehearsal.yaml",
        "  from a site example:\n    manifest_file: ../../site/examples/motd.pp\n",
    );
    let err = spec::load(&repo.path("sample-modules/heartbeat/rehearsal.yaml")).unwrap_err();
    assert!(
        err.message
            .contains("`../../site/examples/motd.pp` is outside the module"),
        "{err}"
    );
}

// ---- Rule 7: the safe default, and the documentation exception ----

#[test]
fn a_file_no_rule_attributes_selects_everything_and_explain_names_it() {
    let repo = repo_with_shared_hiera();
    repo.write("site/Puppetfile", "mod 'puppetlabs-stdlib'\n");
    let selection = repo.select();
    assert_selected(&selection, &ALL);
    assert!(selection.everything());
    let explain = selection.explain();
    assert!(
        explain.contains(
            "Changed files the harness cannot attribute to a module (so every module is \
             selected):\n  site/Puppetfile (new, untracked)\n"
        ),
        "{explain}"
    );
    assert!(
        explain.contains(
            "  motd (sample-modules/motd): a change the harness cannot attribute selects \
             every module: site/Puppetfile\n"
        ),
        "{explain}"
    );
}

#[test]
fn documentation_outside_the_modules_selects_nothing() {
    let repo = Repo::new();
    repo.append("README.md", "More words.\n");
    let selection = repo.select();
    assert_selected(&selection, &[]);
    assert!(!selection.everything());
    assert!(
        selection
            .explain()
            .contains("  README.md: documentation outside any module or platform\n"),
        "{}",
        selection.explain()
    );
}

#[test]
fn a_deleted_module_drops_out_and_its_files_select_everything() {
    let repo = Repo::new();
    repo.git(&["rm", "-r", "--quiet", "sample-modules/heartbeat"]);
    let selection = repo.select();
    assert_selected(
        &selection,
        &["accounts", "confkit", "motd", "ntpsettings", "roles"],
    );
    assert!(selection.everything());
    assert!(selection
        .unattributed
        .iter()
        .all(|f| f.path.starts_with("sample-modules/heartbeat") && f.change == Change::Deleted));
}

#[test]
fn nothing_changed_selects_nothing() {
    let repo = Repo::new();
    let selection = repo.select();
    assert!(selection.is_empty());
    assert_eq!(selection.changed, 0);
    assert!(
        selection
            .explain()
            .contains("Selected none of the 6 modules: nothing to test.\n"),
        "{}",
        selection.explain()
    );
}

// ---- Reading the changes from git ----

fn changed(repo: &Repo, rev: &str) -> Vec<ChangedFile> {
    select::changed_files(&repo.root, rev).unwrap().files
}

fn file(path: &str, change: Change) -> ChangedFile {
    ChangedFile {
        path: path.into(),
        change,
    }
}

#[test]
fn staged_unstaged_untracked_deleted_and_renamed_files_are_all_changes() {
    let repo = Repo::new();
    repo.append("sample-modules/motd/manifests/init.pp", "# unstaged\n");
    repo.append("sample-modules/accounts/manifests/init.pp", "# staged\n");
    repo.git(&["add", "sample-modules/accounts/manifests/init.pp"]);
    repo.write("sample-modules/roles/files/new.sh", "#!/bin/sh\n");
    repo.write("sample-modules/roles/debug.log", "ignored\n");
    std::fs::remove_file(repo.path("sample-modules/heartbeat/files/heartbeat-check.sh")).unwrap();
    repo.git(&[
        "mv",
        "sample-modules/confkit/types/value.pp",
        "sample-modules/confkit/types/setting_value.pp",
    ]);
    assert_eq!(
        changed(&repo, "main"),
        [
            file(
                "sample-modules/accounts/manifests/init.pp",
                Change::Modified
            ),
            file(
                "sample-modules/confkit/types/setting_value.pp",
                Change::RenamedFrom("sample-modules/confkit/types/value.pp".into())
            ),
            file(
                "sample-modules/confkit/types/value.pp",
                Change::RenamedTo("sample-modules/confkit/types/setting_value.pp".into())
            ),
            file(
                "sample-modules/heartbeat/files/heartbeat-check.sh",
                Change::Deleted
            ),
            file("sample-modules/motd/manifests/init.pp", Change::Modified),
            file("sample-modules/roles/files/new.sh", Change::Untracked),
        ]
    );
    assert_selected(
        &repo.select(),
        &[
            "accounts",
            "confkit",
            "heartbeat",
            "motd",
            "ntpsettings",
            "roles",
        ],
    );
    assert!(!repo.select().everything());
}

#[test]
fn committed_changes_count_from_any_revision() {
    let repo = Repo::new();
    repo.git(&["checkout", "--quiet", "-b", "work"]);
    repo.append("sample-modules/roles/manifests/init.pp", "# committed\n");
    repo.commit_all("work");
    repo.append("sample-modules/motd/manifests/init.pp", "# not committed\n");
    assert_selected(&repo.select(), &["motd", "roles"]);
    assert_selected(
        &repo.select_among("sample-modules", "HEAD~1"),
        &["motd", "roles"],
    );
    assert_selected(&repo.select_among("sample-modules", "HEAD"), &["motd"]);
    let sha = repo.git(&["rev-parse", "main"]);
    assert_selected(
        &repo.select_among("sample-modules", sha.trim()),
        &["motd", "roles"],
    );
}

#[test]
fn commits_that_reached_the_base_later_are_not_the_works_changes() {
    let repo = Repo::new();
    repo.git(&["checkout", "--quiet", "-b", "work"]);
    repo.append("sample-modules/motd/manifests/init.pp", "# the work\n");
    repo.commit_all("work");
    repo.git(&["checkout", "--quiet", "main"]);
    repo.append(
        "sample-modules/heartbeat/manifests/init.pp",
        "# landed since\n",
    );
    repo.commit_all("meanwhile on main");
    repo.git(&["checkout", "--quiet", "work"]);
    let changes = select::changed_files(&repo.root, "main").unwrap();
    assert_ne!(changes.base, changes.commit, "compared from the merge base");
    assert_selected(&repo.select(), &["motd"]);
}

#[test]
fn a_branch_missing_locally_is_found_on_origin() {
    // As in a Gerrit-triggered job: a detached checkout, `GERRIT_BRANCH=main`, and only
    // the remote-tracking branch `origin/main`.
    let upstream = Repo::new();
    let tmp = tempfile::tempdir().unwrap();
    let clone = tmp.path().canonicalize().unwrap().join("clone");
    git(
        tmp.path(),
        &["clone", "--quiet", upstream.root.to_str().unwrap(), "clone"],
    );
    git(&clone, &["checkout", "--quiet", "--detach"]);
    git(&clone, &["branch", "--quiet", "-D", "main"]);
    std::fs::write(
        clone.join("sample-modules/ntpsettings/manifests/init.pp"),
        "# patch set\n",
    )
    .unwrap();
    let base =
        select::gerrit_base(|name| (name == "GERRIT_BRANCH").then(|| "main".to_string())).unwrap();
    let changes = select::changed_files(&clone, &base).unwrap();
    assert_eq!(changes.resolved, "origin/main");
    assert_eq!(changes.root, clone);
    assert_eq!(
        changes.files,
        [file(
            "sample-modules/ntpsettings/manifests/init.pp",
            Change::Modified
        )]
    );
    assert!(changes
        .describe()
        .starts_with("`main` (as `origin/main`) at "));
}

#[test]
fn a_subdirectory_finds_the_repository_and_paths_are_from_its_root() {
    let repo = Repo::new();
    repo.append("sample-modules/motd/templates/motd.epp", "\n");
    let changes = select::changed_files(&repo.path("sample-modules/motd"), "main").unwrap();
    assert_eq!(changes.root, repo.root);
    assert_eq!(
        changes.files,
        [file(
            "sample-modules/motd/templates/motd.epp",
            Change::Modified
        )]
    );
}

#[test]
fn an_unknown_revision_is_a_clear_error() {
    let repo = Repo::new();
    let err = select::changed_files(&repo.root, "no-such-branch").unwrap_err();
    assert!(
        matches!(err, SelectError::UnknownRevision { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("unknown revision `no-such-branch` in ")
            && message.contains("(tried `no-such-branch`, `origin/no-such-branch`)")
            && message.contains("git fetch origin no-such-branch"),
        "{message}"
    );
    let err = select::changed_files(&repo.root, "HEAD~5").unwrap_err();
    assert!(err.to_string().contains("(tried `HEAD~5`)"), "{err}");
}

#[test]
fn outside_a_repository_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = select::changed_files(tmp.path(), "main").unwrap_err();
    assert!(matches!(err, SelectError::NotARepository { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("is not inside a git repository")
            && message.contains("leave --changed-since out to test every module"),
        "{message}"
    );
}

#[test]
fn a_repository_of_another_user_is_a_clear_error() {
    // Only where this runs as root (as CI does) and git's own config trusts no directory.
    let trusted = Command::new("git")
        .args(["config", "--global", "--get-all", "safe.directory"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(true);
    let repo = Repo::new();
    let chowned = Command::new("chown")
        .args(["-R", "nobody"])
        .arg(&repo.root)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if trusted || !chowned {
        eprintln!("skipped: needs root, and no safe.directory in the global git config");
        return;
    }
    let err = select::changed_files(&repo.root, "main").unwrap_err();
    assert!(matches!(err, SelectError::NotOwned { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("git config --global --add safe.directory"),
        "{err}"
    );
}
