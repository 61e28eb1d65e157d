//! `/v1/requests`: data-subject requests. Submitting needs `requests.write`; listing
//! `requests.read` (and the `dsr.case` category for a case file); handling `requests.manage`;
//! refusing a request as a whole `requests.refuse` (the DPO).
//!
//! `/v1/request-verifications/{token}` is public: the link in the verification mail is the
//! credential, and the code in the same mail confirms it (a link opened by a mail scanner's
//! prefetch does nothing: the page only asks for the code). `/v1/public/downloads/{token}` is
//! public too: the link in the closing letter is the credential for the artefacts.
//!
//! `/v1/recipient-tasks`: the Art. 19 tasks (list with `requests.read`, close with
//! `requests.manage`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::idempotency::IdempotencyKey;
use super::subjects::created;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::json::{ApiJson, ApiPath, ApiQuery, JsonBody, parse_json};
use crate::vault::{
    DownloadFormat, RecipientTaskPage, RecipientTaskView, RequestAction, RequestDetail,
    RequestInput, RequestPage, RequestView, TaskClose, VerificationInput, VerificationResult,
};

/// `/v1/requests/{request_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RequestPath {
    pub request_id: Uuid,
}

/// `/v1/request-verifications/{token}`
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPathParam {
    /// The token from the link in the verification mail.
    #[param(min_length = 1, max_length = 100, pattern = "^[A-Za-z0-9_-]{1,100}$")]
    pub token: String,
}

impl TokenPathParam {
    /// Tokens are `vern_` and base64url: anything else names no link.
    fn check(&self) -> Result<(), ApiError> {
        let ok = (1..=100).contains(&self.token.len())
            && self
                .token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(ApiError::not_found("verification link"))
        }
    }
}

/// Filters and keyset position for the admin list.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RequestListParams {
    /// Only requests in this state.
    #[param(example = "in_progress")]
    pub state: Option<String>,
    /// Only requests asking for this right.
    #[param(example = "erasure")]
    pub right: Option<String>,
    /// Only open requests (default false).
    pub open: Option<bool>,
    /// The `next` value of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Receives a request to exercise one or more rights. The answer is the same whether or not
/// the identifiers belong to a known subject. With an email address, a receipt and a
/// one-time verification link (30 minutes, 5 code attempts) go to it and the request waits
/// for identity; with `staff_verification` (and `requests.manage`) it is in progress at once.
#[utoipa::path(
    post,
    path = "/v1/requests",
    tag = "requests",
    operation_id = "submitRequest",
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Retrying with the same key and body returns the request created first"),
    ),
    request_body = RequestInput,
    responses(
        (status = 201, description = "Received", body = RequestView,
         headers(("Location" = String, description = "URL of the request")),
         links(
            ("GetRequest" = (operation_id = "getRequest",
                parameters(("request_id" = "$response.body#/id")))),
            ("ActOnRequest" = (operation_id = "actOnRequest",
                parameters(("request_id" = "$response.body#/id")))),
         )),
    ),
)]
pub async fn submit_request(
    State(state): State<AppState>,
    Caller(who): Caller,
    key: IdempotencyKey,
    body: JsonBody<RequestInput>,
) -> Result<Response, ApiError> {
    let vault = state.vault();
    let idem = key
        .0
        .map(|k| (k, vault.request_digest("POST", "/v1/requests", &body.raw)));
    let view = vault.submit_request(&who, &body.value, idem).await?;
    let location = format!("/v1/requests/{}", view.id);
    Ok(created(StatusCode::CREATED, location, view))
}

/// Requests by deadline (soonest first), with overdue and due-soon flags; no personal data.
#[utoipa::path(
    get,
    path = "/v1/requests",
    tag = "requests",
    operation_id = "listRequests",
    params(RequestListParams),
    responses((status = 200, description = "A page of requests", body = RequestPage)),
)]
pub async fn list_requests(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<RequestListParams>,
) -> Result<ApiJson<RequestPage>, ApiError> {
    let page = state
        .vault()
        .list_requests(
            &who,
            q.state.as_deref(),
            q.right.as_deref(),
            q.open.unwrap_or(false),
            q.after.as_deref(),
            q.limit.unwrap_or(50),
        )
        .await?;
    Ok(ApiJson(page))
}

