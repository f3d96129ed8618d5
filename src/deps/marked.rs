//! A YAML document as a tree whose every node knows its line and column, for files whose
//! shape is looser than serde's derives read well (`.fixtures.yml`: a map of names to a
//! string or a map, under categories), so every error can point at its entry.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A node and where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text (`~` and an empty value are [`Value::Null`]).
    Text(String),
    Null,
    /// Keys in order, each with its own position.
    Map(Vec<(Node, Node)>),
    List(Vec<Node>),
}

impl Node {
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The map's entries whose key is text; `None` when this is not a map.
    pub fn entries(&self) -> Option<Vec<(&str, &Node, &Node)>> {
        match &self.value {
            Value::Map(entries) => Some(
                entries
                    .iter()
                    .filter_map(|(k, v)| k.text().map(|key| (key, k, v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .into_iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| v)
    }

    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Text(_) => "a string",
            Value::Null => "nothing",
            Value::Map(_) => "a map",
            Value::List(_) => "a list",
        }
    }
}

/// The first document of `source`, or the parser's complaint and where it stands.
/// `None` for an empty document.
pub fn parse(source: &str) -> Result<Option<Node>, (String, usize, usize)> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    parser.load(&mut builder, false).map_err(|err| {
        let mark = err.marker();
        (err.info().to_string(), mark.line(), mark.col() + 1)
    })?;
    Ok(builder.done)
}

#[derive(Default)]
struct Builder {
    /// Open collections: the node being filled, its anchor (0: none), and for a map the
    /// key waiting for its value.
    open: Vec<(Node, usize, Option<Node>)>,
    done: Option<Node>,
    /// Anchored nodes, for their aliases (`spec::scan` bounds how much aliases expand).
    anchors: std::collections::HashMap<usize, Node>,
}

impl Builder {
    fn add(&mut self, node: Node) {
        match self.open.last_mut() {
            None => {
                if self.done.is_none() {
                    self.done = Some(node);
                }
            }
            Some((parent, _, pending)) => match &mut parent.value {
                Value::List(items) => items.push(node),
                Value::Map(entries) => match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => entries.push((key, node)),
                },
                _ => {}
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = |value| Node {
            value,
            line: mark.line(),
            column: mark.col() + 1,
        };
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let plain = matches!(style, yaml_rust2::scanner::TScalarStyle::Plain);
                let value = if plain && matches!(text.as_str(), "" | "~" | "null" | "Null") {
                    Value::Null
                } else {
                    Value::Text(text)
                };
                let node = at(value);
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.add(node);
            }
            Event::Alias(anchor) => {
                let node = self
                    .anchors
                    .get(&anchor)
                    .cloned()
                    .unwrap_or(at(Value::Null));
                self.add(node);
            }
            Event::MappingStart(anchor, _) => {
                self.open.push((at(Value::Map(Vec::new())), anchor, None))
            }
            Event::SequenceStart(anchor, _) => {
                self.open.push((at(Value::List(Vec::new())), anchor, None))
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((mut node, anchor, _)) = self.open.pop() {
                    // A block map's start mark is past its first key: it starts at that key.
                    if let Value::Map(entries) = &node.value {
                        if let Some((key, _)) = entries.first() {
                            if (key.line, key.column) < (node.line, node.column) {
                                (node.line, node.column) = (key.line, key.column);
                            }
                        }
                    }
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.add(node);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_knows_where_it_stands() {
        let doc = parse(
            "fixtures:\n  symlinks:\n    a: x\n  repositories:\n    b:\n      repo: y\n    c: ~\n",
        )
        .unwrap()
        .unwrap();
        let fixtures = doc.get("fixtures").unwrap();
        assert_eq!((fixtures.line, fixtures.column), (2, 3));
        let a = fixtures.get("symlinks").unwrap().get("a").unwrap();
        assert_eq!((a.text(), a.line, a.column), (Some("x"), 3, 8));
        let b = fixtures.get("repositories").unwrap().get("b").unwrap();
        assert_eq!(b.get("repo").unwrap().line, 6);
        assert_eq!(
            fixtures
                .get("repositories")
                .unwrap()
                .get("c")
                .unwrap()
                .value,
            Value::Null
        );
    }

    #[test]
    fn a_syntax_error_says_where() {
        let (message, line, _) = parse("fixtures:\n  a: [b\n").unwrap_err();
        assert!(!message.is_empty());
        assert!(line >= 2, "{line}");
    }

    #[test]
    fn an_alias_is_its_anchored_node() {
        let doc = parse("a: &x { repo: r }\nb: *x\n").unwrap().unwrap();
        assert_eq!(doc.get("b").unwrap().get("repo").unwrap().text(), Some("r"));
    }

    #[test]
    fn an_empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }
}
