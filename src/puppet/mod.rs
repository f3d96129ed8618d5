//! Puppet as the harness drives it: the apply command line, what its detailed exit codes
//! mean, judging an apply ([`judge`]), reading its output (its errors, and where they
//! are: [`errors`]; the resources a run changed; the end of it worth keeping), writing an
//! apply's inputs ([`inputs`]) and the readiness wait before the first apply. The runner
//! (for cases) and the snapshot layers (for baselines) both drive Puppet through this
//! leaf, so an apply means the same to both.

pub mod errors;
pub mod inputs;
pub mod report;

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;

use crate::layout::{
    case_file, DRIVER_RB, FACTS_FILE, FACTS_JSON, HIERA_YAML, MODULEPATH, REPORT_DIR,
};
use report::{Change, Failure, Report};

/// rehearsal's Puppet driver (`driver.rb`), written beside every apply's inputs.
/// (`facter.rb` first: what it defines, the gate's script uses too.)
pub const DRIVER: &str = concat!(include_str!("facter.rb"), include_str!("driver.rb"));

/// Where the apply called `name` (`apply`, `idempotent`, `layer-1`) leaves its report.
pub fn report_file(name: &str) -> String {
    format!("{REPORT_DIR}/{name}.json")
}

/// The command that applies `manifest` (a path in the container), bounded by `limit`,
/// its report left in `report` ([`report_file`]); `strict`: with Puppet 8's strict
/// defaults ([`STRICT`]) whatever the platform's Puppet.
pub fn apply_command(manifest: &str, limit: Duration, report: &str, strict: bool) -> Vec<String> {
    let mut cmd = apply_command_in(manifest, MODULEPATH, limit, report);
    if strict {
        let at = cmd.len() - 1;
        cmd.splice(at..at, STRICT.map(String::from));
    }
    cmd
}

/// Puppet 8's defaults, given on every platform so a module meets the same rules on each:
/// what was a warning (a deprecated feature, a duplicate hash key, a resource reference
/// to nothing…) is an error, and so is a variable that is not defined.
pub const STRICT: [&str; 2] = ["--strict=error", "--strict_variables"];

/// Finds Puppet's Ruby: the AIO packages' (Puppet's and OpenVox's), else the Ruby of the
/// `puppet` command's `#!` line; `$ruby` names no Ruby when neither is there. (A macro,
/// so that both scripts below are constants.)
macro_rules! pick_ruby {
    () => {
        r#"if [ -x /opt/puppetlabs/puppet/bin/ruby ]; then ruby=/opt/puppetlabs/puppet/bin/ruby
else ruby=$(sed -n '1s/^#![[:space:]]*//p' "$(command -v puppet)" 2>/dev/null); fi
"#
    };
}

/// Asks the driver's server for the apply (the driver runs it cold when no server runs),
/// with Puppet's Ruby, else runs plain `puppet apply` (no report then); `$@` are
/// `puppet apply`'s arguments. The client starts without RubyGems (a third of its start;
/// it loads RubyGems itself before it loads Puppet for a cold apply).
const DRIVER_SCRIPT: &str = concat!(
    r#"REHEARSAL_REPORT=$1; export REHEARSAL_REPORT; shift
rm -f "$REHEARSAL_REPORT"
"#,
    pick_ruby!(),
    r#"case $ruby in *ruby*) exec $ruby --disable-gems "$0" client "$@" ;; esac
exec puppet apply "$@""#
);

/// Starts the driver's server in the background (it loads Puppet while systemd boots);
/// `$1` is the driver. What it says (a Puppet that cannot load, say) is in
/// `/run/rehearsal/driver.log`.
const SERVE_SCRIPT: &str = concat!(
    pick_ruby!(),
    r#"case $ruby in *ruby*) mkdir -p /run/rehearsal; $ruby "$1" serve </dev/null >/run/rehearsal/driver.log 2>&1 & ;; esac
"#
);

/// Runs a Ruby script with Puppet's Ruby (`$0` the script, `$@` its arguments); exits 127,
/// saying so, where the platform has no Puppet.
const RUBY_SCRIPT: &str = concat!(
    pick_ruby!(),
    r#"case $ruby in *ruby*) exec $ruby "$0" "$@" ;; esac
echo "rehearsal: this platform has no Puppet (no /opt/puppetlabs/puppet/bin/ruby, no puppet command)" >&2
exit 127"#
);

/// The command that runs the Ruby `script` (a path in the container) with Puppet's Ruby,
/// bounded by `limit`.
pub fn ruby_command(script: &str, args: &[&str], limit: Duration) -> Vec<String> {
    let mut cmd = timeout_prefix(limit);
    cmd.extend(["sh", "-c", RUBY_SCRIPT, script].map(String::from));
    cmd.extend(args.iter().map(|a| a.to_string()));
    cmd
}

/// What the driver exits with when it, not Puppet, failed: the apply's child was killed by
/// a signal, or the server went away mid-apply (`timeout`'s own failures say 125 too).
pub const DRIVER_FAILED: i64 = 125;

