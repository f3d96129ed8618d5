//! Git fixtures: each repository mirrored once into a cache on the host, each revision
//! checked out into a directory named by its commit (and subdir), which the cases mount
//! read-only. A tag or a commit already in the mirror is used without asking the remote
//! (offline); a branch or the default branch is fetched again on each run, unless
//! offline. The `git` command does the work, so a company's Git over SSH or HTTPS works
//! as it does for the user's own `git`: their configuration (`insteadOf`, proxies), keys,
//! agent and credential helpers. It never prompts (`GIT_TERMINAL_PROMPT=0`, no stdin),
//! and no address is shown with its credentials.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::spec::{GitSource, GitWant};

/// A checked-out revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub path: PathBuf,
    /// The full commit id.
    pub commit: String,
}

/// The mirrors and checkouts under one cache directory.
pub struct Git {
    root: PathBuf,
    offline: bool,
    /// Mirrors fetched (or cloned) by this run: fetched once however many fixtures use them.
    fresh: Mutex<HashSet<PathBuf>>,
}

impl Git {
    pub fn new(root: PathBuf, offline: bool) -> Git {
        Git {
            root,
            offline,
            fresh: Mutex::new(HashSet::new()),
        }
    }

    /// The directory of `source` at its revision, fetched and checked out as needed.
    pub fn checkout(&self, source: &GitSource) -> Result<Checkout, String> {
        let mirror = self.mirror(&source.url)?;
        let commit = self.resolve(&mirror, source)?;
        let name = match &source.subdir {
            None => commit.clone(),
            Some(subdir) => format!("{commit}-{}", &hex(subdir.as_bytes())[..12]),
        };
        let path = self.root.join("checkouts").join(name);
        if !path.is_dir() {
            let treeish = match &source.subdir {
                None => commit.clone(),
                Some(subdir) => {
                    let treeish = format!("{commit}:{}", subdir.trim_matches('/'));
                    if git(&mirror, &["cat-file", "-e", &treeish]).is_err() {
                        return Err(format!(
                            "{} has no directory `{subdir}` at {}",
                            redact(&source.url),
                            source.want
                        ));
                    }
                    treeish
                }
            };
            self.unpack(&mirror, &treeish, &path).map_err(|err| {
                format!(
                    "cannot check out {} at {commit}: {err}",
                    redact(&source.url)
                )
            })?;
        }
        Ok(Checkout { path, commit })
    }

    /// The mirror of `url`, cloned when there is none yet.
    fn mirror(&self, url: &str) -> Result<PathBuf, String> {
        let mirrors = self.root.join("mirrors");
        let path = mirrors.join(format!("{}.git", &hex(url.as_bytes())[..16]));
        if path.join("HEAD").is_file() {
            return Ok(path);
        }
        if self.offline {
            return Err(format!(
                "{} is not in the cache ({}), and --offline forbids fetching it: run once without --offline",
                redact(url),
                mirrors.display()
            ));
        }
        std::fs::create_dir_all(&mirrors)
            .map_err(|err| format!("cannot create {}: {err}", mirrors.display()))?;
        let tmp = mirrors.join(format!(".clone-{}", uuid::Uuid::new_v4().simple()));
        let cloned = run(Command::new("git")
            .args(["clone", "--mirror", "--quiet", "--"])
            .arg(url)
            .arg(&tmp));
        if let Err(err) = cloned {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(format!("cannot fetch {}: {}", redact(url), redact(&err)));
        }
        // Another run may have cloned it meanwhile: either copy is the same mirror.
        if std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        self.fresh.lock().unwrap().insert(path.clone());
        Ok(path)
    }

