//! The LXC backend against LXC on this host, in an lxcpath of its own: an image imported
//! from the debian12 platform's root filesystem, a case container started from it (systemd
//! up, a Puppet apply, commands), its fate once killed from outside, a snapshot committed
//! and a container started from that, processes and memory at their limits, and nothing
//! left behind. Runs when `REHEARSAL_TEST_ENGINE=lxc` (and then fails when LXC is
//! missing); without that variable it says it skipped. The root filesystem comes from
//! `REHEARSAL_TEST_LXC_ROOTFS` (a tar file) or the Docker image `rehearsal/debian12:*`
//! (`docker export`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rehearsal::backend::exec::exec_within;
use rehearsal::backend::{
    Backend, BackendError, ContainerConfig, ExecOutput, ImageMeta, LxcBackend, Mount, Signal,
};
use rehearsal::labels;
use rehearsal::spec::limits::{Limits, Network};

const IMAGE: &str = "rehearsal/lxctest:debian12";
const SNAPSHOT: &str = "rehearsal/snapshot:lxctest-debian12";

/// Whether this run is LXC's: `Some(reason)` to skip.
fn skip_reason() -> Option<String> {
    match std::env::var("REHEARSAL_TEST_ENGINE") {
        Err(_) => Some("REHEARSAL_TEST_ENGINE is unset (set it to `lxc` to run)".into()),
        Ok(engine) if engine == "lxc" => None,
        Ok(engine) => Some(format!("REHEARSAL_TEST_ENGINE is `{engine}`, not `lxc`")),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The debian12 root filesystem as a tar stream, and what makes it (waited for after).
fn rootfs() -> (
    rehearsal::backend::ByteStream,
    std::process::Child,
    Option<String>,
) {
    if let Ok(file) = std::env::var("REHEARSAL_TEST_LXC_ROOTFS") {
        let mut child = Command::new("cat")
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .expect("read the root filesystem tar");
        return (stream_of(child.stdout.take().unwrap()), child, None);
    }
    let images = Command::new("docker")
        .args(["images", "rehearsal/debian12", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
        .expect("REHEARSAL_TEST_LXC_ROOTFS is unset and docker cannot be run to find rehearsal/debian12");
    let image = text(&images.stdout)
        .lines()
        .next()
        .map(str::to_string)
        .expect("no rehearsal/debian12 image in Docker (harness/images builds it), and REHEARSAL_TEST_LXC_ROOTFS is unset");
    let created = Command::new("docker")
        .args(["create", &image])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let id = text(&created.stdout).trim().to_string();
    let mut child = Command::new("docker")
        .args(["export", &id])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    (stream_of(child.stdout.take().unwrap()), child, Some(id))
}

fn stream_of(stdout: std::process::ChildStdout) -> rehearsal::backend::ByteStream {
    let file = std::fs::File::from(std::os::fd::OwnedFd::from(stdout));
    let reader = tokio::fs::File::from_std(file);
    tokio_util::io::ReaderStream::with_capacity(reader, 1 << 20).boxed()
}

fn config(
    name: &str,
    image: &str,
    run: &str,
    mounts: Vec<Mount>,
    network: Network,
) -> ContainerConfig {
    ContainerConfig {
        image: image.into(),
        name: name.into(),
        hostname: format!("{name}-host"),
        labels: HashMap::from([
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (labels::RUN_ID.to_string(), run.to_string()),
        ]),
        mounts,
        limits: Limits::DEFAULT,
        network,
    }
}

async fn sh(backend: &LxcBackend, id: &str, script: &str) -> ExecOutput {
    exec_within(
        backend,
        id,
        &["sh", "-c", script],
        Duration::from_secs(120),
        None,
    )
    .await
    .unwrap_or_else(|err| panic!("`{script}` in {id}: {err}"))
}

/// Waits for systemd as a case does; says how long it took.
async fn ready(backend: &LxcBackend, id: &str) -> Duration {
    let clock = Instant::now();
    let out = sh(backend, id, &rehearsal::puppet::ready_script()).await;
    assert_eq!(
        out.exit_code,
        0,
        "{id} did not come up: {}\n{:?}",
        out.combined(),
        rehearsal::backend::init_said(backend, id).await
    );
    let took = clock.elapsed();
    let state = sh(
        backend,
        id,
        "systemctl is-system-running; systemctl --failed --no-legend --plain",
    )
    .await;
    assert_eq!(
        text(&state.stdout).lines().next(),
        Some("running"),
        "{}",
        state.combined()
    );
    took
}

fn lxc_ls(path: &Path) -> Vec<String> {
    let out = Command::new("lxc-ls")
        .arg("-P")
        .arg(path)
        .arg("-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    text(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Removes the test's directory (its lxcpath in `lxc/`) whatever happens.
struct Private(PathBuf, PathBuf);

impl Drop for Private {
    fn drop(&mut self) {
        for name in lxc_ls(&self.0) {
            let _ = Command::new("lxc-stop")
                .arg("-P")
                .arg(&self.0)
                .args(["-k", "-n", &name])
                .output();
            let _ = Command::new("lxc-destroy")
                .arg("-P")
                .arg(&self.0)
                .args(["-n", &name])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lxc_backend_end_to_end() {
    if let Some(reason) = skip_reason() {
        eprintln!("lxc: skipped: {reason}");
        return;
    }
    let base = tempfile::Builder::new()
        .prefix("rehearsal-lxc-test-")
        .tempdir_in("/var/tmp")
        .unwrap()
        .keep();
    let private = Private(base.join("lxc"), base.clone());
    let backend = LxcBackend::connect_in(private.0.clone())
        .await
        .expect("REHEARSAL_TEST_ENGINE=lxc, but LXC is not usable here");
    let info = backend.info();
    assert_eq!(info.kind, rehearsal::backend::EngineKind::Lxc, "{info}");
    assert!(info.version.starts_with(['5', '6']), "{info}");
    let mut times: Vec<(&str, Duration)> = Vec::new();
    let run = uuid::Uuid::new_v4().simple().to_string();

    // An image from the platform's root filesystem.
    let (stream, mut child, docker_container) = rootfs();
    let meta = ImageMeta {
        command: vec!["/lib/systemd/systemd".into()],
        env: vec![("container".into(), "docker".into())],
        labels: [
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (labels::PLATFORM.to_string(), "debian12".to_string()),
        ]
        .into(),
    };
    let clock = Instant::now();
    backend
        .import_rootfs(stream, IMAGE, &meta)
        .await
        .expect("import");
    times.push(("import", clock.elapsed()));
    assert!(child.wait().unwrap().success());
    if let Some(id) = docker_container {
        let _ = Command::new("docker").args(["rm", &id]).output();
    }
    let image = backend
        .image(IMAGE)
        .await
        .unwrap()
        .expect("the imported image");
    assert!(image.id.starts_with("sha256:"), "{image:?}");
    assert!(image.size > 100_000_000, "{image:?}");
    assert_eq!(image.labels[labels::PLATFORM], "debian12");
    let listed = backend
        .images_labelled(
            &[
                (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
                (labels::PLATFORM, ""),
            ],
            false,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tags, [IMAGE]);
    assert!(lxc_ls(&private.0).contains(&"rehearsal+lxctest@debian12".to_string()));

    // A case container, with the case's files bound read-only.
    let case = base.join("case");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("facts.json"), r#"{"lxctest": "yes"}"#).unwrap();
    let mounts = vec![Mount {
        host: case.clone(),
        container: rehearsal::layout::CASE_DIR.into(),
        read_only: true,
    }];
    let name = format!("rehearsal-{}-0", &run[..8]);
    let clock = Instant::now();
    let id = backend
        .start(&config(&name, IMAGE, &run, mounts.clone(), Network::None))
        .await
        .expect("start");
    times.push(("start", clock.elapsed()));
    assert_eq!(id, name);
    times.push(("ready", ready(&backend, &id).await));

    // Commands: output kept apart, exit codes, the environment an exec has.
    let out = sh(&backend, &id, "echo out; echo err >&2; exit 3").await;
    assert_eq!(
        (out.exit_code, text(&out.stdout), text(&out.stderr)),
        (3, "out\n".into(), "err\n".into())
    );
    let env = sh(&backend, &id, "echo $HOME $HOSTNAME $container; echo $PATH; hostname; cat /etc/facter/facts.d/rehearsal.json").await;
    assert_eq!(
        text(&env.stdout),
        format!("/root {name}-host docker\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n{name}-host\n{{\"lxctest\": \"yes\"}}")
    );
    let ro = sh(&backend, &id, "touch /etc/rehearsal/case/x").await;
    assert_ne!(ro.exit_code, 0, "the bind is read-only");
    let missing = backend.exec(&id, &["no-such-command"]).await.unwrap();
    assert_eq!(missing.exit_code, 127, "{missing:?}");
    let chunks = Mutex::new(Vec::new());
    let sink = |chunk: &[u8]| chunks.lock().unwrap().push(text(chunk));
    let streamed = backend
        .exec_streaming(
            &id,
            &["sh", "-c", "echo one; sleep 0.3; echo two >&2"],
            &sink,
        )
        .await
        .unwrap();
    assert_eq!(streamed.exit_code, 0);
    assert_eq!(chunks.lock().unwrap().concat(), "one\ntwo\n");
    assert!(chunks.lock().unwrap().len() >= 2, "handed over as it came");
    let limits = sh(&backend, &id, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max").await;
    assert_eq!(
        text(&limits.stdout),
        "1073741824\n1024\n",
        "{}",
        limits.combined()
    );
    let net = sh(&backend, &id, "ls /sys/class/net").await;
    assert_eq!(text(&net.stdout), "lo\n", "network: none is loopback only");

    // Puppet, twice.
    let manifest =
        r#"file { '/tmp/x': content => 'y' } file { '/etc/committed': content => 'yes' }"#;
    let clock = Instant::now();
    let apply = [
        "puppet",
        "apply",
        "--detailed-exitcodes",
        "--color=false",
        "-e",
        manifest,
    ];
    let applied = backend.exec(&id, &apply).await.unwrap();
    times.push(("apply", clock.elapsed()));
    assert_eq!(applied.exit_code, 2, "{}", applied.combined());
    let again = backend.exec(&id, &apply).await.unwrap();
    assert_eq!(again.exit_code, 0, "{}", again.combined());
    assert_eq!(text(&sh(&backend, &id, "cat /tmp/x").await.stdout), "y");

    // Listed by its labels, running, and the name is a lock.
    let run_labels = [
        (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
        (labels::RUN_ID, run.as_str()),
    ];
    let found = backend.containers(&run_labels).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].running && found[0].created.is_some(), "{found:?}");
    assert_eq!(
        found[0].labels[labels::PLATFORM],
        "debian12",
        "the image's labels pass on"
    );
    assert!(backend.container(&id).await.unwrap().unwrap().running);
    assert!(matches!(
        backend.start(&config(&name, IMAGE, &run, vec![], Network::None)).await,
        Err(BackendError::NameInUse(n)) if n == name
    ));
    let lock = format!("rehearsal-snapshot-{}", &run[..8]);
    let lock_config = config(&lock, IMAGE, &run, vec![], Network::None);
    let (a, b) = tokio::join!(backend.start(&lock_config), backend.start(&lock_config));
    assert!(
        matches!(
            (&a, &b),
            (Ok(_), Err(BackendError::NameInUse(_))) | (Err(BackendError::NameInUse(_)), Ok(_))
        ),
        "one start of a name wins: {a:?} {b:?}"
    );
    backend.remove(&lock).await.unwrap();

    let fate = backend
        .fate(&id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(
        fate.running && !fate.gone && !fate.out_of_memory && fate.killed.is_none(),
        "{fate:?}"
    );
    let (current, limit) = fate.pids.expect("pids while it runs");
    assert!(current > 0 && limit == 1024, "{fate:?}");

    // A snapshot of it, independent of it and of its image.
    let clock = Instant::now();
    backend
        .commit(
            &id,
            SNAPSHOT,
            HashMap::from([
                (labels::SNAPSHOT.to_string(), "baseline".to_string()),
                (labels::RUN_ID.to_string(), String::new()),
            ]),
        )
        .await
        .expect("commit");
    times.push(("commit", clock.elapsed()));
    let snapshot = backend
        .image(SNAPSHOT)
        .await
        .unwrap()
        .expect("the snapshot");
    assert_eq!(snapshot.labels[labels::SNAPSHOT], "baseline");
    assert_eq!(snapshot.labels[labels::RUN_ID], "");
    assert_eq!(snapshot.labels[labels::PLATFORM], "debian12");
    assert_ne!(snapshot.id, image.id);
    assert!(
        sh(&backend, &id, "true").await.exit_code == 0,
        "running again after the commit"
    );

    // Killed from outside: its fate says so.
    let stopped = Command::new("lxc-stop")
        .arg("-P")
        .arg(&private.0)
        .args(["-k", "-n", &id])
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    let fate = backend
        .fate(&id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (fate.running, fate.killed.clone(), fate.exit_code),
        (false, Some(Signal::Kill), Some(137)),
        "{fate:?}"
    );
    assert!(!backend.container(&id).await.unwrap().unwrap().running);
    // An image a container stands on stays, as on Docker.
    assert!(backend.remove_image(IMAGE).await.is_err());
    let clock = Instant::now();
    backend.remove(&id).await.unwrap();
    times.push(("remove", clock.elapsed()));
    assert!(
        backend
            .fate(&id, chrono::Utc::now())
            .await
            .unwrap()
            .unwrap()
            .gone
    );
    backend
        .remove(&id)
        .await
        .expect("removing what is gone is fine");
    backend
        .remove_image(IMAGE)
        .await
        .expect("no container stands on it now");

    // A container from the snapshot: its files are there without the image.
    let from_snapshot = format!("rehearsal-{}-1", &run[..8]);
    let clock = Instant::now();
    let id = backend
        .start(&config(
            &from_snapshot,
            SNAPSHOT,
            &run,
            mounts.clone(),
            Network::None,
        ))
        .await
        .expect("start from the snapshot");
    times.push(("start from a snapshot", clock.elapsed()));
    times.push(("ready from a snapshot", ready(&backend, &id).await));
    assert_eq!(
        text(&sh(&backend, &id, "cat /etc/committed").await.stdout),
        "yes"
    );
    assert_eq!(
        sh(&backend, &id, "test -e /tmp/x").await.exit_code,
        1,
        "a tmpfs is not committed"
    );
    let clock = Instant::now();
    backend.remove(&id).await.unwrap();
    times.push(("remove a running container", clock.elapsed()));

    // At the limits: processes, then memory.
    let small = format!("rehearsal-{}-2", &run[..8]);
    let mut tight = config(&small, SNAPSHOT, &run, mounts.clone(), Network::None);
    tight.limits = Limits {
        memory: 256 * 1024 * 1024,
        nano_cpus: 1_000_000_000,
        pids: 200,
    };
    let id = backend.start(&tight).await.unwrap();
    ready(&backend, &id).await;
    let hog = sh(
        &backend,
        &id,
        "x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo survived",
    )
    .await;
    assert_eq!(hog.exit_code, 137, "{hog:?}");
    let fate = backend
        .fate(&id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert!(fate.running && fate.out_of_memory, "{fate:?}");
    let filler = backend.clone();
    let filling = id.clone();
    let fill = tokio::spawn(async move {
        filler
            .exec(
                &filling,
                &["sh", "-c", "for i in $(seq 300); do sleep 30 & done; wait"],
            )
            .await
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let refused = backend.exec(&id, &["true"]).await;
    assert!(
        matches!(refused, Err(BackendError::ProcessLimit { .. })),
        "{refused:?}"
    );
    let fate = backend
        .fate(&id, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    let (current, limit) = fate.pids.unwrap();
    assert!(limit == 200 && current + 8 >= limit, "{fate:?}");
    let init = backend.init_output(&id, 5).await.unwrap();
    assert!(!init.is_empty() && !init.contains('\u{1b}'), "{init:?}");
    backend.remove(&id).await.unwrap();
    let _ = fill.await;

    // The default network, where the bridge exists.
    if Path::new("/sys/class/net/lxcbr0").exists()
        || std::env::var_os("REHEARSAL_LXC_BRIDGE").is_some()
    {
        let bridged = format!("rehearsal-{}-3", &run[..8]);
        let id = backend
            .start(&config(
                &bridged,
                SNAPSHOT,
                &run,
                mounts.clone(),
                Network::Default,
            ))
            .await
            .unwrap();
        ready(&backend, &id).await;
        let addr = sh(&backend, &id, "ip -4 -o addr show dev eth0; ip route").await;
        assert!(
            text(&addr.stdout).contains("inet ") && text(&addr.stdout).contains("default via"),
            "{}",
            addr.combined()
        );
        backend.remove(&id).await.unwrap();
    } else {
        eprintln!("lxc: the default network not tried: no bridge lxcbr0 (lxc-net is not running)");
    }

    backend.remove_image(SNAPSHOT).await.unwrap();
    assert!(backend.containers(&run_labels).await.unwrap().is_empty());
    assert!(backend
        .images_labelled(&[(labels::MANAGED_BY, "")], false)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(lxc_ls(&private.0), Vec::<String>::new(), "nothing is left");
    let left: Vec<_> = std::fs::read_dir(&private.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".rehearsal")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for (what, took) in &times {
        eprintln!("lxc: {what}: {:.2} s", took.as_secs_f64());
    }
    drop(private);
}
