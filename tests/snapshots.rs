//! Baseline snapshots against the real engine: a site baseline and a spec's `prepare` are
//! snapshotted once and reused while their inputs stay the same; any changed input
//! rebuilds; a broken baseline stops the run before any module case; two runs at once
//! build a snapshot once. Every tree is written fresh with a unique marker, so no
//! snapshot of an earlier test run can answer for it; the snapshots are removed after.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use common::containers_of_run;

const BIN: &str = env!("CARGO_BIN_EXE_rehearsal");

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

    fn start(&self) -> (std::process::Child, PathBuf) {
        let json = self
            .path()
            .join(format!("{}.json", uuid::Uuid::new_v4().simple()));
        let child = Command::new(BIN)
            .args(["run", "-p", "debian12", "--json"])
            .arg(&json)
            .arg(self.path().join("modules"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start rehearsal");
        (child, json)
    }
}

impl Drop for Site {
    /// Removes the snapshots this tree made (they carry its unique marker in their key).
    fn drop(&mut self) {
        let out = Command::new("docker")
            .args([
                "images",
                "--filter",
                "label=rehearsal.snapshot",
                "--format",
                "{{.Repository}}:{{.Tag}} {{.ID}}",
            ])
            .output();
        let Ok(out) = out else { return };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some((name, _)) = line.split_once(' ') else {
                continue;
            };
            let inspect = Command::new("docker")
                .args([
                    "image",
                    "inspect",
                    "--format",
                    "{{json .Config.Labels}}",
                    name,
                ])
                .output();
            if let Ok(inspect) = inspect {
                let labels = String::from_utf8_lossy(&inspect.stdout).to_string();
                if labels.contains(&self.dir.path().display().to_string())
                    || labels.contains(&self.marker)
                {
                    let _ = Command::new("docker").args(["rmi", name]).output();
                }
            }
        }
    }
}

struct Run {
    output: Output,
    json: Value,
}

impl Run {
    fn wait((child, json): (std::process::Child, PathBuf)) -> Run {
        let output = child.wait_with_output().expect("wait for rehearsal");
        let text = std::fs::read_to_string(&json).unwrap_or_else(|err| {
            panic!(
                "no JSON report ({err}); stdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        Run {
            json: serde_json::from_str(&text).unwrap(),
            output,
        }
    }

    fn show(&self) -> String {
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.output.status.code(),
            String::from_utf8_lossy(&self.output.stdout),
            String::from_utf8_lossy(&self.output.stderr)
        )
    }

    /// (kind, status) of each snapshot layer, lowest first.
    fn layers(&self) -> Vec<(String, String)> {
        let mut layers: Vec<(String, String)> = self.json["snapshots"]
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
        self.output.status.code() == Some(0) && self.json["totals"]["passed"] == 1
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
    assert!(first.json["phases"]["snapshot"].as_f64().unwrap() > 0.0);

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
    assert_eq!(run.output.status.code(), Some(1), "{}", run.show());
    assert_eq!(
        run.layers(),
        layers(&[("baseline", "failed")]),
        "no prepare layer starts from a failed baseline\n{}",
        run.show()
    );
    let stdout = String::from_utf8_lossy(&run.output.stdout);
    assert!(
        stdout.contains("the base role is broken on purpose"),
        "{}",
        run.show()
    );
    let case = &run.json["cases"][0];
    assert_eq!(case["status"], "error");
    let steps = case["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "no step but the failed baseline: {case}");
    assert_eq!(steps[0]["step"], "prepare");
    assert!(steps[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("baseline (rehearsal-site.yaml) failed on debian12"));
    // Nothing of the run remains: the build container is gone.
    let run_id = run.json["run_id"].as_str().unwrap();
    let left = containers_of_run(run_id);
    assert!(left.is_empty(), "containers left: {left}");
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
        .flat_map(|r| r.json["snapshots"].as_array().unwrap().clone())
        .filter(|s| s["waited"] == true)
        .count();
    assert!(waited >= 1, "the second run waited for the first");
}

fn rehearsal(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "rehearsal {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
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
