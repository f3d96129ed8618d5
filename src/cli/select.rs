//! Choosing what to test: paths, platforms, case globs, the modules a change touches,
//! and one shard's part; everything decided before the engine is touched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::relative;
use crate::error::{exit, Error};
use crate::plan::shard::{self, Shard, Timings};
use crate::plan::{self, Filter, PlannedCase};
use crate::platform::{self, Platform};
use crate::{deps, spec};

#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// Modules, module trees or spec files (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Only these platforms (repeatable).
    #[arg(long = "platform", short = 'p', value_name = "NAME")]
    pub platforms: Vec<String>,
    /// Only the cases whose name matches this glob, like 'port*' (repeatable).
    #[arg(long = "case", value_name = "GLOB")]
    pub cases: Vec<String>,
    /// Platform definitions: a directory of `<name>/platform.yaml` or `<name>/Dockerfile`
    /// (default: the built-in Debian 11, 12 and 13).
    #[arg(long, env = "REHEARSAL_IMAGES", value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Only the modules changed since REV (git; against the working tree, untracked files
    /// included) and the modules that depend on them. Without REV: the Gerrit trigger's
    /// target branch (GERRIT_BRANCH).
    #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "")]
    pub changed_since: Option<String>,
    /// Say on stderr where each module on the modulepath comes from (a path, a git
    /// repository at a commit) and, with --changed-since, why each module is selected.
    #[arg(long)]
    pub explain: bool,
    /// Fetch no fixture: git fixtures come from the cache as it is (a branch stays where
    /// the cache has it; a repository not cached yet is an error).
    #[arg(long, env = "REHEARSAL_OFFLINE")]
    pub offline: bool,
    /// The Forge (API v3) that `.fixtures.yml`'s `forge_modules` come from, a company
    /// mirror say; a fixture's own `--module_repository` wins.
    #[arg(long, env = "REHEARSAL_FORGE", value_name = "URL", default_value = deps::forge::PUBLIC)]
    pub forge: String,
    /// Only part K of N of the planned cases (one Jenkins agent's share), like 2/4.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// A previous run's JSON report (repeatable, e.g. one per shard): balance the shards
    /// by its recorded case durations.
    #[arg(long, value_name = "FILE", requires = "shard")]
    pub timings: Vec<PathBuf>,
}

/// What to test, resolved from the arguments: the paths (the current directory when none
/// is given) and the filters. `login` builds one directly for its one case.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub paths: Vec<PathBuf>,
    pub platforms: Vec<String>,
    pub cases: Vec<String>,
    pub images: Option<PathBuf>,
    /// `Some("")`: since the Gerrit trigger's target branch.
    pub changed_since: Option<String>,
    pub explain: bool,
    pub offline: bool,
    pub forge: String,
    pub shard: Option<Shard>,
    pub timings: Vec<PathBuf>,
}

impl SelectArgs {
    /// The selection these arguments ask for.
    pub fn selection(&self) -> Selection {
        Selection {
            paths: if self.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                self.paths.clone()
            },
            platforms: self.platforms.clone(),
            cases: self.cases.clone(),
            images: self.images.clone(),
            changed_since: self.changed_since.clone(),
            explain: self.explain,
            offline: self.offline,
            forge: self.forge.clone(),
            shard: self.shard,
            timings: self.timings.clone(),
        }
    }
}

