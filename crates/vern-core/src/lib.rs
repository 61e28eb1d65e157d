//! vern's domain: the rules that turn a validated [`vern_policy::Policy`] into decisions about
//! personal data, and the cryptography that protects that data at rest.
//!
//! This crate is pure. It does no I/O, speaks no SQL or HTTP and never reads the wall clock for
//! a business decision: time comes in as a value or through a [`Clock`]. Handlers ask it; the
//! store persists what it decided. The only exceptions are the operating system's random
//! number generator (keys, nonces, tokens) and the timestamp inside UUIDv7 ids.
//!
//! - [`ids`]: UUIDv7 ids, microsecond timestamps, the [`Clock`], the default tenant.
//! - [`crypto`]: envelope encryption with crypto-shredding (master key → KEK → per-subject
//!   keys → sealed fields), the blind index for lookups, API-token hashing.
//! - [`identifier`]: identifier kinds and their normalisation before indexing.
//! - [`records`]: the write rules for records, derived from the policy.
//! - [`access`]: what a role may do and which categories it may see.
//! - [`consent`]: the consent ledger's events and how they fold into current state.
//! - [`decision`]: may this subject's data be used for this purpose, channel and message.
//! - [`dsr`]: data-subject requests: Art. 12(3) deadlines and the request state machine.

pub mod access;
pub mod consent;
pub mod crypto;
pub mod decision;
pub mod disclosure;
pub mod dsr;
pub mod identifier;
pub mod ids;
pub mod records;
pub mod retention;

pub use access::{Access, Permission, filter_categories, role_can, role_can_access_category};
pub use crypto::{
    Aad, BlindIndexKey, CryptoError, MasterKey, SubjectKey, constant_time_eq, generate_token,
    hash_token, open, seal,
};
pub use identifier::{IdentifierError, IdentifierKind, normalise};
pub use ids::{Clock, DEFAULT_TENANT, FixedClock, SystemClock, from_micros, new_id, to_micros};
pub use records::{
    CheckedRecord, RecordInput, WriteError, check_record, check_subject_type, legal_basis_name,
    parse_legal_basis,
};
