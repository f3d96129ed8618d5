//! The validated spec: what the planner and runner use. Built from `raw.rs` once every
//! value has been checked; per-case hiera data and facts are already merged here.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::check::Check;
use super::limits::{LimitsOverride, Network};
use super::matcher::Matchers;
pub use super::raw::{GitSource, GitWant};
use super::raw::{Idempotent, RawCase, RawFixture, RawSpec, RawTimeouts};
use indexmap::IndexMap;

/// One module's spec, read from its `rehearsal.yaml`.
#[derive(Debug, Clone)]
pub struct ModuleSpec {
    /// The spec file, absolute.
    pub file: PathBuf,
    /// The module's root directory (where the spec sits), absolute.
    pub module_dir: PathBuf,
    /// The module's name on the modulepath (from metadata.json, else the directory).
    pub module_name: String,
    /// Platforms to run on; `None` means every platform.
    pub platforms: Option<Vec<String>>,
    /// Where each of [`ModuleSpec::platforms`] is written (line, column), when known:
    /// platform names are checked once the platform definitions are read.
    pub platform_positions: Vec<(usize, usize)>,
    pub fixtures: Vec<Fixture>,
    /// Git fixtures the spec declares, fetched before any container starts
    /// (the `deps` stage above turns them into [`Fixture`]s).
    pub pending: Vec<PendingFixture>,
    /// Puppetfiles whose modules are fixtures (`fixtures: [{ puppetfile: … }]`), each with
    /// the spec's line that names it.
    pub puppetfiles: Vec<(PathBuf, usize)>,
    /// The Hiera 5 config file, absolute; its datadir is relative to it.
    pub hiera_config: Option<PathBuf>,
    /// Puppet code applied once per platform; every case starts from its snapshot.
    pub prepare: Option<String>,
    /// Spec-level hiera data (before any case's), as the `prepare` code sees it.
    pub hiera_data: Map<String, Value>,
    /// Spec-level facts (before any case's), as the `prepare` code sees them.
    pub facts: Map<String, Value>,
    /// Whether the cases start from the site baseline's snapshot, when there is one.
    pub use_baseline: bool,
    /// The site configuration above the module (`rehearsal-site.yaml`), if any.
    pub site: Option<std::sync::Arc<super::site::Site>>,
    pub cases: Vec<Case>,
}

/// A module put on the modulepath beside the one under test: a directory on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    pub name: String,
    pub path: PathBuf,
    /// Where it came from, for `list --explain` and the reports.
    pub origin: FixtureOrigin,
}

/// Where a fixture came from: who declared it, and from what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureOrigin {
    /// The file that declared it (the spec, a `.fixtures.yml`) and the line.
    pub declared_in: PathBuf,
    pub line: Option<usize>,
    pub source: Source,
}

/// `file:line` (or the file alone) where a fixture is declared, as errors and reports
/// name it.
pub fn declared_at(file: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", file.display()),
        None => file.display().to_string(),
    }
}

impl FixtureOrigin {
    /// Where the fixture is declared ([`declared_at`]).
    pub fn declared_at(&self) -> String {
        declared_at(&self.declared_in, self.line)
    }
}

/// What a fixture is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory as it is (the spec's path, `.fixtures.yml`'s symlinks).
    Local,
    /// A checkout of a git repository at the commit its revision named.
    Git {
        url: String,
        want: GitWant,
        commit: String,
    },
    /// A Forge module's release, unpacked.
    Forge {
        /// `author/name`.
        slug: String,
        /// The Forge's address, without credentials.
        forge: String,
        /// What was asked for (a version, a range, the newest).
        asked: String,
        version: String,
    },
}

/// A git fixture that `deps` has yet to fetch and check out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFixture {
    pub name: String,
    pub git: GitSource,
    pub declared_in: PathBuf,
    pub line: Option<usize>,
}

/// What a case applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    /// Puppet code written in the spec.
    Inline(String),
    /// A file, relative to the module's root (e.g. `examples/init.pp`).
    File(PathBuf),
}

/// One named case of a spec.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub manifest: Manifest,
    /// Spec-level `hiera.data` with the case's `hiera_data` merged over it.
    pub hiera_data: Map<String, Value>,
    /// Spec-level `facts` with the case's `facts` merged over it.
    pub facts: Map<String, Value>,
    pub expect: Vec<Check>,
    /// The apply must fail, with output matching every one of these.
    pub fails_with: Option<Matchers>,
    /// A second apply must change nothing.
    pub idempotent: bool,
    /// ... but these resources, each with the reason why (`idempotent: { except: … }`).
    pub idempotent_except: IndexMap<String, String>,
    /// Puppet 8's strict defaults (`strict=error`, `strict_variables`) on every platform.
    pub strict: bool,
    /// The gate compiles the case's catalog before it starts (`compile: false`: not).
    pub compile: bool,
    /// Attempts after the first when it does not pass, failures and errors alike (the
    /// spec's or the case's `retries`); `None`: as the run says (`--retries`).
    pub retries: Option<u32>,
    pub timeouts: Timeouts,
    /// The case's limits over the spec's; the platform's and the defaults come after.
    pub limits: LimitsOverride,
    pub network: Network,
}

