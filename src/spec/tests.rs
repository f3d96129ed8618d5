//! Spec parsing and its errors, read as a user would meet them.

use std::path::PathBuf;

use super::*;
use crate::spec::GitWant;

struct Module {
    dir: tempfile::TempDir,
}

impl Module {
    fn new() -> Module {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
        std::fs::create_dir_all(dir.path().join("examples")).unwrap();
        std::fs::write(dir.path().join("examples/init.pp"), "include x\n").unwrap();
        std::fs::write(
            dir.path().join("metadata.json"),
            r#"{"name": "acme-webserver"}"#,
        )
        .unwrap();
        Module { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap().join(SPEC_FILE)
    }

    fn parse(&self, yaml: &str) -> Result<ModuleSpec, SpecError> {
        parse(&self.file(), yaml)
    }

    /// The error as printed, with the temporary directory cut off.
    fn error(&self, yaml: &str) -> String {
        let err = self.parse(yaml).expect_err("the spec should be refused");
        let text = err.to_string();
        text.replace(
            &format!("{}/", self.dir.path().canonicalize().unwrap().display()),
            "",
        )
    }
}

const FULL: &str = r#"
platforms: [debian12, debian13]
hiera:
  data: { webserver::port: 8080, webserver::name: web }
facts:
  role: web_frontend
  datacenter: { site: ams, rack: 12 }
prepare: |
  package { 'curl': ensure => installed }
timeouts: { apply: 2m }
cases:
  default:
    manifest: include webserver
    expect:
      - file: /etc/webserver/site.conf
        mode: "0644"
        contains: ["listen 8080", "/server_name\\s+example\\.com/"]
      - service: cron
        running: true
  port from hiera:
    hiera_data: { webserver::port: 9090 }
    facts: { datacenter: { rack: 3 } }
    manifest_file: examples/init.pp
    timeouts: { verify: 10s }
  rejects a bad port:
    manifest: "class { 'webserver': port => 'eighty' }"
    fails_with: /expects an Integer/
  one-shot:
    manifest: include webserver::migrate
    idempotent: false
"#;

#[test]
fn reads_the_documented_shape() {
    let m = Module::new();
    let spec = m.parse(FULL).unwrap();
    assert_eq!(spec.module_name, "webserver");
    assert_eq!(
        spec.platforms,
        Some(vec!["debian12".into(), "debian13".into()])
    );
    assert!(spec.prepare.as_deref().unwrap().contains("curl"));
    let names: Vec<_> = spec.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "default",
            "port from hiera",
            "rejects a bad port",
            "one-shot"
        ]
    );

    let default = &spec.cases[0];
    assert_eq!(default.expect.len(), 2);
    assert!(default.idempotent);
    assert_eq!(default.timeouts.apply, std::time::Duration::from_secs(120));

    let hiera = &spec.cases[1];
    assert_eq!(hiera.hiera_data["webserver::port"], 9090);
    assert_eq!(
        hiera.hiera_data["webserver::name"], "web",
        "spec-level data stays"
    );
    assert_eq!(
        hiera.facts["datacenter"]["site"], "ams",
        "facts merge deeply"
    );
    assert_eq!(hiera.facts["datacenter"]["rack"], 3);
    assert_eq!(hiera.manifest, Manifest::File("examples/init.pp".into()));
    assert_eq!(hiera.timeouts.verify, std::time::Duration::from_secs(10));

    assert!(spec.cases[2].fails_with.is_some());
    assert!(!spec.cases[3].idempotent);
}

#[test]
fn unknown_top_level_key_suggests_the_right_one() {
    let m = Module::new();
    // The list of keys grows with the format: its start and the hint are what matter.
    let err = m.error("platfroms: [debian12]\ncases: {}\n");
    assert!(
        err.starts_with(
            "rehearsal.yaml:1:1: unknown field `platfroms`, expected one of `platforms`, \
             `fixtures`, `hiera`, `facts`, `prepare`, "
        ),
        "{err}"
    );
    assert!(err.ends_with("(hint: did you mean `platforms`?)"), "{err}");
}

#[test]
fn unknown_case_key_is_located() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n    idempotnet: false\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:5: cases.a: unknown field `idempotnet`"),
        "{err}"
    );
    assert!(err.ends_with("(hint: did you mean `idempotent`?)"), "{err}");
}

#[test]
fn unknown_check_kind_is_located() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n    expect:\n      - fiel: /etc/motd\n");
    assert!(
        err.starts_with("rehearsal.yaml:5:9: cases.a.expect[0]: unknown kind `fiel`"),
        "{err}"
    );
    assert!(err.ends_with("(hint: did you mean `file`?)"), "{err}");
}

