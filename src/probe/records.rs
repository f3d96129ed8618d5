//! Reading the probe's answer: length-prefixed records, so any bytes come back intact.

use std::collections::HashMap;

use super::script::MARKER;

/// Every record the probe wrote, by check id and field name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Records(HashMap<usize, HashMap<String, Vec<u8>>>);

impl Records {
    /// Parses the probe's stdout. Anything that is not a record (noise before the first
    /// marker, a cut-off last record) is ignored: a check without records reports that.
    pub fn parse(output: &[u8]) -> Records {
        let mut records: HashMap<usize, HashMap<String, Vec<u8>>> = HashMap::new();
        let header = format!("\n{MARKER} ");
        let mut rest = output;
        while let Some(start) = find(rest, header.as_bytes()) {
            let after = &rest[start + header.len()..];
            let Some(end) = after.iter().position(|b| *b == b'\n') else {
                break;
            };
            let line = String::from_utf8_lossy(&after[..end]);
            let mut parts = line.split(' ');
            let (Some(id), Some(field), Some(len)) = (parts.next(), parts.next(), parts.next())
            else {
                rest = &after[end..];
                continue;
            };
            let (Ok(id), Ok(len)) = (id.parse::<usize>(), len.parse::<usize>()) else {
                rest = &after[end..];
                continue;
            };
            let body = &after[end + 1..];
            if body.len() < len {
                break;
            }
            records
                .entry(id)
                .or_default()
                .insert(field.to_string(), body[..len].to_vec());
            rest = &body[len..];
        }
        Records(records)
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
        out.extend_from_slice(b"\n@@rehearsal 0 content 9\nab\n@@reh\xff");
        out.extend_from_slice(b"\n@@rehearsal 1 exit 1\n0");
        let r = Records::parse(&out);
        assert_eq!(r.of(0).text("content").unwrap(), "ab\n@@reh\u{fffd}");
        assert_eq!(r.of(1).word("exit").as_deref(), Some("0"));
        assert!(r.of(2).is_empty());
    }

    #[test]
    fn a_cut_off_record_is_dropped() {
        let r = Records::parse(b"\n@@rehearsal 0 exists 4\ntrue\n@@rehearsal 0 stat 100\nshort");
        assert_eq!(r.of(0).word("exists").as_deref(), Some("true"));
        assert_eq!(r.of(0).text("stat"), None);
    }
}
