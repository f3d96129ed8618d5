//! What a change does to each case's catalog, as data: the catalog compiled from the
//! target branch's code against the one compiled from the change's, resource by resource.
//! The gate computes it (`--diff-against`); the reporters and the review render it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CaseId;

/// One case's catalog at the base revision against the change's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogDiff {
    pub id: CaseId,
    /// Resources only the change's catalog has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<Declared>,
    /// Resources only the base's catalog has (where they were declared there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Declared>,
    /// Resources both have, whose parameters or declaration changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<Changed>,
    /// The base's catalog did not compile (its error's first line): everything the change
    /// compiles is new to it, and not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_error: Option<String>,
}

impl CatalogDiff {
    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.base_error.is_none()
    }

    /// `+2 -1 ~3`: resources added, removed, changed.
    pub fn counts(&self) -> String {
        format!(
            "+{} -{} ~{}",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )
    }
}

impl CatalogDiff {
    /// One line a difference, for people: `+ Service[motd] (…/service.pp:2)`, `- …`,
    /// `~ File[/etc/motd] (…/init.pp:4): mode: '0644' → '0600'`, a move as `moved from
    /// …`, a change the reviewer may not expect marked so.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(error) = &self.base_error {
            out.push(format!(
                "! the base's catalog does not compile, so nothing is compared: {error}"
            ));
        }
        out.extend(self.added.iter().map(|d| format!("+ {}", d.placed())));
        out.extend(self.removed.iter().map(|d| format!("- {}", d.placed())));
        for changed in &self.changed {
            let mut what: Vec<String> = Vec::new();
            if let Some(from) = &changed.moved_from {
                let at = match (&from.file, from.line) {
                    (Some(file), Some(line)) => format!("{file}:{line}"),
                    (Some(file), None) => file.clone(),
                    _ => "elsewhere".into(),
                };
                what.push(format!("moved from {at}"));
            }
            what.extend(changed.parameters.iter().map(ToString::to_string));
            let mark = if changed.unexpected {
                " [its file is not in the change]"
            } else {
                ""
            };
            out.push(format!(
                "~ {}: {}{mark}",
                changed.declared.placed(),
                what.join("; ")
            ));
        }
        out
    }
}

impl CatalogDiff {
    /// [`Self::lines`], at most `max` of them, then a line that counts the rest, saying
    /// `where_rest` has them: `… and 4 more in the build's report`.
    pub fn lines_cut(&self, max: usize, where_rest: &str) -> Vec<String> {
        let mut lines = self.lines();
        if lines.len() > max {
            let rest = lines.len() - max;
            lines.truncate(max);
            lines.push(format!("… and {rest} more {where_rest}"));
        }
        lines
    }
}

/// A resource and where it is declared (a path shown as the run shows paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// `File[/etc/motd]`.
    pub resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Declared {
    /// `File[/etc/motd] (modules/motd/manifests/init.pp:4)`.
    pub fn placed(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{} ({file}:{line})", self.resource),
            (Some(file), None) => format!("{} ({file})", self.resource),
            _ => self.resource.clone(),
        }
    }
}

/// A resource both catalogs have, and what differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    /// As the change declares it.
    #[serde(flatten)]
    pub declared: Declared,
    /// Where the base declared it, when in another file (a line that moved within a file
    /// is no move).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<Declared>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterChange>,
    /// Its parameters changed, and the change did not touch the repository's file that
    /// declares it: the reviewer may not expect this resource to change (its data, a
    /// default, or code elsewhere changed it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unexpected: bool,
}

/// A parameter's value at the base and in the change (`None`: not set there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParameterChange {
    pub name: String,
    #[serde(default)]
    pub old: Option<Value>,
    #[serde(default)]
    pub new: Option<Value>,
    /// A Sensitive parameter: it changed, and neither value is kept anywhere.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

impl std::fmt::Display for ParameterChange {
    /// `mode: '0644' → '0600'`, `notify: (unset) → Service[ntp]`, `password: changed
    /// (Sensitive: not shown)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.sensitive {
            return write!(f, "{}: changed (Sensitive: not shown)", self.name);
        }
        let show = |value: &Option<Value>| match value {
            None => "(unset)".to_string(),
            Some(Value::String(s)) => format!("'{s}'"),
            Some(other) => other.to_string(),
        };
        write!(
            f,
            "{}: {} → {}",
            self.name,
            show(&self.old),
            show(&self.new)
        )
    }
}
