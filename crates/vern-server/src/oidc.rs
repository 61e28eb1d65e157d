//! Verification of OpenID Connect access/ID tokens (JWS compact, RS256 or ES256) from trusted
//! issuers: discovery (`{issuer}/.well-known/openid-configuration`) and the JWKS are fetched
//! over HTTP and cached by `kid`; an unknown `kid` triggers one refetch (key rotation), at most
//! once per [`IssuerConfig::min_refetch`], so a flood of tokens with made-up key ids cannot turn
//! vern into an amplifier against the issuer.
//!
//! Checks, in order: the token is three base64url parts; the header's `alg` is RS256 or ES256
//! (never `none`, never HMAC: no algorithm confusion), and the key named by `kid` has the
//! matching type (and `alg` when the JWK states one); the signature; `iss` is a configured
//! issuer (exact string match); `aud` (string or list) intersects the configured audiences;
//! `exp` is present and in the future, `nbf` (when present) in the past, both with a leeway.
//! Time is a parameter ([`OidcVerifier::verify`] takes `now`), as everywhere in vern.
//!
//! Scopes come from the claims named in [`IssuerConfig::scope_claims`]: `scope` (space
//! separated), `scp`, a URL-like claim name holding a list (Tunnistamo: the API's audience URL),
//! or a dotted path into nested objects and lists (Keycloak:
//! `authorization.permissions.scopes`, whose lists are flattened). A claim whose exact name
//! exists wins over the dotted path.
//!
//! Errors never echo the token or its claims (they may hold personal data); they name which
//! check failed.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Mutex;

/// Largest discovery or JWKS document read (a JWKS is a few kilobytes).
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Most keys kept for one issuer.
const MAX_KEYS: usize = 64;
/// Longest token accepted (bytes), before any decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// One trusted issuer.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The `iss` value, exactly as the issuer writes it (e.g. `https://id.example/` — the
    /// trailing slash matters).
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one.
    pub audiences: Vec<String>,
    /// Claims holding scopes (see the module documentation).
    pub scope_claims: Vec<String>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Minimum time between two JWKS fetches caused by unknown key ids.
    pub min_refetch: Duration,
    /// Timeout of one HTTP fetch.
    pub fetch_timeout: Duration,
}

impl IssuerConfig {
    /// An issuer with the default scope claims (`scope`, `scp`), 60 s leeway, refetch at most
    /// every 30 s and 5 s fetch timeout.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>) -> Self {
        IssuerConfig {
            issuer: issuer.into(),
            audiences,
            scope_claims: vec!["scope".into(), "scp".into()],
            leeway: Duration::from_secs(60),
            min_refetch: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
        }
    }

    /// The discovery URL: `{issuer}/.well-known/openid-configuration` (one slash between).
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        )
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the token is not a well-formed JWS: {0}")]
    Malformed(&'static str),
    #[error("the token's algorithm is not accepted (RS256 and ES256 are)")]
    UnsupportedAlgorithm,
    #[error("the issuer is not trusted")]
    UntrustedIssuer,
    #[error("no key of the issuer has the token's key id")]
    UnknownKey,
    #[error("the key named by the token does not fit its algorithm")]
    KeyMismatch,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the token is not meant for this service (audience)")]
    Audience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token lacks the claim `{0}`")]
    MissingClaim(&'static str),
    /// The issuer's discovery document or JWKS could not be fetched or read.
    #[error("the issuer's keys are unavailable: {0}")]
    Unavailable(String),
}

impl OidcError {
    /// Whether the caller's token is at fault (401) rather than vern's reach to the issuer
    /// (503).
    pub fn is_token_fault(&self) -> bool {
        !matches!(self, OidcError::Unavailable(_))
    }
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub issuer: String,
    pub subject: String,
    pub scopes: BTreeSet<String>,
    pub expires_at: i64,
    /// Every claim, for callers that need more (e.g. `loa`).
    pub claims: serde_json::Map<String, Value>,
}

impl VerifiedToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// Whether any of `scopes` was granted.
    pub fn has_any_scope<'a>(&self, mut scopes: impl Iterator<Item = &'a str>) -> bool {
        scopes.any(|s| self.scopes.contains(s))
    }
}

