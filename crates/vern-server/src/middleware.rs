//! Cross-cutting layers: every error as problem+json, panics as 500 problems, and request
//! tracing that records method, route template, status and latency — never query strings,
//! bodies or headers, which is where personal data would be.

use std::any::Any;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Span;

use crate::error::{ApiError, PROBLEM_JSON, ProblemKind};

/// Marks an error response whose body is a protocol's own error format (the Helsinki GDPR API's
/// `{"errors": …}`), which the safety net must leave alone.
#[derive(Debug, Clone, Copy)]
pub struct ProtocolErrorBody;

/// Turns error responses that layers and the router produce without a body (405 from the
/// method router, 503 from the timeout, 413 from a length check…) into problem+json, keeping
/// their headers (`Allow` on a 405).
pub async fn problem_safety_net(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if is_problem || response.extensions().get::<ProtocolErrorBody>().is_some() {
        return response;
    }
    let (mut parts, _body) = response.into_parts();
    // A bare 503 can only come from the timeout layer (readiness answers with a problem).
    let kind = match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => ProblemKind::Timeout,
        _ => ProblemKind::from_status(status),
    };
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "this path does not support the method; see the `Allow` header".to_owned()
        }
        StatusCode::NOT_FOUND => "no resource at this path".to_owned(),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => {
            "the request did not complete in time".to_owned()
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than the server accepts".to_owned()
        }
        _ => kind.title().to_owned(),
    };
    let mut err = ApiError::new(kind, detail);
    err.status = Some(status);
    let fresh = err.into_response();
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// The router's fallback: unknown paths are 404 problems.
pub async fn not_found() -> ApiError {
    ApiError::new(ProblemKind::NotFound, "no resource at this path")
}

/// Answers a panic with a 500 problem. The payload is not logged: a panic message may have
/// been formatted from request data.
pub fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked; answered 500");
    let mut r = ApiError::new(
        ProblemKind::Internal,
        "the server could not complete the request; the cause has been logged",
    )
    .into_response();
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The span of one request: method, route template and request id only.
pub fn make_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        request_id,
        status = tracing::field::Empty,
    )
}

pub fn on_response(res: &Response, latency: Duration, span: &Span) {
    span.record("status", res.status().as_u16());
    tracing::info!(
        parent: span,
        status = res.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "answered"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    #[allow(clippy::panic)]
    async fn boom() -> &'static str {
        panic!("ola@example.com made me do it")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem() {
        let app = Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::custom(panic_response));
        let req = Request::builder().uri("/boom").body(Body::empty()).unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("ola@"));
    }

    #[tokio::test]
    async fn bare_error_responses_become_problems_and_keep_their_headers() {
        async fn bare() -> Response {
            (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response()
        }
        let app = Router::new()
            .route("/x", get(bare))
            .layer(axum::middleware::from_fn(problem_safety_net));
        let req = Request::builder().uri("/x").body(Body::empty()).unwrap();
        let res = app.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "GET");
        assert_eq!(res.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
