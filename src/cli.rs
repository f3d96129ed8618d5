//! The command line: arguments (clap), and each command wiring the pipeline stages
//! together. The stages themselves know nothing of the command line.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::backend::{Backend, DockerBackend, LABEL_MANAGED_BY, MANAGED_BY};
use crate::error::{exit, Error};
use crate::plan::shard::{self, Shard, Timings};
use crate::plan::{self, Filter, PlannedCase};
use crate::platform::{self, Platform, Source};
use crate::report::{
    ConsoleReporter, Event, GithubAnnotations, JsonReporter, JunitReporter, Reporter, Verbosity,
};
use crate::runner::{self, Context, Keep};
use crate::spec;

/// Functional tests for Puppet modules in disposable containers.
#[derive(Debug, Parser)]
#[command(name = "rehearsal", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cases of every module found under the paths.
    Run(Box<RunArgs>),
    /// Show the planned (module, case, platform) rows without running them.
    List(SelectArgs),
    /// Build or list platform images.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Remove every container the harness labelled on this engine (crashed runs' too).
    Clean,
    /// Run a case's checks against a running container (a kept one, or your own).
    Check(CheckArgs),
    /// Post one review (a vote, a summary, inline comments) to the Gerrit change under
    /// test, from the JSON reports of a run.
    GerritReview(GerritReviewArgs),
}

#[derive(Debug, clap::Args)]
pub struct GerritReviewArgs {
    /// A JSON report of the run (repeatable: one per shard).
    #[arg(long = "report", value_name = "FILE", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub gerrit: GerritArgs,
    /// Print the review as JSON instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where and how to vote; each flag overrides the Gerrit Trigger's variable.
#[derive(Debug, Clone, clap::Args)]
pub struct GerritArgs {
    /// Gerrit's address (else GERRIT_API_URL, else from the trigger's variables).
    #[arg(long = "gerrit-url", value_name = "URL")]
    pub url: Option<String>,
    /// The project (else GERRIT_PROJECT).
    #[arg(long = "gerrit-project", value_name = "NAME")]
    pub project: Option<String>,
    /// The change number (else GERRIT_CHANGE_NUMBER).
    #[arg(long = "gerrit-change", value_name = "N")]
    pub change: Option<u64>,
    /// The patch set's revision (else GERRIT_PATCHSET_REVISION).
    #[arg(long = "gerrit-revision", value_name = "SHA")]
    pub revision: Option<String>,
    /// The label to vote on.
    #[arg(long = "gerrit-label", value_name = "NAME", default_value = "Verified")]
    pub label: String,
    /// The vote when every case passed.
    #[arg(
        long = "gerrit-pass-value",
        value_name = "N",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub pass_value: i32,
    /// The vote otherwise.
    #[arg(long = "gerrit-fail-value", value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
    pub fail_value: i32,
    /// Whom Gerrit notifies: NONE, OWNER, OWNER_REVIEWERS or ALL (default: Gerrit's).
    #[arg(long = "gerrit-notify", value_name = "WHO")]
    pub notify: Option<String>,
}

/// Annotation formats for code hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Annotations {
    /// `::error file=…,line=…::` workflow commands for GitHub Actions.
    Github,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The spec file (or its module directory).
    pub spec: PathBuf,
    /// The container to check (id or name).
    #[arg(long)]
    pub container: String,
    /// The case whose checks to run (default: the spec's first case).
    #[arg(long)]
    pub case: Option<String>,
    /// How long the probe may take.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// Modules, module trees or spec files (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only these platforms (repeatable).
    #[arg(long = "platform", short = 'p', value_name = "NAME")]
    pub platforms: Vec<String>,
    /// Only the cases whose name matches this glob, like 'port*' (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Platform definitions: a directory of `<name>/platform.yaml` or `<name>/Dockerfile`
    /// (default: the built-in Debian 11, 12 and 13).
    #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Only the modules changed since REV (git; against the working tree, untracked files
    /// included) and the modules that depend on them. Without REV: the Gerrit trigger's
    /// target branch (GERRIT_BRANCH).
    #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "")]
    pub changed_since: Option<String>,
    /// With --changed-since: say on stderr why each module is selected.
    #[arg(long, requires = "changed_since")]
    pub explain: bool,
    /// Only part K of N of the planned cases (one Jenkins agent's share), like 2/4.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// A previous run's JSON report (repeatable, e.g. one per shard): balance the shards
    /// by its recorded case durations.
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub timings: Vec<PathBuf>,
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
    /// Keep containers instead of removing them.
    #[arg(long, value_enum, default_value_t = Keep::Never)]
    pub keep: Keep,
    /// Print only the cases that did not pass, and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Stop starting cases after the first that does not pass (the rest are reported as
    /// not run).
    #[arg(long)]
    pub fail_fast: bool,
    /// Post the review to the Gerrit change under test right after the run (see
    /// `gerrit-review`); the run's exit status is kept.
    #[arg(long)]
    pub gerrit: bool,
    #[command(flatten)]
    pub gerrit_args: GerritArgs,
    /// Also print the failures as annotations for a code host.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub annotations: Option<Annotations>,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build platform images that are missing or whose definition changed.
    Build {
        /// Platforms to build (default: all).
        names: Vec<String>,
        /// How to build (default: debootstrap when the definition has it, else Dockerfile).
        #[arg(long, value_enum)]
        from: Option<Source>,
        /// Rebuild even when the image is current.
        #[arg(long)]
        force: bool,
        #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
        images: Option<PathBuf>,
    },
    /// List platforms, their image and whether it is built and current.
    List {
        #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
        images: Option<PathBuf>,
    },
}

