//! The web layer: the self-service privacy portal (`/`) and the admin console (`/admin`),
//! server-rendered with askama, in Norwegian bokmål and English. It calls the vault directly.
//!
//! Security, for every page: a strict Content-Security-Policy (no scripts at all, styles and
//! images from vern only, `frame-ancestors 'none'`), `X-Frame-Options: DENY`, `nosniff`,
//! `Referrer-Policy: no-referrer` (download and login links carry tokens), `no-store`.
//! Every form carries a CSRF token that must equal the `vern_csrf` cookie (double submit), and
//! every POST must come from this origin (`Sec-Fetch-Site`, else `Origin`); cookies are
//! `HttpOnly; SameSite=Strict` and `Secure` when the public URL is https. Sessions (admin:
//! an API token's hash; portal: a verified address's subject or the person's requests) live in
//! memory with idle and absolute limits (decision 0016).

pub mod admin;
pub mod i18n;
pub mod portal;
pub mod svg;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use uuid::Uuid;

use crate::AppState;
use crate::middleware::ProtocolErrorBody;
use crate::vault::VaultError;
pub use i18n::Lang;

/// The page's Content-Security-Policy: nothing runs, nothing loads from elsewhere.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSRF_COOKIE: &str = "vern_csrf";
const LANG_COOKIE: &str = "vern_lang";
pub(crate) const ADMIN_COOKIE: &str = "vern_admin";
pub(crate) const PORTAL_COOKIE: &str = "vern_portal";

/// Admin sessions end after 30 idle minutes or 8 hours; portal sessions after 30 idle minutes
/// or 2 hours; portal login links after 30 minutes.
const ADMIN_IDLE: Duration = Duration::from_secs(30 * 60);
const ADMIN_MAX: Duration = Duration::from_secs(8 * 3600);
const PORTAL_IDLE: Duration = Duration::from_secs(30 * 60);
const PORTAL_MAX: Duration = Duration::from_secs(2 * 3600);
pub(crate) const LOGIN_TTL: Duration = Duration::from_secs(30 * 60);
/// Login links one address can be sent per hour.
pub(crate) const LOGIN_MAILS_PER_HOUR: usize = 3;

/// What a session stands for.
#[derive(Debug, Clone)]
pub(crate) enum SessionKind {
    /// An administrator, by the SHA-256 of the API token they logged in with (re-checked on
    /// every request, so revoking the token ends the session).
    Admin { token_hash: [u8; 32] },
    /// A person: the subject whose address they proved control of (if any) and the requests
    /// they confirmed in this session.
    Portal {
        subject: Option<Uuid>,
        requests: Vec<Uuid>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub kind: SessionKind,
    created: Instant,
    seen: Instant,
}

/// A portal login link waiting to be used.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub subject: Uuid,
    created: Instant,
}

/// The web layer's in-memory state (see decision 0016).
///
/// Session ids and login tokens are 256-bit random and the maps are keyed by their SHA-256: a
/// hash-map probe compares hashes, not secrets, so it is no timing oracle (decision 0021).
#[derive(Debug, Default)]
pub struct WebState {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    logins: Mutex<HashMap<[u8; 32], PendingLogin>>,
    login_mails: Mutex<HashMap<[u8; 32], Vec<Instant>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn digest(text: &str) -> [u8; 32] {
    vern_core::crypto::hash_token(text)
}

impl WebState {
    /// Starts a session and returns the cookie value.
    pub(crate) fn start(&self, kind: SessionKind) -> String {
        let id = vern_core::crypto::generate_token();
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| live(s, now));
        sessions.insert(
            digest(&id),
            Session {
                kind,
                created: now,
                seen: now,
            },
        );
        id
    }

