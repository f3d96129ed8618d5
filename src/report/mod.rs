//! Reporting: every reporter is fed the same [`Event`] stream, so the console, the JUnit
//! file and the JSON file always tell the same story.

pub mod collect;
pub mod console;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod progress;
pub mod warnings_ng;
mod write;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::outcome::{CaseReport, Event};
pub use collect::Collected;
pub use console::{ConsoleReporter, Verbosity};
pub use github::GithubAnnotations;
pub use html::HtmlReporter;
pub use json::JsonReporter;
pub use junit::JunitReporter;
pub use progress::Progress;
pub use warnings_ng::WarningsNgReporter;

/// Something that turns the event stream into output.
pub trait Reporter: Send {
    /// Called for every event, in the order the runner sent them. An error does not stop
    /// the run; the run returns the first one once every report is written.
    fn event(&mut self, event: &Event) -> std::io::Result<()>;
    /// Called once after the last event: write files, print the summary.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// The cases in the order the files list them: by module, then platform, then case.
fn sorted_by_module_platform_case(cases: &[CaseReport]) -> Vec<&CaseReport> {
    let mut sorted: Vec<&CaseReport> = cases.iter().collect();
    sorted.sort_by_key(|c| (&c.id.module, &c.id.platform, &c.id.case));
    sorted
}