/// Verifies tokens of a set of trusted issuers. Cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct OidcVerifier {
    issuers: Arc<Vec<Issuer>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier")
            .field(
                "issuers",
                &self
                    .issuers
                    .iter()
                    .map(|i| i.config.issuer.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

struct Issuer {
    config: IssuerConfig,
    cache: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    jwks_uri: Option<String>,
    keys: HashMap<String, Jwk>,
    /// When the JWKS was last fetched (monotonic: a rate limit, not a domain time).
    fetched_at: Option<Instant>,
    /// How many JWKS fetches happened (observable in tests).
    fetches: u64,
}

#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Value>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

impl OidcVerifier {
    /// A verifier for `issuers`. Builds its own HTTP client (rustls, no redirects to other
    /// schemes, per-request timeouts from the issuer config).
    pub fn new(issuers: Vec<IssuerConfig>) -> Result<Self, OidcError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| OidcError::Unavailable(format!("HTTP client: {e}")))?;
        Ok(OidcVerifier {
            issuers: Arc::new(
                issuers
                    .into_iter()
                    .map(|config| Issuer {
                        config,
                        cache: Mutex::new(KeyCache::default()),
                    })
                    .collect(),
            ),
            http,
        })
    }

    /// The configured issuers.
    pub fn issuers(&self) -> impl Iterator<Item = &IssuerConfig> {
        self.issuers.iter().map(|i| &i.config)
    }

    /// How many times the JWKS of `issuer` was fetched (for tests and metrics).
    pub async fn jwks_fetches(&self, issuer: &str) -> u64 {
        match self.issuers.iter().find(|i| i.config.issuer == issuer) {
            Some(i) => i.cache.lock().await.fetches,
            None => 0,
        }
    }

    /// Verifies `token` as of `now` (see the module documentation for the checks).
    pub async fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedToken, OidcError> {
        let parsed = parse_jws(token)?;
        // The issuer is read before the signature is checked only to choose whose keys to use;
        // a forged `iss` then fails the signature with that issuer's keys.
        let iss = parsed.issuer()?;
        let issuer = self
            .issuers
            .iter()
            .find(|i| i.config.issuer == iss)
            .ok_or(OidcError::UntrustedIssuer)?;
        let key = issuer
            .key(&self.http, parsed.header.kid.as_deref(), parsed.alg)
            .await?;
        verify_signature(
            &key,
            parsed.alg,
            parsed.signed.as_bytes(),
            &parsed.signature,
        )?;
        check_claims(&issuer.config, parsed.claims, now)
    }
}

/// A JWS compact token taken apart (nothing verified yet).
struct ParsedJws<'a> {
    header: Header,
    alg: Alg,
    claims: serde_json::Map<String, Value>,
    signature: Vec<u8>,
    /// `header.payload`, the signed bytes.
    signed: &'a str,
}

impl ParsedJws<'_> {
    fn issuer(&self) -> Result<&str, OidcError> {
        self.claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(OidcError::MissingClaim("iss"))
    }
}

/// Splits and decodes a token: three base64url parts, a JSON header naming RS256 or ES256, a
/// JSON object payload. Pure, so it can be fuzzed.
fn parse_jws(token: &str) -> Result<ParsedJws<'_>, OidcError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OidcError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::Malformed("not three dot-separated parts"));
    };
    let header: Header = serde_json::from_slice(&b64(h64)?)
        .map_err(|_| OidcError::Malformed("the header is not a JSON object"))?;
    let alg = match header.alg.as_str() {
        "RS256" => Alg::Rs256,
        "ES256" => Alg::Es256,
        _ => return Err(OidcError::UnsupportedAlgorithm),
    };
    let payload = b64(p64)?;
    let claims: serde_json::Map<String, Value> = serde_json::from_slice(&payload)
        .map_err(|_| OidcError::Malformed("the payload is not a JSON object"))?;
    let signature = b64(s64)?;
    Ok(ParsedJws {
        header,
        alg,
        claims,
        signature,
        signed: &token[..h64.len() + 1 + p64.len()],
    })
}

