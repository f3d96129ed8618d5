//! Running a plan: cases start in plan order, at most `jobs` at a time, and finish in
//! any order. This module is the dispatch: snapshots first, then the cases with bounded
//! concurrency, interrupts (a grace period, then a stop; [`Interrupts`]), `--fail-fast`,
//! an engine that went away ([`engine`]), and the sweep at the end; one case's steps are
//! in [`case`]. Every outcome goes out as a timed event on one stream that all reporters
//! read ([`events`]); a stop is an event with its reason, not a line printed here.
//! Whatever happens (a failed case, an engine error, Ctrl-C or SIGTERM), every container
//! the run created is removed unless the user asked to keep it.

pub mod case;
mod engine;
mod events;
mod fault;
mod live;
pub mod retry;
mod signal;
pub mod step;
pub mod workspace;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use tokio::time::Instant;

use crate::backend::Backend;
use crate::labels;
use crate::outcome::{
    CancelReason, CancelStage, CaseReport, EventKind, Status, Step, StepReport, Totals, Warning,
};
use crate::plan::PlannedCase;
use crate::report::Reporter;
use crate::snapshot;
use events::Emitter;
pub use retry::Retries;
pub use signal::Interrupts;

/// When to keep a case's container instead of removing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    #[default]
    Never,
    OnFailure,
    Always,
}

impl Keep {
    pub fn keeps(self, failed: bool) -> bool {
        match self {
            Keep::Never => false,
            Keep::OnFailure => failed,
            Keep::Always => true,
        }
    }
}

/// What every case of a run shares.
pub struct Context<B: Backend> {
    pub backend: Arc<B>,
    /// Unique per run; every container carries it as a label.
    pub run_id: String,
    pub keep: Keep,
    /// Stop starting cases after the first that does not pass.
    pub fail_fast: bool,
    /// Stream Puppet's output to stderr as it comes (a run of one case).
    pub verbose: bool,
    /// Set once the engine stopped answering for longer than a case waits for it: the
    /// run stops (exit 3).
    pub engine_lost: std::sync::atomic::AtomicBool,
    /// How long a case waits for an engine that stopped answering before the run gives up.
    pub engine_wait: std::time::Duration,
    /// Validate and compile before any case starts ([`crate::gate`]); `None`: no gate.
    pub gate: Option<crate::gate::Options>,
    /// When a case that did not pass is tried again.
    pub retries: Retries,
    /// `--diff-against`: the gate compares each case's catalog with the base's.
    pub diff: Option<Arc<crate::gate::DiffBase>>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub totals: Totals,
    /// Stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    /// Stopped because the engine stopped answering and did not come back.
    pub engine_lost: bool,
    /// The gate's findings that fail the run.
    pub gate_failing: usize,
}

