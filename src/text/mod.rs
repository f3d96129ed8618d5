//! Text hygiene for everything a run shows: terminal codes and characters invalid in XML
//! taken out ([`sanitize`]), and secrets replaced by their names ([`redact`]). A leaf:
//! the runner, the probe and every reporter clean text the same way.

pub mod redact;
pub mod sanitize;
