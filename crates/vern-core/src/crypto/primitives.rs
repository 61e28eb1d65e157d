//! The few primitives the rest of the module is built from: randomness, HMAC-SHA256, a
//! single-block HKDF, and XChaCha20-Poly1305 with the nonce carried in front.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use sha2::Sha256;
use zeroize::Zeroize;

use super::CryptoError;

/// XChaCha20-Poly1305 nonce length, prefixed to every ciphertext.
pub(super) const NONCE_LEN: usize = 24;
/// Poly1305 tag length, at the end of every ciphertext.
pub(super) const TAG_LEN: usize = 16;

/// Fills `out` from the operating system's CSPRNG. Keys come straight from the OS rather than a
/// user-space generator, so no generator state that could predict them lingers in memory.
pub(super) fn fill_random(out: &mut [u8]) {
    // `UnwrapErr` panics only if the OS cannot provide entropy at all, in which case no key
    // could be made safely; `aead`'s own `generate()` makes the same choice.
    UnwrapErr(SysRng).fill_bytes(out);
}

/// Fills a nonce from the thread's user-space CSPRNG (ChaCha, seeded and periodically reseeded
/// from the OS). A nonce must never repeat under one key but need not be secret, so the
/// generator that makes one per sealed value without a system call is the right one here;
/// keys still come from [`fill_random`].
pub(super) fn fill_nonce(out: &mut [u8]) {
    rand::rng().fill_bytes(out);
}

/// HMAC-SHA256 with its key already absorbed (the inner and outer key blocks compressed).
pub(super) type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 state keyed with a 32-byte key, to be cloned per message.
pub(super) fn hmac_sha256_keyed(key: &[u8; 32]) -> HmacSha256 {
    // HMAC pads keys shorter than the hash block (64 bytes) with zeros (RFC 2104), so padding
    // here gives exactly HMAC(key, ·) while using the infallible `KeyInit::new`.
    let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
    block[..32].copy_from_slice(key);
    let mac = <Hmac<Sha256> as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    mac
}

/// HMAC-SHA256 over the concatenation of `parts`, from a keyed state.
pub(super) fn hmac_sha256_with(keyed: &HmacSha256, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = keyed.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 over the concatenation of `parts`, keyed with a 32-byte key.
pub(super) fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    hmac_sha256_with(&hmac_sha256_keyed(key), parts)
}

/// HKDF-SHA256 (RFC 5869) with no salt, for one 32-byte output.
///
/// For an output no longer than the hash, HKDF-Expand is the single block
/// `T(1) = HMAC(PRK, info ‖ 0x01)`; writing that out keeps the derivation infallible, and a
/// test checks it against the `hkdf` crate and the RFC's test vector.
pub(super) fn hkdf_sha256(ikm: &[u8; 32], info: &[u8]) -> [u8; 32] {
    let (prk, _) = hkdf::Hkdf::<Sha256>::extract(None, ikm);
    let mut prk: [u8; 32] = prk.into();
    let okm = hmac_sha256(&prk, &[info, &[1]]);
    prk.zeroize();
    okm
}

/// Encrypts under `key` with a fresh random nonce: returns `nonce ‖ ciphertext ‖ tag`.
pub(super) fn aead_seal(
    key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key));
    let mut nonce = XNonce::default();
    fill_nonce(&mut nonce);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::TooLong)?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts `nonce ‖ ciphertext ‖ tag` made by [`aead_seal`] with the same key and AAD.
pub(super) fn aead_open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Truncated);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = XNonce::try_from(nonce).map_err(|_| CryptoError::Truncated)?;
    let cipher = XChaCha20Poly1305::new(<&Key>::from(key));
    cipher
        .decrypt(&nonce, Payload { msg: body, aad })
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hkdf_matches_the_hkdf_crate() {
        let ikm = [7u8; 32];
        let mut expected = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, &ikm)
            .expand(b"vern/kek/v1", &mut expected)
            .unwrap();
        assert_eq!(hkdf_sha256(&ikm, b"vern/kek/v1"), expected);
    }

    #[test]
    fn hmac_matches_rfc_4231_style_computation() {
        // Cross-check the zero-padding trick against `new_from_slice`.
        let key = [0x0b; 32];
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(b"Hi There");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(hmac_sha256(&key, &[b"Hi ", b"There"]), expected);
        // A keyed state is reusable: each message starts from the key alone.
        let keyed = hmac_sha256_keyed(&key);
        assert_eq!(hmac_sha256_with(&keyed, &[b"Hi There"]), expected);
        assert_ne!(hmac_sha256_with(&keyed, &[b"Hi"]), expected);
        assert_eq!(hmac_sha256_with(&keyed, &[b"Hi", b" There"]), expected);
    }

    #[test]
    fn hkdf_first_block_matches_rfc_5869_case_3() {
        // RFC 5869 A.3: SHA-256, IKM = 22 × 0x0b, no salt, no info. Our helper takes a 32-byte
        // IKM, so check the single-block expansion from the RFC's PRK instead.
        let prk: [u8; 32] =
            unhex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04")
                .try_into()
                .unwrap();
        let okm = unhex(
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        );
        assert_eq!(hmac_sha256(&prk, &[b"", &[1]]).as_slice(), &okm[..32]);
    }

    #[test]
    fn random_source_works() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill_random(&mut a);
        fill_random(&mut b);
        assert_ne!(a, b);
    }
}
