//! How a spec's fixtures and its `.fixtures.yml` merge (the spec's own win), and what is
//! refused before anything is fetched.

use std::path::Path;

use super::*;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A tree with `web` (under test), `stdlib` and `other_stdlib`; `web`'s spec and
/// `.fixtures.yml` as given.
fn tree(spec: &str, fixtures_yml: &str) -> (tempfile::TempDir, ModuleSpec) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for module in ["web", "stdlib", "other_stdlib", "concat"] {
        write(&root.join(module).join("manifests/init.pp"), "");
    }
    write(&root.join("web/rehearsal.yaml"), spec);
    write(&root.join("web/.fixtures.yml"), fixtures_yml);
    let spec = crate::spec::load(&root.join("web/rehearsal.yaml")).unwrap();
    (dir, spec)
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn the_specs_own_fixtures_win_and_the_rest_of_fixtures_yml_follows() {
    let (dir, spec) = tree(
        "fixtures:\n  - { path: ../other_stdlib, name: stdlib }\ncases:\n  a:\n    manifest: include web\n",
        "fixtures:\n  symlinks:\n    web: '#{source_dir}'\n    stdlib: '#{source_dir}/../stdlib'\n    concat: '#{source_dir}/../concat'\n",
    );
    let root = dir.path().canonicalize().unwrap();
    let fetchers = Fetchers::new(&root.join("cache"), forge::PUBLIC.into(), true);
    let fixtures = resolve(&spec, &fetchers, &no_env).unwrap();
    let got: Vec<(&str, &Path, Option<usize>)> = fixtures
        .iter()
        .map(|f| (f.name.as_str(), f.path.as_path(), f.origin.line))
        .collect();
    assert_eq!(
        got,
        [
            ("stdlib", root.join("other_stdlib").as_path(), Some(2)),
            ("concat", root.join("concat").as_path(), Some(5)),
        ]
    );
    assert_eq!(
        fixtures[1].origin.declared_in,
        root.join("web/.fixtures.yml")
    );
    let explained = explain(&ModuleSpec { fixtures, ..spec });
    assert!(
        explained.contains(&format!(
            "  concat: {}; declared at {}:5\n",
            root.join("concat").display(),
            root.join("web/.fixtures.yml").display()
        )),
        "{explained}"
    );
}

