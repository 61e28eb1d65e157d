//! The Helsinki profile GDPR API (`../shared/docs/protocols/helsinki-gdpr-api.md`): a profile
//! service asks vern for a user's data (`GET`) and to delete it (`DELETE`, with `?dry_run=true`
//! to ask first), authenticated by an OIDC JWT of a trusted issuer carrying the query or delete
//! scope and naming the user as `sub`.
//!
//! The user is the subject holding the identifier `external:<system>` (configured, default
//! `external:helsinki_profile`) whose value is the path's UUID. No subject → `GET` and `DELETE`
//! answer 204 (nothing to give or delete). A deletion is all or nothing: if an erasure
//! exception or a legal hold requires keeping anything, nothing is deleted and the answer is
//! 403 with the protocol's `{"errors": [{"code", "message": {"fi", "sv", "en"}}]}` body (the
//! same body for missing scopes and foreign users, as the reference tester checks every 403).
//! Token faults are 401 problem documents; an unreachable issuer is 503.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ProblemKind};
use crate::json::{ApiPath, ApiQuery};
use crate::oidc::{OidcError, OidcVerifier};
use crate::vault::{Actor, IdentifierInput, VaultError};

/// How the GDPR API is set up (`vern serve --gdpr-api-*`).
#[derive(Debug, Clone)]
pub struct GdprApiConfig {
    pub verifier: OidcVerifier,
    /// Any of these grants `GET`.
    pub query_scopes: Vec<String>,
    /// Any of these grants `DELETE`.
    pub delete_scopes: Vec<String>,
    /// The identifier kind that holds the user's UUID (`external:helsinki_profile`).
    pub identifier_kind: String,
}

/// The service's name, the root key of the data tree.
const ROOT_KEY: &str = "VERN";

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user's UUID in the profile service (the token's `sub`).
    pub user_uuid: Uuid,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DryRunQuery {
    /// `true` (also `True`, `1`): only say whether the deletion would succeed.
    #[serde(default)]
    #[param(pattern = "^(true|True|1|false|False|0)$")]
    pub dry_run: Option<String>,
}

/// The protocol's error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct GdprErrors {
    pub errors: Vec<GdprError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GdprError {
    /// A stable code.
    pub code: String,
    /// The message in Finnish, Swedish and English.
    pub message: std::collections::BTreeMap<String, String>,
}

/// A node of the data tree: `{key, children}` or `{key, value}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(no_recursion)]
pub struct DataNode {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<DataNode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
}

fn errors(status: StatusCode, code: &str, fi: &str, sv: &str, en: &str) -> Response {
    let body = GdprErrors {
        errors: vec![GdprError {
            code: code.into(),
            message: [("fi", fi), ("sv", sv), ("en", en)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }],
    };
    let mut r = (status, axum::Json(body)).into_response();
    r.extensions_mut()
        .insert(crate::middleware::ProtocolErrorBody);
    r
}

fn missing_scope() -> Response {
    errors(
        StatusCode::FORBIDDEN,
        "MISSING_SCOPE",
        "Tunnisteella ei ole tähän tarvittavaa oikeutta.",
        "Token saknar den behörighet som krävs.",
        "The token lacks the scope this operation needs.",
    )
}

fn not_owner() -> Response {
    errors(
        StatusCode::FORBIDDEN,
        "NOT_OWNER",
        "Tunniste ei kuulu tälle käyttäjälle.",
        "Token tillhör inte denna användare.",
        "The token does not belong to this user.",
    )
}

fn internal(e: VaultError) -> Response {
    let _ = ApiError::from(e); // logs the cause
    errors(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "Palvelussa tapahtui virhe.",
        "Ett fel inträffade i tjänsten.",
        "The service failed; the cause has been logged.",
    )
}

/// Verifies the bearer token and its scope and owner; `Err` is the response to send.
async fn authorise(
    state: &AppState,
    headers: &HeaderMap,
    user: Uuid,
    delete: bool,
) -> Result<Arc<GdprApiConfig>, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, t)| scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty())
        .map(|(_, t)| t.trim().to_owned())
        .ok_or_else(|| {
            ApiError::unauthorized("send an OIDC access token as `Authorization: Bearer …`")
                .into_response()
        })?;
    let Some(config) = state.gdpr_api() else {
        return Err(
            ApiError::unauthorized("the GDPR API trusts no issuer on this server").into_response(),
        );
    };
    let now = state.vault().clock().now();
    let verified = match config.verifier.verify(&token, now).await {
        Ok(v) => v,
        Err(e @ OidcError::Unavailable(_)) => {
            tracing::warn!(error = %e, "GDPR API: issuer unavailable");
            return Err(ApiError::new(
                ProblemKind::Unavailable,
                "the token issuer's keys cannot be fetched now",
            )
            .into_response());
        }
        Err(e) => return Err(ApiError::unauthorized(e.to_string()).into_response()),
    };
    let scopes = if delete {
        &config.delete_scopes
    } else {
        &config.query_scopes
    };
    if !verified.has_any_scope(scopes.iter().map(String::as_str)) {
        return Err(missing_scope());
    }
    if Uuid::parse_str(&verified.subject).ok() != Some(user) {
        return Err(not_owner());
    }
    Ok(config)
}

