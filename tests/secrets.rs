//! Secrets stay out of every output, against the real engine: a token put in a spec's
//! facts by mistake is printed by the manifest (a failing `fail()`, so every reporter shows
//! Puppet's output), and neither the console nor the JUnit, JSON or HTML report may show
//! it: each shows `[redacted:MY_TOKEN]` where it stood.

use std::path::Path;
use std::process::Command;

const TOKEN: &str = "tok-9f8e7d6c5b4a";

fn module(root: &Path) -> std::path::PathBuf {
    let dir = root.join("leaky");
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(dir.join("manifests/init.pp"), "class leaky { }\n").unwrap();
    std::fs::write(
        dir.join("rehearsal.yaml"),
        format!(
            "platforms: [debian12]\n\
             facts:\n  api_token: {TOKEN}\n\
             cases:\n  prints its token:\n    \
             manifest: \"fail(\\\"the token is ${{facts['api_token']}}\\\")\"\n    \
             idempotent: false\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn a_secret_printed_by_a_case_is_redacted_in_every_output() {
    let root = tempfile::tempdir().unwrap();
    let dir = module(root.path());
    let reports = root.path().join("reports");
    let (junit, json, html) = (
        reports.join("junit.xml"),
        reports.join("report.json"),
        reports.join("report.html"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_rehearsal"))
        .arg("run")
        .arg(&dir)
        .args(["-p", "debian12", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .env("REHEARSAL_SECRETS", "MY_TOKEN")
        .env("MY_TOKEN", TOKEN)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the case fails:\n{stdout}\n{stderr}"
    );
    let outputs = [
        ("stdout", stdout.to_string()),
        ("stderr", stderr.to_string()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("json", std::fs::read_to_string(&json).unwrap()),
        ("html", std::fs::read_to_string(&html).unwrap()),
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
    let dir = module(root.path());
    // `list` needs no engine; the warning comes before any command runs.
    let out = Command::new(env!("CARGO_BIN_EXE_rehearsal"))
        .arg("list")
        .arg(&dir)
        .env("REHEARSAL_SECRETS", "PIN")
        .env("PIN", "123")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the secret PIN is shorter than 4 characters and is not redacted"),
        "{stderr}"
    );
}
