//! Change-based selection (`--changed-since REV`): which modules a change can affect.
//!
//! [`changed_files`] asks git (through libgit2) for the files that differ between a
//! revision and the working tree; [`select`] maps each of them to the modules under test
//! and closes the set over their dependencies; [`Selection::explain`] says why, module by
//! module. Only the reading of git touches the outside world; [`select`] looks at the
//! file system only to recognise module directories that are not under test.
//!
//! # The rules, for each changed file
//!
//! 1. **Inside a module under test** (its directory, including its `rehearsal.yaml`,
//!    `spec/`, `README.md`: the whole directory is mounted into the container) → that
//!    module, `changed: manifests/init.pp`.
//! 2. **Inside a fixture directory** of a module under test, when that directory is not
//!    itself a module under test (a library module with no spec, a vendored copy) → the
//!    fixture's module, which selects its dependants (rule 6).
//! 3. **Inside another module directory** (a directory with `manifests/`, strictly below
//!    the repository root, whichever holds the file most closely) that is not under test
//!    → that module, which selects its dependants (rule 6). A module that no module under
//!    test depends on cannot reach any run (a case's modulepath is its module and its
//!    fixtures), so its changes select nothing, and `--explain` says so.
//! 4. **A file or directory a spec uses** outside its own module (its Hiera config and
//!    that config's data directories, a `manifest_file`, a goss file) → every module whose
//!    spec uses it, e.g. `uses hiera data site/hiera/data, where …/common.yaml changed`;
//!    and what the site baseline its cases start from reads (its modulepath's
//!    directories, manifest file, Hiera config and data, Puppetfile and local modules).
//! 5. **`<images>/<platform>/**`** (only when an images directory is given: the built-in
//!    definitions are compiled into the harness) → every module whose spec runs on that
//!    platform (`platforms`, default every platform). A loose file directly in the images
//!    directory is no platform's definition and falls through to rule 7.
//! 6. **Reverse closure.** A module under test B is selected when it depends on a selected
//!    module A, transitively: through `metadata.json` `dependencies` (`author-name` and
//!    `author/name` both match a module whose metadata name or directory is `name`), or
//!    through a fixture whose directory is A's. A module selected only by rule 5 does not
//!    select its dependants: its code did not change, and a dependant that runs on the
//!    same platform is selected by rule 5 itself.
//! 7. **Anything else** selects **every** module (the safe default), and `--explain` names
//!    the file. That includes the harness's own files, CI scripts, files of a deleted
//!    module (its directory no longer says it was a module) and files no rule knows.
//!
//! All rules apply, not the first that matches: a module's Hiera data used by another
//! module's spec selects both. The one exception to rule 7 is documentation that no other
//! rule claimed: `*.md`, `*.markdown`, `*.rst`, `*.adoc`, `LICENSE*`, `LICENCE*`,
//! `COPYING*`, `NOTICE*`, `AUTHORS*` and `.gitignore`. Puppet and the harness read none
//! of those outside a module or a platform definition (inside one, rules 1, 3 and 5 have
//! claimed them already), so they select nothing. Nothing else is ignored.
//!
//! Modules whose directories are gone (deleted modules) are not in the discovered specs,
//! so they simply drop out. Files git ignores are not seen at all: they are build output
//! by the repository's own definition.

mod git;

use std::collections::VecDeque;
use std::fmt;
use std::path::{Component, Path, PathBuf};

pub use git::{
    changed_files, export_tree, gerrit_base, Change, ChangedFile, ChangedFiles, SelectError,
};

use crate::spec::{Manifest, ModuleSpec};

/// What selection needs to know of one module under test. Build it from a spec with
/// [`Module::from_spec`], or by hand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Module {
    /// The module's root directory, absolute and canonical (as [`ModuleSpec::module_dir`]).
    pub dir: PathBuf,
    /// Its name on the modulepath (metadata.json's, after the author; else the directory's).
    pub name: String,
    /// The platforms its spec runs on; `None` is every platform.
    pub platforms: Option<Vec<String>>,
    /// The short names of its metadata.json `dependencies` (`acme-stdlib` → `stdlib`).
    pub dependencies: Vec<String>,
    /// Its spec's fixture directories, absolute.
    pub fixtures: Vec<PathBuf>,
    /// Other files and directories its spec uses, absolute.
    pub uses: Vec<Use>,
}

