//! The command line: arguments (clap), and each command wiring the pipeline stages
//! together. The stages themselves know nothing of the command line; each command's
//! wiring lives in a file of its own here.

mod check;
mod gerrit;
mod images;
mod init;
mod login;
mod run;
mod select;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};

use crate::backend::{Engine, EngineKind};
use crate::error::{exit, Error};

pub use check::CheckArgs;
pub use gerrit::{GerritArgs, GerritReviewArgs};
pub use images::{CleanArgs, ImagesCommand};
pub use init::InitArgs;
pub use login::LoginArgs;
pub use run::{Annotations, RunArgs};
pub use select::SelectArgs;

/// Functional tests for Puppet modules in disposable containers.
#[derive(Debug, Parser)]
#[command(name = "rehearsal", version, about, long_about = None)]
pub struct Cli {
    /// The container engine (default: the first that answers of docker, podman, lxc).
    #[arg(
        long,
        global = true,
        env = "REHEARSAL_ENGINE",
        value_enum,
        value_name = "ENGINE"
    )]
    pub engine: Option<EngineArg>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cases of every module found under the paths.
    Run(Box<RunArgs>),
    /// Show the planned (module, case, platform) rows without running them.
    List(SelectArgs),
    /// Build or list platform images.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Remove the containers the harness labelled on this engine (crashed runs' too).
    Clean(CleanArgs),
    /// Open a shell (or run a command) in a case's kept container; without one, run the
    /// case and keep its container first.
    Login(LoginArgs),
    /// Write a starter rehearsal.yaml for a module: a case per class (or example), a
    /// check per resource that can be read from the code.
    Init(InitArgs),
    /// Run a case's checks against a running container (a kept one, or your own).
    Check(CheckArgs),
    /// Post one review (a vote, a summary, inline comments) to the Gerrit change under
    /// test, from the JSON reports of a run.
    GerritReview(GerritReviewArgs),
    /// Print the AppArmor profile rehearsal runs Docker's and Podman's containers under on
    /// an AppArmor host (`rehearsal apparmor-profile | sudo apparmor_parser -r` loads it
    /// for a user who is not root; as root rehearsal loads it itself).
    #[command(name = "apparmor-profile")]
    AppArmorProfile,
}

/// Parses the arguments, runs the command, and returns the exit status.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Before anything runs: no report may show a secret.
    for warning in crate::text::redact::init_from_env() {
        eprintln!("{warning}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::from(exit::ENGINE);
        }
    };
    let code = match runtime.block_on(dispatch(cli.command, cli.engine)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("{err}");
            err.exit_code()
        }
    };
    std::process::ExitCode::from(code)
}

async fn dispatch(command: Command, engine: Option<EngineArg>) -> Result<u8, Error> {
    match command {
        Command::Run(args) => run::run(*args, engine).await,
        Command::AppArmorProfile => {
            print!("{}", crate::backend::apparmor::text());
            Ok(exit::SUCCESS)
        }
        Command::List(args) => select::list(args),
        Command::Images(ImagesCommand::Build {
            names,
            from,
            force,
            images,
        }) => images::build_images(names, from.map(Into::into), force, images, engine).await,
        Command::Images(ImagesCommand::List { images }) => {
            images::list_images(images, engine).await
        }
        Command::Clean(args) => images::clean(args, engine).await,
        Command::Login(args) => login::login(args, engine).await,
        Command::Init(args) => init::init(args),
        Command::Check(args) => check::check(args, engine).await,
        Command::GerritReview(args) => gerrit::gerrit_review(args).await,
    }
}

pub(crate) use crate::text::relative;

/// The engine the command runs on: `--engine` (or `REHEARSAL_ENGINE`), else the first
/// that answers.
pub(crate) async fn connect(choice: Option<EngineArg>) -> Result<Engine, Error> {
    crate::backend::engine::connect(choice.map(EngineKind::from))
        .await
        .map_err(Error::from)
}

/// `--engine`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineArg {
    Docker,
    Podman,
    Lxc,
}

impl From<EngineArg> for EngineKind {
    fn from(arg: EngineArg) -> EngineKind {
        match arg {
            EngineArg::Docker => EngineKind::Docker,
            EngineArg::Podman => EngineKind::Podman,
            EngineArg::Lxc => EngineKind::Lxc,
        }
    }
}

/// Whether output goes to a person (for later progress bars); CI is never one.
pub fn interactive() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("CI").is_none()
}
