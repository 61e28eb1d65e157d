//! The store's one integration-test binary: the conformance suite on SQLite (always) and on
//! PostgreSQL (when `VERN_TEST_POSTGRES_URL` is set; required when `CI` is set), the schema
//! parity test, and SQLite specifics (files, backup, bulk import speed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod parity;
mod sqlite;
mod suite;