/// A request with its case file (identifiers, reasons, outcomes) and history. Audited.
#[utoipa::path(
    get,
    path = "/v1/requests/{request_id}",
    tag = "requests",
    operation_id = "getRequest",
    params(RequestPath),
    responses((status = 200, description = "The request", body = RequestDetail)),
)]
pub async fn get_request(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(path): ApiPath<RequestPath>,
) -> Result<ApiJson<RequestDetail>, ApiError> {
    Ok(ApiJson(
        state.vault().get_request(&who, path.request_id).await?,
    ))
}

/// Handles a request: verify identity (staff, with a reason), unable to identify, extend
/// (before `due_initial`, with a reason), record the outcome of a right, complete, refuse
/// (DPO), withdraw, or resend the verification link. A transition the state machine does not
/// allow answers 409.
#[utoipa::path(
    post,
    path = "/v1/requests/{request_id}/actions",
    tag = "requests",
    operation_id = "actOnRequest",
    params(RequestPath),
    request_body = RequestAction,
    responses(
        (status = 200, description = "The request after the action", body = RequestView),
        (status = 429, description = "More than 3 verification links for the request in an hour",
         content_type = "application/problem+json", body = crate::error::Problem),
    ),
)]
pub async fn act_on_request(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(path): ApiPath<RequestPath>,
    ApiJson(action): ApiJson<RequestAction>,
) -> Result<ApiJson<RequestView>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .act_on_request(&who, path.request_id, &action)
            .await?,
    ))
}

/// The page the verification link opens: it asks for the code from the mail and changes
/// nothing (safe for link scanners).
#[utoipa::path(
    get,
    path = "/v1/request-verifications/{token}",
    tag = "requests",
    operation_id = "verificationPage",
    params(TokenPathParam),
    responses((status = 200, description = "A form asking for the code", content_type = "text/html", body = String)),
    security(),
)]
pub async fn verification_page(
    ctx: crate::web::Ctx,
    ApiPath(path): ApiPath<TokenPathParam>,
) -> Result<Response, ApiError> {
    path.check()?;
    // The portal's page, in the person's language, with its CSRF token and security headers.
    let mut r = crate::web::portal::confirm_page(&ctx, &path.token, None);
    crate::web::secure_headers(r.headers_mut());
    crate::web::issue_csrf(&mut r, &ctx);
    Ok(r)
}

/// Confirms the requester's identity with the code from the mail (JSON or an HTML form
/// post). A wrong code counts an attempt; after 5 the link stops working. An unknown, used or
/// expired link answers 404.
#[utoipa::path(
    post,
    path = "/v1/request-verifications/{token}",
    tag = "requests",
    operation_id = "verifyRequest",
    params(TokenPathParam),
    request_body(content(
        (VerificationInput = "application/json"),
        (VerificationInput = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Identity confirmed; the request is in progress", body = VerificationResult),
    ),
    security(),
)]
pub async fn verify_request(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<TokenPathParam>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    path.check()?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form = content_type.starts_with("application/x-www-form-urlencoded");
    let code = if form {
        form_code(&body)?
    } else if content_type.starts_with("application/json") {
        parse_json::<VerificationInput>(&body)?.code
    } else {
        return Err(ApiError::new(
            crate::error::ProblemKind::UnsupportedMediaType,
            "send the code as JSON or as a form",
        ));
    };
    let result = state
        .vault()
        .verify_request_link(&path.token, &code)
        .await?;
    if form {
        let page = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>OK</title></head><body>\
             <h1>Takk / Thank you</h1><p>{}</p></body></html>",
            html_escape(&result.reference)
        );
        return Ok(Html(page).into_response());
    }
    Ok(ApiJson(result).into_response())
}

/// `code=NNNNNN` from a form body (only digits matter, so no percent-decoding is needed).
fn form_code(body: &[u8]) -> Result<String, ApiError> {
    let text = std::str::from_utf8(body).unwrap_or("");
    let mut code = None;
    for pair in text.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == "code" {
            code = Some(v.to_owned());
        } else if !k.is_empty() {
            return Err(ApiError::validation(vec![FieldError::new(
                "body",
                "unknown_field",
                "only `code` is accepted",
            )]));
        }
    }
    code.ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "code",
            "missing_field",
            "the code from the mail is required",
        )])
    })
}

