//! One case, start to end: start the container, wait for systemd, apply (prepare code,
//! the manifest, the idempotency apply), run the probe, and always remove the container.
//! Each step is bounded by its timeout; a step that fails skips the ones after it.

use crate::labels;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::workspace::Workspace;
use super::Context;
use crate::backend::{Backend, ContainerConfig, ExecOutput};
use crate::outcome::{CaseReport, Status, Step, StepReport};
use crate::plan::PlannedCase;
use crate::puppet::{self, Outcome};
use crate::text::sanitize::clean as clean_output;

/// How much of a step's output a report keeps (the end, where the errors are).
const MAX_OUTPUT: usize = 64 * 1024;

/// Runs one case from `image` (the platform's, or a snapshot); never fails: whatever
/// happens is in the report.
pub async fn run<B: Backend>(
    ctx: &Context<B>,
    row: &PlannedCase,
    index: usize,
    image: &str,
) -> CaseReport {
    let started_at = Utc::now();
    let clock = Instant::now();
    let mut steps = Vec::new();
    let mut checks = Vec::new();
    let mut kept = None;
    let done = |steps, checks, kept, removal| CaseReport {
        id: row.id(),
        spec_file: row.spec.file.clone(),
        started_at,
        duration: clock.elapsed(),
        steps,
        checks,
        kept_container: kept,
        removal,
    };

    let workspace = match Workspace::create(row) {
        Ok(ws) => ws,
        Err(message) => {
            steps.push(step_error(
                Step::Start,
                Duration::ZERO,
                message,
                String::new(),
            ));
            return done(steps, checks, kept, Duration::ZERO);
        }
    };

    let case = row.case();
    let id = row.id();
    let config = ContainerConfig {
        image: image.to_string(),
        name: format!("rehearsal-{}-{index}", &ctx.run_id[..8]),
        hostname: hostname(&id.module, &id.platform),
        labels: HashMap::from([
            (
                labels::MANAGED_BY.to_string(),
                labels::MANAGED_BY_VALUE.to_string(),
            ),
            (labels::RUN_ID.to_string(), ctx.run_id.clone()),
            (labels::MODULE.to_string(), id.module.clone()),
            (labels::CASE.to_string(), id.case.clone()),
            (labels::PLATFORM.to_string(), id.platform.clone()),
        ]),
        mounts: workspace.mounts.clone(),
        limits: case.limits.over(row.platform.definition.limits).resolve(),
        network: case.network,
    };

    // Start: create, start, wait for systemd.
    let t = Instant::now();
    let container = match start(ctx, &config).await {
        Ok(container) => container,
        Err(message) => {
            steps.push(step_error(Step::Start, t.elapsed(), message, String::new()));
            return done(steps, checks, kept, Duration::ZERO);
        }
    };
    let ready = exec(
        ctx,
        &container,
        &["sh", "-c", &puppet::ready_script()],
        case.timeouts.start,
    )
    .await;
    let started = match ready {
        Ok(out) if out.exit_code == 0 => {
            steps.push(step(
                Step::Start,
                Status::Passed,
                t.elapsed(),
                None,
                String::new(),
            ));
            true
        }
        Ok(out) => {
            let text = out.combined();
            steps.push(step_error(Step::Start, t.elapsed(), last_line(&text), text));
            false
        }
        Err(message) => {
            steps.push(step_error(Step::Start, t.elapsed(), message, String::new()));
            false
        }
    };

    if started {
        run_steps(ctx, row, &workspace, &container, &mut steps, &mut checks).await;
    }
    if let Some(failed) = steps.iter_mut().find(|s| s.status >= Status::Failed) {
        // Say what happened to the container when that, not the code, ended the case.
        if let Some(cause) = fault(ctx, &container, started_at, &config).await {
            let mut message = failed.message.take().unwrap_or_default();
            // Exit 137 reads as the step's own timeout killing it; it was not.
            if message.starts_with("timed out after") {
                message.clear();
            }
            failed.status = Status::Error;
            failed.message = Some(format!("{cause}\n{message}").trim_end().to_string());
        }
    }

    let failed = steps.iter().any(|s| s.status >= Status::Failed)
        || checks.iter().any(|c| c.status >= Status::Failed);
    let removing = Instant::now();
    if ctx.keep.keeps(failed) {
        kept = Some(container);
    } else if let Err(err) = ctx.backend.remove(&container).await {
        // The end-of-run sweep tries again; say it here too.
        eprintln!("warning: {err} (container {container})");
    }
    let removal = removing.elapsed();
    // The workspace must outlive the container that mounts it.
    drop(workspace);
    done(steps, checks, kept, removal)
}

