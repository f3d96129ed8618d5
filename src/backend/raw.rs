//! A container's inspection read as plain JSON from a local API socket, for an answer
//! bollard's Docker types refuse: Podman 4's compatible API reports a stopped container's
//! state as `stopped`, a word Docker's API has not, and bollard's typed inspection fails
//! on the whole document. Only the fields rehearsal reads are taken.

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

async fn get(socket: &str, path: &str) -> Result<(u16, Vec<u8>), String> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|err| format!("cannot connect to {socket}: {err}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| err.to_string())?;
    let driver = tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, "localhost")
        .body(Empty::<bytes::Bytes>::new())
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
