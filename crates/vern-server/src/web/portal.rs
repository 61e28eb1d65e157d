//! The self-service privacy portal: the notice, exercising rights (request, confirm with the
//! code from the mail, follow the status), marketing and profiling preferences after proving
//! control of an address, the sub-processor overview and the policy's versions.
//!
//! The portal never reveals whether an address is known: submitting a request and asking for
//! a preferences link answer the same page either way.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;
use vern_core::dsr::{Right, State as DsrState};

use super::{
    Area, Chrome, Ctx, PORTAL_COOKIE, SessionKind, WebError, WebResult, append_cookie, cookie_line,
    page, see_other, when,
};
use crate::AppState;
use crate::api::public::SubprocessorEntry;
use crate::vault::{
    Channel, ConsentInput, ConsentRequestMeta, IdentifierInput, Lang as ReqLang, ObjectionInput,
    RequestInput, RequestView,
};

/// A policy version as the portal shows it.
pub struct VersionLine {
    pub effective: String,
    pub in_force: bool,
    pub changes: Vec<String>,
    pub renewal_scopes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "portal/home.html")]
struct Home {
    c: Chrome,
    controller: String,
    versions: Vec<VersionLine>,
    policy_hash: String,
}

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Response {
    let policy = state.vault().policy();
    let mut versions: Vec<VersionLine> = state
        .vault()
        .public_notices()
        .into_iter()
        .map(|n| VersionLine {
            effective: n.effective_at.date().to_string(),
            in_force: n.in_force,
            changes: n.changes,
            renewal_scopes: n
                .renewal_scopes
                .iter()
                .map(|s| scope_name(&policy, s, ctx.lang))
                .collect(),
        })
        .collect();
    versions.sort_by(|a, b| b.effective.cmp(&a.effective));
    page(&Home {
        c: Chrome::new(&ctx, ctx.t("portal_title"), Area::Portal),
        controller: policy.raw.controller.name.get_ref().clone(),
        versions,
        policy_hash: policy.content_hash.chars().take(12).collect(),
    })
}

fn scope_name(policy: &vern_policy::Policy, id: &str, lang: super::Lang) -> String {
    policy.consent_scope(id).map_or_else(
        || id.to_owned(),
        |s| policy.text(&s.name, lang.as_str()).to_owned(),
    )
}

#[derive(askama::Template)]
#[template(path = "portal/notice.html")]
struct Notice {
    c: Chrome,
    body: String,
}

pub async fn notice(State(state): State<AppState>, ctx: Ctx) -> Response {
    let policy = state.vault().policy();
    let lang = match ctx.lang {
        super::Lang::Nb => vern_policy::render::Lang::Nb,
        super::Lang::En => vern_policy::render::Lang::En,
    };
    let html = vern_policy::render::render_notice(&policy, lang, vern_policy::render::Format::Html);
    // The renderer escapes every policy text; only its <main> content is kept.
    let body = html
        .split_once("<main>")
        .and_then(|(_, rest)| rest.split_once("</main>"))
        .map_or_else(String::new, |(inner, _)| inner.to_owned());
    page(&Notice {
        c: Chrome::new(&ctx, ctx.t("notice_title"), Area::Portal),
        body,
    })
}

#[derive(askama::Template)]
#[template(path = "portal/subprocessors.html")]
struct Subprocessors {
    c: Chrome,
    rows: Vec<SubprocessorEntry>,
}

pub async fn subprocessors(State(state): State<AppState>, ctx: Ctx) -> Response {
    let rows = crate::api::public::entries(&state, ctx.lang.as_str());
    page(&Subprocessors {
        c: Chrome::new(&ctx, ctx.t("sp_title"), Area::Portal),
        rows,
    })
}

/// The rights a person can ask for, in order, with their label keys.
const RIGHTS: [(Right, &str); 6] = [
    (Right::Access, "right_access"),
    (Right::Portability, "right_portability"),
    (Right::Rectification, "right_rectification"),
    (Right::Erasure, "right_erasure"),
    (Right::Restriction, "right_restriction"),
    (Right::Objection, "right_objection"),
];

