//! The serde mirror of `rehearsal.yaml`: every key the file may hold, nothing resolved yet.
//!
//! Values that can be checked on their own (regexes, modes, durations, paths that must
//! exist) are checked here, while serde_yaml still knows where they stand, so every error
//! carries its line and column. `model.rs` turns this into what the planner uses.

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::check::{humantime_serde_opt, Check};
use super::limits::{LimitsOverride, Network};
use super::matcher::Matchers;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a map of settings, like `cases:`")]
pub struct RawSpec {
    pub platforms: Option<Vec<String>>,
    #[serde(default)]
    pub fixtures: Vec<RawFixture>,
    pub hiera: Option<RawHiera>,
    pub facts: Option<YamlMap>,
    pub prepare: Option<String>,
    /// `false`: start from the platform image, not the site baseline's snapshot.
    pub baseline: Option<bool>,
    pub timeouts: Option<RawTimeouts>,
    /// Memory, CPU and process limits of every case's container.
    pub limits: Option<LimitsOverride>,
    /// `none` or `default` (the engine's bridge).
    pub network: Option<Network>,
    /// The cases' default: `false`, or resources exempt from it (a case's own win).
    pub idempotent: Option<Idempotent>,
    /// Puppet 8's strict defaults on every platform (default true).
    pub strict: Option<bool>,
    /// The cases' default: whether the gate compiles their catalogs before they start.
    pub compile: Option<bool>,
    /// The cases' default: how often one that did not pass is tried again.
    pub retries: Option<Retries>,
    pub cases: Option<Cases>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHiera {
    pub config: Option<ExistingPath>,
    pub data: Option<YamlMap>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    #[serde(default, with = "humantime_serde_opt")]
    pub start: Option<Duration>,
    #[serde(default, with = "humantime_serde_opt")]
    pub apply: Option<Duration>,
    #[serde(default, with = "humantime_serde_opt")]
    pub verify: Option<Duration>,
}

/// A fixture: a path to a module directory, `{ path, name }` to name it, or a git
/// repository at a ref: `{ git: URL, ref | tag | commit | branch: …, subdir, name }`.
#[derive(Debug)]
pub enum RawFixture {
    Path {
        path: ExistingPath,
        name: Option<String>,
    },
    Git {
        source: GitSource,
        name: Option<String>,
    },
    /// `{ puppetfile: PATH }`: every module of an r10k Puppetfile.
    Puppetfile(ExistingPath),
}

impl<'de> Deserialize<'de> for RawFixture {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct FixtureVisitor;
        impl<'de> Visitor<'de> for FixtureVisitor {
            type Value = RawFixture;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a path to a module directory, `{ path: …, name: … }`, or `{ git: URL, ref: … }`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFixture, E> {
                let path = ExistingPath::resolve(v).map_err(E::custom)?;
                Ok(RawFixture::Path { path, name: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFixture, A::Error> {
                const FIELDS: &[&str] = &[
                    "path",
                    "name",
                    "git",
                    "ref",
                    "tag",
                    "commit",
                    "branch",
                    "subdir",
                    "puppetfile",
                ];
                let (mut path, mut name, mut git, mut subdir) = (None, None, None, None);
                let mut wants: Vec<(&str, String)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "path" => path = Some(map.next_value::<ExistingPath>()?),
                        "name" => name = Some(map.next_value::<String>()?),
                        "git" => git = Some(map.next_value::<String>()?),
                        "subdir" => subdir = Some(map.next_value::<String>()?),
                        "puppetfile" => {
                            let file = map.next_value::<ExistingPath>()?;
                            if !file.resolved.is_file() {
                                return Err(de::Error::custom(format!(
                                    "`{}` is not a file: `puppetfile` names an r10k Puppetfile",
                                    file.written
                                )));
                            }
                            let others = path.is_some()
                                || name.is_some()
                                || git.is_some()
                                || subdir.is_some()
                                || !wants.is_empty();
                            if others || map.next_key::<de::IgnoredAny>()?.is_some() {
                                return Err(de::Error::custom(
                                    "a `puppetfile` fixture takes no other key: its modules are named in it",
                                ));
                            }
                            return Ok(RawFixture::Puppetfile(file));
                        }
                        "ref" => wants.push(("ref", map.next_value()?)),
                        "tag" => wants.push(("tag", map.next_value()?)),
                        "commit" => wants.push(("commit", map.next_value()?)),
                        "branch" => wants.push(("branch", map.next_value()?)),
                        other => return Err(de::Error::unknown_field(other, FIELDS)),
                    }
                }
                match (path, git) {
                    (Some(_), Some(_)) => Err(de::Error::custom(
                        "a fixture is a `path` or a `git` repository, not both: keep one",
                    )),
                    (Some(path), None) => match wants.first() {
                        Some((key, _)) => Err(de::Error::custom(format!(
                            "`{key}` is for a `git` fixture; a `path` fixture is used as it is"
                        ))),
                        None => Ok(RawFixture::Path { path, name }),
                    },
                    (None, Some(url)) => {
                        let want = GitWant::from_keys(&wants).map_err(de::Error::custom)?;
                        let url = local_url(&url).map_err(de::Error::custom)?;
                        Ok(RawFixture::Git {
                            source: GitSource { url, want, subdir },
                            name,
                        })
                    }
                    (None, None) => Err(de::Error::missing_field("path")),
                }
            }
        }
        de.deserialize_any(FixtureVisitor)
    }
}

/// A git repository a fixture comes from, as declared (resolved by `deps`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GitSource {
    /// As given, but a local path made absolute (relative to the file that names it).
    pub url: String,
    pub want: GitWant,
    /// The module is this directory of the repository.
    pub subdir: Option<String>,
}

