//! Settings shared by every subcommand that touches the store: flags, then `VERN_*`
//! environment variables (clap reads both), then `vern.toml`, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

/// Where vern keeps its data and which policy it enforces.
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// Data directory: the SQLite files and, unless configured otherwise, the master key.
    #[arg(long, env = "VERN_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL (`sqlite:///path/vern.sqlite3` or `postgres://…`); default: SQLite in --data.
    #[arg(long, env = "VERN_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Policy file; default: the bundled policy.
    #[arg(long, env = "VERN_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// File holding the master key (64 hex characters); default: DIR/master.key.
    #[arg(long, env = "VERN_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Configuration file; default: ./vern.toml if it exists.
    #[arg(long, env = "VERN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `vern.toml`: every key optional; flags and environment variables win.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub database: Option<String>,
    pub policy: Option<PathBuf>,
    pub master_key_file: Option<PathBuf>,
    /// Keys that wrapped subject keys before a rotation; kept until `vern keys rotate` is done.
    #[serde(default)]
    pub previous_master_key_files: Vec<PathBuf>,
    /// Largest accepted request body in bytes.
    pub body_limit: Option<usize>,
    /// Per-request timeout in seconds.
    pub request_timeout_secs: Option<u64>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data: PathBuf,
    pub database: Option<String>,
    pub policy: Option<PathBuf>,
    pub master_key_file: PathBuf,
    pub previous_master_key_files: Vec<PathBuf>,
    pub file: FileConfig,
}

pub const DEFAULT_DATA: &str = "./vern-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl StoreArgs {
    pub fn resolve(&self) -> anyhow::Result<Settings> {
        let file = load_file_config(self.config.as_deref())?;
        let data = self
            .data
            .clone()
            .or_else(|| file.data.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let master_key_file = self
            .master_key_file
            .clone()
            .or_else(|| file.master_key_file.clone())
            .unwrap_or_else(|| data.join("master.key"));
        Ok(Settings {
            database: self.database.clone().or_else(|| file.database.clone()),
            policy: self.policy.clone().or_else(|| file.policy.clone()),
            previous_master_key_files: file.previous_master_key_files.clone(),
            data,
            master_key_file,
            file,
        })
    }
}

fn load_file_config(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("vern.toml");
            if !default.exists() {
                return Ok(FileConfig::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    match toml::from_str(&text) {
        Ok(c) => Ok(c),
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| {
                vern_policy::diagnostics::line_col(&text, s.start)
            });
            bail!(
                "{}:{line}:{col}: error: {}",
                path.display(),
                e.message().trim()
            )
        }
    }
}