/// Parses the arguments, runs the command, and returns the exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::from(exit::ENGINE);
        }
    };
    let code = match runtime.block_on(dispatch(cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{err}");
            err.exit_code()
        }
    };
    std::process::ExitCode::from(code)
}

async fn dispatch(command: Command) -> Result<u8, Error> {
    match command {
        Command::Run(args) => run(*args).await,
        Command::List(args) => list(args),
        Command::Images(ImagesCommand::Build {
            names,
            from,
            force,
            images,
        }) => build_images(names, from, force, images).await,
        Command::Images(ImagesCommand::List { images }) => list_images(images).await,
        Command::Clean => clean().await,
        Command::Check(args) => check(args).await,
        Command::GerritReview(args) => gerrit_review(args).await,
    }
}

/// Specs, platforms and the plan: everything decided before the engine is touched.
fn prepare(select: &SelectArgs) -> Result<Vec<PlannedCase>, Error> {
    let paths = if select.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        select.paths.clone()
    };
    let files = spec::discover(&paths).map_err(Error::usage)?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::usage(format!(
            "no {} found under {} (hint: a module's spec is a {0} at its root; the README shows the format)",
            spec::SPEC_FILE,
            shown.join(", ")
        )));
    }
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for file in &files {
        match spec::load(file) {
            Ok(spec) => specs.push(Arc::new(spec)),
            Err(err) => errors.push(relative(&err.to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Usage(errors));
    }
    if let Some(rev) = &select.changed_since {
        specs = changed_only(specs, rev, &paths[0], select)?;
    }
    let platforms: Vec<Arc<Platform>> = platform::load(select.images.as_deref())
        .map_err(Error::usage)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let filter = Filter {
        platforms: select.platforms.clone(),
        cases: select.cases.clone(),
    };
    let plan = plan::plan(&specs, &platforms, &filter).map_err(|e| Error::usage(relative(&e)))?;
    match select.shard {
        Some(part) => shard_of(plan, part, &select.timings),
        None => Ok(plan),
    }
}

/// The specs of the modules a change touches, and of their dependants.
fn changed_only(
    specs: Vec<Arc<spec::ModuleSpec>>,
    rev: &str,
    repo: &Path,
    select: &SelectArgs,
) -> Result<Vec<Arc<spec::ModuleSpec>>, Error> {
    let rev = if rev.is_empty() {
        crate::select::gerrit_base(|name| std::env::var(name).ok()).ok_or_else(|| {
            Error::usage(
                "--changed-since needs a revision: give one (like origin/main), or set GERRIT_BRANCH as the Gerrit Trigger does",
            )
        })?
    } else {
        rev.to_string()
    };
    let changed =
        crate::select::changed_files(repo, &rev).map_err(|e| Error::usage(e.to_string()))?;
    let modules: Vec<crate::select::Module> = specs
        .iter()
        .map(|s| crate::select::Module::from_spec(s))
        .collect();
    let selection = crate::select::select(&changed, &modules, select.images.as_deref());
    if select.explain {
        eprint!("{}", relative(&selection.explain()));
    }
    let kept: Vec<Arc<spec::ModuleSpec>> = specs
        .into_iter()
        .filter(|s| selection.contains(&s.module_dir))
        .collect();
    if kept.is_empty() {
        eprintln!(
            "no module is affected by the {} changed file(s) since {rev}",
            selection.changed
        );
    } else if !select.explain {
        let names: Vec<&str> = kept.iter().map(|s| s.module_name.as_str()).collect();
        eprintln!(
            "changed since {rev}: {} module(s) to test ({}){}",
            names.len(),
            names.join(", "),
            if selection.everything() {
                " (everything: a changed file could not be attributed; --explain says which)"
            } else {
                ""
            }
        );
    }
    Ok(kept)
}

/// This shard's rows of the plan, in plan order.
fn shard_of(
    plan: Vec<PlannedCase>,
    part: Shard,
    reports: &[PathBuf],
) -> Result<Vec<PlannedCase>, Error> {
    let mut timings: Option<Timings> = None;
    for file in reports {
        let text = std::fs::read_to_string(file).map_err(|err| {
            Error::usage(format!("cannot read --timings {}: {err}", file.display()))
        })?;
        let more = Timings::from_report(&text)
            .map_err(|err| Error::usage(format!("--timings {}: {err}", file.display())))?;
        timings.get_or_insert_with(Timings::default).extend(more);
    }
    let ids: Vec<_> = plan.iter().map(PlannedCase::id).collect();
    let mine = shard::assign(&ids, part, timings.as_ref());
    let total = plan.len();
    let rows: Vec<PlannedCase> = plan
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mine.binary_search(i).is_ok())
        .map(|(_, row)| row)
        .collect();
    eprintln!("shard {part}: {} of {total} planned cases", rows.len());
    Ok(rows)
}

