//! Database URLs: which backend a URL names, where the key store is when only the data URL is
//! given, and how a URL is shown in an error without its password.

use std::path::Path;

use crate::{StoreError, StoreResult};

/// The database behind a [`SqlStore`](super::SqlStore), chosen from the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `sqlite://PATH` (or `sqlite:PATH`): the embedded default.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend a URL names. In-memory SQLite is refused: every pooled connection would
    /// see a different, empty database.
    pub fn from_url(url: &str) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres);
        }
        if url.starts_with("sqlite:") {
            let path = sqlite_path(url);
            if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Self::Sqlite);
        }
        Err(StoreError::UnsupportedUrl(redact(url)))
    }
}

/// The file part of a SQLite URL, as written (not percent-decoded).
pub(super) fn sqlite_path(url: &str) -> &str {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or_default()
}

/// The key store's URL for a data URL: on SQLite `keys.sqlite3` beside the data file (with
/// the same query parameters), on PostgreSQL the same database.
pub(super) fn derive_keys_url(database_url: &str) -> StoreResult<String> {
    match Backend::from_url(database_url)? {
        Backend::Postgres => Ok(database_url.to_owned()),
        Backend::Sqlite => {
            let path = sqlite_path(database_url);
            let (dir, file) = match path.rfind('/') {
                Some(i) => path.split_at(i + 1),
                None => ("", path),
            };
            if file == "keys.sqlite3" {
                return Err(StoreError::UnsupportedUrl(format!(
                    "{database_url}: the data file cannot be named keys.sqlite3"
                )));
            }
            let query = database_url
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            Ok(format!("sqlite://{dir}keys.sqlite3{query}"))
        }
    }
}

/// A `sqlite://` URL for a file, created if missing. The path is made absolute: a relative
/// first component would otherwise be parsed as a URL host.
pub(super) fn sqlite_url(path: &Path) -> StoreResult<String> {
    let path = std::path::absolute(path).map_err(|e| StoreError::Io(e.to_string()))?;
    let path = path
        .to_str()
        .ok_or_else(|| StoreError::Io(format!("{} is not UTF-8", path.display())))?;
    // Only the characters that end a URL path need escaping; sqlx decodes the path.
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok(format!("sqlite://{escaped}?mode=rwc"))
}

/// The URL with any password replaced by `***`, for error messages and logs.
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{shown}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_come_from_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite:///d/v.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::from_url("sqlite:v.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db").unwrap(),
            Backend::Postgres
        );
        for bad in [
            "mysql://h/db",
            "sqlite::memory:",
            "sqlite://?mode=memory",
            "v.db",
        ] {
            assert!(matches!(
                Backend::from_url(bad),
                Err(StoreError::UnsupportedUrl(_))
            ));
        }
    }

    #[test]
    fn the_key_store_sits_beside_the_data_file() {
        assert_eq!(
            derive_keys_url("sqlite:///data/vern.sqlite3?mode=rwc").unwrap(),
            "sqlite:///data/keys.sqlite3?mode=rwc"
        );
        assert_eq!(
            derive_keys_url("sqlite:vern.db").unwrap(),
            "sqlite://keys.sqlite3"
        );
        assert!(derive_keys_url("sqlite:///d/keys.sqlite3").is_err());
        assert_eq!(
            derive_keys_url("postgres://u@h/db").unwrap(),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://vern:s3cret@db:5432/vern?sslmode=require"),
            "postgres://vern:***@db:5432/vern?sslmode=require"
        );
        assert_eq!(redact("postgres://root@h/db"), "postgres://root@h/db");
        assert_eq!(redact("mysql://h/x"), "mysql://h/x");
    }

    #[test]
    fn file_urls_are_absolute_and_escaped() {
        let url = sqlite_url(Path::new("/tmp/a b/v?1.db")).unwrap();
        assert_eq!(url, "sqlite:///tmp/a b/v%3F1.db?mode=rwc");
    }
}
