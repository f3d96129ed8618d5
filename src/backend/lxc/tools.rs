//! The `lxc-*` tools (and `tar`, `cp`, `mount`), run as processes with an argument list,
//! never through a shell, each bounded in time; and readers of what they print: states,
//! `lxc-ls`' table, the start log's end of the init, cgroup counters, the console.

use std::ffi::OsStr;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

/// How long a quick tool (info, ls, cgroup, freeze, stop, start) may take.
pub const QUICK: Duration = Duration::from_secs(60);
/// How long a tool that copies or removes files may take.
pub const SLOW: Duration = Duration::from_secs(600);

/// Runs `program` with `args`, no input, and waits at most `limit`; killed when the
/// limit passes (or the caller gives up). `Err` says why it gave no output.
pub async fn run<I, S>(program: &str, args: I, limit: Duration) -> Result<Output, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(err)) => Err(format!("{program} failed: {err}")),
        Err(_) => Err(format!(
            "{program} did not finish within {}",
            humantime::format_duration(limit)
        )),
    }
}

/// As [`run`], and a failed exit is an error quoting what it printed.
pub async fn run_ok<I, S>(program: &str, args: I, limit: Duration) -> Result<Output, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = run(program, args, limit).await?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!("{program} failed ({}): {}", out.status, said(&out)))
    }
}

/// What a tool printed, for an error message: stderr, else stdout, trimmed.
pub fn said(out: &Output) -> String {
    let text = String::from_utf8_lossy(if out.stderr.is_empty() {
        &out.stdout
    } else {
        &out.stderr
    });
    let text = text.trim();
    if text.is_empty() {
        "no output".into()
    } else {
        text.to_string()
    }
}

/// A container's state as `lxc-info -s -H` and `lxc-ls -f` print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Stopped,
    Starting,
    Running,
    Stopping,
    Aborting,
    Freezing,
    Frozen,
    Thawed,
    Unknown,
}

impl State {
    pub fn parse(text: &str) -> State {
        match text.trim() {
            "STOPPED" => State::Stopped,
            "STARTING" => State::Starting,
            "RUNNING" => State::Running,
            "STOPPING" => State::Stopping,
            "ABORTING" => State::Aborting,
            "FREEZING" => State::Freezing,
            "FROZEN" => State::Frozen,
            "THAWED" => State::Thawed,
            _ => State::Unknown,
        }
    }

    /// Its init runs (a frozen container's too: it resumes).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            State::Running | State::Starting | State::Freezing | State::Frozen | State::Thawed
        )
    }
}

/// `lxc-ls -f -F NAME,STATE`: each container's name and state, the header left out.
pub fn parse_ls(text: &str) -> Vec<(String, State)> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("NAME"))
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_string(), State::parse(words.next()?)))
        })
        .collect()
}

/// How a container's init ended, as the start log (`lxc-start -o … -l INFO`) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitEnd {
    /// A signal ended it: 9 from outside (`lxc-stop -k`, `kill -9`), 2 when systemd halted
    /// (a clean `lxc-stop`, or `poweroff` inside), 1 when it rebooted.
    Signal(i32),
    /// It exited with this status (LXC logs none for 0).
    Exited(i64),
}

/// The end of the init of the last start in the log, if the log tells one.
pub fn init_end(log: &str) -> Option<InitEnd> {
    // Only what follows the last start: the log is appended to.
    let last_start = log
        .rfind("Exec'ing \"")
        .or_else(|| log.rfind(" Started \""))
        .unwrap_or(0);
    let tail = &log[last_start..];
    let line = tail.lines().rev().find(|l| l.contains("ended on "))?;
    if let Some(rest) = line.split("ended on signal ").nth(1) {
        // `Killed(9)`
        let number = rest.split('(').nth(1)?.split(')').next()?;
        return number.trim().parse().ok().map(InitEnd::Signal);
    }
    let rest = line.split("ended on error (").nth(1)?;
    rest.split(')')
        .next()?
        .trim()
        .parse()
        .ok()
        .map(InitEnd::Exited)
}