/// Paths in messages, relative to the current directory when inside it.
fn relative(text: &str) -> String {
    match std::env::current_dir() {
        Ok(cwd) => text.replace(&format!("{}/", cwd.display()), ""),
        Err(_) => text.to_string(),
    }
}

fn list(args: SelectArgs) -> Result<u8, Error> {
    let plan = prepare(&args)?;
    for row in &plan {
        let id = row.id();
        println!("{}\t{}\t{}", id.module, id.case, id.platform);
    }
    eprintln!("{} cases", plan.len());
    Ok(exit::SUCCESS)
}

async fn run(args: RunArgs) -> Result<u8, Error> {
    let plan = prepare(&args.select)?;
    for report in [&args.junit, &args.json].into_iter().flatten() {
        check_writable(report)?;
    }
    // A missing Gerrit setting fails now, before any container starts.
    let gerrit = match args.gerrit {
        true => Some(gerrit_settings(&args.gerrit_args)?),
        false => None,
    };
    let collected = crate::report::Collected::default();
    let mut reporters = reporters(&args);
    if gerrit.is_some() {
        reporters.push(Box::new(collected.reporter()));
    }
    let code = run_plan(&args, plan, reporters).await?;
    match gerrit {
        Some(settings) => {
            let report = crate::gerrit::Report::from_case_reports(&collected.cases());
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

async fn run_plan(
    args: &RunArgs,
    plan: Vec<PlannedCase>,
    mut reporters: Vec<Box<dyn Reporter>>,
) -> Result<u8, Error> {
    if plan.is_empty() {
        // Still a valid (empty) JUnit and JSON report, and no engine needed.
        println!("nothing to test: no case matches the selection");
        let events = [
            Event::RunStarted {
                run_id: "none".into(),
                total: 0,
                started_at: chrono::Utc::now(),
            },
            Event::RunFinished {
                duration: std::time::Duration::ZERO,
            },
        ];
        for reporter in &mut reporters {
            events.iter().for_each(|e| reporter.event(e));
            reporter
                .finish()
                .map_err(|err| Error::Io(format!("cannot write a report: {err}")))?;
        }
        return Ok(exit::SUCCESS);
    }
    let backend = Arc::new(connect().await?);
    let mut platforms: Vec<Arc<Platform>> = Vec::new();
    for row in &plan {
        if !platforms.iter().any(|p| p.name == row.platform.name) {
            platforms.push(row.platform.clone());
        }
    }
    ensure_images(&*backend, &platforms, None, false).await?;

    let ctx = Arc::new(Context {
        backend,
        run_id: uuid::Uuid::new_v4().simple().to_string(),
        keep: args.keep,
        fail_fast: args.fail_fast,
    });
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let summary = runner::run(ctx, plan, jobs, reporters)
        .await
        .map_err(|err| Error::Io(format!("cannot write a report: {err}")))?;
    Ok(if summary.interrupted {
        exit::INTERRUPTED
    } else if summary.totals.all_passed() {
        exit::SUCCESS
    } else {
        exit::TEST_FAILED
    })
}

fn reporters(args: &RunArgs) -> Vec<Box<dyn Reporter>> {
    let verbosity = if args.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::default()
    };
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(ConsoleReporter::new(
        Box::new(std::io::stdout()),
        verbosity,
    ))];
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitReporter::new(path.clone())));
    }
    if let Some(path) = &args.json {
        reporters.push(Box::new(JsonReporter::new(path.clone())));
    }
    if args.annotations == Some(Annotations::Github) {
        reporters.push(Box::new(GithubAnnotations::new(
            Box::new(std::io::stdout()),
            std::env::current_dir().unwrap_or_default(),
        )));
    }
    reporters
}

