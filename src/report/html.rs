//! The HTML report: one self-contained page to open in a browser or archive in Jenkins.
//!
//! - A module × platform matrix, each cell coloured by the worst result of its cases and
//!   labelled in words (`PASS`, `FAIL`…), so nothing depends on telling colours apart.
//! - Under it, the cases of every (module, platform); a cell opens its list. A case that
//!   did not pass shows its failed steps and checks (attribute, expected, actual, the
//!   check's line in the spec) and the end of the failed step's Puppet output.
//! - The cases' durations as bars, split by step, longest first.
//!
//! Styles and the few lines of script are inline: the page fetches nothing. Every text
//! comes from containers or specs and is escaped; ids are generated, never taken from
//! names. The page is a function of the events only (no clock), so two writes of one run
//! are identical.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::console::human_duration;
use super::sorted_by_module_platform_case;
use super::write::write_atomically;
use super::Reporter;
use crate::outcome::{
    CaseReport, CheckFailure, CheckReport, Event, EventKind, Status, Step, StepReport, Totals,
};
use crate::text::plural;
use crate::text::sanitize::clean;

/// How many lines at the end of a failed step's output the page shows.
const LOG_TAIL_LINES: usize = 40;

/// Collects the finished cases and writes the page when the run is over.
pub struct HtmlReporter {
    path: PathBuf,
    run_id: Option<String>,
    engine: Option<crate::outcome::engine::EngineInfo>,
    started_at: Option<DateTime<Utc>>,
    duration: Option<Duration>,
    /// The run's totals, as the runner counted them.
    totals: Option<Totals>,
    cases: Vec<CaseReport>,
    /// What the gate found, when it ran.
    gate: Option<crate::outcome::GateReport>,
    /// Spec files under it are shown relative to it (the working directory).
    base_dir: PathBuf,
}

impl HtmlReporter {
    /// A reporter that writes to `path` (its directories are created when needed).
    pub fn new(path: PathBuf) -> Self {
        HtmlReporter {
            path,
            run_id: None,
            engine: None,
            started_at: None,
            duration: None,
            totals: None,
            cases: Vec::new(),
            gate: None,
            base_dir: std::env::current_dir().unwrap_or_default(),
        }
    }

    /// The whole page.
    fn to_html(&self) -> String {
        let cases = sorted_by_module_platform_case(&self.cases);
        // The run's totals; a page of a run that never finished counts its cases.
        let totals = self
            .totals
            .unwrap_or_else(|| cases.iter().copied().collect());
        let groups: Vec<&[&CaseReport]> = cases
            .chunk_by(|a, b| (&a.id.module, &a.id.platform) == (&b.id.module, &b.id.platform))
            .collect();

        let mut page = String::with_capacity(16 * 1024);
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        let _ = writeln!(page, "<title>{}</title>", esc(&title(&totals)));
        let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>");
        self.header(&mut page, &totals);
        page.push_str("<main>\n");
        if let Some(gate) = self.gate.as_ref().filter(|g| !g.findings.is_empty()) {
            gate_section(&mut page, gate);
        }
        if let Some(gate) = &self.gate {
            diff_section(&mut page, gate);
            let cases: Vec<&CaseReport> = self.cases.iter().collect();
            coverage_section(&mut page, &crate::outcome::coverage::of(gate, &cases));
        }
        if groups.is_empty() {
            page.push_str("<p class=\"empty\">No case ran: nothing matched the selection.</p>\n");
        } else {
            page.push_str("<div class=\"overview\">\n");
            matrix(&mut page, &groups);
            durations(&mut page, &cases);
            page.push_str("</div>\n");
            case_lists(&mut page, &groups);
        }
        page.push_str("</main>\n");
        let _ = writeln!(page, "<script>{SCRIPT}</script>\n</body>\n</html>");
        page
    }

    /// The title, when and how long, and the totals.
    fn header(&self, page: &mut String, totals: &Totals) {
        page.push_str("<header>\n<h1>rehearsal <span>report</span></h1>\n<p class=\"meta\">");
        let mut meta = Vec::new();
        if let Some(run_id) = &self.run_id {
            meta.push(format!("run <code>{}</code>", esc(run_id)));
        }
        if let Some(engine) = &self.engine {
            meta.push(format!("on {}", esc(&engine.to_string())));
        }
        let started = self
            .started_at
            .or_else(|| self.cases.iter().map(|c| c.started_at).min());
        if let Some(started) = started {
            meta.push(format!(
                "started {}",
                esc(&started.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            ));
        }
        if let Some(duration) = self.duration {
            meta.push(format!("took {}", human_duration(duration)));
        }
        page.push_str(&meta.join(" · "));
        page.push_str("</p>\n<p class=\"totals\">");
        let _ = write!(
            page,
            "<span class=\"total\">{} {}</span>",
            totals.total(),
            plural(totals.total(), "case", "cases")
        );
        for (status, count) in [
            (Status::Passed, totals.passed),
            (Status::Failed, totals.failed),
            (Status::Error, totals.errors),
            (Status::Skipped, totals.skipped),
        ] {
            let _ = write!(
                page,
                " <span class=\"pill {class}{zero}\">{icon} {count} {word}</span>",
                class = class(status),
                zero = if count == 0 { " zero" } else { "" },
                icon = icon(status),
                word = match status {
                    Status::Error => plural(count, "error", "errors"),
                    _ => status.verb(),
                },
            );
        }
        if totals.flaky > 0 {
            let _ = write!(
                page,
                " <span class=\"pill flaky\">~ {} flaky</span>",
                totals.flaky
            );
        }
        page.push_str("</p>\n</header>\n");
    }
}

impl Reporter for HtmlReporter {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            EventKind::RunStarted { run_id, engine, .. } => {
                self.run_id = Some(run_id.clone());
                self.engine = engine.clone();
                self.started_at = Some(event.timestamp);
            }
            EventKind::CaseFinished(report) => {
                let mut report = (**report).clone();
                if let Ok(relative) = report.spec_file.strip_prefix(&self.base_dir) {
                    report.spec_file = relative.to_path_buf();
                }
                self.cases.push(report);
            }
            EventKind::RunFinished { totals } => {
                self.duration = Some(event.elapsed);
                self.totals = Some(*totals);
            }
            EventKind::Gate(gate) => self.gate = Some((**gate).clone()),
            // Case starts and anything else the runner tells: nothing to keep for the page.
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        write_atomically(&self.path, self.to_html().as_bytes())
    }
}

