//! Sealing personal-data fields under a subject key, bound to where they belong.

use uuid::Uuid;

use super::CryptoError;
use super::SubjectKey;
use super::primitives::{aead_open, aead_seal};

const RECORD_AAD_LABEL: &[u8] = b"vern/record/v1";

/// Where a sealed value belongs. It is authenticated with the ciphertext, so a value moved to
/// another tenant, subject, record or field (by a bug, or by someone with database access)
/// fails to open rather than turning up in the wrong place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aad<'a> {
    pub tenant: Uuid,
    pub subject: Uuid,
    /// The row the value lives in: a record id, or an identifier id.
    pub record: Uuid,
    /// The field within the row.
    pub field: &'a str,
}

impl Aad<'_> {
    /// Field name under which a record's JSON value is sealed.
    pub const RECORD_VALUE: &'static str = "record.value";
    /// Field name under which an identifier's normalised value is sealed.
    pub const IDENTIFIER_VALUE: &'static str = "identifier.value";

    /// The AAD of a record's value: one convention for every writer and reader.
    pub fn record_value(tenant: Uuid, subject: Uuid, record: Uuid) -> Aad<'static> {
        Aad {
            tenant,
            subject,
            record,
            field: Self::RECORD_VALUE,
        }
    }

    /// The AAD of an identifier's value, keyed by the identifier row's id.
    pub fn identifier_value(tenant: Uuid, subject: Uuid, identifier: Uuid) -> Aad<'static> {
        Aad {
            tenant,
            subject,
            record: identifier,
            field: Self::IDENTIFIER_VALUE,
        }
    }

    /// `"vern/record/v1" ‖ tenant ‖ subject ‖ record ‖ len(field) as u16 BE ‖ field`.
    ///
    /// The ids have fixed length and the field is length-prefixed, so two different contexts
    /// can never produce the same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CryptoError> {
        let field_len =
            u16::try_from(self.field.len()).map_err(|_| CryptoError::AadFieldTooLong)?;
        let mut out = Vec::with_capacity(RECORD_AAD_LABEL.len() + 48 + 2 + self.field.len());
        out.extend_from_slice(RECORD_AAD_LABEL);
        out.extend_from_slice(self.tenant.as_bytes());
        out.extend_from_slice(self.subject.as_bytes());
        out.extend_from_slice(self.record.as_bytes());
        out.extend_from_slice(&field_len.to_be_bytes());
        out.extend_from_slice(self.field.as_bytes());
        Ok(out)
    }
}

/// Encrypts `plaintext` under the subject key: `nonce (24) ‖ ciphertext ‖ tag (16)`, a fresh
/// random nonce each time, so sealing the same value twice gives unrelated bytes.
pub fn seal(key: &SubjectKey, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    aead_seal(key.bytes(), &aad.to_bytes()?, plaintext)
}

/// Decrypts a value made by [`seal`] with the same key and the same [`Aad`].
pub fn open(key: &SubjectKey, aad: &Aad<'_>, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    aead_open(key.bytes(), &aad.to_bytes()?, sealed)
}
