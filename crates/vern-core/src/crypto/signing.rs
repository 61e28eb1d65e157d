//! The server's receipt-signing key: Ed25519, signing compact JWS (RFC 7515, `alg: EdDSA`,
//! RFC 8037) that anyone can verify with the public key published as a JWK set.
//!
//! Only the 32-byte seed is kept, wrapped under the KEK in the key store's keyring like the
//! blind-index key; `ring` (already in the build for TLS) does the curve arithmetic.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::json;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::CryptoError;
use super::keys::{KEY_LEN, MasterKey};
use super::primitives::{aead_open, aead_seal, fill_random};

const SIGNING_KEY_AAD: &[u8] = b"vern/keyring/receipt_signing/v1";

/// See the module docs. Prints as redacted.
pub struct ReceiptSigningKey {
    seed: Zeroizing<[u8; KEY_LEN]>,
    pair: Ed25519KeyPair,
}

impl ReceiptSigningKey {
    pub fn generate() -> Result<Self, CryptoError> {
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(seed.as_mut());
        Self::from_seed(seed)
    }

    fn from_seed(seed: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .map_err(|_| CryptoError::KeyLength)?;
        Ok(Self { seed, pair })
    }

    /// The seed encrypted under the KEK, for the keyring.
    pub fn wrap(&self, master: &MasterKey) -> Result<Vec<u8>, CryptoError> {
        aead_seal(master.kek(), SIGNING_KEY_AAD, self.seed.as_ref())
    }

    pub fn unwrap(master: &MasterKey, wrapped: &[u8]) -> Result<Self, CryptoError> {
        let opened = Zeroizing::new(aead_open(master.kek(), SIGNING_KEY_AAD, wrapped)?);
        let seed: [u8; KEY_LEN] = opened
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::KeyLength)?;
        Self::from_seed(Zeroizing::new(seed))
    }

    /// The key id: base64url of the first 16 bytes of SHA-256 of the public key.
    pub fn kid(&self) -> String {
        let digest = Sha256::digest(self.pair.public_key().as_ref());
        URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    /// The public key as a JWK (RFC 8037 `OKP`/`Ed25519`).
    pub fn public_jwk(&self) -> serde_json::Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref()),
            "kid": self.kid(),
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// `payload` signed as a compact JWS with header `{"alg":"EdDSA","typ":"JWT","kid":…}`.
    pub fn sign_compact(&self, payload: &serde_json::Value) -> String {
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid()});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let sig = self.pair.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }
}

impl fmt::Debug for ReceiptSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptSigningKey")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use ring::signature::{ED25519, UnparsedPublicKey};

    use super::*;

    #[test]
    fn signatures_verify_and_the_key_round_trips_through_the_keyring() {
        let master = MasterKey::generate();
        let key = ReceiptSigningKey::generate().unwrap();
        let again = ReceiptSigningKey::unwrap(&master, &key.wrap(&master).unwrap()).unwrap();
        assert_eq!(key.kid(), again.kid());
        assert!(
            ReceiptSigningKey::unwrap(&MasterKey::generate(), &key.wrap(&master).unwrap()).is_err()
        );

        let jws = again.sign_compact(&json!({"hello": "world"}));
        let parts: Vec<&str> = jws.split('.').collect();
        assert_eq!(parts.len(), 3);
        let x = key.public_jwk()["x"].as_str().unwrap().to_owned();
        let public = UnparsedPublicKey::new(&ED25519, URL_SAFE_NO_PAD.decode(x).unwrap());
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
        assert!(public.verify(b"tampered", &sig).is_err());
        assert!(!format!("{key:?}").contains(&hex_of(key.seed.as_ref())));
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
