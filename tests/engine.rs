//! Behaviour against the real engine: one run of the fixture modules under
//! `tests/fixtures/modules` (16 cases: passing, failing in each documented way, hanging, hiera,
//! facts, a fixture dependency, every platform), shared by the tests below, each of which
//! reads its part of the JSON and JUnit reports. Docker is never mocked here.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use common::{containers_of_run, force_remove_image, repo, step, write, Outcome, Rehearsal};

/// The shared run of every fixture module (the first test to get here starts it).
fn fixtures_run() -> &'static Outcome {
    static RUN: OnceLock<Outcome> = OnceLock::new();
    RUN.get_or_init(|| {
        let run = Rehearsal::new()
            .args([
                "run",
                "tests/fixtures/modules",
                "--jobs",
                "2",
                "--annotations",
                "github",
            ])
            .json()
            .junit()
            .run();
        // Both reports are there (or the test that got here first fails, saying why).
        run.json();
        run.junit();
        run
    })
}

/// The JSON report of one case.
fn case(module: &str, case: &str, platform: &str) -> &'static Value {
    let run = fixtures_run();
    common::find_case(
        run.json(),
        &[("module", module), ("case", case), ("platform", platform)],
    )
    .unwrap_or_else(|| {
        panic!(
            "no case {module} › {case} on {platform} in the report; stdout:\n{}",
            run.stdout()
        )
    })
}

fn status(value: &Value) -> &str {
    value["status"].as_str().unwrap()
}

