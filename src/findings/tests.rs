//! The findings of case reports made by hand: where each kind of failure goes, from the
//! reports' fields, and the text it reads.

use std::path::PathBuf;
use std::time::Duration;

use super::paths::{key_of, SpecFile};
use super::*;
use crate::outcome::{CaseId, CheckFailure, CheckReport, PuppetError};

/// The spec of the `broken` module in [`repo`]; the review's tests use it too.
pub(crate) const SPEC: &str = "\
platforms: [debian11, debian12, debian13]
prepare: |
  package { 'curl': ensure => installed }
  notify { 'prepared': }
cases:
  # A comment between cases.
  wrong mode:
    manifest: \"file { '/etc/broken.conf': ensure => file, mode => '0600' }\"
    expect:
      - file: /etc/broken.conf
        mode: \"0644\"
  not idempotent:
    manifest: \"exec { 'stamp': command => '/bin/date >> /tmp/stamp' }\"
  compile error:
    manifest: include broken::syntax
  'inline: quoted':
    manifest: |
      notice('fine')
      file { '/x': ensure => fil }
";

/// A manifest that does not parse.
const SYNTAX_PP: &str = "\
# Does not parse: the attribute has no value.
class broken::syntax {
  file { '/etc/syntax.conf':
    ensure =>
  }
}
";

/// A repository in a temporary directory: `modules/broken/{rehearsal.yaml,manifests/syntax.pp}`.
pub(crate) fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let module = dir.path().join("modules/broken");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("rehearsal.yaml"), SPEC).unwrap();
    std::fs::write(module.join("manifests/syntax.pp"), SYNTAX_PP).unwrap();
    dir
}

fn case(
    name: &str,
    platform: &str,
    steps: Vec<StepReport>,
    checks: Vec<CheckReport>,
) -> CaseReport {
    CaseReport {
        id: CaseId {
            module: "broken".into(),
            case: name.into(),
            platform: platform.into(),
        },
        spec_file: PathBuf::from("modules/broken/rehearsal.yaml"),
        started_at: chrono::DateTime::UNIX_EPOCH,
        duration: Duration::from_secs(5),
        steps,
        checks,
        kept_container: None,
        removal: Duration::ZERO,
        fixtures: Vec::new(),
        attempts: Vec::new(),
    }
}

fn step(step: Step, status: Status, message: &str, errors: Vec<PuppetError>) -> StepReport {
    StepReport {
        step,
        status,
        duration: Duration::from_secs(1),
        message: Some(message.into()),
        errors,
        output: String::new(),
        slowest: Vec::new(),
        without_driver: false,
        applied: Vec::new(),
    }
}

fn located(file: &str, line: u32, message: &str) -> PuppetError {
    PuppetError {
        file: file.into(),
        line,
        column: Some(3),
        message: message.into(),
    }
}

fn at(path: &str, line: u32) -> Place {
    Place::Line {
        path: path.into(),
        line,
    }
}

#[test]
fn case_keys_are_found_under_cases_quoted_or_not() {
    let spec = SpecFile {
        repo_path: Some("modules/broken/rehearsal.yaml".into()),
        text: Some(SPEC.into()),
    };
    assert_eq!(spec.top_key("prepare"), Some(2));
    assert_eq!(spec.case_line("wrong mode"), Some(7));
    assert_eq!(spec.case_line("compile error"), Some(14));
    assert_eq!(spec.case_line("inline: quoted"), Some(16));
    // Unknown case: the `cases:` line.
    assert_eq!(spec.case_line("nope"), Some(5));
    assert_eq!(spec.manifest_key("inline: quoted"), Some(17));
    assert_eq!(
        spec.code_line(spec.manifest_key("inline: quoted"), 2),
        Some(19)
    );
    assert_eq!(spec.code_line(spec.manifest_key("wrong mode"), 1), Some(8));
    assert_eq!(spec.code_line(spec.top_key("prepare"), 2), Some(4));

    assert_eq!(key_of("  \"a \\\"b\\\"\": x"), Some((2, "a \"b\"".into())));
    assert_eq!(key_of("    'it''s': x"), Some((4, "it's".into())));
    assert_eq!(key_of("cases:   # all of them"), Some((0, "cases".into())));
    assert_eq!(key_of("  - file: /x"), None);
    assert_eq!(key_of("  # note: this"), None);
}

