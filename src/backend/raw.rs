//! Plain HTTP on a local API socket, for the two places where Podman's compatible API and
//! bollard's Docker client do not meet: Podman 4 reports a stopped container's state as
//! `stopped`, a word Docker's API has not (bollard's typed inspection fails on the whole
//! document; here only the fields rehearsal reads are taken), and it reads an import's
//! `changes` only as repeated parameters, where bollard sends one joined by newlines.

use std::collections::HashMap;

use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

/// What rehearsal reads of a container's inspection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Inspected {
    pub id: String,
    pub config: InspectedConfig,
    pub state: InspectedState,
    pub host_config: InspectedHost,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InspectedConfig {
    pub labels: Option<HashMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InspectedState {
    #[serde(rename = "Running")]
    pub running: bool,
    #[serde(rename = "ExitCode")]
    pub exit_code: Option<i64>,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InspectedHost {
    pub pids_limit: Option<i64>,
}

/// `GET /containers/ID/json` on the socket: `None` when there is no such container.
pub async fn inspect(socket: &str, id: &str) -> Result<Option<Inspected>, String> {
    let (status, body) = get(socket, &format!("/v1.41/containers/{id}/json")).await?;
    match status {
        200 => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|err| format!("cannot read the engine's answer: {err}")),
        404 => Ok(None),
        _ => Err(format!(
            "{} (engine status {status})",
            String::from_utf8_lossy(&body).trim()
        )),
    }
}

/// Imports a root filesystem tar as the image `name` with these Dockerfile-style changes,
/// each its own `changes` parameter.
pub async fn import(
    socket: &str,
    name: &str,
    changes: &[String],
    tar: super::ByteStream,
) -> Result<(), String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut path = format!(
        "/v1.41/images/create?fromSrc=-&repo={}",
        utf8_percent_encode(name, NON_ALPHANUMERIC)
    );
    for change in changes {
        path.push_str("&changes=");
        path.push_str(&utf8_percent_encode(change, NON_ALPHANUMERIC).to_string());
    }
    let body = http_body_util::StreamBody::new(futures_util::StreamExt::map(tar, |chunk| {
        chunk.map(hyper::body::Frame::data)
    }));
    let (status, answer) = send(socket, http::Method::POST, &path, body).await?;
    // The answer is a stream of JSON progress lines; an error is one of them.
    let text = String::from_utf8_lossy(&answer);
    let error = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    match (status, error) {
        (200, None) => Ok(()),
        (_, Some(error)) => Err(error),
        (status, None) => Err(format!("{} (engine status {status})", text.trim())),
    }
}

async fn get(socket: &str, path: &str) -> Result<(u16, Vec<u8>), String> {
    send(
        socket,
        http::Method::GET,
        path,
        Empty::<bytes::Bytes>::new(),
    )
    .await
}

async fn send<B>(
    socket: &str,
    method: http::Method,
    path: &str,
    body: B,
) -> Result<(u16, Vec<u8>), String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|err| format!("cannot connect to {socket}: {err}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    let driver = tokio::spawn(connection);
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, "localhost")
        .body(body)
        .map_err(|err| err.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|err| err.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|err| err.to_string())?
        .to_bytes()
        .to_vec();
    driver.abort();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_stopped_container_is_read() {
        let answer = r#"{"Id":"0c3e","State":{"Status":"stopped","Running":false,"ExitCode":137,"OOMKilled":false},
            "Config":{"Labels":{"rehearsal.module":"killed"}},"HostConfig":{"PidsLimit":2048},"Other":[1,2]}"#;
        let inspected: Inspected = serde_json::from_str(answer).unwrap();
        assert_eq!(inspected.id, "0c3e");
        assert!(!inspected.state.running);
        assert_eq!(inspected.state.exit_code, Some(137));
        assert_eq!(inspected.host_config.pids_limit, Some(2048));
        assert_eq!(
            inspected.config.labels.unwrap()["rehearsal.module"],
            "killed"
        );
    }
}
