//! Shared helpers: fixture paths and loading.

#![allow(dead_code)]

use std::path::PathBuf;

use vern_policy::Policy;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture_source(name: &str) -> String {
    match std::fs::read_to_string(fixture_path(name)) {
        Ok(s) => s,
        Err(e) => panic!("cannot read fixture {name}: {e}"),
    }
}

/// A fixture that must be valid.
pub fn valid_fixture(name: &str) -> Policy {
    match Policy::parse(&fixture_source(name)) {
        Ok((p, _)) => p,
        Err(d) => panic!(
            "{name} should be valid:\n{}",
            d.render(name, &fixture_source(name))
        ),
    }
}

/// The bundled policy, read from the repository's `policies/` folder.
pub fn bundled() -> Policy {
    match Policy::bundled() {
        Ok(p) => p,
        Err(d) => panic!(
            "bundled policy invalid:\n{}",
            d.render(vern_policy::BUNDLED_NAME, vern_policy::BUNDLED_SOURCE)
        ),
    }
}

/// Parses policy text that must be valid, or fails the test with its diagnostics.
pub fn parse_valid(name: &str, source: &str) -> Policy {
    match Policy::parse(source) {
        Ok((p, _)) => p,
        Err(d) => panic!(
            "{name} should be valid:\n{}\n--- source ---\n{source}",
            d.render(name, source)
        ),
    }
}
