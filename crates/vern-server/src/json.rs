//! Request extractors that fail with problem+json instead of axum's plain-text rejections.
//!
//! [`ApiJson`] checks the media type (415), buffers the body under the configured limit (413),
//! requires UTF-8 and well-formed JSON (400), and deserialises with the JSON path of any error
//! (422, `errors[].field`). Error reasons are rebuilt from serde's message *without* the value
//! the client sent: a body can carry an email address, and problem bodies carry no personal data.
//! [`ApiPath`] and [`ApiQuery`] do the same for path parameters and query strings.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError, ProblemKind};

/// A JSON request body (or a JSON response: it serialises like `axum::Json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_json_bytes(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body together with its raw bytes (for `Idempotency-Key` request matching).
#[derive(Debug, Clone)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = read_json_bytes(req, state).await?;
        let value = parse_json(&raw)?;
        Ok(JsonBody { value, raw })
    }
}

/// Checks the media type and buffers the body under the body limit.
async fn read_json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    if !is_json_content_type(req.headers()) {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            "send the body as `Content-Type: application/json`",
        ));
    }
    Bytes::from_request(req, state)
        .await
        .map_err(bytes_rejection)
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `application/json` or any `application/*+json`, with or without parameters.
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn bytes_rejection(r: BytesRejection) -> ApiError {
    match r {
        BytesRejection::FailedToBufferBody(
            axum::extract::rejection::FailedToBufferBody::LengthLimitError(_),
        ) => ApiError::new(
            ProblemKind::PayloadTooLarge,
            "the request body is larger than the server accepts",
        ),
        _ => ApiError::malformed("the request body could not be read"),
    }
}

/// Parses a JSON object body into `T`, mapping every failure to a problem without echoing
/// values.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::malformed("the request body is not valid UTF-8"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = json_path(e.path());
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::validation(vec![data_error(&field, &inner.to_string())])
            }
            _ => ApiError::malformed(format!(
                "the request body is not well-formed JSON (line {}, column {})",
                inner.line(),
                inner.column()
            )),
        }
    })?;
    // Trailing data after the value makes the body malformed, not silently truncated.
    de.end()
        .map_err(|_| ApiError::malformed("the request body has data after the JSON value"))?;
    // Every request body is an object. serde would also fill a struct from an array
    // (`[null, null]`), which the schema does not allow.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_type",
            "expected a JSON object",
        )]));
    }
    Ok(value)
}

/// `records[0].category`, or `body` for the top level. Keys come from the client (an unknown
/// field, a key inside a record's value), so a key that does not look like a schema field name
/// is shown as `<key>`: a body with an email address or a name as a key must not have it
/// repeated in the answer (or the log).
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if field_name_like(key) { key } else { "<key>" });
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() {
        "body".to_owned()
    } else {
        out
    }
}

/// A schema field name: lower-case ASCII, digits and `_`, at most 64 bytes.
fn field_name_like(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Turns serde's message into a code and a reason that keep the schema's words and drop the
/// client's value (`invalid type: string "ola@x.no", expected u32` → `expected u32`).
pub(crate) fn data_error(field: &str, message: &str) -> FieldError {
    // serde_json appends the position; it says nothing the path does not.
    let message = message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i]);
    let expected = message
        .find("expected ")
        .map(|i| message[i..].to_owned())
        .unwrap_or_else(|| "the value does not fit the schema".to_owned());
    let (code, reason) = if message.starts_with("unknown field") {
        (
            "unknown_field",
            "this field is not part of the schema".to_owned(),
        )
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        // The name is ours (from the schema), so it can be shown and added to the path.
        let name = rest.split('`').next().unwrap_or("");
        return FieldError::new(
            join_path(field, name),
            "missing_field",
            "this field is required",
        );
    } else if message.starts_with("invalid type") {
        ("invalid_type", expected)
    } else if message.starts_with("unknown variant") {
        ("unknown_variant", expected)
    } else if message.starts_with("invalid length") {
        ("invalid_length", expected)
    } else {
        ("invalid_value", expected)
    };
    FieldError::new(field, code, reason)
}

fn join_path(base: &str, name: &str) -> String {
    if base == "body" || base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}.{name}")
    }
}

/// Path parameters; a non-UUID id answers 400 (with the parameter's name), not plain text.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(path_rejection)
    }
}

fn path_rejection(r: PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    match r {
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => ApiError::validation(vec![FieldError::new(
                key.clone(),
                "invalid_path_parameter",
                format!("expected {}", friendly_type(expected_type)),
            )]),
            ErrorKind::InvalidUtf8InPathParam { key } => {
                ApiError::validation(vec![FieldError::new(
                    key.clone(),
                    "invalid_utf8",
                    "the parameter is not UTF-8",
                )])
            }
            _ => ApiError::validation(vec![FieldError::new(
                "path",
                "invalid_path_parameter",
                "a path parameter is invalid",
            )]),
        },
        _ => ApiError::not_found("resource"),
    }
}

fn friendly_type(t: &str) -> &str {
    if t.ends_with("Uuid") { "a UUID" } else { t }
}

/// A query string; a bad one answers 422 problem+json.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|_: QueryRejection| {
                ApiError::validation(vec![FieldError::new(
                    "query",
                    "invalid_query",
                    "the query string does not match this operation's parameters",
                )])
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        kind: String,
    }

    fn err(body: &[u8]) -> ApiError {
        match parse_json::<Body>(body) {
            Err(e) => e,
            Ok(b) => panic!("parsed {b:?}"),
        }
    }

    #[test]
    fn wrong_types_are_422_without_the_value() {
        let e = err(br#"{"name": "x", "count": "secret@example.com"}"#);
        assert_eq!(e.kind, ProblemKind::Validation);
        assert_eq!(e.errors[0].field, "count");
        assert_eq!(e.errors[0].code, "invalid_type");
        let text = format!("{:?}", e.problem());
        assert!(!text.contains("secret@example.com"), "{text}");
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let e = err(br#"{"name": "x", "count": 1, "inner": {"kind": "a", "x": 1}}"#);
        assert_eq!(e.errors[0].code, "unknown_field");
        assert_eq!(e.errors[0].field, "inner.x");
        let e = err(br#"{"name": "x"}"#);
        assert_eq!(e.errors[0].code, "missing_field");
        assert_eq!(e.errors[0].field, "count");
    }

    #[test]
    fn syntax_errors_invalid_utf8_and_trailing_data_are_400() {
        for body in [
            &b"{"[..],
            b"",
            b"{\"name\": \"\xff\", \"count\": 1}",
            br#"{"name": "x", "count": 1} x"#,
        ] {
            assert_eq!(err(body).kind, ProblemKind::MalformedRequest);
        }
    }
}
