//! What the gate found before any case started: each finding of the validation (a
//! manifest's or template's syntax, metadata.json, Hiera's YAML, puppet-lint) at its file,
//! line and column, and how each platform's gate went. A case whose catalog does not
//! compile is no finding here: it is that case's report, failed at its `compile` step.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The gate of a run: every finding, and each platform's part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// In file order (by module, file, line), each once, with the platforms it was seen on.
    pub findings: Vec<GateFinding>,
    /// The modules whose files were checked, in name order.
    #[serde(default)]
    pub modules: Vec<String>,
    pub platforms: Vec<GatePlatform>,
    /// From the run's start to the last platform's end.
    #[serde(with = "super::seconds")]
    pub duration: Duration,
    /// With `--diff-against`: what the catalogs were compared with (`origin/main, from its
    /// merge base with HEAD 1a2b3c4d5e6f`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_against: Option<String>,
    /// With `--diff-against`: each compiled case's catalog against the base's, those that
    /// differ, by module, platform and case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<super::diff::CatalogDiff>,
    /// The resources the checked modules' manifests declare, for acceptance coverage
    /// ([`super::coverage`]), in module, file and line order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declarations: Vec<super::coverage::Declaration>,
}

impl GateReport {
    /// The findings that fail the gate.
    pub fn failing(&self) -> impl Iterator<Item = &GateFinding> {
        self.findings.iter().filter(|f| f.fails)
    }
}

/// What was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// A `.pp` file: Puppet's parser and validator.
    Manifest,
    /// An EPP template: Puppet's EPP parser.
    Epp,
    /// An ERB template, compiled as Ruby.
    Erb,
    /// The module's metadata.json.
    Metadata,
    /// A Hiera config or data file: YAML (and Hiera 5's shape for a config).
    Hiera,
    /// A puppet-lint problem.
    Lint,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Manifest => "manifest",
            FileKind::Epp => "epp",
            FileKind::Erb => "erb",
            FileKind::Metadata => "metadata",
            FileKind::Hiera => "hiera",
            FileKind::Lint => "lint",
        }
    }
}

/// Whether a finding is an error or a warning, as its tool says (puppet-lint's `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One thing found wrong in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateFinding {
    /// The module whose file it is.
    pub module: String,
    pub kind: FileKind,
    pub severity: Severity,
    /// Whether it fails the gate (and the run): every error; a lint warning only when the
    /// run's lint level says so.
    pub fails: bool,
    /// The file on the host, relative to the run's directory when under it.
    pub file: String,
    /// The file relative to its module's directory: `manifests/init.pp`.
    pub in_module: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// puppet-lint's check (`140chars`, `arrow_alignment`), for lint findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    pub message: String,
    /// The platforms it was seen on (a manifest's syntax is checked by each platform's
    /// Puppet; lint and the host's checks name none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

impl GateFinding {
    /// What was checked: `manifest`, `lint arrow_alignment`.
    pub fn what(&self) -> String {
        match &self.check {
            Some(check) => format!("{} {check}", self.kind.name()),
            None => self.kind.name().to_string(),
        }
    }

    /// `modules/motd/manifests/init.pp:5:3`, as far as it is known.
    pub fn place(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", self.file),
            (Some(line), None) => format!("{}:{line}", self.file),
            _ => self.file.clone(),
        }
    }
}

/// One platform's gate: how long it took, how many cases it compiled, and why it could not
/// run when it could not (the cases then run as without a gate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatePlatform {
    pub platform: String,
    #[serde(with = "super::seconds")]
    pub duration: Duration,
    pub files: usize,
    pub compiled: usize,
    pub compile_failed: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where its time went, in seconds, in the order they ran: `start` (its container),
    /// `load` (Puppet), `validate`, `compile` (every case, groups side by side), `facts`
    /// (of that, resolving each spec's facts, summed), `lint` (waiting for puppet-lint,
    /// which ran beside the rest).
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub phases: indexmap::IndexMap<String, f64>,
}
