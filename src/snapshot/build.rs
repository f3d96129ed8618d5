//! Making the snapshots a plan needs, on the engine.
//!
//! One layer: if the image named by its key exists, it is reused. Otherwise a build
//! container named after the key is created from the parent image; the engine refuses a
//! second container of that name, so the name is a lock that holds across processes and
//! hosts: a second run that wants the same snapshot waits for the first (or takes over
//! when the first died: same host, process gone). The code is applied, applied again to
//! prove it settled (a snapshot that changes on every apply would make every case's
//! idempotency check fail), committed, and the container removed.

use crate::labels;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use futures_util::StreamExt;

use super::{
    chain_of, Failure, Kind, Layer, Outcome, Ready, SnapshotReport, StartFailure, Starts,
    REPOSITORY,
};
use crate::backend::exec::{exec_within, read_file};
use crate::backend::{Backend, BackendError, ContainerConfig};
use crate::outcome::snapshot::{BuildProgress, BuildStage};
use crate::plan::PlannedCase;
use crate::puppet::{self, Apply, Verdict};
use crate::text::sanitize::clean as clean_output;

/// How long systemd may take to come up in a build container.
const START_LIMIT: Duration = Duration::from_secs(60);
/// How often a waiting run looks again.
const POLL: Duration = Duration::from_secs(2);
/// How much of an apply's output a failure keeps (the end, where the errors are).
const MAX_OUTPUT: usize = 32 * 1024;

/// The snapshots a plan starts from, and what became of each layer.
pub struct Snapshots {
    pub starts: Starts,
    pub reports: Vec<SnapshotReport>,
}

impl Snapshots {
    /// The image the cases of a row start from (`Ok`), or why they cannot start.
    pub fn start_of(&self, row: &PlannedCase) -> Result<String, Arc<StartFailure>> {
        self.starts
            .get(&(row.spec.file.clone(), row.platform.name.clone()))
            .cloned()
            .unwrap_or_else(|| Ok(row.platform.image()))
    }

    /// The first baseline that failed: the run must not go on.
    pub fn failed_baseline(&self) -> Option<Arc<StartFailure>> {
        self.starts
            .values()
            .filter_map(|s| s.as_ref().err())
            .find(|f| f.kind == Kind::Baseline)
            .cloned()
    }
}

/// A layer to ensure on top of `parent` (an image name), for one platform.
#[derive(Clone)]
struct Task {
    platform: String,
    parent: String,
    layer: Arc<Layer>,
}

impl Task {
    /// Layers that are the same code on the same parent are made once per run.
    fn is(&self, parent: &str, layer: &Layer) -> bool {
        self.parent == parent
            && self.layer.kind == layer.kind
            && self.layer.defined_in == layer.defined_in
    }
}

/// A (spec, platform) with the layers it still needs, and the image they stand on.
type Chain = ((std::path::PathBuf, String), Vec<Arc<Layer>>, String);

/// Where a layer's build tells how it goes (the runner turns it into events).
pub type Progress<'a> = dyn Fn(BuildProgress) + Send + Sync + 'a;