/// Specs, platforms and the plan: everything decided before the engine is touched.
pub(super) fn prepare(select: &Selection) -> Result<Vec<PlannedCase>, Error> {
    let paths = select.paths.clone();
    let files = spec::discover(&paths)?;
    if files.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::usage(format!(
            "no {} found under {} (hint: a module's spec is a {0} at its root; the README shows the format)",
            spec::SPEC_FILE,
            shown.join(", ")
        )));
    }
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    let mut sites: HashMap<PathBuf, Arc<spec::site::Site>> = HashMap::new();
    for file in &files {
        match spec::load(file) {
            Ok(mut spec) => match site_of(&spec, &mut sites) {
                Ok(site) => {
                    spec.site = site;
                    specs.push(Arc::new(spec));
                }
                Err(err) => errors.push(err),
            },
            Err(err) => errors.push(err),
        }
    }
    errors.dedup();
    if !errors.is_empty() {
        return Err(Error::Spec(errors));
    }
    let mut specs = resolve_fixtures(specs, select)?;
    if let Some(rev) = &select.changed_since {
        specs = changed_only(specs, rev, &paths[0], select)?;
    }
    let platforms: Vec<Arc<Platform>> = platform::load(select.images.as_deref())?
        .into_iter()
        .map(Arc::new)
        .collect();
    for spec in specs.iter().filter(|s| s.platforms.is_none()) {
        let choices = plan::support::choose(&spec.module_dir, &platforms);
        if select.explain {
            eprintln!("{}: platforms from its metadata.json:", spec.module_name);
            for choice in &choices {
                let verdict = if choice.chosen { "runs" } else { "left out" };
                eprintln!("  {} {verdict}: {}", choice.platform, choice.why);
            }
        }
        if !choices.is_empty() && choices.iter().all(|c| !c.chosen) {
            let why: Vec<String> = choices
                .iter()
                .map(|c| format!("{}: {}", c.platform, c.why))
                .collect();
            eprintln!(
                "warning: {} supports none of the platforms here, so none of its cases runs ({}); name its platforms in its spec's `platforms:` to run it anyway",
                spec.module_name,
                why.join("; ")
            );
        }
    }
    let filter = Filter {
        platforms: select.platforms.clone(),
        cases: select.cases.clone(),
    };
    let plan = plan::plan(&specs, &platforms, &filter)?;
    match select.shard {
        Some(part) => shard_of(plan, part, &select.timings),
        None => Ok(plan),
    }
}

