//! The console: one line per finished case, the details of what went wrong right under a
//! case that did not pass, and a summary at the end.
//!
//! ```text
//! PASS   debian12  motd › default  (8.2s)
//! FAIL   rocky9    motd › custom  (10.1s)
//!     check file /etc/motd failed:
//!       mode: expected 0644, got 0600
//!
//! 2 cases: 1 passed, 1 failed, 0 errors, 0 skipped in 12.4s
//! ```
//!
//! On a terminal it also keeps a progress bar under the lines ([`Progress`]), and prints
//! each piece of output with the bar off the screen. Notices go to stderr: how a stop goes
//! (`interrupted: no new case starts; …`), how a snapshot build goes, warnings.

use std::io::Write;
use std::time::{Duration, Instant};

use super::progress::Progress;
use super::Reporter;
use crate::outcome::snapshot::{BuildProgress, BuildStage};
use crate::outcome::{
    CancelReason, CancelStage, CaseId, CaseReport, Event, EventKind, Status, Totals, Warning,
};
use crate::text::plural;
use crate::text::sanitize::clean;

/// How many lines of a failed step's output the console shows.
const OUTPUT_TAIL_LINES: usize = 20;

/// How much the console prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Only the cases that did not pass, and the summary.
    Quiet,
    /// A line for every case, details under those that did not pass, and the summary.
    #[default]
    Normal,
    /// As `Normal`, plus a line when a case starts and the whole output of a failed step.
    Verbose,
}

/// Prints the run for a person watching it.
///
/// Every case is rendered into one string and written with one call, so the lines of
/// cases finishing at the same time never interleave. Write errors (a closed pipe, as in
/// `rehearsal run | head`) are ignored: the run goes on, and the files still get written.
pub struct ConsoleReporter {
    out: Box<dyn Write + Send>,
    /// Where notices go (stderr): a stop's stages, snapshot builds, warnings.
    notices: Box<dyn Write + Send>,
    verbosity: Verbosity,
    /// The widest platform name seen so far, to keep the case names in one column.
    platform_width: usize,
    /// The run's totals, once the run finished.
    totals: Option<Totals>,
    /// The cases seen, counted, for a summary that comes without a `RunFinished`.
    counted: Totals,
    /// How many cases the plan had, once the run has started.
    planned: Option<usize>,
    /// When the run started, for a summary that comes without a `RunFinished`.
    started: Option<Instant>,
    kept: Vec<(CaseId, String)>,
    /// The platforms whose Puppet ran without rehearsal's driver.
    without_driver: std::collections::BTreeSet<String>,
    summary_printed: bool,
    /// The engine the run is on, named under the summary.
    engine: Option<crate::outcome::engine::EngineInfo>,
    /// The bar under the lines, on a terminal.
    progress: Option<Progress>,
    /// The gate's report when it lists declarations, and the finished cases: the
    /// coverage under the summary.
    gate: Option<crate::outcome::GateReport>,
    cases: Vec<CaseReport>,
}

impl ConsoleReporter {
    pub fn new(out: Box<dyn Write + Send>, verbosity: Verbosity) -> Self {
        ConsoleReporter {
            out,
            notices: Box::new(std::io::stderr()),
            verbosity,
            platform_width: 0,
            totals: None,
            counted: Totals::default(),
            planned: None,
            started: None,
            kept: Vec::new(),
            without_driver: Default::default(),
            summary_printed: false,
            engine: None,
            progress: None,
            gate: None,
            cases: Vec::new(),
        }
    }

    /// The same reporter with its notices written to `notices` instead of stderr.
    pub fn with_notices(mut self, notices: Box<dyn Write + Send>) -> Self {
        self.notices = notices;
        self
    }

    /// The same reporter with a progress bar under its lines (for a terminal).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Writes one piece of output in one call, with the bar (if any) off the screen;
    /// errors are deliberately dropped.
    fn emit(&mut self, text: &str) {
        let out = &mut self.out;
        let mut write = || {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        };
        match &self.progress {
            Some(progress) => progress.suspend(write),
            None => write(),
        }
    }

