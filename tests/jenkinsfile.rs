//! The Jenkinsfile is code an admin uses as it is: it must parse as Groovy (checked with
//! Debian's `groovy`, which harness/test installs), and it must keep the pipeline's
//! promises (changed-only selection, shards, JUnit with empty results allowed, a vote).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::repo;

/// Parses a file to Groovy's AST (syntax only: Jenkins' steps need not exist here).
fn groovy_parses(file: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let checker = dir.path().join("parse.groovy");
    std::fs::write(
        &checker,
        "import org.codehaus.groovy.control.*\n\
         def unit = new CompilationUnit()\n\
         unit.addSource(new File(args[0]))\n\
         unit.compile(Phases.CONVERSION)\n\
         println 'parsed'\n",
    )
    .unwrap();
    let mut groovy = Command::new("groovy");
    if std::env::var_os("JAVA_HOME").is_none() {
        // Debian's groovy looks for /usr/lib/jvm/default-java unless told where Java is.
        if let Some(home) = which_java_home() {
            groovy.env("JAVA_HOME", home);
        }
    }
    let out = groovy.arg(&checker).arg(file).output().map_err(|err| {
        format!(
            "cannot run groovy ({err}): install it (`apt-get install groovy`; harness/test does)"
        )
    })?;
    if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("parsed") {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The Java installation of the `java` on PATH.
fn which_java_home() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let java = std::env::split_paths(&path)
        .map(|dir| dir.join("java"))
        .find(|p| p.exists())?;
    let real = std::fs::canonicalize(java).ok()?;
    Some(real.parent()?.parent()?.to_path_buf())
}

#[test]
fn the_jenkinsfile_is_valid_groovy() {
    groovy_parses(&repo().join("Jenkinsfile")).unwrap();
}

#[test]
fn the_syntax_check_catches_a_broken_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("Jenkinsfile");
    let text = std::fs::read_to_string(repo().join("Jenkinsfile")).unwrap();
    // Drop the last closing brace.
    let cut = text.trim_end().strip_suffix('}').unwrap();
    std::fs::write(&broken, cut).unwrap();
    let err = groovy_parses(&broken).unwrap_err();
    assert!(
        err.contains("unexpected end of file") || err.contains("expecting"),
        "{err}"
    );
}

#[test]
fn the_pipeline_keeps_its_promises() {
    let text = std::fs::read_to_string(repo().join("Jenkinsfile")).unwrap();
    for promise in [
        "pipeline {",
        "gerrit(", // triggered by patchsets
        "patchsetCreated",
        "--changed-since", // only what changed
        "--explain",
        "--shard ${SHARD}/${params.SHARDS}", // spread over agents
        "--timings",
        "allowEmptyResults: true", // an empty selection is a valid result
        "archiveArtifacts",
        "rehearsal gerrit-review", // the vote, with inline comments
        "--warnings-ng reports/issues-${SHARD}.json", // the gate's findings…
        "recordIssues",            // …as Warnings NG issues
        "currentBuild.result = 'FAILURE'", // a failed case votes -1, not 0
    ] {
        assert!(text.contains(promise), "the Jenkinsfile lost `{promise}`");
    }
    // The matrix' shard values and the SHARDS default agree.
    let values = text
        .lines()
        .find(|l| l.trim_start().starts_with("values '1'"))
        .expect("a shard axis");
    let count = values.matches('\'').count() / 2;
    assert!(
        text.contains(&format!("name: 'SHARDS', defaultValue: '{count}'")),
        "SHARDS default must equal the {count} shard values"
    );
}
