//! The keyring's system keys (blind index, receipt signing, outbox): each is random, stored
//! once wrapped under the KEK, created by whichever process starts first, and re-wrapped by
//! master-key rotation. One generic loader and one re-wrap serve all of them.

use vern_core::crypto::{BlindIndexKey, CryptoError, MasterKey, OutboxKey, ReceiptSigningKey};
use vern_core::ids::to_micros;
use vern_store::{KeyringRow, SqlStore, Store};

use super::{Vault, VaultError, VaultResult};

/// A key kept in the keyring under a fixed name.
pub(super) trait KeyringKey: Sized {
    /// The keyring entry's name.
    const NAME: &'static str;
    /// How errors name the key.
    const WHAT: &'static str;
    fn generate() -> Result<Self, CryptoError>;
    fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError>;
    fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError>;
}

impl KeyringKey for BlindIndexKey {
    const NAME: &'static str = super::BLIND_INDEX_KEYRING_ENTRY;
    const WHAT: &'static str = "blind-index key";
    fn generate() -> Result<Self, CryptoError> {
        Ok(BlindIndexKey::generate())
    }
    fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        BlindIndexKey::wrap(self, master)
    }
    fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        BlindIndexKey::unwrap(master, wrapped)
    }
}

impl KeyringKey for ReceiptSigningKey {
    const NAME: &'static str = super::RECEIPT_KEYRING_ENTRY;
    const WHAT: &'static str = "receipt-signing key";
    fn generate() -> Result<Self, CryptoError> {
        ReceiptSigningKey::generate()
    }
    fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        ReceiptSigningKey::wrap(self, master)
    }
    fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        ReceiptSigningKey::unwrap(master, wrapped)
    }
}

impl KeyringKey for OutboxKey {
    const NAME: &'static str = super::OUTBOX_KEYRING_ENTRY;
    const WHAT: &'static str = "outbox key";
    fn generate() -> Result<Self, CryptoError> {
        Ok(OutboxKey::generate())
    }
    fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        OutboxKey::wrap(self, master)
    }
    fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        OutboxKey::unwrap(master, wrapped)
    }
}

/// Loads `K` from the keyring, or creates it on first start (two processes starting at once
/// agree on the first row stored).
pub(super) async fn load<K: KeyringKey>(
    store: &SqlStore,
    master: &MasterKey,
    previous: &[MasterKey],
    now: time::OffsetDateTime,
) -> VaultResult<K> {
    let stored = match store
        .get_keyring_entry(K::NAME)
        .await
        .map_err(VaultError::store("keyring entry"))?
    {
        Some(row) => row,
        None => {
            let key = K::generate()?;
            let row = KeyringRow {
                name: K::NAME.to_owned(),
                kek_id: master.kek_id().to_vec(),
                wrapped_key: key.wrap(master)?,
                created_at: to_micros(now),
            };
            store
                .put_keyring_entry_if_absent(row)
                .await
                .map_err(VaultError::store("keyring entry"))?
        }
    };
    let wrapping = std::iter::once(master)
        .chain(previous.iter())
        .find(|m| m.kek_id().as_slice() == stored.kek_id.as_slice())
        .ok_or_else(|| {
            VaultError::Internal(format!(
                "the {} is wrapped by a master key that was not given",
                K::WHAT
            ))
        })?;
    Ok(K::unwrap(wrapping, &stored.wrapped_key)?)
}

impl Vault {
    /// Master-key rotation for one keyring key: re-wraps it under `current` if it is not yet.
    pub(super) async fn rotate_keyring_key<K: KeyringKey>(
        &self,
        current: &[u8],
    ) -> VaultResult<()> {
        let Some(entry) = self
            .store
            .get_keyring_entry(K::NAME)
            .await
            .map_err(VaultError::store("keyring entry"))?
        else {
            return Ok(());
        };
        if entry.kek_id == current {
            return Ok(());
        }
        let old = self.master_for(&entry.kek_id).ok_or_else(|| {
            VaultError::Internal(format!(
                "the {} is wrapped by an unknown master key",
                K::WHAT
            ))
        })?;
        let key = K::unwrap(old, &entry.wrapped_key)?;
        let row = KeyringRow {
            kek_id: current.to_vec(),
            wrapped_key: key.wrap(&self.master)?,
            ..entry.clone()
        };
        self.store
            .update_keyring_entry(row, &entry.kek_id)
            .await
            .map_err(VaultError::store("keyring entry"))
    }
}
