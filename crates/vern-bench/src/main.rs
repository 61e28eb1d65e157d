//! `vern-bench all [--scale S] [--backend sqlite|postgres|both] [--out DIR]`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use vern_bench::{Backend, Config, DEFAULT_POSTGRES_URL, parse_scale, suite};

// The allocator of the `vern` binary (decision 0026), so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "vern-bench",
    about = "vern's benchmarks in one run, with a JSON report and a Markdown table"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the data, run every benchmark, write report.json and report.md.
    All(Args),
}

#[derive(Clone, Copy, ValueEnum)]
enum Backends {
    Sqlite,
    Postgres,
    Both,
}

#[derive(clap::Args)]
struct Args {
    /// Size of the generated data: tiny (a smoke run in seconds), small, default, large, or a
    /// multiplier of the default sizes.
    #[arg(long, default_value = "default", value_parser = parse_scale)]
    scale: f64,
    #[arg(long, value_enum, default_value = "both")]
    backend: Backends,
    /// PostgreSQL server to create the run's databases on (each dropped afterwards).
    #[arg(long, env = "VERN_TEST_POSTGRES_URL", default_value = DEFAULT_POSTGRES_URL)]
    postgres_url: String,
    /// Where report.json and report.md go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Only these groups (comma-separated): decide, import, http, consent, retention.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
}

fn main() -> ExitCode {
    let Cli {
        command: Command::All(args),
    } = Cli::parse();
    if let Some(only) = &args.only
        && let Some(bad) = only.iter().find(|g| !suite::GROUPS.contains(&g.as_str()))
    {
        eprintln!(
            "error: unknown group {bad}; the groups are {}",
            suite::GROUPS.join(", ")
        );
        return ExitCode::from(2);
    }
    let backends = match args.backend {
        Backends::Sqlite => vec![Backend::Sqlite],
        Backends::Postgres => vec![Backend::Postgres],
        Backends::Both => vec![Backend::Sqlite, Backend::Postgres],
    };
    let cfg = Config {
        scale: args.scale,
        postgres_url: args.postgres_url,
        only: args.only,
    };
    let command: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("vern-bench {}", command.join(" "));
    let report = match vern_bench::run(&cfg, &backends, &command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = report.write(&args.out) {
        eprintln!("error: writing the report to {}: {e:#}", args.out.display());
        return ExitCode::FAILURE;
    }
    println!("{}", report.markdown());
    println!(
        "wrote {} and report.md",
        args.out.join("report.json").display()
    );
    ExitCode::SUCCESS
}