/// Starts the case's container. When the engine does not answer (restarted, say), waits
/// for it up to the run's engine wait and tries once more; a run whose engine stays away is
/// marked so, and the runner stops it.
async fn start<B: Backend>(ctx: &Context<B>, config: &ContainerConfig) -> Result<String, String> {
    if ctx.engine_lost.load(Ordering::Relaxed) {
        return Err("not started: the container engine stopped answering".into());
    }
    let err = match ctx.backend.start(config).await {
        Ok(id) => return Ok(id),
        Err(err) => err,
    };
    if ctx.backend.ping().await.is_ok() {
        return Err(err.to_string());
    }
    let wait = ctx.engine_wait;
    let clock = Instant::now();
    while clock.elapsed() < wait {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if ctx.engine_lost.load(Ordering::Relaxed) {
            break;
        }
        if ctx.backend.ping().await.is_ok() {
            return ctx
                .backend
                .start(config)
                .await
                .map_err(|err| err.to_string());
        }
    }
    ctx.engine_lost.store(true, Ordering::Relaxed);
    Err(format!(
        "the container engine stopped answering and did not come back within {}: {err}",
        humantime::format_duration(wait)
    ))
}

/// Why a case's container stopped doing its work, when the cause lies outside the
/// case's code: the container was killed or removed, ran out of memory or processes, or
/// the engine went away. `None` when nothing of the kind happened.
async fn fault<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    since: chrono::DateTime<Utc>,
    config: &ContainerConfig,
) -> Option<String> {
    let fate = |pause: Duration| async move {
        tokio::time::sleep(pause).await;
        ctx.backend.fate(container, since).await
    };
    let mut found = fate(Duration::ZERO).await;
    // Refused forks, counted by the kernel; the exec also tells a container that is
    // stopping but not yet marked stopped by the engine, which is then asked again.
    let mut refused_forks = false;
    if let Ok(Some(f)) = &found {
        if f.running {
            match exec(
                ctx,
                container,
                &["sh", "-c", PIDS_EVENTS],
                Duration::from_secs(10),
            )
            .await
            {
                Ok(out) => {
                    refused_forks = String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .find_map(|l| l.strip_prefix("max "))
                        .and_then(|n| n.trim().parse::<u64>().ok())
                        > Some(0)
                }
                Err(err) if err.contains("resource temporarily unavailable") => {
                    refused_forks = true
                }
                Err(_) => found = fate(Duration::from_secs(1)).await,
            }
        }
    }
    let fate = match found {
        Ok(fate) => fate?,
        Err(err) => {
            return match ctx.backend.ping().await {
                Err(_) => Some("the container engine stopped answering during the case".into()),
                Ok(()) => Some(format!("cannot tell what happened to the container: {err}")),
            }
        }
    };
    let limits = config.limits;
    let memory = crate::spec::limits::Bytes(limits.memory);
    let memory_note = format!(
        "out of memory: the kernel killed a process of the case at its {memory} limit \
         (raise `limits: {{ memory: … }}` in the spec if the case needs more)"
    );
    if fate.gone {
        return Some("the container was removed from outside while the case ran".into());
    }
    if let Some(signal) = &fate.killed {
        let signal = match signal.as_str() {
            "9" | "KILL" | "SIGKILL" => "SIGKILL".to_string(),
            "15" | "TERM" | "SIGTERM" => "SIGTERM".to_string(),
            other => format!("signal {other}"),
        };
        return Some(format!(
            "the container was killed from outside ({signal}, `docker kill` or the like) while the case ran"
        ));
    }
    if !fate.running {
        return Some(match (fate.out_of_memory, fate.exit_code) {
            (true, _) => format!("the container was stopped, {memory_note}"),
            (false, Some(code)) => {
                format!("the container stopped while the case ran (its init exited with {code})")
            }
            (false, None) => "the container stopped while the case ran".to_string(),
        });
    }
    if fate.out_of_memory {
        return Some(memory_note);
    }
    // Within a few of the limit now, or forks refused earlier by processes gone since.
    let at_limit = fate
        .pids
        .is_some_and(|(current, limit)| current + 8 >= limit);
    (at_limit || refused_forks).then(|| {
        format!(
            "out of processes: the container reached its limit of {} processes \
             (something forks without bound, or raise `limits: {{ pids: … }}` in the spec)",
            limits.pids
        )
    })
}

