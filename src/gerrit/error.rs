//! What can go wrong when posting a review, each case saying what to fix.

use std::fmt;

use crate::exit;

/// An error of the Gerrit step. Its `Display` is one or a few lines a person can act on;
/// it never contains the HTTP password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GerritError {
    /// A setting is missing or malformed (a variable or a flag); nothing was sent.
    Config(String),
    /// The report cannot be read or is not one rehearsal wrote.
    Report(String),
    /// 401: Gerrit does not accept the user and password.
    Unauthorized { user: String, url: String },
    /// 403: the account may not do this (usually: vote on the label).
    Forbidden {
        user: String,
        project: String,
        label: String,
        url: String,
        detail: String,
    },
    /// 404: no such change or revision, or the account cannot see it, or the URL is not
    /// Gerrit's.
    NotFound {
        project: String,
        change: u64,
        revision: String,
        url: String,
        detail: String,
    },
    /// Another answer Gerrit gives for a request it will not carry out (400, 409, …).
    Rejected {
        status: u16,
        url: String,
        detail: String,
    },
    /// The HTTP client cannot be set up (TLS roots, say).
    Client(String),
    /// Gerrit could not be reached or kept failing (5xx, connection errors, timeouts)
    /// after every try.
    Unavailable {
        url: String,
        attempts: u32,
        last: String,
    },
}

impl GerritError {
    /// The exit status for this error: 2 for bad settings or a bad report (nothing was
    /// sent), 3 for Gerrit trouble, as for the engine's.
    pub fn exit_code(&self) -> u8 {
        match self {
            GerritError::Config(_) | GerritError::Report(_) => exit::USAGE,
            _ => exit::ENGINE,
        }
    }
}

impl fmt::Display for GerritError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GerritError::Config(message) | GerritError::Report(message) => f.write_str(message),
            GerritError::Unauthorized { user, url } => write!(
                f,
                "Gerrit refused the credentials of user `{user}` (401 Unauthorized) at {url}: \
                 check GERRIT_HTTP_USER and GERRIT_HTTP_PASSWORD (the HTTP password, or \
                 token, from the account's Settings > HTTP Credentials in Gerrit, not its \
                 login password)"
            ),
            GerritError::Forbidden {
                user,
                project,
                label,
                url,
                detail,
            } => write!(
                f,
                "Gerrit refused the review (403 Forbidden) at {url}: the account `{user}` lacks \
                 permission to review or to vote on label `{label}` in project `{project}`; \
                 grant it `label-{label}` (and read access) in the project's access rights, \
                 or vote on another label with --gerrit-label{}",
                said(detail)
            ),
            GerritError::NotFound {
                project,
                change,
                revision,
                url,
                detail,
            } => write!(
                f,
                "change {change} (revision {revision}) not found in project `{project}` \
                 (404 Not Found) at {url}: check GERRIT_PROJECT, GERRIT_CHANGE_NUMBER and \
                 GERRIT_PATCHSET_REVISION (or --gerrit-project, --gerrit-change, \
                 --gerrit-revision), that GERRIT_API_URL (or --gerrit-url) is Gerrit's base \
                 address, and that the account may see the change{}",
                said(detail)
            ),
            GerritError::Rejected {
                status,
                url,
                detail,
            } => {
                let reason = http::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default();
                let hint = if *status == 400 && detail.to_ascii_lowercase().contains("label") {
                    " (does the project have the label --gerrit-label names, with these values?)"
                } else {
                    ""
                };
                // 200: it answered, but not as it should (no JSON, an `error` in the result).
                let code = if *status == 200 {
                    String::new()
                } else {
                    format!(" ({status}{reason})")
                };
                write!(
                    f,
                    "Gerrit refused the review{code} at {url}{}{hint}",
                    said(detail)
                )
            }
            GerritError::Client(message) => write!(f, "cannot set up the HTTP client: {message}"),
            GerritError::Unavailable {
                url,
                attempts,
                last,
            } => write!(
                f,
                "Gerrit is unavailable at {url}: {last} (tried {attempts} time{})",
                if *attempts == 1 { "" } else { "s" }
            ),
        }
    }
}

fn said(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!("; Gerrit said: {detail}")
    }
}

impl std::error::Error for GerritError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(GerritError::Config("x".into()).exit_code(), 2);
        assert_eq!(GerritError::Report("x".into()).exit_code(), 2);
        let unauthorized = GerritError::Unauthorized {
            user: "jenkins".into(),
            url: "https://g/a/changes/p~1/revisions/r/review".into(),
        };
        assert_eq!(unauthorized.exit_code(), 3);
    }
}
