//! The dependencies a module's `metadata.json` names, checked against what its fixtures
//! provide: one named there that no fixture provides,
//! or one whose `metadata.json` version is outside the `version_requirement` range, is
//! a warning, said before any case starts with what to do. A warning, not an error:
//! many modules name dependencies that only some of their classes use, and where a case
//! needs a missing one, Puppet's compile error says so at the line that uses it.

use std::path::Path;

use serde_json::Value;

use crate::spec::ModuleSpec;

/// The warnings for `spec`, whose `fixtures` are resolved.
pub fn check(spec: &ModuleSpec) -> Vec<String> {
    let Some(meta) = read(&spec.module_dir) else {
        return Vec::new();
    };
    let Some(dependencies) = meta.get("dependencies").and_then(Value::as_array) else {
        return Vec::new();
    };
    let baseline = spec
        .site
        .as_deref()
        .filter(|_| spec.use_baseline)
        .and_then(|site| site.baseline.as_ref());
    let baseline_dirs: Vec<&Path> = baseline
        .iter()
        .flat_map(|b| b.modulepath.iter().map(|p| p.as_path()))
        .collect();
    let mut warnings = Vec::new();
    for dependency in dependencies {
        let Some(full) = dependency.get("name").and_then(Value::as_str) else {
            continue;
        };
        let short = full.rsplit(['/', '-']).next().unwrap_or(full);
        let range = dependency
            .get("version_requirement")
            .and_then(Value::as_str);
        let shown = match range {
            Some(range) => format!("{full} ({range})"),
            None => full.to_string(),
        };
        let provided = spec
            .fixtures
            .iter()
            .find(|f| f.name == short)
            .map(|f| f.path.clone());
        let Some(dir) = provided else {
            // The baseline's modules are applied into its snapshot; a case's modulepath is
            // its module and its fixtures alone.
            let in_baseline = baseline
                .iter()
                .any(|b| b.modules.iter().any(|m| m.name == short))
                || baseline_dirs.iter().any(|dir| dir.join(short).is_dir());
            let note = if in_baseline {
                " (the site baseline has it, but a case's modulepath holds only its module and its fixtures)"
            } else {
                ""
            };
            warnings.push(format!(
                "{}: its metadata.json needs {shown}, which no fixture provides{note}: add it to the spec's `fixtures:` or the module's .fixtures.yml (a path or a git repository)",
                spec.module_name
            ));
            continue;
        };
        let (Some(range), Some(version)) = (
            range,
            read(&dir).and_then(|m| m.get("version").and_then(Value::as_str).map(str::to_string)),
        ) else {
            continue;
        };
        match satisfies(range, &version) {
            Some(true) => {}
            Some(false) => warnings.push(format!(
                "{}: its metadata.json needs {shown}, but the fixture `{short}` ({}) is version {version}",
                spec.module_name,
                dir.display()
            )),
            None => warnings.push(format!(
                "{}: the version_requirement `{range}` of {full} in its metadata.json cannot be read, so the fixture's version {version} was not checked",
                spec.module_name
            )),
        }
    }
    warnings
}

/// The `version_requirement` the module in `dir` gives the dependency `slug`
/// (`author/name`; metadata.json may write `author-name`).
pub fn requirement_of(dir: &Path, slug: &str) -> Option<String> {
    let meta = read(dir)?;
    meta.get("dependencies")?
        .as_array()?
        .iter()
        .find(|d| {
            d.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.replace('-', "/") == slug)
        })?
        .get("version_requirement")?
        .as_str()
        .map(str::to_string)
}

fn read(dir: &Path) -> Option<Value> {
    let bytes = std::fs::read(dir.join("metadata.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether `version` is in Puppet's `range` (SemanticPuppet's syntax: `>= 4.13.1 < 9.0.0`,
/// `1.x`, `1.2.3`, `~1.2`, `^1.2`, `1.0.0 - 2.0.0`, alternatives joined by `||`); `None`
/// when either cannot be read.
pub fn satisfies(range: &str, version: &str) -> Option<bool> {
    let version = semver::Version::parse(version.trim()).ok()?;
    let mut any = false;
    for alternative in range.split("||") {
        any |= requirement(alternative)?.matches(&version);
    }
    Some(any)
}

/// One alternative of a Puppet range as semver's requirement (comparators joined by
/// commas; a bare version is exact in Puppet, a caret in semver).
fn requirement(range: &str) -> Option<semver::VersionReq> {
    let words: Vec<&str> = range.split_whitespace().collect();
    let mut comparators = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if words.get(i + 1) == Some(&"-") {
            let upper = words.get(i + 2)?;
            comparators.push(format!(">={word}"));
            comparators.push(format!("<={upper}"));
            i += 3;
            continue;
        }
        let op_only = matches!(word, ">=" | "<=" | ">" | "<" | "=" | "~" | "^");
        let comparator = if op_only {
            i += 1;
            format!("{word}{}", words.get(i)?)
        } else {
            word.to_string()
        };
        let bare = comparator.starts_with(|c: char| c.is_ascii_digit());
        let wildcard = comparator.contains(['x', 'X', '*']);
        comparators.push(
            if bare && !wildcard && comparator.matches('.').count() == 2 {
                format!("={comparator}")
            } else {
                comparator
            },
        );
        i += 1;
    }
    if comparators.is_empty() {
        return Some(semver::VersionReq::STAR);
    }
    semver::VersionReq::parse(&comparators.join(", ")).ok()
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn puppet_ranges_as_metadata_json_writes_them() {
        assert_eq!(satisfies(">= 4.13.1 < 9.0.0", "8.6.0"), Some(true));
        assert_eq!(satisfies(">= 4.13.1 < 9.0.0", "9.0.0"), Some(false));
        assert_eq!(satisfies(">=4.13.1 <9.0.0", "4.13.0"), Some(false));
        assert_eq!(satisfies("1.x", "1.9.2"), Some(true));
        assert_eq!(satisfies("1.x", "2.0.0"), Some(false));
        assert_eq!(satisfies("1.2.3", "1.2.3"), Some(true));
        assert_eq!(
            satisfies("1.2.3", "1.2.4"),
            Some(false),
            "a bare version is exact"
        );
        assert_eq!(satisfies("1.0.0 - 2.0.0", "2.0.0"), Some(true));
        assert_eq!(satisfies("< 2.0.0 || >= 3.0.0", "3.1.0"), Some(true));
        assert_eq!(satisfies("< 2.0.0 || >= 3.0.0", "2.5.0"), Some(false));
        assert_eq!(satisfies("", "0.1.0"), Some(true));
        assert_eq!(satisfies("> banana", "1.0.0"), None);
        assert_eq!(satisfies(">= 1.0.0", "one"), None);
    }
}
