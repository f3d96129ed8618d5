//! The one stream of events a run produces. The runner sends them; every reporter
//! (console, JUnit, JSON, HTML) is fed from the same stream, so they can never disagree.
//!
//! As in cargo-nextest, an event is a kind stamped with when it happened (the wall clock,
//! and the time since the run started), and the events carry data, not text: a
//! cancellation carries its reason, a snapshot build its stage, and the reporters word them.
//! The run's totals are counted once, by the runner, and travel in [`EventKind::RunFinished`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::snapshot::BuildProgress;
use super::{CaseId, CaseReport, SnapshotReport, Step, StepReport, Totals};

/// One thing that happened during a run, and when.
#[derive(Debug, Clone)]
pub struct Event {
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// How long after the run started: for [`EventKind::RunFinished`], the run's duration.
    pub elapsed: Duration,
    pub kind: EventKind,
}

impl Event {
    /// An event that happened now, at the start of a run (nothing has elapsed): the
    /// events of a run without cases, and of tests that do not care about time.
    pub fn at_start(kind: EventKind) -> Event {
        Event {
            timestamp: Utc::now(),
            elapsed: Duration::ZERO,
            kind,
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// The plan is made: `total` cases will run. The event's timestamp is the run's start.
    RunStarted {
        run_id: String,
        total: usize,
        /// The engine the cases run on; `None` for a run that needs none (nothing planned).
        engine: Option<super::engine::EngineInfo>,
    },
    /// The gate is over: what validation found, each platform's part. Cases whose catalog
    /// does not compile came just before, as [`EventKind::CaseFinished`].
    Gate(Box<super::GateReport>),
    /// A snapshot layer is being made: building, waiting for another run, built.
    SnapshotProgress(BuildProgress),
    /// A snapshot layer (site baseline, a spec's `prepare`) was made, reused or failed,
    /// before any case starts from it.
    Snapshot(Box<SnapshotReport>),
    /// A case's container is being created.
    CaseStarted { id: CaseId },
    /// A step of a case began (steps that do not run get no event; they are in the
    /// case's report as skipped).
    StepStarted { id: CaseId, step: Step },
    /// A step of a case is over: the same report the case's [`CaseReport`] holds.
    StepFinished { id: CaseId, report: StepReport },
    /// An attempt at a case did not pass and the case is tried again: `attempt` (from 1)
    /// of at most `attempts` ended `status`, for `reason` (its first failed step or check,
    /// in a line). The attempt's whole report comes in the case's
    /// [`CaseReport::attempts`]; a [`EventKind::CaseStarted`] follows.
    CaseRetried {
        id: CaseId,
        attempt: u32,
        attempts: u32,
        status: super::Status,
        reason: String,
    },
    /// A case is over (whatever happened to it).
    CaseFinished(Box<CaseReport>),
    /// The run is stopping before every case ran, or a stage of that stop.
    Cancel {
        reason: CancelReason,
        stage: CancelStage,
    },
    /// Something went wrong that does not change any case's outcome.
    Warning(Warning),
    /// A line a step printed, as it came (`--verbose`: Puppet's output, live).
    Output {
        id: CaseId,
        step: Step,
        line: String,
    },
    /// Every case is over; the totals of every case the run reported, counted once.
    RunFinished { totals: Totals },
}

/// Why a run stopped before every case ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// Ctrl-C, or SIGTERM (Jenkins' abort).
    Interrupt,
    /// `--fail-fast`, and a case did not pass.
    FailFast,
    /// The site baseline failed on a platform: no case may start from it.
    BaselineFailed,
    /// The engine stopped answering and did not come back.
    EngineLost,
}

/// How far stopping has gone. A run stopped by an interrupt while cases run goes
/// through [`CancelStage::Grace`], then [`CancelStage::Again`] or
/// [`CancelStage::GraceOver`] (unless every case finished within the grace), then
/// [`CancelStage::Stop`]; other stops go straight to [`CancelStage::Stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelStage {
    /// No new case starts; the steps already running may finish within `grace`.
    Grace { grace: Duration },
    /// A second interrupt during the grace period: the running cases stop now.
    Again,
    /// The grace period is over: the cases still running are stopped.
    GraceOver,
    /// The run stops: cases that did not finish are reported as not run, and this run's
    /// containers are removed.
    Stop,
}

/// A problem worth telling that changes no case's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A case's container could not be removed when the case ended; the end-of-run sweep
    /// tries again.
    ContainerNotRemoved { container: String, error: String },
    /// The end-of-run sweep could not remove one of the run's containers.
    NotSwept { container: String, error: String },
    /// The end-of-run sweep could not list the run's containers.
    SweepFailed { error: String },
}
