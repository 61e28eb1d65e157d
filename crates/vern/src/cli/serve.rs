//! `vern serve`: the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use vern_core::ids::SystemClock;
use vern_server::api::gdpr_api::GdprApiConfig;
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::mail::Mailer;
use vern_server::oidc::{IssuerConfig, OidcVerifier};
use vern_server::{AppState, ServerConfig, Vault};

use super::config::{DEFAULT_LISTEN, StoreArgs};
use super::context::Ctx;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "VERN_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Hours between scheduled retention sweeps (0: no scheduled sweeps). The sweep of each
    /// period runs once across all nodes.
    #[arg(long, env = "VERN_SWEEP_EVERY_HOURS", default_value_t = 24)]
    pub sweep_every_hours: u64,
    /// SMTP server for outgoing mail, e.g. `smtp://user:pass@mail.example.com:587?tls=required`
    /// (STARTTLS), `smtps://…:465`, or `smtp://127.0.0.1:2525` (plain, local relay). Without
    /// it, mail stays queued in the outbox (`GET /v1/outbox`).
    #[arg(
        long,
        env = "VERN_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender of outgoing mail; default: the controller's name and address from the policy.
    #[arg(long, env = "VERN_MAIL_FROM", value_name = "MAILBOX")]
    pub mail_from: Option<String>,
    /// Days the decision audit keeps each decision (`GET /v1/decisions/{id}`); older blocks are
    /// deleted with the scheduled sweep. 0 keeps them for ever. Default: three years, the
    /// general limitation period for claims.
    #[arg(long, env = "VERN_DECISION_LOG_DAYS", default_value_t = 1095)]
    pub decision_log_days: u64,
    /// Milliseconds between job-queue polls while the queue is idle.
    #[arg(long, env = "VERN_JOB_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub job_poll_ms: u64,
    /// Days a download link in a closing letter (access report, portability package) works;
    /// the artefacts are deleted when it expires.
    #[arg(long, env = "VERN_DSR_DOWNLOAD_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..=90))]
    pub dsr_download_days: u16,
    /// How many times a download link works (each format counts).
    #[arg(long, env = "VERN_DSR_DOWNLOAD_LIMIT", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub dsr_download_limit: u16,
    /// Where reminders of request deadlines are mailed; default: the policy's
    /// `data_protection_contact.email`.
    #[arg(long, env = "VERN_DSR_STAFF_ADDRESS", value_name = "EMAIL")]
    pub dsr_staff_address: Option<String>,
    /// Trusted OIDC issuer whose tokens verify a data-subject request's identity (the app a
    /// user is logged in to passes `id_token` with the request).
    #[arg(long, env = "VERN_REQUEST_OIDC_ISSUER", value_name = "URL")]
    pub request_oidc_issuer: Option<String>,
    /// Accepted audiences of those tokens (comma-separated).
    #[arg(long, env = "VERN_REQUEST_OIDC_AUDIENCE", value_delimiter = ',')]
    pub request_oidc_audience: Vec<String>,
    /// The identifier kind under which subjects carry the issuer's `sub`.
    #[arg(
        long,
        env = "VERN_REQUEST_OIDC_IDENTIFIER",
        default_value = "external:app_login"
    )]
    pub request_oidc_identifier: String,
    /// Run no background jobs on this node (API only).
    #[arg(long)]
    pub no_jobs: bool,
    #[command(flatten)]
    pub rate: RateArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub gdpr_api: GdprApiArgs,
}

