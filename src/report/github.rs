//! GitHub annotations: `::error file=…,line=…::message` lines, so the failures of a run in
//! GitHub Actions show inline on the pull request. Where a failure belongs (a failed
//! check at its line in rehearsal.yaml, a Puppet error at the manifest line) is decided
//! once, in [`findings`](crate::findings), which Gerrit's inline comments come from too;
//! this reporter prints the same findings with the same texts.

use std::io::Write;
use std::path::PathBuf;

use super::Reporter;
use crate::findings::{self, Place};
use crate::outcome::{CaseReport, Event, EventKind, Status};

/// At most this many annotations a run (GitHub shows no more than 50 a job).
const MAX_ANNOTATIONS: usize = 50;
/// A message is cut at this many bytes, as a Gerrit comment is.
const MAX_MESSAGE: usize = 4_000;

/// Prints the annotations when the run is over.
pub struct GithubAnnotations {
    out: Box<dyn Write + Send>,
    base_dir: PathBuf,
    cases: Vec<CaseReport>,
    gate: Option<crate::outcome::GateReport>,
}

impl GithubAnnotations {
    /// Paths in the run are relative to `base_dir` (the working directory).
    pub fn new(out: Box<dyn Write + Send>, base_dir: PathBuf) -> Self {
        GithubAnnotations {
            out,
            base_dir,
            cases: Vec::new(),
            gate: None,
        }
    }
}

impl Reporter for GithubAnnotations {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match &event.kind {
            EventKind::CaseFinished(case) => self.cases.push((**case).clone()),
            EventKind::Gate(gate) => self.gate = Some((**gate).clone()),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let gate_clean = self.gate.as_ref().is_none_or(|g| g.findings.is_empty());
        if gate_clean && self.cases.iter().all(|c| c.status() == Status::Passed) {
            return Ok(());
        }
        let cases: Vec<CaseReport> = self.cases.iter().map(CaseReport::cleaned).collect();
        let found = findings::of_run(
            cases.iter().map(|c| (c.status(), c)),
            self.gate.as_ref(),
            &self.base_dir,
            None,
        );
        for finding in found.findings.iter().take(MAX_ANNOTATIONS) {
            // A warning of the gate's (lint) is a warning annotation.
            let level = if finding.what.ends_with("(a warning)") {
                "warning"
            } else {
                "error"
            };
            let place = match &finding.place {
                Place::Line { path, line } => format!(" file={},line={line}", property(path)),
                Place::Patchset => String::new(),
            };
            let mut message = finding.message();
            findings::cut(&mut message, MAX_MESSAGE);
            writeln!(self.out, "::{level}{place}::{}", data(&message))?;
        }
        self.out.flush()
    }
}

/// A workflow command's message: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.trim_end()
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,` escaped.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::outcome::{CheckFailure, PuppetError, Step};

    /// What the reporter printed, kept for the test.
    #[derive(Clone, Default)]
    struct Printed(Arc<Mutex<Vec<u8>>>);

    impl Write for Printed {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The annotations are the run's findings: a failed check at its line in the spec, a
    /// Puppet error at the file and line of its fields, the same error on two platforms
    /// once.
    #[test]
    fn annotations_are_the_findings_at_their_places() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::create_dir_all(dir.path().join("modules/motd")).unwrap();
        std::fs::write(
            dir.path().join("modules/motd/rehearsal.yaml"),
            "cases:\n  custom:\n    manifest: include motd\n",
        )
        .unwrap();
        let mut checked = crate::report::fixtures::failed_check();
        checked.checks[0].line = Some(12);
        checked.checks[0].failures = vec![CheckFailure::mismatch("mode", "0644", "0600")];
        let mut broken = crate::report::fixtures::failed_check();
        broken.checks.clear();
        let apply = broken
            .steps
            .iter_mut()
            .find(|s| s.step == Step::Apply)
            .unwrap();
        apply.status = Status::Failed;
        apply.message = Some("puppet apply failed (exit 1)".into());
        apply.errors = vec![PuppetError {
            file: "modules/motd/manifests/init.pp".into(),
            line: 5,
            column: Some(3),
            message: "Error: Syntax error at '}'".into(),
        }];
        let mut other_platform = broken.clone();
        other_platform.id.platform = "debian12".into();

        let printed = Printed::default();
        let mut reporter = GithubAnnotations::new(Box::new(printed.clone()), dir.path().into());
        for case in [checked, broken, other_platform] {
            reporter
                .event(&crate::report::fixtures::event(EventKind::CaseFinished(
                    Box::new(case),
                )))
                .unwrap();
        }
        reporter.finish().unwrap();
        let out = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            out,
            "::error file=modules/motd/manifests/init.pp,line=5::apply failed \
             (motd › custom on debian12, rocky9):%0A    Error: Syntax error at '}'\n\
             ::error file=modules/motd/rehearsal.yaml,line=12::check file /etc/motd failed \
             (motd › custom on rocky9):%0A    mode: expected 0644, got 0600\n"
        );
    }

    /// The gate's findings are annotations too: an error at its line, a lint warning as a
    /// warning, even when every case passed.
    #[test]
    fn the_gates_findings_are_annotated_errors_and_warnings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        let printed = Printed::default();
        let mut reporter = GithubAnnotations::new(Box::new(printed.clone()), dir.path().into());
        let event = crate::report::fixtures::event(EventKind::Gate(Box::new(
            crate::report::fixtures::gate_report(),
        )));
        reporter.event(&event).unwrap();
        reporter.finish().unwrap();
        let out = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            out,
            "::error file=modules/motd/manifests/init.pp,line=5::validate: manifest \
             (motd › validate on debian12, debian13):%0A    Syntax error at '}'\n\
             ::warning file=modules/motd/manifests/init.pp,line=9::validate: lint \
             double_quoted_strings (a warning) (motd › validate):%0A    double quoted string \
             containing no variables\n\
             ::error file=modules/web/metadata.json,line=3::validate: metadata (web › validate):\
             %0A    `version` is `1.2`: it must be a semantic version (like 1.2.0)\n"
        );
    }

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a,b:c.pp"), "a%2Cb%3Ac.pp");
    }
}
