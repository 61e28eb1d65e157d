//! Loading the master key, and generating one on first start.
//!
//! The master key wraps every subject key: losing it makes all personal data unreadable, and
//! leaking it undoes encryption at rest. It is read from `VERN_MASTER_KEY` (64 hex characters)
//! or from a file. A new key is generated only for an empty key store, never to replace a
//! missing key for existing data.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use vern_core::crypto::MasterKey;

use super::config::Settings;

/// The environment variable that may hold the master key itself (hex).
pub const ENV_MASTER_KEY: &str = "VERN_MASTER_KEY";

/// The current key and the keys it replaced (still needed until `vern keys rotate` has run).
pub struct MasterKeys {
    pub current: MasterKey,
    pub previous: Vec<MasterKey>,
}

/// Loads the configured master key. With `may_generate`, a missing key file is created with
/// a fresh key (mode 0600) and a loud notice on stderr.
pub fn load(settings: &Settings, may_generate: bool) -> anyhow::Result<MasterKeys> {
    let current = match std::env::var(ENV_MASTER_KEY) {
        Ok(text) => {
            MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("{ENV_MASTER_KEY}: {e}"))?
        }
        Err(_) => {
            let path = &settings.master_key_file;
            if path.exists() {
                read_key_file(path)?
            } else if may_generate {
                generate_key_file(path)?
            } else {
                bail!(
                    "master key file {} does not exist; vern cannot read existing data without it",
                    path.display()
                );
            }
        }
    };
    let previous = settings
        .previous_master_key_files
        .iter()
        .map(|p| read_key_file(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(MasterKeys { current, previous })
}

pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read master key file {}", path.display()))?;
    MasterKey::parse(&text).map_err(|e| anyhow::anyhow!("master key file {}: {e}", path.display()))
}

/// Writes a new random key to `path`, readable by the owner only; refuses to overwrite.
pub fn write_new_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create master key file {}", path.display()))?;
    file.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    file.sync_all()?;
    Ok(key)
}

fn generate_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let key = write_new_key_file(path)?;
    eprintln!(
        "\n\
         ************************************************************************\n\
         * vern generated a NEW MASTER KEY: {}\n\
         * It encrypts every subject key. Without it the data cannot be read.\n\
         * Back it up now, separately from the data, and keep it secret.\n\
         * For production, set VERN_MASTER_KEY_FILE to a key you manage.\n\
         ************************************************************************\n",
        path.display()
    );
    Ok(key)
}