/// Rate limits on request submission and verification codes (decision 0021; docs/operations.md).
/// Each limit is `BURST/SECONDS`: BURST attempts at once, then one more every SECONDS; `0` is off.
#[derive(Debug, Args)]
pub struct RateArgs {
    /// Request submissions (`POST /v1/requests`, the portal's form) per client /24 or /64.
    #[arg(
        long,
        env = "VERN_RATE_SUBMIT",
        default_value = "10/60",
        value_name = "BURST/SECS"
    )]
    pub rate_submit: vern_server::ratelimit::Bucket,
    /// Verification-code attempts per client /24 or /64.
    #[arg(
        long,
        env = "VERN_RATE_VERIFY",
        default_value = "20/10",
        value_name = "BURST/SECS"
    )]
    pub rate_verify: vern_server::ratelimit::Bucket,
    /// Verification-code attempts per target request, from any address.
    #[arg(
        long,
        env = "VERN_RATE_VERIFY_REQUEST",
        default_value = "10/60",
        value_name = "BURST/SECS"
    )]
    pub rate_verify_request: vern_server::ratelimit::Bucket,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges,
    /// comma-separated). Required behind a proxy: otherwise every client shares the proxy's
    /// bucket.
    #[arg(
        long,
        env = "VERN_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxy: Vec<vern_server::ratelimit::Cidr>,
    /// Count loopback clients too (by default a loopback peer without `X-Forwarded-For` is
    /// exempt: local tools, health checks).
    #[arg(long)]
    pub rate_limit_loopback: bool,
}

impl RateArgs {
    fn config(&self) -> vern_server::ratelimit::RateLimitConfig {
        vern_server::ratelimit::RateLimitConfig {
            submit_per_client: self.rate_submit,
            verify_per_client: self.rate_verify,
            verify_per_request: self.rate_verify_request,
            trusted_proxies: self.trusted_proxy.clone(),
            exempt_loopback: !self.rate_limit_loopback,
        }
    }
}

/// The Helsinki profile GDPR API (`/gdpr-api/v1/user/{uuid}`): off unless an issuer is given.
#[derive(Debug, Args)]
pub struct GdprApiArgs {
    /// Trusted OIDC issuer (`iss`, exactly); its discovery document and JWKS are fetched.
    #[arg(long, env = "VERN_GDPR_API_ISSUER", value_name = "URL")]
    pub gdpr_api_issuer: Option<String>,
    /// Accepted token audiences (comma-separated).
    #[arg(long, env = "VERN_GDPR_API_AUDIENCE", value_delimiter = ',')]
    pub gdpr_api_audience: Vec<String>,
    /// Claims that hold scopes: names, or dotted paths into nested claims (comma-separated).
    #[arg(
        long,
        env = "VERN_GDPR_API_SCOPE_CLAIMS",
        value_delimiter = ',',
        default_value = "scope,scp,authorization.permissions.scopes"
    )]
    pub gdpr_api_scope_claims: Vec<String>,
    /// Scopes of which any grants GET (comma-separated).
    #[arg(
        long,
        env = "VERN_GDPR_API_QUERY_SCOPES",
        value_delimiter = ',',
        default_value = "gdprquery"
    )]
    pub gdpr_api_query_scopes: Vec<String>,
    /// Scopes of which any grants DELETE (comma-separated).
    #[arg(
        long,
        env = "VERN_GDPR_API_DELETE_SCOPES",
        value_delimiter = ',',
        default_value = "gdprdelete"
    )]
    pub gdpr_api_delete_scopes: Vec<String>,
    /// The identifier kind holding the user's UUID.
    #[arg(
        long,
        env = "VERN_GDPR_API_IDENTIFIER",
        default_value = "external:helsinki_profile"
    )]
    pub gdpr_api_identifier: String,
}

