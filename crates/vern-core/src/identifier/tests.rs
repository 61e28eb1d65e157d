//! Table tests for identifier kinds and normalisation.

use super::*;
use IdentifierError as E;
use IdentifierKind as K;

#[test]
fn kinds_parse_and_print_as_their_strings() {
    for (text, kind) in [
        ("email", K::Email),
        ("phone", K::Phone),
        ("login_id", K::LoginId),
        ("username", K::Username),
        ("external:crm", K::External("crm".into())),
        ("external:hr-system.v2", K::External("hr-system.v2".into())),
    ] {
        assert_eq!(K::parse(text), Ok(kind.clone()));
        assert_eq!(kind.as_str(), text);
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<K>(&format!("\"{text}\"")).unwrap(),
            kind
        );
    }
    for bad in ["", "Email", "mail", "login-id", "external"] {
        assert_eq!(K::parse(bad), Err(E::UnknownKind), "{bad}");
    }
    for bad in ["external:", "external:CRM", "external:a b", "external:x:y"] {
        assert_eq!(K::parse(bad), Err(E::InvalidSystem), "{bad}");
    }
    assert!(serde_json::from_str::<K>("\"fax\"").is_err());
}

#[test]
fn emails_are_trimmed_and_lowercased_but_never_merged() {
    let ok = [
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\n", "ada@example.com"),
        ("ada+news@example.com", "ada+news@example.com"),
        ("a.d.a@example.com", "a.d.a@example.com"),
        ("ada@mail.example.co.uk", "ada@mail.example.co.uk"),
        ("ÅSE@Blåbær.NO", "åse@blåbær.no"),
        ("o'neil@x-y.example", "o'neil@x-y.example"),
    ];
    for (input, expected) in ok {
        assert_eq!(
            normalise(&K::Email, input).as_deref(),
            Ok(expected),
            "{input}"
        );
    }
    let long_local = format!("{}@example.com", "a".repeat(65));
    let long_total = format!("a@{}.com", "b".repeat(250));
    let bad = [
        (
            "",
            E::Empty {
                kind: "email address",
            },
        ),
        (
            "   ",
            E::Empty {
                kind: "email address",
            },
        ),
        ("ada", E::EmailShape),
        ("@example.com", E::EmailShape),
        ("ada@", E::EmailShape),
        ("ada@example", E::EmailShape),
        ("ada@example.c", E::EmailShape),
        ("ada@@example.com", E::EmailShape),
        ("ada@exa@mple.com", E::EmailShape),
        ("ada@.example.com", E::EmailShape),
        ("ada@example..com", E::EmailShape),
        ("ada@example.com.", E::EmailShape),
        ("ada@-example.com", E::EmailShape),
        ("ada@exa_mple.com", E::EmailShape),
        ("ada lovelace@example.com", E::EmailWhitespace),
        (
            "ada@example.com\u{0}",
            E::ControlCharacter {
                kind: "email address",
            },
        ),
        (
            "ada\u{7}@example.com",
            E::ControlCharacter {
                kind: "email address",
            },
        ),
        (&long_local, E::EmailShape),
        (
            &long_total,
            E::TooLong {
                kind: "email address",
                max: 254,
            },
        ),
    ];
    for (input, expected) in bad {
        assert_eq!(normalise(&K::Email, input), Err(expected), "{input:?}");
    }
}

#[test]
fn phones_become_e164() {
    let ok = [
        ("+47 912 34 567", "+4791234567"),
        ("0047 912 34 567", "+4791234567"),
        ("+1 (415) 555-0132", "+14155550132"),
        ("+46.70.123.45.67", "+46701234567"),
        ("  +4791234567 ", "+4791234567"),
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ];
    for (input, expected) in ok {
        assert_eq!(
            normalise(&K::Phone, input).as_deref(),
            Ok(expected),
            "{input}"
        );
    }
    let bad = [
        (
            "",
            E::Empty {
                kind: "phone number",
            },
        ),
        ("912 34 567", E::PhoneNotInternational),
        ("0 912 34 567", E::PhoneNotInternational),
        ("+0 912 34 567", E::PhoneNotInternational),
        ("+47 912 34 56a", E::PhoneCharacters),
        ("+47/91234567", E::PhoneCharacters),
        ("+47 912+34567", E::PhoneCharacters),
        ("++4791234567", E::PhoneCharacters),
        ("+1234567", E::PhoneLength),
        ("+1234567890123456", E::PhoneLength),
        ("+47\u{0}91234567", E::PhoneCharacters),
    ];
    for (input, expected) in bad {
        assert_eq!(normalise(&K::Phone, input), Err(expected), "{input:?}");
    }
}

