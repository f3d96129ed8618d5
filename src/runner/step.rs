//! Why a step of a case did not pass, by kind: each step function returns a
//! [`StepError`], and its report's status and message come from it in one place. Code
//! that must tell a timeout from a failure asks the kind, never the message's text.

use std::time::Duration;

use super::workspace::WorkspaceError;
use crate::backend::exec::ExecError;
use crate::backend::BackendError;
use crate::outcome::{PuppetError, Status, Step, StepReport};
use crate::puppet;

/// How much of a step's output a report keeps (the end, where the errors are).
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Why a step did not pass. The message users read is its `Display`.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// Killed by its own bound in the container (`timeout`: Puppet's exit 124 or 137, or
    /// the probe's); `setting` is the spec's `timeouts:` key that sets it.
    #[error(
        "timed out after {} (raise `timeouts: {{ {setting}: … }}` in the spec if it needs longer)",
        humantime::format_duration(*after)
    )]
    TimedOut {
        after: Duration,
        setting: &'static str,
        output: String,
    },
    /// The engine did not finish the step's command within the step's limit (and the
    /// host's grace beyond it).
    #[error("timed out after {}", humantime::format_duration(*after))]
    EngineTimedOut { after: Duration },
    /// The engine could not do what the step asked.
    #[error(transparent)]
    Engine(#[from] BackendError),
    /// The engine stopped answering during the start, and did not come back within
    /// `waited`: the run stops.
    #[error(
        "the container engine stopped answering and did not come back within {}: {source}",
        humantime::format_duration(*waited)
    )]
    EngineLost {
        waited: Duration,
        source: BackendError,
    },
    /// Another case found the engine gone for good: this one does not try.
    #[error("not started: the container engine stopped answering")]
    EngineGone,
    /// The probe could not run; the engine's message, as the probe tells it.
    #[error("{0}")]
    Probe(String),
    /// The case's files could not be written.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The container did not come up (systemd, the facts): the last line it printed, and
    /// all of it.
    #[error("{message}")]
    NotReady { message: String, output: String },
    /// rehearsal's Puppet driver failed mid-apply (its apply killed by a signal, its server
    /// gone): not the case's code, so an error; what the driver said, and the output.
    #[error("{message}")]
    Driver { message: String, output: String },
    /// The case's code did not do what its spec says; `errors`: Puppet's errors that name
    /// their place, when a failed apply is why.
    #[error("{message}")]
    Failed {
        message: String,
        output: String,
        errors: Vec<PuppetError>,
    },
}

impl From<ExecError> for StepError {
    fn from(err: ExecError) -> StepError {
        match err {
            ExecError::TimedOut { limit } => StepError::EngineTimedOut { after: limit },
            ExecError::Engine(err) => StepError::Engine(err),
        }
    }
}

impl StepError {
    /// Failed when the case's code is at fault; an error when the harness could not tell.
    pub fn status(&self) -> Status {
        match self {
            StepError::Failed { .. } => Status::Failed,
            _ => Status::Error,
        }
    }

    /// A timeout, of either bound: when something outside the case explains why the
    /// step ran on (a kill, the memory limit), its timeout is no news.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            StepError::TimedOut { .. } | StepError::EngineTimedOut { .. }
        )
    }

    /// The report of the step that ended so, `took` after it began.
    pub fn report(self, step: Step, took: Duration) -> StepReport {
        let status = self.status();
        let message = self.to_string();
        let (output, errors) = match self {
            StepError::TimedOut { output, .. }
            | StepError::NotReady { output, .. }
            | StepError::Driver { output, .. } => (output, Vec::new()),
            StepError::Failed { output, errors, .. } => (output, errors),
            _ => (String::new(), Vec::new()),
        };
        let mut report = report(step, status, took, Some(message), output);
        report.errors = errors;
        report
    }
}

/// The report of a step that passed, with what it printed.
pub fn passed(step: Step, took: Duration, output: String) -> StepReport {
    report(step, Status::Passed, took, None, output)
}

/// The report of a step that did not run, and why.
pub fn skipped(step: Step, why: &str) -> StepReport {
    report(
        step,
        Status::Skipped,
        Duration::ZERO,
        Some(why.to_string()),
        String::new(),
    )
}

fn report(
    step: Step,
    status: Status,
    duration: Duration,
    message: Option<String>,
    output: String,
) -> StepReport {
    StepReport {
        step,
        status,
        duration,
        message,
        errors: Vec::new(),
        output: puppet::tail(output, MAX_OUTPUT),
        slowest: Vec::new(),
        without_driver: false,
        applied: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages users read, by kind; the timeouts' are what `fault` tells apart.
    #[test]
    fn each_kind_says_what_it_always_said() {
        let apply = StepError::TimedOut {
            after: Duration::from_secs(300),
            setting: "apply",
            output: "Notice: x\n".into(),
        };
        assert!(apply.is_timeout());
        let report = apply.report(Step::Apply, Duration::from_secs(301));
        assert_eq!(report.status, Status::Error);
        assert_eq!(
            report.message.as_deref(),
            Some("timed out after 5m (raise `timeouts: { apply: … }` in the spec if it needs longer)")
        );
        assert_eq!(report.output, "Notice: x\n");

        let engine = StepError::from(ExecError::TimedOut {
            limit: Duration::from_secs(60),
        });
        assert!(engine.is_timeout());
        assert_eq!(engine.to_string(), "timed out after 1m");

        let failed = StepError::Failed {
            errors: Vec::new(),
            message: "puppet apply failed (exit 1)".into(),
            output: String::new(),
        };
        assert!(!failed.is_timeout());
        assert_eq!(failed.status(), Status::Failed);

        let lost = StepError::EngineLost {
            waited: Duration::from_secs(60),
            source: BackendError::Unreachable("connection refused".into()),
        };
        assert_eq!(lost.status(), Status::Error);
        assert_eq!(
            lost.to_string(),
            "the container engine stopped answering and did not come back within 1m: \
             cannot reach the container engine: connection refused"
        );
        assert_eq!(
            StepError::EngineGone.to_string(),
            "not started: the container engine stopped answering"
        );
    }
}
