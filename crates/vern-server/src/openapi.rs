//! The OpenAPI 3.1 document: built from the handlers' `#[utoipa::path]` annotations (see
//! `api`), then completed here with what applies to every operation — the bearer security
//! scheme, the global security requirement, and the problem+json error responses each
//! operation can give — so that handlers cannot forget to document them.

use serde_json::Value;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Tag,
};
use utoipa::{PartialSchema, ToSchema};
use vern_policy::Policy;

use crate::error::{FieldError, PROBLEM_JSON, Problem};

/// Name of the security scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";
/// Name of the OIDC JWT scheme (the Helsinki GDPR API).
pub const OIDC: &str = "oidc";

/// The document before the handlers add their paths.
pub fn base() -> OpenApi {
    let info = InfoBuilder::new()
        .title("vern API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Personal data held under a privacy policy: subjects, identifiers and records, \
             checked against the policy on every write, encrypted per subject, audited on every \
             read and write. Errors are RFC 9457 problem documents.",
        ))
        .build();
    let components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vern API token")
                    .description(Some(
                        "An API token (`vern_…`) created with `POST /v1/tokens`",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            OIDC,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An OIDC access token (RS256/ES256) of a trusted issuer, for the \
                         Helsinki GDPR API",
                    ))
                    .build(),
            ),
        )
        .schema(Problem::name(), Problem::schema())
        .schema(FieldError::name(), FieldError::schema())
        .build();
    let tags = [
        ("subjects", "Data subjects, lookup by identifier, erasure"),
        (
            "identifiers",
            "Email, phone and other identifiers of a subject",
        ),
        (
            "records",
            "Personal-data records, checked against the policy",
        ),
        (
            "rights",
            "Fulfilment of data-subject rights: erasure with exceptions",
        ),
        ("tokens", "API tokens and their roles"),
        (
            "retention",
            "Retention status, legal holds, preview and sweeps",
        ),
        (
            "jobs",
            "The job queue: sweeps, mail, reminders; dead letters",
        ),
        (
            "outbox",
            "Outgoing mail: queued, sent and failed messages; a test message",
        ),
        ("audit", "The hash-chained audit log"),
        (
            "policy",
            "Policy versions, change notices, sub-processors and processor customers",
        ),
        (
            "consent",
            "Consent ledger, objections, restriction and the auditors' export",
        ),
        (
            "decisions",
            "May this be done: purpose, channel and message class",
        ),
        (
            "requests",
            "Data-subject requests: receipt, identity, deadlines, outcomes",
        ),
        (
            "gdpr-api",
            "The Helsinki profile GDPR API (OIDC tokens with scopes)",
        ),
        ("operations", "Health, readiness, metrics and this document"),
    ]
    .into_iter()
    .map(|(name, description)| {
        let mut tag = Tag::new(name);
        tag.description = Some(description.to_owned());
        tag
    })
    .collect::<Vec<_>>();
    OpenApiBuilder::new()
        .info(info)
        .components(Some(components))
        .security(Some(vec![SecurityRequirement::new(
            BEARER,
            Vec::<String>::new(),
        )]))
        .tags(Some(tags))
        .build()
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build()
}

/// The shared error responses, by status.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "The request could not be read (malformed JSON, invalid UTF-8)",
    ),
    ("401", "No valid API token"),
    (
        "403",
        "The token's role may not do this, or not with this category",
    ),
    ("404", "No such resource"),
    (
        "409",
        "Conflicts with stored data (e.g. an identifier already registered)",
    ),
    ("413", "The request body is larger than the server accepts"),
    ("415", "The body is not `application/json`"),
    (
        "422",
        "The request breaks the schema or the policy; `errors` names each field",
    ),
    ("500", "The server failed; the cause is logged"),
    ("503", "The request timed out or the service is not ready"),
];

/// The operations behind a rate limit (see `crate::ratelimit`), which may answer 429.
const RATE_LIMITED: &[(&str, &str)] = &[
    ("post", "/v1/requests"),
    ("post", "/v1/request-verifications/{token}"),
];

/// 429 with `Retry-After`, for the rate-limited operations.
fn too_many_response() -> Response {
    let mut r = problem_response(
        "Too many attempts from this client network (its /24 or /64), or too many code \
         attempts for this request; retry after the `Retry-After` seconds",
    );
    r.headers.insert(
        "Retry-After".to_owned(),
        RefOr::T(
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(u64::schema()))
                .description(Some("Whole seconds until the next attempt is allowed"))
                .build(),
        ),
    );
    r
}

