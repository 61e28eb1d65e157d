//! Round-trips and tamper checks for the whole crypto module.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use uuid::Uuid;

use super::keys::hex;
use super::*;

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn aad(field: &str) -> Aad<'_> {
    Aad {
        tenant: uuid(1),
        subject: uuid(2),
        record: uuid(3),
        field,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_open_round_trips(plaintext in proptest::collection::vec(any::<u8>(), 0..2048),
                             field in "[a-z_.]{0,40}") {
        let key = SubjectKey::generate();
        let aad = aad(&field);
        let sealed = seal(&key, &aad, &plaintext).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + 24 + 16);
        prop_assert_eq!(open(&key, &aad, &sealed).unwrap(), plaintext);
    }

    #[test]
    fn any_flipped_bit_is_detected(plaintext in proptest::collection::vec(any::<u8>(), 0..256),
                                   at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let key = SubjectKey::generate();
        let mut sealed = seal(&key, &aad("value"), &plaintext).unwrap();
        let i = at.index(sealed.len());
        sealed[i] ^= 1 << bit;
        prop_assert_eq!(open(&key, &aad("value"), &sealed), Err(CryptoError::Decrypt));
    }

    #[test]
    fn open_fails_if_any_aad_component_differs(which in 0usize..4, other in 100u128..200) {
        let key = SubjectKey::generate();
        let original = aad("value");
        let sealed = seal(&key, &original, b"ada@example.com").unwrap();
        let other_field = format!("value{other}");
        let mut moved = original;
        match which {
            0 => moved.tenant = uuid(other),
            1 => moved.subject = uuid(other),
            2 => moved.record = uuid(other),
            _ => moved.field = &other_field,
        }
        prop_assert_eq!(open(&key, &moved, &sealed), Err(CryptoError::Decrypt));
    }

    #[test]
    fn subject_key_wrap_round_trips(tenant in any::<u128>(), subject in any::<u128>()) {
        let master = MasterKey::generate();
        let key = SubjectKey::generate();
        let wrapped = key.wrap(&master, uuid(tenant), uuid(subject)).unwrap();
        let unwrapped = SubjectKey::unwrap(&master, uuid(tenant), uuid(subject), &wrapped).unwrap();
        // Same key ⇔ it opens what the original sealed.
        let sealed = seal(&key, &aad("f"), b"x").unwrap();
        prop_assert_eq!(open(&unwrapped, &aad("f"), &sealed).unwrap(), b"x".to_vec());
    }

    #[test]
    fn master_key_text_forms_parse(bytes in any::<[u8; 32]>()) {
        let expected = MasterKey::from_bytes(bytes);
        let forms = [
            hex(&bytes),
            hex(&bytes).to_uppercase(),
            STANDARD.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!("  {}\n", STANDARD.encode(bytes)),
        ];
        for form in forms {
            let parsed = MasterKey::parse(&form).unwrap();
            prop_assert_eq!(parsed.kek_id(), expected.kek_id());
            prop_assert_eq!(parsed.to_hex(), hex(&bytes));
        }
    }
}

