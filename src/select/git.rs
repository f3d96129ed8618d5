//! Reading what changed: the files that differ between a revision and the working tree,
//! through libgit2 (the `git2` crate). Nothing here knows about modules.

use std::fmt;
use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, ErrorCode, Oid, Repository};

/// Why the changed files could not be read. Each message says what is wrong and what to
/// do about it.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error(
        "{} is not inside a git repository ({detail}): --changed-since needs the modules' \
         git checkout; run from inside it, or leave --changed-since out to test every module",
        dir.display()
    )]
    NotARepository { dir: PathBuf, detail: String },
    #[error(
        "git refuses to read the repository holding {} ({detail}): it belongs to another \
         user; if you trust it, run `git config --global --add safe.directory <its root>`",
        dir.display()
    )]
    NotOwned { dir: PathBuf, detail: String },
    #[error(
        "{} is a bare git repository: --changed-since compares a revision with a working \
         tree; run it in a checkout",
        dir.display()
    )]
    BareRepository { dir: PathBuf },
    #[error(
        "unknown revision `{rev}` in {} (tried {}): give a branch, tag or commit that \
         exists there (`git rev-parse --verify {rev}` must succeed); in a CI checkout, \
         fetch it first, e.g. `git fetch origin {rev}`",
        root.display(),
        tried.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    )]
    UnknownRevision {
        rev: String,
        root: PathBuf,
        tried: Vec<String>,
    },
    #[error("`{rev}` in {} is not a commit ({detail}): give a branch, tag or commit", root.display())]
    NotACommit {
        rev: String,
        root: PathBuf,
        detail: String,
    },
    #[error("cannot read the changes in {} since `{rev}`: {detail}", root.display())]
    Git {
        rev: String,
        root: PathBuf,
        detail: String,
    },
}

/// How a file differs from the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New in the index or in a commit since the base.
    Added,
    /// Not in git at all (and not ignored).
    Untracked,
    Modified,
    /// Became (or stopped being) a symlink, or a submodule.
    TypeChanged,
    Deleted,
    /// This is the new name of a renamed file; the old one was `from`.
    RenamedFrom(PathBuf),
    /// This is the old name of a renamed file; the new one is `to`.
    RenamedTo(PathBuf),
}

impl fmt::Display for Change {
    /// The parenthesised note after a path in explanations (empty for a plain change).
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Change::Added => f.write_str(" (new)"),
            Change::Untracked => f.write_str(" (new, untracked)"),
            Change::Modified => Ok(()),
            Change::TypeChanged => f.write_str(" (type changed)"),
            Change::Deleted => f.write_str(" (deleted)"),
            Change::RenamedFrom(from) => write!(f, " (renamed from {})", from.display()),
            Change::RenamedTo(to) => write!(f, " (renamed to {})", to.display()),
        }
    }
}

/// One changed path, relative to the repository's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: PathBuf,
    pub change: Change,
}

/// The files that differ between a revision and the working tree.
#[derive(Debug, Clone, Default)]
pub struct ChangedFiles {
    /// The repository's working tree root, absolute and canonical.
    pub root: PathBuf,
    /// The revision as it was asked for.
    pub rev: String,
    /// The name that resolved it: `rev` itself, or `<remote>/<rev>` for a branch that
    /// exists only as a remote-tracking branch.
    pub resolved: String,
    /// The commit `resolved` names (full hex).
    pub commit: String,
    /// The commit compared with the working tree (full hex): the merge base of `commit`
    /// and HEAD, or `commit` itself when there is none (unrelated or shallow history).
    pub base: String,
    /// Sorted by path; a rename gives two entries, one for each name.
    pub files: Vec<ChangedFile>,
}

