//! The one integration-test binary of the `vern` command: runs the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod backup;
mod campaign;
mod consent_durability;
mod crash;
mod import;
mod keys;
mod policy;
mod policy_scale;
mod retention;
mod retention_scale;
mod serve;
mod serve_nodes;
mod support;
mod two_nodes;
