//! One case, step by step: start the container and wait for systemd, apply the manifest
//! (or see it fail as the spec expects), apply it again (idempotency), run the probe, and
//! always remove the container. Each step is a function that returns what it printed or a
//! typed [`StepError`]; [`Case`] turns those into step reports and events, says what
//! happened to the container when that (not the code) ended the case, and skips the steps
//! a failure makes pointless. Running many cases, and stopping them, is the parent
//! module's business.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::events::Emitter;
use super::fault::fault;
use super::live::LinePrinter;
use super::step::{self, StepError};
use super::workspace::{PathMap, Workspace};
use super::{engine, Context};
use crate::backend::exec::{exec_within, read_file, ExecError};
use crate::backend::{Backend, ContainerConfig, ExecOutput};
use crate::labels;
use crate::outcome::{
    CaseId, CaseReport, CheckReport, EventKind, PuppetError, ResourceTime, Status, Step,
    StepReport, Warning,
};
use crate::plan::PlannedCase;
use crate::puppet::{self, Apply, Outcome, Verdict};
use crate::spec::Matchers;
use crate::text::plural;
use crate::text::sanitize::clean as clean_output;

/// Which attempt at a case this is, and whether one that ends with a status is tried again
/// (the dispatch decides, once: its container is then not kept).
#[derive(Clone, Copy)]
pub struct Attempt<'a> {
    /// From 1.
    pub number: u32,
    pub retried: &'a (dyn Fn(Status) -> bool + Sync),
}

/// Runs an attempt at one case from `image` (the platform's, or a snapshot); never fails: whatever
/// happens is in the report, and each step is told on `events` as it starts and ends.
pub async fn run<B: Backend>(
    ctx: &Context<B>,
    events: &Emitter,
    row: &PlannedCase,
    index: usize,
    image: &str,
    attempt: Attempt<'_>,
) -> CaseReport {
    let mut case = Case::new(ctx, events, row, attempt);
    let began = case.begin(Step::Start);
    let workspace = match Workspace::create(row) {
        Ok(ws) => ws,
        Err(err) => {
            case.record(Step::Start, began, Err(err.into())).await;
            return case.done();
        }
    };
    let config = case.config(index, image, &workspace);
    let container = match engine::start_container(ctx, &config).await {
        Ok(container) => container,
        Err(err) => {
            // No container: nothing to ask about it.
            case.record(Step::Start, began, Err(err)).await;
            return case.done();
        }
    };
    case.container = Some((container.clone(), config));
    let limit = row.case().timeouts.start;
    let ready = wait_ready(ctx, &container, limit).await;
    if case.record(Step::Start, began, ready).await {
        case.run_steps(&workspace, &container).await;
    }
    case.remove(container).await;
    // The workspace must outlive the container that mounts it.
    drop(workspace);
    case.done()
}

/// A case as it runs: the reports of its steps so far, and where to tell them.
struct Case<'a, B: Backend> {
    ctx: &'a Context<B>,
    events: &'a Emitter,
    row: &'a PlannedCase,
    id: CaseId,
    started_at: DateTime<Utc>,
    clock: Instant,
    steps: Vec<StepReport>,
    checks: Vec<CheckReport>,
    /// The container and what it was made of, once it exists.
    container: Option<(String, ContainerConfig)>,
    kept: Option<String>,
    removal: Duration,
    attempt: Attempt<'a>,
}

impl<'a, B: Backend> Case<'a, B> {
    fn new(
        ctx: &'a Context<B>,
        events: &'a Emitter,
        row: &'a PlannedCase,
        attempt: Attempt<'a>,
    ) -> Self {
        Case {
            ctx,
            events,
            row,
            id: row.id(),
            started_at: Utc::now(),
            clock: Instant::now(),
            steps: Vec::new(),
            checks: Vec::new(),
            container: None,
            kept: None,
            removal: Duration::ZERO,
            attempt,
        }
    }

