//! LXC (5 and 6) through its `lxc-*` tools: no daemon, root on the host, one lxcpath.
//!
//! - **Images** are stopped LXC containers whose `rootfs` directory is a whole root file
//!   system, never started: `import_rootfs` unpacks the tar there (numeric owners,
//!   xattrs), `commit` copies a container's merged view there. Their LXC names come from
//!   the image names ([`names`]); their name, id, labels, command, environment, creation
//!   time and size are in a `rehearsal.json` beside `config` ([`meta`]), and they are in
//!   the `lxc.group` `rehearsal-image`.
//! - **Containers** are overlay snapshots of an image (`lxc-copy -s -B overlay`: the image's
//!   rootfs is the lower layer, the container's `overlay/delta` the upper), with a
//!   `config` of their own ([`config`]: hostname, binds, tmpfs, limits, network) and a
//!   `rehearsal.json` (labels, image, creation time), started with `lxc-start -d`; their id
//!   is their name. The container's directory is made with `mkdir` before anything else,
//!   which fails when it exists: that is the atomic claim a name lock needs.
//! - **What became of a container** (`fate`): LXC keeps no events. While it runs, its
//!   cgroup tells processes, the process limit and out-of-memory kills; once stopped, the
//!   start log (`lxc-start -o lxc.log -l INFO`) tells how its init ended: a signal (9: killed
//!   from outside; 2: systemd halted) or an exit status. A stopped container's cgroup is
//!   gone, so an out-of-memory kill that stopped it cannot be told.
//!
//! The lxcpath is `lxc-config lxc.lxcpath` unless `REHEARSAL_LXC_PATH` names another;
//! every tool gets it with `-P`. `REHEARSAL_LXC_BRIDGE` names the bridge for the default
//! network (else the `lxc.net.0.link` of LXC's default config, `lxcbr0`), and
//! `REHEARSAL_LXC_APPARMOR` a profile (else `unconfined`: LXC's `generated` profile
//! degrades systemd).

pub mod config;
pub mod meta;
pub mod names;
pub mod net;
pub mod tools;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use self::config::{Bind, Cgroup, ContainerSettings, Host, Net};
use self::meta::{ContainerRecord, ImageRecord, Record};
use self::tools::{AttachFailure, InitEnd, State, QUICK, SLOW};
use super::{
    Backend, BackendError, ByteStream, ContainerConfig, ContainerInfo, ContainerSummary,
    EngineInfo, EngineKind, ExecOutput, Fate, ImageInfo, ImageMeta, ImageSummary, OutputSink,
    Result, Signal,
};
use crate::spec::limits::Network;

/// The environment variable that names another lxcpath (the tests' own, say).
pub const PATH_ENV: &str = "REHEARSAL_LXC_PATH";
/// The environment variable that names the bridge of the default network.
pub const BRIDGE_ENV: &str = "REHEARSAL_LXC_BRIDGE";
/// The environment variable that names an AppArmor profile for the containers.
pub const APPARMOR_ENV: &str = "REHEARSAL_LXC_APPARMOR";

/// `lxc-attach`'s environment for a command, as a Docker exec's would be: nothing of
/// this process's, then PATH, HOME, HOSTNAME and these `NAME=value` pairs.
fn attach_env(hostname: &str, more: &[String]) -> Vec<OsString> {
    let mut args = vec![OsString::from("--clear-env")];
    let vars = [
        format!("PATH={EXEC_PATH}"),
        "HOME=/root".to_string(),
        format!("HOSTNAME={hostname}"),
    ];
    for var in vars.iter().chain(more) {
        args.push("--set-var".into());
        args.push(var.into());
    }
    args
}

/// The PATH a command run in a container gets, as Docker gives its execs.
const EXEC_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The start log beside `config`: how the init ended.
const START_LOG: &str = "lxc.log";
/// The console's output beside `config`: what systemd printed.
const CONSOLE_LOG: &str = "console.log";

/// LXC on this host.
#[derive(Debug, Clone)]
pub struct LxcBackend {
    lxcpath: PathBuf,
    host: Host,
    bridge: String,
    info: EngineInfo,
}

fn op(operation: &'static str) -> impl Fn(String) -> BackendError {
    move |message| BackendError::Operation { operation, message }
}

fn not_found(operation: &'static str) -> impl Fn(String) -> BackendError {
    move |message| BackendError::NotFound { operation, message }
}

fn io_op(operation: &'static str) -> impl Fn(std::io::Error) -> BackendError {
    move |err| BackendError::Operation {
        operation,
        message: err.to_string(),
    }
}

