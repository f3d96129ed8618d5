//! The probe: every `expect` check of a case, answered by ONE generated shell script in
//! ONE exec (serverspec and testinfra pay one exec per check). [`script`] writes it,
//! [`records`] reads its answer back, [`evaluate`] judges each check.

pub mod evaluate;
pub mod records;
pub mod script;

use std::time::Duration;

use crate::backend::Backend;
use crate::report::{CheckReport, Status};
use crate::spec::Check;

pub use records::Records;
pub use script::generate;

/// Judges every check from the probe's stdout.
pub fn judge(checks: &[Check], stdout: &[u8]) -> Vec<CheckReport> {
    let records = Records::parse(stdout);
    checks
        .iter()
        .enumerate()
        .map(|(id, check)| {
            let failures = evaluate::evaluate(check, records.of(id));
            CheckReport {
                label: check.to_string(),
                status: if failures.is_empty() {
                    Status::Passed
                } else {
                    Status::Failed
                },
                failures,
            }
        })
        .collect()
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

/// Runs every check in the container, in one exec, bounded by `limit` inside the
/// container (`timeout`) and here (a hung engine).
pub async fn run<B: Backend>(
    backend: &B,
    container: &str,
    checks: &[Check],
    limit: Duration,
) -> Result<Probed, ProbeError> {
    let script = generate(checks);
    let secs = limit.as_secs().max(1).to_string();
    let cmd = [
        "timeout",
        "-k",
        "5",
        secs.as_str(),
        "sh",
        "-c",
        script.as_str(),
    ];
    let grace = Duration::from_secs(30);
    let out = match tokio::time::timeout(limit + grace, backend.exec(container, &cmd)).await {
        Ok(Ok(out)) => out,
        Ok(Err(err)) => return Err(ProbeError::Engine(err.to_string())),
        Err(_) => {
            return Err(ProbeError::TimedOut {
                stderr: String::new(),
            })
        }
    };
    let stderr = crate::report::sanitize::clean(&String::from_utf8_lossy(&out.stderr));
    if out.exit_code == 124 || out.exit_code == 137 {
        return Err(ProbeError::TimedOut { stderr });
    }
    Ok(Probed {
        reports: judge(checks, &out.stdout),
        stderr,
    })
}

#[cfg(test)]
mod tests;
