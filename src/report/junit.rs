//! The JUnit XML file Jenkins reads.
//!
//! One `<testsuite>` per (module, platform), named `<module> on <platform>`, and in it one
//! `<testcase>` per step that ran and one per check, named `<case> › <step or check>`, with
//! `classname="<platform>.<module>"` so that Jenkins shows the platform as the package and
//! the module as the class. The `verify` step gets a test case of its own only when it did
//! not pass: when it passes, its checks say everything. Puppet's output goes in the step's
//! `<system-out>`; a failure's first line is its `message`, the whole of it its text. A
//! retried case's earlier attempts are reruns of its test cases: `<flakyFailure>` where it
//! passed in the end, `<rerunFailure>` where it never did.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use quick_junit::{
    NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite, XmlString,
};

use super::sorted_by_module_platform_case;
use super::write::write_atomically;
use super::Reporter;
use crate::outcome::{
    CaseReport, CheckReport, Event, EventKind, GateFinding, GateReport, Status, Step, StepReport,
};
use crate::text::sanitize::clean;

/// Collects the finished cases and writes them as JUnit XML when the run is over.
pub struct JunitReporter {
    path: PathBuf,
    run_started: Option<DateTime<Utc>>,
    run_duration: Option<Duration>,
    engine: Option<crate::outcome::engine::EngineInfo>,
    cases: Vec<CaseReport>,
    gate: Option<GateReport>,
}

impl JunitReporter {
    /// A reporter that writes to `path` (its directories are created when needed).
    pub fn new(path: PathBuf) -> Self {
        JunitReporter {
            path,
            run_started: None,
            engine: None,
            run_duration: None,
            cases: Vec::new(),
            gate: None,
        }
    }

    /// The whole document. A run without cases gives an empty `<testsuites>`, which Jenkins
    /// accepts with `allowEmptyResults: true`.
    fn to_xml(&self) -> io::Result<String> {
        let cases = sorted_by_module_platform_case(&self.cases);

        let mut report = Report::new("rehearsal");
        if let Some(started) = self.run_started {
            report.set_timestamp(started);
        }
        if let Some(duration) = self.run_duration {
            report.set_time(duration);
        }
        if let Some(gate) = &self.gate {
            for suite in gate_suites(gate) {
                report.add_test_suite(suite);
            }
        }
        for suite_cases in
            cases.chunk_by(|a, b| (&a.id.module, &a.id.platform) == (&b.id.module, &b.id.platform))
        {
            let mut suite = test_suite(suite_cases);
            // Jenkins shows a suite's properties: which engine and host the verdicts are of.
            if let Some(engine) = &self.engine {
                suite.add_property(("engine", xml_text(&engine.to_string()).as_str()));
            }
            report.add_test_suite(suite);
        }
        report.to_string().map_err(io::Error::other)
    }
}

impl Reporter for JunitReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::RunStarted { engine, .. } => {
                self.run_started = Some(event.timestamp);
                self.engine = engine.clone();
            }
            EventKind::CaseFinished(report) => self.cases.push((**report).clone()),
            EventKind::Gate(report) => self.gate = Some((**report).clone()),
            EventKind::RunFinished { .. } => self.run_duration = Some(event.elapsed),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let xml = self.to_xml()?;
        write_atomically(&self.path, xml.as_bytes())
    }
}

/// The suite of one (module, platform): it starts with its first case and ends with its
/// last (cases of a suite may run side by side, so this is not the sum of their times).
fn test_suite(cases: &[&CaseReport]) -> TestSuite {
    let first = cases[0];
    let mut suite = TestSuite::new(xml_text(&format!(
        "{} on {}",
        first.id.module, first.id.platform
    )));
    let start = cases
        .iter()
        .map(|c| c.started_at)
        .min()
        .unwrap_or(first.started_at);
    let end = cases
        .iter()
        .map(|c| c.started_at + chrono::Duration::from_std(c.duration).unwrap_or_default())
        .max()
        .unwrap_or(start);
    suite.set_timestamp(start);
    suite.set_time((end - start).to_std().unwrap_or_default());
    for case in cases {
        suite.add_test_cases(test_cases(case));
    }
    suite
}

