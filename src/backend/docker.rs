//! The Docker engine API, and Podman's Docker-compatible one, through bollard.
//!
//! One client serves both: Podman's compatible API answers nearly everything Docker's
//! does, so the differences are a handful of [`Flavor`] branches here (an import's tag, a
//! commit's labels, the events' time window, rlimits) instead of a second client for
//! libpod's own API. The API version is negotiated: Debian 12's engine speaks 1.41 at
//! most, newer engines more, and bollard's default would be refused by the older ones.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, Mount as DockerMount, MountType};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CommitContainerOptions, CreateContainerOptionsBuilder,
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, ListImagesOptions, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptions,
};
use bollard::Docker;
use futures_util::{StreamExt, TryStreamExt};

use crate::spec::limits::Network;

use super::raw::{self, Inspected};
use super::{
    Backend, BackendError, ByteStream, ContainerConfig, ContainerInfo, ContainerSummary,
    EngineInfo, EngineKind, ExecOutput, Fate, ImageInfo, ImageMeta, ImageSummary, OutputSink,
    Result, Signal,
};

/// A connection to a Docker-API engine: Docker itself, or Podman's compatible API.
#[derive(Clone)]
pub struct DockerBackend {
    docker: Docker,
    info: EngineInfo,
    /// What its containers may ask for (read once, when connecting).
    limits: HostLimits,
    /// Podman's socket, for the inspections bollard cannot read (see `raw`).
    socket: Option<String>,
    /// The engine confines its containers with AppArmor (it says so in its info).
    apparmor: bool,
    /// The engine runs on this host, so rehearsal may load its AppArmor profile itself.
    local: bool,
    /// Whether rehearsal's AppArmor profile is loaded, asked once, at the first start.
    profile: tokio::sync::OnceCell<std::result::Result<(), String>>,
}

fn op(operation: &'static str) -> impl Fn(bollard::errors::Error) -> BackendError {
    move |err| BackendError::Operation {
        operation,
        message: engine_message(err),
    }
}

/// As [`op`], for the operations of running a command: a fork the kernel refused (the
/// container is at its process limit) is a kind of its own.
fn exec_op(operation: &'static str) -> impl Fn(bollard::errors::Error) -> BackendError {
    move |err| {
        let message = engine_message(err);
        if message.contains("resource temporarily unavailable") {
            BackendError::ProcessLimit { operation, message }
        } else {
            BackendError::Operation { operation, message }
        }
    }
}

/// The engine's own sentence, without bollard's wrapping.
fn engine_message(err: bollard::errors::Error) -> String {
    match err {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => {
            format!("{message} (engine status {status_code})")
        }
        bollard::errors::Error::DockerStreamError { error } => error,
        other => other.to_string(),
    }
}

/// The engine's `label` filter: `key=value`, or `key` alone (any value) for an empty value.
fn label_filters(labels: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let wanted = labels
        .iter()
        .map(|(k, v)| match v.is_empty() {
            true => k.to_string(),
            false => format!("{k}={v}"),
        })
        .collect();
    HashMap::from([("label".to_string(), wanted)])
}

fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// tmpfs for what systemd writes at run time. Their pages count against the container's
/// memory, so they are sized from it: a full /tmp is "No space left on device", not an
/// out-of-memory kill.
fn tmpfs_mounts(memory: u64) -> HashMap<String, String> {
    let size = |fraction: u64| format!("size={}k", (memory / fraction / 1024).max(1024));
    [
        ("/run", format!("rw,nosuid,nodev,mode=755,{}", size(4))),
        ("/run/lock", "rw,nosuid,nodev,noexec,size=8m".to_string()),
        ("/tmp", format!("rw,nosuid,nodev,{}", size(2))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A name another container holds: Docker answers 409; Podman's Docker-compatible API has
/// answered 500 with "… is already in use" (libpod's storage error), so both are read as
/// the conflict they are.
fn is_name_conflict(err: &bollard::errors::Error) -> bool {
    match err {
        bollard::errors::Error::DockerResponseServerError {
            status_code,
            message,
        } => *status_code == 409 || message.contains("is already in use"),
        _ => false,
    }
}

/// An image's name as rehearsal wrote it: Podman lists local images under `localhost/`
/// (and, made by an older rehearsal, under `docker.io/`).
fn local_name(name: &str) -> &str {
    name.strip_prefix("localhost/")
        .or_else(|| name.strip_prefix("docker.io/"))
        .unwrap_or(name)
}

/// Labels as one Dockerfile-style `LABEL` change, values JSON-quoted.
fn commit_label_change(labels: &HashMap<String, String>) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                serde_json::to_string(v).expect("a string is JSON")
            )
        })
        .collect();
    pairs.sort();
    format!("LABEL {}", pairs.join(" "))
}

/// An image's command, environment and labels as the Dockerfile-style `changes` of an
/// import; values are JSON-quoted, which Dockerfile syntax reads as quoted strings.
fn import_changes(meta: &ImageMeta) -> Vec<String> {
    let quote = |v: &str| serde_json::to_string(v).expect("a string is JSON");
    let mut changes = Vec::new();
    if !meta.command.is_empty() {
        let command = serde_json::to_string(&meta.command).expect("strings are JSON");
        changes.push(format!("CMD {command}"));
    }
    for (name, value) in &meta.env {
        changes.push(format!("ENV {name}={}", quote(value)));
    }
    for (name, value) in &meta.labels {
        changes.push(format!("LABEL {name}={}", quote(value)));
    }
    changes
}

/// The host's hard limits a rootless or unprivileged engine cannot raise a container's
/// rlimits above (Podman refuses to start a container that asks for more).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostLimits {
    pub open_files: Option<u64>,
    pub processes: Option<u64>,
}

