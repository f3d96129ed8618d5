//! Where things are inside a container: the paths the harness mounts, writes and reads.
//! One place, because the runner, the snapshot layers, Puppet's command line and the
//! review (which maps these paths back to the repository) must agree on them.

/// Puppet's modulepath: the module under test and each fixture, one directory each.
pub const MODULEPATH: &str = "/etc/rehearsal/modules";
/// The case's (or snapshot layer's) generated files: manifest, Hiera config, data, facts.
pub const CASE_DIR: &str = "/etc/rehearsal/case";
/// The directory of the user's Hiera config (its datadirs are relative to it).
pub const HIERA_DIR: &str = "/etc/rehearsal/hiera";
/// Where a site baseline's modulepath directories are mounted, one numbered each.
pub const SITE_DIR: &str = "/etc/rehearsal/site";
/// Where a site baseline's Puppetfile modules are mounted, by name: the modulepath's last
/// directory.
pub const SITE_PUPPETFILE_DIR: &str = "/etc/rehearsal/site/puppetfile";

/// The inline manifest's file name in [`CASE_DIR`].
pub const SITE_PP: &str = "site.pp";
/// The `prepare` code's file name in [`CASE_DIR`], as Puppet's messages name it.
pub const PREPARE_PP: &str = "prepare.pp";
/// The Hiera config the harness writes, in [`CASE_DIR`].
pub const HIERA_YAML: &str = "hiera.yaml";
/// The spec's Hiera data (the top level of the hierarchy), in [`CASE_DIR`].
pub const DATA_JSON: &str = "data.json";
/// The case's facts, in [`CASE_DIR`]; copied to [`FACTS_FILE`] once systemd is up.
pub const FACTS_JSON: &str = "facts.json";
/// Where Facter reads the case's facts as external facts.
pub const FACTS_FILE: &str = "/etc/facter/facts.d/rehearsal.json";
/// rehearsal's Puppet driver (`src/puppet/driver.rb`), in [`CASE_DIR`].
pub const DRIVER_RB: &str = "driver.rb";
/// Where the driver writes each apply's transaction report (JSON), one file per apply.
pub const REPORT_DIR: &str = "/run/rehearsal";

/// A module's directory on the modulepath: `/etc/rehearsal/modules/<name>`.
pub fn module_dir(name: &str) -> String {
    format!("{MODULEPATH}/{name}")
}

/// A file in [`CASE_DIR`]: `/etc/rehearsal/case/<name>`.
pub fn case_file(name: &str) -> String {
    format!("{CASE_DIR}/{name}")
}

/// A site baseline's Puppetfile module: `/etc/rehearsal/site/puppetfile/<name>`.
pub fn site_module_dir(name: &str) -> String {
    format!("{SITE_PUPPETFILE_DIR}/{name}")
}

/// The `index`th directory of a site baseline's modulepath.
pub fn site_dir(index: usize) -> String {
    format!("{SITE_DIR}/{index}")
}