/// Prints the container's `pids.events` (cgroup v2, else v1 as the cgroup tree is
/// mounted): `max N` counts the forks refused at the process limit.
const PIDS_EVENTS: &str = r#"for f in /sys/fs/cgroup/pids.events "/sys/fs/cgroup/pids$(awk -F: '$2=="pids"{print $3}' /proc/self/cgroup)/pids.events"; do
  [ -r "$f" ] && exec cat "$f"
done"#;

async fn run_steps<B: Backend>(
    ctx: &Context<B>,
    row: &PlannedCase,
    workspace: &Workspace,
    container: &str,
    steps: &mut Vec<StepReport>,
    checks: &mut Vec<crate::outcome::CheckReport>,
) {
    let case = row.case();
    let limit = case.timeouts.apply;
    let paths = PathMap::new(row);

    // The apply: a normal case must succeed; a `fails_with` case must fail as expected.
    let t = Instant::now();
    let first = apply_exec(
        ctx,
        container,
        &as_strs(&puppet::apply_command(&workspace.manifest, limit)),
        limit,
        Step::Apply,
    )
    .await;
    let first = match first {
        Ok(out) => out,
        Err(message) => {
            steps.push(step_error(Step::Apply, t.elapsed(), message, String::new()));
            return skip(steps, case, &[Step::Idempotent, Step::Verify]);
        }
    };
    let output = paths.to_host(&clean_output(&first.combined()));
    let outcome = puppet::outcome(first.exit_code);
    if let Some(expected) = &case.fails_with {
        let report = match outcome {
            Outcome::Failed => {
                let missing: Vec<String> = expected
                    .0
                    .iter()
                    .filter(|m| !m.found_in(&output))
                    .map(|m| m.to_string())
                    .collect();
                if missing.is_empty() {
                    step(Step::Apply, Status::Passed, t.elapsed(), None, output)
                } else {
                    let message = format!(
                        "the apply failed, but its output lacks {}",
                        missing.join(", ")
                    );
                    step(
                        Step::Apply,
                        Status::Failed,
                        t.elapsed(),
                        Some(message),
                        output,
                    )
                }
            }
            Outcome::TimedOut => timed_out(Step::Apply, t.elapsed(), limit, output),
            _ => step(
                Step::Apply,
                Status::Failed,
                t.elapsed(),
                Some(format!(
                    "expected the apply to fail with {}, but it succeeded (exit {})",
                    expected
                        .0
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    first.exit_code
                )),
                output,
            ),
        };
        let ok = report.status == Status::Passed;
        steps.push(report);
        if !ok {
            return skip(steps, case, &[Step::Verify]);
        }
    } else {
        let report = judge_apply(
            Step::Apply,
            outcome,
            first.exit_code,
            t.elapsed(),
            limit,
            output,
        );
        let ok = report.status == Status::Passed;
        steps.push(report);
        if !ok {
            return skip(steps, case, &[Step::Idempotent, Step::Verify]);
        }
        if case.idempotent {
            let t = Instant::now();
            let second = apply_exec(
                ctx,
                container,
                &as_strs(&puppet::apply_command(&workspace.manifest, limit)),
                limit,
                Step::Idempotent,
            )
            .await;
            let report = match second {
                Err(message) => step_error(Step::Idempotent, t.elapsed(), message, String::new()),
                Ok(out) => {
                    let output = paths.to_host(&clean_output(&out.combined()));
                    match puppet::outcome(out.exit_code) {
                        Outcome::Unchanged => {
                            step(Step::Idempotent, Status::Passed, t.elapsed(), None, output)
                        }
                        Outcome::Changed => {
                            let changed = puppet::changed_resources(&output);
                            let message = if changed.is_empty() {
                                "the second apply changed something (exit 2), so the manifest is not idempotent".to_string()
                            } else {
                                format!(
                                    "the second apply changed {} resource{}: {}",
                                    changed.len(),
                                    if changed.len() == 1 { "" } else { "s" },
                                    changed.join(", ")
                                )
                            };
                            step(
                                Step::Idempotent,
                                Status::Failed,
                                t.elapsed(),
                                Some(message),
                                output,
                            )
                        }
                        other => judge_apply(
                            Step::Idempotent,
                            other,
                            out.exit_code,
                            t.elapsed(),
                            limit,
                            output,
                        ),
                    }
                }
            };
            steps.push(report);
        }
    }

    if case.expect.is_empty() {
        return;
    }
    let t = Instant::now();
    let limit = case.timeouts.verify;
    match crate::probe::run(&*ctx.backend, container, &case.expect, limit).await {
        // The step says the probe ran; each check carries its own verdict, so one
        // failed check is one failure in JUnit, not two.
        Ok(probed) => {
            *checks = probed.reports;
            steps.push(step(
                Step::Verify,
                Status::Passed,
                t.elapsed(),
                None,
                probed.stderr,
            ));
        }
        Err(crate::probe::ProbeError::TimedOut { stderr }) => {
            steps.push(timed_out(Step::Verify, t.elapsed(), limit, stderr));
        }
        Err(crate::probe::ProbeError::Engine(message)) => {
            steps.push(step_error(
                Step::Verify,
                t.elapsed(),
                message,
                String::new(),
            ));
        }
    }
}

