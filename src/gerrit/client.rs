//! Posting a review through Gerrit's REST API.
//!
//! Two requests, both on the authenticated `/a/` prefix with HTTP basic auth: the
//! revision's file list (`GET …/files`, so comments on files the change does not touch
//! can be moved to the patch set, which Gerrit would otherwise refuse), then the review
//! (`POST …/review`). Answers start with `)]}'`, which is stripped. A 5xx, a 429, a
//! connection error or a timeout is tried again after 1, 2, 4… seconds; a 4xx is an
//! error at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};

use super::config::{Credentials, Target};
use super::review::{ReviewInput, PATCHSET_LEVEL};
use super::GerritError;

/// How often and how patiently to try a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// The wait before the second try; it doubles each time, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// For one request, connecting included.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 4,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            timeout: Duration::from_secs(60),
        }
    }
}

impl Retry {
    fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// What was posted, for the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub project: String,
    pub change: u64,
    pub revision: String,
    pub label: String,
    pub value: i32,
    /// Comments at a file's line.
    pub inline: usize,
    /// Comments on the patch set (their file is not part of the change, or outside the
    /// repository).
    pub patchset_level: usize,
}

impl fmt::Display for Posted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Gerrit: {} {:+} on change {} of {} (revision {}), {} inline comment{}",
            self.label,
            self.value,
            self.change,
            self.project,
            short(&self.revision),
            self.inline,
            if self.inline == 1 { "" } else { "s" }
        )?;
        if self.patchset_level > 0 {
            write!(f, " and {} on the patch set", self.patchset_level)?;
        }
        Ok(())
    }
}

fn short(revision: &str) -> &str {
    if revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        &revision[..10]
    } else {
        revision
    }
}

/// Posts `review` to the target revision, trying transient failures again.
pub async fn post(
    target: &Target,
    credentials: &Credentials,
    review: &ReviewInput,
) -> Result<Posted, GerritError> {
    post_with(target, credentials, review, Retry::default()).await
}

/// [`post`], with its own patience.
pub async fn post_with(
    target: &Target,
    credentials: &Credentials,
    review: &ReviewInput,
    retry: Retry,
) -> Result<Posted, GerritError> {
    let http = client(&retry)?;
    let (label, value) = review
        .vote()
        .map(|(l, v)| (l.to_string(), v))
        .unwrap_or_default();
    let request = Request {
        http: &http,
        target,
        credentials,
        retry,
        label: &label,
    };
    let revision_url = target.revision_url();

    let files_url = format!("{revision_url}/files/");
    let answer = request.send(Method::GET, &files_url, None).await?;
    let files: BTreeMap<String, serde_json::Value> = serde_json::from_str(strip_xssi(&answer))
        .map_err(|err| GerritError::Rejected {
            status: 200,
            url: files_url.clone(),
            detail: format!("its file list is not JSON ({err}); is this Gerrit's REST API?"),
        })?;
    let files: BTreeSet<String> = files.into_keys().collect();

    let mut review = review.clone();
    review.confine_to(&files);
    let body = serde_json::to_vec(&review).expect("a review serialises");
    let review_url = format!("{revision_url}/review");
    let answer = request.send(Method::POST, &review_url, Some(body)).await?;
    // ReviewResult: an `error` means part of it was not done (adding a reviewer, say).
    if let Ok(result) = serde_json::from_str::<serde_json::Value>(strip_xssi(&answer)) {
        if let Some(error) = result.get("error").and_then(|e| e.as_str()) {
            return Err(GerritError::Rejected {
                status: 200,
                url: review_url,
                detail: error.to_string(),
            });
        }
    }

    let patchset_level = review.comments.get(PATCHSET_LEVEL).map_or(0, Vec::len);
    Ok(Posted {
        project: target.project.clone(),
        change: target.change,
        revision: target.revision.clone(),
        label,
        value,
        inline: review.comment_count() - patchset_level,
        patchset_level,
    })
}

/// The body of an answer without the `)]}'` line Gerrit puts before JSON.
pub fn strip_xssi(body: &str) -> &str {
    match body.strip_prefix(")]}'") {
        Some(rest) => rest
            .strip_prefix("\r\n")
            .or(rest.strip_prefix('\n'))
            .unwrap_or(rest),
        None => body,
    }
}

type Http = crate::http::Http;

/// The shared client ([`crate::http`]), connecting within the retry's timeout (at most 15 s).
fn client(retry: &Retry) -> Result<Http, GerritError> {
    crate::http::client(retry.timeout.min(Duration::from_secs(15))).map_err(GerritError::Client)
}

struct Request<'a> {
    http: &'a Http,
    target: &'a Target,
    credentials: &'a Credentials,
    retry: Retry,
    label: &'a str,
}

