//! Reading `rehearsal.yaml` files: finding them, parsing them, and refusing bad ones with
//! an error that names the file, line and column. The first stage of the pipeline;
//! nothing here touches the engine.

pub mod check;
pub mod error;
pub mod goss;
pub mod limits;
pub mod lines;
pub mod matcher;
pub mod model;
pub mod paths;
pub mod raw;
pub mod scan;
pub mod site;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use check::Check;
pub use error::SpecError;
pub use matcher::{Matcher, Matchers};
pub use model::{
    Case, Fixture, FixtureOrigin, GitSource, GitWant, Manifest, ModuleSpec, PendingFixture, Source,
    Timeouts,
};

/// The spec's file name, at a module's root.
pub const SPEC_FILE: &str = "rehearsal.yaml";

/// Specs larger than this are refused before parsing.
pub const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// Reads and validates one spec file.
pub fn load(file: &Path) -> Result<ModuleSpec, SpecError> {
    let file = file
        .canonicalize()
        .map_err(|err| SpecError::whole_file(file, format!("cannot read the spec: {err}")))?;
    let source = read_source(&file, "spec")?;
    parse(&file, &source)
}

/// Reads a file the spec stands on (the spec itself, a goss file): at most
/// [`MAX_SPEC_BYTES`], UTF-8. `noun` names it in errors.
pub(crate) fn read_source(file: &Path, noun: &str) -> Result<String, SpecError> {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > MAX_SPEC_BYTES {
        return Err(SpecError::whole_file(
            file,
            format!("the {noun} is {size} bytes, more than the 1 MiB a {noun} may be"),
        ));
    }
    let bytes = std::fs::read(file)
        .map_err(|err| SpecError::whole_file(file, format!("cannot read the {noun}: {err}")))?;
    decode(file, bytes, noun)
}

/// Parses a spec's bytes as [`load`] parses the file's: the UTF-8 check, then [`parse`].
/// For tests that feed specs without writing them (`tests/fuzz_spec.rs`).
#[doc(hidden)]
pub fn parse_bytes(file: &Path, bytes: &[u8]) -> Result<ModuleSpec, SpecError> {
    let source = decode(file, bytes.to_vec(), "spec")?;
    parse(file, &source)
}

/// The text of a file the spec stands on, or where its first byte that is not UTF-8 is.
fn decode(file: &Path, bytes: Vec<u8>, noun: &str) -> Result<String, SpecError> {
    String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        // Columns count characters, as YAML errors' do.
        let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        SpecError {
            file: file.to_path_buf(),
            position: Some((line, column)),
            message: format!("the {noun} is not valid UTF-8: save it as UTF-8"),
        }
    })
}

/// Parses a spec's text; `file` is where it was read from (relative paths resolve
/// against its directory).
pub fn parse(file: &Path, source: &str) -> Result<ModuleSpec, SpecError> {
    let module_dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    if source.trim().is_empty() {
        return Err(SpecError::whole_file(
            file,
            "the spec is empty: it needs at least `cases:`",
        ));
    }
    if source
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        return Err(SpecError::whole_file(
            file,
            "the spec holds only comments: it needs at least `cases:`",
        ));
    }
    scan::scan(source, "spec", true).map_err(|found| SpecError {
        file: file.to_path_buf(),
        position: Some(found.position),
        message: found.message,
    })?;
    let mut raw: raw::RawSpec = raw::with_base(&module_dir, || serde_yaml::from_str(source))
        .map_err(|err| SpecError::from_yaml_in(file, source, &err))?;
    let positions = lines::positions(source);
    if let Some(cases) = raw.cases.as_mut() {
        for (name, case) in cases.0.iter_mut() {
            for (check, line) in case
                .expect
                .iter_mut()
                .zip(positions.checks.get(name).into_iter().flatten())
            {
                check.line = Some(*line);
            }
        }
    }
    read_goss_files(&mut raw)?;
    let origin = model::Origin {
        file: file.to_path_buf(),
        module_name: model::module_name_of(&module_dir),
        module_dir,
        fixture_lines: positions.fixtures.iter().map(|l| Some(*l)).collect(),
    };
    let case_names: Vec<String> = raw
        .cases
        .as_ref()
        .map(|c| c.0.keys().cloned().collect())
        .unwrap_or_default();
    let mut spec = ModuleSpec::from_raw(raw, origin).map_err(|message| {
        // Model errors name a case when they are about one: point at its key.
        let position = case_names
            .iter()
            .find(|name| message.contains(&format!("case `{name}`")))
            .and_then(|name| error::locate_key(source, name))
            .or_else(|| error::locate_key(source, "cases"));
        SpecError {
            file: file.to_path_buf(),
            position,
            message,
        }
    })?;
    spec.platform_positions = positions.platforms;
    Ok(spec)
}

/// Reads the goss files the cases name (each file once) into their `goss_checks`; an
/// error names the goss file, line and column.
fn read_goss_files(raw: &mut raw::RawSpec) -> Result<(), SpecError> {
    let mut read: HashMap<PathBuf, Vec<Check>> = HashMap::new();
    for case in raw.cases.iter_mut().flat_map(|cases| cases.0.values_mut()) {
        for file in &case.goss.0 {
            if !read.contains_key(&file.resolved) {
                let checks = goss::load(&file.resolved)?;
                read.insert(file.resolved.clone(), checks);
            }
            case.goss_checks
                .extend(read[&file.resolved].iter().cloned());
        }
    }
    Ok(())
}

/// Why the paths to test cannot be searched for specs.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Finds the spec files under the given paths: a path may be a spec file, a module
/// directory, or any tree holding modules. Sorted, without duplicates.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_file() {
            found.push(path.clone());
        } else if path.is_dir() {
            walk(path, &mut found).map_err(|source| DiscoverError::Read {
                path: path.clone(),
                source,
            })?;
        } else {
            return Err(DiscoverError::Missing(path.clone()));
        }
    }
    let mut found: Vec<PathBuf> = found
        .into_iter()
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// Directories never searched: version control, build output, and the copies of
/// modules that rspec-puppet keeps under `spec/fixtures`.
fn skipped(name: &str) -> bool {
    name.starts_with('.') || matches!(name, "target" | "node_modules" | "fixtures" | "vendor")
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let spec = dir.join(SPEC_FILE);
    if spec.is_file() {
        found.push(spec);
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if skipped(name) {
            continue;
        }
        // Follow real directories only: a symlink loop must not hang discovery.
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(&entry.path(), found)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