/// The apply command with another `--modulepath` (a site baseline's directories).
pub fn apply_command_in(
    manifest: &str,
    modulepath: &str,
    limit: Duration,
    report: &str,
) -> Vec<String> {
    let mut cmd = timeout_prefix(limit);
    let driver = case_file(DRIVER_RB);
    cmd.extend(
        [
            "sh",
            "-c",
            DRIVER_SCRIPT,
            &driver,
            report,
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

/// Starts the driver's server, waits for systemd to answer, then installs the case's
/// facts where Facter reads them.
pub fn ready_script() -> String {
    format!(
        r#"(set -- {driver}
{SERVE_SCRIPT})
i=0
while [ $i -lt 600 ]; do
  s=$(systemctl is-system-running 2>/dev/null)
  case "$s" in running|degraded) break ;; esac
  i=$((i+1)); sleep 0.1
done
case "$s" in running|degraded) ;; *) echo "systemd did not come up (state: ${{s:-no answer}})"; exit 1 ;; esac
mkdir -p {facts_dir} && cp {facts} {FACTS_FILE}
"#,
        driver = case_file(DRIVER_RB),
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
    /// [`DRIVER_FAILED`]: the driver, not Puppet, failed.
    DriverFailed,
}

pub fn outcome(exit_code: i64) -> Outcome {
    match exit_code {
        0 => Outcome::Unchanged,
        2 => Outcome::Changed,
        124 | 137 => Outcome::TimedOut,
        DRIVER_FAILED => Outcome::DriverFailed,
        _ => Outcome::Failed,
    }
}

/// Which apply of some code is judged: the first may change things, a second must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    First,
    /// The apply that proves the first settled (idempotency).
    Second,
}

/// What an apply's exit status and output say. Callers word it: a case's step and a
/// snapshot layer say different things about the same verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It applied (a first apply may have changed things; a second changed nothing).
    Passed,
    /// Killed by its `timeout` in the container.
    TimedOut,
    /// A compile error or failed resources: the exit status and the `Error:` lines of
    /// the text; from the run's report, when the driver wrote one, the resources that
    /// failed, with Puppet's words and where each is declared (a compile error leaves no
    /// report: its place is in its `Error:` line).
    Failed {
        exit_code: i64,
        errors: Vec<String>,
        failures: Vec<Failure>,
    },
    /// A second apply changed these (none: Puppet said nothing of which). From the run's
    /// report: each property, its old and new value, and where the resource is declared;
    /// without a report, the resources named in Puppet's text.
    NotIdempotent { changed: Vec<Change> },
    /// The driver failed mid-apply (see [`DRIVER_FAILED`]): what it said.
    DriverFailed { message: String },
}

/// Judges an apply from its exit status, its (cleaned) output and its report, when the
/// driver wrote one.
pub fn judge(apply: Apply, exit_code: i64, output: &str, report: Option<&Report>) -> Verdict {
    match (apply, outcome(exit_code)) {
        (_, Outcome::Unchanged) | (Apply::First, Outcome::Changed) => Verdict::Passed,
        (Apply::Second, Outcome::Changed) => Verdict::NotIdempotent {
            changed: match report {
                Some(report) => report.changes(),
                None => changed_resources(output)
                    .into_iter()
                    .map(Change::named)
                    .collect(),
            },
        },
        (_, Outcome::TimedOut) => Verdict::TimedOut,
        (_, Outcome::DriverFailed) => Verdict::DriverFailed {
            message: driver_said(output),
        },
        (_, Outcome::Failed) => Verdict::Failed {
            exit_code,
            errors: error_lines(output),
            failures: report.map(Report::failures).unwrap_or_default(),
        },
    }
}

