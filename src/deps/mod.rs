//! Dependencies: the modules a module under test needs beside it on the modulepath (its
//! fixtures), from its spec's `fixtures:` and its `.fixtures.yml`, resolved into
//! directories on the host before any container starts. The stage after `spec` (which
//! only reads what is declared) and before `plan`: every fixture that comes out of it is
//! a directory, whatever it came from, so everything downstream (mounts, snapshot keys,
//! `--changed-since`) treats them alike.
//!
//! The spec's own fixtures (paths and git repositories) win over those of the Puppetfiles
//! it names, and those over `.fixtures.yml`'s of the same name; the rest of each is added
//! after them. A dependency that `metadata.json` names and
//! nothing provides, or one whose version is outside the range it names, is a warning
//! ([`metadata`]): Puppet's own compile error says the same where a case needs it.

pub mod fixtures_yml;
pub mod forge;
pub mod git;
pub mod marked;
pub mod metadata;
pub mod puppetfile;

use std::path::{Path, PathBuf};

use crate::spec::site::Site;
use crate::spec::{Fixture, FixtureOrigin, ModuleSpec, PendingFixture, Source, SpecError};

/// Where mirrors and checkouts are kept: `$REHEARSAL_CACHE`, else
/// `$XDG_CACHE_HOME/rehearsal`, else `~/.cache/rehearsal`: the user's own, since their git
/// credentials fetch into it.
pub fn cache_dir(env: impl Fn(&str) -> Option<String>) -> PathBuf {
    let set = |name| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    set("REHEARSAL_CACHE")
        .or_else(|| set("XDG_CACHE_HOME").map(|d| d.join("rehearsal")))
        .or_else(|| set("HOME").map(|d| d.join(".cache/rehearsal")))
        .unwrap_or_else(|| PathBuf::from("/var/cache/rehearsal"))
}

/// Why a module's dependencies cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    /// A bad `.fixtures.yml` (or a fixture it cannot use), at its file and line: exit 2.
    #[error("{0}")]
    Bad(SpecError),
    /// A repository that cannot be fetched, a ref it does not have: exit 3. Names the
    /// dependency, where it is declared, and the address without its credentials.
    #[error("{place}: fixture `{name}`: {message}")]
    Fetch {
        place: String,
        name: String,
        message: String,
    },
}

/// Where fixtures are fetched from and kept.
pub struct Fetchers {
    pub git: git::Git,
    /// The Forge's address unless a fixture names its own (`--module_repository`).
    pub forge: String,
    /// Where Forge releases are unpacked.
    pub forge_cache: PathBuf,
    pub offline: bool,
}

impl Fetchers {
    /// Under `cache`: `git/` and `forge/`.
    pub fn new(cache: &std::path::Path, forge: String, offline: bool) -> Fetchers {
        Fetchers {
            git: git::Git::new(cache.join("git"), offline),
            forge,
            forge_cache: cache.join("forge"),
            offline,
        }
    }
}

/// The fixtures of `spec`, every one a directory: its own paths, its git fixtures checked
/// out, and its `.fixtures.yml`'s entries that it does not name itself.
pub fn resolve(
    spec: &ModuleSpec,
    fetchers: &Fetchers,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Fixture>, DepsError> {
    let git = &fetchers.git;
    let mut fixtures = spec.fixtures.clone();
    for pending in &spec.pending {
        fixtures.push(checkout(git, pending)?);
    }
    // The spec's Puppetfiles, then its `.fixtures.yml`: a name taken is skipped.
    let mut declared: Vec<(PathBuf, fixtures_yml::Entry)> = Vec::new();
    for (file, line) in &spec.puppetfiles {
        let source = crate::spec::read_source(file, "Puppetfile").map_err(DepsError::Bad)?;
        let modules = puppetfile::parse(file, &source).map_err(|mut err| {
            err.message = format!(
                "{} (the Puppetfile named at line {line} of the spec)",
                err.message
            );
            DepsError::Bad(err)
        })?;
        declared.extend(modules.into_iter().map(|m| (file.clone(), m)));
    }
    if let Some(file) = fixtures_yml::find(&spec.module_dir, env) {
        let entries = fixtures_yml::load(&file, &spec.module_dir, &spec.module_name, env)
            .map_err(DepsError::Bad)?;
        declared.extend(entries.into_iter().map(|e| (file.clone(), e)));
    }
    for (file, entry) in declared {
        if entry.name == spec.module_name || fixtures.iter().any(|f| f.name == entry.name) {
            continue;
        }
        fixtures.push(fixture_of(entry, file, Some(&spec.module_dir), fetchers)?);
    }
    Ok(fixtures)
}

/// A site baseline's Puppetfile modules, every one a directory (`baseline.modules`);
/// `None` when the site has no Puppetfile to resolve.
pub fn resolve_site(site: &Site, fetchers: &Fetchers) -> Result<Option<Site>, DepsError> {
    let Some(baseline) = &site.baseline else {
        return Ok(None);
    };
    let Some(file) = &baseline.puppetfile else {
        return Ok(None);
    };
    let source = crate::spec::read_source(file, "Puppetfile").map_err(DepsError::Bad)?;
    let modules = puppetfile::parse(file, &source).map_err(|mut err| {
        err.message = format!(
            "{} (the site baseline's Puppetfile, named in {})",
            err.message,
            site.file.display()
        );
        DepsError::Bad(err)
    })?;
    let mut resolved: Vec<Fixture> = Vec::with_capacity(modules.len());
    for entry in modules {
        if resolved.iter().any(|m| m.name == entry.name) {
            continue;
        }
        resolved.push(fixture_of(entry, file.clone(), None, fetchers)?);
    }
    let mut site = site.clone();
    if let Some(baseline) = site.baseline.as_mut() {
        baseline.modules = resolved;
    }
    Ok(Some(site))
}

/// One declared module as a directory: a local one as it is, a git one checked out, a
/// Forge one unpacked (in the range `requirements`' metadata.json gives it, when it asks
/// for no version).
fn fixture_of(
    entry: fixtures_yml::Entry,
    file: PathBuf,
    requirements: Option<&Path>,
    fetchers: &Fetchers,
) -> Result<Fixture, DepsError> {
    let line = Some(entry.line);
    Ok(match entry.kind {
        fixtures_yml::Kind::Local(path) => Fixture {
            name: entry.name,
            path,
            origin: FixtureOrigin {
                declared_in: file,
                line,
                source: Source::Local,
            },
        },
        fixtures_yml::Kind::Git(source) => checkout(
            &fetchers.git,
            &PendingFixture {
                name: entry.name,
                git: source,
                declared_in: file,
                line,
            },
        )?,
        fixtures_yml::Kind::Forge {
            slug,
            version,
            forge,
        } => {
            let declared = Declared {
                name: &entry.name,
                file,
                line,
            };
            from_forge(requirements, fetchers, declared, &slug, version, forge)?
        }
    })
}

/// A fixture's name and where it is declared.
struct Declared<'a> {
    name: &'a str,
    file: PathBuf,
    line: Option<usize>,
}

