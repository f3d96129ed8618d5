//! `rehearsal run`: the plan through the runner, every reporter fed from its events,
//! and the Gerrit vote after it when asked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::connect;
use super::gerrit::{gerrit_settings, post_review, GerritArgs, GerritSettings};
use super::images::ensure_images;
use super::select::{prepare, SelectArgs};
use crate::error::{exit, Error};
use crate::outcome::{Event, EventKind, Totals};
use crate::plan::PlannedCase;
use crate::report::{
    ConsoleReporter, GithubAnnotations, HtmlReporter, JsonReporter, JunitReporter, Progress,
    Reporter, Verbosity,
};
use crate::runner::{self, Context, Interrupts, Keep};
use std::time::Duration;

/// `--keep`: when to keep a case's container instead of removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeepArg {
    Never,
    OnFailure,
    Always,
}

impl From<KeepArg> for Keep {
    fn from(arg: KeepArg) -> Keep {
        match arg {
            KeepArg::Never => Keep::Never,
            KeepArg::OnFailure => Keep::OnFailure,
            KeepArg::Always => Keep::Always,
        }
    }
}

/// Annotation formats for code hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Annotations {
    /// `::error file=…,line=…::` workflow commands for GitHub Actions.
    Github,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Cases run at once (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write an HTML report here: one self-contained page (matrix, failures, durations).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the gate's findings and the catalogs that do not compile as Jenkins Warnings
    /// NG's native JSON issues (`recordIssues(tool: issues(pattern: FILE))`).
    #[arg(long, value_name = "FILE")]
    pub warnings_ng: Option<PathBuf>,
    /// Keep containers instead of removing them.
    #[arg(long, value_enum, default_value_t = KeepArg::Never)]
    pub keep: KeepArg,
    /// Print only the cases that did not pass, and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Stream Puppet's output live, prefixed, on stderr (a run of one case).
    #[arg(long, short = 'v', conflicts_with = "quiet")]
    pub verbose: bool,
    /// Stop starting cases after the first that does not pass (the rest are reported as
    /// not run).
    #[arg(long)]
    pub fail_fast: bool,
    /// Try a case that ended in an error (the engine, a killed container, a timeout) up to
    /// N more times; one that then passes is reported as flaky. A case's own `retries`
    /// wins.
    #[arg(long, value_name = "N", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::spec::raw::Retries::MAX)))]
    pub retries: u32,
    /// Compile each case's catalog also from REV's code (git; the merge base with HEAD, as
    /// --changed-since compares) and show what the change does to it, resource by
    /// resource. Without REV: the Gerrit trigger's target branch (GERRIT_BRANCH).
    #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "",
          conflicts_with_all = ["no_gate", "no_compile"])]
    pub diff_against: Option<String>,
    /// Fail the run (exit 1) when a checked module's acceptance coverage (its declared
    /// resources that a case applied) is below N percent.
    #[arg(long, value_name = "N", conflicts_with_all = ["no_gate"],
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub min_coverage: Option<u8>,
    /// With --retries: retry failures too (a failed apply, idempotency or check), not
    /// only errors.
    #[arg(long, requires = "retries")]
    pub retry_failures: bool,
    /// Post the review to the Gerrit change under test right after the run (see
    /// `gerrit-review`); the run's exit status is kept.
    #[arg(long)]
    pub gerrit: bool,
    #[command(flatten)]
    pub gerrit_args: GerritArgs,
    /// Also print the failures as annotations for a code host.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub annotations: Option<Annotations>,
    /// No gate: neither validate nor compile before the cases.
    #[arg(long)]
    pub no_gate: bool,
    /// Validate, but do not compile each case's catalog before it starts.
    #[arg(long, conflicts_with = "no_gate")]
    pub no_compile: bool,
    /// Do not run puppet-lint in the gate.
    #[arg(long, conflicts_with = "no_gate")]
    pub no_lint: bool,
    /// Which puppet-lint problems fail the run: its errors (the default), every problem
    /// (`warning`, as puppet-lint's --fail-on-warnings), or none.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = LintLevel::Error)]
    pub lint_fails_on: LintLevel,
}

/// `--lint-fails-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintLevel {
    Error,
    Warning,
    Never,
}