/// The page for a run, as the reporter writes it (for tests outside this crate).
#[doc(hidden)]
pub fn render(events: &[Event]) -> String {
    let mut reporter = HtmlReporter::new(PathBuf::new());
    for event in events {
        // Nothing to write yet: keeping an event cannot fail.
        let _ = reporter.event(event);
    }
    reporter.to_html()
}

/// `rehearsal: 2 failed, 1 error of 4 cases`, or `rehearsal: all 4 cases passed`.
fn title(totals: &Totals) -> String {
    let total = totals.total();
    if total == 0 {
        return "rehearsal: no case ran".into();
    }
    if totals.passed == total {
        let flaky = totals.flaky_note();
        return format!(
            "rehearsal: all {total} {} passed{flaky}",
            plural(total, "case", "cases")
        );
    }
    let mut parts = Vec::new();
    if totals.failed > 0 {
        parts.push(format!("{} failed", totals.failed));
    }
    if totals.errors > 0 {
        parts.push(format!(
            "{} {}",
            totals.errors,
            plural(totals.errors, "error", "errors")
        ));
    }
    if totals.skipped > 0 {
        parts.push(format!("{} skipped", totals.skipped));
    }
    format!(
        "rehearsal: {} of {total} {}",
        parts.join(", "),
        plural(total, "case", "cases")
    )
}

/// The worst result among cases: an error before a failure before a skip before a pass.
fn worst(cases: &[&CaseReport]) -> Status {
    cases
        .iter()
        .map(|c| c.status())
        .max()
        .unwrap_or(Status::Skipped)
}

/// The id of the case list of the `index`th (module, platform).
fn group_id(index: usize) -> String {
    format!("group-{}", index + 1)
}

