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
    let git = git::Git::new(root.join("cache"), true);
    let fixtures = resolve(&spec, &git, &no_env).unwrap();
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
fn a_forge_fixture_is_refused_at_its_line_before_anything_is_fetched() {
    let (dir, spec) = tree(
        "cases:\n  a:\n    manifest: include web\n",
        "fixtures:\n  forge_modules:\n    stdlib: puppetlabs/stdlib\n",
    );
    let git = git::Git::new(dir.path().join("cache"), false);
    match resolve(&spec, &git, &no_env) {
        Err(DepsError::Bad(err)) => {
            assert_eq!(err.position, Some((3, 1)));
            assert!(
                err.message
                    .contains("modules from the Forge are not supported yet"),
                "{err}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!dir.path().join("cache").exists(), "nothing was fetched");
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
