//! The migrations, embedded in the binary: one tree per backend and store, with identical
//! version numbers (checked by the parity test).
//!
//! They are embedded with `include_str!` and handed to sqlx's `Migrator` (same checksums and
//! bookkeeping as `sqlx::migrate!`), which spares the build sqlx's proc-macro crate and the
//! second compilation of SQLite it brings. A unit test checks that every `.sql` file in the
//! trees is listed here, so a new migration cannot be forgotten.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// One embedded migration file, `<version>_<description>.sql`.
pub(super) struct Embedded {
    /// Read by the test that checks every file on disk is embedded.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) file: &'static str,
    pub(super) version: i64,
    pub(super) description: &'static str,
    pub(super) sql: &'static str,
}

macro_rules! embed {
    ($tree:literal, $prefix:literal, $version:literal, $description:literal) => {
        Embedded {
            file: concat!($prefix, "_", $description, ".sql"),
            version: $version,
            description: $description,
            sql: include_str!(concat!(
                "../../migrations/",
                $tree,
                "/",
                $prefix,
                "_",
                $description,
                ".sql"
            )),
        }
    };
}

pub(super) const SQLITE_DATA: &[Embedded] = &[
    embed!("sqlite", "0001", 1, "init"),
    embed!("sqlite", "0002", 2, "consent"),
    embed!("sqlite", "0003", 3, "retention"),
    embed!("sqlite", "0004", 4, "disclosures"),
    embed!("sqlite", "0005", 5, "import_progress"),
    embed!("sqlite", "0006", 6, "outbox"),
    embed!("sqlite", "0007", 7, "subject_changes"),
    embed!("sqlite", "0008", 8, "retention_anonymise_and_planner"),
    embed!("sqlite", "0009", 9, "policy_versions"),
    embed!("sqlite", "0010", 10, "requests"),
    embed!("sqlite", "0011", 11, "partial_erasures"),
    embed!("sqlite", "0012", 12, "dsr_downloads_and_recipient_tasks"),
    embed!("sqlite", "0013", 13, "subprocessor_notice_mail"),
    embed!("sqlite", "0015", 15, "decision_log"),
    embed!("sqlite", "0016", 16, "partial_erasure_successor_key"),
    embed!("sqlite", "0017", 17, "records_class_index"),
    embed!("sqlite", "0018", 18, "ciphertext_stored_uncompressed"),
];
pub(super) const POSTGRES_DATA: &[Embedded] = &[
    embed!("postgres", "0001", 1, "init"),
    embed!("postgres", "0002", 2, "consent"),
    embed!("postgres", "0003", 3, "retention"),
    embed!("postgres", "0004", 4, "disclosures"),
    embed!("postgres", "0005", 5, "import_progress"),
    embed!("postgres", "0006", 6, "outbox"),
    embed!("postgres", "0007", 7, "subject_changes"),
    embed!("postgres", "0008", 8, "retention_anonymise_and_planner"),
    embed!("postgres", "0009", 9, "policy_versions"),
    embed!("postgres", "0010", 10, "requests"),
    embed!("postgres", "0011", 11, "partial_erasures"),
    embed!("postgres", "0012", 12, "dsr_downloads_and_recipient_tasks"),
    embed!("postgres", "0013", 13, "subprocessor_notice_mail"),
    embed!("postgres", "0015", 15, "decision_log"),
    embed!("postgres", "0016", 16, "partial_erasure_successor_key"),
    embed!("postgres", "0017", 17, "records_class_index"),
    embed!("postgres", "0018", 18, "ciphertext_stored_uncompressed"),
];
pub(super) const SQLITE_KEYS: &[Embedded] = &[
    embed!("sqlite-keys", "0001", 1, "init"),
    embed!("sqlite-keys", "0002", 2, "subject_key_successors"),
];
pub(super) const POSTGRES_KEYS: &[Embedded] = &[
    embed!("postgres-keys", "0001", 1, "init"),
    embed!("postgres-keys", "0002", 2, "subject_key_successors"),
];

/// The trees by directory name.
pub(super) const TREES: [(&str, &[Embedded]); 4] = [
    ("sqlite", SQLITE_DATA),
    ("postgres", POSTGRES_DATA),
    ("sqlite-keys", SQLITE_KEYS),
    ("postgres-keys", POSTGRES_KEYS),
];

pub(super) fn migrator(tree: &[Embedded]) -> Migrator {
    Migrator::with_migrations(
        tree.iter()
            .map(|m| {
                Migration::new(
                    m.version,
                    Cow::Borrowed(m.description),
                    MigrationType::Simple,
                    m.sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The migration versions of each tree (`sqlite`, `postgres`, `sqlite-keys`,
/// `postgres-keys`), for the parity test.
pub fn migration_versions() -> Vec<(&'static str, Vec<i64>)> {
    TREES
        .iter()
        .map(|(name, tree)| (*name, tree.iter().map(|m| m.version).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for (name, tree) in TREES {
            let mut on_disk: Vec<String> = std::fs::read_dir(root.join(name))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".sql"))
                .collect();
            on_disk.sort();
            let embedded: Vec<String> = tree.iter().map(|m| m.file.to_owned()).collect();
            assert_eq!(on_disk, embedded, "migrations/{name}");
        }
    }
}