impl Request<'_> {
    /// One request, tried again on transient failures; the answer's body on success.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<String, GerritError> {
        let attempts = self.retry.attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            let request = self.request(&method, url, body.as_deref())?;
            let exchange = async {
                let response = self.http.request(request).await.map_err(|e| chain(&e))?;
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| format!("the answer was cut off: {}", chain(&e)))?;
                Ok::<_, String>((
                    status,
                    String::from_utf8_lossy(&body.to_bytes()).into_owned(),
                ))
            };
            match tokio::time::timeout(self.retry.timeout, exchange).await {
                Ok(Ok((status, text))) => {
                    if status.is_success() {
                        return Ok(text);
                    }
                    let detail = self.detail(&text);
                    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                        last = if detail.is_empty() {
                            status.to_string()
                        } else {
                            format!("{status}: {detail}")
                        };
                    } else {
                        return Err(self.refused(status, url, detail));
                    }
                }
                Ok(Err(why)) => {
                    let why = self.redact(&why);
                    if is_certificate_problem(&why) {
                        return Err(GerritError::Unavailable {
                            url: url.to_string(),
                            attempts: attempt,
                            last: format!(
                                "{why} (add the CA that signed Gerrit's certificate to the \
                                 system's trust store, or point SSL_CERT_FILE at a bundle with it)"
                            ),
                        });
                    }
                    last = why;
                }
                Err(_) => {
                    last = format!(
                        "no answer in {}",
                        humantime::format_duration(self.retry.timeout)
                    );
                }
            }
            self.wait(attempt, attempts, &last).await;
        }
        Err(GerritError::Unavailable {
            url: url.to_string(),
            attempts,
            last,
        })
    }

    fn request(
        &self,
        method: &Method,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<http::Request<Full<Bytes>>, GerritError> {
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.credentials.user(),
            self.credentials.password()
        ));
        let mut authorization = HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| {
            GerritError::Config("GERRIT_HTTP_USER has characters a header cannot carry".into())
        })?;
        authorization.set_sensitive(true);
        let mut request = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("rehearsal/", env!("CARGO_PKG_VERSION")));
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json; charset=UTF-8");
        }
        request
            .body(Full::new(Bytes::copy_from_slice(body.unwrap_or_default())))
            .map_err(|err| {
                GerritError::Config(format!("the Gerrit URL `{url}` is not usable: {err}"))
            })
    }

    async fn wait(&self, attempt: u32, attempts: u32, why: &str) {
        if attempt < attempts {
            let delay = self.retry.delay(attempt);
            eprintln!(
                "warning: Gerrit: {why}; trying again in {} ({} of {attempts})",
                humantime::format_duration(delay),
                attempt + 1
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn refused(&self, status: StatusCode, url: &str, detail: String) -> GerritError {
        let url = url.to_string();
        match status {
            StatusCode::UNAUTHORIZED => GerritError::Unauthorized {
                user: self.credentials.user().to_string(),
                url,
            },
            StatusCode::FORBIDDEN => GerritError::Forbidden {
                user: self.credentials.user().to_string(),
                project: self.target.project.clone(),
                label: self.label.to_string(),
                url,
                detail,
            },
            StatusCode::NOT_FOUND => GerritError::NotFound {
                project: self.target.project.clone(),
                change: self.target.change,
                revision: self.target.revision.clone(),
                url,
                detail,
            },
            _ => GerritError::Rejected {
                status: status.as_u16(),
                url,
                detail,
            },
        }
    }

    /// What Gerrit said, short, on one line, without HTML and never with the password.
    fn detail(&self, body: &str) -> String {
        let text = strip_xssi(body).trim();
        if text.starts_with('<') {
            return String::new();
        }
        let mut one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.len() > 300 {
            let mut cut = 300;
            while !one_line.is_char_boundary(cut) {
                cut -= 1;
            }
            one_line.truncate(cut);
            one_line.push('…');
        }
        self.redact(&one_line)
    }

    fn redact(&self, text: &str) -> String {
        let password = self.credentials.password();
        if password.is_empty() {
            text.to_string()
        } else {
            text.replace(password, "<redacted>")
        }
    }
}

/// An error and its causes: `client error (Connect): tcp connect error: Connection refused`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

fn is_certificate_problem(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    why.contains("certificate") || why.contains("unknownissuer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xssi_prefix_is_stripped() {
        assert_eq!(strip_xssi(")]}'\n{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(strip_xssi(")]}'\r\n{}"), "{}");
        assert_eq!(strip_xssi(")]}'{}"), "{}");
        assert_eq!(strip_xssi("{}"), "{}");
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let retry = Retry::default();
        let delays: Vec<u64> = (1..=6).map(|a| retry.delay(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 8, 8]);
    }

    #[test]
    fn the_summary_line() {
        let posted = Posted {
            project: "puppet/modules".into(),
            change: 3456,
            revision: "0123456789abcdef0123456789abcdef01234567".into(),
            label: "Verified".into(),
            value: -1,
            inline: 2,
            patchset_level: 1,
        };
        assert_eq!(
            posted.to_string(),
            "Gerrit: Verified -1 on change 3456 of puppet/modules (revision 0123456789), \
             2 inline comments and 1 on the patch set"
        );
    }
}