fn judge_apply(
    step_kind: Step,
    outcome: Outcome,
    code: i64,
    took: Duration,
    limit: Duration,
    output: String,
) -> StepReport {
    match outcome {
        Outcome::Unchanged | Outcome::Changed => {
            step(step_kind, Status::Passed, took, None, output)
        }
        Outcome::TimedOut => timed_out(step_kind, took, limit, output),
        Outcome::Failed => {
            let errors = puppet::error_lines(&output);
            let message = if errors.is_empty() {
                format!("puppet apply failed (exit {code})")
            } else {
                format!("puppet apply failed (exit {code}):\n{}", errors.join("\n"))
            };
            // Where the errors are, read once from the whole output (paths already mapped).
            let located = puppet::errors::located(&output);
            let mut report = step(step_kind, Status::Failed, took, Some(message), output);
            report.errors = located;
            report
        }
    }
}

/// Runs a command in the container, bounded by `limit` here too (the in-container
/// `timeout` is the first line of defence; this one catches a hung engine).
async fn exec<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    cmd: &[&str],
    limit: Duration,
) -> Result<ExecOutput, String> {
    let grace = Duration::from_secs(30);
    match tokio::time::timeout(limit + grace, ctx.backend.exec(container, cmd)).await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!(
            "timed out after {}",
            humantime::format_duration(limit)
        )),
    }
}

/// An apply: as [`exec`]; with `--verbose`, its output also goes to stderr as it comes,
/// each line prefixed with the step.
async fn apply_exec<B: Backend>(
    ctx: &Context<B>,
    container: &str,
    cmd: &[&str],
    limit: Duration,
    kind: Step,
) -> Result<ExecOutput, String> {
    if !ctx.verbose {
        return exec(ctx, container, cmd, limit).await;
    }
    let lines = LinePrinter::new(format!("[{}] ", kind.name()));
    let sink = |chunk: &[u8]| lines.push(chunk);
    let grace = Duration::from_secs(30);
    let streamed = ctx.backend.exec_streaming(container, cmd, &sink);
    let result = tokio::time::timeout(limit + grace, streamed).await;
    lines.flush();
    match result {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!(
            "timed out after {}",
            humantime::format_duration(limit)
        )),
    }
}

