//! The mapping rules, on constructed modules: no git, and (but for the rules that look
//! for module directories) no file system. The root below does not exist.

use super::*;

const ROOT: &str = "/nonexistent/repo";

fn root() -> PathBuf {
    PathBuf::from(ROOT)
}

/// A module under test in `<root>/modules/<name>`, on every platform, with no links.
fn module(name: &str) -> Module {
    Module {
        dir: root().join("modules").join(name),
        name: name.to_string(),
        ..Module::default()
    }
}

fn depends_on(mut m: Module, deps: &[&str]) -> Module {
    m.dependencies = deps.iter().map(|d| d.to_string()).collect();
    m
}

fn changes(files: &[&str]) -> ChangedFiles {
    changes_at(&root(), files)
}

fn changes_at(root: &Path, files: &[&str]) -> ChangedFiles {
    ChangedFiles {
        root: root.to_path_buf(),
        rev: "main".into(),
        resolved: "main".into(),
        commit: "a".repeat(40),
        base: "a".repeat(40),
        files: files
            .iter()
            .map(|f| ChangedFile {
                path: PathBuf::from(f),
                change: Change::Modified,
            })
            .collect(),
    }
}

fn reasons(selection: &Selection, name: &str) -> Vec<String> {
    selection
        .modules
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is not selected:\n{}", selection.explain()))
        .reasons
        .iter()
        .map(Reason::to_string)
        .collect()
}

fn sample() -> Vec<Module> {
    let mut ntp = depends_on(module("ntpsettings"), &["confkit"]);
    ntp.fixtures = vec![root().join("modules/confkit")];
    vec![
        module("motd"),
        module("accounts"),
        module("confkit"),
        ntp,
        depends_on(module("roles"), &["ntpsettings"]),
    ]
}

#[test]
fn a_file_inside_a_module_selects_that_module() {
    let s = select(
        &changes(&["modules/motd/manifests/init.pp"]),
        &sample(),
        None,
    );
    assert_eq!(s.names(), ["motd"]);
    assert_eq!(reasons(&s, "motd"), ["changed: manifests/init.pp"]);
    assert_eq!(
        s.not_selected,
        ["accounts", "confkit", "ntpsettings", "roles"]
    );
    assert!(!s.everything());
    assert!(s.contains(&root().join("modules/motd")));
    assert!(!s.contains(&root().join("modules/accounts")));
}

#[test]
fn the_spec_and_its_test_data_belong_to_the_module() {
    let s = select(
        &changes(&[
            "modules/accounts/rehearsal.yaml",
            "modules/accounts/spec/fixtures/hiera/data/common.yaml",
        ]),
        &sample(),
        None,
    );
    assert_eq!(s.names(), ["accounts"]);
    assert_eq!(
        reasons(&s, "accounts"),
        [
            "changed: rehearsal.yaml",
            "changed: spec/fixtures/hiera/data/common.yaml"
        ]
    );
}

#[test]
fn dependants_are_selected_transitively_through_metadata_and_fixtures() {
    let s = select(
        &changes(&["modules/confkit/manifests/file.pp"]),
        &sample(),
        None,
    );
    assert_eq!(s.names(), ["confkit", "ntpsettings", "roles"]);
    assert_eq!(
        reasons(&s, "ntpsettings"),
        [
            "depends on confkit (metadata.json)",
            "depends on confkit (fixture ../confkit)"
        ]
    );
    assert_eq!(
        reasons(&s, "roles"),
        ["depends on ntpsettings (metadata.json)"]
    );
    // Upwards only: a change to the dependant does not select what it depends on.
    let s = select(
        &changes(&["modules/ntpsettings/manifests/init.pp"]),
        &sample(),
        None,
    );
    assert_eq!(s.names(), ["ntpsettings", "roles"]);
}