impl HostLimits {
    /// The limits of the engine's own process, which its containers' runtime inherits,
    /// when it serves a local socket; else this process's.
    pub fn of_engine(socket: Option<&str>) -> HostLimits {
        use crate::host::{hard_limit, hard_limit_of, socket_server};
        let server = socket.and_then(socket_server);
        let limit = |resource: &str| match server {
            Some(pid) => hard_limit_of(pid, resource).or_else(|| hard_limit(resource)),
            None => hard_limit(resource),
        };
        HostLimits {
            open_files: limit("Max open files"),
            processes: limit("Max processes"),
        }
    }
}

/// What a case's container is created with, for this engine and host: the settings a
/// systemd-managed host has, and no more (never `--privileged`). Pure, so every engine and
/// host kind is tested over a table.
///
/// - A private cgroup namespace on every host: systemd sees its own cgroup as the root,
///   and nothing of the host's tree (a bind of the host's /sys/fs/cgroup, read-only or
///   not, would leave the v1 controllers writable).
/// - `SYS_ADMIN` for systemd's mounts and namespaces; `SYS_PTRACE` because a unit with
///   `User=` and `ProtectProc=invisible` (redis-server, …) has systemd's user-namespace
///   helper read its parent's `/proc/PID/*_map`, which `ProtectProc` hides from it
///   without that capability (217/USER otherwise); `NET_ADMIN` for `PrivateNetwork=`,
///   whose loopback systemd brings up itself.
/// - IPv6 on in the container's own network namespace: services that bind `::1`
///   (memcached, unbound) fail on Docker's default of IPv6 off.
/// - No `no-new-privileges`: it would break setuid programs (sudo, postdrop) that a
///   module under test configures and a host runs.
/// - Podman: the environment says `container=podman`, and rlimits no higher than the
///   host allows.
/// - On an AppArmor host, rehearsal's own profile (see [`super::apparmor`]): the engines'
///   defaults deny the mounts of systemd's unit sandboxing.
/// - Docker 28 and later on cgroup v2 mount the container's cgroup read-write when asked
///   (`writable-cgroups`); older ones only read-only, so there the image's start command
///   runs after a read-write remount of it ([`init_wrapper`]). With a private cgroup
///   namespace its root is the container's own cgroup, and the kernel (cgroup2's
///   `nsdelegate`) refuses writes from inside to that root's limits.
pub fn create_body(
    config: &ContainerConfig,
    engine: &EngineInfo,
    host: &HostLimits,
    confinement: &Confinement,
) -> ContainerCreateBody {
    let mounts: Vec<DockerMount> = config
        .mounts
        .iter()
        .map(|m| DockerMount {
            target: Some(m.container.clone()),
            source: Some(m.host.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(m.read_only),
            ..Default::default()
        })
        .collect();
    let podman = engine.kind == EngineKind::Podman;
    let memory = i64::try_from(config.limits.memory).unwrap_or(i64::MAX);
    let mut security_opt = Vec::new();
    if cgroup_write(engine) == CgroupWrite::Asked {
        // systemd needs to write its own cgroup; Docker mounts it read-only unless asked.
        security_opt.push("writable-cgroups=true".to_string());
    }
    if let Some(profile) = &confinement.apparmor {
        security_opt.push(format!("apparmor={profile}"));
    }
    let ulimit = |name: &str, limit: Option<u64>| {
        limit.map(|n| {
            let n = i64::try_from(n.min(1 << 20)).unwrap_or(1 << 20);
            bollard::models::ResourcesUlimits {
                name: Some(name.into()),
                soft: Some(n),
                hard: Some(n),
            }
        })
    };
    let ulimits: Vec<_> = match podman {
        true => [
            ulimit("nofile", host.open_files),
            ulimit("nproc", host.processes),
        ]
        .into_iter()
        .flatten()
        .collect(),
        false => Vec::new(),
    };
    let host_config = HostConfig {
        mounts: Some(mounts),
        tmpfs: Some(tmpfs_mounts(config.limits.memory)),
        cap_add: Some(super::CAPABILITIES.map(String::from).to_vec()),
        security_opt: (!security_opt.is_empty()).then_some(security_opt),
        cgroupns_mode: Some(bollard::models::HostConfigCgroupnsModeEnum::PRIVATE),
        sysctls: Some(HashMap::from([(
            "net.ipv6.conf.all.disable_ipv6".to_string(),
            "0".to_string(),
        )])),
        ulimits: (!ulimits.is_empty()).then_some(ulimits),
        memory: Some(memory),
        // The same as memory: no swap, so a case over its limit is killed, not slowed.
        memory_swap: Some(memory),
        nano_cpus: Some(i64::try_from(config.limits.nano_cpus).unwrap_or(i64::MAX)),
        pids_limit: Some(i64::try_from(config.limits.pids).unwrap_or(i64::MAX)),
        network_mode: match config.network {
            Network::None => Some("none".into()),
            Network::Default => None,
        },
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(config.image.clone()),
        hostname: Some(config.hostname.clone()),
        labels: Some(config.labels.clone()),
        env: Some(vec![format!("container={}", engine.kind)]),
        stop_signal: Some("SIGRTMIN+3".into()),
        entrypoint: confinement.init.as_ref().map(|init| {
            ["/bin/sh", "-c", init.script, "rehearsal-init"]
                .map(String::from)
                .to_vec()
        }),
        cmd: confinement.init.as_ref().map(|init| init.command.clone()),
        host_config: Some(host_config),
        ..Default::default()
    }
}

/// The start command's wrapper where the engine mounts the container's cgroup read-only:
/// remount it read-write, then run the image's own command (its arguments). A remount
/// refused is said on the container's output, which the start's error shows.
pub const REMOUNT_CGROUP: &str = "mount -o remount,rw /sys/fs/cgroup || echo \
    'rehearsal: cannot remount /sys/fs/cgroup read-write, so systemd cannot run' >&2; \
    exec \"$@\"";

/// What a case's container is confined with beyond the engine's defaults, for this host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// The AppArmor profile its processes run under (rehearsal's, on an AppArmor host).
    pub apparmor: Option<String>,
    /// The image's init, run through a shell script first; `None`: as the image says.
    pub init: Option<WrappedInit>,
}