#[test]
fn forge_fixtures_come_at_their_version_else_in_the_range_metadata_json_gives() {
    let server = forge::tests::Server::start();
    let (dir, spec) = tree(
        "cases:\n  a:\n    manifest: include web\n",
        "fixtures:\n  forge_modules:\n    dep: test/dep\n    pinned: { repo: test-dep, ref: 1.0.0 }\n",
    );
    write(
        &spec.module_dir.join("metadata.json"),
        r#"{"name": "me-web", "version": "0.1.0", "dependencies": [{"name": "test-dep", "version_requirement": ">= 1.0.0 < 1.5.0"}]}"#,
    );
    let fetchers = Fetchers::new(&dir.path().join("cache"), server.base.clone(), false);
    let fixtures = resolve(&spec, &fetchers, &no_env).unwrap();
    let got: Vec<(&str, &Source, Option<usize>)> = fixtures
        .iter()
        .map(|f| (f.name.as_str(), &f.origin.source, f.origin.line))
        .collect();
    let forge = |asked: &str, version: &str| Source::Forge {
        slug: "test/dep".into(),
        forge: server.base.clone(),
        asked: asked.into(),
        version: version.into(),
    };
    assert_eq!(
        got,
        [
            (
                "dep",
                &forge("the newest in >= 1.0.0 < 1.5.0", "1.2.0"),
                Some(3)
            ),
            ("pinned", &forge("1.0.0", "1.0.0"), Some(4)),
        ]
    );
    assert!(fixtures[0].path.join("manifests/init.pp").is_file());
    let explained = explain(&ModuleSpec {
        fixtures,
        ..spec.clone()
    });
    assert!(
        explained.contains(&format!(
            "  dep: test/dep 1.2.0 from {} (the newest in >= 1.0.0 < 1.5.0 asked for)",
            server.base
        )),
        "{explained}"
    );

    // A Forge that cannot be reached is the fixture's fetch error, at its line.
    let down = Fetchers::new(
        &dir.path().join("other"),
        "http://127.0.0.1:9".into(),
        false,
    );
    match resolve(&spec, &down, &no_env) {
        Err(err @ DepsError::Fetch { .. }) => assert!(
            err.to_string().contains(
                ".fixtures.yml:3: fixture `dep`: cannot reach http://127.0.0.1:9/v3/releases?module=test-dep"
            ),
            "{err}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_cache_is_the_users_own_unless_rehearsal_cache_says() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(
        cache_dir(env(&[("REHEARSAL_CACHE", "/c"), ("HOME", "/h")])),
        Path::new("/c")
    );
    assert_eq!(
        cache_dir(env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
        Path::new("/x/rehearsal")
    );
    assert_eq!(
        cache_dir(env(&[("HOME", "/h")])),
        Path::new("/h/.cache/rehearsal")
    );
}

#[test]
fn a_puppetfiles_modules_come_after_the_specs_own_and_before_fixtures_yml() {
    let (dir, _) = tree("cases:\n  a:\n    manifest: x\n", "");
    let root = dir.path().canonicalize().unwrap();
    write(
        &root.join("Puppetfile"),
        "moduledir '.'\nmod 'stdlib', :local => true\nmod 'concat', :local => true\n",
    );
    write(
        &root.join("web/rehearsal.yaml"),
        "fixtures:\n  - { path: ../other_stdlib, name: stdlib }\n  - { puppetfile: ../Puppetfile }\ncases:\n  a:\n    manifest: include web\n",
    );
    write(
        &root.join("web/.fixtures.yml"),
        "fixtures:\n  symlinks:\n    concat: '#{source_dir}/../other_stdlib'\n",
    );
    let spec = crate::spec::load(&root.join("web/rehearsal.yaml")).unwrap();
    assert_eq!(spec.puppetfiles, [(root.join("Puppetfile"), 3)]);
    let fetchers = Fetchers::new(&root.join("cache"), forge::PUBLIC.into(), true);
    let fixtures = resolve(&spec, &fetchers, &no_env).unwrap();
    let got: Vec<(&str, &Path, &Path, Option<usize>)> = fixtures
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.path.as_path(),
                f.origin.declared_in.as_path(),
                f.origin.line,
            )
        })
        .collect();
    let spec_file = root.join("web/rehearsal.yaml");
    let puppetfile = root.join("Puppetfile");
    assert_eq!(
        got,
        [
            (
                "stdlib",
                root.join("other_stdlib").as_path(),
                spec_file.as_path(),
                Some(2)
            ),
            (
                "concat",
                root.join("concat").as_path(),
                puppetfile.as_path(),
                Some(3)
            ),
        ]
    );
    write(&root.join("Puppetfile"), "mod 'x', $version\n");
    match resolve(&spec, &fetchers, &no_env) {
        Err(DepsError::Bad(err)) => assert!(
            err.to_string().ends_with(
                "Puppetfile:1:10: `$` is Ruby that a Puppetfile read as data cannot hold: only `forge`, `moduledir` and `mod` with strings, symbols and `key => value` (the Puppetfile named at line 3 of the spec)"
            ),
            "{err}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_site_baselines_puppetfile_resolves_once_into_its_modules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let upstream = root.join("upstream/ntp");
    write(&upstream.join("manifests/init.pp"), "class ntp {}\n");
    let sh = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"])
            .arg(&upstream)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    sh(&["init", "-q"]);
    sh(&["add", "."]);
    sh(&["commit", "-qm", "ntp"]);
    sh(&["tag", "v1"]);
    write(
        &root.join("modules/stdlib/manifests/init.pp"),
        "class stdlib {}\n",
    );
    write(
        &root.join("Puppetfile"),
        &format!(
            "mod 'ntp', :git => 'file://{}', :tag => 'v1'\nmod 'stdlib', :local => true\n",
            upstream.display()
        ),
    );
    write(
        &root.join(crate::spec::site::SITE_FILE),
        "baseline:\n  manifest: include ntp\n  puppetfile: Puppetfile\n",
    );
    let site = crate::spec::site::load(&root.join(crate::spec::site::SITE_FILE)).unwrap();
    let fetchers = Fetchers::new(&root.join("cache"), forge::PUBLIC.into(), false);
    let resolved = resolve_site(&site, &fetchers).unwrap().unwrap();
    let modules = &resolved.baseline.as_ref().unwrap().modules;
    let names: Vec<&str> = modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ntp", "stdlib"]);
    assert!(modules[0]
        .path
        .starts_with(root.join("cache/git/checkouts")));
    assert!(modules[0].path.join("manifests/init.pp").is_file());
    assert!(
        matches!(&modules[0].origin.source, Source::Git { want: crate::spec::GitWant::Fixed(tag), .. } if tag == "v1"),
        "{:?}",
        modules[0].origin
    );
    assert_eq!(modules[1].path, root.join("modules/stdlib"));

    // A site with no Puppetfile has nothing to resolve; a bad one names the site file.
    write(
        &root.join(crate::spec::site::SITE_FILE),
        "baseline:\n  manifest: include ntp\n",
    );
    let plain = crate::spec::site::load(&root.join(crate::spec::site::SITE_FILE)).unwrap();
    assert!(resolve_site(&plain, &fetchers).unwrap().is_none());
    write(&root.join("Puppetfile"), "mod 'ntp', :git => ENV['X']\n");
    match resolve_site(&site, &fetchers) {
        Err(DepsError::Bad(err)) => assert!(
            err.to_string()
                .contains("(the site baseline's Puppetfile, named in "),
            "{err}"
        ),
        other => panic!("{other:?}"),
    }
}
