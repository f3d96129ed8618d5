use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::spec::site;

/// A site with a baseline over `site/`, and a module below it whose spec has `prepare`.
fn tree(dir: &Path) -> ModuleSpec {
    std::fs::create_dir_all(dir.join("site/roles/manifests")).unwrap();
    std::fs::write(
        dir.join("site/roles/manifests/base.pp"),
        "class roles::base { file { '/etc/base': ensure => file } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join(site::SITE_FILE),
        "baseline:\n  manifest: include roles::base\n  modulepath: [site]\n  facts: { tier: base }\n",
    )
    .unwrap();
    let module = dir.join("modules/motd");
    std::fs::create_dir_all(module.join("manifests")).unwrap();
    std::fs::write(module.join("manifests/init.pp"), "class motd {}\n").unwrap();
    std::fs::write(
        module.join("rehearsal.yaml"),
        "prepare: \"package { 'cron': }\"\nfacts: { role: web }\ncases:\n  default:\n    manifest: include motd\n",
    )
    .unwrap();
    let mut spec = crate::spec::load(&module.join("rehearsal.yaml")).unwrap();
    spec.site = Some(Arc::new(site::load(&dir.join(site::SITE_FILE)).unwrap()));
    spec
}

#[test]
fn a_spec_stands_on_the_site_baseline_then_its_prepare() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tree(dir.path());
    let baseline = Layer::baseline_of(&spec).unwrap().unwrap();
    assert_eq!(baseline.kind, Kind::Baseline);
    assert_eq!(baseline.code, "include roles::base");
    assert_eq!(baseline.modulepath, "/etc/rehearsal/site/0");
    assert_eq!(baseline.facts["tier"], "base");
    assert_eq!(baseline.describe(), "baseline (rehearsal-site.yaml)");

    let prepare = Layer::prepare_of(&spec).unwrap();
    assert_eq!(prepare.kind, Kind::Prepare);
    assert_eq!(prepare.facts["role"], "web");
    // The module under test is not mounted: editing it keeps the snapshot.
    assert!(prepare.mounts.is_empty());
    assert_eq!(prepare.describe(), "prepare (motd)");
}

#[test]
fn a_baseline_puppetfiles_modules_follow_its_modulepath_and_key_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = tree(dir.path());
    let ntp = dir.path().join("vendor/ntp");
    std::fs::create_dir_all(ntp.join("manifests")).unwrap();
    std::fs::write(ntp.join("manifests/init.pp"), "class ntp {}\n").unwrap();
    let mut site = (**spec.site.as_ref().unwrap()).clone();
    site.baseline.as_mut().unwrap().modules = vec![crate::spec::Fixture {
        name: "ntp".into(),
        path: ntp.clone(),
        origin: crate::spec::FixtureOrigin {
            declared_in: dir.path().join("Puppetfile"),
            line: Some(1),
            source: crate::spec::Source::Local,
        },
    }];
    spec.site = Some(Arc::new(site));
    let baseline = Layer::baseline_of(&spec).unwrap().unwrap();
    assert_eq!(
        baseline.modulepath,
        "/etc/rehearsal/site/0:/etc/rehearsal/site/puppetfile"
    );
    assert_eq!(
        baseline.mounts.last().unwrap(),
        &(
            ntp.clone(),
            "/etc/rehearsal/site/puppetfile/ntp".to_string()
        )
    );
    let before = baseline.key("sha256:parent").unwrap();
    std::fs::write(ntp.join("manifests/init.pp"), "class ntp { }\n").unwrap();
    let after = Layer::baseline_of(&spec).unwrap().unwrap();
    assert_ne!(after.key("sha256:parent").unwrap(), before);
}

#[test]
fn a_spec_can_opt_out_of_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = tree(dir.path());
    spec.use_baseline = false;
    assert!(Layer::baseline_of(&spec).unwrap().is_none());
}

