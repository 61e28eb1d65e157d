//! `vern retention run | preview | recompute`: sweeps on demand, the dry run with its 24-month
//! forecast (JSON or a table), and recomputing every stored expiry after a policy change.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use vern_core::ids::SystemClock;
use vern_server::vault::{RetentionPreview, Vault};

use super::config::StoreArgs;
use super::context::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Table,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete what the policy's retention rules say has expired, with evidence.
    Run {
        /// Sweep as of this date (`YYYY-MM-DD` or RFC 3339) instead of now.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<OffsetDateTime>,
        /// Allow an `--as-of` in the future (deletes data before its time: tests only).
        #[arg(long)]
        allow_future: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// What a sweep would delete, by rule and category, and a 24-month forecast.
    Preview {
        #[arg(long, value_parser = parse_date)]
        as_of: Option<OffsetDateTime>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Recompute every record's expiry (after the policy's retention rules changed).
    Recompute {
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
fn parse_date(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("{text:?} is not YYYY-MM-DD or an RFC 3339 time"))
}

async fn open_vault(store: &StoreArgs) -> anyhow::Result<Vault> {
    let ctx = Ctx::open(store, false).await?;
    Ok(Vault::open(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?)
}

pub async fn run(cmd: RetentionCommand) -> anyhow::Result<()> {
    match cmd {
        RetentionCommand::Run {
            as_of,
            allow_future,
            quiet,
            store,
        } => {
            if let Some(at) = as_of
                && at > OffsetDateTime::now_utc()
                && !allow_future
            {
                bail!("--as-of is in the future: that would delete data early (--allow-future)");
            }
            let vault = open_vault(&store).await?;
            let who = vault.admin_principal(vern_server::vault::Actor::Cli)?;
            let bar = if quiet {
                ProgressBar::hidden()
            } else {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                        .context("progress template")?,
                );
                bar
            };
            let report = vault
                .retention_run(&who, as_of, |r| {
                    bar.set_message(format!(
                        "{} deleted, {} held, {} subjects erased",
                        r.deleted, r.held, r.subjects_erased
                    ));
                    bar.tick();
                })
                .await?;
            bar.finish_and_clear();
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        RetentionCommand::Preview {
            as_of,
            format,
            store,
        } => {
            let vault = open_vault(&store).await?;
            let who = vault.admin_principal(vern_server::vault::Actor::Cli)?;
            let preview = vault.retention_preview(&who, as_of).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&preview)?),
                Format::Table => print!("{}", table(&preview)),
            }
            Ok(())
        }
        RetentionCommand::Recompute { store } => {
            let vault = open_vault(&store).await?;
            let who = vault.admin_principal(vern_server::vault::Actor::Cli)?;
            let changed = vault.recompute_expiries(&who).await?;
            println!("{changed} record expiries changed");
            Ok(())
        }
    }
}

/// The preview as aligned text: what would go now, then the forecast month by month.
pub fn table(p: &RetentionPreview) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let as_of = p.as_of.format(&Rfc3339).unwrap_or_default();
    let _ = writeln!(
        out,
        "As of {as_of}: {} record(s) would be deleted, {} held.",
        p.would_delete, p.held
    );
    if !p.by_rule.is_empty() {
        let _ = writeln!(out, "\n{:<32} {:<36} {:>10}", "RULE", "CATEGORY", "RECORDS");
        for r in &p.by_rule {
            let _ = writeln!(out, "{:<32} {:<36} {:>10}", r.rule, r.category, r.count);
        }
    }
    let _ = writeln!(out, "\n{:<8} {:>10}  BY RULE", "MONTH", "EXPIRING");
    for m in &p.forecast {
        let rules: Vec<String> = m
            .by_rule
            .iter()
            .map(|r| format!("{}/{}={}", r.rule, r.category, r.count))
            .collect();
        let _ = writeln!(out, "{:<8} {:>10}  {}", m.month, m.total, rules.join(", "));
    }
    out
}
