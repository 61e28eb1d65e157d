//! vern's HTTP server: the `/v1` JSON API (with its OpenAPI 3.1 document generated from the
//! handlers), bearer-token authentication with policy roles, RFC 9457 errors, and the
//! [`vault`] service layer that encrypts, indexes, policy-checks and audits every read and
//! write of personal data. The CLI calls [`vault::Vault`] directly and [`serve`] to run.
//!
//! Layers, outermost first: request id → trace (method, route template, status, latency; no
//! query strings, bodies or headers) → metrics → problem+json safety net → catch-panic →
//! timeout → body limit → router (404/405 as problems) → rate limits on the request-submission
//! and verification-code routes (429 with `Retry-After`).

pub mod api;
pub mod auth;
pub mod error;
pub mod import_file;
pub mod jobs;
pub mod json;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod openapi;
pub mod ratelimit;
pub mod vault;
pub mod web;
pub mod zip;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::ensure_initial_admin_token;
pub use vault::Vault;

/// Tunables of the HTTP server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest request body accepted, in bytes (413 above it).
    pub body_limit: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Limits on request submission and verification-code attempts (decision 0021).
    pub rate_limits: ratelimit::RateLimitConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            rate_limits: ratelimit::RateLimitConfig::default(),
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    vault: Arc<Vault>,
    config: Arc<ServerConfig>,
    metrics: PrometheusHandle,
    /// The Helsinki GDPR API's trusted issuers and scopes; `None`: every call is 401.
    gdpr_api: Option<Arc<api::gdpr_api::GdprApiConfig>>,
    /// The portal's and console's sessions and login links.
    web: Arc<web::WebState>,
    /// The rate limiter's buckets (per node, in memory).
    limiter: Arc<ratelimit::RateLimiter>,
}

impl AppState {
    pub fn new(vault: Vault, config: ServerConfig) -> Self {
        Self::from_arc(Arc::new(vault), config)
    }

    /// For callers that keep their own handle on the vault (the CLI, benches).
    pub fn from_arc(vault: Arc<Vault>, config: ServerConfig) -> Self {
        AppState {
            vault,
            config: Arc::new(config),
            metrics: metrics::handle(),
            gdpr_api: None,
            web: Arc::new(web::WebState::default()),
            limiter: Arc::new(ratelimit::RateLimiter::default()),
        }
    }

    /// Enables the Helsinki GDPR API with these issuers and scopes.
    pub fn with_gdpr_api(mut self, config: api::gdpr_api::GdprApiConfig) -> Self {
        self.gdpr_api = Some(Arc::new(config));
        self
    }

    pub fn gdpr_api(&self) -> Option<Arc<api::gdpr_api::GdprApiConfig>> {
        self.gdpr_api.clone()
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn web(&self) -> &web::WebState {
        &self.web
    }

    pub fn limiter(&self) -> &ratelimit::RateLimiter {
        &self.limiter
    }

    pub fn vault_arc(&self) -> Arc<Vault> {
        self.vault.clone()
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }
}

/// The whole application: API routes, operational endpoints and every layer.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = api::openapi_router().split_for_parts();
    let doc = openapi::document_json(doc, &state.vault.policy());
    let doc_json = api::health::OpenApiJson(Arc::new(doc.to_string()));
    let config = state.config.clone();
    routes
        .merge(web::router())
        // After routing (it needs the route template), before the handler.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::enforce,
        ))
        .fallback(middleware::not_found)
        .with_state(state)
        .layer(axum::Extension(doc_json))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(middleware::make_span)
                        .on_request(())
                        .on_response(middleware::on_response)
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn(metrics::track))
                .layer(axum::middleware::from_fn(middleware::problem_safety_net))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    config.request_timeout,
                ))
                .layer(DefaultBodyLimit::max(config.body_limit)),
        )
}

/// Serves the application on `listener` until `shutdown` resolves, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let vault = state.vault_arc();
    let app = router(state);
    // With the peer address, so consent proof can keep the (truncated) client IP.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // The decision log is written behind the answers: write what is pending before leaving.
    if let Err(e) = vault.flush_decisions().await {
        tracing::warn!(error = %e, "decision log: pending decisions not written at shutdown");
    }
    served
}
