//! The OpenAPI 3.1 document: built from the handlers' `#[utoipa::path]` annotations (see
//! `api`), then completed here with what applies to every operation — the bearer security
//! scheme, the global security requirement, and the problem+json error responses each
//! operation can give — so that handlers cannot forget to document them.

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Tag,
};
use utoipa::{PartialSchema, ToSchema};

use crate::error::{FieldError, PROBLEM_JSON, Problem};

/// Name of the security scheme in `components.securitySchemes`.
pub const BEARER: &str = "bearer";

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
        ("tokens", "API tokens and their roles"),
        ("audit", "The hash-chained audit log"),
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
