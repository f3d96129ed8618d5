//! Puppetfiles in the shapes control repositories write them, and the Ruby that a
//! Puppetfile read as data refuses, at its line and column.

use super::*;

fn read(text: &str) -> Result<(tempfile::TempDir, Vec<Module>), String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("site/profile/manifests")).unwrap();
    std::fs::create_dir_all(dir.path().join("vendor/concat.git")).unwrap();
    let file = dir.path().canonicalize().unwrap().join("Puppetfile");
    match parse(&file, text) {
        Ok(modules) => Ok((dir, modules)),
        Err(err) => Err(format!(
            "{}:{}: {}",
            err.position.unwrap().0,
            err.position.unwrap().1,
            err.message
        )),
    }
}

#[test]
fn a_control_repositorys_puppetfile() {
    let (dir, modules) = read(
        "# Puppetfile
forge 'https://forge.example.com'
moduledir 'site'

mod 'puppetlabs/stdlib', '9.4.1'
mod 'puppetlabs-inifile', :latest
mod 'puppetlabs/apt'
mod 'apache',
  :git => 'https://git.example.com/puppet/apache.git',
  :tag => 'v12.0.0'
mod 'concat', git: 'vendor/concat.git', branch: 'main'   # the newer hash syntax
mod('ntp', :git => 'git@git.example.com:puppet/ntp.git', :commit => 'abc1234')
mod 'firewall', :git => 'https://git.example.com/fw.git', :default_branch => 'production'
mod 'profile', :local => true
",
    )
    .unwrap();
    let root = dir.path().canonicalize().unwrap();
    let forge = |slug: &str, version: Option<&str>| Kind::Forge {
        slug: slug.into(),
        version: version.map(str::to_string),
        forge: Some("https://forge.example.com".into()),
    };
    let git = |url: String, want: GitWant| {
        Kind::Git(GitSource {
            url,
            want,
            subdir: None,
        })
    };
    let got: Vec<(&str, &Kind, usize)> = modules
        .iter()
        .map(|m| (m.name.as_str(), &m.kind, m.line))
        .collect();
    assert_eq!(
        got,
        [
            ("stdlib", &forge("puppetlabs/stdlib", Some("9.4.1")), 5),
            ("inifile", &forge("puppetlabs/inifile", None), 6),
            ("apt", &forge("puppetlabs/apt", None), 7),
            (
                "apache",
                &git(
                    "https://git.example.com/puppet/apache.git".into(),
                    GitWant::Fixed("v12.0.0".into())
                ),
                8
            ),
            (
                "concat",
                &git(
                    root.join("vendor/concat.git").display().to_string(),
                    GitWant::Branch("main".into())
                ),
                11
            ),
            (
                "ntp",
                &git(
                    "git@git.example.com:puppet/ntp.git".into(),
                    GitWant::Fixed("abc1234".into())
                ),
                12
            ),
            (
                "firewall",
                &git(
                    "https://git.example.com/fw.git".into(),
                    GitWant::Branch("production".into())
                ),
                13
            ),
            ("profile", &Kind::Local(root.join("site/profile")), 14),
        ]
    );
}

#[test]
fn ruby_beyond_data_and_bad_statements_are_refused_where_they_stand() {
    let cases = [
        ("mod 'a/b', \"#{version}\"\n", "1:13: string interpolation"),
        (
            "version = '1.0'\n",
            "1:9: `=` is Ruby that a Puppetfile read as data cannot hold",
        ),
        ("mod 'a/b', '1' do\n", "1:16: a comma is missing"),
        (
            "modd 'a/b'\n",
            "1:1: `modd` is not a Puppetfile statement rehearsal reads",
        ),
        (
            "mod 'x', :git => 'https://h/x.git', :ref => 'v1', :branch => 'main'\n",
            "1:1: `mod 'x'`: `ref` and `branch` both say which revision",
        ),
        (
            "mod 'x', :svn => 'https://h/x'\n",
            "1:10: `mod 'x'`: rehearsal does not read `:svn`",
        ),
        (
            "mod 'x', :tag => 'v1'\n",
            "1:10: `mod 'x'`: `:tag` needs `:git`",
        ),
        (
            "mod 'justaname'\n",
            "1:1: `mod 'justaname'`: a Forge module is named `author/name`",
        ),
        (
            "mod 'gone', :local => true\n",
            "1:1: `mod 'gone', :local => true`:",
        ),
        ("mod :stdlib\n", "1:1: `mod` takes the module's name first"),
        ("forge\n", "1:1: `forge` takes one string"),
        (
            "mod 'a/b', 'open\n",
            "1:12: a string that does not end on its line",
        ),
    ];
    for (text, expected) in cases {
        let got = read(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} was read"));
        assert!(
            got.starts_with(expected),
            "for {text:?}\n  got: {got}\n want: {expected}"
        );
    }
}
