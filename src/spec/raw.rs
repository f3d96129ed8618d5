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

/// A fixture: a path to a module directory, or `{ path, name }` to name it.
#[derive(Debug)]
pub struct RawFixture {
    pub path: ExistingPath,
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for RawFixture {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct FixtureVisitor;
        impl<'de> Visitor<'de> for FixtureVisitor {
            type Value = RawFixture;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path to a module directory, or `{ path: …, name: … }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFixture, E> {
                let path = ExistingPath::resolve(v).map_err(E::custom)?;
                Ok(RawFixture { path, name: None })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFixture, A::Error> {
                const FIELDS: &[&str] = &["path", "name"];
                let (mut path, mut name) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "path" => path = Some(map.next_value::<ExistingPath>()?),
                        "name" => name = Some(map.next_value::<String>()?),
                        "git" | "ref" => {
                            return Err(de::Error::custom(
                                "git fixtures are not supported yet: clone the repository \
                                 beside the module and give its directory as the fixture",
                            ))
                        }
                        other => return Err(de::Error::unknown_field(other, FIELDS)),
                    }
                }
                let path = path.ok_or_else(|| de::Error::missing_field("path"))?;
                Ok(RawFixture { path, name })
            }
        }
        de.deserialize_any(FixtureVisitor)
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
    pub timeouts: Option<RawTimeouts>,
    /// Over the spec's `limits`, one by one.
    pub limits: Option<LimitsOverride>,
    pub network: Option<Network>,
    /// The checks read from `goss`, filled in once the spec is read (`spec::parse`).
    #[serde(skip)]
    pub goss_checks: Vec<Check>,
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
