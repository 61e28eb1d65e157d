//! `vern policy publish FILE [--effective DATE]`: publishes a new policy version into the
//! database the server uses. The file is validated and compared with the latest stored
//! version; material changes need an effective date at least the policy's notice period
//! ahead, and queue the change-notice fan-out, which a running `vern serve` (any node) runs.
//!
//! Exit codes: 0 published, 1 refused (invalid, too early, unchanged), 64 usage.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use vern_core::ids::SystemClock;
use vern_server::Vault;
use vern_server::vault::{Actor, PolicyPublishInput};

use super::config::StoreArgs;
use super::context::Ctx;

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_date(text: &str) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("{text:?} is not YYYY-MM-DD or an RFC 3339 time"))
}

pub async fn run(
    file: &Path,
    effective: Option<OffsetDateTime>,
    store: &StoreArgs,
) -> anyhow::Result<()> {
    let source =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let ctx = Ctx::open(store, false).await?;
    let vault = Vault::open_stored(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    let who = vault.admin_principal(Actor::Cli)?;
    let input = PolicyPublishInput {
        source,
        effective_at: effective,
    };
    let v = match vault.publish_policy(&who, &input).await {
        Ok(v) => v,
        Err(vern_server::vault::VaultError::Validation(errors)) => {
            for e in &errors {
                eprintln!("{}: error: {}", file.display(), e.reason);
            }
            bail!("not published");
        }
        Err(e) => bail!("not published: {e}"),
    };
    println!(
        "published {} ({}) effective {}",
        v.id,
        v.class,
        v.effective_at
            .format(&Rfc3339)
            .unwrap_or_else(|_| v.effective_at.to_string())
    );
    for c in v.changes.iter().filter(|c| c.class == "material") {
        println!("  material: {} ({})", c.summary, c.path);
    }
    if !v.notice_subject_types.is_empty() {
        println!(
            "  change notices queued for: {} (sent by the job runner of `vern serve`)",
            v.notice_subject_types.join(", ")
        );
    }
    if !v.renewal_scopes.is_empty() {
        println!(
            "  consents needing renewal from the effective date: {}",
            v.renewal_scopes.join(", ")
        );
    }
    Ok(())
}
