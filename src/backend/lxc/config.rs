//! The LXC `config` files the backend writes, as text from data: an image's (a root
//! filesystem, never started) and a case container's (the overlay `lxc-copy` made, with
//! the case's hostname, mounts, tmpfs, limits and network). Written whole: the backend
//! replaces the `config` `lxc-copy` leaves, keeping only its `lxc.rootfs.path`.

use std::fmt::Write;
use std::path::Path;

use crate::spec::limits::Limits;

/// The host's cgroup hierarchy, which decides the names of the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cgroup {
    /// Legacy hierarchies; `memsw`: the memory controller accounts swap
    /// (`memory.memsw.limit_in_bytes` exists).
    V1 {
        memsw: bool,
    },
    V2,
}

/// What the host gives every config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// LXC's own `common.conf` (devices, seccomp, capabilities dropped, cgroup and proc
    /// mounts); `None` when LXC's share directory has none.
    pub common_conf: Option<String>,
    pub cgroup: Cgroup,
    /// `lxc.apparmor.profile`: `unconfined` unless the user names another.
    pub apparmor_profile: String,
}

/// A case container's network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Net {
    /// Loopback only (`network: none`).
    Empty,
    /// A veth on the bridge, with a fixed address when the backend gave it one.
    Bridge {
        bridge: String,
        /// `10.0.3.17/24`
        address: Option<String>,
        gateway: Option<String>,
    },
}

/// A host path bound into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub host: String,
    /// Absolute, as in the container.
    pub container: String,
    pub read_only: bool,
    /// The host path is a file (the mount point is made as one).
    pub file: bool,
}

/// What a case container's config says beyond its image's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSettings {
    /// `lxc.rootfs.path` as `lxc-copy` wrote it (`overlay:LOWER:UPPER`).
    pub rootfs: String,
    pub hostname: String,
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub binds: Vec<Bind>,
    pub limits: Limits,
    pub net: Net,
    /// Where systemd's console output goes (`init_output` reads it).
    pub console_log: String,
}

/// The `lxc.group` every container of the harness is in (`lxc-ls --groups rehearsal`).
pub const GROUP: &str = "rehearsal";
/// The `lxc.group` of images (`lxc-ls --groups rehearsal-image`).
pub const IMAGE_GROUP: &str = "rehearsal-image";

/// A value LXC reads as one line and one word list: no newline anywhere, and for the
/// init command no whitespace inside an argument (LXC splits `lxc.init.cmd` on it).
fn check_line(what: &str, value: &str) -> Result<(), String> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(format!(
            "{what} `{value}` has a line break, which LXC's config cannot hold"
        ));
    }
    Ok(())
}

fn init_cmd(command: &[String]) -> Result<String, String> {
    if command.is_empty() {
        return Err("the image has no command to start".into());
    }
    for arg in command {
        check_line("the command's argument", arg)?;
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            return Err(format!(
                "the command's argument `{arg}` is empty or has a space, which `lxc.init.cmd` cannot hold"
            ));
        }
    }
    Ok(command.join(" "))
}

fn env_lines(out: &mut String, env: &[(String, String)]) -> Result<(), String> {
    for (name, value) in env {
        check_line("the environment variable", name)?;
        check_line("the environment value", value)?;
        if name.is_empty() || name.contains('=') {
            return Err(format!("`{name}` is not an environment variable's name"));
        }
        writeln!(out, "lxc.environment = {name}={value}").unwrap();
    }
    Ok(())
}

fn head(out: &mut String, host: &Host) {
    if let Some(common) = &host.common_conf {
        writeln!(out, "lxc.include = {common}").unwrap();
    }
}

/// An image's config: its root filesystem, what it runs, no network; never started.
pub fn image(
    host: &Host,
    rootfs: &Path,
    name: &str,
    command: &[String],
    env: &[(String, String)],
) -> Result<String, String> {
    let mut out = format!(
        "# rehearsal image {name}: the lower layer of its containers' overlays; never started\n"
    );
    head(&mut out, host);
    let rootfs = rootfs.to_string_lossy();
    check_line("the path", &rootfs)?;
    writeln!(out, "lxc.rootfs.path = dir:{rootfs}").unwrap();
    writeln!(out, "lxc.uts.name = image").unwrap();
    writeln!(out, "lxc.init.cmd = {}", init_cmd(command)?).unwrap();
    env_lines(&mut out, env)?;
    writeln!(out, "lxc.net.0.type = empty").unwrap();
    writeln!(out, "lxc.apparmor.profile = {}", host.apparmor_profile).unwrap();
    writeln!(out, "lxc.group = {IMAGE_GROUP}").unwrap();
    Ok(out)
}