/// An image's init run through `/bin/sh -c SCRIPT rehearsal-init COMMAND...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedInit {
    pub script: &'static str,
    /// The image's own start command: entrypoint, then arguments.
    pub command: Vec<String>,
}

/// The script the image's init runs through on this engine and host, if any: Docker before
/// 28 on cgroup v2 mounts the container's cgroup read-only whatever it is asked
/// ([`REMOUNT_CGROUP`]).
///
/// (Podman on cgroup v1 stays in its systemd mode, which binds the root of the host's
/// `name=systemd` hierarchy read-write into the container. Out of that mode, through the
/// compatible API, Podman 4.3 leaves that hierarchy outside the container's cgroup
/// namespace and systemd stops at once: "Failed to attach 1 to compat systemd cgroup".)
pub fn init_wrapper(engine: &EngineInfo) -> Option<&'static str> {
    (cgroup_write(engine) == CgroupWrite::Remounted).then_some(REMOUNT_CGROUP)
}

/// How systemd in a container gets a cgroup it can write, on this engine and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CgroupWrite {
    /// As the engine mounts it (cgroup v1; Podman's systemd mode on v2).
    Given,
    /// Docker 28 and later on cgroup v2: asked for (`writable-cgroups=true`).
    Asked,
    /// Docker before 28 on cgroup v2: remounted read-write by the init's wrapper.
    Remounted,
}

fn cgroup_write(engine: &EngineInfo) -> CgroupWrite {
    match (engine.kind, engine.cgroup) {
        (EngineKind::Docker, 2) if docker_major(&engine.version) >= 28 => CgroupWrite::Asked,
        (EngineKind::Docker, 2) => CgroupWrite::Remounted,
        _ => CgroupWrite::Given,
    }
}

/// The major version of a Docker version string (`26.1.5+dfsg1` → 26); 0 when unreadable.
fn docker_major(version: &str) -> u32 {
    version
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Where Podman's API socket is: `CONTAINER_HOST` (Podman's own variable; `unix://` only),
/// else the user's own socket under `XDG_RUNTIME_DIR` for an unprivileged user (rootless
/// Podman), else the system's.
pub fn podman_socket(
    container_host: Option<&str>,
    runtime_dir: Option<&str>,
    root: bool,
) -> std::result::Result<String, String> {
    if let Some(host) = container_host.filter(|h| !h.is_empty()) {
        return match host.strip_prefix("unix://") {
            Some(path) => Ok(path.to_string()),
            None => Err(format!(
                "CONTAINER_HOST={host}: only a local socket (unix://PATH) is supported"
            )),
        };
    }
    match (root, runtime_dir.filter(|d| !d.is_empty())) {
        (false, Some(dir)) => Ok(format!("{dir}/podman/podman.sock")),
        (false, None) => Err(
            "XDG_RUNTIME_DIR is not set, so rootless Podman's socket cannot be found: \
             log in as the user (or set CONTAINER_HOST=unix://PATH)"
                .into(),
        ),
        (true, _) => Ok("/run/podman/podman.sock".into()),
    }
}

impl DockerBackend {
    /// Connects to Docker as its CLI would (`DOCKER_HOST`, else the local socket),
    /// negotiates the API version, and checks the engine answers. A Podman answering on
    /// Docker's socket (podman-docker) is taken for the Podman it is.
    pub async fn connect_docker() -> Result<DockerBackend> {
        let hint =
            "start the engine (`harness/engine` installs and starts one), or set DOCKER_HOST";
        let docker = Docker::connect_with_defaults()
            .map_err(|err| BackendError::Unreachable(format!("{err}; {hint}")))?;
        // Only a local socket's engine runs on this host's kernel (AppArmor profiles).
        let local = std::env::var("DOCKER_HOST")
            .map(|host| host.is_empty() || host.starts_with("unix://"))
            .unwrap_or(true);
        Self::handshake(docker, hint, local).await
    }

    /// Connects to Podman's API service (see [`podman_socket`]).
    pub async fn connect_podman() -> Result<DockerBackend> {
        let hint = "start Podman's API service (`harness/engine podman` does; rootless: \
                    `systemctl --user start podman.socket`), or set CONTAINER_HOST";
        let root = crate::host::is_root();
        let socket = podman_socket(
            std::env::var("CONTAINER_HOST").ok().as_deref(),
            std::env::var("XDG_RUNTIME_DIR").ok().as_deref(),
            root,
        )
        .map_err(|err| BackendError::Unreachable(format!("{err}; {hint}")))?;
        let docker = Docker::connect_with_unix(&socket, 120, bollard::API_DEFAULT_VERSION)
            .map_err(|err| BackendError::Unreachable(format!("{err}; {hint}")))?;
        // Podman's socket is a local one (see `podman_socket`).
        let mut backend = Self::handshake(docker, hint, true).await?;
        backend.info.rootless |= !root;
        backend.limits = HostLimits::of_engine(Some(&socket));
        backend.socket = Some(socket);
        Ok(backend)
    }

