//! `rehearsal login`: a shell (or one command) in a case's kept container. When none is
//! kept, the case runs first, through the ordinary runner, with its container kept.

use crate::labels;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::images::ensure_images;
use super::select::{prepare, Selection};
use super::{connect, relative};
use crate::backend::{Backend, BackendError, ContainerSummary, Engine};
use crate::error::{exit, Error};
use crate::outcome::Status;
use crate::plan::PlannedCase;
use crate::report::{ConsoleReporter, Reporter, Verbosity};
use crate::runner::{self, Context, Interrupts, Keep};
use crate::spec::{self, ModuleSpec};

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The module: its directory, or its name (looked for under the current directory).
    pub module: String,
    /// The case (default: the spec's first case).
    pub case: Option<String>,
    /// The platform (default: the newest kept container's, else the case's first).
    #[arg(long, short = 'p', value_name = "NAME")]
    pub platform: Option<String>,
    /// Platform definitions, as for `run`.
    #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Run this command in the container instead of a login shell, and exit with its
    /// status: `rehearsal login motd -- cat /etc/motd`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub(super) async fn login(args: LoginArgs, engine: Option<super::EngineArg>) -> Result<u8, Error> {
    let spec = find_spec(&args.module)?;
    let module = spec
        .as_ref()
        .map(|s| s.module_name.clone())
        .unwrap_or_else(|| args.module.clone());
    let case = match (&args.case, &spec) {
        (Some(case), Some(spec)) if !spec.cases.iter().any(|c| &c.name == case) => {
            let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::usage(format!(
                "no case `{case}` in {} (cases: {})",
                relative(&spec.file.display().to_string()),
                names.join(", ")
            )));
        }
        (Some(case), _) => Some(case.clone()),
        (None, Some(spec)) => spec.cases.first().map(|c| c.name.clone()),
        (None, None) => None,
    };

    let backend = connect(engine).await?;
    let kept =
        kept_containers(&backend, &module, case.as_deref(), args.platform.as_deref()).await?;
    let container = match kept.first() {
        Some(newest) => {
            if kept.len() > 1 {
                eprintln!(
                    "{} kept containers match; entering the newest, {}",
                    kept.len(),
                    describe(newest)
                );
            }
            newest.clone()
        }
        None => {
            let Some(spec) = spec else {
                return Err(Error::usage(format!(
                    "no kept container of the module `{module}`, and no module of that name under the current directory to run its case (hint: give the module's directory, like `rehearsal login path/to/{module}`)"
                )));
            };
            let case = case.unwrap_or_default();
            match fresh(backend.clone(), &spec, &case, &args).await? {
                Ok(container) => container,
                Err(code) => return Ok(code),
            }
        }
    };
    enter(&backend, &container, &args.command).await
}

/// The spec of the module named (a directory, a spec file, or a module name under the
/// current directory); `None` when there is no such module here.
fn find_spec(module: &str) -> Result<Option<Arc<ModuleSpec>>, Error> {
    let path = Path::new(module);
    let load = |file: &Path| {
        spec::load(file)
            .map(|s| Some(Arc::new(s)))
            .map_err(Error::from)
    };
    if path.is_file() {
        return load(path);
    }
    if path.is_dir() {
        let file = path.join(spec::SPEC_FILE);
        if !file.is_file() {
            return Err(Error::usage(format!(
                "{module} has no {} (hint: `rehearsal init {module}` writes one)",
                spec::SPEC_FILE
            )));
        }
        return load(&file);
    }
    // A name: the module of that name under the current directory. Specs elsewhere in
    // the tree that do not parse are not this command's business.
    let files = spec::discover(&[PathBuf::from(".")]).unwrap_or_default();
    Ok(files
        .iter()
        .filter_map(|f| spec::load(f).ok())
        .find(|s| s.module_name == module)
        .map(Arc::new))
}

