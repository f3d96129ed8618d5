//! Forge modules, through the Forge's API v3: a release looked up by name and version (or
//! the newest one a range allows), its archive downloaded (redirects followed, as the
//! public Forge sends files to its CDN) and checked against the release's SHA-256 (else
//! its MD5, which some mirrors give alone), then unpacked safely (nothing outside the
//! module's directory, no link leading out) into a cache by name and version. The
//! Forge's address is the public one unless the user names a mirror.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::git::redact;

/// The public Forge's API.
pub const PUBLIC: &str = "https://forgeapi.puppet.com";

/// Which release of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// This version.
    Exact(String),
    /// The newest release in this range (Puppet's syntax, as metadata.json's).
    Range(String),
    /// The newest release.
    Newest,
}

impl std::fmt::Display for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Want::Exact(v) => write!(f, "{v}"),
            Want::Range(r) => write!(f, "the newest in {r}"),
            Want::Newest => f.write_str("the newest"),
        }
    }
}

/// A module unpacked in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub path: PathBuf,
    pub version: String,
}

/// Releases from one Forge, cached under one directory.
pub struct Forge {
    base: url::Url,
    cache: PathBuf,
    offline: bool,
    timeout: Duration,
}

#[derive(Debug, Deserialize)]
struct Release {
    version: String,
    file_uri: String,
    #[serde(default)]
    file_sha256: Option<String>,
    #[serde(default)]
    file_md5: Option<String>,
    #[serde(default)]
    deleted_at: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Releases {
    pagination: Pagination,
    results: Vec<Release>,
}

#[derive(Debug, Deserialize)]
struct Pagination {
    next: Option<String>,
}

/// The largest answer or archive read (the biggest Forge modules are a few MiB).
const MAX_BYTES: usize = 256 * 1024 * 1024;

impl Forge {
    pub fn new(base: &str, cache: PathBuf, offline: bool) -> Result<Forge, String> {
        let trimmed = base.trim_end_matches('/');
        let base = url::Url::parse(&format!("{trimmed}/"))
            .map_err(|e| format!("the Forge's address `{}` is not a URL: {e}", redact(base)))?;
        Ok(Forge {
            base,
            cache,
            offline,
            timeout: Duration::from_secs(120),
        })
    }

    fn shown(&self) -> String {
        redact(self.base.as_str().trim_end_matches('/'))
    }

    /// `slug` (`author/name`) at the release `want` names, from the cache or the Forge.
    pub fn fetch(&self, slug: &str, want: &Want) -> Result<Unpacked, String> {
        let dashed = slug.replace('/', "-");
        if let Want::Exact(version) = want {
            let path = self.dir(&dashed, version);
            if path.is_dir() {
                return Ok(Unpacked {
                    path,
                    version: version.clone(),
                });
            }
        }
        if self.offline {
            return self.newest_cached(&dashed, want).ok_or_else(|| {
                format!(
                    "{slug} at {want} is not in the cache ({}), and --offline forbids asking {}: run once without --offline",
                    self.cache.display(),
                    self.shown()
                )
            });
        }
        let release = self.release(&dashed, slug, want)?;
        let path = self.dir(&dashed, &release.version);
        if !path.is_dir() {
            self.download(&release, slug, &path)?;
        }
        Ok(Unpacked {
            path,
            version: release.version,
        })
    }

    fn dir(&self, dashed: &str, version: &str) -> PathBuf {
        self.cache.join(format!("{dashed}-{version}"))
    }

