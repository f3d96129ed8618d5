use std::path::Path;

use super::*;

/// A module directory `name` in a temp dir (removed on drop): `files` are (path,
/// content) pairs.
struct TempModule {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl TempModule {
    fn path(&self) -> &Path {
        &self.root
    }
}

fn module(name: &str, files: &[(&str, &str)]) -> TempModule {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(name);
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    TempModule { _dir: dir, root }
}

/// The spec written for the module, parsed back by the crate's own parser.
fn spec_of(dir: &Path) -> (Scaffold, crate::spec::ModuleSpec) {
    let scaffold = scaffold(dir).unwrap();
    let spec = crate::spec::parse(&dir.join("rehearsal.yaml"), &scaffold.yaml)
        .unwrap_or_else(|err| panic!("{err}\n{}", scaffold.yaml));
    (scaffold, spec)
}

fn labels(spec: &crate::spec::ModuleSpec, case: &str) -> Vec<String> {
    let case = spec.cases.iter().find(|c| c.name == case).unwrap();
    case.expect
        .iter()
        .map(|c| format!("{} {}", c.kind(), c.subject()))
        .collect()
}

const WEB: &str = r#"# @summary A web server. { not a brace }
class web (
  Integer $port = 8080,              # a default
  String $banner = "}${facts['os']['name']}{",
  Boolean $manage_user = true,
) {
  include web::install
  contain web::service

  /* a comment with a resource in it: file { '/etc/commented': ensure => file } */
  file { '/etc/web':
    ensure => directory,
    owner  => 'root',
    mode   => '0755',
  }
  file { '/etc/web/web.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0640',
    content => @("CONF")
      listen ${port}
      }
      | CONF
  }
  file { "/etc/web/${port}.conf": ensure => file }
  if $manage_user {
    user { 'web': ensure => present }
  }
  $sites = ['a', 'b']
  $sites.each |$s| { file { "/srv/${s}": ensure => directory } }
}
"#;

const INSTALL: &str = r#"class web::install {
  assert_private()
  package { ['nginx-light', 'curl']: ensure => installed }
  package { 'apache2': ensure => absent }
}
"#;

const SERVICE: &str = r#"class web::service (
  Enum['running', 'stopped'] $ensure = 'running',
) {
  service { 'nginx':
    ensure => $ensure,
    enable => true,
  }
}
"#;

const VHOST: &str = r#"define web::vhost (String $docroot) {
  file { $docroot: ensure => directory }
  file { '/etc/web/sites': ensure => directory }
}
class web::site (
  String $servername,
  String $docroot = '/srv/www',
) {
  web::vhost { $servername: docroot => $docroot }
}
"#;

#[test]
fn a_case_per_includable_class_with_its_unconditional_resources() {
    let dir = module(
        "web",
        &[
            (
                "metadata.json",
                r#"{"name": "acme-web", "dependencies": []}"#,
            ),
            ("manifests/init.pp", WEB),
            ("manifests/install.pp", INSTALL),
            ("manifests/service.pp", SERVICE),
            ("manifests/site.pp", VHOST),
        ],
    );
    let (scaffold, spec) = spec_of(dir.path());
    let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["web", "web::service"], "{}", scaffold.yaml);
    assert_eq!(
        labels(&spec, "web"),
        [
            "file /etc/web",
            "file /etc/web/web.conf",
            "package nginx-light",
            "package curl",
            "package apache2",
            "service nginx",
        ]
    );
    assert_eq!(labels(&spec, "web::service"), ["service nginx"]);
    let yaml = &scaffold.yaml;
    assert!(
        yaml.contains("    manifest: \"include web::service\"\n"),
        "{yaml}"
    );
    assert!(yaml.contains("        mode: \"0640\"\n"), "{yaml}");
    // A directory's mode is not checked (Puppet adds search bits to it).
    assert!(!yaml.contains("mode: \"0755\""), "{yaml}");
    // The service's ensure is a parameter: only `enable` is checked.
    assert!(
        yaml.contains("      - service: nginx\n        enabled: true\n"),
        "{yaml}"
    );
    assert!(yaml.contains("        installed: false\n"), "{yaml}");
    // The class with a required parameter is a commented hint.
    assert!(
        yaml.contains("  # web::site cannot be included without `servername`"),
        "{yaml}"
    );
    assert!(
        yaml.contains("  #   manifest: \"class { 'web::site': servername => … }\""),
        "{yaml}"
    );
    assert!(
        yaml.contains("# Not a case: web::install: private"),
        "{yaml}"
    );
}

#[test]
fn parameters_in_the_modules_hiera_data_count_as_defaults() {
    let dir = module(
        "ntp",
        &[
            (
                "manifests/init.pp",
                "class ntp (Array[String] $servers) {\n  package { 'ntp': }\n}\n",
            ),
            ("hiera.yaml", "version: 5\n"),
            ("data/common.yaml", "---\nntp::servers:\n  - pool.ntp.org\n"),
        ],
    );
    let (_, spec) = spec_of(dir.path());
    assert_eq!(labels(&spec, "ntp"), ["package ntp"]);
}

#[test]
fn a_module_with_nothing_includable_is_refused_with_the_reason() {
    let dir = module(
        "only",
        &[("manifests/init.pp", "class only (String $needed) { }\n")],
    );
    let err = scaffold(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("found no class in") && err.contains("only: needs parameters (needed)"),
        "{err}"
    );
    let not_a_module = tempfile::tempdir().unwrap();
    let err = scaffold(not_a_module.path()).unwrap_err().to_string();
    assert!(err.contains("has no manifests/ directory"), "{err}");
}

