//! The `vern` command: one binary for the server and every operator task.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors. Usage errors get EX_USAGE (64) rather than clap's
            // 2, because `vern policy diff` gives 2 its own meaning (material change).
            return if e.use_stderr() {
                ExitCode::from(64)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    cli::run(cli)
}