/// The gate's suites, one a module (`<module> validate`, classname `validate.<module>`):
/// a test case for each file with findings (`validate › manifests/init.pp`), failed when
/// one of them fails the gate, its warnings in its output; a module with none has one
/// passing `validate` test case, so the count of modules checked stays in Jenkins's trend.
fn gate_suites(gate: &GateReport) -> Vec<TestSuite> {
    let mut suites = Vec::new();
    for module in &gate.modules {
        let mut suite = TestSuite::new(xml_text(&format!("{module} validate")));
        let classname = xml_text(&format!("validate.{module}"));
        let findings: Vec<&GateFinding> = gate
            .findings
            .iter()
            .filter(|f| &f.module == module)
            .collect();
        if findings.is_empty() {
            let mut case = TestCase::new("validate", TestCaseStatus::success());
            case.set_classname(classname.clone());
            suite.add_test_case(case);
        }
        for file in findings.chunk_by(|a, b| a.in_module == b.in_module) {
            let lines: Vec<String> = file
                .iter()
                .map(|f| {
                    let label = if f.fails { "error" } else { "warning" };
                    format!("{}: {label}: {}: {}", f.place(), f.what(), f.message)
                })
                .collect();
            let status = if file.iter().any(|f| f.fails) {
                let failing: Vec<&String> = file
                    .iter()
                    .zip(&lines)
                    .filter(|(f, _)| f.fails)
                    .map(|(_, line)| line)
                    .collect();
                let text = failing
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                non_success(NonSuccessKind::Failure, &text)
            } else {
                TestCaseStatus::success()
            };
            let mut case = TestCase::new(
                xml_text(&format!("validate › {}", file[0].in_module)),
                status,
            );
            case.set_classname(classname.clone());
            case.set_system_out(xml_text(&lines.join("\n")));
            suite.add_test_case(case);
        }
        suites.push(suite);
    }
    suites
}

/// The test cases of one case: its steps that ran, then its checks.
fn test_cases(report: &CaseReport) -> Vec<TestCase> {
    let classname = xml_text(&format!("{}.{}", report.id.platform, report.id.module));
    let name = |what: &str| xml_text(&format!("{} › {}", report.id.case, what));
    let mut cases = Vec::new();

    for step in &report.steps {
        // Steps that did not run are left out; a passing verify is told by its checks.
        let shown = !matches!(
            (step.step, step.status),
            (_, Status::Skipped) | (Step::Verify, Status::Passed)
        );
        if shown {
            let mut case = TestCase::new(name(step.step.name()), step_status(step));
            case.set_classname(classname.clone())
                .set_time(step.duration);
            let output = clean(&step.output);
            if !output.trim().is_empty() {
                case.set_system_out(output);
            }
            cases.push(case);
        }
    }

    let not_run = not_run_reason(report);
    for check in &report.checks {
        let mut case = TestCase::new(name(&check.label), check_status(check, &not_run));
        case.set_classname(classname.clone())
            .set_time(Duration::ZERO);
        cases.push(case);
    }

    // A case that never got going still shows up, rather than vanishing from the report.
    if cases.is_empty() {
        let mut status = TestCaseStatus::skipped();
        status.set_message(xml_text(&not_run));
        let mut case = TestCase::new(xml_text(&report.id.case), status);
        case.set_classname(classname).set_time(Duration::ZERO);
        cases.push(case);
    }
    add_attempts(report, &mut cases);
    cases
}

/// The attempts before the last, each step or check that did not pass in one as a rerun
/// of its test case: `<flakyFailure>` under one that passed in the end (Jenkins counts it
/// passed, and shows it flaky), `<rerunFailure>` under one that failed every time. An
/// attempt's failure whose test case the last attempt has not (or skipped) goes to the
/// last attempt's first test case that did not pass, else its first.
fn add_attempts(report: &CaseReport, cases: &mut [TestCase]) {
    let name = |what: &str| format!("{} › {}", report.id.case, what);
    for (n, attempt) in report.attempts.iter().enumerate() {
        let label = format!("attempt {} of {}", n + 1, report.attempts.len() + 1);
        let steps = attempt.steps.iter().filter_map(|step| {
            let kind = non_success_kind(step.status)?;
            let output = clean(&step.output);
            Some((
                name(step.step.name()),
                kind,
                step_text(step),
                output,
                step.duration,
            ))
        });
        let checks = attempt.checks.iter().filter_map(|check| {
            let kind = non_success_kind(check.status)?;
            let text = check_text(check);
            Some((
                name(&check.label),
                kind,
                text,
                String::new(),
                Duration::ZERO,
            ))
        });
        for (name, kind, text, output, duration) in steps.chain(checks).collect::<Vec<_>>() {
            let text = format!("{label}: {}", text.trim());
            let mut rerun = TestRerun::new(kind);
            rerun
                .set_timestamp(attempt.started_at)
                .set_time(duration)
                .set_message(xml_text(text.lines().next().unwrap_or_default()))
                .set_description(xml_text(&text));
            if !output.trim().is_empty() {
                rerun.set_system_out(xml_text(&output));
            }
            let skipped = |c: &TestCase| matches!(c.status, TestCaseStatus::Skipped { .. });
            let name = xml_text(&name);
            let at = cases
                .iter()
                .position(|c| c.name == name && !skipped(c))
                .or_else(|| {
                    cases
                        .iter()
                        .position(|c| matches!(c.status, TestCaseStatus::NonSuccess { .. }))
                })
                .unwrap_or(0);
            if let Some(case) = cases.get_mut(at) {
                case.status.add_rerun(rerun);
            }
        }
    }
}

