//! A module's `.fixtures.yml`, read as puppetlabs_spec_helper reads it: `fixtures:` with
//! `symlinks`, `repositories` and `forge_modules`, each a map of module names to a string
//! (the `repo`) or a map of options, under the `defaults:` of its category. `repo` and
//! `target` may say `#{source_dir}` (the module's directory) and `#{ENV['NAME']}`, the
//! two substitutions such files use (puppetlabs_spec_helper evaluates them as Ruby; this
//! reads those two and refuses any other). `FIXTURES_YML` names another file, as there.
//! Every entry keeps its line, and every error says where it stands.

use std::path::{Path, PathBuf};

use super::marked::{self, Node, Value};
use crate::spec::raw::local_url_from;
use crate::spec::{GitSource, GitWant, SpecError};

/// The file names puppetlabs_spec_helper looks for, in order.
pub const FILE_NAMES: [&str; 2] = [".fixtures.yml", ".fixtures.yaml"];

/// One fixture the file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `symlinks`: a directory used as it is.
    Local(PathBuf),
    /// `repositories`.
    Git(GitSource),
    /// `forge_modules`: `author/name`, at `ref` (a version) when given, from the Forge
    /// that `flags`' `--module_repository=URL` names when given.
    Forge {
        slug: String,
        version: Option<String>,
        forge: Option<String>,
    },
}

/// The fixtures file of a module: `FIXTURES_YML` (relative to the module) when set,
/// else the first of [`FILE_NAMES`] that exists.
pub fn find(module_dir: &Path, env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(named) = env("FIXTURES_YML").filter(|v| !v.is_empty()) {
        return Some(module_dir.join(named));
    }
    FILE_NAMES
        .iter()
        .map(|name| module_dir.join(name))
        .find(|path| path.is_file())
}