pub(super) async fn run(args: RunArgs, engine: Option<super::EngineArg>) -> Result<u8, Error> {
    let mut config = RunConfig::resolve(&args)?;
    let collected = crate::report::Collected::default();
    let mut reporters = reporters(&config);
    let early = EarlyVote::default();
    let min_coverage = config.min_coverage;
    if config.gerrit.is_some() || min_coverage.is_some() {
        reporters.push(Box::new(collected.reporter()));
    }
    if let Some(settings) = &config.gerrit {
        // After the collector: the cases the gate failed are collected when it is told.
        reporters.push(Box::new(
            early.reporter(settings.clone(), collected.clone()),
        ));
    }
    let gerrit = config.gerrit.take();
    let mut code = run_plan(config, reporters, engine).await?;
    if let (Some(min), Some(gate)) = (min_coverage, collected.gate()) {
        let cases = collected.cases();
        let cases: Vec<&crate::outcome::CaseReport> = cases.iter().collect();
        for module in crate::outcome::coverage::of(&gate, &cases) {
            if module.percent() < f64::from(min) {
                eprintln!(
                    "coverage of {} is {:.0}%, below --min-coverage {min}: {} of its {} resources were applied by no case (the JSON report's `coverage` lists them)",
                    module.module,
                    module.percent(),
                    module.uncovered.len(),
                    module.declared
                );
                if code == exit::SUCCESS {
                    code = exit::TEST_FAILED;
                }
            }
        }
    }
    match gerrit {
        Some(settings) => {
            // The early vote first, so the final one is the one Gerrit keeps.
            early.wait().await;
            let report =
                crate::gerrit::Report::from_case_reports(&collected.cases(), collected.gate());
            match post_review(&report, &settings).await {
                Ok(()) => Ok(code),
                // The run's status stands; a run that passed but could not vote is not a pass.
                Err(err) if code == exit::SUCCESS => Err(err),
                Err(err) => {
                    eprintln!("{err}");
                    Ok(code)
                }
            }
        }
        None => Ok(code),
    }
}

/// With `--gerrit`, the vote posted as soon as the gate fails ([`post_early_vote`]); the
/// final review waits for it.
#[derive(Clone, Default)]
struct EarlyVote(Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>);

impl EarlyVote {
    fn reporter(
        &self,
        settings: GerritSettings,
        collected: crate::report::Collected,
    ) -> EarlyVoter {
        EarlyVoter {
            posting: self.clone(),
            settings: Arc::new(settings),
            collected,
        }
    }

    async fn wait(&self) {
        let handle = self.0.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }
}

struct EarlyVoter {
    posting: EarlyVote,
    settings: Arc<GerritSettings>,
    collected: crate::report::Collected,
}