impl ChangedFiles {
    /// What was compared, for messages: ``origin/main (merge base 1a2b3c4d5e6f)``.
    pub fn describe(&self) -> String {
        let short = |sha: &str| sha.chars().take(12).collect::<String>();
        let mut out = format!("`{}`", self.rev);
        if self.resolved != self.rev {
            out.push_str(&format!(" (as `{}`)", self.resolved));
        }
        if !self.base.is_empty() && self.base != self.commit {
            out.push_str(&format!(
                ", from its merge base with HEAD {}",
                short(&self.base)
            ));
        } else if !self.commit.is_empty() {
            out.push_str(&format!(" at {}", short(&self.commit)));
        }
        out
    }
}

/// The files that differ between `rev` and the working tree of the git repository that
/// holds `repo_dir`: committed since, staged, unstaged, deleted, renamed (both names) and
/// untracked files that are not ignored. Paths are relative to the repository's root.
///
/// `rev` is anything git understands (`main`, `origin/main`, a sha, `HEAD~1`, a tag); a
/// bare branch name missing locally is also looked up as `origin/<name>` (then as
/// `<remote>/<name>` for the other remotes), as in a CI checkout where only the
/// remote-tracking branch exists. The comparison starts from the merge base of `rev` and
/// HEAD, like `git diff rev...`: commits that reached `rev` after the work was branched
/// off are not the work's changes. Without a merge base (unrelated or shallow
/// history) it starts from `rev` itself, which can only add files.
pub fn changed_files(repo_dir: &Path, rev: &str) -> Result<ChangedFiles, SelectError> {
    let repo = Repository::discover(repo_dir).map_err(|err| match err.code() {
        ErrorCode::Owner => SelectError::NotOwned {
            dir: repo_dir.to_path_buf(),
            detail: err.message().to_string(),
        },
        _ => SelectError::NotARepository {
            dir: repo_dir.to_path_buf(),
            detail: err.message().to_string(),
        },
    })?;
    let Some(workdir) = repo.workdir() else {
        return Err(SelectError::BareRepository {
            dir: repo.path().to_path_buf(),
        });
    };
    let root = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let git_err = |err: git2::Error| SelectError::Git {
        rev: rev.to_string(),
        root: root.clone(),
        detail: err.message().to_string(),
    };

    let (resolved, object) = resolve(&repo, rev, &root)?;
    let commit = object
        .peel_to_commit()
        .map_err(|err| SelectError::NotACommit {
            rev: rev.to_string(),
            root: root.clone(),
            detail: err.message().to_string(),
        })?;
    let head: Option<Oid> = repo
        .head()
        .ok()
        .and_then(|head| head.peel_to_commit().ok())
        .map(|c| c.id());
    let base_id = head
        .and_then(|head| repo.merge_base(commit.id(), head).ok())
        .unwrap_or(commit.id());
    let base_tree = repo
        .find_commit(base_id)
        .and_then(|c| c.tree())
        .map_err(git_err)?;

    let mut options = DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .include_ignored(false)
        .include_typechange(true);
    let mut diff = repo
        .diff_tree_to_workdir_with_index(Some(&base_tree), Some(&mut options))
        .map_err(git_err)?;
    diff.find_similar(Some(
        DiffFindOptions::new()
            .renames(true)
            .renames_from_rewrites(true)
            .for_untracked(true),
    ))
    .map_err(git_err)?;

    let mut files = Vec::new();
    for delta in diff.deltas() {
        let old = delta.old_file().path().map(Path::to_path_buf);
        let new = delta.new_file().path().map(Path::to_path_buf);
        let path = || new.clone().or_else(|| old.clone());
        let mut push = |path: Option<PathBuf>, change: Change| {
            if let Some(path) = path {
                files.push(ChangedFile { path, change });
            }
        };
        match delta.status() {
            Delta::Unmodified | Delta::Ignored => {}
            Delta::Added => push(path(), Change::Added),
            Delta::Untracked => push(path(), Change::Untracked),
            Delta::Deleted => push(old.clone(), Change::Deleted),
            Delta::Typechange => push(path(), Change::TypeChanged),
            Delta::Renamed => {
                if let (Some(from), Some(to)) = (old.clone(), new.clone()) {
                    push(Some(to.clone()), Change::RenamedFrom(from.clone()));
                    push(Some(from), Change::RenamedTo(to));
                }
            }
            // A copy leaves its source as it was: only the new file changed.
            Delta::Copied => push(new.clone(), Change::Added),
            // Modified, and the odd ones (unreadable, conflicted): count them as changed.
            _ => push(path(), Change::Modified),
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);

    Ok(ChangedFiles {
        root,
        rev: rev.to_string(),
        resolved,
        commit: commit.id().to_string(),
        base: base_id.to_string(),
        files,
    })
}

/// Resolves `rev`, then (for a plain name) `<remote>/<rev>`, origin first.
fn resolve<'r>(
    repo: &'r Repository,
    rev: &str,
    root: &Path,
) -> Result<(String, git2::Object<'r>), SelectError> {
    let mut tried = vec![rev.to_string()];
    let first = match repo.revparse_single(rev) {
        Ok(object) => return Ok((rev.to_string(), object)),
        Err(err) => err,
    };
    if !matches!(first.code(), ErrorCode::NotFound | ErrorCode::InvalidSpec) {
        return Err(SelectError::Git {
            rev: rev.to_string(),
            root: root.to_path_buf(),
            detail: first.message().to_string(),
        });
    }
    let plain_name =
        !rev.is_empty() && !rev.contains(['~', '^', ':', '@', ' ']) && !rev.starts_with('-');
    if plain_name {
        let mut remotes: Vec<String> = repo
            .remotes()
            .map(|names| {
                names
                    .iter()
                    .flatten()
                    .flatten()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        remotes.sort_by_key(|name| name != "origin");
        if remotes.is_empty() {
            remotes.push("origin".to_string());
        }
        for remote in remotes {
            let candidate = format!("{remote}/{rev}");
            if let Ok(object) = repo.revparse_single(&format!("refs/remotes/{candidate}")) {
                return Ok((candidate, object));
            }
            tried.push(candidate);
        }
    }
    Err(SelectError::UnknownRevision {
        rev: rev.to_string(),
        root: root.to_path_buf(),
        tried,
    })
}

/// The base revision a Gerrit-triggered job compares with, from the trigger's variables
/// (`env` looks one up, e.g. `|name| std::env::var(name).ok()`): `GERRIT_OLDREV` for a
/// `ref-updated` event (the ref's previous commit), else `GERRIT_BRANCH` (the change's
/// target branch; [`changed_files`] also finds it as `origin/<branch>`). `None` outside
/// such a job.
pub fn gerrit_base(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if set("GERRIT_EVENT_TYPE").as_deref() == Some("ref-updated") {
        if let Some(old) = set("GERRIT_OLDREV").filter(|rev| rev.chars().any(|c| c != '0')) {
            return Some(old);
        }
    }
    set("GERRIT_BRANCH")
}

/// Writes the files of `commit` (full hex) of the repository at `root` into `into`, as
/// they are laid out in it: the base a change is compared with, beside the working tree.
/// Neither HEAD, the index nor the working tree is touched.
pub fn export_tree(root: &Path, commit: &str, into: &Path) -> Result<(), SelectError> {
    let git_err = |err: git2::Error| SelectError::Git {
        rev: commit.to_string(),
        root: root.to_path_buf(),
        detail: err.message().to_string(),
    };
    let repo = Repository::open(root).map_err(git_err)?;
    let oid = Oid::from_str(commit).map_err(git_err)?;
    let tree = repo
        .find_commit(oid)
        .and_then(|c| c.tree())
        .map_err(git_err)?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout
        .target_dir(into)
        .update_index(false)
        .force()
        .recreate_missing(true);
    repo.checkout_tree(tree.as_object(), Some(&mut checkout))
        .map_err(git_err)
}
