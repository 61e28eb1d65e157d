//! Command-line interface: argument definitions and dispatch to the layers.

mod policy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "vern",
    version,
    about = "A privacy policy turned into enforced software"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, render and compare policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Policy(cmd) => policy::run(cmd),
    }
}
