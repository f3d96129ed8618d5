//! The run a review is about: read from the JSON report (`--json`), or taken from the
//! runner's own case reports when the review is posted right after a run.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::GerritError;
pub use crate::outcome::{CaseId, Status};

/// The newest layout of the JSON report this code reads.
const FORMAT_VERSION: u32 = 1;

/// The facts of a run that a review needs.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Report {
    #[serde(default)]
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Case {
    pub status: Status,
    pub id: CaseId,
    /// As the run was given it: relative to its working directory, or absolute.
    pub spec_file: PathBuf,
    #[serde(default)]
    pub steps: Vec<StepResult>,
    #[serde(default)]
    pub checks: Vec<CheckResult>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct StepResult {
    /// `start`, `prepare`, `apply`, `idempotent`, `verify`.
    pub step: String,
    pub status: Status,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub output: String,
}

impl StepResult {
    /// `apply failed`, `start errored`.
    pub fn what_happened(&self) -> String {
        format!("{} {}", self.step, self.status.verb())
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CheckResult {
    /// `file /etc/motd`.
    pub label: String,
    pub status: Status,
    #[serde(default)]
    pub failures: Vec<String>,
    /// The check's line in the spec file (1-based), when the run knew it.
    #[serde(default)]
    pub line: Option<u32>,
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
    pub fn from_json(text: &str) -> Result<Report, String> {
        #[derive(Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        let version: Version = serde_json::from_str(text).map_err(|err| err.to_string())?;
        match version.version {
            None => return Err("it has no `version`".to_string()),
            Some(v) if v > FORMAT_VERSION => {
                return Err(format!(
                    "its layout is version {v}, newer than this rehearsal reads ({FORMAT_VERSION})"
                ))
            }
            Some(_) => {}
        }
        serde_json::from_str(text).map_err(|err| err.to_string())
    }

    /// The runner's case reports, as the JSON report would tell them (texts cleaned of
    /// terminal codes).
    pub fn from_case_reports(cases: &[crate::outcome::CaseReport]) -> Report {
        use crate::text::sanitize::clean;
        Report {
            cases: cases
                .iter()
                .map(|c| Case {
                    status: c.status(),
                    id: c.id.clone(),
                    spec_file: c.spec_file.clone(),
                    steps: c
                        .steps
                        .iter()
                        .map(|s| StepResult {
                            step: s.step.name().to_string(),
                            status: s.status,
                            message: s.message.as_deref().map(clean),
                            output: clean(&s.output),
                        })
                        .collect(),
                    checks: c
                        .checks
                        .iter()
                        .map(|k| CheckResult {
                            label: k.label.clone(),
                            status: k.status,
                            failures: k.failures.iter().map(|f| clean(f)).collect(),
                            line: k.line.and_then(|l| u32::try_from(l).ok()),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Whether the run deserves the passing vote: every case passed (a case skipped
    /// because the run stopped does not count as passed). A run with no case passes, as
    /// its exit status says.
    pub fn all_passed(&self) -> bool {
        self.cases.iter().all(|c| c.status == Status::Passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_report(module: &str, case: &str, passed: bool) -> crate::outcome::CaseReport {
        use crate::outcome::{CaseId, CaseReport, CheckReport, Status, Step, StepReport};
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
                output: "\u{1b}[0;32mNotice: Applied catalog\u{1b}[0m\n".into(),
            }],
            checks: vec![CheckReport {
                label: "file /etc/motd".into(),
                status,
                failures: if passed {
                    vec![]
                } else {
                    vec!["mode: expected 0644, got 0600".into()]
                },
                line: Some(7),
            }],
            kept_container: None,
            removal: std::time::Duration::ZERO,
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
        assert_eq!(read.cases[0].checks[0].line, Some(7));
        assert_eq!(read.cases[0].status, Status::Failed);

        // The JSON file sorts by module; memory keeps the runner's order.
        let mut from_memory = Report::from_case_reports(&cases);
        from_memory.cases.reverse();
        assert_eq!(from_memory, read);
    }

    #[test]
    fn a_foreign_or_newer_file_is_refused_with_the_reason() {
        assert!(Report::from_json("{\"cases\": []}")
            .unwrap_err()
            .contains("no `version`"));
        assert!(Report::from_json("{\"version\": 2, \"cases\": []}")
            .unwrap_err()
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
