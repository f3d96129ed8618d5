//! Puppet as the harness drives it: the apply command line, what its detailed exit codes
//! mean, reading its output (its errors, and where they are: [`errors`]; the resources a
//! run changed), writing an apply's inputs ([`inputs`]) and the readiness wait before the
//! first apply. The runner (for cases) and the snapshot layers (for baselines) both drive
//! Puppet through this leaf.

pub mod errors;
pub mod inputs;

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

use crate::layout::{case_file, FACTS_FILE, FACTS_JSON, HIERA_YAML, MODULEPATH};

/// The command that applies `manifest` (a path in the container), bounded by `limit`.
pub fn apply_command(manifest: &str, limit: Duration) -> Vec<String> {
    apply_command_in(manifest, MODULEPATH, limit)
}

/// The apply command with another `--modulepath` (a site baseline's directories).
pub fn apply_command_in(manifest: &str, modulepath: &str, limit: Duration) -> Vec<String> {
    let mut cmd = timeout_prefix(limit);
    cmd.extend(
        [
            "puppet",
            "apply",
            "--detailed-exitcodes",
            "--color=false",
            &format!("--modulepath={modulepath}"),
            &format!("--hiera_config={}", case_file(HIERA_YAML)),
            manifest,
        ]
        .map(String::from),
    );
    cmd
}

/// `timeout` inside the container, so a hung step is killed where it runs.
pub fn timeout_prefix(limit: Duration) -> Vec<String> {
    vec![
        "timeout".into(),
        "-k".into(),
        "10".into(),
        format!("{}", limit.as_secs().max(1)),
    ]
}

/// Waits for systemd to answer, then installs the case's facts where Facter reads them.
pub fn ready_script() -> String {
    format!(
        r#"i=0
while [ $i -lt 600 ]; do
  s=$(systemctl is-system-running 2>/dev/null)
  case "$s" in running|degraded) break ;; esac
  i=$((i+1)); sleep 0.1
done
case "$s" in running|degraded) ;; *) echo "systemd did not come up (state: ${{s:-no answer}})"; exit 1 ;; esac
mkdir -p {facts_dir} && cp {facts} {FACTS_FILE}
"#,
        facts_dir = FACTS_DIR,
        facts = case_file(FACTS_JSON),
    )
}

/// The directory of [`FACTS_FILE`].
const FACTS_DIR: &str = "/etc/facter/facts.d";

/// What an apply's exit status says (`--detailed-exitcodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing to change.
    Unchanged,
    /// 2: changes, no failures.
    Changed,
    /// 1, 4 or 6: a compile error or failed resources.
    Failed,
    /// 124/137: killed by the step's timeout.
    TimedOut,
}

pub fn outcome(exit_code: i64) -> Outcome {
    match exit_code {
        0 => Outcome::Unchanged,
        2 => Outcome::Changed,
        124 | 137 => Outcome::TimedOut,
        _ => Outcome::Failed,
    }
}

/// The resources a run changed, from its `Notice: /Stage[main]/…/File[/etc/motd]/content:`
/// lines, in order, once each.
pub fn changed_resources(output: &str) -> Vec<String> {
    static NOTICE: OnceLock<Regex> = OnceLock::new();
    static RESOURCE: OnceLock<Regex> = OnceLock::new();
    let notice =
        NOTICE.get_or_init(|| Regex::new(r"(?m)^Notice: (/Stage\[.*?)(?:/[a-z_]+)?: ").unwrap());
    let resource = RESOURCE
        .get_or_init(|| Regex::new(r"([A-Z][A-Za-z0-9_]*(?:::[A-Z][A-Za-z0-9_]*)*)\[").unwrap());
    let mut found: Vec<String> = Vec::new();
    for caps in notice.captures_iter(output) {
        let path = &caps[1];
        // The last `Type[` in the path starts the resource; its title runs to the last `]`.
        let Some(start) = resource
            .find_iter(path)
            .filter(|m| !m.as_str().starts_with("Stage["))
            .last()
        else {
            continue;
        };
        let Some(end) = path.rfind(']') else { continue };
        if end < start.start() {
            continue;
        }
        let name = path[start.start()..=end].to_string();
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// The `Error:` lines of an apply, for the failure message.
pub fn error_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| l.starts_with("Error: ") || l.starts_with("Error "))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(outcome(0), Outcome::Unchanged);
        assert_eq!(outcome(2), Outcome::Changed);
        for code in [1, 4, 6] {
            assert_eq!(outcome(code), Outcome::Failed);
        }
        assert_eq!(outcome(124), Outcome::TimedOut);
    }

    #[test]
    fn changed_resources_from_notices() {
        let out = "\
Notice: Compiled catalog for web in environment production in 0.02 seconds
Notice: /Stage[main]/Motd/File[/etc/motd]/content: content changed '{sha256}a' to '{sha256}b'
Notice: /Stage[main]/Motd/File[/etc/motd]/mode: mode changed '0600' to '0644'
Notice: /Stage[main]/Accounts/Accounts::User[alice]/User[alice]/ensure: created
Notice: /Stage[main]/Main/Exec[echo [x] done]/returns: executed successfully
Notice: /Stage[main]/Heartbeat/Service[heartbeat]: Triggered 'refresh' from 1 event
Notice: Applied catalog in 0.05 seconds
";
        assert_eq!(
            changed_resources(out),
            [
                "File[/etc/motd]",
                "User[alice]",
                "Exec[echo [x] done]",
                "Service[heartbeat]"
            ]
        );
    }

    #[test]
    fn nothing_changed() {
        assert!(changed_resources(
            "Notice: Compiled catalog\nNotice: Applied catalog in 0.01 seconds\n"
        )
        .is_empty());
    }

    #[test]
    fn the_ready_script_is_the_one_cases_always_ran() {
        assert_eq!(
            ready_script(),
            r#"i=0
while [ $i -lt 600 ]; do
  s=$(systemctl is-system-running 2>/dev/null)
  case "$s" in running|degraded) break ;; esac
  i=$((i+1)); sleep 0.1
done
case "$s" in running|degraded) ;; *) echo "systemd did not come up (state: ${s:-no answer})"; exit 1 ;; esac
mkdir -p /etc/facter/facts.d && cp /etc/rehearsal/case/facts.json /etc/facter/facts.d/rehearsal.json
"#
        );
        assert!(FACTS_FILE.starts_with(FACTS_DIR));
    }

    #[test]
    fn apply_command_is_bounded_and_uses_the_case_files() {
        let cmd = apply_command("/etc/rehearsal/case/site.pp", Duration::from_secs(90)).join(" ");
        assert_eq!(
            cmd,
            "timeout -k 10 90 puppet apply --detailed-exitcodes --color=false \
             --modulepath=/etc/rehearsal/modules --hiera_config=/etc/rehearsal/case/hiera.yaml \
             /etc/rehearsal/case/site.pp"
        );
    }
}
