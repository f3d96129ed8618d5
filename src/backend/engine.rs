//! Choosing the engine: the one asked for (`--engine`, `REHEARSAL_ENGINE`), else the one
//! whose address variable alone is set (`DOCKER_HOST`, `CONTAINER_HOST`), else the first
//! that answers of Docker, Podman and LXC. [`Engine`] is the one type the commands hold;
//! it hands each operation to the engine chosen, so the stages above stay generic over
//! [`Backend`] and never learn which engine runs.

use super::{
    Backend, BackendError, ByteStream, ContainerConfig, ContainerInfo, ContainerSummary,
    DockerBackend, EngineInfo, EngineKind, ExecOutput, Fate, ImageInfo, ImageMeta, ImageSummary,
    LxcBackend, OutputSink, Result,
};
use std::collections::HashMap;

/// The engine a command runs on.
#[derive(Clone)]
pub enum Engine {
    /// Docker, or Podman through its Docker-compatible API.
    Api(DockerBackend),
    /// LXC through its tools (`lxc.rs`).
    Lxc(LxcBackend),
}

/// Connects to the engine asked for, or to the first of [`EngineKind::ALL`] that answers.
pub async fn connect(choice: Option<EngineKind>) -> Result<Engine> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    // An engine's own address variable says which engine is meant.
    let implied = match (set("DOCKER_HOST"), set("CONTAINER_HOST")) {
        (true, false) => Some(EngineKind::Docker),
        (false, true) => Some(EngineKind::Podman),
        _ => None,
    };
    if let Some(kind) = choice.or(implied) {
        return connect_to(kind).await;
    }
    let mut tried = Vec::new();
    for kind in EngineKind::ALL {
        match connect_to(kind).await {
            Ok(engine) => return Ok(engine),
            Err(err) => tried.push(format!("{kind}: {err}")),
        }
    }
    Err(BackendError::Unreachable(format!(
        "no container engine answers ({}); start one (`harness/engine [docker|podman|lxc]` \
         sets one up), or choose one with --engine",
        tried.join("; ")
    )))
}

async fn connect_to(kind: EngineKind) -> Result<Engine> {
    match kind {
        EngineKind::Docker => DockerBackend::connect_docker().await.map(Engine::Api),
        EngineKind::Podman => DockerBackend::connect_podman().await.map(Engine::Api),
        EngineKind::Lxc => LxcBackend::connect().await.map(Engine::Lxc),
    }
}

/// Hands a call to the engine chosen.
macro_rules! each {
    ($self:ident, $backend:ident => $call:expr) => {
        match $self {
            Engine::Api($backend) => $call,
            Engine::Lxc($backend) => $call,
        }
    };
}

impl Backend for Engine {
    fn info(&self) -> EngineInfo {
        each!(self, b => b.info())
    }
    async fn start(&self, config: &ContainerConfig) -> Result<String> {
        each!(self, b => b.start(config).await)
    }
    async fn exec(&self, id: &str, cmd: &[&str]) -> Result<ExecOutput> {
        each!(self, b => b.exec(id, cmd).await)
    }
    async fn exec_streaming(
        &self,
        id: &str,
        cmd: &[&str],
        sink: &OutputSink<'_>,
    ) -> Result<ExecOutput> {
        each!(self, b => b.exec_streaming(id, cmd, sink).await)
    }
    async fn exec_interactive(&self, id: &str, cmd: &[String]) -> Result<i64> {
        each!(self, b => b.exec_interactive(id, cmd).await)
    }
    async fn ping(&self) -> Result<()> {
        each!(self, b => b.ping().await)
    }
    async fn fate(&self, id: &str, since: chrono::DateTime<chrono::Utc>) -> Result<Option<Fate>> {
        each!(self, b => b.fate(id, since).await)
    }
    async fn remove(&self, id: &str) -> Result<()> {
        each!(self, b => b.remove(id).await)
    }
    async fn containers_labelled(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        each!(self, b => b.containers_labelled(labels).await)
    }
    async fn containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>> {
        each!(self, b => b.containers(labels).await)
    }
    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        each!(self, b => b.container(name).await)
    }
    async fn commit(&self, id: &str, name: &str, labels: HashMap<String, String>) -> Result<()> {
        each!(self, b => b.commit(id, name, labels).await)
    }
    async fn images_labelled(
        &self,
        labels: &[(&str, &str)],
        dangling: bool,
    ) -> Result<Vec<ImageSummary>> {
        each!(self, b => b.images_labelled(labels, dangling).await)
    }
    async fn remove_image(&self, name: &str) -> Result<()> {
        each!(self, b => b.remove_image(name).await)
    }
    async fn init_output(&self, id: &str, lines: usize) -> Result<String> {
        each!(self, b => b.init_output(id, lines).await)
    }
    async fn image(&self, name: &str) -> Result<Option<ImageInfo>> {
        each!(self, b => b.image(name).await)
    }
    async fn import_rootfs(&self, tar: ByteStream, name: &str, meta: &ImageMeta) -> Result<()> {
        each!(self, b => b.import_rootfs(tar, name, meta).await)
    }
    async fn build_image(
        &self,
        context: ByteStream,
        name: &str,
        labels: HashMap<String, String>,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        each!(self, b => b.build_image(context, name, labels, progress).await)
    }
}
