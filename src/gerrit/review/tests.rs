use std::path::Path;

use serde_json::{json, Value};

use super::*;

const SPEC: &str = "\
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

const SYNTAX_PP: &str = "\
# Does not parse: the attribute has no value.
class broken::syntax {
  file { '/etc/syntax.conf':
    ensure =>
  }
}
";

/// A repository in a temporary directory: `modules/broken/{rehearsal.yaml,manifests/syntax.pp}`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let module = dir.path().join("modules/broken");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("rehearsal.yaml"), SPEC).unwrap();
    std::fs::write(module.join("manifests/syntax.pp"), SYNTAX_PP).unwrap();
    dir
}

fn step(step: &str, status: &str, message: Option<&str>) -> Value {
    json!({"step": step, "status": status, "duration": 1.0, "message": message, "output": ""})
}

fn case(case: &str, platform: &str, status: &str, steps: Vec<Value>, checks: Vec<Value>) -> Value {
    json!({
        "status": status,
        "id": {"module": "broken", "case": case, "platform": platform},
        "spec_file": "modules/broken/rehearsal.yaml",
        "started_at": "2024-05-01T10:00:00Z",
        "duration": 5.0,
        "steps": steps,
        "checks": checks,
        "kept_container": null
    })
}

fn compile_error(platform: &str) -> Value {
    // Puppet 8's words on debian13 and 7's on debian12 are the same; 5.5 says `at F:L:C`.
    let error = if platform == "debian11" {
        format!("Error: Could not parse for environment production: Syntax error at '}}' at modules/broken/manifests/syntax.pp:5:3 on node broken-{platform}")
    } else {
        format!("Error: Could not parse for environment production: Syntax error at '}}' (file: modules/broken/manifests/syntax.pp, line: 5, column: 3) on node broken-{platform}")
    };
    case(
        "compile error",
        platform,
        "failed",
        vec![
            step("start", "passed", None),
            step(
                "apply",
                "failed",
                Some(&format!("puppet apply failed (exit 1):\n{error}")),
            ),
            step("idempotent", "skipped", None),
        ],
        vec![],
    )
}

fn wrong_mode(platform: &str, with_line: bool) -> Value {
    let mut check = json!({"label": "file /etc/broken.conf", "status": "failed",
                           "failures": ["mode: expected 0644, got 0600"]});
    if with_line {
        check["line"] = json!(10);
    }
    case(
        "wrong mode",
        platform,
        "failed",
        vec![
            step("start", "passed", None),
            step("apply", "passed", None),
            step("idempotent", "passed", None),
            step("verify", "passed", None),
        ],
        vec![check],
    )
}

fn report(cases: Vec<Value>) -> Report {
    let document = json!({"version": 1, "totals": {}, "cases": cases});
    Report::from_json(&document.to_string()).unwrap()
}

fn build(report: &Report, base: &Path) -> ReviewInput {
    let options = Options {
        build_url: Some("https://jenkins.example.org/job/puppet/42/".into()),
        ..Options::default()
    };
    review_from_report(report, base, None, &options)
}

fn comments_at<'a>(review: &'a ReviewInput, path: &str) -> Vec<(Option<u32>, &'a str)> {
    review
        .comments
        .get(path)
        .map(|cs| cs.iter().map(|c| (c.line, c.message.as_str())).collect())
        .unwrap_or_default()
}