/// Parses a JWKS document as a refresh does: keys vern cannot use (other types, malformed) are
/// skipped, not fatal — issuers publish encryption keys and new algorithms next to the signing
/// keys. At most [`MAX_KEYS`] are read.
fn parse_jwks(set: JwkSet) -> HashMap<String, Jwk> {
    let mut keys = HashMap::new();
    for raw in set.keys.into_iter().take(MAX_KEYS) {
        if let Ok(k) = serde_json::from_value::<Jwk>(raw) {
            keys.insert(k.kid.clone().unwrap_or_default(), k);
        }
    }
    keys
}

/// Every check of [`OidcVerifier::verify`] against a JWKS document given as bytes instead of
/// fetched: the whole parsing surface (token, header, claims, JWKS, keys, signature) without
/// the network. For fuzzing and offline checks.
pub fn verify_offline(
    config: &IssuerConfig,
    jwks: &[u8],
    token: &str,
    now: OffsetDateTime,
) -> Result<VerifiedToken, OidcError> {
    let parsed = parse_jws(token)?;
    if parsed.issuer()? != config.issuer {
        return Err(OidcError::UntrustedIssuer);
    }
    let set: JwkSet = serde_json::from_slice(jwks)
        .map_err(|_| OidcError::Unavailable("the JWKS is not a key set".into()))?;
    let keys = parse_jwks(set);
    let key =
        pick(&keys, parsed.header.kid.as_deref(), parsed.alg)?.ok_or(OidcError::UnknownKey)?;
    verify_signature(
        &key,
        parsed.alg,
        parsed.signed.as_bytes(),
        &parsed.signature,
    )?;
    check_claims(config, parsed.claims, now)
}

fn b64(part: &str) -> Result<Vec<u8>, OidcError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| OidcError::Malformed("a part is not base64url"))
}

fn check_claims(
    config: &IssuerConfig,
    claims: serde_json::Map<String, Value>,
    now: OffsetDateTime,
) -> Result<VerifiedToken, OidcError> {
    let now = now.unix_timestamp();
    let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX);
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(OidcError::MissingClaim("aud")),
    };
    if !audiences
        .iter()
        .any(|a| config.audiences.iter().any(|c| c == a))
    {
        return Err(OidcError::Audience);
    }
    let exp = numeric(&claims, "exp")?.ok_or(OidcError::MissingClaim("exp"))?;
    if now >= exp.saturating_add(leeway) {
        return Err(OidcError::Expired);
    }
    if let Some(nbf) = numeric(&claims, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(OidcError::NotYetValid);
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(OidcError::MissingClaim("sub"))?
        .to_owned();
    let mut scopes = BTreeSet::new();
    for name in &config.scope_claims {
        collect_scopes(&claims, name, &mut scopes);
    }
    Ok(VerifiedToken {
        issuer: config.issuer.clone(),
        subject,
        scopes,
        expires_at: exp,
        claims,
    })
}

/// A NumericDate claim (seconds, integer or fractional); `Ok(None)` when absent.
fn numeric(
    claims: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, OidcError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => match (v.as_i64(), v.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            #[allow(clippy::cast_possible_truncation)]
            (None, Some(f)) if f.is_finite() => Ok(Some(f as i64)),
            _ => Err(OidcError::Malformed("a time claim is not a number")),
        },
    }
}

/// Adds the scopes held by claim `name` (see the module documentation).
fn collect_scopes(claims: &serde_json::Map<String, Value>, name: &str, out: &mut BTreeSet<String>) {
    if let Some(v) = claims.get(name) {
        add_scopes(v, out);
        return;
    }
    let mut level: Vec<&Value> = Vec::new();
    let mut first = true;
    for part in name.split('.') {
        let mut next = Vec::new();
        if first {
            if let Some(v) = claims.get(part) {
                next.push(v);
            }
            first = false;
        } else {
            for v in level {
                descend(v, part, &mut next);
            }
        }
        level = next;
    }
    for v in level {
        add_scopes(v, out);
    }
}

