//! Baseline snapshots against the real engine: a site baseline and a spec's `prepare` are
//! snapshotted once and reused while their inputs stay the same; any changed input
//! rebuilds; a broken baseline stops the run before any module case; two runs at once
//! build a snapshot once. Every tree is written fresh with a unique marker, so no
//! snapshot of an earlier test run can answer for it; the snapshots are removed after.

mod common;

use std::path::Path;

use common::{containers_of_run, remove_image, snapshot_images, Outcome, Rehearsal, Running};

/// `clean --snapshots` removes every snapshot on the engine: the test of it runs alone
/// (write), the others side by side (read).
static ENGINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    ENGINE.read().unwrap_or_else(|e| e.into_inner())
}

/// A site tree: `rehearsal-site.yaml` whose baseline writes the marker, and one module
/// whose `prepare` writes a second file; its case checks both.
struct Site {
    dir: tempfile::TempDir,
    marker: String,
}

impl Site {
    fn new(baseline_code: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let marker = uuid::Uuid::new_v4().simple().to_string();
        let root = dir.path();
        std::fs::create_dir_all(root.join("site/roles/manifests")).unwrap();
        std::fs::write(
            root.join("site/roles/manifests/base.pp"),
            format!(
                "class roles::base {{\n  file {{ '/etc/rehearsal-base': content => \"{marker} ${{facts['tier']}}\\n\" }}\n}}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            root.join("rehearsal-site.yaml"),
            format!("baseline:\n  manifest: {baseline_code}\n  modulepath: [site]\n  facts: {{ tier: base }}\n"),
        )
        .unwrap();
        let module = root.join("modules/web");
        std::fs::create_dir_all(module.join("manifests")).unwrap();
        std::fs::write(
            module.join("manifests/init.pp"),
            "class web { file { '/etc/web': content => \"web\\n\" } }\n",
        )
        .unwrap();
        std::fs::write(
            module.join("rehearsal.yaml"),
            "platforms: [debian12]\nfacts: { role: web }\nprepare: |\n  file { '/etc/prepared': content => \"${facts['role']}\\n\" }\ncases:\n  default:\n    manifest: include web\n    expect:\n      - file: /etc/rehearsal-base\n        contains: [MARKER base]\n      - file: /etc/prepared\n        contains: [web]\n      - file: /etc/web\n".replace("MARKER", &marker),
        )
        .unwrap();
        Site { dir, marker }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self) -> Run {
        Run::wait(self.start())
    }

    /// `rehearsal run` of the tree's modules, with a JSON report of its own.
    fn start(&self) -> Running {
        Rehearsal::new()
            .args(["run", "-p", "debian12"])
            .arg(self.path().join("modules"))
            .json()
            .spawn()
    }
}

impl Drop for Site {
    /// Removes the snapshots this tree made (they carry its unique marker in their key).
    fn drop(&mut self) {
        for (name, labels) in snapshot_images() {
            if labels.contains(&self.dir.path().display().to_string())
                || labels.contains(&self.marker)
            {
                remove_image(&name);
            }
        }
    }
}

/// A run that ended, with its JSON report.
struct Run(Outcome);

impl std::ops::Deref for Run {
    type Target = Outcome;

    fn deref(&self) -> &Outcome {
        &self.0
    }
}

impl Run {
    fn wait(running: Running) -> Run {
        let outcome = running.wait();
        // Its JSON report is there (or the test fails, saying why).
        outcome.json();
        Run(outcome)
    }