#[test]
fn the_key_follows_every_input_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tree(dir.path());
    let layer = Layer::baseline_of(&spec).unwrap().unwrap();
    let key = layer.key("sha256:parent").unwrap();
    assert_eq!(key.len(), 64);
    assert_eq!(layer.key("sha256:parent").unwrap(), key, "stable");

    // The module under test is no input of the baseline.
    std::fs::write(
        dir.path().join("modules/motd/manifests/init.pp"),
        "class motd { }\n",
    )
    .unwrap();
    assert_eq!(layer.key("sha256:parent").unwrap(), key);

    assert_ne!(layer.key("sha256:other").unwrap(), key, "parent image");
    let mut other = layer.clone();
    other.code.push_str("\ninclude roles::extra");
    assert_ne!(other.key("sha256:parent").unwrap(), key, "code");
    let mut other = layer.clone();
    other.facts.insert("tier".into(), "edge".into());
    assert_ne!(other.key("sha256:parent").unwrap(), key, "facts");
    let mut other = layer.clone();
    other.hiera_data.insert("x".into(), 1.into());
    assert_ne!(other.key("sha256:parent").unwrap(), key, "hiera data");

    // A file of a module on the baseline's modulepath.
    std::fs::write(
        dir.path().join("site/roles/manifests/base.pp"),
        "class roles::base { file { '/etc/base2': ensure => file } }\n",
    )
    .unwrap();
    let edited = layer.key("sha256:parent").unwrap();
    assert_ne!(edited, key, "a module file's content");
    // A new file, and a mode change, count too.
    std::fs::write(dir.path().join("site/roles/README"), "x").unwrap();
    let added = layer.key("sha256:parent").unwrap();
    assert_ne!(added, edited, "a new file");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.path().join("site/roles/README"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_ne!(layer.key("sha256:parent").unwrap(), added, "a mode");
}

#[test]
fn version_control_directories_are_no_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.pp"), "x").unwrap();
    let before = key::tree_hash(dir.path()).unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
    assert_eq!(key::tree_hash(dir.path()).unwrap(), before);
}

#[test]
fn a_missing_baseline_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = tree(dir.path());
    let missing = dir.path().join("gone.pp");
    let mut site = (**spec.site.as_ref().unwrap()).clone();
    site.baseline.as_mut().unwrap().manifest = site::BaselineManifest::File(missing.clone());
    spec.site = Some(Arc::new(site));
    let err = Layer::baseline_of(&spec).unwrap_err().to_string();
    assert!(err.contains("cannot read the baseline's manifest"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn a_build_container_gets_its_platforms_limits() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Arc::new(tree(dir.path()));
    let mut platform = crate::platform::load(None)
        .unwrap()
        .into_iter()
        .find(|p| p.name == "debian12")
        .unwrap();
    platform.definition.limits.memory = Some(crate::spec::limits::Bytes(3 << 30));
    let row = PlannedCase {
        spec,
        case: 0,
        platform: Arc::new(platform),
    };
    let layers = chain_of(&row).unwrap();
    assert_eq!(layers.len(), 2);
    for layer in &layers {
        assert_eq!(layer.limits.memory, 3 << 30);
        assert_eq!(layer.limits.pids, crate::spec::limits::Limits::DEFAULT.pids);
    }
}

/// A layer's failed apply carries its errors' places as the review reads them: a spec's
/// `prepare` by the name Puppet gives it, the site's modules at their paths on the host.
#[test]
fn a_layers_errors_are_placed_as_the_review_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = tree(dir.path());
    let baseline = Layer::baseline_of(&spec).unwrap().unwrap();
    let prepare = Layer::prepare_of(&spec).unwrap();
    assert_eq!(baseline.code_file(), "site.pp");
    assert_eq!(prepare.code_file(), "prepare.pp");

    let output = "\
Error: Evaluation Error: Unknown resource type: 'fil' (file: /etc/rehearsal/site/0/roles/manifests/base.pp, line: 1, column: 20) on node baseline-debian12
Error: Could not find class ::nope (file: /etc/rehearsal/case/site.pp, line: 1, column: 1) on node baseline-debian12
";
    let found = build::located_errors(&baseline, output);
    let places: Vec<(String, u32)> = found.iter().map(|e| (e.file.clone(), e.line)).collect();
    // The baseline's own code is no file of a spec: left unplaced.
    assert_eq!(
        places,
        [(
            dir.path()
                .join("site/roles/manifests/base.pp")
                .display()
                .to_string(),
            1
        )]
    );

    let output = "Error: Could not find resource 'x' (file: /etc/rehearsal/case/prepare.pp, line: 2) on node prepare-debian12\n";
    let found = build::located_errors(&prepare, output);
    assert_eq!(found[0].file, "/etc/rehearsal/case/prepare.pp");
    assert_eq!(found[0].line, 2);
}
