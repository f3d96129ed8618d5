//! The container engine, behind one neutral trait: Docker and Podman (through the same
//! API client, `docker.rs`) and LXC (its tools) fit it, and nothing above this module
//! knows which one runs. Its types are rehearsal's own (image metadata as data, a kill as
//! a [`Signal`], errors with a kind); raw engine errors never leave it: each one says
//! which operation failed.

pub mod apparmor;
pub mod docker;
pub mod engine;
pub mod exec;
#[cfg(test)]
pub mod fake;
pub mod lxc;
pub mod raw;
pub mod terminal;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

pub use crate::outcome::engine::{EngineInfo, EngineKind};
pub use docker::DockerBackend;
pub use engine::Engine;
pub use lxc::LxcBackend;

use crate::spec::limits::{Limits, Network};

/// A host directory made visible in the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub container: String,
    pub read_only: bool,
}

/// What a case's container is made of.
#[derive(Debug, Clone)]
pub struct ContainerConfig {
    pub image: String,
    /// A unique, readable name (`rehearsal-<run>-<n>`).
    pub name: String,
    pub hostname: String,
    pub labels: HashMap<String, String>,
    pub mounts: Vec<Mount>,
    /// Memory (swap included: none), CPUs and processes the container may use.
    pub limits: Limits,
    pub network: Network,
}

/// What became of a container, asked when a command in it did not end normally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fate {
    /// The container no longer exists.
    pub gone: bool,
    pub running: bool,
    /// Its main process's exit status, once it stopped.
    pub exit_code: Option<i64>,
    /// The kernel killed a process in it for lack of memory since the time asked about.
    pub out_of_memory: bool,
    /// It was sent this signal from outside (`docker kill`, `docker stop`).
    pub killed: Option<Signal>,
    /// Processes in it now and its limit, while it runs.
    pub pids: Option<(u64, u64)>,
}

/// A signal sent to a container from outside, as a kind: engines name signals their own
/// way (`9`, `KILL`, `SIGKILL`), so each backend reads its engine's name with
/// [`Signal::from_engine`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Kill,
    Term,
    /// Another signal, as the engine named it.
    Other(String),
    /// A signal the engine did not name.
    Unknown,
}

impl Signal {
    /// A signal by number or name, with or without `SIG`.
    pub fn from_engine(name: &str) -> Signal {
        match name.trim().trim_start_matches("SIG") {
            "9" | "KILL" => Signal::Kill,
            "15" | "TERM" => Signal::Term,
            _ => Signal::Other(name.trim().to_string()),
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signal::Kill => f.write_str("SIGKILL"),
            Signal::Term => f.write_str("SIGTERM"),
            Signal::Other(name) => write!(f, "signal {name}"),
            Signal::Unknown => f.write_str("a signal"),
        }
    }
}

/// What an image runs and carries, as data; each backend writes it the way its engine
/// takes it (Docker: the `changes` of an import).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageMeta {
    /// The command its containers start (systemd).
    pub command: Vec<String>,
    /// Environment variables of its containers, in order.
    pub env: Vec<(String, String)>,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// The capabilities of a case's container, the same on every engine (Podman's default set
/// lacks Docker's `NET_RAW`, `MKNOD` and `AUDIT_WRITE`): Docker's default set, and
/// `SYS_ADMIN`, `SYS_PTRACE` and `NET_ADMIN` (why: [`docker::create_body`]).
pub const CAPABILITIES: [&str; 17] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "NET_ADMIN",
];

/// How many lines of its init's output a container that did not come up shows.
pub const INIT_LINES: usize = 10;

/// What a container's init said last, for a container that did not come up: `its init
/// printed (last lines):` and the lines, indented; `None` when it said nothing (or the
/// engine cannot tell), so the failure reads as before.
pub async fn init_said<B: Backend>(backend: &B, id: &str) -> Option<String> {
    let text = backend.init_output(id, INIT_LINES).await.ok()?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let shown = &lines[lines.len().saturating_sub(INIT_LINES)..];
    (!shown.is_empty()).then(|| format!("its init printed (last lines):\n  {}", shown.join("\n  ")))
}

