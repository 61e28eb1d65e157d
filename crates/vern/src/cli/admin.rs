//! `vern migrate`, `vern token …`, `vern audit verify`.

use anyhow::{Context, bail};
use clap::Subcommand;
use uuid::Uuid;
use vern_core::crypto::{generate_token, hash_token};
use vern_core::ids::{DEFAULT_TENANT, new_id, to_micros};
use vern_store::{NewAuditEntry, Store, TokenRow};

use super::config::StoreArgs;
use super::context::{Ctx, load_policy, open_store};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; the secret is printed once and stored only as a hash.
    Create {
        /// A role from the policy (admin, dpo, support, marketing, recruiter, service).
        #[arg(long)]
        role: String,
        /// What the token is for (e.g. "crm-sync"); no personal names.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        id: Uuid,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (ids, names, roles, state; never secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit hash chain and report the first broken link.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn cli_audit(action: &str, detail: serde_json::Value) -> NewAuditEntry {
    NewAuditEntry {
        tenant_id: DEFAULT_TENANT,
        id: new_id(),
        at: to_micros(time::OffsetDateTime::now_utc()),
        actor: "cli".into(),
        action: action.into(),
        subject_id: None,
        purpose: None,
        detail: detail.to_string(),
    }
}

pub async fn migrate(args: &StoreArgs) -> anyhow::Result<()> {
    let settings = args.resolve()?;
    let store = open_store(&settings).await?;
    store.migrate().await.context("migration failed")?;
    println!("database is up to date");
    Ok(())
}

pub async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { role, name, store } => {
            let ctx = Ctx::open(&store, false).await?;
            if ctx.policy.role(&role).is_none() {
                let roles: Vec<&str> = ctx
                    .policy
                    .raw
                    .roles
                    .iter()
                    .map(|r| r.id.get_ref().as_str())
                    .collect();
                bail!(
                    "unknown role `{role}` (the policy defines: {})",
                    roles.join(", ")
                );
            }
            if name.trim().is_empty() || name.len() > 100 {
                bail!("--name must be 1 to 100 characters");
            }
            let secret = generate_token();
            let row = TokenRow {
                tenant_id: DEFAULT_TENANT,
                id: new_id(),
                name: name.trim().to_owned(),
                role: role.clone(),
                token_hash: hash_token(&secret).to_vec(),
                created_at: to_micros(time::OffsetDateTime::now_utc()),
                revoked_at: None,
            };
            let audit = cli_audit(
                "token.create",
                serde_json::json!({"token_id": row.id, "role": role}),
            );
            ctx.store.create_token(row.clone(), vec![audit]).await?;
            eprintln!(
                "token {} ({role}) created; the secret is shown only now:",
                row.id
            );
            println!("{secret}");
            Ok(())
        }
        TokenCommand::Revoke { id, store } => {
            let ctx = Ctx::open(&store, false).await?;
            let audit = cli_audit("token.revoke", serde_json::json!({"token_id": id}));
            ctx.store
                .revoke_token(
                    DEFAULT_TENANT,
                    id,
                    to_micros(time::OffsetDateTime::now_utc()),
                    vec![audit],
                )
                .await
                .with_context(|| format!("cannot revoke token {id}"))?;
            println!("token {id} revoked");
            Ok(())
        }
        TokenCommand::List { store } => {
            let settings = store.resolve()?;
            let _ = load_policy(&settings)?;
            let store = open_store(&settings).await?;
            store.migrate().await?;
            for t in store.list_tokens(DEFAULT_TENANT).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!("{}\t{}\t{}\t{state}", t.id, t.role, t.name);
            }
            Ok(())
        }
    }
}

/// Returns whether the chain verified.
pub async fn audit(cmd: AuditCommand) -> anyhow::Result<bool> {
    match cmd {
        AuditCommand::Verify { store } => {
            let settings = store.resolve()?;
            let store = open_store(&settings).await?;
            store.migrate().await?;
            match store.verify_audit(DEFAULT_TENANT).await? {
                Ok(n) => {
                    println!("audit log ok: {n} entries, hash chain intact");
                    Ok(true)
                }
                Err(brk) => {
                    println!("audit log BROKEN at entry {}: {}", brk.seq, brk.reason);
                    Ok(false)
                }
            }
        }
    }
}
