//! Platforms: the images cases run in, one per `images/<name>/` definition.
//!
//! No registry can be assumed, so an image is made from a debootstrap root filesystem
//! imported through the engine API, or from a Dockerfile where the engine can pull.
//! Images are tagged with a content hash of their definition: a current image is never
//! rebuilt, a changed definition always is, and two definitions never share a tag.

pub mod build;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::spec::limits::LimitsOverride;

/// Bumped when the way images are built changes, so every image is rebuilt.
const RECIPE_VERSION: &str = "1";

/// The definitions shipped with rehearsal, used when no `images/` directory is given.
const BUILT_IN: &[(&str, &[(&str, &str)])] = &[
    (
        "debian11",
        &[
            (
                "platform.yaml",
                include_str!("../../images/debian11/platform.yaml"),
            ),
            (
                "Dockerfile",
                include_str!("../../images/debian11/Dockerfile"),
            ),
        ],
    ),
    (
        "debian12",
        &[
            (
                "platform.yaml",
                include_str!("../../images/debian12/platform.yaml"),
            ),
            (
                "Dockerfile",
                include_str!("../../images/debian12/Dockerfile"),
            ),
        ],
    ),
    (
        "debian13",
        &[
            (
                "platform.yaml",
                include_str!("../../images/debian13/platform.yaml"),
            ),
            (
                "Dockerfile",
                include_str!("../../images/debian13/Dockerfile"),
            ),
        ],
    ),
];

/// `platform.yaml`: how to make a platform's image.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub description: Option<String>,
    pub debootstrap: Option<Debootstrap>,
    /// Installed with apt inside the new root once debootstrap is done (apt resolves
    /// dependencies better than debootstrap's `--include`).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Memory, CPU and process limits of the platform's containers, under any a spec
    /// sets (`limits: { memory: 2G }`).
    #[serde(default)]
    pub limits: LimitsOverride,
    /// The operating system it is, as metadata.json's `operatingsystem_support` names
    /// one: `{ name: Debian, release: "12" }`. A module that says which systems it
    /// supports runs on the platforms that are one of them.
    #[serde(default)]
    pub os: Option<Os>,
    /// The version of Puppet (or OpenVox) it brings, for metadata.json's `requirements`.
    #[serde(default)]
    pub puppet: Option<String>,
}

/// An operating system and its release, as Facter's `os.name` and
/// `os.release.major` give them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Os {
    pub name: String,
    pub release: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Debootstrap {
    pub suite: String,
    #[serde(default = "default_variant")]
    pub variant: String,
    #[serde(default)]
    pub include: Vec<String>,
    /// The archive; debootstrap's default when absent.
    pub mirror: Option<String>,
}

fn default_variant() -> String {
    "minbase".to_string()
}

/// How an image is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Debootstrap,
    Dockerfile,
}

/// A platform: its name, its definition files and the image they make.
#[derive(Debug, Clone)]
pub struct Platform {
    pub name: String,
    pub definition: Definition,
    /// Every file of the definition, by name: hashed, and sent as a build context.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Where the definition was read from (`built-in` for the shipped ones).
    pub origin: String,
}

impl Platform {
    /// The content hash of the definition (and of the way images are built).
    pub fn hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(RECIPE_VERSION.as_bytes());
        for (name, content) in &self.files {
            hasher.update((name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update((content.len() as u64).to_le_bytes());
            hasher.update(content);
        }
        format!("{:x}", hasher.finalize())
    }

    /// The image name: the platform and the first 12 digits of its hash.
    pub fn image(&self) -> String {
        format!("rehearsal/{}:{}", self.name, &self.hash()[..12])
    }

    /// The build source used when none is asked for.
    pub fn default_source(&self) -> Option<Source> {
        if self.definition.debootstrap.is_some() {
            Some(Source::Debootstrap)
        } else if self.files.contains_key("Dockerfile") {
            Some(Source::Dockerfile)
        } else {
            None
        }
    }

    fn from_files(
        name: &str,
        files: BTreeMap<String, Vec<u8>>,
        origin: String,
    ) -> Result<Platform, PlatformError> {
        let definition = match files.get("platform.yaml") {
            Some(bytes) => {
                serde_yaml::from_slice(bytes).map_err(|source| PlatformError::Definition {
                    file: format!("{origin}/platform.yaml"),
                    source,
                })?
            }
            None if files.contains_key("Dockerfile") => Definition {
                description: None,
                debootstrap: None,
                packages: vec![],
                limits: LimitsOverride::default(),
                os: None,
                puppet: None,
            },
            None => return Err(PlatformError::Undefined { origin }),
        };
        Ok(Platform {
            name: name.to_string(),
            definition,
            files,
            origin,
        })
    }
}

/// Why the platform definitions cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("cannot read the images directory {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Definition {
        file: String,
        source: serde_yaml::Error,
    },
    #[error("{origin} has neither platform.yaml nor Dockerfile: add one to define the platform")]
    Undefined { origin: String },
    #[error("{} holds no platform definitions", .0.display())]
    Empty(PathBuf),
    #[error("unknown platform `{name}` (known: {known})")]
    Unknown { name: String, known: String },
}

