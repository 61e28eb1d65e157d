//! `vern backup` and `vern restore` for the embedded SQLite store.
//!
//! A backup is a consistent online copy of both files (`VACUUM INTO`), taken while vern runs.
//! Restoring replays the erasure ledger of the database being replaced: a subject erased after
//! the backup was taken is erased again — key and data — before vern serves anything, so an
//! erasure is never undone by a restore. The master key is not part of a backup: keep it
//! separately.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use vern_core::ids::{DEFAULT_TENANT, new_id, to_micros};
use vern_store::{Backend, ErasureStore, NewAuditEntry, PartialErasure, SqlStore, Store};

use super::config::StoreArgs;
use super::context::open_store;

pub async fn backup(args: &StoreArgs, dest: &Path) -> anyhow::Result<()> {
    let settings = args.resolve()?;
    let store = open_store(&settings).await?;
    if store.backend() != Backend::Sqlite {
        bail!(
            "vern backup copies the embedded SQLite store; for PostgreSQL use pg_dump (the key store is the schema vern_keys: back it up separately)"
        );
    }
    store.migrate().await?;
    let files = store.backup_sqlite(dest).await.context("backup failed")?;
    println!(
        "backup written: {} and {}",
        files.data.display(),
        files.keys.display()
    );
    eprintln!(
        "the master key is not in the backup: keep {} safe separately",
        settings.master_key_file.display()
    );
    Ok(())
}

pub async fn restore(args: &StoreArgs, src: &Path) -> anyhow::Result<()> {
    let settings = args.resolve()?;
    if settings.database.is_some() {
        bail!(
            "vern restore restores the embedded SQLite store in --data; for PostgreSQL use pg_restore of both schemas, and never restore the vern_keys schema from a backup older than the last erasure"
        );
    }
    let (src_data, src_keys) = (src.join("vern.sqlite3"), src.join("keys.sqlite3"));
    for f in [&src_data, &src_keys] {
        if !f.is_file() {
            bail!(
                "{} is not a vern backup: {} is missing",
                src.display(),
                f.display()
            );
        }
    }
    let data_dir = &settings.data;
    let (cur_data, cur_keys) = (data_dir.join("vern.sqlite3"), data_dir.join("keys.sqlite3"));

    // The erasures recorded so far must survive the restore.
    let (erased, partial): (Vec<uuid::Uuid>, Vec<PartialErasure>) = if cur_data.exists() {
        let current = SqlStore::open_dir(data_dir).await?;
        current.migrate().await?;
        let erased = current.erased_subjects(DEFAULT_TENANT).await?;
        let partial = current.partial_erasures(DEFAULT_TENANT).await?;
        current.close().await;
        (erased, partial)
    } else {
        (Vec::new(), Vec::new())
    };

    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    for f in [&cur_data, &cur_keys] {
        if f.exists() {
            let aside = PathBuf::from(format!("{}.pre-restore-{stamp}", f.display()));
            std::fs::rename(f, &aside)
                .with_context(|| format!("cannot move {} aside", f.display()))?;
            for ext in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{ext}", f.display()));
                if side.exists() {
                    std::fs::rename(&side, format!("{}{ext}", aside.display()))?;
                }
            }
        }
    }
    std::fs::create_dir_all(data_dir)?;
    std::fs::copy(&src_data, &cur_data)?;
    std::fs::copy(&src_keys, &cur_keys)?;

    let restored = SqlStore::open_dir(data_dir).await?;
    restored.migrate().await?;
    let replayed = replay_erasures(&restored, &erased).await?;
    let replayed_partial = replay_partial_erasures(&restored, &partial).await?;
    restored.close().await;
    if replayed_partial > 0 {
        println!(
            "{replayed_partial} partial erasure(s) recorded after the backup were applied again (records kept under an erasure exception stay)"
        );
    }
    println!(
        "restored from {}; {replayed} erasure(s) recorded after the backup were applied again",
        src.display()
    );
    Ok(())
}

/// Applies again every partial erasure (erasure on request that kept records under an
/// exception) the restored store does not know: the subject's identifiers and every record but
/// the kept ones go. Subjects erased completely since are handled by the erasure ledger.
pub async fn replay_partial_erasures(
    store: &SqlStore,
    partial: &[PartialErasure],
) -> anyhow::Result<usize> {
    let known: std::collections::HashSet<(uuid::Uuid, i64)> = store
        .partial_erasures(DEFAULT_TENANT)
        .await?
        .into_iter()
        .map(|p| (p.subject_id, p.erased_at))
        .collect();
    let mut n = 0;
    for p in partial
        .iter()
        .filter(|p| !known.contains(&(p.subject_id, p.erased_at)))
    {
        let at = to_micros(time::OffsetDateTime::now_utc());
        let audit = NewAuditEntry {
            tenant_id: DEFAULT_TENANT,
            id: new_id(),
            at,
            actor: "cli".into(),
            action: "subject.erase_replayed".into(),
            subject_id: Some(p.subject_id),
            purpose: None,
            detail: serde_json::json!({
                "reason": "restore replayed a partial erasure",
                "kept": p.kept_records,
            })
            .to_string(),
        };
        match store
            .erase_except(
                DEFAULT_TENANT,
                p.subject_id,
                vern_store::Keep {
                    records: p.kept_records.clone(),
                    // The restored key store holds the key of the backup's time; this tool has
                    // no master key to re-seal with, and the restored key opens nothing the
                    // backup did not already hold (the records it sealed are deleted again).
                    rekey: None,
                },
                p.erased_at,
                Vec::new(),
                vec![audit],
            )
            .await
        {
            Ok(_) | Err(vern_store::StoreError::NotFound) => n += 1,
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot apply the partial erasure of {} again", p.subject_id)
                });
            }
        }
    }
    Ok(n)
}

/// Erases again every subject in `erased` that the restored store still holds.
pub async fn replay_erasures(store: &SqlStore, erased: &[uuid::Uuid]) -> anyhow::Result<usize> {
    let already: std::collections::HashSet<uuid::Uuid> = store
        .erased_subjects(DEFAULT_TENANT)
        .await?
        .into_iter()
        .collect();
    let mut n = 0;
    for id in erased.iter().filter(|id| !already.contains(id)) {
        let at = to_micros(time::OffsetDateTime::now_utc());
        let audit = NewAuditEntry {
            tenant_id: DEFAULT_TENANT,
            id: new_id(),
            at,
            actor: "cli".into(),
            action: "subject.erase_replayed".into(),
            subject_id: Some(*id),
            purpose: None,
            detail: serde_json::json!({"reason": "restore replayed the erasure ledger"})
                .to_string(),
        };
        match store
            .erase_subject(DEFAULT_TENANT, *id, at, vec![audit])
            .await
        {
            Ok(()) | Err(vern_store::StoreError::NotFound) => n += 1,
            Err(e) => return Err(e).with_context(|| format!("cannot erase subject {id} again")),
        }
    }
    Ok(n)
}
