//! Reporting: every reporter is fed the same [`Event`] stream, so the console, the JUnit
//! file and the JSON file always tell the same story.

pub mod event;

pub use event::{CaseId, CaseReport, CheckReport, Event, Status, Step, StepReport, Totals};
