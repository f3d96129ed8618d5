//! Spec errors as people read them: `file:line:column: what is wrong (hint: what to do)`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

/// A problem with a spec file, located in it where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub file: PathBuf,
    /// 1-based line and column; `None` when the problem is the whole file.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                self.file.display(),
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for SpecError {}

impl SpecError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> SpecError {
        SpecError {
            file: file.to_path_buf(),
            position: None,
            message: message.into(),
        }
    }

    /// From serde_yaml's error: its position, its message without the position suffix,
    /// and a "did you mean" hint for unknown names.
    pub fn from_yaml(file: &Path, err: &serde_yaml::Error) -> SpecError {
        static SUFFIX: OnceLock<Regex> = OnceLock::new();
        let suffix = SUFFIX.get_or_init(|| Regex::new(r" at line \d+ column \d+$").unwrap());
        let text = err.to_string();
        let mut message = suffix.replace(&text, "").into_owned();
        // serde_yaml names the root `.`; nobody writes that.
        if let Some(rest) = message.strip_prefix(".: ") {
            message = rest.to_string();
        }
        message = message.replace("unknown variant", "unknown kind");
        if let Some(hint) = did_you_mean(&message) {
            message = format!("{message} (hint: did you mean `{hint}`?)");
        }
        SpecError {
            file: file.to_path_buf(),
            position: err.location().map(|loc| (loc.line(), loc.column())),
            message,
        }
    }
}

/// For "unknown field `x`, expected one of `a`, `b`": the closest of the expected names.
fn did_you_mean(message: &str) -> Option<String> {
    static UNKNOWN: OnceLock<Regex> = OnceLock::new();
    static NAME: OnceLock<Regex> = OnceLock::new();
    let unknown = UNKNOWN.get_or_init(|| {
        Regex::new(r"unknown (?:field|kind) `([^`]*)`, expected (?:one of )?(.*)").unwrap()
    });
    let name = NAME.get_or_init(|| Regex::new(r"`([^`]+)`").unwrap());
    let caps = unknown.captures(message)?;
    let given = caps.get(1)?.as_str();
    name.captures_iter(caps.get(2)?.as_str())
        .map(|c| c[1].to_string())
        .map(|candidate| (strsim::damerau_levenshtein(given, &candidate), candidate))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Where `key:` first stands in the source, for errors found after parsing.
pub fn locate_key(source: &str, key: &str) -> Option<(usize, usize)> {
    let candidates = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    source.lines().enumerate().find_map(|(index, line)| {
        let trimmed = line.trim_start();
        candidates
            .iter()
            .any(|c| trimmed.starts_with(c.as_str()))
            .then(|| (index + 1, line.len() - trimmed.len() + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        let msg = "unknown field `platfroms`, expected one of `platforms`, `fixtures`, `hiera`";
        assert_eq!(did_you_mean(msg).as_deref(), Some("platforms"));
        let msg = "cases.x.expect[0]: unknown kind `fiel`, expected one of `file`, `package`";
        assert_eq!(did_you_mean(msg).as_deref(), Some("file"));
    }

    #[test]
    fn no_suggestion_when_nothing_is_close() {
        let msg = "unknown field `zzzzzz`, expected one of `platforms`, `fixtures`";
        assert_eq!(did_you_mean(msg), None);
    }

    #[test]
    fn locates_keys_plain_and_quoted() {
        let src = "cases:\n  default:\n    manifest: x\n  \"with space\":\n    expect: []\n";
        assert_eq!(locate_key(src, "default"), Some((2, 3)));
        assert_eq!(locate_key(src, "with space"), Some((4, 3)));
        assert_eq!(locate_key(src, "absent"), None);
    }
}
