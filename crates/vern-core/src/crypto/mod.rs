//! Envelope encryption with crypto-shredding, blind indexes and API-token hashing.
//!
//! The key hierarchy (see `docs/stack.md` §A.6):
//!
//! - A [`MasterKey`] (32 bytes from a file or env var) never encrypts data itself. HKDF-SHA256
//!   with info `vern/kek/v1` derives the key-encryption key (KEK) from it; [`MasterKey::kek_id`]
//!   names that KEK in stored rows without revealing it, so rotation can find what is left.
//! - Each subject has a random [`SubjectKey`] (the data key), stored only wrapped under the KEK
//!   in the separate key store. Destroying it shreds every copy of the subject's ciphertext,
//!   including those in replicas and backups.
//! - Each personal-data field is [`seal`]ed under the subject key with a random 24-byte nonce,
//!   and the [`Aad`] binds the ciphertext to tenant, subject, record and field: a ciphertext
//!   copied to another row or field does not open.
//! - Lookups use a [`BlindIndexKey`]: HMAC-SHA256 of the normalised value. The key is random
//!   and stored wrapped (not derived from the master key), so rotating the master key rewraps
//!   one small key instead of recomputing every index.
//!
//! Everything uses XChaCha20-Poly1305: its 192-bit nonces make random nonces safe for any
//! realistic number of messages per key, and it is fast without AES hardware.
//!
//! Every failure is a [`CryptoError`]; nothing here panics on bad input, and no error or
//! `Debug` output contains key material or plaintext.

mod keys;
mod outbox;
mod primitives;
mod seal;
mod signing;
mod token;

#[cfg(test)]
mod tests;

pub use keys::{BlindIndexKey, KEY_LEN, MasterKey, SubjectKey};
pub use outbox::OutboxKey;
pub use seal::{Aad, open, seal};
pub use signing::ReceiptSigningKey;
pub use token::{TOKEN_PREFIX, constant_time_eq, generate_token, hash_token};

/// What can go wrong in this module. Messages say what failed, never with which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Authentication failed: wrong key, a different AAD context, or altered bytes. These are
    /// deliberately not told apart (that would help an attacker, not an operator).
    #[error("decryption failed: wrong key, wrong context, or the ciphertext was altered")]
    Decrypt,
    /// Shorter than a nonce and a tag: cannot be a ciphertext of ours.
    #[error("the ciphertext is truncated")]
    Truncated,
    /// The plaintext exceeds what one XChaCha20-Poly1305 message can carry (256 GiB).
    #[error("the data is too long to encrypt")]
    TooLong,
    /// An [`Aad`] field name longer than its 16-bit length prefix can describe.
    #[error("the AAD field name is longer than 65535 bytes")]
    AadFieldTooLong,
    /// A wrapped key opened but did not hold a key of the right length.
    #[error("the unwrapped key has the wrong length")]
    KeyLength,
    /// The master key text could not be read; the reason never quotes the text.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(&'static str),
}