/// Adds the problem responses each operation can give, and makes the operational endpoints
/// (`security()` in their annotation) explicitly unauthenticated.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        for (method, op) in [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("patch", &mut item.patch),
            ("put", &mut item.put),
            ("delete", &mut item.delete),
        ] {
            let Some(op) = op.as_mut() else { continue };
            let secured = !matches!(&op.security, Some(s) if s.is_empty() || s.iter().all(is_empty_requirement));
            if !secured {
                op.security = Some(Vec::new());
            }
            let has_body = op.request_body.is_some();
            let has_query = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter().any(|p| {
                    matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
                })
            });
            let mut codes: Vec<&str> = vec!["500", "503"];
            if secured {
                codes.extend(["401", "403", "404"]);
            } else if has_path_params {
                // A public resource named in the path (a verification link) may not exist.
                codes.push("404");
            }
            if has_body {
                codes.extend(["400", "413", "415", "422"]);
            }
            if has_path_params || has_query {
                codes.push("422");
            }
            if method == "post" && secured {
                codes.push("409");
            }
            if RATE_LIMITED.contains(&(method, path.as_str())) {
                op.responses
                    .responses
                    .entry("429".to_owned())
                    .or_insert_with(|| RefOr::T(too_many_response()));
            }
            for (code, description) in ERRORS {
                if codes.contains(code) {
                    op.responses
                        .responses
                        .entry((*code).to_owned())
                        .or_insert_with(|| RefOr::T(problem_response(description)));
                }
            }
        }
    }
    doc
}

fn is_empty_requirement(r: &SecurityRequirement) -> bool {
    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

/// The finished document, without a running server (for `vern openapi` and tests).
pub fn document() -> OpenApi {
    let (_, doc) = crate::api::openapi_router().split_for_parts();
    finish(doc)
}

/// The document as served: [`finish`]ed, then narrowed by the loaded policy, so the valid
/// subject types, categories, purposes, sources, bases and roles are listed as enums and
/// clients (and property-based testers) can tell a policy value from a typo. Rules that join
/// several fields (a category allowed for a purpose) stay with the server: a schema-valid
/// request can still be refused with 422.
pub fn document_json(doc: OpenApi, policy: &Policy) -> serde_json::Value {
    let mut json = serde_json::to_value(finish(doc)).unwrap_or_default();
    apply_policy(&mut json, policy);
    json
}

fn apply_policy(doc: &mut Value, policy: &Policy) {
    let ids = |items: Vec<&str>| -> Vec<Value> { items.into_iter().map(Value::from).collect() };
    let raw = &policy.raw;
    let subject_types = ids(raw
        .subject_types
        .iter()
        .map(|t| t.id.get_ref().as_str())
        .collect());
    // Records are stored under leaf categories only.
    let categories = ids(raw
        .categories
        .iter()
        .map(|c| c.id.get_ref().as_str())
        .filter(|id| policy.categories_under(id).nth(1).is_none())
        .collect());
    let purposes = ids(raw
        .purposes
        .iter()
        .map(|p| p.id.get_ref().as_str())
        .collect());
    let sources = ids(raw
        .sources
        .iter()
        .map(|s| s.id.get_ref().as_str())
        .collect());
    let mut bases: Vec<&str> = raw
        .purposes
        .iter()
        .map(|p| vern_core::records::legal_basis_name(*p.legal_basis.get_ref()))
        .collect();
    bases.sort_unstable();
    bases.dedup();
    let bases = ids(bases);
    let roles = ids(raw.roles.iter().map(|r| r.id.get_ref().as_str()).collect());

    let Some(schemas) = doc.get_mut("components").and_then(|c| c.get_mut("schemas")) else {
        return;
    };
    for (schema, field, values) in [
        ("SubjectInput", "subject_type", &subject_types),
        ("SubjectPatch", "subject_type", &subject_types),
        ("RecordInput", "category", &categories),
        ("RecordPatch", "category", &categories),
        ("RecordInput", "source", &sources),
        ("RecordPatch", "source", &sources),
        ("RecordInput", "legal_basis", &bases),
        ("RecordPatch", "legal_basis", &bases),
        ("TokenInput", "role", &roles),
    ] {
        if let Some(p) = property(schemas, schema, field) {
            set_enum(p, values);
        }
    }
    for schema in ["RecordInput", "RecordPatch"] {
        if let Some(p) = property(schemas, schema, "purposes") {
            p["minItems"] = Value::from(1);
            if let Some(items) = p.get_mut("items") {
                set_enum(items, &purposes);
            }
        }
    }
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut);
    for (_, item) in paths.into_iter().flatten() {
        for (_, op) in item.as_object_mut().into_iter().flatten() {
            // `get_mut`, not indexing: `op["parameters"]` would insert a `null` where none is.
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for param in params.into_iter().flatten() {
                if param["name"] == "Idempotency-Key" {
                    param["schema"] = serde_json::json!({
                        "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"
                    });
                }
            }
        }
    }
}

/// A property of a component schema, if both exist.
fn property<'a>(schemas: &'a mut Value, schema: &str, field: &str) -> Option<&'a mut Value> {
    schemas
        .get_mut(schema)?
        .get_mut("properties")?
        .get_mut(field)
}

/// Restricts a string property to `values` (keeping `null` allowed where the type allows it).
fn set_enum(property: &mut Value, values: &[Value]) {
    let nullable = property["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "null"));
    let mut values = values.to_vec();
    if nullable {
        values.push(Value::Null);
    }
    property["enum"] = Value::Array(values);
}
