//! The `/v1` JSON API. Each resource has its own module of handlers annotated with
//! `#[utoipa::path]`, registered through `utoipa_axum`'s `routes!`, so a route cannot exist
//! without its place in the OpenAPI document (and the reverse).

pub mod audit;
mod bulk_body;
mod bulk_fast;
pub mod consent;
pub mod decisions;
pub mod disclosures;
pub mod events;
pub mod gdpr_api;
pub mod health;
pub mod idempotency;
pub mod identifiers;
pub mod jobs;
pub mod lookup;
pub mod outbox;
pub mod policy;
pub mod public;
pub mod records;
pub mod report_render;
pub mod requests;
pub mod retention;
pub mod rights;
pub mod subjects;
pub mod tokens;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;

/// Every documented route of the server, with the spec built from the handlers.
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(subjects::create_subject, subjects::list_subjects))
        .routes(routes!(
            subjects::get_subject,
            subjects::update_subject,
            subjects::erase_subject
        ))
        .routes(routes!(
            identifiers::add_identifier,
            identifiers::list_identifiers
        ))
        .routes(routes!(identifiers::delete_identifier))
        .routes(routes!(records::add_record, records::list_records))
        .routes(routes!(
            records::get_record,
            records::update_record,
            records::delete_record
        ))
        .routes(routes!(rights::erase_on_request))
        .routes(routes!(rights::access_report))
        .routes(routes!(rights::rectify))
        .routes(routes!(rights::portability))
        .routes(routes!(gdpr_api::query, gdpr_api::delete))
        .routes(routes!(lookup::lookup))
        .routes(routes!(retention::create_hold, retention::list_holds))
        .routes(routes!(retention::release_hold))
        .routes(routes!(retention::subject_retention))
        .routes(routes!(retention::preview))
        .routes(routes!(retention::run))
        .routes(routes!(consent::expire_consents))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(outbox::list_outbox))
        .routes(routes!(outbox::get_message))
        .routes(routes!(outbox::send_test))
        .routes(routes!(tokens::create_token, tokens::list_tokens))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(disclosures::record_disclosure))
        .routes(routes!(disclosures::list_subject_disclosures))
        .routes(routes!(public::subprocessors_json))
        .routes(routes!(public::subprocessors_html))
        .routes(routes!(policy::publish_version, policy::list_versions))
        .routes(routes!(policy::public_notices))
        .routes(routes!(policy::add_subprocessor))
        .routes(routes!(policy::add_customer, policy::list_customers))
        .routes(routes!(policy::list_sp_notices))
        .routes(routes!(policy::record_objection, policy::list_objections))
        .routes(routes!(consent::record_consent, consent::get_consents))
        .routes(routes!(consent::consent_history))
        .routes(routes!(consent::export_consents))
        .routes(routes!(consent::record_objection))
        .routes(routes!(consent::record_grounds))
        .routes(routes!(consent::set_restriction))
        .routes(routes!(consent::jwks))
        .routes(routes!(requests::submit_request, requests::list_requests))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::act_on_request))
        .routes(routes!(requests::get_download))
        .routes(routes!(requests::list_recipient_tasks))
        .routes(routes!(requests::close_recipient_task))
        .routes(routes!(
            requests::verification_page,
            requests::verify_request
        ))
        .routes(routes!(decisions::decide))
        .routes(routes!(decisions::get_decision))
        .routes(routes!(events::ingest_events))
        .routes(routes!(events::event_drops))
        .routes(routes!(events::get_profile))
        .routes(routes!(events::gpc_json))
        // A bulk call carries up to 100,000 recipients: it gets a body limit of its own.
        .routes(decisions::with_bulk_limit(routes!(decisions::decide_bulk)))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(health::openapi_json))
}

/// `/v1/subjects/{subject_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubjectPath {
    /// The subject's id (UUIDv7).
    pub subject_id: Uuid,
}

/// `/v1/subjects/{subject_id}/records/{record_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    pub subject_id: Uuid,
    pub record_id: Uuid,
}

/// `/v1/subjects/{subject_id}/identifiers/{identifier_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdentifierPath {
    pub subject_id: Uuid,
    pub identifier_id: Uuid,
}

/// `/v1/tokens/{token_id}`
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    pub token_id: Uuid,
}
