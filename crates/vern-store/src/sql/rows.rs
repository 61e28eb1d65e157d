//! Decoding result rows into the model types. Column names match the schema one to one, and
//! every `SELECT` lists its columns explicitly (the `*_cols!` macros), so a migration that
//! adds a column cannot change what these functions see.

use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use uuid::Uuid;

use super::db_err;
use super::error::corrupt;
use crate::StoreResult;
use crate::model::{
    AuditRow, IdempotencyRow, IdentifierRow, KeyringRow, NewAuditEntry, RecordRow, SubjectKeyRow,
    SubjectRow, TokenRow,
};

// Column lists as macros, so `concat!` can build `&'static str` statements from them.
macro_rules! subject_cols {
    () => {
        "tenant_id, id, subject_type, jurisdiction, created_at, updated_at"
    };
}
macro_rules! identifier_cols {
    () => {
        "tenant_id, id, subject_id, kind, blind_index, value_ct, created_at"
    };
}
macro_rules! record_cols {
    () => {
        "tenant_id, id, subject_id, category, value_ct, source, purposes, legal_basis, \
         collected_at, last_activity_at, originating_system, created_at, updated_at, \
         event_times, expires_at, retention_rule"
    };
}
macro_rules! audit_cols {
    () => {
        "tenant_id, seq, id, at, actor, action, subject_id, purpose, detail, prev_hash, hash"
    };
}
macro_rules! token_cols {
    () => {
        "tenant_id, id, name, role, token_hash, created_at, revoked_at"
    };
}
macro_rules! idempotency_cols {
    () => {
        "tenant_id, token_id, key, request_hash, status, body, created_at"
    };
}
macro_rules! subject_key_cols {
    () => {
        "tenant_id, subject_id, kek_id, wrapped_key, created_at"
    };
}
macro_rules! keyring_cols {
    () => {
        "name, kek_id, wrapped_key, created_at"
    };
}
pub(super) use {
    audit_cols, idempotency_cols, identifier_cols, keyring_cols, record_cols, subject_cols,
    subject_key_cols, token_cols,
};

pub(super) fn get<'r, T>(row: &'r AnyRow, col: &str) -> StoreResult<T>
where
    T: Decode<'r, Any> + Type<Any>,
{
    row.try_get(col).map_err(db_err)
}

pub(super) fn uuid(row: &AnyRow, col: &str) -> StoreResult<Uuid> {
    let bytes: &[u8] = get(row, col)?;
    Uuid::from_slice(bytes).map_err(|_| corrupt(col))
}

pub(super) fn opt_uuid(row: &AnyRow, col: &str) -> StoreResult<Option<Uuid>> {
    let bytes: Option<&[u8]> = get(row, col)?;
    bytes
        .map(|b| Uuid::from_slice(b).map_err(|_| corrupt(col)))
        .transpose()
}

pub(super) fn subject(row: &AnyRow) -> StoreResult<SubjectRow> {
    Ok(SubjectRow {
        tenant_id: uuid(row, "tenant_id")?,
        id: uuid(row, "id")?,
        subject_type: get(row, "subject_type")?,
        jurisdiction: get(row, "jurisdiction")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn identifier(row: &AnyRow) -> StoreResult<IdentifierRow> {
    Ok(IdentifierRow {
        tenant_id: uuid(row, "tenant_id")?,
        id: uuid(row, "id")?,
        subject_id: uuid(row, "subject_id")?,
        kind: get(row, "kind")?,
        blind_index: get(row, "blind_index")?,
        value_ct: get(row, "value_ct")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn record(row: &AnyRow) -> StoreResult<RecordRow> {
    let purposes: &str = get(row, "purposes")?;
    Ok(RecordRow {
        tenant_id: uuid(row, "tenant_id")?,
        id: uuid(row, "id")?,
        subject_id: uuid(row, "subject_id")?,
        category: get(row, "category")?,
        value_ct: get(row, "value_ct")?,
        source: get(row, "source")?,
        purposes: serde_json::from_str(purposes).map_err(|_| corrupt("purposes"))?,
        legal_basis: get(row, "legal_basis")?,
        collected_at: get(row, "collected_at")?,
        last_activity_at: get(row, "last_activity_at")?,
        originating_system: get(row, "originating_system")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        event_times: match get::<Option<&str>>(row, "event_times")? {
            Some(text) => serde_json::from_str(text).map_err(|_| corrupt("event_times"))?,
            None => Default::default(),
        },
        expires_at: get(row, "expires_at")?,
        retention_rule: get(row, "retention_rule")?,
    })
}

/// Event times as stored: a JSON object, or NULL when there are none (the common case).
pub(super) fn event_times_json(events: &std::collections::BTreeMap<String, i64>) -> Option<String> {
    if events.is_empty() {
        None
    } else {
        serde_json::to_string(events).ok()
    }
}

/// Purposes as stored: a JSON array of strings.
pub(super) fn purposes_json(purposes: &[String]) -> String {
    // A slice of strings always serialises; the fallback is unreachable but keeps this total.
    serde_json::to_string(purposes).unwrap_or_else(|_| "[]".to_owned())
}

pub(super) fn audit(row: &AnyRow) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: get(row, "seq")?,
        entry: NewAuditEntry {
            tenant_id: uuid(row, "tenant_id")?,
            id: uuid(row, "id")?,
            at: get(row, "at")?,
            actor: get(row, "actor")?,
            action: get(row, "action")?,
            subject_id: opt_uuid(row, "subject_id")?,
            purpose: get(row, "purpose")?,
            detail: get(row, "detail")?,
        },
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    })
}

pub(super) fn token(row: &AnyRow) -> StoreResult<TokenRow> {
    Ok(TokenRow {
        tenant_id: uuid(row, "tenant_id")?,
        id: uuid(row, "id")?,
        name: get(row, "name")?,
        role: get(row, "role")?,
        token_hash: get(row, "token_hash")?,
        created_at: get(row, "created_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(super) fn idempotency(row: &AnyRow) -> StoreResult<IdempotencyRow> {
    let status: i64 = get(row, "status")?;
    Ok(IdempotencyRow {
        tenant_id: uuid(row, "tenant_id")?,
        token_id: uuid(row, "token_id")?,
        key: get(row, "key")?,
        request_hash: get(row, "request_hash")?,
        status: u16::try_from(status).map_err(|_| corrupt("status"))?,
        body: get(row, "body")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn subject_key(row: &AnyRow) -> StoreResult<SubjectKeyRow> {
    Ok(SubjectKeyRow {
        tenant_id: uuid(row, "tenant_id")?,
        subject_id: uuid(row, "subject_id")?,
        kek_id: get(row, "kek_id")?,
        wrapped_key: get(row, "wrapped_key")?,
        created_at: get(row, "created_at")?,
    })
}

pub(super) fn keyring(row: &AnyRow) -> StoreResult<KeyringRow> {
    Ok(KeyringRow {
        name: get(row, "name")?,
        kek_id: get(row, "kek_id")?,
        wrapped_key: get(row, "wrapped_key")?,
        created_at: get(row, "created_at")?,
    })
}
