//! Jenkins Warnings NG's native JSON issues file (`--warnings-ng FILE`), for
//! `recordIssues(tool: issues(pattern: FILE))`: lint trends, quality gates and new versus
//! reference counts, from the gate's findings and the catalogs that do not compile.
//!
//! ```json
//! { "_class": "io.jenkins.plugins.analysis.core.restapi.ReportApi",
//!   "issues": [ { "fileName": "modules/motd/manifests/init.pp", "lineStart": 5,
//!                 "columnStart": 3, "severity": "ERROR", "message": "Syntax error at '}'",
//!                 "type": "manifest", "category": "validate", "moduleName": "motd",
//!                 "origin": "rehearsal", "description": "on debian12, debian13" } ],
//!   "size": 1 }
//! ```
//!
//! Severities: what fails the run is `ERROR`; a puppet-lint error that the run's level lets
//! pass is `HIGH`; a lint warning `NORMAL`. Each finding is one issue (the platforms it was
//! seen on in its `description`); a compile failure is one issue a place and message, its
//! cases and platforms in its description. Warnings NG tells issues apart by file, line,
//! type and message, so the same finding keeps its identity from build to build.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use serde::Serialize;

use super::write::write_atomically;
use super::Reporter;
use crate::outcome::{CaseReport, Event, EventKind, GateReport, Severity, Status, Step};

/// A compile error's file, line, column, message and module.
type CompilePlace = (String, u32, Option<u32>, String, String);

/// Collects the gate's findings and the compile failures; writes the file at the end.
pub struct WarningsNgReporter {
    path: PathBuf,
    gate: Option<GateReport>,
    compile_failed: Vec<CaseReport>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Issue {
    file_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_start: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column_start: Option<u32>,
    severity: &'static str,
    message: String,
    #[serde(rename = "type")]
    kind: String,
    category: String,
    module_name: String,
    origin: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
}

#[derive(Serialize)]
struct Document {
    #[serde(rename = "_class")]
    class: &'static str,
    issues: Vec<Issue>,
    size: usize,
}

impl WarningsNgReporter {
    pub fn new(path: PathBuf) -> Self {
        WarningsNgReporter {
            path,
            gate: None,
            compile_failed: Vec::new(),
        }
    }

    fn to_json(&self) -> String {
        let mut issues = Vec::new();
        for finding in self.gate.iter().flat_map(|g| g.findings.iter()) {
            let severity = match (finding.fails, finding.severity) {
                (true, _) => "ERROR",
                (false, Severity::Error) => "HIGH",
                (false, Severity::Warning) => "NORMAL",
            };
            issues.push(Issue {
                file_name: finding.file.clone(),
                line_start: finding.line,
                column_start: finding.column,
                severity,
                message: finding.message.clone(),
                kind: finding
                    .check
                    .clone()
                    .unwrap_or_else(|| finding.kind.name().to_string()),
                category: if finding.check.is_some() {
                    "lint".into()
                } else {
                    "validate".into()
                },
                module_name: finding.module.clone(),
                origin: "rehearsal",
                description: if finding.platforms.is_empty() {
                    String::new()
                } else {
                    format!("on {}", finding.platforms.join(", "))
                },
            });
        }
        // One issue a place and message, naming its cases and platforms.
        let mut compiles: BTreeMap<CompilePlace, Vec<String>> = BTreeMap::new();
        for case in &self.compile_failed {
            for step in case.steps.iter().filter(|s| s.step == Step::Compile) {
                for error in &step.errors {
                    compiles
                        .entry((
                            error.file.clone(),
                            error.line,
                            error.column,
                            error.message.clone(),
                            case.id.module.clone(),
                        ))
                        .or_default()
                        .push(format!("{} on {}", case.id.case, case.id.platform));
                }
            }
        }
        for ((file, line, column, message, module), cases) in compiles {
            issues.push(Issue {
                file_name: file,
                line_start: Some(line),
                column_start: column,
                severity: "ERROR",
                message: message
                    .strip_prefix("Error: ")
                    .unwrap_or(&message)
                    .to_string(),
                kind: "compile".into(),
                category: "compile".into(),
                module_name: module,
                origin: "rehearsal",
                description: format!("the catalog does not compile: {}", cases.join(", ")),
            });
        }
        let size = issues.len();
        let document = Document {
            class: "io.jenkins.plugins.analysis.core.restapi.ReportApi",
            issues,
            size,
        };
        let mut json = serde_json::to_string_pretty(&document).expect("JSON of strings");
        json.push('\n');
        json
    }
}

impl Reporter for WarningsNgReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::Gate(gate) => self.gate = Some((**gate).clone()),
            EventKind::CaseFinished(case)
                if case.status() == Status::Failed
                    && case.steps.iter().any(|s| s.step == Step::Compile) =>
            {
                self.compile_failed.push(case.cleaned())
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        write_atomically(&self.path, self.to_json().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    fn write(events: &[Event]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reports/issues.json");
        fixtures::written(WarningsNgReporter::new(path.clone()), &path, events)
    }

    #[test]
    fn the_gates_findings_and_the_compile_failures_as_issues() {
        insta::assert_snapshot!(write(&fixtures::run_with_gate()));
    }

    #[test]
    fn a_run_without_a_gate_has_no_issues() {
        let json: serde_json::Value = serde_json::from_str(&write(&fixtures::run())).unwrap();
        assert_eq!(json["issues"], serde_json::json!([]));
        assert_eq!(json["size"], 0);
    }
}
