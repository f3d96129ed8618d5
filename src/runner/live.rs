//! `--verbose`: Puppet's output on stderr as it comes, line by line, each line prefixed
//! with its step (`[apply] Notice: …`), for a person watching one case.

use crate::text::sanitize::clean as clean_output;

/// Prints output to stderr line by line as pieces of it arrive, each line prefixed.
pub struct LinePrinter {
    prefix: String,
    pending: std::sync::Mutex<Vec<u8>>,
}

impl LinePrinter {
    pub fn new(prefix: String) -> LinePrinter {
        LinePrinter {
            prefix,
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
            self.print(&line[..end]);
        }
    }

    pub fn flush(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            if !pending.is_empty() {
                let rest = std::mem::take(&mut *pending);
                self.print(&rest);
            }
        }
    }

    fn print(&self, line: &[u8]) {
        let text = clean_output(&String::from_utf8_lossy(line));
        eprintln!("{}{}", self.prefix, text.trim_end_matches('\r'));
    }
}