    async fn handshake(docker: Docker, hint: &str, local: bool) -> Result<DockerBackend> {
        let unreachable = |err: bollard::errors::Error| {
            BackendError::Unreachable(format!("{}; {hint}", engine_message(err)))
        };
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        let system = docker.info().await.map_err(unreachable)?;
        let version = docker.version().await.map_err(unreachable)?;
        let podman = version
            .components
            .iter()
            .flatten()
            .find(|c| c.name == "Podman Engine");
        let info = EngineInfo {
            kind: match podman {
                Some(_) => EngineKind::Podman,
                None => EngineKind::Docker,
            },
            version: podman
                .map(|c| c.version.clone())
                .or(version.version)
                .unwrap_or_else(|| "unknown".into()),
            cgroup: match system.cgroup_version {
                Some(bollard::models::SystemInfoCgroupVersionEnum::_1) => 1,
                _ => 2,
            },
            rootless: system
                .security_options
                .iter()
                .flatten()
                .any(|o| o.contains("rootless")),
        };
        let apparmor = system
            .security_options
            .iter()
            .flatten()
            .any(|o| o.split(',').any(|part| part == "name=apparmor"));
        Ok(DockerBackend {
            docker,
            info,
            limits: HostLimits::default(),
            socket: None,
            apparmor,
            local,
            profile: tokio::sync::OnceCell::new(),
        })
    }

    /// How this host's containers are confined beyond the engine's defaults
    /// ([`Confinement`]); the first call loads rehearsal's AppArmor profile where needed.
    async fn confinement(&self, image: &str) -> Result<Confinement> {
        // A rootless engine confines nothing with AppArmor (Podman refuses a profile then,
        // though its info still names AppArmor).
        let apparmor = match self.apparmor && !self.info.rootless {
            false => None,
            true => {
                let ready = self
                    .profile
                    .get_or_init(|| async {
                        if !self.local {
                            // Another host's kernel: a start without the profile says so.
                            return Ok(());
                        }
                        tokio::task::spawn_blocking(super::apparmor::ensure_loaded)
                            .await
                            .unwrap_or_else(|err| Err(err.to_string()))
                    })
                    .await;
                if let Err(message) = ready {
                    return Err(BackendError::Operation {
                        operation: "start a container",
                        message: message.clone(),
                    });
                }
                Some(super::apparmor::name().to_string())
            }
        };
        let init = match init_wrapper(&self.info) {
            None => None,
            Some(script) => Some(WrappedInit {
                script,
                command: self.image_command(image).await?,
            }),
        };
        Ok(Confinement { apparmor, init })
    }

    /// The image's own start command: its entrypoint, then its arguments.
    async fn image_command(&self, image: &str) -> Result<Vec<String>> {
        let inspected = self
            .docker
            .inspect_image(image)
            .await
            .map_err(op("inspect an image"))?;
        let config = inspected.config.unwrap_or_default();
        let command: Vec<String> = config
            .entrypoint
            .into_iter()
            .flatten()
            .chain(config.cmd.into_iter().flatten())
            .collect();
        match command.is_empty() {
            false => Ok(command),
            true => Err(BackendError::Operation {
                operation: "start a container",
                message: format!("the image {image} has no start command (its init)"),
            }),
        }
    }

    fn podman(&self) -> bool {
        self.info.kind == EngineKind::Podman
    }

    /// A container's labels, state and limits; `None` when it does not exist.
    async fn inspect(&self, id: &str) -> Result<Option<Inspected>> {
        if let (true, Some(socket)) = (self.podman(), &self.socket) {
            return raw::inspect(socket, id)
                .await
                .map_err(|message| BackendError::Operation {
                    operation: "inspect a container",
                    message,
                });
        }
        let found = match self.docker.inspect_container(id, None).await {
            Ok(found) => found,
            Err(err) if is_not_found(&err) => return Ok(None),
            Err(err) => return Err(op("inspect a container")(err)),
        };
        let state = found.state.unwrap_or_default();
        Ok(Some(Inspected {
            id: found.id.unwrap_or_default(),
            config: raw::InspectedConfig {
                labels: found.config.and_then(|c| c.labels),
            },
            state: raw::InspectedState {
                running: state.running.unwrap_or(false),
                exit_code: state.exit_code,
                oom_killed: state.oom_killed.unwrap_or(false),
            },
            host_config: raw::InspectedHost {
                pids_limit: found.host_config.and_then(|h| h.pids_limit),
            },
        }))
    }

