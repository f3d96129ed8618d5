//! A command in a container, bounded on the host too. Every command the harness runs in a
//! container (a case's steps, a snapshot layer's applies, the probe) carries its own
//! `timeout` inside the container; this bound catches what that cannot: an engine that
//! stops answering. The case runner, the snapshot builder and the probe all sit above the
//! backend, so this is the one place they can share it.

use std::time::Duration;

use super::{Backend, BackendError, ExecOutput, OutputSink};

/// How much longer than a command's own limit the host waits for the engine to answer.
pub const ENGINE_GRACE: Duration = Duration::from_secs(30);

/// Why a bounded command gave no output.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The engine did not finish it within its limit and [`ENGINE_GRACE`].
    #[error("timed out after {}", humantime::format_duration(*limit))]
    TimedOut { limit: Duration },
    /// The engine could not run it.
    #[error(transparent)]
    Engine(#[from] BackendError),
}

/// Runs `cmd` in the container `id`, waiting at most `limit` + [`ENGINE_GRACE`]; with a
/// `sink`, each piece of output also goes there as it comes.
pub async fn exec_within<B: Backend>(
    backend: &B,
    id: &str,
    cmd: &[&str],
    limit: Duration,
    sink: Option<&OutputSink<'_>>,
) -> Result<ExecOutput, ExecError> {
    let bound = limit + ENGINE_GRACE;
    let result = match sink {
        Some(sink) => tokio::time::timeout(bound, backend.exec_streaming(id, cmd, sink)).await,
        None => tokio::time::timeout(bound, backend.exec(id, cmd)).await,
    };
    match result {
        Ok(out) => Ok(out?),
        Err(_) => Err(ExecError::TimedOut { limit }),
    }
}

/// A small file of the container's (an apply's report), as text; `None` when it is not
/// there or cannot be read in time.
pub async fn read_file<B: Backend>(backend: &B, id: &str, path: &str) -> Option<String> {
    let limit = Duration::from_secs(30);
    let cmd = ["timeout", "30", "cat", path];
    match exec_within(backend, id, &cmd, limit, None).await {
        Ok(out) if out.exit_code == 0 => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        _ => None,
    }
}