/// How long each step of a case may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Container start until systemd answers.
    pub start: Duration,
    /// Each `puppet apply` (the prepare code, the first and the idempotency apply).
    pub apply: Duration,
    /// The probe that runs every check.
    pub verify: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            start: Duration::from_secs(60),
            apply: Duration::from_secs(600),
            verify: Duration::from_secs(300),
        }
    }
}

impl Timeouts {
    fn overridden(self, raw: Option<RawTimeouts>) -> Timeouts {
        let raw = raw.unwrap_or_default();
        Timeouts {
            start: raw.start.unwrap_or(self.start),
            apply: raw.apply.unwrap_or(self.apply),
            verify: raw.verify.unwrap_or(self.verify),
        }
    }
}

/// Merges `over` into `base`: maps merge key by key, anything else is replaced.
pub fn deep_merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Object(mine)), Value::Object(theirs)) => deep_merge(mine, theirs),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The parts of a validated spec that do not come from the YAML itself.
pub struct Origin {
    pub file: PathBuf,
    pub module_dir: PathBuf,
    pub module_name: String,
    /// The line of each of the spec's `fixtures`, in order.
    pub fixture_lines: Vec<Option<usize>>,
}

impl ModuleSpec {
    /// Builds the model. Errors are whole-spec problems (no position in the file).
    pub fn from_raw(raw: RawSpec, origin: Origin) -> Result<ModuleSpec, String> {
        let timeouts = Timeouts::default().overridden(raw.timeouts);
        let hiera = raw.hiera.unwrap_or(super::raw::RawHiera {
            config: None,
            data: None,
        });
        let spec_data = hiera.data.map(|m| m.0).unwrap_or_default();
        let spec_facts = raw.facts.map(|m| m.0).unwrap_or_default();
        let raw_cases = raw.cases.map(|c| c.0).unwrap_or_default();
        if raw_cases.is_empty() {
            return Err("the spec has no cases: add at least one under `cases:`".to_string());
        }
        let defaults = CaseDefaults {
            idempotent: raw.idempotent,
            strict: raw.strict,
            compile: raw.compile,
            retries: raw.retries.map(|r| r.0),
        };
        let mut cases = Vec::with_capacity(raw_cases.len());
        for (name, case) in raw_cases {
            cases.push(case_from_raw(
                name,
                case,
                &spec_data,
                &spec_facts,
                timeouts,
                (raw.limits.unwrap_or_default(), raw.network),
                &defaults,
            )?);
        }
        let (mut fixtures, mut pending, mut puppetfiles) = (Vec::new(), Vec::new(), Vec::new());
        for (i, fixture) in raw.fixtures.into_iter().enumerate() {
            let line = origin.fixture_lines.get(i).copied().flatten();
            match fixture {
                RawFixture::Path { path, name } => fixtures.push(Fixture {
                    name: name.unwrap_or_else(|| module_name_of(&path.resolved)),
                    path: path.resolved,
                    origin: FixtureOrigin {
                        declared_in: origin.file.clone(),
                        line,
                        source: Source::Local,
                    },
                }),
                RawFixture::Puppetfile(path) => {
                    puppetfiles.push((path.resolved, line.unwrap_or(0)))
                }
                RawFixture::Git { source, name } => pending.push(PendingFixture {
                    name: name.unwrap_or_else(|| repository_module_name(&source)),
                    git: source,
                    declared_in: origin.file.clone(),
                    line,
                }),
            }
        }
        Ok(ModuleSpec {
            file: origin.file,
            module_dir: origin.module_dir,
            module_name: origin.module_name,
            platforms: raw.platforms,
            platform_positions: Vec::new(),
            fixtures,
            pending,
            puppetfiles,
            hiera_config: hiera.config.map(|p| p.resolved),
            prepare: raw.prepare.filter(|code| !code.trim().is_empty()),
            hiera_data: spec_data,
            facts: spec_facts,
            use_baseline: raw.baseline.unwrap_or(true),
            site: None,
            cases,
        })
    }
}

