//! When a case that did not pass is tried again. Retries exist for verdicts that cannot be
//! trusted either way (an engine that lost a container, a mirror that timed out), so
//! a case that passes on a retry is reported as flaky, never as passed, and one that fails
//! every attempt shows each attempt. What is retried by default tells the two kinds of
//! trouble apart: `--retries N` alone retries errors (the harness could not find out:
//! the engine, a killed container, a timeout), not failures (the module did not do what
//! the spec says), which a retry would only hide; `--retry-failures` adds those. A case's
//! own `retries: N` is its author saying it is flaky: it retries both.

use crate::outcome::Status;
use crate::spec::Case;

/// The run's retry settings (`--retries`, `--retry-failures`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retries {
    /// Attempts after the first, for a case without a `retries` of its own.
    pub count: u32,
    /// Failures are retried too, not only errors.
    pub failures: bool,
}

impl Retries {
    /// How many attempts `case` may have at the most.
    pub fn attempts(&self, case: &Case) -> u32 {
        1 + case.retries.unwrap_or(self.count)
    }

    /// Whether `case`, whose attempt number `attempt` (from 1) ended `status`, is tried
    /// again.
    pub fn again(&self, case: &Case, attempt: u32, status: Status) -> bool {
        if attempt >= self.attempts(case) {
            return false;
        }
        match status {
            Status::Error => true,
            Status::Failed => case.retries.is_some() || self.failures,
            Status::Passed | Status::Skipped => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Manifest, Timeouts};

    fn case(retries: Option<u32>) -> Case {
        Case {
            name: "c".into(),
            manifest: Manifest::Inline("include x".into()),
            hiera_data: Default::default(),
            facts: Default::default(),
            expect: Vec::new(),
            fails_with: None,
            idempotent: true,
            idempotent_except: Default::default(),
            strict: true,
            compile: true,
            retries,
            timeouts: Timeouts::default(),
            limits: Default::default(),
            network: Default::default(),
        }
    }

    #[test]
    fn without_retries_nothing_is_tried_again() {
        let run = Retries::default();
        for status in [Status::Error, Status::Failed] {
            assert!(!run.again(&case(None), 1, status));
        }
    }

    #[test]
    fn the_runs_retries_are_for_errors_unless_failures_are_asked_for() {
        let run = Retries {
            count: 2,
            failures: false,
        };
        assert!(run.again(&case(None), 1, Status::Error));
        assert!(run.again(&case(None), 2, Status::Error));
        assert!(
            !run.again(&case(None), 3, Status::Error),
            "three attempts in all"
        );
        assert!(!run.again(&case(None), 1, Status::Failed));
        assert!(!run.again(&case(None), 1, Status::Passed));
        assert!(!run.again(&case(None), 1, Status::Skipped));
        let failures = Retries {
            failures: true,
            ..run
        };
        assert!(failures.again(&case(None), 1, Status::Failed));
        assert!(!failures.again(&case(None), 3, Status::Failed));
    }

    #[test]
    fn a_cases_own_retries_win_and_cover_failures() {
        let run = Retries {
            count: 3,
            failures: false,
        };
        assert_eq!(run.attempts(&case(Some(1))), 2);
        assert!(run.again(&case(Some(1)), 1, Status::Failed));
        assert!(!run.again(&case(Some(1)), 2, Status::Error));
        // `retries: 0` turns the run's retries off for that case.
        assert!(!run.again(&case(Some(0)), 1, Status::Error));
        assert_eq!(run.attempts(&case(None)), 4);
    }
}
