//! `POST /v1/decisions` (one) and `POST /v1/decisions/bulk` (a JSON array or NDJSON of up to
//! 100,000 requests, within the server's body limit): may this be done, and why.

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::UtoipaMethodRouter;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ProblemKind};
use crate::json::{ApiJson, ApiPath};

pub use super::bulk_body::parse_bulk_body;
use super::bulk_body::{parse_array, parse_ndjson};
use crate::vault::{
    BulkDecisions, DecidedChunk, DecisionRecord, DecisionRequest, DecisionView, VaultError,
};

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
) -> Result<Response, ApiError> {
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
    let items = if ndjson {
        parse_ndjson(&body)?
    } else {
        parse_array(&body)?
    };
    let decided = state.vault().decide_bulk_items(&who, &items).await?;
    drop(items);
    let json = write_decisions(&decided)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// The answers as a JSON array, written directly: the same document `serde_json` makes of
/// `Vec<DecisionView>`, without a `String` per field. Each chunk of the call is written on its
/// own core (a call has one chunk per core that decided it). The calling thread writes the
/// first chunk into a buffer sized for the whole answer, and the other chunks are appended to
/// it, so the answer is not copied again into a buffer of its own.
fn write_decisions(d: &BulkDecisions) -> Result<Vec<u8>, ApiError> {
    // A content hash is plain hex, but it is escaped like any string to be safe.
    let version = serde_json::to_string(&d.policy_version)
        .map_err(|e| ApiError::from(VaultError::Internal(e.to_string())))?;
    // An answer with a subject id is about 270 bytes, the policy version included; reserving
    // once avoids copying the buffer each time it would grow.
    let per_item = 210 + version.len();
    let total: usize = d.chunks.iter().map(|c| c.items.len()).sum();
    let mut json = Vec::with_capacity(total * per_item + 2);
    json.push(b'[');
    let rest = std::thread::scope(|scope| {
        let mut chunks = d.chunks.iter();
        let first = chunks.next();
        let version = version.as_bytes();
        let handles: Vec<_> = chunks
            .map(|c| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(c.items.len() * per_item);
                    write_chunk(&mut out, c, version);
                    out
                })
            })
            .collect();
        if let Some(c) = first {
            write_chunk(&mut json, c, version);
        }
        handles
            .into_iter()
            .map(|h| h.join())
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|_| ApiError::from(VaultError::Internal("a bulk answer worker failed".into())))?;
    for part in rest {
        json.extend_from_slice(&part);
    }
    // Every item ended with a comma; the last one closes the array instead.
    if json.last() == Some(&b',') {
        json.pop();
    }
    json.push(b']');
    Ok(json)
}

/// The answers of one chunk, each followed by a comma.
fn write_chunk(out: &mut Vec<u8>, c: &DecidedChunk, version: &[u8]) {
    let mut uuid = Uuid::encode_buffer();
    for (i, item) in c.items.iter().enumerate() {
        out.extend_from_slice(b"{\"allowed\":");
        out.extend_from_slice(if item.allowed { b"true" } else { b"false" });
        out.extend_from_slice(b",\"basis\":");
        match item.basis {
            Some(b) => push_code(out, b),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"reason\":");
        push_code(out, item.reason);
        out.extend_from_slice(b",\"policy_version\":");
        out.extend_from_slice(version);
        out.extend_from_slice(b",\"decision_id\":\"");
        out.extend_from_slice(
            c.decision_id(i)
                .hyphenated()
                .encode_lower(&mut uuid)
                .as_bytes(),
        );
        out.push(b'"');
        if let Some(s) = item.subject {
            out.extend_from_slice(b",\"subject_id\":\"");
            out.extend_from_slice(s.hyphenated().encode_lower(&mut uuid).as_bytes());
            out.push(b'"');
        }
        out.extend_from_slice(b"},");
    }
}

/// A reason or basis code: `snake_case` ASCII by construction, escaped anyway if not.
fn push_code(out: &mut Vec<u8>, code: &str) {
    if code
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        out.push(b'"');
        out.extend_from_slice(code.as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(
            serde_json::to_string(code)
                .unwrap_or_else(|_| "\"\"".to_owned())
                .as_bytes(),
        );
    }
}

/// A decision by its id, from the decision audit: what was asked (the subject, or the kind of
/// identifier asked by), the answer, its reason and the policy version. Needs `audit.read`.
#[utoipa::path(
    get,
    path = "/v1/decisions/{decision_id}",
    tag = "decisions",
    operation_id = "getDecision",
    params(DecisionPath),
    responses(
        (status = 200, description = "The decision as recorded", body = DecisionRecord),
        (status = 404, description = "No decision with this id (or not written yet by the node that made it)"),
    ),
)]
pub async fn get_decision(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(path): ApiPath<DecisionPath>,
) -> Result<ApiJson<DecisionRecord>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .decision_record(&who, path.decision_id)
            .await?,
    ))
}

/// `/v1/decisions/{decision_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DecisionPath {
    /// The `decision_id` a decision answered with.
    pub decision_id: Uuid,
}
