//! `vern keys generate | rotate`: master-key rotation without downtime.
//!
//! Procedure: (1) `vern keys generate --out new.key`; (2) restart each node with
//! `master_key_file = new.key` and the old key under `previous_master_key_files` — nodes now
//! wrap new keys under the new master key and still unwrap old ones; (3) `vern keys rotate`
//! re-wraps every subject key and keyring entry under the new key while the nodes keep
//! serving; (4) remove the old key from the configuration and destroy it.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use vern_core::crypto::{BlindIndexKey, MasterKey, SubjectKey};
use vern_store::Store;

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
    }
}

async fn rotate(args: &StoreArgs, batch: u32) -> anyhow::Result<()> {
    let ctx = Ctx::open(args, false).await?;
    let current = &ctx.keys.current;
    let current_id = current.kek_id();
    let find_old = |kek_id: &[u8]| -> Option<&MasterKey> {
        ctx.keys
            .previous
            .iter()
            .find(|k| k.kek_id().as_slice() == kek_id)
    };

    let name = vern_server::vault::BLIND_INDEX_KEYRING_ENTRY;
    if let Some(entry) = ctx.store.get_keyring_entry(name).await? {
        if entry.kek_id != current_id {
            let Some(old) = find_old(&entry.kek_id) else {
                bail!(
                    "the keyring entry `{name}` is wrapped by a key that is neither current nor listed in previous_master_key_files"
                );
            };
            let key = BlindIndexKey::unwrap(old, &entry.wrapped_key)
                .context("cannot unwrap the blind-index key")?;
            let mut row = entry.clone();
            row.wrapped_key = key.wrap(current)?;
            row.kek_id = current_id.to_vec();
            ctx.store.update_keyring_entry(row, &entry.kek_id).await?;
        }
    }

    let mut total = 0u64;
    let mut stuck = std::collections::HashSet::new();
    loop {
        let rows = ctx.store.keys_not_wrapped_by(&current_id, batch).await?;
        if rows.is_empty() {
            break;
        }
        let mut by_old: Vec<(Vec<u8>, Vec<vern_store::SubjectKeyRow>)> = Vec::new();
        for row in &rows {
            let Some(old) = find_old(&row.kek_id) else {
                stuck.insert(row.subject_id);
                continue;
            };
            let key = SubjectKey::unwrap(old, row.tenant_id, row.subject_id, &row.wrapped_key)
                .with_context(|| format!("cannot unwrap the key of subject {}", row.subject_id))?;
            let mut new_row = row.clone();
            new_row.wrapped_key = key.wrap(current, row.tenant_id, row.subject_id)?;
            new_row.kek_id = current_id.to_vec();
            match by_old.iter_mut().find(|(id, _)| *id == row.kek_id) {
                Some((_, v)) => v.push(new_row),
                None => by_old.push((row.kek_id.clone(), vec![new_row])),
            }
        }
        if by_old.is_empty() {
            break;
        }
        for (old_id, rows) in by_old {
            total += ctx.store.rewrap_keys(rows, &old_id).await?;
        }
    }
    if !stuck.is_empty() {
        bail!(
            "{total} keys re-wrapped, but {} are wrapped by an unknown master key: add it to previous_master_key_files and run again",
            stuck.len()
        );
    }
    println!(
        "{total} subject keys re-wrapped under master key {}",
        hex(&current_id)
    );
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