/// The end of an output, where the errors are: at most `max` bytes of it (cut at a
/// character), after a line that says how much was cut.
pub fn tail(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut cut = text.len() - max;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("[… {cut} bytes cut …]\n{}", &text[cut..])
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

/// What the driver said of its failure (its last `rehearsal:` line).
pub fn driver_said(output: &str) -> String {
    output
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("rehearsal: "))
        .map(|said| format!("the Puppet driver failed: {said}"))
        .unwrap_or_else(|| format!("the Puppet driver failed (exit {DRIVER_FAILED})"))
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
        assert_eq!(outcome(DRIVER_FAILED), Outcome::DriverFailed);
    }

    #[test]
    fn a_failed_driver_is_its_own_verdict_and_says_what_it_said() {
        let said = "Notice: x\n\nrehearsal: Puppet's apply was killed by signal 9 (SIGKILL), not by its timeout\n";
        assert_eq!(
            judge(Apply::Second, DRIVER_FAILED, said, None),
            Verdict::DriverFailed {
                message: "the Puppet driver failed: Puppet's apply was killed by signal 9 \
                          (SIGKILL), not by its timeout"
                    .into()
            }
        );
        assert_eq!(
            driver_said("nothing"),
            "the Puppet driver failed (exit 125)"
        );
    }

    #[test]
    fn a_first_apply_may_change_things_a_second_must_not() {
        let notice = "Notice: /Stage[main]/Motd/File[/etc/motd]/content: content changed\n";
        assert_eq!(judge(Apply::First, 0, "", None), Verdict::Passed);
        assert_eq!(judge(Apply::First, 2, notice, None), Verdict::Passed);
        assert_eq!(judge(Apply::Second, 0, "", None), Verdict::Passed);
        assert_eq!(
            judge(Apply::Second, 2, notice, None),
            Verdict::NotIdempotent {
                changed: vec![Change::named("File[/etc/motd]".into())]
            }
        );
        for apply in [Apply::First, Apply::Second] {
            assert_eq!(judge(apply, 124, "", None), Verdict::TimedOut);
            assert_eq!(
                judge(apply, 4, "Notice: x\nError: boom\n", None),
                Verdict::Failed {
                    exit_code: 4,
                    errors: vec!["Error: boom".into()],
                    failures: vec![],
                }
            );
        }
    }

    /// With a report, a second apply's changes come from it, not from the text (here the
    /// text names another resource: the report wins).
    #[test]
    fn a_second_apply_is_judged_from_its_report() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reports/puppet-7.23.json"
        );
        let report = Report::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        let notice = "Notice: /Stage[main]/Motd/File[/etc/motd]/content: content changed\n";
        let Verdict::NotIdempotent { changed } = judge(Apply::Second, 2, notice, Some(&report))
        else {
            panic!("not idempotent")
        };
        let names: Vec<&str> = changed.iter().map(|c| c.resource.as_str()).collect();
        assert_eq!(names, ["File[/etc/drift]", "Exec[stamp]"]);
        assert_eq!(
            judge(Apply::First, 2, notice, Some(&report)),
            Verdict::Passed
        );
    }

    #[test]
    fn a_tail_keeps_the_end_and_says_what_it_cut() {
        assert_eq!(tail("short".into(), 5), "short");
        // A cut inside `é` moves past it.
        assert_eq!(tail("aéb".into(), 2), "[… 3 bytes cut …]\nb");
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
    fn the_ready_script_starts_the_driver_then_waits_for_systemd() {
        assert_eq!(
            ready_script(),
            r#"(set -- /etc/rehearsal/case/driver.rb
if [ -x /opt/puppetlabs/puppet/bin/ruby ]; then ruby=/opt/puppetlabs/puppet/bin/ruby
else ruby=$(sed -n '1s/^#![[:space:]]*//p' "$(command -v puppet)" 2>/dev/null); fi
case $ruby in *ruby*) mkdir -p /run/rehearsal; $ruby "$1" serve </dev/null >/run/rehearsal/driver.log 2>&1 & ;; esac
)
i=0
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
    fn apply_command_is_bounded_and_runs_the_driver_with_the_case_files() {
        let cmd = apply_command(
            "/etc/rehearsal/case/site.pp",
            Duration::from_secs(90),
            &report_file("apply"),
            false,
        );
        assert_eq!(cmd[..4], ["timeout", "-k", "10", "90"]);
        assert_eq!(cmd[4..6], ["sh", "-c"]);
        assert_eq!(
            cmd[7..].join(" "),
            "/etc/rehearsal/case/driver.rb /run/rehearsal/apply.json --detailed-exitcodes \
             --color=false --modulepath=/etc/rehearsal/modules \
             --hiera_config=/etc/rehearsal/case/hiera.yaml /etc/rehearsal/case/site.pp"
        );
        let strict = apply_command("/m.pp", Duration::from_secs(9), "/r.json", true);
        assert_eq!(
            strict[strict.len() - 3..],
            ["--strict=error", "--strict_variables", "/m.pp"],
            "the manifest stays last"
        );
    }

    /// The script runs the driver with the Ruby of `puppet`'s `#!` line, and plain
    /// `puppet apply` where that line names no Ruby; the report path is not an argument
    /// of Puppet's. Stand-ins for `puppet` and Ruby, first on the PATH, say how they ran.
    #[test]
    fn the_driver_script_picks_puppets_ruby_else_plain_puppet() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let ruby = dir.path().join("ruby");
        write(
            "ruby",
            "#!/bin/sh\necho \"ruby $* report=$REHEARSAL_REPORT\"\n",
        );
        let run = || {
            let out = std::process::Command::new("/bin/sh")
                .args([
                    "-c",
                    DRIVER_SCRIPT,
                    "/d/driver.rb",
                    "/r/a.json",
                    "--x",
                    "m.pp",
                ])
                .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        write(
            "puppet",
            &format!("#!{}\necho puppet \"$@\"\n", ruby.display()),
        );
        assert_eq!(
            run(),
            "ruby --disable-gems /d/driver.rb client --x m.pp report=/r/a.json"
        );
        write("puppet", "#!/bin/sh\necho puppet \"$@\"\n");
        assert_eq!(run(), "puppet apply --x m.pp");
    }
}