/// `/etc/x y` as an fstab field: relative to the root (LXC mounts under the rootfs), with
/// the octal escapes getmntent reads.
fn fstab_field(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

/// The tmpfs systemd writes at run time, as Docker's backend makes them: their pages
/// count against the container's memory, so they are sized from it.
pub fn tmpfs_entries(memory: u64) -> Vec<String> {
    let size = |fraction: u64| format!("size={}k", (memory / fraction / 1024).max(1024));
    vec![
        format!(
            "tmpfs run tmpfs rw,nosuid,nodev,mode=755,{},create=dir 0 0",
            size(4)
        ),
        "tmpfs run/lock tmpfs rw,nosuid,nodev,noexec,size=8m,create=dir 0 0".to_string(),
        format!(
            "tmpfs tmp tmpfs rw,nosuid,nodev,mode=1777,{},create=dir 0 0",
            size(2)
        ),
    ]
}

/// The CFS period limits are written against.
const CPU_PERIOD_US: u64 = 100_000;

/// Memory (no swap), CPU and process limits in the names of the host's cgroup version.
pub fn limit_entries(cgroup: Cgroup, limits: &Limits) -> Vec<String> {
    let quota = (limits.nano_cpus.saturating_mul(CPU_PERIOD_US) / 1_000_000_000).max(1000);
    match cgroup {
        Cgroup::V1 { memsw } => {
            let mut lines = vec![format!(
                "lxc.cgroup.memory.limit_in_bytes = {}",
                limits.memory
            )];
            if memsw {
                // After the memory limit: the kernel wants memsw >= memory at all times.
                lines.push(format!(
                    "lxc.cgroup.memory.memsw.limit_in_bytes = {}",
                    limits.memory
                ));
            }
            lines.push(format!("lxc.cgroup.cpu.cfs_period_us = {CPU_PERIOD_US}"));
            lines.push(format!("lxc.cgroup.cpu.cfs_quota_us = {quota}"));
            lines.push(format!("lxc.cgroup.pids.max = {}", limits.pids));
            lines
        }
        Cgroup::V2 => vec![
            format!("lxc.cgroup2.memory.max = {}", limits.memory),
            "lxc.cgroup2.memory.swap.max = 0".to_string(),
            format!("lxc.cgroup2.cpu.max = {quota} {CPU_PERIOD_US}"),
            format!("lxc.cgroup2.pids.max = {}", limits.pids),
        ],
    }
}

/// A case container's whole config.
pub fn container(host: &Host, c: &ContainerSettings) -> Result<String, String> {
    let mut out = format!("# rehearsal container {}\n", c.hostname);
    head(&mut out, host);
    check_line("the root filesystem", &c.rootfs)?;
    check_line("the hostname", &c.hostname)?;
    check_line("the console log", &c.console_log)?;
    writeln!(out, "lxc.rootfs.path = {}", c.rootfs).unwrap();
    writeln!(out, "lxc.uts.name = {}", c.hostname).unwrap();
    writeln!(out, "lxc.init.cmd = {}", init_cmd(&c.command)?).unwrap();
    env_lines(&mut out, &c.env)?;
    // systemd halts on SIGRTMIN+3 (Docker's stop signal for it); LXC's default is SIGPWR.
    out.push_str("lxc.signal.halt = SIGRTMIN+3\n");
    out.push_str("lxc.autodev = 1\n");
    // The capabilities of every engine's case container (the ones common.conf drops
    // cleared first: LXC takes a keep list or a drop list); setuid programs work as on a
    // host, as on the other engines.
    out.push_str("lxc.cap.drop =\n");
    let kept: Vec<String> = crate::backend::CAPABILITIES
        .iter()
        .map(|c| c.to_lowercase())
        .collect();
    writeln!(out, "lxc.cap.keep = {}", kept.join(" ")).unwrap();
    // IPv6 on in the container's network namespace, as on the other engines (services
    // that bind ::1 fail without it).
    out.push_str("lxc.sysctl.net.ipv6.conf.all.disable_ipv6 = 0\n");
    writeln!(out, "lxc.apparmor.profile = {}", host.apparmor_profile).unwrap();
    writeln!(out, "lxc.console.logfile = {}", c.console_log).unwrap();
    for entry in tmpfs_entries(c.limits.memory) {
        writeln!(out, "lxc.mount.entry = {entry}").unwrap();
    }
    for bind in &c.binds {
        check_line("the mount", &bind.host)?;
        check_line("the mount point", &bind.container)?;
        let target = bind.container.trim_start_matches('/');
        if target.is_empty() || target.split('/').any(|p| p == "..") {
            return Err(format!(
                "`{}` is not a mount point in the container",
                bind.container
            ));
        }
        let create = if bind.file {
            "create=file"
        } else {
            "create=dir"
        };
        let ro = if bind.read_only { ",ro" } else { "" };
        writeln!(
            out,
            "lxc.mount.entry = {} {} none bind,{create}{ro} 0 0",
            fstab_field(&bind.host),
            fstab_field(target)
        )
        .unwrap();
    }
    for line in limit_entries(host.cgroup, &c.limits) {
        writeln!(out, "{line}").unwrap();
    }
    match &c.net {
        Net::Empty => out.push_str("lxc.net.0.type = empty\n"),
        Net::Bridge {
            bridge,
            address,
            gateway,
        } => {
            check_line("the bridge", bridge)?;
            out.push_str("lxc.net.0.type = veth\n");
            writeln!(out, "lxc.net.0.link = {bridge}").unwrap();
            out.push_str("lxc.net.0.flags = up\n");
            out.push_str("lxc.net.0.name = eth0\n");
            if let Some(address) = address {
                writeln!(out, "lxc.net.0.ipv4.address = {address}").unwrap();
            }
            if let Some(gateway) = gateway {
                writeln!(out, "lxc.net.0.ipv4.gateway = {gateway}").unwrap();
            }
        }
    }
    writeln!(out, "lxc.group = {GROUP}").unwrap();
    Ok(out)
}

/// The `lxc.rootfs.path` of a config (its last, as LXC reads it).
pub fn rootfs_path(config: &str) -> Option<String> {
    config
        .lines()
        .filter_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "lxc.rootfs.path").then(|| value.trim().to_string())
        })
        .next_back()
}