#[test]
fn wrong_type_is_located() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n    idempotent: sometimes\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:17: cases.a.idempotent: invalid type"),
        "{err}"
    );
}

#[test]
fn bad_regex_is_located_at_its_value() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n    fails_with: /a(b/\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:17: cases.a.fails_with: invalid regex /a(b/"),
        "{err}"
    );
}

#[test]
fn missing_manifest_file_is_located() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest_file: examples/nope.pp\n");
    assert!(
        err.starts_with(
            "rehearsal.yaml:3:20: cases.a.manifest_file: `examples/nope.pp` does not exist"
        ),
        "{err}"
    );
}

#[test]
fn missing_fixture_is_located() {
    let m = Module::new();
    let err = m.error("fixtures:\n  - ../nowhere\ncases:\n  a:\n    manifest: x\n");
    assert!(
        err.starts_with("rehearsal.yaml:2:5: fixtures[0]: `../nowhere` does not exist"),
        "{err}"
    );
}

#[test]
fn fixture_names_come_from_metadata() {
    let m = Module::new();
    let lib = m.dir.path().join("lib_mod");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("metadata.json"), r#"{"name": "acme/stdlib"}"#).unwrap();
    let spec = m
        .parse("fixtures:\n  - lib_mod\n  - { path: lib_mod, name: other }\ncases:\n  a:\n    manifest: x\n")
        .unwrap();
    let names: Vec<_> = spec.fixtures.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["stdlib", "other"]);
}

#[test]
fn case_without_manifest_points_at_the_case() {
    let m = Module::new();
    assert_eq!(
        m.error("cases:\n  first:\n    manifest: x\n  empty one:\n    idempotent: true\n"),
        "rehearsal.yaml:4:3: case `empty one` has nothing to apply: add `manifest: <puppet code>` \
         or `manifest_file: <path>`"
    );
}

#[test]
fn duplicate_case_names_are_refused_at_the_second() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n  a:\n    manifest: y\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:3: cases: duplicate case name `a`"),
        "{err}"
    );
}

#[test]
fn no_cases_is_refused() {
    let m = Module::new();
    assert!(m.error("cases: {}\n").contains("the spec has no cases"));
    assert!(m
        .error("platforms: [debian12]\n")
        .contains("the spec has no cases"));
    assert!(m.error("  \n").contains("the spec is empty"));
}

#[test]
fn malformed_yaml_is_located() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: 'unterminated\n");
    assert!(err.starts_with("rehearsal.yaml:4:1:"), "{err}");
    assert!(err.contains("quoted scalar"), "{err}");
}

#[test]
fn facts_must_be_a_map() {
    let m = Module::new();
    let err = m.error("facts: [role, web]\ncases:\n  a:\n    manifest: x\n");
    assert!(
        err.starts_with(
            "rehearsal.yaml:1:8: facts: invalid type: sequence, expected a map of names to values"
        ),
        "{err}"
    );
}

#[test]
fn git_fixtures_are_declared_for_deps_to_fetch() {
    let m = Module::new();
    let spec = m
        .parse(
            "fixtures:\n  - { git: 'https://git.example.com/team/puppet-concat.git', tag: v7.1.0 }\n  - { git: 'git@git.example.com:team/tools.git', branch: main, subdir: modules/ini, name: inifile }\n  - git: 'ssh://git.example.com/x/stdlib.git'\ncases:\n  a:\n    manifest: x\n",
        )
        .unwrap();
    let pending: Vec<(&str, &GitWant, Option<&str>, Option<usize>)> = spec
        .pending
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                &p.git.want,
                p.git.subdir.as_deref(),
                p.line,
            )
        })
        .collect();
    assert_eq!(
        pending,
        [
            ("concat", &GitWant::Fixed("v7.1.0".into()), None, Some(2)),
            (
                "inifile",
                &GitWant::Branch("main".into()),
                Some("modules/ini"),
                Some(3)
            ),
            ("stdlib", &GitWant::DefaultBranch, None, Some(4)),
        ]
    );
    assert!(spec.fixtures.is_empty());
}

