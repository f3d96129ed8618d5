//! What a run found, as data: case ids, statuses, steps, the reports of cases, checks and
//! snapshot layers, totals, and the events that carry them. A leaf: the runner and the
//! snapshot layers write these, the reporters and the Gerrit review read them (the review
//! from the JSON report, which these types also read back), and it imports no stage, so
//! every stage can depend on it.

pub mod coverage;
pub mod diff;
pub mod engine;
pub mod event;
pub mod finding;
pub mod gate;
pub mod snapshot;

pub use event::{CancelReason, CancelStage, Event, EventKind, Warning};
pub use finding::{CheckFailure, Mismatch, PuppetError};
pub use gate::{FileKind, GateFinding, GatePlatform, GateReport, Severity};
pub use snapshot::SnapshotReport;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which (module, case, platform) a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId {
    pub module: String,
    pub case: String,
    pub platform: String,
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} › {} [{}]", self.module, self.case, self.platform)
    }
}

/// How a step, a check or a whole case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    /// Not run, because an earlier step of the case failed (or the run stopped).
    Skipped,
    /// The module did not do what the spec says.
    Failed,
    /// The harness could not find out (engine trouble, a timeout, a broken image).
    Error,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Passed => "PASS",
            Status::Skipped => "SKIP",
            Status::Failed => "FAIL",
            Status::Error => "ERROR",
        }
    }

    /// `failed`, `errored`…: for "verify failed", "start errored".
    pub fn verb(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
            Status::Error => "errored",
        }
    }
}

/// The steps of a case, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    /// The case's catalog compiled without applying it, before any container of its own
    /// (the gate); a case that fails it never starts.
    Compile,
    /// Create and start the container, wait for systemd.
    Start,
    /// Apply the spec's `prepare` code.
    Prepare,
    /// The first `puppet apply` of the case's manifest.
    Apply,
    /// The second apply, which must change nothing.
    Idempotent,
    /// Run the probe that answers every check.
    Verify,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Compile => "compile",
            Step::Start => "start",
            Step::Prepare => "prepare",
            Step::Apply => "apply",
            Step::Idempotent => "idempotent",
            Step::Verify => "verify",
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    pub step: Step,
    pub status: Status,
    #[serde(default, with = "seconds")]
    pub duration: Duration,
    /// Why it failed, in one or a few lines (absent when it passed).
    #[serde(default)]
    pub message: Option<String>,
    /// The Puppet errors of a failed apply that name their file and line, in the order
    /// Puppet printed them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<PuppetError>,
    /// What the step printed (Puppet's output), cleaned of terminal colours.
    #[serde(default)]
    pub output: String,
    /// An apply's slowest resources, slowest first, from its report: where Puppet spent
    /// the time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest: Vec<ResourceTime>,
    /// The apply ran as plain `puppet apply`, without rehearsal's driver (the platform's
    /// Puppet could not run it): no report, so its verdict was read from Puppet's text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub without_driver: bool,
    /// The first apply's resources that name where they are declared, from its report:
    /// what the case exercised, for acceptance coverage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<diff::Declared>,
}

/// A resource and how long Puppet took to evaluate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTime {
    /// `Package[nginx]`.
    pub resource: String,
    /// Where it is declared (a module's file as a path on the host), when Puppet said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(with = "seconds")]
    pub duration: Duration,
}

/// What one `expect` check found.
///
/// In the JSON report a check keeps `failures`, one line each as people read them, and
/// adds `reasons`, the same failures as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "CheckRecord", from = "CheckRecord")]
pub struct CheckReport {
    /// `file /etc/motd`: kind and subject.
    pub label: String,
    pub status: Status,
    /// Why it failed, one reason per attribute that did not match (empty when it passed).
    pub failures: Vec<CheckFailure>,
    /// Where the check is written: its line in the case's spec file (1-based), when known.
    pub line: Option<usize>,
}

/// A check as the JSON report writes it.
#[derive(Serialize, Deserialize)]
struct CheckRecord {
    label: String,
    status: Status,
    /// The failures rendered, one line each: `mode: expected 0644, got 0600`.
    #[serde(default)]
    failures: Vec<String>,
    /// The failures as data: `{"kind": "mismatch", "attribute": "mode", "expected": "0644",
    /// "actual": "0600"}`. A report without them (written before they existed) is read with
    /// each line of `failures` as a [`CheckFailure::Note`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    reasons: Vec<CheckFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

impl From<CheckReport> for CheckRecord {
    fn from(check: CheckReport) -> CheckRecord {
        CheckRecord {
            label: check.label,
            status: check.status,
            failures: check.failures.iter().map(ToString::to_string).collect(),
            reasons: check.failures,
            line: check.line,
        }
    }
}

impl From<CheckRecord> for CheckReport {
    fn from(record: CheckRecord) -> CheckReport {
        let failures = if record.reasons.is_empty() {
            record
                .failures
                .into_iter()
                .map(CheckFailure::note)
                .collect()
        } else {
            record.reasons
        };
        CheckReport {
            label: record.label,
            status: record.status,
            failures,
            line: record.line,
        }
    }
}

/// Everything about one finished case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: CaseId,
    /// The spec file the case comes from.
    pub spec_file: PathBuf,
    #[serde(default)]
    pub started_at: DateTime<Utc>,
    #[serde(default, with = "seconds")]
    pub duration: Duration,
    #[serde(default)]
    pub steps: Vec<StepReport>,
    #[serde(default)]
    pub checks: Vec<CheckReport>,
    /// The container, when it was kept for the user.
    #[serde(default)]
    pub kept_container: Option<String>,
    /// The time it took to remove the container (zero when kept or never created).
    #[serde(default, with = "seconds")]
    pub removal: Duration,
    /// The modules beside the one under test, and where each came from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixtures: Vec<FixtureReport>,
    /// The attempts before this one that did not pass, first first, when the case was
    /// retried (`--retries`, a case's `retries`); the case's own steps and checks are its
    /// last attempt's. A case that passed after any of these is flaky, not passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
}

