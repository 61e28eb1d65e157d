//! Mapping database errors to [`StoreError`], once, for both backends.
//!
//! Messages are built from the database's message and constraint name only, never from the
//! detail text (PostgreSQL's `Key (…)=(…)` would echo values), so no row content reaches an
//! error or a log line.

use sqlx::error::ErrorKind;

use crate::StoreError;

/// Prefix of the message both backends' append-only triggers raise.
const APPEND_ONLY: &str = "append-only";

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) => {
            let message = d.message();
            if message.starts_with(APPEND_ONLY) {
                return StoreError::Refused(message.to_owned());
            }
            match d.kind() {
                ErrorKind::UniqueViolation => {
                    StoreError::Conflict(format!("duplicate in {}", conflict_table(&*d)))
                }
                // Writing a row for a subject that does not exist (or no longer does).
                ErrorKind::ForeignKeyViolation => StoreError::NotFound,
                _ => StoreError::Database(message.to_owned()),
            }
        }
        // The source would print the offending value; the column name is enough.
        sqlx::Error::ColumnDecode { index, .. } => corrupt(&format!("column {index}")),
        sqlx::Error::Io(e) => StoreError::Io(e.to_string()),
        sqlx::Error::Configuration(e) => StoreError::Database(format!("configuration: {e}")),
        other => StoreError::Database(other.to_string()),
    }
}

/// The table of a unique violation, named the same way on both backends.
fn conflict_table(d: &dyn sqlx::error::DatabaseError) -> &str {
    if let Some(table) = d.table() {
        return table; // PostgreSQL reports it.
    }
    // SQLite: "UNIQUE constraint failed: identifiers.tenant_id, identifiers.kind, …"
    d.message()
        .split_once(": ")
        .and_then(|(_, cols)| cols.split('.').next())
        .unwrap_or("a table")
}

/// A decoding problem: a row that does not have the shape the schema promises.
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Database(format!("unexpected stored value: {what}"))
}
