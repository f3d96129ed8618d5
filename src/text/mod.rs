//! Text hygiene for everything a run shows: terminal codes and characters invalid in XML
//! taken out ([`sanitize`]), secrets replaced by their names ([`redact`]), and paths
//! shown relative to where the user stands ([`relative`]), and counted nouns
//! ([`plural`]). A leaf:
//! the runner, the probe and every reporter clean text the same way.

pub mod redact;
pub mod sanitize;

/// Paths in a message, relative to the current directory when inside it: what the
/// command line and the top-level error show.
pub fn relative(text: &str) -> String {
    match std::env::current_dir() {
        Ok(cwd) => text.replace(&format!("{}/", cwd.display()), ""),
        Err(_) => text.to_string(),
    }
}

/// `one` for 1, else `many`: `format!("{n} {}", plural(n, "case", "cases"))`.
pub fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}
