//! Case reports with fixed times, shared by the reporters' snapshot tests.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::outcome::{
    CaseId, CaseReport, CheckFailure, CheckReport, Event, EventKind, ResourceTime, Status, Step,
    StepReport,
};

/// When the run in these fixtures starts.
pub fn run_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    run_start() + chrono::Duration::seconds(seconds)
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn id(module: &str, case: &str, platform: &str) -> CaseId {
    CaseId {
        module: module.into(),
        case: case.into(),
        platform: platform.into(),
    }
}

fn step(
    step: Step,
    status: Status,
    millis: u64,
    message: Option<&str>,
    output: &str,
) -> StepReport {
    StepReport {
        step,
        status,
        duration: ms(millis),
        message: message.map(str::to_owned),
        errors: Vec::new(),
        output: output.into(),
        slowest: Vec::new(),
        without_driver: false,
        applied: Vec::new(),
    }
}

fn skipped(s: Step) -> StepReport {
    step(s, Status::Skipped, 0, None, "")
}

/// A check, failing with these (attribute, expected, actual) mismatches.
fn check(label: &str, status: Status, mismatches: &[(&str, &str, &str)]) -> CheckReport {
    CheckReport {
        label: label.into(),
        status,
        failures: mismatches
            .iter()
            .map(|(attribute, expected, actual)| {
                CheckFailure::mismatch(*attribute, expected, actual)
            })
            .collect(),
        line: None,
    }
}

fn case(id: CaseId, started: i64, steps: Vec<StepReport>, checks: Vec<CheckReport>) -> CaseReport {
    let duration = steps.iter().map(|s| s.duration).sum();
    CaseReport {
        spec_file: PathBuf::from(format!("modules/{}/rehearsal.yaml", id.module)),
        id,
        started_at: at(started),
        duration,
        steps,
        checks,
        kept_container: None,
        removal: ms(300),
        fixtures: Vec::new(),
        attempts: Vec::new(),
    }
}

const APPLY_OUTPUT: &str = "\
Notice: Compiled catalog for host.example.org in environment production in 0.12 seconds
Notice: /Stage[main]/Motd/File[/etc/motd]/content: changed '{md5}d41d8' to '{md5}5eb63'
Notice: Applied catalog in 0.35 seconds
";

/// Every step and check passed.
pub fn passing() -> CaseReport {
    case(
        id("motd", "default", "debian12"),
        0,
        vec![
            step(Step::Start, Status::Passed, 2100, None, ""),
            StepReport {
                slowest: vec![
                    ResourceTime {
                        resource: "Package[motd-news]".into(),
                        file: Some("modules/motd/manifests/init.pp".into()),
                        line: Some(3),
                        duration: ms(1840),
                    },
                    ResourceTime {
                        resource: "File[/etc/motd]".into(),
                        file: Some("modules/motd/manifests/init.pp".into()),
                        line: Some(6),
                        duration: ms(12),
                    },
                ],
                ..step(Step::Apply, Status::Passed, 3400, None, APPLY_OUTPUT)
            },
            step(
                Step::Idempotent,
                Status::Passed,
                2000,
                Some(
                    "exempt: Exec[motd-stamp] (modules/motd/manifests/init.pp:9) returns: \
                     notrun → 0 (stamps the time by design)",
                ),
                "Notice: Applied catalog in 0.21 seconds\n",
            ),
            step(Step::Verify, Status::Passed, 700, None, ""),
        ],
        vec![
            check("file /etc/motd", Status::Passed, &[]),
            check("package motd-news", Status::Passed, &[]),
        ],
    )
}

/// The steps passed, but one check found the file with the wrong mode and content.
pub fn failed_check() -> CaseReport {
    case(
        id("motd", "custom", "rocky9"),
        3,
        vec![
            step(Step::Start, Status::Passed, 1900, None, ""),
            step(
                Step::Prepare,
                Status::Passed,
                1200,
                None,
                "Notice: Applied catalog in 0.05 seconds\n",
            ),
            step(Step::Apply, Status::Passed, 4100, None, APPLY_OUTPUT),
            step(Step::Idempotent, Status::Passed, 2300, None, ""),
            step(Step::Verify, Status::Passed, 600, None, ""),
        ],
        vec![
            check(
                "file /etc/motd",
                Status::Failed,
                &[
                    ("mode", "0644", "0600"),
                    ("content", "to match /Welcome/", "'Hello'"),
                ],
            ),
            check("service sshd", Status::Passed, &[]),
        ],
    )
}

