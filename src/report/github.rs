//! GitHub annotations: `::error file=…,line=…::message` lines, so the failures of a run in
//! GitHub Actions show inline on the pull request. Where a failure belongs (a failed
//! check at its line in rehearsal.yaml, a Puppet error at the manifest line) is decided
//! once, by the Gerrit review; this reporter prints that review's comments.

use std::io::Write;
use std::path::PathBuf;

use super::Reporter;
use crate::gerrit::{self, Options, Report, PATCHSET_LEVEL};
use crate::outcome::{CaseReport, Event, EventKind};

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
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let EventKind::CaseFinished(case) = &event.kind {
            self.cases.push((**case).clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let report = Report::from_case_reports(&self.cases);
        if report.all_passed() {
            return Ok(());
        }
        let review = gerrit::review_from_report(&report, &self.base_dir, None, &Options::default());
        for (path, comments) in &review.comments {
            for comment in comments {
                let place = match (path.as_str(), comment.line) {
                    (PATCHSET_LEVEL, _) => String::new(),
                    (file, Some(line)) => format!(" file={},line={line}", property(file)),
                    (file, None) => format!(" file={}", property(file)),
                };
                writeln!(self.out, "::error{place}::{}", data(&comment.message))?;
            }
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