/// Which revision of a git fixture: a tag or commit (reused from the cache offline), a
/// branch (fetched again each run), or the remote's default branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GitWant {
    /// A tag, a commit, or any revision git can name (`ref`, `tag`, `commit`).
    Fixed(String),
    Branch(String),
    DefaultBranch,
}

impl GitWant {
    /// From the keys a fixture gives (at most one of `ref`, `tag`, `commit`, `branch`).
    pub fn from_keys(wants: &[(&str, String)]) -> Result<GitWant, String> {
        match wants {
            [] => Ok(GitWant::DefaultBranch),
            [(key, value)] if value.trim().is_empty() => Err(format!("`{key}` is empty")),
            [("branch", branch)] => Ok(GitWant::Branch(branch.clone())),
            [(_, fixed)] => Ok(GitWant::Fixed(fixed.clone())),
            [(a, _), (b, _), ..] => Err(format!(
                "`{a}` and `{b}` both say which revision: keep one (`branch` follows a branch; `ref`, `tag` or `commit` pins one)"
            )),
        }
    }
}

impl fmt::Display for GitWant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitWant::Fixed(rev) => write!(f, "{rev}"),
            GitWant::Branch(branch) => write!(f, "branch {branch}"),
            GitWant::DefaultBranch => f.write_str("its default branch"),
        }
    }
}

/// A repository's address: a URL (`https://`, `ssh://`, `git@host:path`, `file://`) as
/// it is, a local path made absolute against the directory of the file that names it.
pub fn local_url(url: &str) -> Result<String, String> {
    let base = BASE.with(|base| base.borrow().clone()).unwrap_or_default();
    local_url_from(&base, url)
}

/// As [`local_url`], relative to `base`.
pub fn local_url_from(base: &Path, url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("the repository's address is empty".to_string());
    }
    if url.contains("://") || looks_like_scp(url) {
        return Ok(url.to_string());
    }
    let joined = base.join(url);
    joined
        .canonicalize()
        .map(|p| p.display().to_string())
        .map_err(|_| {
            format!(
                "`{url}` is neither a URL nor a repository here (looked for {}); local paths are relative to the file that names them",
                joined.display()
            )
        })
}

