//! The progress bar under the case lines on a terminal:
//!
//! ```text
//! ⠙ 00:01:12 [██████████░░░░░░░░░░░░░░░░░░] 7/21 cases · 1 failed · running: motd › default [debian12], …
//! ```
//!
//! It is driven by the same events as the console, and owned by the console reporter,
//! which prints every case line with the bar taken off the screen and put back after
//! (`suspend`), so a line and the bar never end up mixed. Off a terminal, or with `CI` set,
//! there is no bar and the console prints plain lines.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::outcome::{CaseId, Event, EventKind, Status};

/// How often the bar is redrawn when nothing happens (the spinner and elapsed time move).
const TICK: Duration = Duration::from_millis(120);

/// The bar's layout; `{wide_msg}` is cut to the terminal's width.
const TEMPLATE: &str =
    "{spinner:.cyan} {elapsed_precise} [{bar:28.green/white.dim}] {pos}/{len} cases · {wide_msg}";

/// The bar, and the cases it shows as running.
pub struct Progress {
    bar: ProgressBar,
    /// Running cases, in the order they started.
    running: Vec<CaseId>,
    /// Finished cases that did not pass (failed or errored).
    not_passed: usize,
}

impl Progress {
    /// A bar on standard output, for a person at a terminal.
    pub fn on_terminal() -> Self {
        Progress::with_target(ProgressDrawTarget::stdout())
    }

