//! The gate: what can be found wrong in a run's modules without applying anything, found
//! before any case starts, so a typo costs seconds rather than a container per case and
//! platform. A stage between the plan and the cases (the runner calls it first):
//!
//! 1. on the host ([`host`]): each module's `metadata.json` and its Hiera files, and the
//!    specs' own Hiera configs and data;
//! 2. in one container a platform (its image, no snapshot), one Ruby process with Puppet
//!    loaded once (`gate.rb`): the syntax of every manifest and EPP template (that
//!    platform's Puppet's parser), of every ERB template (as Ruby), puppet-lint (on one
//!    platform a module: the last it runs on, whose puppet-lint is the newest), then each
//!    case's catalog compiled with its facts, Hiera data and strict mode, not applied.
//!
//! A case whose catalog does not compile fails at its `compile` step with Puppet's error
//! at its file and line, and never starts a container. What the gate cannot decide (no
//! Puppet on a platform, a compile that dies, the gate's own trouble) fails nothing: those
//! cases run as they would without a gate, and the report says why. Cases with
//! `fails_with` are not compiled here (their failure is what they test), nor those whose
//! spec says `compile: false`.
//!
//! The modules checked are those under test and their local fixtures inside the run's
//! directory (the repository); fixtures fetched from git or the Forge are someone else's.

pub mod diff;
pub mod host;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::backend::{Backend, ContainerConfig, Mount};
use crate::labels;
use crate::layout::{self, SITE_PP};
use crate::outcome::{
    FileKind, GateFinding, GatePlatform, GateReport, PuppetError, Severity, Status, Step,
    StepReport,
};
use crate::plan::PlannedCase;
use crate::platform::Platform;
use crate::spec::limits::{Limits, Network};
use crate::spec::{Manifest, ModuleSpec, Source};

/// Where the gate's files are in its container.
const GATE_DIR: &str = "/etc/rehearsal/gate";
/// How long one platform's gate may take.
const LIMIT: Duration = Duration::from_secs(600);

/// The gate's script, run with Puppet's Ruby.
const GATE_RB: &str = concat!(include_str!("../puppet/facter.rb"), include_str!("gate.rb"));

/// Which lint problems fail the gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LintFails {
    /// No lint problem fails it; all are warnings.
    Never,
    /// puppet-lint's errors fail it, its warnings warn (puppet-lint's own default).
    #[default]
    Errors,
    /// Every problem fails it (puppet-lint's `--fail-on-warnings`).
    Warnings,
}

/// What the gate does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Run puppet-lint.
    pub lint: bool,
    pub lint_fails: LintFails,
    /// Compile each case's catalog.
    pub compile: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lint: true,
            lint_fails: LintFails::Errors,
            compile: true,
        }
    }
}

/// `--diff-against`: the base revision's files, checked out beside the working tree, and
/// what the change touched. Each compiled case is compiled once more from the base's
/// modules (the same case: its manifest, facts and data), and the two catalogs compared.
pub struct DiffBase {
    /// The repository's root (the working tree), canonical.
    pub root: PathBuf,
    /// The base revision's files, laid out as the repository's (removed with it).
    pub tree: tempfile::TempDir,
    /// What was compared, for messages.
    pub describe: String,
    /// The files the change touched, relative to the root.
    pub touched: std::collections::BTreeSet<PathBuf>,
}

impl DiffBase {
    /// Where a working tree's directory is in the base's tree, when it is in the
    /// repository and the base has it.
    fn at_base(&self, path: &Path) -> Option<PathBuf> {
        let rel = path.canonicalize().ok()?;
        let rel = rel.strip_prefix(&self.root).ok()?;
        let there = self.tree.path().join(rel);
        there.exists().then_some(there)
    }
}

/// What the gate found, and the cases it failed.
#[derive(Debug, Default)]
pub struct Gated {
    pub report: GateReport,
    /// The plan rows whose catalog does not compile, with their failed `compile` step.
    pub failed: Vec<(usize, StepReport)>,
}

