//! One way to run the binary, in the manner of `just`'s tests: a [`Rehearsal`] builder
//! (arguments, directory, environment, which reports to write), then `run` (to the end),
//! `spawn` (a child to signal) or `run_async` (inside a tokio test). Each gives an
//! [`Outcome`]: the exit status, stdout, stderr and the reports asked for, read once the
//! process ended, with small assertions that show all of it when they fail.
//!
//! Nothing is set that a test does not ask for: the directory is the repository's root,
//! the environment is the test's own, and `--json`/`--junit`/`--html` are added, after the
//! other arguments, only by `.json()`, `.junit()` and `.html()`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use serde_json::Value;

use super::repo;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

/// A DOCKER_HOST that leads nowhere: a run that needs the engine fails with exit 3.
pub const NO_ENGINE: &str = "unix:///nonexistent/rehearsal-test/docker.sock";

/// A command line of the binary, to run once.
pub struct Rehearsal {
    command: Command,
    /// The arguments as given, for messages.
    shown: Vec<String>,
    reports: Wanted,
}

/// The reports a run is to write, and where.
#[derive(Default)]
struct Wanted {
    dir: Option<PathBuf>,
    json: bool,
    junit: bool,
    html: bool,
}

impl Default for Rehearsal {
    fn default() -> Self {
        Self::new()
    }
}

