//! The admin console: login with an API token (kept as its hash in a server-side session),
//! the request queue by deadline, request detail with its timeline and actions, subject search
//! (audited), retention preview with the 24-month forecast chart, legal holds, the audit log
//! with chain status, the outbox and failed jobs, and consent statistics per purpose.
//!
//! Every operation is the vault's, with the logged-in token's role: a role without a
//! permission gets the vault's 403 as a page.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;
use vern_core::dsr::{Right, State as DsrState};

use super::portal::{rights_text, state_key};
use super::svg::{Bar, Group, bar_chart};
use super::{
    ADMIN_COOKIE, Area, Chrome, Ctx, SessionKind, WebResult, append_cookie, cookie_line, page,
    see_other, when,
};
use crate::AppState;
use crate::vault::{
    AuditEntryView, AuditVerification, ConsentOverview, DisclosureView, Fulfilment,
    FulfilmentStatus, HoldInput, HoldView, IdentifierInput, JobView, OutboxView, Principal,
    RequestAction, RequestDetail, RequestView, RetentionPreview, SubjectRetention, SubjectView,
    VaultError,
};

/// The logged-in administrator, or the redirect to the login page.
async fn admin(state: &AppState, ctx: &Ctx) -> Result<Principal, Response> {
    let login = || see_other("/admin/login");
    let id = ctx.admin_cookie.as_ref().ok_or_else(login)?;
    let session = state.web().get(id).ok_or_else(login)?;
    let SessionKind::Admin { token_hash } = session.kind else {
        return Err(login());
    };
    match state.vault().authenticate_hash(&token_hash).await {
        Ok(Some(who)) => Ok(who),
        Ok(None) => {
            state.web().end(id);
            Err(login())
        }
        Err(e) => Err(axum::response::IntoResponse::into_response(ctx.fail(e))),
    }
}

macro_rules! admin_or_login {
    ($state:expr, $ctx:expr) => {
        match admin(&$state, &$ctx).await {
            Ok(who) => who,
            Err(r) => return Ok(r),
        }
    };
}

#[derive(askama::Template)]
#[template(path = "admin/login.html")]
struct Login {
    c: Chrome,
    error: Option<String>,
}

pub async fn login_form(ctx: Ctx) -> Response {
    page(&Login {
        c: Chrome::new(&ctx, ctx.t("admin_login_title"), Area::AdminLogin),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    #[serde(default)]
    token: String,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<LoginForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let token = form.token.trim();
    let who = state
        .vault()
        .authenticate(token)
        .await
        .map_err(|e| ctx.fail(e))?;
    if who.is_none() {
        let mut r = page(&Login {
            c: Chrome::new(&ctx, ctx.t("admin_login_title"), Area::AdminLogin),
            error: Some(ctx.t("err_token").to_owned()),
        });
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(r);
    }
    if let Some(old) = &ctx.admin_cookie {
        state.web().end(old);
    }
    let id = state.web().start(SessionKind::Admin {
        token_hash: vern_core::crypto::hash_token(token),
    });
    let mut r = see_other("/admin");
    append_cookie(&mut r, &cookie_line(ADMIN_COOKIE, &id, ctx.secure, None));
    Ok(r)
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
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
        ctx.admin_cookie.as_ref(),
        ADMIN_COOKIE,
        "/admin/login",
    ))
}

pub struct QueueRow {
    pub view: RequestView,
    pub state_label: &'static str,
    pub rights: String,
}

#[derive(askama::Template)]
#[template(path = "admin/queue.html")]
struct Queue {
    c: Chrome,
    rows: Vec<QueueRow>,
    next: Option<String>,
    all: bool,
    overdue: usize,
    due_soon: usize,
}

#[derive(Debug, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

/// Requests per page in the queue.
pub const QUEUE_PAGE: u32 = 50;

pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<QueueQuery>,
) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let all = q.all.is_some();
    let page_of = state
        .vault()
        .list_requests(&who, None, None, !all, q.after.as_deref(), QUEUE_PAGE)
        .await
        .map_err(|e| ctx.fail(e))?;
    let rows: Vec<QueueRow> = page_of
        .items
        .into_iter()
        .map(|v| QueueRow {
            state_label: ctx.t(state_key(v.state)),
            rights: rights_text(ctx.lang, &v.rights),
            view: v,
        })
        .collect();
    Ok(page(&Queue {
        c: Chrome::new(&ctx, ctx.t("queue_title"), Area::Admin),
        overdue: rows.iter().filter(|r| r.view.overdue).count(),
        due_soon: rows.iter().filter(|r| r.view.due_soon).count(),
        rows,
        next: page_of.next,
        all,
    }))
}

pub struct RightChoice {
    pub id: &'static str,
    pub label: &'static str,
}

#[derive(askama::Template)]
#[template(path = "admin/request.html")]
struct Detail {
    c: Chrome,
    d: RequestDetail,
    state_label: &'static str,
    rights: String,
    right_choices: Vec<RightChoice>,
    open: bool,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

fn open_state(s: DsrState) -> bool {
    matches!(
        s,
        DsrState::Received | DsrState::AwaitingIdentity | DsrState::InProgress | DsrState::Extended
    )
}

async fn detail_page(
    state: &AppState,
    ctx: &Ctx,
    who: &Principal,
    id: Uuid,
    done: Option<String>,
    error: Option<String>,
) -> WebResult {
    let d = state
        .vault()
        .get_request(who, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let right_choices = d
        .request
        .rights
        .iter()
        .map(|r| RightChoice {
            id: r.as_str(),
            label: super::i18n::t(ctx.lang, right_key(*r)),
        })
        .collect();
    Ok(page(&Detail {
        c: Chrome::new(ctx, ctx.t("request_title"), Area::Admin),
        state_label: ctx.t(state_key(d.request.state)),
        rights: rights_text(ctx.lang, &d.request.rights),
        open: open_state(d.request.state),
        right_choices,
        done,
        error,
        d,
    }))
}

fn right_key(r: Right) -> &'static str {
    match r {
        Right::Access => "right_access",
        Right::Rectification => "right_rectification",
        Right::Erasure => "right_erasure",
        Right::Restriction => "right_restriction",
        Right::Portability => "right_portability",
        Right::Objection => "right_objection",
    }
}

pub async fn request_detail(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Query(q): Query<DoneQuery>,
) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let done = q.done.map(|_| ctx.t("action_done").to_owned());
    detail_page(&state, &ctx, &who, id, done, None).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    right: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    kept_until: String,
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub async fn request_action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(form): Form<ActionForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let who = admin_or_login!(state, ctx);
    let reason = form.reason.trim().to_owned();
    let action = match form.action.as_str() {
        "verify" => RequestAction::Verify { reason },
        "unable_to_identify" => RequestAction::UnableToIdentify { reason },
        "extend" => RequestAction::Extend {
            months: form.months.trim().parse().unwrap_or(0),
            reason,
        },
        "record_outcome" => {
            let right = Right::parse(form.right.trim());
            let status = match form.status.as_str() {
                "done" => Some(FulfilmentStatus::Done),
                "partial" => Some(FulfilmentStatus::Partial),
                "refused" => Some(FulfilmentStatus::Refused),
                _ => None,
            };
            let (Some(right), Some(status)) = (right, status) else {
                return detail_page(
                    &state,
                    &ctx,
                    &who,
                    id,
                    None,
                    Some(ctx.t("err_action").to_owned()),
                )
                .await;
            };
            RequestAction::RecordOutcome {
                outcome: Fulfilment {
                    right,
                    status,
                    reason: opt(&form.reason),
                    legal_basis: opt(&form.legal_basis),
                    kept_until: opt(&form.kept_until),
                    artefact: None,
                    letter: None,
                },
            }
        }
        // Fulfils every right without a recorded outcome (the report behind a download link,
        // erasure, …); rectification and objection need their outcome recorded first here.
        "complete" => RequestAction::Complete {
            rectifications: Vec::new(),
            restriction: None,
            objection: None,
        },
        "refuse" => RequestAction::Refuse {
            reason,
            legal_basis: form.legal_basis.trim().to_owned(),
        },
        "resend_letter" => RequestAction::ResendLetter,
        "resend_verification" => RequestAction::ResendVerification,
        _ => {
            return detail_page(
                &state,
                &ctx,
                &who,
                id,
                None,
                Some(ctx.t("err_action").to_owned()),
            )
            .await;
        }
    };
    match state.vault().act_on_request(&who, id, &action).await {
        Ok(_) => Ok(see_other(&format!("/admin/requests/{id}?done=ok"))),
        Err(
            e @ (VaultError::Validation(_) | VaultError::Conflict(_) | VaultError::RateLimited(_)),
        ) => {
            let message = match &e {
                VaultError::Validation(fields) => fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
                VaultError::Conflict(m) => m.clone(),
                _ => ctx.t("err_rate").to_owned(),
            };
            let mut r = detail_page(&state, &ctx, &who, id, None, Some(message)).await?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

pub struct RecordLine {
    pub category: String,
    pub value: String,
    pub purposes: String,
    pub legal_basis: String,
    pub collected: String,
    pub expires: String,
    pub held: bool,
}

pub struct Found {
    pub subject: SubjectView,
    pub records: Vec<RecordLine>,
    pub consents: ConsentOverview,
    pub disclosures: Vec<DisclosureView>,
    pub holds: Vec<HoldView>,
}

#[derive(askama::Template)]
#[template(path = "admin/subjects.html")]
struct Subjects {
    c: Chrome,
    /// The identifier kinds offered, with the chosen one marked.
    kinds: Vec<(&'static str, bool)>,
    value: String,
    searched: bool,
    found: Option<Found>,
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

pub async fn subjects(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let kind = q.kind.unwrap_or_else(|| "email".into());
    let value = q.value.unwrap_or_default().trim().to_owned();
    let mut found = None;
    if !value.is_empty() {
        let vault = state.vault();
        let input = IdentifierInput {
            kind: kind.clone(),
            value: value.clone(),
        };
        match vault.lookup(&who, &input).await {
            Ok(id) => {
                let subject = vault.get_subject(&who, id).await.map_err(|e| ctx.fail(e))?;
                let retention: SubjectRetention = vault
                    .retention_status(&who, id)
                    .await
                    .map_err(|e| ctx.fail(e))?;
                let consents = vault
                    .consent_overview(&who, id)
                    .await
                    .map_err(|e| ctx.fail(e))?;
                let disclosures = match vault.subject_disclosures(&who, id).await {
                    Ok(d) => d,
                    Err(VaultError::Forbidden(_)) => Vec::new(),
                    Err(e) => return Err(ctx.fail(e)),
                };
                let holds = match vault.list_holds(&who, false).await {
                    Ok(h) => h
                        .into_iter()
                        .filter(|h| h.subject_id.is_none() || h.subject_id == Some(id))
                        .collect(),
                    Err(VaultError::Forbidden(_)) => Vec::new(),
                    Err(e) => return Err(ctx.fail(e)),
                };
                let records = subject
                    .records
                    .iter()
                    .map(|r| {
                        let ret = retention.records.iter().find(|x| x.record_id == r.id);
                        RecordLine {
                            category: r.category.clone(),
                            value: match &r.value {
                                serde_json::Value::String(s) => s.clone(),
                                v => v.to_string(),
                            },
                            purposes: r.purposes.join(", "),
                            legal_basis: r.legal_basis.clone(),
                            collected: when(&r.collected_at),
                            expires: ret
                                .and_then(|x| x.expires_at.as_ref())
                                .map(when)
                                .unwrap_or_default(),
                            held: ret.is_some_and(|x| x.held),
                        }
                    })
                    .collect();
                found = Some(Found {
                    subject,
                    records,
                    consents,
                    disclosures,
                    holds,
                });
            }
            Err(VaultError::NotFound(_)) => {}
            Err(e) => return Err(ctx.fail(e)),
        }
    }
    Ok(page(&Subjects {
        c: Chrome::new(&ctx, ctx.t("subjects_title"), Area::Admin),
        searched: !value.is_empty(),
        kinds: ["email", "phone", "login_id", "username"]
            .into_iter()
            .map(|k| (k, k == kind))
            .collect(),
        value,
        found,
    }))
}

#[derive(askama::Template)]
#[template(path = "admin/retention.html")]
struct Retention {
    c: Chrome,
    p: RetentionPreview,
    chart: String,
    as_of: String,
}

pub async fn retention(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let p = state
        .vault()
        .retention_preview(&who, None)
        .await
        .map_err(|e| ctx.fail(e))?;
    let groups: Vec<Group> = p
        .forecast
        .iter()
        .map(|m| Group {
            label: m.month.clone(),
            bars: vec![Bar {
                class: "bar forecast",
                value: m.total,
                title: format!("{}: {}", m.month, m.total),
            }],
        })
        .collect();
    let chart = bar_chart("forecast", ctx.t("forecast_chart"), &groups);
    Ok(page(&Retention {
        c: Chrome::new(&ctx, ctx.t("retention_title"), Area::Admin),
        as_of: when(&p.as_of),
        chart,
        p,
    }))
}

#[derive(askama::Template)]
#[template(path = "admin/holds.html")]
struct Holds {
    c: Chrome,
    holds: Vec<HoldView>,
    error: Option<String>,
}

async fn holds_page(
    state: &AppState,
    ctx: &Ctx,
    who: &Principal,
    error: Option<String>,
) -> WebResult {
    let holds = state
        .vault()
        .list_holds(who, true)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut r = page(&Holds {
        c: Chrome::new(ctx, ctx.t("holds_title"), Area::Admin),
        holds,
        error: error.clone(),
    });
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

pub async fn holds(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let who = admin_or_login!(state, ctx);
    holds_page(&state, &ctx, &who, None).await
}

#[derive(Deserialize)]
pub struct HoldForm {
    csrf: String,
    #[serde(default)]
    subject_id: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    review_at: String,
    #[serde(default)]
    approved_by: String,
}

pub async fn hold_create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HoldForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let who = admin_or_login!(state, ctx);
    let subject_id = match opt(&form.subject_id) {
        None => None,
        Some(s) => match Uuid::parse_str(&s) {
            Ok(id) => Some(id),
            Err(_) => {
                return holds_page(&state, &ctx, &who, Some(ctx.t("err_subject_id").to_owned()))
                    .await;
            }
        },
    };
    let review_at = time::Date::parse(
        form.review_at.trim(),
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .map(|d| d.midnight().assume_utc());
    let Some(review_at) = review_at else {
        return holds_page(&state, &ctx, &who, Some(ctx.t("err_date").to_owned())).await;
    };
    let input = HoldInput {
        subject_id,
        matter: opt(&form.matter),
        categories: form
            .categories
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: form.reason.trim().to_owned(),
        review_at,
        approved_by: form.approved_by.trim().to_owned(),
    };
    match state.vault().create_hold(&who, &input).await {
        Ok(_) => Ok(see_other("/admin/holds")),
        Err(VaultError::Validation(fields)) => {
            let m = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect::<Vec<_>>()
                .join("; ");
            holds_page(&state, &ctx, &who, Some(m)).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn hold_release(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(form): Form<ReleaseForm>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let who = admin_or_login!(state, ctx);
    match state
        .vault()
        .release_hold(&who, id, form.reason.trim())
        .await
    {
        Ok(_) => Ok(see_other("/admin/holds")),
        Err(VaultError::Validation(fields)) => {
            let m = fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.reason))
                .collect::<Vec<_>>()
                .join("; ");
            holds_page(&state, &ctx, &who, Some(m)).await
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

#[derive(askama::Template)]
#[template(path = "admin/audit.html")]
struct Audit {
    c: Chrome,
    chain: AuditVerification,
    entries: Vec<AuditEntryView>,
}

pub async fn audit(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let (chain, entries) = state
        .vault()
        .recent_audit(&who, 100)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(page(&Audit {
        c: Chrome::new(&ctx, ctx.t("audit_title"), Area::Admin),
        chain,
        entries,
    }))
}

#[derive(askama::Template)]
#[template(path = "admin/outbox.html")]
struct Outbox {
    c: Chrome,
    mail: Vec<OutboxView>,
    failed_mail: usize,
    jobs: Vec<JobView>,
}

pub async fn outbox(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let vault = state.vault();
    let mail = vault
        .list_outbox(&who, None, None, 100)
        .await
        .map_err(|e| ctx.fail(e))?;
    let jobs = vault
        .list_jobs(&who, Some("dead"), 100)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(page(&Outbox {
        c: Chrome::new(&ctx, ctx.t("outbox_title"), Area::Admin),
        failed_mail: mail.iter().filter(|m| m.state == "failed").count(),
        mail,
        jobs,
    }))
}

pub async fn job_retry(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfOnly>,
) -> WebResult {
    ctx.check_csrf(&form.csrf)?;
    let who = admin_or_login!(state, ctx);
    state
        .vault()
        .retry_job(&who, id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(see_other("/admin/outbox"))
}

/// One scope's consent events by month.
pub struct ScopeStats {
    pub id: String,
    pub name: String,
    pub chart: String,
    pub months: Vec<(String, u64, u64)>,
    pub granted: u64,
    pub withdrawn: u64,
}

#[derive(askama::Template)]
#[template(path = "admin/consents.html")]
struct Consents {
    c: Chrome,
    scopes: Vec<ScopeStats>,
}

/// Months shown in the consent statistics.
pub const STATS_MONTHS: usize = 12;

pub async fn consents(State(state): State<AppState>, ctx: Ctx) -> WebResult {
    let who = admin_or_login!(state, ctx);
    let vault = state.vault();
    let events = vault.export_consent(&who).await.map_err(|e| ctx.fail(e))?;
    let now = vault.clock().now();
    // The last 12 calendar months, oldest first.
    let mut months = Vec::with_capacity(STATS_MONTHS);
    let (mut y, mut m) = (now.year(), u8::from(now.month()));
    for _ in 0..STATS_MONTHS {
        months.push(format!("{y:04}-{m:02}"));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    months.reverse();
    // (scope, month) -> (granted incl. renewed, withdrawn)
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for e in &events {
        let month = format!("{:04}-{:02}", e.at.year(), u8::from(e.at.month()));
        let entry = counts.entry((e.scope.clone(), month)).or_default();
        match e.action.as_str() {
            "granted" | "renewed" => entry.0 += 1,
            "withdrawn" => entry.1 += 1,
            _ => {}
        }
    }
    let policy = vault.policy();
    let lang = ctx.lang.as_str();
    let scopes = policy
        .raw
        .consent_scopes
        .iter()
        .map(|s| {
            let id = s.id.get_ref().clone();
            let rows: Vec<(String, u64, u64)> = months
                .iter()
                .map(|m| {
                    let (g, w) = counts
                        .get(&(id.clone(), m.clone()))
                        .copied()
                        .unwrap_or_default();
                    (m.clone(), g, w)
                })
                .collect();
            let groups: Vec<Group> = rows
                .iter()
                .map(|(m, g, w)| Group {
                    label: m.clone(),
                    bars: vec![
                        Bar {
                            class: "bar granted",
                            value: *g,
                            title: format!("{m}: {g} {}", ctx.t("stats_granted")),
                        },
                        Bar {
                            class: "bar withdrawn",
                            value: *w,
                            title: format!("{m}: {w} {}", ctx.t("stats_withdrawn")),
                        },
                    ],
                })
                .collect();
            let name = policy.text(&s.name, lang).to_owned();
            ScopeStats {
                chart: bar_chart(&format!("consent-{id}"), &name, &groups),
                granted: rows.iter().map(|r| r.1).sum(),
                withdrawn: rows.iter().map(|r| r.2).sum(),
                months: rows,
                name,
                id,
            }
        })
        .collect();
    Ok(page(&Consents {
        c: Chrome::new(&ctx, ctx.t("consents_title"), Area::Admin),
        scopes,
    }))
}
