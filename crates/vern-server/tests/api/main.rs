//! vern-server's one integration-test binary: the real server over HTTP, zero2prod style.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access_report;
mod audit;
mod authz;
mod bad_input;
mod browser;
mod canary;
mod canary_scan;
mod consent;
mod consent_expiry;
mod crypto;
mod decisions;
mod disclosures;
mod dsr_fulfil;
mod dsr_oidc;
mod erasure;
mod events;
mod gdpr_api;
mod helpers;
mod jobs;
mod oidc;
mod openapi;
mod outbox;
mod policy_versions;
mod portability;
mod rate_limits;
mod receipts;
mod records;
mod rectification;
mod requests;
mod requests_mail;
mod retention;
mod smtp_sink;
mod subjects;
mod web;