/// A file or directory a spec uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Use {
    pub what: UseKind,
    /// Absolute; a directory stands for everything below it.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseKind {
    HieraConfig,
    HieraData,
    ManifestFile,
    GossFile,
    /// A Puppetfile whose modules are fixtures (wherever it is).
    Puppetfile,
    /// What the site baseline the module's cases start from reads: its modulepath's
    /// directories, its manifest file, Hiera config and data, Puppetfile and local modules.
    Baseline,
}

impl fmt::Display for UseKind {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            UseKind::HieraConfig => "hiera config",
            UseKind::HieraData => "hiera data",
            UseKind::ManifestFile => "manifest file",
            UseKind::GossFile => "goss file",
            UseKind::Puppetfile => "Puppetfile",
            UseKind::Baseline => "site baseline input",
        })
    }
}

impl Module {
    /// Reads what selection needs from a loaded spec, its module's `metadata.json` and
    /// its Hiera config (for the data directories).
    pub fn from_spec(spec: &ModuleSpec) -> Module {
        let dir = &spec.module_dir;
        let mut uses = Vec::new();
        if let Some(config) = &spec.hiera_config {
            uses.push(Use {
                what: UseKind::HieraConfig,
                path: config.clone(),
            });
            let text = std::fs::read_to_string(config).unwrap_or_default();
            for path in hiera_data_paths(config, &text) {
                uses.push(Use {
                    what: UseKind::HieraData,
                    path: canonical(&path),
                });
            }
        }
        for case in &spec.cases {
            if let Manifest::File(file) = &case.manifest {
                uses.push(Use {
                    what: UseKind::ManifestFile,
                    path: canonical(&dir.join(file)),
                });
            }
        }
        for (puppetfile, _) in &spec.puppetfiles {
            uses.push(Use {
                what: UseKind::Puppetfile,
                path: puppetfile.clone(),
            });
        }
        let baseline = spec
            .site
            .as_deref()
            .filter(|_| spec.use_baseline)
            .and_then(|site| site.baseline.as_ref());
        for path in baseline.iter().flat_map(|b| baseline_paths(b)) {
            uses.push(Use {
                what: UseKind::Baseline,
                path,
            });
        }
        let source = std::fs::read_to_string(&spec.file).unwrap_or_default();
        for path in goss_paths(&source) {
            uses.push(Use {
                what: UseKind::GossFile,
                path: canonical(&dir.join(path)),
            });
        }
        dedup(&mut uses);
        Module {
            dir: dir.clone(),
            name: spec.module_name.clone(),
            platforms: spec.platforms.clone(),
            dependencies: metadata_dependencies(dir),
            fixtures: spec.fixtures.iter().map(|f| f.path.clone()).collect(),
            uses,
        }
    }
}

/// The files and directories a site baseline reads, absolute: a change to any of them
/// changes what every case starting from it starts from.
fn baseline_paths(baseline: &crate::spec::site::Baseline) -> Vec<PathBuf> {
    use crate::spec::site::BaselineManifest;
    let mut paths: Vec<PathBuf> = baseline.modulepath.clone();
    if let BaselineManifest::File(file) = &baseline.manifest {
        paths.push(file.clone());
    }
    if let Some(config) = &baseline.hiera_config {
        paths.push(config.clone());
        let text = std::fs::read_to_string(config).unwrap_or_default();
        paths.extend(hiera_data_paths(config, &text).iter().map(|p| canonical(p)));
    }
    paths.extend(baseline.puppetfile.clone());
    paths.extend(
        baseline
            .modules
            .iter()
            .filter(|m| m.origin.source == crate::spec::Source::Local)
            .map(|m| m.path.clone()),
    );
    paths
}

/// Why a module is selected.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// A file inside the module changed; `file` is relative to the module's directory.
    Changed { file: PathBuf, change: Change },
    /// It depends on a selected module, or on a changed module that is not under test.
    DependsOn { module: String, via: Via },
    /// The image definition of a platform it runs on changed (`file` from the repo root).
    Platform {
        platform: String,
        file: PathBuf,
        change: Change,
    },
    /// Its spec uses `path`, and `file` (that path or a file below it) changed; both
    /// relative to the repository's root.
    Uses {
        what: UseKind,
        path: PathBuf,
        file: PathBuf,
        change: Change,
    },
    /// Changed files the harness cannot attribute select every module: the first of them,
    /// and how many more.
    Unattributed { file: PathBuf, more: usize },
}