#[test]
fn examples_give_the_cases_and_the_classes_they_declare_give_checks() {
    let dir = module(
        "web",
        &[
            (
                "metadata.json",
                r#"{"name": "acme-web", "dependencies": [{"name": "puppetlabs/stdlib"}]}"#,
            ),
            ("manifests/init.pp", WEB),
            ("manifests/install.pp", INSTALL),
            ("manifests/service.pp", SERVICE),
            (
                "examples/init.pp",
                "class { 'web': port => 9090 }\nfile { '/tmp/marker': ensure => file }\n",
            ),
            (
                "examples/service.pp",
                "include web::service\nService { provider => systemd }\n",
            ),
        ],
    );
    let (scaffold, spec) = spec_of(dir.path());
    let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["init", "service"]);
    assert_eq!(labels(&spec, "init").first().unwrap(), "file /tmp/marker");
    assert!(labels(&spec, "init").contains(&"service nginx".to_string()));
    // The example sets a default for services: the service is not checked there.
    assert!(labels(&spec, "service").is_empty(), "{}", scaffold.yaml);
    assert!(scaffold
        .yaml
        .contains("    manifest_file: examples/init.pp\n"));
    assert!(
        scaffold
            .yaml
            .contains("# metadata.json depends on puppetlabs/stdlib, not found beside this module"),
        "{}",
        scaffold.yaml
    );
}

#[test]
fn resources_behind_defaults_or_collectors_anywhere_in_the_module_are_not_checked() {
    let dir = module("m", &[
        (
            "manifests/init.pp",
            "class m {\n  package { 'p': }\n  user { 'u': ensure => present, uid => 1500 }\n}\n",
        ),
        ("manifests/child.pp", "class m::child inherits m {\n  Package['p'] { ensure => absent }\n}\n"),
    ]);
    let (_, spec) = spec_of(dir.path());
    assert_eq!(labels(&spec, "m"), ["user u"]);
    assert_eq!(labels(&spec, "m::child"), ["user u"]);
}

#[test]
fn init_refuses_to_overwrite_unless_forced() {
    let dir = module("m", &[("manifests/init.pp", "class m { }\n")]);
    let written = write(dir.path(), false).unwrap();
    assert_eq!(written.scaffold.cases, [("m".to_string(), 0)]);
    let err = write(dir.path(), false).err().unwrap();
    assert!(err.to_string().contains("--force"), "{err}");
    std::fs::write(
        dir.path().join("manifests/init.pp"),
        "class m { package { 'p': } }",
    )
    .unwrap();
    let written = write(dir.path(), true).unwrap();
    assert_eq!(written.scaffold.cases, [("m".to_string(), 1)]);
    assert!(std::fs::read_to_string(written.file)
        .unwrap()
        .contains("- package: p"));
}

#[test]
fn names_that_yaml_would_misread_are_quoted() {
    assert_eq!(yaml_str("/etc/motd"), "/etc/motd");
    assert_eq!(yaml_str("yes"), "\"yes\"");
    assert_eq!(yaml_str("0644"), "\"0644\"");
    assert_eq!(yaml_str("web::site"), "\"web::site\"");
    assert_eq!(yaml_str("a # b"), "\"a # b\"");
    assert_eq!(yaml_str("!x"), "\"!x\"");
}

#[test]
fn dependencies_found_beside_the_module_become_fixtures() {
    let dir = module(
        "app",
        &[
            (
                "metadata.json",
                r#"{"name": "acme-app", "dependencies": [{"name": "acme/lib"}, {"name": "puppetlabs-stdlib"}]}"#,
            ),
            ("manifests/init.pp", "class app { lib::thing { 'x': } }\n"),
            ("../lib/manifests/thing.pp", "define lib::thing { }\n"),
        ],
    );
    let (scaffold, spec) = spec_of(dir.path());
    let fixtures: Vec<&str> = spec.fixtures.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(fixtures, ["lib"], "{}", scaffold.yaml);
    assert!(
        scaffold
            .yaml
            .contains("depends on puppetlabs-stdlib, not found"),
        "{}",
        scaffold.yaml
    );
}

#[test]
fn a_class_that_reads_another_classes_variables_is_not_a_case_of_its_own() {
    let dir = module("hb", &[
        ("manifests/init.pp", "class hb (Boolean $enable = true) {\n  contain hb::service\n}\n"),
        ("manifests/service.pp", "class hb::service {\n  service { 'hb': enable => $hb::enable }\n  file { '/etc/hb': ensure => directory }\n}\n"),
        (
            "manifests/config.pp",
            "# Configuration.\n#\n# @api private\nclass hb::config {\n  file { '/etc/hb.conf': ensure => file }\n}\n",
        ),
    ]);
    let (scaffold, spec) = spec_of(dir.path());
    let names: Vec<&str> = spec.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["hb"], "{}", scaffold.yaml);
    assert_eq!(labels(&spec, "hb"), ["file /etc/hb"]);
    assert!(
        scaffold
            .skipped
            .iter()
            .any(|s| s.starts_with("hb::service: reads variables of `hb`")),
        "{:?}",
        scaffold.skipped
    );
    assert!(
        scaffold
            .skipped
            .iter()
            .any(|s| s.starts_with("hb::config: private")),
        "{:?}",
        scaffold.skipped
    );
}