fn html_escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// `/v1/public/downloads/{token}`
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DownloadPath {
    /// The token from the link in the closing letter.
    #[param(min_length = 1, max_length = 100, pattern = "^[A-Za-z0-9_-]{1,100}$")]
    pub token: String,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// `html` (the access report as a page; the default), `json`, `csv` or `zip` (the
    /// portability package; the default when only portability was asked for).
    #[param(value_type = Option<String>, example = "html")]
    pub format: Option<DownloadFormat>,
}

/// The artefacts of a completed access or portability request, behind the link in the closing
/// letter: the access report (HTML by default, `?format=json` or `csv`) and the portability
/// package (`?format=zip`). The link is the credential: it expires (7 days by default) and
/// works a limited number of times (5 by default, each format counting). An unknown, expired
/// or used-up link, or a format the request did not produce, all answer the same 404.
#[utoipa::path(
    get,
    path = "/v1/public/downloads/{token}",
    tag = "requests",
    operation_id = "getDownload",
    params(DownloadPath, DownloadQuery),
    responses((status = 200, description = "The artefact",
        content(
            (String = "text/html"),
            (crate::vault::AccessReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/zip"),
        ))),
    security(),
)]
pub async fn get_download(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<DownloadPath>,
    ApiQuery(q): ApiQuery<DownloadQuery>,
) -> Result<Response, ApiError> {
    let well_formed = (1..=100).contains(&path.token.len())
        && path
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed {
        return Err(ApiError::not_found(
            "download (unknown, expired or used up)",
        ));
    }
    let d = state.vault().take_download(&path.token, q.format).await?;
    let (content_type, disposition) = match d.format {
        DownloadFormat::Html => ("text/html; charset=utf-8", None),
        DownloadFormat::Json => ("application/json", Some("access-report.json")),
        DownloadFormat::Csv => ("text/csv; charset=utf-8", Some("access-report.csv")),
        DownloadFormat::Zip => ("application/zip", Some("portability.zip")),
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".to_owned(),
            ),
            (header::REFERRER_POLICY, "no-referrer".to_owned()),
        ],
        d.content,
    )
        .into_response();
    if let Some(name) = disposition
        && let Ok(v) = header::HeaderValue::from_str(&format!(
            "attachment; filename=\"{}-{name}\"",
            d.request_id
        ))
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `/v1/recipient-tasks/{task_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    pub task_id: Uuid,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskListParams {
    /// `open` or `done`.
    pub state: Option<String>,
    /// The `next` value of the previous page.
    pub after: Option<String>,
    /// 1 to 500 (default 100).
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_limit() -> u32 {
    100
}

/// Art. 19 tasks: one per recipient that received the data of a subject whose data was
/// rectified, erased or restricted (from the disclosure register), oldest first.
#[utoipa::path(
    get,
    path = "/v1/recipient-tasks",
    tag = "requests",
    operation_id = "listRecipientTasks",
    params(TaskListParams),
    responses((status = 200, description = "A page of tasks", body = RecipientTaskPage)),
)]
pub async fn list_recipient_tasks(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<TaskListParams>,
) -> Result<ApiJson<RecipientTaskPage>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .list_recipient_tasks(&who, q.state.as_deref(), q.after.as_deref(), q.limit)
            .await?,
    ))
}

/// Closes an Art. 19 task once the recipient was told, saying how (audited). 409 if it is
/// closed already.
#[utoipa::path(
    post,
    path = "/v1/recipient-tasks/{task_id}/close",
    tag = "requests",
    operation_id = "closeRecipientTask",
    params(TaskPath),
    request_body = TaskClose,
    responses((status = 200, description = "The closed task", body = RecipientTaskView)),
)]
pub async fn close_recipient_task(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(path): ApiPath<TaskPath>,
    ApiJson(body): ApiJson<TaskClose>,
) -> Result<ApiJson<RecipientTaskView>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .close_recipient_task(&who, path.task_id, &body)
            .await?,
    ))
}
