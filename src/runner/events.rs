//! The run's side of the event stream: a sender that stamps every event with the time
//! (wall clock, and elapsed since the run started, on tokio's clock so that tests with
//! paused time see exact durations), and the task that feeds every event to every
//! reporter and gives back the first error one of them met.

use std::io;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::outcome::{Event, EventKind};
use crate::report::Reporter;

/// Sends the run's events, stamped; cheap to clone (one per running case).
#[derive(Clone)]
pub struct Emitter {
    tx: mpsc::UnboundedSender<Event>,
    started: Instant,
}

impl Emitter {
    /// A stream whose clock starts now, and the task that feeds `reporters` from it: it
    /// ends once every emitter is dropped and every reporter finished.
    pub fn start(reporters: Vec<Box<dyn Reporter>>) -> (Emitter, JoinHandle<io::Result<()>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let reporting = tokio::spawn(report(rx, reporters));
        let emitter = Emitter {
            tx,
            started: Instant::now(),
        };
        (emitter, reporting)
    }

    pub fn send(&self, kind: EventKind) {
        // The reporting task outlives every emitter: a send cannot fail while it runs.
        let _ = self.tx.send(Event {
            timestamp: Utc::now(),
            elapsed: self.started.elapsed(),
            kind,
        });
    }
}

/// Feeds every event to every reporter, then lets each finish. A reporter's error does
/// not stop the others, nor the run: the first is returned at the end.
async fn report(
    mut rx: mpsc::UnboundedReceiver<Event>,
    mut reporters: Vec<Box<dyn Reporter>>,
) -> io::Result<()> {
    let mut first: Option<io::Error> = None;
    while let Some(event) = rx.recv().await {
        for reporter in reporters.iter_mut() {
            if let Err(err) = reporter.event(&event) {
                first.get_or_insert(err);
            }
        }
    }
    for reporter in reporters.iter_mut() {
        if let Err(err) = reporter.finish() {
            first.get_or_insert(err);
        }
    }
    first.map_or(Ok(()), Err)
}