/// The place comes from the error's fields: the message is only quoted, never read (here
/// it names no place at all).
#[test]
fn a_puppet_errors_place_is_its_file_and_line_fields() {
    let dir = repo();
    let error = located(
        "modules/broken/manifests/syntax.pp",
        5,
        "Error: Syntax error at '}'",
    );
    let cases: Vec<CaseReport> = ["debian12", "debian13"]
        .iter()
        .map(|p| {
            case(
                "compile error",
                p,
                vec![step(
                    Step::Apply,
                    Status::Failed,
                    "puppet apply failed (exit 1):\nError: Syntax error at '}'",
                    vec![error.clone()],
                )],
                vec![],
            )
        })
        .collect();
    let found = of(cases.iter().map(|c| (c.status(), c)), dir.path(), None);
    assert_eq!(found.findings.len(), 1, "{found:#?}");
    let finding = &found.findings[0];
    assert_eq!(finding.place, at("modules/broken/manifests/syntax.pp", 5));
    assert_eq!(
        finding.message(),
        "apply failed (broken › compile error on debian12, debian13):\n    Error: Syntax error at '}'"
    );
    assert_eq!(
        found.summaries,
        [Summary {
            module: "broken".into(),
            case: "compile error".into(),
            text: "apply failed at modules/broken/manifests/syntax.pp:5".into(),
            platforms: ["debian12", "debian13"].map(String::from).into(),
        }]
    );
}

#[test]
fn the_inline_manifest_and_prepare_are_lines_of_the_spec() {
    let dir = repo();
    let inline = case(
        "inline: quoted",
        "debian12",
        vec![step(
            Step::Apply,
            Status::Failed,
            "puppet apply failed (exit 1)",
            vec![located(
                "/etc/rehearsal/case/site.pp",
                2,
                "Error: Invalid value",
            )],
        )],
        vec![],
    );
    let prepare = case(
        "wrong mode",
        "debian12",
        vec![step(
            Step::Prepare,
            Status::Error,
            "prepare (broken) failed on debian12, so the case did not start",
            vec![located("/etc/rehearsal/case/prepare.pp", 2, "Error: x")],
        )],
        vec![],
    );
    let cases = [inline, prepare];
    let found = of(cases.iter().map(|c| (c.status(), c)), dir.path(), None);
    let places: Vec<&Place> = found.findings.iter().map(|f| &f.place).collect();
    assert_eq!(
        places,
        [
            &at("modules/broken/rehearsal.yaml", 4),
            &at("modules/broken/rehearsal.yaml", 19)
        ]
    );
}

#[test]
fn a_failed_check_is_at_its_line_with_its_failures_as_they_read() {
    let dir = repo();
    let check = CheckReport {
        label: "file /etc/broken.conf".into(),
        status: Status::Failed,
        failures: vec![
            CheckFailure::mismatch("mode", "0644", "0600"),
            CheckFailure::StillFailing {
                after: Duration::from_secs(30),
                tries: 28,
                every: Duration::from_secs(1),
            },
        ],
        line: Some(10),
    };
    let cases = [case("wrong mode", "debian12", vec![], vec![check])];
    let found = of(cases.iter().map(|c| (c.status(), c)), dir.path(), None);
    assert_eq!(
        found.findings[0].place,
        at("modules/broken/rehearsal.yaml", 10)
    );
    assert_eq!(
        found.findings[0].message(),
        "check file /etc/broken.conf failed (broken › wrong mode on debian12):\n    \
         mode: expected 0644, got 0600\n    still failing after 30s (28 tries, every 1s)"
    );
    assert_eq!(
        found.summaries[0].text,
        "check file /etc/broken.conf failed: mode: expected 0644, got 0600"
    );
}

#[test]
fn the_harness_trouble_and_passed_cases_are_no_finding() {
    let dir = repo();
    let start = case(
        "wrong mode",
        "debian12",
        vec![step(
            Step::Start,
            Status::Error,
            "failed to start the container",
            vec![],
        )],
        vec![],
    );
    let passed = case("compile error", "debian12", vec![], vec![]);
    let found = of(
        [(start.status(), &start), (Status::Passed, &passed)],
        dir.path(),
        None,
    );
    assert!(found.findings.is_empty(), "{found:#?}");
    assert_eq!(found.summaries.len(), 1);
    assert_eq!(
        found.summaries[0].text,
        "start errored: failed to start the container"
    );
}

#[test]
fn a_spec_outside_the_repository_is_the_patch_set() {
    let dir = repo();
    let outside = tempfile::tempdir().unwrap();
    let mut lost = case(
        "not idempotent",
        "debian12",
        vec![step(
            Step::Idempotent,
            Status::Failed,
            "the second apply changed 1 resource: Exec[stamp]",
            vec![],
        )],
        vec![],
    );
    lost.spec_file = outside.path().join("rehearsal.yaml");
    let found = of([(lost.status(), &lost)], dir.path(), Some(dir.path()));
    assert_eq!(found.findings[0].place, Place::Patchset);
}