#[test]
fn opaque_ids_are_trimmed_and_kept_exact() {
    for kind in [K::LoginId, K::Username, K::External("crm".into())] {
        assert_eq!(normalise(&kind, "  AdaL-42 ").as_deref(), Ok("AdaL-42"));
        assert_eq!(normalise(&kind, "a b").as_deref(), Ok("a b"));
        assert!(matches!(normalise(&kind, "\t"), Err(E::Empty { .. })));
        assert!(matches!(
            normalise(&kind, "ad\u{1b}a"),
            Err(E::ControlCharacter { .. })
        ));
        assert_eq!(normalise(&kind, &"é".repeat(256)).map(|s| s.len()), Ok(512));
        assert!(matches!(
            normalise(&kind, &"x".repeat(257)),
            Err(E::TooLong { max: 256, .. })
        ));
    }
}

#[test]
fn errors_never_echo_the_value() {
    let secret = "ada.lovelace@@example.com";
    let message = normalise(&K::Email, secret).unwrap_err().to_string();
    assert!(!message.contains("lovelace"), "{message}");
    let message = normalise(&K::Phone, "+47 secret").unwrap_err().to_string();
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(E::EmailShape.code(), "invalid_email");
}

mod plain_email_fast_path {
    use proptest::prelude::*;

    use super::super::{normalise_any_email, normalise_plain_email};

    /// Address-like text: ASCII letters of both cases, digits, the separators, and characters
    /// the general path treats specially (spaces, controls, DEL, non-ASCII letters and case).
    fn addressish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                6 => proptest::char::range('a', 'z'),
                3 => proptest::char::range('A', 'Z'),
                2 => proptest::char::range('0', '9'),
                2 => Just('.'),
                1 => Just('-'),
                1 => Just('@'),
                1 => Just('+'),
                1 => prop::sample::select(vec![' ', '\t', '\n', '\u{7f}', '\u{1}', '_', '"']),
                1 => prop::sample::select(vec!['é', 'Ø', 'ß', 'İ', '\u{a0}', '\u{2028}', 'ſ', 'K']),
            ],
            0..80,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// Well-formed ASCII addresses in any case, some of them at the length limits.
    fn plain_address() -> impl Strategy<Value = String> {
        (
            "[A-Za-z0-9.+_-]{1,64}",
            proptest::collection::vec("[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?", 1..4),
            "[A-Za-z]{2,6}",
        )
            .prop_map(|(local, labels, tld)| format!("{local}@{}.{tld}", labels.join(".")))
    }

    /// A plain address with one character put in or replaced somewhere: mostly near misses.
    fn near_miss() -> impl Strategy<Value = String> {
        (
            plain_address(),
            any::<prop::sample::Index>(),
            any::<bool>(),
            addressish(),
        )
            .prop_map(|(address, at, replace, extra)| {
                let mut chars: Vec<char> = address.chars().collect();
                let i = at.index(chars.len() + 1);
                let c = extra.chars().next().unwrap_or('@');
                if replace && i < chars.len() {
                    chars[i] = c;
                } else {
                    chars.insert(i, c);
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The fast path never decides differently: where it answers, the general path gives
        /// the same address; where it does not, the general path decides alone.
        #[test]
        fn answers_only_what_the_general_path_answers(value in prop_oneof![addressish(), near_miss()]) {
            if let Some(fast) = normalise_plain_email(&value) {
                prop_assert_eq!(normalise_any_email(&value), Ok(fast));
            }
        }

        /// And it does answer for plain addresses (else it would only cost time).
        #[test]
        fn takes_plain_addresses(value in plain_address()) {
            let general = normalise_any_email(&value);
            prop_assert_eq!(normalise_plain_email(&value).ok_or(()), general.clone().map_err(|_| ()));
            if value.len() <= super::super::MAX_EMAIL_LEN {
                prop_assert!(general.is_ok(), "{value}");
            }
        }
    }
}
