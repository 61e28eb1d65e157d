//! `POST /v1/decisions` (one) and `POST /v1/decisions/bulk` (a JSON array or NDJSON of up to
//! 100,000 requests, within the server's body limit): may this be done, and why.

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError, ProblemKind};
use crate::json::{ApiJson, data_error, parse_json};
use crate::vault::{DecisionRequest, DecisionView};

/// Decides one request against the policy and the subject's consents, objections,
/// restriction and the suppression list.
#[utoipa::path(
    post,
    path = "/v1/decisions",
    tag = "decisions",
    operation_id = "decide",
    request_body = DecisionRequest,
    responses((status = 200, description = "The decision", body = DecisionView)),
)]
pub async fn decide(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<ApiJson<DecisionView>, ApiError> {
    Ok(ApiJson(state.vault().decide(&who, &req).await?))
}

/// Body limit of the bulk route: 100,000 requests of a few hundred bytes each.
pub const BULK_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// The bulk route with its own body limit (the server-wide one is for single resources).
pub fn with_bulk_limit(route: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, router) = route;
    (
        schemas,
        paths,
        router.layer(DefaultBodyLimit::max(BULK_BODY_LIMIT)),
    )
}

/// Decides many requests, answering in order. Send a JSON array (`application/json`) or one
/// request per line (`application/x-ndjson`).
#[utoipa::path(
    post,
    path = "/v1/decisions/bulk",
    tag = "decisions",
    operation_id = "decideBulk",
    request_body(description = "A JSON array, or one request per line", content(
        (Vec<DecisionRequest> = "application/json"),
        (DecisionRequest = "application/x-ndjson"),
    )),
    responses((status = 200, description = "One decision per request, in order",
               body = Vec<DecisionView>)),
)]
pub async fn decide_bulk(
    State(state): State<AppState>,
    Caller(who): Caller,
    req: Request,
) -> Result<ApiJson<Vec<DecisionView>>, ApiError> {
    let ndjson = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/x-ndjson"));
    let body = Bytes::from_request(req, &state).await.map_err(|_| {
        ApiError::new(
            ProblemKind::PayloadTooLarge,
            "the request body could not be read whole; send fewer recipients per call",
        )
    })?;
    let reqs = if ndjson {
        parse_ndjson(&body)?
    } else {
        parse_array(&body)?
    };
    Ok(ApiJson(state.vault().decide_bulk(&who, &reqs).await?))
}

/// One request per non-empty line; a bad line is named by its index.
fn parse_ndjson(body: &[u8]) -> Result<Vec<DecisionRequest>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::malformed("the request body is not valid UTF-8"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            parse_json(line.as_bytes()).map_err(|_| {
                ApiError::validation(vec![FieldError::new(
                    format!("[{i}]"),
                    "invalid_line",
                    "this line is not a valid decision request",
                )])
            })
        })
        .collect()
}

/// A JSON array of requests. (The shared body parser takes objects only, by design.)
fn parse_array(body: &[u8]) -> Result<Vec<DecisionRequest>, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_type",
            "expected a JSON array of decision requests",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let reqs: Vec<DecisionRequest> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::validation(vec![data_error(&field, &e.into_inner().to_string())])
    })?;
    de.end()
        .map_err(|_| ApiError::malformed("the request body has data after the JSON value"))?;
    Ok(reqs)
}
