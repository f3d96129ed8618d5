//! The site configuration, `rehearsal-site.yaml`: what a whole Puppet tree shares. Its
//! `baseline` (the site's base role, with its modules, hiera data and facts) is applied
//! once per platform and snapshotted; every case of every module below the file starts
//! from that snapshot, as production nodes start from the base role.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::SpecError;
use super::raw::{self, ExistingPath, RawHiera, YamlMap};

/// The site file's name; the nearest one above a module applies to it.
pub const SITE_FILE: &str = "rehearsal-site.yaml";

/// How long each apply of a baseline may take, unless it says otherwise.
pub const DEFAULT_BASELINE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A site configuration, read from its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// The file, absolute.
    pub file: PathBuf,
    pub baseline: Option<Baseline>,
}

/// The code every case of the site starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Puppet code to apply (a file's contents are read when the snapshot is made).
    pub manifest: BaselineManifest,
    /// Directories of modules (Puppet's modulepath), absolute, in order.
    pub modulepath: Vec<PathBuf>,
    /// An r10k Puppetfile whose modules follow `modulepath` (as r10k's `moduledir` follows
    /// a control repository's `site`), absolute.
    pub puppetfile: Option<PathBuf>,
    /// The Puppetfile's modules, each a directory: empty until the `deps` stage resolves
    /// them.
    pub modules: Vec<super::model::Fixture>,
    /// The Hiera 5 config file, absolute; its datadir is relative to it.
    pub hiera_config: Option<PathBuf>,
    pub hiera_data: Map<String, Value>,
    pub facts: Map<String, Value>,
    /// Each apply of the baseline is bounded by this.
    pub timeout: Duration,
}

/// Where the baseline's code is.
#[derive(Debug, Clone, PartialEq)]
pub enum BaselineManifest {
    Inline(String),
    /// A file, absolute.
    File(PathBuf),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    baseline: Option<RawBaseline>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    manifest: Option<String>,
    manifest_file: Option<ExistingPath>,
    #[serde(default)]
    modulepath: Vec<ExistingPath>,
    puppetfile: Option<ExistingPath>,
    hiera: Option<RawHiera>,
    facts: Option<YamlMap>,
    #[serde(default, with = "crate::spec::check::humantime_serde_opt")]
    timeout: Option<Duration>,
}

/// The nearest site file in `dir` or above it.
pub fn find(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(SITE_FILE))
        .find(|file| file.is_file())
}

/// Reads and validates a site file.
pub fn load(file: &Path) -> Result<Site, SpecError> {
    let file = file
        .canonicalize()
        .map_err(|err| SpecError::whole_file(file, format!("cannot read the site file: {err}")))?;
    let source = super::read_source(&file, "site file")?;
    parse(&file, &source)
}