/// Runs the gate over the plan: the host's checks, then each platform's container, side
/// by side.
pub async fn run<B: Backend>(
    backend: &B,
    run_id: &str,
    plan: &[PlannedCase],
    options: &Options,
    diff: Option<&DiffBase>,
) -> Gated {
    let began = Instant::now();
    let cwd = std::env::current_dir().unwrap_or_default();
    let modules = checked_modules(plan, &cwd);
    let mut findings = host_findings(plan, &modules, &cwd);
    let platforms = crate::plan::platforms_of(plan);
    let runs = platforms.iter().map(|platform| {
        let job = PlatformJob::new(platform, plan, &modules, options, &cwd, diff);
        async move {
            let started = Instant::now();
            let result = match job {
                Ok(job) => job.run(backend, run_id).await,
                Err(err) => Err(err),
            };
            (platform.name.clone(), started.elapsed(), result)
        }
    });
    let results = futures_util::future::join_all(runs).await;
    let mut failed = Vec::new();
    let mut reports = Vec::new();
    let mut diffs = Vec::new();
    let mut declarations: Vec<crate::outcome::coverage::Declaration> = Vec::new();
    for (platform, duration, result) in results {
        match result {
            Ok(done) => {
                reports.push(GatePlatform {
                    platform: platform.clone(),
                    duration,
                    files: done.files,
                    compiled: done.compiled,
                    compile_failed: done.failed.len(),
                    error: done.trouble,
                    phases: done.phases,
                });
                findings.extend(done.findings);
                failed.extend(done.failed);
                diffs.extend(done.diffs);
                declarations.extend(done.declarations);
            }
            Err(error) => reports.push(GatePlatform {
                platform,
                duration,
                files: 0,
                compiled: 0,
                compile_failed: 0,
                error: Some(error),
                phases: Default::default(),
            }),
        }
    }
    failed.sort_by_key(|(index, _)| *index);
    let mut names: Vec<String> = modules.iter().map(|m| m.name.clone()).collect();
    names.sort();
    names.dedup();
    Gated {
        report: GateReport {
            findings: merge(findings, options),
            modules: names,
            platforms: reports,
            duration: began.elapsed(),
            diff_against: diff.map(|d| d.describe.clone()),
            declarations: {
                // Each platform parsed the same files: each declaration once.
                declarations.sort_by(|a, b| {
                    (&a.module, &a.file, a.line).cmp(&(&b.module, &b.file, b.line))
                });
                declarations.dedup();
                declarations
            },
            diffs: {
                diffs.sort_by(|a, b| {
                    let key = |d: &crate::outcome::diff::CatalogDiff| {
                        (
                            d.id.module.clone(),
                            d.id.platform.clone(),
                            d.id.case.clone(),
                        )
                    };
                    key(a).cmp(&key(b))
                });
                diffs
            },
        },
        failed,
    }
}

/// A module whose files the gate checks: one under test, or a local fixture of one inside
/// the run's directory.
#[derive(Debug, Clone)]
struct Checked {
    name: String,
    dir: PathBuf,
    /// The platforms it is checked on, in plan order.
    platforms: Vec<String>,
    /// Its files that Puppet checks, listed once for every platform.
    files: host::ModuleFiles,
}

fn checked_modules(plan: &[PlannedCase], cwd: &Path) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::new();
    let mut add =
        |name: &str, dir: &Path, platform: &str| match out.iter_mut().find(|m| m.dir == dir) {
            Some(m) if !m.platforms.iter().any(|p| p == platform) => {
                m.platforms.push(platform.to_string())
            }
            Some(_) => {}
            None => out.push(Checked {
                name: name.to_string(),
                dir: dir.to_path_buf(),
                platforms: vec![platform.to_string()],
                files: host::ModuleFiles::of(dir),
            }),
        };
    for row in plan {
        let spec = &row.spec;
        add(&spec.module_name, &spec.module_dir, &row.platform.name);
        for fixture in &spec.fixtures {
            if fixture.origin.source == Source::Local && fixture.path.starts_with(cwd) {
                add(&fixture.name, &fixture.path, &row.platform.name);
            }
        }
    }
    out
}