#[test]
fn another_subjects_key_does_not_open() {
    let sealed = seal(&SubjectKey::generate(), &aad("value"), b"secret").unwrap();
    assert_eq!(
        open(&SubjectKey::generate(), &aad("value"), &sealed),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn truncated_ciphertext_is_an_error_not_a_panic() {
    let key = SubjectKey::generate();
    let sealed = seal(&key, &aad("value"), b"").unwrap();
    for len in 0..sealed.len() {
        assert!(open(&key, &aad("value"), &sealed[..len]).is_err());
    }
    assert_eq!(open(&key, &aad("value"), &[]), Err(CryptoError::Truncated));
}

#[test]
fn sealing_twice_gives_different_bytes() {
    let key = SubjectKey::generate();
    assert_ne!(
        seal(&key, &aad("value"), b"same").unwrap(),
        seal(&key, &aad("value"), b"same").unwrap()
    );
}

#[test]
fn aad_bytes_follow_the_documented_layout() {
    let bytes = aad("value").to_bytes().unwrap();
    assert!(bytes.starts_with(b"vern/record/v1"));
    assert_eq!(bytes.len(), 14 + 48 + 2 + 5);
    assert_eq!(&bytes[14 + 48..14 + 50], &[0, 5]);
    assert!(bytes.ends_with(b"value"));
    let long = "x".repeat(70_000);
    assert_eq!(aad(&long).to_bytes(), Err(CryptoError::AadFieldTooLong));
}

#[test]
fn unwrapping_fails_under_another_master_key_or_subject() {
    let master = MasterKey::generate();
    let key = SubjectKey::generate();
    let wrapped = key.wrap(&master, uuid(1), uuid(2)).unwrap();
    assert_eq!(wrapped.len(), 24 + 32 + 16);
    let other = MasterKey::generate();
    assert_eq!(
        SubjectKey::unwrap(&other, uuid(1), uuid(2), &wrapped).err(),
        Some(CryptoError::Decrypt)
    );
    assert!(SubjectKey::unwrap(&master, uuid(1), uuid(3), &wrapped).is_err());
    assert!(SubjectKey::unwrap(&master, uuid(9), uuid(2), &wrapped).is_err());
    let mut tampered = wrapped.clone();
    tampered[30] ^= 0x80;
    assert!(SubjectKey::unwrap(&master, uuid(1), uuid(2), &tampered).is_err());
    assert!(SubjectKey::unwrap(&master, uuid(1), uuid(2), b"short").is_err());
}

#[test]
fn blind_index_key_wraps_and_indexes_deterministically() {
    let master = MasterKey::generate();
    let key = BlindIndexKey::generate();
    let wrapped = key.wrap(&master).unwrap();
    let unwrapped = BlindIndexKey::unwrap(&master, &wrapped).unwrap();
    let index = key.index("email", "ada@example.com");
    assert_eq!(index.len(), 32);
    assert_eq!(unwrapped.index("email", "ada@example.com"), index);
    assert_ne!(key.index("username", "ada@example.com"), index);
    assert_ne!(key.index("email", "ada@example.org"), index);
    assert_ne!(
        BlindIndexKey::generate().index("email", "ada@example.com"),
        index
    );
    // The separator keeps the kind/value boundary unambiguous.
    assert_ne!(key.index("ab", "c"), key.index("a", "bc"));
    assert!(BlindIndexKey::unwrap(&MasterKey::generate(), &wrapped).is_err());
    // A wrapped subject key is not accepted as a blind-index key (different AAD).
    let subject_wrapped = SubjectKey::generate()
        .wrap(&master, uuid(1), uuid(2))
        .unwrap();
    assert!(BlindIndexKey::unwrap(&master, &subject_wrapped).is_err());
}

#[test]
fn blind_index_survives_master_key_rotation() {
    let old = MasterKey::generate();
    let new = MasterKey::generate();
    let key = BlindIndexKey::generate();
    let rewrapped = BlindIndexKey::unwrap(&old, &key.wrap(&old).unwrap())
        .unwrap()
        .wrap(&new)
        .unwrap();
    let after = BlindIndexKey::unwrap(&new, &rewrapped).unwrap();
    assert_eq!(
        after.index("phone", "+4791234567"),
        key.index("phone", "+4791234567")
    );
}

#[test]
fn master_key_rejects_bad_text_without_echoing_it() {
    for bad in [
        "",
        "   ",
        &"ab".repeat(31),
        &"ab".repeat(33),
        &"zz".repeat(32),
        &STANDARD.encode([1u8; 31]),
        &STANDARD.encode([1u8; 33]),
        &STANDARD.encode([1u8; 64]),
        "not a key at all!",
    ] {
        let err = MasterKey::parse(bad).unwrap_err();
        assert!(matches!(err, CryptoError::InvalidMasterKey(_)), "{bad:?}");
        if bad.trim().len() > 3 {
            assert!(!err.to_string().contains(bad.trim()));
        }
    }
}

#[test]
fn kek_id_identifies_the_key_without_revealing_it() {
    let bytes = [42u8; 32];
    let a = MasterKey::from_bytes(bytes);
    assert_eq!(a.kek_id(), MasterKey::from_bytes(bytes).kek_id());
    assert_ne!(a.kek_id(), MasterKey::generate().kek_id());
    assert!(!bytes.windows(16).any(|w| w == a.kek_id()));
}

#[test]
fn debug_output_is_redacted() {
    let master = MasterKey::from_bytes([0xab; 32]);
    let shown = format!("{master:?}");
    assert!(!shown.contains(&"ab".repeat(8)), "{shown}");
    assert!(shown.contains("kek_id"));
    assert_eq!(
        format!("{:?}", SubjectKey::generate()),
        "SubjectKey(<redacted>)"
    );
    assert_eq!(
        format!("{:?}", BlindIndexKey::generate()),
        "BlindIndexKey(<redacted>)"
    );
}

#[test]
fn tokens_are_prefixed_random_and_hash_stably() {
    let a = generate_token();
    let b = generate_token();
    assert!(a.starts_with("vern_"));
    assert_eq!(a.len(), 5 + 43);
    assert_ne!(a, b);
    assert!(
        a[5..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_eq!(hash_token(&a), hash_token(&a));
    assert_ne!(hash_token(&a), hash_token(&b));
    // SHA-256("abc"), FIPS 180-2.
    assert_eq!(
        hex(&hash_token("abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn constant_time_eq_compares_contents_and_lengths() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(constant_time_eq(b"", b""));
}