/// Makes (or finds) every snapshot the plan needs, `jobs` at a time, lowest layers
/// first. `progress` hears how each build goes.
pub async fn resolve<B: Backend>(
    backend: &B,
    plan: &[PlannedCase],
    run_id: &str,
    jobs: usize,
    progress: &Progress<'_>,
) -> Snapshots {
    let mut starts: Starts = HashMap::new();
    let mut reports = Vec::new();
    let mut chains: Vec<Chain> = Vec::new();
    for row in plan {
        let key = (row.spec.file.clone(), row.platform.name.clone());
        if starts.contains_key(&key) || chains.iter().any(|(k, _, _)| k == &key) {
            continue;
        }
        match chain_of(row) {
            Ok(layers) if layers.is_empty() => {
                starts.insert(key, Ok(row.platform.image()));
            }
            Ok(layers) => {
                chains.push((
                    key,
                    layers.into_iter().map(Arc::new).collect(),
                    row.platform.image(),
                ));
            }
            Err(err) => {
                starts.insert(
                    key,
                    Err(Arc::new(StartFailure {
                        kind: Kind::Baseline,
                        layer: "baseline".into(),
                        platform: row.platform.name.clone(),
                        failure: Failure::new(err.to_string(), String::new()),
                    })),
                );
            }
        }
    }

    let mut level = 0;
    while !chains.is_empty() {
        // This level's distinct layers.
        let mut tasks: Vec<Task> = Vec::new();
        for ((_, platform), layers, parent) in &chains {
            let task = Task {
                platform: platform.clone(),
                parent: parent.clone(),
                layer: layers[level].clone(),
            };
            if !tasks.iter().any(|t| t.is(&task.parent, &task.layer)) {
                tasks.push(task);
            }
        }
        let done: Vec<(Task, Duration, Result<Ready, Failure>)> =
            futures_util::stream::iter(tasks.into_iter().map(|task| async move {
                let clock = Instant::now();
                let result = ensure(
                    backend,
                    &task.platform,
                    &task.parent,
                    &task.layer,
                    run_id,
                    progress,
                )
                .await;
                (task, clock.elapsed(), result)
            }))
            .buffer_unordered(jobs.max(1))
            .collect()
            .await;
        for (task, duration, result) in &done {
            reports.push(SnapshotReport {
                platform: task.platform.clone(),
                kind: task.layer.kind,
                of: task.layer.owner.clone(),
                duration: *duration,
                outcome: match result {
                    Ok(ready) if ready.built => Outcome::Built {
                        image: ready.image.clone(),
                    },
                    Ok(ready) => Outcome::Reused {
                        image: ready.image.clone(),
                        waited: ready.waited,
                    },
                    Err(failure) => Outcome::Failed {
                        message: failure.message.clone(),
                        errors: failure.errors.clone(),
                        output: failure.output.clone(),
                    },
                },
            });
        }
        // Move each chain up a level, or settle it.
        let mut next = Vec::new();
        for (key, layers, parent) in chains {
            let layer = &layers[level];
            let (task, _, result) = done
                .iter()
                .find(|(t, _, _)| t.is(&parent, layer))
                .expect("every chain's layer was a task");
            match result {
                Ok(ready) if level + 1 == layers.len() => {
                    starts.insert(key, Ok(ready.image.clone()));
                }
                Ok(ready) => next.push((key, layers, ready.image.clone())),
                Err(failure) => {
                    starts.insert(
                        key,
                        Err(Arc::new(StartFailure {
                            kind: task.layer.kind,
                            layer: task.layer.describe(),
                            platform: task.platform.clone(),
                            failure: failure.clone(),
                        })),
                    );
                }
            }
        }
        chains = next;
        level += 1;
    }
    Snapshots { starts, reports }
}