/// How one module depends on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A `dependencies` entry of its metadata.json.
    Metadata,
    /// A fixture of its spec: the fixture's directory, relative to the module's.
    Fixture(PathBuf),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Reason::Changed { file, change } if file.as_os_str().is_empty() => {
                write!(f, "changed: the whole directory (a submodule){change}")
            }
            Reason::Changed { file, change } => write!(f, "changed: {}{change}", file.display()),
            Reason::DependsOn { module, via } => match via {
                Via::Metadata => write!(f, "depends on {module} (metadata.json)"),
                Via::Fixture(path) => {
                    write!(f, "depends on {module} (fixture {})", path.display())
                }
            },
            Reason::Platform {
                platform,
                file,
                change,
            } => write!(
                f,
                "platform {platform}'s image definition changed: {}{change}",
                file.display()
            ),
            Reason::Uses {
                what,
                path,
                file,
                change,
            } => {
                if path == file {
                    write!(f, "uses {what} {}, which changed{change}", file.display())
                } else {
                    write!(
                        f,
                        "uses {what} {}, where {} changed{change}",
                        path.display(),
                        file.display()
                    )
                }
            }
            Reason::Unattributed { file, more } => {
                write!(
                    f,
                    "a change the harness cannot attribute selects every module: {}",
                    file.display()
                )?;
                if *more > 0 {
                    write!(f, " (and {more} more)")?;
                }
                Ok(())
            }
        }
    }
}

/// A selected module and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub dir: PathBuf,
    pub name: String,
    /// Never empty.
    pub reasons: Vec<Reason>,
}

/// A changed module that is not under test (rules 2 and 3).
#[derive(Debug, Clone, PartialEq)]
pub struct OutsideModule {
    pub dir: PathBuf,
    pub name: String,
    /// Its changed files, relative to its directory.
    pub files: Vec<PathBuf>,
    /// The modules under test that depend on it directly (and so are selected).
    pub dependants: Vec<String>,
}

/// Which modules to test, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// The repository's root: every path in here that is not absolute is relative to it.
    pub root: PathBuf,
    /// What was compared ([`ChangedFiles::describe`]).
    pub compared: String,
    /// How many files changed.
    pub changed: usize,
    /// The selected modules, in the order they were given.
    pub modules: Vec<Selected>,
    /// The names of the modules under test that are not selected.
    pub not_selected: Vec<String>,
    /// Changed modules that are not under test.
    pub outside: Vec<OutsideModule>,
    /// Changed files that select nothing, each with why.
    pub quiet: Vec<(ChangedFile, String)>,
    /// Changed files no rule attributes: when there is any, every module is selected.
    pub unattributed: Vec<ChangedFile>,
}

impl Selection {
    /// True when a change the harness cannot attribute selected every module.
    pub fn everything(&self) -> bool {
        !self.unattributed.is_empty()
    }

    /// True when nothing is to be tested.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Whether the module in `dir` (as [`ModuleSpec::module_dir`]) is selected.
    pub fn contains(&self, dir: &Path) -> bool {
        self.modules.iter().any(|m| m.dir == dir)
    }

