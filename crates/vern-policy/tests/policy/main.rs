//! The one integration-test binary of vern-policy (each extra test binary costs a link).

// Tests fail by panicking; the workspace's no-panic lints are for production code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod check;
mod diff;
mod props;
mod render;
mod ropa;
mod support;
