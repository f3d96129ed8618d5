//! rehearsal's AppArmor profile for Docker's and Podman's containers on an AppArmor host.
//!
//! The engines' default profiles (`docker-default`, `containers-default-*`) deny every
//! mount, and systemd as PID 1 mounts: its units' sandboxing (`PrivateTmp=`,
//! `ProtectSystem=`, `PrivateUsers=`…) and, on Docker older than 28 on cgroup v2, the
//! read-write remount of its own cgroup. Under them a correct module whose service is
//! hardened fails, so on an AppArmor host rehearsal's containers run under this profile
//! (`apparmor.profile`: docker-default with its `deny mount` replaced by those mounts
//! alone). An engine loads no profile for its clients: rehearsal loads it itself when it
//! may (root, the engine on this host), else it says how.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use sha2::{Digest, Sha256};

const TEMPLATE: &str = include_str!("apparmor.profile");

/// The profile's name: `rehearsal-systemd-` and a hash of its text, so a rehearsal whose
/// profile changed never runs under an older one still loaded.
pub fn name() -> &'static str {
    static NAME: LazyLock<String> = LazyLock::new(|| {
        let digest = Sha256::digest(TEMPLATE.as_bytes());
        let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("rehearsal-systemd-{hex}")
    });
    &NAME
}

/// The profile's text, as `apparmor_parser` reads it.
pub fn text() -> String {
    TEMPLATE.replace("@NAME@", name())
}

/// The command that loads it, for a user who must run it as root.
pub fn load_hint() -> String {
    format!(
        "load rehearsal's AppArmor profile {} as root: `rehearsal apparmor-profile | sudo \
         apparmor_parser -r` (once per boot; or run rehearsal as root, which loads it)",
        name()
    )
}

/// Whether a profile of this name is loaded in this host's kernel; `None` when that cannot
/// be read (not root, no securityfs).
pub fn loaded(name: &str) -> Option<bool> {
    let profiles = std::fs::read_to_string("/sys/kernel/security/apparmor/profiles").ok()?;
    Some(is_listed(&profiles, name))
}

/// Whether the kernel's list (`NAME (MODE)` a line) has the profile.
fn is_listed(profiles: &str, name: &str) -> bool {
    profiles
        .lines()
        .any(|line| line.split(" (").next() == Some(name))
}

/// Makes sure the profile is loaded in this host's kernel: read from the kernel's list,
/// else loaded with `apparmor_parser`, as root. A user who is not root sees no profile
/// in that list (AppArmor shows it to root alone) and cannot load one: the profile is then
/// taken as loaded, and a start without it says so with [`load_hint`].
pub fn ensure_loaded() -> Result<(), String> {
    if !crate::host::is_root() || loaded(name()) == Some(true) {
        return Ok(());
    }
    let mut child = Command::new("apparmor_parser")
        .args(["--replace", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| {
            format!(
                "cannot run apparmor_parser to load rehearsal's AppArmor profile ({err}): \
                 install AppArmor's tools (Debian: apt-get install apparmor)"
            )
        })?;
    let text = text();
    if let Some(mut stdin) = child.stdin.take() {
        // A parser that stopped early says why on stderr, read below.
        let _ = stdin.write_all(text.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|err| format!("apparmor_parser: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "apparmor_parser refused rehearsal's AppArmor profile {}: {}",
            name(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_carries_a_hash_of_the_text() {
        assert!(name().starts_with("rehearsal-systemd-"));
        assert_eq!(name().len(), "rehearsal-systemd-".len() + 8);
    }

    #[test]
    fn the_text_names_the_profile_everywhere() {
        let text = text();
        assert!(!text.contains("@NAME@"));
        assert!(text.contains(&format!("profile {} flags=", name())));
        // docker-default's protections stay.
        for rule in [
            "deny @{PROC}/sysrq-trigger rwklx,",
            "deny /sys/kernel/security/** rwklx,",
            "deny /sys/firmware/** rwklx,",
        ] {
            assert!(text.contains(rule), "{rule}");
        }
        // No filesystem but these may be mounted.
        for line in text.lines().filter(|l| l.contains("fstype=")) {
            assert!(
                ["tmpfs", "mqueue", "ramfs", "hugetlbfs", "proc"]
                    .iter()
                    .any(|fs| line.contains(&format!("fstype={fs}"))),
                "{line}"
            );
        }
    }

    #[test]
    fn the_kernels_list_is_read_by_name_and_mode() {
        let list = "docker-default (enforce)\nrehearsal-systemd-0123abcd (enforce)\n";
        assert!(is_listed(list, "rehearsal-systemd-0123abcd"));
        assert!(!is_listed(list, "rehearsal-systemd-0123"));
        assert!(!is_listed("", "docker-default"));
    }
}