/// A Forge module's release: the version asked for, else the newest in the range the
/// module's metadata.json gives the dependency, else the newest.
fn from_forge(
    requirements: Option<&Path>,
    fetchers: &Fetchers,
    declared: Declared,
    slug: &str,
    version: Option<String>,
    forge: Option<String>,
) -> Result<Fixture, DepsError> {
    let want = match version {
        Some(version) => forge::Want::Exact(version),
        None => match requirements.and_then(|dir| metadata::requirement_of(dir, slug)) {
            Some(range) => forge::Want::Range(range),
            None => forge::Want::Newest,
        },
    };
    let base = forge.unwrap_or_else(|| fetchers.forge.clone());
    let failed = |message| DepsError::Fetch {
        place: crate::spec::model::declared_at(&declared.file, declared.line),
        name: declared.name.to_string(),
        message,
    };
    let client =
        forge::Forge::new(&base, fetchers.forge_cache.clone(), fetchers.offline).map_err(failed)?;
    let unpacked = client.fetch(slug, &want).map_err(failed)?;
    Ok(Fixture {
        name: declared.name.to_string(),
        path: unpacked.path,
        origin: FixtureOrigin {
            declared_in: declared.file,
            line: declared.line,
            source: Source::Forge {
                slug: slug.to_string(),
                forge: git::redact(base.trim_end_matches('/')),
                asked: want.to_string(),
                version: unpacked.version,
            },
        },
    })
}

fn checkout(git: &git::Git, pending: &PendingFixture) -> Result<Fixture, DepsError> {
    let place = crate::spec::model::declared_at(&pending.declared_in, pending.line);
    let done = git
        .checkout(&pending.git)
        .map_err(|message| DepsError::Fetch {
            place,
            name: pending.name.clone(),
            message,
        })?;
    Ok(Fixture {
        name: pending.name.clone(),
        path: done.path,
        origin: FixtureOrigin {
            declared_in: pending.declared_in.clone(),
            line: pending.line,
            source: Source::Git {
                url: git::redact(&pending.git.url),
                want: pending.git.want.clone(),
                commit: done.commit,
            },
        },
    })
}

/// Where each module on a spec's modulepath comes from, one line each, for
/// `rehearsal list --explain`; then its site baseline's Puppetfile modules.
pub fn explain(spec: &ModuleSpec) -> String {
    let mut out = format!(
        "{}: {} (the module under test)\n",
        spec.module_name,
        spec.module_dir.display()
    );
    for fixture in &spec.fixtures {
        out.push_str(&format!("  {}\n", explain_one(fixture)));
    }
    let baseline = spec
        .site
        .as_deref()
        .filter(|_| spec.use_baseline)
        .and_then(|site| site.baseline.as_ref());
    if let Some(baseline) = baseline.filter(|b| !b.modules.is_empty()) {
        out.push_str("  its site baseline's Puppetfile:\n");
        for module in &baseline.modules {
            out.push_str(&format!("    {}\n", explain_one(module)));
        }
    }
    out
}

fn explain_one(fixture: &Fixture) -> String {
    let declared = fixture.origin.declared_at();
    let from = match &fixture.origin.source {
        Source::Local => fixture.path.display().to_string(),
        Source::Git { url, want, commit } => format!(
            "{url} at {want} (commit {}), checked out in {}",
            &commit[..commit.len().min(12)],
            fixture.path.display()
        ),
        Source::Forge {
            slug,
            forge,
            asked,
            version,
        } => format!(
            "{slug} {version} from {forge} ({asked} asked for), unpacked in {}",
            fixture.path.display()
        ),
    };
    format!("{}: {from}; declared at {declared}", fixture.name)
}

#[cfg(test)]
mod tests;