    /// The commit `source` names, fetching the mirror when its revision can move (or is
    /// not there yet).
    fn resolve(&self, mirror: &Path, source: &GitSource) -> Result<String, String> {
        let url = redact(&source.url);
        let lookup = |rev: &str| commit_of(mirror, rev);
        match &source.want {
            GitWant::Fixed(rev) => {
                if let Some(commit) = lookup(rev).filter(|c| pinned(mirror, rev, c)) {
                    return Ok(commit);
                }
                // A new tag, a commit the mirror has not seen, or a branch named as a ref.
                self.fetch(mirror, &url)?;
                lookup(rev).ok_or_else(|| {
                    format!("{url} has no tag, branch or commit `{rev}`: check the fixture's `ref`")
                })
            }
            GitWant::Branch(branch) => {
                self.fetch(mirror, &url)?;
                lookup(&format!("refs/heads/{branch}"))
                    .ok_or_else(|| format!("{url} has no branch `{branch}`"))
            }
            GitWant::DefaultBranch => {
                self.fetch(mirror, &url)?;
                lookup("HEAD").ok_or_else(|| format!("{url} has no default branch (is it empty?)"))
            }
        }
    }

    /// Fetches the mirror, once a run; offline, the mirror stays as it is.
    fn fetch(&self, mirror: &Path, url: &str) -> Result<(), String> {
        if self.offline || !self.fresh.lock().unwrap().insert(mirror.to_path_buf()) {
            return Ok(());
        }
        // Two runs on one agent share the cache: git's own ref locks would fail the
        // second fetch ("cannot lock ref"), so one fetch of a mirror at a time.
        let lock = std::fs::File::create(mirror.join("rehearsal-fetch.lock"))
            .and_then(|file| file.lock().map(|()| file))
            .map_err(|err| {
                format!(
                    "cannot lock the mirror of {url} ({}): {err}",
                    mirror.display()
                )
            })?;
        let fetched = git(mirror, &["fetch", "--prune", "--quiet", "origin"]);
        drop(lock);
        fetched.map(drop).map_err(|err| {
            self.fresh.lock().unwrap().remove(mirror);
            format!("cannot fetch {url}: {}", redact(&err))
        })
    }

    /// `git archive` of `treeish` unpacked into `target`, through a temporary directory
    /// beside it (a checkout is complete or absent).
    fn unpack(&self, mirror: &Path, treeish: &str, target: &Path) -> Result<(), String> {
        let parent = target.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        let tmp = tempfile::Builder::new()
            .prefix(".checkout-")
            .tempdir_in(parent)
            .map_err(|e| e.to_string())?;
        let mut child = Command::new("git")
            .arg("-C")
            .arg(mirror)
            .args(["archive", "--format=tar", treeish])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("GIT_TERMINAL_PROMPT", "0")
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        let unpacked = tar::Archive::new(stdout).unpack(tmp.path());
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        unpacked.map_err(|e| e.to_string())?;
        let kept = tmp.keep();
        if std::fs::rename(&kept, target).is_err() {
            // Checked out by another run meanwhile: the same commit, the same files.
            let _ = std::fs::remove_dir_all(&kept);
        }
        Ok(())
    }
}

/// Whether `rev` (which names `commit`) cannot move: a tag, or the commit's own id.
fn pinned(mirror: &Path, rev: &str, commit: &str) -> bool {
    let is_id = rev.len() >= 7
        && rev.chars().all(|c| c.is_ascii_hexdigit())
        && commit.starts_with(&rev.to_ascii_lowercase());
    is_id || commit_of(mirror, &format!("refs/tags/{rev}")).is_some()
}

/// The commit `rev` names in the mirror.
fn commit_of(mirror: &Path, rev: &str) -> Option<String> {
    git(
        mirror,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()
    .map(|out| out.trim().to_string())
    .filter(|c| !c.is_empty())
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    run(Command::new("git").arg("-C").arg(dir).args(args))
}

/// Runs a git command without a prompt: its stdout, or its stderr's words.
fn run(command: &mut Command) -> Result<String, String> {
    let output = command
        .stdin(Stdio::null())
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => {
                "git is not installed: fixtures from git repositories need it".to_string()
            }
            _ => format!("cannot run git: {err}"),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
        Err(if said.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            said
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `text` with every URL's credentials (`user:secret@`, a token `x@`) left out.
pub fn redact(text: &str) -> String {
    static CREDENTIALS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    CREDENTIALS
        .get_or_init(|| {
            regex::Regex::new(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@").unwrap()
        })
        .replace_all(text, "${scheme}***@")
        .into_owned()
}

#[cfg(test)]
mod tests;
