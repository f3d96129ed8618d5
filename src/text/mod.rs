//! Text hygiene for everything a run shows: terminal codes and characters invalid in XML
//! taken out ([`sanitize`]), secrets replaced by their names ([`redact`]), and paths
//! shown relative to where the user stands ([`relative`]). A leaf:
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