pub struct RightOption {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

#[derive(askama::Template)]
#[template(path = "portal/rights.html")]
struct Rights {
    c: Chrome,
    options: Vec<RightOption>,
    email: String,
    details: String,
    error: Option<String>,
    sent: bool,
}

#[derive(Debug, Deserialize)]
pub struct SentQuery {
    #[serde(default)]
    sent: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

fn right_options(ctx: &Ctx, chosen: &[Right]) -> Vec<RightOption> {
    RIGHTS
        .iter()
        .map(|(r, key)| RightOption {
            id: r.as_str(),
            label: ctx.t(key),
            hint: ctx.t(&format!("{key}_hint")),
            checked: chosen.contains(r),
        })
        .collect()
}

pub async fn rights_form(ctx: Ctx, Query(q): Query<SentQuery>) -> Response {
    page(&Rights {
        c: Chrome::new(&ctx, ctx.t("rights_title"), Area::Portal),
        options: right_options(&ctx, &[]),
        email: String::new(),
        details: String::new(),
        error: None,
        sent: q.sent.is_some(),
    })
}

#[derive(Deserialize)]
pub struct RightsForm {
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    right_access: Option<String>,
    #[serde(default)]
    right_portability: Option<String>,
    #[serde(default)]
    right_rectification: Option<String>,
    #[serde(default)]
    right_erasure: Option<String>,
    #[serde(default)]
    right_restriction: Option<String>,
    #[serde(default)]
    right_objection: Option<String>,
}

pub async fn rights_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<RightsForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let mut rights = Vec::new();
    for (on, r) in [
        (&form.right_access, Right::Access),
        (&form.right_portability, Right::Portability),
        (&form.right_rectification, Right::Rectification),
        (&form.right_erasure, Right::Erasure),
        (&form.right_restriction, Right::Restriction),
        (&form.right_objection, Right::Objection),
    ] {
        if on.is_some() {
            rights.push(r);
        }
    }
    let email = form.email.trim().to_owned();
    let again = |error: String, rights: &[Right]| {
        let mut r = page(&Rights {
            c: Chrome::new(&ctx, ctx.t("rights_title"), Area::Portal),
            options: right_options(&ctx, rights),
            email: email.clone(),
            details: form.details.clone(),
            error: Some(error),
            sent: false,
        });
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    };
    if rights.is_empty() {
        return Ok(again(ctx.t("err_no_right").to_owned(), &rights));
    }
    if !crate::mail::valid_address(&email) {
        return Ok(again(ctx.t("err_email").to_owned(), &rights));
    }
    let details = form.details.trim();
    let input = RequestInput {
        rights: rights.clone(),
        identifiers: vec![IdentifierInput {
            kind: "email".into(),
            value: email.clone(),
        }],
        lang: match ctx.lang {
            super::Lang::Nb => ReqLang::Nb,
            super::Lang::En => ReqLang::En,
        },
        channel: Channel::Web,
        received_at: None,
        staff_verification: None,
        id_token: None,
        details: (!details.is_empty()).then(|| details.to_owned()),
    };
    let who = state.vault().portal_principal().map_err(|e| ctx.fail(e))?;
    match state.vault().submit_request(&who, &input, None).await {
        Ok(_) => Ok(see_other("/rights?sent=1")),
        Err(crate::vault::VaultError::Validation(fields)) => Ok(again(
            fields
                .iter()
                .map(|f| f.reason.clone())
                .collect::<Vec<_>>()
                .join("; "),
            &rights,
        )),
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(askama::Template)]
#[template(path = "portal/confirm.html")]
struct Confirm {
    c: Chrome,
    token: String,
    error: Option<String>,
}

fn token_ok(token: &str) -> bool {
    (1..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The page the verification link opens (also served at the API's link path): it asks for the
/// code and changes nothing.
pub fn confirm_page(ctx: &Ctx, token: &str, error: Option<String>) -> Response {
    page(&Confirm {
        c: Chrome::new(ctx, ctx.t("confirm_title"), Area::Portal),
        token: token.to_owned(),
        error,
    })
}

pub async fn confirm_form(ctx: Ctx, Path(token): Path<String>) -> WebResult {
    if !token_ok(&token) {
        return Err(WebError::new(
            &ctx,
            StatusCode::NOT_FOUND,
            ctx.t("err_link").to_owned(),
        ));
    }
    Ok(confirm_page(&ctx, &token, None))
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<CodeForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    if !token_ok(&token) {
        return Err(WebError::new(
            &ctx,
            StatusCode::NOT_FOUND,
            ctx.t("err_link").to_owned(),
        ));
    }
    let vault = state.vault();
    let request = vault
        .verification_request(&token)
        .await
        .map_err(|e| ctx.fail(e))?;
    match vault.verify_request_link(&token, form.code.trim()).await {
        Ok(_) => {
            let Some(request) = request else {
                return Err(WebError::new(
                    &ctx,
                    StatusCode::NOT_FOUND,
                    ctx.t("err_link").to_owned(),
                ));
            };
            Ok(remember_request(&state, &ctx, request, "/status"))
        }
        Err(crate::vault::VaultError::Validation(_)) => {
            let mut r = confirm_page(&ctx, &token, Some(ctx.t("err_code").to_owned()));
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(crate::vault::VaultError::NotFound(_)) => Err(WebError::new(
            &ctx,
            StatusCode::NOT_FOUND,
            ctx.t("err_link").to_owned(),
        )),
        Err(e) => Err(ctx.fail(e)),
    }
}

/// Adds a confirmed request to the person's portal session (starting one) and redirects.
fn remember_request(state: &AppState, ctx: &Ctx, request: Uuid, to: &str) -> Response {
    let web = state.web();
    if let Some(id) = &ctx.portal_cookie
        && let Some(s) = web.get(id)
        && let SessionKind::Portal {
            subject,
            mut requests,
        } = s.kind
    {
        if !requests.contains(&request) {
            requests.push(request);
        }
        web.update(id, SessionKind::Portal { subject, requests });
        return see_other(to);
    }
    let id = web.start(SessionKind::Portal {
        subject: None,
        requests: vec![request],
    });
    let mut r = see_other(to);
    append_cookie(&mut r, &cookie_line(PORTAL_COOKIE, &id, ctx.secure, None));
    r
}

/// The person's portal session, if any.
fn portal_session(state: &AppState, ctx: &Ctx) -> Option<(String, Option<Uuid>, Vec<Uuid>)> {
    let id = ctx.portal_cookie.as_ref()?;
    let s = state.web().get(id)?;
    match s.kind {
        SessionKind::Portal { subject, requests } => Some((id.clone(), subject, requests)),
        SessionKind::Admin { .. } => None,
    }
}

pub struct StatusLine {
    pub view: RequestView,
    pub state_label: &'static str,
    pub rights: String,
    pub closed: bool,
    pub report: bool,
}

#[derive(askama::Template)]
#[template(path = "portal/status.html")]
struct Status {
    c: Chrome,
    lines: Vec<StatusLine>,
}

pub fn state_key(s: DsrState) -> &'static str {
    match s {
        DsrState::Received => "st_received",
        DsrState::AwaitingIdentity => "st_awaiting_identity",
        DsrState::InProgress => "st_in_progress",
        DsrState::Extended => "st_extended",
        DsrState::Completed => "st_completed",
        DsrState::PartiallyRefused => "st_partially_refused",
        DsrState::Refused => "st_refused",
        DsrState::UnableToIdentify => "st_unable_to_identify",
        DsrState::Withdrawn => "st_withdrawn",
    }
}

pub fn rights_text(ctx_lang: super::Lang, rights: &[Right]) -> String {
    rights
        .iter()
        .map(|r| {
            let key = RIGHTS
                .iter()
                .find(|(x, _)| x == r)
                .map_or("right_access", |(_, k)| *k);
            super::i18n::t(ctx_lang, key)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn status(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let mut lines = Vec::new();
    if let Some((_, _, requests)) = portal_session(&state, &ctx) {
        for id in requests {
            let view = state
                .vault()
                .request_status(id)
                .await
                .map_err(|e| ctx.fail(e))?;
            let closed = view.closed_at.is_some();
            let report = matches!(view.state, DsrState::Completed | DsrState::PartiallyRefused)
                && view
                    .rights
                    .iter()
                    .any(|r| matches!(r, Right::Access | Right::Portability));
            lines.push(StatusLine {
                state_label: ctx.t(state_key(view.state)),
                rights: rights_text(ctx.lang, &view.rights),
                closed,
                report,
                view,
            });
        }
    }
    Ok(page(&Status {
        c: Chrome::new(&ctx, ctx.t("status_title"), Area::Portal),
        lines,
    }))
}

pub struct ConsentLine {
    pub scope: String,
    pub name: String,
    pub text: String,
    pub active: bool,
    pub status_label: &'static str,
    pub since: String,
}

#[derive(askama::Template)]
#[template(path = "portal/preferences.html")]
struct Preferences {
    c: Chrome,
    signed_in: bool,
    sent: bool,
    done: bool,
    consents: Vec<ConsentLine>,
    objected_marketing: bool,
}

pub async fn preferences(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SentQuery>,
) -> WebResult {
    let title = ctx.t("prefs_title");
    let Some((_, Some(subject), _)) = portal_session(&state, &ctx) else {
        return Ok(page(&Preferences {
            c: Chrome::new(&ctx, title, Area::Portal),
            signed_in: false,
            sent: q.sent.is_some(),
            done: false,
            consents: Vec::new(),
            objected_marketing: false,
        }));
    };
    let vault = state.vault();
    let who = vault.portal_principal().map_err(|e| ctx.fail(e))?;
    let overview = vault
        .consent_overview(&who, subject)
        .await
        .map_err(|e| ctx.fail(e))?;
    let policy = vault.policy();
    let lang = ctx.lang.as_str();
    let consents = policy
        .raw
        .consent_scopes
        .iter()
        .map(|s| {
            let id = s.id.get_ref().clone();
            let states: Vec<_> = overview.consents.iter().filter(|c| c.scope == id).collect();
            let active = states.iter().any(|c| c.active);
            let latest = states.iter().max_by_key(|c| c.since);
            let status_label = match latest.map(|c| c.status.as_str()) {
                None => "cs_none",
                Some("granted" | "renewed") if active => "cs_granted",
                Some("expired") => "cs_expired",
                Some("renewal_needed") => "cs_renewal",
                _ => "cs_withdrawn",
            };
            ConsentLine {
                name: policy.text(&s.name, lang).to_owned(),
                text: policy.text(&s.text, lang).to_owned(),
                active,
                status_label: ctx.t(status_label),
                since: latest.map(|c| when(&c.since)).unwrap_or_default(),
                scope: id,
            }
        })
        .collect();
    let objected_marketing = overview
        .objections
        .iter()
        .any(|o| o.target == "*direct_marketing");
    Ok(page(&Preferences {
        c: Chrome::new(&ctx, title, Area::Portal),
        signed_in: true,
        sent: false,
        done: q.done.is_some(),
        consents,
        objected_marketing,
    }))
}

#[derive(Deserialize)]
pub struct EmailForm {
    csrf: String,
    #[serde(default)]
    email: String,
}

/// Sends a login link if the address belongs to a subject; answers the same page either way.
pub async fn preferences_login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<EmailForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let email = form.email.trim();
    if !crate::mail::valid_address(email) {
        return Err(WebError::new(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            ctx.t("err_email").to_owned(),
        ));
    }
    let vault = state.vault();
    if state.web().allow_login_mail(email)
        && let Some(subject) = vault
            .portal_lookup_email(email)
            .await
            .map_err(|e| ctx.fail(e))?
    {
        let token = state.web().new_login(subject);
        let link = format!("{}/preferences/login/{token}", vault.public_url());
        let controller = vault.policy().raw.controller.name.get_ref().clone();
        let mail = vault
            .seal_mail(
                email,
                "portal_login",
                ctx.lang.as_str(),
                serde_json::json!({
                    "link": link,
                    "minutes": super::LOGIN_TTL.as_secs() / 60,
                    "controller": controller,
                }),
                Some(subject),
                None,
            )
            .map_err(|e| ctx.fail(e))?;
        vault
            .enqueue_mail(vec![mail])
            .await
            .map_err(|e| ctx.fail(e))?;
    }
    Ok(see_other("/preferences?sent=1"))
}

#[derive(askama::Template)]
#[template(path = "portal/login.html")]
struct Login {
    c: Chrome,
    token: String,
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> WebResult {
    if !token_ok(&token) || !state.web().login_live(&token) {
        return Err(WebError::new(
            &ctx,
            StatusCode::NOT_FOUND,
            ctx.t("err_link").to_owned(),
        ));
    }
    Ok(page(&Login {
        c: Chrome::new(&ctx, ctx.t("login_link_title"), Area::Portal),
        token,
    }))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn login_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let login = token_ok(&token)
        .then(|| state.web().take_login(&token))
        .flatten()
        .ok_or_else(|| WebError::new(&ctx, StatusCode::NOT_FOUND, ctx.t("err_link").to_owned()))?;
    let web = state.web();
    let requests = portal_session(&state, &ctx)
        .map(|(old, _, requests)| {
            web.end(&old);
            requests
        })
        .unwrap_or_default();
    // A fresh session id at login (no fixation).
    let id = web.start(SessionKind::Portal {
        subject: Some(login.subject),
        requests,
    });
    let mut r = see_other("/preferences");
    append_cookie(&mut r, &cookie_line(PORTAL_COOKIE, &id, ctx.secure, None));
    Ok(r)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    csrf: String,
    /// A consent scope id, or `*direct_marketing` for the objection.
    scope: String,
    /// `granted`, `withdrawn` or `object`.
    action: String,
}

pub async fn consent_change(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(form): Form<ConsentForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let Some((_, Some(subject), _)) = portal_session(&state, &ctx) else {
        return Ok(see_other("/preferences"));
    };
    let vault = state.vault();
    let who = vault.portal_principal().map_err(|e| ctx.fail(e))?;
    match form.action.as_str() {
        "object" if form.scope == "*direct_marketing" => {
            vault
                .object(
                    &who,
                    subject,
                    &ObjectionInput {
                        direct_marketing: true,
                        purpose: None,
                    },
                )
                .await
                .map_err(|e| ctx.fail(e))?;
        }
        "granted" | "withdrawn" => {
            let input = ConsentInput {
                scope: form.scope.clone(),
                channel: None,
                action: form.action.clone(),
                method: "checkbox".into(),
                collection_point: "portal:preferences".into(),
                language: Some(ctx.lang.as_str().to_owned()),
                unsubscribe: false,
            };
            let meta = ConsentRequestMeta {
                ip: None,
                user_agent: headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.chars().take(200).collect()),
                idempotency_key: None,
            };
            vault
                .record_consent(&who, subject, &input, &meta)
                .await
                .map_err(|e| ctx.fail(e))?;
        }
        _ => {
            return Err(WebError::new(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                ctx.t("err_action").to_owned(),
            ));
        }
    }
    Ok(see_other("/preferences?done=1"))
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<CsrfOnly>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    Ok(super::end_session(
        &state,
        &ctx,
        ctx.portal_cookie.as_ref(),
        PORTAL_COOKIE,
        "/",
    ))
}
