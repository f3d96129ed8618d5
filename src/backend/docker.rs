//! The Docker engine API (and Podman's, which answers the same), through bollard.
//!
//! The API version is negotiated: Debian 12's engine speaks 1.41 at most, newer engines
//! more, and bollard's default would be refused by the older ones.

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

use super::{
    Backend, BackendError, ByteStream, ContainerConfig, ContainerInfo, ContainerSummary,
    ExecOutput, Fate, ImageInfo, ImageMeta, ImageSummary, OutputSink, Result, Signal,
};

/// A connection to a Docker-API engine.
#[derive(Clone)]
pub struct DockerBackend {
    docker: Docker,
    /// cgroup v1 hosts need the cgroup tree bind-mounted for systemd.
    cgroup_v1: bool,
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

impl DockerBackend {
    /// Connects as the Docker CLI would (`DOCKER_HOST`, else the local socket),
    /// negotiates the API version, and checks the engine answers.
    pub async fn connect() -> Result<DockerBackend> {
        let hint =
            "start the engine (`harness/engine` installs and starts one), or set DOCKER_HOST";
        let docker = Docker::connect_with_defaults()
            .map_err(|err| BackendError::Unreachable(format!("{err}; {hint}")))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|err| BackendError::Unreachable(format!("{}; {hint}", engine_message(err))))?;
        let info = docker
            .info()
            .await
            .map_err(|err| BackendError::Unreachable(format!("{}; {hint}", engine_message(err))))?;
        let cgroup_v1 = matches!(
            info.cgroup_version,
            Some(bollard::models::SystemInfoCgroupVersionEnum::_1)
        );
        Ok(DockerBackend { docker, cgroup_v1 })
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
        let inspected = self
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(exec_op("read a command's exit status"))?;
        out.exit_code = inspected.exit_code.unwrap_or(-1);
        Ok(out)
    }
}

impl Backend for DockerBackend {
    async fn start(&self, config: &ContainerConfig) -> Result<String> {
        let mut mounts: Vec<DockerMount> = config
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
        if self.cgroup_v1 {
            // systemd as PID 1 reads its cgroup tree; it never needs to write the host's.
            mounts.push(DockerMount {
                target: Some("/sys/fs/cgroup".into()),
                source: Some("/sys/fs/cgroup".into()),
                typ: Some(MountType::BIND),
                read_only: Some(true),
                ..Default::default()
            });
        }
        let tmpfs = tmpfs_mounts(config.limits.memory);
        let memory = i64::try_from(config.limits.memory).unwrap_or(i64::MAX);
        let host_config = HostConfig {
            mounts: Some(mounts),
            tmpfs: Some(tmpfs),
            // What systemd needs as PID 1, and no more: never --privileged.
            cap_add: Some(vec!["SYS_ADMIN".into()]),
            // setuid programs gain nothing; systemd and root's work are unaffected.
            security_opt: Some(vec!["no-new-privileges".into()]),
            cgroupns_mode: (!self.cgroup_v1)
                .then_some(bollard::models::HostConfigCgroupnsModeEnum::PRIVATE),
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
        let body = ContainerCreateBody {
            image: Some(config.image.clone()),
            hostname: Some(config.hostname.clone()),
            labels: Some(config.labels.clone()),
            env: Some(vec!["container=docker".into()]),
            stop_signal: Some("SIGRTMIN+3".into()),
            host_config: Some(host_config),
            ..Default::default()
        };
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
            return Err(op("start a container")(err));
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

    async fn ping(&self) -> Result<()> {
        self.docker
            .ping()
            .await
            .map(drop)
            .map_err(|err| BackendError::Unreachable(engine_message(err)))
    }

    async fn fate(&self, id: &str, since: chrono::DateTime<chrono::Utc>) -> Result<Option<Fate>> {
        let inspected = match self.docker.inspect_container(id, None).await {
            Ok(found) => found,
            Err(err) if is_not_found(&err) => {
                return Ok(Some(Fate {
                    gone: true,
                    ..Fate::default()
                }))
            }
            Err(err) => return Err(op("inspect a container")(err)),
        };
        let state = inspected.state.unwrap_or_default();
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
        let events = bollard::query_parameters::EventsOptions {
            since: Some(since.timestamp().to_string()),
            // Now, to the nanosecond: the engine answers at once with what it has.
            until: Some(chrono::Utc::now().format("%s.%f").to_string()),
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
        let running = state.running.unwrap_or(false) && happened("die").next().is_none();
        let killed = happened("kill").next_back().map(|e| {
            Signal::from_engine(
                e.actor
                    .as_ref()
                    .and_then(|a| a.attributes.as_ref())
                    .and_then(|a| a.get("signal"))
                    .map(String::as_str)
                    .unwrap_or_default(),
            )
        });
        let pids = if running {
            let options = bollard::query_parameters::StatsOptions {
                stream: false,
                one_shot: true,
            };
            match self.docker.stats(id, Some(options)).try_next().await {
                Ok(Some(stats)) => stats
                    .pids_stats
                    .and_then(|p| Some((p.current?, p.limit?)))
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
            out_of_memory: state.oom_killed.unwrap_or(false) || happened("oom").next().is_some(),
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
        match self.docker.inspect_container(name, None).await {
            Ok(found) => Ok(Some(ContainerInfo {
                id: found.id.unwrap_or_default(),
                labels: found.config.and_then(|c| c.labels).unwrap_or_default(),
                running: found.state.and_then(|s| s.running).unwrap_or(false),
            })),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(op("inspect a container")(err)),
        }
    }

    async fn commit(&self, id: &str, name: &str, labels: HashMap<String, String>) -> Result<()> {
        let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let options = CommitContainerOptions {
            container: Some(id.to_string()),
            repo: Some(repo.to_string()),
            tag: Some(tag.to_string()),
            comment: Some("rehearsal snapshot".to_string()),
            pause: true,
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
        let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "latest"));
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(repo)
            .tag(tag)
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

    async fn build_dockerfile(
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
