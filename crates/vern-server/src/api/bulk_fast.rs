//! A fast path for one bulk decision request: the plain shape campaign tools send (known keys
//! in any order, strings without escapes, `null` for absent optional fields, JSON whitespace).
//! Anything else — an escape, a control character, a duplicate or unknown key, a number, a
//! missing `purpose`, a UUID that does not parse — answers `None`, and the caller parses the
//! element with `serde_json`, which also produces the error. So when this answers, the item is
//! exactly what `serde_json` makes of the same bytes (property test below and in
//! `bulk_body.rs`); it only saves the generic deserializer's work (decision 0025, third
//! addendum).

use std::borrow::Cow;

use uuid::Uuid;

use crate::vault::{BodyStr, BulkIdentifier, BulkItem};

/// The object starting at `s[i]` (whitespace before it allowed) and the index just after its
/// closing brace.
pub(super) fn fast_item(s: &[u8], i: usize) -> Option<(BulkItem<'_>, usize)> {
    let mut p = Parser { s, i };
    p.ws();
    p.eat(b'{')?;
    let (mut subject, mut identifier, mut purpose, mut channel, mut class) =
        (None, None, None, None, None);
    loop {
        // A repeated key is an error for serde's derive: leave it to serde.
        match p.key()? {
            "subject_id" if subject.is_none() => {
                subject = Some(match p.null_or_string()? {
                    None => None,
                    Some(v) => Some(Uuid::parse_str(v).ok()?),
                });
            }
            "identifier" if identifier.is_none() => {
                identifier = Some(if p.null() {
                    None
                } else {
                    Some(p.identifier()?)
                });
            }
            "purpose" if purpose.is_none() => purpose = Some(p.string()?),
            "channel" if channel.is_none() => channel = Some(p.null_or_string()?),
            "message_class" if class.is_none() => class = Some(p.null_or_string()?),
            _ => return None,
        }
        if !p.more()? {
            break;
        }
    }
    let item = BulkItem {
        subject_id: subject.flatten(),
        identifier: identifier.flatten(),
        purpose: borrowed(purpose?),
        channel: channel.flatten().map(borrowed),
        message_class: class.flatten().map(borrowed),
    };
    Some((item, p.i))
}

