//! What a run found wrong, and where in the change: ONE list, read by everything that puts
//! failures at lines (Gerrit's inline comments, GitHub's annotations), so those can never
//! disagree about a place. It sits below the reporters and the review and reads only the
//! case reports' structured facts: a failed check's line and mismatches, a failed apply's
//! located Puppet errors; nothing here reads a place out of Puppet's text.
//!
//! Where a finding goes:
//! - a Puppet error that names a file and line in the repository: at that line;
//! - a Puppet error in the case's inline `manifest` (or the spec's `prepare`), which Puppet
//!   names by its path in the container: at the matching line of the spec when the code is
//!   a `|` block, else at its key;
//! - a failed check: at its line in the spec (or the case's line when the report does not
//!   say);
//! - any other failure of a case (not idempotent, an unmet `fails_with`, a timeout): at the
//!   case's line in the spec;
//! - a failure whose place is outside the repository: the patch set as a whole.
//!
//! Failures of the harness itself (a container that would not start, a probe that could
//! not run) are no finding, only a case's summary line: they are not the change's fault.
//! The same failure on several platforms, or in several cases, is one finding that names
//! them all.

mod paths;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use regex::Regex;

use crate::outcome::{CaseReport, GateReport, Status, Step, StepReport};
use paths::Paths;

/// Lines of one text (Puppet's error, a check's failures) kept in a finding's message.
const MAX_BODY_LINES: usize = 30;

/// Where a finding goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// A line of a file of the repository; `path` is relative to its root, `/`-separated.
    Line { path: String, line: u32 },
    /// The change as a whole: the place is outside the repository.
    Patchset,
}

/// (module, case) → the platforms it was seen on.
pub type Cases = BTreeMap<(String, String), BTreeSet<String>>;

/// One kind of failure at one place, with every case and platform it was seen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub place: Place,
    /// `apply failed`, `check file /etc/motd failed`.
    pub what: String,
    /// The texts seen there, each with the cases that gave it: Puppet versions word one
    /// error differently, and each wording is quoted with where it was seen.
    pub seen: Vec<Seen>,
}

/// One text of a finding (Puppet's error, a check's failures, a step's message), without
/// the ` on node …` that differs between platforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub text: String,
    pub cases: Cases,
}

/// A case that did not pass, in one line: `apply failed at modules/m/manifests/a.pp:5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub module: String,
    pub case: String,
    pub text: String,
    pub platforms: BTreeSet<String>,
}

/// What a run found: the findings by place, and a line for each case that did not pass
/// (one line a case and reason, with its platforms).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    pub findings: Vec<Finding>,
    pub summaries: Vec<Summary>,
}

impl Finding {
    /// Every case and platform it was seen on.
    pub fn cases(&self) -> Cases {
        let mut all = Cases::new();
        for seen in &self.seen {
            for (case, platforms) in &seen.cases {
                all.entry(case.clone())
                    .or_default()
                    .extend(platforms.iter().cloned());
            }
        }
        all
    }

    /// The finding as a comment reads it: what failed, in which cases on which
    /// platforms, and the text, kept as it is (indented 4 spaces: pre-formatted in
    /// Gerrit's plain and Markdown renderings):
    ///
    /// ```text
    /// apply failed (motd › default on debian12, debian13):
    ///     Error: Syntax error at '}' (file: modules/motd/manifests/init.pp, line: 5, column: 3)
    /// ```
    pub fn message(&self) -> String {
        match self.seen.as_slice() {
            [one] => format!(
                "{} ({}):\n{}",
                self.what,
                cases_text(&one.cases),
                indented(&one.text)
            ),
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|seen| format!("{}:\n{}", cases_text(&seen.cases), indented(&seen.text)))
                    .collect();
                format!(
                    "{} ({}):\n\n{}",
                    self.what,
                    cases_text(&self.cases()),
                    parts.join("\n\n")
                )
            }
        }
    }
}