/// The host's cgroup hierarchy, from where `/sys/fs/cgroup` is mounted.
fn host_cgroup() -> Cgroup {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let v2 = mountinfo.lines().any(|line| {
        let mut halves = line.split(" - ");
        let mount_point = halves.next().and_then(|h| h.split_whitespace().nth(4));
        let fstype = halves.next().and_then(|h| h.split_whitespace().next());
        mount_point == Some("/sys/fs/cgroup") && fstype == Some("cgroup2")
    });
    if v2 {
        Cgroup::V2
    } else {
        Cgroup::V1 {
            memsw: Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists(),
        }
    }
}

/// The `lxc.net.0.link` of LXC's default config (what `lxc-create` would use).
fn default_bridge(default_conf: &str) -> Option<String> {
    default_conf.lines().find_map(|l| {
        let (key, value) = l.split_once('=')?;
        (key.trim() == "lxc.net.0.link").then(|| value.trim().to_string())
    })
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A name for work under way: its kind, this process, and something unique (a later
/// process removes what a dead one left).
fn work_name(kind: &str) -> String {
    format!(
        "{kind}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Removes a directory tree off the async threads.
async fn remove_tree(path: PathBuf) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || match std::fs::remove_dir_all(&path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    })
    .await
    .map_err(std::io::Error::other)?
}

impl LxcBackend {
    /// Finds LXC's tools and the lxcpath (`REHEARSAL_LXC_PATH`, else LXC's own), and
    /// reads what the host gives (cgroup version, LXC's common config, the bridge).
    pub async fn connect() -> Result<LxcBackend> {
        let lxcpath = match env_nonempty(PATH_ENV) {
            Some(path) => PathBuf::from(path),
            None => {
                let out = tools::run_ok("lxc-config", ["lxc.lxcpath"], QUICK)
                    .await
                    .map_err(|err| {
                        BackendError::Unreachable(format!(
                            "LXC's tools do not answer ({err}); install LXC (the `lxc` package)"
                        ))
                    })?;
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            }
        };
        LxcBackend::connect_in(lxcpath).await
    }

    /// As [`LxcBackend::connect`], with this lxcpath (made when missing).
    pub async fn connect_in(lxcpath: PathBuf) -> Result<LxcBackend> {
        let shown = lxcpath.display().to_string();
        // The path goes into overlay mount options and config lines.
        if !lxcpath.is_absolute() || shown.contains([':', ',', '\n', ' ', '\t']) {
            return Err(BackendError::Unreachable(format!(
                "the lxcpath `{shown}` must be an absolute path without `:`, `,` or spaces"
            )));
        }
        std::fs::create_dir_all(&lxcpath).map_err(|err| {
            BackendError::Unreachable(format!("cannot make the lxcpath {shown}: {err}"))
        })?;
        let common_conf = ["/usr/share/lxc/config", "/usr/local/share/lxc/config"]
            .iter()
            .map(|dir| format!("{dir}/common.conf"))
            .find(|path| Path::new(path).exists());
        let default_conf = match tools::run("lxc-config", ["lxc.default_config"], QUICK).await {
            Ok(out) => std::fs::read_to_string(String::from_utf8_lossy(&out.stdout).trim())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        let bridge = env_nonempty(BRIDGE_ENV)
            .or_else(|| default_bridge(&default_conf))
            .unwrap_or_else(|| "lxcbr0".into());
        let version = match tools::run("lxc-start", ["--version"], QUICK).await {
            Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
            Err(err) => return Err(BackendError::Unreachable(err)),
        };
        let cgroup = host_cgroup();
        let backend = LxcBackend {
            info: EngineInfo {
                kind: EngineKind::Lxc,
                version,
                cgroup: match cgroup {
                    Cgroup::V1 { .. } => 1,
                    Cgroup::V2 => 2,
                },
                rootless: false,
            },
            lxcpath,
            host: Host {
                common_conf,
                cgroup,
                apparmor_profile: env_nonempty(APPARMOR_ENV).unwrap_or_else(|| "unconfined".into()),
            },
            bridge,
        };
        backend.ping().await?;
        backend.sweep_work().await;
        Ok(backend)
    }

    /// The lxcpath every tool is given.
    pub fn lxcpath(&self) -> &Path {
        &self.lxcpath
    }

    /// The cgroup hierarchy the limits are written for.
    pub fn cgroup(&self) -> Cgroup {
        self.host.cgroup
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.lxcpath.join(name)
    }

    fn work(&self) -> std::io::Result<PathBuf> {
        meta::work_dir(&self.lxcpath)
    }

    fn addresses(&self) -> PathBuf {
        self.lxcpath.join(meta::WORK_DIR).join("addresses")
    }

    /// `-P LXCPATH -n NAME` and `extra`, for an lxc tool.
    fn args(&self, name: &str, extra: &[&str]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "-P".into(),
            self.lxcpath.clone().into(),
            "-n".into(),
            name.into(),
        ];
        args.extend(extra.iter().map(OsString::from));
        args
    }

    /// The container's state; `None` when LXC does not know it.
    async fn state(&self, name: &str) -> Option<State> {
        let out = tools::run("lxc-info", self.args(name, &["-s", "-H"]), QUICK)
            .await
            .ok()?;
        out.status
            .success()
            .then(|| State::parse(&String::from_utf8_lossy(&out.stdout)))
    }

    /// A value of the container's cgroup (`pids.current`), while it runs.
    async fn cgroup_value(&self, name: &str, key: &str) -> Option<String> {
        let out = tools::run("lxc-cgroup", self.args(name, &[key]), QUICK)
            .await
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The harness's container record of `name`.
    fn container_record(&self, name: &str) -> Option<ContainerRecord> {
        names::check_container(name).ok()?;
        match meta::read(&self.dir(name)) {
            Some(Record::Container(record)) => Some(record),
            _ => None,
        }
    }

    /// Removes what dead processes left in the work directory (imports and commits cut
    /// short; a commit's mount point is unmounted first).
    async fn sweep_work(&self) {
        let Ok(work) = self.work() else { return };
        let Ok(entries) = std::fs::read_dir(&work) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            if name.starts_with("merged-") {
                let _ = tools::run("umount", [entry.path()], QUICK).await;
                let _ = std::fs::remove_dir(entry.path());
            } else {
                let _ = remove_tree(entry.path()).await;
            }
        }
    }

    /// The network config of a new container, and its address.
    fn network(
        &self,
        name: &str,
        network: Network,
    ) -> std::result::Result<(Net, Option<String>, Option<String>), String> {
        if network == Network::None {
            return Ok((Net::Empty, None, None));
        }
        if !net::device_exists(&self.bridge) {
            return Err(format!(
                "the bridge {} for the container's network does not exist: start LXC's network \
                 (`systemctl start lxc-net`), or name another bridge with {BRIDGE_ENV}",
                self.bridge
            ));
        }
        let bridge_address = std::process::Command::new("ip")
            .args(["-j", "-4", "addr", "show", "dev", &self.bridge])
            .output()
            .ok()
            .and_then(|out| net::parse_bridge_address(&String::from_utf8_lossy(&out.stdout)));
        let Some((gateway, prefix)) = bridge_address else {
            // A bridge without an address of its own: the container's own DHCP, if any.
            return Ok((
                Net::Bridge {
                    bridge: self.bridge.clone(),
                    address: None,
                    gateway: None,
                },
                None,
                None,
            ));
        };
        let pool = net::candidates(gateway, prefix, name);
        let taken = net::take(&self.addresses(), &self.lxcpath, &pool, name)
            .map_err(|err| format!("cannot hand out an address: {err}"))?
            .ok_or_else(|| format!("no address is free on the bridge {}", self.bridge))?;
        let resolv = net::resolv_conf(
            &std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            Some(gateway),
        );
        Ok((
            Net::Bridge {
                bridge: self.bridge.clone(),
                address: Some(format!("{taken}/{prefix}")),
                gateway: Some(gateway.to_string()),
            },
            Some(taken.to_string()),
            Some(resolv),
        ))
    }

    /// Everything of a start after the name is claimed: the overlay copy, its config, the
    /// files a container expects from its engine, and the start.
    async fn make(
        &self,
        config: &ContainerConfig,
        image_dir: &str,
        record: &mut ContainerRecord,
    ) -> std::result::Result<(), String> {
        let dir = self.dir(&config.name);
        let (net, address, resolv) = self.network(&config.name, config.network)?;
        if address.is_some() {
            record.address = address;
            meta::write(&dir, &Record::Container(record.clone())).map_err(|e| e.to_string())?;
        }
        let copy = self.args(image_dir, &["-N", &config.name, "-s", "-B", "overlay"]);
        // `-n` is the source here.
        tools::run_ok("lxc-copy", copy, SLOW).await?;
        let copied = std::fs::read_to_string(dir.join("config"))
            .map_err(|err| format!("lxc-copy left no config: {err}"))?;
        let rootfs =
            config::rootfs_path(&copied).ok_or("lxc-copy left a config without lxc.rootfs.path")?;
        let (_, upper) = config::overlay_layers(&rootfs)
            .ok_or_else(|| format!("lxc-copy made no overlay: {rootfs}"))?;
        let binds = config
            .mounts
            .iter()
            .map(|m| Bind {
                host: m.host.to_string_lossy().into_owned(),
                container: m.container.clone(),
                read_only: m.read_only,
                file: m.host.is_file(),
            })
            .collect();
        let settings = ContainerSettings {
            rootfs,
            hostname: config.hostname.clone(),
            command: record.command.clone(),
            env: record.env.clone(),
            binds,
            limits: config.limits,
            net,
            console_log: dir.join(CONSOLE_LOG).to_string_lossy().into_owned(),
        };
        let text = config::container(&self.host, &settings)?;
        std::fs::write(dir.join("config"), text)
            .map_err(|e| format!("cannot write config: {e}"))?;
        // What Docker bind-mounts over the image: the hostname, hosts and the resolver.
        let etc = Path::new(&upper).join("etc");
        let write = |file: &str, text: String| {
            std::fs::create_dir_all(&etc)
                .and_then(|_| std::fs::write(etc.join(file), text))
                .map_err(|e| format!("cannot write /etc/{file}: {e}"))
        };
        write("hostname", format!("{}\n", config.hostname))?;
        write(
            "hosts",
            format!(
                "127.0.0.1\tlocalhost\n127.0.1.1\t{}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                config.hostname
            ),
        )?;
        if let Some(resolv) = resolv {
            // A symlink (systemd-resolved's) would be written through: replace it.
            let _ = std::fs::remove_file(etc.join("resolv.conf"));
            write("resolv.conf", resolv)?;
        }
        let log = dir.join(START_LOG);
        let start = self.args(
            &config.name,
            &["-d", "-o", &log.to_string_lossy(), "-l", "INFO"],
        );
        if let Err(err) = tools::run_ok("lxc-start", start, QUICK).await {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let errors: Vec<&str> = said
                .lines()
                .filter(|l| l.contains(" ERROR "))
                .map(|l| l.splitn(3, " - ").nth(2).unwrap_or(l))
                .collect();
            return Err(match errors.is_empty() {
                true => err,
                false => format!("{err}; its log: {}", errors.join("; ")),
            });
        }
        Ok(())
    }

    /// Runs a command in the container; `sink` gets each piece of output as it comes.
    async fn attach(
        &self,
        id: &str,
        cmd: &[&str],
        sink: Option<&OutputSink<'_>>,
    ) -> Result<ExecOutput> {
        const RUN: &str = "run a command in the container";
        let record = self
            .container_record(id)
            .ok_or_else(|| not_found(RUN)(format!("no such container: {id}")))?;
        let log = self
            .work()
            .map_err(io_op(RUN))?
            .join(format!("{}.log", work_name("attach")));
        let log_arg = log.to_string_lossy().into_owned();
        let mut args = self.args(id, &[]);
        args.extend(attach_env(&record.hostname, &[]));
        args.extend(["-o", &log_arg, "-l", "ERROR", "-q", "--"].map(OsString::from));
        args.extend(cmd.iter().map(OsString::from));
        let mut child = tokio::process::Command::new("lxc-attach")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| BackendError::Unreachable(format!("cannot run lxc-attach: {err}")))?;
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let mut out = ExecOutput::default();
        let (mut out_buf, mut err_buf) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
        let (mut out_open, mut err_open) = (true, true);
        while out_open || err_open {
            tokio::select! {
                n = stdout.read(&mut out_buf), if out_open => match n {
                    Ok(0) | Err(_) => out_open = false,
                    Ok(n) => {
                        sink.inspect(|sink| sink(&out_buf[..n]));
                        out.stdout.extend_from_slice(&out_buf[..n]);
                    }
                },
                n = stderr.read(&mut err_buf), if err_open => match n {
                    Ok(0) | Err(_) => err_open = false,
                    Ok(n) => {
                        sink.inspect(|sink| sink(&err_buf[..n]));
                        out.stderr.extend_from_slice(&err_buf[..n]);
                    }
                },
            }
        }
        let status = child
            .wait()
            .await
            .map_err(|err| op(RUN)(format!("lxc-attach failed: {err}")))?;
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        use std::os::unix::process::ExitStatusExt;
        out.exit_code = match (status.code(), status.signal()) {
            (Some(code), _) => i64::from(code),
            (None, Some(signal)) => 128 + i64::from(signal),
            (None, None) => -1,
        };
        if out.exit_code == 0 {
            return Ok(out);
        }
        match tools::attach_failure(&said) {
            None => Ok(out),
            Some(AttachFailure::ProcessLimit(message)) => Err(BackendError::ProcessLimit {
                operation: RUN,
                message,
            }),
            Some(AttachFailure::Exec(message)) => {
                out.stderr
                    .extend_from_slice(format!("{message}\n").as_bytes());
                sink.inspect(|sink| sink(format!("{message}\n").as_bytes()));
                Ok(out)
            }
            Some(AttachFailure::Attach(message)) => Err(op(RUN)(message)),
        }
    }

    /// Puts an image staged in the work directory (its `rootfs` made) in place under its
    /// name, with its config and record. An image already of that name is removed, or,
    /// while containers stand on it, moved aside as dangling (as Docker untags it).
    async fn install_image(
        &self,
        staged: &Path,
        record: ImageRecord,
    ) -> std::result::Result<(), String> {
        let name = record.name.clone().expect("a new image has a name");
        let dir_name = names::image_dir(&name)?;
        let target = self.dir(&dir_name);
        let text = config::image(
            &self.host,
            &target.join("rootfs"),
            &name,
            &record.command,
            &record.env,
        )?;
        std::fs::write(staged.join("config"), text).map_err(|e| e.to_string())?;
        meta::write(staged, &Record::Image(record)).map_err(|e| e.to_string())?;
        for _ in 0..5 {
            let err = match std::fs::rename(staged, &target) {
                Ok(()) => return Ok(()),
                Err(err) => err,
            };
            if !target.exists() {
                return Err(format!("cannot put the image in place: {err}"));
            }
            let Some(Record::Image(mut old)) = meta::read(&target) else {
                return Err(format!(
                    "{} is an LXC container that is not one of the harness's images",
                    target.display()
                ));
            };
            let users = meta::dependents(&self.lxcpath, &old.id).map_err(|e| e.to_string())?;
            if users.is_empty() {
                let trash = self
                    .work()
                    .map_err(|e| e.to_string())?
                    .join(work_name("trash"));
                if std::fs::rename(&target, &trash).is_ok() {
                    remove_tree(trash).await.map_err(|e| e.to_string())?;
                }
            } else {
                old.name = None;
                meta::write(&target, &Record::Image(old.clone())).map_err(|e| e.to_string())?;
                let _ = std::fs::rename(&target, self.dir(&names::dangling_dir(&old.id)));
            }
        }
        Err(format!("the image name {name} stays taken"))
    }
}

impl Backend for LxcBackend {
    fn info(&self) -> EngineInfo {
        self.info.clone()
    }

    async fn exec_interactive(&self, id: &str, cmd: &[String]) -> Result<i64> {
        const RUN: &str = "run a command in the container";
        let record = self
            .container_record(id)
            .ok_or_else(|| not_found(RUN)(format!("no such container: {id}")))?;
        // lxc-attach gives the command a terminal of its own when stdin is one.
        let term = format!(
            "TERM={}",
            std::env::var("TERM").unwrap_or_else(|_| "xterm".into())
        );
        let mut args = self.args(id, &[]);
        args.extend(attach_env(&record.hostname, &[term]));
        args.push("--".into());
        args.extend(cmd.iter().map(OsString::from));
        let status = tokio::process::Command::new("lxc-attach")
            .args(args)
            .status()
            .await
            .map_err(|err| BackendError::Unreachable(format!("cannot run lxc-attach: {err}")))?;
        use std::os::unix::process::ExitStatusExt;
        Ok(match (status.code(), status.signal()) {
            (Some(code), _) => i64::from(code),
            (None, Some(signal)) => 128 + i64::from(signal),
            (None, None) => -1,
        })
    }

    async fn start(&self, config: &ContainerConfig) -> Result<String> {
        const CREATE: &str = "create a container";
        names::check_container(&config.name).map_err(op(CREATE))?;
        let (image_dir, image) = meta::find_image(&self.lxcpath, &config.image)
            .map_err(io_op(CREATE))?
            .ok_or_else(|| not_found(CREATE)(format!("no such image: {}", config.image)))?;
        let dir = self.dir(&config.name);
        // The claim: one mkdir, which fails when the name is taken.
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(BackendError::NameInUse(config.name.clone()))
            }
            Err(err) => return Err(io_op(CREATE)(err)),
        }
        let mut labels = image.labels.clone();
        labels.extend(config.labels.clone());
        let mut record = ContainerRecord {
            name: config.name.clone(),
            image: names::normalize(&config.image),
            image_id: image.id.clone(),
            labels,
            created: now(),
            hostname: config.hostname.clone(),
            command: image.command.clone(),
            env: image.env.clone(),
            address: None,
        };
        if let Err(err) = meta::write(&dir, &Record::Container(record.clone())) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(io_op(CREATE)(err));
        }
        if let Err(message) = self.make(config, &image_dir, &mut record).await {
            let _ = self.remove(&config.name).await;
            return Err(op("start a container")(message));
        }
        Ok(config.name.clone())
    }

    async fn exec(&self, id: &str, cmd: &[&str]) -> Result<ExecOutput> {
        self.attach(id, cmd, None).await
    }

    async fn exec_streaming(
        &self,
        id: &str,
        cmd: &[&str],
        sink: &OutputSink<'_>,
    ) -> Result<ExecOutput> {
        self.attach(id, cmd, Some(sink)).await
    }

    async fn ping(&self) -> Result<()> {
        let out = tools::run(
            "lxc-ls",
            ["-P".into(), self.lxcpath.clone().into_os_string()],
            QUICK,
        )
        .await
        .map_err(BackendError::Unreachable)?;
        if !out.status.success() {
            return Err(BackendError::Unreachable(format!(
                "lxc-ls failed: {}",
                tools::said(&out)
            )));
        }
        let probe = self.work().and_then(|work| {
            let file = work.join(work_name("ping"));
            std::fs::write(&file, b"")?;
            std::fs::remove_file(file)
        });
        probe.map_err(|err| {
            BackendError::Unreachable(format!(
                "the lxcpath {} is not writable: {err}",
                self.lxcpath.display()
            ))
        })
    }

    async fn fate(&self, id: &str, _since: chrono::DateTime<chrono::Utc>) -> Result<Option<Fate>> {
        // Each container is one case's, so its counters start with the case: `since` is
        // the container's creation.
        if self.container_record(id).is_none() {
            return Ok(Some(Fate {
                gone: true,
                ..Fate::default()
            }));
        }
        let running = self.state(id).await.is_some_and(State::is_running);
        if running {
            let number = |text: Option<String>| text.and_then(|t| tools::limit_value(&t));
            let current = number(self.cgroup_value(id, "pids.current").await);
            let limit = number(self.cgroup_value(id, "pids.max").await);
            let (file, key) = match self.host.cgroup {
                Cgroup::V1 { .. } => ("memory.oom_control", "oom_kill"),
                Cgroup::V2 => ("memory.events", "oom_kill"),
            };
            let oom_kills = self
                .cgroup_value(id, file)
                .await
                .and_then(|t| tools::counter(&t, key))
                .unwrap_or(0);
            return Ok(Some(Fate {
                gone: false,
                running: true,
                exit_code: None,
                out_of_memory: oom_kills > 0,
                killed: None,
                pids: current.zip(limit).filter(|(_, limit)| *limit > 0),
            }));
        }
        let log = std::fs::read_to_string(self.dir(id).join(START_LOG)).unwrap_or_default();
        let (exit_code, killed) = match tools::init_end(&log) {
            Some(InitEnd::Signal(9)) => (Some(137), Some(Signal::Kill)),
            // systemd halted (SIGINT is how a halted PID 1 of a namespace ends).
            Some(InitEnd::Signal(2)) => (Some(0), None),
            Some(InitEnd::Signal(n)) => (
                Some(128 + i64::from(n)),
                Some(Signal::from_engine(&n.to_string())),
            ),
            Some(InitEnd::Exited(code)) => (Some(code), None),
            None => (None, None),
        };
        Ok(Some(Fate {
            gone: false,
            running: false,
            exit_code,
            out_of_memory: false,
            killed,
            pids: None,
        }))
    }

    async fn remove(&self, id: &str) -> Result<()> {
        const REMOVE: &str = "remove a container";
        if names::check_container(id).is_err() {
            return Ok(());
        }
        let dir = self.dir(id);
        let record = match meta::read(&dir) {
            Some(Record::Container(record)) => record,
            Some(Record::Image(_)) => {
                return Err(op(REMOVE)(format!("{id} is an image, not a container")))
            }
            None if !dir.exists() => return Ok(()),
            None => {
                return Err(op(REMOVE)(format!(
                    "{} is not a container of the harness",
                    dir.display()
                )))
            }
        };
        match self.state(id).await {
            Some(State::Frozen | State::Freezing) => {
                let _ = tools::run("lxc-unfreeze", self.args(id, &[]), QUICK).await;
                let _ = tools::run("lxc-stop", self.args(id, &["-k"]), QUICK).await;
            }
            Some(state) if state.is_running() || state == State::Stopping => {
                let _ = tools::run("lxc-stop", self.args(id, &["-k"]), QUICK).await;
            }
            _ => {}
        }
        let destroyed = tools::run_ok("lxc-destroy", self.args(id, &[]), SLOW).await;
        if let Err(err) = destroyed {
            // Half made (no config yet), or LXC's bookkeeping in the way: a container that
            // does not run is its directory.
            if dir.exists() {
                if self.state(id).await.is_some_and(State::is_running) {
                    return Err(op(REMOVE)(err));
                }
                let trash = self.work().map_err(io_op(REMOVE))?.join(work_name("trash"));
                if std::fs::rename(&dir, &trash).is_ok() {
                    remove_tree(trash).await.map_err(io_op(REMOVE))?;
                } else if dir.exists() {
                    return Err(op(REMOVE)(err));
                }
            }
        }
        if let Some(address) = &record.address {
            net::release(&self.addresses(), address, id);
        }
        Ok(())
    }

    async fn containers_labelled(&self, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        let found = meta::containers(&self.lxcpath).map_err(io_op("list containers"))?;
        Ok(found
            .into_iter()
            .filter(|c| meta::has_labels(&c.labels, labels))
            .map(|c| c.name)
            .collect())
    }

    async fn containers(&self, labels: &[(&str, &str)]) -> Result<Vec<ContainerSummary>> {
        let found: Vec<ContainerRecord> = meta::containers(&self.lxcpath)
            .map_err(io_op("list containers"))?
            .into_iter()
            .filter(|c| meta::has_labels(&c.labels, labels))
            .collect();
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let listed = tools::run_ok(
            "lxc-ls",
            [
                OsString::from("-P"),
                self.lxcpath.clone().into(),
                "-f".into(),
                "-F".into(),
                "NAME,STATE".into(),
            ],
            QUICK,
        )
        .await
        .map_err(op("list containers"))?;
        let states: HashMap<String, State> =
            tools::parse_ls(&String::from_utf8_lossy(&listed.stdout))
                .into_iter()
                .collect();
        Ok(found
            .into_iter()
            .map(|c| ContainerSummary {
                running: states.get(&c.name).is_some_and(|s| s.is_running()),
                id: c.name.clone(),
                name: c.name,
                labels: c.labels.into_iter().collect(),
                created: Some(c.created),
            })
            .collect())
    }

    async fn container(&self, name: &str) -> Result<Option<ContainerInfo>> {
        let Some(record) = self.container_record(name) else {
            return Ok(None);
        };
        let running = self.state(name).await.is_some_and(State::is_running);
        Ok(Some(ContainerInfo {
            id: record.name,
            labels: record.labels.into_iter().collect(),
            running,
        }))
    }

    async fn commit(&self, id: &str, name: &str, labels: HashMap<String, String>) -> Result<()> {
        const COMMIT: &str = "commit a container as an image";
        let fail = op(COMMIT);
        let name = names::normalize(name);
        names::image_dir(&name).map_err(&fail)?;
        let record = self
            .container_record(id)
            .ok_or_else(|| not_found(COMMIT)(format!("no such container: {id}")))?;
        let copied = std::fs::read_to_string(self.dir(id).join("config")).map_err(io_op(COMMIT))?;
        let (lower, upper) = config::rootfs_path(&copied)
            .and_then(|r| config::overlay_layers(&r))
            .ok_or_else(|| fail(format!("{id} is not an overlay container")))?;
        let work = self.work().map_err(io_op(COMMIT))?;
        let staged = work.join(work_name("commit"));
        let merged = work.join(work_name("merged"));
        std::fs::create_dir_all(staged.join("rootfs")).map_err(io_op(COMMIT))?;
        std::fs::create_dir_all(&merged).map_err(io_op(COMMIT))?;
        // Frozen, as Docker pauses: its files hold still while they are copied.
        let frozen = self.state(id).await.is_some_and(|s| s == State::Running)
            && tools::run_ok("lxc-freeze", self.args(id, &[]), QUICK)
                .await
                .is_ok();
        // The container's merged view, read-only, beside its own mount: its upper layer is
        // a lower one here, so nothing of this mount writes to it.
        let options = format!("ro,lowerdir={upper}:{lower}");
        let copy = async {
            let overlay: [OsString; 6] = [
                "-t".into(),
                "overlay".into(),
                "overlay".into(),
                "-o".into(),
                options.into(),
                merged.clone().into(),
            ];
            tools::run_ok("mount", overlay, QUICK).await?;
            let source = merged.join(".");
            let copied = tools::run_ok(
                "cp",
                [
                    OsString::from("-a"),
                    source.into(),
                    staged.join("rootfs").into(),
                ],
                SLOW,
            )
            .await;
            let unmounted = tools::run_ok("umount", [&merged], QUICK).await;
            copied.and(unmounted).map(drop)
        }
        .await;
        if frozen {
            let _ = tools::run("lxc-unfreeze", self.args(id, &[]), QUICK).await;
        }
        let _ = std::fs::remove_dir(&merged);
        if let Err(err) = copy {
            let _ = remove_tree(staged).await;
            return Err(fail(err));
        }
        let root = staged.join("rootfs");
        let size = tokio::task::spawn_blocking(move || meta::tree_size(&root))
            .await
            .unwrap_or(0);
        let mut image_labels = record.labels.clone();
        image_labels.extend(labels);
        let image = ImageRecord {
            name: Some(name),
            id: meta::new_id(),
            labels: image_labels,
            created: now(),
            size,
            command: record.command,
            env: record.env,
        };
        if let Err(err) = self.install_image(&staged, image).await {
            let _ = remove_tree(staged).await;
            return Err(fail(err));
        }
        Ok(())
    }

    async fn images_labelled(
        &self,
        labels: &[(&str, &str)],
        dangling: bool,
    ) -> Result<Vec<ImageSummary>> {
        let found = meta::images(&self.lxcpath).map_err(io_op("list images"))?;
        Ok(found
            .into_iter()
            .map(|(_, image)| image)
            .filter(|i| meta::has_labels(&i.labels, labels) && (!dangling || i.name.is_none()))
            .map(|i| ImageSummary {
                id: i.id,
                tags: i.name.into_iter().collect(),
                labels: i.labels.into_iter().collect(),
                created: i.created,
                size: i.size,
            })
            .collect())
    }

    async fn remove_image(&self, name: &str) -> Result<()> {
        const REMOVE: &str = "remove an image";
        let Some((dir, image)) = meta::find_image(&self.lxcpath, name).map_err(io_op(REMOVE))?
        else {
            return Ok(());
        };
        // As Docker without force: an image a container stands on stays.
        let users = meta::dependents(&self.lxcpath, &image.id).map_err(io_op(REMOVE))?;
        if !users.is_empty() {
            return Err(op(REMOVE)(format!(
                "the image {name} is in use by the container{} {}",
                if users.len() == 1 { "" } else { "s" },
                users.join(", ")
            )));
        }
        let trash = self.work().map_err(io_op(REMOVE))?.join(work_name("trash"));
        match std::fs::rename(self.dir(&dir), &trash) {
            Ok(()) => remove_tree(trash).await.map_err(io_op(REMOVE)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_op(REMOVE)(err)),
        }
    }

    async fn init_output(&self, id: &str, lines: usize) -> Result<String> {
        if names::check_container(id).is_err() {
            return Ok(String::new());
        }
        let text = match std::fs::read(self.dir(id).join(CONSOLE_LOG)) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => return Ok(String::new()),
        };
        Ok(tools::last_lines(&tools::clean_console(&text), lines))
    }

    async fn image(&self, name: &str) -> Result<Option<ImageInfo>> {
        let found = meta::find_image(&self.lxcpath, name).map_err(io_op("inspect an image"))?;
        Ok(found.map(|(_, image)| ImageInfo {
            id: image.id,
            labels: image.labels.into_iter().collect(),
            created: chrono::DateTime::from_timestamp(image.created, 0)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
            size: image.size,
        }))
    }

    async fn import_rootfs(&self, tar: ByteStream, name: &str, meta: &ImageMeta) -> Result<()> {
        const IMPORT: &str = "import a root filesystem as an image";
        let fail = op(IMPORT);
        let name = names::normalize(name);
        names::image_dir(&name).map_err(&fail)?;
        let staged = self
            .work()
            .map_err(io_op(IMPORT))?
            .join(work_name("import"));
        let rootfs = staged.join("rootfs");
        std::fs::create_dir_all(&rootfs).map_err(io_op(IMPORT))?;
        let unpacked = unpack(tar, &rootfs).await;
        if let Err(err) = unpacked {
            let _ = remove_tree(staged).await;
            return Err(fail(err));
        }
        let size = tokio::task::spawn_blocking(move || meta::tree_size(&rootfs))
            .await
            .unwrap_or(0);
        let image = ImageRecord {
            name: Some(name),
            id: meta::new_id(),
            labels: meta.labels.clone(),
            created: now(),
            size,
            command: meta.command.clone(),
            env: meta.env.clone(),
        };
        if let Err(err) = self.install_image(&staged, image).await {
            let _ = remove_tree(staged).await;
            return Err(fail(err));
        }
        Ok(())
    }

    async fn build_image(
        &self,
        _context: ByteStream,
        _name: &str,
        _labels: HashMap<String, String>,
        _progress: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<()> {
        Err(BackendError::Unsupported {
            operation: "build an image from a Dockerfile",
            engine: EngineKind::Lxc,
            hint: "LXC makes platform images from their debootstrap definition only \
                   (`rehearsal images build --from debootstrap`)",
        })
    }
}

