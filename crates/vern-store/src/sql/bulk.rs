//! Multi-row `INSERT … VALUES (…), (…)`: the fast path for imports and for the several rows
//! one subject brings. One statement per chunk instead of one per row cuts round trips and
//! statement executions by two orders of magnitude; chunks have a fixed size so that every
//! full chunk reuses the same prepared statement.
//!
//! Placeholders are the one dialect difference here: SQLite gets anonymous `?`, PostgreSQL
//! `$n`. sqlx binds SQLite parameters by looking up each one's name, and SQLite finds a
//! parameter name by a linear scan, so `$n` costs O(n²) per statement: with a few thousand
//! parameters that was 80% of an import's time. Anonymous `?` are bound in order, without names.

use sqlx::AnyConnection;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use super::db_err;
use crate::StoreResult;

/// A query being bound.
pub(super) type Q = Query<'static, Any, AnyArguments>;

/// Bind parameters per statement: far below both backends' limits (SQLite 32766 since 3.32,
/// PostgreSQL 65535) and large enough that per-statement overhead no longer matters.
const MAX_PARAMS: usize = 4096;

/// The `VALUES` list for `rows` rows of `cols` columns: `?` on SQLite, `$1…` on PostgreSQL.
fn values_sql(head: &str, cols: usize, rows: usize, numbered: bool) -> String {
    let mut sql = String::with_capacity(head.len() + 8 + rows * cols * 7);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push(',');
            }
            if numbered {
                n += 1;
                sql.push('$');
                sql.push_str(&n.to_string());
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

/// Inserts `items` with `head` (`INSERT INTO t (a, b, c)`, naming `cols` columns), binding
/// each item's values in column order with `bind`.
pub(super) async fn insert_many<T>(
    conn: &mut AnyConnection,
    head: &'static str,
    cols: usize,
    items: &[T],
    bind: impl Fn(Q, &T) -> Q,
) -> StoreResult<()> {
    insert_many_then(conn, head, cols, items, "", bind).await
}

/// [`insert_many`] with `tail` after the `VALUES` list (an `ON CONFLICT …` clause).
pub(super) async fn insert_many_then<T>(
    conn: &mut AnyConnection,
    head: &'static str,
    cols: usize,
    items: &[T],
    tail: &'static str,
    bind: impl Fn(Q, &T) -> Q,
) -> StoreResult<()> {
    let numbered = conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    let per_statement = (MAX_PARAMS / cols).max(1);
    for chunk in items.chunks(per_statement) {
        // Built from the static head and placeholders only: no value ever enters the text.
        let mut sql = values_sql(head, cols, chunk.len(), numbered);
        sql.push_str(tail);
        let query = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind);
        query.execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// Like [`insert_many`], with `ON CONFLICT DO NOTHING`: rows whose key exists are skipped.
/// Returns how many rows were inserted.
pub(super) async fn insert_many_new<T>(
    conn: &mut AnyConnection,
    head: &'static str,
    cols: usize,
    items: &[T],
    bind: impl Fn(Q, &T) -> Q,
) -> StoreResult<u64> {
    let numbered = conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    let per_statement = (MAX_PARAMS / cols).max(1);
    let mut inserted = 0;
    for chunk in items.chunks(per_statement) {
        let mut sql = values_sql(head, cols, chunk.len(), numbered);
        sql.push_str(" ON CONFLICT DO NOTHING");
        let query = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind);
        inserted += query
            .execute(&mut *conn)
            .await
            .map_err(db_err)?
            .rows_affected();
    }
    Ok(inserted)
}

/// Like [`insert_many_new`], returning the `id` (a UUID column) of every inserted row
/// (`ON CONFLICT DO NOTHING RETURNING id`: both backends return only the rows written), so a
/// caller can queue follow-up rows for exactly those.
pub(super) async fn insert_many_returning_ids<T>(
    conn: &mut AnyConnection,
    head: &'static str,
    cols: usize,
    items: &[T],
    bind: impl Fn(Q, &T) -> Q,
) -> StoreResult<Vec<uuid::Uuid>> {
    let numbered = conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    let per_statement = (MAX_PARAMS / cols).max(1);
    let mut ids = Vec::with_capacity(items.len());
    for chunk in items.chunks(per_statement) {
        let mut sql = values_sql(head, cols, chunk.len(), numbered);
        sql.push_str(" ON CONFLICT DO NOTHING RETURNING id");
        let query = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind);
        for row in query.fetch_all(&mut *conn).await.map_err(db_err)? {
            ids.push(super::rows::uuid(&row, "id")?);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(
            values_sql("INSERT INTO t (a, b)", 2, 2, true),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)"
        );
        assert_eq!(
            values_sql("INSERT INTO t (a, b)", 2, 2, false),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?)"
        );
    }
}
