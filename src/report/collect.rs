//! Keeps every finished case, for what runs after the run (posting the Gerrit review).

use std::sync::{Arc, Mutex};

use super::Reporter;
use crate::outcome::{CaseReport, Event, EventKind};

/// A reporter that hands the finished cases to whoever holds [`Collected`].
pub struct Collector(Collected);

/// The cases a [`Collector`] saw.
#[derive(Clone, Default)]
pub struct Collected(Arc<Mutex<Vec<CaseReport>>>);

impl Collected {
    pub fn reporter(&self) -> Collector {
        Collector(self.clone())
    }

    pub fn cases(&self) -> Vec<CaseReport> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Reporter for Collector {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let (EventKind::CaseFinished(case), Ok(mut cases)) = (&event.kind, self.0 .0.lock()) {
            cases.push((**case).clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
