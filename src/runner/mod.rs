//! Running a plan: cases start in plan order, at most `jobs` at a time, and finish in
//! any order. Every outcome goes out as an event on one stream that all reporters read.
//! Whatever happens (a failed case, an engine error, Ctrl-C or SIGTERM), every container
//! the run created is removed unless the user asked to keep it.

pub mod case;
pub mod workspace;

use crate::labels;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::backend::Backend;
use crate::outcome::{CaseReport, Event, Status, Step, StepReport, Totals};
use crate::plan::PlannedCase;
use crate::report::Reporter;
use crate::snapshot;

/// When to keep a case's container instead of removing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
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
}

/// Why the loop over the cases ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Interrupted,
    FailFast,
    /// The site baseline failed on a platform: no case may start from it.
    BaselineFailed,
    EngineLost,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub totals: Totals,
    /// Stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    /// Stopped because the engine stopped answering and did not come back.
    pub engine_lost: bool,
}

/// Runs the plan, feeding `reporters`; returns once every report is written.
pub async fn run<B: Backend>(
    ctx: Arc<Context<B>>,
    plan: Vec<PlannedCase>,
    jobs: usize,
    reporters: Vec<Box<dyn Reporter>>,
) -> std::io::Result<RunSummary> {
    let (tx, rx) = mpsc::unbounded_channel::<Event>();
    let reporting = tokio::spawn(report(rx, reporters));
    let clock = Instant::now();
    let _ = tx.send(Event::RunStarted {
        run_id: ctx.run_id.clone(),
        total: plan.len(),
        started_at: Utc::now(),
    });

    let mut totals = Totals::default();
    let mut finished: HashSet<usize> = HashSet::new();
    // Containers kept on purpose; the sweep leaves them.
    let mut kept: HashSet<String> = HashSet::new();

    // One listener at a time for the whole run, so no signal falls between two iterations.
    let mut signal = Box::pin(interrupt());

    // Snapshots first: no case starts before the layers it stands on exist.
    let progress = |line: &str| eprintln!("{line}");
    let snapshots = tokio::select! {
        made = snapshot::build::resolve(&*ctx.backend, &plan, &ctx.run_id, jobs, &progress) => Some(made),
        _ = &mut signal => None,
    };
    let (starts, baseline_failed) = match &snapshots {
        Some(made) => {
            for report in &made.reports {
                let _ = tx.send(Event::Snapshot(Box::new(report.clone())));
            }
            let starts: Vec<_> = plan.iter().map(|row| made.start_of(row)).collect();
            (starts, made.failed_baseline())
        }
        None => (Vec::new(), None),
    };

    // Set by the first interrupt: cases not started yet are not started at all.
    let stopping = Arc::new(AtomicBool::new(false));
    let (case_ctx, case_tx, case_stopping) = (ctx.clone(), tx.clone(), stopping.clone());
    let mut cases = Box::pin(
        futures_util::stream::iter(plan.iter().zip(starts).enumerate())
            .map(move |(index, (row, start))| {
                let ctx = case_ctx.clone();
                let tx = case_tx.clone();
                let stopping = case_stopping.clone();
                async move {
                    if stopping.load(Ordering::SeqCst) {
                        return (index, not_run(row, INTERRUPTED));
                    }
                    let _ = tx.send(Event::CaseStarted { id: row.id() });
                    let report = match start {
                        Ok(image) => case::run(&ctx, row, index, &image).await,
                        Err(failure) => cannot_start(row, &failure),
                    };
                    (index, report)
                }
            })
            .buffer_unordered(jobs.max(1)),
    );

    let stop = if snapshots.is_none() {
        Some(Stop::Interrupted)
    } else if let Some(failure) = &baseline_failed {
        // Every case of the failing platform errors with the baseline's failure; the run
        // stops there.
        for (index, row) in plan.iter().enumerate() {
            if row.platform.name == failure.platform {
                finished.insert(index);
                let report = cannot_start(row, failure);
                totals.add(report.status());
                let _ = tx.send(Event::CaseFinished(Box::new(report)));
            }
        }
        Some(Stop::BaselineFailed)
    } else {
        None
    };
    let stop = if stop.is_some() {
        stop
    } else {
        // After a first interrupt: until when running steps may go on.
        let mut grace: Option<tokio::time::Instant> = None;
        let deadline = async move |at: Option<tokio::time::Instant>| match at {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        };
        loop {
            tokio::select! {
                next = cases.next() => match next {
                    Some((index, report)) => {
                        finished.insert(index);
                        kept.extend(report.kept_container.clone());
                        let status = report.status();
                        totals.add(status);
                        let _ = tx.send(Event::CaseFinished(Box::new(report)));
                        if ctx.engine_lost.load(std::sync::atomic::Ordering::Relaxed) {
                            break Some(Stop::EngineLost);
                        }
                        if ctx.fail_fast && matches!(status, Status::Failed | Status::Error) {
                            break Some(Stop::FailFast);
                        }
                    }
                    None => break grace.map(|_| Stop::Interrupted),
                },
                _ = &mut signal => {
                    if grace.is_some() {
                        eprintln!("interrupted again: stopping now, removing this run's containers");
                        break Some(Stop::Interrupted);
                    }
                    stopping.store(true, Ordering::SeqCst);
                    grace = Some(tokio::time::Instant::now() + GRACE);
                    signal = Box::pin(interrupt());
                    eprintln!(
                        "interrupted: no new case starts; running steps may finish within {}s (interrupt again to stop now)",
                        GRACE.as_secs()
                    );
                }
                _ = deadline(grace) => {
                    eprintln!("the grace period is over: stopping the cases still running");
                    break Some(Stop::Interrupted);
                }
            }
        }
    };
    // Dropping the stream cancels the cases still running; the sweep removes their containers.
    drop(cases);
    if let Some(stop) = stop {
        let why = match stop {
            Stop::Interrupted => {
                eprintln!(
                    "interrupted: removing this run's containers, writing reports with what finished"
                );
                INTERRUPTED
            }
            Stop::FailFast => "not run: --fail-fast stopped the run at the first failure",
            Stop::BaselineFailed => "not run: the site baseline failed, so the run stopped",
            Stop::EngineLost => {
                eprintln!("error: the container engine stopped answering and did not come back: stopping the run");
                "not run: the container engine stopped answering"
            }
        };
        for (_, row) in plan
            .iter()
            .enumerate()
            .filter(|(i, _)| !finished.contains(i))
        {
            let report = not_run(row, why);
            totals.add(report.status());
            let _ = tx.send(Event::CaseFinished(Box::new(report)));
        }
    }
    let interrupted = stop == Some(Stop::Interrupted);
    sweep(&ctx, &kept).await;
    let _ = tx.send(Event::RunFinished {
        duration: clock.elapsed(),
    });
    drop(tx);
    reporting.await.map_err(std::io::Error::other)??;
    Ok(RunSummary {
        totals,
        interrupted,
        engine_lost: stop == Some(Stop::EngineLost),
    })
}