/// Where to post, as whom, and how to vote.
struct GerritSettings {
    target: crate::gerrit::Target,
    credentials: crate::gerrit::Credentials,
    options: crate::gerrit::Options,
}

fn gerrit_settings(args: &GerritArgs) -> Result<GerritSettings, Error> {
    let target = crate::gerrit::Target::from_env(&crate::gerrit::TargetArgs {
        url: args.url.clone(),
        project: args.project.clone(),
        change: args.change,
        revision: args.revision.clone(),
    })?;
    let credentials = crate::gerrit::Credentials::from_env()?;
    let options = review_options(args)?;
    Ok(GerritSettings {
        target,
        credentials,
        options,
    })
}

fn review_options(args: &GerritArgs) -> Result<crate::gerrit::Options, Error> {
    let mut options = crate::gerrit::Options::from_env();
    options.label = args.label.clone();
    options.pass_value = args.pass_value;
    options.fail_value = args.fail_value;
    options.notify = args
        .notify
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(Error::from)?;
    options.validate()?;
    Ok(options)
}

/// The review of a run; the report's paths are relative to the working directory.
fn review_of(
    report: &crate::gerrit::Report,
    options: &crate::gerrit::Options,
) -> Result<crate::gerrit::ReviewInput, Error> {
    let cwd = std::env::current_dir().map_err(|e| Error::Io(e.to_string()))?;
    Ok(crate::gerrit::review_from_report(
        report, &cwd, None, options,
    ))
}

async fn post_review(
    report: &crate::gerrit::Report,
    settings: &GerritSettings,
) -> Result<(), Error> {
    let review = review_of(report, &settings.options)?;
    let posted = crate::gerrit::post(&settings.target, &settings.credentials, &review).await?;
    println!("{posted}");
    Ok(())
}

async fn gerrit_review(args: GerritReviewArgs) -> Result<u8, Error> {
    let mut report = crate::gerrit::Report { cases: Vec::new() };
    for file in &args.reports {
        report
            .cases
            .extend(crate::gerrit::Report::read(file)?.cases);
    }
    if args.dry_run {
        let review = review_of(&report, &review_options(&args.gerrit)?)?;
        let json = serde_json::to_string_pretty(&review).map_err(|e| Error::Io(e.to_string()))?;
        println!("{json}");
        return Ok(exit::SUCCESS);
    }
    let settings = gerrit_settings(&args.gerrit)?;
    post_review(&report, &settings).await?;
    Ok(exit::SUCCESS)
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

async fn connect() -> Result<DockerBackend, Error> {
    DockerBackend::connect()
        .await
        .map_err(|err| Error::Engine(err.to_string()))
}

/// Builds the images that are missing or stale, all at once, printing progress.
async fn ensure_images<B: Backend>(
    backend: &B,
    platforms: &[Arc<Platform>],
    from: Option<Source>,
    force: bool,
) -> Result<(), Error> {
    let builds = platforms.iter().map(|p| async move {
        let name = p.name.clone();
        let progress = move |line: &str| eprintln!("[{name}] {line}");
        if force
            || !platform::build::is_current(backend, p)
                .await
                .unwrap_or(false)
        {
            eprintln!(
                "[{}] building image {} ({})",
                p.name,
                p.image(),
                p.definition
                    .description
                    .as_deref()
                    .unwrap_or("no description")
            );
        }
        platform::build::ensure(backend, p, from, force, &progress).await
    });
    let results = futures_util::future::join_all(builds).await;
    let errors: Vec<String> = results
        .into_iter()
        .filter_map(Result::err)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Engine(errors.join("\nerror: ")))
    }
}

