//! The JSON file, for scripts and dashboards: the whole run in one document.
//!
//! ```json
//! { "version": 1, "run_id": "…",
//!   "engine": { "kind": "podman", "version": "5.4.2", "cgroup": 2, "rootless": true },
//!   "started_at": "2024-05-01T10:00:00Z", "duration": 192.4,
//!   "totals": { "passed": 1, "flaky": 0, "failed": 2, "errors": 1, "skipped": 0 },
//!   "phases": { "snapshot": 41.0, "start": 7.5, "prepare": 0.0, "apply": 12.7, "idempotent": 7.4,
//!               "verify": 2.1, "remove": 1.9 },
//!   "gate": { "findings": [ { "module": "motd", "kind": "manifest", "severity": "error",
//!             "fails": true, "file": "modules/motd/manifests/init.pp", "in_module":
//!             "manifests/init.pp", "line": 5, "column": 3, "message": "Syntax error at '}'",
//!             "platforms": ["debian12"] } ],
//!             "platforms": [ { "platform": "debian12", "duration": 4.1, "files": 12,
//!                              "compiled": 6, "compile_failed": 1 } ], "duration": 4.3 },
//!   "snapshots": [ { "platform": "debian12", "kind": "baseline", "of": "…", "duration": 41.0,
//!                    "status": "built", "image": "rehearsal/snapshot:debian12-…" } ],
//!   "cases": [ { "status": "passed", "id": { … }, "steps": [ … ], "checks": [ … ], … } ] }
//! ```
//!
//! A failed apply's step lists `errors`, the Puppet errors that name their place:
//! `{"file": "modules/motd/manifests/init.pp", "line": 5, "column": 3, "message": "Error:
//! …"}`. A failed check keeps `failures`, one line each as people read them, and lists
//! the same as data in `reasons`: `{"kind": "mismatch", "attribute": "mode", "expected":
//! "0644", "actual": "0600"}` (other kinds: `contains`, `cannot_check`, `note`,
//! `still_failing`). Texts are cleaned of terminal codes (texts from containers and specs
//! may hold them); `rehearsal gerrit-review --report` reads the file back.
//!
//! An apply's step lists its `slowest` resources from Puppet's run report, slowest first
//! (`{"resource": "Package[nginx]", "file": "…/init.pp", "line": 3, "duration": 1.84}`),
//! and says `"without_driver": true` when the platform's Puppet could not run rehearsal's
//! driver (plain `puppet apply`: no report, the verdict read from Puppet's text). A passed
//! step's `message` is what it says beside its verdict (an idempotency exemption, and why).
//!
//! With `--diff-against`, `gate.diff_against` says what was compared and `gate.diffs`
//! lists each catalog that changed: `{"id": {…}, "added": [{"resource": "File[/etc/x]",
//! "file": "…/init.pp", "line": 7}], "removed": […], "changed": [{"resource": …, "file":
//! …, "line": …, "parameters": [{"name": "mode", "old": "0644", "new": "0600"}],
//! "moved_from": {…}, "unexpected": true}], "base_error": "…"}`.
//!
//! `coverage` lists each checked module's acceptance coverage: `{"module": "motd",
//! "declared": 4, "applied": 3, "asserted": 2, "platforms": [{"platform": "debian12",
//! "applied": 3}], "uncovered": [{"resource": "Exec[stamp]", "file": "…/init.pp", "line":
//! 15, …}]}` (a resource its manifests declare is applied when a case's first apply
//! reported it at that place, asserted when a check of that case names it).
//!
//! A retried case keeps its last attempt's steps and checks, lists the attempts before it
//! in `attempts` (each with `started_at`, `duration`, `steps` and `checks`), and says
//! `"flaky": true` when it passed only on a retry (`totals.passed` counts it, and
//! `totals.flaky` too). Its `duration` is all its attempts'.
//!
//! Durations are seconds. Cases are sorted by module, platform and case, so two runs of
//! the same plan give files that compare line by line.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::sorted_by_module_platform_case;
use super::write::write_atomically;
use super::Reporter;
use crate::outcome::engine::EngineInfo;
use crate::outcome::{CaseReport, Event, EventKind, GateReport, Status, Step, Totals};

/// The version of the document's layout; it changes when a field changes meaning or goes.
const FORMAT_VERSION: u32 = 1;

/// Collects the run and writes it as JSON when the run is over.
pub struct JsonReporter {
    path: PathBuf,
    run_id: Option<String>,
    engine: Option<EngineInfo>,
    started_at: Option<DateTime<Utc>>,
    duration: Option<Duration>,
    /// The run's totals, as the runner counted them.
    totals: Option<Totals>,
    cases: Vec<CaseReport>,
    snapshots: Vec<crate::outcome::SnapshotReport>,
    gate: Option<GateReport>,
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    run_id: Option<&'a str>,
    /// The engine the cases ran on and the host's kind; null when none was needed.
    engine: Option<&'a EngineInfo>,
    started_at: Option<DateTime<Utc>>,
    /// Seconds, or null when the run did not say (it was cut short).
    duration: Option<f64>,
    totals: Totals,
    phases: Phases,
    /// What the gate found before any case started (absent when it did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    gate: Option<&'a GateReport>,
    /// Each checked module's acceptance coverage (absent without a gate's declarations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coverage: Vec<crate::outcome::coverage::ModuleCoverage>,
    /// The snapshot layers the run made or reused before the cases.
    snapshots: &'a [crate::outcome::SnapshotReport],
    cases: Vec<CaseEntry<'a>>,
}

