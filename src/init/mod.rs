//! `rehearsal init`: a starter `rehearsal.yaml` for a module, valid on its first run.
//!
//! A case per class of the module that can be included as it is (every parameter has a
//! default, in the code or in the module's Hiera data, and the class is not private), or,
//! when the module has `examples/`, a case per example. Each case gets a check for every
//! resource its classes declare unconditionally with literal values (see [`checks`]);
//! classes it includes or declares count too. The spec is read back with the crate's own
//! parser before it is returned.

pub mod checks;
pub mod lexer;
pub mod manifest;

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use checks::{Check, Yaml};
use manifest::{Class, Manifest};

/// A spec written for a module.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// The text of `rehearsal.yaml`.
    pub yaml: String,
    pub module: String,
    /// The cases, in order, with their number of checks.
    pub cases: Vec<(String, usize)>,
    /// Classes left out, and why (one line each).
    pub skipped: Vec<String>,
}

/// What the module holds, read once.
struct Module {
    dir: PathBuf,
    name: String,
    classes: Vec<Class>,
    overridden: BTreeSet<String>,
    /// The text of the module's Hiera data files (for parameters given there).
    data: String,
}

/// Reads the module at `dir` and writes its starter spec (in memory).
pub fn scaffold(dir: &Path) -> Result<Scaffold, InitError> {
    let manifests = dir.join("manifests");
    if !manifests.is_dir() {
        return Err(InitError::NotAModule(dir.to_path_buf()));
    }
    let mut module = Module {
        dir: dir.to_path_buf(),
        name: crate::spec::model::module_name_of(dir),
        classes: Vec::new(),
        overridden: BTreeSet::new(),
        data: String::new(),
    };
    for file in puppet_files(&manifests, true)? {
        let parsed = read_manifest(&file)?;
        module.overridden.extend(parsed.overridden);
        module.classes.extend(parsed.classes);
    }
    module.data = module_data(dir);

    let examples = puppet_files(&dir.join("examples"), false).unwrap_or_default();
    let mut out = Scaffold {
        yaml: String::new(),
        module: module.name.clone(),
        cases: Vec::new(),
        skipped: Vec::new(),
    };
    let mut body = String::new();
    if examples.is_empty() {
        class_cases(&module, &mut out, &mut body);
    } else {
        example_cases(&module, &examples, &mut out, &mut body)?;
    }
    if out.cases.is_empty() {
        let mut message = if module.classes.is_empty() {
            format!(
                "found no class in {} (a library of defined types and functions?), so no case to write",
                manifests.display()
            )
        } else {
            format!(
                "found no class in {} that can be included as it is",
                manifests.display()
            )
        };
        for line in &out.skipped {
            let _ = write!(message, "; {line}");
        }
        message.push_str(" (hint: write the spec by hand; the README shows the format)");
        return Err(InitError::NoCase(message));
    }
    out.yaml = header(&module, &out, !examples.is_empty()) + &body;
    Ok(out)
}

/// `.pp` files under `dir`, sorted (`recursive`: in subdirectories too).
fn puppet_files(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, InitError> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| InitError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if recursive {
                found.extend(puppet_files(&path, true)?);
            }
        } else if path.extension().is_some_and(|e| e == "pp") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

fn read_manifest(file: &Path) -> Result<Manifest, InitError> {
    let text = std::fs::read(file).map_err(|source| InitError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(manifest::parse(&String::from_utf8_lossy(&text)))
}

/// The module's own Hiera data (`data/**.yaml`), where class parameters may be set.
fn module_data(dir: &Path) -> String {
    if !dir.join("hiera.yaml").is_file() {
        return String::new();
    }
    let mut text = String::new();
    let mut stack = vec![dir.join("data")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                text.push('\n');
            }
        }
    }
    text
}

impl Module {
    fn class(&self, name: &str) -> Option<&Class> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// The parameters a plain `include` would leave without a value.
    fn required(&self, class: &Class) -> Vec<String> {
        class
            .params
            .iter()
            .filter(|p| !p.has_default && !self.in_data(&class.name, &p.name))
            .map(|p| p.name.clone())
            .collect()
    }

