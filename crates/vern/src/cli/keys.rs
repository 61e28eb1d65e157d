//! `vern keys generate | rotate`: master-key rotation without downtime.
//!
//! Procedure: (1) `vern keys generate --out new.key`; (2) restart each node with
//! `master_key_file = new.key` and the old key under `previous_master_key_files` — nodes now
//! wrap new keys under the new master key and still unwrap old ones; (3) `vern keys rotate`
//! re-wraps every subject key and keyring entry under the new key while the nodes keep
//! serving; (4) remove the old key from the configuration and destroy it.
//!
//! `vern keys prune` deletes subject keys whose subject was never committed: a create writes
//! the key first and the subject second, so a process killed between the two leaves a key that
//! sealed nothing kept (found by the crash-safety suite, `tests/cli/crash.rs`).

use std::path::PathBuf;

use std::sync::Arc;

use clap::Subcommand;
use vern_core::ids::SystemClock;
use vern_server::vault::{Principal, Vault};

use super::config::StoreArgs;
use super::context::Ctx;
use super::master_key::write_new_key_file;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new random master key to a file (mode 0600).
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-wrap every subject key and keyring entry under the current master key.
    Rotate {
        /// Keys per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: u32,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete subject keys that have no subject (left by a create killed between its key and
    /// its data commit). Run it against the data store the keys belong to.
    Prune {
        /// Only keys at least this old (creates still in flight elsewhere are younger).
        #[arg(long, default_value_t = 3600)]
        min_age_secs: u64,
        /// Count them; delete nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Generate { out } => {
            let key = write_new_key_file(&out)?;
            println!(
                "new master key written to {} (key id {})",
                out.display(),
                hex(&key.kek_id())
            );
            Ok(())
        }
        KeysCommand::Rotate { batch, store } => rotate(&store, batch.max(1)).await,
        KeysCommand::Prune {
            min_age_secs,
            dry_run,
            store,
        } => prune(&store, min_age_secs, dry_run).await,
    }
}

async fn prune(args: &StoreArgs, min_age_secs: u64, dry_run: bool) -> anyhow::Result<()> {
    let ctx = Ctx::open(args, false).await?;
    let age = i64::try_from(min_age_secs.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    let now = vern_core::ids::to_micros(time::OffsetDateTime::now_utc());
    let n = ctx
        .store
        .prune_orphan_subject_keys(now.saturating_sub(age), !dry_run)
        .await?;
    if dry_run {
        println!("{n} subject keys without a subject (dry run: none deleted)");
    } else {
        tracing::info!(pruned = n, "orphan subject keys deleted");
        println!("{n} subject keys without a subject deleted");
    }
    ctx.store.close().await;
    Ok(())
}

async fn rotate(args: &StoreArgs, batch: u32) -> anyhow::Result<()> {
    let ctx = Ctx::open(args, false).await?;
    let current_id = ctx.keys.current.kek_id();
    let vault = Vault::open(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    let moved = vault.rotate_keys(&Principal::cli_admin(), batch).await?;
    println!(
        "{moved} subject keys re-wrapped under master key {}",
        hex(&current_id)
    );
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
