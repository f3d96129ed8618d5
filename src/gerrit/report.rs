//! The run a review is about: read from the JSON report (`--json`), or taken from the
//! runner's own case reports when the review is posted right after a run.
//!
//! The cases are the runner's own [`CaseReport`]s, read back from the file (the outcome
//! types read what they write), with the status the run gave each: a mirror of its own
//! would be one more copy of the layout to keep in step with the writer.

use std::path::Path;

use serde::Deserialize;

use super::GerritError;
pub use crate::outcome::{CaseId, Status};
use crate::outcome::{CaseReport, GateReport};

/// Why a file is not a JSON report this rehearsal reads.
#[derive(Debug, thiserror::Error)]
pub enum NotAReport {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("it has no `version`")]
    NoVersion,
    #[error("its layout is version {0}, newer than this rehearsal reads ({FORMAT_VERSION})")]
    Newer(u32),
}

/// The newest layout of the JSON report this code reads.
const FORMAT_VERSION: u32 = 1;

/// The facts of a run that a review needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Report {
    #[serde(default)]
    pub cases: Vec<Case>,
    /// What the gate found before the cases, when it ran.
    #[serde(default)]
    pub gate: Option<GateReport>,
}

/// One case of the run, as the JSON report lists it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Case {
    /// As the run judged it (a case the run stopped before is `skipped`).
    pub status: Status,
    #[serde(flatten)]
    pub report: CaseReport,
}

impl Report {
    /// Reads a JSON report rehearsal wrote.
    pub fn read(path: &Path) -> Result<Report, GerritError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            GerritError::Report(format!("cannot read the report {}: {err}", path.display()))
        })?;
        Report::from_json(&text).map_err(|why| {
            GerritError::Report(format!(
                "{} is not a report rehearsal wrote with --json: {why}",
                path.display()
            ))
        })
    }

    /// Parses a JSON report; the error says why it is not one.
    pub fn from_json(text: &str) -> Result<Report, NotAReport> {
        #[derive(Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        let version: Version = serde_json::from_str(text)?;
        match version.version {
            None => return Err(NotAReport::NoVersion),
            Some(v) if v > FORMAT_VERSION => return Err(NotAReport::Newer(v)),
            Some(_) => {}
        }
        Ok(serde_json::from_str(text)?)
    }

    /// The runner's case reports, as the JSON report would tell them (texts cleaned of
    /// terminal codes).
    pub fn from_case_reports(cases: &[CaseReport], gate: Option<GateReport>) -> Report {
        Report {
            gate,
            cases: cases
                .iter()
                .map(|c| Case {
                    status: c.status(),
                    report: c.cleaned(),
                })
                .collect(),
        }
    }

    /// Whether the run deserves the passing vote: every case passed (a case skipped
    /// because the run stopped does not count as passed). A run with no case passes, as
    /// its exit status says.
    pub fn all_passed(&self) -> bool {
        self.cases.iter().all(|c| c.status == Status::Passed)
            && self
                .gate
                .as_ref()
                .is_none_or(|g| g.failing().next().is_none())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn case_report(module: &str, case: &str, passed: bool) -> CaseReport {
        use crate::outcome::{CaseId, CheckFailure, CheckReport, Status, Step, StepReport};
        let status = if passed {
            Status::Passed
        } else {
            Status::Failed
        };
        CaseReport {
            id: CaseId {
                module: module.into(),
                case: case.into(),
                platform: "debian12".into(),
            },
            spec_file: PathBuf::from(format!("modules/{module}/rehearsal.yaml")),
            started_at: chrono::DateTime::UNIX_EPOCH,
            duration: std::time::Duration::from_secs(3),
            steps: vec![StepReport {
                step: Step::Apply,
                status: Status::Passed,
                duration: std::time::Duration::from_secs(2),
                message: None,
                errors: vec![],
                output: "\u{1b}[0;32mNotice: Applied catalog\u{1b}[0m\n".into(),
                slowest: vec![],
                without_driver: false,
                applied: Vec::new(),
            }],
            checks: vec![CheckReport {
                label: "file /etc/motd".into(),
                status,
                failures: if passed {
                    vec![]
                } else {
                    vec![CheckFailure::mismatch("mode", "0644", "0600")]
                },
                line: Some(7),
            }],
            kept_container: None,
            removal: std::time::Duration::ZERO,
            fixtures: Vec::new(),
            attempts: Vec::new(),
        }
    }

    #[test]
    fn reads_what_the_json_reporter_writes_and_memory_tells_the_same() {
        use crate::outcome::{Event, EventKind};
        use crate::report::{JsonReporter, Reporter};
        let cases = vec![
            case_report("zed", "a", true),
            case_report("motd", "b", false),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let mut reporter = JsonReporter::new(path.clone());
        for case in &cases {
            let finished = EventKind::CaseFinished(Box::new(case.clone()));
            reporter.event(&Event::at_start(finished)).unwrap();
        }
        reporter.finish().unwrap();

        let read = Report::read(&path).unwrap();
        assert_eq!(read.cases.len(), 2);
        assert!(!read.all_passed());
        assert_eq!(read.cases[0].report.checks[0].line, Some(7));
        assert_eq!(read.cases[0].status, Status::Failed);

        // The JSON file sorts by module; memory keeps the runner's order.
        let mut from_memory = Report::from_case_reports(&cases, None);
        from_memory.cases.reverse();
        assert_eq!(from_memory, read);
    }

    #[test]
    fn a_foreign_or_newer_file_is_refused_with_the_reason() {
        assert!(Report::from_json("{\"cases\": []}")
            .unwrap_err()
            .to_string()
            .contains("no `version`"));
        assert!(Report::from_json("{\"version\": 2, \"cases\": []}")
            .unwrap_err()
            .to_string()
            .contains("version 2, newer"));
        assert!(Report::from_json("<testsuites/>").is_err());
        let err = Report::read(Path::new("/nonexistent/run.json")).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err
            .to_string()
            .contains("cannot read the report /nonexistent/run.json"));
    }

    #[test]
    fn an_empty_run_passes_and_a_skipped_case_does_not() {
        let empty = Report::from_json("{\"version\": 1, \"cases\": []}").unwrap();
        assert!(empty.all_passed());
        let skipped = Report::from_json(
            r#"{"version": 1, "cases": [{"status": "skipped",
                "id": {"module": "m", "case": "c", "platform": "p"},
                "spec_file": "m/rehearsal.yaml", "steps": [], "checks": []}]}"#,
        )
        .unwrap();
        assert!(!skipped.all_passed());
    }
}
