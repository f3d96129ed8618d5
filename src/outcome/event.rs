//! The one stream of events a run produces. The runner sends them; every reporter
//! (console, JUnit, JSON, HTML) is fed from the same stream, so they can never disagree.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{CaseId, CaseReport, SnapshotReport};

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The plan is made: `total` cases will run.
    RunStarted {
        run_id: String,
        total: usize,
        started_at: DateTime<Utc>,
    },
    /// A snapshot layer (site baseline, a spec's `prepare`) was made, reused or failed,
    /// before any case starts from it.
    Snapshot(Box<SnapshotReport>),
    /// A case's container is being created.
    CaseStarted { id: CaseId },
    /// A case is over (whatever happened to it).
    CaseFinished(Box<CaseReport>),
    /// Every case is over.
    RunFinished { duration: Duration },
}