/// Unpacks a tar stream into `root` as root would: numeric owners, permissions, xattrs
/// (file capabilities included).
async fn unpack(mut tar: ByteStream, root: &Path) -> std::result::Result<(), String> {
    let mut child = tokio::process::Command::new("tar")
        .args([
            "--numeric-owner",
            "--xattrs",
            "--xattrs-include=*",
            "-xpf",
            "-",
            "-C",
        ])
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot run tar: {err}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let said = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    });
    let mut sent: std::result::Result<(), String> = Ok(());
    while let Some(chunk) = tar.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                sent = Err(format!("the root filesystem's stream failed: {err}"));
                break;
            }
        };
        if let Err(err) = stdin.write_all(&chunk).await {
            sent = Err(format!("tar stopped reading: {err}"));
            break;
        }
    }
    drop(stdin);
    if sent.is_err() {
        let _ = child.start_kill();
    }
    let status = tokio::time::timeout(SLOW, child.wait())
        .await
        .map_err(|_| "tar did not finish".to_string())?
        .map_err(|err| format!("tar failed: {err}"))?;
    let said = said.await.unwrap_or_default();
    sent?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("tar failed ({status}): {}", said.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_bridge_is_lxcs_default_configs() {
        let conf = "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.flags = up\n";
        assert_eq!(default_bridge(conf).as_deref(), Some("lxcbr0"));
        assert_eq!(default_bridge("lxc.net.0.type = empty\n"), None);
    }

    #[test]
    fn work_names_carry_the_process() {
        let name = work_name("import");
        let pid: u32 = name.split('-').nth(1).unwrap().parse().unwrap();
        assert_eq!(pid, std::process::id());
    }
}