/// Seconds spent in each step, summed over all cases.
#[derive(Serialize, Default)]
struct Phases {
    /// Making snapshots (summed over layers; they are made before any case starts).
    snapshot: f64,
    /// The gate's compiles of the cases' catalogs.
    compile: f64,
    start: f64,
    prepare: f64,
    apply: f64,
    idempotent: f64,
    verify: f64,
    /// Removing the cases' containers.
    remove: f64,
}

#[derive(Serialize)]
struct CaseEntry<'a> {
    status: Status,
    /// Passed only on a retry (its earlier attempts are in `attempts`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flaky: bool,
    #[serde(flatten)]
    report: &'a CaseReport,
}

impl JsonReporter {
    /// A reporter that writes to `path` (its directories are created when needed).
    pub fn new(path: PathBuf) -> Self {
        JsonReporter {
            path,
            run_id: None,
            engine: None,
            started_at: None,
            duration: None,
            cases: Vec::new(),
            totals: None,
            snapshots: Vec::new(),
            gate: None,
        }
    }

    fn to_json(&self) -> io::Result<String> {
        let cases = sorted_by_module_platform_case(&self.cases);

        // The run's totals; a report of a run that never finished counts its cases.
        let totals = self
            .totals
            .unwrap_or_else(|| cases.iter().copied().collect());
        let mut phases = [Duration::ZERO; 6];
        for case in &cases {
            for step in &case.steps {
                phases[phase_index(step.step)] += step.duration;
            }
        }
        let [compile, start, prepare, apply, idempotent, verify] = phases.map(seconds);
        let remove = seconds(cases.iter().map(|c| c.removal).sum());
        let snapshot = seconds(self.snapshots.iter().map(|s| s.duration).sum());

        let document = Document {
            version: FORMAT_VERSION,
            run_id: self.run_id.as_deref(),
            engine: self.engine.as_ref(),
            started_at: self
                .started_at
                .or_else(|| cases.iter().map(|c| c.started_at).min()),
            duration: self.duration.map(seconds),
            totals,
            phases: Phases {
                snapshot,
                compile,
                start,
                prepare,
                apply,
                idempotent,
                verify,
                remove,
            },
            gate: self.gate.as_ref(),
            coverage: self
                .gate
                .as_ref()
                .map(|gate| crate::outcome::coverage::of(gate, &cases))
                .unwrap_or_default(),
            snapshots: &self.snapshots,
            cases: cases
                .into_iter()
                .map(|report| CaseEntry {
                    status: report.status(),
                    flaky: report.flaky(),
                    report,
                })
                .collect(),
        };
        let mut json = serde_json::to_string_pretty(&document).map_err(io::Error::other)?;
        json.push('\n');
        Ok(json)
    }
}

impl Reporter for JsonReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::RunStarted { run_id, engine, .. } => {
                self.run_id = Some(run_id.clone());
                self.engine = engine.clone();
                self.started_at = Some(event.timestamp);
            }
            EventKind::Snapshot(report) => self.snapshots.push((**report).clone()),
            EventKind::Gate(report) => self.gate = Some((**report).clone()),
            EventKind::CaseFinished(report) => self.cases.push(report.cleaned()),
            EventKind::RunFinished { totals } => {
                self.duration = Some(event.elapsed);
                self.totals = Some(*totals);
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let json = self.to_json()?;
        write_atomically(&self.path, json.as_bytes())
    }
}

fn phase_index(step: Step) -> usize {
    match step {
        Step::Compile => 0,
        Step::Start => 1,
        Step::Prepare => 2,
        Step::Apply => 3,
        Step::Idempotent => 4,
        Step::Verify => 5,
    }
}

/// Seconds, to the millisecond, as the event types serialise them.
fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::JsonReporter;
    use crate::outcome::Event;
    use crate::report::fixtures;

    fn write(events: &[Event]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/rehearsal.json");
        fixtures::written(JsonReporter::new(path.clone()), &path, events)
    }

    #[test]
    fn a_small_run() {
        insta::assert_snapshot!(write(&fixtures::run_with_snapshot()));
    }

    #[test]
    fn cases_are_sorted_by_module_platform_and_case() {
        let json: serde_json::Value = serde_json::from_str(&write(&fixtures::run())).unwrap();
        let order: Vec<String> = json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let id = &c["id"];
                format!("{}/{}/{}", id["module"], id["platform"], id["case"]).replace('"', "")
            })
            .collect();
        assert_eq!(
            order,
            [
                "motd/debian12/default",
                "motd/rocky9/custom",
                "ntp/debian12/default",
                "ntp/debian12/servers"
            ]
        );
    }

    #[test]
    fn phases_and_totals_add_up() {
        let json: serde_json::Value = serde_json::from_str(&write(&fixtures::run())).unwrap();
        assert_eq!(json["totals"]["passed"], 1);
        assert_eq!(json["totals"]["failed"], 2);
        assert_eq!(json["totals"]["errors"], 1);
        // 2.1 + 1.9 + 1.5 + 2.0 seconds of starting containers.
        assert_eq!(json["phases"]["start"], 7.5);
    }

    #[test]
    fn terminal_codes_are_taken_out_of_the_texts() {
        let json = write(&fixtures::run());
        assert!(json.contains("Notice: Applied catalog in 0.90 seconds\\n"));
        assert!(!json.contains("\\u001b"));
    }

    #[test]
    fn an_empty_run_writes_a_document() {
        let json: serde_json::Value = serde_json::from_str(&write(&[])).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["cases"].as_array().unwrap().len(), 0);
        assert!(json["started_at"].is_null());
    }
}