    /// The live session behind a cookie value (touching it).
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        let key = digest(id);
        let s = sessions.get_mut(&key)?;
        if !live(s, now) {
            sessions.remove(&key);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    pub(crate) fn update(&self, id: &str, kind: SessionKind) {
        if let Some(s) = lock(&self.sessions).get_mut(&digest(id)) {
            s.kind = kind;
        }
    }

    pub(crate) fn end(&self, id: &str) {
        lock(&self.sessions).remove(&digest(id));
    }

    /// A new login link token for `subject`.
    pub(crate) fn new_login(&self, subject: Uuid) -> String {
        let token = vern_core::crypto::generate_token();
        let now = Instant::now();
        let mut logins = lock(&self.logins);
        logins.retain(|_, l| now.duration_since(l.created) < LOGIN_TTL);
        logins.insert(
            digest(&token),
            PendingLogin {
                subject,
                created: now,
            },
        );
        token
    }

    /// Uses a login link (once).
    pub(crate) fn take_login(&self, token: &str) -> Option<PendingLogin> {
        let login = lock(&self.logins).remove(&digest(token))?;
        (Instant::now().duration_since(login.created) < LOGIN_TTL).then_some(login)
    }

    /// Whether a login link exists and is live (without using it).
    pub(crate) fn login_live(&self, token: &str) -> bool {
        lock(&self.logins)
            .get(&digest(token))
            .is_some_and(|l| Instant::now().duration_since(l.created) < LOGIN_TTL)
    }

    /// Counts a login mail to `address`; false when the hourly limit is reached.
    pub(crate) fn allow_login_mail(&self, address: &str) -> bool {
        let now = Instant::now();
        let mut sent = lock(&self.login_mails);
        sent.retain(|_, v| {
            v.retain(|t| now.duration_since(*t) < Duration::from_secs(3600));
            !v.is_empty()
        });
        let entry = sent
            .entry(digest(&address.trim().to_lowercase()))
            .or_default();
        if entry.len() >= LOGIN_MAILS_PER_HOUR {
            return false;
        }
        entry.push(now);
        true
    }
}

fn live(s: &Session, now: Instant) -> bool {
    let (idle, max) = match s.kind {
        SessionKind::Admin { .. } => (ADMIN_IDLE, ADMIN_MAX),
        SessionKind::Portal { .. } => (PORTAL_IDLE, PORTAL_MAX),
    };
    now.duration_since(s.seen) < idle && now.duration_since(s.created) < max
}

/// The portal and the console, with their security layers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(portal::home))
        .route("/notice", get(portal::notice))
        .route("/subprocessors", get(portal::subprocessors))
        .route(
            "/rights",
            get(portal::rights_form).post(portal::rights_submit),
        )
        .route(
            "/confirm/{token}",
            get(portal::confirm_form).post(portal::confirm_submit),
        )
        .route("/status", get(portal::status))
        .route(
            "/preferences",
            get(portal::preferences).post(portal::preferences_login),
        )
        .route(
            "/preferences/login/{token}",
            get(portal::login_form).post(portal::login_submit),
        )
        .route("/preferences/consent", post(portal::consent_change))
        .route("/preferences/logout", post(portal::logout))
        .route("/admin", get(admin::queue))
        .route("/admin/login", get(admin::login_form).post(admin::login))
        .route("/admin/logout", post(admin::logout))
        .route("/admin/requests/{id}", get(admin::request_detail))
        .route("/admin/requests/{id}/actions", post(admin::request_action))
        .route("/admin/subjects", get(admin::subjects))
        .route("/admin/retention", get(admin::retention))
        .route("/admin/holds", get(admin::holds).post(admin::hold_create))
        .route("/admin/holds/{id}/release", post(admin::hold_release))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/outbox", get(admin::outbox))
        .route("/admin/jobs/{id}/retry", post(admin::job_retry))
        .route("/admin/consents", get(admin::consents))
        .route("/assets/vern.css", get(stylesheet))
        .layer(axum::middleware::from_fn(protect))
}

/// The security headers every page carries.
pub fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// The CSRF token of this request (from the cookie, or fresh).
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub String);

/// Whether a POST comes from this origin: `Sec-Fetch-Site` when the browser sends it, else
/// `Origin` against `Host`. Clients that send neither (not browsers) still need the token.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            let origin = origin.to_str().unwrap_or("");
            let origin_host = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .unwrap_or("\u{0}");
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
    }
}

