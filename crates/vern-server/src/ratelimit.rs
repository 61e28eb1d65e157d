//! Rate limits on the public edges that invite guessing and flooding: submitting a data-subject
//! request (`POST /v1/requests`, the portal's `POST /rights`) and confirming one with the
//! emailed code (`POST /v1/request-verifications/{token}`, the portal's `POST /confirm/{token}`).
//!
//! Token buckets, in memory, per node (decision 0021):
//! - per client network: the client IP truncated to its /24 (IPv4) or /64 (IPv6), so one host
//!   cannot dodge the limit by rotating addresses in its own subnet;
//! - per target request, for code attempts: every attempt on links of the same request draws
//!   from one bucket, whatever address it comes from (a distributed guesser gains nothing).
//!
//! The client IP is the TCP peer, unless the peer is a trusted proxy (`--trusted-proxy`): then it
//! is the right-most address in `X-Forwarded-For` that is not itself a trusted proxy. Loopback
//! clients are exempt by default (health checks, the CLI, local tools and the test suite), but
//! only when no `X-Forwarded-For` header is present: a proxy on the same host that is not
//! declared trusted then puts every client in one loopback bucket, which shows up as 429s in
//! testing rather than as a silently missing limit.
//!
//! A refused attempt answers 429 with `Retry-After` (whole seconds) and a problem body. The
//! buckets hold no personal data beyond a truncated address, are never logged, and forget a key
//! once its bucket is full again.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ProblemKind};

/// One token bucket's shape: `burst` attempts at once, then one more every `refill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub burst: u32,
    pub refill: Duration,
}

impl Bucket {
    pub const fn new(burst: u32, refill: Duration) -> Self {
        Bucket { burst, refill }
    }

    /// A bucket of zero never refuses (the limit is off).
    pub fn is_off(&self) -> bool {
        self.burst == 0
    }
}

/// `BURST/SECONDS`: `10/60` is 10 at once, then one more every 60 s; `0` turns the limit off.
impl std::str::FromStr for Bucket {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected BURST/SECONDS (e.g. 10/60), or 0 for no limit");
        if s.trim() == "0" {
            return Ok(Bucket::new(0, Duration::ZERO));
        }
        let (burst, secs) = s.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
        let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            return Err(bad());
        }
        Ok(Bucket::new(burst, Duration::from_secs_f64(secs)))
    }
}

/// An address range: `10.0.0.0/8`, `::1/128`, or a bare address (one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                prefix_eq(&a.octets(), &b.octets(), self.prefix.min(32))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                prefix_eq(&a.octets(), &b.octets(), self.prefix.min(128))
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an IP address or CIDR range"))?;
        let addr = canonical(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = usize::from(bits / 8);
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, from dual-stack sockets) count as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// The rate limits of `vern serve` (flags `--rate-*` and `--trusted-proxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Request submissions per client network.
    pub submit_per_client: Bucket,
    /// Verification-code attempts per client network.
    pub verify_per_client: Bucket,
    /// Verification-code attempts per target request (across all its links and clients).
    pub verify_per_request: Bucket,
    /// Peers whose `X-Forwarded-For` is believed (the reverse proxies in front of vern).
    pub trusted_proxies: Vec<Cidr>,
    /// Whether loopback clients without `X-Forwarded-For` skip the per-client limits.
    pub exempt_loopback: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            // A household or an office behind one NAT may well send a handful of requests in
            // a row; a flood of hundreds is not a person.
            submit_per_client: Bucket::new(10, Duration::from_secs(60)),
            // Codes are 6 digits with 5 attempts per link; 20 attempts then one every 10 s per
            // network keeps typos free and makes spraying many links slow.
            verify_per_client: Bucket::new(20, Duration::from_secs(10)),
            // 10 attempts (two links' worth) then one a minute for any one request.
            verify_per_request: Bucket::new(10, Duration::from_secs(60)),
            trusted_proxies: Vec::new(),
            exempt_loopback: true,
        }
    }
}

