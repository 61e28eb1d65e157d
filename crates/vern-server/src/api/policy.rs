//! `/v1/policy/versions`: publishing policy versions (admin roles), the public change notices,
//! sub-processors added over the API and the processor customers told about them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::subjects::created;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::vault::{
    PolicyPublishInput, PolicyVersionView, ProcessorCustomerInput, ProcessorCustomerView,
    PublicNoticeView, SubprocessorAdded, SubprocessorInput, SubprocessorNoticeView,
    SubprocessorObjectionInput, SubprocessorObjectionView,
};

/// Publishes a new policy version. The policy is validated (422 with located errors) and
/// compared with the latest version: material changes need an effective date at least the
/// policy's notice period ahead, queue a change notice to every affected subject and mark the
/// consents they widen as needing renewal from that date; editorial changes publish with no
/// notice. 409 if nothing changed.
#[utoipa::path(
    post,
    path = "/v1/policy/versions",
    tag = "policy",
    operation_id = "publishPolicyVersion",
    request_body = PolicyPublishInput,
    responses((status = 201, description = "Published", body = PolicyVersionView)),
)]
pub async fn publish_version(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<PolicyPublishInput>,
) -> Result<Response, ApiError> {
    let view = state.vault().publish_policy(&who, &input).await?;
    let location = format!("/v1/policy/versions/{}", view.id);
    Ok(created(StatusCode::CREATED, location, view))
}

/// Every policy version, oldest first, with its changes and notice delivery counts.
#[utoipa::path(
    get,
    path = "/v1/policy/versions",
    tag = "policy",
    operation_id = "listPolicyVersions",
    responses((status = 200, description = "The versions", body = Vec<PolicyVersionView>)),
)]
pub async fn list_versions(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<Vec<PolicyVersionView>>, ApiError> {
    Ok(ApiJson(state.vault().policy_versions(&who).await?))
}

/// The website notices of material policy changes, newest first (public).
#[utoipa::path(
    get,
    path = "/v1/public/notices",
    tag = "public",
    operation_id = "listPolicyNotices",
    security(),
    responses((status = 200, description = "The notices", body = Vec<PublicNoticeView>)),
)]
pub async fn public_notices(State(state): State<AppState>) -> ApiJson<Vec<PublicNoticeView>> {
    ApiJson(state.vault().public_notices())
}

/// Adds a sub-processor: a new policy version with the recipient added, after the transfer
/// check (outside the EEA: an adequacy decision valid on the DPA date, SCCs or BCRs; otherwise
/// 422). Every processor customer gets advance notice with its objection window.
#[utoipa::path(
    post,
    path = "/v1/subprocessors",
    tag = "policy",
    operation_id = "addSubprocessor",
    request_body = SubprocessorInput,
    responses((status = 201, description = "Added as a new policy version", body = SubprocessorAdded)),
)]
pub async fn add_subprocessor(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<SubprocessorInput>,
) -> Result<Response, ApiError> {
    let added = state.vault().add_subprocessor(&who, &input).await?;
    let location = format!("/v1/policy/versions/{}", added.version.id);
    Ok(created(StatusCode::CREATED, location, added))
}

/// Records a customer for whom we are a processor (their DPA with us).
#[utoipa::path(
    post,
    path = "/v1/processor-customers",
    tag = "policy",
    operation_id = "addProcessorCustomer",
    request_body = ProcessorCustomerInput,
    responses((status = 201, description = "Recorded", body = ProcessorCustomerView)),
)]
pub async fn add_customer(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<ProcessorCustomerInput>,
) -> Result<Response, ApiError> {
    let view = state.vault().add_processor_customer(&who, &input).await?;
    let location = format!("/v1/processor-customers/{}", view.id);
    Ok(created(StatusCode::CREATED, location, view))
}

#[utoipa::path(
    get,
    path = "/v1/processor-customers",
    tag = "policy",
    operation_id = "listProcessorCustomers",
    responses((status = 200, description = "The customers", body = Vec<ProcessorCustomerView>)),
)]
pub async fn list_customers(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<Vec<ProcessorCustomerView>>, ApiError> {
    Ok(ApiJson(state.vault().processor_customers(&who).await?))
}

/// Advance notices of new sub-processors sent to processor customers.
#[utoipa::path(
    get,
    path = "/v1/processor-customers/notices",
    tag = "policy",
    operation_id = "listSubprocessorNotices",
    responses((status = 200, description = "The notices", body = Vec<SubprocessorNoticeView>)),
)]
pub async fn list_sp_notices(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<Vec<SubprocessorNoticeView>>, ApiError> {
    Ok(ApiJson(state.vault().subprocessor_notices(&who).await?))
}

/// Records a customer's objection to a new sub-processor (within its objection window).
#[utoipa::path(
    post,
    path = "/v1/processor-customers/objections",
    tag = "policy",
    operation_id = "recordSubprocessorObjection",
    request_body = SubprocessorObjectionInput,
    responses((status = 201, description = "Recorded", body = SubprocessorObjectionView)),
)]
pub async fn record_objection(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<SubprocessorObjectionInput>,
) -> Result<Response, ApiError> {
    let view = state
        .vault()
        .record_subprocessor_objection(&who, &input)
        .await?;
    let location = format!("/v1/processor-customers/{}", view.customer_id);
    Ok(created(StatusCode::CREATED, location, view))
}

#[utoipa::path(
    get,
    path = "/v1/processor-customers/objections",
    tag = "policy",
    operation_id = "listSubprocessorObjections",
    responses((status = 200, description = "The objections", body = Vec<SubprocessorObjectionView>)),
)]
pub async fn list_objections(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> Result<ApiJson<Vec<SubprocessorObjectionView>>, ApiError> {
    Ok(ApiJson(state.vault().subprocessor_objections(&who).await?))
}