/// The gate's findings: a row each, what fails the run first, at its file, line and
/// column.
fn gate_section(page: &mut String, gate: &crate::outcome::GateReport) {
    let failing = gate.failing().count();
    let _ = writeln!(
        page,
        "<section class=\"gate\">\n<h2>Gate <span class=\"legend\">{failing} {} that {} the run, {} {}</span></h2>",
        plural(failing, "finding", "findings"),
        if failing == 1 { "fails" } else { "fail" },
        gate.findings.len() - failing,
        plural(gate.findings.len() - failing, "warning", "warnings"),
    );
    page.push_str("<table class=\"gate\">\n<thead><tr><th scope=\"col\"></th><th scope=\"col\">where</th><th scope=\"col\">what</th><th scope=\"col\">finding</th><th scope=\"col\">platforms</th></tr></thead>\n<tbody>\n");
    let mut findings: Vec<&crate::outcome::GateFinding> = gate.findings.iter().collect();
    findings.sort_by_key(|f| !f.fails);
    for finding in findings {
        let (class, label) = if finding.fails {
            ("failed", "ERROR")
        } else {
            ("skipped", "WARN")
        };
        let what = finding.what();
        let _ = writeln!(
            page,
            "<tr class=\"{class}\"><td>{label}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&finding.place()),
            esc(&what),
            esc(&finding.message),
            esc(&finding.platforms.join(", ")),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// With --diff-against: what the change does to each case's catalog, a table a case.
fn diff_section(page: &mut String, gate: &crate::outcome::GateReport) {
    let Some(against) = &gate.diff_against else {
        return;
    };
    let _ = writeln!(
        page,
        "<section class=\"diff\">\n<h2>Catalog diff <span class=\"legend\">against {} · {} {} changed</span></h2>",
        esc(against),
        gate.diffs.len(),
        plural(gate.diffs.len(), "catalog", "catalogs"),
    );
    for diff in &gate.diffs {
        let id = &diff.id;
        let _ = writeln!(
            page,
            "<details class=\"diff\" open><summary><code>{} › {} [{}]</code> {}</summary>\n<table class=\"gate\"><tbody>",
            esc(&id.module),
            esc(&id.case),
            esc(&id.platform),
            esc(&diff.counts()),
        );
        for line in diff.lines() {
            let class = match line.chars().next() {
                Some('+') => "passed",
                Some('-') | Some('!') => "failed",
                _ if line.ends_with("[its file is not in the change]") => "error",
                _ => "skipped",
            };
            let _ = writeln!(
                page,
                "<tr class=\"{class}\"><td><code>{}</code></td></tr>",
                esc(&line)
            );
        }
        page.push_str("</tbody></table></details>\n");
    }
    page.push_str("</section>\n");
}

/// Each checked module's acceptance coverage, and the declarations no case applied.
fn coverage_section(page: &mut String, modules: &[crate::outcome::coverage::ModuleCoverage]) {
    if modules.is_empty() {
        return;
    }
    page.push_str("<section class=\"coverage\">\n<h2>Coverage <span class=\"legend\">resources declared that a case applied, and a check asserted</span></h2>\n");
    for module in modules {
        let _ = writeln!(
            page,
            "<details class=\"diff\"{open}><summary><code>{}</code></summary>",
            esc(&module.summary()),
            open = if module.uncovered.is_empty() {
                ""
            } else {
                " open"
            },
        );
        if !module.uncovered.is_empty() {
            page.push_str("<table class=\"gate\"><tbody>");
            for d in &module.uncovered {
                let _ = write!(
                    page,
                    "<tr class=\"skipped\"><td>not applied</td><td><code>{}:{}</code></td><td><code>{}</code></td></tr>",
                    esc(&d.file),
                    d.line,
                    esc(&d.resource),
                );
            }
            page.push_str("</tbody></table>\n");
        }
        page.push_str("</details>\n");
    }
    page.push_str("</section>\n");
}

/// The matrix: a row per module, a column per platform, a cell per (module, platform)
/// that links to its case list.
fn matrix(page: &mut String, groups: &[&[&CaseReport]]) {
    let mut modules: Vec<&str> = groups.iter().map(|g| g[0].id.module.as_str()).collect();
    modules.dedup();
    let mut platforms: Vec<&str> = groups.iter().map(|g| g[0].id.platform.as_str()).collect();
    platforms.sort();
    platforms.dedup();

    page.push_str("<section class=\"matrix-box\">\n<h2>Modules × platforms</h2>\n");
    page.push_str("<table class=\"matrix\">\n<thead><tr><th scope=\"col\">module</th>");
    for platform in &platforms {
        let _ = write!(page, "<th scope=\"col\">{}</th>", esc(platform));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for module in &modules {
        let _ = write!(page, "<tr><th scope=\"row\">{}</th>", esc(module));
        for platform in &platforms {
            let found = groups.iter().enumerate().find(|(_, g)| {
                g[0].id.module.as_str() == *module && g[0].id.platform.as_str() == *platform
            });
            let Some((index, cases)) = found else {
                page.push_str("<td class=\"cell none\" title=\"not planned\">–</td>");
                continue;
            };
            let status = worst(cases);
            let passed = cases
                .iter()
                .filter(|c| c.status() == Status::Passed)
                .count();
            let _ = write!(
                page,
                "<td class=\"cell {class}\" data-module=\"{module}\" data-platform=\"{platform}\" \
                 data-status=\"{class}\"><a href=\"#{id}\" title=\"{module} on {platform}: \
                 show the cases\"><span class=\"label\">{icon} {label}</span>\
                 <span class=\"count\">{passed}/{total} passed</span></a></td>",
                class = class(status),
                module = esc(module),
                platform = esc(platform),
                id = group_id(index),
                icon = icon(status),
                label = status.label(),
                total = cases.len(),
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
    page.push_str(
        "<p class=\"legend\"><span class=\"pill passed\">✓ PASS</span> \
         <span class=\"pill failed\">✗ FAIL</span> \
         <span class=\"pill error\">! ERROR</span> \
         <span class=\"pill skipped\">– SKIP</span> \
         a cell shows the worst result of its cases; click it for the list.</p>\n</section>\n",
    );
}

/// The durations: a bar per case, split by step, longest first.
fn durations(page: &mut String, cases: &[&CaseReport]) {
    let mut by_time: Vec<&CaseReport> = cases.to_vec();
    by_time.sort_by_key(|c| std::cmp::Reverse(c.duration));
    let longest = by_time
        .first()
        .map(|c| c.duration.as_secs_f64())
        .unwrap_or(0.0);

    page.push_str("<section class=\"durations\">\n<h2>Durations</h2>\n<p class=\"legend\">");
    for step in ["start", "prepare", "apply", "idempotent", "verify"] {
        let _ = write!(page, "<span class=\"key s-{step}\"></span>{step} ");
    }
    page.push_str("</p>\n<ol class=\"bars\">\n");
    for case in by_time {
        let status = case.status();
        let _ = write!(
            page,
            "<li class=\"{class}\"><span class=\"name\" title=\"{full}\">\
             <span class=\"mark\">{icon}</span> {module} › {name} \
             <span class=\"platform\">{platform}</span></span><span class=\"track\">",
            class = class(status),
            icon = icon(status),
            full = esc(&format!("{} ({})", case.id, status.label())),
            module = esc(&case.id.module),
            name = esc(&case.id.case),
            platform = esc(&case.id.platform),
        );
        for step in case.steps.iter().filter(|s| !s.duration.is_zero()) {
            let width = if longest > 0.0 {
                step.duration.as_secs_f64() / longest * 100.0
            } else {
                0.0
            };
            let _ = write!(
                page,
                "<span class=\"seg s-{name}\" style=\"width:{width:.2}%\" \
                 title=\"{name} {time} ({verb})\"></span>",
                name = step.step.name(),
                time = human_duration(step.duration),
                verb = step.status.verb(),
            );
        }
        let _ = writeln!(
            page,
            "</span><span class=\"time\">{}</span></li>",
            human_duration(case.duration)
        );
    }
    page.push_str("</ol>\n</section>\n");
}

/// The case lists, one per (module, platform); those with a case that did not pass are
/// open from the start.
fn case_lists(page: &mut String, groups: &[&[&CaseReport]]) {
    page.push_str(
        "<section class=\"groups\">\n<h2>Cases <span class=\"tools\">\
         <button type=\"button\" data-toggle=\"open\">expand all</button>\
         <button type=\"button\" data-toggle=\"close\">collapse all</button></span></h2>\n",
    );
    for (index, cases) in groups.iter().enumerate() {
        let status = worst(cases);
        let first = &cases[0].id;
        let passed = cases
            .iter()
            .filter(|c| c.status() == Status::Passed)
            .count();
        let _ = writeln!(
            page,
            "<details class=\"group {class}\" id=\"{id}\"{open}>\n<summary>\
             <span class=\"badge {class}\">{icon} {label}</span> <strong>{module}</strong> on \
             <strong>{platform}</strong> <span class=\"count\">{passed} of {total} passed</span>\
             </summary>",
            class = class(status),
            id = group_id(index),
            open = if is_bad(status) { " open" } else { "" },
            icon = icon(status),
            label = status.label(),
            module = esc(&first.module),
            platform = esc(&first.platform),
            total = cases.len(),
        );
        page.push_str("<ul class=\"cases\">\n");
        for case in cases.iter() {
            case_item(page, case);
        }
        page.push_str("</ul>\n</details>\n");
    }
    page.push_str("</section>\n");
}

/// One case: its line, and when opened its steps, its checks and what went wrong.
fn case_item(page: &mut String, case: &CaseReport) {
    let status = case.status();
    let _ =
        writeln!(
        page,
        "<li class=\"case {class}\" data-case=\"{name}\" data-status=\"{class}\"><details{open}>\
         <summary><span class=\"badge {class}\">{icon} {label}</span> <span class=\"case-name\">\
         {name}</span> <span class=\"time\">{time}</span></summary>",
        class = match case.flaky() {
            true => "passed flaky",
            false => class(status),
        },
        open = if is_bad(status) || case.flaky() {
            " open"
        } else {
            ""
        },
        icon = icon(status),
        label = if case.flaky() { "FLAKY" } else { status.label() },
        name = esc(&case.id.case),
        time = human_duration(case.duration),
    );
    // The attempts that did not pass, and the last one's verdict.
    if !case.attempts.is_empty() {
        let of = case.attempts.len() + 1;
        page.push_str("<ol class=\"attempts\">");
        for (n, attempt) in case.attempts.iter().enumerate() {
            let _ = write!(
                page,
                "<li class=\"{class}\">{icon} attempt {} of {of}: {}</li>",
                n + 1,
                esc(&attempt.reason()),
                class = class(attempt.status()),
                icon = icon(attempt.status()),
            );
        }
        let _ = write!(
            page,
            "<li class=\"{class}\">{icon} attempt {of} of {of}: {verb}</li>",
            class = class(status),
            icon = icon(status),
            verb = status.verb(),
        );
        page.push_str("</ol>\n");
    }

    page.push_str("<ol class=\"steps\">");
    for step in &case.steps {
        // A step that did not run has no time worth showing.
        let (verb, time) = match step.status {
            Status::Skipped => ("not run".to_owned(), String::new()),
            status => (
                status.verb().to_owned(),
                format!(
                    " <span class=\"time\">{}</span>",
                    human_duration(step.duration)
                ),
            ),
        };
        let _ = write!(
            page,
            "<li class=\"{class}\" title=\"{name} {verb}\">{icon} {name}{time}</li>",
            class = class(step.status),
            name = step.step.name(),
            icon = icon(step.status),
        );
    }
    page.push_str("</ol>\n");

    for step in case.steps.iter().filter(|s| is_bad(s.status)) {
        let _ = writeln!(
            page,
            "<div class=\"failure {class}\"><h4>{name} {verb}{places}</h4>",
            class = class(step.status),
            name = step.step.name(),
            verb = step.status.verb(),
            places = error_places(step),
        );
        if let Some(message) = &step.message {
            let _ = writeln!(
                page,
                "<pre class=\"message\">{}</pre>",
                esc(message.trim_end())
            );
        }
        page.push_str("</div>\n");
    }
    for check in case.checks.iter().filter(|c| is_bad(c.status)) {
        failed_check(page, case, check);
    }
    // What a step that passed says beside its verdict (exemptions, and why).
    for step in case.steps.iter().filter(|s| s.status == Status::Passed) {
        if let Some(note) = &step.message {
            let _ = writeln!(
                page,
                "<div class=\"note\"><h4>{name}</h4><pre class=\"message\">{}</pre></div>",
                esc(note.trim_end()),
                name = step.step.name(),
            );
        }
    }
    slowest_resources(page, case);

    if !case.checks.is_empty() {
        page.push_str("<ul class=\"checks\">");
        for check in &case.checks {
            let _ = write!(
                page,
                "<li class=\"{class}\">{icon} <code>{label}</code></li>",
                class = class(check.status),
                icon = icon(check.status),
                label = esc(&check.label),
            );
        }
        page.push_str("</ul>\n");
    }

    let failed_steps: Vec<&StepReport> = case.steps.iter().filter(|s| is_bad(s.status)).collect();
    for step in &failed_steps {
        log_excerpt(page, step, true);
    }
    // A failed check comes after steps that passed: Puppet's apply output is the context.
    if failed_steps.is_empty() && is_bad(status) {
        if let Some(apply) = case.step(crate::outcome::Step::Apply) {
            log_excerpt(page, apply, false);
        }
    }

    if let Some(container) = &case.kept_container {
        let _ = writeln!(
            page,
            "<p class=\"kept\">kept container: <code>docker exec -it {} bash</code></p>",
            esc(container)
        );
    }
    page.push_str("</details></li>\n");
}

/// A failed check: its label, where it is written, and a row per attribute that did not
/// match, expected beside actual.
fn failed_check(page: &mut String, case: &CaseReport, check: &CheckReport) {
    let place = match check.line {
        Some(line) => format!("{}:{line}", case.spec_file.display()),
        None => case.spec_file.display().to_string(),
    };
    let _ = writeln!(
        page,
        "<div class=\"failure {class}\"><h4>check <code>{label}</code> {verb} \
         <span class=\"where\">{place}</span></h4>",
        class = class(check.status),
        label = esc(&check.label),
        verb = check.status.verb(),
        place = esc(&place),
    );
    if !check.failures.is_empty() {
        page.push_str(
            "<table class=\"mismatch\"><thead><tr><th>attribute</th><th>expected</th>\
             <th>actual</th></tr></thead><tbody>\n",
        );
        for failure in &check.failures {
            match row(failure) {
                Some((attribute, expected, actual)) => {
                    let _ = writeln!(
                        page,
                        "<tr><td>{}</td><td class=\"expected\">{}</td><td class=\"actual\">{}\
                         </td></tr>",
                        esc(attribute),
                        esc(&expected),
                        esc(actual)
                    );
                }
                None => {
                    let _ = writeln!(
                        page,
                        "<tr><td colspan=\"3\" class=\"text\">{}</td></tr>",
                        esc(&failure.to_string())
                    );
                }
            }
        }
        page.push_str("</tbody></table>\n");
    }
    page.push_str("</div>\n");
}

/// A failure as a row of the table, attribute, expected and actual: a mismatch, or a text
/// that is (or, for `!text`, is not) where it should be. Other failures are a line of text.
fn row(failure: &CheckFailure) -> Option<(&str, String, &str)> {
    match failure {
        CheckFailure::Mismatch(m) => Some((&m.attribute, m.expected.clone(), &m.actual)),
        CheckFailure::Contains {
            attribute,
            expected,
            present: false,
        } => Some((attribute, expected.clone(), "not found")),
        CheckFailure::Contains {
            attribute,
            expected,
            present: true,
        } => Some((attribute, format!("no {expected}"), "it is there")),
        _ => None,
    }
}

/// The first apply's slowest resources, from its report: where Puppet spent the time;
/// and a word when the apply ran without rehearsal's driver.
fn slowest_resources(page: &mut String, case: &CaseReport) {
    let Some(apply) = case.steps.iter().find(|s| s.step == Step::Apply) else {
        return;
    };
    if apply.without_driver {
        page.push_str(
            "<p class=\"note\">plain <code>puppet apply</code>: this platform's Puppet cannot \
             run rehearsal's driver, so no run report (verdicts read from Puppet's text)</p>\n",
        );
    }
    if apply.slowest.is_empty() {
        return;
    }
    page.push_str(
        "<table class=\"slowest\"><caption>slowest resources of the apply</caption>\
         <tr><th>resource</th><th>declared at</th><th>time</th></tr>",
    );
    for timed in &apply.slowest {
        let place = crate::puppet::report::place(timed.file.as_deref(), timed.line);
        let _ = write!(
            page,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"time\">{}</td></tr>",
            esc(&timed.resource),
            esc(place.as_deref().unwrap_or_default()),
            match timed.duration.as_millis() {
                ms @ 0..=999 => format!("{ms} ms"),
                _ => human_duration(timed.duration),
            },
        );
    }
    page.push_str("</table>\n");
}

/// Where a failed apply's Puppet errors are, beside its heading: ` <span class="where">
/// modules/motd/manifests/init.pp:5:3</span>`, once a place.
fn error_places(step: &StepReport) -> String {
    let mut places: Vec<String> = Vec::new();
    for error in &step.errors {
        let place = error.place();
        if !places.contains(&place) {
            places.push(place);
        }
    }
    places
        .iter()
        .map(|p| format!(" <span class=\"where\">{}</span>", esc(p)))
        .collect()
}

/// The end of a step's output: open for a failed step, folded for a passing one.
fn log_excerpt(page: &mut String, step: &StepReport, failed: bool) {
    let output = clean(&step.output);
    let lines: Vec<&str> = output.trim_end().lines().collect();
    if lines.is_empty() {
        return;
    }
    let shown = lines.len().min(LOG_TAIL_LINES);
    let what = if shown < lines.len() {
        format!("last {shown} of {} lines", lines.len())
    } else {
        format!("{} {}", lines.len(), plural(lines.len(), "line", "lines"))
    };
    let _ = writeln!(
        page,
        "<details class=\"log\"{open}><summary>{name} output{passed} ({what})</summary>\
         <pre>{text}</pre></details>",
        open = if failed { " open" } else { "" },
        name = step.step.name(),
        passed = if failed { "" } else { ", the step passed" },
        text = esc(&lines[lines.len() - shown..].join("\n")),
    );
}

fn is_bad(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Error)
}

/// The CSS class of a status: `passed`, `failed`, `error`, `skipped`.
fn class(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Error => "error",
        Status::Skipped => "skipped",
    }
}

/// A sign beside each status word, so the colour is never the only clue.
fn icon(status: Status) -> &'static str {
    match status {
        Status::Passed => "✓",
        Status::Failed => "✗",
        Status::Error => "!",
        Status::Skipped => "–",
    }
}

/// Text as it may appear in the page, in an element or a quoted attribute: cleaned of
/// terminal codes and control characters, with `&`, `<`, `>`, `"` and `'` escaped.
fn esc(text: &str) -> String {
    let text = clean(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's styles: colours that stay apart for most colour vision (a bluish green, a
/// vermilion red, an amber, a grey), each always with a word and a sign.
const STYLE: &str = r#"
:root{--pass:#1b7a4a;--pass-bg:#e3f4ea;--fail:#c0392b;--fail-bg:#fde3df;--err:#a35200;
--err-bg:#fff0d6;--skip:#5f6b76;--skip-bg:#eef1f4;--ink:#1d232a;--muted:#5f6b76;--line:#d8dee4;
--paper:#ffffff;--page:#f5f7f9;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--page);color:var(--ink);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{background:#1d232a;color:#fff;padding:18px 28px 16px}
header h1{margin:0;font-size:22px;font-weight:650;letter-spacing:.2px}
header h1 span{font-weight:400;color:#aab4be}
header .meta{margin:4px 0 12px;color:#c4ccd4}
header code{font-family:var(--mono);font-size:12.5px;color:#fff}
.totals{margin:0;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.totals .total{font-weight:600;margin-right:6px}
.pill{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;font-size:13px;
border:1px solid transparent}
.pill.passed{background:var(--pass-bg);color:var(--pass);border-color:var(--pass)}
.pill.failed{background:var(--fail-bg);color:var(--fail);border-color:var(--fail)}
.pill.error{background:var(--err-bg);color:var(--err);border-color:var(--err)}
.pill.skipped{background:var(--skip-bg);color:var(--skip);border-color:var(--skip)}
.pill.flaky{background:var(--err-bg);color:var(--err);border-color:var(--err)}
header .pill.zero{background:transparent;color:#aab4be;border-color:#4a545e}
main{padding:20px 28px 40px;max-width:1500px}
h2{font-size:16px;margin:0 0 10px;font-weight:650}
section{background:var(--paper);border:1px solid var(--line);border-radius:8px;padding:16px 18px;
margin-bottom:18px}
.overview{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:18px;align-items:start}
.overview section{margin-bottom:0}
@media (max-width:1000px){.overview{grid-template-columns:1fr}}
.groups{margin-top:18px}
.empty{font-size:16px;color:var(--muted)}
table.matrix{border-collapse:separate;border-spacing:4px;width:100%}
.matrix th{text-align:left;font-weight:600;padding:4px 8px;white-space:nowrap}
.matrix th[scope=row]{width:1%;padding-right:16px}
.matrix thead th{color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.4px}
.matrix td.cell{padding:0;border-radius:6px;border:1px solid;min-width:110px}
.matrix td.cell a{display:block;padding:8px 10px;color:inherit;text-decoration:none}
.matrix td.cell a:hover,.matrix td.cell a:focus{outline:2px solid var(--ink);outline-offset:1px;
border-radius:6px}
.cell .label{display:block;font-weight:700}
.cell .count{display:block;font-size:12px;opacity:.85}
.cell.passed{background:var(--pass-bg);color:var(--pass);border-color:var(--pass)}
.cell.failed{background:var(--fail);color:#fff;border-color:var(--fail)}
.cell.error{background:var(--err-bg);color:var(--err);border-color:var(--err);
background-image:repeating-linear-gradient(135deg,transparent 0 6px,rgba(163,82,0,.12) 6px 12px)}
.cell.skipped{background:var(--skip-bg);color:var(--skip);border-color:var(--skip)}
.cell.none{color:var(--line);text-align:center;border:1px dashed var(--line)}
.legend{color:var(--muted);font-size:12.5px;margin:10px 0 0}
.legend .pill{font-size:11.5px;padding:0 7px}
.durations .legend{margin:0 0 10px}
.key{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 8px;vertical-align:-1px}
.s-start{background:#9aa5b1}.s-prepare{background:#c9a227}.s-apply{background:#2f6fb0}
.s-idempotent{background:#7fb3e0}.s-verify{background:#6b4fa3}
ol.bars{list-style:none;margin:0;padding:0}
.bars li{display:grid;grid-template-columns:minmax(0,42%) minmax(0,1fr) 64px;gap:10px;align-items:center;
padding:3px 0;border-bottom:1px solid #eef1f4}
.bars .name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.bars .platform{color:var(--muted);font-size:12px}
.bars .mark{display:inline-block;width:1.2em;text-align:center;font-weight:700}
.bars li.passed .mark{color:var(--pass)}.bars li.failed .mark{color:var(--fail)}
.bars li.error .mark{color:var(--err)}.bars li.skipped .mark{color:var(--skip)}
.track{display:flex;height:14px;background:#eef1f4;border-radius:3px;overflow:hidden}
.seg{display:block;height:100%;border-right:1px solid #fff}
.bars .time{text-align:right;font-variant-numeric:tabular-nums;color:var(--muted)}
h2 .tools{float:right;font-weight:400}
button{font:inherit;font-size:12.5px;background:var(--paper);border:1px solid var(--line);border-radius:6px;
padding:2px 10px;margin-left:6px;cursor:pointer}
button:hover{background:var(--page)}
details.group{border:1px solid var(--line);border-left:5px solid;border-radius:6px;margin:10px 0;
scroll-margin-top:12px}
details.group.passed{border-left-color:var(--pass)}details.group.failed{border-left-color:var(--fail)}
details.group.error{border-left-color:var(--err)}details.group.skipped{border-left-color:var(--skip)}
details.group.target{box-shadow:0 0 0 3px #2f6fb0}
details.group>summary{padding:9px 12px;cursor:pointer;font-size:14.5px}
details.group .count{color:var(--muted);margin-left:6px}
.badge{display:inline-block;min-width:62px;text-align:center;font-weight:700;font-size:12px;
padding:1px 6px;border-radius:4px;border:1px solid}
.badge.passed{color:var(--pass);background:var(--pass-bg)}.badge.failed{color:#fff;background:var(--fail);border-color:var(--fail)}
.badge.error{color:var(--err);background:var(--err-bg)}.badge.skipped{color:var(--skip);background:var(--skip-bg)}
ul.cases{list-style:none;margin:0;padding:0 12px 8px}
li.case{border-top:1px solid #eef1f4}
li.case>details>summary{padding:7px 4px;cursor:pointer}
li.case .case-name{font-weight:600}
li.case summary .time,.steps .time{color:var(--muted);font-variant-numeric:tabular-nums}
li.case>details{padding-bottom:6px}
ol.steps{list-style:none;display:flex;flex-wrap:wrap;gap:6px;margin:2px 0 8px;padding:0 0 0 28px}
ol.steps li{font-size:12.5px;padding:1px 8px;border-radius:4px;border:1px solid var(--line)}
ol.steps li.passed{color:var(--pass)}ol.steps li.failed{color:#fff;background:var(--fail);border-color:var(--fail)}
ol.steps li.error{color:var(--err);background:var(--err-bg);border-color:var(--err)}
ol.steps li.skipped{color:var(--skip);border-style:dashed}
ol.steps li.failed .time{color:#fff}ol.steps li.error .time{color:var(--err)}
ul.checks{list-style:none;margin:6px 0;padding:0 0 0 28px;columns:2 320px;font-size:13px}
ul.checks li.passed{color:var(--pass)}ul.checks li.failed{color:var(--fail);font-weight:600}
ul.checks li.error{color:var(--err)}ul.checks li.skipped{color:var(--skip)}
ul.checks code{color:var(--ink);font-weight:400}
.failure{margin:8px 0 8px 28px;padding:8px 12px;border-radius:6px;border:1px solid}
.failure.failed{background:#fff7f5;border-color:#f1b5aa}
.failure.error{background:#fffaf0;border-color:#f0cf9a}
.failure h4{margin:0 0 6px;font-size:13.5px}
.badge.passed.flaky{color:var(--err);background:var(--err-bg)}
ol.attempts{margin:6px 0 6px 28px;padding:0 0 0 18px;font-size:13px}
ol.attempts li.failed{color:var(--fail)}ol.attempts li.error{color:var(--err)}ol.attempts li.passed{color:var(--pass)}
.note{margin:8px 0 8px 28px;padding:6px 12px;border-radius:6px;border:1px solid #c9d7e8;background:#f6f9fd}
.note h4{margin:0 0 4px;font-size:13px}
.slowest{margin:8px 0 8px 28px;border-collapse:collapse;font-size:13px}
.slowest caption{text-align:left;color:#555;padding-bottom:2px}
.slowest td,.slowest th{padding:2px 10px 2px 0;text-align:left}
.slowest .time{text-align:right}
.failure .where{font-weight:400;color:var(--muted);font-family:var(--mono);font-size:12px;margin-left:8px}
code,pre{font-family:var(--mono);font-size:12.5px}
pre{margin:0;white-space:pre-wrap;word-break:break-word}
table.mismatch{border-collapse:collapse;font-size:12.5px;width:100%}
.mismatch th{text-align:left;color:var(--muted);font-weight:600;padding:2px 10px 2px 0;border-bottom:1px solid #f1b5aa}
.mismatch td{font-family:var(--mono);padding:3px 10px 3px 0;vertical-align:top;word-break:break-word}
.mismatch td.expected{color:var(--pass)}.mismatch td.actual{color:var(--fail);font-weight:600}
details.log{margin:8px 0 4px 28px}
details.log summary{cursor:pointer;color:var(--muted);font-size:12.5px}
details.log pre{background:#1d232a;color:#e6edf3;padding:10px 12px;border-radius:6px;margin-top:4px;
max-height:420px;overflow:auto}
.kept{margin:6px 0 0 28px;color:var(--muted)}
"#;

/// A cell opens its case list (and the address `#group-N` does, so a link can share one).
const SCRIPT: &str = r#"
(function () {
  function show(id, scroll) {
    var group = document.getElementById(id);
    if (!group || !group.classList.contains('group')) return;
    document.querySelectorAll('details.group.target').forEach(function (g) {
      g.classList.remove('target');
    });
    group.open = true;
    group.classList.add('target');
    if (scroll) group.scrollIntoView({block: 'start'});
  }
  document.querySelectorAll('td.cell a').forEach(function (a) {
    a.addEventListener('click', function () { show(a.getAttribute('href').slice(1), false); });
  });
  function fromAddress() {
    if (location.hash.length > 1) show(decodeURIComponent(location.hash.slice(1)), true);
  }
  window.addEventListener('hashchange', fromAddress);
  fromAddress();
  document.querySelectorAll('button[data-toggle]').forEach(function (b) {
    b.addEventListener('click', function () {
      var open = b.getAttribute('data-toggle') === 'open';
      document.querySelectorAll('details.group, li.case > details').forEach(function (d) {
        d.open = open;
      });
    });
  });
})();
"#;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{render, row, HtmlReporter};
    use crate::outcome::{CheckFailure, EventKind, PuppetError, Totals};
    use crate::report::{fixtures, Reporter};

    #[test]
    fn a_small_run() {
        insta::assert_snapshot!(render(&fixtures::run()));
    }

    #[test]
    fn the_file_is_written_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/report.html");
        let mut reporter = HtmlReporter::new(path.clone());
        for event in fixtures::run() {
            reporter.event(&event).unwrap();
        }
        reporter.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(path).unwrap(),
            render(&fixtures::run())
        );
    }

    #[test]
    fn each_cell_has_the_worst_result_of_its_cases() {
        let html = render(&fixtures::run());
        for (module, platform, status) in [
            ("motd", "debian12", "passed"),
            ("motd", "rocky9", "failed"),
            ("ntp", "debian12", "error"),
        ] {
            let cell = format!(
                "<td class=\"cell {status}\" data-module=\"{module}\" data-platform=\"{platform}\""
            );
            assert!(html.contains(&cell), "no {cell} in\n{html}");
        }
        // ntp has no case on rocky9: an empty cell, not a link.
        assert_eq!(html.matches("<td class=\"cell none\"").count(), 1);
    }

    #[test]
    fn a_failed_check_shows_expected_beside_actual_and_its_spec_line() {
        let mut case = fixtures::failed_check();
        case.checks[0].line = Some(12);
        let html = render(&[fixtures::event(EventKind::CaseFinished(Box::new(case)))]);
        assert!(html.contains("<span class=\"where\">modules/motd/rehearsal.yaml:12</span>"));
        assert!(html.contains(
            "<tr><td>mode</td><td class=\"expected\">0644</td><td class=\"actual\">0600</td></tr>"
        ));
        // The apply passed: its output is there for context, folded.
        assert!(html.contains(
            "<details class=\"log\"><summary>apply output, the step passed (3 lines)</summary>"
        ));
    }

    #[test]
    fn a_failed_step_shows_its_message_and_the_end_of_its_output() {
        let html = render(&fixtures::run());
        assert!(html.contains("<h4>idempotent failed</h4>"));
        assert!(html.contains("the second apply changed 1 resource:\nExec[refresh ntp]/returns"));
        assert!(html.contains("<summary>idempotent output (22 lines)</summary>"));
        assert!(html.contains("Notice: Applied catalog in 0.90 seconds</pre>"));
        assert!(!html.contains('\u{1b}'));
    }

    #[test]
    fn a_long_output_is_cut_to_its_end() {
        let mut case = fixtures::not_idempotent();
        case.steps[2].output = (1..=100).map(|i| format!("line {i}\n")).collect();
        let html = render(&[fixtures::event(EventKind::CaseFinished(Box::new(case)))]);
        assert!(html.contains("idempotent output (last 40 of 100 lines)"));
        assert!(html.contains("<pre>line 61\n"));
        assert!(!html.contains("line 60\n"));
    }

    /// Names, messages and output come from specs and containers: none of it may become
    /// markup or leave an attribute.
    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;";
        let mut case = fixtures::not_idempotent();
        case.id.module = hostile.into();
        case.id.case = hostile.into();
        case.id.platform = hostile.into();
        case.steps[2].message = Some(hostile.into());
        case.steps[2].output = format!("{hostile}\n</pre></details>{hostile}\n");
        case.checks[0].label = hostile.into();
        case.checks[0].status = crate::outcome::Status::Failed;
        case.checks[0].failures = vec![CheckFailure::mismatch("mode", hostile, hostile)];
        let run_started = fixtures::event(EventKind::RunStarted {
            run_id: hostile.into(),
            total: 1,
            engine: None,
        });
        let html = render(&[
            run_started,
            fixtures::event(EventKind::CaseFinished(Box::new(case))),
        ]);
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("</pre></details><"));
        assert!(html.contains(
            "data-case=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img "
        ));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;"));
        assert!(html.contains("&amp;amp;"));
    }

    #[test]
    fn the_page_has_the_totals_of_the_run() {
        let mut events = fixtures::run();
        if let EventKind::RunFinished { totals } = &mut events.last_mut().unwrap().kind {
            totals.skipped = 2;
        }
        let html = render(&events);
        assert!(
            html.contains("<span class=\"total\">6 cases</span>"),
            "{html}"
        );
        assert!(html.contains("2 skipped</span>"));
    }

    #[test]
    fn a_catalog_diff_is_a_table_a_case() {
        let mut events = fixtures::run();
        events.insert(
            1,
            fixtures::event(EventKind::Gate(Box::new(fixtures::gate_with_diff()))),
        );
        let page = render(&events);
        assert!(page.contains("<h2>Catalog diff <span class=\"legend\">against `origin/main`, from its merge base with HEAD 1a2b3c4d5e6f · 1 catalog changed</span></h2>"), "{page}");
        assert!(
            page.contains("<code>motd › default [debian12]</code> +1 -1 ~3</summary>"),
            "{page}"
        );
        assert!(page.contains("<tr class=\"passed\"><td><code>+ Service[motd] (modules/motd/manifests/service.pp:2)</code></td></tr>"), "{page}");
        assert!(page.contains("<tr class=\"error\"><td><code>~ File[/etc/issue] (modules/motd/manifests/issue.pp:3): content: &#39;Debian&#39; → &#39;Welcome&#39; [its file is not in the change]</code></td></tr>"), "{page}");
    }

    #[test]
    fn a_flaky_case_is_labelled_so_and_lists_its_attempts() {
        let page = render(&fixtures::run_with_retries());
        assert!(page.contains("~ 1 flaky</span>"), "{page}");
        assert!(
            page.contains("<title>rehearsal: 1 failed of 2 cases</title>"),
            "{page}"
        );
        assert!(
            page.contains("<span class=\"badge passed flaky\">✓ FLAKY</span>"),
            "{page}"
        );
        assert!(page.contains(
            "<li class=\"error\">! attempt 1 of 2: apply errored: the container stopped during \
             the step: it was killed (exit 137)</li><li class=\"passed\">✓ attempt 2 of 2: passed</li>"
        ), "{page}");
        assert!(page.contains(
            "<li class=\"failed\">✗ attempt 1 of 2: check file /etc/motd failed: mode: expected \
             0644, got 0600</li>"
        ), "{page}");
    }

    #[test]
    fn the_page_fetches_nothing() {
        let html = render(&fixtures::run());
        for fetching in [" src=", "<link", "url(", "@import", "http://", "https://"] {
            assert!(!html.contains(fetching), "the page has {fetching}");
        }
    }

    #[test]
    fn the_bars_are_longest_first_and_scaled_to_the_longest() {
        let html = render(&fixtures::run());
        let servers = html.find("ntp › servers").unwrap();
        let custom = html.find("motd › custom").unwrap();
        let default = html.find("motd › default").unwrap();
        // 11.1s, 10.1s, 8.2s.
        assert!(servers < custom && custom < default);
        // The longest case's apply: 5.2s of 11.1s.
        assert!(html.contains("style=\"width:46.85%\" title=\"apply 5.2s (passed)\""));
    }

    #[test]
    fn an_empty_run_says_so() {
        let html = render(&[fixtures::event(EventKind::RunFinished {
            totals: Totals::default(),
        })]);
        assert!(html.contains("<title>rehearsal: no case ran</title>"));
        assert!(html.contains("No case ran"));
        assert!(!html.contains("<table class=\"matrix\">"));
    }

    #[test]
    fn mismatches_are_split_into_expected_and_actual() {
        assert_eq!(
            row(&CheckFailure::mismatch("mode", "0644", "0600")),
            Some(("mode", "0644".to_string(), "0600"))
        );
        let missing = CheckFailure::Contains {
            attribute: "contains".into(),
            expected: "!debug".into(),
            present: false,
        };
        assert_eq!(
            row(&missing),
            Some(("contains", "!debug".to_string(), "not found"))
        );
        assert_eq!(
            row(&CheckFailure::cannot_check("curl or wget not in the image")),
            None
        );
        let retried = CheckFailure::StillFailing {
            after: Duration::from_secs(30),
            tries: 28,
            every: Duration::from_secs(1),
        };
        assert_eq!(row(&retried), None);

        // On the page: a row for the mismatch, a line of text for the rest.
        let mut case = fixtures::failed_check();
        case.checks[0].failures = vec![missing, retried];
        let html = render(&[crate::report::fixtures::event(EventKind::CaseFinished(
            Box::new(case),
        ))]);
        assert!(html.contains(
            "<tr><td>contains</td><td class=\"expected\">!debug</td><td class=\"actual\">not found</td></tr>"
        ));
        assert!(html.contains(
            "<tr><td colspan=\"3\" class=\"text\">still failing after 30s (28 tries, every 1s)</td></tr>"
        ));
    }

    #[test]
    fn a_failed_apply_names_where_its_errors_are() {
        let mut case = fixtures::not_idempotent();
        case.steps[2].errors = vec![
            PuppetError {
                file: "modules/ntp/manifests/init.pp".into(),
                line: 5,
                column: Some(3),
                message: "Error: Syntax error at '}' (file: modules/ntp/manifests/init.pp, line: 5, column: 3)".into(),
            },
            PuppetError {
                file: "modules/ntp/templates/ntp.conf.erb".into(),
                line: 2,
                column: None,
                message: "Error: Failed to parse template ntp/ntp.conf.erb".into(),
            },
        ];
        let html = render(&[crate::report::fixtures::event(EventKind::CaseFinished(
            Box::new(case),
        ))]);
        assert!(html.contains(
            "<h4>idempotent failed <span class=\"where\">modules/ntp/manifests/init.pp:5:3</span> \
             <span class=\"where\">modules/ntp/templates/ntp.conf.erb:2</span></h4>"
        ));
    }

    #[test]
    fn the_gates_findings_are_listed_before_the_cases() {
        let html = render(&fixtures::run_with_gate());
        let gate = html
            .find("<section class=\"gate\">")
            .expect("a gate section");
        assert!(gate < html.find("Modules × platforms").unwrap());
        assert!(html.contains("<tr class=\"failed\"><td>ERROR</td><td><code>modules/motd/manifests/init.pp:5:3</code></td><td>manifest</td><td>Syntax error at &#39;}&#39;</td><td>debian12, debian13</td></tr>"), "{html}");
        assert!(
            html.contains("<td>lint double_quoted_strings</td>"),
            "{html}"
        );
        assert!(
            html.contains("2 findings that fail the run, 1 warning"),
            "{html}"
        );
    }
}
