//! Secrets never reach a report. The values of the environment variables that hold
//! credentials (the harness's own, [`BUILT_IN`], and those the user names in
//! `REHEARSAL_SECRETS=NAME,NAME`) are replaced by `[redacted:NAME]` wherever they appear in
//! text from a run: a manifest that prints a token, a fact that holds one by mistake.
//!
//! The redactor is set once, by the command line, before anything runs; [`clean`], which
//! every reporter already passes container text through, applies it, so the console,
//! JUnit, JSON, HTML, Gerrit comments and GitHub annotations all get redacted text.
//!
//! [`clean`]: super::sanitize::clean

use std::sync::OnceLock;

use regex::{Captures, Regex};

/// Environment variables that always hold secrets: the credentials rehearsal itself uses.
pub const BUILT_IN: &[&str] = &["GERRIT_HTTP_PASSWORD"];

/// The variable naming more secret variables, separated by commas.
pub const SECRETS_VAR: &str = "REHEARSAL_SECRETS";

/// Values shorter than this are not redacted: `yes` or `1` would shred every report, and
/// hide nothing worth hiding.
pub const MIN_LEN: usize = 4;

static GLOBAL: OnceLock<Redactor> = OnceLock::new();

/// Replaces known secret values by their name.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Every value, longest first (so that a secret holding another is replaced whole),
    /// as one alternation.
    pattern: Option<Regex>,
    /// The name of each value, by the value.
    names: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor for these `(name, value)` pairs; values shorter than [`MIN_LEN`] are left
    /// out and their names returned, so that the caller can warn.
    pub fn new(secrets: impl IntoIterator<Item = (String, String)>) -> (Redactor, Vec<String>) {
        let mut names: Vec<(String, String)> = Vec::new();
        let mut too_short = Vec::new();
        for (name, value) in secrets {
            if value.chars().count() < MIN_LEN {
                too_short.push(name);
            } else if !names.iter().any(|(v, _)| *v == value) {
                names.push((value, name));
            }
        }
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let pattern = (!names.is_empty()).then(|| {
            let alternatives: Vec<String> = names.iter().map(|(v, _)| regex::escape(v)).collect();
            Regex::new(&alternatives.join("|")).expect("escaped literals always compile")
        });
        (Redactor { pattern, names }, too_short)
    }

    /// The secrets named by the environment: [`BUILT_IN`] and `REHEARSAL_SECRETS`'s
    /// names, each with its value when set. `lookup` reads a variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> (Redactor, Vec<String>) {
        let mut names: Vec<String> = BUILT_IN.iter().map(|n| n.to_string()).collect();
        if let Some(more) = lookup(SECRETS_VAR) {
            names.extend(
                more.split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_string),
            );
        }
        names.dedup();
        let secrets = names
            .into_iter()
            .filter_map(|name| lookup(&name).filter(|v| !v.is_empty()).map(|v| (name, v)));
        Redactor::new(secrets)
    }

    /// `text` with every secret value replaced by `[redacted:NAME]`.
    pub fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match &self.pattern {
            Some(pattern) => pattern.replace_all(text, |caps: &Captures| {
                let value = &caps[0];
                let name = self
                    .names
                    .iter()
                    .find(|(v, _)| v == value)
                    .map(|(_, n)| n.as_str())
                    .unwrap_or("secret");
                format!("[redacted:{name}]")
            }),
            None => text.into(),
        }
    }

    /// How many secret values it replaces.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Sets the redactor for the whole process, from its environment. Returns a warning for
/// each secret too short to redact. Later calls change nothing.
pub fn init_from_env() -> Vec<String> {
    let (redactor, too_short) = Redactor::from_lookup(|name| std::env::var(name).ok());
    if GLOBAL.set(redactor).is_err() {
        return Vec::new();
    }
    too_short
        .into_iter()
        .map(|name| {
            format!(
                "warning: the secret {name} is shorter than {MIN_LEN} characters and is not \
                 redacted from reports (hint: use a longer value, or leave it out of \
                 {SECRETS_VAR})"
            )
        })
        .collect()
}

/// `text` with the process's secrets redacted (unchanged before [`init_from_env`]).
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    match GLOBAL.get() {
        Some(redactor) => redactor.redact(text),
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(pairs: &[(&str, &str)]) -> Redactor {
        Redactor::new(pairs.iter().map(|(n, v)| (n.to_string(), v.to_string()))).0
    }

    #[test]
    fn every_occurrence_is_replaced_by_its_name() {
        let r = redactor(&[("TOKEN", "hunter22"), ("PASS", "s3cr3t!")]);
        assert_eq!(
            r.redact("login hunter22 with s3cr3t! then hunter22hunter22."),
            "login [redacted:TOKEN] with [redacted:PASS] then [redacted:TOKEN][redacted:TOKEN]."
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn a_secret_holding_another_is_replaced_whole() {
        let r = redactor(&[("SHORT", "abcd"), ("LONG", "xxabcdxx")]);
        assert_eq!(
            r.redact("xxabcdxx abcd"),
            "[redacted:LONG] [redacted:SHORT]"
        );
    }

    #[test]
    fn regex_characters_in_values_are_literal() {
        let r = redactor(&[("P", "a.b*c(d")]);
        assert_eq!(r.redact("a.b*c(d aXbbc(d"), "[redacted:P] aXbbc(d");
    }

    #[test]
    fn short_values_are_left_out_and_named() {
        let (r, short) = Redactor::new([
            ("A".to_string(), "yes".to_string()),
            ("B".to_string(), "long enough".to_string()),
        ]);
        assert_eq!(short, ["A"]);
        assert_eq!(r.len(), 1);
        assert_eq!(r.redact("yes, long enough"), "yes, [redacted:B]");
    }

    #[test]
    fn secrets_come_from_the_built_in_names_and_rehearsal_secrets() {
        let env = |name: &str| {
            match name {
                "GERRIT_HTTP_PASSWORD" => Some("gerrit-pw"),
                "REHEARSAL_SECRETS" => Some(" MY_TOKEN, ,OTHER,UNSET "),
                "MY_TOKEN" => Some("tok-123456"),
                "OTHER" => Some("ab"),
                "UNRELATED" => Some("visible"),
                _ => None,
            }
            .map(str::to_string)
        };
        let (r, short) = Redactor::from_lookup(env);
        assert_eq!(short, ["OTHER"]);
        assert_eq!(
            r.redact("gerrit-pw tok-123456 visible ab"),
            "[redacted:GERRIT_HTTP_PASSWORD] [redacted:MY_TOKEN] visible ab"
        );
    }

    #[test]
    fn nothing_to_redact_changes_nothing() {
        let (r, short) = Redactor::from_lookup(|_| None);
        assert!(r.is_empty() && short.is_empty());
        assert!(matches!(
            r.redact("text"),
            std::borrow::Cow::Borrowed("text")
        ));
    }
}