#[test]
fn dependency_names_match_the_metadata_name_or_the_directory() {
    // Metadata name `kit` in directory `confkit`: `acme-kit` and `acme/confkit` both match.
    let mut lib = module("confkit");
    lib.name = "kit".into();
    let by_name = depends_on(module("a"), &["kit"]);
    let by_dir = depends_on(module("b"), &["confkit"]);
    let neither = depends_on(module("c"), &["confkit2"]);
    let s = select(
        &changes(&["modules/confkit/manifests/init.pp"]),
        &[lib, by_name, by_dir, neither],
        None,
    );
    assert_eq!(s.names(), ["kit", "a", "b"]);
    assert_eq!(reasons(&s, "b"), ["depends on kit (metadata.json)"]);
}

#[test]
fn dependency_cycles_end() {
    let modules = [
        depends_on(module("a"), &["b"]),
        depends_on(module("b"), &["a"]),
        module("c"),
    ];
    let s = select(&changes(&["modules/a/manifests/init.pp"]), &modules, None);
    assert_eq!(s.names(), ["a", "b"]);
    assert_eq!(
        reasons(&s, "a"),
        ["changed: manifests/init.pp", "depends on b (metadata.json)"]
    );
}

#[test]
fn an_image_definition_selects_the_modules_on_its_platform() {
    let images = root().join("images");
    let mut only12 = module("only12");
    only12.platforms = Some(vec!["debian12".into()]);
    let mut only11 = module("only11");
    only11.platforms = Some(vec!["debian11".into()]);
    let every = module("every");
    let modules = [only12, only11, every];
    let s = select(
        &changes(&["images/debian12/platform.yaml"]),
        &modules,
        Some(&images),
    );
    assert_eq!(s.names(), ["only12", "every"]);
    assert_eq!(
        reasons(&s, "every"),
        ["platform debian12's image definition changed: images/debian12/platform.yaml"]
    );
    // A new platform runs the modules that run everywhere.
    let s = select(
        &changes(&["images/rocky9/Dockerfile"]),
        &modules,
        Some(&images),
    );
    assert_eq!(s.names(), ["every"]);
}

#[test]
fn a_platform_nobody_runs_on_selects_nothing_and_says_so() {
    let mut m = module("m");
    m.platforms = Some(vec!["debian12".into()]);
    let images = root().join("images");
    let s = select(
        &changes(&["images/debian11/Dockerfile"]),
        &[m],
        Some(&images),
    );
    assert!(s.is_empty());
    assert!(s.unattributed.is_empty());
    assert_eq!(
        s.quiet[0].1,
        "platform debian11's definition, and no module under test runs on it"
    );
}

#[test]
fn a_platform_change_does_not_reach_dependants_on_other_platforms() {
    let mut lib = module("lib");
    lib.platforms = Some(vec!["debian12".into()]);
    let mut user = depends_on(module("user"), &["lib"]);
    user.platforms = Some(vec!["debian11".into()]);
    let images = root().join("images");
    let s = select(
        &changes(&["images/debian12/platform.yaml"]),
        &[lib, user],
        Some(&images),
    );
    assert_eq!(s.names(), ["lib"]);
}

#[test]
fn image_files_are_unattributed_without_an_images_directory_or_outside_a_platform() {
    let modules = [module("a"), module("b")];
    let s = select(&changes(&["images/debian12/platform.yaml"]), &modules, None);
    assert!(s.everything());
    assert_eq!(s.names(), ["a", "b"]);
    let images = root().join("images");
    let s = select(&changes(&["images/build.sh"]), &modules, Some(&images));
    assert_eq!(s.unattributed[0].path, Path::new("images/build.sh"));
}

