//! Posting reviews to a Gerrit stand-in: a local HTTP server that holds rehearsal to
//! Gerrit's REST contract (the authenticated `/a/` path with the project encoded, HTTP
//! basic auth, a JSON ReviewInput of the right shape, comments only on the revision's
//! files) and answers as Gerrit does (`)]}'` first), recording what it received.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use rehearsal::gerrit::{
    self, Credentials, GerritError, Options, Report, Retry, ReviewInput, Target,
};

use crate::common::gerrit::{Gerrit, Mode, CHANGE, PASSWORD, PROJECT, REVISION, USER};
use crate::common::Rehearsal;

fn credentials() -> Credentials {
    Credentials::new(USER, PASSWORD)
}

fn quick() -> Retry {
    Retry {
        attempts: 3,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        timeout: Duration::from_secs(10),
    }
}

const SPEC: &str = "\
platforms: [debian12, debian13]
cases:
  wrong mode:
    manifest: \"file { '/etc/broken.conf': ensure => file, content => \\\"x\\\\n\\\", mode => '0600' }\"
    expect:
      - file: /etc/broken.conf
        mode: \"0644\"
        contains: [x]
  compile error:
    manifest: include broken::syntax
";

/// A repository with the `broken` module, as a run inside it would see it.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .status();
    if !git.is_ok_and(|s| s.success()) {
        std::fs::create_dir(dir.path().join(".git")).unwrap();
    }
    let module = dir.path().join("modules/broken");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("rehearsal.yaml"), SPEC).unwrap();
    std::fs::write(
        module.join("manifests/syntax.pp"),
        "# Does not parse: the attribute has no value.\nclass broken::syntax {\n  file { '/etc/syntax.conf':\n    ensure =>\n  }\n}\n",
    )
    .unwrap();
    dir
}

/// A report as `rehearsal run --json` writes it, for a run in `repo`: the compile error
/// on two platforms, the failed check (at line 6 of the spec) on one, and one pass.
fn failing_report(repo: &Path) -> Report {
    let spec = "modules/broken/rehearsal.yaml";
    // A failed apply's step lists the errors that name their place, as the runner reads them.
    let step = |step: &str, status: &str, message: Option<String>| {
        let errors = rehearsal::puppet::errors::located(message.as_deref().unwrap_or(""));
        json!({"step": step, "status": status, "duration": 1.5, "message": message, "errors": errors, "output": ""})
    };
    let compile_error = |platform: &str| {
        json!({
            "status": "failed",
            "id": {"module": "broken", "case": "compile error", "platform": platform},
            "spec_file": spec,
            "started_at": "2024-05-01T10:00:00Z",
            "duration": 4.0,
            "steps": [
                step("start", "passed", None),
                step("apply", "failed", Some(format!(
                    "puppet apply failed (exit 1):\nError: Could not parse for environment production: Syntax error at '}}' (file: modules/broken/manifests/syntax.pp, line: 5, column: 3) on node broken-{platform}"))),
                step("idempotent", "skipped", None),
            ],
            "checks": [],
            "kept_container": null
        })
    };
    let wrong_mode = |platform: &str, passed: bool| {
        json!({
            "status": if passed { "passed" } else { "failed" },
            "id": {"module": "broken", "case": "wrong mode", "platform": platform},
            "spec_file": spec,
            "started_at": "2024-05-01T10:00:00Z",
            "duration": 6.0,
            "steps": [
                step("start", "passed", None),
                step("apply", "passed", None),
                step("idempotent", "passed", None),
                step("verify", "passed", None),
            ],
            "checks": [{
                "label": "file /etc/broken.conf",
                "status": if passed { "passed" } else { "failed" },
                "failures": if passed { json!([]) } else { json!(["mode: expected 0644, got 0600"]) },
                "line": 6
            }],
            "kept_container": null
        })
    };
    let document = json!({
        "version": 1,
        "run_id": "run-1",
        "started_at": "2024-05-01T10:00:00Z",
        "duration": 20.0,
        "totals": {"passed": 1, "failed": 3, "errors": 0, "skipped": 0},
        "phases": {"start": 0, "prepare": 0, "apply": 0, "idempotent": 0, "verify": 0},
        "cases": [
            compile_error("debian12"),
            compile_error("debian13"),
            wrong_mode("debian12", false),
            wrong_mode("debian13", true),
        ]
    });
    let path = repo.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&document).unwrap()).unwrap();
    Report::read(&path).unwrap()
}