#[test]
fn puppet_errors_name_their_file_and_line_in_every_version() {
    let message = "puppet apply failed (exit 1):
Error: Could not parse for environment production: Syntax error at '}' (file: modules/m/manifests/a.pp, line: 5, column: 3) on node m-debian12
Error: Evaluation Error: Error while evaluating a Resource Statement, Unknown resource type: 'fil' (file: /etc/rehearsal/case/site.pp, line: 2, column: 1) on node m-debian13
Error: Could not parse for environment production: Syntax error at '}' at /srv/ci/modules/m/manifests/init.pp:3:5 on node m-debian11
Error: Evaluation Error: Unknown variable: '$x'. (file: modules/m/templates/motd.epp, line: 7) on node h
Error: Try 'puppet help apply' for usage";
    let found = located_errors(message);
    let places: Vec<(&str, u32)> = found.iter().map(|e| (e.file.as_str(), e.line)).collect();
    assert_eq!(
        places,
        [
            ("modules/m/manifests/a.pp", 5),
            ("/etc/rehearsal/case/site.pp", 2),
            ("/srv/ci/modules/m/manifests/init.pp", 3),
            ("modules/m/templates/motd.epp", 7),
        ]
    );
    assert!(found.iter().all(|e| !e.text.contains("on node")));
    assert!(found[0]
        .text
        .ends_with("(file: modules/m/manifests/a.pp, line: 5, column: 3)"));
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

#[test]
fn a_run_that_passed_votes_plus_one_without_comments() {
    let dir = repo();
    let passing = case(
        "compile error",
        "debian12",
        "passed",
        vec![step("apply", "passed", None)],
        vec![],
    );
    let review = build(&report(vec![passing]), dir.path());
    assert_eq!(review.vote(), Some(("Verified", 1)));
    assert!(review.comments.is_empty());
    assert_eq!(review.tag, "autogenerated:rehearsal");
    assert!(
        review.message.starts_with(
            "rehearsal: all 1 case passed.\n\nBuild: https://jenkins.example.org/job/puppet/42/\n"
        ),
        "{}",
        review.message
    );

    let options = Options {
        label: "Functional-Test".into(),
        pass_value: 2,
        fail_value: -2,
        ..Options::default()
    };
    let failing = report(vec![wrong_mode("debian12", true)]);
    let review = review_from_report(&failing, dir.path(), None, &options);
    assert_eq!(review.vote(), Some(("Functional-Test", -2)));
    assert!(!review.message.contains("Build:"));
}

#[test]
fn a_compile_error_and_a_failed_check_are_commented_at_their_lines() {
    let dir = repo();
    let run = report(vec![
        compile_error("debian12"),
        compile_error("debian13"),
        wrong_mode("debian12", true),
        wrong_mode("debian13", false),
    ]);
    let review = build(&run, dir.path());
    assert_eq!(review.vote(), Some(("Verified", -1)));

    // One comment for the same error on two platforms, naming both.
    let at_manifest = comments_at(&review, "modules/broken/manifests/syntax.pp");
    assert_eq!(at_manifest.len(), 1, "{at_manifest:?}");
    assert_eq!(at_manifest[0].0, Some(5));
    assert!(at_manifest[0].1.starts_with(
        "apply failed (broken › compile error on debian12, debian13):\n    Error: Could not parse"
    ));

    // The check at its line when the report says it, else at its case's line.
    let at_spec = comments_at(&review, "modules/broken/rehearsal.yaml");
    let lines: Vec<Option<u32>> = at_spec.iter().map(|c| c.0).collect();
    assert_eq!(lines, [Some(7), Some(10)]);
    assert_eq!(
        at_spec[1].1,
        "check file /etc/broken.conf failed (broken › wrong mode on debian12):\n    mode: expected 0644, got 0600"
    );
    assert!(review.comments.values().flatten().all(|c| c.unresolved));
}

#[test]
fn the_message_reads_well() {
    let dir = repo();
    let idempotent = case(
        "not idempotent",
        "debian12",
        "failed",
        vec![
            step("start", "passed", None),
            step("apply", "passed", None),
            step(
                "idempotent",
                "failed",
                Some("the second apply changed 1 resource: Exec[stamp]"),
            ),
        ],
        vec![],
    );
    let start_error = json!({
        "status": "error",
        "id": {"module": "ntp", "case": "default", "platform": "debian12"},
        "spec_file": "modules/ntp/rehearsal.yaml",
        "steps": [step("start", "error", Some("failed to start the container: systemd did not reach a running state in 60s\n(hint: check that the image runs systemd as PID 1)"))],
        "checks": []
    });
    let passing = |module: &str, platform: &str| {
        json!({
            "status": "passed",
            "id": {"module": module, "case": "default", "platform": platform},
            "spec_file": format!("modules/{module}/rehearsal.yaml"),
            "steps": [], "checks": []
        })
    };
    let run = report(vec![
        passing("accounts", "debian11"),
        passing("accounts", "debian12"),
        compile_error("debian11"),
        compile_error("debian12"),
        wrong_mode("debian12", true),
        idempotent,
        passing("motd", "debian12"),
        start_error,
        passing("ntp", "debian11"),
    ]);
    let review = build(&run, dir.path());
    insta::assert_snapshot!(review.message);
    // The harness's trouble is in the message, not in a comment.
    assert!(!review.comments.contains_key("modules/ntp/rehearsal.yaml"));
    // Not idempotent: at the case's line.
    let at_spec = comments_at(&review, "modules/broken/rehearsal.yaml");
    assert!(at_spec.contains(&(
        Some(12),
        "idempotent failed (broken › not idempotent on debian12):\n    the second apply changed 1 resource: Exec[stamp]"
    )), "{at_spec:?}");
}

#[test]
fn an_error_in_an_inline_manifest_is_at_its_line_in_the_spec() {
    let dir = repo();
    let inline = case(
        "inline: quoted",
        "debian12",
        "failed",
        vec![step(
            "apply",
            "failed",
            Some("puppet apply failed (exit 1):\nError: Evaluation Error: Error while evaluating a Resource Statement, Invalid value \"fil\" (file: /etc/rehearsal/case/site.pp, line: 2, column: 8) on node broken-debian12"),
        )],
        vec![],
    );
    let prepare = case(
        "wrong mode",
        "debian12",
        "failed",
        vec![step(
            "prepare",
            "failed",
            Some("puppet apply failed (exit 1):\nError: Could not find resource 'x' (file: /etc/rehearsal/case/prepare.pp, line: 2) on node broken-debian12"),
        )],
        vec![],
    );
    let review = build(&report(vec![inline, prepare]), dir.path());
    let lines: Vec<Option<u32>> = comments_at(&review, "modules/broken/rehearsal.yaml")
        .iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(lines, [Some(4), Some(19)]);
    assert!(review.message.contains(
        "- broken › inline: quoted (debian12): apply failed at modules/broken/rehearsal.yaml:19\n"
    ));
}

#[test]
fn absolute_paths_and_files_outside_the_repository() {
    let dir = repo();
    let outside = tempfile::tempdir().unwrap();
    let spec = dir.path().join("modules/broken/rehearsal.yaml");
    let mut failing = compile_error("debian12");
    // An absolute spec path, and an error in a module outside the repository.
    failing["spec_file"] = json!(spec);
    let elsewhere = outside.path().join("stdlib/manifests/init.pp");
    failing["steps"][1]["message"] = json!(format!(
        "puppet apply failed (exit 1):\nError: Evaluation Error: boom (file: {}, line: 9, column: 1) on node x",
        elsewhere.display()
    ));
    // A spec outside the repository: patch-set level.
    let mut lost = wrong_mode("debian12", true);
    lost["spec_file"] = json!(outside.path().join("other/rehearsal.yaml"));

    let review = review_from_report(
        &report(vec![failing, lost]),
        Path::new("/nonexistent"),
        Some(dir.path()),
        &Options::default(),
    );
    // The error outside goes to the case that used it.
    assert_eq!(
        comments_at(&review, "modules/broken/rehearsal.yaml")
            .iter()
            .map(|c| c.0)
            .collect::<Vec<_>>(),
        [Some(14)]
    );
    let patchset = comments_at(&review, PATCHSET_LEVEL);
    assert_eq!(patchset.len(), 1);
    assert_eq!(patchset[0].0, None);
    assert!(review
        .message
        .contains(&format!("apply failed at {}:9", elsewhere.display())));
}

#[test]
fn comments_on_files_the_change_does_not_touch_move_to_the_patch_set() {
    let dir = repo();
    let mut review = build(
        &report(vec![
            compile_error("debian12"),
            wrong_mode("debian12", true),
        ]),
        dir.path(),
    );
    let files: BTreeSet<String> = ["/COMMIT_MSG", "modules/broken/manifests/syntax.pp"]
        .map(String::from)
        .into();
    review.confine_to(&files);
    assert_eq!(
        comments_at(&review, "modules/broken/manifests/syntax.pp").len(),
        1
    );
    assert!(!review
        .comments
        .contains_key("modules/broken/rehearsal.yaml"));
    let moved = comments_at(&review, PATCHSET_LEVEL);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].0, None);
    assert!(moved[0]
        .1
        .starts_with("modules/broken/rehearsal.yaml:10: check file /etc/broken.conf failed"));
}

