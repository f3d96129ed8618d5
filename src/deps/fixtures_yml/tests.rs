//! `.fixtures.yml` as real modules write it (the shapes of puppetlabs' and Vox Pupuli's
//! modules), and the bad ones at their line.

use std::path::{Path, PathBuf};

use super::*;

struct Module {
    dir: tempfile::TempDir,
}

impl Module {
    fn new() -> Module {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mymod/manifests")).unwrap();
        std::fs::create_dir_all(dir.path().join("stdlib/manifests")).unwrap();
        Module { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("mymod").canonicalize().unwrap()
    }

    fn read(&self, text: &str) -> Result<Vec<Entry>, SpecError> {
        self.read_with(text, &|name| {
            (name == "FORGE").then(|| "https://forge.example.com".into())
        })
    }

    fn read_with(
        &self,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<Entry>, SpecError> {
        let file = self.root().join(".fixtures.yml");
        parse(&file, text, &self.root(), "mymod", env)
    }

    fn error(&self, text: &str) -> String {
        let err = self.read(text).unwrap_err();
        format!("{}", err).replace(&format!("{}/", self.root().display()), "")
    }
}

fn git(url: &str, want: GitWant, subdir: Option<&str>) -> Kind {
    Kind::Git(GitSource {
        url: url.into(),
        want,
        subdir: subdir.map(str::to_string),
    })
}

#[test]
fn the_usual_shape_symlinks_repositories_and_forge_modules() {
    let m = Module::new();
    let entries = m
        .read(
            "---
fixtures:
  repositories:
    stdlib: 'https://github.com/puppetlabs/puppetlabs-stdlib.git'
    concat:
      repo: 'https://github.com/puppetlabs/puppetlabs-concat.git'
      ref: 'v7.1.0'
    systemd:
      repo: git@github.com:voxpupuli/puppet-systemd.git
      branch: master
    yumrepo_core:
      repo: https://github.com/puppetlabs/puppetlabs-yumrepo_core.git
      tag: 1.0.7
      subdir: lib
      flags: --depth 1
  forge_modules:
    translate: puppetlabs/translate
    inifile:
      repo: puppetlabs-inifile
      ref: 6.1.0
      flags: --module_repository=#{ENV['FORGE']}
  symlinks:
    mymod: '#{source_dir}'
    sibling: \"#{source_dir}/../stdlib\"
",
        )
        .unwrap();
    let sibling = m.dir.path().join("stdlib").canonicalize().unwrap();
    assert_eq!(
        entries,
        vec![
            Entry {
                name: "stdlib".into(),
                kind: git(
                    "https://github.com/puppetlabs/puppetlabs-stdlib.git",
                    GitWant::DefaultBranch,
                    None
                ),
                line: 4,
            },
            Entry {
                name: "concat".into(),
                kind: git(
                    "https://github.com/puppetlabs/puppetlabs-concat.git",
                    GitWant::Fixed("v7.1.0".into()),
                    None
                ),
                line: 5,
            },
            Entry {
                name: "systemd".into(),
                kind: git(
                    "git@github.com:voxpupuli/puppet-systemd.git",
                    GitWant::Branch("master".into()),
                    None
                ),
                line: 8,
            },
            Entry {
                name: "yumrepo_core".into(),
                kind: git(
                    "https://github.com/puppetlabs/puppetlabs-yumrepo_core.git",
                    GitWant::Fixed("1.0.7".into()),
                    Some("lib")
                ),
                line: 11,
            },
            Entry {
                name: "translate".into(),
                kind: Kind::Forge {
                    slug: "puppetlabs/translate".into(),
                    version: None,
                    forge: None
                },
                line: 17,
            },
            Entry {
                name: "inifile".into(),
                kind: Kind::Forge {
                    slug: "puppetlabs/inifile".into(),
                    version: Some("6.1.0".into()),
                    forge: Some("https://forge.example.com".into())
                },
                line: 18,
            },
            // `mymod: #{source_dir}` is the module itself: mounted as itself already.
            Entry {
                name: "sibling".into(),
                kind: Kind::Local(sibling),
                line: 24,
            },
        ]
    );
}

#[test]
fn defaults_apply_under_each_entry_and_a_ref_wins_over_its_branch() {
    let m = Module::new();
    let entries = m
        .read(
            "defaults:
  repositories:
    branch: main
fixtures:
  repositories:
    a: https://example.com/a.git
    b: { repo: https://example.com/b.git, ref: 1.0.0 }
",
        )
        .unwrap();
    assert_eq!(
        entries[0].kind,
        git(
            "https://example.com/a.git",
            GitWant::Branch("main".into()),
            None
        )
    );
    assert_eq!(
        entries[1].kind,
        git(
            "https://example.com/b.git",
            GitWant::Fixed("1.0.0".into()),
            None
        )
    );
}

#[test]
fn a_local_repository_path_is_made_absolute_against_the_module() {
    let m = Module::new();
    std::fs::create_dir_all(m.dir.path().join("vendor/x.git")).unwrap();
    let entries = m
        .read("fixtures:\n  repositories:\n    x: ../vendor/x.git\n")
        .unwrap();
    let abs = m.dir.path().join("vendor/x.git").canonicalize().unwrap();
    assert_eq!(
        entries[0].kind,
        git(&abs.display().to_string(), GitWant::DefaultBranch, None)
    );
}

#[test]
fn empty_files_and_empty_categories_declare_nothing() {
    let m = Module::new();
    assert_eq!(m.read("").unwrap(), vec![]);
    assert_eq!(m.read("fixtures:\n").unwrap(), vec![]);
    assert_eq!(
        m.read("fixtures:\n  repositories:\n  symlinks: ~\n")
            .unwrap(),
        vec![]
    );
}

#[test]
fn bad_files_are_refused_at_their_line_with_what_to_do() {
    let m = Module::new();
    let cases: &[(&str, &str)] = &[
        ("fixtures:\n  symlinks: [a\n", ".fixtures.yml:3:1: the fixtures file is not valid YAML"),
        ("fixture:\n  symlinks: {}\n", ".fixtures.yml:1:1: unknown key `fixture`"),
        ("defaults: {}\n", ".fixtures.yml:1:1: no `fixtures:` in the fixtures file"),
        ("fixtures: [a]\n", ".fixtures.yml:1:11: `fixtures` is a map of `symlinks`"),
        ("fixtures:\n  repos:\n    a: x\n", ".fixtures.yml:2:3: unknown kind of fixture `repos`"),
        (
            "fixtures:\n  repositories:\n    a:\n      repo: https://x/a.git\n      reff: v1\n",
            ".fixtures.yml:5:7: unknown option `reff` of fixture `a`",
        ),
        ("fixtures:\n  repositories:\n    a: [x]\n", ".fixtures.yml:3:8: fixture `a` is a string (its `repo`) or a map"),
        ("fixtures:\n  repositories:\n    a: { ref: v1 }\n", ".fixtures.yml:3:5: fixture `a` has no `repo`"),
        (
            "fixtures:\n  repositories:\n    a: { repo: 'https://x/a.git', ref: feature/x }\n",
            ".fixtures.yml:3:40: fixture `a`: the ref `feature/x` has a slash: if it is a branch, use `branch: feature/x`",
        ),
        (
            "fixtures:\n  repositories:\n    a: { repo: 'https://x/a', scm: hg }\n",
            ".fixtures.yml:3:36: fixture `a`: `scm: hg` is not supported",
        ),
        (
            "fixtures:\n  repositories:\n    a: { repo: 'https://x/a', flags: --recurse-submodules }\n",
            ".fixtures.yml:3:38: fixture `a`: rehearsal mirrors the repository and cannot pass `--recurse-submodules` to git",
        ),
        (
            "fixtures:\n  repositories:\n    a: { repo: 'https://x/a', puppet_version: '>= 7' }\n",
            ".fixtures.yml:3:47: `puppet_version` of fixture `a` (a fixture for some Puppet versions only) is not supported yet",
        ),
        ("fixtures:\n  symlinks:\n    gone: '#{source_dir}/../gone'\n", ".fixtures.yml:3:11: symlink fixture `gone`: `"),
        (
            "fixtures:\n  repositories:\n    a: \"#{ENV['UNSET_ONE']}/a.git\"\n",
            ".fixtures.yml:3:8: `#{ENV['UNSET_ONE']}/a.git` needs the environment variable UNSET_ONE, which is not set",
        ),
        (
            "fixtures:\n  repositories:\n    a: \"#{File.read('x')}\"\n",
            ".fixtures.yml:3:8: `#{File.read('x')}` in `#{File.read('x')}`: rehearsal reads `#{source_dir}` and `#{ENV['NAME']}` here",
        ),
        ("fixtures:\n  forge_modules:\n    a: justaname\n", ".fixtures.yml:3:8: forge fixture `a`: `justaname` is not a Forge module's `author/name`"),
        ("fixtures:\n  symlinks:\n    a: x\n  symlinks:\n    b: y\n", ".fixtures.yml:4:3:"),
    ];
    for (text, expected) in cases {
        let got = m.error(text);
        assert!(
            got.starts_with(expected),
            "for {text:?}\n  got: {got}\n want: {expected}"
        );
    }
}

#[test]
fn fixtures_yml_names_another_file_relative_to_the_module() {
    let m = Module::new();
    std::fs::write(m.root().join(".fixtures.yml"), "fixtures: {}\n").unwrap();
    std::fs::write(m.root().join("other.yml"), "fixtures: {}\n").unwrap();
    let env = |name: &str| (name == "FIXTURES_YML").then(|| "other.yml".to_string());
    assert_eq!(find(&m.root(), env), Some(m.root().join("other.yml")));
    assert_eq!(
        find(&m.root(), |_| None),
        Some(m.root().join(".fixtures.yml"))
    );
    std::fs::remove_file(m.root().join(".fixtures.yml")).unwrap();
    std::fs::write(m.root().join(".fixtures.yaml"), "fixtures: {}\n").unwrap();
    assert_eq!(
        find(&m.root(), |_| None),
        Some(m.root().join(".fixtures.yaml"))
    );
    let missing = load(Path::new("/nonexistent/x.yml"), &m.root(), "mymod", &|_| {
        None
    });
    assert!(missing.unwrap_err().message.contains("FIXTURES_YML"));
}