/// Runs the plan, feeding `reporters`; returns once every report is written, with the
/// first error a reporter met (the run still ran to its end, containers removed).
/// `interrupts`: Ctrl-C and SIGTERM ([`Interrupts::from_signals`]), or a test's channel.
pub async fn run<B: Backend>(
    ctx: Arc<Context<B>>,
    plan: Vec<PlannedCase>,
    jobs: usize,
    reporters: Vec<Box<dyn Reporter>>,
    mut interrupts: Interrupts,
) -> io::Result<RunSummary> {
    let (events, reporting) = Emitter::start(reporters);
    events.send(EventKind::RunStarted {
        run_id: ctx.run_id.clone(),
        total: plan.len(),
        engine: Some(ctx.backend.info()),
    });
    let mut tally = Tally::default();

    // The gate first: a case whose catalog does not compile fails before anything starts.
    let mut gate_failing = 0;
    let gated = match &ctx.gate {
        None => Some(()),
        Some(options) => {
            tokio::select! {
                gated = crate::gate::run(&*ctx.backend, &ctx.run_id, &plan, options, ctx.diff.as_deref()) => {
                    gate_failing = gated.report.failing().count();
                    for (index, step) in gated.failed {
                        let mut report = not_run(&plan[index], "");
                        report.duration = step.duration;
                        report.steps = vec![step];
                        tally.finish(index, report, &events);
                    }
                    // After the cases it failed: whoever votes early on it has them.
                    events.send(EventKind::Gate(Box::new(gated.report)));
                    Some(())
                }
                _ = interrupts.next() => None,
            }
        }
    };
    // Snapshots next, for the cases still to run: none starts before the layers it
    // stands on exist.
    let remaining: Vec<PlannedCase> = plan
        .iter()
        .enumerate()
        .filter(|(index, _)| !tally.finished.contains(index))
        .map(|(_, row)| row.clone())
        .collect();
    let made = match gated {
        None => None,
        Some(()) if ctx.fail_fast && tally.totals.failed > 0 => Some(None),
        Some(()) => snapshots(&ctx, &remaining, jobs, &events, &mut interrupts)
            .await
            .map(Some),
    };
    let stop = match made {
        None => Some(CancelReason::Interrupt),
        Some(None) => Some(CancelReason::FailFast),
        Some(Some(made)) => match made.failed_baseline() {
            // Every case of the failing platform errors with the baseline's failure; the
            // run stops there.
            Some(failure) => {
                for (index, row) in plan.iter().enumerate() {
                    if row.platform.name == failure.platform && !tally.finished.contains(&index) {
                        tally.finish(index, cannot_start(row, &failure), &events);
                    }
                }
                Some(CancelReason::BaselineFailed)
            }
            None => {
                let starts = plan
                    .iter()
                    .enumerate()
                    .map(|(index, row)| {
                        (!tally.finished.contains(&index)).then(|| made.start_of(row))
                    })
                    .collect();
                let dispatch = Dispatch {
                    ctx: &ctx,
                    plan: &plan,
                    jobs,
                    events: &events,
                };
                dispatch.cases(starts, &mut interrupts, &mut tally).await
            }
        },
    };
    if let Some(reason) = stop {
        events.send(EventKind::Cancel {
            reason,
            stage: CancelStage::Stop,
        });
        let why = not_run_because(reason);
        for (index, row) in plan.iter().enumerate() {
            if !tally.finished.contains(&index) {
                tally.finish(index, not_run(row, why), &events);
            }
        }
    }
    sweep(&ctx, &tally.kept, &events).await;
    events.send(EventKind::RunFinished {
        totals: tally.totals,
    });
    drop(events);
    reporting.await.map_err(io::Error::other)??;
    Ok(RunSummary {
        totals: tally.totals,
        interrupted: stop == Some(CancelReason::Interrupt),
        engine_lost: stop == Some(CancelReason::EngineLost),
        gate_failing,
    })
}

/// Makes the snapshots the plan needs, telling how each build goes; `None` when an
/// interrupt came first (the sweep removes the build containers).
async fn snapshots<B: Backend>(
    ctx: &Context<B>,
    plan: &[PlannedCase],
    jobs: usize,
    events: &Emitter,
    interrupts: &mut Interrupts,
) -> Option<snapshot::build::Snapshots> {
    let progress = |progress| events.send(EventKind::SnapshotProgress(progress));
    let made = tokio::select! {
        made = snapshot::build::resolve(&*ctx.backend, plan, &ctx.run_id, jobs, &progress) => made,
        _ = interrupts.next() => return None,
    };
    for report in &made.reports {
        events.send(EventKind::Snapshot(Box::new(report.clone())));
    }
    Some(made)
}

/// The finished cases of a run: the one place its totals are counted.
#[derive(Default)]
struct Tally {
    totals: Totals,
    /// Plan indices of the cases reported.
    finished: HashSet<usize>,
    /// Containers kept on purpose; the sweep leaves them.
    kept: HashSet<String>,
}

impl Tally {
    /// Counts the case of plan row `index`, and tells it.
    fn finish(&mut self, index: usize, report: CaseReport, events: &Emitter) {
        self.finished.insert(index);
        self.kept.extend(report.kept_container.clone());
        self.totals.count(&report);
        events.send(EventKind::CaseFinished(Box::new(report)));
    }
}

/// What the loop over the cases works with.
struct Dispatch<'a, B: Backend> {
    ctx: &'a Context<B>,
    plan: &'a [PlannedCase],
    jobs: usize,
    events: &'a Emitter,
}