/// The container never started: the later steps and the checks did not run.
pub fn errored_start() -> CaseReport {
    let mut report = case(
        id("ntp", "default", "debian12"),
        1,
        vec![
            step(
                Step::Start,
                Status::Error,
                1500,
                Some(
                    "failed to start the container: systemd did not reach a running state in 60s\n\
                     (hint: check that the image runs systemd as PID 1)",
                ),
                "Failed to mount API filesystems.\nExiting PID 1...\n",
            ),
            skipped(Step::Prepare),
            skipped(Step::Apply),
            skipped(Step::Idempotent),
            skipped(Step::Verify),
        ],
        vec![
            check("package ntp", Status::Skipped, &[]),
            check("service ntp", Status::Skipped, &[]),
        ],
    );
    report.kept_container = Some("3f2a9c1b7d4e".into());
    report.removal = std::time::Duration::ZERO;
    report
}

/// The second apply changed a resource again (and printed more than the console shows).
pub fn not_idempotent() -> CaseReport {
    let mut idempotent_output = String::new();
    for i in 1..=20 {
        idempotent_output.push_str(&format!(
            "Info: /Stage[main]/Ntp/File[/etc/ntp.d/{i:02}.conf]: checked\n"
        ));
    }
    idempotent_output.push_str(
        "\u{1b}[0;32mNotice: /Stage[main]/Ntp/Exec[refresh ntp]/returns: executed successfully\u{1b}[0m\n\
         \u{1b}[0;32mNotice: Applied catalog in 0.90 seconds\u{1b}[0m\n",
    );
    case(
        id("ntp", "servers", "debian12"),
        2,
        vec![
            step(Step::Start, Status::Passed, 2000, None, ""),
            step(
                Step::Apply,
                Status::Passed,
                5200,
                None,
                "Notice: Applied catalog in 1.10 seconds\n",
            ),
            step(
                Step::Idempotent,
                Status::Failed,
                3100,
                Some("the second apply changed 1 resource:\nExec[refresh ntp]/returns"),
                &idempotent_output,
            ),
            step(Step::Verify, Status::Passed, 800, None, ""),
        ],
        vec![check("service ntp", Status::Passed, &[])],
    )
}

/// A case that passed on its second attempt: the first one's container was killed (an
/// engine's error) before its apply finished.
pub fn flaky() -> CaseReport {
    let mut report = passing();
    report.id = id("motd", "flaky", "debian12");
    report.attempts = vec![crate::outcome::Attempt {
        started_at: at(0),
        duration: ms(4100),
        steps: vec![
            step(Step::Start, Status::Passed, 2000, None, ""),
            step(
                Step::Apply,
                Status::Error,
                2100,
                Some("the container stopped during the step: it was killed (exit 137)"),
                "Notice: Compiled catalog for host.example.org in environment production
",
            ),
            skipped(Step::Idempotent),
            skipped(Step::Verify),
        ],
        checks: vec![
            check("file /etc/motd", Status::Skipped, &[]),
            check("package motd-news", Status::Skipped, &[]),
        ],
    }];
    report.started_at = at(0);
    report.duration += ms(4100);
    report
}

/// A case that failed the same check on each of its two attempts.
pub fn failed_every_attempt() -> CaseReport {
    let mut report = failed_check();
    report.id = id("motd", "retried", "rocky9");
    report.attempts = vec![crate::outcome::Attempt {
        started_at: report.started_at,
        duration: report.duration,
        steps: report.steps.clone(),
        checks: report.checks.clone(),
    }];
    report.duration *= 2;
    report
}