/// Running kept containers of the case, newest first.
async fn kept_containers(
    backend: &Engine,
    module: &str,
    case: Option<&str>,
    platform: Option<&str>,
) -> Result<Vec<ContainerSummary>, Error> {
    let mut labels = vec![
        (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
        (labels::MODULE, module),
    ];
    labels.extend(case.map(|c| (labels::CASE, c)));
    labels.extend(platform.map(|p| (labels::PLATFORM, p)));
    let mut found = backend.containers(&labels).await.map_err(Error::from)?;
    for stopped in found.iter().filter(|c| !c.running) {
        eprintln!(
            "note: kept container {} has stopped; `rehearsal clean` removes it",
            describe(stopped)
        );
    }
    found.retain(|c| c.running);
    found.sort_by_key(|c| std::cmp::Reverse(c.created));
    Ok(found)
}

fn describe(container: &ContainerSummary) -> String {
    let label = |key: &str| container.labels.get(key).map(String::as_str).unwrap_or("?");
    let age = container
        .created
        .and_then(|t| u64::try_from(chrono::Utc::now().timestamp() - t).ok())
        .map(|s| {
            format!(
                ", created {} ago",
                humantime::format_duration(std::time::Duration::from_secs(s))
            )
        })
        .unwrap_or_default();
    format!(
        "{} ({} › {} on {}{age})",
        container.name,
        label(labels::MODULE),
        label(labels::CASE),
        label(labels::PLATFORM)
    )
}

/// Runs the case once with its container kept; the container, or the exit status to
/// end with when there is none to enter.
async fn fresh(
    backend: Engine,
    spec: &ModuleSpec,
    case: &str,
    args: &LoginArgs,
) -> Result<Result<ContainerSummary, u8>, Error> {
    let row = plan_row(spec, case, args)?;
    let id = row.id();
    eprintln!(
        "no kept container of {} › {} on {}: running the case and keeping its container",
        id.module, id.case, id.platform
    );
    let backend = Arc::new(backend);
    ensure_images(&*backend, std::slice::from_ref(&row.platform), None, false).await?;
    let ctx = Arc::new(Context {
        backend: backend.clone(),
        run_id: uuid::Uuid::new_v4().simple().to_string(),
        keep: Keep::Always,
        fail_fast: false,
        verbose: false,
        engine_lost: Default::default(),
        engine_wait: super::run::engine_wait_from_env(),
        gate: None,
        diff: None,
        retries: Default::default(),
    });
    let collected = crate::report::Collected::default();
    let reporters: Vec<Box<dyn Reporter>> = vec![
        // stderr: the command's output is the only thing on stdout.
        Box::new(ConsoleReporter::new(
            Box::new(std::io::stderr()),
            Verbosity::default(),
        )),
        Box::new(collected.reporter()),
    ];
    let summary = runner::run(
        ctx.clone(),
        vec![row],
        1,
        reporters,
        Interrupts::from_signals(),
    )
    .await
    .map_err(Error::Report)?;
    let report = collected.cases().into_iter().next();
    let Some(container) = report.as_ref().and_then(|r| r.kept_container.clone()) else {
        eprintln!("error: the case left no container to enter (see above)");
        return Ok(Err(if summary.interrupted {
            exit::INTERRUPTED
        } else {
            exit::TEST_FAILED
        }));
    };
    if report.is_some_and(|r| r.status() != Status::Passed) {
        eprintln!("note: the case did not pass; its container is kept as it was left");
    }
    let found = backend
        .containers(&[
            (labels::MANAGED_BY, labels::MANAGED_BY_VALUE),
            (labels::MODULE, &id.module),
        ])
        .await
        .map_err(Error::from)?;
    let summary = found
        .into_iter()
        .find(|c| c.id == container)
        .ok_or_else(|| {
            Error::Engine(BackendError::Operation {
                operation: "find the kept container",
                message: format!("{container} is gone"),
            })
        })?;
    Ok(Ok(summary))
}

/// The one plan row of the case, on the platform asked for (else its first).
fn plan_row(spec: &ModuleSpec, case: &str, args: &LoginArgs) -> Result<PlannedCase, Error> {
    // The selection `run` would make for the spec, on the platform asked for.
    let selection = Selection {
        paths: vec![spec.file.clone()],
        platforms: args.platform.iter().cloned().collect(),
        images: args.images.clone(),
        ..Selection::default()
    };
    let plan = prepare(&selection)?;
    plan.into_iter()
        .find(|row| row.case().name == case)
        .ok_or_else(|| {
            Error::usage(format!(
                "case `{case}` of {} does not run on {} (see its `platforms:`)",
                spec.module_name,
                args.platform.as_deref().unwrap_or("any platform")
            ))
        })
}

/// A login shell (or the command) in the container, through the engine itself, attached
/// to this terminal; the command's status is ours.
async fn enter(
    backend: &Engine,
    container: &ContainerSummary,
    command: &[String],
) -> Result<u8, Error> {
    let command: Vec<String> = match command.is_empty() {
        true => {
            eprintln!("entering {}; leave with `exit`", describe(container));
            vec!["bash".into(), "-l".into()]
        }
        false => command.to_vec(),
    };
    let status = backend
        .exec_interactive(&container.id, &command)
        .await
        .map_err(Error::from)?;
    eprintln!(
        "the container {} stays: `rehearsal clean` removes every kept container",
        container.name
    );
    // A status out of range (the engine's -1 for "unknown") reads as a failure.
    Ok(u8::try_from(status).unwrap_or(exit::TEST_FAILED))
}
