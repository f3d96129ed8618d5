//! The gate's checks that need no Puppet, run on the host before any container: a module's
//! `metadata.json` (JSON, the fields the Forge and Puppet read, their shapes) and its Hiera
//! files (YAML; a config's version), and which of its files the platforms' Puppet checks.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::deps::marked;

/// A problem found in a file: its line and column when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

/// The files of a module that Puppet checks: its manifests (with Puppet-language functions,
/// type aliases and plans), its EPP and its ERB templates, in name order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModuleFiles {
    pub manifests: Vec<PathBuf>,
    pub epp: Vec<PathBuf>,
    pub erb: Vec<PathBuf>,
}

impl ModuleFiles {
    pub fn of(dir: &Path) -> ModuleFiles {
        let mut files = ModuleFiles::default();
        for sub in ["manifests", "functions", "types", "plans"] {
            files.manifests.extend(walk(&dir.join(sub), "pp"));
        }
        files.epp = walk(&dir.join("templates"), "epp");
        files.erb = walk(&dir.join("templates"), "erb");
        files
    }

    pub fn len(&self) -> usize {
        self.manifests.len() + self.epp.len() + self.erb.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Files below `dir` ending in `.ext`, in name order (hidden directories left out).
fn walk(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match entry.file_type() {
            Ok(t) if t.is_dir() && !hidden => out.extend(walk(&path, ext)),
            Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == ext) => out.push(path),
            _ => {}
        }
    }
    out
}

