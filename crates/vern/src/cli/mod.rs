//! Command-line interface: argument definitions and dispatch to the layers.

mod admin;
mod backup;
mod campaign;
mod config;
mod context;
mod export;
mod import;
mod keys;
mod master_key;
mod policy;
mod policy_publish;
mod retention;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use uuid::Uuid;

use self::config::StoreArgs;

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
// Parsed once at start-up: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the HTTP server.
    Serve(Box<serve::ServeArgs>),
    /// Check, render and compare policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Apply pending database migrations.
    Migrate(StoreArgs),
    /// Import subjects, identifiers and records from a .csv or .jsonl file.
    Import {
        file: PathBuf,
        /// Subjects per transaction.
        #[arg(long, default_value_t = import::DEFAULT_BATCH)]
        batch: usize,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print everything stored about one subject as JSON.
    Export {
        #[arg(long)]
        subject: Uuid,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy the SQLite data and key store to a folder, consistently, while vern runs.
    Backup {
        dest: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Restore a backup (vern stopped); erasures made since the backup are applied again.
    Restore {
        src: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// API tokens.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Master keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Marketing campaigns: filter recipient lists through the policy.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Retention: sweeps, preview and forecast, recomputing expiries.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
}

pub fn run(cli: Cli) -> ExitCode {
    let command = match cli.command {
        Command::Policy(cmd) => return policy::run(cmd),
        other => other,
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<bool> = runtime.block_on(async move {
        match command {
            Command::Policy(_) => Ok(true),
            Command::Serve(args) => serve::run(*args).await.map(|()| true),
            Command::Migrate(store) => admin::migrate(&store).await.map(|()| true),
            Command::Import {
                file,
                batch,
                quiet,
                store,
            } => {
                import::run(
                    &store,
                    import::ImportOptions {
                        file,
                        batch: batch.max(1),
                        progress: !quiet,
                    },
                )
                .await
            }
            Command::Export { subject, store } => export::run(&store, subject).await.map(|()| true),
            Command::Backup { dest, store } => backup::backup(&store, &dest).await.map(|()| true),
            Command::Restore { src, store } => backup::restore(&store, &src).await.map(|()| true),
            Command::Token(cmd) => admin::token(cmd).await.map(|()| true),
            Command::Keys(cmd) => keys::run(cmd).await.map(|()| true),
            Command::Audit(cmd) => admin::audit(cmd).await,
            Command::Campaign(cmd) => campaign::run(cmd).await.map(|()| true),
            Command::Retention(cmd) => retention::run(cmd).await.map(|()| true),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `VERN_LOG` sets the filter (default `info`). Nothing logged carries
/// personal data: subjects appear by id only.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VERN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
