//! The keys: the operator's [`MasterKey`], per-subject [`SubjectKey`]s and the
//! [`BlindIndexKey`]. All print as redacted and their bytes are wiped from memory when dropped
//! (the blind-index key's precomputed HMAC state is not: `hmac` offers no way to).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD_INDIFFERENT, URL_SAFE_NO_PAD_INDIFFERENT};
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::CryptoError;
use super::primitives::{
    HmacSha256, aead_open, aead_seal, fill_random, hkdf_sha256, hmac_sha256, hmac_sha256_keyed,
    hmac_sha256_with,
};

/// Length in bytes of every symmetric key here (256 bits).
pub const KEY_LEN: usize = 32;

const KEK_INFO: &[u8] = b"vern/kek/v1";
const KEK_ID_LABEL: &[u8] = b"vern/kek-id/v1";
const SUBJECT_KEY_AAD_LABEL: &[u8] = b"vern/dek/v1";
const BLIND_INDEX_KEY_AAD: &[u8] = b"vern/keyring/blind_index/v1";

/// The operator's root secret. It only derives the key-encryption key (KEK); data keys are
/// wrapped under the KEK, so the master key can be rotated by rewrapping keys, not data.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    bytes: [u8; KEY_LEN],
    kek: [u8; KEY_LEN],
}

impl MasterKey {
    /// A fresh random master key (for `vern` key generation and tests).
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(bytes.as_mut());
        Self::from_bytes(*bytes)
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        let kek = hkdf_sha256(&bytes, KEK_INFO);
        Self { bytes, kek }
    }

    /// Reads a master key from text: 64 hex characters, or standard or URL-safe base64 (padded
    /// or not) of 32 bytes. Surrounding whitespace (a trailing newline in a key file) is ignored.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CryptoError::InvalidMasterKey("the key is empty"));
        }
        let all_hex = text.bytes().all(|b| b.is_ascii_hexdigit());
        if all_hex && text.len() == 2 * KEY_LEN {
            return decode_hex(text).map(|bytes| Self::from_bytes(*bytes));
        }
        // Large enough for any input that could be 32 bytes; longer input fails to fit.
        let mut decoded = Zeroizing::new([0u8; 48]);
        let engines = [STANDARD_NO_PAD_INDIFFERENT, URL_SAFE_NO_PAD_INDIFFERENT];
        let decoded_len = engines
            .iter()
            .find_map(|engine| engine.decode_slice(text, decoded.as_mut()).ok());
        match decoded_len {
            Some(KEY_LEN) => {
                let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
                bytes.copy_from_slice(&decoded[..KEY_LEN]);
                Ok(Self::from_bytes(*bytes))
            }
            _ if all_hex => Err(CryptoError::InvalidMasterKey(
                "hex keys must be exactly 64 hex characters (32 bytes)",
            )),
            Some(_) => Err(CryptoError::InvalidMasterKey(
                "the base64 text does not decode to exactly 32 bytes",
            )),
            None => Err(CryptoError::InvalidMasterKey(
                "expected 64 hex characters or base64 of 32 bytes",
            )),
        }
    }

    /// The key as 64 lowercase hex characters, for writing a newly generated key file once.
    pub fn to_hex(&self) -> String {
        hex(&self.bytes)
    }

    /// Names the KEK in stored rows (`kek_id`): the first 16 bytes of
    /// HMAC-SHA256(KEK, `vern/kek-id/v1`). A one-way function of the KEK, so it tells keys
    /// apart without revealing anything about them.
    pub fn kek_id(&self) -> [u8; 16] {
        let mac = hmac_sha256(&self.kek, &[KEK_ID_LABEL]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&mac[..16]);
        id
    }

    pub(super) fn kek(&self) -> &[u8; KEY_LEN] {
        &self.kek
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("kek_id", &hex(&self.kek_id()))
            .finish_non_exhaustive()
    }
}

/// A subject's data key (DEK). It exists in clear only in memory; at rest it is wrapped under
/// the KEK. Destroying the wrapped copy is the erasure.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SubjectKey([u8; KEY_LEN]);