/// An attempt at a case that did not pass and was tried again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    #[serde(default)]
    pub started_at: DateTime<Utc>,
    #[serde(default, with = "seconds")]
    pub duration: Duration,
    #[serde(default)]
    pub steps: Vec<StepReport>,
    #[serde(default)]
    pub checks: Vec<CheckReport>,
}

impl Attempt {
    /// How the attempt ended: the worst of its steps and checks.
    pub fn status(&self) -> Status {
        worst(&self.steps, &self.checks)
    }

    /// The first step or check that did not pass, and why, in a line: `start errored: …`.
    pub fn reason(&self) -> String {
        let step = self
            .steps
            .iter()
            .find(|s| matches!(s.status, Status::Failed | Status::Error));
        let check = self
            .checks
            .iter()
            .find(|c| matches!(c.status, Status::Failed | Status::Error));
        // The first line, with the next when the first only introduces it (`…failed:`).
        let first_line = |text: &str| {
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or_default().to_string();
            match lines.next() {
                Some(next) if first.ends_with(':') => format!("{first} {next}"),
                _ => first,
            }
        };
        match (step, check) {
            (Some(step), _) if step.step != Step::Verify || check.is_none() => {
                let why = step.message.as_deref().map(first_line).unwrap_or_default();
                format!("{} {}: {why}", step.step.name(), step.status.verb())
            }
            (_, Some(check)) => {
                let why = check
                    .failures
                    .first()
                    .map(|f| first_line(&f.to_string()))
                    .unwrap_or_default();
                format!("check {} {}: {why}", check.label, check.status.verb())
            }
            _ => self.status().verb().to_string(),
        }
    }
}

/// The worst status of steps and checks, leaving out those that did not run.
pub fn worst(steps: &[StepReport], checks: &[CheckReport]) -> Status {
    steps
        .iter()
        .map(|s| s.status)
        .chain(checks.iter().map(|c| c.status))
        .filter(|s| *s != Status::Skipped)
        .max()
        .unwrap_or(Status::Skipped)
}

/// A fixture of a case: a directory as it is, a git repository at the commit its
/// revision named when the run resolved it, or a Forge module's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureReport {
    pub name: String,
    pub path: PathBuf,
    /// Where it is declared (`file:line`).
    pub declared_at: String,
    /// The repository (without credentials), for a git fixture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<String>,
    /// The revision the fixture asks for (a tag, a branch, a commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The commit it resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The Forge module (`author/name`) and the Forge, for a Forge fixture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<String>,
    /// The release it resolved to, for a Forge fixture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl CaseReport {
    /// The case's status: the worst of its (last attempt's) steps and checks.
    pub fn status(&self) -> Status {
        worst(&self.steps, &self.checks)
    }

    /// Passed, but only after an attempt that did not: a verdict that cannot be trusted
    /// either way, told apart from a pass in every report.
    pub fn flaky(&self) -> bool {
        self.status() == Status::Passed && !self.attempts.is_empty()
    }

    /// This attempt, as one of the earlier attempts of the case's next try.
    pub fn as_attempt(&self) -> Attempt {
        Attempt {
            started_at: self.started_at,
            duration: self.duration,
            steps: self.steps.clone(),
            checks: self.checks.clone(),
        }
    }

    /// The time spent in one step, if it ran.
    pub fn step(&self, step: Step) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// A copy with terminal codes and control characters taken out of its texts, as the
    /// files show them.
    pub fn cleaned(&self) -> CaseReport {
        use crate::text::sanitize::clean;
        let mut report = self.clone();
        let attempts = report
            .attempts
            .iter_mut()
            .map(|a| (&mut a.steps, &mut a.checks));
        for (steps, checks) in
            std::iter::once((&mut report.steps, &mut report.checks)).chain(attempts)
        {
            for step in steps.iter_mut() {
                step.output = clean(&step.output);
                step.message = step.message.as_deref().map(clean);
                for error in &mut step.errors {
                    error.message = clean(&error.message);
                }
            }
            for check in checks.iter_mut() {
                for failure in &mut check.failures {
                    *failure = failure.map_text(clean);
                }
            }
        }
        report
    }
}

/// Totals over finished cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Passed, flaky ones included (as Jenkins counts a test with only flaky failures).
    pub passed: usize,
    /// Of the passed, those that passed only on a retry.
    pub flaky: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
}

impl Totals {
    /// ` (2 flaky)` after the passed count, or nothing.
    pub fn flaky_note(&self) -> String {
        match self.flaky {
            0 => String::new(),
            n => format!(" ({n} flaky)"),
        }
    }

    /// Counts a finished case.
    pub fn count(&mut self, report: &CaseReport) {
        self.add(report.status());
        if report.flaky() {
            self.flaky += 1;
        }
    }

    pub fn add(&mut self, status: Status) {
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
            Status::Skipped => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

/// The totals of these cases (a reporter that never saw the run's end counts its cases
/// itself).
impl<'a> FromIterator<&'a CaseReport> for Totals {
    fn from_iter<I: IntoIterator<Item = &'a CaseReport>>(cases: I) -> Totals {
        let mut totals = Totals::default();
        cases.into_iter().for_each(|c| totals.count(c));
        totals
    }
}

/// Durations as seconds with a decimal point, as Jenkins and people read them.
pub mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
    }

    /// Seconds back to a duration (a negative or odd number reads as zero).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Ok(Duration::try_from_secs_f64(secs).unwrap_or_default())
    }
}