fn passing_report() -> Report {
    Report::from_json(
        &json!({"version": 1, "cases": [{
            "status": "passed",
            "id": {"module": "motd", "case": "default", "platform": "debian12"},
            "spec_file": "modules/motd/rehearsal.yaml",
            "steps": [], "checks": []
        }]})
        .to_string(),
    )
    .unwrap()
}

fn review_of(report: &Report, repo: &Path) -> ReviewInput {
    let options = Options {
        build_url: Some("https://jenkins.example.org/job/puppet-verify/42/".into()),
        ..Options::default()
    };
    gerrit::review_from_report(report, repo, None, &options)
}

#[tokio::test]
async fn an_all_passed_report_votes_plus_one() {
    let server = Gerrit::start(&[], Mode::Normal, &[]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let posted = gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap();
    assert_eq!((posted.label.as_str(), posted.value), ("Verified", 1));

    let received = server.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let files = &received[0];
    assert_eq!(files.method, "GET");
    assert_eq!(
        files.path,
        format!("/a/changes/puppet%2Fmodules~{CHANGE}/revisions/{REVISION}/files/")
    );
    let post = &received[1];
    assert_eq!(post.method, "POST");
    assert_eq!(
        post.path,
        format!("/a/changes/puppet%2Fmodules~{CHANGE}/revisions/{REVISION}/review")
    );
    assert!(post
        .content_type
        .as_deref()
        .unwrap()
        .starts_with("application/json"));
    assert!(post.authorization.as_deref().unwrap().starts_with("Basic "));

    let reviews = server.reviews();
    assert_eq!(reviews.len(), 1);
    let review = &reviews[0];
    assert_eq!(review["labels"], json!({"Verified": 1}));
    assert_eq!(review["tag"], "autogenerated:rehearsal");
    assert!(review.get("comments").is_none());
    let message = review["message"].as_str().unwrap();
    assert!(
        message.starts_with("rehearsal: all 1 case passed."),
        "{message}"
    );
    assert!(message.contains("https://jenkins.example.org/job/puppet-verify/42/"));
}

#[tokio::test]
async fn a_failed_run_votes_minus_one_with_comments_at_the_compile_error_and_the_failed_check() {
    let server = Gerrit::start(
        &[
            "modules/broken/manifests/syntax.pp",
            "modules/broken/rehearsal.yaml",
        ],
        Mode::Normal,
        &[],
    )
    .await;
    let repo = repository();
    let review = review_of(&failing_report(repo.path()), repo.path());
    let posted = gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap();
    assert_eq!(posted.value, -1);
    assert_eq!((posted.inline, posted.patchset_level), (2, 0));

    let reviews = server.reviews();
    assert_eq!(reviews.len(), 1);
    let review = &reviews[0];
    assert_eq!(review["labels"], json!({"Verified": -1}));
    assert_eq!(review["tag"], "autogenerated:rehearsal");

    let message = review["message"].as_str().unwrap();
    assert!(
        message.starts_with("rehearsal: 3 of 4 cases did not pass."),
        "{message}"
    );
    assert!(message.contains("Build: https://jenkins.example.org/job/puppet-verify/42/"));
    assert!(
        message.contains("    module   debian12   debian13\n    broken   FAIL 2/2   FAIL 1/2\n"),
        "{message}"
    );
    assert!(message.contains("4 cases: 1 passed, 3 failed, 0 errored, 0 skipped."));
    assert!(message.contains(
        "- broken › compile error (debian12, debian13): apply failed at modules/broken/manifests/syntax.pp:5\n"
    ), "{message}");

    // The compile error: once, at the manifest's line Puppet names, for both platforms.
    let at_manifest = review["comments"]["modules/broken/manifests/syntax.pp"]
        .as_array()
        .unwrap();
    assert_eq!(at_manifest.len(), 1);
    assert_eq!(at_manifest[0]["line"], 5);
    assert_eq!(at_manifest[0]["unresolved"], true);
    let text = at_manifest[0]["message"].as_str().unwrap();
    assert!(
        text.starts_with("apply failed (broken › compile error on debian12, debian13):\n"),
        "{text}"
    );
    assert!(text.contains("Syntax error at '}'"), "{text}");

    // The failed check: at its line in rehearsal.yaml.
    let at_spec = review["comments"]["modules/broken/rehearsal.yaml"]
        .as_array()
        .unwrap();
    assert_eq!(at_spec.len(), 1);
    assert_eq!(at_spec[0]["line"], 6);
    assert_eq!(
        at_spec[0]["message"],
        "check file /etc/broken.conf failed (broken › wrong mode on debian12):\n    mode: expected 0644, got 0600"
    );
}

#[tokio::test]
async fn comments_on_files_the_change_does_not_touch_go_to_the_patch_set() {
    // The change touches the manifest only: Gerrit would refuse a comment on the spec.
    let server = Gerrit::start(&["modules/broken/manifests/syntax.pp"], Mode::Normal, &[]).await;
    let repo = repository();
    let review = review_of(&failing_report(repo.path()), repo.path());
    let posted = gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap();
    assert_eq!((posted.inline, posted.patchset_level), (1, 1));
    let review = &server.reviews()[0];
    let patchset = review["comments"]["/PATCHSET_LEVEL"].as_array().unwrap();
    assert!(patchset[0].get("line").is_none());
    assert!(patchset[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("modules/broken/rehearsal.yaml:6: check file /etc/broken.conf failed"));
}

#[tokio::test]
async fn server_errors_are_tried_again_until_the_review_goes_through() {
    let server = Gerrit::start(&[], Mode::Normal, &[503, 502]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap();
    let answered: Vec<u16> = server
        .received()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.answered)
        .collect();
    assert_eq!(answered, [503, 502, 200]);
    assert_eq!(server.reviews().len(), 1);
}

#[tokio::test]
async fn server_errors_past_the_last_try_are_an_error() {
    let server = Gerrit::start(&[], Mode::Normal, &[503, 503, 503, 503]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let err = gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        matches!(err, GerritError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("503 Service Unavailable (tried 3 times)"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_gerrit_is_tried_again_then_named() {
    // A port nobody listens on.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let target = Target {
        url: format!("http://{addr}"),
        project: PROJECT.into(),
        change: CHANGE,
        revision: REVISION.into(),
    };
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let err = gerrit::post_with(&target, &credentials(), &review, quick())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "Gerrit is unavailable at http://{addr}/a/changes/"
        )),
        "{text}"
    );
    assert!(text.contains("(tried 3 times)"), "{text}");
    assert_eq!(err.exit_code(), 3);
}

#[tokio::test]
async fn wrong_credentials_name_the_variables_to_fix_and_never_the_password() {
    let server = Gerrit::start(&[], Mode::Normal, &[]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let wrong = Credentials::new(USER, "not-the-password");
    let err = gerrit::post_with(&server.target(), &wrong, &review, quick())
        .await
        .unwrap_err();
    assert!(matches!(err, GerritError::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(text.contains("(401 Unauthorized)"), "{text}");
    assert!(
        text.contains("check GERRIT_HTTP_USER and GERRIT_HTTP_PASSWORD"),
        "{text}"
    );
    assert!(text.contains(&format!("user `{USER}`")), "{text}");
    for shown in [
        text,
        format!("{err:?}"),
        format!("{wrong:?}"),
        format!("{:?}", credentials()),
    ] {
        assert!(!shown.contains("not-the-password"), "{shown}");
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
    // Not tried again: a 401 is not transient.
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_forbidden_vote_names_the_label_and_the_project() {
    let server = Gerrit::start(&[], Mode::ForbidVote, &[]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let err = gerrit::post_with(&server.target(), &credentials(), &review, quick())
        .await
        .unwrap_err();
    assert!(matches!(err, GerritError::Forbidden { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(text.contains("(403 Forbidden)"), "{text}");
    assert!(
        text.contains(&format!("the account `{USER}` lacks permission to review or to vote on label `Verified` in project `{PROJECT}`")),
        "{text}"
    );
    assert!(
        text.contains("Gerrit said: Applying label \"Verified\": 1 is restricted"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD));
}

#[tokio::test]
async fn an_unknown_change_names_the_variables_to_check() {
    let server = Gerrit::start(&[], Mode::Normal, &[]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let target = Target {
        change: 999,
        ..server.target()
    };
    let err = gerrit::post_with(&target, &credentials(), &review, quick())
        .await
        .unwrap_err();
    assert!(matches!(err, GerritError::NotFound { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("change 999 (revision {REVISION}) not found in project `{PROJECT}` (404 Not Found) at http://{}/a/changes/puppet%2Fmodules~999/revisions/", server.addr)),
        "{text}"
    );
    assert!(
        text.contains("check GERRIT_PROJECT, GERRIT_CHANGE_NUMBER and GERRIT_PATCHSET_REVISION"),
        "{text}"
    );
    // Nothing was posted: the file list already said so.
    assert!(server.received().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn a_project_with_odd_characters_is_encoded() {
    // The stand-in only knows PROJECT, so this one is a 404; what matters is the path.
    let server = Gerrit::start(&[], Mode::Normal, &[]).await;
    let repo = repository();
    let review = review_of(&passing_report(), repo.path());
    let target = Target {
        project: "team a/puppet+modules".into(),
        ..server.target()
    };
    let _ = gerrit::post_with(&target, &credentials(), &review, quick()).await;
    assert_eq!(
        server.received()[0].path,
        format!("/a/changes/team%20a%2Fpuppet%2Bmodules~{CHANGE}/revisions/{REVISION}/files/")
    );
}

/// The command, end to end: `rehearsal gerrit-review --report` with the Gerrit Trigger's
/// variables, against the contract-enforcing server.
#[tokio::test]
async fn the_gerrit_review_command_posts_from_the_report_and_the_triggers_variables() {
    let server = Gerrit::start(
        &[
            "modules/broken/manifests/syntax.pp",
            "modules/broken/rehearsal.yaml",
        ],
        Mode::Normal,
        &[],
    )
    .await;
    let repo = repository();
    // Writes report.json.
    failing_report(repo.path());
    // Run without blocking: the binary talks to the server on this test's runtime.
    let out = Rehearsal::new()
        .current_dir(repo.path())
        .args(["gerrit-review", "--report", "report.json"])
        .env("GERRIT_API_URL", server.url())
        .env("GERRIT_PROJECT", PROJECT)
        .env("GERRIT_CHANGE_NUMBER", CHANGE.to_string())
        .env("GERRIT_PATCHSET_REVISION", REVISION)
        .env("GERRIT_HTTP_USER", credentials().user())
        .env("GERRIT_HTTP_PASSWORD", PASSWORD)
        .env("BUILD_URL", "https://jenkins.example.org/job/verify/7/")
        .run_async()
        .await;
    out.exit(0);
    assert!(!out.stdout().contains(PASSWORD) && !out.stderr().contains(PASSWORD));
    let reviews = server.reviews();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["labels"], json!({"Verified": -1}));
    assert_eq!(
        reviews[0]["comments"]["modules/broken/rehearsal.yaml"][0]["line"],
        6
    );
    assert_eq!(
        reviews[0]["comments"]["modules/broken/manifests/syntax.pp"][0]["line"],
        5
    );
    assert!(reviews[0]["message"]
        .as_str()
        .unwrap()
        .contains("https://jenkins.example.org/job/verify/7/"));

    // Without the change's variables: exit 2, nothing sent, and the message says which.
    Rehearsal::new()
        .current_dir(repo.path())
        .args(["gerrit-review", "--report", "report.json"])
        .env_clear()
        .env("GERRIT_API_URL", server.url())
        .run_async()
        .await
        .exit(2)
        .stderr_contains("GERRIT_CHANGE_NUMBER");
    assert_eq!(server.reviews().len(), 1);
}