    fn in_data(&self, class: &str, param: &str) -> bool {
        let key = format!("{class}::{param}");
        self.data.lines().any(|line| {
            let line = line.trim_start().trim_start_matches(['"', '\'']);
            line.strip_prefix(&key)
                .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(':'))
        })
    }

    /// A class of the module whose variables `class` reads but which a plain
    /// `include` of it would not evaluate first.
    fn reads_undeclared(&self, class: &Class) -> Option<String> {
        let mut evaluated = HashSet::new();
        self.checks_of(&class.name, &mut evaluated, &mut Vec::new());
        class
            .body
            .reads
            .iter()
            .find(|other| self.class(other).is_some() && !evaluated.contains(*other))
            .cloned()
    }

    /// Whether Puppet's autoloader finds the class (its name is the module's).
    fn autoloadable(&self, name: &str) -> bool {
        name == self.name || name.starts_with(&format!("{}::", self.name))
    }

    /// The checks of a class: its own resources, its parent's, and those of the
    /// classes it declares, each once.
    fn checks_of(&self, name: &str, seen: &mut HashSet<String>, out: &mut Vec<Check>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        let Some(class) = self.class(name) else {
            return;
        };
        if let Some(parent) = &class.parent {
            self.checks_of(parent, seen, out);
        }
        self.body_checks(&class.body, seen, out);
    }

    fn body_checks(&self, body: &manifest::Body, seen: &mut HashSet<String>, out: &mut Vec<Check>) {
        for resource in &body.resources {
            for check in checks::for_resource(resource, &self.overridden) {
                if !out
                    .iter()
                    .any(|c| c.kind == check.kind && c.subject == check.subject)
                {
                    out.push(check);
                }
            }
        }
        for class in &body.classes {
            self.checks_of(class, seen, out);
        }
    }
}

fn class_cases(module: &Module, out: &mut Scaffold, body: &mut String) {
    let mut classes: Vec<&Class> = module.classes.iter().collect();
    // The module's main class first, then by name.
    classes.sort_by_key(|c| (c.name != module.name, c.name.clone()));
    for class in classes {
        if !module.autoloadable(&class.name) {
            out.skipped.push(format!(
                "{}: its name does not start with the module's (`{}`), so Puppet cannot autoload it",
                class.name, module.name
            ));
            continue;
        }
        if class.body.private {
            out.skipped.push(format!(
                "{}: private (`assert_private()` or `@api private`), declared by the module's other classes",
                class.name
            ));
            continue;
        }
        if let Some(other) = module.reads_undeclared(class) {
            out.skipped.push(format!(
                "{}: reads variables of `{other}` without declaring it, so `{other}` declares it",
                class.name
            ));
            continue;
        }
        let required = module.required(class);
        if !required.is_empty() {
            let params: Vec<String> = required.iter().map(|p| format!("{p} => …")).collect();
            out.skipped.push(format!(
                "{}: needs parameters ({})",
                class.name,
                required.join(", ")
            ));
            let _ = write!(
                body,
                "  # {} cannot be included without {}; declare it with values:\n  # {}:\n  #   manifest: \"class {{ '{}': {} }}\"\n",
                class.name,
                required
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                yaml_str(&class.name),
                class.name,
                params.join(", ")
            );
            continue;
        }
        let mut checks = Vec::new();
        module.checks_of(&class.name, &mut HashSet::new(), &mut checks);
        write_case(
            body,
            &class.name,
            ("manifest", &format!("include {}", class.name)),
            &checks,
        );
        out.cases.push((class.name.clone(), checks.len()));
    }
}

fn example_cases(
    module: &Module,
    examples: &[PathBuf],
    out: &mut Scaffold,
    body: &mut String,
) -> Result<(), InitError> {
    let mut names = HashSet::new();
    for file in examples {
        let parsed = read_manifest(file)?;
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut name = stem.clone();
        let mut n = 2;
        while !names.insert(name.clone()) {
            name = format!("{stem} {n}");
            n += 1;
        }
        let relative = file.strip_prefix(&module.dir).unwrap_or(file);
        let mut checks = Vec::new();
        module.body_checks(&parsed.top, &mut HashSet::new(), &mut checks);
        // Resources of types the example itself overrides are not safe either.
        checks.retain(|c| !parsed.overridden.contains(c.kind));
        write_case(
            body,
            &name,
            ("manifest_file", &relative.display().to_string()),
            &checks,
        );
        out.cases.push((name, checks.len()));
    }
    Ok(())
}

