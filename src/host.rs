//! Facts about the host this process runs on (its user, its limits, its cgroup version),
//! read from /proc and /sys, which every Linux has. A leaf: the engines and the image
//! builder ask the same questions.

/// Whether this process runs as root (its effective uid).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// This process's hard limit of `resource` as /proc/self/limits names it (`Max open
/// files`, `Max processes`); `None` when unlimited or unreadable.
pub fn hard_limit(resource: &str) -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_hard_limit(&limits, resource)
}

/// The same, of another process (one that serves a local socket, say).
pub fn hard_limit_of(pid: u32, resource: &str) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    parse_hard_limit(&limits, resource)
}

/// The process that listens on a local socket (its peer's credentials, from the kernel).
pub fn socket_server(path: &str) -> Option<u32> {
    let stream = std::os::unix::net::UnixStream::connect(path).ok()?;
    let cred = rustix::net::sockopt::socket_peercred(&stream).ok()?;
    u32::try_from(cred.pid.as_raw_nonzero().get()).ok()
}

fn parse_hard_limit(limits: &str, resource: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with(resource))?;
    // `Max open files            20000                20000                files`
    let fields: Vec<&str> = line[resource.len()..].split_whitespace().collect();
    fields.get(1)?.parse().ok()
}

/// The host's cgroup version: 2 when /sys/fs/cgroup is the unified hierarchy.
pub fn cgroup_version() -> u8 {
    match std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        true => 2,
        false => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max processes             32768                96365                processes 
Max open files            1024                 20000                files     
Max locked memory         8388608              8388608              bytes     
";

    #[test]
    fn a_hard_limit_is_read_from_procs_table() {
        assert_eq!(parse_hard_limit(LIMITS, "Max open files"), Some(20000));
        assert_eq!(parse_hard_limit(LIMITS, "Max processes"), Some(96365));
        assert_eq!(parse_hard_limit(LIMITS, "Max cpu time"), None);
        assert_eq!(parse_hard_limit(LIMITS, "Max nothing"), None);
    }

    #[test]
    fn this_process_has_limits_and_a_cgroup_version() {
        assert!(hard_limit("Max open files").is_some());
        assert!(matches!(cgroup_version(), 1 | 2));
    }
}
