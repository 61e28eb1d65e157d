//! The store's one integration-test binary: the conformance suite on SQLite (always) and on
//! PostgreSQL (when `VERN_TEST_POSTGRES_URL` is set; required when `CI` is set), the schema
//! parity test, SQLite specifics (files, backup) and import benchmarks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod consent;
mod harness;
mod parity;
mod recompute;
mod requests;
mod retention;
mod sqlite;
mod suite;
