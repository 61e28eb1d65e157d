//! `vern policy check | render | ropa | diff`.
//!
//! Exit codes: `check` 0 valid, 1 invalid; `render`/`ropa` 0 written, 1 invalid policy;
//! `diff` 0 no change, 1 editorial only, 2 material, 3 a policy could not be read or is invalid.
//! Usage errors exit 64 everywhere.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use vern_policy::diff::diff;
use vern_policy::render::{Format, Lang, render_notice};
use vern_policy::ropa::{RopaFormat, render_ropa};
use vern_policy::{BUNDLED_NAME, BUNDLED_SOURCE, Diagnostics, Policy};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file; print every problem as FILE:LINE:COL: error: ….
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Render the public privacy notice.
    Render {
        /// The policy file (default: the bundled policy).
        file: Option<PathBuf>,
        /// Notice language.
        #[arg(long, value_parser = ["nb", "en"])]
        lang: String,
        /// Output format.
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
    },
    /// Export the record of processing activities (GDPR Art. 30(1)).
    Ropa {
        /// The policy file (default: the bundled policy).
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, default_value = "md", value_parser = ["csv", "md"])]
        format: String,
        /// Language of names and descriptions.
        #[arg(long, default_value = "en", value_parser = ["nb", "en"])]
        lang: String,
    },
    /// List every change between two policies, classified as material or editorial.
    /// Exit code: 0 no change, 1 editorial only, 2 material, 3 unreadable or invalid input.
    Diff { old: PathBuf, new: PathBuf },
    /// Publish a new policy version to the database: validated, diffed against the latest
    /// version; material changes need --effective at least the notice period ahead and queue
    /// change notices to the affected subjects. Exit code: 0 published, 1 refused.
    Publish {
        /// The new policy file.
        file: PathBuf,
        /// When it takes effect: YYYY-MM-DD (midnight UTC) or RFC 3339. Default: now for
        /// editorial changes, the end of the notice period for material ones.
        #[arg(long, value_parser = super::policy_publish::parse_date)]
        effective: Option<time::OffsetDateTime>,
        #[command(flatten)]
        store: super::config::StoreArgs,
    },
}

pub fn run(cmd: PolicyCommand) -> ExitCode {
    match cmd {
        PolicyCommand::Check { file } => check(&file),
        PolicyCommand::Render { file, lang, format } => {
            let (Ok(lang), Ok(format)) = (lang.parse::<Lang>(), format.parse::<Format>()) else {
                return ExitCode::from(64);
            };
            with_policy(file.as_deref(), |p| render_notice(p, lang, format))
        }
        PolicyCommand::Ropa { file, format, lang } => {
            let Ok(format) = format.parse::<RopaFormat>() else {
                return ExitCode::from(64);
            };
            with_policy(file.as_deref(), |p| render_ropa(p, format, &lang))
        }
        PolicyCommand::Diff { old, new } => {
            let (Some(old), Some(new)) = (load_reporting(Some(&old)), load_reporting(Some(&new)))
            else {
                return ExitCode::from(3);
            };
            let d = diff(&old, &new);
            print_out(&d.render_text());
            ExitCode::from(u8::try_from(d.exit_code()).unwrap_or(3))
        }
        PolicyCommand::Publish {
            file,
            effective,
            store,
        } => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(super::policy_publish::run(&file, effective, &store)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn check(file: &Path) -> ExitCode {
    let name = file.display().to_string();
    let loaded = match Policy::load(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{name}: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match loaded.result {
        Ok((policy, warnings)) => {
            eprint!("{}", warnings.render(&name, &loaded.source));
            print_out(&format!(
                "{name}: ok: {} purposes, {} categories, {} recipients, {} retention rules; sha256 {}\n",
                policy.raw.purposes.len(),
                policy.raw.categories.len(),
                policy.raw.recipients.len(),
                policy.raw.retention.len(),
                policy.content_hash
            ));
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            report(&name, &loaded.source, &diagnostics);
            ExitCode::FAILURE
        }
    }
}

fn report(name: &str, source: &str, diagnostics: &Diagnostics) {
    eprint!("{}", diagnostics.render(name, source));
    let n = diagnostics.errors().count();
    eprintln!("{name}: {n} error{}", if n == 1 { "" } else { "s" });
}

/// Loads the named policy, or the bundled one; reports problems on stderr.
fn load_reporting(file: Option<&Path>) -> Option<Policy> {
    let (name, source, result) = match file {
        None => (
            BUNDLED_NAME.to_owned(),
            BUNDLED_SOURCE.to_owned(),
            Policy::parse(BUNDLED_SOURCE),
        ),
        Some(path) => match Policy::load(path) {
            Ok(l) => (path.display().to_string(), l.source, l.result),
            Err(e) => {
                eprintln!("{}: error: {e}", path.display());
                return None;
            }
        },
    };
    match result {
        Ok((policy, _)) => Some(policy),
        Err(d) => {
            report(&name, &source, &d);
            None
        }
    }
}

fn with_policy(file: Option<&Path>, output: impl FnOnce(&Policy) -> String) -> ExitCode {
    match load_reporting(file) {
        Some(policy) => {
            print_out(&output(&policy));
            ExitCode::SUCCESS
        }
        None => ExitCode::FAILURE,
    }
}

/// Writes to stdout, ignoring a closed pipe (`vern policy render | head`).
fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