/// The snapshot of `layer` on `parent`: found, waited for, or built now.
pub async fn ensure<B: Backend>(
    backend: &B,
    platform: &str,
    parent: &str,
    layer: &Layer,
    run_id: &str,
    progress: &Progress<'_>,
) -> Result<Ready, Failure> {
    let what = layer.describe();
    let tell = |stage: BuildStage| {
        progress(BuildProgress {
            platform: platform.to_string(),
            layer: what.clone(),
            stage,
        })
    };
    let engine = |err: BackendError| Failure::new(err.to_string(), String::new());
    let parent_id = backend
        .image(parent)
        .await
        .map_err(engine)?
        .ok_or_else(|| Failure::new(format!("the image {parent} is missing"), String::new()))?
        .id;
    let key = layer
        .key(&parent_id)
        .map_err(|err| Failure::new(err.to_string(), String::new()))?;
    let short = &key[..16];
    let image = format!("{REPOSITORY}:{platform}-{short}");
    let lock = format!("rehearsal-snapshot-{platform}-{short}");
    let (_workspace, mounts) = layer
        .workspace()
        .map_err(|err| Failure::new(err.to_string(), String::new()))?;
    let config = ContainerConfig {
        image: parent.to_string(),
        name: lock.clone(),
        hostname: format!("{}-{platform}", layer.kind.name()),
        labels: HashMap::from([
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (labels::RUN_ID.to_string(), run_id.to_string()),
            (labels::SNAPSHOT_KEY.to_string(), key.clone()),
            (labels::LOCK_HOST.to_string(), this_host()),
            (labels::LOCK_PID.to_string(), std::process::id().to_string()),
            (labels::ROLE.to_string(), labels::ROLE_BUILD.to_string()),
        ]),
        mounts,
        // Baselines install packages: the default network, and the platform's limits.
        limits: layer.limits,
        network: crate::spec::limits::Network::Default,
    };
    // Waiting is bounded by what the other run may take: two applies and a start.
    let patience = layer.timeout * 2 + START_LIMIT + Duration::from_secs(120);
    let clock = Instant::now();
    let mut waited = false;
    loop {
        if backend.image(&image).await.map_err(engine)?.is_some() {
            return Ok(Ready {
                image,
                built: false,
                waited,
            });
        }
        match backend.start(&config).await {
            Ok(id) => {
                // Another run may have finished it between the look and the lock.
                if backend.image(&image).await.map_err(engine)?.is_some() {
                    let _ = backend.remove(&id).await;
                    continue;
                }
                tell(BuildStage::Building {
                    image: image.clone(),
                });
                let built = build(backend, &id, layer, parent, &image, &key, platform).await;
                if let Err(err) = backend.remove(&id).await {
                    tell(BuildStage::NotRemoved {
                        container: lock.clone(),
                        error: err.to_string(),
                    });
                }
                let built = built?;
                tell(BuildStage::Built {
                    image: built.clone(),
                    took: clock.elapsed(),
                });
                return Ok(Ready {
                    image: built,
                    built: true,
                    waited,
                });
            }
            Err(BackendError::NameInUse(_)) => {
                let holder = backend.container(&lock).await.map_err(engine)?;
                if let Some(holder) = holder.filter(|h| abandoned(&h.labels)) {
                    tell(BuildStage::RemovingAbandoned);
                    backend.remove(&holder.id).await.map_err(engine)?;
                    continue;
                }
                if !waited {
                    tell(BuildStage::Waiting {
                        image: image.clone(),
                    });
                    waited = true;
                }
                if clock.elapsed() > patience {
                    return Err(Failure::new(
                        format!(
                            "waited {} for the build container {lock} of another run; if no run is building it, `rehearsal clean` removes it",
                            humantime::format_duration(Duration::from_secs(clock.elapsed().as_secs()))
                        ),
                        String::new(),
                    ));
                }
                tokio::time::sleep(POLL).await;
            }
            Err(err) => return Err(engine(err)),
        }
    }
}