/// Feeds every event to every reporter, then lets each finish.
async fn report(
    mut rx: mpsc::UnboundedReceiver<Event>,
    mut reporters: Vec<Box<dyn Reporter>>,
) -> std::io::Result<()> {
    while let Some(event) = rx.recv().await {
        for reporter in reporters.iter_mut() {
            reporter.event(&event);
        }
    }
    for reporter in reporters.iter_mut() {
        reporter.finish()?;
    }
    Ok(())
}

/// Removes every container of this run that was not kept on purpose: those of cases cut
/// short, and snapshot build containers, whatever `--keep` says.
async fn sweep<B: Backend>(ctx: &Context<B>, kept: &HashSet<String>) {
    let labels = [
        (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
        (labels::RUN_ID, ctx.run_id.as_str()),
    ];
    match ctx.backend.containers_labelled(&labels).await {
        Ok(ids) => {
            for id in ids.into_iter().filter(|id| !kept.contains(id)) {
                if let Err(err) = ctx.backend.remove(&id).await {
                    eprintln!(
                        "warning: {err} (container {id}); `rehearsal clean` removes it later"
                    );
                }
            }
        }
        Err(err) => eprintln!("warning: {err}; this run's containers may remain"),
    }
}

/// How long running steps may go on after a first interrupt.
const GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// Why a case did not run when the run was interrupted.
const INTERRUPTED: &str = "not run: the run was interrupted";

/// Resolves on Ctrl-C or SIGTERM (Jenkins' abort).
async fn interrupt() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// The report of a case whose snapshot could not be made: its `prepare` step errs with
/// the layer's failure.
fn cannot_start(row: &PlannedCase, failure: &snapshot::StartFailure) -> CaseReport {
    let mut report = not_run(row, "");
    report.steps = vec![StepReport {
        step: Step::Prepare,
        status: Status::Error,
        duration: std::time::Duration::ZERO,
        message: Some(format!(
            "{} failed on {}, so the case did not start: {}",
            failure.layer, failure.platform, failure.failure.message
        )),
        errors: failure.failure.errors.clone(),
        output: failure.failure.output.clone(),
    }];
    report
}

/// The report of a case that never ran.
pub fn not_run(row: &PlannedCase, why: &str) -> CaseReport {
    CaseReport {
        id: row.id(),
        spec_file: row.spec.file.clone(),
        started_at: Utc::now(),
        duration: std::time::Duration::ZERO,
        steps: vec![StepReport {
            step: Step::Start,
            status: Status::Skipped,
            duration: std::time::Duration::ZERO,
            message: Some(why.to_string()),
            errors: Vec::new(),
            output: String::new(),
        }],
        checks: vec![],
        kept_container: None,
        removal: std::time::Duration::ZERO,
    }
}

/// Container paths of a case and the host paths they come from (shown relative to the
/// current directory when inside it).
pub fn workspace_paths(row: &PlannedCase) -> Vec<(String, String)> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let show = |p: &Path| -> String {
        p.strip_prefix(&cwd)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let mut pairs = vec![(
        crate::layout::module_dir(&row.spec.module_name),
        show(&row.spec.module_dir),
    )];
    for fixture in &row.spec.fixtures {
        pairs.push((
            crate::layout::module_dir(&fixture.name),
            show(&fixture.path),
        ));
    }
    pairs
}