/// A run of [`flaky`] and [`failed_every_attempt`], each retried once.
pub fn run_with_retries() -> Vec<Event> {
    let reports = [flaky(), failed_every_attempt()];
    let mut events = vec![event(EventKind::RunStarted {
        run_id: "run-0002".into(),
        total: reports.len(),
        engine: None,
    })];
    for report in &reports {
        events.push(event(EventKind::CaseStarted {
            id: report.id.clone(),
        }));
        let attempt = &report.attempts[0];
        events.push(event(EventKind::CaseRetried {
            id: report.id.clone(),
            attempt: 1,
            attempts: 2,
            status: attempt.status(),
            reason: attempt.reason(),
        }));
        events.push(event(EventKind::CaseStarted {
            id: report.id.clone(),
        }));
    }
    let finished = run_finished(20_000, &reports);
    for report in reports {
        events.push(event(EventKind::CaseFinished(Box::new(report))));
    }
    events.push(finished);
    events
}

/// What a file reporter writes at `path` once fed `events` and finished.
pub fn written(
    mut reporter: impl crate::report::Reporter,
    path: &std::path::Path,
    events: &[Event],
) -> String {
    for event in events {
        reporter.event(event).unwrap();
    }
    reporter.finish().unwrap();
    std::fs::read_to_string(path).unwrap()
}

/// An event at the run's start.
pub fn event(kind: EventKind) -> Event {
    Event {
        timestamp: run_start(),
        elapsed: Duration::ZERO,
        kind,
    }
}

/// The end of a run of these cases, `millis` after its start, with their totals.
pub fn run_finished(millis: u64, cases: &[CaseReport]) -> Event {
    Event {
        timestamp: run_start() + chrono::Duration::milliseconds(millis as i64),
        elapsed: ms(millis),
        kind: EventKind::RunFinished {
            totals: cases.iter().collect(),
        },
    }
}

/// A small run: the four cases above, finishing in an order other than their sort order.
pub fn run() -> Vec<Event> {
    let reports = [not_idempotent(), passing(), errored_start(), failed_check()];
    let mut events = vec![event(EventKind::RunStarted {
        run_id: "run-0001".into(),
        total: reports.len(),
        engine: Some(crate::outcome::engine::EngineInfo {
            kind: crate::outcome::engine::EngineKind::Docker,
            version: "20.10.24".into(),
            cgroup: 1,
            rootless: false,
        }),
    })];
    for report in &reports {
        events.push(event(EventKind::CaseStarted {
            id: report.id.clone(),
        }));
    }
    let finished = run_finished(192_400, &reports);
    for report in reports {
        events.push(event(EventKind::CaseFinished(Box::new(report))));
    }
    events.push(finished);
    events
}

/// [`run`] with a site baseline snapshot built before the cases, as a run with a
/// `rehearsal-site.yaml` has it.
pub fn run_with_snapshot() -> Vec<Event> {
    let mut events = run();
    events.insert(
        1,
        event(EventKind::Snapshot(Box::new(
            crate::outcome::SnapshotReport {
                platform: "debian12".into(),
                kind: crate::outcome::snapshot::Kind::Baseline,
                of: "/srv/puppet/rehearsal-site.yaml".into(),
                duration: ms(41_000),
                outcome: crate::outcome::snapshot::Outcome::Built {
                    image: "rehearsal/snapshot:debian12-0123456789abcdef".into(),
                },
            },
        ))),
    );
    events
}

/// A case the gate failed: its catalog does not compile, so it has only its `compile` step.
pub fn compile_failed() -> CaseReport {
    let mut failed = step(
        Step::Compile,
        Status::Failed,
        140,
        Some("the catalog does not compile on debian12, so the case did not start: Error: Evaluation Error: Unknown variable: 'port'. (file: modules/web/manifests/init.pp, line: 4, column: 12) on node gate-debian12"),
        "Error: Evaluation Error: Unknown variable: 'port'. (file: modules/web/manifests/init.pp, line: 4, column: 12) on node gate-debian12\n",
    );
    failed.errors = vec![crate::outcome::PuppetError {
        file: "modules/web/manifests/init.pp".into(),
        line: 4,
        column: Some(12),
        message: "Error: Evaluation Error: Unknown variable: 'port'.".into(),
    }];
    let mut report = case(id("web", "default", "debian12"), 1, vec![failed], vec![]);
    report.removal = Duration::ZERO;
    report
}