#[test]
fn shared_files_a_spec_uses_select_the_modules_using_them() {
    let mut web = module("web");
    web.uses = vec![
        Use {
            what: UseKind::HieraConfig,
            path: root().join("site/hiera/hiera.yaml"),
        },
        Use {
            what: UseKind::HieraData,
            path: root().join("site/hiera/data"),
        },
        Use {
            what: UseKind::ManifestFile,
            path: root().join("site/examples/web.pp"),
        },
        Use {
            what: UseKind::GossFile,
            path: root().join("site/goss/web.yaml"),
        },
        Use {
            what: UseKind::Puppetfile,
            path: root().join("control/Puppetfile"),
        },
    ];
    let mut db = module("db");
    db.uses = vec![Use {
        what: UseKind::HieraData,
        path: root().join("site/hiera/data"),
    }];
    let modules = [web, db, module("other")];
    let one = |file: &str| select(&changes(&[file]), &modules, None);

    let s = one("site/hiera/data/common.yaml");
    assert_eq!(s.names(), ["web", "db"]);
    assert_eq!(
        reasons(&s, "db"),
        ["uses hiera data site/hiera/data, where site/hiera/data/common.yaml changed"]
    );
    let s = one("site/hiera/hiera.yaml");
    assert_eq!(s.names(), ["web"]);
    assert_eq!(
        reasons(&s, "web"),
        ["uses hiera config site/hiera/hiera.yaml, which changed"]
    );
    assert_eq!(one("site/examples/web.pp").names(), ["web"]);
    assert_eq!(
        reasons(&one("site/goss/web.yaml"), "web"),
        ["uses goss file site/goss/web.yaml, which changed"]
    );
    assert_eq!(
        reasons(&one("control/Puppetfile"), "web"),
        ["uses Puppetfile control/Puppetfile, which changed"]
    );
    // Beside them, nothing uses it: the safe default.
    assert!(one("site/goss/other.yaml").everything());
}

#[test]
fn a_module_using_another_modules_data_is_selected_with_it() {
    let mut web = module("web");
    web.uses = vec![Use {
        what: UseKind::HieraData,
        path: root().join("modules/accounts/spec/fixtures/hiera/data"),
    }];
    let s = select(
        &changes(&["modules/accounts/spec/fixtures/hiera/data/common.yaml"]),
        &[module("accounts"), web],
        None,
    );
    assert_eq!(s.names(), ["accounts", "web"]);
}

#[test]
fn a_file_no_rule_attributes_selects_everything_and_is_named() {
    let s = select(
        &changes(&[
            "Jenkinsfile",
            "modules/motd/manifests/init.pp",
            "src/cli.rs",
        ]),
        &sample(),
        None,
    );
    assert!(s.everything());
    assert_eq!(s.not_selected, Vec::<String>::new());
    assert_eq!(s.modules.len(), 5);
    assert_eq!(
        reasons(&s, "motd"),
        [
            "changed: manifests/init.pp",
            "a change the harness cannot attribute selects every module: Jenkinsfile (and 1 more)"
        ]
    );
    let unattributed: Vec<&Path> = s.unattributed.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(
        unattributed,
        [Path::new("Jenkinsfile"), Path::new("src/cli.rs")]
    );
}

#[test]
fn files_of_a_deleted_module_are_unattributed() {
    // `modules/gone` is no longer on disk and has no spec: nothing says what it was.
    let mut files = changes(&["modules/gone/manifests/init.pp"]);
    files.files[0].change = Change::Deleted;
    let s = select(&files, &sample(), None);
    assert!(s.everything());
    assert!(s
        .explain()
        .contains("  modules/gone/manifests/init.pp (deleted)\n"));
}

#[test]
fn documentation_outside_modules_selects_nothing() {
    let s = select(
        &changes(&["README.md", "docs/guide.rst", "LICENSE", ".gitignore"]),
        &sample(),
        None,
    );
    assert!(s.is_empty());
    assert!(!s.everything());
    assert_eq!(s.quiet.len(), 4);
    assert_eq!(s.quiet[0].1, "documentation outside any module or platform");
    // Inside a module, documentation is the module's.
    let s = select(&changes(&["modules/motd/README.md"]), &sample(), None);
    assert_eq!(s.names(), ["motd"]);
    // Other text is not documentation.
    assert!(is_documentation(Path::new("NOTES.md")));
    assert!(!is_documentation(Path::new("notes.txt")));
    assert!(!is_documentation(Path::new("site/common.yaml")));
}