    /// The selected modules' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.modules.iter().map(|m| m.name.as_str()).collect()
    }

    /// The human explanation for `--explain`: what was compared, one line per selected
    /// module with its reasons, the modules left out, and the files that selected nothing
    /// or could not be attributed.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        out.push_str(&format!(
            "Changes since {}: {}.\n",
            self.compared,
            plural(self.changed, "file", "files")
        ));
        let total = self.modules.len() + self.not_selected.len();
        if self.modules.is_empty() {
            out.push_str(&format!(
                "Selected none of the {}: nothing to test.\n",
                plural(total, "module", "modules")
            ));
        } else {
            let head = if total == 1 {
                "Selected the one module:\n".to_string()
            } else if self.not_selected.is_empty() {
                format!("Selected all {total} modules:\n")
            } else {
                format!("Selected {} of {total}:\n", self.modules.len())
            };
            out.push_str(&head);
            for module in &self.modules {
                let reasons: Vec<String> = module.reasons.iter().map(Reason::to_string).collect();
                out.push_str(&format!(
                    "  {} ({}): {}\n",
                    module.name,
                    self.shown(&module.dir).display(),
                    reasons.join("; ")
                ));
            }
        }
        if !self.not_selected.is_empty() {
            out.push_str(&format!("Not selected: {}\n", self.not_selected.join(", ")));
        }
        if !self.outside.is_empty() {
            out.push_str("Changed modules not under test:\n");
            for module in &self.outside {
                let files: Vec<String> = module
                    .files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect();
                let effect = if module.dependants.is_empty() {
                    "no module under test depends on it, so it selects nothing".to_string()
                } else {
                    format!("selects {}", module.dependants.join(", "))
                };
                out.push_str(&format!(
                    "  {} ({}): {}; {effect}\n",
                    module.name,
                    self.shown(&module.dir).display(),
                    files.join(", ")
                ));
            }
        }
        if !self.quiet.is_empty() {
            out.push_str("Changed files that select nothing:\n");
            for (file, why) in &self.quiet {
                out.push_str(&format!(
                    "  {}{}: {why}\n",
                    file.path.display(),
                    file.change
                ));
            }
        }
        if !self.unattributed.is_empty() {
            out.push_str(
                "Changed files the harness cannot attribute to a module (so every module \
                 is selected):\n",
            );
            for file in &self.unattributed {
                out.push_str(&format!("  {}{}\n", file.path.display(), file.change));
            }
        }
        out
    }

    /// A path as shown: relative to the root when inside it.
    fn shown<'a>(&self, path: &'a Path) -> &'a Path {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => Path::new("."),
            Ok(rel) => rel,
            Err(_) => path,
        }
    }
}

/// A module that a changed file belongs to but that is not under test.
struct Outside {
    dir: PathBuf,
    name: String,
    files: Vec<PathBuf>,
}

