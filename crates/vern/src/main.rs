//! The `vern` command: one binary for the server and every operator task.

mod cli;

use std::process::ExitCode;

use clap::Parser;

// mimalloc instead of the system allocator: the server's hot paths (JSON in and out, sealing,
// SQLite rows) allocate per request, and glibc malloc was ~15 % of the samples of the consent
// write and decision benchmarks (decision 0026).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
