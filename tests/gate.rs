//! The gate against the real engine (debian11's Puppet 5.5 and puppet-lint 2, the
//! fastest): each kind of file's finding at its line (a manifest, an EPP and an ERB
//! template, metadata.json, Hiera data), puppet-lint's own configuration honoured (a
//! module's `.puppet-lint.rc`, `# lint:ignore`), and a case whose catalog does not compile
//! failed at its `compile` step with no container of its own: the engine's own events
//! are counted, against a module whose case does start one, and a case with `compile:
//! false` is left to its container. With `--gerrit`, a failed
//! gate votes at once, before the cases end, and the final review follows; a clean gate
//! posts nothing early (against the contract-enforcing Gerrit stand-in).

mod common;

use std::path::Path;

use common::Rehearsal;
use serde_json::Value;

/// A tree of six modules: `good` (clean), `ownfact` (clean, with a custom fact its class
/// needs), `broken` (a file of every kind with an error),
/// `nocompile` (parses, but its catalog does not compile in strict mode), `lintme` (lint
/// warnings) and `lintcfg` (the same code, with a `.puppet-lint.rc` and a lint:ignore).
fn tree(dir: &Path) {
    let spec = |class: &str| {
        format!("platforms: [debian11]\ncases:\n  default:\n    manifest: include {class}\n")
    };
    common::module(&dir.join("good"), "good", spec("good"));
    common::write(
        dir,
        "good/manifests/init.pp",
        "# @summary a clean class\nclass good {\n}\n",
    );

    common::module(&dir.join("broken"), "broken", spec("broken"));
    common::write(
        dir,
        "broken/manifests/init.pp",
        "class broken {\n  if { }\n}\n",
    );
    common::write(
        dir,
        "broken/templates/motd.epp",
        "<%- | String $x | -%>\nhello <%= $x \n",
    );
    common::write(dir, "broken/templates/issue.erb", "<% if @x %>\nhello\n");
    common::write(
        dir,
        "broken/metadata.json",
        "{\n  \"name\": \"acme-broken\",\n  \"version\": \"1.0\",\n  \"author\": \"acme\",\n  \"license\": \"Apache-2.0\",\n  \"summary\": \"x\",\n  \"source\": \"x\",\n  \"dependencies\": []\n}\n",
    );
    common::write(
        dir,
        "broken/hiera.yaml",
        "---\nversion: 5\ndefaults:\n  datadir: data\n",
    );
    common::write(dir, "broken/data/common.yaml", "broken::x: [1, 2\n");

    common::module(
        &dir.join("nocompile"),
        "nocompile",
        "platforms: [debian11]\ncases:\n  unknown variable:\n    manifest: include nocompile\n  no such parameter:\n    manifest: |\n      class { 'nocompile':\n        colour => 'red',\n      }\n  left to its apply:\n    compile: false\n    manifest: include nocompile\n",
    );
    common::write(
        dir,
        "nocompile/manifests/init.pp",
        "class nocompile {\n  notice($nowhere)\n}\n",
    );

    // A custom fact of the module's own: the gate's compile must see it (the platform's
    // facts are resolved once, but a module group with facts of its own resolves them).
    common::module(&dir.join("ownfact"), "ownfact", spec("ownfact"));
    common::write(
        dir,
        "ownfact/lib/facter/ownfact_colour.rb",
        "Facter.add(:ownfact_colour) do\n  setcode { 'red' }\nend\n",
    );
    common::write(
        dir,
        "ownfact/manifests/init.pp",
        "# @summary needs its own fact\nclass ownfact {\n  if $facts['ownfact_colour'] != 'red' {\n    fail('the module\\'s own fact is missing')\n  }\n}\n",
    );

    let code = "# @summary a class\nclass NAME {\n  file { \"/etc/NAME\":\n    ensure => file,\n    mode => '0644', # lint:ignore:arrow_alignment\n  }\n}\n";
    for name in ["lintme", "lintcfg"] {
        common::module(&dir.join(name), name, spec(name));
        common::write(
            dir,
            &format!("{name}/manifests/init.pp"),
            code.replace("NAME", name),
        );
    }
    common::write(
        dir,
        "lintcfg/.puppet-lint.rc",
        "--no-double_quoted_strings-check\n",
    );
}

