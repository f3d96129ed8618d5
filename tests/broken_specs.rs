//! Bad specs through the real binary: each is refused by `list` and by `run` with exit 2
//! and one line naming the file, line and column, never a panic, and before any engine is
//! needed (`run` gets a DOCKER_HOST that leads nowhere; a good spec under the same
//! DOCKER_HOST fails with the engine's exit 3, so the setting does reach the engine).
//!
//! The corpus is `tests/broken/<case>/`: a tiny module (`manifests/init.pp`), its bad
//! `rehearsal.yaml` (and goss files), and `expected.txt`: pieces of the error line, one a
//! line, the first with its `file:line:column`. Cases too big or too odd to keep as files (20 MB, non-UTF-8
//! bytes, alias bombs) are written by the tests below.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{module, repo, Outcome, Rehearsal};

/// The binary in `cwd`, with DOCKER_HOST leading nowhere (any engine call fails) and no
/// RUST_BACKTRACE (a panic would show as one).
fn rehearsal(args: &[&str], cwd: &Path) -> Outcome {
    Rehearsal::new()
        .args(args)
        .current_dir(cwd)
        .no_engine()
        .env_remove("RUST_BACKTRACE")
        .run()
}

/// Runs `list` and `run` on `module` (from `cwd`) and checks both refuse it the same way;
/// returns the error line.
fn refused(module: &Path, cwd: &Path) -> String {
    let path = module.to_str().unwrap();
    let mut lines = Vec::new();
    for args in [vec!["list", path], vec!["run", "-p", "debian12", path]] {
        let out = rehearsal(&args, cwd);
        let stderr = out.stderr();
        let what = format!("`rehearsal {}`", args.join(" "));
        out.exit(2);
        for panic in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(!stderr.contains(panic), "{what} panicked:\n{stderr}");
        }
        assert_eq!(
            stderr.lines().count(),
            1,
            "{what}: the error should be one line:\n{stderr}"
        );
        let line = stderr.lines().next().unwrap().to_string();
        assert!(line.starts_with("error: "), "{what}: {line}");
        assert!(
            out.stdout().is_empty(),
            "{what}: nothing planned or run, yet stdout has:\n{}",
            out.stdout()
        );
        lines.push(line);
    }
    assert_eq!(lines[0], lines[1], "list and run refuse it alike");
    lines.remove(0)
}

/// `file:line:column: ` right after `error: ` (the file is a spec, a goss file, a
/// `.fixtures.yml` or a Puppetfile).
fn located(line: &str) -> bool {
    let rest = line.strip_prefix("error: ").unwrap_or(line);
    let Some((colon, name)) = [".yaml:", ".yml:", "Puppetfile:"]
        .iter()
        .find_map(|name| rest.find(name).map(|at| (at, name.len())))
    else {
        return false;
    };
    let mut parts = rest[colon + name..].splitn(3, ':');
    let numeric =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next())
        && numeric(parts.next())
        && parts.next().is_some_and(|r| r.starts_with(' '))
}