async fn build_images(
    names: Vec<String>,
    from: Option<Source>,
    force: bool,
    images: Option<PathBuf>,
) -> Result<u8, Error> {
    let all = platform::load(images.as_deref()).map_err(Error::usage)?;
    let chosen: Vec<Arc<Platform>> = if names.is_empty() {
        all.iter().cloned().map(Arc::new).collect()
    } else {
        platform::select(&all, &names)
            .map_err(Error::usage)?
            .into_iter()
            .cloned()
            .map(Arc::new)
            .collect()
    };
    let backend = connect().await?;
    ensure_images(&backend, &chosen, from, force).await?;
    for p in &chosen {
        println!("{}\t{}", p.name, p.image());
    }
    Ok(exit::SUCCESS)
}

async fn list_images(images: Option<PathBuf>) -> Result<u8, Error> {
    let all = platform::load(images.as_deref()).map_err(Error::usage)?;
    let backend = connect().await?;
    println!(
        "{:<12} {:<32} {:<10} {:>9}  DESCRIPTION",
        "PLATFORM", "IMAGE", "STATE", "SIZE"
    );
    for p in &all {
        let found = backend
            .image(&p.image())
            .await
            .map_err(|e| Error::Engine(e.to_string()))?;
        let (state, size) = match found {
            Some(info) => ("built", format!("{} MB", info.size / 1_000_000)),
            None => ("missing", "-".to_string()),
        };
        println!(
            "{:<12} {:<32} {:<10} {:>9}  {}",
            p.name,
            p.image(),
            state,
            size,
            p.definition.description.as_deref().unwrap_or("")
        );
    }
    Ok(exit::SUCCESS)
}

async fn clean() -> Result<u8, Error> {
    let backend = connect().await?;
    let ids = backend
        .containers_labelled(&[(LABEL_MANAGED_BY, MANAGED_BY)])
        .await
        .map_err(|e| Error::Engine(e.to_string()))?;
    let mut failed = 0;
    for id in &ids {
        if let Err(err) = backend.remove(id).await {
            eprintln!("warning: {err}");
            failed += 1;
        }
    }
    println!(
        "removed {} container{}",
        ids.len() - failed,
        if ids.len() - failed == 1 { "" } else { "s" }
    );
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::ENGINE
    })
}

async fn check(args: CheckArgs) -> Result<u8, Error> {
    let file = if args.spec.is_dir() {
        args.spec.join(spec::SPEC_FILE)
    } else {
        args.spec.clone()
    };
    let spec = spec::load(&file).map_err(|err| Error::usage(relative(&err.to_string())))?;
    let case = match &args.case {
        Some(name) => spec.cases.iter().find(|c| &c.name == name).ok_or_else(|| {
            let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
            Error::usage(format!(
                "no case `{name}` in {} (cases: {})",
                relative(&file.display().to_string()),
                names.join(", ")
            ))
        })?,
        None => &spec.cases[0],
    };
    if case.expect.is_empty() {
        return Err(Error::usage(format!(
            "case `{}` has no checks (`expect:`)",
            case.name
        )));
    }
    let backend = connect().await?;
    let probed = crate::probe::run(&backend, &args.container, &case.expect, args.timeout)
        .await
        .map_err(|err| match err {
            crate::probe::ProbeError::TimedOut { .. } => Error::Engine(format!(
                "the probe timed out after {}",
                humantime::format_duration(args.timeout)
            )),
            crate::probe::ProbeError::Engine(message) => Error::Engine(message),
        })?;
    let mut failed = 0;
    for report in &probed.reports {
        println!("{:<5} {}", report.status.label(), report.label);
        for failure in &report.failures {
            println!("      {failure}");
        }
        failed += usize::from(report.status != crate::report::Status::Passed);
    }
    println!(
        "{} checks: {} passed, {failed} failed",
        probed.reports.len(),
        probed.reports.len() - failed
    );
    Ok(if failed == 0 {
        exit::SUCCESS
    } else {
        exit::TEST_FAILED
    })
}

/// Whether output goes to a person (for later progress bars); CI is never one.
pub fn interactive() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("CI").is_none()
}
