//! The errors a user sees at the top level, each with its exit status.

use std::fmt;

/// Exit statuses, as documented in the README.
pub mod exit {
    /// Every case passed (or there was nothing to test).
    pub const SUCCESS: u8 = 0;
    /// At least one case failed or could not finish.
    pub const TEST_FAILED: u8 = 1;
    /// Bad usage or a bad spec: nothing was started.
    pub const USAGE: u8 = 2;
    /// The engine or an image is in trouble.
    pub const ENGINE: u8 = 3;
    /// Stopped by Ctrl-C or SIGTERM.
    pub const INTERRUPTED: u8 = 130;
}

/// An error that ends the command.
#[derive(Debug)]
pub enum Error {
    /// Bad input: specs, arguments, paths. Each entry is one line.
    Usage(Vec<String>),
    /// The engine cannot be reached or an image cannot be built.
    Engine(String),
    /// Reports could not be written.
    Io(String),
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(vec![message.into()])
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Engine(_) => exit::ENGINE,
            Error::Io(_) => exit::ENGINE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(lines) => {
                let lines: Vec<String> = lines.iter().map(|l| format!("error: {l}")).collect();
                f.write_str(&lines.join("\n"))
            }
            Error::Engine(message) => write!(f, "error: {message}"),
            Error::Io(message) => write!(f, "error: {message}"),
        }
    }
}

impl std::error::Error for Error {}
