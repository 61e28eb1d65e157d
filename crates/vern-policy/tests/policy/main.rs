//! The one integration-test binary of vern-policy (each extra test binary costs a link).

mod check;
mod diff;
mod props;
mod render;
mod ropa;
mod support;
