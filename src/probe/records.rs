//! Reading the probe's answer: a list of facts with their sizes (`wc -c`'s lines, each
//! `<size> <seq>.<check>.<field>`), then all their bytes; so any bytes come back intact.

use std::collections::HashMap;

use super::script::{DATA, RECORDS};

/// Every record the probe wrote, by check id and field name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Records(HashMap<usize, HashMap<String, Vec<u8>>>);

impl Records {
    /// Parses the probe's stdout. Anything that is not the answer (noise before it, a
    /// list line that does not parse, a cut-off end) is ignored: a check without
    /// records reports that.
    pub fn parse(output: &[u8]) -> Records {
        let mut records: HashMap<usize, HashMap<String, Vec<u8>>> = HashMap::new();
        let start = format!("\n{RECORDS} ");
        let Some(at) = find(output, start.as_bytes()) else {
            return Records(records);
        };
        let rest = &output[at + start.len()..];
        let data = format!("\n{DATA}\n");
        let Some(split) = find(rest, data.as_bytes()) else {
            return Records(records);
        };
        let listing = String::from_utf8_lossy(&rest[..split]);
        let mut body = &rest[split + data.len()..];
        let mut lines = listing.lines();
        let count: usize = lines
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        for line in lines.take(count) {
            let mut words = line.split_whitespace();
            let (Some(size), Some(name)) = (words.next(), words.next()) else {
                break;
            };
            let Ok(size) = size.parse::<usize>() else {
                break;
            };
            if body.len() < size {
                break;
            }
            let (bytes, after) = body.split_at(size);
            body = after;
            let mut parts = name.splitn(3, '.');
            let (Some(_seq), Some(id), Some(field)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Ok(id) = id.parse::<usize>() {
                records
                    .entry(id)
                    .or_default()
                    .insert(field.to_string(), bytes.to_vec());
            }
        }
        Records(records)
    }

    /// The probe's answer for these facts, as the script would send it (for tests).
    #[cfg(test)]
    pub fn encode(facts: &[(usize, &str, &[u8])]) -> Vec<u8> {
        let mut out = format!("\n{RECORDS} {}\n", facts.len()).into_bytes();
        for (seq, (id, field, bytes)) in facts.iter().enumerate() {
            out.extend_from_slice(
                format!("{} {}.{id}.{field}\n", bytes.len(), 100_001 + seq).as_bytes(),
            );
        }
        out.extend_from_slice(format!("{DATA}\n").as_bytes());
        for (_, _, bytes) in facts {
            out.extend_from_slice(bytes);
        }
        out
    }

    /// The fields of one check (empty when the probe said nothing of it).
    pub fn of(&self, id: usize) -> Fields<'_> {
        Fields(self.0.get(&id))
    }
}

/// One check's records.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a>(Option<&'a HashMap<String, Vec<u8>>>);

impl Fields<'_> {
    pub fn is_empty(&self) -> bool {
        self.0.is_none_or(HashMap::is_empty)
    }

    /// A field as text (invalid UTF-8 replaced).
    pub fn text(&self, field: &str) -> Option<String> {
        self.0?
            .get(field)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The names of the fields that start with `prefix`, without it, sorted.
    pub fn names_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .0
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.strip_prefix(prefix).map(str::to_string))
            .collect();
        names.sort();
        names
    }

    /// A field as trimmed text.
    pub fn word(&self, field: &str) -> Option<String> {
        self.text(field).map(|t| t.trim().to_string())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_any_bytes() {
        let mut out = b"noise before\n".to_vec();
        out.extend(Records::encode(&[
            (0, "content", b"ab\n@@rehearsal-data\n\xff"),
            (1, "exit", b"0"),
            (1, "attr:ensure", b""),
        ]));
        let r = Records::parse(&out);
        assert_eq!(
            r.of(0).text("content").unwrap(),
            "ab\n@@rehearsal-data\n\u{fffd}"
        );
        assert_eq!(r.of(1).word("exit").as_deref(), Some("0"));
        assert_eq!(r.of(1).names_with_prefix("attr:"), ["ensure"]);
        assert!(r.of(2).is_empty());
    }

    #[test]
    fn a_cut_off_answer_keeps_what_is_whole() {
        let mut out = Records::encode(&[(0, "exists", b"true"), (0, "stat", b"a long stat line")]);
        out.truncate(out.len() - 3);
        let r = Records::parse(&out);
        assert_eq!(r.of(0).word("exists").as_deref(), Some("true"));
        assert_eq!(r.of(0).text("stat"), None);
        assert!(Records::parse(b"the probe died").of(0).is_empty());
    }

    #[test]
    fn reads_wc_output_with_padding_and_a_total_line() {
        let out = b"\n@@rehearsal-records 2\n 3 100001.0.exists\n11 r000001.4.attr:ensure\n14 total\n@@rehearsal-data\nyesinstalled!!";
        let r = Records::parse(out);
        assert_eq!(r.of(0).text("exists").as_deref(), Some("yes"));
        assert_eq!(r.of(4).text("attr:ensure").as_deref(), Some("installed!!"));
    }
}
