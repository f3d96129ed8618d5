//! Why something failed, as data, from where it is found: a check's mismatch
//! `{attribute, expected, actual}` (the probe's evaluation builds it) and a Puppet error's
//! place `{file, line, column, message}` (the Puppet leaf reads it from an apply's output).
//! Every reporter renders these fields; none of them reads a place or an expected value
//! back out of rendered text. The one-line forms people read (`mode: expected 0644, got
//! 0600`) are the [`Display`](std::fmt::Display) impls here, so they are written once.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One reason a check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckFailure {
    /// An attribute that does not hold: `mode: expected 0644, got 0600`.
    Mismatch(Mismatch),
    /// A text that should be in something and is not: `contains: expected listen 9090, not
    /// found`; or, `present`, one that should not be and is (a `!` matcher): `contains:
    /// expected no debug, but it is there`.
    Contains {
        attribute: String,
        expected: String,
        present: bool,
    },
    /// The probe could not answer: `cannot check: curl or wget not in the image`; with an
    /// attribute, only that one: `cannot check enabled: systemd is not PID 1 …`.
    CannotCheck {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attribute: Option<String>,
        reason: String,
    },
    /// A failure that is said in words: `timed out after 1s`, `cannot reach http://…: …`,
    /// `flavor: Package[nginx] has no such attribute (it has: ensure)`.
    Note {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attribute: Option<String>,
        text: String,
    },
    /// A check with `retry:` that still failed when its time was up: `still failing after
    /// 30s (28 tries, every 1s)`.
    StillFailing {
        #[serde(with = "super::seconds")]
        after: Duration,
        tries: u32,
        #[serde(with = "super::seconds")]
        every: Duration,
    },
}

/// An attribute whose value is not the one the spec asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// `mode`, `stdout`, `listening`.
    pub attribute: String,
    /// What the spec asks for, as written or as its matcher reads: `0644`, `/Welcome/`,
    /// `to include wheel, adm`.
    pub expected: String,
    /// What the probe found, as shown to people (long values cut): `0600`, `false (no such
    /// file)`.
    pub actual: String,
}

impl CheckFailure {
    pub fn mismatch(
        attribute: impl Into<String>,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) -> CheckFailure {
        CheckFailure::Mismatch(Mismatch {
            attribute: attribute.into(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        })
    }

    /// `cannot check: {reason}`.
    pub fn cannot_check(reason: impl Into<String>) -> CheckFailure {
        CheckFailure::CannotCheck {
            attribute: None,
            reason: reason.into(),
        }
    }

    /// A failure in words, about the check as a whole.
    pub fn note(text: impl Into<String>) -> CheckFailure {
        CheckFailure::Note {
            attribute: None,
            text: text.into(),
        }
    }

    /// The attribute it is about, when it is about one.
    pub fn attribute(&self) -> Option<&str> {
        match self {
            CheckFailure::Mismatch(m) => Some(&m.attribute),
            CheckFailure::Contains { attribute, .. } => Some(attribute),
            CheckFailure::CannotCheck { attribute, .. } | CheckFailure::Note { attribute, .. } => {
                attribute.as_deref()
            }
            CheckFailure::StillFailing { .. } => None,
        }
    }

    /// The same failure with every text passed through `f` (to clean it of terminal codes).
    pub fn map_text(&self, f: impl Fn(&str) -> String) -> CheckFailure {
        let opt = |s: &Option<String>| s.as_deref().map(&f);
        match self {
            CheckFailure::Mismatch(m) => CheckFailure::Mismatch(Mismatch {
                attribute: f(&m.attribute),
                expected: f(&m.expected),
                actual: f(&m.actual),
            }),
            CheckFailure::Contains {
                attribute,
                expected,
                present,
            } => CheckFailure::Contains {
                attribute: f(attribute),
                expected: f(expected),
                present: *present,
            },
            CheckFailure::CannotCheck { attribute, reason } => CheckFailure::CannotCheck {
                attribute: opt(attribute),
                reason: f(reason),
            },
            CheckFailure::Note { attribute, text } => CheckFailure::Note {
                attribute: opt(attribute),
                text: f(text),
            },
            CheckFailure::StillFailing { .. } => self.clone(),
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.attribute, self.expected, self.actual
        )
    }
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckFailure::Mismatch(m) => m.fmt(f),
            CheckFailure::Contains {
                attribute,
                expected,
                present: false,
            } => write!(f, "{attribute}: expected {expected}, not found"),
            CheckFailure::Contains {
                attribute,
                expected,
                present: true,
            } => write!(f, "{attribute}: expected no {expected}, but it is there"),
            CheckFailure::CannotCheck {
                attribute: None,
                reason,
            } => write!(f, "cannot check: {reason}"),
            CheckFailure::CannotCheck {
                attribute: Some(attribute),
                reason,
            } => write!(f, "cannot check {attribute}: {reason}"),
            CheckFailure::Note {
                attribute: None,
                text,
            } => f.write_str(text),
            CheckFailure::Note {
                attribute: Some(attribute),
                text,
            } => write!(f, "{attribute}: {text}"),
            CheckFailure::StillFailing {
                after,
                tries,
                every,
            } => write!(
                f,
                "still failing after {} ({tries} tries, every {})",
                humantime::format_duration(*after),
                humantime::format_duration(*every)
            ),
        }
    }
}