/// The findings of the cases that did not pass, each with the status the run gave it.
/// `base_dir` is the directory the reports' relative paths are relative to (the run's
/// working directory); `repo_root` is the root of the change's repository, found from the
/// spec files (the nearest `.git` above them) when `None`. Spec files are read, when they
/// can be, to find a case's line.
pub fn of<'a>(
    cases: impl IntoIterator<Item = (Status, &'a CaseReport)>,
    base_dir: &Path,
    repo_root: Option<&Path>,
) -> Findings {
    of_run(cases, None, base_dir, repo_root)
}

/// [`of`], and before the cases' findings the gate's (a syntax error, a lint problem: at
/// its line, `validate: manifest`, `lint arrow_alignment (a warning)`), each in a case
/// `<module> › validate` of its own.
pub fn of_run<'a>(
    cases: impl IntoIterator<Item = (Status, &'a CaseReport)>,
    gate: Option<&GateReport>,
    base_dir: &Path,
    repo_root: Option<&Path>,
) -> Findings {
    let cases: Vec<(Status, &CaseReport)> = cases.into_iter().collect();
    let found_root = repo_root.map(Path::to_path_buf).or_else(|| {
        let specs = cases.iter().map(|(_, c)| c.spec_file.clone());
        let gated = gate
            .into_iter()
            .flat_map(|g| g.findings.iter().map(|f| std::path::PathBuf::from(&f.file)));
        specs
            .chain(gated)
            .find_map(|file| paths::find_repo_root(&paths::absolute(base_dir, &file)))
    });
    let mut paths = Paths::new(
        base_dir,
        found_root.as_deref(),
        cases.iter().map(|(_, c)| *c),
    );

    // The same text at the same place is one entry naming every case and platform.
    let mut groups: BTreeMap<(Place, String, String), Cases> = BTreeMap::new();
    let mut listed: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for finding in gate.iter().flat_map(|g| g.findings.iter()) {
        let place = match (paths.in_repo(Path::new(&finding.file)), finding.line) {
            (Some(path), Some(line)) => Place::Line { path, line },
            _ => Place::Patchset,
        };
        let kind = finding.what();
        let what = if finding.fails {
            format!("validate: {kind}")
        } else {
            format!("validate: {kind} (a warning)")
        };
        let who = (finding.module.clone(), "validate".to_string());
        let platforms: BTreeSet<String> = finding.platforms.iter().cloned().collect();
        groups
            .entry((place, what, finding.message.clone()))
            .or_default()
            .entry(who.clone())
            .or_default()
            .extend(platforms.clone());
        if finding.fails {
            listed
                .entry((who.0, who.1, format!("{kind} at {}", finding.place())))
                .or_default()
                .extend(platforms);
        }
    }
    for (status, case) in cases.iter().filter(|(s, _)| *s != Status::Passed) {
        let (found, summary) = examine(*status, case, &mut paths);
        let who = (case.id.module.clone(), case.id.case.clone());
        for (place, what, text) in found {
            groups
                .entry((place, what, text))
                .or_default()
                .entry(who.clone())
                .or_default()
                .insert(case.id.platform.clone());
        }
        listed
            .entry((case.id.module.clone(), case.id.case.clone(), summary))
            .or_default()
            .insert(case.id.platform.clone());
    }

    // One finding a place and kind of failure, with each text seen there.
    let mut findings: Vec<Finding> = Vec::new();
    for ((place, what, text), cases) in groups {
        let seen = Seen { text, cases };
        match findings.last_mut() {
            Some(last) if last.place == place && last.what == what => last.seen.push(seen),
            _ => findings.push(Finding {
                place,
                what,
                seen: vec![seen],
            }),
        }
    }
    let summaries = listed
        .into_iter()
        .map(|((module, case, text), platforms)| Summary {
            module,
            case,
            text,
            platforms,
        })
        .collect();
    Findings {
        findings,
        summaries,
    }
}

