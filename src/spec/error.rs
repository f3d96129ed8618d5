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
                one_line(&self.message)
            ),
            None => write!(f, "{}: {}", self.file.display(), one_line(&self.message)),
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
        SpecError::from_yaml_in(file, "", err)
    }

    /// As [`SpecError::from_yaml`]; `source` is the text that was read, for hints that
    /// depend on what stands at the error (a tab, say).
    pub fn from_yaml_in(file: &Path, source: &str, err: &serde_yaml::Error) -> SpecError {
        static POSITION: OnceLock<Regex> = OnceLock::new();
        static STRUCT: OnceLock<Regex> = OnceLock::new();
        let position = POSITION.get_or_init(|| Regex::new(r" at line \d+ column \d+").unwrap());
        let text = err.to_string();
        let mut message = position.replace_all(&text, "").into_owned();
        // serde_yaml names the root `.`; nobody writes that.
        if let Some(rest) = message.strip_prefix(".: ") {
            message = rest.to_string();
        }
        message = message.replace("unknown variant", "unknown kind");
        // Serde's names for the parts of a spec are Rust's: a reader sees a map.
        let strukt = STRUCT.get_or_init(|| Regex::new(r"expected struct \w+").unwrap());
        message = strukt.replace_all(&message, "expected a map").into_owned();
        message = message.replace("invalid type: unit value", "invalid type: null");
        message = shorten_quoted(&message);
        let position = err
            .location()
            .map(|loc| within(source, (loc.line(), loc.column())));
        if let Some(hint) = did_you_mean(&message) {
            message = format!("{message} (hint: did you mean `{hint}`?)");
        } else if let Some(hint) = syntax_hint(&message, source, position) {
            message = format!("{message} ({hint})");
        }
        SpecError {
            file: file.to_path_buf(),
            position,
            message,
        }
    }
}

/// `position` moved inside `source` when it lies past it: at the end of a text without a
/// final line end, libyaml places "end of stream" on the line after the last. (An empty
/// `source` is one not known: the position is kept.)
pub(crate) fn within(source: &str, (line, column): (usize, usize)) -> (usize, usize) {
    if source.is_empty() {
        return (line, column);
    }
    let lines: Vec<&str> = source.split('\n').collect();
    let line = line.clamp(1, lines.len());
    let width = lines[line - 1].chars().count();
    (line, column.clamp(1, width + 1))
}

/// The message on one line, control characters escaped: a spec's text quoted in an
/// error must not break the line or drive the terminal.
fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.chars().any(char::is_control) {
        return message.into();
    }
    message
        .chars()
        .map(|c| match c {
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

/// Serde quotes a wrongly typed string whole (a goss file of one long line, say): keep
/// its start.
fn shorten_quoted(message: &str) -> String {
    const KEEP: usize = 60;
    static QUOTED: OnceLock<Regex> = OnceLock::new();
    let quoted = QUOTED.get_or_init(|| Regex::new(r#""((?:[^"\\]|\\.)*)""#).unwrap());
    quoted
        .replace_all(message, |caps: &regex::Captures| {
            let inner = &caps[1];
            match inner.char_indices().nth(KEEP) {
                Some((cut, _)) => format!("\"{}…\"", &inner[..cut]),
                None => caps[0].to_string(),
            }
        })
        .into_owned()
}

/// A hint for serde_yaml's syntax and limit errors, which name the parser's trouble,
/// not the writer's.
fn syntax_hint(message: &str, source: &str, position: Option<(usize, usize)>) -> Option<String> {
    let at = position.and_then(|(line, column)| {
        source
            .lines()
            .nth(line.checked_sub(1)?)?
            .chars()
            .nth(column.checked_sub(1)?)
    });
    let hint = if message.starts_with("found character that cannot start any token")
        && at == Some('\t')
        || message.contains("found a tab character")
    {
        "hint: YAML is indented with spaces, never tabs"
    } else if message.starts_with("mapping values are not allowed in this context")
        || message.starts_with("did not find expected key")
        || message.starts_with("did not find expected '-' indicator")
        || message.starts_with("while parsing a block mapping")
    {
        "hint: check this line's indentation against the lines above it"
    } else if message.contains("invalid type") && message.ends_with("expected a sequence") {
        "hint: a list: one entry a line, each starting with `- `, or `[a, b]`"
    } else if message.contains("while parsing a flow") {
        "hint: a `[` or `{` opened earlier is not closed, or its entries lack a `,`"
    } else if message.contains("while scanning a quoted scalar") {
        "hint: a quote opened earlier is never closed"
    } else if message.starts_with("recursion limit exceeded") {
        return Some(
            "hint: maps and lists nest more than 128 deep here; no spec needs that".to_string(),
        );
    } else if message.starts_with("repetition limit exceeded") {
        "hint: aliases (`*name`) repeat too much here; write the values out, or use fewer aliases"
    } else if message.contains("more than one document") {
        "hint: remove the `---` line and what follows it"
    } else {
        return None;
    };
    Some(hint.to_string())
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
