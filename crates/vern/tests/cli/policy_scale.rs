//! `vern policy publish` and the change-notice fan-out at scale: `kill -9` of a `vern serve`
//! while its job runner queues notices, then a restart that finishes with exactly one notice
//! per affected subject; and the 1,000,000-subject benchmark (ignored; run with
//! `--release --ignored --nocapture`).
//!
//! Subjects are seeded with SQL straight into the SQLite file (leads with an email identifier
//! whose ciphertext is a placeholder, plus job applicants): the fan-out reads ids, types and
//! whether an email identifier exists, so it does the same work as on imported data.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vern_core::ids::SystemClock;
use vern_server::Vault;
use vern_server::vault::{Actor, NOTICE_BATCH};
use vern_store::SqlStore;

use crate::support::{DataDir, bin, code, stderr, stdout};

/// The bundled policy with a new consent purpose for leads only.
fn with_lead_purpose() -> String {
    vern_bench::suite::with_lead_purpose().unwrap()
}

/// `leads` leads with an email identifier each and `others` job applicants.
async fn seed(store: &SqlStore, leads: u64, others: u64) {
    vern_bench::seed::subjects_with_email(store, vern_bench::Backend::Sqlite, leads, others)
        .await
        .unwrap();
}

async fn count(store: &SqlStore, sql: &str) -> u64 {
    store.fetch_text_for_tests(sql, false).await.unwrap()[0]
        .parse()
        .unwrap()
}