/// `user@host:path`, git's scp-like syntax (a colon before any slash).
fn looks_like_scp(url: &str) -> bool {
    match (url.find(':'), url.find('/')) {
        (Some(colon), slash) => colon > 0 && slash.is_none_or(|s| colon < s),
        _ => false,
    }
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a case: a map with `manifest` (or `manifest_file`) and `expect`"
)]
pub struct RawCase {
    pub manifest: Option<String>,
    #[serde(default, deserialize_with = "in_module")]
    pub manifest_file: Option<ExistingPath>,
    pub hiera_data: Option<YamlMap>,
    pub facts: Option<YamlMap>,
    #[serde(default)]
    pub expect: Vec<Check>,
    /// goss files whose checks follow `expect`'s.
    #[serde(default)]
    pub goss: GossFiles,
    pub fails_with: Option<Matchers>,
    pub idempotent: Option<Idempotent>,
    pub strict: Option<bool>,
    /// `false`: the gate does not compile this case's catalog (it depends on what the
    /// baseline or `prepare` leaves, which the gate's plain image has not).
    pub compile: Option<bool>,
    /// How often the case is tried again when it does not pass (a failure or an error).
    pub retries: Option<Retries>,
    pub timeouts: Option<RawTimeouts>,
    /// Over the spec's `limits`, one by one.
    pub limits: Option<LimitsOverride>,
    pub network: Option<Network>,
    /// The checks read from `goss`, filled in once the spec is read (`spec::parse`).
    #[serde(skip)]
    pub goss_checks: Vec<Check>,
}

/// `retries: N`: attempts after the first, at most [`Retries::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries(pub u32);

impl Retries {
    /// More than this hides a broken case behind the time it takes.
    pub const MAX: u32 = 5;
}

impl<'de> Deserialize<'de> for Retries {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |text| {
            let n: u32 = text.trim().parse().map_err(|_| {
                format!("`{text}` is not a number of retries: write a whole number like `2`")
            })?;
            if n > Retries::MAX {
                return Err(format!(
                    "{n} retries is more than {}: a case that needs more is broken, not flaky",
                    Retries::MAX
                ));
            }
            Ok(Retries(n))
        })
    }
}

/// `idempotent: true|false`, or `idempotent: { except: { 'Exec[stamp]': reason } }`: a
/// second apply must change nothing but those resources, each with the reason why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent {
    Checked(bool),
    Except(IndexMap<String, String>),
}

impl<'de> Deserialize<'de> for Idempotent {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct IdempotentVisitor;
        impl<'de> Visitor<'de> for IdempotentVisitor {
            type Value = Idempotent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "true, false, or `{ except: { 'Type[title]': why it changes every time } }`",
                )
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Idempotent, E> {
                Ok(Idempotent::Checked(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Idempotent, A::Error> {
                let mut except = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "except" => except = Some(map.next_value::<IndexMap<String, String>>()?),
                        other => return Err(de::Error::unknown_field(other, &["except"])),
                    }
                }
                let except = except.ok_or_else(|| de::Error::missing_field("except"))?;
                for (resource, why) in &except {
                    if !is_resource_ref(resource) {
                        return Err(de::Error::custom(format!(
                            "`{resource}` is not a resource: write it as Puppet names it, \
                             `Type[title]` (`Exec[stamp]`, `File[/etc/motd]`)"
                        )));
                    }
                    if why.trim().is_empty() {
                        return Err(de::Error::custom(format!(
                            "`{resource}` needs a reason: why does it change on every apply?"
                        )));
                    }
                }
                Ok(Idempotent::Except(except))
            }
        }
        de.deserialize_any(IdempotentVisitor)
    }
}

/// `Type[title]` or `Mod::Type[title]`, as Puppet names a resource in its reports.
fn is_resource_ref(text: &str) -> bool {
    let Some((kind, rest)) = text.split_once('[') else {
        return false;
    };
    rest.len() > 1
        && rest.ends_with(']')
        && kind.split("::").all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// `goss: path` or `goss: [paths]`: goss files (relative to the spec) that must exist.
#[derive(Debug, Default)]
pub struct GossFiles(pub Vec<ExistingPath>);

impl<'de> Deserialize<'de> for GossFiles {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct OneOrMany;
        impl<'de> Visitor<'de> for OneOrMany {
            type Value = GossFiles;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("the path of a goss file, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GossFiles, E> {
                goss_file(v).map(|p| GossFiles(vec![p])).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GossFiles, A::Error> {
                let mut files = Vec::new();
                while let Some(file) = seq.next_element::<GossFile>()? {
                    files.push(file.0);
                }
                Ok(GossFiles(files))
            }
        }
        de.deserialize_any(OneOrMany)
    }
}

/// One goss file of a list, checked where it stands.
struct GossFile(ExistingPath);

impl<'de> Deserialize<'de> for GossFile {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |written| goss_file(&written).map(GossFile))
    }
}