    /// The container of case number `index` of the run, from `image`.
    fn config(&self, index: usize, image: &str, workspace: &Workspace) -> ContainerConfig {
        let (ctx, id, case) = (self.ctx, &self.id, self.row.case());
        ContainerConfig {
            image: image.to_string(),
            name: match self.attempt.number {
                1 => format!("rehearsal-{}-{index}", &ctx.run_id[..8]),
                n => format!("rehearsal-{}-{index}-{n}", &ctx.run_id[..8]),
            },
            hostname: hostname(&id.module, &id.platform),
            labels: HashMap::from([
                (
                    labels::MANAGED_BY.to_string(),
                    labels::MANAGED_BY_VALUE.to_string(),
                ),
                (labels::RUN_ID.to_string(), ctx.run_id.clone()),
                (labels::MODULE.to_string(), id.module.clone()),
                (labels::CASE.to_string(), id.case.clone()),
                (labels::PLATFORM.to_string(), id.platform.clone()),
            ]),
            mounts: workspace.mounts.clone(),
            limits: case
                .limits
                .over(self.row.platform.definition.limits)
                .resolve(),
            network: case.network,
        }
    }

    /// The apply, the idempotency apply and the probe, once the container is up. A
    /// failed apply skips the rest; a failed second apply still lets the probe run.
    async fn run_steps(&mut self, workspace: &Workspace, container: &str) {
        let (ctx, case) = (self.ctx, self.row.case());
        let paths = PathMap::new(self.row);
        let manifest = &workspace.manifest;

        let began = self.begin(Step::Apply);
        let (events, id) = (self.events, self.id.clone());
        let live = ctx.verbose.then_some((events, &id));
        let (applied, said) = apply(ctx, live, container, manifest, case, &paths).await;
        if !self.record_said(Step::Apply, began, applied, said).await {
            // A case that must fail has no idempotency step.
            return match case.fails_with {
                Some(_) => self.skip(&[Step::Verify]),
                None => self.skip(&[Step::Idempotent, Step::Verify]),
            };
        }
        if case.fails_with.is_none() && case.idempotent {
            let began = self.begin(Step::Idempotent);
            let again = idempotent(ctx, live, container, manifest, case, &paths).await;
            let (again, note) = match again {
                Ok((output, note)) => (Ok(output), note),
                Err(err) => (Err(err), None),
            };
            let said = Said {
                note,
                ..Said::default()
            };
            self.record_said(Step::Idempotent, began, again, said).await;
        }
        if !case.expect.is_empty() {
            let began = self.begin(Step::Verify);
            let verified = match verify(ctx, container, self.row).await {
                Ok(probed) => {
                    // The step says the probe ran; each check carries its own verdict, so
                    // one failed check is one failure in JUnit, not two.
                    self.checks = probed.reports;
                    Ok(probed.stderr)
                }
                Err(err) => Err(err),
            };
            self.record(Step::Verify, began, verified).await;
        }
    }

    /// Tells that `step` starts; the clock of the step.
    fn begin(&self, step: Step) -> Instant {
        self.events.send(EventKind::StepStarted {
            id: self.id.clone(),
            step,
        });
        Instant::now()
    }

    /// Reports how `step` ended, and tells it; whether it passed. The first step that
    /// does not pass gets the container's fate when that, not the code, explains it.
    async fn record(
        &mut self,
        step: Step,
        began: Instant,
        result: Result<String, StepError>,
    ) -> bool {
        self.record_said(step, began, result, Said::default()).await
    }

    /// As [`Self::record`], with what is `said` beside the step's verdict (a note: the
    /// exemptions that changed, and stale ones; an apply's slowest resources), in its
    /// report and in the event that tells it.
    async fn record_said(
        &mut self,
        step: Step,
        began: Instant,
        result: Result<String, StepError>,
        said: Said,
    ) -> bool {
        let Said {
            note,
            slowest,
            without_driver,
            applied,
        } = said;
        let took = began.elapsed();
        let mut report = match result {
            Ok(output) => step::passed(step, took, output),
            Err(err) => {
                let first = !self.steps.iter().any(|s| s.status >= Status::Failed);
                let timed_out = err.is_timeout();
                let mut report = err.report(step, took);
                if let (true, Some((container, config))) = (first, &self.container) {
                    let cause = fault(self.ctx, container, self.started_at, config).await;
                    if let Some(cause) = cause {
                        // Exit 137 reads as the step's own timeout killing it; it was not.
                        let message = match timed_out {
                            true => String::new(),
                            false => report.message.take().unwrap_or_default(),
                        };
                        report.status = Status::Error;
                        report.message = Some(format!("{cause}\n{message}").trim_end().to_string());
                    }
                }
                report
            }
        };
        report.slowest = slowest;
        report.without_driver = without_driver;
        report.applied = applied;
        if let Some(note) = note {
            report.message = Some(match report.message.take() {
                Some(message) => format!("{message}\n{note}"),
                None => note,
            });
        }
        let passed = report.status == Status::Passed;
        self.events.send(EventKind::StepFinished {
            id: self.id.clone(),
            report: report.clone(),
        });
        self.steps.push(report);
        passed
    }

