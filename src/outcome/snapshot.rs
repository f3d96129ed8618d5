//! What became of a snapshot layer (the site baseline, a spec's `prepare`) on a platform
//! during a run, as the reports show it.

use std::time::Duration;

use serde::Serialize;

/// Which code a layer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The site's baseline (`rehearsal-site.yaml`).
    Baseline,
    /// A spec's `prepare` code.
    Prepare,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Baseline => "baseline",
            Kind::Prepare => "prepare",
        }
    }
}

/// What became of one layer on one platform during a run.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotReport {
    pub platform: String,
    pub kind: Kind,
    /// The site file or module it belongs to.
    pub of: String,
    #[serde(with = "super::seconds")]
    pub duration: Duration,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A layer's outcome, as reports show it.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    Built {
        image: String,
    },
    Reused {
        image: String,
        waited: bool,
    },
    Failed {
        message: String,
        /// The Puppet errors of a failed apply that name their file and line.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        errors: Vec<super::PuppetError>,
        output: String,
    },
}
