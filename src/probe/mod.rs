//! The probe: every `expect` check of a case, answered by ONE generated shell script in
//! ONE exec (serverspec and testinfra pay one exec per check). [`script`] writes it,
//! [`records`] reads its answer back, [`evaluate`] judges each check.

pub mod evaluate;
pub mod records;
pub mod script;
pub mod tables;

use std::time::{Duration, Instant};

use crate::backend::exec::{exec_within, ExecError};
use crate::backend::Backend;
use crate::outcome::{CheckFailure, CheckReport, Status};
use crate::spec::Check;

pub use records::Records;
pub use script::{generate, generate_for};

/// Judges every check from the probe's stdout.
pub fn judge(checks: &[Check], stdout: &[u8]) -> Vec<CheckReport> {
    let records = Records::parse(stdout);
    checks
        .iter()
        .enumerate()
        .map(|(id, check)| report(check, evaluate::evaluate(check, records.of(id))))
        .collect()
}

fn report(check: &Check, failures: evaluate::Failures) -> CheckReport {
    CheckReport {
        label: check.to_string(),
        status: if failures.is_empty() {
            Status::Passed
        } else {
            Status::Failed
        },
        failures,
        line: check.line,
    }
}

/// What running the probe in a container gave.
#[derive(Debug, Clone)]
pub struct Probed {
    pub reports: Vec<CheckReport>,
    /// What the probe printed on stderr (a check's tools complaining, say).
    pub stderr: String,
}

/// Why the probe could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    /// It ran past `limit`; what it printed so far.
    TimedOut { stderr: String },
    /// The engine could not run it.
    Engine(String),
}

/// Runs every check in the container in one exec; then, while checks that carry
/// `retry:` still fail, runs just those again every `interval` until their `timeout`.
/// Everything is bounded by `limit`, inside the container (`timeout`) and here (a hung
/// engine).
pub async fn run<B: Backend>(
    backend: &B,
    container: &str,
    checks: &[Check],
    limit: Duration,
) -> Result<Probed, ProbeError> {
    let started = Instant::now();
    let deadline = started + limit;
    let first = exec(backend, container, &generate(checks), limit).await?;
    let mut reports = judge(checks, &first.stdout);
    let mut stderr = first.stderr;
    let mut tries = vec![1u32; checks.len()];
    loop {
        let now = Instant::now();
        let again: Vec<usize> = (0..checks.len())
            .filter(|&i| reports[i].status == Status::Failed)
            .filter(|&i| checks[i].retry.is_some_and(|r| started + r.timeout > now))
            .collect();
        if again.is_empty() {
            break;
        }
        let pause = again
            .iter()
            .filter_map(|&i| checks[i].retry.map(|r| r.interval))
            .min()
            .unwrap_or(Duration::from_secs(1));
        if now + pause >= deadline {
            break;
        }
        tokio::time::sleep(pause).await;
        let script = generate_for(again.iter().map(|&i| (i, &checks[i])));
        let out = exec(backend, container, &script, deadline - Instant::now()).await?;
        let records = Records::parse(&out.stdout);
        for &i in &again {
            tries[i] += 1;
            reports[i] = report(&checks[i], evaluate::evaluate(&checks[i], records.of(i)));
        }
        stderr = out.stderr;
    }
    for (i, report) in reports.iter_mut().enumerate() {
        if let (Some(retry), Status::Failed) = (checks[i].retry, report.status) {
            report.failures.push(CheckFailure::StillFailing {
                after: retry.timeout,
                tries: tries[i],
                every: retry.interval,
            });
        }
    }
    Ok(Probed { reports, stderr })
}

/// What one exec of a probe script printed.
struct Output {
    stdout: Vec<u8>,
    stderr: String,
}

async fn exec<B: Backend>(
    backend: &B,
    container: &str,
    script: &str,
    limit: Duration,
) -> Result<Output, ProbeError> {
    let secs = limit.as_secs().max(1).to_string();
    let cmd = ["timeout", "-k", "5", secs.as_str(), "sh", "-c", script];
    let out = match exec_within(backend, container, &cmd, limit, None).await {
        Ok(out) => out,
        Err(ExecError::Engine(err)) => return Err(ProbeError::Engine(err.to_string())),
        Err(ExecError::TimedOut { .. }) => {
            return Err(ProbeError::TimedOut {
                stderr: String::new(),
            })
        }
    };
    let stderr = crate::text::sanitize::clean(&String::from_utf8_lossy(&out.stderr));
    if out.exit_code == 124 || out.exit_code == 137 {
        return Err(ProbeError::TimedOut { stderr });
    }
    Ok(Output {
        stdout: out.stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests;