fn header(module: &Module, out: &Scaffold, examples: bool) -> String {
    let mut text = format!(
        "# A starter spec for the module `{}`, written by `rehearsal init`.\n",
        module.name
    );
    text.push_str(if examples {
        "# One case per file in examples/. "
    } else {
        "# One case per class that can be included as it is. "
    });
    text.push_str(
        "Each checks the resources\n# declared with literal values outside any condition by the classes it declares.\n# Add checks of what matters to you: the README lists every kind.\n",
    );
    for line in &out.skipped {
        let _ = writeln!(text, "# Not a case: {line}.");
    }
    let (found, missing) = fixtures(&module.dir);
    if !missing.is_empty() {
        let _ = writeln!(
            text,
            "# metadata.json depends on {}, not found beside this module: list their\n# directories under `fixtures:`.",
            missing.join(", "),
        );
    }
    if !found.is_empty() {
        text.push_str(
            "fixtures:                 # metadata.json's dependencies, found beside this module\n",
        );
        for dir in &found {
            let _ = writeln!(text, "  - {}", yaml_str(dir));
        }
    }
    text.push_str("cases:\n");
    text
}

/// metadata.json's dependencies: those found as sibling directories (`../name`, a
/// module of that name), and the names of the others.
fn fixtures(dir: &Path) -> (Vec<String>, Vec<String>) {
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for dep in dependencies(dir) {
        let name = dep.rsplit(['-', '/']).next().unwrap_or(&dep).to_string();
        let sibling = dir.join("..").join(&name);
        if sibling.join("manifests").is_dir()
            && crate::spec::model::module_name_of(&sibling) == name
        {
            found.push(format!("../{name}"));
        } else {
            missing.push(dep);
        }
    }
    (found, missing)
}

/// The module names in metadata.json's `dependencies`.
fn dependencies(dir: &Path) -> Vec<String> {
    std::fs::read(dir.join("metadata.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|m| m.get("dependencies").and_then(|d| d.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect()
}

fn write_case(out: &mut String, name: &str, manifest: (&str, &str), checks: &[Check]) {
    let _ = writeln!(out, "  {}:", yaml_str(name));
    let _ = writeln!(out, "    {}: {}", manifest.0, yaml_str(manifest.1));
    if checks.is_empty() {
        out.push_str(
            "    # no resource of this case could be checked safely; add your own `expect:`\n",
        );
        return;
    }
    out.push_str("    expect:\n");
    for check in checks {
        let _ = writeln!(out, "      - {}: {}", check.kind, yaml_str(&check.subject));
        for (key, value) in &check.attrs {
            let value = match value {
                Yaml::Str(s) => yaml_str(s),
                Yaml::Int(n) => n.to_string(),
                Yaml::Bool(b) => b.to_string(),
                Yaml::List(items) => format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|s| yaml_str(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let _ = writeln!(out, "        {key}: {value}");
        }
    }
}

/// A YAML scalar: plain when that cannot be misread, else double-quoted.
fn yaml_str(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-@+".contains(c))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
    }
}

/// What `init` did: the spec file and what is in it.
pub struct Written {
    pub file: PathBuf,
    pub scaffold: Scaffold,
}

/// Writes the starter spec into `dir`, refusing to overwrite one unless `force`. The spec
/// is parsed back with [`crate::spec::parse`] first: what is written is valid.
pub fn write(dir: &Path, force: bool) -> Result<Written, InitError> {
    let file = dir.join(crate::spec::SPEC_FILE);
    if file.exists() && !force {
        return Err(InitError::Exists(file));
    }
    let scaffold = scaffold(dir)?;
    let absolute = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
    if let Err(err) = crate::spec::parse(&absolute, &scaffold.yaml) {
        return Err(InitError::Invalid(err));
    }
    std::fs::write(&file, &scaffold.yaml).map_err(|source| InitError::Write {
        file: file.clone(),
        source,
    })?;
    Ok(Written { file, scaffold })
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{} exists (hint: `rehearsal init --force` overwrites it)", .0.display())]
    Exists(PathBuf),
    #[error(
        "{} is not a Puppet module: it has no manifests/ directory (hint: give the module's directory)",
        .0.display()
    )]
    NotAModule(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No class or example can become a case; the text says why, class by class.
    #[error("{0}")]
    NoCase(String),
    #[error(
        "the spec written for this module does not parse, which is a bug in `rehearsal init`: {0}"
    )]
    Invalid(crate::spec::SpecError),
    #[error("cannot write {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
