//! `vern campaign filter RECIPIENTS.csv --purpose P --channel email`: which recipients may be
//! sent to. Writes the allowed rows (every column kept) to `--out` and prints a summary:
//! allowed, suppressed, no consent, objected, restricted, not applicable, invalid.
//!
//! Each row is decided by the vault exactly like `POST /v1/decisions` (subject found by the
//! address's blind index, suppression list consulted even for addresses of no subject), in
//! chunks, with a progress bar. Addresses never appear in the output to the terminal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use vern_core::identifier::{IdentifierKind, normalise};
use vern_core::ids::SystemClock;
use vern_server::vault::{DecisionRequest, IdentifierInput, Principal, Vault};

use super::config::StoreArgs;
use super::context::Ctx;

/// Recipients decided per vault call.
const CHUNK: usize = 1_000;

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Keep only the recipients the policy allows to be sent to.
    Filter(FilterArgs),
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// CSV with a header row and an `email` column (`phone` for SMS).
    pub file: PathBuf,
    #[arg(long)]
    pub purpose: String,
    #[arg(long)]
    pub channel: String,
    /// A message class of the policy (e.g. `newsletter`).
    #[arg(long)]
    pub message_class: Option<String>,
    /// Where to write the allowed rows; default `FILE.allowed.csv`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(cmd: CampaignCommand) -> anyhow::Result<()> {
    match cmd {
        CampaignCommand::Filter(args) => filter(args).await,
    }
}

async fn filter(args: FilterArgs) -> anyhow::Result<()> {
    let ctx = Ctx::open(&args.store, false).await?;
    let vault = Vault::open(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    let who = Principal::cli_admin();
    // The address column the channel needs: SMS and phone go to a phone number.
    let kind = match args.channel.as_str() {
        "sms" | "phone" => "phone",
        _ => "email",
    };
    let shown = args.file.display().to_string();
    let mut reader =
        csv::Reader::from_path(&args.file).with_context(|| format!("{shown}: cannot open"))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{shown}: no header row"))?
        .clone();
    let Some(column) = headers.iter().position(|h| h.trim() == kind) else {
        bail!("{shown}: no `{kind}` column for channel `{}`", args.channel);
    };
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .with_context(|| format!("{shown}: not valid CSV"))?;

    let out_path = args
        .out
        .clone()
        .unwrap_or_else(|| args.file.with_extension("allowed.csv"));
    let mut writer = csv::Writer::from_path(&out_path)
        .with_context(|| format!("{}: cannot write", out_path.display()))?;
    writer.write_record(&headers)?;

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(rows.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} recipients {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let parsed_kind = IdentifierKind::parse(kind).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut summary: BTreeMap<&'static str, u64> = BTreeMap::new();
    for chunk in rows.chunks(CHUNK) {
        // Rows whose address is not an address are counted, not sent to the vault: one bad
        // row must not stop the campaign.
        let mut valid = Vec::with_capacity(chunk.len());
        let mut reqs = Vec::with_capacity(chunk.len());
        for row in chunk {
            let value = row.get(column).unwrap_or("").trim();
            if normalise(&parsed_kind, value).is_err() {
                *summary.entry("invalid").or_default() += 1;
                continue;
            }
            valid.push(row);
            reqs.push(DecisionRequest {
                subject_id: None,
                identifier: Some(IdentifierInput {
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                }),
                purpose: args.purpose.clone(),
                channel: Some(args.channel.clone()),
                message_class: args.message_class.clone(),
            });
        }
        let decisions = vault.decide_bulk(&who, &reqs).await?;
        for (row, d) in valid.into_iter().zip(&decisions) {
            let bucket = vern_core::decision::bucket_of(&d.reason);
            *summary.entry(bucket).or_default() += 1;
            if d.allowed {
                writer.write_record(row)?;
            }
        }
        bar.inc(chunk.len() as u64);
    }
    writer.flush()?;
    // The decision audit is written behind the answers: write the last blocks before exiting.
    vault.flush_decisions().await?;
    bar.finish_and_clear();
    println!("{shown}: {} recipients", rows.len());
    for bucket in [
        "allowed",
        "suppressed",
        "no_consent",
        "objected",
        "restricted",
        "not_applicable",
        "invalid",
    ] {
        println!(
            "  {bucket:<15}{}",
            summary.get(bucket).copied().unwrap_or(0)
        );
    }
    println!("allowed recipients written to {}", out_path.display());
    Ok(())
}
