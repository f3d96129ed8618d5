//! Reporting: every reporter is fed the same [`Event`] stream, so the console, the JUnit
//! file and the JSON file always tell the same story.

pub mod event;

pub use event::{CaseId, CaseReport, CheckReport, Event, Status, Step, StepReport, Totals};

/// Something that turns the event stream into output.
pub trait Reporter: Send {
    /// Called for every event, in the order the runner sent them.
    fn event(&mut self, event: &Event);
    /// Called once after the last event: write files, print the summary.
    fn finish(&mut self) -> std::io::Result<()>;
}