/// The layer of every web route: cross-site POSTs are refused, the CSRF cookie is issued, the
/// language choice is remembered, and the security headers are set.
async fn protect(mut req: Request, next: Next) -> Response {
    if req.method() == Method::POST && !same_origin(req.headers()) {
        let mut r = (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "cross-site form submissions are refused",
        )
            .into_response();
        r.extensions_mut().insert(ProtocolErrorBody);
        secure_headers(r.headers_mut());
        return r;
    }
    let existing = cookie(req.headers(), CSRF_COOKIE).filter(|t| valid_token(t));
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (new_csrf_token(), true),
    };
    let lang_choice = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
        .and_then(Lang::parse);
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let secure = secure_cookies(&req);
    let mut res = next.run(req).await;
    if fresh {
        append_cookie(&mut res, &cookie_line(CSRF_COOKIE, &token, secure, None));
    }
    if let Some(lang) = lang_choice {
        append_cookie(
            &mut res,
            &cookie_line(LANG_COOKIE, lang.as_str(), secure, Some(365 * 24 * 3600)),
        );
    }
    if res.status().is_client_error() || res.status().is_server_error() {
        res.extensions_mut().insert(ProtocolErrorBody);
    }
    secure_headers(res.headers_mut());
    res
}

/// `Secure` cookies when vern is served over https (the public URL, or a proxy's header).
fn secure_cookies(req: &Request) -> bool {
    req.headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https")
        || req.uri().scheme_str() == Some("https")
        || SECURE_DEFAULT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Set from the public URL at start (`https://…` → `Secure` cookies).
static SECURE_DEFAULT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Marks cookies `Secure` when the public URL is https (called by `set_public_url`'s users).
pub fn set_secure_cookies(on: bool) {
    SECURE_DEFAULT.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn new_csrf_token() -> String {
    let mut b = [0u8; 32];
    vern_core::crypto::random_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Sends the CSRF cookie of a page rendered outside the web router, if it was made for it.
pub fn issue_csrf(res: &mut Response, ctx: &Ctx) {
    if ctx.csrf_fresh {
        append_cookie(res, &cookie_line(CSRF_COOKIE, &ctx.csrf, ctx.secure, None));
    }
}

fn valid_token(t: &str) -> bool {
    (20..=100).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub(crate) fn cookie_line(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut line = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        line.push_str("; Secure");
    }
    if let Some(age) = max_age {
        line.push_str(&format!("; Max-Age={age}"));
    }
    line
}

/// Logging out of the portal or the console: the session (named by `cookie`'s value, if the
/// browser sent one) ends on the server, the browser is told to drop the cookie, and it goes
/// to `redirect`.
pub(crate) fn end_session(
    state: &AppState,
    ctx: &Ctx,
    session: Option<&String>,
    cookie: &str,
    redirect: &str,
) -> Response {
    if let Some(id) = session {
        state.web().end(id);
    }
    let mut r = see_other(redirect);
    append_cookie(
        &mut r,
        &format!("{}; Max-Age=0", cookie_line(cookie, "", ctx.secure, None)),
    );
    r
}

pub(crate) fn append_cookie(res: &mut Response, line: &str) {
    if let Ok(v) = HeaderValue::from_str(line) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A cookie's value from the request headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// What every page handler knows about the request: language, CSRF token, path, the
/// session cookie values and whether cookies are `Secure`.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub csrf: String,
    /// The token was made for this request and must be sent as a cookie (outside `protect`).
    pub csrf_fresh: bool,
    pub path: String,
    pub admin_cookie: Option<String>,
    pub portal_cookie: Option<String>,
    pub secure: bool,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query_lang = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("lang=")))
            .and_then(Lang::parse);
        let lang = query_lang
            .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
            .or_else(|| {
                let accept = parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)?
                    .to_str()
                    .ok()?
                    .to_ascii_lowercase();
                let first = accept.split(',').next()?.trim();
                if first.starts_with("en") {
                    Some(Lang::En)
                } else if first.starts_with("nb")
                    || first.starts_with("no")
                    || first.starts_with("nn")
                {
                    Some(Lang::Nb)
                } else {
                    None
                }
            })
            .unwrap_or(Lang::Nb);
        // Under `protect` the token is in the extensions; elsewhere (the API's verification
        // page) it comes from the cookie, or is made here and issued by the handler.
        let (csrf, csrf_fresh) = match parts.extensions.get::<CsrfToken>() {
            Some(t) => (t.0.clone(), false),
            None => match cookie(&parts.headers, CSRF_COOKIE).filter(|t| valid_token(t)) {
                Some(t) => (t, false),
                None => (new_csrf_token(), true),
            },
        };
        let secure = parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes() == b"https")
            || SECURE_DEFAULT.load(std::sync::atomic::Ordering::Relaxed);
        Ok(Ctx {
            lang,
            csrf,
            csrf_fresh,
            path: parts.uri.path().to_owned(),
            admin_cookie: cookie(&parts.headers, ADMIN_COOKIE),
            portal_cookie: cookie(&parts.headers, PORTAL_COOKIE),
            secure,
        })
    }
}