fn findings(json: &Value) -> Vec<(String, String, String, Option<u64>, bool)> {
    json["gate"]["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no gate in {json:#}"))
        .iter()
        .map(|f| {
            (
                f["module"].as_str().unwrap().to_string(),
                f["kind"].as_str().unwrap().to_string(),
                f["in_module"].as_str().unwrap().to_string(),
                f["line"].as_u64(),
                f["fails"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Containers the engine created between two times for a module's cases in a run.
fn created(run_id: &str, module: &str, since: i64, until: i64) -> Vec<String> {
    let out = common::engine_cli(&[
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until.to_string(),
        "--filter",
        "event=create",
        "--filter",
        &format!("label=rehearsal.module={module}"),
        "--filter",
        &format!("label=rehearsal.run-id={run_id}"),
        "--format",
        "{{.ID}}",
    ]);
    common::text(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_gate_finds_each_kind_of_file_at_its_line_and_fails_uncompilable_cases_before_they_start() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let since = chrono::Utc::now().timestamp() - 1;
    let run = Rehearsal::new()
        .arg("run")
        .arg(dir.path())
        .json()
        .junit()
        .run();
    let until = chrono::Utc::now().timestamp() + 1;
    assert_eq!(run.code(), Some(1), "{}", run.show());
    let found = findings(run.json());
    let has = |module: &str, kind: &str, file: &str, line: u64| {
        assert!(
            found
                .iter()
                .any(|f| (f.0.as_str(), f.1.as_str(), f.2.as_str(), f.3, f.4)
                    == (module, kind, file, Some(line), true)),
            "no failing {kind} finding at {module}/{file}:{line} in {found:#?}\n{}",
            run.show()
        )
    };
    has("broken", "manifest", "manifests/init.pp", 3);
    has("broken", "epp", "templates/motd.epp", 3);
    has("broken", "erb", "templates/issue.erb", 3);
    has("broken", "metadata", "metadata.json", 3);
    has("broken", "hiera", "data/common.yaml", 2);
    assert!(
        !found.iter().any(|f| f.0 == "good"),
        "the clean module has findings: {found:#?}"
    );

    // puppet-lint's warnings warn; the module's own .puppet-lint.rc turns one check off,
    // and `# lint:ignore` another, as the user's own puppet-lint run has them.
    let lint = |module: &str| -> Vec<String> {
        run.json()["gate"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["module"] == module && f["kind"] == "lint")
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        lint("lintme").contains(&"double_quoted_strings".to_string()),
        "{:?}",
        lint("lintme")
    );
    assert!(
        !lint("lintcfg").contains(&"double_quoted_strings".to_string()),
        "{:?}",
        lint("lintcfg")
    );
    assert!(
        !lint("lintme").contains(&"arrow_alignment".to_string()),
        "{:?}",
        lint("lintme")
    );
    assert!(
        found.iter().filter(|f| f.1 == "lint").all(|f| !f.4),
        "a lint warning failed the gate: {found:#?}"
    );

    // The cases whose catalogs do not compile failed at `compile`, at Puppet's line, and
    // started nothing; the clean module's case started its container and passed.
    for case in ["unknown variable", "no such parameter"] {
        let report = common::case(run.json(), &[("module", "nocompile"), ("case", case)]);
        assert_eq!(report["status"], "failed", "{report:#}");
        let steps = report["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1, "{report:#}");
        assert_eq!(steps[0]["step"], "compile", "{report:#}");
    }
    let unknown = common::case(
        run.json(),
        &[("module", "nocompile"), ("case", "unknown variable")],
    );
    let error = &unknown["steps"][0]["errors"][0];
    assert!(
        error["file"]
            .as_str()
            .unwrap()
            .ends_with("nocompile/manifests/init.pp"),
        "{unknown:#}"
    );
    assert_eq!(error["line"], 2, "{unknown:#}");
    for module in ["good", "ownfact"] {
        assert_eq!(
            common::case(run.json(), &[("module", module)])["status"],
            "passed",
            "{}",
            run.show()
        );
    }
    // `compile: false` leaves a case to its own container: the same catalog fails at its
    // apply there, and it is nocompile's only container.
    let left = common::case(
        run.json(),
        &[("module", "nocompile"), ("case", "left to its apply")],
    );
    assert_eq!(left["status"], "failed", "{left:#}");
    let steps: Vec<(&str, &str)> = left["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps[..2],
        [("start", "passed"), ("apply", "failed")],
        "{left:#}"
    );
    let run_id = run.json()["run_id"].as_str().unwrap();
    assert_eq!(
        created(run_id, "nocompile", since, until).len(),
        1,
        "{}",
        run.show()
    );
    assert_eq!(
        created(run_id, "broken", since, until),
        Vec::<String>::new()
    );
    assert_eq!(
        created(run_id, "good", since, until).len(),
        1,
        "{}",
        run.show()
    );

    // Jenkins sees a test case a file with findings, failed where they fail the gate.
    let junit = run.junit();
    assert!(
        junit.contains("testsuite name=\"broken validate\""),
        "{junit}"
    );
    assert!(
        junit.contains(
            "testcase name=\"validate › manifests/init.pp\" classname=\"validate.broken\""
        ),
        "{junit}"
    );
    assert!(
        junit.contains("testcase name=\"validate\" classname=\"validate.good\""),
        "{junit}"
    );

    // Without the gate, the same tree runs every case: their applies fail instead.
    let ungated = Rehearsal::new()
        .arg("run")
        .arg(dir.path().join("nocompile"))
        .arg("--no-gate")
        .json()
        .run();
    assert_eq!(ungated.code(), Some(1), "{}", ungated.show());
    assert!(ungated.json().get("gate").is_none(), "{}", ungated.show());
    let report = common::case(ungated.json(), &[("case", "unknown variable")]);
    assert_eq!(report["steps"][0]["step"], "start", "{report:#}");
}

/// The reviews a run with `--gerrit` posts to the stand-in, with the run.
async fn voted(dir: &Path, server: &common::gerrit::Gerrit) -> common::Outcome {
    use common::gerrit::{CHANGE, PASSWORD, PROJECT, REVISION, USER};
    Rehearsal::new()
        .current_dir(dir)
        .args(["run", ".", "--gerrit"])
        .json()
        .env("GERRIT_API_URL", server.url())
        .env("GERRIT_PROJECT", PROJECT)
        .env("GERRIT_CHANGE_NUMBER", CHANGE.to_string())
        .env("GERRIT_PATCHSET_REVISION", REVISION)
        .env("GERRIT_HTTP_USER", USER)
        .env("GERRIT_HTTP_PASSWORD", PASSWORD)
        .run_async()
        .await
}

#[tokio::test]
async fn a_failed_gate_votes_at_once_and_the_final_review_follows() {
    use common::gerrit::{Gerrit, Mode};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::git(root, &["init", "-q"]);
    let spec = |class: &str| {
        format!("platforms: [debian11]\ncases:\n  default:\n    manifest: include {class}\n")
    };
    common::module(&root.join("good"), "good", spec("good"));
    common::module(&root.join("typo"), "typo", spec("typo"));
    common::write(
        root,
        "typo/manifests/init.pp",
        "class typo {\n  if { }\n}\n",
    );
    let server = Gerrit::start(
        &["typo/manifests/init.pp", "good/manifests/init.pp"],
        Mode::Normal,
        &[],
    )
    .await;

    let run = voted(root, &server).await;
    assert_eq!(run.code(), Some(1), "{}", run.show());
    let posted: Vec<common::gerrit::Received> = server
        .received()
        .into_iter()
        .filter(|r| r.method == "POST" && r.answered == 200)
        .collect();
    assert_eq!(posted.len(), 2, "{}", run.show());
    let early: Value = serde_json::from_str(&posted[0].body).unwrap();
    let last: Value = serde_json::from_str(&posted[1].body).unwrap();
    assert_eq!(early["labels"]["Verified"], -1, "{early:#}");
    let message = early["message"].as_str().unwrap();
    assert!(
        message.starts_with("rehearsal: the gate failed before any case started: 1 problem and 1 case whose catalog does not compile."),
        "{message}"
    );
    assert!(
        message.contains("the full results follow and replace this vote"),
        "{message}"
    );
    let at_line_3 = early["comments"]["typo/manifests/init.pp"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["line"] == 3 && c["message"].as_str().unwrap().contains("Syntax error"));
    assert!(at_line_3, "{early:#}");
    // It came before the clean module's case was over; the final review after.
    let good = common::case(run.json(), &[("module", "good")]);
    assert_eq!(good["status"], "passed", "{good:#}");
    let started: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(good["started_at"].clone()).unwrap();
    let ended = started
        + chrono::Duration::milliseconds((good["duration"].as_f64().unwrap() * 1000.0) as i64);
    let early_at: chrono::DateTime<chrono::Utc> = posted[0].at.into();
    assert!(
        early_at < ended,
        "the early vote came at {early_at}, after the case ended at {ended}"
    );
    assert!(posted[0].at < posted[1].at);
    assert_eq!(last["labels"]["Verified"], -1, "{last:#}");
    assert!(
        !last["message"]
            .as_str()
            .unwrap()
            .contains("the full results follow"),
        "{last:#}"
    );

    // A clean gate posts nothing early: one review, the final +1.
    std::fs::remove_dir_all(root.join("typo")).unwrap();
    let clean = voted(root, &server).await;
    assert_eq!(clean.code(), Some(0), "{}", clean.show());
    let reviews = server.reviews();
    assert_eq!(reviews.len(), 3, "{reviews:#?}");
    assert_eq!(reviews[2]["labels"]["Verified"], 1, "{:#}", reviews[2]);
}

/// `--diff-against` on real changes in a git repository: a parameter changed, a resource
/// added, a resource moved to another file, and module data changed, which changes a
/// resource whose file the change did not touch. Each case's catalog is compiled from
/// the base's code and the change's, in the gate, and compared resource by resource.
#[test]
fn diff_against_shows_what_a_change_does_to_each_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::git(root, &["init", "--quiet", "--initial-branch=main"]);
    common::module(
        &root.join("web"),
        "web",
        "platforms: [debian11]\ncases:\n  default:\n    manifest: include web\n",
    );
    common::write(
        root,
        "web/manifests/init.pp",
        "# @summary a web server's files\nclass web {\n  file { '/etc/web.conf':\n    ensure => file,\n    mode   => '0644',\n  }\n  file { '/etc/web.motd':\n    ensure  => file,\n    content => 'hello',\n  }\n  include web::issue\n  include web::secret\n}\n",
    );
    let secret = |value: &str| {
        format!("# @summary a secret\nclass web::secret {{\n  file {{ '/etc/web.secret':\n    ensure  => file,\n    content => Sensitive('{value}'),\n  }}\n}}\n")
    };
    common::write(root, "web/manifests/secret.pp", secret("s3cret-old"));
    common::write(
        root,
        "web/manifests/issue.pp",
        "# @summary the issue file\n# @param text what it says\nclass web::issue (String $text) {\n  file { '/etc/web.issue':\n    ensure  => file,\n    content => $text,\n  }\n}\n",
    );
    common::write(
        root,
        "web/hiera.yaml",
        "---\nversion: 5\ndefaults:\n  datadir: data\n  data_hash: yaml_data\nhierarchy:\n  - name: common\n    path: common.yaml\n",
    );
    common::write(
        root,
        "web/data/common.yaml",
        "---\nweb::issue::text: Debian\n",
    );
    common::git(root, &["add", "-A"]);
    common::git(root, &["commit", "--quiet", "-m", "base"]);

    // The change: a mode, a new directory, the motd moved to a class of its own, and the
    // issue's text in the module's data.
    common::write(
        root,
        "web/manifests/init.pp",
        "# @summary a web server's files\nclass web {\n  file { '/etc/web.conf':\n    ensure => file,\n    mode   => '0600',\n  }\n  file { '/etc/web.d':\n    ensure => directory,\n  }\n  include web::motd\n  include web::issue\n  include web::secret\n}\n",
    );
    common::write(root, "web/manifests/secret.pp", secret("s3cret-new"));
    // A module the base does not have.
    common::module(
        &root.join("fresh"),
        "fresh",
        "platforms: [debian11]\ncases:\n  default:\n    manifest: include fresh\n",
    );
    common::write(
        root,
        "web/manifests/motd.pp",
        "# @summary the motd\nclass web::motd {\n  file { '/etc/web.motd':\n    ensure  => file,\n    content => 'hello',\n  }\n}\n",
    );
    common::write(
        root,
        "web/data/common.yaml",
        "---\nweb::issue::text: Welcome\n",
    );

    let run = Rehearsal::new()
        .arg("run")
        .arg(root)
        .args(["--diff-against", "HEAD"])
        .json()
        .run();
    assert_eq!(run.code(), Some(0), "{}", run.show());
    let gate = &run.json()["gate"];
    assert!(
        gate["diff_against"].as_str().unwrap().starts_with("`HEAD`"),
        "{gate:#}"
    );
    let diffs = gate["diffs"].as_array().unwrap();
    assert_eq!(diffs.len(), 2, "{gate:#}");
    assert_eq!(diffs[0]["id"]["module"], "fresh");
    assert_eq!(
        diffs[0]["base_error"],
        "the module is new: the base revision does not have it"
    );
    let diff = &diffs[1];
    assert_eq!(diff["id"]["case"], "default");
    let names = |key: &str| -> Vec<String> {
        diff[key]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|r| r["resource"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        names("added"),
        ["File[/etc/web.d]", "Class[Web::Motd]"],
        "{diff:#}"
    );
    assert_eq!(names("removed"), Vec::<String>::new(), "{diff:#}");
    let changed = |resource: &str| -> &Value {
        diff["changed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["resource"] == resource)
            .unwrap_or_else(|| panic!("{resource} did not change: {diff:#}"))
    };
    // A parameter changed, in the file the change touched.
    let conf = changed("File[/etc/web.conf]");
    assert_eq!(
        conf["parameters"],
        serde_json::json!([{"name": "mode", "old": "0644", "new": "0600"}])
    );
    assert!(conf["file"]
        .as_str()
        .unwrap()
        .ends_with("web/manifests/init.pp"));
    assert_eq!(conf["line"], 3);
    assert!(conf.get("unexpected").is_none(), "{conf:#}");
    // Moved to another file, its parameters the same.
    let motd = changed("File[/etc/web.motd]");
    assert!(
        motd["file"]
            .as_str()
            .unwrap()
            .ends_with("web/manifests/motd.pp"),
        "{motd:#}"
    );
    assert!(
        motd["moved_from"]["file"]
            .as_str()
            .unwrap()
            .ends_with("web/manifests/init.pp"),
        "{motd:#}"
    );
    assert!(motd.get("parameters").is_none(), "{motd:#}");
    // Changed by data, in a file the change did not touch: the reviewer is told.
    let issue = changed("File[/etc/web.issue]");
    assert_eq!(issue["unexpected"], true, "{issue:#}");
    assert_eq!(
        issue["parameters"],
        serde_json::json!([{"name": "content", "old": "Debian", "new": "Welcome"}])
    );
    assert!(
        run.stdout().contains("DIFF   against `HEAD`"),
        "{}",
        run.show()
    );
    assert!(
        run.stdout().contains("~ File[/etc/web.conf] (")
            && run.stdout().contains("mode: '0644' → '0600'"),
        "{}",
        run.show()
    );
    // A Sensitive value changed: said, never shown, nowhere in the reports.
    let secret = changed("File[/etc/web.secret]");
    assert_eq!(
        secret["parameters"],
        serde_json::json!([{"name": "content", "old": null, "new": null, "sensitive": true}])
    );
    let everything = format!("{}{}", run.stdout(), run.json());
    assert!(!everything.contains("s3cret"), "{}", run.show());
    // The working tree and the index are as they were.
    assert_eq!(
        common::git(root, &["status", "--porcelain"]),
        " M web/data/common.yaml\n M web/manifests/init.pp\n M web/manifests/secret.pp\n?? fresh/\n?? web/manifests/motd.pp\n"
    );
}

/// Acceptance coverage on a module checked by hand: of its five native resources (one in
/// a define it declares), the case applies four (the fifth sits behind a parameter no
/// case sets) and checks two, one by a `resource` check; `--min-coverage` above its 80%
/// fails the run, at or below passes.
#[test]
fn coverage_counts_the_declarations_a_case_applied_and_a_check_asserted() {
    let dir = tempfile::tempdir().unwrap();
    common::module(
        &dir.path().join("cov"),
        "cov",
        "platforms: [debian11]\ncases:\n  default:\n    manifest: include cov\n    expect:\n      - file: /etc/cov.conf\n      - resource: \"File['/etc/cov.d']\"\n",
    );
    common::write(
        dir.path(),
        "cov/manifests/init.pp",
        "# @summary coverage\n# @param extra whether the extra file is managed\nclass cov (Boolean $extra = false) {\n  file { '/etc/cov.conf':\n    ensure => file,\n  }\n  file {\n    '/etc/cov.d': ensure => directory;\n  }\n  exec { 'cov-stamp':\n    command => '/bin/true',\n    unless  => '/bin/true',\n  }\n  if $extra {\n    file { '/etc/cov.extra': ensure => file }\n  }\n  cov::thing { 'one': }\n}\n",
    );
    // A defined type: its instance is no declaration (a run report lists native
    // resources), the file its define declares is.
    common::write(
        dir.path(),
        "cov/manifests/thing.pp",
        "# @summary a thing\ndefine cov::thing () {\n  file { \"/etc/cov.thing.${title}\": ensure => file }\n}\n",
    );
    let run = Rehearsal::new()
        .arg("run")
        .arg(dir.path())
        .args(["--min-coverage", "85"])
        .json()
        .run();
    assert_eq!(run.code(), Some(1), "{}", run.show());
    run.stderr_contains("coverage of cov is 80%, below --min-coverage 85");
    let coverage = &run.json()["coverage"][0];
    assert_eq!(coverage["module"], "cov", "{coverage:#}");
    assert_eq!(
        (
            &coverage["declared"],
            &coverage["applied"],
            &coverage["asserted"]
        ),
        (&Value::from(5), &Value::from(4), &Value::from(2)),
        "{coverage:#}"
    );
    let uncovered = &coverage["uncovered"][0];
    assert_eq!(
        uncovered["resource"], "File[/etc/cov.extra]",
        "{coverage:#}"
    );
    assert_eq!(uncovered["line"], 15, "{coverage:#}");
    assert!(
        run.stdout().contains(
            "coverage: cov 80% (4 of 5 resources applied, 2 asserted by a check; debian11 4)"
        ),
        "{}",
        run.show()
    );
    let enough = Rehearsal::new()
        .arg("run")
        .arg(dir.path())
        .args(["--min-coverage", "80"])
        .run();
    assert_eq!(enough.code(), Some(0), "{}", enough.show());
}

/// The figures of a sample module, counted by hand: heartbeat's manifests declare 11
/// resources; its `cron watchdog` case applies all of them; its checks name 7 (the
/// directories /etc/heartbeat and /var/lib/heartbeat, the heartbeat-check script, checked
/// by running it, and the reload exec are named by none).
#[test]
fn the_sample_heartbeat_module_is_covered_as_counted_by_hand() {
    let run = Rehearsal::new()
        .args(["run", "sample-modules/heartbeat", "-p", "debian11", "-q"])
        .json()
        .run();
    assert_eq!(run.code(), Some(0), "{}", run.show());
    let coverage = &run.json()["coverage"][0];
    assert_eq!(coverage["module"], "heartbeat", "{coverage:#}");
    assert_eq!(
        (
            &coverage["declared"],
            &coverage["applied"],
            &coverage["asserted"]
        ),
        (&Value::from(11), &Value::from(11), &Value::from(7)),
        "{coverage:#}"
    );
}
