//! Why something failed, as data, from where it is found: a Puppet error's place `{file,
//! line, column, message}` (the Puppet leaf reads it from an apply's output). Every
//! reporter renders these fields; none of them reads a place back out of rendered text.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A Puppet error that names where it is: `Error: … (file: F, line: 5, column: 3)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PuppetError {
    /// As the report shows paths: a module's file as a path on the host (relative to the
    /// run's directory when under it), the case's own files as their container paths
    /// (`/etc/rehearsal/case/site.pp`, `…/prepare.pp`), which the review maps to the spec.
    pub file: String,
    /// 1-based.
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Puppet's words as it printed them, from `Error:` on (with the lines that continue
    /// the error), less the ` on node …` that differs from host to host.
    pub message: String,
}

impl PuppetError {
    /// `modules/motd/manifests/init.pp:5:3`.
    pub fn place(&self) -> String {
        match self.column {
            Some(column) => format!("{}:{}:{column}", self.file, self.line),
            None => format!("{}:{}", self.file, self.line),
        }
    }
}

impl fmt::Display for PuppetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_puppet_error_names_its_place() {
        let error = PuppetError {
            file: "modules/m/manifests/init.pp".into(),
            line: 5,
            column: Some(3),
            message: "Error: Syntax error at '}'".into(),
        };
        assert_eq!(
            error.to_string(),
            "modules/m/manifests/init.pp:5:3: Error: Syntax error at '}'"
        );
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["line"], 5);
        assert_eq!(json["column"], 3);
        assert_eq!(serde_json::from_value::<PuppetError>(json).unwrap(), error);
    }
}
