//! The spec parser fed mutated specs: the valid specs of the repository with bytes
//! flipped, lines deleted, doubled or shifted, and keys and values of the spec's
//! vocabulary (and YAML's sharper edges) dropped in. Whatever it is given, the parser
//! must not panic, must answer quickly, and an error must point inside the text it read,
//! on one line.
//!
//! What it found is kept as regression cases in `tests/broken/fuzz-<n>/`, and proptest's
//! own seeds in `proptest-regressions/`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};

use rehearsal::spec;

use crate::common::repo;

/// The valid specs of the repository, with the file each was read from.
fn seeds() -> Vec<(PathBuf, Vec<u8>)> {
    let mut seeds = Vec::new();
    for dir in ["sample-modules", "tests/fixtures/modules"] {
        let mut modules: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        modules.sort();
        for module in modules {
            let file = module.join(spec::SPEC_FILE);
            if let Ok(bytes) = std::fs::read(&file) {
                seeds.push((file, bytes));
            }
        }
    }
    assert!(
        seeds.len() >= 8,
        "the seed specs are missing: {}",
        seeds.len()
    );
    seeds
}

/// Words a spec is made of before the check kinds.
const KEYS: &[&str] = &[
    "platforms",
    "fixtures",
    "hiera",
    "config",
    "data",
    "facts",
    "prepare",
    "timeouts",
    "cases",
    "manifest",
    "manifest_file",
    "hiera_data",
    "expect",
    "goss",
    "fails_with",
    "idempotent",
    "apply",
    "verify",
    "start",
];

/// Words a spec is made of (the check kinds as the parser knows them), and YAML that
/// parsers find hard.
fn vocabulary() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| [KEYS, rehearsal::spec::check::KINDS, VALUES].concat())
}