/// A Puppet error that names where it is: `Error: … (file: F, line: 5, column: 3)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PuppetError {
    /// As the report shows paths: a module's file as a path on the host (relative to the
    /// run's directory when under it), the case's own files as their container paths
    /// (`/etc/rehearsal/case/site.pp`, `…/prepare.pp`), which the review maps to the spec.
    pub file: String,
    /// 1-based.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Puppet's words as it printed them, from `Error:` on (with the lines that continue
    /// the error), less the ` on node …` that differs from host to host.
    pub message: String,
}

impl PuppetError {
    /// `modules/motd/manifests/init.pp:5:3`.
    pub fn place(&self) -> String {
        match self.column {
            Some(column) => format!("{}:{}:{column}", self.file, self.line),
            None => format!("{}:{}", self.file, self.line),
        }
    }
}

impl fmt::Display for PuppetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_reads_as_it_always_did() {
        let cases = [
            (
                CheckFailure::mismatch("mode", "0644", "0600"),
                "mode: expected 0644, got 0600",
            ),
            (
                CheckFailure::Contains {
                    attribute: "contains".into(),
                    expected: "listen 9090".into(),
                    present: false,
                },
                "contains: expected listen 9090, not found",
            ),
            (
                CheckFailure::Contains {
                    attribute: "contains".into(),
                    expected: "listen".into(),
                    present: true,
                },
                "contains: expected no listen, but it is there",
            ),
            (
                CheckFailure::cannot_check("curl or wget not in the image"),
                "cannot check: curl or wget not in the image",
            ),
            (
                CheckFailure::CannotCheck {
                    attribute: Some("enabled".into()),
                    reason: "systemd is not PID 1 in this container".into(),
                },
                "cannot check enabled: systemd is not PID 1 in this container",
            ),
            (
                CheckFailure::note("timed out after 1s"),
                "timed out after 1s",
            ),
            (
                CheckFailure::StillFailing {
                    after: Duration::from_secs(30),
                    tries: 28,
                    every: Duration::from_secs(1),
                },
                "still failing after 30s (28 tries, every 1s)",
            ),
        ];
        for (failure, text) in cases {
            assert_eq!(failure.to_string(), text);
        }
    }

    #[test]
    fn failures_travel_as_json_and_come_back_the_same() {
        let failures = vec![
            CheckFailure::mismatch("mode", "0644", "0600"),
            CheckFailure::Note {
                attribute: Some("flavor".into()),
                text: "Package[nginx] has no such attribute".into(),
            },
            CheckFailure::StillFailing {
                after: Duration::from_millis(600),
                tries: 4,
                every: Duration::from_millis(200),
            },
        ];
        let json = serde_json::to_value(&failures).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({"kind": "mismatch", "attribute": "mode", "expected": "0644",
                               "actual": "0600"})
        );
        assert_eq!(
            json[2],
            serde_json::json!({"kind": "still_failing", "after": 0.6, "tries": 4, "every": 0.2})
        );
        let back: Vec<CheckFailure> = serde_json::from_value(json).unwrap();
        assert_eq!(back, failures);
    }

    #[test]
    fn a_puppet_error_names_its_place() {
        let error = PuppetError {
            file: "modules/m/manifests/init.pp".into(),
            line: 5,
            column: Some(3),
            message: "Error: Syntax error at '}'".into(),
        };
        assert_eq!(
            error.to_string(),
            "modules/m/manifests/init.pp:5:3: Error: Syntax error at '}'"
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["line"], 5);
        assert_eq!(json["column"], 3);
        assert_eq!(serde_json::from_value::<PuppetError>(json).unwrap(), error);
    }
}