/// The platforms known: those under `dir` when given, else the built-in ones.
pub fn load(dir: Option<&Path>) -> Result<Vec<Platform>, PlatformError> {
    let Some(dir) = dir else {
        return BUILT_IN
            .iter()
            .map(|(name, files)| {
                let files = files
                    .iter()
                    .map(|(f, c)| (f.to_string(), c.as_bytes().to_vec()))
                    .collect();
                Platform::from_files(name, files, format!("built-in {name}"))
            })
            .collect();
    };
    let entries = std::fs::read_dir(dir).map_err(|source| PlatformError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut platforms = Vec::new();
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for path in dirs {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut files = BTreeMap::new();
        read_tree(&path, &path, &mut files).map_err(|source| PlatformError::Read {
            path: path.clone(),
            source,
        })?;
        platforms.push(Platform::from_files(
            &name,
            files,
            path.display().to_string(),
        )?);
    }
    if platforms.is_empty() {
        return Err(PlatformError::Empty(dir.to_path_buf()));
    }
    Ok(platforms)
}

fn read_tree(
    root: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_tree(root, &path, files)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            files.insert(rel, std::fs::read(&path)?);
        }
    }
    Ok(())
}

/// Picks platforms by name; an unknown name is an error that lists the known ones.
pub fn select<'a>(
    all: &'a [Platform],
    names: &[String],
) -> Result<Vec<&'a Platform>, PlatformError> {
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| PlatformError::Unknown {
                    name: name.clone(),
                    known: all
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_platforms_load_with_debootstrap_sources() {
        let all = load(None).unwrap();
        let names: Vec<_> = all.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["debian11", "debian12", "debian13"]);
        assert_eq!(all[0].definition.packages, ["puppet", "puppet-lint"]);
        assert_eq!(
            all[1].definition.debootstrap.as_ref().unwrap().suite,
            "bookworm"
        );
        assert!(all
            .iter()
            .all(|p| p.default_source() == Some(Source::Debootstrap)));
    }

    #[test]
    fn the_image_tag_follows_the_definition() {
        let all = load(None).unwrap();
        let mut changed = all[1].clone();
        assert_eq!(changed.image(), all[1].image());
        changed.files.insert(
            "platform.yaml".into(),
            b"description: x\npackages: [vim]\n".to_vec(),
        );
        assert_ne!(changed.image(), all[1].image());
        assert!(all[1].image().starts_with("rehearsal/debian12:"));
    }

    #[test]
    fn a_directory_overrides_and_unknown_names_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("alma9")).unwrap();
        std::fs::write(dir.path().join("alma9/Dockerfile"), "FROM almalinux:9\n").unwrap();
        let all = load(Some(dir.path())).unwrap();
        assert_eq!(all[0].default_source(), Some(Source::Dockerfile));
        let err = select(&all, &["debian12".into()]).unwrap_err().to_string();
        assert_eq!(err, "unknown platform `debian12` (known: alma9)");
    }

    #[test]
    fn a_definition_may_set_limits() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("big")).unwrap();
        std::fs::write(
            dir.path().join("big/platform.yaml"),
            "packages: [puppet]\nlimits: { memory: 2G, pids: 4096 }\n",
        )
        .unwrap();
        let all = load(Some(dir.path())).unwrap();
        let limits = all[0].definition.limits.resolve();
        assert_eq!(limits.memory, 2 << 30);
        assert_eq!(limits.pids, 4096);
        // Unset here: the default.
        assert_eq!(limits.nano_cpus, 1_000_000_000);
        assert_eq!(
            load(None).unwrap()[1].definition.limits,
            LimitsOverride::default()
        );

        std::fs::write(
            dir.path().join("big/platform.yaml"),
            "limits: { memory: huge }\n",
        )
        .unwrap();
        let err = load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("big/platform.yaml") && err.contains("`huge` is not a size"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_definition_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x")).unwrap();
        std::fs::write(
            dir.path().join("x/platform.yaml"),
            "debootstrap: {suit: bookworm}\n",
        )
        .unwrap();
        let err = load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            err.contains("x/platform.yaml") && err.contains("unknown field `suit`"),
            "{err}"
        );
    }
}