    /// Marks later steps as not run; steps the case would not have run anyway are left
    /// out.
    fn skip(&mut self, kinds: &[Step]) {
        let case = self.row.case();
        for kind in kinds {
            if (*kind == Step::Verify && case.expect.is_empty())
                || (*kind == Step::Idempotent && !case.idempotent)
            {
                continue;
            }
            self.steps
                .push(step::skipped(*kind, "an earlier step failed"));
        }
    }

    /// Removes the container, or keeps it when the user asked to (an attempt that will
    /// be tried again is not kept: its next attempt's container is the one to look at).
    async fn remove(&mut self, container: String) {
        let status = crate::outcome::worst(&self.steps, &self.checks);
        let failed = status >= Status::Failed;
        let retried = (self.attempt.retried)(status);
        let removing = Instant::now();
        if self.ctx.keep.keeps(failed) && !retried {
            self.kept = Some(container);
        } else if let Err(err) = self.ctx.backend.remove(&container).await {
            // The end-of-run sweep tries again; say it here too.
            self.events
                .send(EventKind::Warning(Warning::ContainerNotRemoved {
                    container,
                    error: err.to_string(),
                }));
        }
        self.removal = removing.elapsed();
    }

    fn done(self) -> CaseReport {
        CaseReport {
            id: self.id,
            spec_file: self.row.spec.file.clone(),
            started_at: self.started_at,
            duration: self.clock.elapsed(),
            steps: self.steps,
            checks: self.checks,
            kept_container: self.kept,
            removal: self.removal,
            fixtures: super::fixture_reports(&self.row.spec),
            attempts: Vec::new(),
        }
    }
}

/// The start's second half: waits for systemd, and installs the case's facts.
async fn wait_ready<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    limit: Duration,
) -> Result<String, StepError> {
    let ready = ["sh", "-c", &puppet::ready_script()];
    let (message, output) = match exec_within(&*ctx.backend, container, &ready, limit, None).await {
        Ok(out) if out.exit_code == 0 => return Ok(String::new()),
        Ok(out) => {
            let output = out.combined();
            (last_line(&output), output)
        }
        // A timeout stays one; an init that gave up makes the engine refuse the exec.
        Err(ExecError::TimedOut { limit }) => return Err(ExecError::TimedOut { limit }.into()),
        Err(err) => (StepError::from(err).to_string(), String::new()),
    };
    // What systemd said is why it did not come up (a read-only cgroup, say).
    match crate::backend::init_said(&*ctx.backend, container).await {
        Some(said) => Err(StepError::NotReady {
            message: format!("the container did not come up: {message}\n{said}"),
            output: format!("{output}{said}\n"),
        }),
        None => Err(StepError::NotReady { message, output }),
    }
}

/// The apply: a normal case's must succeed; a `fails_with` case's must fail as expected.
async fn apply<B: Backend>(
    ctx: &Context<B>,
    live: Live<'_>,
    container: &str,
    manifest: &str,
    case: &crate::spec::Case,
    paths: &PathMap,
) -> (Result<String, StepError>, Said) {
    let limit = case.timeouts.apply;
    let out = match run_apply(
        ctx,
        live,
        container,
        manifest,
        limit,
        Step::Apply,
        case.strict,
    )
    .await
    {
        Ok(out) => out,
        Err(err) => return (Err(err.into()), Said::default()),
    };
    let output = paths.to_host(&clean_output(&out.combined()));
    // Puppet ran (its verdict is an exit status it gives): its report says what failed
    // and where the time went; a run that settled without one ran without the driver.
    let outcome = puppet::outcome(out.exit_code);
    let report = match outcome {
        Outcome::Unchanged | Outcome::Changed | Outcome::Failed => {
            read_report(ctx, container, Step::Apply).await
        }
        Outcome::TimedOut | Outcome::DriverFailed => None,
    };
    let said = Said {
        note: None,
        slowest: report
            .iter()
            .flat_map(|report| report.slowest(SLOWEST))
            .map(|timed| ResourceTime {
                file: timed.file.map(|file| paths.to_host(&file)),
                ..timed
            })
            .collect(),
        without_driver: report.is_none()
            && matches!(outcome, Outcome::Unchanged | Outcome::Changed),
        applied: report
            .iter()
            .flat_map(|report| &report.resource_statuses)
            .filter(|(_, status)| status.file.is_some())
            .map(|(resource, status)| crate::outcome::diff::Declared {
                resource: resource.clone(),
                file: status.file.as_deref().map(|file| paths.to_host(file)),
                line: status.line,
            })
            .collect(),
    };
    let result = match &case.fails_with {
        None => judged(
            puppet::judge(Apply::First, out.exit_code, &output, report.as_ref()),
            limit,
            output,
            paths,
        ),
        Some(expected) => failed_as_expected(expected, out.exit_code, limit, output),
    };
    (result, said)
}

