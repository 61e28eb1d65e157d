//! vern-server's one integration-test binary: the real server over HTTP, zero2prod style.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod authz;
mod bad_input;
mod canary;
mod consent;
mod consent_expiry;
mod crypto;
mod decisions;
mod disclosures;
mod events;
mod helpers;
mod jobs;
mod openapi;
mod outbox;
mod policy_versions;
mod receipts;
mod records;
mod requests;
mod requests_mail;
mod retention;
mod smtp_sink;
mod subjects;