/// What is wrong with the module's `metadata.json`, if it has one: what the Forge, Puppet
/// and puppet-module's tools read (metadata-json-lint's rules that concern correctness).
pub fn check_metadata(module_dir: &Path) -> Vec<Problem> {
    let file = module_dir.join("metadata.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Vec::new();
    };
    let problem = |line: Option<usize>, column: Option<usize>, message: String| Problem {
        file: file.clone(),
        line: line.map(|l| l as u32),
        column: column.map(|c| c as u32),
        message,
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(err) => {
            let message = err.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            return vec![problem(
                Some(err.line()),
                Some(err.column()),
                format!("not valid JSON: {message}"),
            )];
        }
    };
    // Positions come from the same text read as YAML (JSON is YAML); types from the JSON.
    let tree = marked::parse(&text).ok().flatten();
    let at = |path: &[&str]| -> (Option<usize>, Option<usize>) {
        let mut node = tree.as_ref();
        for key in path {
            node = node.and_then(|n| n.get(key));
        }
        (node.map(|n| n.line), node.map(|n| n.column))
    };
    let mut problems = Vec::new();
    let Some(meta) = value.as_object() else {
        return vec![problem(
            Some(1),
            Some(1),
            "metadata.json must hold an object".into(),
        )];
    };
    for field in [
        "name",
        "version",
        "author",
        "license",
        "summary",
        "source",
        "dependencies",
    ] {
        if !meta.contains_key(field) {
            problems.push(problem(
                Some(1),
                Some(1),
                format!("the required field `{field}` is missing"),
            ));
        }
    }
    for field in ["name", "version", "author", "license", "summary", "source"] {
        if let Some(v) = meta.get(field).filter(|v| !v.is_string()) {
            let (line, column) = at(&[field]);
            problems.push(problem(
                line,
                column,
                format!("`{field}` must be a string, not {}", json_kind(v)),
            ));
        }
    }
    if let Some(name) = meta.get("name").and_then(Value::as_str) {
        if !module_slug(name) {
            let (line, column) = at(&["name"]);
            problems.push(problem(
                line,
                column,
                format!("`name` is `{name}`: it must be `author-module` (or `author/module`), the module's name lowercase letters, digits and underscores, starting with a letter"),
            ));
        }
    }
    if let Some(version) = meta.get("version").and_then(Value::as_str) {
        if semver::Version::parse(version).is_err() {
            let (line, column) = at(&["version"]);
            problems.push(problem(
                line,
                column,
                format!("`version` is `{version}`: it must be a semantic version (like 1.2.0)"),
            ));
        }
    }
    for (field, what) in [("dependencies", "module"), ("requirements", "requirement")] {
        let Some(list) = meta.get(field) else {
            continue;
        };
        let (line, column) = at(&[field]);
        let Some(list) = list.as_array() else {
            problems.push(problem(
                line,
                column,
                format!("`{field}` must be a list, not {}", json_kind(list)),
            ));
            continue;
        };
        let items = tree
            .as_ref()
            .and_then(|t| t.get(field))
            .and_then(|n| match &n.value {
                marked::Value::List(items) => Some(items.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for (i, entry) in list.iter().enumerate() {
            let node = items.get(i);
            let (line, column) = (
                node.map(|n| n.line).or(line),
                node.map(|n| n.column).or(column),
            );
            let name = entry.get("name").and_then(Value::as_str);
            let Some(name) = name else {
                problems.push(problem(
                    line,
                    column,
                    format!("each of `{field}` needs a `name` (the {what}'s name)"),
                ));
                continue;
            };
            if field == "dependencies" && !module_slug(name) {
                problems.push(problem(
                    line,
                    column,
                    format!("the dependency `{name}` is no module name: it must be `author-module` or `author/module`"),
                ));
            }
            match entry.get("version_requirement") {
                Some(Value::String(range))
                    if crate::deps::metadata::satisfies(range, "0.0.0").is_none() =>
                {
                    problems.push(problem(
                        line,
                        column,
                        format!("the version_requirement `{range}` of `{name}` is no version range Puppet reads (like `>= 4.13.1 < 10.0.0`)"),
                    ));
                }
                None | Some(Value::String(_)) => {}
                Some(other) => problems.push(problem(
                    line,
                    column,
                    format!(
                        "the version_requirement of `{name}` must be a string, not {}",
                        json_kind(other)
                    ),
                )),
            }
        }
    }
    if let Some(support) = meta.get("operatingsystem_support") {
        let (line, column) = at(&["operatingsystem_support"]);
        let ok = support.as_array().is_some_and(|list| {
            list.iter().all(|os| {
                os.get("operatingsystem").is_some_and(Value::is_string)
                    && os.get("operatingsystemrelease").is_none_or(|r| {
                        r.as_array().is_some_and(|r| r.iter().all(Value::is_string))
                    })
            })
        });
        if !ok {
            problems.push(problem(
                line,
                column,
                "`operatingsystem_support` must be a list of `{ \"operatingsystem\": NAME, \"operatingsystemrelease\": [RELEASE, …] }`".into(),
            ));
        }
    }
    problems
}

/// `author-name` or `author/name`, the name a Puppet module may have.
fn module_slug(slug: &str) -> bool {
    let Some((author, name)) = slug.split_once(['-', '/']) else {
        return false;
    };
    !author.is_empty()
        && author.chars().all(|c| c.is_ascii_alphanumeric())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The Hiera files a module brings: its `hiera.yaml` and the YAML files of its data
/// directories (`data/` unless the config says otherwise).
pub fn module_hiera_files(module_dir: &Path) -> Vec<PathBuf> {
    let config = module_dir.join("hiera.yaml");
    if !config.is_file() {
        return Vec::new();
    }
    let mut files = vec![config.clone()];
    files.extend(data_files(&config));
    files
}

/// The YAML files of the data directories a Hiera 5 config names (relative to it).
pub fn data_files(config: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(config).unwrap_or_default();
    let dir = config.parent().unwrap_or(Path::new("/"));
    let value: Value = serde_yaml::from_str(&text).unwrap_or(Value::Null);
    let mut dirs: Vec<String> = Vec::new();
    let default = value
        .pointer("/defaults/datadir")
        .and_then(Value::as_str)
        .unwrap_or("data")
        .to_string();
    dirs.push(default.clone());
    for level in value
        .get("hierarchy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(own) = level.get("datadir").and_then(Value::as_str) {
            dirs.push(own.to_string());
        }
    }
    dirs.sort();
    dirs.dedup();
    let mut files = Vec::new();
    for datadir in dirs {
        let root = dir.join(datadir);
        files.extend(walk(&root, "yaml"));
        files.extend(walk(&root, "yml"));
    }
    files
}

/// What is wrong with a Hiera file: YAML that does not parse; a config that is not Hiera
/// 5's; data whose top level is not a map of keys.
pub fn check_hiera(file: &Path) -> Option<Problem> {
    let text = std::fs::read_to_string(file).ok()?;
    let problem = |line: usize, column: usize, message: String| Problem {
        file: file.to_path_buf(),
        line: Some(line as u32),
        column: Some(column as u32),
        message,
    };
    let tree = match marked::parse(&text) {
        Ok(tree) => tree,
        Err((message, line, column)) => {
            return Some(problem(line, column, format!("not valid YAML: {message}")))
        }
    };
    let is_config = file.file_name().is_some_and(|n| n == "hiera.yaml");
    match tree {
        None if is_config => Some(problem(
            1,
            1,
            "an empty Hiera config: it needs `version: 5`".into(),
        )),
        None => None,
        Some(node) => {
            if node.entries().is_none() {
                return Some(problem(
                    node.line,
                    node.column,
                    format!(
                        "the top level of a Hiera {} must be a map, not {}",
                        if is_config { "config" } else { "data file" },
                        node.kind()
                    ),
                ));
            }
            if is_config {
                match node.get("version").and_then(|v| v.text()) {
                    Some("5") => None,
                    Some(other) => {
                        let at = node.get("version").expect("read above");
                        Some(problem(
                            at.line,
                            at.column,
                            format!("`version: {other}`: Puppet reads only Hiera 5 configs here (`version: 5`)"),
                        ))
                    }
                    None => Some(problem(
                        node.line,
                        node.column,
                        "no `version`: a Hiera 5 config starts with `version: 5` (Hiera 3's `:backends:` configs are not read)".into(),
                    )),
                }
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn placed(problems: &[Problem]) -> Vec<(Option<u32>, Option<u32>, &str)> {
        problems
            .iter()
            .map(|p| (p.line, p.column, p.message.as_str()))
            .collect()
    }

    const GOOD: &str = r#"{
  "name": "acme-motd",
  "version": "1.2.0",
  "author": "acme",
  "summary": "the message of the day",
  "license": "Apache-2.0",
  "source": "https://git.example.com/motd",
  "dependencies": [
    { "name": "puppetlabs/stdlib", "version_requirement": ">= 4.13.1 < 10.0.0" }
  ],
  "operatingsystem_support": [
    { "operatingsystem": "Debian", "operatingsystemrelease": ["11", "12"] }
  ],
  "requirements": [ { "name": "puppet", "version_requirement": ">= 7.0.0 < 9.0.0" } ]
}
"#;

    #[test]
    fn a_forge_shaped_metadata_json_is_clean() {
        let dir = module(&[("metadata.json", GOOD)]);
        assert_eq!(check_metadata(dir.path()), []);
    }

    #[test]
    fn metadata_problems_are_at_their_line() {
        let bad = GOOD
            .replace("\"1.2.0\"", "\"1.2\"")
            .replace("acme-motd", "acme-Motd")
            .replace(">= 4.13.1 < 10.0.0", "four or more")
            .replace("  \"license\": \"Apache-2.0\",\n", "");
        let dir = module(&[("metadata.json", &bad)]);
        let problems = check_metadata(dir.path());
        assert_eq!(
            placed(&problems),
            [
                (Some(1), Some(1), "the required field `license` is missing"),
                (Some(2), Some(11), "`name` is `acme-Motd`: it must be `author-module` (or `author/module`), the module's name lowercase letters, digits and underscores, starting with a letter"),
                (Some(3), Some(14), "`version` is `1.2`: it must be a semantic version (like 1.2.0)"),
                (Some(8), Some(5), "the version_requirement `four or more` of `puppetlabs/stdlib` is no version range Puppet reads (like `>= 4.13.1 < 10.0.0`)"),
            ]
        );
        let dir = module(&[("metadata.json", "{\n  \"name\": \"a-b\",\n}\n")]);
        assert_eq!(
            placed(&check_metadata(dir.path())),
            [(Some(3), Some(1), "not valid JSON: trailing comma")]
        );
    }

    #[test]
    fn hiera_files_are_yaml_and_a_config_is_hiera_5() {
        let dir = module(&[
            (
                "hiera.yaml",
                "---\nversion: 5\ndefaults:\n  datadir: data\n",
            ),
            ("data/common.yaml", "---\nmotd::message: hi\n"),
            ("data/os/Debian.yaml", "motd::x: [1, 2\n"),
            ("data/list.yaml", "- a\n- b\n"),
        ]);
        let files = module_hiera_files(dir.path());
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "hiera.yaml",
                "data/common.yaml",
                "data/list.yaml",
                "data/os/Debian.yaml"
            ]
        );
        let problems: Vec<Problem> = files.iter().filter_map(|f| check_hiera(f)).collect();
        let got = placed(&problems);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            got[0],
            (
                Some(1),
                Some(1),
                "the top level of a Hiera data file must be a map, not a list"
            )
        );
        assert_eq!((got[1].0, got[1].1), (Some(2), Some(1)), "{got:?}");
        assert!(got[1].2.starts_with("not valid YAML: "), "{got:?}");

        let v3 = module(&[("hiera.yaml", ":backends:\n  - yaml\n")]);
        let problem = check_hiera(&v3.path().join("hiera.yaml")).unwrap();
        assert!(problem.message.starts_with("no `version`"), "{problem:?}");
    }

    #[test]
    fn puppet_checks_manifests_functions_types_and_templates() {
        let dir = module(&[
            ("manifests/init.pp", ""),
            ("manifests/sub/x.pp", ""),
            ("functions/f.pp", ""),
            ("types/t.pp", ""),
            ("templates/a.epp", ""),
            ("templates/b.erb", ""),
            ("templates/c.txt", ""),
            ("manifests/.hidden/y.pp", ""),
        ]);
        let files = ModuleFiles::of(dir.path());
        let rel = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(&files.manifests),
            [
                "manifests/init.pp",
                "manifests/sub/x.pp",
                "functions/f.pp",
                "types/t.pp"
            ]
        );
        assert_eq!(rel(&files.epp), ["templates/a.epp"]);
        assert_eq!(rel(&files.erb), ["templates/b.erb"]);
    }
}