/// Selects the modules the changed files can affect (the rules are in the module's
/// documentation). `images_dir` is the platform definitions' directory when one is used
/// (`--images`); `None` for the built-in ones.
pub fn select(changed: &ChangedFiles, modules: &[Module], images_dir: Option<&Path>) -> Selection {
    let root = &changed.root;
    let images = images_dir.map(canonical);
    let mut direct: Vec<Vec<Reason>> = vec![Vec::new(); modules.len()];
    // Whether a module's own code (not only its platform) changed: rule 6 starts there.
    let mut seeds: Vec<bool> = vec![false; modules.len()];
    let mut outside: Vec<Outside> = Vec::new();
    let mut quiet = Vec::new();
    let mut unattributed = Vec::new();

    for file in &changed.files {
        let path = root.join(&file.path);
        let mut attributed = false;

        // Rule 1: inside modules under test.
        for (i, module) in modules.iter().enumerate() {
            if let Ok(rel) = path.strip_prefix(&module.dir) {
                direct[i].push(Reason::Changed {
                    file: rel.to_path_buf(),
                    change: file.change.clone(),
                });
                seeds[i] = true;
                attributed = true;
            }
        }
        let mut owners: Vec<PathBuf> = Vec::new();
        // Rule 2: inside fixture directories that are not modules under test.
        for module in modules {
            for fixture in &module.fixtures {
                if path.starts_with(fixture)
                    && !modules.iter().any(|m| &m.dir == fixture)
                    && !owners.contains(fixture)
                {
                    owners.push(fixture.clone());
                }
            }
        }
        // Rule 3: inside another module directory.
        if !attributed && owners.is_empty() {
            owners.extend(enclosing_module(root, &path));
        }
        for dir in owners {
            let rel = path.strip_prefix(&dir).unwrap_or(&path).to_path_buf();
            match outside.iter_mut().find(|o| o.dir == dir) {
                Some(known) => known.files.push(rel),
                None => outside.push(Outside {
                    name: crate::spec::model::module_name_of(&dir),
                    dir,
                    files: vec![rel],
                }),
            }
            attributed = true;
        }
        // Rule 4: files the specs use outside their own module.
        for (i, module) in modules.iter().enumerate() {
            if path.starts_with(&module.dir) {
                continue;
            }
            for used in &module.uses {
                if path.starts_with(&used.path) {
                    direct[i].push(Reason::Uses {
                        what: used.what,
                        path: relative_to_root(root, &used.path),
                        file: file.path.clone(),
                        change: file.change.clone(),
                    });
                    seeds[i] = true;
                    attributed = true;
                }
            }
        }
        // Rule 5: platform definitions.
        if let Some(platform) = images.as_deref().and_then(|dir| platform_of(dir, &path)) {
            let mut any = false;
            for (i, module) in modules.iter().enumerate() {
                let runs_there = match &module.platforms {
                    None => true,
                    Some(names) => names.contains(&platform),
                };
                if runs_there {
                    direct[i].push(Reason::Platform {
                        platform: platform.clone(),
                        file: file.path.clone(),
                        change: file.change.clone(),
                    });
                    any = true;
                }
            }
            if !any {
                quiet.push((
                    file.clone(),
                    format!(
                        "platform {platform}'s definition, and no module under test runs on it"
                    ),
                ));
            }
            attributed = true;
        }
        // Rule 7, and the documentation it leaves out.
        if !attributed {
            if is_documentation(&file.path) {
                quiet.push((
                    file.clone(),
                    "documentation outside any module or platform".to_string(),
                ));
            } else {
                unattributed.push(file.clone());
            }
        }
    }

    // Rule 6: the reverse closure, from the modules whose code changed and from the
    // changed modules that are not under test.
    let mut closure: Vec<Vec<Reason>> = vec![Vec::new(); modules.len()];
    let mut dependants: Vec<Vec<String>> = vec![Vec::new(); outside.len()];
    let mut queued = seeds.clone();
    let mut queue: VecDeque<Node> = (0..modules.len())
        .filter(|i| seeds[*i])
        .map(Node::UnderTest)
        .chain((0..outside.len()).map(Node::Outside))
        .collect();
    while let Some(node) = queue.pop_front() {
        let (name, dir) = match node {
            Node::UnderTest(i) => (&modules[i].name, &modules[i].dir),
            Node::Outside(o) => (&outside[o].name, &outside[o].dir),
        };
        for (j, module) in modules.iter().enumerate() {
            if node == Node::UnderTest(j) {
                continue;
            }
            let vias = dependency(module, name, dir);
            if vias.is_empty() {
                continue;
            }
            for via in vias {
                push_unique(
                    &mut closure[j],
                    Reason::DependsOn {
                        module: name.clone(),
                        via,
                    },
                );
            }
            if let Node::Outside(o) = node {
                dependants[o].push(module.name.clone());
            }
            if !queued[j] {
                queued[j] = true;
                queue.push_back(Node::UnderTest(j));
            }
        }
    }

    let everything = unattributed
        .first()
        .map(|first: &ChangedFile| Reason::Unattributed {
            file: first.path.clone(),
            more: unattributed.len() - 1,
        });
    let mut selection = Selection {
        root: root.clone(),
        compared: changed.describe(),
        changed: changed.files.len(),
        unattributed,
        quiet,
        ..Selection::default()
    };
    for (i, module) in modules.iter().enumerate() {
        let mut reasons = Vec::new();
        for reason in direct[i].drain(..).chain(closure[i].drain(..)) {
            push_unique(&mut reasons, reason);
        }
        reasons.extend(everything.clone());
        if reasons.is_empty() {
            selection.not_selected.push(module.name.clone());
        } else {
            selection.modules.push(Selected {
                dir: module.dir.clone(),
                name: module.name.clone(),
                reasons,
            });
        }
    }
    selection.outside = outside
        .into_iter()
        .zip(dependants)
        .map(|(o, dependants)| OutsideModule {
            dir: o.dir,
            name: o.name,
            files: o.files,
            dependants,
        })
        .collect();
    selection
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    UnderTest(usize),
    Outside(usize),
}