    /// (kind, status) of each snapshot layer, lowest first.
    fn layers(&self) -> Vec<(String, String)> {
        let mut layers: Vec<(String, String)> = self.json()["snapshots"]
            .as_array()
            .unwrap_or_else(|| panic!("no snapshots in the report\n{}", self.show()))
            .iter()
            .map(|s| {
                (
                    s["kind"].as_str().unwrap().to_string(),
                    s["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        layers.sort_by_key(|(kind, _)| kind != "baseline");
        layers
    }

    fn passed(&self) -> bool {
        self.code() == Some(0) && self.json()["totals"]["passed"] == 1
    }
}

fn layers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, s)| (k.to_string(), s.to_string()))
        .collect()
}

#[test]
fn a_snapshot_is_reused_while_its_inputs_stay_and_rebuilt_when_one_changes() {
    let _engine = shared();
    let site = Site::new("include roles::base");
    let first = site.run();
    assert!(first.passed(), "{}", first.show());
    assert_eq!(
        first.layers(),
        layers(&[("baseline", "built"), ("prepare", "built")]),
        "{}",
        first.show()
    );
    // The case started from the snapshot: its checks saw both layers' files.
    assert!(first.json()["phases"]["snapshot"].as_f64().unwrap() > 0.0);

    let second = site.run();
    assert!(second.passed(), "{}", second.show());
    assert_eq!(
        second.layers(),
        layers(&[("baseline", "reused"), ("prepare", "reused")]),
        "{}",
        second.show()
    );

    // Editing the module under test rebuilds nothing.
    std::fs::write(
        site.path().join("modules/web/manifests/init.pp"),
        "class web { file { '/etc/web': content => \"web 2\\n\" } }\n",
    )
    .unwrap();
    let edited_module = site.run();
    assert!(edited_module.passed(), "{}", edited_module.show());
    assert_eq!(
        edited_module.layers(),
        layers(&[("baseline", "reused"), ("prepare", "reused")])
    );

    // The spec's facts are an input of its prepare layer only.
    let spec = site.path().join("modules/web/rehearsal.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        text.replace("role: web", "role: web2")
            .replace("contains: [web]", "contains: [web2]"),
    )
    .unwrap();
    let new_facts = site.run();
    assert!(new_facts.passed(), "{}", new_facts.show());
    assert_eq!(
        new_facts.layers(),
        layers(&[("baseline", "reused"), ("prepare", "built")])
    );

    // A file of a module on the baseline's modulepath rebuilds both layers.
    let base = site.path().join("site/roles/manifests/base.pp");
    let text = std::fs::read_to_string(&base).unwrap();
    std::fs::write(&base, format!("{text}# a comment changes the file\n")).unwrap();
    let new_base = site.run();
    assert!(new_base.passed(), "{}", new_base.show());
    assert_eq!(
        new_base.layers(),
        layers(&[("baseline", "built"), ("prepare", "built")])
    );
}

#[test]
fn a_broken_baseline_stops_the_run_before_any_module_case() {
    let _engine = shared();
    let site = Site::new("\"fail('the base role is broken on purpose')\"");
    let run = site.run();
    run.exit(1);
    assert_eq!(
        run.layers(),
        layers(&[("baseline", "failed")]),
        "no prepare layer starts from a failed baseline\n{}",
        run.show()
    );
    run.stdout_contains("the base role is broken on purpose");
    let case = &run.json()["cases"][0];
    assert_eq!(case["status"], "error");
    let steps = case["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "no step but the failed baseline: {case}");
    assert_eq!(steps[0]["step"], "prepare");
    assert!(steps[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("baseline (rehearsal-site.yaml) failed on debian12"));
    // Nothing of the run remains: the build container is gone.
    let run_id = run.json()["run_id"].as_str().unwrap();
    let left = containers_of_run(run_id);
    assert!(left.is_empty(), "containers left: {left:?}");
}

#[test]
fn two_runs_at_once_build_a_snapshot_once() {
    let _engine = shared();
    let site = Site::new("include roles::base");
    let a = site.start();
    let b = site.start();
    let (a, b) = (Run::wait(a), Run::wait(b));
    assert!(a.passed(), "{}", a.show());
    assert!(b.passed(), "{}", b.show());
    let builds = [&a, &b]
        .iter()
        .flat_map(|r| r.layers())
        .filter(|(_, status)| status == "built")
        .count();
    assert_eq!(
        builds,
        2,
        "each layer built by one run only\n{}\n{}",
        a.show(),
        b.show()
    );
    let waited = [&a, &b]
        .iter()
        .flat_map(|r| r.json()["snapshots"].as_array().unwrap().clone())
        .filter(|s| s["waited"] == true)
        .count();
    assert!(waited >= 1, "the second run waited for the first");
}

/// What a successful `rehearsal ARGS` printed.
fn rehearsal(args: &[&str]) -> String {
    Rehearsal::new()
        .args(args)
        .run()
        .success()
        .stdout()
        .to_string()
}

#[test]
fn images_list_shows_snapshots_and_clean_snapshots_removes_them() {
    let _alone = ENGINE.write().unwrap_or_else(|e| e.into_inner());
    let site = Site::new("include roles::base");
    let first = site.run();
    assert!(first.passed(), "{}", first.show());
    let ours = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .filter(|l| l.contains(&site.path().display().to_string()))
            .map(str::to_string)
            .collect()
    };
    let listed = ours(&rehearsal(&["images", "list"]));
    assert_eq!(listed.len(), 2, "both layers listed: {listed:?}");
    assert!(
        listed.iter().any(|l| l.contains(" baseline ")),
        "{listed:?}"
    );
    assert!(listed.iter().any(|l| l.contains(" prepare ")), "{listed:?}");
    assert!(listed
        .iter()
        .all(|l| l.starts_with("rehearsal/snapshot:debian12-")));

    // Younger than an hour: spared.
    rehearsal(&["clean", "--snapshots", "--older-than", "1h"]);
    assert_eq!(ours(&rehearsal(&["images", "list"])).len(), 2);

    let cleaned = rehearsal(&["clean", "--snapshots"]);
    assert!(cleaned.contains("removed "), "{cleaned}");
    assert!(ours(&rehearsal(&["images", "list"])).is_empty());

    // The next run builds them again.
    let again = site.run();
    assert!(again.passed(), "{}", again.show());
    assert_eq!(
        again.layers(),
        layers(&[("baseline", "built"), ("prepare", "built")])
    );
}