fn borrowed(s: &str) -> BodyStr<'_> {
    BodyStr(Cow::Borrowed(s))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    fn next(&mut self) -> Option<u8> {
        let b = *self.s.get(self.i)?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// A member's key and its colon, with the whitespace around them.
    fn key(&mut self) -> Option<&'a str> {
        self.ws();
        let key = self.string()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(key)
    }

    /// After a member's value: `,` (another member follows) or `}` (the object ends).
    fn more(&mut self) -> Option<bool> {
        self.ws();
        match self.next()? {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// `null`, consumed if it is there.
    fn null(&mut self) -> bool {
        if self.s.get(self.i..self.i + 4) == Some(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    fn null_or_string(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    /// A string without escapes or control characters, as valid UTF-8.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.s.get(self.i..)?;
        let len = rest
            .iter()
            .position(|&b| matches!(b, b'"' | b'\\') || b < 0x20)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        let text = std::str::from_utf8(rest.get(..len)?).ok()?;
        self.i += len + 1;
        Some(text)
    }

    /// `{"kind": …, "value": …}` in either order, both present, nothing else.
    fn identifier(&mut self) -> Option<BulkIdentifier<'a>> {
        self.eat(b'{')?;
        let (mut kind, mut value) = (None, None);
        loop {
            match self.key()? {
                "kind" if kind.is_none() => kind = Some(self.string()?),
                "value" if value.is_none() => value = Some(self.string()?),
                _ => return None,
            }
            if !self.more()? {
                break;
            }
        }
        Some(BulkIdentifier {
            kind: borrowed(kind?),
            value: borrowed(value?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde makes of one element, and where it ends.
    fn serde_item(s: &[u8]) -> Option<(BulkItem<'_>, usize)> {
        let mut stream = serde_json::Deserializer::from_slice(s).into_iter::<BulkItem<'_>>();
        let item = stream.next()?.ok()?;
        Some((item, stream.byte_offset()))
    }

    #[test]
    fn the_plain_shapes_parse_as_serde_parses_them() {
        let cases = [
            r#"{"subject_id":"67e55044-10b1-426f-9247-bb680e5fe0c8","purpose":"marketing.send","channel":"email","message_class":"newsletter"}"#,
            r#"{"identifier":{"kind":"email","value":"Ola.Nordmann@Example.com"},"purpose":"marketing.send"}"#,
            r#" { "purpose" : "p" , "identifier" : { "value" : "v" , "kind" : "k" } , "channel" : null } "#,
            r#"{"purpose":"p","subject_id":null,"identifier":null,"message_class":null}"#,
            r#"{"purpose":"p","subject_id":"67E5504410B1426F9247BB680E5FE0C8"}"#,
            r#"{"purpose":"æøå – ünïcode"}"#,
        ];
        for case in cases {
            let fast = fast_item(case.as_bytes(), 0);
            assert!(fast.is_some(), "{case}");
            assert_eq!(fast, serde_item(case.as_bytes()), "{case}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        let cases = [
            r#"{"purpose":"a\"b"}"#,
            r#"{"purpose":"a\u0041"}"#,
            r#"{"purpose":"p","purpose":"q"}"#,
            r#"{"purpose":"p","unknown":1}"#,
            r#"{"purpose":null}"#,
            r#"{"channel":"email"}"#,
            r#"{"purpose":"p","subject_id":"not-a-uuid"}"#,
            r#"{"purpose":"p","subject_id":12}"#,
            r#"{"purpose":"p",}"#,
            r#"{}"#,
            r#"["p"]"#,
            r#"{"purpose":"p","identifier":{"kind":"email"}}"#,
            r#"{"purpose":"p","identifier":{"kind":"a","value":"b","x":"c"}}"#,
            r#"{"purpose":"p","identifier":{"kind":"a","kind":"b","value":"c"}}"#,
            "{\"purpose\":\"tab\there\"}",
        ];
        for case in cases {
            assert_eq!(fast_item(case.as_bytes(), 0), None, "{case}");
        }
        assert_eq!(fast_item(b"{\"purpose\":\"\xff\"}", 0), None);
    }

    /// A value for the generated objects: mostly plain strings, sometimes `null`, sometimes a
    /// string that needs escapes or is not ASCII.
    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            6 => "[a-z0-9.@-]{0,8}".prop_map(|t| serde_json::to_string(&t).unwrap_or_default()),
            2 => Just("null".to_owned()),
            1 => "[a-z\"\\\u{1}é]{0,4}".prop_map(|t| serde_json::to_string(&t).unwrap_or_default()),
            1 => Just("\"67e55044-10b1-426f-9247-bb680e5fe0c8\"".to_owned()),
            1 => "[0-9]{1,3}",
        ]
    }

    proptest::proptest! {
        // About 7 % of the generated objects are valid, so many cases.
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]
        /// Whatever the bytes, an answer of the fast path is serde's answer, to the byte where
        /// the element ends. The objects are mostly of the plain shape (so the fast path
        /// answers often), with repeated and unknown keys, escapes, numbers and mutated bytes.
        #[test]
        fn the_fast_path_never_differs_from_serde(
            fields in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "subject_id", "subject_id", "identifier", "purpose", "purpose", "purpose",
                    "channel", "message_class", "kind", "other",
                ]), value(), value(), value()),
                1..6,
            ),
            spaces in proptest::collection::vec("[ \t\r\n]{0,2}", 8),
            mutations in proptest::collection::vec((0usize..512, 0usize..12), 0..2),
            mutate in proptest::bool::weighted(0.3),
        ) {
            let parts: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(n, (key, a, b, c))| {
                    let value = match *key {
                        "identifier" if c.starts_with('"') => {
                            format!("{{\"kind\":{a},{}\"value\":{b}}}", spaces[n % 8])
                        }
                        _ => a.clone(),
                    };
                    format!("{}\"{key}\"{}:{}{value}", spaces[n % 8], spaces[(n + 1) % 8], spaces[(n + 2) % 8])
                })
                .collect();
            let mut body = format!("{{{}}}", parts.join(",")).into_bytes();
            if mutate {
                for (at, with) in mutations {
                    let at = at % body.len();
                    body[at] = b",{}[]\":\\ nu\x01"[with];
                }
            }
            if let Some(fast) = fast_item(&body, 0) {
                proptest::prop_assert_eq!(Some(fast), serde_item(&body));
            }
        }
    }
}