fn non_success_kind(status: Status) -> Option<NonSuccessKind> {
    match status {
        Status::Failed => Some(NonSuccessKind::Failure),
        Status::Error => Some(NonSuccessKind::Error),
        Status::Passed | Status::Skipped => None,
    }
}

fn step_status(step: &StepReport) -> TestCaseStatus {
    match non_success_kind(step.status) {
        Some(kind) => non_success(kind, &step_text(step)),
        None => TestCaseStatus::success(),
    }
}

/// Why a step did not pass, whole.
fn step_text(step: &StepReport) -> String {
    match &step.message {
        Some(message) => clean(message),
        None => format!("{} {}", step.step.name(), step.status.verb()),
    }
}

/// Why a check did not pass, one line a failure.
fn check_text(check: &CheckReport) -> String {
    if check.failures.is_empty() {
        format!("{} {}", check.label, check.status.verb())
    } else {
        let lines: Vec<String> = check.failures.iter().map(ToString::to_string).collect();
        clean(&lines.join("\n"))
    }
}

fn check_status(check: &CheckReport, not_run: &str) -> TestCaseStatus {
    let kind = match check.status {
        Status::Passed => return TestCaseStatus::success(),
        Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(xml_text(not_run));
            return status;
        }
        Status::Failed => NonSuccessKind::Failure,
        Status::Error => NonSuccessKind::Error,
    };
    non_success(kind, &check_text(check))
}

/// A failure or an error: its first line as the message, all of it as the text.
fn non_success(kind: NonSuccessKind, text: &str) -> TestCaseStatus {
    let text = text.trim();
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(xml_text(text.lines().next().unwrap_or_default().trim()));
    status.set_description(xml_text(text));
    status
}

/// Why the skipped parts of a case did not run: `not run: start errored`.
fn not_run_reason(report: &CaseReport) -> String {
    report
        .steps
        .iter()
        .find(|s| matches!(s.status, Status::Failed | Status::Error))
        .map(|s| format!("not run: {} {}", s.step.name(), s.status.verb()))
        .unwrap_or_else(|| "not run".to_owned())
}

