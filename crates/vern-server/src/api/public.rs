//! Public, unauthenticated pages derived from the policy: the sub-processor overview the seed
//! promises "on request" (S36), as JSON and as an HTML page. No personal data.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vern_policy::model::RecipientKind;

use crate::AppState;
use crate::json::ApiJson;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubprocessorEntry {
    pub id: String,
    pub name: String,
    /// `processor` or `sub_processor`.
    pub kind: String,
    /// What they do for us, in the requested language.
    pub service: String,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub in_eea: bool,
    /// The transfer safeguard outside the EEA, in words.
    pub transfer: Option<String>,
    /// `YYYY-MM-DD` of the data processing agreement.
    pub dpa_date: Option<String>,
    /// The processor that engages this sub-processor.
    pub processor: Option<String>,
    pub categories: Vec<String>,
    /// For one announced in a published policy version not yet in force: when it starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// `nb` or `en` (default: the policy's first language).
    #[param(value_type = Option<String>, example = "nb")]
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Nb,
    En,
}

pub(crate) fn entries(state: &AppState, lang: &str) -> Vec<SubprocessorEntry> {
    let current = state.vault().policy();
    let today = state.vault().clock().now().date();
    let mut out = processors(&current, lang, today, None);
    // Announced ones (a scheduled version adds them) are listed with their start date: the
    // overview is where customers and subjects learn of them in advance.
    for (policy, starts) in state.vault().scheduled_policies() {
        let starts = starts.date().to_string();
        for e in processors(&policy, lang, today, Some(starts)) {
            if !out.iter().any(|o| o.id == e.id) {
                out.push(e);
            }
        }
    }
    out
}

fn processors(
    policy: &vern_policy::Policy,
    lang: &str,
    today: time::Date,
    starts_at: Option<String>,
) -> Vec<SubprocessorEntry> {
    policy
        .raw
        .recipients
        .iter()
        .filter(|r| {
            matches!(
                r.kind.get_ref(),
                RecipientKind::Processor | RecipientKind::SubProcessor
            )
        })
        .map(|r| {
            let country = r.country.as_ref().map(|c| c.get_ref().clone());
            SubprocessorEntry {
                id: r.id.get_ref().clone(),
                name: r.name.get_ref().clone(),
                kind: match r.kind.get_ref() {
                    RecipientKind::SubProcessor => "sub_processor".into(),
                    _ => "processor".into(),
                },
                service: policy.text(&r.description, lang).to_owned(),
                in_eea: country
                    .as_deref()
                    .is_some_and(vern_policy::adequacy::is_eea),
                transfer: vern_core::disclosure::transfer_safeguard(r, today).unwrap_or_else(Some),
                country,
                dpa_date: r.dpa_date.as_ref().map(|d| d.get_ref().to_string()),
                processor: r.processor.as_ref().map(|p| p.get_ref().clone()),
                categories: r
                    .categories
                    .get_ref()
                    .iter()
                    .map(|c| c.get_ref().clone())
                    .collect(),
                starts_at: starts_at.clone(),
            }
        })
        .collect()
}

fn lang_of(state: &AppState, q: LangQuery) -> String {
    match q.lang {
        Some(Lang::Nb) => "nb".into(),
        Some(Lang::En) => "en".into(),
        None => state
            .vault()
            .policy()
            .raw
            .languages
            .get_ref()
            .first()
            .map_or_else(|| "en".into(), |l| l.get_ref().clone()),
    }
}

/// The processors and sub-processors that handle personal data for us, where they are, and
/// the safeguard for transfers outside the EEA.
#[utoipa::path(
    get,
    path = "/v1/public/subprocessors",
    tag = "public",
    operation_id = "listSubprocessors",
    security(),
    params(LangQuery),
    responses((status = 200, description = "The sub-processor overview", body = Vec<SubprocessorEntry>)),
)]
pub async fn subprocessors_json(
    State(state): State<AppState>,
    crate::json::ApiQuery(q): crate::json::ApiQuery<LangQuery>,
) -> ApiJson<Vec<SubprocessorEntry>> {
    let lang = lang_of(&state, q);
    ApiJson(entries(&state, &lang))
}

/// The same overview as a standalone HTML page.
#[utoipa::path(
    get,
    path = "/public/subprocessors",
    tag = "public",
    operation_id = "subprocessorsPage",
    security(),
    params(LangQuery),
    responses((status = 200, description = "HTML page", content_type = "text/html")),
)]
pub async fn subprocessors_html(
    State(state): State<AppState>,
    crate::json::ApiQuery(q): crate::json::ApiQuery<LangQuery>,
) -> Response {
    let lang = lang_of(&state, q);
    let rows = entries(&state, &lang);
    let nb = lang == "nb";
    let (title, cols, none) = if nb {
        (
            "Underleverandører (databehandlere)",
            [
                "Navn",
                "Tjeneste",
                "Land",
                "Overføringsgrunnlag",
                "Databehandleravtale",
            ],
            "innenfor EØS",
        )
    } else {
        (
            "Sub-processors",
            [
                "Name",
                "Service",
                "Country",
                "Transfer safeguard",
                "Data processing agreement",
            ],
            "within the EEA",
        )
    };
    let controller = escape(state.vault().policy().raw.controller.name.get_ref());
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – {controller}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n\
         <p>{controller}</p>\n<table>\n<thead><tr>"
    );
    for c in cols {
        html.push_str(&format!("<th scope=\"col\">{c}</th>"));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for r in &rows {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&r.name),
            escape(&r.service),
            escape(r.country.as_deref().unwrap_or("")),
            escape(r.transfer.as_deref().unwrap_or(none)),
            escape(r.dpa_date.as_deref().unwrap_or("")),
        ));
    }
    html.push_str("</tbody>\n</table>\n</main>\n</body>\n</html>\n");
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