    /// Runs a command and waits for it; `sink` gets each piece of output as it comes.
    async fn run_exec(
        &self,
        id: &str,
        cmd: &[&str],
        sink: Option<&OutputSink<'_>>,
    ) -> Result<ExecOutput> {
        let exec = self
            .docker
            .create_exec(
                id,
                bollard::exec::CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(exec_op("run a command in the container"))?;
        let mut out = ExecOutput::default();
        match self
            .docker
            .start_exec(&exec.id, None)
            .await
            .map_err(exec_op("run a command in the container"))?
        {
            bollard::exec::StartExecResults::Attached { mut output, .. } => {
                while let Some(chunk) = output.next().await {
                    match chunk.map_err(exec_op("read a command's output"))? {
                        bollard::container::LogOutput::StdOut { message } => {
                            sink.inspect(|sink| sink(&message));
                            out.stdout.extend_from_slice(&message)
                        }
                        bollard::container::LogOutput::StdErr { message } => {
                            sink.inspect(|sink| sink(&message));
                            out.stderr.extend_from_slice(&message)
                        }
                        _ => {}
                    }
                }
            }
            bollard::exec::StartExecResults::Detached => {}
        }
        out.exit_code = self.exit_status(&exec.id).await?;
        Ok(out)
    }

    /// An ended exec's exit status (-1 when the engine does not know it).
    async fn exit_status(&self, exec: &str) -> Result<i64> {
        let inspected = self
            .docker
            .inspect_exec(exec)
            .await
            .map_err(exec_op("read a command's exit status"))?;
        Ok(inspected.exit_code.unwrap_or(-1))
    }
}

impl Backend for DockerBackend {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn start(&self, config: &ContainerConfig) -> Result<String> {
        let confinement = self.confinement(&config.image).await?;
        let body = create_body(config, &self.info, &self.limits, &confinement);
        let options = CreateContainerOptionsBuilder::default()
            .name(&config.name)
            .build();
        let created = match self.docker.create_container(Some(options), body).await {
            Ok(created) => created,
            Err(err) if is_name_conflict(&err) => {
                return Err(BackendError::NameInUse(config.name.clone()))
            }
            Err(err) => return Err(op("create a container")(err)),
        };
        if let Err(err) = self.docker.start_container(&created.id, None).await {
            let _ = self.remove(&created.id).await;
            let mut message = engine_message(err);
            if confinement.apparmor.is_some() && message.to_lowercase().contains("apparmor") {
                message = format!("{message}; {}", super::apparmor::load_hint());
            }
            return Err(BackendError::Operation {
                operation: "start a container",
                message,
            });
        }
        Ok(created.id)
    }

    async fn exec(&self, id: &str, cmd: &[&str]) -> Result<ExecOutput> {
        self.run_exec(id, cmd, None).await
    }

    async fn exec_streaming(
        &self,
        id: &str,
        cmd: &[&str],
        sink: &OutputSink<'_>,
    ) -> Result<ExecOutput> {
        self.run_exec(id, cmd, Some(sink)).await
    }

    async fn exec_interactive(&self, id: &str, cmd: &[String]) -> Result<i64> {
        use std::io::{IsTerminal, Write};
        use tokio::io::AsyncWriteExt;
        let interactive = std::io::stdin().is_terminal();
        let tty = interactive && std::io::stdout().is_terminal();
        let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
        let exec = self
            .docker
            .create_exec(
                id,
                bollard::exec::CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    attach_stdin: Some(interactive),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    tty: Some(tty),
                    env: tty.then(|| vec![format!("TERM={term}")]),
                    ..Default::default()
                },
            )
            .await
            .map_err(exec_op("run a command in the container"))?;
        let options = bollard::exec::StartExecOptions {
            tty,
            ..Default::default()
        };
        let started = self
            .docker
            .start_exec(&exec.id, Some(options))
            .await
            .map_err(exec_op("run a command in the container"))?;
        let bollard::exec::StartExecResults::Attached {
            mut output,
            mut input,
        } = started
        else {
            return Err(BackendError::Operation {
                operation: "run a command in the container",
                message: "the engine did not attach to it".into(),
            });
        };
        let raw = tty.then(super::terminal::RawMode::enter).flatten();
        if let Some((rows, columns)) = tty.then(super::terminal::size).flatten() {
            let size = bollard::exec::ResizeExecOptions {
                height: rows,
                width: columns,
            };
            let _ = self.docker.resize_exec(&exec.id, size).await;
        }
        // A thread of its own reads stdin: a blocking read cannot be cancelled, and the
        // process must not wait for a key press once the command has ended.
        let typing = interactive.then(|| {
            let (keys, mut typed) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                let mut stdin = std::io::stdin().lock();
                while let Ok(n @ 1..) = std::io::Read::read(&mut stdin, &mut buffer) {
                    if keys.blocking_send(buffer[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some(bytes) = typed.recv().await {
                    if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                        break;
                    }
                }
                let _ = input.shutdown().await;
            })
        });
        while let Some(chunk) = output.next().await {
            let written = match chunk.map_err(exec_op("read a command's output"))? {
                bollard::container::LogOutput::StdErr { message } => {
                    let mut err = std::io::stderr();
                    err.write_all(&message).and_then(|()| err.flush())
                }
                other => {
                    let mut out = std::io::stdout();
                    out.write_all(&other.into_bytes())
                        .and_then(|()| out.flush())
                }
            };
            if written.is_err() {
                break;
            }
        }
        if let Some(typing) = typing {
            typing.abort();
        }
        drop(raw);
        self.exit_status(&exec.id).await
    }

    async fn ping(&self) -> Result<()> {
        self.docker
            .ping()
            .await
            .map(drop)
            .map_err(|err| BackendError::Unreachable(engine_message(err)))
    }