/// An overlay rootfs' lower and upper directories (`overlay:LOWER:UPPER`).
pub fn overlay_layers(rootfs: &str) -> Option<(String, String)> {
    let rest = rootfs
        .strip_prefix("overlay:")
        .or_else(|| rootfs.strip_prefix("overlayfs:"))?;
    let (lower, upper) = rest.rsplit_once(':')?;
    Some((lower.to_string(), upper.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(cgroup: Cgroup) -> Host {
        Host {
            common_conf: Some("/usr/share/lxc/config/common.conf".into()),
            cgroup,
            apparmor_profile: "unconfined".into(),
        }
    }

    fn settings() -> ContainerSettings {
        ContainerSettings {
            rootfs:
                "overlay:/var/lib/lxc/rehearsal+debian12@abc/rootfs:/var/lib/lxc/c/overlay/delta"
                    .into(),
            hostname: "mymod-debian12".into(),
            command: vec!["/lib/systemd/systemd".into()],
            env: vec![("container".into(), "docker".into())],
            binds: vec![
                Bind {
                    host: "/tmp/ws 1/case".into(),
                    container: "/etc/rehearsal/case".into(),
                    read_only: true,
                    file: false,
                },
                Bind {
                    host: "/tmp/ws/facts.json".into(),
                    container: "/etc/x.json".into(),
                    read_only: false,
                    file: true,
                },
            ],
            limits: Limits::DEFAULT,
            net: Net::Empty,
            console_log: "/var/lib/lxc/c/console.log".into(),
        }
    }

    #[test]
    fn a_case_container_config_on_cgroup_v1() {
        let text = container(&host(Cgroup::V1 { memsw: true }), &settings()).unwrap();
        insta::assert_snapshot!(text, @r"
        # rehearsal container mymod-debian12
        lxc.include = /usr/share/lxc/config/common.conf
        lxc.rootfs.path = overlay:/var/lib/lxc/rehearsal+debian12@abc/rootfs:/var/lib/lxc/c/overlay/delta
        lxc.uts.name = mymod-debian12
        lxc.init.cmd = /lib/systemd/systemd
        lxc.environment = container=docker
        lxc.signal.halt = SIGRTMIN+3
        lxc.autodev = 1
        lxc.cap.drop =
        lxc.cap.keep = chown dac_override fsetid fowner mknod net_raw setgid setuid setfcap setpcap net_bind_service sys_chroot kill audit_write sys_admin sys_ptrace net_admin
        lxc.sysctl.net.ipv6.conf.all.disable_ipv6 = 0
        lxc.apparmor.profile = unconfined
        lxc.console.logfile = /var/lib/lxc/c/console.log
        lxc.mount.entry = tmpfs run tmpfs rw,nosuid,nodev,mode=755,size=262144k,create=dir 0 0
        lxc.mount.entry = tmpfs run/lock tmpfs rw,nosuid,nodev,noexec,size=8m,create=dir 0 0
        lxc.mount.entry = tmpfs tmp tmpfs rw,nosuid,nodev,mode=1777,size=524288k,create=dir 0 0
        lxc.mount.entry = /tmp/ws\0401/case etc/rehearsal/case none bind,create=dir,ro 0 0
        lxc.mount.entry = /tmp/ws/facts.json etc/x.json none bind,create=file 0 0
        lxc.cgroup.memory.limit_in_bytes = 1073741824
        lxc.cgroup.memory.memsw.limit_in_bytes = 1073741824
        lxc.cgroup.cpu.cfs_period_us = 100000
        lxc.cgroup.cpu.cfs_quota_us = 100000
        lxc.cgroup.pids.max = 1024
        lxc.net.0.type = empty
        lxc.group = rehearsal
        ");
    }

    #[test]
    fn limits_on_cgroup_v2_and_without_swap_accounting() {
        let limits = Limits {
            memory: 512 * 1024 * 1024,
            nano_cpus: 1_500_000_000,
            pids: 300,
        };
        assert_eq!(
            limit_entries(Cgroup::V2, &limits),
            [
                "lxc.cgroup2.memory.max = 536870912",
                "lxc.cgroup2.memory.swap.max = 0",
                "lxc.cgroup2.cpu.max = 150000 100000",
                "lxc.cgroup2.pids.max = 300",
            ]
        );
        let v1 = limit_entries(Cgroup::V1 { memsw: false }, &limits);
        assert!(!v1.iter().any(|l| l.contains("memsw")), "{v1:?}");
        assert!(v1.contains(&"lxc.cgroup.cpu.cfs_quota_us = 150000".to_string()));
    }

    #[test]
    fn a_bridged_network_with_an_address() {
        let mut c = settings();
        c.net = Net::Bridge {
            bridge: "lxcbr0".into(),
            address: Some("10.0.3.17/24".into()),
            gateway: Some("10.0.3.1".into()),
        };
        let text = container(&host(Cgroup::V2), &c).unwrap();
        assert!(text.contains(
            "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.flags = up\nlxc.net.0.name = eth0\nlxc.net.0.ipv4.address = 10.0.3.17/24\nlxc.net.0.ipv4.gateway = 10.0.3.1\n"
        ), "{text}");
    }

    #[test]
    fn what_a_config_line_cannot_hold_is_refused() {
        let mut c = settings();
        c.command = vec!["/bin/sh".into(), "-c".into(), "echo hi".into()];
        assert!(container(&host(Cgroup::V2), &c).is_err());
        let mut c = settings();
        c.env = vec![("A".into(), "x\nlxc.cap.keep =".into())];
        assert!(container(&host(Cgroup::V2), &c).is_err());
        let mut c = settings();
        c.binds[0].container = "/".into();
        assert!(container(&host(Cgroup::V2), &c).is_err());
        let mut c = settings();
        c.binds[0].container = "/etc/../../x".into();
        assert!(container(&host(Cgroup::V2), &c).is_err());
    }

    #[test]
    fn an_image_config_is_its_rootfs_and_command() {
        let text = image(
            &host(Cgroup::V1 { memsw: true }),
            Path::new("/var/lib/lxc/rehearsal+debian12@abc/rootfs"),
            "rehearsal/debian12:abc",
            &["/lib/systemd/systemd".to_string()],
            &[("container".into(), "docker".into())],
        )
        .unwrap();
        insta::assert_snapshot!(text, @r"
        # rehearsal image rehearsal/debian12:abc: the lower layer of its containers' overlays; never started
        lxc.include = /usr/share/lxc/config/common.conf
        lxc.rootfs.path = dir:/var/lib/lxc/rehearsal+debian12@abc/rootfs
        lxc.uts.name = image
        lxc.init.cmd = /lib/systemd/systemd
        lxc.environment = container=docker
        lxc.net.0.type = empty
        lxc.apparmor.profile = unconfined
        lxc.group = rehearsal-image
        ");
    }

    #[test]
    fn the_rootfs_of_a_copy_is_read_back() {
        let copied = "lxc.include = x\nlxc.rootfs.path = dir:/a/rootfs\nlxc.uts.name = c\nlxc.rootfs.path = overlay:/a/rootfs:/b/overlay/delta\n";
        let rootfs = rootfs_path(copied).unwrap();
        assert_eq!(rootfs, "overlay:/a/rootfs:/b/overlay/delta");
        assert_eq!(
            overlay_layers(&rootfs),
            Some(("/a/rootfs".into(), "/b/overlay/delta".into()))
        );
        assert_eq!(overlay_layers("dir:/a/rootfs"), None);
        assert_eq!(rootfs_path("lxc.uts.name = c\n"), None);
    }

    #[test]
    fn tmpfs_sizes_follow_memory_with_a_floor() {
        let small = tmpfs_entries(64 * 1024 * 1024);
        assert!(small[0].contains("size=16384k"), "{small:?}");
        assert!(small[2].contains("size=32768k"), "{small:?}");
        let tiny = tmpfs_entries(1024 * 1024);
        assert!(tiny[0].contains("size=1024k"), "{tiny:?}");
    }
}