impl SubjectKey {
    pub fn generate() -> Self {
        let mut key = Self([0u8; KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// Encrypts this key under the master key's KEK: `nonce ‖ ciphertext ‖ tag`. The AAD
    /// (`vern/dek/v1 ‖ tenant ‖ subject`) ties the wrapped key to its subject, so swapping key
    /// rows between subjects makes them fail to unwrap instead of silently decrypting the
    /// wrong person's data.
    pub fn wrap(
        &self,
        master: &MasterKey,
        tenant: Uuid,
        subject: Uuid,
    ) -> Result<Vec<u8>, CryptoError> {
        aead_seal(master.kek(), &subject_key_aad(tenant, subject), &self.0)
    }

    /// Reverses [`SubjectKey::wrap`]. A different master key, tenant or subject, or any altered
    /// byte, gives [`CryptoError::Decrypt`].
    pub fn unwrap(
        master: &MasterKey,
        tenant: Uuid,
        subject: Uuid,
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let opened = aead_open(master.kek(), &subject_key_aad(tenant, subject), wrapped)?;
        key_from(opened).map(Self)
    }

    pub(super) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(<redacted>)")
    }
}

/// The key of the keyed blind index used to find subjects by email, phone or other identifier
/// without storing the identifier in clear. An index value is itself personal data (it is
/// deleted on erasure) and is useless without this key.
pub struct BlindIndexKey {
    key: [u8; KEY_LEN],
    /// HMAC's two key blocks, compressed once (docs/decisions/0025): an index then costs the
    /// message's compressions and the outer one, not two more for the key every time. The
    /// midstates are as secret as the key; `hmac` cannot wipe them, so they live exactly as
    /// long as the key (which is loaded once per process).
    mac: HmacSha256,
}

impl Drop for BlindIndexKey {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl BlindIndexKey {
    fn from_bytes(key: [u8; KEY_LEN]) -> Self {
        let mac = hmac_sha256_keyed(&key);
        Self { key, mac }
    }

    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(key.as_mut_slice());
        Self::from_bytes(*key)
    }

    /// Encrypts this key under the KEK for the key store's keyring.
    pub fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        aead_seal(master.kek(), BLIND_INDEX_KEY_AAD, &self.key)
    }

    pub fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        let opened = aead_open(master.kek(), BLIND_INDEX_KEY_AAD, wrapped)?;
        key_from(opened).map(Self::from_bytes)
    }

    /// HMAC-SHA256(key, `kind ‖ 0x00 ‖ value`), 32 bytes. `value` must already be normalised
    /// (see `identifier::normalise`) so that equal identifiers meet. The kind is mixed in so
    /// the same text as, say, a username and a login id gives unrelated indexes; the zero byte
    /// keeps `kind`/`value` boundaries unambiguous (kinds never contain it).
    pub fn index(&self, kind: &str, normalised_value: &str) -> Vec<u8> {
        self.index_array(kind, normalised_value).to_vec()
    }

    /// [`Self::index`] as an array, for paths that look up many addresses and would otherwise
    /// allocate once per address.
    pub fn index_array(&self, kind: &str, normalised_value: &str) -> [u8; 32] {
        hmac_sha256_with(
            &self.mac,
            &[kind.as_bytes(), &[0], normalised_value.as_bytes()],
        )
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(<redacted>)")
    }
}

fn subject_key_aad(tenant: Uuid, subject: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(SUBJECT_KEY_AAD_LABEL.len() + 32);
    aad.extend_from_slice(SUBJECT_KEY_AAD_LABEL);
    aad.extend_from_slice(tenant.as_bytes());
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Moves an unwrapped key out of its buffer, wiping the buffer either way.
pub(super) fn key_from(opened: Vec<u8>) -> Result<[u8; KEY_LEN], CryptoError> {
    let opened = Zeroizing::new(opened);
    <[u8; KEY_LEN]>::try_from(opened.as_slice()).map_err(|_| CryptoError::KeyLength)
}

fn decode_hex(text: &str) -> Result<Zeroizing<[u8; KEY_LEN]>, CryptoError> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(hi), Some(lo)) => *byte = (hi << 4) | lo,
            _ => return Err(CryptoError::InvalidMasterKey("invalid hex digit")),
        }
    }
    Ok(out)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}
