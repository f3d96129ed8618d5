//! Git fixtures against local repositories made here (paths and `file://` URLs): tags,
//! branches, commits and subdirs, what is reused offline, and the errors.

use std::path::Path;
use std::process::Command;

use super::*;

fn sh(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository `origin.git` with: a first commit tagged v1 (init.pp says one), on
/// `main`; a branch `dev` one commit further (init.pp says two); a subdir module.
struct Origin {
    dir: tempfile::TempDir,
    v1: String,
    dev: String,
}

impl Origin {
    fn new() -> Origin {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("work");
        std::fs::create_dir_all(work.join("manifests")).unwrap();
        std::fs::create_dir_all(work.join("modules/inner/manifests")).unwrap();
        sh(dir.path(), &["init", "-q", "-b", "main", "work"]);
        std::fs::write(work.join("manifests/init.pp"), "one\n").unwrap();
        std::fs::write(work.join("modules/inner/manifests/init.pp"), "inner\n").unwrap();
        sh(&work, &["add", "-A"]);
        sh(&work, &["commit", "-q", "-m", "one"]);
        sh(&work, &["tag", "v1"]);
        let v1 = sh(&work, &["rev-parse", "HEAD"]);
        sh(&work, &["checkout", "-q", "-b", "dev"]);
        std::fs::write(work.join("manifests/init.pp"), "two\n").unwrap();
        sh(&work, &["commit", "-q", "-am", "two"]);
        let dev = sh(&work, &["rev-parse", "HEAD"]);
        sh(&work, &["checkout", "-q", "main"]);
        sh(dir.path(), &["clone", "-q", "--bare", "work", "origin.git"]);
        Origin { dir, v1, dev }
    }

    fn url(&self) -> String {
        self.dir.path().join("origin.git").display().to_string()
    }

    /// A new commit on `dev` in the origin.
    fn advance_dev(&self) -> String {
        let work = self.dir.path().join("work");
        sh(&work, &["checkout", "-q", "dev"]);
        std::fs::write(work.join("manifests/init.pp"), "three\n").unwrap();
        sh(&work, &["commit", "-q", "-am", "three"]);
        sh(&work, &["push", "-q", "../origin.git", "dev"]);
        sh(&work, &["rev-parse", "HEAD"])
    }
}

fn source(url: &str, want: GitWant) -> GitSource {
    GitSource {
        url: url.to_string(),
        want,
        subdir: None,
    }
}

fn init_pp(checkout: &Checkout) -> String {
    std::fs::read_to_string(checkout.path.join("manifests/init.pp")).unwrap()
}

#[test]
fn a_tag_a_commit_a_branch_and_the_default_branch_check_out_their_commit() {
    let origin = Origin::new();
    let cache = tempfile::tempdir().unwrap();
    let git = Git::new(cache.path().to_path_buf(), false);
    let tag = git
        .checkout(&source(&origin.url(), GitWant::Fixed("v1".into())))
        .unwrap();
    assert_eq!(
        (tag.commit.as_str(), init_pp(&tag).as_str()),
        (origin.v1.as_str(), "one\n")
    );
    let commit = git
        .checkout(&source(
            &origin.url(),
            GitWant::Fixed(origin.dev[..10].into()),
        ))
        .unwrap();
    assert_eq!(commit.commit, origin.dev);
    let branch = git
        .checkout(&source(&origin.url(), GitWant::Branch("dev".into())))
        .unwrap();
    assert_eq!(
        (branch.commit.as_str(), init_pp(&branch).as_str()),
        (origin.dev.as_str(), "two\n")
    );
    let default = git
        .checkout(&source(&origin.url(), GitWant::DefaultBranch))
        .unwrap();
    assert_eq!(default.commit, origin.v1);
    // Named by its commit: the same revision is one directory.
    assert_eq!(tag.path, default.path);
    assert!(tag.path.starts_with(cache.path().join("checkouts")));
    let file_url = format!("file://{}", origin.url());
    let by_url = git
        .checkout(&source(&file_url, GitWant::Fixed("v1".into())))
        .unwrap();
    assert_eq!(by_url.path, tag.path);
}

#[test]
fn a_subdir_is_the_module_and_a_missing_one_is_named() {
    let origin = Origin::new();
    let cache = tempfile::tempdir().unwrap();
    let git = Git::new(cache.path().to_path_buf(), false);
    let mut inner = source(&origin.url(), GitWant::Fixed("v1".into()));
    inner.subdir = Some("modules/inner".into());
    let done = git.checkout(&inner).unwrap();
    assert_eq!(
        std::fs::read_to_string(done.path.join("manifests/init.pp")).unwrap(),
        "inner\n"
    );
    inner.subdir = Some("modules/nowhere".into());
    let err = git.checkout(&inner).unwrap_err();
    assert_eq!(
        err,
        format!("{} has no directory `modules/nowhere` at v1", origin.url())
    );
}

#[test]
fn a_tag_is_reused_from_the_cache_while_a_branch_is_fetched_again_unless_offline() {
    let origin = Origin::new();
    let cache = tempfile::tempdir().unwrap();
    let first = Git::new(cache.path().to_path_buf(), false);
    first
        .checkout(&source(&origin.url(), GitWant::Fixed("v1".into())))
        .unwrap();
    first
        .checkout(&source(&origin.url(), GitWant::Branch("dev".into())))
        .unwrap();
    let newer = origin.advance_dev();
    // Offline: the branch stays where the cache has it.
    let offline = Git::new(cache.path().to_path_buf(), true);
    let stale = offline
        .checkout(&source(&origin.url(), GitWant::Branch("dev".into())))
        .unwrap();
    assert_eq!(stale.commit, origin.dev);
    // The next run fetches the branch again.
    let next = Git::new(cache.path().to_path_buf(), false);
    let fresh = next
        .checkout(&source(&origin.url(), GitWant::Branch("dev".into())))
        .unwrap();
    assert_eq!(
        (fresh.commit.as_str(), init_pp(&fresh).as_str()),
        (newer.as_str(), "three\n")
    );
    // With the origin gone, a tag still comes from the cache, without asking the remote.
    std::fs::remove_dir_all(origin.dir.path().join("origin.git")).unwrap();
    let later = Git::new(cache.path().to_path_buf(), false);
    let tag = later
        .checkout(&source(&origin.url(), GitWant::Fixed("v1".into())))
        .unwrap();
    assert_eq!(tag.commit, origin.v1);
    let err = later
        .checkout(&source(&origin.url(), GitWant::Branch("dev".into())))
        .unwrap_err();
    assert!(
        err.starts_with(&format!("cannot fetch {}: ", origin.url())),
        "{err}"
    );
}

#[test]
fn a_ref_that_does_not_exist_and_a_repository_not_cached_offline_say_so() {
    let origin = Origin::new();
    let cache = tempfile::tempdir().unwrap();
    let git = Git::new(cache.path().to_path_buf(), false);
    let err = git
        .checkout(&source(&origin.url(), GitWant::Fixed("v9".into())))
        .unwrap_err();
    assert_eq!(
        err,
        format!(
            "{} has no tag, branch or commit `v9`: check the fixture's `ref`",
            origin.url()
        )
    );
    let err = git
        .checkout(&source(&origin.url(), GitWant::Branch("nope".into())))
        .unwrap_err();
    assert_eq!(err, format!("{} has no branch `nope`", origin.url()));
    let offline = Git::new(tempfile::tempdir().unwrap().path().to_path_buf(), true);
    let err = offline
        .checkout(&source(&origin.url(), GitWant::Fixed("v1".into())))
        .unwrap_err();
    assert!(err.contains("--offline forbids fetching it"), "{err}");
}

#[test]
fn an_unreachable_repository_is_named_without_its_credentials() {
    let cache = tempfile::tempdir().unwrap();
    let git = Git::new(cache.path().to_path_buf(), false);
    // Port 9 (discard) on loopback: refused at once, nothing leaves the machine.
    let url = "https://builder:s3cret-token@127.0.0.1:9/team/mod.git";
    let err = git
        .checkout(&source(url, GitWant::Fixed("v1".into())))
        .unwrap_err();
    assert!(
        err.starts_with("cannot fetch https://***@127.0.0.1:9/team/mod.git: "),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!cache.path().join("mirrors").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".clone-")));
}

#[test]
fn credentials_are_left_out_of_any_text() {
    assert_eq!(
        redact("fatal: unable to access 'https://u:p@git.example.com/x.git/': 403"),
        "fatal: unable to access 'https://***@git.example.com/x.git/': 403"
    );
    assert_eq!(redact("ssh://git@host/x.git"), "ssh://***@host/x.git");
    assert_eq!(redact("/srv/git/x.git"), "/srv/git/x.git");
}