impl RateLimitConfig {
    /// No limits at all (benchmarks and tests that hammer one endpoint).
    pub fn off() -> Self {
        let off = Bucket::new(0, Duration::ZERO);
        RateLimitConfig {
            submit_per_client: off,
            verify_per_client: off,
            verify_per_request: off,
            trusted_proxies: Vec::new(),
            exempt_loopback: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Scope {
    SubmitClient,
    VerifyClient,
    VerifyRequest,
}

#[derive(Debug, Clone, Copy)]
struct State0 {
    tokens: f64,
    at: Instant,
    /// The shape it was filled with, so pruning knows when it is full again.
    shape: Bucket,
}

/// Beyond this many keys, full buckets are forgotten on the next insert.
const PRUNE_ABOVE: usize = 10_000;

/// The buckets of one node.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(Scope, [u8; 16]), State0>>,
}

impl RateLimiter {
    /// Takes one token from the bucket at `key`, or says how long until one is there.
    fn take(&self, scope: Scope, key: [u8; 16], shape: Bucket, now: Instant) -> Result<(), u64> {
        if shape.is_off() {
            return Ok(());
        }
        let mut map = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > PRUNE_ABOVE && !map.contains_key(&(scope, key)) {
            map.retain(|_, st| refilled(*st, st.shape, now) < f64::from(st.shape.burst));
        }
        let st = map.entry((scope, key)).or_insert(State0 {
            tokens: f64::from(shape.burst),
            at: now,
            shape,
        });
        let tokens = refilled(*st, shape, now);
        if tokens >= 1.0 {
            *st = State0 {
                tokens: tokens - 1.0,
                at: now,
                shape,
            };
            Ok(())
        } else {
            *st = State0 {
                tokens,
                at: now,
                shape,
            };
            let wait = shape.refill.as_secs_f64() * (1.0 - tokens);
            // Whole seconds, rounded up, at least 1 (the header has no fractions).
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let secs = wait.ceil().max(1.0) as u64;
            Err(secs)
        }
    }
}

fn refilled(st: State0, shape: Bucket, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(st.at).as_secs_f64();
    let per = shape.refill.as_secs_f64();
    let gained = if per > 0.0 {
        elapsed / per
    } else {
        f64::INFINITY
    };
    (st.tokens + gained).min(f64::from(shape.burst))
}

/// The key of a client: its address truncated to /24 or /64, as 16 bytes.
fn client_key(ip: IpAddr) -> [u8; 16] {
    let mut k = [0u8; 16];
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            k[..3].copy_from_slice(&o[..3]);
            // Marks IPv4 so 1.2.3.0/24 and a v6 prefix 0102:03.. never share a bucket.
            k[15] = 4;
        }
        IpAddr::V6(v6) => k[..8].copy_from_slice(&v6.octets()[..8]),
    }
    k
}

/// The client address behind `peer`, honouring `X-Forwarded-For` from trusted proxies only.
/// Also says whether the header was present (a loopback peer with it is a proxy, not a tool).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> (IpAddr, bool) {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let has_forwarded = !forwarded.is_empty();
    if !trusted.iter().any(|c| c.contains(peer)) {
        return (canonical(peer), has_forwarded);
    }
    let mut client = canonical(peer);
    // Right to left: each hop appended the address it saw; stop at the first untrusted one.
    for hop in forwarded.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // Garbage in the chain: trust nothing to its left.
            break;
        };
        client = canonical(ip);
        if !trusted.iter().any(|c| c.contains(client)) {
            break;
        }
    }
    (client, has_forwarded)
}

/// What a limited route is.
enum Edge {
    Submit,
    Verify(String),
}

fn edge(method: &Method, path: Option<&str>, uri_path: &str) -> Option<Edge> {
    if method != Method::POST {
        return None;
    }
    match path? {
        "/v1/requests" | "/rights" => Some(Edge::Submit),
        "/v1/request-verifications/{token}" | "/confirm/{token}" => {
            let token = uri_path.rsplit('/').next().unwrap_or_default();
            Some(Edge::Verify(token.to_owned()))
        }
        _ => None,
    }
}