/// Prints output to stderr line by line as pieces of it arrive, each line prefixed.
struct LinePrinter {
    prefix: String,
    pending: std::sync::Mutex<Vec<u8>>,
}

impl LinePrinter {
    fn new(prefix: String) -> LinePrinter {
        LinePrinter {
            prefix,
            pending: Default::default(),
        }
    }

    fn push(&self, chunk: &[u8]) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            self.print(&line[..end]);
        }
    }

    fn flush(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            if !pending.is_empty() {
                let rest = std::mem::take(&mut *pending);
                self.print(&rest);
            }
        }
    }

    fn print(&self, line: &[u8]) {
        let text = clean_output(&String::from_utf8_lossy(line));
        eprintln!("{}{}", self.prefix, text.trim_end_matches('\r'));
    }
}

fn as_strs(cmd: &[String]) -> Vec<&str> {
    cmd.iter().map(String::as_str).collect()
}

fn step(
    step: Step,
    status: Status,
    duration: Duration,
    message: Option<String>,
    output: String,
) -> StepReport {
    StepReport {
        step,
        status,
        duration,
        message,
        errors: Vec::new(),
        output: tail(output),
    }
}

fn step_error(kind: Step, duration: Duration, message: String, output: String) -> StepReport {
    step(kind, Status::Error, duration, Some(message), output)
}

fn timed_out(kind: Step, duration: Duration, limit: Duration, output: String) -> StepReport {
    let message = format!(
        "timed out after {} (raise `timeouts: {{ {}: … }}` in the spec if it needs longer)",
        humantime::format_duration(limit),
        if kind == Step::Verify {
            "verify"
        } else {
            "apply"
        }
    );
    step(kind, Status::Error, duration, Some(message), output)
}

/// Marks later steps as not run; steps the case would not have run anyway are left out.
fn skip(steps: &mut Vec<StepReport>, case: &crate::spec::Case, kinds: &[Step]) {
    for kind in kinds {
        if (*kind == Step::Verify && case.expect.is_empty())
            || (*kind == Step::Idempotent && !case.idempotent)
        {
            continue;
        }
        steps.push(step(
            *kind,
            Status::Skipped,
            Duration::ZERO,
            Some("an earlier step failed".into()),
            String::new(),
        ));
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .to_string()
}

/// The end of an output, where errors are.
fn tail(mut text: String) -> String {
    if text.len() > MAX_OUTPUT {
        let mut cut = text.len() - MAX_OUTPUT;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text = format!("[… {cut} bytes cut …]\n{}", &text[cut..]);
    }
    text
}

/// A valid hostname from the module and platform (Puppet's facts use it).
fn hostname(module: &str, platform: &str) -> String {
    let raw = format!("{module}-{platform}").to_lowercase();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name.trim_matches('-').chars().take(63).collect()
}

/// Maps container paths in Puppet's messages back to the repository's paths, so an
/// error at `/etc/rehearsal/modules/motd/manifests/init.pp` names the file you edit.
struct PathMap(Vec<(String, String)>);

impl PathMap {
    fn new(row: &PlannedCase) -> PathMap {
        let mut pairs: Vec<(String, String)> = super::workspace_paths(row);
        // Longest first, so a fixture inside a module maps to itself.
        pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        PathMap(pairs)
    }

    fn to_host(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (from, to) in &self.0 {
            out = out.replace(from.as_str(), to);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_valid() {
        assert_eq!(hostname("My_Module", "debian12"), "my-module-debian12");
    }

    #[test]
    fn long_output_keeps_its_end() {
        let long = format!("{}END", "x".repeat(MAX_OUTPUT + 10));
        let cut = tail(long);
        assert!(cut.starts_with("[… 13 bytes cut …]\n"));
        assert!(cut.ends_with("END"));
    }
}
