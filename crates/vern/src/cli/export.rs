//! `vern export --subject ID`: everything vern holds about one subject, as JSON on stdout.

use std::sync::Arc;

use uuid::Uuid;
use vern_core::ids::SystemClock;
use vern_server::vault::{Principal, Vault};

use super::config::StoreArgs;
use super::context::Ctx;

pub async fn run(args: &StoreArgs, subject: Uuid) -> anyhow::Result<()> {
    let ctx = Ctx::open(args, false).await?;
    let vault = Vault::open(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    // The export is audited like any read, with the CLI as the actor.
    let view = vault.get_subject(&Principal::cli_admin(), subject).await?;
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}