    /// Writes one notice line (stderr), with the bar (if any) off the screen; errors are
    /// deliberately dropped, as for the lines.
    fn notice(&mut self, line: &str) {
        let out = &mut self.notices;
        let mut write = || {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        };
        match &self.progress {
            Some(progress) => progress.suspend(write),
            None => write(),
        }
    }

    fn widen_for(&mut self, platform: &str) {
        self.platform_width = self.platform_width.max(platform.chars().count());
    }

    /// A snapshot layer: one line (none when quiet and it worked), and a failure's
    /// message and the end of Puppet's output.
    fn snapshot_lines(&self, report: &crate::outcome::SnapshotReport) -> String {
        use crate::outcome::snapshot::Outcome;
        let of = std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                std::path::Path::new(&report.of)
                    .strip_prefix(cwd)
                    .ok()
                    .map(|p| p.display().to_string())
            })
            .unwrap_or_else(|| report.of.clone());
        let what = format!("{} of {of}", report.kind.name());
        let took = report.duration.as_secs_f64();
        match &report.outcome {
            Outcome::Built { .. } | Outcome::Reused { .. }
                if self.verbosity == Verbosity::Quiet =>
            {
                String::new()
            }
            Outcome::Built { image } => {
                format!(
                    "SNAP   {}  {what}: built {image} ({took:.1}s)\n",
                    report.platform
                )
            }
            Outcome::Reused { image, waited } => format!(
                "SNAP   {}  {what}: reused {image}{}\n",
                report.platform,
                if *waited {
                    " (built by another run)"
                } else {
                    ""
                }
            ),
            Outcome::Failed {
                message, output, ..
            } => {
                let excerpt: Vec<&str> = output.lines().rev().take(20).collect();
                let mut text = format!("ERROR  {}  {what}: {message}\n", report.platform);
                for line in excerpt.into_iter().rev() {
                    text.push_str(&format!("       | {line}\n"));
                }
                text
            }
        }
    }

    /// The first line of a case: `PASS   debian12  motd › default`.
    fn case_line(&self, label: &str, id: &CaseId) -> String {
        format!(
            "{label:<5}  {platform:<width$}  {module} › {case}",
            platform = id.platform,
            width = self.platform_width,
            module = id.module,
            case = id.case,
        )
    }

    /// The line of a finished case, and under it what went wrong when it did not pass.
    fn render_case(&self, report: &CaseReport) -> String {
        let status = report.status();
        let label = if report.flaky() {
            "FLAKY"
        } else {
            status.label()
        };
        let mut text = self.case_line(label, &report.id);
        text.push_str(&format!("  ({})\n", human_duration(report.duration)));
        // Each attempt that did not pass, in a line: a flaky pass says what it hid.
        let attempts = report.attempts.len() + 1;
        for (n, attempt) in report.attempts.iter().enumerate() {
            text.push_str(&format!(
                "    attempt {} of {attempts}: {}\n",
                n + 1,
                attempt.reason()
            ));
        }
        if !report.attempts.is_empty() {
            text.push_str(&format!(
                "    attempt {attempts} of {attempts}: {}\n",
                status.verb()
            ));
        }
        if matches!(status, Status::Failed | Status::Error) {
            self.render_details(report, &mut text);
        } else {
            // What a step that passed says beside its verdict (the exemptions that
            // changed, and why that is fine; stale ones).
            for step in report.steps.iter().filter(|s| s.status == Status::Passed) {
                if let Some(note) = &step.message {
                    text.push_str(&format!("    {}:\n", step.step.name()));
                    push_indented(&mut text, note, "      ");
                }
            }
        }
        clean(&text)
    }

    /// The failed steps with their message, the failed checks with each mismatch, and the
    /// end of each failed step's output.
    fn render_details(&self, report: &CaseReport, text: &mut String) {
        let failed_steps: Vec<_> = report
            .steps
            .iter()
            .filter(|s| matches!(s.status, Status::Failed | Status::Error))
            .collect();
        for step in &failed_steps {
            text.push_str(&format!(
                "    {} {}:\n",
                step.step.name(),
                step.status.verb()
            ));
            if let Some(message) = &step.message {
                push_indented(text, message, "      ");
            }
        }
        for check in &report.checks {
            if matches!(check.status, Status::Failed | Status::Error) {
                text.push_str(&format!(
                    "    check {} {}:\n",
                    check.label,
                    check.status.verb()
                ));
                for failure in &check.failures {
                    push_indented(text, &failure.to_string(), "      ");
                }
            }
        }
        for step in &failed_steps {
            let output = clean(&step.output);
            let lines: Vec<&str> = output.trim_end().lines().collect();
            if lines.is_empty() {
                continue;
            }
            let shown = match self.verbosity {
                Verbosity::Verbose => lines.len(),
                _ => lines.len().min(OUTPUT_TAIL_LINES),
            };
            if shown < lines.len() {
                text.push_str(&format!(
                    "    {} output (last {shown} of {} lines):\n",
                    step.step.name(),
                    lines.len()
                ));
            } else {
                text.push_str(&format!("    {} output:\n", step.step.name()));
            }
            for line in &lines[lines.len() - shown..] {
                text.push_str("      |");
                if !line.is_empty() {
                    text.push(' ');
                    text.push_str(line);
                }
                text.push('\n');
            }
        }
    }

    /// The summary line, and how to get into the containers that were kept.
    fn render_summary(&self, duration: Duration) -> String {
        let totals = &self.totals.unwrap_or(self.counted);
        let finished = totals.total();
        let cases = match self.planned {
            Some(planned) if planned > finished => {
                format!(
                    "{finished} of {planned} {}",
                    plural(planned, "case", "cases")
                )
            }
            _ => format!("{finished} {}", plural(finished, "case", "cases")),
        };
        let flaky = totals.flaky_note();
        let mut text = format!(
            "\n{cases}: {} passed{flaky}, {} failed, {} {}, {} skipped in {}\n",
            totals.passed,
            totals.failed,
            totals.errors,
            plural(totals.errors, "error", "errors"),
            totals.skipped,
            human_duration(duration),
        );
        if let Some(gate) = &self.gate {
            let cases: Vec<&CaseReport> = self.cases.iter().collect();
            for module in crate::outcome::coverage::of(gate, &cases) {
                text.push_str(&format!("coverage: {}\n", module.summary()));
            }
        }
        if let Some(engine) = &self.engine {
            text.push_str(&format!("engine: {engine}\n"));
        }
        if !self.without_driver.is_empty() {
            let platforms: Vec<&str> = self.without_driver.iter().map(String::as_str).collect();
            text.push_str(&format!(
                "plain `puppet apply` on {} (its Puppet cannot run rehearsal's driver): no run \
                 reports there, so verdicts were read from Puppet's text and applies ran cold\n",
                platforms.join(", ")
            ));
        }
        if !self.kept.is_empty() {
            text.push_str(&format!(
                "kept {} {} (enter with the command shown; `rehearsal clean` removes them):\n",
                self.kept.len(),
                plural(self.kept.len(), "container", "containers"),
            ));
            for (id, container) in &self.kept {
                let short = &container[..container.len().min(12)];
                text.push_str(&format!(
                    "  {id}: rehearsal login {} {} -p {}   (container {short})\n",
                    shell_word(&id.module),
                    shell_word(&id.case),
                    shell_word(&id.platform),
                ));
            }
        }
        clean(&text)
    }

    fn print_summary(&mut self, duration: Duration) {
        if self.summary_printed {
            return;
        }
        self.summary_printed = true;
        if let Some(progress) = &self.progress {
            progress.clear();
        }
        let text = self.render_summary(duration);
        self.emit(&text);
    }

    /// The lines an event prints, if any.
    fn print(&mut self, event: &Event) {
        match &event.kind {
            EventKind::RunStarted { total, engine, .. } => {
                self.planned = Some(*total);
                self.engine = engine.clone();
                self.started = Some(Instant::now());
            }
            EventKind::CaseStarted { id } => {
                if self.verbosity == Verbosity::Verbose {
                    self.widen_for(&id.platform);
                    let text = clean(&format!("{}\n", self.case_line("START", id)));
                    self.emit(&text);
                }
            }
            EventKind::Snapshot(report) => {
                let text = clean(&self.snapshot_lines(report));
                if !text.is_empty() {
                    self.emit(&text);
                }
            }
            EventKind::Gate(report) => {
                if !report.declarations.is_empty() {
                    self.gate = Some((**report).clone());
                }
                let text = clean(&gate_lines(report, self.verbosity));
                if !text.is_empty() {
                    self.emit(&text);
                }
            }
            EventKind::SnapshotProgress(progress) => self.notice(&build_line(progress)),
            EventKind::Cancel { reason, stage } => {
                if let Some(line) = cancel_line(*reason, *stage) {
                    self.notice(&line);
                }
            }
            EventKind::Warning(warning) => self.notice(&warning_line(warning)),
            EventKind::Output { step, line, .. } => {
                self.notice(&format!("[{}] {line}", step.name()))
            }
            EventKind::StepStarted { .. } | EventKind::StepFinished { .. } => {}
            EventKind::CaseRetried {
                id,
                attempt,
                attempts,
                status,
                reason,
            } => {
                self.widen_for(&id.platform);
                let text = format!(
                    "{}  (attempt {attempt} of {attempts} {}; trying again)\n    {reason}\n",
                    self.case_line("RETRY", id),
                    status.verb(),
                );
                self.emit(&clean(&text));
            }
            EventKind::CaseFinished(report) => {
                let status = report.status();
                self.counted.count(report);
                if self.gate.is_some() {
                    self.cases.push((**report).clone());
                }
                if let Some(container) = &report.kept_container {
                    self.kept.push((report.id.clone(), container.clone()));
                }
                if report.steps.iter().any(|s| s.without_driver) {
                    self.without_driver.insert(report.id.platform.clone());
                }
                if self.verbosity == Verbosity::Quiet && status == Status::Passed && !report.flaky()
                {
                    return;
                }
                self.widen_for(&report.id.platform);
                let text = self.render_case(report);
                self.emit(&text);
            }
            EventKind::RunFinished { totals } => {
                self.totals = Some(*totals);
                self.print_summary(event.elapsed);
            }
        }
    }
}