#[test]
fn a_passing_module_passes_on_every_platform() {
    for platform in ["debian11", "debian12", "debian13"] {
        let c = case("good", "default", platform);
        assert_eq!(status(c), "passed", "good › default on {platform}: {c:#}");
        for s in ["start", "apply", "idempotent", "verify"] {
            assert_eq!(status(step(c, s)), "passed", "{s} on {platform}");
        }
        assert_eq!(c["checks"].as_array().unwrap().len(), 7);
    }
    // Each platform has its own Puppet.
    let versions: Vec<String> = ["debian11", "debian12", "debian13"]
        .iter()
        .map(|p| {
            step(case("good", "default", p), "apply")["output"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        versions.iter().all(|o| o.contains("Applied catalog")),
        "{versions:?}"
    );
}

#[test]
fn every_check_kind_passes_on_every_platform() {
    for platform in ["debian11", "debian12", "debian13"] {
        let c = case("kinds", "every kind passes", platform);
        let checks = c["checks"].as_array().unwrap();
        let failed: Vec<&Value> = checks.iter().filter(|k| status(k) != "passed").collect();
        assert!(failed.is_empty(), "on {platform}: {failed:#?}");
        assert_eq!(status(c), "passed", "on {platform}");
        // 19 of its own, then 8 from its goss file.
        assert_eq!(checks.len(), 27, "on {platform}");
        assert_eq!(checks[19]["label"], "file /etc/kinds/app.conf");
        let kinds: std::collections::BTreeSet<&str> = checks
            .iter()
            .map(|k| k["label"].as_str().unwrap().split(' ').next().unwrap())
            .collect();
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            [
                "command",
                "file",
                "http",
                "interface",
                "kernel_param",
                "mount",
                "package",
                "port",
                "process",
                "resource",
                "service",
                "user"
            ]
        );
    }
}

#[test]
fn every_check_kind_fails_with_expected_and_actual() {
    let c = case("kinds_fail", "every kind fails", "debian12");
    assert_eq!(status(c), "failed");
    let got: Vec<(String, Vec<String>)> = c["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(status(k), "failed", "{k:#}");
            (
                k["label"].as_str().unwrap().to_string(),
                k["failures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let expect = |label: &str, wanted: &[&str]| {
        let (_, failures) = got
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no check {label}: {got:#?}"));
        for w in wanted {
            assert!(
                failures.iter().any(|f| f.starts_with(w)),
                "{label}: no failure starting {w:?} in {failures:?}"
            );
        }
    };
    expect(
        "port 8181",
        &[
            "address: expected 10.0.0.1, got 0.0.0.0",
            "still failing after 3s (",
        ],
    );
    expect(
        "port 9",
        &["listening: expected true, got false (listening tcp ports: 8181)"],
    );
    expect(
        "process no-such-daemon",
        &["running: expected true, got false (no process named no-such-daemon)"],
    );
    expect(
        "http http://localhost:8181/missing",
        &[
            "status: expected 200, got 404",
            "body: expected kinds ok, got not here",
            "still failing after 2s (",
        ],
    );
    expect(
        "http http://localhost:9/",
        &["cannot reach http://localhost:9/: curl: (7)"],
    );
    expect(
        "mount /run",
        &[
            "opts: expected ro, got rw, ",
            "filesystem: expected ext4, got tmpfs",
        ],
    );
    expect(
        "kernel_param kernel.ostype",
        &["value: expected BSD, got Linux"],
    );
    expect("interface lo", &["mtu: expected 1500, got 65536"]);
    expect(
        "interface nosuch0",
        &["exists: expected true, got false (no such interface)"],
    );
    expect(
        "resource Service[kinds-web]",
        &["enable: expected false, got true"],
    );
    expect("resource User[kinduser]", &["uid: expected 1800, got 1700"]);
    expect(
        "resource Widget[x]",
        &["cannot check: unknown resource type widget"],
    );
    assert_eq!(got.len(), 12);
}

#[test]
fn a_failing_check_names_expected_and_actual() {
    let c = case("broken", "wrong mode", "debian12");
    assert_eq!(status(c), "failed");
    assert_eq!(status(step(c, "apply")), "passed");
    let check = &c["checks"][0];
    assert_eq!(check["label"], "file /etc/broken.conf");
    assert_eq!(check["line"], 6, "the check's line in rehearsal.yaml");
    // The same place, as a GitHub annotation.
    let out = fixtures_run().stdout();
    assert!(
        out.lines().any(|l| l.starts_with(
            "::error file=tests/fixtures/modules/broken/rehearsal.yaml,line=6::check file /etc/broken.conf failed"
        )),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l
            .starts_with("::error file=tests/fixtures/modules/broken/manifests/syntax.pp,line=")),
        "{out}"
    );
    assert_eq!(
        check["failures"],
        serde_json::json!(["mode: expected 0644, got 0600"])
    );
}

#[test]
fn a_non_idempotent_manifest_names_what_changed() {
    let c = case("broken", "not idempotent", "debian12");
    assert_eq!(status(c), "failed");
    let idem = step(c, "idempotent");
    assert_eq!(status(idem), "failed");
    // From the second apply's report: the property, its old and new value, and where the
    // resource is declared, as a path of the repository's.
    assert_eq!(
        idem["message"],
        "the second apply changed 1 property, so the manifest is not idempotent:\n  \
         Exec[stamp] (tests/fixtures/modules/broken/manifests/drift.pp:3) returns: notrun → 0"
    );
    // An annotation at the declaration.
    let out = fixtures_run().stdout();
    assert!(
        out.lines().any(|l| l
            .starts_with("::error file=tests/fixtures/modules/broken/manifests/drift.pp,line=3::")),
        "{out}"
    );
}

#[test]
fn a_compile_error_fails_the_case_at_the_gate_at_the_repository_path() {
    let c = case("broken", "compile error", "debian12");
    assert_eq!(status(c), "failed");
    // The gate compiled it before any container: its only step is `compile`.
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{c:#}");
    let compile = step(c, "compile");
    assert_eq!(status(compile), "failed");
    let message = compile["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "the catalog does not compile on debian12, so the case did not start: Error: "
        ),
        "{message}"
    );
    assert!(
        message.contains("tests/fixtures/modules/broken/manifests/syntax.pp"),
        "container path not mapped back: {message}"
    );
    assert!(
        compile["errors"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("tests/fixtures/modules/broken/manifests/syntax.pp"),
        "{c:#}"
    );
}

#[test]
fn an_expected_failure_passes_and_an_unmet_one_fails() {
    let met = case("broken", "expected failure", "debian12");
    assert_eq!(status(met), "passed", "{met:#}");
    let unmet = case("broken", "expected failure that succeeds", "debian12");
    assert_eq!(status(unmet), "failed");
    let message = step(unmet, "apply")["message"].as_str().unwrap();
    assert!(
        message
            .starts_with("expected the apply to fail with /expects an Integer/, but it succeeded"),
        "{message}"
    );
}

#[test]
fn a_hung_apply_times_out_and_fails_its_case_not_the_run() {
    let c = case("broken", "hangs", "debian12");
    assert_eq!(status(c), "error");
    let apply = step(c, "apply");
    assert_eq!(status(apply), "error");
    let message = apply["message"].as_str().unwrap();
    assert!(message.starts_with("timed out after 5s"), "{message}");
    assert!(
        apply["duration"].as_f64().unwrap() < 60.0,
        "the timeout was not enforced: {apply:#}"
    );
    // The other cases of the run still ran.
    assert_eq!(
        status(case("uses_lib", "uses the fixture", "debian12")),
        "passed"
    );
}

#[test]
fn hiera_data_and_structured_facts_reach_puppet_and_cases_override_them() {
    let base = case("details", "spec data and structured facts", "debian12");
    assert_eq!(status(base), "passed", "{base:#}");
    let over = case("details", "case data and facts override", "debian12");
    assert_eq!(status(over), "passed", "{over:#}");
}

#[test]
fn a_fixture_module_is_on_the_modulepath() {
    let c = case("uses_lib", "uses the fixture", "debian12");
    assert_eq!(status(c), "passed", "{c:#}");
}

#[test]
fn a_broken_module_exits_1_and_junit_names_the_failed_step_and_check() {
    let run = fixtures_run();
    run.exit(1);
    let doc = roxmltree::Document::parse(run.junit()).expect("JUnit parses");
    let failed: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| {
            format!(
                "{} {}",
                n.attribute("classname").unwrap(),
                n.attribute("name").unwrap()
            )
        })
        .filter(|n| n.starts_with("debian12.broken "))
        .collect();
    for expected in [
        "debian12.broken wrong mode › file /etc/broken.conf",
        "debian12.broken not idempotent › idempotent",
        "debian12.broken compile error › compile",
        "debian12.broken expected failure that succeeds › apply",
    ] {
        assert!(
            failed.contains(&expected.to_string()),
            "{expected} not among failures: {failed:#?}"
        );
    }
    assert_eq!(failed.len(), 4, "{failed:#?}");
}

#[test]
fn the_console_prints_a_line_per_case_and_a_summary() {
    let out = fixtures_run().stdout();
    let lines = out
        .lines()
        .filter(|l| ["PASS", "FAIL", "ERROR"].iter().any(|s| l.starts_with(s)))
        .count();
    assert_eq!(lines, 16, "{out}");
    assert!(
        out.contains("16 cases: 10 passed, 5 failed, 1 error, 0 skipped in "),
        "{out}"
    );
    assert!(out.contains("mode: expected 0644, got 0600"), "{out}");
}

#[test]
fn no_container_of_the_run_is_left() {
    let run = fixtures_run();
    let run_id = run.json()["run_id"].as_str().unwrap();
    assert_eq!(
        containers_of_run(run_id),
        Vec::<String>::new(),
        "containers left behind"
    );
}

fn rehearsal(dir: &Path, args: &[&str]) -> Outcome {
    Rehearsal::new().current_dir(dir).args(args).run()
}

#[test]
fn a_bad_spec_exits_2_naming_the_place_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("web/manifests")).unwrap();
    write(
        dir.path(),
        "web/rehearsal.yaml",
        "cases:\n  a:\n    manifest: x\n    expect:\n      - file: /x\n        mdoe: '0644'\n",
    );
    // With the engine pointed nowhere: exit 2 (not 3) shows nothing was asked of it.
    let out = Rehearsal::new()
        .current_dir(dir.path())
        .no_engine()
        .args(["run", "--json", "r.json"])
        .run();
    out.exit(2);
    assert_eq!(
        out.stderr().trim(),
        "error: web/rehearsal.yaml:6:9: cases.a.expect[0]: unknown field `mdoe`, expected one of `exists`, \
         `type`, `mode`, `owner`, `group`, `contains`, `sha256`, `linked_to`, `size` (hint: did you mean `mode`?)"
    );
    assert!(!dir.path().join("r.json").exists());
}

#[test]
fn an_unreachable_engine_is_one_sentence_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web/rehearsal.yaml",
        "cases:\n  a:\n    manifest: x\n",
    );
    let out = Rehearsal::new()
        .current_dir(dir.path())
        .no_engine()
        .args(["run"])
        .run();
    out.exit(3);
    let err = out.stderr();
    assert!(
        err.starts_with("error: cannot reach the container engine: "),
        "{err}"
    );
    assert!(err.contains("harness/engine"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_unwritable_report_directory_fails_before_any_container() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web/rehearsal.yaml",
        "cases:\n  a:\n    manifest: x\n",
    );
    write(dir.path(), "file", "");
    let out = rehearsal(dir.path(), &["run", "--junit", "file/junit.xml"]);
    out.exit(2);
    assert!(
        out.stderr()
            .starts_with("error: cannot write reports to file:"),
        "{}",
        out.show()
    );
}

#[test]
fn a_dockerfile_platform_builds_once_and_runs_cases() {
    // A Dockerfile built FROM the debian12 image, so no registry is needed.
    let base = String::from_utf8(
        rehearsal(&repo(), &["images", "build", "debian12"])
            .output
            .stdout,
    )
    .unwrap();
    let base_image = base
        .split_whitespace()
        .nth(1)
        .expect("images build prints the image")
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let platform = dir.path().join("images/custom");
    let marker = uuid_like();
    write(
        &platform,
        "Dockerfile",
        format!("FROM {base_image}\nRUN echo {marker} > /etc/custom-platform\n"),
    );
    std::fs::create_dir_all(dir.path().join("modules/web/manifests")).unwrap();
    write(
        dir.path(),
        "modules/web/rehearsal.yaml",
        format!("cases:\n  on the custom platform:\n    manifest: notice('hello')\n    expect:\n      - file: /etc/custom-platform\n        contains: [{marker}]\n"),
    );
    let images = platform.parent().unwrap().to_str().unwrap().to_string();

    let first = rehearsal(dir.path(), &["images", "build", "--images", &images]);
    first.exit(0).stderr_contains("[custom] building image");
    let again = rehearsal(dir.path(), &["images", "build", "--images", &images]);
    again.exit(0);
    assert!(
        !again.stderr().contains("building"),
        "a current image was rebuilt"
    );

    rehearsal(dir.path(), &["run", "modules", "--images", &images])
        .exit(0)
        .stdout_contains("PASS   custom  web › on the custom platform");

    let image = String::from_utf8(first.output.stdout.clone())
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    force_remove_image(&image);
}

/// A value unique to this test run, so a stale image cannot pass the check.
fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[test]
fn fail_fast_stops_after_the_first_failure_and_case_globs_pick_cases() {
    let out = Rehearsal::new()
        .args([
            "run",
            "tests/fixtures/modules/broken",
            "--case",
            "wrong*",
            "--case",
            "not idempotent",
            "--jobs",
            "1",
            "--fail-fast",
        ])
        .json()
        .run();
    out.exit(1);
    let report = out.json();
    let cases = common::cases(report);
    let by_name = |name: &str| {
        cases
            .iter()
            .find(|c| c["id"]["case"] == name)
            .unwrap_or_else(|| panic!("no case {name}: {report:#}"))
    };
    assert_eq!(cases.len(), 2, "only the two cases the globs name");
    assert_eq!(status(by_name("wrong mode")), "failed");
    let stopped = by_name("not idempotent");
    assert_eq!(status(stopped), "skipped");
    assert_eq!(
        stopped["steps"][0]["message"],
        "not run: --fail-fast stopped the run at the first failure"
    );
}
