//! Property tests: parsing never panics on any input, and every valid policy renders in every
//! language and format.
//!
//! Case counts are kept modest so the suite stays fast; set `PROPTEST_CASES` to run more.

use proptest::prelude::*;
use proptest::test_runner::Config;
use vern_policy::Policy;
use vern_policy::render::{Format, Lang, render_notice};

use crate::r#gen::valid_policy_toml;
use crate::support;

/// `cases` unless `PROPTEST_CASES` asks for another number.
fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

/// Renders a policy that parsed, in every language and format; a panic fails the test.
fn render_all(policy: &Policy) {
    for lang in Lang::ALL {
        for format in Format::ALL {
            let out = render_notice(policy, lang, format);
            assert!(!out.is_empty());
        }
    }
}

/// Whatever parses must also render.
fn parse_and_render(bytes: &[u8]) {
    if let Ok((policy, _)) = Policy::parse_bytes(bytes) {
        render_all(&policy);
    }
}

/// One edit of a policy file.
#[derive(Debug, Clone)]
enum Edit {
    SetByte(prop::sample::Index, u8),
    InsertBytes(prop::sample::Index, Vec<u8>),
    DeleteLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
    Truncate(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    use prop::sample::Index;
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::SetByte(i, b)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Edit::InsertBytes(i, b)),
        any::<Index>().prop_map(Edit::DeleteLine),
        any::<Index>().prop_map(Edit::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn apply(source: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = source.to_vec();
    for e in edits {
        let mut lines: Vec<Vec<u8>> = bytes
            .split_inclusive(|b| *b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        match e {
            Edit::SetByte(i, b) if !bytes.is_empty() => {
                let at = i.index(bytes.len());
                bytes[at] = *b;
                continue;
            }
            Edit::InsertBytes(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
                continue;
            }
            Edit::Truncate(i) => {
                bytes.truncate(i.index(bytes.len() + 1));
                continue;
            }
            Edit::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i.index(lines.len()));
            }
            Edit::DuplicateLine(i) if !lines.is_empty() => {
                let at = i.index(lines.len());
                let line = lines[at].clone();
                lines.insert(at, line);
            }
            Edit::SwapLines(a, b) if !lines.is_empty() => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            _ => continue,
        }
        bytes = lines.concat();
    }
    bytes
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parsing_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_and_render(&bytes);
    }

    #[test]
    fn parsing_never_panics_on_arbitrary_strings(text in any::<String>()) {
        parse_and_render(text.as_bytes());
    }

    #[test]
    fn parsing_never_panics_on_toml_like_text(text in "([a-z_\\[\\]{}=\", .\n0-9-]|\\PC){0,400}") {
        parse_and_render(text.as_bytes());
    }

    #[test]
    fn parsing_never_panics_on_mutations_of_minimal(edits in prop::collection::vec(edit(), 1..6)) {
        let source = support::fixture_source("minimal.toml");
        parse_and_render(&apply(source.as_bytes(), &edits));
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn rendering_never_panics_on_any_valid_policy(source in valid_policy_toml()) {
        let policy = support::parse_valid("generated policy", &source);
        render_all(&policy);
    }
}