impl<B: Backend> Dispatch<'_, B> {
    /// Runs the cases, `jobs` at a time, in plan order, from the images in `starts`;
    /// why the run stops early, if it does. Returning drops the cases still running,
    /// which cancels them; the sweep removes their containers.
    async fn cases(
        &self,
        starts: Vec<Option<Result<String, Arc<snapshot::StartFailure>>>>,
        interrupts: &mut Interrupts,
        tally: &mut Tally,
    ) -> Option<CancelReason> {
        let (ctx, events, plan) = (self.ctx, self.events, self.plan);
        // Set by the first interrupt: cases not started yet are not started at all.
        let stopping = AtomicBool::new(false);
        let stopping = &stopping;
        // By index: a stream of borrowed rows would not be `Send` for every lifetime.
        let cases = futures_util::stream::iter(starts.into_iter().enumerate())
            .filter_map(|(index, start)| std::future::ready(start.map(|start| (index, start))))
            .map(|(index, start)| async move {
                let row = &plan[index];
                if stopping.load(Ordering::SeqCst) {
                    return (index, not_run(row, INTERRUPTED));
                }
                events.send(EventKind::CaseStarted { id: row.id() });
                let report = match start {
                    Ok(image) => self.attempts(row, index, &image, stopping).await,
                    Err(failure) => cannot_start(row, &failure),
                };
                (index, report)
            })
            .buffer_unordered(self.jobs.max(1));
        let mut cases = std::pin::pin!(cases);

        // After a first interrupt: until when running steps may go on.
        let mut grace: Option<Instant> = None;
        let deadline = async |at: Option<Instant>| match at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        };
        let interrupt = |stage| {
            events.send(EventKind::Cancel {
                reason: CancelReason::Interrupt,
                stage,
            })
        };
        loop {
            tokio::select! {
                next = cases.next() => match next {
                    Some((index, report)) => {
                        let status = report.status();
                        tally.finish(index, report, events);
                        if ctx.engine_lost.load(Ordering::Relaxed) {
                            return Some(CancelReason::EngineLost);
                        }
                        if ctx.fail_fast && matches!(status, Status::Failed | Status::Error) {
                            return Some(CancelReason::FailFast);
                        }
                    }
                    None => return grace.map(|_| CancelReason::Interrupt),
                },
                _ = interrupts.next() => {
                    if grace.is_some() {
                        interrupt(CancelStage::Again);
                        return Some(CancelReason::Interrupt);
                    }
                    stopping.store(true, Ordering::SeqCst);
                    grace = Some(Instant::now() + GRACE);
                    interrupt(CancelStage::Grace { grace: GRACE });
                }
                _ = deadline(grace) => {
                    interrupt(CancelStage::GraceOver);
                    return Some(CancelReason::Interrupt);
                }
            }
        }
    }
}

impl<B: Backend> Dispatch<'_, B> {
    /// Runs a case until it passes or its retries are spent; the last attempt's report,
    /// carrying the attempts before it. No retry starts once the run is stopping.
    async fn attempts(
        &self,
        row: &PlannedCase,
        index: usize,
        image: &str,
        stopping: &AtomicBool,
    ) -> CaseReport {
        let (ctx, events) = (self.ctx, self.events);
        let (first_start, clock) = (Utc::now(), Instant::now());
        let mut earlier = Vec::new();
        let mut attempt = 1;
        loop {
            // One decision whether an attempt is retried, taken once (when its container
            // is removed, or here), so a container is never dropped for a retry that an
            // interrupt then calls off.
            let decided = std::sync::atomic::AtomicU8::new(0);
            let retried = |status| match decided.load(Ordering::SeqCst) {
                1 => true,
                2 => false,
                _ => {
                    let again = ctx.retries.again(row.case(), attempt, status)
                        && !stopping.load(Ordering::SeqCst)
                        && !ctx.engine_lost.load(Ordering::Relaxed);
                    decided.store(if again { 1 } else { 2 }, Ordering::SeqCst);
                    again
                }
            };
            let this = case::Attempt {
                number: attempt,
                retried: &retried,
            };
            let mut report = case::run(ctx, events, row, index, image, this).await;
            let status = report.status();
            if !retried(status) {
                if !earlier.is_empty() {
                    report.attempts = earlier;
                    report.started_at = first_start;
                    report.duration = clock.elapsed();
                }
                return report;
            }
            let done = report.as_attempt();
            events.send(EventKind::CaseRetried {
                id: row.id(),
                attempt,
                attempts: ctx.retries.attempts(row.case()),
                reason: done.reason(),
                status,
            });
            earlier.push(done);
            attempt += 1;
            events.send(EventKind::CaseStarted { id: row.id() });
        }
    }
}

