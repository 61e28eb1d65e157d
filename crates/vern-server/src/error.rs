//! One error type for the HTTP layer, rendered once as RFC 9457 `application/problem+json`.
//!
//! Every failure a client can see goes through [`ApiError`]: handler errors, extractor
//! rejections, the router's 404/405, timeouts and panics. Each kind has a stable `type` URI so
//! clients can branch on it without parsing English. Bodies never carry personal data or
//! internals: validation errors name the field and the rule, never the offending value, and
//! server faults get a generic sentence while the cause is logged (without personal data).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::vault::VaultError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

const TYPE_BASE: &str = "https://vern.dev/problems/";

/// One invalid field of a request, with a machine-readable code and a human reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON path of the field in the request (`records[0].category`), or a parameter name.
    #[schema(example = "records[0].category")]
    pub field: String,
    /// Stable code of the broken rule (`unknown_category`, `invalid_type`, …).
    #[schema(example = "unknown_category")]
    pub code: String,
    /// What is wrong, in a sentence. Never repeats the submitted value.
    #[schema(example = "the policy declares no category with this id")]
    pub reason: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            reason: reason.into(),
        }
    }
}

/// An RFC 9457 problem document, as sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://vern.dev/problems/validation",
    "title": "The request breaks the policy or the schema",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "records[0].category", "code": "unknown_category",
                "reason": "the policy declares no category with this id"}]
}))]
pub struct Problem {
    /// Stable URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in a sentence.
    pub detail: String,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Kinds of problem; each maps to a status, a `type` slug and a title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    MalformedRequest,
    UnsupportedMediaType,
    PayloadTooLarge,
    Validation,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    IdempotencyKeyReused,
    TooManyRequests,
    Timeout,
    Unavailable,
    Internal,
}

impl ProblemKind {
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::MalformedRequest => StatusCode::BAD_REQUEST,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ProblemKind::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::MalformedRequest => "malformed-request",
            ProblemKind::UnsupportedMediaType => "unsupported-media-type",
            ProblemKind::PayloadTooLarge => "payload-too-large",
            ProblemKind::Validation => "validation",
            ProblemKind::Unauthorized => "unauthorized",
            ProblemKind::Forbidden => "forbidden",
            ProblemKind::NotFound => "not-found",
            ProblemKind::MethodNotAllowed => "method-not-allowed",
            ProblemKind::Conflict => "conflict",
            ProblemKind::IdempotencyKeyReused => "idempotency-key-reused",
            ProblemKind::TooManyRequests => "too-many-requests",
            ProblemKind::Timeout => "timeout",
            ProblemKind::Unavailable => "unavailable",
            ProblemKind::Internal => "internal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::MalformedRequest => "The request could not be read",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::PayloadTooLarge => "The request body is too large",
            ProblemKind::Validation => "The request breaks the policy or the schema",
            ProblemKind::Unauthorized => "Authentication required",
            ProblemKind::Forbidden => "Not allowed for this role",
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::IdempotencyKeyReused => "Idempotency key reused with a different request",
            ProblemKind::TooManyRequests => "Too many requests",
            ProblemKind::Timeout => "The request took too long",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::Internal => "Internal error",
        }
    }

    /// The kind a bare status code (from a layer that knows nothing of problems) stands for.
    pub fn from_status(status: StatusCode) -> ProblemKind {
        match status.as_u16() {
            400 => ProblemKind::MalformedRequest,
            401 => ProblemKind::Unauthorized,
            403 => ProblemKind::Forbidden,
            404 => ProblemKind::NotFound,
            405 => ProblemKind::MethodNotAllowed,
            408 => ProblemKind::Timeout,
            409 => ProblemKind::Conflict,
            429 => ProblemKind::TooManyRequests,
            413 => ProblemKind::PayloadTooLarge,
            415 => ProblemKind::UnsupportedMediaType,
            422 => ProblemKind::Validation,
            503 => ProblemKind::Unavailable,
            s if (400..500).contains(&s) => ProblemKind::MalformedRequest,
            _ => ProblemKind::Internal,
        }
    }
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ProblemKind,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Overrides the kind's status (e.g. 408 from a layer that said so).
    pub status: Option<StatusCode>,
}

impl ApiError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        ApiError {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            status: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        ApiError {
            kind: ProblemKind::Validation,
            detail,
            errors,
            status: None,
        }
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::MalformedRequest, detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Forbidden, detail)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ProblemKind::NotFound, format!("no such {what}"))
    }

    /// A server fault: the client gets a generic sentence; `cause` is logged, so it must not
    /// contain personal data (store and crypto errors never do: they carry no values).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ProblemKind::Internal,
            "the server could not complete the request; the cause has been logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.kind.status())
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("{TYPE_BASE}{}", self.kind.slug()),
            title: self.kind.title().to_owned(),
            status: self.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.kind == ProblemKind::Unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vern\""),
            );
        }
        response
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        match e {
            VaultError::Validation(errors) => ApiError::validation(errors),
            VaultError::Forbidden(detail) => ApiError::forbidden(detail),
            VaultError::NotFound(what) => ApiError::not_found(what),
            VaultError::Conflict(detail) => ApiError::new(ProblemKind::Conflict, detail),
            VaultError::RateLimited(detail) => ApiError::new(ProblemKind::TooManyRequests, detail),
            VaultError::Unavailable(detail) => ApiError::new(ProblemKind::Unavailable, detail),
            VaultError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_has_the_rfc_9457_members() {
        let e = ApiError::validation(vec![FieldError::new("a", "b", "c")]);
        let v = serde_json::to_value(e.problem()).unwrap_or_default();
        assert_eq!(v["type"], "https://vern.dev/problems/validation");
        assert_eq!(v["status"], 422);
        assert_eq!(v["errors"][0]["field"], "a");
        assert!(v["title"].is_string() && v["detail"].is_string());
    }

    #[test]
    fn unauthorized_challenges_with_bearer() {
        let r = ApiError::unauthorized("x").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