/// Parses a site file's text; relative paths resolve against its directory.
pub fn parse(file: &Path, source: &str) -> Result<Site, SpecError> {
    let dir = file.parent().unwrap_or(Path::new("/"));
    if source.trim().is_empty() {
        return Ok(Site {
            file: file.to_path_buf(),
            baseline: None,
        });
    }
    let raw: RawSite = raw::with_base(dir, || serde_yaml::from_str(source))
        .map_err(|err| SpecError::from_yaml(file, &err))?;
    let locate = |key: &str, message: String| SpecError {
        file: file.to_path_buf(),
        position: super::error::locate_key(source, key),
        message,
    };
    let Some(raw) = raw.baseline else {
        return Ok(Site {
            file: file.to_path_buf(),
            baseline: None,
        });
    };
    let manifest = match (raw.manifest, raw.manifest_file) {
        (Some(code), None) if !code.trim().is_empty() => BaselineManifest::Inline(code),
        (None, Some(path)) if path.resolved.is_file() => BaselineManifest::File(path.resolved),
        (None, Some(path)) => {
            return Err(locate(
                "manifest_file",
                format!("`{}` is not a file", path.written),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(locate(
                "manifest_file",
                "the baseline has both `manifest` and `manifest_file`: keep one".into(),
            ))
        }
        _ => {
            return Err(locate(
                "baseline",
                "the baseline has nothing to apply: add `manifest: <puppet code>` (like `include roles::base`) or `manifest_file: <path>`".into(),
            ))
        }
    };
    if let Some(dir) = raw.modulepath.iter().find(|p| !p.resolved.is_dir()) {
        return Err(locate(
            "modulepath",
            format!(
                "`{}` is not a directory: `modulepath` lists directories that hold modules",
                dir.written
            ),
        ));
    }
    if let Some(file) = raw.puppetfile.as_ref().filter(|p| !p.resolved.is_file()) {
        return Err(locate(
            "puppetfile",
            format!(
                "`{}` is not a file: `puppetfile` names an r10k Puppetfile",
                file.written
            ),
        ));
    }
    let hiera = raw.hiera.unwrap_or(RawHiera {
        config: None,
        data: None,
    });
    Ok(Site {
        file: file.to_path_buf(),
        baseline: Some(Baseline {
            manifest,
            modulepath: raw.modulepath.into_iter().map(|p| p.resolved).collect(),
            puppetfile: raw.puppetfile.map(|p| p.resolved),
            modules: Vec::new(),
            hiera_config: hiera.config.map(|p| p.resolved),
            hiera_data: hiera.data.map(|m| m.0).unwrap_or_default(),
            facts: raw.facts.map(|m| m.0).unwrap_or_default(),
            timeout: raw.timeout.unwrap_or(DEFAULT_BASELINE_TIMEOUT),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_in(dir: &Path, text: &str) -> Result<Site, SpecError> {
        let file = dir.join(SITE_FILE);
        std::fs::write(&file, text).unwrap();
        load(&file)
    }

    #[test]
    fn a_baseline_with_its_modulepath_hiera_and_facts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("site/roles/manifests")).unwrap();
        let site = site_in(
            dir.path(),
            "baseline:\n  manifest: include roles::base\n  modulepath: [site]\n  hiera:\n    data: { roles::base::motd: hi }\n  facts: { role: base }\n  timeout: 5m\n",
        )
        .unwrap();
        let baseline = site.baseline.unwrap();
        assert_eq!(
            baseline.manifest,
            BaselineManifest::Inline("include roles::base".into())
        );
        assert_eq!(
            baseline.modulepath,
            [dir.path().canonicalize().unwrap().join("site")]
        );
        assert_eq!(baseline.hiera_data["roles::base::motd"], "hi");
        assert_eq!(baseline.facts["role"], "base");
        assert_eq!(baseline.timeout, Duration::from_secs(300));
        assert_eq!(baseline.puppetfile, None);
    }

    #[test]
    fn a_baseline_puppetfile_is_a_file_beside_the_site_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Puppetfile"),
            "mod 'stdlib', :local => true\n",
        )
        .unwrap();
        let site = site_in(
            dir.path(),
            "baseline:\n  manifest: include roles::base\n  puppetfile: Puppetfile\n",
        )
        .unwrap();
        assert_eq!(
            site.baseline.unwrap().puppetfile,
            Some(dir.path().canonicalize().unwrap().join("Puppetfile"))
        );
        std::fs::create_dir(dir.path().join("pf")).unwrap();
        let err = site_in(
            dir.path(),
            "baseline:\n  manifest: include roles::base\n  puppetfile: pf\n",
        )
        .unwrap_err();
        assert_eq!(err.position, Some((3, 3)), "{err}");
        assert!(err.message.contains("`pf` is not a file"), "{err}");
    }

    #[test]
    fn an_empty_site_file_has_no_baseline() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            site_in(dir.path(), "# nothing yet\n").unwrap().baseline,
            None
        );
    }

    #[test]
    fn errors_are_located_and_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = site_in(dir.path(), "baseline:\n  manifests: include base\n").unwrap_err();
        assert_eq!(err.position, Some((2, 3)), "{err}");
        assert!(err.message.contains("unknown field `manifests`"), "{err}");

        let err = site_in(
            dir.path(),
            "baseline:\n  modulepath: [nowhere]\n  manifest: x\n",
        )
        .unwrap_err();
        assert!(err.message.contains("`nowhere` does not exist"), "{err}");

        let err = site_in(dir.path(), "baseline:\n  facts: {}\n").unwrap_err();
        assert_eq!(err.position, Some((1, 1)), "{err}");
        assert!(err.message.contains("nothing to apply"), "{err}");
    }

    #[test]
    fn the_nearest_site_file_above_a_module_applies() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("modules/motd");
        std::fs::create_dir_all(&module).unwrap();
        assert_eq!(find(&module), None);
        std::fs::write(dir.path().join(SITE_FILE), "").unwrap();
        assert_eq!(find(&module), Some(dir.path().join(SITE_FILE)));
        std::fs::write(dir.path().join("modules").join(SITE_FILE), "").unwrap();
        assert_eq!(
            find(&module),
            Some(dir.path().join("modules").join(SITE_FILE))
        );
    }
}