/// How many of an apply's slowest resources its report lists.
const SLOWEST: usize = 5;

/// What a step's report says beside its verdict.
#[derive(Debug, Default)]
pub(super) struct Said {
    /// The exemptions that changed, and stale ones.
    pub note: Option<String>,
    /// An apply's slowest resources.
    pub slowest: Vec<ResourceTime>,
    /// The apply ran as plain `puppet apply`.
    pub without_driver: bool,
    /// The first apply's resources, where they are declared.
    pub applied: Vec<crate::outcome::diff::Declared>,
}

/// The second apply, which must change nothing but the case's exempt resources; what it
/// passed with is said (the exempt changes, and exemptions that changed nothing: stale).
async fn idempotent<B: Backend>(
    ctx: &Context<B>,
    live: Live<'_>,
    container: &str,
    manifest: &str,
    case: &crate::spec::Case,
    paths: &PathMap,
) -> Result<(String, Option<String>), StepError> {
    let limit = case.timeouts.apply;
    let step = Step::Idempotent;
    let out = run_apply(ctx, live, container, manifest, limit, step, case.strict).await?;
    let output = paths.to_host(&clean_output(&out.combined()));
    // What changed, from the driver's report (read only when something did).
    let report = match puppet::outcome(out.exit_code) {
        Outcome::Changed => read_report(ctx, container, Step::Idempotent).await,
        _ => None,
    };
    let verdict = puppet::judge(Apply::Second, out.exit_code, &output, report.as_ref());
    let (verdict, note) = exempted(verdict, &case.idempotent_except, out.exit_code);
    let note = note.map(|note| paths.to_host(&note));
    judged(verdict, limit, output, paths).map(|output| (output, note))
}

/// A second apply's verdict with the case's exemptions: changes of exempt resources do
/// not fail it; the note says which changed (and why that is fine) and which exemption
/// changed nothing (stale: it can go). Exit 2 with no change named fails as before.
fn exempted(
    verdict: Verdict,
    except: &indexmap::IndexMap<String, String>,
    exit_code: i64,
) -> (Verdict, Option<String>) {
    if except.is_empty() {
        return (verdict, None);
    }
    let changed = match &verdict {
        Verdict::NotIdempotent { changed } if !changed.is_empty() => changed.clone(),
        Verdict::Passed if exit_code == 0 => Vec::new(),
        _ => return (verdict, None),
    };
    let (exempt, rest): (Vec<_>, Vec<_>) = changed
        .into_iter()
        .partition(|c| except.contains_key(&c.resource));
    let mut lines = Vec::new();
    for change in &exempt {
        lines.push(format!("exempt: {change} ({})", except[&change.resource]));
    }
    for (resource, why) in except {
        if !exempt.iter().any(|c| &c.resource == resource) {
            lines.push(format!(
                "stale exemption: {resource} did not change ({why}): remove it from `except`"
            ));
        }
    }
    let note = Some(lines.join("\n"));
    match rest.is_empty() {
        true => (Verdict::Passed, note),
        false => (Verdict::NotIdempotent { changed: rest }, note),
    }
}

/// The probe that answers every check.
async fn verify<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    row: &PlannedCase,
) -> Result<crate::probe::Probed, StepError> {
    let case = row.case();
    let limit = case.timeouts.verify;
    match crate::probe::run(&*ctx.backend, container, &case.expect, limit).await {
        Ok(probed) => Ok(probed),
        Err(crate::probe::ProbeError::TimedOut { stderr }) => Err(StepError::TimedOut {
            after: limit,
            setting: "verify",
            output: stderr,
        }),
        Err(crate::probe::ProbeError::Engine(message)) => Err(StepError::Probe(message)),
    }
}

