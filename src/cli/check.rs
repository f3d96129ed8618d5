//! `rehearsal check`: a case's checks against a running container.

use std::path::PathBuf;

use super::{connect, relative};
use crate::backend::BackendError;
use crate::error::{exit, Error};
use crate::spec;

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

pub(super) async fn check(args: CheckArgs, engine: Option<super::EngineArg>) -> Result<u8, Error> {
    let file = if args.spec.is_dir() {
        args.spec.join(spec::SPEC_FILE)
    } else {
        args.spec.clone()
    };
    let spec = spec::load(&file)?;
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
    let backend = connect(engine).await?;
    let probed = crate::probe::run(&backend, &args.container, &case.expect, args.timeout)
        .await
        .map_err(|err| match err {
            crate::probe::ProbeError::TimedOut { .. } => Error::Engine(BackendError::Operation {
                operation: "run the probe",
                message: format!(
                    "it timed out after {}",
                    humantime::format_duration(args.timeout)
                ),
            }),
            crate::probe::ProbeError::Engine(message) => Error::Engine(BackendError::Operation {
                operation: "run the probe",
                message,
            }),
        })?;
    let mut failed = 0;
    for report in &probed.reports {
        println!("{:<5} {}", report.status.label(), report.label);
        for failure in &report.failures {
            println!("      {failure}");
        }
        failed += usize::from(report.status != crate::outcome::Status::Passed);
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