/// A case's findings as (place, what, text), and the one line that sums it up.
fn examine(
    status: Status,
    case: &CaseReport,
    paths: &mut Paths,
) -> (Vec<(Place, String, String)>, String) {
    let spec = paths.spec(&case.spec_file);
    let case_place = spec.place(spec.case_line(&case.id.case));
    let mut found = Vec::new();
    let mut summary: Option<String> = None;

    for step in case.steps.iter().filter(|s| is_failure(s.status)) {
        let what = format!("{} {}", step.step.name(), step.status.verb());
        let message = step.message.as_deref().unwrap_or("").trim();
        // The harness's own trouble is not the change's: summary only.
        if infrastructure(step) {
            summary.get_or_insert_with(|| format!("{what}: {}", first_line(message)));
            continue;
        }
        if step.errors.is_empty() {
            let text = if message.is_empty() { &what } else { message };
            found.push((case_place.clone(), what.clone(), without_node(text)));
            summary.get_or_insert_with(|| format!("{what}: {}", first_line(message)));
            continue;
        }
        let mut first_place = None;
        for error in &step.errors {
            let (place, shown) = paths.place_of(error, &spec, &case.id.case);
            first_place.get_or_insert(shown);
            found.push((place, what.clone(), without_node(&error.message)));
        }
        summary.get_or_insert_with(|| format!("{what} at {}", first_place.unwrap_or_default()));
    }

    let failed_checks: Vec<_> = case
        .checks
        .iter()
        .filter(|c| is_failure(c.status))
        .collect();
    for check in &failed_checks {
        let line = check
            .line
            .and_then(|l| u32::try_from(l).ok())
            .or_else(|| spec.case_line(&case.id.case));
        let what = format!("check {} {}", check.label, check.status.verb());
        let text = if check.failures.is_empty() {
            what.clone()
        } else {
            let lines: Vec<String> = check.failures.iter().map(ToString::to_string).collect();
            without_node(&lines.join("\n"))
        };
        found.push((spec.place(line), what, text));
    }
    if summary.is_none() && !failed_checks.is_empty() {
        summary = Some(match failed_checks.as_slice() {
            [one] => format!(
                "check {} {}{}",
                one.label,
                one.status.verb(),
                one.failures
                    .first()
                    .map(|f| format!(": {}", first_line(&f.to_string())))
                    .unwrap_or_default()
            ),
            many => {
                let labels: Vec<&str> = many.iter().take(3).map(|c| c.label.as_str()).collect();
                format!(
                    "{} checks failed: {}{}",
                    many.len(),
                    labels.join(", "),
                    if many.len() > 3 { ", …" } else { "" }
                )
            }
        });
    }
    let summary = summary.unwrap_or_else(|| match status {
        Status::Skipped => "not run (the run stopped)".to_string(),
        other => other.label().to_string(),
    });
    (found, summary)
}

fn is_failure(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Error)
}

/// A container that would not start, or a probe that could not run: the harness's
/// trouble. (A failed check is the probe's verdict, reported with the check.)
fn infrastructure(step: &StepReport) -> bool {
    step.step == Step::Start || (step.step == Step::Verify && step.status == Status::Error)
}

/// `… on node web-debian12` names the platform's host: dropped from each line of a text
/// (a step's message quotes Puppet), so that one failure on three platforms reads the same.
fn without_node(text: &str) -> String {
    static NODE: OnceLock<Regex> = OnceLock::new();
    let node = NODE.get_or_init(|| Regex::new(r"\s+on node \S+\s*$").unwrap());
    text.lines()
        .map(|l| node.replace(l, "").into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text kept as it is (4 spaces: pre-formatted in Gerrit's plain and Markdown renderings),
/// at most [`MAX_BODY_LINES`] lines.
fn indented(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = lines
        .iter()
        .take(MAX_BODY_LINES)
        .map(|l| format!("    {l}"))
        .collect();
    if lines.len() > MAX_BODY_LINES {
        out.push(format!(
            "    [… {} more lines in the build's report]",
            lines.len() - MAX_BODY_LINES
        ));
    }
    out.join("\n")
}

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    let mut line = without_node(line.unwrap_or(""));
    cut(&mut line, 160);
    line
}

/// Cuts `text` to at most `max` bytes (on a character boundary), saying so.
pub fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(" [… cut; see the build's report]");
}

/// `motd › default on debian12, debian13; motd › other on debian12`.
fn cases_text(cases: &Cases) -> String {
    cases
        .iter()
        .map(|((module, case), platforms)| {
            if platforms.is_empty() {
                // A gate finding of no platform's (lint, metadata.json).
                return format!("{module} › {case}");
            }
            format!(
                "{module} › {case} on {}",
                platforms.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
pub(crate) mod tests;