    /// The newest cached release of `dashed` that `want` allows.
    fn newest_cached(&self, dashed: &str, want: &Want) -> Option<Unpacked> {
        let prefix = format!("{dashed}-");
        std::fs::read_dir(&self.cache)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let version = name.strip_prefix(&prefix)?.to_string();
                let parsed = semver::Version::parse(&version).ok()?;
                allows(want, &version).then_some((parsed, version, e.path()))
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, version, path)| Unpacked { path, version })
    }

    fn get(&self, url: &url::Url) -> Result<crate::http::Fetched, String> {
        crate::http::get(url, self.timeout, MAX_BYTES)
            .map_err(|e| format!("cannot reach {}: {}", redact(url.as_str()), redact(&e)))
    }

    /// The release to use: `want`'s exact one, or the newest of all that it allows.
    fn release(&self, dashed: &str, slug: &str, want: &Want) -> Result<Release, String> {
        if let Want::Exact(version) = want {
            let url = self.join(&format!("v3/releases/{dashed}-{version}"))?;
            let answer = self.get(&url)?;
            return match answer.status.as_u16() {
                200 => serde_json::from_slice(&answer.body).map_err(|e| {
                    format!(
                        "{} answered {url} with what is not a release: {e}",
                        self.shown()
                    )
                }),
                404 => Err(format!(
                    "{} has no release {version} of {slug}",
                    self.shown()
                )),
                status => Err(format!(
                    "{} answered {status} for {}",
                    self.shown(),
                    redact(url.as_str())
                )),
            };
        }
        let mut url = self.join(&format!(
            "v3/releases?module={dashed}&limit=100&sort_by=release_date"
        ))?;
        let mut best: Option<(semver::Version, Release)> = None;
        loop {
            let answer = self.get(&url)?;
            match answer.status.as_u16() {
                200 => {}
                404 => return Err(format!("{} has no module {slug}", self.shown())),
                status => {
                    return Err(format!(
                        "{} answered {status} for {}",
                        self.shown(),
                        redact(url.as_str())
                    ))
                }
            }
            let page: Releases = serde_json::from_slice(&answer.body).map_err(|e| {
                format!(
                    "{} answered {} with what is not a list of releases: {e}",
                    self.shown(),
                    redact(url.as_str())
                )
            })?;
            for release in page.results {
                let Ok(version) = semver::Version::parse(&release.version) else {
                    continue;
                };
                let usable = release.deleted_at.as_ref().is_none_or(|d| d.is_null())
                    && version.pre.is_empty()
                    && allows(want, &release.version);
                if usable && best.as_ref().is_none_or(|(v, _)| version > *v) {
                    best = Some((version, release));
                }
            }
            match page.pagination.next {
                Some(next) if !next.is_empty() => url = self.join(next.trim_start_matches('/'))?,
                _ => break,
            }
        }
        best.map(|(_, r)| r)
            .ok_or_else(|| format!("{} has no release of {slug} in {want}", self.shown()))
    }

    fn join(&self, path: &str) -> Result<url::Url, String> {
        self.base
            .join(path)
            .map_err(|e| format!("`{path}` on {}: {e}", self.shown()))
    }

    /// The release's archive, checked and unpacked into `target`.
    fn download(&self, release: &Release, slug: &str, target: &Path) -> Result<(), String> {
        let url = self.join(release.file_uri.trim_start_matches('/'))?;
        let answer = self.get(&url)?;
        if answer.status.as_u16() != 200 {
            return Err(format!(
                "{} answered {} for {slug} {}'s archive ({})",
                self.shown(),
                answer.status.as_u16(),
                release.version,
                redact(url.as_str())
            ));
        }
        let (kind, expected, actual) = match (&release.file_sha256, &release.file_md5) {
            (Some(sha), _) if !sha.is_empty() => ("SHA-256", sha.to_ascii_lowercase(), hex(&Sha256::digest(&answer.body))),
            (_, Some(md5)) if !md5.is_empty() => {
                use md5::Digest as _;
                ("MD5", md5.to_ascii_lowercase(), hex(&md5::Md5::digest(&answer.body)))
            }
            _ => {
                return Err(format!(
                    "{} gives no checksum for {slug} {}: rehearsal does not use an archive it cannot check",
                    self.shown(),
                    release.version
                ))
            }
        };
        if expected != actual {
            return Err(format!(
                "the archive of {slug} {} from {} does not match its {kind} (expected {expected}, got {actual}): nothing was unpacked",
                release.version,
                redact(answer.url.as_str()),
            ));
        }
        std::fs::create_dir_all(&self.cache)
            .map_err(|e| format!("cannot create {}: {e}", self.cache.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".unpack-")
            .tempdir_in(&self.cache)
            .map_err(|e| e.to_string())?;
        unpack(&answer.body, tmp.path()).map_err(|e| {
            format!(
                "the archive of {slug} {} cannot be unpacked: {e}",
                release.version
            )
        })?;
        let kept = tmp.keep();
        if std::fs::rename(&kept, target).is_err() {
            // Unpacked by another run meanwhile: the same release.
            let _ = std::fs::remove_dir_all(&kept);
        }
        Ok(())
    }
}

/// Whether `want` allows `version`.
fn allows(want: &Want, version: &str) -> bool {
    match want {
        Want::Exact(v) => v == version,
        Want::Range(range) => super::metadata::satisfies(range, version).unwrap_or(false),
        Want::Newest => true,
    }
}

/// Unpacks a module's `.tar.gz` into `dir`, without its top directory
/// (`author-name-version/`): every path must stay inside, a link may only point inside,
/// and nothing but files, directories and such links is written.
pub fn unpack(archive: &[u8], dir: &Path) -> Result<(), String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    for entry in tar.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?.into_owned();
        let mut parts = path.components();
        // The top directory.
        match parts.next() {
            Some(Component::Normal(_)) => {}
            Some(Component::CurDir) => {
                parts.next();
            }
            _ => return Err(format!("`{}` is outside the module", path.display())),
        }
        let rel: PathBuf = parts.clone().collect();
        if rel.as_os_str().is_empty() {
            continue;
        }
        if !parts.all(|c| matches!(c, Component::Normal(_))) {
            return Err(format!("`{}` leads outside the module", path.display()));
        }
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name()
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the link `{}` has no target", path.display()))?
                .into_owned();
            let base = if kind.is_symlink() {
                rel.parent().map(Path::to_path_buf).unwrap_or_default()
            } else {
                PathBuf::new()
            };
            if !stays_inside(&base, &target) {
                return Err(format!(
                    "the link `{}` leads outside the module (to {})",
                    path.display(),
                    target.display()
                ));
            }
        } else if !(kind.is_file() || kind.is_dir()) {
            continue;
        }
        let dest = dir.join(&rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        entry
            .unpack(&dest)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Whether `target`, seen from the directory `base` (relative to the module), stays
/// inside the module.
fn stays_inside(base: &Path, target: &Path) -> bool {
    let mut depth = base.components().count() as isize;
    for part in target.components() {
        match part {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests;