#[test]
fn a_fixture_that_is_not_under_test_selects_its_dependants() {
    let mut web = module("web");
    web.fixtures = vec![root().join("vendor/stdlib")];
    let s = select(
        &changes(&["vendor/stdlib/lib/puppet/functions/x.rb"]),
        &[web, module("other")],
        None,
    );
    assert_eq!(s.names(), ["web"]);
    assert_eq!(
        reasons(&s, "web"),
        ["depends on stdlib (fixture ../../vendor/stdlib)"]
    );
    assert_eq!(s.outside.len(), 1);
    assert_eq!(s.outside[0].dependants, ["web"]);
    assert_eq!(
        s.outside[0].files,
        [PathBuf::from("lib/puppet/functions/x.rb")]
    );
}

#[test]
fn a_module_not_under_test_selects_its_dependants_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    for dir in ["modules/stdlib/manifests", "modules/lonely/manifests"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    let web = Module {
        dir: root.join("modules/web"),
        name: "web".into(),
        dependencies: vec!["stdlib".into()],
        ..Module::default()
    };
    let other = Module {
        dir: root.join("modules/other"),
        name: "other".into(),
        ..Module::default()
    };
    let modules = [web, other];
    let s = select(
        &changes_at(&root, &["modules/stdlib/manifests/init.pp"]),
        &modules,
        None,
    );
    assert_eq!(s.names(), ["web"]);
    assert_eq!(reasons(&s, "web"), ["depends on stdlib (metadata.json)"]);
    // A submodule's path is the module's directory itself.
    let s = select(&changes_at(&root, &["modules/stdlib"]), &modules, None);
    assert_eq!(s.names(), ["web"]);

    let s = select(
        &changes_at(&root, &["modules/lonely/templates/x.epp"]),
        &modules,
        None,
    );
    assert!(s.is_empty());
    assert!(!s.everything());
    assert!(
        s.explain().contains(
            "  lonely (modules/lonely): templates/x.epp; no module under test depends on it, \
             so it selects nothing\n"
        ),
        "{}",
        s.explain()
    );
}

#[test]
fn renames_count_on_both_sides() {
    let mut files = changes(&[]);
    files.files = vec![
        ChangedFile {
            path: "modules/motd/manifests/banner.pp".into(),
            change: Change::RenamedFrom("modules/accounts/manifests/banner.pp".into()),
        },
        ChangedFile {
            path: "modules/accounts/manifests/banner.pp".into(),
            change: Change::RenamedTo("modules/motd/manifests/banner.pp".into()),
        },
    ];
    let s = select(&files, &sample(), None);
    assert_eq!(s.names(), ["motd", "accounts"]);
    assert_eq!(
        reasons(&s, "accounts"),
        ["changed: manifests/banner.pp (renamed to modules/motd/manifests/banner.pp)"]
    );
}

#[test]
fn the_explanation_has_a_line_per_module_and_names_every_file() {
    let mut files = changes(&[
        "modules/confkit/manifests/file.pp",
        "README.md",
        "harness/test",
    ]);
    files.resolved = "origin/main".into();
    files.base = "b".repeat(40);
    let mut modules = sample();
    modules.truncate(4);
    let s = select(&files, &modules, None);
    assert_eq!(
        s.explain(),
        "Changes since `main` (as `origin/main`), from its merge base with HEAD bbbbbbbbbbbb: 3 files.\n\
         Selected all 4 modules:\n\
         \x20 motd (modules/motd): a change the harness cannot attribute selects every module: harness/test\n\
         \x20 accounts (modules/accounts): a change the harness cannot attribute selects every module: harness/test\n\
         \x20 confkit (modules/confkit): changed: manifests/file.pp; a change the harness cannot attribute selects every module: harness/test\n\
         \x20 ntpsettings (modules/ntpsettings): depends on confkit (metadata.json); depends on confkit (fixture ../confkit); a change the harness cannot attribute selects every module: harness/test\n\
         Changed files that select nothing:\n\
         \x20 README.md: documentation outside any module or platform\n\
         Changed files the harness cannot attribute to a module (so every module is selected):\n\
         \x20 harness/test\n"
    );
}