async fn subject_of(
    state: &AppState,
    config: &GdprApiConfig,
    user: Uuid,
) -> Result<Option<Uuid>, Response> {
    let vault = state.vault();
    let who = vault.admin_principal(Actor::GdprApi).map_err(internal)?;
    let input = IdentifierInput {
        kind: config.identifier_kind.clone(),
        value: user.to_string(),
    };
    match vault.lookup(&who, &input).await {
        Ok(id) => Ok(Some(id)),
        Err(VaultError::NotFound(_)) => Ok(None),
        Err(e) => Err(internal(e)),
    }
}

/// The user's data as the protocol's key/children/value tree; 204 when vern holds none.
#[utoipa::path(
    get,
    path = "/gdpr-api/v1/user/{user_uuid}",
    tag = "gdpr-api",
    operation_id = "gdprApiQuery",
    params(UserPath),
    security(("oidc" = [])),
    responses(
        (status = 200, description = "The user's data", body = DataNode),
        (status = 204, description = "vern holds no data about this user"),
        (status = 403, description = "The token lacks the query scope or is another user's",
         body = GdprErrors),
        (status = 500, description = "The service failed", body = GdprErrors),
    ),
)]
pub async fn query(
    State(state): State<AppState>,
    ApiPath(p): ApiPath<UserPath>,
    headers: HeaderMap,
) -> Response {
    let config = match authorise(&state, &headers, p.user_uuid, false).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let subject = match subject_of(&state, &config, p.user_uuid).await {
        Ok(Some(s)) => s,
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(r) => return r,
    };
    let vault = state.vault();
    let view = match vault.admin_principal(Actor::GdprApi) {
        Ok(who) => vault.get_subject(&who, subject).await,
        Err(e) => Err(e),
    };
    let view = match view {
        Ok(v) => v,
        Err(VaultError::NotFound(_)) => return StatusCode::NO_CONTENT.into_response(),
        Err(e) => return internal(e),
    };
    let leaf = |key: &str, value: Value| DataNode {
        key: key.into(),
        children: None,
        value: Some(value),
    };
    let branch = |key: &str, children: Vec<DataNode>| DataNode {
        key: key.into(),
        children: Some(children),
        value: None,
    };
    let subject_node = branch(
        "SUBJECT",
        vec![
            leaf("ID", json!(view.subject.id)),
            leaf("SUBJECT_TYPE", json!(view.subject.subject_type)),
            leaf("JURISDICTION", json!(view.subject.jurisdiction)),
        ],
    );
    let identifiers = view
        .identifiers
        .iter()
        .map(|i| {
            branch(
                "IDENTIFIER",
                vec![leaf("KIND", json!(i.kind)), leaf("VALUE", json!(i.value))],
            )
        })
        .collect();
    let records = view
        .records
        .iter()
        .map(|r| {
            branch(
                "RECORD",
                vec![
                    leaf("CATEGORY", json!(r.category)),
                    tree("VALUE", &r.value),
                    leaf("SOURCE", json!(r.source)),
                    branch(
                        "PURPOSES",
                        r.purposes
                            .iter()
                            .map(|p| leaf("PURPOSE", json!(p)))
                            .collect(),
                    ),
                    leaf("COLLECTED_AT", json!(r.collected_at.unix_timestamp())),
                ],
            )
        })
        .collect();
    let root = branch(
        ROOT_KEY,
        vec![
            subject_node,
            branch("IDENTIFIERS", identifiers),
            branch("RECORDS", records),
        ],
    );
    (StatusCode::OK, axum::Json(root)).into_response()
}