/// Every spec's fixtures as directories (git ones fetched and checked out), before any
/// container starts; what `metadata.json` needs and nothing provides is warned of.
fn resolve_fixtures(
    specs: Vec<Arc<spec::ModuleSpec>>,
    select: &Selection,
) -> Result<Vec<Arc<spec::ModuleSpec>>, Error> {
    let env = |name: &str| std::env::var(name).ok();
    let fetchers = deps::Fetchers::new(&deps::cache_dir(env), select.forge.clone(), select.offline);
    let mut resolved = Vec::with_capacity(specs.len());
    let mut errors = Vec::new();
    // Each site baseline's Puppetfile once, however many specs start from it.
    let mut sites: HashMap<PathBuf, Arc<spec::site::Site>> = HashMap::new();
    for site in specs
        .iter()
        .filter(|s| s.use_baseline)
        .filter_map(|s| s.site.as_ref())
    {
        if sites.contains_key(&site.file) {
            continue;
        }
        match deps::resolve_site(site, &fetchers) {
            Ok(done) => {
                sites.insert(
                    site.file.clone(),
                    done.map_or_else(|| site.clone(), Arc::new),
                );
            }
            Err(err) => {
                sites.insert(site.file.clone(), site.clone());
                errors.push(err);
            }
        }
    }
    for spec in specs {
        match deps::resolve(&spec, &fetchers, &env) {
            Ok(fixtures) => {
                let mut spec = Arc::unwrap_or_clone(spec);
                spec.fixtures = fixtures;
                if let Some(site) = spec.site.as_ref().and_then(|s| sites.get(&s.file)) {
                    spec.site = Some(site.clone());
                }
                spec.pending.clear();
                for warning in deps::metadata::check(&spec) {
                    eprintln!("warning: {}", relative(&warning));
                }
                if select.explain {
                    eprint!("{}", relative(&deps::explain(&spec)));
                }
                resolved.push(Arc::new(spec));
            }
            Err(err) => errors.push(err),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(Error::Deps(errors))
    }
}

/// The site configuration that applies to a spec (the nearest `rehearsal-site.yaml` above
/// it), each file read once.
fn site_of(
    spec: &spec::ModuleSpec,
    sites: &mut HashMap<PathBuf, Arc<spec::site::Site>>,
) -> Result<Option<Arc<spec::site::Site>>, spec::SpecError> {
    let Some(file) = spec::site::find(&spec.module_dir) else {
        return Ok(None);
    };
    if let Some(site) = sites.get(&file) {
        return Ok(Some(site.clone()));
    }
    let site = Arc::new(spec::site::load(&file)?);
    sites.insert(file, site.clone());
    Ok(Some(site))
}

/// The revision a flag names, or (given empty) the Gerrit trigger's target branch.
fn base_rev(rev: &str, flag: &str) -> Result<String, Error> {
    if !rev.is_empty() {
        return Ok(rev.to_string());
    }
    crate::select::gerrit_base(|name| std::env::var(name).ok()).ok_or_else(|| {
        Error::usage(format!(
            "{flag} needs a revision: give one (like origin/main), or set GERRIT_BRANCH as the Gerrit Trigger does"
        ))
    })
}

/// `--diff-against REV`: REV's files (from its merge base with HEAD, as --changed-since
/// compares) checked out beside the working tree of the repository holding `repo`, and
/// the files the change touched.
/// Every planned module must be in that repository: one elsewhere has no base to compare
/// with, and would silently show no change.
pub(super) fn diff_base(
    rev: &str,
    repo: &Path,
    plan: &[PlannedCase],
) -> Result<crate::gate::DiffBase, Error> {
    let rev = base_rev(rev, "--diff-against")?;
    let usage = |e: crate::select::SelectError| {
        Error::usage(e.to_string().replace("--changed-since", "--diff-against"))
    };
    let changed = crate::select::changed_files(repo, &rev).map_err(usage)?;
    for row in plan {
        let spec = &row.spec;
        let inside = spec
            .module_dir
            .canonicalize()
            .is_ok_and(|dir| dir.starts_with(&changed.root));
        if !inside {
            return Err(Error::usage(format!(
                "--diff-against compares one git repository, {}, and the module {} ({}) is not in it: run the modules of each repository on their own",
                changed.root.display(),
                spec.module_name,
                spec.module_dir.display()
            )));
        }
    }
    let tree = tempfile::Builder::new()
        .prefix("rehearsal-base-")
        .tempdir()
        .map_err(|e| {
            Error::usage(format!(
                "cannot make a directory for --diff-against's base: {e}"
            ))
        })?;
    crate::select::export_tree(&changed.root, &changed.base, tree.path()).map_err(usage)?;
    Ok(crate::gate::DiffBase {
        describe: changed.describe(),
        touched: changed.files.iter().map(|f| f.path.clone()).collect(),
        root: changed.root,
        tree,
    })
}

/// The specs of the modules a change touches, and of their dependants.
fn changed_only(
    specs: Vec<Arc<spec::ModuleSpec>>,
    rev: &str,
    repo: &Path,
    select: &Selection,
) -> Result<Vec<Arc<spec::ModuleSpec>>, Error> {
    let rev = base_rev(rev, "--changed-since")?;
    let changed =
        crate::select::changed_files(repo, &rev).map_err(|e| Error::usage(e.to_string()))?;
    let modules: Vec<crate::select::Module> = specs
        .iter()
        .map(|s| crate::select::Module::from_spec(s))
        .collect();
    let selection = crate::select::select(&changed, &modules, select.images.as_deref());
    if select.explain {
        eprint!("{}", relative(&selection.explain()));
    }
    let kept: Vec<Arc<spec::ModuleSpec>> = specs
        .into_iter()
        .filter(|s| selection.contains(&s.module_dir))
        .collect();
    if kept.is_empty() {
        eprintln!(
            "no module is affected by the {} changed file(s) since {rev}",
            selection.changed
        );
    } else if !select.explain {
        let names: Vec<&str> = kept.iter().map(|s| s.module_name.as_str()).collect();
        eprintln!(
            "changed since {rev}: {} module(s) to test ({}){}",
            names.len(),
            names.join(", "),
            if selection.everything() {
                " (everything: a changed file could not be attributed; --explain says which)"
            } else {
                ""
            }
        );
    }
    Ok(kept)
}

/// This shard's rows of the plan, in plan order.
fn shard_of(
    plan: Vec<PlannedCase>,
    part: Shard,
    reports: &[PathBuf],
) -> Result<Vec<PlannedCase>, Error> {
    let mut timings: Option<Timings> = None;
    for file in reports {
        let text = std::fs::read_to_string(file).map_err(|err| {
            Error::usage(format!("cannot read --timings {}: {err}", file.display()))
        })?;
        let more = Timings::from_report(&text)
            .map_err(|err| Error::usage(format!("--timings {}: {err}", file.display())))?;
        timings.get_or_insert_with(Timings::default).extend(more);
    }
    let ids: Vec<_> = plan.iter().map(PlannedCase::id).collect();
    let mine = shard::assign(&ids, part, timings.as_ref());
    let total = plan.len();
    let rows: Vec<PlannedCase> = plan
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mine.binary_search(i).is_ok())
        .map(|(_, row)| row)
        .collect();
    eprintln!("shard {part}: {} of {total} planned cases", rows.len());
    Ok(rows)
}

pub(super) fn list(args: SelectArgs) -> Result<u8, Error> {
    let plan = prepare(&args.selection())?;
    for row in &plan {
        let id = row.id();
        println!("{}\t{}\t{}", id.module, id.case, id.platform);
    }
    eprintln!("{} cases", plan.len());
    Ok(exit::SUCCESS)
}