/// What a command run in a container printed, and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    /// stdout then stderr, as text (invalid UTF-8 replaced).
    pub fn combined(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&self.stderr));
        text
    }
}

/// Where [`Backend::exec_streaming`] hands output as it comes.
pub type OutputSink<'a> = dyn Fn(&[u8]) + Send + Sync + 'a;

/// A container found by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    pub id: String,
    /// Without the engine's leading `/`.
    pub name: String,
    pub labels: HashMap<String, String>,
    /// When it was created, in seconds since the Unix epoch; `None` when the backend
    /// cannot tell.
    pub created: Option<i64>,
    pub running: bool,
}

/// An image as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The engine's content id (`sha256:…`).
    pub id: String,
    pub labels: HashMap<String, String>,
    pub created: String,
    pub size: i64,
}

/// An image found by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub tags: Vec<String>,
    pub labels: HashMap<String, String>,
    /// Seconds since the Unix epoch.
    pub created: i64,
    pub size: i64,
}

/// A container found by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: String,
    pub labels: HashMap<String, String>,
    pub running: bool,
}

/// A stream of bytes sent to the engine (a root filesystem or a build context, as tar).
pub type ByteStream =
    Pin<Box<dyn Stream<Item = std::result::Result<Bytes, std::io::Error>> + Send>>;

/// A failed engine operation.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The engine could not be reached at all.
    #[error("cannot reach the container engine: {0}")]
    Unreachable(String),
    /// A container with this name exists already (another run holds it).
    #[error("a container named {0} exists already")]
    NameInUse(String),
    /// What the operation is about (a container, an image) does not exist.
    #[error("failed to {operation}: {message}")]
    NotFound {
        operation: &'static str,
        message: String,
    },
    /// One operation failed; `operation` says which ("create a container", …).
    #[error("failed to {operation}: {message}")]
    Operation {
        operation: &'static str,
        message: String,
    },
    /// A command could not start in the container: the kernel refused the fork, as it
    /// does at the container's process limit ("resource temporarily unavailable").
    #[error("failed to {operation}: {message}")]
    ProcessLimit {
        operation: &'static str,
        message: String,
    },
    /// This engine cannot do it at all (LXC builds no Dockerfile).
    #[error("cannot {operation} on {engine}: {hint}")]
    Unsupported {
        operation: &'static str,
        engine: EngineKind,
        hint: &'static str,
    },
}

/// What kind of failure a [`BackendError`] is, whichever engine said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Unreachable,
    Conflict,
    NotFound,
    /// Out of a resource the container is limited in (processes).
    Exhausted,
    Unsupported,
    Failed,
}

impl BackendError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackendError::Unreachable(_) => ErrorKind::Unreachable,
            BackendError::NameInUse(_) => ErrorKind::Conflict,
            BackendError::NotFound { .. } => ErrorKind::NotFound,
            BackendError::Operation { .. } => ErrorKind::Failed,
            BackendError::ProcessLimit { .. } => ErrorKind::Exhausted,
            BackendError::Unsupported { .. } => ErrorKind::Unsupported,
        }
    }
}

pub type Result<T> = std::result::Result<T, BackendError>;

