//! `rehearsal init`: a starter spec for a module.

use std::path::PathBuf;

use crate::error::{exit, Error};
use crate::init;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The module's directory (it holds `manifests/`).
    #[arg(default_value = ".")]
    pub module_dir: PathBuf,
    /// Overwrite an existing rehearsal.yaml.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn init(args: InitArgs) -> Result<u8, Error> {
    let written = init::write(&args.module_dir, args.force)?;
    let scaffold = &written.scaffold;
    let checks: usize = scaffold.cases.iter().map(|(_, n)| n).sum();
    println!(
        "wrote {}: {} case{} and {checks} check{} for the module `{}`",
        written.file.display(),
        scaffold.cases.len(),
        if scaffold.cases.len() == 1 { "" } else { "s" },
        if checks == 1 { "" } else { "s" },
        scaffold.module
    );
    for (case, n) in &scaffold.cases {
        println!("  {case} ({n} check{})", if *n == 1 { "" } else { "s" });
    }
    for line in &scaffold.skipped {
        println!("  not a case: {line}");
    }
    println!(
        "run it: rehearsal run {}",
        shell_word(&args.module_dir.display().to_string())
    );
    Ok(exit::SUCCESS)
}

/// A path as it can be pasted into a shell.
fn shell_word(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@,".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
