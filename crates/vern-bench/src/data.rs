//! Generated people, and loading them through the vault as `vern import` does (encryption and
//! blind indexing on one thread, store writes on the other).

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;
use vern_server::Vault;
use vern_server::vault::{
    ConsentInput, ConsentRequestMeta, IdentifierInput, Principal, RecordInput, SubjectInput,
};
use vern_store::Store;

pub fn record(category: &str, value: serde_json::Value, purpose: &str) -> RecordInput {
    RecordInput {
        category: category.to_owned(),
        value,
        source: "direct".to_owned(),
        purposes: vec![purpose.to_owned()],
        legal_basis: None,
        collected_at: None,
        last_activity_at: None,
        originating_system: None,
        event_times: Default::default(),
    }
}

fn email_identifier(value: String) -> Vec<IdentifierInput> {
    vec![IdentifierInput {
        kind: "email".into(),
        value,
    }]
}

/// Lead `i` (`lead{i}@example.com`) with `records` named work addresses.
pub fn lead(i: usize, records: usize) -> SubjectInput {
    SubjectInput {
        subject_type: "lead".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: email_identifier(format!("lead{i}@example.com")),
        records: (0..records)
            .map(|n| {
                record(
                    "contact.email.work_named",
                    json!(format!("lead{i}.{n}@example.com")),
                    "marketing.send",
                )
            })
            .collect(),
    }
}

/// Lead `i` in the shape of `scripts/generate-import.py` (the import target's data): one email
/// identifier and four records (name, work address, title, employer) with a recent activity.
pub fn import_lead(i: usize) -> SubjectInput {
    let email = format!("lead{i}@example.com");
    let active = time::OffsetDateTime::now_utc() - time::Duration::days(60);
    let records = [
        ("identity.name", format!("Bench Person {i}")),
        ("contact.email.work_named", email.clone()),
        ("employment.title", "Head of Example".to_owned()),
        (
            "employment.employer",
            format!("Example Company {}", i % 997),
        ),
    ]
    .into_iter()
    .map(|(category, value)| RecordInput {
        last_activity_at: Some(active),
        ..record(category, json!(value), "marketing.send")
    })
    .collect();
    SubjectInput {
        subject_type: "lead".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: email_identifier(email),
        records,
    }
}

/// Job applicant `i`, an email identifier only.
pub fn applicant(i: usize) -> SubjectInput {
    SubjectInput {
        subject_type: "job_applicant".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: email_identifier(format!("cand{i}@example.com")),
        records: Vec::new(),
    }
}

/// A customer contact with nine names and one invoice (kept under bookkeeping law).
pub fn customer(i: usize) -> SubjectInput {
    let p = "sales.orders_agreements_payments";
    let mut records: Vec<RecordInput> = (0..9)
        .map(|n| record("identity.name", json!(format!("Customer {i} {n}")), p))
        .collect();
    records.push(record(
        "finance.invoice",
        json!({"number": format!("F-{i}")}),
        p,
    ));
    SubjectInput {
        subject_type: "customer_contact".to_owned(),
        jurisdiction: Some("NO".to_owned()),
        identifiers: email_identifier(format!("customer{i}@example.com")),
        records,
    }
}

pub const IMPORT_BATCH: usize = 5_000;

/// Imports `count` subjects made by `make(i)` for `i` in `from..from + count`: a thread builds
/// (checks, encrypts, blind-indexes) the next batch while the store writes the previous one.
/// The subject ids, in order.
pub async fn import(
    vault: &Arc<Vault>,
    who: &Principal,
    from: usize,
    count: usize,
    make: fn(usize) -> SubjectInput,
) -> anyhow::Result<Vec<Uuid>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<_>>>(1);
    let producer = {
        let (vault, who) = (vault.clone(), who.clone());
        std::thread::spawn(move || {
            let mut i = from;
            while i < from + count {
                let n = (from + count - i).min(IMPORT_BATCH);
                let inputs: Vec<SubjectInput> = (i..i + n).map(make).collect();
                let built = vault
                    .build_import_batch(&who, &inputs)
                    .map_err(|(k, e)| anyhow::anyhow!("subject {}: {e}", i + k));
                let stop = built.is_err();
                if tx.blocking_send(built).is_err() || stop {
                    return;
                }
                i += n;
            }
        })
    };
    let mut ids = Vec::with_capacity(count);
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        ids.extend(batch.iter().map(|s| s.subject.id));
        vault.store().import_batch(batch).await?;
    }
    let _ = producer.join();
    if ids.len() != count {
        anyhow::bail!("imported {} of {count} subjects", ids.len());
    }
    Ok(ids)
}

/// A consent change on the email channel (`marketing_email`).
pub fn consent(scope: &str, action: &str) -> ConsentInput {
    ConsentInput {
        scope: scope.into(),
        channel: (scope == "marketing_email").then(|| "email".into()),
        action: action.into(),
        method: "api".into(),
        collection_point: "bench".into(),
        language: None,
        unsubscribe: false,
    }
}

/// Records `scope` granted for every subject of `ids`, from 32 concurrent tasks.
pub async fn grant_all(
    vault: &Arc<Vault>,
    who: &Principal,
    ids: &[Uuid],
    scope: &str,
) -> anyhow::Result<()> {
    let ids = Arc::new(ids.to_vec());
    let mut tasks = Vec::new();
    for t in 0..32 {
        let (vault, who, ids, scope) = (vault.clone(), who.clone(), ids.clone(), scope.to_owned());
        tasks.push(tokio::spawn(async move {
            for id in ids.iter().skip(t).step_by(32) {
                vault
                    .record_consent(
                        &who,
                        *id,
                        &consent(&scope, "granted"),
                        &ConsentRequestMeta::default(),
                    )
                    .await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}