fn refuse(secs: u64, what: &str) -> Response {
    let mut r = ApiError::new(
        ProblemKind::TooManyRequests,
        format!("too many {what}; try again in {secs} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The layer: counts an attempt on a limited route before the handler runs.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let Some(edge) = edge(req.method(), matched, req.uri().path()) else {
        return next.run(req).await;
    };
    let cfg = &state.config().rate_limits;
    let limiter = state.limiter();
    let now = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    // Without a peer address (in-process calls) there is no client to count.
    let client = peer.map(|p| client_ip(p, req.headers(), &cfg.trusted_proxies));
    let exempt = client.is_none_or(|(ip, fwd)| cfg.exempt_loopback && ip.is_loopback() && !fwd);
    let ck = client.map(|(ip, _)| client_key(ip)).unwrap_or_default();
    match edge {
        Edge::Submit => {
            if !exempt
                && let Err(secs) = limiter.take(Scope::SubmitClient, ck, cfg.submit_per_client, now)
            {
                metrics::counter!("vern_rate_limited_total", "limit" => "submit_client")
                    .increment(1);
                return refuse(secs, "requests from this network");
            }
        }
        Edge::Verify(token) => {
            if !exempt
                && let Err(secs) = limiter.take(Scope::VerifyClient, ck, cfg.verify_per_client, now)
            {
                metrics::counter!("vern_rate_limited_total", "limit" => "verify_client")
                    .increment(1);
                return refuse(secs, "code attempts from this network");
            }
            if !cfg.verify_per_request.is_off() {
                // The target request when the link is live; an unknown link has no request,
                // and its own bucket (its hash) keeps hammering on it bounded too.
                let target = if token.len() <= 100 {
                    state
                        .vault()
                        .verification_request(&token)
                        .await
                        .ok()
                        .flatten()
                } else {
                    None
                };
                let tk = target.map_or_else(|| token_key(&token), |id: Uuid| *id.as_bytes());
                if let Err(secs) =
                    limiter.take(Scope::VerifyRequest, tk, cfg.verify_per_request, now)
                {
                    metrics::counter!("vern_rate_limited_total", "limit" => "verify_request")
                        .increment(1);
                    return refuse(secs, "code attempts for this request");
                }
            }
        }
    }
    next.run(req).await
}

fn token_key(token: &str) -> [u8; 16] {
    let h = vern_core::crypto::hash_token(token);
    let mut k = [0u8; 16];
    k.copy_from_slice(&h[..16]);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_bucket_gives_its_burst_then_refills_one_per_period() {
        let l = RateLimiter::default();
        let shape = Bucket::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let k = client_key(ip("192.0.2.7"));
        for _ in 0..3 {
            assert!(l.take(Scope::SubmitClient, k, shape, t0).is_ok());
        }
        assert_eq!(l.take(Scope::SubmitClient, k, shape, t0), Err(10));
        assert_eq!(
            l.take(Scope::SubmitClient, k, shape, t0 + Duration::from_secs(4)),
            Err(6)
        );
        assert!(
            l.take(Scope::SubmitClient, k, shape, t0 + Duration::from_secs(10))
                .is_ok()
        );
        // Another scope and another network have their own buckets.
        assert!(l.take(Scope::VerifyClient, k, shape, t0).is_ok());
        let other = client_key(ip("192.0.3.7"));
        assert!(l.take(Scope::SubmitClient, other, shape, t0).is_ok());
    }

    #[test]
    fn an_off_bucket_never_refuses() {
        let l = RateLimiter::default();
        let off = RateLimitConfig::off().submit_per_client;
        for _ in 0..1000 {
            assert!(
                l.take(Scope::SubmitClient, [0; 16], off, Instant::now())
                    .is_ok()
            );
        }
    }

    #[test]
    fn clients_are_keyed_by_their_24_or_64() {
        assert_eq!(client_key(ip("192.0.2.1")), client_key(ip("192.0.2.254")));
        assert_ne!(client_key(ip("192.0.2.1")), client_key(ip("192.0.3.1")));
        assert_eq!(
            client_key(ip("::ffff:192.0.2.1")),
            client_key(ip("192.0.2.9"))
        );
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa::1")),
            client_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn buckets_parse_from_flags() {
        assert_eq!(
            "10/60".parse::<Bucket>(),
            Ok(Bucket::new(10, Duration::from_secs(60)))
        );
        assert_eq!(
            "3/0.5".parse::<Bucket>(),
            Ok(Bucket::new(3, Duration::from_millis(500)))
        );
        assert!("0".parse::<Bucket>().unwrap().is_off());
        for bad in ["", "10", "10/0", "x/1", "10/-1", "10/inf"] {
            assert!(bad.parse::<Bucket>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.1.1")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let odd: Cidr = "192.168.4.0/22".parse().unwrap();
        assert!(odd.contains(ip("192.168.7.255")) && !odd.contains(ip("192.168.8.0")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let trusted: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        // From the trusted proxy: the right-most untrusted hop.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &h, &trusted),
            (ip("203.0.113.9"), true)
        );
        // From anyone else: the peer, whatever the header says.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &trusted),
            (ip("198.51.100.1"), true)
        );
        // A spoofed left-most entry does not help a client behind the proxy.
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 203.0.113.9"),
        );
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted).0, ip("203.0.113.9"));
        // Garbage stops the walk.
        h.insert("x-forwarded-for", HeaderValue::from_static("junk"));
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted).0, ip("10.0.0.1"));
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            (ip("127.0.0.1"), false)
        );
    }

    #[test]
    fn only_posts_to_the_four_edges_are_limited() {
        assert!(matches!(
            edge(&Method::POST, Some("/v1/requests"), "/v1/requests"),
            Some(Edge::Submit)
        ));
        assert!(matches!(
            edge(&Method::POST, Some("/rights"), "/rights"),
            Some(Edge::Submit)
        ));
        assert!(
            matches!(edge(&Method::POST, Some("/confirm/{token}"), "/confirm/abc"), Some(Edge::Verify(t)) if t == "abc")
        );
        assert!(edge(&Method::GET, Some("/v1/requests"), "/v1/requests").is_none());
        assert!(edge(&Method::POST, Some("/v1/subjects"), "/v1/subjects").is_none());
        assert!(edge(&Method::POST, None, "/nowhere").is_none());
    }
}