/// How `module` depends on the module called `name` in `dir` (empty: it does not).
fn dependency(module: &Module, name: &str, dir: &Path) -> Vec<Via> {
    let mut vias = Vec::new();
    let dir_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if module
        .dependencies
        .iter()
        .any(|dep| dep == name || (!dir_name.is_empty() && dep == dir_name))
    {
        vias.push(Via::Metadata);
    }
    if module.fixtures.iter().any(|f| f == dir) {
        vias.push(Via::Fixture(relative_path(&module.dir, dir)));
    }
    vias
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn dedup<T: PartialEq>(list: &mut Vec<T>) {
    let mut kept = Vec::with_capacity(list.len());
    for item in list.drain(..) {
        push_unique(&mut kept, item);
    }
    *list = kept;
}

/// The closest directory holding `path` (or `path` itself: a submodule) that is a module
/// (has `manifests/`), strictly below the root.
fn enclosing_module(root: &Path, path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .take_while(|dir| dir.starts_with(root) && *dir != root)
        .find(|dir| dir.join("manifests").is_dir())
        .map(Path::to_path_buf)
}

/// The platform whose definition `path` is part of: `<images>/<platform>/…`.
fn platform_of(images: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(images).ok()?;
    let mut parts = rel.components();
    let first = parts.next()?;
    parts.next()?; // a file directly in the images directory is no platform's
    match first {
        Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
        _ => None,
    }
}

/// Documentation that nothing reads outside a module or platform (see the module doc).
fn is_documentation(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let upper = name.to_ascii_uppercase();
    matches!(extension.as_str(), "md" | "markdown" | "rst" | "adoc")
        || ["LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS"]
            .iter()
            .any(|prefix| upper.starts_with(prefix))
        || name == ".gitignore"
}

/// The short names of the `dependencies` in `dir/metadata.json` (none when unreadable).
fn metadata_dependencies(dir: &Path) -> Vec<String> {
    let Ok(bytes) = std::fs::read(dir.join("metadata.json")) else {
        return Vec::new();
    };
    let Ok(meta) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for dep in meta
        .get("dependencies")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(full) = dep.get("name").and_then(|n| n.as_str()) {
            if let Some(short) = full.rsplit(['-', '/']).next().filter(|s| !s.is_empty()) {
                push_unique(&mut names, short.to_string());
            }
        }
    }
    names
}

/// The data directories (and any files outside them) a Hiera 5 config reads, from its
/// text: every level's `datadir` (default `data`, or `defaults.datadir`), relative to the
/// config's directory, and the fixed part of a level's `path`/`paths`/`glob`/`globs` that
/// leads outside its datadir. A config that cannot be read this way stands for its whole
/// directory.
fn hiera_data_paths(config: &Path, text: &str) -> Vec<PathBuf> {
    let config_dir = config.parent().unwrap_or(Path::new("/"));
    let whole = vec![config_dir.to_path_buf()];
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(text) else {
        return whole;
    };
    if !doc.is_mapping() {
        return whole;
    }
    let string = |v: Option<&serde_yaml::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let default_datadir = string(doc.get("defaults").and_then(|d| d.get("datadir")))
        .unwrap_or_else(|| "data".to_string());
    let mut paths = vec![normalize(&config_dir.join(&default_datadir))];
    let levels = match doc.get("hierarchy") {
        None => &[][..],
        Some(serde_yaml::Value::Sequence(levels)) => &levels[..],
        Some(_) => return whole,
    };
    for level in levels {
        let datadir = string(level.get("datadir")).unwrap_or_else(|| default_datadir.clone());
        let datadir = normalize(&config_dir.join(&datadir));
        push_unique(&mut paths, datadir.clone());
        let mut entries: Vec<String> = Vec::new();
        for key in ["path", "glob"] {
            entries.extend(string(level.get(key)));
        }
        for key in ["paths", "globs"] {
            if let Some(serde_yaml::Value::Sequence(list)) = level.get(key) {
                entries.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_string));
            }
        }
        for entry in entries {
            let fixed: PathBuf = Path::new(&entry)
                .components()
                .take_while(|c| {
                    let part = c.as_os_str().to_string_lossy();
                    !part.contains("%{") && !part.contains(['*', '?', '[', '{'])
                })
                .collect();
            let target = normalize(&datadir.join(fixed));
            if !target.starts_with(&datadir) {
                push_unique(&mut paths, target);
            }
        }
    }
    paths
}

/// The goss files a spec's cases name (`cases.<name>.goss`: a path or a list), as
/// written (relative to the spec's directory).
fn goss_paths(spec_source: &str) -> Vec<PathBuf> {
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(spec_source) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let Some(serde_yaml::Value::Mapping(cases)) = doc.get("cases") else {
        return paths;
    };
    for case in cases.values() {
        match case.get("goss") {
            Some(serde_yaml::Value::String(one)) => push_unique(&mut paths, PathBuf::from(one)),
            Some(serde_yaml::Value::Sequence(many)) => {
                for one in many.iter().filter_map(|v| v.as_str()) {
                    push_unique(&mut paths, PathBuf::from(one));
                }
            }
            _ => {}
        }
    }
    paths
}

/// `path`, canonical when it exists, else with `.` and `..` removed.
fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| normalize(path))
}

/// Removes `.` and resolves `..` without looking at the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to the root when inside it, else as it is.
fn relative_to_root(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// `to` relative to the directory `from` (both absolute): `../confkit`.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests;