/// Removes every container of this run that was not kept on purpose: those of cases cut
/// short, and snapshot build containers, whatever `--keep` says.
async fn sweep<B: Backend>(ctx: &Context<B>, kept: &HashSet<String>, events: &Emitter) {
    let labels = [
        (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
        (labels::RUN_ID, ctx.run_id.as_str()),
    ];
    let warn = |warning| events.send(EventKind::Warning(warning));
    match ctx.backend.containers_labelled(&labels).await {
        Ok(ids) => {
            for id in ids.into_iter().filter(|id| !kept.contains(id)) {
                if let Err(err) = ctx.backend.remove(&id).await {
                    warn(Warning::NotSwept {
                        container: id,
                        error: err.to_string(),
                    });
                }
            }
        }
        Err(err) => warn(Warning::SweepFailed {
            error: err.to_string(),
        }),
    }
}

/// How long running steps may go on after a first interrupt.
const GRACE: Duration = Duration::from_secs(10);
/// Why a case did not run when the run was interrupted.
const INTERRUPTED: &str = "not run: the run was interrupted";

/// Why the cases that did not finish did not run, in their reports.
fn not_run_because(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::Interrupt => INTERRUPTED,
        CancelReason::FailFast => "not run: --fail-fast stopped the run at the first failure",
        CancelReason::BaselineFailed => "not run: the site baseline failed, so the run stopped",
        CancelReason::EngineLost => "not run: the container engine stopped answering",
    }
}

/// The report of a case whose snapshot could not be made: its `prepare` step errs with
/// the layer's failure.
fn cannot_start(row: &PlannedCase, failure: &snapshot::StartFailure) -> CaseReport {
    let mut report = not_run(row, "");
    report.steps = vec![StepReport {
        step: Step::Prepare,
        status: Status::Error,
        duration: Duration::ZERO,
        message: Some(format!(
            "{} failed on {}, so the case did not start: {}",
            failure.layer, failure.platform, failure.failure.message
        )),
        errors: failure.failure.errors.clone(),
        output: failure.failure.output.clone(),
        slowest: Vec::new(),
        without_driver: false,
        applied: Vec::new(),
    }];
    report
}

/// A case's fixtures as its report names them (a git one with its revision and commit).
pub fn fixture_reports(spec: &crate::spec::ModuleSpec) -> Vec<crate::outcome::FixtureReport> {
    spec.fixtures
        .iter()
        .filter(|f| f.name != spec.module_name)
        .map(|f| {
            let declared_at = f.origin.declared_at();
            let mut report = crate::outcome::FixtureReport {
                name: f.name.clone(),
                path: f.path.clone(),
                declared_at,
                git: None,
                revision: None,
                commit: None,
                forge: None,
                version: None,
            };
            match &f.origin.source {
                crate::spec::Source::Local => {}
                crate::spec::Source::Git { url, want, commit } => {
                    report.git = Some(url.clone());
                    report.revision = Some(want.to_string());
                    report.commit = Some(commit.clone());
                }
                crate::spec::Source::Forge {
                    slug,
                    forge,
                    asked,
                    version,
                } => {
                    report.forge = Some(format!("{slug} from {forge}"));
                    report.revision = Some(asked.clone());
                    report.version = Some(version.clone());
                }
            }
            report
        })
        .collect()
}

/// The report of a case that never ran.
pub fn not_run(row: &PlannedCase, why: &str) -> CaseReport {
    CaseReport {
        id: row.id(),
        spec_file: row.spec.file.clone(),
        started_at: Utc::now(),
        duration: Duration::ZERO,
        steps: vec![StepReport {
            step: Step::Start,
            status: Status::Skipped,
            duration: Duration::ZERO,
            message: Some(why.to_string()),
            errors: Vec::new(),
            output: String::new(),
            slowest: Vec::new(),
            without_driver: false,
            applied: Vec::new(),
        }],
        checks: vec![],
        kept_container: None,
        removal: Duration::ZERO,
        fixtures: fixture_reports(&row.spec),
        attempts: Vec::new(),
    }
}
