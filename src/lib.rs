//! rehearsal: functional tests for Puppet modules in disposable containers.
//!
//! The crate follows the pipeline a run goes through, one folder a stage:
//! [`spec`] reads `rehearsal.yaml` files, [`deps`] resolves each module's fixtures (paths,
//! git, `.fixtures.yml`) into directories, [`plan`] turns them into (module, case,
//! platform) rows, [`platform`] makes sure each platform's image exists, [`backend`] is the
//! container engine behind a small trait, [`runner`] drives each case through its steps,
//! [`probe`] turns a case's checks into one shell script and reads its answers, and
//! [`report`] turns the one stream of events into console lines, JUnit and JSON.
//! [`findings`] places a run's failures at lines of the change, for the Gerrit review
//! ([`gerrit`]) and the GitHub annotations alike.

pub mod backend;
pub mod cli;
pub mod deps;
pub mod error;
pub mod exit;
pub mod findings;
pub mod gate;
pub mod gerrit;
pub mod host;
pub mod http;
pub mod init;
pub mod labels;
pub mod layout;
pub mod outcome;
pub mod plan;
pub mod platform;
pub mod probe;
pub mod puppet;
pub mod report;
pub mod runner;
pub mod select;
pub mod snapshot;
pub mod spec;
pub mod text;
