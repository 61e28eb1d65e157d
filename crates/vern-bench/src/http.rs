//! HTTP load on loopback: a real `vern_server::serve` and a keep-alive HTTP/1.1 client written
//! on hyper, each on its own 2-thread runtime, so both share the machine's cores as they would
//! with an external load generator on the same box. Bounded in time (single decisions) and in
//! count (bulk calls).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use vern_server::{AppState, ServerConfig, Vault};

/// A server listening on 127.0.0.1 (spawn on the server's runtime).
pub async fn start(vault: Arc<Vault>) -> anyhow::Result<SocketAddr> {
    let state = AppState::from_arc(vault, ServerConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(vern_server::serve(listener, state, std::future::pending()));
    Ok(addr)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One keep-alive connection.
pub struct Conn {
    sender: Sender,
    host: String,
    auth: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr, token: &str) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Conn {
            sender,
            host: addr.to_string(),
            auth: format!("Bearer {token}"),
        })
    }

    /// POSTs `body`; the status and the response body.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let req = Request::post(path)
            .header("host", &self.host)
            .header("authorization", &self.auth)
            .header("content-type", content_type)
            .body(Full::new(body))?;
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat`; 0 elsewhere.
/// The machine is shared, so wall-clock rates depend on the neighbours; CPU per request does
/// not, and says what two dedicated cores would sustain.
pub fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may contain spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// The result of a timed single-request run.
pub struct SingleRun {
    pub requests: usize,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU (server and load generator together) per request.
    pub cpu_us: f64,
}

/// `conns` connections each POSTing `bodies` round-robin to `path` until `dur` has passed
/// (after a one-second warm-up of the same shape). Every answer must be 200.
pub async fn single(
    addr: SocketAddr,
    token: &str,
    path: &'static str,
    bodies: Arc<Vec<Bytes>>,
    conns: usize,
    dur: Duration,
) -> anyhow::Result<SingleRun> {
    let mut last = None;
    for measured in [Duration::from_secs(1), dur] {
        let deadline = Instant::now() + measured;
        let mut tasks = Vec::new();
        for c in 0..conns {
            let bodies = bodies.clone();
            let token = token.to_owned();
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(addr, &token).await?;
                let mut lat = Vec::with_capacity(50_000);
                let mut n = c;
                while Instant::now() < deadline {
                    let body = bodies[n % bodies.len()].clone();
                    let t = Instant::now();
                    let (status, _) = conn.post(path, "application/json", body).await?;
                    if status != StatusCode::OK {
                        bail!("{path} answered {status}");
                    }
                    lat.push(t.elapsed());
                    n += conns;
                }
                Ok(lat)
            }));
        }
        let started = Instant::now();
        let cpu0 = cpu_secs();
        let mut lat: Vec<Duration> = Vec::new();
        for t in tasks {
            lat.extend(t.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu0;
        last = Some((lat, elapsed, cpu));
    }
    let (mut lat, elapsed, cpu) = last.context("no run")?;
    if lat.is_empty() {
        bail!("no request completed");
    }
    lat.sort();
    let pct =
        |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    Ok(SingleRun {
        requests: lat.len(),
        per_sec: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        cpu_us: cpu / lat.len() as f64 * 1e6,
    })
}

/// One call to fill caches, then `calls` measured calls of `body` (with `items` entries) to
/// `path`; the rate of each measured call in items per second.
pub async fn bulk(
    addr: SocketAddr,
    token: &str,
    path: &str,
    content_type: &str,
    body: Bytes,
    items: usize,
    calls: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut conn = Conn::open(addr, token).await?;
    let (status, _) = conn.post(path, content_type, body.clone()).await?;
    if status != StatusCode::OK {
        bail!("{path} answered {status}");
    }
    let mut rates = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let (status, out) = conn.post(path, content_type, body.clone()).await?;
        let secs = t.elapsed().as_secs_f64();
        if status != StatusCode::OK || out.len() < items * 20 {
            bail!("{path} answered {status} with {} bytes", out.len());
        }
        rates.push(items as f64 / secs);
    }
    Ok(rates)
}
