//! Gerrit reviews: the result of a run posted to the change under test, as a vote, a
//! summary message and inline comments at the lines that failed.
//!
//! ```no_run
//! # async fn example() -> Result<(), rehearsal::gerrit::GerritError> {
//! use rehearsal::gerrit::{self, Credentials, Options, Report, Target, TargetArgs};
//! let report = Report::read("target/reports/run.json".as_ref())?;
//! let target = Target::from_env(&TargetArgs::default())?;
//! let credentials = Credentials::from_env()?;
//! let options = Options::from_env();
//! let cwd = std::env::current_dir().unwrap();
//! let review = gerrit::review_from_report(&report, &cwd, None, &options);
//! let posted = gerrit::post(&target, &credentials, &review).await?;
//! println!("{posted}");
//! # Ok(()) }
//! ```
//!
//! [`config`] reads the settings (flags over the Jenkins Gerrit Trigger's variables),
//! [`report`] the run (the JSON report, or the runner's case reports), [`review`] makes
//! the review from the run's [`findings`](crate::findings), and [`client`] posts it.

pub mod client;
pub mod config;
mod error;
pub mod report;
pub mod review;

pub use client::{post, post_with, Posted, Retry};
pub use config::{Credentials, Notify, Options, Target, TargetArgs};
pub use error::GerritError;
pub use report::Report;
pub use review::{review_from_report, CommentInput, ReviewInput, PATCHSET_LEVEL, TAG};
