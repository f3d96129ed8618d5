//! What serde_yaml lets through or would take too long to refuse, found in one pass over
//! the YAML events (yaml-rust2, which never expands aliases) before serde reads the text:
//!
//! - a key given twice in one map (serde_yaml keeps the last `role:` of `facts` silently);
//! - aliases that would repeat too many values (a "billion laughs" bomb, or an anchor of
//!   thousands of values used thousands of times: serde_yaml's own limit only counts
//!   alias jumps, so the quadratic kind gets through it and is expanded in full);
//! - more than one document (`---`), which serde_yaml refuses without saying where.
//!
//! Text that is not YAML at all is left to serde_yaml, whose message says why.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Aliases may stand for at most this many values in all (each alias counts the values
/// of what it names). Specs share a check list or a fact map this way, a few hundred
/// values at most; a bomb stands for billions.
pub const MAX_ALIASED_VALUES: u64 = 100_000;

/// A problem found by the scan: its message and 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub message: String,
    pub position: (usize, usize),
}

/// Scans `source`; `noun` names the file in messages ("spec", "goss file"). Keys given
/// twice are looked for when `duplicates` (goss files say it in their own words).
pub fn scan(source: &str, noun: &str, duplicates: bool) -> Result<(), Found> {
    let mut scanner = Scanner {
        noun,
        duplicates,
        ..Scanner::default()
    };
    let mut parser = Parser::new_from_str(source);
    // Text that does not parse is refused by serde_yaml, which says where and why.
    let _ = parser.load(&mut scanner, true);
    match scanner.found {
        Some(found) => Err(Found {
            position: super::error::within(source, found.position),
            ..found
        }),
        None => Ok(()),
    }
}

enum Frame {
    Map {
        /// The current entry's key, once read (`None` for a key that is not a scalar).
        key: Option<Option<String>>,
        /// Each scalar key read so far, with its line.
        seen: HashMap<String, usize>,
    },
    Seq {
        index: usize,
    },
}

#[derive(Default)]
struct Scanner<'a> {
    noun: &'a str,
    duplicates: bool,
    frames: Vec<Frame>,
    documents: usize,
    /// Values read so far, each alias counted as the values it stands for.
    values: u64,
    /// The part of `values` that aliases stand for.
    aliased: u64,
    /// For each open collection: its anchor id (0: none) and `values` before it.
    open: Vec<(usize, u64)>,
    /// The number of values each complete anchored node holds.
    anchored: HashMap<usize, u64>,
    found: Option<Found>,
}

impl Scanner<'_> {
    fn wants_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Where the current node sits, as serde_yaml writes it: `cases.a.expect[0]`.
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.frames {
            match frame {
                Frame::Map {
                    key: Some(Some(key)),
                    ..
                } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Frame::Map { .. } => {}
                Frame::Seq { index } => path.push_str(&format!("[{index}]")),
            }
        }
        path
    }

    fn refuse(&mut self, message: String, mark: Marker) {
        if self.found.is_none() {
            self.found = Some(Found {
                message,
                position: (mark.line(), mark.col() + 1),
            });
        }
    }

    /// A key (`text`, or `None` for a complex one) starts at `mark` in the innermost map.
    fn key(&mut self, text: Option<String>, mark: Marker) {
        let path = self.path();
        let duplicates = self.duplicates;
        let Some(Frame::Map { key, seen }) = self.frames.last_mut() else {
            return;
        };
        *key = Some(text.clone());
        let Some(text) = text.filter(|_| duplicates) else {
            return;
        };
        if let Some(first) = seen.get(&text) {
            let message = if path == "cases" {
                format!(
                    "cases: duplicate case name `{text}` (first at line {first}): give each \
                     case its own name"
                )
            } else {
                let at = if path.is_empty() {
                    String::new()
                } else {
                    format!("{path}: ")
                };
                format!(
                    "{at}`{text}` is given twice in the same map (first at line {first}): \
                     YAML would keep only one, so remove or rename the other"
                )
            };
            self.refuse(message, mark);
        } else {
            seen.insert(text, mark.line());
        }
    }

    /// A value is complete: the enclosing map waits for a key, a sequence moves on.
    fn value_done(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }

    fn count(&mut self, values: u64, by_alias: bool, mark: Marker) {
        self.values = self.values.saturating_add(values);
        if by_alias {
            self.aliased = self.aliased.saturating_add(values);
            if self.aliased > MAX_ALIASED_VALUES {
                let noun = self.noun;
                self.refuse(
                    format!(
                        "the {noun}'s aliases (`*name`) stand for more than \
                         {MAX_ALIASED_VALUES} values in all: refused so that it is not \
                         expanded (hint: write the values out, or use fewer aliases)"
                    ),
                    mark,
                );
            }
        }
    }
}

