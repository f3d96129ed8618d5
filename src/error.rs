//! The error that ends a command: each stage's own error (a bad spec, a plan that cannot
//! be made, the engine, an image build, Gerrit, a report that cannot be written) wrapped
//! in one type, with its exit status and one renderer. It sits above the stages, beside
//! the commands: stages return their own errors and never this one.

use std::fmt;
use std::path::PathBuf;

pub use crate::exit;

use crate::backend::BackendError;
use crate::deps::DepsError;
use crate::gerrit::GerritError;
use crate::init::InitError;
use crate::plan::PlanError;
use crate::platform::build::BuildError;
use crate::platform::PlatformError;
use crate::spec::{DiscoverError, SpecError};

/// An error that ends the command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments, flags or paths; one line each.
    #[error("{}", lines(.0))]
    Usage(Vec<String>),
    /// Bad specs (or site files, goss files), each at its file, line and column.
    #[error("{}", lines(.0))]
    Spec(Vec<SpecError>),
    /// Fixtures that cannot be resolved: a bad `.fixtures.yml` (exit 2), a repository
    /// that cannot be fetched (exit 3).
    #[error("{}", lines(.0))]
    Deps(Vec<DepsError>),
    /// The paths to test cannot be searched.
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Discover(#[from] DiscoverError),
    /// The platform definitions cannot be read, or a platform asked for is unknown.
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Platform(#[from] PlatformError),
    /// The selection cannot be planned (an unknown platform, a bad `--case` glob).
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Plan(#[from] PlanError),
    /// The engine cannot be reached or refused an operation.
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Engine(#[from] BackendError),
    /// Platform images could not be built.
    #[error("{}", lines(.0))]
    Image(Vec<BuildError>),
    /// The Gerrit review could not be made or posted.
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Gerrit(#[from] GerritError),
    /// A report (or another file the command writes) could not be written.
    #[error("{}", lines(&[format!("cannot write {}: {source}", .path.display())]))]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A reporter failed while the run's events were written.
    #[error("{}", lines(&[format!("cannot write a report: {}", .0)]))]
    Report(std::io::Error),
    /// `rehearsal init` could not scaffold the spec.
    #[error("{}", lines(std::slice::from_ref(.0)))]
    Init(#[from] InitError),
}

impl Error {
    /// A usage error of one line.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(vec![message.into()])
    }

    /// The exit status the README documents for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::Spec(_)
            | Error::Discover(_)
            | Error::Platform(_)
            | Error::Plan(_) => exit::USAGE,
            Error::Engine(_) | Error::Image(_) | Error::Write { .. } | Error::Report(_) => {
                exit::ENGINE
            }
            Error::Init(InitError::Write { .. }) => exit::ENGINE,
            Error::Deps(errors) if errors.iter().any(|e| matches!(e, DepsError::Fetch { .. })) => {
                exit::ENGINE
            }
            Error::Deps(_) => exit::USAGE,
            Error::Init(_) => exit::USAGE,
            Error::Gerrit(err) => err.exit_code(),
        }
    }
}

impl From<SpecError> for Error {
    fn from(err: SpecError) -> Error {
        Error::Spec(vec![err])
    }
}

/// The one rendering of an error: `error: ` before each line, and paths under the current
/// directory shown relative to it.
fn lines<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .flat_map(|item| {
            crate::text::relative(&item.to_string())
                .lines()
                .map(|line| format!("error: {line}"))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_exit_status() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        let spec = SpecError::whole_file("rehearsal.yaml".as_ref(), "empty");
        assert_eq!(Error::from(spec).exit_code(), 2);
        let engine = BackendError::Unreachable("no socket".into());
        assert_eq!(Error::from(engine).exit_code(), 3);
        let write = Error::Write {
            path: "r/junit.xml".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(write.exit_code(), 3);
        assert_eq!(
            write.to_string(),
            "error: cannot write r/junit.xml: disk full"
        );
    }

    #[test]
    fn gerrit_errors_keep_their_own_status() {
        let config = GerritError::Config("GERRIT_HOST is not set".into());
        assert_eq!(Error::from(config).exit_code(), 2);
        let unauthorized = GerritError::Unauthorized {
            user: "jenkins".into(),
            url: "https://g/a/changes/p~1/revisions/r/review".into(),
        };
        let top = Error::from(unauthorized);
        assert_eq!(top.exit_code(), 3);
        assert!(top
            .to_string()
            .starts_with("error: Gerrit refused the credentials"));
    }

    #[test]
    fn every_line_is_an_error_line_and_paths_are_relative() {
        let cwd = std::env::current_dir().unwrap();
        let spec = SpecError {
            file: cwd.join("modules/motd/rehearsal.yaml"),
            position: Some((3, 5)),
            message: "unknown platform `x`".into(),
        };
        let two = Error::Spec(vec![spec.clone(), spec]);
        assert_eq!(
            two.to_string(),
            "error: modules/motd/rehearsal.yaml:3:5: unknown platform `x`\n\
             error: modules/motd/rehearsal.yaml:3:5: unknown platform `x`"
        );
    }
}