fn corpus() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/broken"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_case_of_the_corpus_is_refused_with_its_expected_line() {
    let cases = corpus();
    assert!(cases.len() >= 25, "the corpus is missing: {cases:?}");
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        assert!(
            case.join("manifests/init.pp").is_file(),
            "{name}: a module needs manifests/init.pp"
        );
        let expected = std::fs::read_to_string(case.join("expected.txt"))
            .unwrap_or_else(|_| panic!("{name}: expected.txt is missing"));
        let pieces: Vec<&str> = expected.lines().filter(|l| !l.is_empty()).collect();
        assert!(!pieces.is_empty(), "{name}: expected.txt is empty");
        // "The repository" is the git work tree; a copy of the sources outside git has none.
        if expected.contains("outside the repository") && !repo().join(".git").exists() {
            eprintln!(
                "{name}: skipped, {} is not a git work tree",
                repo().display()
            );
            continue;
        }
        let rel = case.strip_prefix(repo()).unwrap();
        let line = refused(rel, &repo());
        for piece in pieces {
            if !line.contains(piece) {
                wrong.push(format!("{name}:\n  expected: {piece}\n  got:      {line}"));
            }
        }
        // Whole-file problems have no line to point at; every other error has one.
        let whole_file = ["empty-file", "only-a-comment"].contains(&name);
        if !whole_file && !located(&line) {
            wrong.push(format!("{name}: no file:line:column in: {line}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_good_spec_under_the_same_docker_host_needs_the_engine() {
    // Without this, `run` exiting 2 could mean DOCKER_HOST was never read.
    rehearsal(
        &[
            "run",
            "-p",
            "debian12",
            "sample-modules/motd",
            "--case",
            "defaults",
        ],
        &repo(),
    )
    .exit(3);
}

/// A module with `spec` as its rehearsal.yaml, in a temporary directory, refused: the
/// error line, and how long `list` and `run` took.
fn refused_in_temp(spec: &[u8]) -> (String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    module(dir.path(), "m", spec);
    let started = Instant::now();
    let line = refused(Path::new("."), dir.path());
    (line, started.elapsed())
}

#[test]
fn a_huge_spec_is_refused_before_it_is_read() {
    let mut spec = b"cases:\n  a:\n    manifest: include m\n".to_vec();
    let filler = b"# padding, to push the spec over its size limit\n";
    while spec.len() < 20 * 1024 * 1024 {
        spec.extend_from_slice(filler);
    }
    let (line, took) = refused_in_temp(&spec);
    assert!(line.contains("rehearsal.yaml: the spec is 20971"), "{line}");
    assert!(line.contains("more than the 1 MiB a spec may be"), "{line}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn non_utf8_bytes_are_located() {
    let (line, _) = refused_in_temp(b"cases:\n  a:\n    manifest: \"include \xff\xfe m\"\n");
    assert!(
        line.ends_with("rehearsal.yaml:3:24: the spec is not valid UTF-8: save it as UTF-8"),
        "{line}"
    );
}

#[test]
fn a_billion_laughs_is_refused_fast() {
    let mut spec =
        String::from("facts:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        spec.push_str(&format!("  l{level}: &l{level} [{refs}]\n"));
    }
    spec.push_str("cases:\n  a:\n    manifest: include m\n");
    let (line, took) = refused_in_temp(spec.as_bytes());
    assert!(
        line.contains("rehearsal.yaml:7:"),
        "located at the alias past the limit: {line}"
    );
    assert!(
        line.contains("aliases (`*name`) stand for more than 100000 values"),
        "{line}"
    );
    // Two invocations, list and run.
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn a_wide_anchor_used_many_times_is_refused_fast() {
    // Under serde_yaml's own alias limit (jumps, not values): 30,000 aliases of a list of
    // 30,000 values would be 900 million values, in a 330 kB file.
    let items = vec!["x"; 30_000].join(", ");
    let uses = vec!["*big"; 30_000].join(", ");
    let spec = format!(
        "facts:\n  big: &big [{items}]\n  many: [{uses}]\ncases:\n  a:\n    manifest: include m\n"
    );
    let (line, took) = refused_in_temp(spec.as_bytes());
    assert!(line.contains("rehearsal.yaml:3:"), "{line}");
    assert!(line.contains("stand for more than 100000 values"), "{line}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn deep_nesting_is_refused_with_its_position() {
    let spec = format!(
        "facts:\n  x: {}{}\ncases:\n  a:\n    manifest: include m\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let (line, took) = refused_in_temp(spec.as_bytes());
    assert!(line.contains("rehearsal.yaml:2:"), "{line}");
    assert!(line.contains("recursion limit exceeded"), "{line}");
    assert!(line.contains("nest more than 128 deep"), "{line}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn text_from_the_spec_cannot_break_the_error_line() {
    // A path with a newline and a terminal escape in it, quoted in the error.
    let (line, _) = refused_in_temp(b"cases:\n  a:\n    manifest_file: \"nope\\n\\e[31mred.pp\"\n");
    assert!(
        line.contains("`nope\\n\\u{1b}[31mred.pp` does not exist"),
        "{line}"
    );
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_the_engine() {
    // A path under a regular file: no directory can be made there, even as root.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let under = blocker.path().join("sub");
    let good = repo().join("tests/fixtures/modules/good");
    for flag in ["--junit", "--json", "--html"] {
        let report = under.join("report.out");
        let out = rehearsal(
            &[
                "run",
                "-p",
                "debian12",
                good.to_str().unwrap(),
                flag,
                report.to_str().unwrap(),
            ],
            &repo(),
        );
        let stderr = out.stderr();
        // Exit 2, not the engine's 3: the check came before any engine call.
        out.exit(2);
        assert!(
            stderr.starts_with(&format!(
                "error: cannot write reports to {}: ",
                under.display()
            )),
            "{flag}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{flag}: {stderr}");
        assert!(!report.exists());
    }
}