impl Reporter for EarlyVoter {
    fn event(&mut self, event: &crate::outcome::Event) -> std::io::Result<()> {
        let EventKind::Gate(gate) = &event.kind else {
            return Ok(());
        };
        // Nothing but the gate has finished cases yet: these are the ones it failed.
        let failed = self.collected.cases();
        if gate.failing().next().is_none() && failed.is_empty() {
            return Ok(());
        }
        let report = crate::gerrit::Report::from_case_reports(&failed, Some((**gate).clone()));
        let settings = self.settings.clone();
        let handle = tokio::spawn(async move {
            if let Err(err) = super::gerrit::post_early_vote(&report, &settings).await {
                eprintln!("warning: the early vote was not posted: {err}");
            }
        });
        if let Ok(mut slot) = self.posting.0.lock() {
            *slot = Some(handle);
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A run's arguments resolved once, before the engine is touched: the plan (specs, site
/// files, platforms, the selection), how many cases at once, what to keep, the reports
/// (checked writable), the Gerrit settings (all present), how long to wait for an engine
/// that went away.
pub(super) struct RunConfig {
    pub plan: Vec<PlannedCase>,
    pub jobs: usize,
    pub keep: Keep,
    pub fail_fast: bool,
    pub verbose: bool,
    pub quiet: bool,
    pub junit: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub html: Option<PathBuf>,
    pub warnings_ng: Option<PathBuf>,
    pub annotations: Option<Annotations>,
    pub gerrit: Option<GerritSettings>,
    /// How long a case waits for an engine that stopped answering (`REHEARSAL_ENGINE_WAIT`).
    pub engine_wait: Duration,
    pub gate: Option<crate::gate::Options>,
    pub retries: runner::Retries,
    pub min_coverage: Option<u8>,
    /// `--diff-against`: the base revision's tree (removed when the run ends).
    pub diff: Option<crate::gate::DiffBase>,
}

/// How long a run waits for an engine that stopped answering before it gives up.
const ENGINE_WAIT: Duration = Duration::from_secs(60);

impl RunConfig {
    pub(super) fn resolve(args: &RunArgs) -> Result<RunConfig, Error> {
        let selection = args.select.selection();
        let plan = prepare(&selection)?;
        if args.verbose && plan.len() > 1 {
            return Err(Error::usage(format!(
                "--verbose streams one case; narrow with --case/--platform (the selection has {} cases)",
                plan.len()
            )));
        }
        for report in [&args.junit, &args.json, &args.html, &args.warnings_ng]
            .into_iter()
            .flatten()
        {
            check_writable(report)?;
        }
        // A missing Gerrit setting fails now, before any container starts.
        let gerrit = match args.gerrit {
            true => Some(gerrit_settings(&args.gerrit_args)?),
            false => None,
        };
        let jobs = args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
        let diff = match &args.diff_against {
            Some(rev) => Some(super::select::diff_base(rev, &selection.paths[0], &plan)?),
            None => None,
        };
        Ok(RunConfig {
            plan,
            jobs,
            keep: args.keep.into(),
            fail_fast: args.fail_fast,
            verbose: args.verbose,
            quiet: args.quiet,
            junit: args.junit.clone(),
            json: args.json.clone(),
            html: args.html.clone(),
            warnings_ng: args.warnings_ng.clone(),
            annotations: args.annotations,
            gerrit,
            engine_wait: engine_wait_from_env(),
            gate: (!args.no_gate).then_some(crate::gate::Options {
                lint: !args.no_lint,
                lint_fails: match args.lint_fails_on {
                    LintLevel::Error => crate::gate::LintFails::Errors,
                    LintLevel::Warning => crate::gate::LintFails::Warnings,
                    LintLevel::Never => crate::gate::LintFails::Never,
                },
                compile: !args.no_compile,
            }),
            retries: runner::Retries {
                count: args.retries,
                failures: args.retry_failures,
            },
            diff,
            min_coverage: args.min_coverage,
        })
    }
}

/// The engine wait `REHEARSAL_ENGINE_WAIT` sets (else the default).
pub(super) fn engine_wait_from_env() -> Duration {
    engine_wait(std::env::var("REHEARSAL_ENGINE_WAIT").ok().as_deref())
}

/// [`ENGINE_WAIT`], or `REHEARSAL_ENGINE_WAIT` (a duration like `5s`) when set and valid.
fn engine_wait(setting: Option<&str>) -> Duration {
    setting
        .and_then(|v| humantime::parse_duration(v).ok())
        .unwrap_or(ENGINE_WAIT)
}

async fn run_plan(
    config: RunConfig,
    mut reporters: Vec<Box<dyn Reporter>>,
    engine: Option<super::EngineArg>,
) -> Result<u8, Error> {
    if config.plan.is_empty() {
        // Still a valid (empty) JUnit and JSON report, and no engine needed.
        println!("nothing to test: no case matches the selection");
        let events = [
            Event::at_start(EventKind::RunStarted {
                run_id: "none".into(),
                total: 0,
                engine: None,
            }),
            Event::at_start(EventKind::RunFinished {
                totals: Totals::default(),
            }),
        ];
        for reporter in &mut reporters {
            events
                .iter()
                .try_for_each(|e| reporter.event(e))
                .and_then(|()| reporter.finish())
                .map_err(Error::Report)?;
        }
        return Ok(exit::SUCCESS);
    }
    let backend = Arc::new(connect(engine).await?);
    let platforms = crate::plan::platforms_of(&config.plan);
    ensure_images(&*backend, &platforms, None, false).await?;

    let ctx = Arc::new(Context {
        backend,
        run_id: uuid::Uuid::new_v4().simple().to_string(),
        keep: config.keep,
        fail_fast: config.fail_fast,
        verbose: config.verbose,
        engine_lost: Default::default(),
        engine_wait: config.engine_wait,
        gate: config.gate,
        retries: config.retries,
        diff: config.diff.map(Arc::new),
    });
    let summary = runner::run(
        ctx,
        config.plan,
        config.jobs,
        reporters,
        Interrupts::from_signals(),
    )
    .await
    .map_err(Error::Report)?;
    Ok(if summary.interrupted {
        exit::INTERRUPTED
    } else if summary.engine_lost {
        exit::ENGINE
    } else if summary.totals.all_passed() && summary.gate_failing == 0 {
        exit::SUCCESS
    } else {
        exit::TEST_FAILED
    })
}

fn reporters(config: &RunConfig) -> Vec<Box<dyn Reporter>> {
    let verbosity = if config.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::default()
    };
    let mut console = ConsoleReporter::new(Box::new(std::io::stdout()), verbosity);
    // A bar under the lines for a person at a terminal; plain lines for logs and CI.
    if super::interactive() {
        console = console.with_progress(Progress::on_terminal());
    }
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(console)];
    if let Some(path) = &config.junit {
        reporters.push(Box::new(JunitReporter::new(path.clone())));
    }
    if let Some(path) = &config.warnings_ng {
        reporters.push(Box::new(crate::report::WarningsNgReporter::new(
            path.clone(),
        )));
    }
    if let Some(path) = &config.json {
        reporters.push(Box::new(JsonReporter::new(path.clone())));
    }
    if let Some(path) = &config.html {
        reporters.push(Box::new(HtmlReporter::new(path.clone())));
    }
    if config.annotations == Some(Annotations::Github) {
        reporters.push(Box::new(GithubAnnotations::new(
            Box::new(std::io::stdout()),
            std::env::current_dir().unwrap_or_default(),
        )));
    }
    reporters
}

/// Fails before any container starts when a report could not be written.
fn check_writable(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .and_then(|_| tempfile::NamedTempFile::new_in(&dir).map(drop))
        .map_err(|err| Error::usage(format!("cannot write reports to {}: {err}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_wait_is_a_minute_unless_set() {
        assert_eq!(engine_wait(None), Duration::from_secs(60));
        assert_eq!(engine_wait(Some("5s")), Duration::from_secs(5));
        assert_eq!(engine_wait(Some("2m")), Duration::from_secs(120));
        // A value that is not a duration leaves the default, as before.
        assert_eq!(engine_wait(Some("soon")), Duration::from_secs(60));
    }
}
