//! API tokens: random secrets shown once, stored only as a hash.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::primitives::fill_random;

/// Every token starts with this, so leaked tokens are recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "vern_";

/// A new API token: `vern_` followed by 32 random bytes in base64url without padding.
pub fn generate_token() -> String {
    let mut secret = Zeroizing::new([0u8; 32]);
    fill_random(secret.as_mut());
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + 43);
    token.push_str(TOKEN_PREFIX);
    URL_SAFE_NO_PAD.encode_string(secret.as_ref(), &mut token);
    token
}

/// SHA-256 of the token text: what the database keeps. A plain hash (no salt or key) is enough
/// because tokens carry 256 bits of randomness, so there is nothing to brute-force; it also
/// lets the token be found by its hash in one indexed lookup.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Compares secrets without leaking, through timing, how many leading bytes match. Slices of
/// different lengths are unequal (lengths are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
