//! The one integration-test binary of vern-policy (each extra test binary costs a link).

// Tests fail by panicking; the workspace's no-panic lints are for production code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod check;
mod diff;
// `gen` is a reserved word in edition 2024, hence the raw identifier.
mod r#gen;
mod props;
mod render;
mod ropa;
mod support;
