//! The benchmarks. Each group makes its own fresh database, returns its records and drops the
//! database again. Sizes are the default sizes times the scale; the targets are the capability
//! issues' (some of them stated at a larger size than a default run uses: the detail says the
//! size measured).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hyper::body::Bytes;
use vern_core::consent::{ConsentAction, ConsentMethod, ConsentState, fold, plan_events};
use vern_core::decision::{AddressKind, DecisionInput, Objections, decide};
use vern_server::jobs::{Runner, RunnerConfig};
use vern_server::vault::{
    ConsentRequestMeta, DecisionRequest, EventBatch, EventInput, IdentifierInput,
    KIND_POLICY_NOTICES, PolicyPublishInput,
};
use vern_server::{Vault, ensure_initial_admin_token};
use vern_store::Store as _;

use crate::data::{self, consent};
use crate::db::{Backend, Db, admin};
use crate::http;
use crate::report::{Record, Target, median};
use crate::seed;

/// What to run and how big.
#[derive(Debug, Clone)]
pub struct Config {
    /// Multiplier of the default sizes (1.0 is the default run).
    pub scale: f64,
    pub postgres_url: String,
    /// Groups to run (`None`: all of [`GROUPS`]).
    pub only: Option<Vec<String>>,
}

/// Every group, in the order they run.
pub const GROUPS: [&str; 5] = ["decide", "import", "http", "consent", "retention"];

/// Every record name a full run produces, per backend (`decisions.in_process` once, with
/// backend `none`: it touches no database).
pub const NAMES: [&str; 25] = [
    "decisions.in_process",
    "import.records",
    "import.subjects",
    "notices.fan_out",
    "rights.access_report_p50",
    "rights.erasure_partial_p50",
    "rights.erasure_complete_p50",
    "decisions.http_single",
    "decisions.http_single_p99",
    "decisions.http_single_p50",
    "decisions.http_single_16_conns",
    "decisions.http_single_16_conns_p99",
    "decisions.http_bulk_json_by_id",
    "decisions.http_bulk_ndjson_by_id",
    "decisions.http_bulk_json_by_email",
    "decisions.http_bulk_ndjson_by_email",
    "consent.writes_64_clients",
    "decisions.bulk_vault_by_email",
    "events.ingest_batches_of_1000",
    "retention.sweep",
    "retention.sweep_vs_bare_delete",
    "retention.sweep_records",
    "retention.empty_sweep",
    "retention.recompute_all_moved",
    "retention.recompute_none_moved",
];

impl Config {
    fn n(&self, default: usize, min: usize) -> usize {
        ((default as f64 * self.scale) as usize).max(min)
    }

    pub fn runs(&self, group: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|g| g == group))
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

/// In-process decisions for a subject whose state is already in memory, on one core: the inner
/// loop of a campaign filter. Median of 5 runs of 200 ms (× scale).
pub fn decide_in_process(cfg: &Config) -> anyhow::Result<Vec<Record>> {
    let policy = crate::db::bundled_policy()?;
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let events = plan_events(
        &policy,
        &ConsentState::default(),
        "marketing_email",
        None,
        ConsentAction::Granted,
        ConsentMethod::DoubleOptIn,
        at,
    )?;
    let granted = fold(&events);
    let none = Objections::default();
    let input = DecisionInput {
        purpose: "marketing.send",
        channel: Some("email"),
        message_class: Some("newsletter"),
        subject_type: Some("lead"),
        consent: &granted,
        objections: &none,
        restricted: false,
        suppressed: false,
        address: AddressKind::Personal,
        now: 1_800_000_000_000_000,
    };
    if !decide(&policy, &input).allowed {
        bail!("the in-process decision should allow a newsletter with consent");
    }
    let run = Duration::from_secs_f64((0.2 * cfg.scale).clamp(0.02, 2.0));
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut n = 0usize;
        while t.elapsed() < run {
            for _ in 0..1_000 {
                black_box(decide(black_box(&policy), black_box(&input)));
            }
            n += 1_000;
        }
        rates.push(rate(n, t.elapsed().as_secs_f64()));
    }
    Ok(vec![
        Record::new(
            "decisions.in_process",
            "none",
            median(&mut rates),
            "decisions/s",
            "cached subject with consent, newsletter by email, one thread, median of 5".into(),
        )
        .target(Target::AtLeast(5_000_000.0)),
    ])
}