#[test]
fn the_json_is_gerrits_review_input() {
    let dir = repo();
    let options = Options {
        notify: Some(Notify::Owner),
        ..Options::default()
    };
    let review = review_from_report(
        &report(vec![wrong_mode("debian12", true)]),
        dir.path(),
        None,
        &options,
    );
    let json = serde_json::to_value(&review).unwrap();
    assert_eq!(json["labels"], json!({"Verified": -1}));
    assert_eq!(json["tag"], "autogenerated:rehearsal");
    assert_eq!(json["notify"], "OWNER");
    assert_eq!(json["omit_duplicate_comments"], true);
    assert_eq!(
        json["comments"]["modules/broken/rehearsal.yaml"][0]["line"],
        10
    );
    assert!(json["message"].is_string());
}

#[test]
fn long_texts_are_cut_under_gerrits_limits() {
    let dir = repo();
    let long = (0..500)
        .map(|i| format!("line {i}: {}", "x".repeat(60)))
        .collect::<Vec<_>>()
        .join("\n");
    let mut cases = vec![];
    for i in 0..80 {
        // 80 different checks failing at 80 lines, with long texts.
        cases.push(case(
            "not idempotent",
            &format!("p{i:02}"),
            "failed",
            vec![step("idempotent", "failed", Some(&format!("{i}\n{long}")))],
            vec![
                json!({"label": format!("command check {i}"), "status": "failed",
                        "failures": [long], "line": i + 1}),
            ],
        ));
    }
    let review = build(&report(cases), dir.path());
    assert!(
        review.message.len() <= MAX_MESSAGE,
        "{}",
        review.message.len()
    );
    assert_eq!(review.comment_count(), MAX_COMMENTS);
    assert!(review
        .comments
        .values()
        .flatten()
        .all(|c| c.message.len() <= MAX_COMMENT));
    assert!(review
        .message
        .contains("31 of 81 inline comments were left out"));
}

#[test]
fn one_error_worded_differently_by_two_puppets_is_one_comment() {
    let dir = repo();
    let review = build(
        &report(vec![
            compile_error("debian11"),
            compile_error("debian12"),
            compile_error("debian13"),
        ]),
        dir.path(),
    );
    let comments = comments_at(&review, "modules/broken/manifests/syntax.pp");
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].0, Some(5));
    assert_eq!(
        comments[0].1,
        "apply failed (broken › compile error on debian11, debian12, debian13):

broken › compile error on debian12, debian13:
    Error: Could not parse for environment production: Syntax error at '}' (file: modules/broken/manifests/syntax.pp, line: 5, column: 3)

broken › compile error on debian11:
    Error: Could not parse for environment production: Syntax error at '}' at modules/broken/manifests/syntax.pp:5:3"
    );
}