impl MarkedEventReceiver for Scanner<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.found.is_some() {
            return;
        }
        match event {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents == 2 {
                    let noun = self.noun;
                    self.refuse(
                        format!(
                            "a second YAML document starts here: the {noun} must be one \
                             document (hint: remove this `---` and what follows, or merge it \
                             into the first)"
                        ),
                        mark,
                    );
                }
            }
            Event::Scalar(text, style, anchor, _) => {
                self.count(1, false, mark);
                if anchor != 0 {
                    self.anchored.insert(anchor, 1);
                }
                if self.wants_key() {
                    // A null key (`: x`) is no name; serde refuses it as a key.
                    let null = style == TScalarStyle::Plain
                        && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                    self.key((!null).then_some(text), mark);
                } else {
                    self.value_done();
                }
            }
            Event::Alias(anchor) => {
                let values = self.anchored.get(&anchor).copied().unwrap_or(1);
                self.count(values, true, mark);
                if self.wants_key() {
                    self.key(None, mark);
                } else {
                    self.value_done();
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if self.wants_key() {
                    self.key(None, mark);
                }
                self.open.push((anchor, self.values));
                self.count(1, false, mark);
                self.frames.push(match event {
                    Event::MappingStart(..) => Frame::Map {
                        key: None,
                        seen: HashMap::new(),
                    },
                    _ => Frame::Seq { index: 0 },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.frames.pop();
                if let Some((anchor, before)) = self.open.pop() {
                    if anchor != 0 {
                        self.anchored.insert(anchor, self.values - before);
                    }
                }
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: &str) -> Found {
        scan(source, "spec", true).expect_err("the scan should refuse it")
    }

    #[test]
    fn ordinary_yaml_passes() {
        let src = "checks: &c\n  - file: /x\ncases:\n  a:\n    expect: *c\n  b:\n    expect: *c\n";
        assert_eq!(scan(src, "spec", true), Ok(()));
        assert_eq!(scan("", "spec", true), Ok(()));
        assert_eq!(scan("---\na: 1\n...\n", "spec", true), Ok(()));
        // Not YAML: left to serde_yaml.
        assert_eq!(scan("a: 'unclosed\n", "spec", true), Ok(()));
    }

    #[test]
    fn duplicate_keys_are_located_at_the_second() {
        let f = found("facts:\n  role: a\n  dc: x\n  role: b\n");
        assert_eq!(f.position, (4, 3));
        assert!(
            f.message
                .starts_with("facts: `role` is given twice in the same map (first at line 2)"),
            "{}",
            f.message
        );
        let f = found("cases:\n  a:\n    manifest: x\n  b: {}\n  'a':\n    manifest: y\n");
        assert_eq!(f.position, (5, 3));
        assert!(f.message.starts_with("cases: duplicate case name `a`"));
        let f = found(
            "cases:\n  a:\n    expect:\n      - file: /x\n        mode: '1'\n        mode: '2'\n",
        );
        assert_eq!(f.position, (6, 9));
        assert!(
            f.message.starts_with("cases.a.expect[0]: `mode`"),
            "{}",
            f.message
        );
        let f = found("a: 1\nb: 2\na: 3\n");
        assert!(f.message.starts_with("`a` is given twice"), "{}", f.message);
    }

    #[test]
    fn null_keys_are_left_to_serde_and_positions_stay_in_the_text() {
        assert_eq!(scan(": a\n: b\n", "spec", true), Ok(()));
        // yaml-rust2 marks the end of a text without a final line end past its last line.
        let f = found("a: 1\na: [x");
        assert_eq!(f.position, (2, 1));
    }

    #[test]
    fn same_key_in_different_maps_is_fine() {
        let src =
            "cases:\n  a: {manifest: x, facts: {role: a}}\n  b: {manifest: x, facts: {role: b}}\n";
        assert_eq!(scan(src, "spec", true), Ok(()));
    }

    #[test]
    fn a_billion_laughs_is_refused_at_the_alias_that_tips_it() {
        let mut src = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let refs = vec![format!("*l{}", level - 1); 9].join(", ");
            src.push_str(&format!("l{level}: &l{level} [{refs}]\n"));
        }
        let f = found(&src);
        assert!(
            f.message.contains("stand for more than 100000 values"),
            "{}",
            f.message
        );
        assert_eq!(f.position.0, 6, "9^5 values are first exceeded on level 5");
    }

    #[test]
    fn a_wide_anchor_used_many_times_is_refused() {
        let items = vec!["x"; 1000].join(", ");
        let uses = vec!["*a"; 101].join(", ");
        let f = found(&format!("a: &a [{items}]\nb: [{uses}]\n"));
        assert_eq!(f.position.0, 2);
        let uses = vec!["*a"; 99].join(", ");
        assert_eq!(
            scan(&format!("a: &a [{items}]\nb: [{uses}]\n"), "spec", true),
            Ok(())
        );
    }

    #[test]
    fn a_second_document_is_located() {
        let f = found("cases: {}\n---\ncases: {}\n");
        assert_eq!(f.position, (2, 1));
        assert!(f.message.starts_with("a second YAML document starts here"));
    }
}