#[test]
fn the_explanation_of_nothing_to_test() {
    let s = select(&changes(&[]), &sample(), None);
    assert!(s.is_empty());
    assert_eq!(
        s.explain(),
        "Changes since `main` at aaaaaaaaaaaa: 0 files.\n\
         Selected none of the 5 modules: nothing to test.\n\
         Not selected: motd, accounts, confkit, ntpsettings, roles\n"
    );
}

#[test]
fn hiera_data_directories_come_from_the_config() {
    let config = Path::new("/r/site/hiera.yaml");
    let paths = |text: &str| hiera_data_paths(config, text);
    assert_eq!(
        paths("version: 5\nhierarchy:\n  - name: common\n    path: common.yaml\n"),
        [PathBuf::from("/r/site/data")]
    );
    assert_eq!(
        paths(
            "version: 5\ndefaults: { datadir: hieradata }\nhierarchy:\n\
             \x20 - { name: role, path: 'roles/%{facts.role}.yaml' }\n\
             \x20 - { name: secrets, datadir: ../secrets, glob: '*.yaml' }\n\
             \x20 - { name: shared, paths: ['../../shared/common.yaml', 'x/%{facts.a}/../y.yaml'] }\n"
        ),
        [
            PathBuf::from("/r/site/hieradata"),
            PathBuf::from("/r/secrets"),
            PathBuf::from("/r/shared/common.yaml"),
        ]
    );
    // Not a config this can read: the whole directory stands for it.
    assert_eq!(paths(": not yaml ["), [PathBuf::from("/r/site")]);
    assert_eq!(paths("hierarchy: 3\n"), [PathBuf::from("/r/site")]);
}

#[test]
fn goss_files_are_read_from_the_cases() {
    let spec = "cases:\n  a:\n    manifest: x\n    goss: ../../site/goss.yaml\n  \
                b:\n    manifest: y\n    goss: [one.yaml, ../../site/goss.yaml]\n  \
                c:\n    manifest: z\n";
    assert_eq!(
        goss_paths(spec),
        [
            PathBuf::from("../../site/goss.yaml"),
            PathBuf::from("one.yaml")
        ]
    );
    assert!(goss_paths("not: [valid").is_empty());
}

#[test]
fn metadata_dependencies_are_short_names() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("metadata.json"),
        r#"{"name": "acme-web", "dependencies": [
            {"name": "puppetlabs-stdlib", "version_requirement": ">= 4"},
            {"name": "rehearsal/confkit"},
            {"version_requirement": "no name"}
        ]}"#,
    )
    .unwrap();
    assert_eq!(metadata_dependencies(tmp.path()), ["stdlib", "confkit"]);
    assert!(metadata_dependencies(&tmp.path().join("missing")).is_empty());
}

#[test]
fn a_module_is_read_from_its_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("modules/lib/manifests/init.pp", "class lib {}\n");
    write(
        "modules/web/metadata.json",
        r#"{"name": "acme-web", "dependencies": [{"name": "acme-lib"}]}"#,
    );
    write("site/hiera.yaml", "version: 5\n");
    write("site/data/common.yaml", "{}\n");
    write("modules/web/examples/web.pp", "include web\n");
    write(
        "modules/web/rehearsal.yaml",
        "platforms: [debian12]\nfixtures: [../lib]\nhiera:\n  config: ../../site/hiera.yaml\n\
         cases:\n  a:\n    manifest_file: examples/web.pp\n  b:\n    manifest: include web\n",
    );
    let spec = crate::spec::load(&root.join("modules/web/rehearsal.yaml")).unwrap();
    let module = Module::from_spec(&spec);
    assert_eq!(
        module,
        Module {
            dir: root.join("modules/web"),
            name: "web".into(),
            platforms: Some(vec!["debian12".into()]),
            dependencies: vec!["lib".into()],
            fixtures: vec![root.join("modules/lib")],
            uses: vec![
                Use {
                    what: UseKind::HieraConfig,
                    path: root.join("site/hiera.yaml")
                },
                Use {
                    what: UseKind::HieraData,
                    path: root.join("site/data")
                },
                Use {
                    what: UseKind::ManifestFile,
                    path: root.join("modules/web/examples/web.pp")
                },
            ],
        }
    );
}