/// The report the driver left for this step's apply, if it wrote one Puppet's way.
async fn read_report<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    step: Step,
) -> Option<puppet::report::Report> {
    let text = read_file(&*ctx.backend, container, &puppet::report_file(step.name())).await?;
    puppet::report::Report::parse(&text).ok()
}

/// A case's apply as Puppet's verdict has it.
fn judged(
    verdict: Verdict,
    limit: Duration,
    output: String,
    paths: &PathMap,
) -> Result<String, StepError> {
    // Where a failed apply's errors are, read once from the whole output (its paths
    // already mapped to the repository's); where each change of a second apply is.
    // A report's resource declared at `file` (a container path) and `line`, as an error
    // at its place in the repository; none where the report did not say.
    let at = |file: &Option<String>, line: Option<u32>, message: String| {
        Some(PuppetError {
            file: paths.to_host(file.as_ref()?),
            line: line?.max(1),
            column: None,
            message,
        })
    };
    let located = match &verdict {
        // The failed resources' places, from the report; else the places Puppet's
        // errors name (a compile error).
        Verdict::Failed { failures, .. } if failures.iter().any(|f| f.line.is_some()) => failures
            .iter()
            .filter_map(|failure| {
                let message = format!("Error: {}: {}", failure.resource, failure.message);
                at(&failure.file, failure.line, message)
            })
            .collect(),
        Verdict::Failed { .. } => puppet::errors::located(&output),
        Verdict::NotIdempotent { changed } => changed
            .iter()
            .filter_map(|change| {
                let unplaced = puppet::report::Change {
                    file: None,
                    ..change.clone()
                };
                let message = format!("not idempotent: the second apply changed {unplaced}");
                at(&change.file, change.line, message)
            })
            .collect(),
        _ => Vec::new(),
    };
    let message = match verdict {
        Verdict::Passed => return Ok(output),
        Verdict::TimedOut => {
            return Err(StepError::TimedOut {
                after: limit,
                setting: "apply",
                output,
            })
        }
        Verdict::DriverFailed { message } => return Err(StepError::Driver { message, output }),
        Verdict::Failed {
            exit_code,
            failures,
            ..
        } if !failures.is_empty() => {
            let lines: Vec<String> = failures
                .iter()
                .map(|failure| format!("  {}", paths.to_host(&failure.to_string())))
                .collect();
            let n = failures.len();
            format!(
                "puppet apply failed (exit {exit_code}): {n} {} failed:\n{}",
                plural(n, "resource", "resources"),
                lines.join("\n")
            )
        }
        Verdict::Failed {
            exit_code, errors, ..
        } if errors.is_empty() => {
            format!("puppet apply failed (exit {exit_code})")
        }
        Verdict::Failed {
            exit_code, errors, ..
        } => {
            format!(
                "puppet apply failed (exit {exit_code}):\n{}",
                errors.join("\n")
            )
        }
        Verdict::NotIdempotent { changed } if changed.is_empty() => {
            "the second apply changed something (exit 2), so the manifest is not idempotent"
                .to_string()
        }
        Verdict::NotIdempotent { changed } => {
            let lines: Vec<String> = changed
                .iter()
                .map(|change| {
                    let change = puppet::report::Change {
                        file: change.file.as_ref().map(|f| paths.to_host(f)),
                        ..change.clone()
                    };
                    format!("  {change}")
                })
                .collect();
            let n = changed.len();
            format!(
                "the second apply changed {n} {}, so the manifest is not idempotent:\n{}",
                plural(n, "property", "properties"),
                lines.join("\n")
            )
        }
    };
    Err(StepError::Failed {
        message,
        output,
        errors: located,
    })
}