/// The bundled policy with a new consent purpose for leads only: a material change whose
/// publication queues a notice to every lead.
pub fn with_lead_purpose() -> anyhow::Result<String> {
    const SOCIAL: &str = "id = \"marketing.social_audiences\"";
    let src = vern_policy::BUNDLED_SOURCE;
    let at = src
        .find(SOCIAL)
        .context("the bundled policy has no marketing.social_audiences purpose")?;
    let block = r#"id = "marketing.lead_events"
name = { nb = "Invitasjoner til arrangementer", en = "Event invitations" }
description.nb = "Med ditt samtykke inviterer vi deg til arrangementer i sosiale medier."
description.en = "With your consent we invite you to events on social media."
legal_basis = "consent"
consent_scope = "social_ads"
subject_types = ["lead"]
categories = ["contact.email"]
sources = ["direct"]
objection = "absolute"
direct_marketing = true

[[purpose]]
"#;
    Ok(format!("{}{block}{}", &src[..at], &src[at..]))
}

/// Import of leads (one record each), then on the same database: the policy-change notice
/// fan-out through the job runner, and the access report and erasure on request.
pub async fn import_notices_rights(cfg: &Config, backend: Backend) -> anyhow::Result<Vec<Record>> {
    let db = Db::fresh(backend, &cfg.postgres_url).await?;
    let out = import_notices_rights_in(cfg, &db).await;
    db.drop_all().await;
    out
}