/// Words after the check kinds: attributes, and YAML that parsers find hard.
const VALUES: &[&str] = &[
    "mode",
    "owner",
    "contains",
    "exists",
    "type",
    "running",
    "enabled",
    "uid",
    "groups",
    "listening",
    "stdout",
    "exit_status",
    "url",
    "status",
    "path",
    "name",
    "git",
    "ref",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "'",
    "\"",
    "~",
    "null",
    "true",
    "&a",
    "*a",
    "&a [x, y]",
    "<<: *a",
    "? ",
    "|",
    ">-",
    "!!binary",
    "!!str",
    "!tag",
    "---",
    "...",
    "%YAML 1.2",
    "\t",
    "#",
    "@",
    "`",
    "\\",
    "/[x/",
    "/(a/",
    "/ok/",
    "!text",
    "99999999999999999999",
    "-1",
    "0x1F",
    "1e400",
    ".nan",
    "0644",
    "2m",
    "10 years",
    "../../etc/passwd",
    "/etc/passwd",
    "examples/init.pp",
    "..",
    "",
    " ",
    "\u{feff}",
    "é",
    "\u{0}",
    "\r",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Sets the byte at (a position modulo the length).
    Byte(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Adds (or removes, when negative) spaces at a line's start.
    Indent(usize, i8),
    /// Puts a word of the vocabulary at a position.
    Insert(usize, usize),
    /// Puts `word: word` as a new line, indented.
    InsertLine(usize, usize, usize, u8),
    /// Cuts the text at a position.
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = 0..vocabulary().len();
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), -4i8..=4).prop_map(|(l, d)| Mutation::Indent(l, d)),
        (any::<usize>(), word.clone()).prop_map(|(p, w)| Mutation::Insert(p, w)),
        (any::<usize>(), word.clone(), word, 0u8..8)
            .prop_map(|(l, k, v, i)| Mutation::InsertLine(l, k, v, i)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn lines_of(text: &[u8]) -> Vec<Vec<u8>> {
    text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect()
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let len = text.len().max(1);
    let mut lines = lines_of(text);
    let line = |l: usize| l % lines.len();
    match *m {
        Mutation::Byte(p, b) if !text.is_empty() => {
            text[p % len] = b;
            return;
        }
        Mutation::Insert(p, w) => {
            let at = p % (text.len() + 1);
            text.splice(at..at, vocabulary()[w].bytes());
            return;
        }
        Mutation::Truncate(p) => {
            text.truncate(p % len);
            return;
        }
        Mutation::DeleteLine(l) if lines.len() > 1 => {
            let l = line(l);
            lines.remove(l);
        }
        Mutation::DuplicateLine(l) => {
            let l = line(l);
            let copy = lines[l].clone();
            lines.insert(l, copy);
        }
        Mutation::Indent(l, d) => {
            let l = line(l);
            if d >= 0 {
                lines[l].splice(0..0, std::iter::repeat_n(b' ', d as usize));
            } else {
                let spaces = lines[l].iter().take_while(|b| **b == b' ').count();
                lines[l].drain(..spaces.min(d.unsigned_abs() as usize));
            }
        }
        Mutation::InsertLine(l, k, v, indent) => {
            let l = line(l);
            let new = format!(
                "{}{}: {}",
                " ".repeat(indent as usize * 2),
                vocabulary()[k],
                vocabulary()[v]
            );
            lines.insert(l, new.into_bytes());
        }
        _ => return,
    }
    *text = lines.join(&b'\n');
}

/// The error's position must be in `text`: a line it has (or the end, just after its
/// last line end) and a column of that line (or just after its end).
fn check_position(err: &spec::SpecError, text: &str) -> Result<(), String> {
    let Some((line, column)) = err.position else {
        return Ok(());
    };
    let lines: Vec<&str> = text.split('\n').collect();
    if line == 0 || line > lines.len() {
        return Err(format!("line {line} of {} lines", lines.len()));
    }
    let width = lines[line - 1].chars().count();
    if column == 0 || column > width + 1 {
        return Err(format!(
            "column {column} of line {line}, {width} characters wide"
        ));
    }
    Ok(())
}

fn check(file: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = spec::parse_bytes(file, bytes);
    let took = started.elapsed();
    prop_assert!(took < Duration::from_secs(2), "parsing took {took:?}");
    let Err(err) = result else { return Ok(()) };
    let shown = err.to_string();
    prop_assert!(!shown.contains('\n'), "the error is not one line: {shown}");
    prop_assert!(!err.message.is_empty(), "an empty message");
    // A goss file's error points into the goss file, which is not the text fed here.
    if err.file == file {
        let text = String::from_utf8_lossy(bytes);
        if let Err(why) = check_position(&err, &text) {
            return Err(TestCaseError::fail(format!(
                "{why}: {shown}\n--- text ---\n{text}"
            )));
        }
    }
    Ok(())
}

/// Failures are kept in `proptest-regressions/fuzz_spec.txt` (cargo runs tests from the
/// crate's root) and tried first on every run.
fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/fuzz_spec.txt",
        ))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(40_000))]

    #[test]
    fn mutated_specs_never_panic_and_errors_point_inside_the_text(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let seeds = seeds();
        let (file, original) = &seeds[seed.index(seeds.len())];
        let mut text = original.clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        check(file, &text)?;
    }

    #[test]
    fn lines_of_spec_words_never_panic(
        lines in prop::collection::vec(
            (0u8..6, 0..vocabulary().len(), 0..vocabulary().len(), any::<bool>()),
            1..25,
        ),
    ) {
        let mut text = String::new();
        for (indent, key, value, item) in lines {
            text.push_str(&" ".repeat(indent as usize * 2));
            if item {
                text.push_str("- ");
            }
            text.push_str(&format!("{}: {}\n", vocabulary()[key], vocabulary()[value]));
        }
        let file = repo().join("sample-modules/motd").join(spec::SPEC_FILE);
        check(&file, text.as_bytes())?;
    }
}

/// Every regression case of the fuzzer: still refused, without a panic, with its
/// position inside the text (`broken_specs.rs` checks the line the binary prints).
#[test]
fn what_the_fuzzer_found_stays_fixed() {
    let broken = repo().join("tests/broken");
    for entry in std::fs::read_dir(&broken).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("fuzz-") {
            continue;
        }
        let file = dir.join(spec::SPEC_FILE);
        let bytes = std::fs::read(&file).unwrap();
        check(&file, &bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(
            spec::parse_bytes(&file, &bytes).is_err(),
            "{name} is accepted"
        );
    }
}
