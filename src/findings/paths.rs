//! Where the reports' paths are in the change's repository: a spec file, a module's file,
//! and the lines of a spec (a case's key, its inline `manifest`, the `prepare` code), read
//! from the spec's text since reports carry only the check lines.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::Place;
use crate::outcome::{CaseReport, PuppetError};

/// Maps the report's paths to the repository's.
pub(super) struct Paths {
    base: PathBuf,
    /// The repository's root, as given or found, and its canonical form.
    roots: Vec<PathBuf>,
    specs: HashMap<PathBuf, SpecFile>,
}

impl Paths {
    pub(super) fn new<'a>(
        base: &Path,
        repo_root: Option<&Path>,
        mut cases: impl Iterator<Item = &'a CaseReport>,
    ) -> Paths {
        let base = base.to_path_buf();
        let root = match repo_root {
            Some(root) => Some(absolute(&base, root)),
            None => cases.find_map(|c| find_repo_root(&absolute(&base, &c.spec_file))),
        };
        let mut roots = Vec::new();
        if let Some(root) = root {
            if let Ok(canonical) = root.canonicalize() {
                if canonical != root {
                    roots.push(canonical);
                }
            }
            roots.insert(0, root);
        }
        Paths {
            base,
            roots,
            specs: HashMap::new(),
        }
    }

    /// A path of the report (relative to the run's directory, or absolute) as a path in
    /// the repository, `/`-separated; `None` when it is outside.
    pub(super) fn in_repo(&self, path: &Path) -> Option<String> {
        let abs = absolute(&self.base, path);
        let canonical = abs.canonicalize().ok();
        for root in &self.roots {
            for candidate in std::iter::once(&abs).chain(canonical.as_ref()) {
                if let Ok(rel) = candidate.strip_prefix(root) {
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    if !parts.is_empty() {
                        return Some(parts.join("/"));
                    }
                }
            }
        }
        None
    }

    pub(super) fn spec(&mut self, file: &Path) -> SpecFile {
        let abs = absolute(&self.base, file);
        if let Some(spec) = self.specs.get(&abs) {
            return spec.clone();
        }
        let spec = SpecFile {
            repo_path: self.in_repo(file),
            text: std::fs::read_to_string(&abs).ok(),
        };
        self.specs.insert(abs, spec.clone());
        spec
    }

    /// Where a located Puppet error goes, and how a summary shows its place.
    pub(super) fn place_of(
        &self,
        error: &PuppetError,
        spec: &SpecFile,
        case: &str,
    ) -> (Place, String) {
        let case_dir = crate::layout::CASE_DIR;
        // The case's inline manifest and the spec's prepare code run from the case's
        // directory in the container: their lines are in the spec.
        if let Some(name) = error
            .file
            .strip_prefix(case_dir)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            let line = match name {
                crate::layout::SITE_PP => spec.code_line(spec.manifest_key(case), error.line),
                crate::layout::PREPARE_PP => spec.code_line(spec.top_key("prepare"), error.line),
                _ => None,
            }
            .or_else(|| spec.case_line(case));
            let place = spec.place(line);
            let shown = match &place {
                Place::Line { path, line } => format!("{path}:{line}"),
                Place::Patchset => format!("{}:{}", error.file, error.line),
            };
            return (place, shown);
        }
        match self.in_repo(Path::new(&error.file)) {
            Some(path) => (
                Place::Line {
                    path: path.clone(),
                    line: error.line,
                },
                format!("{path}:{}", error.line),
            ),
            // A module outside the repository (a fixture from elsewhere): the case that
            // used it is the change's.
            None => (
                spec.place(spec.case_line(case)),
                format!("{}:{}", error.file, error.line),
            ),
        }
    }
}

