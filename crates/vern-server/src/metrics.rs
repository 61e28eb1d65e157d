//! Prometheus metrics: request counts and latency histograms by route template and status.
//!
//! Labels are the matched route template (`/v1/subjects/{subject_id}`), never the raw path, so
//! no id (and no identifier, which never appears in paths anyway) ends up in a label, and the
//! label set stays bounded. Unmatched requests share one label.
//!
//! The `metrics` facade has one global recorder per process, and it can be installed only once.
//! Tests boot many servers in one process, and the CLI may install its own; so the recorder is
//! built and installed once, lazily, and every server renders from the same handle.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "vern_http_requests_total";
const DURATION: &str = "vern_http_request_duration_seconds";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process-wide handle, installing the recorder on first use. If another recorder was
/// installed first (by an embedding program), vern's metrics go to it and `/metrics` renders
/// only what this handle sees.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new();
            let builder = match builder.set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full(DURATION.to_owned()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ) {
                Ok(b) => b,
                // Only fails on an empty bucket list, which this is not.
                Err(_) => PrometheusBuilder::new(),
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests answered, by route and status");
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency, by route and status"
    );
}

/// Middleware: counts and times each request under its route template.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Clients can send any method token; only the standard ones become label values.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "TRACE") => m,
        _ => "other",
    }
    .to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(start.elapsed().as_secs_f64());
    response
}