    async fn fate(&self, id: &str, since: chrono::DateTime<chrono::Utc>) -> Result<Option<Fate>> {
        let Some(inspected) = self.inspect(id).await? else {
            return Ok(Some(Fate {
                gone: true,
                ..Fate::default()
            }));
        };
        let state = &inspected.state;
        // The engine marks OOMKilled only once the container stops, and a container just
        // killed may still show as running for a moment: its events tell both at once
        // (`oom` for a process killed for memory, `kill` with the signal, `die`).
        let filters = HashMap::from([
            ("container".to_string(), vec![id.to_string()]),
            (
                "event".to_string(),
                ["oom", "kill", "die"].map(String::from).to_vec(),
            ),
        ]);
        let until = match self.podman() {
            // Podman reads `until` in whole seconds and sends nothing for a window that
            // has already closed: the next second, which it waits for.
            true => (chrono::Utc::now().timestamp() + 1).to_string(),
            // Now, to the nanosecond: the engine answers at once with what it has.
            false => chrono::Utc::now().format("%s.%f").to_string(),
        };
        let events = bollard::query_parameters::EventsOptions {
            since: Some(since.timestamp().to_string()),
            until: Some(until),
            filters: Some(filters),
        };
        let events = self
            .docker
            .events(Some(events))
            .try_collect::<Vec<_>>()
            .await
            .map_err(op("read the engine's events"))?;
        let happened = |action: &'static str| {
            events
                .iter()
                .filter(move |e| e.action.as_deref() == Some(action))
        };
        let running = state.running && happened("die").next().is_none();
        let killed = happened("kill").next_back().map(|e| {
            let named = e
                .actor
                .as_ref()
                .and_then(|a| a.attributes.as_ref())
                .and_then(|a| a.get("signal"));
            match named {
                Some(signal) => Signal::from_engine(signal),
                // Podman's kill events name no signal: its main process's status does,
                // once it has stopped (128 + the signal).
                None => state
                    .exit_code
                    .filter(|code| (129..160).contains(code) && !state.running)
                    .map(|code| Signal::from_engine(&(code - 128).to_string()))
                    .unwrap_or(Signal::Unknown),
            }
        });
        let pids = if running {
            let options = bollard::query_parameters::StatsOptions {
                stream: false,
                one_shot: true,
            };
            match self.docker.stats(id, Some(options)).try_next().await {
                Ok(Some(stats)) => stats
                    .pids_stats
                    .and_then(|p| {
                        // Podman's stats carry no limit: the container's own setting.
                        let limit = p.limit.filter(|l| *l > 0).or_else(|| {
                            let set = inspected.host_config.pids_limit?;
                            u64::try_from(set).ok().filter(|l| *l > 0)
                        });
                        Some((p.current?, limit?))
                    })
                    .filter(|(_, limit)| *limit > 0),
                _ => None,
            }
        } else {
            None
        };
        Ok(Some(Fate {
            gone: false,
            running,
            exit_code: (!running).then_some(state.exit_code).flatten(),
            out_of_memory: state.oom_killed || happened("oom").next().is_some(),
            killed,
            pids,
        }))
    }

    async fn remove(&self, id: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(err) if is_not_found(&err) => Ok(()),
            // A removal already under way (another process cleaning up) is fine too.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409,
                message,
            }) if message.contains("already in progress") => Ok(()),
            Err(err) => Err(op("remove a container")(err)),
        }
    }

    async fn containers_labelled(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        Ok(self
            .containers(labels)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect())
    }

    async fn containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>> {
        let filters = label_filters(labels);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let found = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(op("list containers"))?;
        Ok(found
            .into_iter()
            .filter_map(|c| {
                Some(ContainerSummary {
                    id: c.id?,
                    name: c
                        .names
                        .unwrap_or_default()
                        .first()
                        .map(|n| n.trim_start_matches('/').to_string())
                        .unwrap_or_default(),
                    labels: c.labels.unwrap_or_default(),
                    created: c.created,
                    running: c.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING),
                })
            })
            .collect())
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        Ok(self.inspect(name).await?.map(|found| ContainerInfo {
            id: found.id,
            labels: found.config.labels.unwrap_or_default(),
            running: found.state.running,
        }))
    }

    async fn commit(&self, id: &str, name: &str, labels: HashMap<String, String>) -> Result<()> {
        let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let options = CommitContainerOptions {
            container: Some(id.to_string()),
            repo: Some(match self.podman() {
                true => format!("localhost/{repo}"),
                false => repo.to_string(),
            }),
            tag: Some(tag.to_string()),
            comment: Some("rehearsal snapshot".to_string()),
            pause: true,
            // Podman ignores the labels of the body below; it takes them as a change.
            changes: self.podman().then(|| commit_label_change(&labels)),
            ..Default::default()
        };
        // The engine merges this with the container's own configuration (command, stop
        // signal, environment), the labels included.
        let config = bollard::models::ContainerConfig {
            labels: Some(labels),
            ..Default::default()
        };
        self.docker
            .commit_container(options, config)
            .await
            .map_err(op("commit a container as an image"))?;
        Ok(())
    }

    async fn images_labelled(
        &self,
        labels: &[(&str, &str)],
        dangling: bool,
    ) -> Result<Vec<ImageSummary>> {
        let mut filters = label_filters(labels);
        if dangling {
            filters.insert("dangling".into(), vec!["true".into()]);
        }
        let options = ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        };
        let found = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(op("list images"))?;
        Ok(found
            .into_iter()
            .map(|i| ImageSummary {
                id: i.id,
                tags: i
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .map(|t| local_name(&t).to_string())
                    .collect(),
                labels: i.labels,
                created: i.created,
                size: i.size,
            })
            .collect())
    }

    async fn remove_image(&self, name: &str) -> Result<()> {
        let options = RemoveImageOptions {
            force: false,
            noprune: false,
            ..Default::default()
        };
        match self.docker.remove_image(name, Some(options), None).await {
            Ok(_) => Ok(()),
            Err(err) if is_not_found(&err) => Ok(()),
            Err(err) => Err(op("remove an image")(err)),
        }
    }

    async fn image(&self, name: &str) -> Result<Option<ImageInfo>> {
        match self.docker.inspect_image(name).await {
            Ok(image) => Ok(Some(ImageInfo {
                id: image.id.unwrap_or_default(),
                labels: image.config.and_then(|c| c.labels).unwrap_or_default(),
                created: image.created.unwrap_or_default(),
                size: image.size.unwrap_or_default(),
            })),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(op("inspect an image")(err)),
        }
    }

    async fn init_output(&self, id: &str, lines: usize) -> Result<String> {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let chunks: Vec<_> = self
            .docker
            .logs(id, Some(options))
            .try_collect()
            .await
            .map_err(op("read a container's output"))?;
        Ok(chunks
            .into_iter()
            .map(|chunk| String::from_utf8_lossy(&chunk.into_bytes()).into_owned())
            .collect())
    }

    async fn import_rootfs(&self, tar: ByteStream, name: &str, meta: &ImageMeta) -> Result<()> {
        let changes = import_changes(meta);
        if let (true, Some(socket)) = (self.podman(), &self.socket) {
            // Under localhost/, else Podman files it under docker.io/.
            return raw::import(socket, &format!("localhost/{name}"), &changes, tar)
                .await
                .map_err(|message| BackendError::Operation {
                    operation: "import a root filesystem as an image",
                    message,
                });
        }
        let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let options = CreateImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .from_src("-")
            .changes(changes)
            .build();
        let mut progress =
            self.docker
                .create_image(Some(options), Some(bollard::body_try_stream(tar)), None);
        while let Some(item) = progress.next().await {
            item.map_err(op("import a root filesystem as an image"))?;
        }
        Ok(())
    }

    async fn build_image(
        &self,
        context: ByteStream,
        name: &str,
        labels: HashMap<String, String>,
        progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(name)
            .rm(true)
            .forcerm(true)
            .labels(&labels)
            .build();
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_try_stream(context)));
        while let Some(info) = stream.try_next().await.map_err(op("build an image"))? {
            if let Some(line) = info.stream.as_deref() {
                for line in line.lines().filter(|l| !l.trim().is_empty()) {
                    progress(line.trim_end());
                }
            }
            if let Some(error) = info.error_detail.and_then(|e| e.message) {
                return Err(BackendError::Operation {
                    operation: "build an image",
                    message: error,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_metadata_becomes_the_changes_of_an_import() {
        let meta = ImageMeta {
            command: vec!["/lib/systemd/systemd".into()],
            env: vec![("container".into(), "docker".into())],
            labels: [("rehearsal.platform".to_string(), "debian 12".to_string())].into(),
        };
        assert_eq!(
            import_changes(&meta),
            [
                r#"CMD ["/lib/systemd/systemd"]"#,
                r#"ENV container="docker""#,
                r#"LABEL rehearsal.platform="debian 12""#,
            ]
        );
    }

    fn case_config() -> ContainerConfig {
        ContainerConfig {
            image: "rehearsal/debian12:abc".into(),
            name: "rehearsal-run-1".into(),
            hostname: "case".into(),
            labels: HashMap::new(),
            mounts: vec![],
            limits: crate::spec::limits::Limits {
                memory: 1 << 30,
                nano_cpus: 1_000_000_000,
                pids: 2048,
            },
            network: Network::Default,
        }
    }

    fn engine(kind: EngineKind, version: &str, cgroup: u8) -> EngineInfo {
        EngineInfo {
            kind,
            version: version.into(),
            cgroup,
            rootless: false,
        }
    }

    #[test]
    fn every_engine_and_host_gets_systemds_settings_and_no_more() {
        let limits = HostLimits {
            open_files: Some(20000),
            processes: Some(32768),
        };
        let table = [
            // (engine, writable-cgroups asked for, rlimits set)
            (
                engine(EngineKind::Docker, "20.10.24+dfsg1", 1),
                false,
                false,
            ),
            (engine(EngineKind::Docker, "26.1.5+dfsg1", 2), false, false),
            (engine(EngineKind::Docker, "28.2.2", 2), true, false),
            (engine(EngineKind::Docker, "28.2.2", 1), false, false),
            (engine(EngineKind::Podman, "4.3.1", 1), false, true),
            (engine(EngineKind::Podman, "5.4.2", 2), false, true),
        ];
        for (info, writable, rlimits) in table {
            let body = create_body(&case_config(), &info, &limits, &Confinement::default());
            assert_eq!(
                (&body.entrypoint, &body.cmd),
                (&None, &None),
                "the image's own"
            );
            let host = body.host_config.unwrap();
            let what = info.to_string();
            assert_eq!(
                host.cgroupns_mode,
                Some(bollard::models::HostConfigCgroupnsModeEnum::PRIVATE),
                "{what}"
            );
            assert!(
                !host
                    .mounts
                    .as_ref()
                    .unwrap()
                    .iter()
                    .any(|m| m.target.as_deref() == Some("/sys/fs/cgroup")),
                "{what}: the host's cgroup tree is never mounted"
            );
            assert_eq!(host.privileged, None, "{what}");
            let caps = host.cap_add.unwrap();
            for wanted in ["SYS_ADMIN", "SYS_PTRACE", "NET_ADMIN", "NET_RAW"] {
                assert!(caps.iter().any(|c| c == wanted), "{what}: {wanted}");
            }
            assert!(
                !caps.iter().any(|c| c == "ALL" || c == "SYS_MODULE"),
                "{what}"
            );
            let security = host.security_opt.unwrap_or_default();
            assert_eq!(
                security.contains(&"writable-cgroups=true".to_string()),
                writable,
                "{what}"
            );
            assert!(
                !security.iter().any(|o| o.contains("no-new-privileges")),
                "{what}"
            );
            assert_eq!(
                host.sysctls
                    .unwrap()
                    .get("net.ipv6.conf.all.disable_ipv6")
                    .map(String::as_str),
                Some("0"),
                "{what}"
            );
            let ulimits = host.ulimits.unwrap_or_default();
            assert_eq!(!ulimits.is_empty(), rlimits, "{what}");
            for ulimit in &ulimits {
                assert!(
                    ulimit.hard <= Some(32768) && ulimit.soft == ulimit.hard,
                    "{what}"
                );
            }
            assert_eq!(host.memory, Some(1 << 30));
            assert_eq!(host.memory_swap, Some(1 << 30), "no swap");
            assert_eq!(host.pids_limit, Some(2048));
            assert_eq!(
                body.env.unwrap(),
                [format!("container={}", info.kind)],
                "{what}"
            );
        }
    }

    #[test]
    fn the_init_is_wrapped_on_docker_before_28_on_cgroup_v2_only() {
        let table = [
            (engine(EngineKind::Docker, "20.10.24+dfsg1", 1), None),
            (
                engine(EngineKind::Docker, "26.1.5+dfsg1", 2),
                Some(REMOUNT_CGROUP),
            ),
            (
                engine(EngineKind::Docker, "27.5.1", 2),
                Some(REMOUNT_CGROUP),
            ),
            (engine(EngineKind::Docker, "28.2.2", 2), None),
            (engine(EngineKind::Podman, "5.4.2", 2), None),
            (engine(EngineKind::Podman, "4.3.1", 1), None),
        ];
        for (info, script) in table {
            assert_eq!(init_wrapper(&info), script, "{info}");
        }
    }

    #[test]
    fn the_confinement_reaches_the_container_as_asked() {
        let confinement = Confinement {
            apparmor: Some("rehearsal-systemd-0123abcd".into()),
            init: Some(WrappedInit {
                script: REMOUNT_CGROUP,
                command: vec!["/lib/systemd/systemd".into(), "--log-target=console".into()],
            }),
        };
        let info = engine(EngineKind::Docker, "26.1.5+dfsg1", 2);
        let body = create_body(&case_config(), &info, &HostLimits::default(), &confinement);
        let entrypoint = body.entrypoint.unwrap();
        assert_eq!(entrypoint[..2], ["/bin/sh", "-c"]);
        assert!(entrypoint[2].starts_with("mount -o remount,rw /sys/fs/cgroup ||"));
        assert!(entrypoint[2].ends_with(r#"exec "$@""#));
        assert_eq!(
            body.cmd.unwrap(),
            ["/lib/systemd/systemd", "--log-target=console"],
            "the image's command, as the wrapper's arguments"
        );
        let security = body.host_config.unwrap().security_opt.unwrap();
        assert_eq!(security, ["apparmor=rehearsal-systemd-0123abcd"]);
    }

    /// The wrapper runs the image's command with its arguments intact, after a remount
    /// refused (a stand-in `mount` that fails, first on the PATH): the refusal is said,
    /// and the command still runs (systemd's own error then tells the rest).
    #[test]
    fn the_remount_wrapper_runs_the_command_with_its_arguments() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mount = dir.path().join("mount");
        std::fs::write(&mount, "#!/bin/sh\nexit 32\n").unwrap();
        std::fs::set_permissions(&mount, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("{}:/usr/bin:/bin", dir.path().display());
        let output = std::process::Command::new("/bin/sh")
            .args([
                "-c",
                REMOUNT_CGROUP,
                "rehearsal-init",
                "printf",
                "[%s]",
                "a b",
                "c",
            ])
            .env("PATH", path)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&output.stdout), "[a b][c]");
        assert!(String::from_utf8_lossy(&output.stderr).contains("cannot remount"));
    }

    #[test]
    fn podmans_socket_is_container_host_else_the_users_else_the_systems() {
        assert_eq!(
            podman_socket(Some("unix:///tmp/p.sock"), None, false).unwrap(),
            "/tmp/p.sock"
        );
        assert!(
            podman_socket(Some("ssh://host/run/podman.sock"), None, true)
                .unwrap_err()
                .contains("only a local socket")
        );
        assert_eq!(
            podman_socket(None, Some("/run/user/1000"), false).unwrap(),
            "/run/user/1000/podman/podman.sock"
        );
        assert!(podman_socket(None, None, false)
            .unwrap_err()
            .contains("XDG_RUNTIME_DIR"));
        assert_eq!(
            podman_socket(Some(""), Some("/run/user/0"), true).unwrap(),
            "/run/podman/podman.sock"
        );
    }

    #[test]
    fn podmans_names_and_labels_are_read_and_written_its_way() {
        assert_eq!(
            local_name("localhost/rehearsal/debian12:abc"),
            "rehearsal/debian12:abc"
        );
        assert_eq!(
            local_name("rehearsal/debian12:abc"),
            "rehearsal/debian12:abc"
        );
        let labels = HashMap::from([
            ("rehearsal.layer".to_string(), "site baseline".to_string()),
            ("a".to_string(), "b".to_string()),
        ]);
        assert_eq!(
            commit_label_change(&labels),
            r#"LABEL a="b" rehearsal.layer="site baseline""#
        );
        assert_eq!(docker_major("26.1.5+dfsg1"), 26);
        assert_eq!(docker_major("28.2.2"), 28);
        assert_eq!(docker_major("unknown"), 0);
    }

    #[test]
    fn a_name_conflict_is_docker_409_or_podmans_already_in_use() {
        let answer =
            |status_code, message: &str| bollard::errors::Error::DockerResponseServerError {
                status_code,
                message: message.into(),
            };
        assert!(is_name_conflict(&answer(
            409,
            "Conflict. The container name is in use"
        )));
        assert!(is_name_conflict(&answer(
            500,
            "creating container storage: the container name \"rehearsal-snapshot-x\" is already in use by 4f2c"
        )));
        assert!(!is_name_conflict(&answer(500, "no space left on device")));
        assert!(!is_name_conflict(&answer(404, "no such image")));
    }
}