/// Seconds to the millisecond, as the reports give them.
fn rounded(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// `path` relative to the run's directory when under it.
fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn finding(module: &Checked, kind: FileKind, problem: host::Problem, cwd: &Path) -> GateFinding {
    GateFinding {
        module: module.name.clone(),
        kind,
        severity: Severity::Error,
        fails: true,
        file: shown(&problem.file, cwd),
        in_module: shown(&problem.file, &module.dir),
        line: problem.line,
        column: problem.column,
        check: None,
        message: problem.message,
        platforms: Vec::new(),
    }
}

/// The host's checks: each module's metadata.json and Hiera files, each spec's Hiera
/// config and data.
fn host_findings(plan: &[PlannedCase], modules: &[Checked], cwd: &Path) -> Vec<GateFinding> {
    let mut out = Vec::new();
    for module in modules {
        for problem in host::check_metadata(&module.dir) {
            out.push(finding(module, FileKind::Metadata, problem, cwd));
        }
        for file in host::module_hiera_files(&module.dir) {
            if let Some(problem) = host::check_hiera(&file) {
                out.push(finding(module, FileKind::Hiera, problem, cwd));
            }
        }
    }
    let mut seen: Vec<&Path> = Vec::new();
    for row in plan {
        let Some(config) = row.spec.hiera_config.as_deref() else {
            continue;
        };
        if seen.contains(&config) {
            continue;
        }
        seen.push(config);
        let owner = Checked {
            name: row.spec.module_name.clone(),
            dir: row.spec.module_dir.clone(),
            platforms: Vec::new(),
            files: host::ModuleFiles::default(),
        };
        let mut files = vec![config.to_path_buf()];
        files.extend(host::data_files(config));
        for file in files {
            if let Some(problem) = host::check_hiera(&file) {
                out.push(finding(&owner, FileKind::Hiera, problem, cwd));
            }
        }
    }
    out
}

/// Each finding once, with the platforms that saw it; lint's severities as the options
/// say; in module, file and line order.
fn merge(findings: Vec<GateFinding>, options: &Options) -> Vec<GateFinding> {
    let mut merged: Vec<GateFinding> = Vec::new();
    for mut finding in findings {
        if finding.kind == FileKind::Lint {
            finding.fails = match options.lint_fails {
                LintFails::Never => false,
                LintFails::Errors => finding.severity == Severity::Error,
                LintFails::Warnings => true,
            };
        }
        let same = merged.iter_mut().find(|m| {
            (&m.file, m.line, m.column, &m.message, m.kind)
                == (
                    &finding.file,
                    finding.line,
                    finding.column,
                    &finding.message,
                    finding.kind,
                )
        });
        match same {
            Some(m) => {
                for platform in finding.platforms {
                    if !m.platforms.contains(&platform) {
                        m.platforms.push(platform);
                    }
                }
            }
            None => merged.push(finding),
        }
    }
    merged.sort_by(|a, b| {
        (&a.module, &a.file, a.line, a.column).cmp(&(&b.module, &b.file, b.line, b.column))
    });
    merged
}

/// One platform's gate, prepared on the host.
struct PlatformJob {
    platform: String,
    image: String,
    work: tempfile::TempDir,
    mounts: Vec<Mount>,
    /// Container path prefixes and the host paths they stand for (longest first).
    paths: Vec<(String, PathBuf)>,
    /// Container prefix of a checked module → the module.
    checked: Vec<(String, Checked)>,
    files: usize,
    /// The compiled cases: plan index → its row's case directory in the container.
    cases: BTreeMap<usize, String>,
    /// The plan rows compiled, by index (their ids, for the diffs).
    ids: BTreeMap<usize, crate::outcome::CaseId>,
    /// With `--diff-against`: container prefixes of the base's modules and the working
    /// tree's paths they stand for (longest first), and what the change touched.
    base_paths: Vec<(String, PathBuf)>,
    diff: Option<(PathBuf, std::collections::BTreeSet<PathBuf>)>,
    /// The plan rows whose module the base revision does not have.
    new_modules: std::collections::BTreeSet<usize>,
    /// The run's directory: host paths are shown relative to it.
    cwd: PathBuf,
}

/// What one platform's gate found.
struct PlatformDone {
    files: usize,
    compiled: usize,
    findings: Vec<GateFinding>,
    failed: Vec<(usize, StepReport)>,
    /// What it could not decide, said once.
    trouble: Option<String>,
    /// Where its time went (seconds).
    phases: indexmap::IndexMap<String, f64>,
    /// With `--diff-against`: the compiled cases whose catalogs differ from the base's.
    diffs: Vec<crate::outcome::diff::CatalogDiff>,
    /// The resources the checked modules declare.
    declarations: Vec<crate::outcome::coverage::Declaration>,
}

impl PlatformJob {
    fn new(
        platform: &Platform,
        plan: &[PlannedCase],
        modules: &[Checked],
        options: &Options,
        cwd: &Path,
        diff: Option<&DiffBase>,
    ) -> Result<PlatformJob, String> {
        let work = tempfile::Builder::new()
            .prefix("rehearsal-gate-")
            .tempdir()
            .map_err(|e| format!("cannot create the gate's directory: {e}"))?;
        let work_at = format!("{GATE_DIR}/work");
        let mut mounts = vec![Mount {
            host: work.path().to_path_buf(),
            container: work_at.clone(),
            read_only: false,
        }];
        let mut paths: Vec<(String, PathBuf)> = Vec::new();
        let mut specs: Vec<&std::sync::Arc<ModuleSpec>> = Vec::new();
        let mut groups: Vec<Value> = Vec::new();
        let mut cases = BTreeMap::new();
        let mut ids = BTreeMap::new();
        let mut base_paths: Vec<(String, PathBuf)> = Vec::new();
        let mut new_modules = std::collections::BTreeSet::new();
        let on_platform = || {
            plan.iter()
                .enumerate()
                .filter(|(_, r)| r.platform.name == platform.name)
        };
        for (_, row) in on_platform() {
            if !specs.iter().any(|s| s.file == row.spec.file) {
                specs.push(&row.spec);
            }
        }
        for (i, spec) in specs.iter().enumerate() {
            let modules_at = format!("{GATE_DIR}/m{i}");
            let mut mount = |host: &Path, at: String| {
                paths.push((at.clone(), host.to_path_buf()));
                mounts.push(Mount {
                    host: host.to_path_buf(),
                    container: at,
                    read_only: true,
                });
            };
            mount(
                &spec.module_dir,
                format!("{modules_at}/{}", spec.module_name),
            );
            for fixture in spec.fixtures.iter().filter(|f| f.name != spec.module_name) {
                mount(&fixture.path, format!("{modules_at}/{}", fixture.name));
            }
            let hiera_at = format!("{GATE_DIR}/h{i}");
            if let Some(config) = spec.hiera_config.as_deref() {
                mount(&crate::puppet::inputs::hiera_dir(config), hiera_at.clone());
            }
            if !options.compile {
                continue;
            }
            // The base's modules, where the repository has them: the module's and its
            // local fixtures' files at the base revision, the others as they are.
            // A module the base does not have is new: its cases are said so, not compiled.
            let base_at = format!("{GATE_DIR}/b{i}");
            let mut new_module = false;
            if let Some(diff) = diff {
                new_module = diff.at_base(&spec.module_dir).is_none();
                let own = std::iter::once((&spec.module_name, &spec.module_dir, true));
                let fixtures = spec
                    .fixtures
                    .iter()
                    .filter(|f| f.name != spec.module_name)
                    .map(|f| (&f.name, &f.path, f.origin.source == Source::Local));
                for (name, dir, local) in own.chain(fixtures) {
                    if new_module {
                        break;
                    }
                    // A local fixture as the base has it; one fetched from git or the Forge,
                    // or one the base does not have (untracked, or new), as it is.
                    let host = match local {
                        true => diff.at_base(dir).unwrap_or_else(|| dir.clone()),
                        false => dir.clone(),
                    };
                    let at = format!("{base_at}/{name}");
                    base_paths.push((at.clone(), dir.clone()));
                    mounts.push(Mount {
                        host,
                        container: at,
                        read_only: true,
                    });
                }
            }
            let mut group_cases = Vec::new();
            let mut base_cases = Vec::new();
            for (index, row) in on_platform().filter(|(_, r)| r.spec.file == spec.file) {
                let case = row.case();
                // A case that must fail is tested by its failure; one with `compile:
                // false` by its container alone (its catalog needs what the baseline or
                // `prepare` leaves).
                if case.fails_with.is_some() || !case.compile {
                    continue;
                }
                let dir = work.path().join(format!("c{index}"));
                let dir_at = format!("{work_at}/c{index}");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot write the gate's files: {e}"))?;
                crate::puppet::inputs::write_inputs_at(
                    &dir,
                    spec.hiera_config.as_deref(),
                    &case.hiera_data,
                    &case.facts,
                    "the case",
                    (&dir_at, &hiera_at),
                )
                .map_err(|e| e.to_string())?;
                let manifest = |modulepath: &str| -> Result<String, String> {
                    Ok(match &case.manifest {
                        Manifest::Inline(code) => {
                            std::fs::write(dir.join(SITE_PP), code)
                                .map_err(|e| format!("cannot write the gate's files: {e}"))?;
                            format!("{dir_at}/{SITE_PP}")
                        }
                        Manifest::File(rel) => {
                            format!("{modulepath}/{}/{}", spec.module_name, rel.display())
                        }
                    })
                };
                let entry = |name: String, modulepath: &str| -> Result<Value, String> {
                    Ok(json!({
                        "id": index,
                        "name": name,
                        "modulepath": modulepath,
                        "manifest": manifest(modulepath)?,
                        "hiera": format!("{dir_at}/{}", layout::HIERA_YAML),
                        "facts": format!("{dir_at}/{}", layout::FACTS_JSON),
                        "strict": case.strict,
                        "catalog": diff.is_some().then(|| format!("{work_at}/out/{name}.catalog.json")),
                    }))
                };
                group_cases.push(entry(index.to_string(), &modules_at)?);
                if new_module {
                    new_modules.insert(index);
                } else if diff.is_some() {
                    base_cases.push(entry(format!("b{index}"), &base_at)?);
                }
                cases.insert(index, dir_at);
                ids.insert(index, row.id());
            }
            if !group_cases.is_empty() {
                groups.push(json!({ "modulepath": modules_at, "cases": group_cases }));
            }
            if !base_cases.is_empty() {
                groups.push(json!({ "modulepath": base_at, "cases": base_cases }));
            }
        }
        // The checked modules on this platform, each at the first place it is mounted.
        let mut checked = Vec::new();
        let (mut manifests, mut erb, mut lint) = (Vec::new(), Vec::new(), Vec::new());
        let mut files = 0;
        for module in modules
            .iter()
            .filter(|m| m.platforms.contains(&platform.name))
        {
            let Some((at, _)) = paths.iter().find(|(_, host)| *host == module.dir) else {
                continue;
            };
            let list = &module.files;
            files += list.len();
            let inside = |file: &PathBuf| {
                format!(
                    "{at}/{}",
                    file.strip_prefix(&module.dir).unwrap_or(file).display()
                )
            };
            manifests.extend(list.manifests.iter().chain(&list.epp).map(inside));
            erb.extend(list.erb.iter().map(inside));
            if options.lint
                && module.platforms.last() == Some(&platform.name)
                && module.dir.join("manifests").is_dir()
            {
                lint.push(at.clone());
            }
            checked.push((at.clone(), module.clone()));
        }
        paths.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
        checked.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
        base_paths.sort_by_key(|(at, _)| std::cmp::Reverse(at.len()));
        let request = json!({
            "manifests": manifests,
            "erb": erb,
            "lint": { "modules": lint },
            "compile": groups,
            "jobs": 2,
        });
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(work.path().join(name), bytes)
                .map_err(|e| format!("cannot write the gate's files: {e}"))
        };
        write("request.json", request.to_string().as_bytes())?;
        write("gate.rb", GATE_RB.as_bytes())?;
        Ok(PlatformJob {
            platform: platform.name.clone(),
            image: platform.image(),
            work,
            mounts,
            paths,
            checked,
            files,
            cases,
            ids,
            base_paths,
            diff: diff.map(|d| (d.root.clone(), d.touched.clone())),
            new_modules,
            cwd: cwd.to_path_buf(),
        })
    }

    async fn run<B: Backend>(self, backend: &B, run_id: &str) -> Result<PlatformDone, String> {
        let config = ContainerConfig {
            image: self.image.clone(),
            name: format!("rehearsal-{run_id}-gate-{}", self.platform),
            hostname: format!("gate-{}", self.platform.replace(['.', '_'], "-")),
            labels: HashMap::from([
                (
                    labels::MANAGED_BY.to_string(),
                    labels::MANAGED_BY_VALUE.to_string(),
                ),
                (labels::RUN_ID.to_string(), run_id.to_string()),
            ]),
            mounts: self.mounts.clone(),
            limits: Limits::DEFAULT,
            network: Network::Default,
        };
        let starting = Instant::now();
        let id = backend
            .start(&config)
            .await
            .map_err(|e| format!("cannot start its container: {e}"))?;
        let started = starting.elapsed();
        let work_at = format!("{GATE_DIR}/work");
        let script = format!("{work_at}/gate.rb");
        let request = format!("{work_at}/request.json");
        let out_dir = format!("{work_at}/out");
        let command = crate::puppet::ruby_command(&script, &[&request, &out_dir], LIMIT);
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let output = backend.exec(&id, &command).await;
        let _ = backend.remove(&id).await;
        let output = output.map_err(|e| format!("cannot run in its container: {e}"))?;
        if output.exit_code != 0 {
            let said = output.combined();
            let tail: Vec<&str> = said.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "its script ended with exit {}: {}",
                output.exit_code,
                tail.join(" / ")
            ));
        }
        let mut done = self.read(&String::from_utf8_lossy(&output.stdout));
        done.phases
            .shift_insert(0, "start".into(), rounded(started.as_secs_f64()));
        Ok(done)
    }

    /// The findings and compiles gate.rb told, as host paths.
    fn read(&self, stdout: &str) -> PlatformDone {
        let mut done = PlatformDone {
            files: self.files,
            compiled: 0,
            findings: Vec::new(),
            failed: Vec::new(),
            trouble: None,
            phases: Default::default(),
            diffs: Vec::new(),
            declarations: Vec::new(),
        };
        let mut troubles: Vec<String> = Vec::new();
        // With --diff-against: the plan rows whose catalog the change compiled.
        let mut compiled_now = Vec::new();
        for line in stdout.lines() {
            let Ok(said) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            match said["type"].as_str() {
                Some("finding") => {
                    if let Some(finding) = self.finding(&said) {
                        done.findings.push(finding);
                    }
                }
                Some("compile") => {
                    let Some(index) = said["id"].as_u64().map(|i| i as usize) else {
                        continue;
                    };
                    // The base's compile of a case decides nothing about it.
                    if said["name"].as_str().is_some_and(|n| n.starts_with('b')) {
                        continue;
                    }
                    match said["exit"].as_i64() {
                        Some(0) => {
                            done.compiled += 1;
                            compiled_now.push(index);
                        }
                        Some(1) => {
                            done.compiled += 1;
                            let seconds = said["seconds"].as_f64().unwrap_or(0.0);
                            if let Some(report) = self.compile_failure(index, seconds) {
                                done.failed.push((index, report));
                            }
                        }
                        // gate.rb's 3: not Puppet's error, but its own trouble.
                        _ => troubles.push(format!(
                            "a compile ended without a verdict ({})",
                            self.output_of(index).lines().last().unwrap_or("no output")
                        )),
                    }
                }
                Some("declaration") => {
                    if let Some(declaration) = self.declaration(&said) {
                        done.declarations.push(declaration);
                    }
                }
                Some("phase") => {
                    if let (Some(name), Some(seconds)) =
                        (said["name"].as_str(), said["seconds"].as_f64())
                    {
                        done.phases.insert(name.to_string(), rounded(seconds));
                    }
                }
                Some("lint_unavailable") => {
                    troubles.push(format!("puppet-lint cannot run here: {}", said["message"]))
                }
                Some("lint_failed") => troubles.push(format!(
                    "puppet-lint failed: {}",
                    said["message"]
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or("")
                )),
                _ => {}
            }
        }
        troubles.dedup();
        if !troubles.is_empty() {
            done.trouble = Some(troubles.join("; "));
        }
        done.diffs = compiled_now
            .into_iter()
            .filter_map(|index| self.catalog_diff(index))
            .filter(|d| !d.is_empty())
            .collect();
        done
    }

    /// A compiled case's catalog against the base's (`None` without --diff-against, or
    /// when the change's catalog was not written).
    fn catalog_diff(&self, index: usize) -> Option<crate::outcome::diff::CatalogDiff> {
        let (root, touched) = self.diff.as_ref()?;
        let out = self.work.path().join("out");
        let read = |name: &str, map: &[(String, PathBuf)]| -> Option<Vec<diff::Resource>> {
            let text = std::fs::read_to_string(out.join(format!("{name}.catalog.json"))).ok()?;
            let mut resources: Vec<diff::Resource> = serde_json::from_str(&text).ok()?;
            for resource in &mut resources {
                resource.file = resource.file.take().map(|file| {
                    let text = file.to_string_lossy();
                    map.iter()
                        .find_map(|(at, host)| {
                            text.strip_prefix(&format!("{at}/"))
                                .map(|rest| host.join(rest))
                        })
                        .unwrap_or(file)
                });
            }
            Some(resources)
        };
        // The case's own manifest as the runner names it, as `to_host` does.
        let dir_at = self.cases.get(&index)?;
        let site = (
            format!("{dir_at}/{SITE_PP}"),
            PathBuf::from(layout::case_file(SITE_PP)),
        );
        let change = read(
            &index.to_string(),
            &[&self.paths[..], std::slice::from_ref(&site)].concat(),
        )?;
        let base_name = format!("b{index}");
        let base = match self.new_modules.contains(&index) {
            true => Err("the module is new: the base revision does not have it".to_string()),
            false => read(&base_name, &[&self.base_paths[..], &[site]].concat()).ok_or_else(|| {
                let output = self.to_host(&self.output_of_name(&base_name));
                crate::puppet::error_lines(&output)
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "it did not compile".into())
            }),
        };
        let untouched = |file: &Path| {
            let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
            file.strip_prefix(root)
                .is_ok_and(|rel| !touched.contains(rel))
        };
        let shown = |file: &Path| shown(file, &self.cwd);
        Some(diff::compare(
            self.ids.get(&index)?.clone(),
            base.as_deref().map_err(Clone::clone),
            &change,
            &diff::Context {
                untouched: &untouched,
                shown: &shown,
            },
        ))
    }

    /// The checked module a file gate.rb named is in, and the file's host path.
    fn checked_file(&self, said: &Value) -> Option<(&Checked, PathBuf)> {
        let file = said["file"].as_str()?;
        let (at, module) = self
            .checked
            .iter()
            .find(|(at, _)| file.starts_with(&format!("{at}/")))?;
        Some((module, module.dir.join(&file[at.len() + 1..])))
    }

    /// A resource declaration gate.rb told, at its host path.
    fn declaration(&self, said: &Value) -> Option<crate::outcome::coverage::Declaration> {
        let (module, host) = self.checked_file(said)?;
        let line = said["line"].as_u64()? as u32;
        Some(crate::outcome::coverage::Declaration {
            module: module.name.clone(),
            resource: said["resource"].as_str()?.to_string(),
            file: shown(&host, &self.cwd),
            line,
            at: said["at"].as_u64().map_or(line, |at| at as u32),
        })
    }

    /// A finding gate.rb told, at its host path.
    fn finding(&self, said: &Value) -> Option<GateFinding> {
        let (module, host) = self.checked_file(said)?;
        let kind = match said["kind"].as_str()? {
            "manifest" => FileKind::Manifest,
            "epp" => FileKind::Epp,
            "erb" => FileKind::Erb,
            "lint" => FileKind::Lint,
            _ => return None,
        };
        let severity = match said["severity"].as_str() {
            Some("warning") => Severity::Warning,
            _ => Severity::Error,
        };
        let number = |key: &str| said[key].as_u64().map(|n| n as u32).filter(|n| *n > 0);
        Some(GateFinding {
            module: module.name.clone(),
            kind,
            severity,
            fails: severity == Severity::Error,
            file: shown(&host, &self.cwd),
            in_module: shown(&host, &module.dir),
            line: number("line"),
            column: number("column"),
            check: said["check"].as_str().map(str::to_string),
            message: self.to_host(said["message"].as_str().unwrap_or_default()),
            platforms: if kind == FileKind::Lint {
                Vec::new()
            } else {
                vec![self.platform.clone()]
            },
        })
    }

    fn output_of(&self, index: usize) -> String {
        self.output_of_name(&index.to_string())
    }

    /// What compile `name` printed (`<index>`, or `b<index>` for the base's).
    fn output_of_name(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join("out").join(format!("{name}.out")))
            .unwrap_or_default()
    }

    /// Container paths in Puppet's words as the host's (the case's own manifest as the
    /// runner names it, so the review maps it to the spec).
    fn to_host(&self, text: &str) -> String {
        let mut out = text.to_string();
        for dir_at in self.cases.values() {
            out = out.replace(&format!("{dir_at}/{SITE_PP}"), &layout::case_file(SITE_PP));
        }
        for (at, host) in self.paths.iter().chain(&self.base_paths) {
            out = out.replace(at.as_str(), &shown(host, &self.cwd));
        }
        out
    }

    /// The failed `compile` step of a case whose catalog does not compile.
    fn compile_failure(&self, index: usize, seconds: f64) -> Option<StepReport> {
        self.cases.get(&index)?;
        let output = self.to_host(&self.output_of(index));
        let errors: Vec<PuppetError> = crate::puppet::errors::located(&output);
        let first = crate::puppet::error_lines(&output)
            .into_iter()
            .next()
            .unwrap_or_else(|| "Puppet said nothing".into());
        Some(StepReport {
            step: Step::Compile,
            status: Status::Failed,
            duration: Duration::from_secs_f64(seconds),
            message: Some(format!(
                "the catalog does not compile on {}, so the case did not start: {first}",
                self.platform
            )),
            errors,
            output,
            slowest: Vec::new(),
            without_driver: false,
            applied: Vec::new(),
        })
    }
}