/// The gate of [`run_with_gate`]: a syntax error seen on two platforms, a lint warning, a
/// metadata.json error; a clean module beside them.
pub fn gate_report() -> crate::outcome::GateReport {
    use crate::outcome::{FileKind, GateFinding, GatePlatform, GateReport, Severity};
    let finding = |module: &str,
                   kind,
                   severity,
                   fails,
                   file: &str,
                   line,
                   column,
                   check: Option<&str>,
                   message: &str,
                   platforms: &[&str]| GateFinding {
        module: module.into(),
        kind,
        severity,
        fails,
        file: format!("modules/{module}/{file}"),
        in_module: file.into(),
        line,
        column,
        check: check.map(str::to_string),
        message: message.into(),
        platforms: platforms.iter().map(|p| p.to_string()).collect(),
    };
    GateReport {
        findings: vec![
            finding("motd", FileKind::Manifest, Severity::Error, true, "manifests/init.pp", Some(5), Some(3), None, "Syntax error at '}'", &["debian12", "debian13"]),
            finding("motd", FileKind::Lint, Severity::Warning, false, "manifests/init.pp", Some(9), Some(10), Some("double_quoted_strings"), "double quoted string containing no variables", &[]),
            finding("web", FileKind::Metadata, Severity::Error, true, "metadata.json", Some(3), Some(14), None, "`version` is `1.2`: it must be a semantic version (like 1.2.0)", &[]),
        ],
        modules: vec!["motd".into(), "ntp".into(), "web".into()],
        platforms: vec![
            GatePlatform { platform: "debian12".into(), duration: ms(4_100), files: 12, compiled: 3, compile_failed: 1, error: None, phases: Default::default() },
            GatePlatform { platform: "debian13".into(), duration: ms(5_300), files: 12, compiled: 0, compile_failed: 0, error: Some("a compile ended without a verdict (rehearsal gate: cannot resolve the facts: boom)".into()), phases: Default::default() },
        ],
        duration: ms(5_400),
        diff_against: None,
        diffs: Vec::new(),
        declarations: Vec::new(),
    }
}

/// A gate with `--diff-against`: one catalog with a resource added, one removed, one
/// changed in a file the change touched and one in a file it did not, one moved.
pub fn gate_with_diff() -> crate::outcome::GateReport {
    use crate::outcome::diff::{CatalogDiff, Changed, Declared, ParameterChange};
    let at = |resource: &str, file: &str, line: u32| Declared {
        resource: resource.into(),
        file: Some(file.into()),
        line: Some(line),
    };
    let change = |name: &str, old: &str, new: &str| ParameterChange {
        name: name.into(),
        old: Some(serde_json::json!(old)),
        new: Some(serde_json::json!(new)),
        sensitive: false,
    };
    crate::outcome::GateReport {
        diff_against: Some("`origin/main`, from its merge base with HEAD 1a2b3c4d5e6f".into()),
        diffs: vec![CatalogDiff {
            id: id("motd", "default", "debian12"),
            added: vec![at("Service[motd]", "modules/motd/manifests/service.pp", 2)],
            removed: vec![at(
                "Package[motd-news]",
                "modules/motd/manifests/init.pp",
                7,
            )],
            changed: vec![
                Changed {
                    declared: at("File[/etc/motd]", "modules/motd/manifests/init.pp", 4),
                    moved_from: None,
                    parameters: vec![change("mode", "0644", "0600")],
                    unexpected: false,
                },
                Changed {
                    declared: at("File[/etc/issue]", "modules/motd/manifests/issue.pp", 3),
                    moved_from: None,
                    parameters: vec![change("content", "Debian", "Welcome")],
                    unexpected: true,
                },
                Changed {
                    declared: at("Exec[motd-stamp]", "modules/motd/manifests/stamp.pp", 2),
                    moved_from: Some(at("Exec[motd-stamp]", "modules/motd/manifests/init.pp", 9)),
                    parameters: Vec::new(),
                    unexpected: false,
                },
            ],
            base_error: None,
        }],
        ..gate_report()
    }
}

/// [`run`] with a gate before it: the case it failed, then its report.
pub fn run_with_gate() -> Vec<Event> {
    let mut events = run();
    events.insert(
        1,
        event(EventKind::CaseFinished(Box::new(compile_failed()))),
    );
    events.insert(2, event(EventKind::Gate(Box::new(gate_report()))));
    events
}