/// Text as it may appear in the file: no terminal codes, nothing XML 1.0 forbids.
fn xml_text(text: &str) -> XmlString {
    XmlString::new(clean(text))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::JunitReporter;
    use crate::outcome::{Event, EventKind, Status, Step};
    use crate::report::fixtures;

    fn write(events: &[Event], path: &Path) -> String {
        fixtures::written(JunitReporter::new(path.to_path_buf()), path, events)
    }

    fn write_in_temp_dir(events: &[Event]) -> String {
        let dir = tempfile::tempdir().unwrap();
        write(events, &dir.path().join("junit.xml"))
    }

    #[test]
    fn a_small_run() {
        insta::assert_snapshot!(write_in_temp_dir(&fixtures::run()));
    }

    #[test]
    fn a_run_with_a_gate_has_a_validate_suite_a_module_and_its_compile_failure() {
        insta::assert_snapshot!(write_in_temp_dir(&fixtures::run_with_gate()));
    }

    #[test]
    fn a_small_run_is_well_formed_and_grouped_by_module_and_platform() {
        let xml = write_in_temp_dir(&fixtures::run());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suites: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .map(|n| n.attribute("name").unwrap())
            .collect();
        assert_eq!(
            suites,
            ["motd on debian12", "motd on rocky9", "ntp on debian12"]
        );
        assert!(root.descendants().all(|n| n.attribute("package").is_none()));
        let classnames: Vec<_> = root
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|n| n.attribute("classname").unwrap())
            .collect();
        assert!(classnames.contains(&"rocky9.motd"));
        assert!(classnames.contains(&"debian12.ntp"));
    }

    #[test]
    fn an_empty_run_writes_an_empty_report() {
        let dir = tempfile::tempdir().unwrap();
        let xml = write(&[], &dir.path().join("reports/deep/junit.xml"));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "testsuites");
        assert_eq!(
            doc.root_element()
                .children()
                .filter(|n| n.is_element())
                .count(),
            0
        );
    }

    /// Regression: one colour code or NUL in Puppet's output makes Jenkins drop the whole
    /// file as `[failed-to-read]`, and an unsplit `]]>` ends a CDATA section early.
    #[test]
    fn hostile_output_keeps_the_file_readable() {
        let hostile =
            "\u{1b}[0;31mError: bad\u{1b}[0m ]]> <tag attr=\"x\"> & \u{0}\u{8}\u{b}\u{fffe}end";
        let mut report = fixtures::not_idempotent();
        report.id.case = format!("odd{hostile}");
        for step in &mut report.steps {
            if step.step == Step::Idempotent {
                step.output = format!("line 1\n{hostile}\nline 3 ]]>]]> stray \u{1b}\n");
                step.message = Some(format!("changed: {hostile}\nsecond line"));
            }
        }
        report.checks[0].status = Status::Failed;
        report.checks[0].failures = vec![crate::outcome::CheckFailure::mismatch(
            "content",
            "'a'",
            format!("'{hostile}'"),
        )];
        let xml = write_in_temp_dir(&[fixtures::event(EventKind::CaseFinished(Box::new(report)))]);

        assert!(!xml.contains('\u{1b}'));
        assert!(!xml.contains('\u{0}'));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cleaned = "Error: bad ]]> <tag attr=\"x\"> & end";
        let idempotent = doc
            .descendants()
            .find(|n| n.attribute("name") == Some(&format!("odd{cleaned} › idempotent")))
            .unwrap();
        let system_out = idempotent
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .unwrap();
        assert_eq!(
            system_out.text().unwrap(),
            format!("line 1\n{cleaned}\nline 3 ]]>]]> stray \n")
        );
        let failure = idempotent
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message").unwrap(),
            format!("changed: {cleaned}").trim()
        );
        assert_eq!(
            failure.text().unwrap(),
            format!("changed: {cleaned}\nsecond line")
        );
        let check = doc
            .descendants()
            .find(|n| n.attribute("name") == Some(&format!("odd{cleaned} › service ntp")))
            .unwrap();
        let failure = check
            .children()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message").unwrap(),
            format!("content: expected 'a', got '{cleaned}'")
        );
    }

    #[test]
    fn a_run_with_retries() {
        insta::assert_snapshot!(write_in_temp_dir(&fixtures::run_with_retries()));
    }

    /// Jenkins counts a test case with only flaky children as passed and shows it flaky;
    /// one that failed every attempt keeps its failure, with a rerun for each attempt.
    #[test]
    fn a_flaky_case_passes_with_its_earlier_failure_and_a_broken_one_shows_each_attempt() {
        let xml = write_in_temp_dir(&fixtures::run_with_retries());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let case = |name: &str| {
            doc.descendants()
                .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
                .unwrap_or_else(|| panic!("no test case {name} in\n{xml}"))
        };
        let children = |name: &str| -> Vec<String> {
            case(name)
                .children()
                .filter(|n| n.is_element())
                .map(|n| n.tag_name().name().to_string())
                .collect()
        };
        assert_eq!(children("flaky › apply"), ["flakyError", "system-out"]);
        let flaky = case("flaky › apply")
            .children()
            .find(|n| n.has_tag_name("flakyError"))
            .unwrap();
        assert_eq!(
            flaky.attribute("message"),
            Some("attempt 1 of 2: the container stopped during the step: it was killed (exit 137)")
        );
        assert_eq!(children("flaky › file /etc/motd"), Vec::<String>::new());
        assert_eq!(
            children("retried › file /etc/motd"),
            ["failure", "rerunFailure"]
        );
        assert_eq!(children("retried › service sshd"), Vec::<String>::new());
    }

    #[test]
    fn a_case_that_never_ran_still_shows_up() {
        let mut report = fixtures::errored_start();
        for step in &mut report.steps {
            step.status = Status::Skipped;
        }
        report.checks.clear();
        let xml = write_in_temp_dir(&[fixtures::event(EventKind::CaseFinished(Box::new(report)))]);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let case = doc
            .descendants()
            .find(|n| n.has_tag_name("testcase"))
            .unwrap();
        assert_eq!(case.attribute("name"), Some("default"));
        assert!(case.children().any(|n| n.has_tag_name("skipped")));
    }
}