async fn import_notices_rights_in(cfg: &Config, db: &Db) -> anyhow::Result<Vec<Record>> {
    let b = db.backend.name();
    let vault = Arc::new(db.vault().await?);
    let who = admin(&vault)?;
    let mut out = Vec::new();

    // 1. Import.
    let leads = cfg.n(50_000, 500);
    let records = leads * 4;
    let t = Instant::now();
    data::import(&vault, &who, 0, leads, data::import_lead).await?;
    let secs = t.elapsed().as_secs_f64();
    let detail = format!(
        "{leads} leads, each one email identifier and four records ({records} records, the shape \
         of scripts/generate-import.py), checked, encrypted and blind-indexed; batches of {} \
         (target stated for 1,000,000 records)",
        data::IMPORT_BATCH
    );
    out.push(
        Record::new(
            "import.records",
            b,
            rate(records, secs),
            "records/s",
            detail.clone(),
        )
        .target(Target::AtLeast(50_000.0)),
    );
    out.push(Record::new(
        "import.subjects",
        b,
        rate(leads, secs),
        "subjects/s",
        detail,
    ));
    // Applicants, who are not told of a change for leads.
    data::import(&vault, &who, 0, leads / 10, data::applicant).await?;

    // 2. Notice fan-out through the job runner.
    let fan = fan_out(&vault, &who, leads, db.backend).await?;
    let (secs, bare) = (fan.secs, fan.bare_secs);
    let store = vault.store();
    out.push(
        Record::new(
            "notices.fan_out",
            b,
            rate(leads, secs),
            "notices/s",
            format!(
                "policy change for {leads} leads (and {} applicants not told), one email notice \
                 each, through the job runner ({secs:.2} s)",
                leads / 10
            ),
        )
        .baseline("bare INSERT…SELECT", rate(leads, bare), "rows/s")
        .target(Target::AtLeast(20_000.0)),
    );

    // 3. Rights in a database of these subjects.
    let big = cfg.n(1_000, 100).min(1_000);
    let samples = cfg.n(15, 3).min(31);
    let target = vault
        .create_subject(&who, &data::lead(usize::MAX, big))
        .await?
        .subject
        .id;
    let mut report = Vec::new();
    let mut rows = Vec::new();
    let tenant = vault.tenant();
    for _ in 0..samples {
        let t = Instant::now();
        vault.access_report(&who, target, "en").await?;
        report.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        store.get_subject(tenant, target).await?;
        store.get_subject_key(tenant, target).await?;
        store.list_identifiers(tenant, target).await?;
        store.list_records(tenant, target).await?;
        rows.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let subjects = leads + leads / 10;
    out.push(
        Record::new(
            "rights.access_report_p50",
            b,
            median(&mut report),
            "ms",
            format!(
                "subject with {big} records among {subjects} subjects, median of {samples} \
                 (target stated for 1,000,000 subjects)"
            ),
        )
        .baseline("store rows only", median(&mut rows), "ms")
        .target(Target::AtMost(50.0)),
    );
    let mut partial = Vec::new();
    let mut complete = Vec::new();
    for k in 0..samples {
        let id = vault
            .create_subject(&who, &data::customer(k))
            .await?
            .subject
            .id;
        let t = Instant::now();
        let done = vault.erase_on_request(&who, id, false).await?;
        partial.push(t.elapsed().as_secs_f64() * 1e3);
        if done.outcome != "partially_refused" {
            bail!(
                "a customer's erasure should keep the invoice: {}",
                done.outcome
            );
        }
        let id = vault
            .create_subject(&who, &data::lead(usize::MAX - 1 - k, 10))
            .await?
            .subject
            .id;
        let t = Instant::now();
        let done = vault.erase_on_request(&who, id, false).await?;
        complete.push(t.elapsed().as_secs_f64() * 1e3);
        if !done.key_destroyed {
            bail!("a lead's erasure should destroy the key");
        }
    }
    out.push(
        Record::new(
            "rights.erasure_partial_p50",
            b,
            median(&mut partial),
            "ms",
            format!(
                "customer contact with 10 records, invoice kept and re-sealed, median of {samples}"
            ),
        )
        .target(Target::AtMost(50.0)),
    );
    out.push(
        Record::new(
            "rights.erasure_complete_p50",
            b,
            median(&mut complete),
            "ms",
            format!("lead with 10 records, key destroyed, median of {samples}"),
        )
        .target(Target::AtMost(50.0)),
    );
    Ok(out)
}

/// The timings of a policy-change notice fan-out.
#[derive(Debug, Clone, Copy)]
pub struct FanOut {
    /// Publishing the version (diff, renewal marks, queuing the job).
    pub publish_secs: f64,
    /// The `policy.notices` job, claimed and run by the job runner as a server runs it.
    pub secs: f64,
    /// A bare `INSERT … SELECT` of the same rows into a scratch table, same database.
    pub bare_secs: f64,
}

/// Publishes [`with_lead_purpose`] effective in 40 days and runs the fan-out job it queues;
/// checks that exactly `leads` email notices were queued (one per lead, no one else).
pub async fn fan_out(
    vault: &Arc<Vault>,
    who: &vern_server::vault::Principal,
    leads: usize,
    backend: Backend,
) -> anyhow::Result<FanOut> {
    let t = Instant::now();
    let published = vault
        .publish_policy(
            who,
            &PolicyPublishInput {
                source: with_lead_purpose()?,
                effective_at: Some(time::OffsetDateTime::now_utc() + time::Duration::days(40)),
            },
        )
        .await?;
    let publish_secs = t.elapsed().as_secs_f64();
    // Claim the `policy.notices` job the publish queued, run its handler (pages, sealing,
    // inserts) under a renewed lease, complete it.
    let runner = Runner::new(
        vault.clone(),
        RunnerConfig {
            sweep_every: None,
            ..RunnerConfig::default()
        },
    );
    let t = Instant::now();
    let (job, outcome) = runner.run_one().await?.context("no job was queued")?;
    let secs = t.elapsed().as_secs_f64();
    if job.kind != KIND_POLICY_NOTICES || !job.payload.contains(&published.id.to_string()) {
        bail!("the runner ran {} instead of the notice fan-out", job.kind);
    }
    outcome.map_err(anyhow::Error::msg)?;
    let versions = vault.policy_versions(who).await?;
    let notices = versions.last().context("no policy version")?.notices;
    if notices.queued != i64::try_from(leads)? || notices.email != i64::try_from(leads)? {
        bail!(
            "{} notices ({} by email) queued for {leads} leads",
            notices.queued,
            notices.email
        );
    }
    let store = vault.store();
    let t = Instant::now();
    store
        .execute_raw_for_tests(
            "CREATE TABLE bench_bare_notices AS SELECT tenant_id, subject_id, 'email' AS channel, \
             0 AS queued_at FROM policy_notices WHERE 1 = 0",
        )
        .await?;
    store
        .execute_raw_for_tests(&format!(
            "INSERT INTO bench_bare_notices SELECT tenant_id, id, 'email', 0 FROM subjects \
             WHERE tenant_id = {} AND subject_type = 'lead'",
            seed::tenant_bytes(backend)
        ))
        .await?;
    Ok(FanOut {
        publish_secs,
        secs,
        bare_secs: t.elapsed().as_secs_f64(),
    })
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?)
}