/// Steps into `key` of `v`, through any lists on the way.
fn descend<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            if let Some(child) = map.get(key) {
                out.push(child);
            }
        }
        Value::Array(list) => {
            for item in list {
                descend(item, key, out);
            }
        }
        _ => {}
    }
}

fn add_scopes(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.extend(s.split_whitespace().map(str::to_owned));
        }
        Value::Array(list) => {
            for item in list {
                add_scopes(item, out);
            }
        }
        _ => {}
    }
}

fn verify_signature(key: &Jwk, alg: Alg, signed: &[u8], sig: &[u8]) -> Result<(), OidcError> {
    use ring::signature;
    match alg {
        Alg::Rs256 => {
            let n = key.n.as_deref().ok_or(OidcError::KeyMismatch)?;
            let e = key.e.as_deref().ok_or(OidcError::KeyMismatch)?;
            let components = signature::RsaPublicKeyComponents {
                n: b64(n).map_err(|_| OidcError::KeyMismatch)?,
                e: b64(e).map_err(|_| OidcError::KeyMismatch)?,
            };
            components
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed, sig)
                .map_err(|_| OidcError::BadSignature)
        }
        Alg::Es256 => {
            let x = b64(key.x.as_deref().ok_or(OidcError::KeyMismatch)?)
                .map_err(|_| OidcError::KeyMismatch)?;
            let y = b64(key.y.as_deref().ok_or(OidcError::KeyMismatch)?)
                .map_err(|_| OidcError::KeyMismatch)?;
            if x.len() != 32 || y.len() != 32 {
                return Err(OidcError::KeyMismatch);
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed, sig)
                .map_err(|_| OidcError::BadSignature)
        }
    }
}

/// Whether `key` may verify `alg` signatures.
fn fits(key: &Jwk, alg: Alg) -> bool {
    if key.use_.as_deref().is_some_and(|u| u != "sig") {
        return false;
    }
    let (kty, name) = match alg {
        Alg::Rs256 => ("RSA", "RS256"),
        Alg::Es256 => ("EC", "ES256"),
    };
    key.kty == kty
        && key.alg.as_deref().is_none_or(|a| a == name)
        && (alg != Alg::Es256 || key.crv.as_deref() == Some("P-256"))
}

impl Issuer {
    /// The key for `kid` (or the only fitting key when the token names none), refetching the
    /// JWKS once if the id is unknown and the last fetch is older than `min_refetch`.
    async fn key(
        &self,
        http: &reqwest::Client,
        kid: Option<&str>,
        alg: Alg,
    ) -> Result<Jwk, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(k) = pick(&cache.keys, kid, alg)? {
            return Ok(k);
        }
        let may_fetch = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.config.min_refetch);
        if !may_fetch {
            return Err(OidcError::UnknownKey);
        }
        self.refresh(http, &mut cache).await?;
        pick(&cache.keys, kid, alg)?.ok_or(OidcError::UnknownKey)
    }

    async fn refresh(&self, http: &reqwest::Client, cache: &mut KeyCache) -> Result<(), OidcError> {
        // Counted before the fetch so a failing issuer is rate limited too.
        cache.fetched_at = Some(Instant::now());
        cache.fetches += 1;
        let jwks_uri = match &cache.jwks_uri {
            Some(u) => u.clone(),
            None => {
                let doc: Discovery = fetch_json(
                    http,
                    &self.config.discovery_url(),
                    self.config.fetch_timeout,
                )
                .await?;
                if doc.issuer != self.config.issuer {
                    return Err(OidcError::Unavailable(
                        "the discovery document names another issuer".into(),
                    ));
                }
                check_url(&doc.jwks_uri)?;
                cache.jwks_uri = Some(doc.jwks_uri.clone());
                doc.jwks_uri
            }
        };
        let set: JwkSet = fetch_json(http, &jwks_uri, self.config.fetch_timeout).await?;
        cache.keys = parse_jwks(set);
        Ok(())
    }
}

