//! The tests that need no container engine, in one test binary: each module below is a
//! file of its own (`tests/cli.rs`…) that used to be a binary of its own, and every test
//! binary is linked against the whole crate and its dependencies. Here their tests run
//! side by side in threads, which is safe: none of them sets the process' environment,
//! working directory or signal handlers, and none uses the engine (those that run the
//! binary point DOCKER_HOST nowhere, and `gerrit.rs` talks to a server of its own on
//! 127.0.0.1). `secrets.rs` runs a case on the engine, so it is not one of them.
//!
//! The tests that use the engine stay binaries of their own (the `[[test]]` targets in
//! Cargo.toml): cargo runs binaries one after another, and most of them must have the
//! engine to themselves (`engine_restart.rs` restarts it, `devloop.rs` removes every
//! container, `snapshots.rs` every snapshot) or time signals and faults.

mod common;

mod broken_specs;
mod cli;
mod fuzz_spec;
mod gerrit;
mod jenkinsfile;
mod readme;
mod select;

use std::collections::BTreeSet;

use common::repo;

/// `autotests = false` builds only the tests Cargo.toml names: a new `tests/*.rs` must be
/// named there as a binary of its own or be a module here, or it would never run.
#[test]
fn every_test_file_is_built_once() {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let binaries: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path = \"tests/"))
        .filter_map(|rest| rest.strip_suffix(".rs\""))
        .map(str::to_string)
        .collect();
    let here = std::fs::read_to_string(repo().join("tests/engine_free.rs")).unwrap();
    let modules: Vec<String> = here
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .filter(|m| *m != "common")
        .map(str::to_string)
        .collect();
    assert!(
        binaries.contains(&"engine_free".to_string()),
        "{binaries:?}"
    );
    assert!(modules.contains(&"cli".to_string()), "{modules:?}");
    let built: Vec<&String> = binaries.iter().chain(&modules).collect();
    let once: BTreeSet<&String> = built.iter().copied().collect();
    assert_eq!(once.len(), built.len(), "built twice: {built:?}");
    let files: BTreeSet<String> = std::fs::read_dir(repo().join("tests"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".rs").map(str::to_string))
        .collect();
    assert_eq!(
        once.into_iter().cloned().collect::<BTreeSet<String>>(),
        files,
        "tests/*.rs and what Cargo.toml and tests/engine_free.rs build differ"
    );
}