/// `key N` in a cgroup file (`oom_kill 3` in `memory.oom_control` or `memory.events`).
pub fn counter(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.trim().split_once(char::is_whitespace)?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A number, or `max` (no limit).
pub fn limit_value(text: &str) -> Option<u64> {
    match text.trim() {
        "max" | "" => None,
        number => number.parse().ok(),
    }
}

/// Console text as a person reads it: terminal escapes (systemd's colours) and carriage
/// returns taken out.
pub fn clean_console(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    // Parameters and intermediates, then one final byte.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The last `lines` lines of `text`.
pub fn last_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// What went wrong in an `lxc-attach`, from the errors LXC wrote to its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachFailure {
    /// The kernel refused the fork: the container is at its process limit.
    ProcessLimit(String),
    /// The command could not be executed (not found, not executable): exit 126/127 and
    /// this message, as a shell would.
    Exec(String),
    /// LXC could not attach at all (the container is not running, say).
    Attach(String),
}

/// Reads `lxc-attach`'s own log (`-o FILE -l ERROR -q`); `None` when it logged nothing.
pub fn attach_failure(log: &str) -> Option<AttachFailure> {
    let messages: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR "))
        // `… ERROR    attach - ../src/lxc/attach.c:lxc_attach:1611 - Resource … - Failed …`
        .map(|l| l.splitn(3, " - ").nth(2).unwrap_or(l).trim())
        .collect();
    let first = *messages.first()?;
    let text = messages.join("; ");
    if messages
        .iter()
        .any(|m| m.contains("Resource temporarily unavailable"))
    {
        return Some(AttachFailure::ProcessLimit(text));
    }
    if first.contains("Failed to exec") {
        return Some(AttachFailure::Exec(first.to_string()));
    }
    Some(AttachFailure::Attach(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxc_ls_table_is_read() {
        let text = "NAME                   STATE   \nc1                     RUNNING \nc2                     FROZEN  \nrehearsal+debian12@abc STOPPED \n";
        assert_eq!(
            parse_ls(text),
            [
                ("c1".to_string(), State::Running),
                ("c2".to_string(), State::Frozen),
                ("rehearsal+debian12@abc".to_string(), State::Stopped),
            ]
        );
        assert_eq!(parse_ls(""), []);
        assert!(State::parse("FROZEN\n").is_running());
        assert!(!State::parse("STOPPED").is_running());
        assert_eq!(State::parse("odd"), State::Unknown);
    }

    // Lines as LXC 5.0.2 writes them at INFO.
    const STARTED: &str = r#"lxc-start c1 20261201124726.855 NOTICE   start - ../src/lxc/start.c:start:2194 - Exec'ing "/lib/systemd/systemd"
lxc-start c1 20261201124726.856 NOTICE   start - ../src/lxc/start.c:post_start:2205 - Started "/lib/systemd/systemd" with pid "3124"
"#;

    #[test]
    fn the_start_log_tells_how_init_ended() {
        let killed = format!("{STARTED}lxc-start c1 20261201124730.839 INFO     error - ../src/lxc/error.c:lxc_error_set_and_log:34 - Child <3181> ended on signal Killed(9)\n");
        assert_eq!(init_end(&killed), Some(InitEnd::Signal(9)));
        let halted = format!("{STARTED}lxc-start c1 20261201124728.661 INFO     error - ../src/lxc/error.c:lxc_error_set_and_log:34 - Child <3124> ended on signal Interrupt(2)\n");
        assert_eq!(init_end(&halted), Some(InitEnd::Signal(2)));
        let failed = format!("{STARTED}lxc-start c1 20261201124728.661 INFO     error - ../src/lxc/error.c:lxc_error_set_and_log:34 - Child <3124> ended on error (255)\n");
        assert_eq!(init_end(&failed), Some(InitEnd::Exited(255)));
        // Still running, or an end from an earlier start only.
        assert_eq!(init_end(STARTED), None);
        assert_eq!(init_end(&format!("{killed}{STARTED}")), None);
        assert_eq!(init_end(""), None);
    }

    #[test]
    fn cgroup_counters_and_limits_are_read() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(counter(v1, "oom_kill"), Some(3));
        let v2 = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(counter(v2, "oom_kill"), Some(1));
        assert_eq!(counter("max 2\n", "max"), Some(2));
        assert_eq!(counter("", "oom_kill"), None);
        assert_eq!(limit_value("1024\n\n"), Some(1024));
        assert_eq!(limit_value("max\n"), None);
    }

    #[test]
    fn console_output_loses_its_colours() {
        let text = "[\u{1b}[0;32m  OK  \u{1b}[0m] Started \u{1b}[0;1;39mJournal Service\u{1b}[0m.\r\n\u{1b}]0;title\u{7}x\n";
        assert_eq!(
            clean_console(text),
            "[  OK  ] Started Journal Service.\n0;title\u{7}x\n"
        );
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
    }

    #[test]
    fn attach_errors_are_told_apart() {
        let limit = "lxc-attach c2 20261201125111.438 ERROR    attach - ../src/lxc/attach.c:lxc_attach:1611 - Resource temporarily unavailable - Failed to clone attached process\n";
        assert!(matches!(
            attach_failure(limit),
            Some(AttachFailure::ProcessLimit(m))
                if m == "Resource temporarily unavailable - Failed to clone attached process"
        ));
        let gone = "lxc-attach c1 20261201124756.918 ERROR    attach - ../src/lxc/attach.c:get_attach_context:406 - Connection refused - Failed to get init pid\nlxc-attach c1 20261201124756.918 ERROR    attach - ../src/lxc/attach.c:lxc_attach:1470 - Connection refused - Failed to get attach context\n";
        assert_eq!(
            attach_failure(gone),
            Some(AttachFailure::Attach(
                "Connection refused - Failed to get init pid; \
                 Connection refused - Failed to get attach context"
                    .into()
            ))
        );
        let missing = "lxc-attach c1 20261201124800.000 ERROR    attach - ../src/lxc/attach.c:lxc_attach_run_command:1841 - No such file or directory - Failed to exec \"nosuchcmd\"\n";
        assert_eq!(
            attach_failure(missing),
            Some(AttachFailure::Exec(
                "No such file or directory - Failed to exec \"nosuchcmd\"".into()
            ))
        );
        assert_eq!(attach_failure(""), None);
    }
}