fn pick(
    keys: &HashMap<String, Jwk>,
    kid: Option<&str>,
    alg: Alg,
) -> Result<Option<Jwk>, OidcError> {
    match kid {
        Some(kid) => match keys.get(kid) {
            Some(k) if fits(k, alg) => Ok(Some(k.clone())),
            Some(_) => Err(OidcError::KeyMismatch),
            None => Ok(None),
        },
        None => {
            let mut fitting = keys.values().filter(|k| fits(k, alg));
            match (fitting.next(), fitting.next()) {
                (Some(k), None) => Ok(Some(k.clone())),
                _ => Ok(None),
            }
        }
    }
}

/// Only HTTPS, except for loopback issuers (local development and tests).
fn check_url(url: &str) -> Result<(), OidcError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| OidcError::Unavailable("an issuer URL does not parse".into()))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(OidcError::Unavailable(
            "issuer URLs must use https (http only on loopback)".into(),
        )),
    }
}

async fn fetch_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<T, OidcError> {
    check_url(url)?;
    let unavailable = |what: &str| OidcError::Unavailable(format!("{what} ({url})"));
    let mut resp = http
        .get(url)
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|_| unavailable("fetch failed"))?;
    if !resp.status().is_success() {
        return Err(unavailable(&format!("status {}", resp.status().as_u16())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| unavailable("read failed"))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(unavailable("document too large"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| unavailable("not the expected JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    #[test]
    fn keycloak_nested_scopes_are_flattened() {
        let c = claims(json!({"authorization": {"permissions": [
            {"scopes": [["gdprquery"], "other"]}, {"scopes": ["gdprdelete"]}]}}));
        let mut out = BTreeSet::new();
        collect_scopes(&c, "authorization.permissions.scopes", &mut out);
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            ["gdprdelete", "gdprquery", "other"]
        );
    }

    #[test]
    fn an_exact_claim_name_with_dots_wins_over_the_path() {
        let c = claims(json!({"https://api.example.org": ["a.b"], "scope": "x y"}));
        let mut out = BTreeSet::new();
        collect_scopes(&c, "https://api.example.org", &mut out);
        collect_scopes(&c, "scope", &mut out);
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["a.b", "x", "y"]);
    }

    #[test]
    fn time_checks_use_the_leeway() {
        let cfg = IssuerConfig::new("https://id.example/", vec!["api".into()]);
        let base = json!({"iss": "https://id.example/", "sub": "s", "aud": ["x", "api"]});
        let at = |exp: i64, nbf: Option<i64>, now: i64| {
            let mut c = claims(base.clone());
            c.insert("exp".into(), json!(exp));
            if let Some(n) = nbf {
                c.insert("nbf".into(), json!(n));
            }
            let now =
                OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            check_claims(&cfg, c, now).map(|_| ())
        };
        assert_eq!(at(1000, None, 1059), Ok(()));
        assert_eq!(at(1000, None, 1060), Err(OidcError::Expired));
        assert_eq!(at(5000, Some(1100), 1040), Ok(()));
        assert_eq!(at(5000, Some(1100), 1039), Err(OidcError::NotYetValid));
        let mut c = claims(base.clone());
        c.insert("aud".into(), json!("other"));
        c.insert("exp".into(), json!(5000));
        assert_eq!(
            check_claims(&cfg, c, OffsetDateTime::UNIX_EPOCH).map(|_| ()),
            Err(OidcError::Audience)
        );
        let c = claims(base);
        assert_eq!(
            check_claims(&cfg, c, OffsetDateTime::UNIX_EPOCH).map(|_| ()),
            Err(OidcError::MissingClaim("exp"))
        );
    }

    #[test]
    fn only_loopback_may_use_http() {
        assert!(check_url("https://id.example/jwks").is_ok());
        assert!(check_url("http://127.0.0.1:8888/jwks").is_ok());
        assert!(check_url("http://id.example/jwks").is_err());
        assert!(check_url("file:///etc/passwd").is_err());
    }
}