/// Single and bulk decisions over HTTP on loopback: the server on a 2-thread runtime, the load
/// generator on another (both on the machine's two cores). Builds its own runtimes.
pub fn http_decisions(cfg: &Config, backend: Backend) -> anyhow::Result<Vec<Record>> {
    let server_rt = runtime(2)?;
    let db = server_rt.block_on(Db::fresh(backend, &cfg.postgres_url))?;
    let out = http_decisions_in(cfg, &db, &server_rt);
    server_rt.block_on(db.drop_all());
    out
}

fn http_decisions_in(
    cfg: &Config,
    db: &Db,
    server_rt: &tokio::runtime::Runtime,
) -> anyhow::Result<Vec<Record>> {
    let b = db.backend.name();
    let subjects = cfg.n(2_000, 200);
    let (addr, token, ids) = server_rt.block_on(async {
        let vault = Arc::new(db.vault().await?);
        let who = admin(&vault)?;
        let ids = data::import(&vault, &who, 0, subjects, |i| data::lead(i, 0)).await?;
        let even: Vec<_> = ids.iter().copied().step_by(2).collect();
        data::grant_all(&vault, &who, &even, "marketing_email").await?;
        let token = ensure_initial_admin_token(&vault)
            .await?
            .context("the fresh database already had a token")?;
        tokio::spawn(vault.cache_poller());
        // Let the first poll establish trust.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let addr = http::start(vault).await?;
        anyhow::Ok((addr, token, ids))
    })?;
    let client_rt = runtime(2)?;
    let mut out = Vec::new();

    let conns = 64;
    let secs = (5.0 * cfg.scale).clamp(1.0, 30.0);
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        ids.iter()
            .map(|id| {
                Bytes::from(format!(
                    r#"{{"subject_id":"{id}","purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#
                ))
            })
            .collect(),
    );
    let run = client_rt.block_on(http::single(
        addr,
        &token,
        "/v1/decisions",
        bodies.clone(),
        conns,
        Duration::from_secs_f64(secs),
    ))?;
    let detail = format!(
        "{subjects} subjects (half with consent), {conns} keep-alive connections, {secs:.0} s \
         after 1 s warm-up, {} requests, decision cache and decision audit on; CPU {:.0} µs per \
         request incl. the load generator",
        run.requests, run.cpu_us
    );
    out.push(
        Record::new(
            "decisions.http_single",
            b,
            run.per_sec,
            "decisions/s",
            detail.clone(),
        )
        .target(Target::AtLeast(25_000.0)),
    );
    out.push(
        Record::new(
            "decisions.http_single_p99",
            b,
            run.p99_ms,
            "ms",
            detail.clone(),
        )
        .target(Target::AtMost(5.0)),
    );
    out.push(Record::new(
        "decisions.http_single_p50",
        b,
        run.p50_ms,
        "ms",
        detail,
    ));

    // The same load from 16 connections: how latency falls with concurrency at a similar
    // rate (context for the p99 target, which names no connection count; no target here).
    let few = 16;
    let run = client_rt.block_on(http::single(
        addr,
        &token,
        "/v1/decisions",
        bodies.clone(),
        few,
        Duration::from_secs_f64(secs),
    ))?;
    let detail = format!(
        "as above with {few} keep-alive connections, {} requests",
        run.requests
    );
    out.push(Record::new(
        "decisions.http_single_16_conns",
        b,
        run.per_sec,
        "decisions/s",
        detail.clone(),
    ));
    out.push(Record::new(
        "decisions.http_single_16_conns_p99",
        b,
        run.p99_ms,
        "ms",
        detail,
    ));

    let items = cfg.n(100_000, 1_000).min(100_000);
    let by_id = |i: usize| {
        format!(
            r#"{{"subject_id":"{}","purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
            ids[i % ids.len()]
        )
    };
    // Twice as many addresses as subjects: half are nobody's (a lead list).
    let by_email = |i: usize| {
        format!(
            r#"{{"identifier":{{"kind":"email","value":"lead{}@example.com"}},"purpose":"marketing.send","channel":"email","message_class":"newsletter"}}"#,
            i % (subjects * 2)
        )
    };
    let array = |f: &dyn Fn(usize) -> String| {
        let items: Vec<String> = (0..items).map(f).collect();
        Bytes::from(format!("[{}]", items.join(",")))
    };
    let ndjson = |f: &dyn Fn(usize) -> String| {
        let items: Vec<String> = (0..items).map(f).collect();
        Bytes::from(items.join("\n"))
    };
    let cases = [
        (
            "decisions.http_bulk_json_by_id",
            "application/json",
            array(&by_id),
        ),
        (
            "decisions.http_bulk_ndjson_by_id",
            "application/x-ndjson",
            ndjson(&by_id),
        ),
        (
            "decisions.http_bulk_json_by_email",
            "application/json",
            array(&by_email),
        ),
        (
            "decisions.http_bulk_ndjson_by_email",
            "application/x-ndjson",
            ndjson(&by_email),
        ),
    ];
    let calls = 5;
    for (name, ct, body) in cases {
        let mb = body.len() as f64 / 1e6;
        let mut rates = client_rt.block_on(http::bulk(
            addr,
            &token,
            "/v1/decisions/bulk",
            ct,
            body,
            items,
            calls,
        ))?;
        out.push(
            Record::new(
                name,
                b,
                median(&mut rates),
                "decisions/s",
                format!("{items} per call ({mb:.1} MB), median of {calls} calls after one warm-up"),
            )
            .target(Target::AtLeast(1_000_000.0)),
        );
    }
    drop(client_rt);
    Ok(out)
}

