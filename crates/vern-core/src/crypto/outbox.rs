//! The outbox key: seals queued mail (the recipient's address and the template parameters)
//! until it is delivered.
//!
//! Mail is not sealed under the subject's key on purpose: some mail must reach people vern
//! holds no key for (a verification link to an address that names no subject, a confirmation
//! sent after an erasure shredded the key). The outbox key is random, stored wrapped under the
//! KEK in the keyring like the blind-index key, and a sealed value is bound to its message and
//! field, so a ciphertext moved to another row does not open. Delivered mail has its sealed
//! fields wiped, so the key protects only what is still waiting.

use std::fmt;

use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;
use super::keys::{KEY_LEN, MasterKey, key_from};
use super::primitives::fill_random;
use super::primitives::{aead_open, aead_seal};

const OUTBOX_KEY_AAD: &[u8] = b"vern/keyring/outbox/v1";
const OUTBOX_VALUE_LABEL: &[u8] = b"vern/outbox/v1";

/// See the module documentation.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct OutboxKey([u8; KEY_LEN]);

impl OutboxKey {
    pub fn generate() -> Self {
        let mut key = Self([0u8; KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// Encrypts this key under the KEK for the key store's keyring.
    pub fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        aead_seal(master.kek(), OUTBOX_KEY_AAD, &self.0)
    }

    pub fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        let opened = aead_open(master.kek(), OUTBOX_KEY_AAD, wrapped)?;
        key_from(opened).map(Self)
    }

    /// Seals one field of one message: `nonce ‖ ciphertext ‖ tag`.
    pub fn seal(
        &self,
        tenant: Uuid,
        message: Uuid,
        field: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        aead_seal(&self.0, &aad(tenant, message, field)?, plaintext)
    }

    /// Opens a value made by [`OutboxKey::seal`] for the same tenant, message and field.
    pub fn open(
        &self,
        tenant: Uuid,
        message: Uuid,
        field: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        aead_open(&self.0, &aad(tenant, message, field)?, sealed)
    }
}

/// `label ‖ tenant ‖ message ‖ len(field) as u16 BE ‖ field`: fixed-length ids and a
/// length-prefixed field, so two contexts never give the same bytes.
fn aad(tenant: Uuid, message: Uuid, field: &str) -> Result<Vec<u8>, CryptoError> {
    let len = u16::try_from(field.len()).map_err(|_| CryptoError::AadFieldTooLong)?;
    let mut out = Vec::with_capacity(OUTBOX_VALUE_LABEL.len() + 34 + field.len());
    out.extend_from_slice(OUTBOX_VALUE_LABEL);
    out.extend_from_slice(tenant.as_bytes());
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field.as_bytes());
    Ok(out)
}

impl fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutboxKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_place_and_under_their_key() {
        let master = MasterKey::generate();
        let key = OutboxKey::generate();
        let wrapped = key.wrap(&master).unwrap();
        let key = OutboxKey::unwrap(&master, &wrapped).unwrap();
        let (t, m) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = key.seal(t, m, "to", b"ola@example.no").unwrap();
        assert_eq!(key.open(t, m, "to", &sealed).unwrap(), b"ola@example.no");
        assert!(key.open(t, m, "params", &sealed).is_err());
        assert!(key.open(t, Uuid::now_v7(), "to", &sealed).is_err());
        assert!(OutboxKey::generate().open(t, m, "to", &sealed).is_err());
        assert!(OutboxKey::unwrap(&MasterKey::generate(), &wrapped).is_err());
    }
}
