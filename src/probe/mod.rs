//! The probe: every `expect` check of a case, answered by ONE generated shell script in
//! ONE exec (serverspec and testinfra pay one exec per check). [`script`] writes it,
//! [`records`] reads its answer back, [`evaluate`] judges each check.

pub mod evaluate;
pub mod records;
pub mod script;

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

#[cfg(test)]
mod tests;
