//! Where things are written in a spec that are judged after it parses: each check's line,
//! so a failed check can be reported at that line (Gerrit inline comments, GitHub
//! annotations), and each entry of `platforms:`, so an unknown platform (known only once
//! the platform definitions are read) is refused at its line and column. serde gives
//! deserializers no positions, so the spec's text is read a second time as a stream of
//! YAML events, which carry marks; only the shapes `cases: <name>: expect: [...]` and
//! `platforms: [...]` are followed.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// For each case name, the 1-based line of each of its `expect` entries, in order.
pub fn check_lines(source: &str) -> HashMap<String, Vec<usize>> {
    positions(source).checks
}

/// The positions [`positions`] finds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Positions {
    /// For each case name, the 1-based line of each of its `expect` entries, in order.
    pub checks: HashMap<String, Vec<usize>>,
    /// The 1-based line and column of each entry of the top-level `platforms:`, in order.
    pub platforms: Vec<(usize, usize)>,
    /// The 1-based line of each entry of the top-level `fixtures:`, in order.
    pub fixtures: Vec<usize>,
}

/// Reads the positions of the checks and of the `platforms:` entries.
pub fn positions(source: &str) -> Positions {
    let mut collector = Collector::default();
    let mut parser = Parser::new_from_str(source);
    // A spec that does not parse was refused before this runs; positions are a nicety.
    let _ = parser.load(&mut collector, false);
    Positions {
        checks: collector.lines,
        platforms: collector.platforms,
        fixtures: collector.fixtures,
    }
}

enum Frame {
    Map { key: Option<String> },
    Seq { index: usize },
}

#[derive(Default)]
struct Collector {
    frames: Vec<Frame>,
    lines: HashMap<String, Vec<usize>>,
    platforms: Vec<(usize, usize)>,
    fixtures: Vec<usize>,
}

impl Collector {
    /// A value node starts at `mark`: note it when it is an entry of a case's `expect`.
    fn value_at(&mut self, mark: Marker) {
        if let [Frame::Map {
            key: Some(platforms),
        }, Frame::Seq { .. }] = self.frames.as_slice()
        {
            if platforms == "platforms" {
                // yaml-rust2's columns count from 0.
                self.platforms.push((mark.line(), mark.col() + 1));
            } else if platforms == "fixtures" {
                self.fixtures.push(mark.line());
            }
        }
        if let [Frame::Map { key: Some(cases) }, Frame::Map { key: Some(case) }, Frame::Map { key: Some(expect) }, Frame::Seq { .. }] =
            self.frames.as_slice()
        {
            if cases == "cases" && expect == "expect" {
                self.lines
                    .entry(case.clone())
                    .or_default()
                    .push(mark.line());
            }
        }
    }

    /// A value is complete: the enclosing map waits for a key, a sequence moves on.
    fn value_done(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Map { key }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }

    fn wants_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { key: None }))
    }
}

impl MarkedEventReceiver for Collector {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, ..) if self.wants_key() => {
                if let Some(Frame::Map { key }) = self.frames.last_mut() {
                    *key = Some(text);
                }
            }
            Event::Scalar(..) | Event::Alias(_) => {
                self.value_at(mark);
                self.value_done();
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                // A map or list used as a key is not a spec shape: track it, note nothing.
                if !self.wants_key() {
                    self.value_at(mark);
                } else if let Some(Frame::Map { key }) = self.frames.last_mut() {
                    *key = Some(String::new());
                }
                self.frames.push(match event {
                    Event::MappingStart(..) => Frame::Map { key: None },
                    _ => Frame::Seq { index: 0 },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.frames.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_block_and_flow_entries() {
        let src = "\
platforms: [debian12]
cases:
  default:
    manifest: include x
    expect:
      - file: /etc/motd
        mode: '0644'

      - service: cron
  'second case':
    expect: [{user: root}, {group: root}]
  none:
    manifest: x
other:
  expect:
    - file: /not/a/case
";
        let lines = check_lines(src);
        assert_eq!(lines["default"], [6, 9]);
        assert_eq!(lines["second case"], [11, 11]);
        assert!(!lines.contains_key("none"));
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn positions_of_platform_entries_in_flow_and_block_lists() {
        let flow = positions("platforms: [debian12, 'debian13']\ncases: {}\n");
        assert_eq!(flow.platforms, [(1, 13), (1, 23)]);
        let block = positions("cases: {}\nplatforms:\n  - debian11\n  -   debian12\n");
        assert_eq!(block.platforms, [(3, 5), (4, 7)]);
        // Only the top level's: a case's or a nested key's `platforms` is not the spec's.
        let nested = positions("cases:\n  a:\n    platforms: [x]\n");
        assert!(nested.platforms.is_empty());
    }

    #[test]
    fn broken_yaml_gives_what_it_could_read() {
        let lines = check_lines("cases:\n  a:\n    expect:\n      - file: /x\n  b: [unclosed\n");
        assert_eq!(lines["a"], [4]);
    }
}