#[test]
fn bad_git_fixtures_say_what_to_do() {
    let m = Module::new();
    let cases = [
        (
            "fixtures:\n  - { git: x.git, ref: v1 }\ncases:\n  a:\n    manifest: x\n",
            "`x.git` is neither a URL nor a repository here",
        ),
        (
            "fixtures:\n  - { git: 'https://h/x.git', ref: v1, branch: main }\ncases:\n  a:\n    manifest: x\n",
            "`ref` and `branch` both say which revision: keep one",
        ),
        (
            "fixtures:\n  - { path: ., git: 'https://h/x.git' }\ncases:\n  a:\n    manifest: x\n",
            "a fixture is a `path` or a `git` repository, not both",
        ),
        (
            "fixtures:\n  - { path: ., ref: v1 }\ncases:\n  a:\n    manifest: x\n",
            "`ref` is for a `git` fixture",
        ),
    ];
    for (yaml, expected) in cases {
        let err = m.error(yaml);
        assert!(err.starts_with("rehearsal.yaml:2:"), "{err}");
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn non_utf8_file_is_located() {
    let m = Module::new();
    std::fs::write(m.file(), b"cases:\n  a:\n    manifest: \"\xff\"\n").unwrap();
    let err = load(&m.file()).unwrap_err();
    assert_eq!(err.position, Some((3, 16)));
    assert!(err.message.contains("not valid UTF-8"));
}

#[test]
fn alias_bomb_is_refused_not_expanded() {
    let m = Module::new();
    // Nine levels of nine aliases each: 387 million strings if expanded.
    let mut yaml = String::from("facts:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = format!("*l{}", level - 1);
        let refs = [prev.as_str(); 9].join(", ");
        yaml.push_str(&format!("  l{level}: &l{level} [{refs}]\n"));
    }
    yaml.push_str("cases:\n  a:\n    manifest: x\n");
    let err = m.parse(&yaml).expect_err("an alias bomb must be refused");
    assert!(
        err.message
            .starts_with("the spec's aliases (`*name`) stand for more than 100000 values"),
        "{err}"
    );
    assert_eq!(
        err.position,
        Some((7, 12)),
        "the first alias past the limit"
    );
}

#[test]
fn discovers_specs_and_skips_fixture_copies() {
    let root = tempfile::tempdir().unwrap();
    for dir in ["a", "b/c", "b/c/spec/fixtures/modules/copy", ".git/x"] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
        std::fs::write(root.path().join(dir).join(SPEC_FILE), "cases: {}").unwrap();
    }
    let found = discover(&[root.path().to_path_buf()]).unwrap();
    let rel: Vec<_> = found
        .iter()
        .map(|p| {
            p.strip_prefix(root.path().canonicalize().unwrap())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(rel, ["a/rehearsal.yaml", "b/c/rehearsal.yaml"]);
    assert!(discover(&[root.path().join("missing")])
        .unwrap_err()
        .to_string()
        .contains("does not exist"));
}

const GOSS: &str =
    "package:\n  nginx:\n    installed: true\nservice:\n  nginx:\n    running: true\n";

fn kinds(case: &Case) -> Vec<String> {
    case.expect.iter().map(|c| c.to_string()).collect()
}

#[test]
fn goss_checks_follow_the_case_expect() {
    let m = Module::new();
    std::fs::create_dir_all(m.dir.path().join("spec")).unwrap();
    std::fs::write(m.dir.path().join("spec/goss.yaml"), GOSS).unwrap();
    std::fs::write(m.dir.path().join("extra.yaml"), "file:\n  /etc/issue: {}\n").unwrap();
    let spec = m
        .parse(
            "cases:\n  a:\n    manifest: include webserver\n    expect:\n      - file: /etc/motd\n    \
             goss: spec/goss.yaml\n  b:\n    manifest: x\n    goss: [extra.yaml, spec/goss.yaml]\n",
        )
        .unwrap();
    assert_eq!(
        kinds(&spec.cases[0]),
        ["file /etc/motd", "package nginx", "service nginx"]
    );
    assert_eq!(
        kinds(&spec.cases[1]),
        ["file /etc/issue", "package nginx", "service nginx"]
    );
}

#[test]
fn a_case_with_only_goss_loads_through_load() {
    let m = Module::new();
    std::fs::write(m.dir.path().join("goss.yaml"), GOSS).unwrap();
    std::fs::write(
        m.file(),
        "cases:\n  default:\n    manifest: include webserver\n    goss: goss.yaml\n",
    )
    .unwrap();
    let spec = load(&m.file()).unwrap();
    assert_eq!(kinds(&spec.cases[0]), ["package nginx", "service nginx"]);
}

#[test]
fn missing_goss_file_is_located_at_its_key() {
    let m = Module::new();
    let err = m.error("cases:\n  a:\n    manifest: x\n    goss: spec/goss.yaml\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:11: cases.a.goss: `spec/goss.yaml` does not exist"),
        "{err}"
    );
    std::fs::write(m.dir.path().join("goss.yaml"), GOSS).unwrap();
    let err =
        m.error("cases:\n  a:\n    manifest: x\n    goss:\n      - goss.yaml\n      - nope.yaml\n");
    assert!(
        err.starts_with("rehearsal.yaml:6:9: cases.a.goss[1]: `nope.yaml` does not exist"),
        "{err}"
    );
    let err = m.error("cases:\n  a:\n    manifest: x\n    goss: examples\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:11: cases.a.goss: `examples` is not a file"),
        "{err}"
    );
}

#[test]
fn errors_in_a_goss_file_name_the_goss_file() {
    let m = Module::new();
    std::fs::write(
        m.dir.path().join("goss.yaml"),
        "file:\n  /etc/motd:\n    exists: true\ndns:\n  localhost: {resolvable: true}\n",
    )
    .unwrap();
    let err = m.error("cases:\n  a:\n    manifest: x\n    goss: goss.yaml\n");
    assert!(
        err.starts_with("goss.yaml:4:1: goss resource type `dns` is not supported by rehearsal"),
        "{err}"
    );
    std::fs::write(m.dir.path().join("goss.yaml"), b"file:\n  /etc/\xff: {}\n").unwrap();
    std::fs::write(
        m.file(),
        "cases:\n  a:\n    manifest: x\n    goss: goss.yaml\n",
    )
    .unwrap();
    let err = load(&m.file()).unwrap_err();
    assert_eq!(err.position, Some((2, 8)));
    assert!(err.file.ends_with("goss.yaml"));
    assert_eq!(
        err.message,
        "the goss file is not valid UTF-8: save it as UTF-8"
    );
}

#[test]
fn exemptions_and_strict_are_read_at_both_levels_the_cases_winning() {
    let m = Module::new();
    let spec = m
        .parse(
            "strict: false\nidempotent: { except: { 'Exec[apt-update]': 'refreshes the index' } }\n\
             cases:\n  plain:\n    manifest: x\n  own:\n    manifest: x\n    strict: true\n    \
             idempotent:\n      except:\n        Exec[stamp]: stamps the time by design\n  \
             off:\n    manifest: x\n    idempotent: false\n",
        )
        .unwrap();
    let [plain, own, off] = &spec.cases[..] else {
        panic!("three cases")
    };
    assert!(!plain.strict && own.strict);
    assert!(plain.idempotent && own.idempotent && !off.idempotent);
    assert_eq!(
        plain.idempotent_except.keys().collect::<Vec<_>>(),
        ["Exec[apt-update]"]
    );
    assert_eq!(
        own.idempotent_except.keys().collect::<Vec<_>>(),
        ["Exec[apt-update]", "Exec[stamp]"]
    );
    assert_eq!(
        own.idempotent_except["Exec[stamp]"],
        "stamps the time by design"
    );
    assert!(
        Module::new()
            .parse("cases:\n  a:\n    manifest: x\n")
            .unwrap()
            .cases[0]
            .strict
    );
}

#[test]
fn a_bad_exemption_is_refused_at_its_line() {
    let m = Module::new();
    let err =
        m.error("cases:\n  a:\n    manifest: x\n    idempotent: { except: { stamp: why } }\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:17: cases.a.idempotent:"),
        "{err}"
    );
    assert!(err.contains("`stamp` is not a resource"), "{err}");
    let err =
        m.error("cases:\n  a:\n    manifest: x\n    idempotent: { except: { 'Exec[a]': '' } }\n");
    assert!(err.contains("`Exec[a]` needs a reason"), "{err}");
    let err = m.error("cases:\n  a:\n    manifest: x\n    idempotent: { skip: {} }\n");
    assert!(err.contains("unknown field `skip`"), "{err}");
}

#[test]
fn retries_and_compile_are_read_at_both_levels_the_cases_winning() {
    let m = Module::new();
    let spec = m
        .parse(
            "retries: 2\ncompile: false\ncases:\n  plain:\n    manifest: x\n  own:\n    \
             manifest: x\n    retries: 0\n    compile: true\n",
        )
        .unwrap();
    let [plain, own] = &spec.cases[..] else {
        panic!("two cases")
    };
    assert_eq!((plain.retries, plain.compile), (Some(2), false));
    assert_eq!((own.retries, own.compile), (Some(0), true));
    let default = &Module::new()
        .parse("cases:\n  a:\n    manifest: x\n")
        .unwrap()
        .cases[0];
    assert_eq!((default.retries, default.compile), (None, true));
}

#[test]
fn too_many_retries_are_refused_at_their_line() {
    let err = Module::new().error("cases:\n  a:\n    manifest: x\n    retries: 9\n");
    assert!(
        err.starts_with("rehearsal.yaml:4:14: cases.a.retries: 9 retries is more than 5"),
        "{err}"
    );
    let err = Module::new().error("retries: many\ncases:\n  a:\n    manifest: x\n");
    assert!(err.starts_with("rehearsal.yaml:1:10: retries:"), "{err}");
}