/// Applies the layer in the build container twice (the second must change nothing) and
/// commits it as `image`.
async fn build<B: Backend>(
    backend: &B,
    id: &str,
    layer: &Layer,
    parent: &str,
    image: &str,
    key: &str,
    platform: &str,
) -> Result<String, Failure> {
    let fail =
        |message: String, output: String| Failure::new(message, puppet::tail(output, MAX_OUTPUT));
    let ready = exec_within(
        backend,
        id,
        &["sh", "-c", &puppet::ready_script()],
        START_LIMIT,
        None,
    )
    .await;
    let (message, output) = match ready {
        Ok(out) if out.exit_code == 0 => (None, String::new()),
        Ok(out) => (
            Some("the container did not start".to_string()),
            out.combined(),
        ),
        Err(err) => (Some(err.to_string()), String::new()),
    };
    if let Some(message) = message {
        // What systemd said is why it did not come up (a read-only cgroup, say).
        return Err(match crate::backend::init_said(backend, id).await {
            Some(said) => fail(format!("{message}\n{said}"), format!("{output}{said}\n")),
            None => fail(message, output),
        });
    }
    let manifest = crate::layout::case_file(layer.code_file());
    let report = puppet::report_file("layer");
    let command = puppet::apply_command_in(&manifest, &layer.modulepath, layer.timeout, &report);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    for (apply, attempt) in [(Apply::First, "apply"), (Apply::Second, "second apply")] {
        let out = exec_within(backend, id, &command, layer.timeout, None)
            .await
            .map_err(|err| fail(format!("the {attempt} {err}"), String::new()))?;
        let output = clean_output(&out.combined());
        let report = match (apply, puppet::outcome(out.exit_code)) {
            (Apply::Second, puppet::Outcome::Changed) => read_file(backend, id, &report)
                .await
                .and_then(|text| puppet::report::Report::parse(&text).ok()),
            _ => None,
        };
        let message = match puppet::judge(apply, out.exit_code, &output, report.as_ref()) {
            Verdict::Passed => continue,
            Verdict::DriverFailed { message } => format!("the {attempt}: {message}"),
            Verdict::TimedOut => format!(
                "the {attempt} timed out after {}",
                humantime::format_duration(layer.timeout)
            ),
            Verdict::NotIdempotent { changed } => format!(
                "the code is not idempotent: the second apply changed {}; no case starts from a snapshot that changes on every apply",
                if changed.is_empty() {
                    "something".to_string()
                } else {
                    changed.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("; ")
                }
            ),
            Verdict::Failed {
                exit_code, errors, ..
            } => {
                let mut message =
                    format!("puppet apply failed (exit {exit_code}), so no case starts from it");
                if !errors.is_empty() {
                    message = format!("{message}:\n{}", errors.join("\n"));
                }
                let located = located_errors(layer, &output);
                return Err(Failure {
                    errors: located,
                    ..fail(message, output)
                });
            }
        };
        return Err(fail(message, output));
    }
    let labels = HashMap::from([
        (
            labels::MANAGED_BY.to_string(),
            labels::MANAGED_BY_VALUE.to_string(),
        ),
        (labels::SNAPSHOT.to_string(), layer.kind.name().to_string()),
        (labels::SNAPSHOT_KEY.to_string(), key.to_string()),
        (
            labels::SNAPSHOT_OF.to_string(),
            layer.defined_in.display().to_string(),
        ),
        (labels::SNAPSHOT_PARENT.to_string(), parent.to_string()),
        (labels::PLATFORM.to_string(), platform.to_string()),
        // The build container's run and lock labels must not pass to the cases.
        (labels::RUN_ID.to_string(), String::new()),
        (labels::LOCK_HOST.to_string(), String::new()),
        (labels::LOCK_PID.to_string(), String::new()),
        (labels::ROLE.to_string(), String::new()),
    ]);
    backend
        .commit(id, image, labels)
        .await
        .map_err(|err| fail(err.to_string(), String::new()))?;
    Ok(image.to_string())
}

/// The errors of a failed apply of `layer` that name their place, as the review reads
/// them: the mounted modules at their paths on the host (relative to the working
/// directory when under it). A baseline's own code is no file of a spec, so its errors are
/// left unplaced (their text is in the message).
pub(super) fn located_errors(layer: &Layer, output: &str) -> Vec<crate::outcome::PuppetError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let baseline_code =
        (layer.kind == Kind::Baseline).then(|| crate::layout::case_file(crate::layout::SITE_PP));
    let mut errors = puppet::errors::located(output);
    errors.retain(|e| Some(&e.file) != baseline_code.as_ref());
    for error in &mut errors {
        let mounted = layer.mounts.iter().find_map(|(host, at)| {
            let rest = error.file.strip_prefix(at.as_str())?;
            rest.starts_with('/').then(|| (host, rest.to_string()))
        });
        if let Some((host, rest)) = mounted {
            let host = host.strip_prefix(&cwd).unwrap_or(host);
            error.file = format!("{}{rest}", host.display());
        }
    }
    errors
}

/// Whether a build container's holder is a process of this host that no longer runs.
fn abandoned(labels: &HashMap<String, String>) -> bool {
    let same_host = labels.get(labels::LOCK_HOST).map(String::as_str) == Some(&this_host());
    let pid = labels
        .get(labels::LOCK_PID)
        .and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if same_host => {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}
