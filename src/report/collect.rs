//! Keeps every finished case and the gate's report, for what runs after the run (posting
//! the Gerrit review).

use std::sync::{Arc, Mutex};

use super::Reporter;
use crate::outcome::{CaseReport, Event, EventKind, GateReport};

/// A reporter that hands the finished cases to whoever holds [`Collected`].
pub struct Collector(Collected);

/// The cases a [`Collector`] saw.
#[derive(Clone, Default)]
pub struct Collected(Arc<Mutex<Vec<CaseReport>>>, Arc<Mutex<Option<GateReport>>>);

impl Collected {
    pub fn reporter(&self) -> Collector {
        Collector(self.clone())
    }

    pub fn cases(&self) -> Vec<CaseReport> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn gate(&self) -> Option<GateReport> {
        self.1.lock().ok().and_then(|g| g.clone())
    }
}

impl Reporter for Collector {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match &event.kind {
            EventKind::CaseFinished(case) => {
                if let Ok(mut cases) = self.0 .0.lock() {
                    cases.push((**case).clone());
                }
            }
            EventKind::Gate(gate) => {
                if let Ok(mut kept) = self.0 .1.lock() {
                    *kept = Some((**gate).clone());
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