/// A data directory with keys, migrations and the seeded subjects.
async fn prepared(leads: u64, others: u64) -> DataDir {
    let dir = DataDir::new();
    std::fs::write(dir.path().join("empty.jsonl"), "").unwrap();
    let out = dir.vern(&["import", "empty.jsonl", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let store = SqlStore::open_dir(std::path::Path::new(&dir.data()))
        .await
        .unwrap();
    seed(&store, leads, others).await;
    store.close().await;
    std::fs::write(dir.path().join("new.toml"), with_lead_purpose()).unwrap();
    dir
}

fn scale_from_env(default: u64) -> u64 {
    std::env::var("VERN_SCALE_SUBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn days_ahead(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .date()
        .to_string()
}

#[tokio::test]
async fn publish_refuses_a_material_change_too_soon_and_an_editorial_one_needs_no_date() {
    let dir = prepared(3, 2).await;
    let out = dir.vern(&[
        "policy",
        "publish",
        "new.toml",
        "--effective",
        &days_ahead(5),
    ]);
    assert_eq!(code(&out), 1, "{}", stdout(&out));
    assert!(
        stderr(&out).contains("at least 30 days"),
        "{}",
        stderr(&out)
    );
    let out = dir.vern(&[
        "policy",
        "publish",
        "new.toml",
        "--effective",
        &days_ahead(45),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("(material)"), "{text}");
    assert!(text.contains("change notices queued for: lead"), "{text}");
    assert!(
        text.contains("renewal from the effective date: social_ads"),
        "{text}"
    );
    // Publishing the same text again: nothing to publish.
    let out = dir.vern(&[
        "policy",
        "publish",
        "new.toml",
        "--effective",
        &days_ahead(50),
    ]);
    assert_eq!(code(&out), 1);
}

#[tokio::test]
async fn kill_9_during_the_notice_fan_out_then_restart_queues_each_notice_once() {
    let leads = scale_from_env(60_000);
    let dir = prepared(leads, 500).await;
    let out = dir.vern(&[
        "policy",
        "publish",
        "new.toml",
        "--effective",
        &days_ahead(40),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    // A server's job runner picks the fan-out up; kill it hard once some pages are in.
    let data = dir.data();
    let serve = || {
        Command::new(bin())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--sweep-every-hours",
                "0",
                "--job-poll-ms",
                "100",
                "--data",
                &data,
            ])
            .current_dir(dir.path())
            .env("VERN_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = serve();
    let store = SqlStore::open_dir(std::path::Path::new(&data))
        .await
        .unwrap();
    let total = "SELECT CAST(COUNT(*) AS TEXT) FROM policy_notices";
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if count(&store, total).await > 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = count(&store, total).await;
    assert!(partial > 0, "the fan-out had started");
    assert!(
        partial < leads,
        "killed before the end (raise VERN_SCALE_SUBJECTS if not)"
    );
    let running = "SELECT CAST(COUNT(*) AS TEXT) FROM jobs WHERE kind = 'policy.notices' \
                   AND state = 'running'";
    assert_eq!(
        count(&store, running).await,
        1,
        "the dead node's lease stands"
    );

    // The restarted node releases its dead predecessor's job at once (same node, process
    // gone) and resumes from the cursor: well within the 60 s lease the job still holds.
    let restarted = Instant::now();
    let mut child = serve();
    let finished = "SELECT CAST(COUNT(*) AS TEXT) FROM policy_fanout WHERE finished_at IS NOT NULL";
    while count(&store, finished).await == 0 {
        assert!(
            restarted.elapsed() < Duration::from_secs(45),
            "the fan-out did not resume before the lease ran out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resumed_in = restarted.elapsed();
    child.kill().unwrap();
    child.wait().unwrap();
    println!("fan-out resumed and finished {resumed_in:?} after the restart");
    assert_eq!(count(&store, total).await, leads);
    assert_eq!(
        count(
            &store,
            "SELECT CAST(COUNT(DISTINCT subject_id) AS TEXT) FROM policy_notices"
        )
        .await,
        leads,
        "no subject told twice"
    );
    assert_eq!(
        count(
            &store,
            "SELECT CAST(COUNT(*) AS TEXT) FROM policy_notices n JOIN subjects s \
             ON s.tenant_id = n.tenant_id AND s.id = n.subject_id WHERE s.subject_type <> 'lead'"
        )
        .await,
        0,
        "no applicant told"
    );
    store.close().await;
}

async fn vault_over(dir: &DataDir) -> Vault {
    let key = std::fs::read_to_string(std::path::Path::new(&dir.data()).join("master.key"))
        .unwrap_or_default();
    let store = SqlStore::open_dir(std::path::Path::new(&dir.data()))
        .await
        .unwrap();
    let master = vern_core::crypto::MasterKey::parse(key.trim()).unwrap();
    Vault::open_stored(
        store,
        Arc::new(vern_policy::Policy::bundled().unwrap()),
        master,
        Vec::new(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap()
}

/// `cargo test -p vern --release --test cli policy_scale::bench -- --ignored --nocapture`
/// (`VERN_SCALE_SUBJECTS` to change the 1,000,000 leads; 100,000 applicants are not told).
#[tokio::test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
async fn bench_notice_fan_out() {
    let leads = scale_from_env(1_000_000);
    // Real subjects (encrypted email identifiers) through `vern import`, so each email notice
    // opens the address with the subject key and seals it for the outbox, as in production.
    let dir = DataDir::new();
    {
        use std::io::Write;
        let f = std::fs::File::create(dir.path().join("people.jsonl")).unwrap();
        let mut w = std::io::BufWriter::new(f);
        for i in 0..leads {
            writeln!(w, r#"{{"subject_type":"lead","identifiers":[{{"kind":"email","value":"lead{i}@example.com"}}]}}"#).unwrap();
        }
        for i in 0..leads / 10 {
            writeln!(w, r#"{{"subject_type":"job_applicant","identifiers":[{{"kind":"email","value":"cand{i}@example.com"}}]}}"#).unwrap();
        }
    }
    let t = Instant::now();
    let out = dir.vern(&["import", "people.jsonl", "--quiet"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    println!(
        "import of {} subjects: {:.1} s",
        leads + leads / 10,
        t.elapsed().as_secs_f64()
    );
    let vault = Arc::new(vault_over(&dir).await);
    let who = vault.admin_principal(Actor::Cli).unwrap();
    let fan = vern_bench::suite::fan_out(&vault, &who, leads as usize, vern_bench::Backend::Sqlite)
        .await
        .unwrap();
    println!(
        "notice fan-out: {leads} notices in {:.2} s = {:.0} notices/s (batch {NOTICE_BATCH}); \
         publish (diff, renewal marks, job) {:.3} s; bare INSERT…SELECT of the same rows {:.2} s",
        fan.secs,
        leads as f64 / fan.secs,
        fan.publish_secs,
        fan.bare_secs
    );
}
