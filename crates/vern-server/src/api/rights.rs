//! Fulfilment of data-subject rights, for admins and for the request workflow:
//! `POST /v1/subjects/{subject_id}/erasure` (Art. 17, with exceptions and a dry run) and
//! `GET /v1/subjects/{subject_id}/access-report` (Art. 15, as JSON, CSV or HTML, in nb or en).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{RecordPath, SubjectPath};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::vault::{AccessReport, ErasureOutcome, Rectification, RectificationOutcome};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ErasureQuery {
    /// Compute the outcome without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Erases the subject as far as the law allows: records under an erasure exception (e.g.
/// invoices under bookkeeping law) or a legal hold are kept and listed with their legal
/// reference and end date (`outcome = partially_refused`); everything else, the identifiers and,
/// when nothing remains, the key are destroyed; addresses go on the suppression list; the
/// recipients to notify come from the disclosure register.
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/erasure",
    tag = "rights",
    operation_id = "eraseSubjectOnRequest",
    params(SubjectPath, ErasureQuery),
    responses((status = 200, description = "What was erased and what was kept, and why",
        body = ErasureOutcome)),
)]
pub async fn erase_on_request(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiQuery(q): ApiQuery<ErasureQuery>,
) -> Result<ApiJson<ErasureOutcome>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .erase_on_request(&who, p.subject_id, q.dry_run)
            .await?,
    ))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Html,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportLanguage {
    Nb,
    #[default]
    En,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccessReportQuery {
    /// `json` (default), `csv` (one `field,value` row per item) or `html` (a readable page).
    #[serde(default)]
    pub format: ReportFormat,
    /// The report's language: `nb` or `en` (default).
    #[serde(default)]
    pub lang: ReportLanguage,
}

/// The access report (Art. 15(1)-(2)): the data itself, purposes, categories, recipients
/// actually disclosed to, retention per category, sources, profiling, transfers and
/// safeguards, the other rights and the supervisory authority. Refused (403) to a role that
/// cannot read every category the subject has: a report must be complete.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/access-report",
    tag = "rights",
    operation_id = "getAccessReport",
    params(SubjectPath, AccessReportQuery),
    responses((status = 200, description = "The report",
        content(
            (AccessReport = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
        ))),
)]
pub async fn access_report(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
    ApiQuery(q): ApiQuery<AccessReportQuery>,
) -> Result<Response, ApiError> {
    let lang = match q.lang {
        ReportLanguage::Nb => "nb",
        ReportLanguage::En => "en",
    };
    let report = state
        .vault()
        .access_report(&who, p.subject_id, lang)
        .await?;
    Ok(match q.format {
        ReportFormat::Json => ApiJson(report).into_response(),
        ReportFormat::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            super::report_render::csv(&report).map_err(ApiError::internal)?,
        )
            .into_response(),
        ReportFormat::Html => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'",
                ),
            ],
            super::report_render::html(&report),
        )
            .into_response(),
    })
}

/// Rectifies a record (Art. 16): the new value is checked against the policy like any write;
/// the audit entry holds the before and after values sealed under the subject's key (no
/// plaintext in the log; unreadable after erasure). Lists the recipients to notify (Art. 19).
#[utoipa::path(
    post,
    path = "/v1/subjects/{subject_id}/records/{record_id}/rectification",
    tag = "rights",
    operation_id = "rectifyRecord",
    params(RecordPath),
    request_body = Rectification,
    responses((status = 200, description = "The corrected record, before and after",
        body = RectificationOutcome)),
)]
pub async fn rectify(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<RecordPath>,
    ApiJson(body): ApiJson<Rectification>,
) -> Result<ApiJson<RectificationOutcome>, ApiError> {
    Ok(ApiJson(
        state
            .vault()
            .rectify_record(&who, p.subject_id, p.record_id, &body)
            .await?,
    ))
}

/// The portability package (Art. 20): a ZIP with `data.json` (schema in
/// `docs/portability.md`, W3C DPV terms), `records.csv` and `README.txt`, holding the data the
/// subject provided and the data observed about them, under consent or a contract.
#[utoipa::path(
    get,
    path = "/v1/subjects/{subject_id}/portability",
    tag = "rights",
    operation_id = "getPortabilityPackage",
    params(SubjectPath),
    responses((status = 200, description = "The ZIP package",
        content((Vec<u8> = "application/zip")))),
)]
pub async fn portability(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiPath(p): ApiPath<SubjectPath>,
) -> Result<Response, ApiError> {
    let zip = state
        .vault()
        .portability_package(&who, p.subject_id)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"vern-portability-{}.zip\"",
                    p.subject_id
                ),
            ),
        ],
        zip,
    )
        .into_response())
}
