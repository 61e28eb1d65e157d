//! Consent, objections and restriction of one subject, and the auditors' ledger export.
//!
//! The client's IP address is truncated before it reaches the vault; the user agent is kept
//! (cut to 256 characters) as part of the proof of how consent was given.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::SubjectPath;
use super::idempotency::IdempotencyKey;
use super::subjects::created;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::{
    ConsentEventView, ConsentInput, ConsentOverview, ConsentRecorded, ConsentRequestMeta,
    GroundsInput, ObjectionInput, ObjectionView, RestrictionInput,
};

/// The caller's address and user agent, for consent proof.
pub struct ClientMeta {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Present when served by `vern_server::serve`; absent in in-process tests.
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(ClientMeta { ip, user_agent })
    }
}

/// Records a grant, withdrawal or renewal of consent, with proof. Withdrawal is one call with
/// no other conditions (Art. 7(3)).
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/consents",
    tag = "consent",
    operation_id = "recordConsent",
    params(
        SubjectPath,
        ("Idempotency-Key" = Option<String>, Header,
         description = "Retrying with the same key returns the events first recorded"),
    ),
    request_body = ConsentInput,
    responses(
        (status = 201, description = "The ledger entries recorded (one per channel) and the \
         signed receipt", body = ConsentRecorded),
    ),
)]
pub async fn record_consent(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    key: IdempotencyKey,
    client: ClientMeta,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<Response, ApiError> {
    let meta = ConsentRequestMeta {
        ip: client.ip,
        user_agent: client.user_agent,
        idempotency_key: key.0,
    };
    let events = state
        .vault()
        .record_consent(&who, p.subject_id, &input, &meta)
        .await?;
    Ok(created(
        StatusCode::CREATED,
        format!("/v1/subjects/{}/consents", p.subject_id),
        events,
    ))
}

/// Current consents (expiry applied), objections and restriction of the subject.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/consents",
    tag = "consent",
    operation_id = "getConsents",
    params(SubjectPath),
    responses((status = 200, description = "The subject's consent state", body = ConsentOverview)),
)]
pub async fn get_consents(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<ConsentOverview>, ApiError> {
    Ok(ApiJson(
        state.vault().consent_overview(&who, p.subject_id).await?,
    ))
}

/// The subject's consent ledger entries, oldest first.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/consents/history",
    tag = "consent",
    operation_id = "getConsentHistory",
    params(SubjectPath),
    responses((status = 200, description = "Ledger entries", body = Vec<ConsentEventView>)),
)]
pub async fn consent_history(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<ApiJson<Vec<ConsentEventView>>, ApiError> {
    Ok(ApiJson(
        state.vault().consent_history(&who, p.subject_id).await?,
    ))
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The tenant's whole consent ledger for auditors, as JSON or CSV (`audit.read`).
#[utoipa::path(
    get,
    path = "/v1/consents/export",
    tag = "consent",
    operation_id = "exportConsents",
    params(ExportQuery),
    responses(
        (status = 200, description = "Every ledger entry in order", content(
            (Vec<ConsentEventView> = "application/json"),
            (String = "text/csv"),
        )),
    ),
)]
pub async fn export_consents(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv") {
        return Err(ApiError::validation(vec![crate::error::FieldError::new(
            "format",
            "invalid_format",
            "expected `json` or `csv`",
        )]));
    }
    let events = state.vault().export_consent(&who).await?;
    if format == "json" {
        return Ok(ApiJson(events).into_response());
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok((headers, to_csv(&events)).into_response())
}

/// RFC 4180 CSV: every field quoted, quotes doubled, so no value can break a row.
fn to_csv(events: &[ConsentEventView]) -> String {
    let mut out = String::from(
        "seq,id,subject_id,scope,channel,action,at,expires_at,policy_hash,notice_hash,\
         collection_point,method,ip_truncated,user_agent,idempotency_key,actor,hash\r\n",
    );
    let rfc = |t: &time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    for e in events {
        let fields = [
            e.seq.to_string(),
            e.id.to_string(),
            e.subject_id.to_string(),
            e.scope.clone(),
            e.channel.clone(),
            e.action.clone(),
            rfc(&e.at),
            e.expires_at.as_ref().map(rfc).unwrap_or_default(),
            e.policy_hash.clone(),
            e.notice_hash.clone(),
            e.collection_point.clone(),
            e.method.clone(),
            e.ip_truncated.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.idempotency_key.clone().unwrap_or_default(),
            e.actor.clone(),
            e.hash.clone(),
        ];
        let row: Vec<String> = fields
            .iter()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
            .collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Records an objection (Art. 21). To direct marketing it is absolute and also puts the
/// subject's email and phone on the suppression list.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/objections",
    tag = "consent",
    operation_id = "recordObjection",
    params(SubjectPath),
    request_body = ObjectionInput,
    responses((status = 201, description = "The objection on record", body = ObjectionView)),
)]
pub async fn record_objection(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiJson(input): ApiJson<ObjectionInput>,
) -> Result<Response, ApiError> {
    let view = state.vault().object(&who, p.subject_id, &input).await?;
    Ok(created(
        StatusCode::CREATED,
        format!("/v1/subjects/{}/consents", p.subject_id),
        view,
    ))
}

/// A DPO records compelling legitimate grounds that outweigh an objection to one purpose.
/// Audited; the text is sealed with the subject's key.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/objections/grounds",
    tag = "consent",
    operation_id = "recordCompellingGrounds",
    params(SubjectPath),
    request_body = GroundsInput,
    responses((status = 204, description = "The grounds were recorded")),
)]
pub async fn record_grounds(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiJson(input): ApiJson<GroundsInput>,
) -> Result<StatusCode, ApiError> {
    state
        .vault()
        .record_compelling_grounds(&who, p.subject_id, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restricts processing of the subject (Art. 18), or lifts the restriction.
#[utoipa::path(
    put,
    path = "/v1/subjects/{subject_id}/restriction",
    tag = "consent",
    operation_id = "setRestriction",
    params(SubjectPath),
    request_body = RestrictionInput,
    responses((status = 204, description = "The restriction was set")),
)]
pub async fn set_restriction(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiJson(input): ApiJson<RestrictionInput>,
) -> Result<StatusCode, ApiError> {
    state
        .vault()
        .set_restriction(&who, p.subject_id, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The public keys consent receipts are signed with (JWK set, RFC 7517).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "consent",
    operation_id = "jwks",
    security(),
    responses((status = 200, description = "The receipt-signing public keys",
               body = Object, content_type = "application/jwk-set+json")),
)]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jwk-set+json"),
    );
    (headers, state.vault().jwks().to_string()).into_response()
}

/// Records `expired` in the ledger for every consent whose validity ended (the scheduled job
/// `consent.expire` does the same on every node's runner); reports what it wrote.
#[utoipa::path(
    post,
    path = "/v1/consents/expire",
    tag = "consent",
    operation_id = "expireConsents",
    responses((status = 200, description = "What the sweep wrote", body = crate::vault::ExpirySweep)),
)]
pub async fn expire_consents(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<crate::vault::ExpirySweep>, ApiError> {
    Ok(ApiJson(state.vault().expire_consents(&who).await?))
}