/// What the gate found: a line for the gate, then one a finding, errors first (a quiet run
/// leaves out the warnings and a clean gate's line); a platform where it could not run.
fn gate_lines(report: &crate::outcome::GateReport, verbosity: Verbosity) -> String {
    use crate::outcome::Severity;
    let mut out = String::new();
    let compiled: usize = report.platforms.iter().map(|p| p.compiled).sum();
    let failed: usize = report.platforms.iter().map(|p| p.compile_failed).sum();
    let files: usize = report.platforms.iter().map(|p| p.files).sum();
    let failing = report.failing().count();
    let warnings = report.findings.len() - failing;
    let quiet = verbosity == Verbosity::Quiet;
    if !(quiet && failing == 0 && failed == 0) {
        let platforms: Vec<&str> = report
            .platforms
            .iter()
            .map(|p| p.platform.as_str())
            .collect();
        out.push_str(&format!(
            "GATE   {}: {files} {} validated, {compiled} {} compiled ({failed} failed) in {:.1}s: {failing} {}, {warnings} {}\n",
            platforms.join(", "),
            plural(files, "file", "files"),
            plural(compiled, "catalog", "catalogs"),
            report.duration.as_secs_f64(),
            plural(failing, "error", "errors"),
            plural(warnings, "warning", "warnings"),
        ));
    }
    for platform in &report.platforms {
        if let Some(error) = &platform.error {
            out.push_str(&format!(
                "  WARN   {}: the gate could not decide everything here; what it could not runs as without a gate: {error}\n",
                platform.platform
            ));
        }
    }
    let mut findings: Vec<&crate::outcome::GateFinding> = report.findings.iter().collect();
    findings.sort_by_key(|f| !f.fails);
    for finding in findings {
        if quiet && !finding.fails {
            continue;
        }
        let label = match (finding.fails, finding.severity) {
            (true, _) => "ERROR",
            (false, Severity::Error) | (false, Severity::Warning) => "WARN ",
        };
        let what = finding.what();
        let on = if finding.platforms.is_empty() {
            String::new()
        } else {
            format!(" [{}]", finding.platforms.join(", "))
        };
        out.push_str(&format!(
            "  {label}  {}  {what}: {}{on}\n",
            finding.place(),
            finding.message
        ));
    }
    out.push_str(&diff_lines(report, verbosity));
    out
}

