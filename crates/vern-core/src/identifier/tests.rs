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