/// A `fails_with` case's apply: it must fail, and say what the spec expects.
fn failed_as_expected(
    expected: &Matchers,
    exit_code: i64,
    limit: Duration,
    output: String,
) -> Result<String, StepError> {
    let message = match puppet::outcome(exit_code) {
        Outcome::Failed => {
            let missing: Vec<String> = expected
                .0
                .iter()
                .filter(|m| !m.found_in(&output))
                .map(|m| m.to_string())
                .collect();
            if missing.is_empty() {
                return Ok(output);
            }
            format!(
                "the apply failed, but its output lacks {}",
                missing.join(", ")
            )
        }
        Outcome::TimedOut => {
            return Err(StepError::TimedOut {
                after: limit,
                setting: "apply",
                output,
            })
        }
        Outcome::DriverFailed => {
            return Err(StepError::Driver {
                message: puppet::driver_said(&output),
                output,
            })
        }
        Outcome::Unchanged | Outcome::Changed => format!(
            "expected the apply to fail with {}, but it succeeded (exit {exit_code})",
            expected
                .0
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    Err(StepError::Failed {
        message,
        output,
        errors: Vec::new(),
    })
}

/// With `--verbose`: where a case's output goes as it comes (the run's events, and the
/// case it belongs to).
type Live<'a> = Option<(&'a Emitter, &'a CaseId)>;

/// Runs an apply of `manifest`, bounded by `limit`; with `--verbose` (`live`), each line
/// of its output is also an event as it comes.
async fn run_apply<B: Backend>(
    ctx: &Context<B>,
    live: Live<'_>,
    container: &str,
    manifest: &str,
    limit: Duration,
    step: Step,
    strict: bool,
) -> Result<ExecOutput, ExecError> {
    let report = puppet::report_file(step.name());
    let cmd = puppet::apply_command(manifest, limit, &report, strict);
    let cmd: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let Some((events, id)) = live else {
        return exec_within(&*ctx.backend, container, &cmd, limit, None).await;
    };
    let lines = LinePrinter::new(events, id.clone(), step);
    let sink = |chunk: &[u8]| lines.push(chunk);
    let result = exec_within(&*ctx.backend, container, &cmd, limit, Some(&sink)).await;
    lines.flush();
    result
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .to_string()
}

/// A valid hostname from the module and platform (Puppet's facts use it).
fn hostname(module: &str, platform: &str) -> String {
    let raw = format!("{module}-{platform}").to_lowercase();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.trim_matches('-').chars().take(63).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::step::MAX_OUTPUT;

    #[test]
    fn hostnames_are_valid() {
        assert_eq!(hostname("My_Module", "debian12"), "my-module-debian12");
    }

    #[test]
    fn long_output_keeps_its_end() {
        let long = format!("{}END", "x".repeat(MAX_OUTPUT + 10));
        let cut = puppet::tail(long, MAX_OUTPUT);
        assert!(cut.starts_with("[… 13 bytes cut …]\n"));
        assert!(cut.ends_with("END"));
    }
}

#[cfg(test)]
mod exemption_tests {
    use super::*;
    use crate::puppet::report::Change;

    fn change(resource: &str) -> Change {
        Change {
            property: Some("returns".into()),
            previous: Some("notrun".into()),
            desired: Some("0".into()),
            ..Change::named(resource.into())
        }
    }

    fn except(pairs: &[(&str, &str)]) -> indexmap::IndexMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn exempt_changes_pass_and_say_why() {
        let verdict = Verdict::NotIdempotent {
            changed: vec![change("Exec[stamp]")],
        };
        let (verdict, note) = exempted(verdict, &except(&[("Exec[stamp]", "by design")]), 2);
        assert_eq!(verdict, Verdict::Passed);
        assert_eq!(
            note.unwrap(),
            "exempt: Exec[stamp] returns: notrun → 0 (by design)"
        );
    }

    #[test]
    fn any_other_change_still_fails() {
        let verdict = Verdict::NotIdempotent {
            changed: vec![change("Exec[stamp]"), change("Exec[other]")],
        };
        let (verdict, note) = exempted(verdict, &except(&[("Exec[stamp]", "by design")]), 2);
        assert_eq!(
            verdict,
            Verdict::NotIdempotent {
                changed: vec![change("Exec[other]")]
            }
        );
        assert!(note.unwrap().starts_with("exempt: Exec[stamp]"));
    }

    #[test]
    fn an_exemption_that_changed_nothing_is_stale() {
        let (verdict, note) = exempted(Verdict::Passed, &except(&[("Exec[gone]", "old")]), 0);
        assert_eq!(verdict, Verdict::Passed);
        assert_eq!(
            note.unwrap(),
            "stale exemption: Exec[gone] did not change (old): remove it from `except`"
        );
    }

    #[test]
    fn without_exemptions_or_names_nothing_changes() {
        let failed = Verdict::NotIdempotent { changed: vec![] };
        assert_eq!(
            exempted(failed.clone(), &except(&[("Exec[a]", "x")]), 2),
            (failed, None)
        );
        let verdict = Verdict::NotIdempotent {
            changed: vec![change("Exec[a]")],
        };
        assert_eq!(exempted(verdict.clone(), &except(&[]), 2), (verdict, None));
    }
}