impl GdprApiArgs {
    fn config(&self) -> anyhow::Result<Option<GdprApiConfig>> {
        let Some(issuer) = &self.gdpr_api_issuer else {
            return Ok(None);
        };
        anyhow::ensure!(
            !self.gdpr_api_audience.is_empty(),
            "--gdpr-api-audience is required with --gdpr-api-issuer"
        );
        let mut cfg = IssuerConfig::new(issuer.clone(), self.gdpr_api_audience.clone());
        cfg.scope_claims.clone_from(&self.gdpr_api_scope_claims);
        let verifier = OidcVerifier::new(vec![cfg]).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Some(GdprApiConfig {
            verifier,
            query_scopes: self.gdpr_api_query_scopes.clone(),
            delete_scopes: self.gdpr_api_delete_scopes.clone(),
            identifier_kind: self.gdpr_api_identifier.clone(),
        }))
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let gdpr_api = args.gdpr_api.config()?;
    let ctx = Ctx::open(&args.store, true).await?;
    let listen = match args.listen.or(ctx.settings.file.listen) {
        Some(a) => a,
        None => DEFAULT_LISTEN.parse().context("default listen address")?,
    };
    let mut config = ServerConfig {
        rate_limits: args.rate.config(),
        ..ServerConfig::default()
    };
    if let Some(limit) = ctx.settings.file.body_limit {
        config.body_limit = limit;
    }
    if let Some(secs) = ctx.settings.file.request_timeout_secs {
        config.request_timeout = Duration::from_secs(secs);
    }
    let vault = Vault::open(
        ctx.store.clone(),
        Arc::new(ctx.policy),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    if let Some(token) = vault.ensure_initial_admin_token().await? {
        eprintln!(
            "\nNo API tokens existed, so vern created an admin token. It is shown only once:\n\n    {token}\n\n\
             Use it as `Authorization: Bearer <token>`; create narrower tokens with POST /v1/tokens or `vern token create`.\n"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr()?;
    // Tests and scripts read this line to find the port when listening on :0.
    println!("vern listening on http://{local}");
    tracing::info!(%local, "listening");
    // Links in letters: VERN_PUBLIC_URL behind a proxy, else the address listened on.
    match std::env::var("VERN_PUBLIC_URL") {
        Ok(url) if !url.is_empty() => vault.set_public_url(&url),
        _ => vault.set_public_url(&format!("http://{local}")),
    }
    if let Some(a) = &args.dsr_staff_address {
        anyhow::ensure!(
            vern_server::mail::valid_address(a),
            "--dsr-staff-address is not a valid mail address"
        );
    }
    vault.set_dsr_settings(vern_server::vault::DsrSettings {
        download_ttl: time::Duration::days(i64::from(args.dsr_download_days)),
        download_limit: i64::from(args.dsr_download_limit),
        staff_address: args.dsr_staff_address.clone(),
    });
    if let Some(issuer) = &args.request_oidc_issuer {
        anyhow::ensure!(
            !args.request_oidc_audience.is_empty(),
            "--request-oidc-audience is required with --request-oidc-issuer"
        );
        let cfg = IssuerConfig::new(issuer.clone(), args.request_oidc_audience.clone());
        let verifier = OidcVerifier::new(vec![cfg]).map_err(|e| anyhow::anyhow!("{e}"))?;
        vault.set_request_oidc(Some(vern_server::vault::RequestOidc {
            verifier,
            identifier_kind: args.request_oidc_identifier.clone(),
        }));
    }
    let vault = Arc::new(vault);
    // Keeps this node's decision cache in step with every other node (ends with the vault).
    tokio::spawn(vault.cache_poller());
    let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
    let mailer = match &args.smtp_url {
        Some(url) => {
            let from = match &args.mail_from {
                Some(f) => f.clone(),
                None => {
                    let c = &vault.policy().raw.controller;
                    format!(
                        "\"{}\" <{}>",
                        c.name.get_ref().replace('"', ""),
                        c.email.get_ref()
                    )
                }
            };
            Some(Mailer::new(url, &from).context("mail set-up (--smtp-url, --mail-from)")?)
        }
        None => {
            tracing::info!("no SMTP server configured: mail stays queued in the outbox");
            None
        }
    };
    let runner = (!args.no_jobs).then(|| {
        let config = RunnerConfig {
            sweep_every: (args.sweep_every_hours > 0)
                .then(|| Duration::from_secs(args.sweep_every_hours.saturating_mul(3600))),
            poll: Duration::from_millis(args.job_poll_ms),
            decision_log_keep: (args.decision_log_days > 0)
                .then(|| Duration::from_secs(args.decision_log_days.saturating_mul(86_400))),
            ..RunnerConfig::default()
        };
        let mut runner = Runner::new(vault.clone(), config);
        if let Some(mailer) = mailer {
            runner.register_mail(mailer);
        }
        let runner = Arc::new(runner);
        tokio::spawn(runner.run_until(async {
            let _ = jobs_stopped.await;
        }))
    });
    let mut state = AppState::from_arc(vault, config);
    if let Some(g) = gdpr_api {
        state = state.with_gdpr_api(g);
    }
    vern_server::serve(listener, state, shutdown_signal())
        .await
        .context("server error")?;
    let _ = stop_jobs.send(());
    if let Some(runner) = runner {
        // The current job finishes (or its lease runs out and another node takes it).
        let _ = runner.await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
