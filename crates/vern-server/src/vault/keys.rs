//! Master-key rotation: re-wrap every subject key (and the keyring's blind-index,
//! receipt-signing and outbox keys) still wrapped under an earlier master key with the current one. Data
//! is never re-encrypted: that is the point of envelope encryption. Until rotation finishes, the vault opens old keys with `previous`.

use std::collections::BTreeMap;

use serde_json::json;
use vern_core::crypto::{BlindIndexKey, OutboxKey, ReceiptSigningKey, SubjectKey};
use vern_store::{Store, SubjectKeyRow};

use super::{Principal, Vault, VaultError, VaultResult};

impl Vault {
    /// Re-wraps keys under the current master key, `batch` at a time; returns how many subject
    /// keys moved. Admin roles only. Safe to run while serving and to re-run after a crash:
    /// each batch is one store call that only replaces rows still under the old key.
    pub async fn rotate_keys(&self, who: &Principal, batch: u32) -> VaultResult<u64> {
        if !self.policy.role(&who.role).is_some_and(|r| r.admin) {
            return Err(VaultError::Forbidden(format!(
                "the role `{}` may not rotate keys",
                who.role
            )));
        }
        let current = self.master.kek_id().to_vec();
        self.rotate_keyring_key::<BlindIndexKey>(&current).await?;
        self.rotate_keyring_key::<ReceiptSigningKey>(&current)
            .await?;
        self.rotate_keyring_key::<OutboxKey>(&current).await?;
        let mut moved = 0u64;
        loop {
            let rows = self
                .store
                .keys_not_wrapped_by(&current, batch.max(1))
                .await
                .map_err(VaultError::store("subject key"))?;
            if rows.is_empty() {
                break;
            }
            let mut by_kek: BTreeMap<Vec<u8>, Vec<SubjectKeyRow>> = BTreeMap::new();
            for row in rows {
                by_kek.entry(row.kek_id.clone()).or_default().push(row);
            }
            let mut progressed = false;
            for (old, rows) in by_kek {
                let master = self.master_for(&old).ok_or_else(|| {
                    VaultError::Internal(
                        "some subject keys are wrapped by a master key that was not given".into(),
                    )
                })?;
                let rewrapped = rows
                    .into_iter()
                    .map(|row| {
                        let key = SubjectKey::unwrap(
                            master,
                            row.tenant_id,
                            row.subject_id,
                            &row.wrapped_key,
                        )?;
                        Ok(SubjectKeyRow {
                            kek_id: current.clone(),
                            wrapped_key: key.wrap(&self.master, row.tenant_id, row.subject_id)?,
                            ..row
                        })
                    })
                    .collect::<VaultResult<Vec<_>>>()?;
                let n = self
                    .store
                    .rewrap_keys(rewrapped, &old)
                    .await
                    .map_err(VaultError::store("subject key"))?;
                moved += n;
                progressed |= n > 0;
            }
            // Rows that vanished under us (erased meanwhile) are not found again; a batch that
            // moved nothing at all means another process is rotating the same rows.
            if !progressed {
                break;
            }
        }
        self.append_audit(vec![self.audit(
            who,
            "keys.rotate",
            None,
            None,
            json!({ "subject_keys": moved }),
        )])
        .await?;
        Ok(moved)
    }
}
