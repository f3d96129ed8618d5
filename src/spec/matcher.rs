//! Matchers: how a spec says what a value should be.
//!
//! One syntax everywhere: a plain string matches exactly (or, under `contains`, as a
//! substring), `/.../` is a regular expression, `!text` means the text must not appear.
//! Numbers and booleans are compared through their text, so `uid: 1500` equals `"1500"`.
//! Regexes are compiled while the spec is read, so a bad one is reported at its line.

use std::fmt;

use regex::Regex;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// One expected value.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// The text itself (exact, or substring under `contains`).
    Text(String),
    /// `/.../`: a regular expression, searched for; `^` and `$` match at line ends.
    Regex(Regex),
    /// `!text` or `!/re/`: must not appear.
    Not(Box<Matcher>),
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Matcher {
    /// Parses the spec syntax. The only error is a regex that does not compile.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        if let Some(rest) = text.strip_prefix('!') {
            if !rest.is_empty() {
                return Ok(Matcher::Not(Box::new(Matcher::parse(rest)?)));
            }
        }
        if text.len() >= 2 && text.starts_with('/') && text.ends_with('/') {
            let pattern = &text[1..text.len() - 1];
            return Regex::new(&format!("(?m){pattern}"))
                .map(Matcher::Regex)
                .map_err(|err| {
                    format!(
                        "invalid regex /{pattern}/: {} (hint: put a backslash before a \
                         character to match it as itself, like `\\[`; a value not wrapped in \
                         slashes is plain text)",
                        regex_trouble(&err)
                    )
                });
        }
        Ok(Matcher::Text(text.to_string()))
    }

    /// Whole-value comparison: text must equal (ignoring one trailing newline; numbers
    /// as numbers, so `1500` equals `01500`), a regex must be found.
    pub fn matches_value(&self, actual: &str) -> bool {
        match self {
            Matcher::Text(want) => {
                let actual = actual.strip_suffix('\n').unwrap_or(actual);
                actual == want
                    || matches!(
                        (want.trim().parse::<i64>(), actual.trim().parse::<i64>()),
                        (Ok(a), Ok(b)) if a == b
                    )
            }
            Matcher::Regex(re) => re.is_match(actual),
            Matcher::Not(inner) => !inner.matches_value(actual),
        }
    }

    /// Containment: text must appear anywhere, a regex must be found.
    pub fn found_in(&self, haystack: &str) -> bool {
        match self {
            Matcher::Text(want) => haystack.contains(want.as_str()),
            Matcher::Regex(re) => re.is_match(haystack),
            Matcher::Not(inner) => !inner.found_in(haystack),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Text(text) => f.write_str(text),
            Matcher::Regex(re) => write!(f, "/{}/", &re.as_str()[4..]),
            Matcher::Not(inner) => write!(f, "!{inner}"),
        }
    }
}

/// What is wrong with a regex, in one line: the regex crate's syntax errors draw the
/// pattern (with the `(?m)` added here) and a caret over several lines; its last line
/// says what is wrong.
fn regex_trouble(err: &regex::Error) -> String {
    let text = err.to_string();
    match text
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
    {
        Some(what) => what.to_string(),
        None => one_line(&text),
    }
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a scalar (string, number, boolean) as text and hands it to `check` inside the
/// deserializer, so that an error from `check` is located at the value itself.
struct ScalarWith<F>(F);

impl<'de, T, F: FnOnce(String) -> Result<T, String>> Visitor<'de> for ScalarWith<F> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v.to_string()).map_err(E::custom)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.visit_str(&v.to_string())
    }
}

/// Reads a scalar as text and checks it where it stands.
pub fn scalar_with<'de, D: Deserializer<'de>, T>(
    de: D,
    check: impl FnOnce(String) -> Result<T, String>,
) -> Result<T, D::Error> {
    de.deserialize_any(ScalarWith(check))
}

/// Reads a scalar (string, number, boolean) as its text.
pub fn scalar_text<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    scalar_with(de, Ok)
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        scalar_with(de, |text| Matcher::parse(&text))
    }
}

/// One matcher or a list of them, all of which must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matchers(pub Vec<Matcher>);

impl<'de> Deserialize<'de> for Matchers {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> Visitor<'de> for OneOrMany {
            type Value = Matchers;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Matchers, E> {
                Matcher::parse(v)
                    .map(|m| Matchers(vec![m]))
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matchers, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matchers, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Matchers, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Matchers, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Matchers, A::Error> {
                let mut all = Vec::new();
                while let Some(m) = seq.next_element::<Matcher>()? {
                    all.push(m);
                }
                Ok(Matchers(all))
            }
        }
        de.deserialize_any(OneOrMany)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_matches_whole_value_ignoring_one_trailing_newline() {
        let m = Matcher::parse("ok").unwrap();
        assert!(m.matches_value("ok\n"));
        assert!(!m.matches_value("ok\n\n"));
        assert!(!m.matches_value("not ok"));
        assert!(m.found_in("not ok"));
    }

    #[test]
    fn regex_and_negation() {
        let m = Matcher::parse("/^listen \\d+$/").unwrap();
        assert!(m.found_in("a\nlisten 80\n"), "^ and $ match at line ends");
        assert!(!m.found_in("listen eighty"));
        let not = Matcher::parse("!debug").unwrap();
        assert!(not.found_in("info only"));
        assert!(!not.found_in("debug on"));
        let not_re = Matcher::parse("!/err(or)?/").unwrap();
        assert!(!not_re.found_in("an error"));
        assert_eq!(not_re.to_string(), "!/err(or)?/");
    }

    #[test]
    fn bad_regex_says_which() {
        let err = Matcher::parse("/a(b/").unwrap_err();
        assert!(err.starts_with("invalid regex /a(b/:"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn lone_slash_and_bang_are_text() {
        assert_eq!(Matcher::parse("/").unwrap(), Matcher::Text("/".into()));
        assert_eq!(Matcher::parse("!").unwrap(), Matcher::Text("!".into()));
    }

    #[test]
    fn numbers_compare_as_text() {
        let m: Matcher = serde_yaml::from_str("1500").unwrap();
        assert!(m.matches_value("1500"));
        let list: Matchers = serde_yaml::from_str("[a, /b+/]").unwrap();
        assert_eq!(list.0.len(), 2);
        let one: Matchers = serde_yaml::from_str("'!x'").unwrap();
        assert_eq!(one.0[0].to_string(), "!x");
    }
}