/// A JSON value as a tree node: objects and arrays become children, scalars values.
fn tree(key: &str, v: &Value) -> DataNode {
    match v {
        Value::Object(map) => DataNode {
            key: key.into(),
            children: Some(map.iter().map(|(k, v)| tree(&upper_snake(k), v)).collect()),
            value: None,
        },
        Value::Array(list) => DataNode {
            key: key.into(),
            children: Some(list.iter().map(|v| tree("ITEM", v)).collect()),
            value: None,
        },
        scalar => DataNode {
            key: key.into(),
            children: None,
            value: Some(scalar.clone()),
        },
    }
}

fn upper_snake(k: &str) -> String {
    let s: String = k
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "FIELD".into() } else { s }
}

/// Deletes the user's data, all or nothing; with `dry_run=true` only says whether it would.
#[utoipa::path(
    delete,
    path = "/gdpr-api/v1/user/{user_uuid}",
    tag = "gdpr-api",
    operation_id = "gdprApiDelete",
    params(UserPath, DryRunQuery),
    security(("oidc" = [])),
    responses(
        (status = 204, description = "Deleted (or would be, or there was nothing to delete)"),
        (status = 403, description = "The law requires keeping some of the data (nothing was \
            deleted), or the token lacks the delete scope or is another user's",
         body = GdprErrors),
        (status = 500, description = "The service failed", body = GdprErrors),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(p): ApiPath<UserPath>,
    ApiQuery(q): ApiQuery<DryRunQuery>,
    headers: HeaderMap,
) -> Response {
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false" | "False" | "0") => false,
        Some("true" | "True" | "1") => true,
        Some(_) => {
            return ApiError::validation(vec![crate::error::FieldError::new(
                "dry_run",
                "invalid_boolean",
                "expected true or false",
            )])
            .into_response();
        }
    };
    let config = match authorise(&state, &headers, p.user_uuid, true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let subject = match subject_of(&state, &config, p.user_uuid).await {
        Ok(Some(s)) => s,
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(r) => return r,
    };
    let vault = state.vault();
    let outcome = match vault.admin_principal(Actor::GdprApi) {
        Ok(who) => vault.erase_all_or_nothing(&who, subject, dry_run).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(o) if o.kept.is_empty() => StatusCode::NO_CONTENT.into_response(),
        Ok(o) => {
            let refs: Vec<&str> = o.kept.iter().map(|k| k.legal_ref.as_str()).collect();
            let mut refs = refs;
            refs.sort_unstable();
            refs.dedup();
            let refs = refs.join("; ");
            errors(
                StatusCode::FORBIDDEN,
                "LEGAL_RETENTION",
                &format!(
                    "Osa tiedoista on säilytettävä lain nojalla, joten mitään ei poistettu ({refs})."
                ),
                &format!(
                    "En del av uppgifterna måste enligt lag sparas, så inget raderades ({refs})."
                ),
                &format!(
                    "The law requires keeping some of the data, so nothing was deleted ({refs})."
                ),
            )
        }
        Err(VaultError::NotFound(_)) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => internal(e),
    }
}