fn goss_file(written: &str) -> Result<ExistingPath, String> {
    let path = ExistingPath::in_module(written)?;
    if !path.resolved.is_file() {
        return Err(format!(
            "`{written}` is not a file: give the path of a goss file, like `goss.yaml`"
        ));
    }
    Ok(path)
}

/// A YAML mapping with string keys (hiera data, facts), kept as JSON values.
#[derive(Debug, Default, Clone)]
pub struct YamlMap(pub serde_json::Map<String, serde_json::Value>);

impl<'de> Deserialize<'de> for YamlMap {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = YamlMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YamlMap, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some((key, value)) = map.next_entry::<String, serde_yaml::Value>()? {
                    let value = serde_json::to_value(&value).map_err(de::Error::custom)?;
                    out.insert(key, value);
                }
                Ok(YamlMap(out))
            }
        }
        de.deserialize_map(MapVisitor)
    }
}

/// Cases by name, in file order; a name given twice is refused at its second use.
#[derive(Debug, Default)]
pub struct Cases(pub IndexMap<String, RawCase>);

impl<'de> Deserialize<'de> for Cases {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct CasesVisitor;
        impl<'de> Visitor<'de> for CasesVisitor {
            type Value = Cases;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of case names to cases")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cases, A::Error> {
                let mut cases = IndexMap::new();
                while let Some(name) = map.next_key_seed(CaseName { seen: &cases })? {
                    let case: RawCase = map.next_value()?;
                    cases.insert(name, case);
                }
                Ok(Cases(cases))
            }
        }
        de.deserialize_map(CasesVisitor)
    }
}

struct CaseName<'a> {
    seen: &'a IndexMap<String, RawCase>,
}

impl<'de> DeserializeSeed<'de> for CaseName<'_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<String, D::Error> {
        super::matcher::scalar_with(de, |name| {
            if name.trim().is_empty() {
                return Err("a case needs a name".to_string());
            }
            if self.seen.contains_key(&name) {
                return Err(format!(
                    "duplicate case name `{name}`: give each case its own name"
                ));
            }
            Ok(name)
        })
    }
}

thread_local! {
    /// The directory of the spec being read: relative paths are resolved against it.
    static BASE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Sets the directory relative paths resolve against while `read` runs.
pub fn with_base<T>(dir: &Path, read: impl FnOnce() -> T) -> T {
    BASE.with(|base| *base.borrow_mut() = Some(dir.to_path_buf()));
    let out = read();
    BASE.with(|base| *base.borrow_mut() = None);
    out
}

/// A path, relative to the spec's directory, that exists; kept as written and resolved.
#[derive(Debug, Clone)]
pub struct ExistingPath {
    pub written: String,
    pub resolved: PathBuf,
}

impl ExistingPath {
    fn resolve(written: &str) -> Result<ExistingPath, String> {
        if written.trim().is_empty() {
            return Err("empty path".to_string());
        }
        let base = BASE.with(|base| base.borrow().clone()).unwrap_or_default();
        let joined = base.join(written);
        match joined.canonicalize() {
            Ok(resolved) => {
                super::paths::inside_repository(written, &resolved, &base)?;
                Ok(ExistingPath { written: written.to_string(), resolved })
            }
            Err(_) => Err(format!(
                "`{written}` does not exist (looked for {}); paths are relative to the spec's directory",
                joined.display()
            )),
        }
    }
}

impl ExistingPath {
    /// As [`ExistingPath::resolve`], and inside the module (the spec's directory).
    fn in_module(written: &str) -> Result<ExistingPath, String> {
        let base = BASE.with(|base| base.borrow().clone()).unwrap_or_default();
        if let Ok(resolved) = base.join(written).canonicalize() {
            super::paths::inside_module(written, &resolved, &base)?;
        }
        ExistingPath::resolve(written)
    }
}

/// A case's `manifest_file`: an [`ExistingPath`] inside the module.
fn in_module<'de, D: Deserializer<'de>>(de: D) -> Result<Option<ExistingPath>, D::Error> {
    super::matcher::scalar_with(de, |written| ExistingPath::in_module(&written)).map(Some)
}

impl<'de> Deserialize<'de> for ExistingPath {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        super::matcher::scalar_with(de, |written| ExistingPath::resolve(&written))
    }
}