#[test]
fn relative_paths_between_directories() {
    let rel = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
    assert_eq!(rel("/r/modules/a", "/r/modules/b"), Path::new("../b"));
    assert_eq!(
        rel("/r/modules/a", "/r/vendor/x"),
        Path::new("../../vendor/x")
    );
    assert_eq!(rel("/r/a", "/r/a/b"), Path::new("b"));
    assert_eq!(rel("/r/a", "/r/a"), Path::new("."));
}

#[test]
fn gerrit_jobs_compare_with_the_target_branch_or_the_old_revision() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(gerrit_base(env(&[])), None);
    assert_eq!(
        gerrit_base(env(&[
            ("GERRIT_EVENT_TYPE", "patchset-created"),
            ("GERRIT_BRANCH", "main")
        ])),
        Some("main".into())
    );
    assert_eq!(
        gerrit_base(env(&[
            ("GERRIT_EVENT_TYPE", "ref-updated"),
            ("GERRIT_BRANCH", "main"),
            ("GERRIT_OLDREV", "0123abcd")
        ])),
        Some("0123abcd".into())
    );
    // A new ref has no old revision: fall back on the branch.
    assert_eq!(
        gerrit_base(env(&[
            ("GERRIT_EVENT_TYPE", "ref-updated"),
            ("GERRIT_BRANCH", "main"),
            ("GERRIT_OLDREV", "0000000000000000000000000000000000000000")
        ])),
        Some("main".into())
    );
    assert_eq!(gerrit_base(env(&[("GERRIT_BRANCH", " ")])), None);
}

#[test]
fn what_a_site_baseline_reads_selects_the_modules_starting_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("site/profile/manifests/base.pp", "class profile::base {}\n");
    write("hiera/hiera.yaml", "version: 5\nhierarchy:\n  - name: common\n    path: common.yaml\ndefaults:\n  datadir: data\n");
    write("hiera/data/common.yaml", "{}\n");
    write("Puppetfile", "mod 'ntp', :local => true\n");
    write("modules/ntp/manifests/init.pp", "class ntp {}\n");
    write(
        crate::spec::site::SITE_FILE,
        "baseline:\n  manifest: include profile::base\n  modulepath: [site]\n  puppetfile: Puppetfile\n  hiera: { config: hiera/hiera.yaml }\n",
    );
    for (name, extra) in [("motd", ""), ("solo", "baseline: false\n")] {
        write(
            &format!("modules/{name}/manifests/init.pp"),
            &format!("class {name} {{}}\n"),
        );
        write(
            &format!("modules/{name}/rehearsal.yaml"),
            &format!("{extra}cases:\n  default:\n    manifest: include {name}\n"),
        );
    }
    let site = std::sync::Arc::new(
        crate::spec::site::load(&root.join(crate::spec::site::SITE_FILE)).unwrap(),
    );
    let fetchers = crate::deps::Fetchers::new(&root.join("cache"), String::new(), true);
    let site = std::sync::Arc::new(
        crate::deps::resolve_site(&site, &fetchers)
            .unwrap()
            .unwrap(),
    );
    let modules: Vec<Module> = ["motd", "solo"]
        .iter()
        .map(|name| {
            let mut spec =
                crate::spec::load(&root.join(format!("modules/{name}/rehearsal.yaml"))).unwrap();
            spec.site = Some(site.clone());
            Module::from_spec(&spec)
        })
        .collect();
    let one = |file: &str| select(&changes_at(&root, &[file]), &modules, None);

    let s = one("site/profile/manifests/base.pp");
    assert_eq!(s.names(), ["motd"], "{}", s.explain());
    assert_eq!(
        reasons(&s, "motd"),
        ["uses site baseline input site, where site/profile/manifests/base.pp changed"]
    );
    assert_eq!(one("hiera/data/common.yaml").names(), ["motd"]);
    assert_eq!(one("Puppetfile").names(), ["motd"]);
    // A module of the Puppetfile, `:local` beside it.
    assert_eq!(one("modules/ntp/manifests/init.pp").names(), ["motd"]);
}