/// The operations the harness needs from a container engine.
pub trait Backend: Send + Sync + 'static {
    /// Which engine this is, its version and the host's kind, as learnt when connecting.
    fn info(&self) -> EngineInfo;
    /// Creates and starts a container; returns its id.
    fn start(&self, config: &ContainerConfig) -> impl Future<Output = Result<String>> + Send;
    /// Runs a command in a running container and waits for it.
    fn exec(&self, id: &str, cmd: &[&str]) -> impl Future<Output = Result<ExecOutput>> + Send;
    /// Whether the engine answers.
    fn ping(&self) -> impl Future<Output = Result<()>> + Send {
        async { Ok(()) }
    }
    /// What became of a container since `since` (killed, out of memory, out of
    /// processes); `None` when the backend cannot tell.
    fn fate(
        &self,
        id: &str,
        since: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<Option<Fate>>> + Send {
        let _ = (id, since);
        async { Ok(None) }
    }
    /// Removes a container and its anonymous volumes, whatever its state; a container
    /// that is already gone is not an error.
    fn remove(&self, id: &str) -> impl Future<Output = Result<()>> + Send;
    /// The ids of containers carrying all these labels (running or not).
    fn containers_labelled(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// A container by name or id, if it exists.
    fn container(&self, name: &str) -> impl Future<Output = Result<Option<ContainerInfo>>> + Send;
    /// Saves a container's filesystem as the image `name` (`repo:tag`), with these labels
    /// added to the ones it has.
    fn commit(
        &self,
        id: &str,
        name: &str,
        labels: HashMap<String, String>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Images carrying all these labels (an empty value: the label with any value);
    /// `dangling`: only those without a name.
    fn images_labelled(
        &self,
        labels: &[(&str, &str)],
        dangling: bool,
    ) -> impl Future<Output = Result<Vec<ImageSummary>>> + Send;
    /// Removes an image (by id or name); one that is already gone is not an error.
    fn remove_image(&self, name: &str) -> impl Future<Output = Result<()>> + Send;
    /// The containers carrying all these labels (running or not), with their name,
    /// creation time and state.
    fn containers(
        &self,
        labels: &[(&str, &str)],
    ) -> impl Future<Output = Result<Vec<ContainerSummary>>> + Send {
        async move {
            let mut found = Vec::new();
            for id in self.containers_labelled(labels).await? {
                if let Some(info) = self.container(&id).await? {
                    found.push(ContainerSummary {
                        name: id.clone(),
                        id,
                        labels: info.labels,
                        created: None,
                        running: info.running,
                    });
                }
            }
            Ok(found)
        }
    }
    /// Like [`Backend::exec`], and hands each piece of output (stdout and stderr alike)
    /// to `sink` as it comes. Backends that cannot stream hand it all at the end.
    fn exec_streaming(
        &self,
        id: &str,
        cmd: &[&str],
        sink: &OutputSink<'_>,
    ) -> impl Future<Output = Result<ExecOutput>> + Send {
        async move {
            let out = self.exec(id, cmd).await?;
            sink(&out.stdout);
            sink(&out.stderr);
            Ok(out)
        }
    }
    /// The last `lines` lines its init (PID 1: systemd) printed, stdout and stderr as
    /// they came; empty when the backend cannot tell.
    fn init_output(&self, id: &str, lines: usize) -> impl Future<Output = Result<String>> + Send {
        let _ = (id, lines);
        async { Ok(String::new()) }
    }
    /// Runs a command attached to this process's own stdin, stdout and stderr (a
    /// terminal of its own when stdin is one) and returns its exit status: the shell of
    /// `rehearsal login`.
    fn exec_interactive(
        &self,
        id: &str,
        cmd: &[String],
    ) -> impl Future<Output = Result<i64>> + Send {
        let _ = (id, cmd);
        let engine = self.info().kind;
        async move {
            Err(BackendError::Unsupported {
                operation: "run an interactive command",
                engine,
                hint: "this backend has no terminal",
            })
        }
    }
    /// An image by name, if the engine has it.
    fn image(&self, name: &str) -> impl Future<Output = Result<Option<ImageInfo>>> + Send;
    /// Creates an image from a root filesystem tarball, with its command, environment and
    /// labels.
    fn import_rootfs(
        &self,
        tar: ByteStream,
        name: &str,
        meta: &ImageMeta,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Builds an image from a tar build context holding a build file (a Dockerfile);
    /// `progress` gets the build's output lines. Engines that build no such file answer
    /// [`BackendError::Unsupported`].
    fn build_image(
        &self,
        context: ByteStream,
        name: &str,
        labels: HashMap<String, String>,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> impl Future<Output = Result<()>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_names_of_a_signal_are_one_kind() {
        for name in ["9", "KILL", "SIGKILL", " SIGKILL "] {
            assert_eq!(Signal::from_engine(name), Signal::Kill, "{name}");
        }
        for name in ["15", "TERM", "SIGTERM"] {
            assert_eq!(Signal::from_engine(name), Signal::Term, "{name}");
        }
        let other = Signal::from_engine("SIGUSR1");
        assert_eq!(other, Signal::Other("SIGUSR1".into()));
        assert_eq!(other.to_string(), "signal SIGUSR1");
        assert_eq!(Signal::Kill.to_string(), "SIGKILL");
    }
}
