//! Secrets stay out of every output, against the real engine: a token put in a spec's
//! facts by mistake is printed by the manifest (a failing `fail()`, so every reporter shows
//! Puppet's output), and neither the console nor the JUnit, JSON or HTML report may show
//! it: each shows `[redacted:MY_TOKEN]` where it stood.

mod common;

use std::path::{Path, PathBuf};

use common::{module, Rehearsal};

const TOKEN: &str = "tok-9f8e7d6c5b4a";

/// A module whose one case fails, printing the token it has as a fact.
fn leaky(root: &Path) -> PathBuf {
    module(
        &root.join("leaky"),
        "leaky",
        format!(
            "platforms: [debian12]\n\
             facts:\n  api_token: {TOKEN}\n\
             cases:\n  prints its token:\n    \
             manifest: \"fail(\\\"the token is ${{facts['api_token']}}\\\")\"\n    \
             idempotent: false\n"
        ),
    )
}

#[test]
fn a_secret_printed_by_a_case_is_redacted_in_every_output() {
    let root = tempfile::tempdir().unwrap();
    let dir = leaky(root.path());
    let out = Rehearsal::new()
        .arg("run")
        .arg(&dir)
        .args(["-p", "debian12"])
        .junit()
        .json()
        .html()
        .env("REHEARSAL_SECRETS", "MY_TOKEN")
        .env("MY_TOKEN", TOKEN)
        .run();
    // The case fails.
    out.exit(1);
    let outputs = [
        ("stdout", out.stdout()),
        ("stderr", out.stderr()),
        ("junit", out.junit()),
        ("json", out.json_text()),
        ("html", out.html()),
    ];
    for (name, text) in &outputs {
        assert!(!text.contains(TOKEN), "{name} shows the secret:\n{text}");
    }
    // Puppet's message reached each report, redacted (so the checks above were not
    // passed by a report that shows no output at all).
    for (name, text) in &outputs[..1] {
        assert!(
            text.contains("the token is [redacted:MY_TOKEN]"),
            "{name} should show the redacted message:\n{text}"
        );
    }
    for (name, text) in &outputs[2..] {
        assert!(
            text.contains("[redacted:MY_TOKEN]"),
            "{name} should show the redacted message:\n{text}"
        );
    }
}

#[test]
fn a_secret_too_short_to_redact_is_warned_about() {
    let root = tempfile::tempdir().unwrap();
    let dir = leaky(root.path());
    // `list` needs no engine; the warning comes before any command runs.
    Rehearsal::new()
        .arg("list")
        .arg(&dir)
        .env("REHEARSAL_SECRETS", "PIN")
        .env("PIN", "123")
        .run()
        .success()
        .stderr_contains(
            "warning: the secret PIN is shorter than 4 characters and is not redacted",
        );
}
