//! `--verbose`: Puppet's output as it comes, line by line, each line an event
//! ([`EventKind::Output`]) the console prints prefixed with its step (`[apply] Notice: …`)
//! on stderr, for a person watching one case.

use std::sync::Mutex;

use super::events::Emitter;
use crate::outcome::{CaseId, EventKind, Step};
use crate::text::sanitize::clean as clean_output;

/// Turns pieces of output, as they arrive, into one event per line.
pub struct LinePrinter<'a> {
    events: &'a Emitter,
    id: CaseId,
    step: Step,
    pending: Mutex<Vec<u8>>,
}

impl<'a> LinePrinter<'a> {
    pub fn new(events: &'a Emitter, id: CaseId, step: Step) -> LinePrinter<'a> {
        LinePrinter {
            events,
            id,
            step,
            pending: Default::default(),
        }
    }

    pub fn push(&self, chunk: &[u8]) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            self.send(&line[..end]);
        }
    }

    pub fn flush(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            if !pending.is_empty() {
                let rest = std::mem::take(&mut *pending);
                self.send(&rest);
            }
        }
    }

    fn send(&self, line: &[u8]) {
        let text = clean_output(&String::from_utf8_lossy(line));
        self.events.send(EventKind::Output {
            id: self.id.clone(),
            step: self.step,
            line: text.trim_end_matches(['\r', '\n']).to_string(),
        });
    }
}