impl Rehearsal {
    /// The binary, in the repository's root, with the test's environment.
    pub fn new() -> Rehearsal {
        let mut command = Command::new(BIN);
        command.current_dir(repo());
        Rehearsal {
            command,
            shown: Vec::new(),
            reports: Wanted::default(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// No variable at all, not even PATH, but those set after this.
    pub fn env_clear(mut self) -> Self {
        self.command.env_clear();
        self
    }

    /// DOCKER_HOST at [`NO_ENGINE`]: any use of the engine fails.
    pub fn no_engine(self) -> Self {
        self.env("DOCKER_HOST", NO_ENGINE)
    }

    /// Writes the JSON report (`report.json`), read into [`Outcome::json`].
    pub fn json(mut self) -> Self {
        self.reports.json = true;
        self
    }

    /// Writes the JUnit report (`junit.xml`), read into [`Outcome::junit`].
    pub fn junit(mut self) -> Self {
        self.reports.junit = true;
        self
    }

    /// Writes the HTML report (`report.html`), read into [`Outcome::html`].
    pub fn html(mut self) -> Self {
        self.reports.html = true;
        self
    }

    /// The reports go into `dir` (which must exist) instead of a temporary directory of
    /// the outcome's own.
    pub fn reports_in(mut self, dir: impl Into<PathBuf>) -> Self {
        self.reports.dir = Some(dir.into());
        self
    }

    /// Runs it to the end (stdin closed, stdout and stderr captured).
    pub fn run(self) -> Outcome {
        let (mut command, reports) = self.finish();
        let output = command
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", reports.shown));
        reports.read(output)
    }

    /// As [`Rehearsal::run`], without blocking the tokio runtime the test runs on (a
    /// server of the test's may be what the binary talks to).
    pub async fn run_async(self) -> Outcome {
        let (command, reports) = self.finish();
        let output = tokio::process::Command::from(command)
            .output()
            .await
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", reports.shown));
        reports.read(output)
    }

    /// Starts it, stdout and stderr captured, and returns at once.
    pub fn spawn(self) -> Running {
        let (mut command, reports) = self.finish();
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", reports.shown));
        Running { child, reports }
    }

    /// The command with the report flags added, and what to read once it ends.
    fn finish(mut self) -> (Command, Reports) {
        let Wanted {
            dir,
            json,
            junit,
            html,
        } = std::mem::take(&mut self.reports);
        let any = json || junit || html;
        assert!(
            !(any && self.shown.iter().any(|a| a == "--")),
            "report flags would land after `--`: {:?}",
            self.shown
        );
        let temp = (any && dir.is_none()).then(|| tempfile::tempdir().unwrap());
        let dir = dir
            .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
            .unwrap_or_default();
        let path = |on: bool, name: &str| on.then(|| dir.join(name));
        let (json, junit, html) = (
            path(json, "report.json"),
            path(junit, "junit.xml"),
            path(html, "report.html"),
        );
        for (flag, file) in [("--json", &json), ("--junit", &junit), ("--html", &html)] {
            if let Some(file) = file {
                self = self.arg(flag).arg(file);
            }
        }
        let reports = Reports {
            shown: format!("`rehearsal {}`", self.shown.join(" ")),
            json,
            junit,
            html,
            _temp: temp,
        };
        (self.command, reports)
    }
}

/// Where a run's reports are, until it ends.
struct Reports {
    json: Option<PathBuf>,
    junit: Option<PathBuf>,
    html: Option<PathBuf>,
    _temp: Option<tempfile::TempDir>,
    shown: String,
}

impl Reports {
    fn read(self, output: Output) -> Outcome {
        let text = |path: &Option<PathBuf>| {
            path.as_ref().map(|p| {
                std::fs::read_to_string(p).map_err(|err| format!("{}: {err}", p.display()))
            })
        };
        let json_text = text(&self.json);
        let json = json_text.as_ref().map(|read| {
            read.as_ref()
                .map_err(Clone::clone)
                .and_then(|t| serde_json::from_str(t).map_err(|err| format!("not JSON: {err}")))
        });
        Outcome {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            junit: text(&self.junit),
            html: text(&self.html),
            json_text,
            json,
            output,
            reports: self,
        }
    }
}

/// A run that ended: its status, output and reports.
pub struct Outcome {
    /// As the process left it (stdout and stderr as bytes).
    pub output: Output,
    stdout: String,
    stderr: String,
    json_text: Option<Result<String, String>>,
    json: Option<Result<Value, String>>,
    junit: Option<Result<String, String>>,
    html: Option<Result<String, String>>,
    reports: Reports,
}

impl Outcome {
    pub fn status(&self) -> ExitStatus {
        self.output.status
    }

    /// The exit code; `None` when a signal ended it.
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Stdout as text (invalid UTF-8 replaced).
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    /// Stderr as text (invalid UTF-8 replaced).
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    /// The command, its status and all it printed: for assertion messages.
    pub fn show(&self) -> String {
        format!(
            "{} ended with {}\nstdout:\n{}\nstderr:\n{}",
            self.reports.shown, self.output.status, self.stdout, self.stderr
        )
    }

    /// Asserts the run exited 0.
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert!(self.output.status.success(), "{}", self.show());
        self
    }

    /// Asserts the run exited with `code`.
    #[track_caller]
    pub fn exit(&self, code: i32) -> &Self {
        assert_eq!(self.code(), Some(code), "{}", self.show());
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n{}",
            self.show()
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n{}",
            self.show()
        );
        self
    }

    /// The JSON report, parsed; fails the test when there is none.
    #[track_caller]
    pub fn json(&self) -> &Value {
        match &self.json {
            Some(Ok(value)) => value,
            Some(Err(why)) => panic!("no JSON report ({why})\n{}", self.show()),
            None => panic!("no JSON report was asked for (.json())"),
        }
    }

    /// The JSON report as the binary wrote it.
    #[track_caller]
    pub fn json_text(&self) -> &str {
        self.report(&self.json_text, "JSON")
    }

    /// The JUnit report's text (parse it with roxmltree).
    #[track_caller]
    pub fn junit(&self) -> &str {
        self.report(&self.junit, "JUnit")
    }

    #[track_caller]
    pub fn html(&self) -> &str {
        self.report(&self.html, "HTML")
    }

    #[track_caller]
    fn report<'a>(&'a self, read: &'a Option<Result<String, String>>, kind: &str) -> &'a str {
        match read {
            Some(Ok(text)) => text,
            Some(Err(why)) => panic!("no {kind} report ({why})\n{}", self.show()),
            None => panic!("no {kind} report was asked for"),
        }
    }
}

/// A run started by [`Rehearsal::spawn`].
pub struct Running {
    child: Child,
    reports: Reports,
}

impl Running {
    /// Sends a signal (`TERM`, `INT`, `KILL`…).
    #[track_caller]
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {}", self.child.id());
    }

    /// Its status, if it has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("wait for rehearsal")
    }

    /// Waits for it to end, and reads what it wrote.
    pub fn wait(self) -> Outcome {
        let output = self.child.wait_with_output().expect("wait for rehearsal");
        self.reports.read(output)
    }
}
