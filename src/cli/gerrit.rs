//! Gerrit: the settings of a vote, and `rehearsal gerrit-review` posting one from reports.

use std::path::PathBuf;

use crate::error::{exit, Error};

#[derive(Debug, clap::Args)]
pub struct GerritReviewArgs {
    /// A JSON report of the run (repeatable: one per shard).
    #[arg(long = "report", value_name = "FILE", required = true)]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub gerrit: GerritArgs,
    /// Print the review as JSON instead of posting it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where and how to vote; each flag overrides the Gerrit Trigger's variable.
#[derive(Debug, Clone, clap::Args)]
pub struct GerritArgs {
    /// Gerrit's address (else GERRIT_API_URL, else from the trigger's variables).
    #[arg(long = "gerrit-url", value_name = "URL")]
    pub url: Option<String>,
    /// The project (else GERRIT_PROJECT).
    #[arg(long = "gerrit-project", value_name = "NAME")]
    pub project: Option<String>,
    /// The change number (else GERRIT_CHANGE_NUMBER).
    #[arg(long = "gerrit-change", value_name = "N")]
    pub change: Option<u64>,
    /// The patch set's revision (else GERRIT_PATCHSET_REVISION).
    #[arg(long = "gerrit-revision", value_name = "SHA")]
    pub revision: Option<String>,
    /// The label to vote on.
    #[arg(long = "gerrit-label", value_name = "NAME", default_value = "Verified")]
    pub label: String,
    /// The vote when every case passed.
    #[arg(
        long = "gerrit-pass-value",
        value_name = "N",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub pass_value: i32,
    /// The vote otherwise.
    #[arg(long = "gerrit-fail-value", value_name = "N", default_value_t = -1, allow_negative_numbers = true)]
    pub fail_value: i32,
    /// Whom Gerrit notifies: NONE, OWNER, OWNER_REVIEWERS or ALL (default: Gerrit's).
    #[arg(long = "gerrit-notify", value_name = "WHO")]
    pub notify: Option<String>,
}

/// Where to post, as whom, and how to vote.
#[derive(Clone)]
pub(super) struct GerritSettings {
    target: crate::gerrit::Target,
    credentials: crate::gerrit::Credentials,
    options: crate::gerrit::Options,
}

pub(super) fn gerrit_settings(args: &GerritArgs) -> Result<GerritSettings, Error> {
    let target = crate::gerrit::Target::from_env(&crate::gerrit::TargetArgs {
        url: args.url.clone(),
        project: args.project.clone(),
        change: args.change,
        revision: args.revision.clone(),
    })?;
    let credentials = crate::gerrit::Credentials::from_env()?;
    let options = review_options(args)?;
    Ok(GerritSettings {
        target,
        credentials,
        options,
    })
}

fn review_options(args: &GerritArgs) -> Result<crate::gerrit::Options, Error> {
    let mut options = crate::gerrit::Options::from_env();
    options.label = args.label.clone();
    options.pass_value = args.pass_value;
    options.fail_value = args.fail_value;
    options.notify = args
        .notify
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(Error::from)?;
    options.validate()?;
    Ok(options)
}

/// The early vote, posted as soon as the gate failed: Verified -1 (the options' failing
/// value) with the gate's findings and the cases whose catalogs do not compile, saying the
/// full results follow; the run's final review replaces the vote (Gerrit keeps the last).
pub(super) async fn post_early_vote(
    report: &crate::gerrit::Report,
    settings: &GerritSettings,
) -> Result<(), Error> {
    let mut review = review_of(report, &settings.options)?;
    let failing = report.gate.as_ref().map_or(0, |g| g.failing().count());
    let cases = report.cases.len();
    review.message = format!(
        "rehearsal: the gate failed before any case started: {failing} {} and {cases} {} whose catalog does not compile. The other cases are running; the full results follow and replace this vote.\n\n{}",
        if failing == 1 { "problem" } else { "problems" },
        if cases == 1 { "case" } else { "cases" },
        review.message
    );
    let posted = crate::gerrit::post(&settings.target, &settings.credentials, &review).await?;
    println!("{posted} (early: the gate's findings)");
    Ok(())
}

/// The review of a run; the report's paths are relative to the working directory.
fn review_of(
    report: &crate::gerrit::Report,
    options: &crate::gerrit::Options,
) -> Result<crate::gerrit::ReviewInput, Error> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the working directory: {e}")))?;
    Ok(crate::gerrit::review_from_report(
        report, &cwd, None, options,
    ))
}

pub(super) async fn post_review(
    report: &crate::gerrit::Report,
    settings: &GerritSettings,
) -> Result<(), Error> {
    let review = review_of(report, &settings.options)?;
    let posted = crate::gerrit::post(&settings.target, &settings.credentials, &review).await?;
    println!("{posted}");
    Ok(())
}

pub(super) async fn gerrit_review(args: GerritReviewArgs) -> Result<u8, Error> {
    let mut report = crate::gerrit::Report {
        cases: Vec::new(),
        gate: None,
    };
    for file in &args.reports {
        let read = crate::gerrit::Report::read(file)?;
        report.cases.extend(read.cases);
        if let Some(gate) = read.gate {
            let kept = report.gate.get_or_insert_with(Default::default);
            kept.findings.extend(gate.findings);
            kept.modules.extend(gate.modules);
            kept.platforms.extend(gate.platforms);
        }
    }
    if args.dry_run {
        let review = review_of(&report, &review_options(&args.gerrit)?)?;
        // Strings, numbers and string-keyed maps only: always JSON.
        let json = serde_json::to_string_pretty(&review).expect("a review is JSON");
        println!("{json}");
        return Ok(exit::SUCCESS);
    }
    let settings = gerrit_settings(&args.gerrit)?;
    post_review(&report, &settings).await?;
    Ok(exit::SUCCESS)
}