    /// A bar drawn to `target` (hidden, or a fake terminal, in tests).
    pub fn with_target(target: ProgressDrawTarget) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(TEMPLATE)
            .expect("the progress template is valid")
            .progress_chars("██░");
        bar.set_style(style);
        Progress {
            bar,
            running: Vec::new(),
            not_passed: 0,
        }
    }

    /// Follows the run: the total when it starts, the running cases, one step per case.
    pub fn event(&mut self, event: &Event) {
        if let EventKind::RunFinished { .. } = event.kind {
            self.clear();
            return;
        }
        match &event.kind {
            EventKind::RunStarted { total, .. } => {
                self.bar.set_length(*total as u64);
                self.bar.reset_elapsed();
                if !self.bar.is_hidden() {
                    self.bar.enable_steady_tick(TICK);
                }
            }
            // A retried case starts again while it is still running.
            EventKind::CaseStarted { id } if !self.running.contains(id) => {
                self.running.push(id.clone())
            }
            EventKind::CaseFinished(report) => {
                if let Some(at) = self.running.iter().position(|id| *id == report.id) {
                    self.running.remove(at);
                }
                if matches!(report.status(), Status::Failed | Status::Error) {
                    self.not_passed += 1;
                }
                self.bar.inc(1);
            }
            // Nothing else moves the bar.
            _ => return,
        }
        self.bar.set_message(self.message());
    }

    /// `1 failed · running: motd › default [debian12], ntp › servers [debian12]`.
    pub fn message(&self) -> String {
        let mut parts = Vec::new();
        if self.not_passed > 0 {
            parts.push(format!("{} failed", self.not_passed));
        }
        if self.running.is_empty() {
            let done = self.bar.length().is_some_and(|n| self.bar.position() >= n);
            parts.push(if done { "all done" } else { "starting" }.to_owned());
        } else {
            let names: Vec<String> = self.running.iter().map(ToString::to_string).collect();
            parts.push(format!("running: {}", names.join(", ")));
        }
        parts.join(" · ")
    }

    /// Runs `print` with the bar off the screen, then draws the bar again under what it
    /// printed.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    /// Takes the bar off the screen for good (before the summary).
    pub fn clear(&self) {
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
        }
    }

    /// Cases finished, and cases planned.
    pub fn position(&self) -> (u64, Option<u64>) {
        (self.bar.position(), self.bar.length())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressDrawTarget, TermLike};

    use super::Progress;
    use crate::outcome::{Event, EventKind};
    use crate::report::{fixtures, ConsoleReporter, Reporter, Verbosity};

    fn hidden() -> Progress {
        Progress::with_target(ProgressDrawTarget::hidden())
    }

    #[test]
    fn the_message_names_the_running_cases_in_the_order_they_started() {
        let mut progress = hidden();
        let events = fixtures::run();
        progress.event(&events[0]);
        assert_eq!(progress.message(), "starting");
        // RunStarted, then four CaseStarted.
        for event in &events[..5] {
            progress.event(event);
        }
        assert_eq!(progress.position(), (0, Some(4)));
        assert_eq!(
            progress.message(),
            "running: ntp › servers [debian12], motd › default [debian12], \
             ntp › default [debian12], motd › custom [rocky9]"
        );

        // ntp › servers finishes (not idempotent), then motd › default (passed).
        progress.event(&events[5]);
        progress.event(&events[6]);
        assert_eq!(progress.position(), (2, Some(4)));
        assert_eq!(
            progress.message(),
            "1 failed · running: ntp › default [debian12], motd › custom [rocky9]"
        );

        progress.event(&events[7]);
        progress.event(&events[8]);
        assert_eq!(progress.position(), (4, Some(4)));
        assert_eq!(progress.message(), "3 failed · all done");
    }

    #[test]
    fn the_bar_is_gone_when_the_run_is_over() {
        let mut progress = hidden();
        for event in fixtures::run() {
            progress.event(&event);
        }
        assert!(progress.bar.is_finished());
    }

    /// A terminal of a few rows that does what the escape codes would do, so the test
    /// sees the screen a person would see.
    #[derive(Default)]
    struct Screen {
        rows: Vec<String>,
        row: usize,
        col: usize,
        /// How often the bar was drawn.
        draws: usize,
    }

    impl Screen {
        fn put(&mut self, text: &str) {
            for c in text.chars() {
                match c {
                    '\r' => self.col = 0,
                    '\n' => {
                        self.row += 1;
                        self.col = 0;
                    }
                    c => {
                        while self.rows.len() <= self.row {
                            self.rows.push(String::new());
                        }
                        let mut line: Vec<char> = self.rows[self.row].chars().collect();
                        while line.len() < self.col {
                            line.push(' ');
                        }
                        if self.col < line.len() {
                            line[self.col] = c;
                        } else {
                            line.push(c);
                        }
                        self.rows[self.row] = line.into_iter().collect();
                        self.col += 1;
                    }
                }
            }
        }

        fn text(&self) -> String {
            let mut text: String = self.rows.iter().map(|r| format!("{r}\n")).collect();
            while text.ends_with("\n\n") {
                text.pop();
            }
            text
        }
    }

    /// The console's output and the bar share one screen, as on a real terminal.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Screen>>);

    impl fmt::Debug for Shared {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Shared")
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().put(&String::from_utf8_lossy(buf));
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl TermLike for Shared {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            screen.row = screen.row.saturating_sub(n);
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.0.lock().unwrap().row += n;
            Ok(())
        }
        fn move_cursor_right(&self, n: usize) -> io::Result<()> {
            self.0.lock().unwrap().col += n;
            Ok(())
        }
        fn move_cursor_left(&self, n: usize) -> io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            screen.col = screen.col.saturating_sub(n);
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            screen.draws += 1;
            screen.put(s);
            screen.put("\n");
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            if s.contains("cases ·") {
                screen.draws += 1;
            }
            screen.put(s);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            let mut screen = self.0.lock().unwrap();
            let row = screen.row;
            if let Some(line) = screen.rows.get_mut(row) {
                line.clear();
            }
            screen.col = 0;
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    fn console_text(events: &[Event], progress: Option<Progress>) -> String {
        let screen = Shared::default();
        let mut reporter = ConsoleReporter::new(Box::new(screen.clone()), Verbosity::Normal);
        if let Some(progress) = progress {
            reporter = reporter.with_progress(progress);
        }
        for event in events {
            reporter.event(event).unwrap();
        }
        reporter.finish().unwrap();
        let text = screen.0.lock().unwrap().text();
        text
    }

    /// With the bar drawn between every case line, the screen at the end holds exactly
    /// what the console prints without a bar: no piece of the bar is left in a line.
    #[test]
    fn the_bar_and_the_case_lines_do_not_garble_each_other() {
        let events = fixtures::run();
        let plain = console_text(&events, None);

        let screen = Shared::default();
        let progress =
            Progress::with_target(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        let mut reporter = ConsoleReporter::new(Box::new(screen.clone()), Verbosity::Normal)
            .with_progress(progress);
        let mut seen_bar = false;
        for event in &events {
            reporter.event(event).unwrap();
            if let EventKind::CaseFinished(_) = event.kind {
                // Between cases the bar is on screen, under the last case's lines.
                let text = screen.0.lock().unwrap().text();
                let last = text.lines().last().unwrap_or_default().to_owned();
                assert!(
                    last.contains(" cases · "),
                    "no bar under the lines:\n{text}"
                );
                seen_bar = true;
            }
        }
        reporter.finish().unwrap();
        assert!(seen_bar);
        assert!(screen.0.lock().unwrap().draws > 4);
        let text = screen.0.lock().unwrap().text();
        assert_eq!(text, plain);
    }

    #[test]
    fn the_bar_shows_cases_done_of_the_total_and_the_running_ones() {
        let screen = Shared::default();
        let mut progress =
            Progress::with_target(ProgressDrawTarget::term_like(Box::new(screen.clone())));
        let events = fixtures::run();
        for event in &events[..6] {
            progress.event(event);
        }
        let text = screen.0.lock().unwrap().text();
        let bar = text.lines().last().unwrap();
        assert!(bar.contains("] 1/4 cases · 1 failed · running: motd › default [debian12]"));
        assert!(bar.contains("00:00:0"), "no elapsed time in {bar:?}");
    }

    #[test]
    fn a_hidden_bar_changes_nothing_in_the_console() {
        let events = fixtures::run();
        assert_eq!(
            console_text(&events, Some(hidden())),
            console_text(&events, None)
        );
    }
}