/// `path` made absolute against `base`, with `.` and `..` taken out.
pub(super) fn absolute(base: &Path, path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The nearest directory above `file` with a `.git` (a directory, or a file in a
/// worktree or submodule).
pub(super) fn find_repo_root(file: &Path) -> Option<PathBuf> {
    let start = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    start
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// A spec file: its path in the repository and its text, to find lines in.
#[derive(Debug, Clone)]
pub(super) struct SpecFile {
    pub(super) repo_path: Option<String>,
    pub(super) text: Option<String>,
}

impl SpecFile {
    /// A line of this file, or the patch set when the file is not in the repository.
    pub(super) fn place(&self, line: Option<u32>) -> Place {
        match &self.repo_path {
            Some(path) => Place::Line {
                path: path.clone(),
                line: line.unwrap_or(1).max(1),
            },
            None => Place::Patchset,
        }
    }

    fn lines(&self) -> Vec<&str> {
        self.text
            .as_deref()
            .map(|t| t.lines().collect())
            .unwrap_or_default()
    }

    /// The line (1-based) of a top-level key, `prepare:`.
    pub(super) fn top_key(&self, key: &str) -> Option<u32> {
        self.lines()
            .iter()
            .position(|l| key_of(l).is_some_and(|(indent, k)| indent == 0 && k == key))
            .map(|i| i as u32 + 1)
    }

    /// The line of the case's key under `cases:`, or of `cases:` itself when the case
    /// cannot be found in it (flow style, say).
    pub(super) fn case_line(&self, case: &str) -> Option<u32> {
        let lines = self.lines();
        let start = self.top_key("cases")? as usize; // the line after `cases:`, 0-based
        let mut indent = None;
        for (i, line) in lines.iter().enumerate().skip(start) {
            let Some((this, key)) = key_of(line) else {
                continue;
            };
            if this == 0 {
                break;
            }
            let level = *indent.get_or_insert(this);
            if this == level && key == case {
                return Some(i as u32 + 1);
            }
        }
        Some(start as u32)
    }

    /// The line of `manifest:` in the case's block.
    pub(super) fn manifest_key(&self, case: &str) -> Option<u32> {
        let lines = self.lines();
        let case_line = self.case_line(case)? as usize;
        let (case_indent, _) = key_of(lines.get(case_line - 1)?)?;
        for (i, line) in lines.iter().enumerate().skip(case_line) {
            let Some((indent, key)) = key_of(line) else {
                continue;
            };
            if indent <= case_indent {
                break;
            }
            if key == "manifest" {
                return Some(i as u32 + 1);
            }
        }
        None
    }

    /// The spec's line of line `n` of the code under `key_line`: in a `|` block the code
    /// starts on the next line, line for line; otherwise it is on the key's line.
    pub(super) fn code_line(&self, key_line: Option<u32>, n: u32) -> Option<u32> {
        let key_line = key_line?;
        let lines = self.lines();
        let text = lines.get(key_line as usize - 1)?;
        let value = text.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
        let value = value.split(" #").next().unwrap_or("").trim();
        if value.starts_with('|') {
            let line = key_line + n;
            (line as usize <= lines.len()).then_some(line)
        } else {
            Some(key_line)
        }
    }
}

/// A block-mapping line's indentation and key (unquoted), or `None` for blank lines,
/// comments, list items and anything else.
pub(super) fn key_of(line: &str) -> Option<(usize, String)> {
    let trimmed = line.trim_start_matches(' ');
    let indent = line.len() - trimmed.len();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
        return None;
    }
    let key = if let Some(rest) = trimmed.strip_prefix('"') {
        let end = rest.find("\":")?;
        rest[..end].replace("\\\"", "\"").replace("\\\\", "\\")
    } else if let Some(rest) = trimmed.strip_prefix('\'') {
        // `''` is a quote inside single quotes.
        let mut key = String::new();
        let mut chars = rest.chars().peekable();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    key.push('\'');
                }
                '\'' => break,
                c => key.push(c),
            }
        }
        if chars.next() != Some(':') {
            return None;
        }
        key
    } else {
        let end = trimmed
            .find(": ")
            .or_else(|| trimmed.strip_suffix(':').map(|k| k.len()))?;
        trimmed[..end].trim_end().to_string()
    };
    Some((indent, key))
}
