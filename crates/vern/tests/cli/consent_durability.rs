//! Group commit keeps its promise: a consent write acknowledged by `vern serve` (SQLite) is in
//! the ledger after the process is killed with SIGKILL in the middle of 64 concurrent writers.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{DataDir, Server};

/// Every string under an `"id"` key, anywhere in `v`.
fn ids(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("id", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    _ => ids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| ids(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_consent_write_survives_kill_9() {
    let dir = DataDir::new();
    let server = Server::start(&dir, &["--no-jobs"]);
    let token = server.token.clone().unwrap();
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let mut subjects = Vec::new();
    for i in 0..16 {
        let r = client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(&token)
            .json(&json!({"subject_type": "lead",
                          "identifiers": [{"kind": "email", "value": format!("kill{i}@example.com")}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        subjects.push(v["id"].as_str().unwrap().to_owned());
    }

    // 64 writers until the kill; each remembers the event ids it was answered with.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Instant::now() + Duration::from_secs(30);
    let mut writers = Vec::new();
    for w in 0..64 {
        let (client, base, token, acked) =
            (client.clone(), base.clone(), token.clone(), acked.clone());
        let subject = subjects[w % subjects.len()].clone();
        writers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < stop {
                let action = if n.is_multiple_of(2) {
                    "granted"
                } else {
                    "withdrawn"
                };
                n += 1;
                let sent = client
                    .post(format!("{base}/v1/subjects/{subject}/consents"))
                    .bearer_auth(&token)
                    .json(&json!({"scope": "marketing_email", "action": action,
                                  "method": "api", "collection_point": "kill-test"}))
                    .send()
                    .await;
                let Ok(r) = sent else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(v) = r.json::<Value>().await else {
                    return;
                };
                let mut got = BTreeSet::new();
                ids(&v["events"], &mut got);
                acked.lock().unwrap().extend(got);
            }
        }));
    }
    // Kill once writes are flowing.
    let t = Instant::now();
    while acked.lock().unwrap().len() < 300 && t.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop(); // SIGKILL
    for w in writers {
        let _ = w.await;
    }
    let acked: BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(
        acked.len() >= 300,
        "only {} writes acknowledged",
        acked.len()
    );

    let again = Server::start(&dir, &["--no-jobs"]);
    let mut stored = BTreeSet::new();
    for s in &subjects {
        let r = client
            .get(format!("{}/v1/subjects/{s}/consents/history", again.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        ids(&r.json::<Value>().await.unwrap(), &mut stored);
    }
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events missing",
        missing.len(),
        acked.len()
    );
    // And the ledger's chain still verifies.
    let out = dir.vern(&["audit", "verify"]);
    assert_eq!(
        crate::support::code(&out),
        0,
        "{}",
        crate::support::stderr(&out)
    );
}