/// Durable consent writes from 64 concurrent clients, bulk decisions through the vault, and
/// event ingestion in batches of 1,000.
pub async fn consent_and_events(cfg: &Config, backend: Backend) -> anyhow::Result<Vec<Record>> {
    let db = Db::fresh(backend, &cfg.postgres_url).await?;
    let out = consent_and_events_in(cfg, &db).await;
    db.drop_all().await;
    out
}

async fn consent_and_events_in(cfg: &Config, db: &Db) -> anyhow::Result<Vec<Record>> {
    const CLIENTS: usize = 64;
    let b = db.backend.name();
    let vault: Arc<Vault> = Arc::new(db.vault().await?);
    let who = admin(&vault)?;
    tokio::spawn(vault.cache_poller());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let subjects = 640;
    let ids = data::import(&vault, &who, 0, subjects, |i| data::lead(i, 0)).await?;
    let mut out = Vec::new();

    // Durable writes, alternating grant and withdrawal per subject; three timed runs (each
    // ends on a withdrawal, so the next starts from the same state), the median reported.
    let per_client = cfg.n(100, 5);
    let mut rates = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (vault, who) = (vault.clone(), who.clone());
            let mine: Vec<_> = ids.iter().copied().skip(c).step_by(CLIENTS).collect();
            tasks.push(tokio::spawn(async move {
                for n in 0..per_client {
                    let action = if (n / mine.len()).is_multiple_of(2) {
                        "granted"
                    } else {
                        "withdrawn"
                    };
                    vault
                        .record_consent(
                            &who,
                            mine[n % mine.len()],
                            &consent("marketing_email", action),
                            &ConsentRequestMeta::default(),
                        )
                        .await?;
                }
                anyhow::Ok(())
            }));
        }
        for task in tasks {
            task.await??;
        }
        rates.push(rate(CLIENTS * per_client, t.elapsed().as_secs_f64()));
    }
    let writes = CLIENTS * per_client;
    out.push(
        Record::new(
            "consent.writes_64_clients",
            b,
            median(&mut rates),
            "writes/s",
            format!(
                "{writes} grants and withdrawals through the vault, {CLIENTS} concurrent \
                 clients, each acknowledged after commit; median of 3 runs"
            ),
        )
        .target(Target::AtLeast(5_000.0)),
    );
    // Every subject granted for the decisions.
    data::grant_all(&vault, &who, &ids, "marketing_email").await?;

    // Bulk decisions through the vault, by email (half the addresses are nobody's).
    let items = cfg.n(100_000, 1_000).min(100_000);
    let reqs: Vec<DecisionRequest> = (0..items)
        .map(|i| DecisionRequest {
            subject_id: None,
            identifier: Some(IdentifierInput {
                kind: "email".into(),
                value: format!("lead{}@example.com", i % (subjects * 2)),
            }),
            purpose: "marketing.send".into(),
            channel: Some("email".into()),
            message_class: Some("newsletter".into()),
        })
        .collect();
    vault.decide_bulk(&who, &reqs).await?;
    let mut rates = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let answers = vault.decide_bulk(&who, &reqs).await?;
        rates.push(rate(answers.len(), t.elapsed().as_secs_f64()));
    }
    out.push(Record::new(
        "decisions.bulk_vault_by_email",
        b,
        median(&mut rates),
        "decisions/s",
        format!("{items} by email in one call, no HTTP, median of 3 after one warm-up"),
    ));

    // Event ingestion over 100 consenting subjects.
    let profiled = &ids[..100];
    data::grant_all(&vault, &who, profiled, "marketing_profiling").await?;
    data::grant_all(&vault, &who, profiled, "cookies_marketing").await?;
    let batch = EventBatch {
        purpose: "marketing.profiling".into(),
        events: (0..1_000)
            .map(|i| EventInput {
                subject_id: profiled[i % 100],
                kind: "page_view".into(),
                topic: Some(format!("topic{}", i % 7)),
                channel: Some("website".into()),
                at: None,
                ip: Some("198.51.100.23".into()),
            })
            .collect(),
    };
    // Five timed runs of `batches` sequential batches each (one client, as a single tracking
    // pipeline posts), after one warm-up run; the median run is reported. A run is a fraction
    // of a second, so a single one swung by a third with what else the machine was doing.
    let batches = cfg.n(30, 2);
    let mut rates = Vec::new();
    for run in 0..6 {
        let t = Instant::now();
        for _ in 0..batches {
            let summary = vault.ingest_events(&who, &batch, false).await?;
            if summary.accepted != 1_000 {
                bail!("{} of 1,000 events accepted", summary.accepted);
            }
        }
        if run > 0 {
            rates.push(rate(batches * 1_000, t.elapsed().as_secs_f64()));
        }
    }
    out.push(
        Record::new(
            "events.ingest_batches_of_1000",
            b,
            median(&mut rates),
            "events/s",
            format!(
                "{batches} sequential batches of 1,000 page views over 100 consenting subjects, \
                 through the vault; median of 5 runs after one warm-up"
            ),
        )
        .target(Target::AtLeast(100_000.0)),
    );
    Ok(out)
}