impl Ctx {
    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// Checks a form's CSRF token against the cookie (constant time).
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if !self.csrf.is_empty()
            && vern_core::crypto::constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
        {
            Ok(())
        } else {
            Err(WebError::new(
                self,
                StatusCode::FORBIDDEN,
                self.t("err_csrf").to_owned(),
            ))
        }
    }

    /// A vault error as a page in the request's language.
    pub fn fail(&self, e: VaultError) -> WebError {
        let (status, message) = match e {
            VaultError::Validation(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            VaultError::Forbidden(_) => (StatusCode::FORBIDDEN, self.t("err_forbidden").to_owned()),
            VaultError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                format!("{} ({what})", self.t("err_not_found")),
            ),
            VaultError::Conflict(m) => (StatusCode::CONFLICT, m),
            VaultError::RateLimited(_) => {
                (StatusCode::TOO_MANY_REQUESTS, self.t("err_rate").to_owned())
            }
            VaultError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                self.t("err_internal").to_owned(),
            ),
            VaultError::Internal(m) => {
                tracing::error!(error = %m, "a web page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    self.t("err_internal").to_owned(),
                )
            }
        };
        WebError::new(self, status, message)
    }

    /// The same path in the other language, for the switch.
    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }
}

/// An error page.
#[derive(Debug)]
pub struct WebError {
    status: StatusCode,
    html: String,
}

impl WebError {
    pub fn new(ctx: &Ctx, status: StatusCode, message: String) -> Self {
        let page = ErrorPage {
            c: Chrome::new(ctx, ctx.t("error_title"), Area::of(ctx)),
            status: status.as_u16(),
            message,
        };
        WebError {
            status,
            html: render(&page),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Html(self.html)).into_response();
        r.extensions_mut().insert(ProtocolErrorBody);
        r
    }
}

pub type WebResult = Result<Response, WebError>;

/// Which navigation a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Portal,
    Admin,
    /// The console's login page: no console navigation.
    AdminLogin,
}

impl Area {
    fn of(ctx: &Ctx) -> Area {
        if ctx.path.starts_with("/admin") {
            Area::Admin
        } else {
            Area::Portal
        }
    }
}

/// What the layout needs: language, strings, title, CSRF token, navigation.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub csrf: String,
    pub path: String,
    pub area: Area,
}

impl Chrome {
    pub fn new(ctx: &Ctx, title: &str, area: Area) -> Self {
        Chrome {
            lang: ctx.lang,
            title: title.to_owned(),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            area,
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn is_admin(&self) -> bool {
        self.area == Area::Admin
    }

    pub fn is_portal(&self) -> bool {
        self.area == Area::Portal
    }

    pub fn other(&self) -> Lang {
        match self.lang {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }

    /// `aria-current="page"` for the navigation link of this page.
    pub fn current(&self, href: &str) -> &'static str {
        let here = if href == "/" || href == "/admin" {
            self.path == href
        } else {
            self.path.starts_with(href)
        };
        if here { "page" } else { "false" }
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    status: u16,
    message: String,
}

/// Renders a template; a template failure is logged and becomes a short plain page.
pub fn render<T: askama::Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page template failed");
        "<!DOCTYPE html><html lang=\"en\"><title>Error</title><p>Error</p></html>".to_owned()
    })
}

/// A rendered page.
pub fn page<T: askama::Template>(t: &T) -> Response {
    Html(render(t)).into_response()
}

/// 303 See Other to `to` (the answer to every successful form).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn stylesheet(State(_): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/vern.css"),
    )
        .into_response()
}

/// `YYYY-MM-DD HH:MM` in UTC, for tables.
pub fn when(t: &time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}
