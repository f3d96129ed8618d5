//! GitHub annotations: `::error file=…,line=…::message` lines, so the failures of a run in
//! GitHub Actions show inline on the pull request. Where a failure belongs (a failed
//! check at its line in rehearsal.yaml, a Puppet error at the manifest line) is decided
//! once, in [`findings`](crate::findings), which Gerrit's inline comments come from too;
//! this reporter prints the same findings with the same texts.

use std::io::Write;
use std::path::PathBuf;

use super::Reporter;
use crate::findings::{self, Place};
use crate::outcome::{CaseReport, Event, Status};

/// At most this many annotations a run (GitHub shows no more than 50 a job).
const MAX_ANNOTATIONS: usize = 50;
/// A message is cut at this many bytes, as a Gerrit comment is.
const MAX_MESSAGE: usize = 4_000;

/// Prints the annotations when the run is over.
pub struct GithubAnnotations {
    out: Box<dyn Write + Send>,
    base_dir: PathBuf,
    cases: Vec<CaseReport>,
}

impl GithubAnnotations {
    /// Paths in the run are relative to `base_dir` (the working directory).
    pub fn new(out: Box<dyn Write + Send>, base_dir: PathBuf) -> Self {
        GithubAnnotations {
            out,
            base_dir,
            cases: Vec::new(),
        }
    }
}

impl Reporter for GithubAnnotations {
    fn event(&mut self, event: &Event) {
        if let Event::CaseFinished(case) = event {
            self.cases.push((**case).clone());
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if self.cases.iter().all(|c| c.status() == Status::Passed) {
            return Ok(());
        }
        let cases: Vec<CaseReport> = self.cases.iter().map(CaseReport::cleaned).collect();
        let found = findings::of(cases.iter().map(|c| (c.status(), c)), &self.base_dir, None);
        for finding in found.findings.iter().take(MAX_ANNOTATIONS) {
            let place = match &finding.place {
                Place::Line { path, line } => format!(" file={},line={line}", property(path)),
                Place::Patchset => String::new(),
            };
            let mut message = finding.message();
            findings::cut(&mut message, MAX_MESSAGE);
            writeln!(self.out, "::error{place}::{}", data(&message))?;
        }
        self.out.flush()
    }
}

/// A workflow command's message: `%`, CR and LF escaped.
fn data(text: &str) -> String {
    text.trim_end()
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: also `:` and `,` escaped.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a,b:c.pp"), "a%2Cb%3Ac.pp");
    }
}
