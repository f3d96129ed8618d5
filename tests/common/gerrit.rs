//! A Gerrit stand-in: a local HTTP server that holds rehearsal to Gerrit's REST contract
//! (the authenticated `/a/` path with the project encoded, HTTP basic auth, a JSON
//! ReviewInput of the right shape, comments only on the revision's files) and answers as
//! Gerrit does (`)]}'` first), recording what it received. Shared by the review's tests
//! (tests/gerrit.rs) and the gate's early vote (tests/gate.rs).

use std::collections::{BTreeSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode};
use serde_json::{json, Value};

use rehearsal::gerrit::Target;

pub const USER: &str = "jenkins-bot";
pub const PASSWORD: &str = "hTtP-pa55w0rd/from+settings";
pub const PROJECT: &str = "puppet/modules";
pub const CHANGE: u64 = 3456;
pub const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the server answers besides following the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// 403 to the review, as Gerrit does when the account may not vote on the label.
    ForbidVote,
}

/// One request, as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Raw, as sent (still percent-encoded).
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
    pub answered: u16,
    /// When it arrived.
    pub at: std::time::SystemTime,
}

pub struct State {
    files: BTreeSet<String>,
    mode: Mode,
    /// Statuses to answer the next reviews with, before following the contract.
    failures: VecDeque<u16>,
    received: Vec<Received>,
}

pub struct Gerrit {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gerrit {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gerrit {
    /// A server for change [`CHANGE`] of [`PROJECT`] whose revision touches `files`.
    pub async fn start(files: &[&str], mode: Mode, failures: &[u16]) -> Gerrit {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut all: BTreeSet<String> = files.iter().map(|f| f.to_string()).collect();
        all.insert("/COMMIT_MSG".to_string());
        let state = Arc::new(Mutex::new(State {
            files: all,
            mode,
            failures: failures.iter().copied().collect(),
            received: Vec::new(),
        }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(req, &shared).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Gerrit { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn target(&self) -> Target {
        Target {
            url: self.url(),
            project: PROJECT.into(),
            change: CHANGE,
            revision: REVISION.into(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The reviews Gerrit accepted, as JSON.
    pub fn reviews(&self) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.answered == 200)
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }
}

fn answer(status: u16, body: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.into())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    if status == 401 {
        response.headers_mut().insert(
            "www-authenticate",
            "Basic realm=\"Gerrit Code Review\"".parse().unwrap(),
        );
    }
    response
}

fn json_answer(value: Value) -> Response<Full<Bytes>> {
    let mut response = answer(200, format!(")]}}'\n{value}"));
    response.headers_mut().insert(
        "content-type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    response
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    state: &Mutex<State>,
) -> Response<Full<Bytes>> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization");
    let content_type = header("content-type");
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8(body.to_vec()).unwrap();

    let mut state = state.lock().unwrap();
    let (status, response) = respond(
        &mut state,
        &method,
        &path,
        authorization.as_deref(),
        content_type.as_deref(),
        &body,
    );
    state.received.push(Received {
        method,
        path,
        authorization,
        content_type,
        body,
        answered: status,
        at: std::time::SystemTime::now(),
    });
    response
}

/// Gerrit's contract, as far as rehearsal uses it.
fn respond(
    state: &mut State,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Response<Full<Bytes>>) {
    // Only the authenticated API may post.
    let Some(rest) = path.strip_prefix("/a/") else {
        return (403, answer(403, "Authentication required\n"));
    };
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    );
    if authorization != Some(expected.as_str()) {
        return (401, answer(401, "Unauthorized"));
    }
    let is_review = rest.ends_with("/review");
    if is_review {
        if let Some(status) = state.failures.pop_front() {
            return (
                status,
                answer(
                    status,
                    "<html><body><h1>503 Service Unavailable</h1></body></html>",
                ),
            );
        }
    }

    // changes/{project, encoded}~{number}/revisions/{revision}/{files|review}
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let change_id = format!(
        "{}~{CHANGE}",
        percent_encoding::utf8_percent_encode(PROJECT, percent_encoding::NON_ALPHANUMERIC)
    );
    let found = matches!(
        segments.as_slice(),
        ["changes", id, "revisions", rev, _]
            if id.eq_ignore_ascii_case(&change_id) && *rev == REVISION
    );
    if !found {
        return (404, answer(404, format!("Not found: {CHANGE}\n")));
    }

    match (method, segments[4]) {
        ("GET", "files") => {
            let files: serde_json::Map<String, Value> = state
                .files
                .iter()
                .map(|f| (f.clone(), json!({"lines_inserted": 1})))
                .collect();
            (200, json_answer(Value::Object(files)))
        }
        ("POST", "review") => {
            if !content_type.is_some_and(|t| t.starts_with("application/json")) {
                return (415, answer(415, "Unsupported Media Type"));
            }
            if let Err(why) = check_review(body, &state.files) {
                return (400, answer(400, why));
            }
            let input: Value = serde_json::from_str(body).unwrap();
            if state.mode == Mode::ForbidVote {
                let (label, value) = input["labels"].as_object().unwrap().iter().next().unwrap();
                return (
                    403,
                    answer(
                        403,
                        format!("Applying label \"{label}\": {value} is restricted\n"),
                    ),
                );
            }
            (200, json_answer(json!({"labels": input["labels"]})))
        }
        _ => (405, answer(405, "Method Not Allowed")),
    }
}

/// A ReviewInput as Gerrit takes it, with the checks Gerrit makes on comments.
fn check_review(body: &str, files: &BTreeSet<String>) -> Result<(), String> {
    let input: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let object = input.as_object().ok_or("not a JSON object")?;
    for key in object.keys() {
        if ![
            "message",
            "labels",
            "comments",
            "tag",
            "notify",
            "omit_duplicate_comments",
        ]
        .contains(&key.as_str())
        {
            return Err(format!("unexpected field {key}"));
        }
    }
    if input["message"].as_str().is_none_or(str::is_empty) {
        return Err("message: expected a non-empty string".into());
    }
    let labels = input["labels"]
        .as_object()
        .ok_or("labels: expected an object")?;
    if labels.is_empty() || !labels.values().all(|v| v.is_i64()) {
        return Err("labels: expected label → integer".into());
    }
    if !input["tag"]
        .as_str()
        .is_some_and(|t| t.starts_with("autogenerated:"))
    {
        return Err("tag: expected autogenerated:…".into());
    }
    if let Some(notify) = input.get("notify") {
        if !["NONE", "OWNER", "OWNER_REVIEWERS", "ALL"].contains(&notify.as_str().unwrap_or("")) {
            return Err(format!("notify: bad value {notify}"));
        }
    }
    if let Some(comments) = input.get("comments") {
        let comments = comments.as_object().ok_or("comments: expected an object")?;
        for (path, list) in comments {
            if path != "/PATCHSET_LEVEL" && !files.contains(path) {
                return Err(format!("file {path} not found in revision {CHANGE},1"));
            }
            for comment in list.as_array().ok_or("comments: expected lists")? {
                let line = comment.get("line");
                if path == "/PATCHSET_LEVEL" && line.is_some() {
                    return Err("Patchset-level comments can't have side, range, or line".into());
                }
                if line.is_some_and(|l| l.as_u64().is_none_or(|n| n < 1)) {
                    return Err(format!("bad line on {path}"));
                }
                if comment["message"].as_str().is_none_or(str::is_empty) {
                    return Err(format!("comment on {path} without a message"));
                }
                if comment.get("unresolved").is_some_and(|u| !u.is_boolean()) {
                    return Err("unresolved: expected a boolean".into());
                }
            }
        }
    }
    Ok(())
}