/// What a spec sets for all its cases, each of which may set its own.
pub struct CaseDefaults {
    pub idempotent: Option<Idempotent>,
    pub strict: Option<bool>,
    pub compile: Option<bool>,
    pub retries: Option<u32>,
}

fn case_from_raw(
    name: String,
    raw: RawCase,
    spec_data: &Map<String, Value>,
    spec_facts: &Map<String, Value>,
    timeouts: Timeouts,
    (spec_limits, spec_network): (LimitsOverride, Option<Network>),
    spec_defaults: &CaseDefaults,
) -> Result<Case, String> {
    // The case's own `idempotent` wins; exemptions of both apply, the case's over the spec's.
    let idempotent = match (&raw.idempotent, &spec_defaults.idempotent) {
        (Some(Idempotent::Except(own)), Some(Idempotent::Except(spec))) => {
            let mut merged = spec.clone();
            merged.extend(own.clone());
            Some(Idempotent::Except(merged))
        }
        (Some(own), _) => Some(own.clone()),
        (None, spec) => spec.clone(),
    };
    let idempotent = idempotent.as_ref();
    let manifest = match (raw.manifest, raw.manifest_file) {
        (Some(code), None) if !code.trim().is_empty() => Manifest::Inline(code),
        (Some(_), None) => return Err(format!("case `{name}` has an empty `manifest`")),
        (None, Some(file)) => Manifest::File(PathBuf::from(file.written)),
        (Some(_), Some(_)) => {
            return Err(format!(
                "case `{name}` has both `manifest` and `manifest_file`: keep one"
            ))
        }
        (None, None) => {
            return Err(format!(
                "case `{name}` has nothing to apply: add `manifest: <puppet code>` or `manifest_file: <path>`"
            ))
        }
    };
    let mut hiera_data = spec_data.clone();
    deep_merge(
        &mut hiera_data,
        &raw.hiera_data.map(|m| m.0).unwrap_or_default(),
    );
    let mut facts = spec_facts.clone();
    deep_merge(&mut facts, &raw.facts.map(|m| m.0).unwrap_or_default());
    // The case's own checks first, then those of its goss files, in their order.
    let mut expect = raw.expect;
    expect.extend(raw.goss_checks);
    Ok(Case {
        name,
        manifest,
        hiera_data,
        facts,
        expect,
        fails_with: raw.fails_with,
        idempotent: !matches!(idempotent, Some(Idempotent::Checked(false))),
        idempotent_except: match idempotent {
            Some(Idempotent::Except(except)) => except.clone(),
            _ => IndexMap::new(),
        },
        strict: raw.strict.or(spec_defaults.strict).unwrap_or(true),
        compile: raw.compile.or(spec_defaults.compile).unwrap_or(true),
        retries: raw.retries.map(|r| r.0).or(spec_defaults.retries),
        timeouts: timeouts.overridden(raw.timeouts),
        limits: raw.limits.unwrap_or_default().over(spec_limits),
        network: raw.network.or(spec_network).unwrap_or_default(),
    })
}

/// A module's name: metadata.json's `name` after the author (`acme-motd` → `motd`),
/// else the directory's name.
/// A git fixture's module name when it gives none: the repository's (or its subdir's)
/// last path segment, without `.git` and an author's prefix (`puppetlabs-stdlib.git` is
/// `stdlib`), as puppetlabs_spec_helper names a module.
pub fn repository_module_name(source: &GitSource) -> String {
    let path = source.subdir.as_deref().unwrap_or(&source.url);
    let last = path
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(path);
    let last = last.strip_suffix(".git").unwrap_or(last);
    last.rsplit('-').next().unwrap_or(last).to_string()
}

pub fn module_name_of(dir: &std::path::Path) -> String {
    let from_metadata = std::fs::read(dir.join("metadata.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|meta| meta.get("name").and_then(Value::as_str).map(str::to_string))
        .and_then(|full| full.rsplit(['-', '/']).next().map(str::to_string))
        .filter(|name| !name.is_empty());
    from_metadata.unwrap_or_else(|| {
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "module".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deep_merge_merges_maps_and_replaces_the_rest() {
        let mut base = json!({"role": "web", "dc": {"site": "ams", "rack": 12}, "l": [1]})
            .as_object()
            .unwrap()
            .clone();
        let over = json!({"dc": {"rack": 3}, "l": [2], "new": true})
            .as_object()
            .unwrap()
            .clone();
        deep_merge(&mut base, &over);
        assert_eq!(
            Value::Object(base),
            json!({"role": "web", "dc": {"site": "ams", "rack": 3}, "l": [2], "new": true})
        );
    }
}