/// How many lines of one catalog's diff the console shows (the JSON report has them all).
const DIFF_LINES: usize = 20;

/// With --diff-against: what the change does to each catalog, a case a line with its
/// counts and (but in a quiet run) a line a difference.
fn diff_lines(report: &crate::outcome::GateReport, verbosity: Verbosity) -> String {
    let Some(against) = &report.diff_against else {
        return String::new();
    };
    let mut out = match report.diffs.len() {
        0 => format!("DIFF   against {against}: no catalog changed\n"),
        n => format!(
            "DIFF   against {against}: {n} {} changed\n",
            plural(n, "catalog", "catalogs")
        ),
    };
    for diff in &report.diffs {
        let id = &diff.id;
        out.push_str(&format!(
            "  {} › {} [{}]  {}\n",
            id.module,
            id.case,
            id.platform,
            diff.counts()
        ));
        if verbosity == Verbosity::Quiet {
            continue;
        }
        for line in diff.lines_cut(DIFF_LINES, "(the JSON report has them all)") {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}

/// The line a stage of a stop prints, if any (a `--fail-fast` stop and a failed
/// baseline say it in the cases' reports).
fn cancel_line(reason: CancelReason, stage: CancelStage) -> Option<String> {
    Some(match (reason, stage) {
        (_, CancelStage::Grace { grace }) => format!(
            "interrupted: no new case starts; running steps may finish within {}s (interrupt again to stop now)",
            grace.as_secs()
        ),
        (_, CancelStage::Again) => {
            "interrupted again: stopping now, removing this run's containers".into()
        }
        (_, CancelStage::GraceOver) => {
            "the grace period is over: stopping the cases still running".into()
        }
        (CancelReason::Interrupt, CancelStage::Stop) => {
            "interrupted: removing this run's containers, writing reports with what finished"
                .into()
        }
        (CancelReason::EngineLost, CancelStage::Stop) => {
            "error: the container engine stopped answering and did not come back: stopping the run"
                .into()
        }
        (CancelReason::FailFast | CancelReason::BaselineFailed, CancelStage::Stop) => {
            return None
        }
    })
}

/// The line of a snapshot build's progress: `[debian12] baseline (rehearsal-site.yaml):
/// building rehearsal/snapshot:debian12-…`.
fn build_line(progress: &BuildProgress) -> String {
    let BuildProgress {
        platform, layer, ..
    } = progress;
    match &progress.stage {
        BuildStage::Building { image } => format!("[{platform}] {layer}: building {image}"),
        BuildStage::Built { image, took } => format!(
            "[{platform}] {layer}: built {image} in {:.1} s",
            took.as_secs_f64()
        ),
        BuildStage::RemovingAbandoned => {
            format!("[{platform}] {layer}: removing a build left by a process that is gone")
        }
        BuildStage::Waiting { image } => {
            format!("[{platform}] {layer}: another run is building {image}; waiting for it")
        }
        BuildStage::NotRemoved { container, error } => format!(
            "warning: {error} (snapshot build container {container}); `rehearsal clean` removes it"
        ),
    }
}

fn warning_line(warning: &Warning) -> String {
    match warning {
        Warning::ContainerNotRemoved { container, error } => {
            format!("warning: {error} (container {container})")
        }
        Warning::NotSwept { container, error } => {
            format!("warning: {error} (container {container}); `rehearsal clean` removes it later")
        }
        Warning::SweepFailed { error } => {
            format!("warning: {error}; this run's containers may remain")
        }
    }
}

impl Reporter for ConsoleReporter {
    /// Never fails: a console that cannot be written to (a closed pipe) must not stop
    /// the reports that can.
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        self.print(event);
        // After the lines, so a finished case's line is printed before the bar moves on.
        if let Some(progress) = &mut self.progress {
            progress.event(event);
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let elapsed = self.started.map(|s| s.elapsed()).unwrap_or_default();
        self.print_summary(elapsed);
        Ok(())
    }
}

/// Appends each line of `text` with `indent` before it.
fn push_indented(out: &mut String, text: &str, indent: &str) {
    for line in text.trim_end().lines() {
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
}

/// `8.2s` under a minute, `3m12s` under an hour, `1h02m05s` beyond.
pub fn human_duration(d: Duration) -> String {
    let tenths = (d.as_secs_f64() * 10.0).round() as u64;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let secs = d.as_secs_f64().round() as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h == 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{h}h{m:02}m{s:02}s")
    }
}

/// A word as a POSIX shell reads it: quoted when it holds anything but safe characters.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::{human_duration, ConsoleReporter, Verbosity};
    use crate::outcome::snapshot::{BuildProgress, BuildStage};
    use crate::outcome::{CancelReason, CancelStage, Event, EventKind, Warning};
    use crate::report::{fixtures, Reporter};

    /// A `Write` whose bytes the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn render(events: &[Event], verbosity: Verbosity) -> String {
        let out = Captured::default();
        let mut reporter = ConsoleReporter::new(Box::new(out.clone()), verbosity);
        for event in events {
            reporter.event(event).unwrap();
        }
        reporter.finish().unwrap();
        out.text()
    }

    /// What the console prints on stdout and on stderr (its notices).
    fn render_both(events: &[Event]) -> (String, String) {
        let (out, notices) = (Captured::default(), Captured::default());
        let mut reporter = ConsoleReporter::new(Box::new(out.clone()), Verbosity::Quiet)
            .with_notices(Box::new(notices.clone()));
        for event in events {
            reporter.event(event).unwrap();
        }
        reporter.finish().unwrap();
        (out.text(), notices.text())
    }

    #[test]
    fn live_output_goes_to_stderr_prefixed_with_its_step() {
        let id = fixtures::passing().id;
        let line = |step, text: &str| {
            fixtures::event(EventKind::Output {
                id: id.clone(),
                step,
                line: text.into(),
            })
        };
        let (out, notices) = render_both(&[
            line(crate::outcome::Step::Apply, "Notice: Compiled catalog"),
            line(crate::outcome::Step::Idempotent, "Notice: Applied catalog"),
        ]);
        assert_eq!(
            notices,
            "[apply] Notice: Compiled catalog\n[idempotent] Notice: Applied catalog\n"
        );
        assert!(!out.contains("Notice"), "{out}");
    }

    #[test]
    fn a_passing_case_and_a_failing_case() {
        let cases = [fixtures::passing(), fixtures::failed_check()];
        let events = [
            fixtures::event(EventKind::CaseFinished(Box::new(cases[0].clone()))),
            fixtures::event(EventKind::CaseFinished(Box::new(cases[1].clone()))),
            fixtures::run_finished(18_700, &cases),
        ];
        insta::assert_snapshot!(render(&events, Verbosity::Normal));
    }

    #[test]
    fn a_run() {
        insta::assert_snapshot!(render(&fixtures::run_with_snapshot(), Verbosity::Normal));
    }

    /// With --diff-against, the gate's lines end with each changed catalog's differences.
    #[test]
    fn a_catalog_diff_follows_the_gate() {
        let events = [fixtures::event(EventKind::Gate(Box::new(
            fixtures::gate_with_diff(),
        )))];
        let text = render(&events, Verbosity::Normal);
        let diff = &text[text.find("DIFF").unwrap_or_else(|| panic!("{text}"))..];
        let diff = &diff[..diff.find("\n\n").map_or(diff.len(), |end| end + 1)];
        assert_eq!(
            diff,
            "DIFF   against `origin/main`, from its merge base with HEAD 1a2b3c4d5e6f: 1 catalog changed\n\
             \x20 motd › default [debian12]  +1 -1 ~3\n\
             \x20   + Service[motd] (modules/motd/manifests/service.pp:2)\n\
             \x20   - Package[motd-news] (modules/motd/manifests/init.pp:7)\n\
             \x20   ~ File[/etc/motd] (modules/motd/manifests/init.pp:4): mode: '0644' → '0600'\n\
             \x20   ~ File[/etc/issue] (modules/motd/manifests/issue.pp:3): content: 'Debian' → 'Welcome' [its file is not in the change]\n\
             \x20   ~ Exec[motd-stamp] (modules/motd/manifests/stamp.pp:2): moved from modules/motd/manifests/init.pp:9\n"
        );
        let quiet = render(&events, Verbosity::Quiet);
        assert!(
            quiet.contains("  motd › default [debian12]  +1 -1 ~3\n"),
            "{quiet}"
        );
        assert!(!quiet.contains("Service[motd]"), "{quiet}");
    }

    /// A retry is said when it starts; a flaky pass is `FLAKY`, not `PASS`, even in a
    /// quiet run, with each attempt's verdict; the summary counts it among the passed.
    #[test]
    fn a_run_with_retries() {
        let text = render(&fixtures::run_with_retries(), Verbosity::Quiet);
        insta::assert_snapshot!(text);
        assert!(text.contains("FLAKY  debian12  motd › flaky"), "{text}");
        assert!(text.contains("RETRY  rocky9    motd › retried"), "{text}");
        assert!(
            text.contains("2 cases: 1 passed (1 flaky), 1 failed"),
            "{text}"
        );
    }

    #[test]
    fn a_quiet_run() {
        insta::assert_snapshot!(render(&fixtures::run(), Verbosity::Quiet));
    }

    #[test]
    fn a_verbose_run_shows_starts_and_whole_outputs() {
        let text = render(&fixtures::run(), Verbosity::Verbose);
        assert!(text.starts_with("START  debian12  ntp › servers\n"));
        assert!(text.contains("idempotent output:\n"));
        assert!(text.contains("      | Info: /Stage[main]/Ntp/File[/etc/ntp.d/01.conf]: checked\n"));
    }

    #[test]
    fn a_failed_step_shows_only_the_end_of_its_output() {
        let text = render(&fixtures::run(), Verbosity::Normal);
        assert!(text.contains("idempotent output (last 20 of 22 lines):\n"));
        assert!(!text.contains("ntp.d/02.conf"));
        assert!(text.contains("ntp.d/03.conf"));
    }

    #[test]
    fn terminal_codes_in_output_are_not_printed() {
        let text = render(&fixtures::run(), Verbosity::Normal);
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn a_summary_is_printed_even_without_run_finished() {
        let events = [fixtures::event(EventKind::CaseFinished(Box::new(
            fixtures::passing(),
        )))];
        let text = render(&events, Verbosity::Normal);
        assert!(text.contains("\n1 case: 1 passed, 0 failed, 0 errors, 0 skipped in "));
    }

    #[test]
    fn the_summary_is_printed_once() {
        let text = render(&fixtures::run(), Verbosity::Normal);
        assert_eq!(text.matches(" passed, ").count(), 1);
    }

    #[test]
    fn an_interrupted_run_says_how_many_cases_were_planned() {
        let mut events = fixtures::run();
        if let EventKind::RunStarted { total, .. } = &mut events[0].kind {
            *total = 10;
        }
        let text = render(&events, Verbosity::Quiet);
        assert!(text.contains("\n4 of 10 cases: "));
    }

    /// Regression: `rehearsal run | head -1` must not panic once the pipe is closed.
    #[test]
    fn a_closed_output_does_not_panic() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let mut reporter = ConsoleReporter::new(Box::new(Closed), Verbosity::Verbose)
            .with_notices(Box::new(Closed));
        let mut events = fixtures::run();
        events.push(fixtures::event(EventKind::Warning(Warning::SweepFailed {
            error: "gone".into(),
        })));
        for event in events {
            reporter.event(&event).unwrap();
        }
        reporter.finish().unwrap();
    }

    /// The lines an interrupted run printed on stderr before they became events: the same
    /// text, on stderr, never on stdout.
    #[test]
    fn a_stop_says_each_of_its_stages_on_stderr() {
        let cancel = |reason, stage| fixtures::event(EventKind::Cancel { reason, stage });
        let grace = CancelStage::Grace {
            grace: Duration::from_secs(10),
        };
        let (out, err) = render_both(&[
            cancel(CancelReason::Interrupt, grace),
            cancel(CancelReason::Interrupt, CancelStage::Again),
            cancel(CancelReason::Interrupt, CancelStage::GraceOver),
            cancel(CancelReason::Interrupt, CancelStage::Stop),
            cancel(CancelReason::EngineLost, CancelStage::Stop),
            cancel(CancelReason::FailFast, CancelStage::Stop),
            cancel(CancelReason::BaselineFailed, CancelStage::Stop),
        ]);
        assert_eq!(
            err,
            "interrupted: no new case starts; running steps may finish within 10s (interrupt again to stop now)\n\
             interrupted again: stopping now, removing this run's containers\n\
             the grace period is over: stopping the cases still running\n\
             interrupted: removing this run's containers, writing reports with what finished\n\
             error: the container engine stopped answering and did not come back: stopping the run\n"
        );
        assert!(!out.contains("interrupted"), "{out}");
    }

    #[test]
    fn snapshot_builds_and_warnings_are_notices() {
        let build = |stage| {
            fixtures::event(EventKind::SnapshotProgress(BuildProgress {
                platform: "debian12".into(),
                layer: "baseline (rehearsal-site.yaml)".into(),
                stage,
            }))
        };
        let image = "rehearsal/snapshot:debian12-0123456789abcdef".to_string();
        let (out, err) = render_both(&[
            build(BuildStage::Waiting {
                image: image.clone(),
            }),
            build(BuildStage::RemovingAbandoned),
            build(BuildStage::Building {
                image: image.clone(),
            }),
            build(BuildStage::NotRemoved {
                container: "rehearsal-snapshot-debian12-0123".into(),
                error: "failed to remove a container: busy".into(),
            }),
            build(BuildStage::Built {
                image,
                took: Duration::from_millis(41_260),
            }),
            fixtures::event(EventKind::Warning(Warning::ContainerNotRemoved {
                container: "c1".into(),
                error: "boom".into(),
            })),
            fixtures::event(EventKind::Warning(Warning::NotSwept {
                container: "c2".into(),
                error: "boom".into(),
            })),
            fixtures::event(EventKind::Warning(Warning::SweepFailed {
                error: "boom".into(),
            })),
        ]);
        assert_eq!(
            err,
            "[debian12] baseline (rehearsal-site.yaml): another run is building rehearsal/snapshot:debian12-0123456789abcdef; waiting for it\n\
             [debian12] baseline (rehearsal-site.yaml): removing a build left by a process that is gone\n\
             [debian12] baseline (rehearsal-site.yaml): building rehearsal/snapshot:debian12-0123456789abcdef\n\
             warning: failed to remove a container: busy (snapshot build container rehearsal-snapshot-debian12-0123); `rehearsal clean` removes it\n\
             [debian12] baseline (rehearsal-site.yaml): built rehearsal/snapshot:debian12-0123456789abcdef in 41.3 s\n\
             warning: boom (container c1)\n\
             warning: boom (container c2); `rehearsal clean` removes it later\n\
             warning: boom; this run's containers may remain\n"
        );
        assert!(!out.contains("warning"), "{out}");
    }

    /// The summary counts what the runner counted, not what this reporter saw.
    #[test]
    fn the_summary_has_the_totals_of_the_run() {
        let mut events = fixtures::run();
        let finished = events.last_mut().unwrap();
        let EventKind::RunFinished { totals } = &mut finished.kind else {
            panic!("the run ends with RunFinished");
        };
        totals.skipped += 3;
        let text = render(&events, Verbosity::Quiet);
        assert!(
            text.contains("\n7 cases: 1 passed, 2 failed, 1 error, 3 skipped in 3m12s\n"),
            "{text}"
        );
    }

    #[test]
    fn durations_read_like_a_person_writes_them() {
        let cases = [
            (0, "0.0s"),
            (8_200, "8.2s"),
            (59_940, "59.9s"),
            (59_960, "1m00s"),
            (192_400, "3m12s"),
            (3_599_600, "1h00m00s"),
            (3_725_000, "1h02m05s"),
        ];
        for (millis, expected) in cases {
            assert_eq!(human_duration(Duration::from_millis(millis)), expected);
        }
    }

    #[test]
    fn the_gate_says_what_it_found_errors_first_and_where_it_could_not_run() {
        insta::assert_snapshot!(render(&fixtures::run_with_gate(), Verbosity::Normal));
        // Quiet: the failing findings only.
        let quiet = render(&fixtures::run_with_gate(), Verbosity::Quiet);
        assert!(quiet.contains("ERROR  modules/motd/manifests/init.pp:5:3  manifest: Syntax error at '}' [debian12, debian13]"), "{quiet}");
        assert!(!quiet.contains("double_quoted_strings"), "{quiet}");
    }
}