/// The retention sweep against a bare `DELETE` on the same data, the empty sweep, and the
/// expiry recompute after a policy change.
pub async fn retention(cfg: &Config, backend: Backend) -> anyhow::Result<Vec<Record>> {
    let b = backend.name();
    let mut out = Vec::new();
    // Five expired records per subject plus one kept record (an invoice): the sweep deletes
    // and writes evidence without erasing subjects.
    const PER: u64 = 5;
    let subjects = cfg.n(40_000, 200) as u64;
    let n = subjects * PER;

    let bare = Db::fresh(backend, &cfg.postgres_url).await?;
    let bare_secs = async {
        let store = bare.store().await?;
        seed::records(&store, backend, subjects, PER, 1_000, true).await?;
        let t = Instant::now();
        let deleted = store
            .execute_raw_for_tests(&format!(
                "DELETE FROM records WHERE tenant_id = {} AND expires_at < 9000000000000000",
                seed::tenant_bytes(backend)
            ))
            .await?;
        let secs = t.elapsed().as_secs_f64();
        store.close().await;
        if deleted != n {
            bail!("the bare DELETE removed {deleted} of {n}");
        }
        anyhow::Ok(secs)
    }
    .await;
    bare.drop_all().await;
    let bare_secs = bare_secs?;

    let db = Db::fresh(backend, &cfg.postgres_url).await?;
    let sweep = async {
        let store = db.store().await?;
        seed::records(&store, backend, subjects, PER, 1_000, true).await?;
        store.close().await;
        let vault = db.vault().await?;
        let who = admin(&vault)?;
        let t = Instant::now();
        let report = vault.retention_run(&who, None, |_| {}).await?;
        let secs = t.elapsed().as_secs_f64();
        if report.deleted != n {
            bail!("the sweep deleted {} of {n}", report.deleted);
        }
        anyhow::Ok((secs, report.evidence_rows))
    }
    .await;
    db.drop_all().await;
    let (sweep_secs, evidence) = sweep?;
    let detail = format!(
        "{n} expired records of {subjects} subjects (each also has a kept invoice), {evidence} \
         evidence rows and audit; sweep {sweep_secs:.2} s, bare DELETE {bare_secs:.2} s \
         (target stated for 1,000,000 records)"
    );
    out.push(
        Record::new(
            "retention.sweep",
            b,
            rate(n as usize, sweep_secs),
            "records/s",
            detail.clone(),
        )
        .baseline("bare DELETE", rate(n as usize, bare_secs), "records/s")
        .target(Target::AtLeast(100_000.0)),
    );
    out.push(
        Record::new(
            "retention.sweep_vs_bare_delete",
            b,
            sweep_secs / bare_secs.max(1e-9),
            "×",
            detail.clone(),
        )
        .target(Target::AtMost(3.0)),
    );
    out.push(Record::new(
        "retention.sweep_records",
        b,
        n as f64,
        "records",
        detail,
    ));

    // Nothing expired, then the recompute, on the same data.
    let total = cfg.n(1_000_000, 2_000) as u64;
    let db = Db::fresh(backend, &cfg.postgres_url).await?;
    let more = async {
        let store = db.store().await?;
        // Everything expires far in the future; ten records per subject. The stored expiries
        // are not the policy's: the first recompute moves every record, the second none.
        seed::records(
            &store,
            backend,
            total / 10,
            10,
            9_000_000_000_000_000,
            false,
        )
        .await?;
        store.close().await;
        let vault = db.vault().await?;
        let who = admin(&vault)?;
        let mut empty = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let report = vault.retention_run(&who, None, |_| {}).await?;
            empty.push(t.elapsed().as_secs_f64() * 1e3);
            if report.deleted != 0 {
                bail!("the empty sweep deleted {}", report.deleted);
            }
        }
        let t = Instant::now();
        let changed = vault.recompute_expiries(&who).await?;
        let all = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let unchanged = vault.recompute_expiries(&who).await?;
        let none = t.elapsed().as_secs_f64();
        if changed != total || unchanged != 0 {
            bail!("recompute moved {changed} then {unchanged} of {total}");
        }
        anyhow::Ok((median(&mut empty), all, none))
    }
    .await;
    db.drop_all().await;
    let (empty_ms, all, none) = more?;
    out.push(
        Record::new(
            "retention.empty_sweep",
            b,
            empty_ms,
            "ms",
            format!(
                "nothing expired among {total} records, median of 3 (target stated for 10,000,000)"
            ),
        )
        .target(Target::AtMost(100.0)),
    );
    let detail = |what: &str, secs: f64| {
        format!("{total} records, {what} ({secs:.2} s; target stated for 10,000,000)")
    };
    out.push(
        Record::new(
            "retention.recompute_all_moved",
            b,
            rate(total as usize, all),
            "records/s",
            detail("a policy change that moves every expiry", all),
        )
        .target(Target::AtLeast(500_000.0)),
    );
    out.push(
        Record::new(
            "retention.recompute_none_moved",
            b,
            rate(total as usize, none),
            "records/s",
            detail("a change that moves none", none),
        )
        .target(Target::AtLeast(500_000.0)),
    );
    Ok(out)
}