/// Reads a module's fixtures file; `module_name` is the module's own (its own symlink,
/// which every such file has, is the module itself).
pub fn load(
    file: &Path,
    module_dir: &Path,
    module_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, SpecError> {
    if !file.is_file() {
        return Err(SpecError::whole_file(
            file,
            "the fixtures file does not exist (FIXTURES_YML names it): set FIXTURES_YML to a file relative to the module, or unset it",
        ));
    }
    let source = crate::spec::read_source(file, "fixtures file")?;
    parse(file, &source, module_dir, module_name, env)
}

/// Parses a fixtures file's text (`file` names it in errors).
pub fn parse(
    file: &Path,
    source: &str,
    module_dir: &Path,
    module_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Entry>, SpecError> {
    let at = |node: &Node, message: String| SpecError {
        file: file.to_path_buf(),
        position: Some((node.line, node.column)),
        message,
    };
    crate::spec::scan::scan(source, "fixtures file", true).map_err(|found| SpecError {
        file: file.to_path_buf(),
        position: Some(found.position),
        message: found.message,
    })?;
    let doc = marked::parse(source).map_err(|(message, line, column)| SpecError {
        file: file.to_path_buf(),
        position: Some((line, column)),
        message: format!("the fixtures file is not valid YAML: {message}"),
    })?;
    let Some(doc) = doc else {
        return Ok(Vec::new());
    };
    let Some(top) = doc.entries() else {
        return Err(at(
            &doc,
            format!("expected a map with `fixtures:`, found {}", doc.kind()),
        ));
    };
    for (key, key_node, _) in &top {
        if !matches!(*key, "fixtures" | "defaults") {
            return Err(at(
                key_node,
                format!("unknown key `{key}`: a fixtures file has `fixtures:` (and `defaults:`)"),
            ));
        }
    }
    let Some(fixtures) = doc.get("fixtures") else {
        return Err(at(
            &doc,
            "no `fixtures:` in the fixtures file: it is required".into(),
        ));
    };
    let defaults = doc.get("defaults");
    let reader = Reader {
        file,
        module_dir,
        env,
    };
    let mut found = Vec::new();
    if fixtures.value == Value::Null {
        return Ok(found);
    }
    let Some(categories) = fixtures.entries() else {
        return Err(at(
            fixtures,
            format!(
                "`fixtures` is a map of `symlinks`, `repositories` and `forge_modules`, not {}",
                fixtures.kind()
            ),
        ));
    };
    for (category, key_node, entries) in categories {
        if !matches!(category, "symlinks" | "repositories" | "forge_modules") {
            return Err(at(
                key_node,
                format!(
                    "unknown kind of fixture `{category}`: one of `symlinks`, `repositories`, `forge_modules`"
                ),
            ));
        }
        if entries.value == Value::Null {
            continue;
        }
        let Some(named) = entries.entries() else {
            return Err(at(
                entries,
                format!(
                    "`{category}` is a map of module names, not {}",
                    entries.kind()
                ),
            ));
        };
        let category_defaults = defaults.and_then(|d| d.get(category));
        for (name, name_node, value) in named {
            let options = reader.options(name, value, category_defaults)?;
            if let Some(entry) = reader.entry(category, name, name_node, &options, module_name)? {
                found.push(entry);
            }
        }
    }
    Ok(found)
}

/// An entry's options: its own over its category's defaults, each with its node.
struct Options<'a> {
    values: Vec<(&'a str, &'a Node)>,
}

impl<'a> Options<'a> {
    fn get(&self, key: &str) -> Option<&'a Node> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

const OPTIONS: &[&str] = &[
    "repo",
    "ref",
    "tag",
    "branch",
    "target",
    "subdir",
    "flags",
    "scm",
    "puppet_version",
];

struct Reader<'a> {
    file: &'a Path,
    module_dir: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Reader<'a> {
    fn error(&self, node: &Node, message: String) -> SpecError {
        SpecError {
            file: self.file.to_path_buf(),
            position: Some((node.line, node.column)),
            message,
        }
    }

    fn options(
        &self,
        name: &str,
        value: &'a Node,
        defaults: Option<&'a Node>,
    ) -> Result<Options<'a>, SpecError> {
        let mut values: Vec<(&'a str, &'a Node)> = Vec::new();
        for (source, is_default) in [(defaults, true), (Some(value), false)] {
            let Some(node) = source else { continue };
            match &node.value {
                Value::Text(_) if !is_default => values.push(("repo", node)),
                Value::Map(_) => {
                    for (key, key_node, v) in node.entries().unwrap_or_default() {
                        if !OPTIONS.contains(&key) {
                            return Err(self.error(
                                key_node,
                                format!(
                                    "unknown option `{key}` of fixture `{name}`: one of {}",
                                    OPTIONS
                                        .iter()
                                        .map(|o| format!("`{o}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ));
                        }
                        values.retain(|(k, _)| *k != key);
                        values.push((key, v));
                    }
                }
                _ => {
                    return Err(self.error(
                        node,
                        format!(
                            "fixture `{name}` is a string (its `repo`) or a map of options, not {}",
                            node.kind()
                        ),
                    ))
                }
            }
        }
        Ok(Options { values })
    }

    /// A text option, with `#{source_dir}` and `#{ENV['NAME']}` substituted.
    fn text(&self, options: &Options, key: &str, name: &str) -> Result<Option<String>, SpecError> {
        let Some(node) = options.get(key) else {
            return Ok(None);
        };
        match &node.value {
            Value::Null => Ok(None),
            Value::Text(text) => self.substitute(text, node).map(Some),
            _ => Err(self.error(
                node,
                format!(
                    "`{key}` of fixture `{name}` is a string, not {}",
                    node.kind()
                ),
            )),
        }
    }

    fn substitute(&self, text: &str, node: &Node) -> Result<String, SpecError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("#{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(self.error(node, format!("`#{{` without its `}}` in `{text}`")));
            };
            let expr = after[..end].trim();
            if expr == "source_dir" {
                out.push_str(&self.module_dir.display().to_string());
            } else if let Some(var) = env_name(expr) {
                match (self.env)(var) {
                    Some(value) => out.push_str(&value),
                    None => {
                        return Err(self.error(
                            node,
                            format!(
                                "`{text}` needs the environment variable {var}, which is not set"
                            ),
                        ))
                    }
                }
            } else {
                return Err(self.error(
                    node,
                    format!(
                        "`#{{{expr}}}` in `{text}`: rehearsal reads `#{{source_dir}}` and `#{{ENV['NAME']}}` here, not other Ruby"
                    ),
                ));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn entry(
        &self,
        category: &str,
        name: &str,
        name_node: &Node,
        options: &Options,
        module_name: &str,
    ) -> Result<Option<Entry>, SpecError> {
        if let Some(node) = options.get("puppet_version") {
            return Err(self.error(
                node,
                format!(
                    "`puppet_version` of fixture `{name}` (a fixture for some Puppet versions only) is not supported yet: remove it, or declare the fixture in rehearsal.yaml"
                ),
            ));
        }
        let Some(repo) = self.text(options, "repo", name)? else {
            return Err(self.error(name_node, format!("fixture `{name}` has no `repo`")));
        };
        let repo_node = options.get("repo").unwrap_or(name_node);
        let line = name_node.line;
        let kind = match category {
            "symlinks" => {
                let path = self.module_dir.join(&repo);
                let Ok(path) = path.canonicalize() else {
                    return Err(self.error(
                        repo_node,
                        format!(
                            "symlink fixture `{name}`: `{repo}` does not exist (looked for {})",
                            path.display()
                        ),
                    ));
                };
                if !path.is_dir() {
                    return Err(self.error(
                        repo_node,
                        format!("symlink fixture `{name}`: `{repo}` is not a directory"),
                    ));
                }
                let itself = self.module_dir.canonicalize().ok().as_deref() == Some(path.as_path());
                if itself || name == module_name {
                    // The module under test: mounted as itself already.
                    return Ok(None);
                }
                Kind::Local(path)
            }
            "repositories" => Kind::Git(self.git(name, options, &repo, repo_node)?),
            _ => {
                let slug = repo.replace('-', "/");
                if slug.split('/').count() != 2 || slug.split('/').any(str::is_empty) {
                    return Err(self.error(
                        repo_node,
                        format!("forge fixture `{name}`: `{repo}` is not a Forge module's `author/name`"),
                    ));
                }
                let flags = self.text(options, "flags", name)?.unwrap_or_default();
                let forge = flags.split_whitespace().find_map(|flag| {
                    flag.strip_prefix("--module_repository=")
                        .map(str::to_string)
                });
                Kind::Forge {
                    slug,
                    version: self.text(options, "ref", name)?,
                    forge,
                }
            }
        };
        Ok(Some(Entry {
            name: name.to_string(),
            kind,
            line,
        }))
    }

    fn git(
        &self,
        name: &str,
        options: &Options,
        repo: &str,
        repo_node: &Node,
    ) -> Result<GitSource, SpecError> {
        if let Some(scm) = self.text(options, "scm", name)? {
            if scm != "git" {
                let node = options.get("scm").unwrap_or(repo_node);
                return Err(self.error(
                    node,
                    format!("fixture `{name}`: `scm: {scm}` is not supported: rehearsal fetches git repositories"),
                ));
            }
        }
        if let Some(flags) = self.text(options, "flags", name)? {
            let node = options.get("flags").unwrap_or(repo_node);
            let mut words = flags.split_whitespace();
            while let Some(flag) = words.next() {
                // Options of a one-off clone that a cached mirror makes moot.
                match flag {
                    "--depth" => {
                        words.next();
                    }
                    f if f.starts_with("--depth=")
                        || matches!(f, "--single-branch" | "--no-single-branch" | "-q" | "--quiet" | "--no-tags") => {}
                    other => {
                        return Err(self.error(
                            node,
                            format!(
                                "fixture `{name}`: rehearsal mirrors the repository and cannot pass `{other}` to git: remove it (the flags it ignores: --depth, --single-branch, --quiet, --no-tags)"
                            ),
                        ))
                    }
                }
            }
        }
        let reference = self.text(options, "ref", name)?;
        let tag = self.text(options, "tag", name)?;
        let branch = self.text(options, "branch", name)?;
        let fixed = reference.clone().or(tag);
        if let Some(fixed) = &fixed {
            if fixed.contains('/') && reference.is_some() {
                let node = options.get("ref").unwrap_or(repo_node);
                return Err(self.error(
                    node,
                    format!("fixture `{name}`: the ref `{fixed}` has a slash: if it is a branch, use `branch: {fixed}`"),
                ));
            }
        }
        // As puppetlabs_spec_helper: a `ref` wins over the `branch` it is cloned from.
        let want = match (fixed, branch) {
            (Some(fixed), _) => GitWant::Fixed(fixed),
            (None, Some(branch)) => GitWant::Branch(branch),
            (None, None) => GitWant::DefaultBranch,
        };
        let url = local_url_from(self.module_dir, repo)
            .map_err(|m| self.error(repo_node, format!("repository fixture `{name}`: {m}")))?;
        let subdir = self
            .text(options, "subdir", name)?
            .filter(|s| !s.is_empty());
        Ok(GitSource { url, want, subdir })
    }
}

/// `ENV['NAME']`, `ENV["NAME"]` or `ENV.fetch('NAME')`: NAME.
fn env_name(expr: &str) -> Option<&str> {
    let inner = expr
        .strip_prefix("ENV[")
        .and_then(|e| e.strip_suffix(']'))
        .or_else(|| {
            expr.strip_prefix("ENV.fetch(")
                .and_then(|e| e.strip_suffix(')'))
        })?;
    let inner = inner.trim();
    let name = inner
        .strip_prefix('\'')
        .and_then(|e| e.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|e| e.strip_suffix('"')))?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(name)
}

#[cfg(test)]
mod tests;
