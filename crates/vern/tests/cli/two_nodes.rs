//! Two `vern serve` processes on one PostgreSQL database, each with its own decision cache:
//! a withdrawal or objection recorded on one node is honoured by the very next decision on
//! that node and by the other node within one second (needs `VERN_TEST_POSTGRES_URL`).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_bench::db::replace_db;
use vern_store::SqlStore;

use crate::support::{DataDir, Server};

struct Node<'a> {
    base: &'a str,
    token: &'a str,
    client: &'a reqwest::Client,
}

impl Node<'_> {
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap())
    }

    async fn decide(&self, body: &Value) -> Value {
        let (status, v) = self.post("/v1/decisions", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    /// Decides until the answer is `allowed == want`; the time it took.
    async fn until(&self, body: &Value, want: bool) -> Duration {
        let t = Instant::now();
        loop {
            if self.decide(body).await["allowed"] == want {
                return t.elapsed();
            }
            assert!(t.elapsed() < Duration::from_secs(3), "never became {want}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_postgres_see_a_withdrawal_and_an_objection_within_a_second() {
    let Some(admin_url) = std::env::var("VERN_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return;
    };
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = SqlStore::open_url(&admin_url).await.unwrap();
    admin
        .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = replace_db(&admin_url, &name);

    let dir = DataDir::new();
    let a = Server::start(&dir, &["--database", &url]);
    let b = Server::start(&dir, &["--database", &url, "--no-jobs"]);
    let token = a
        .token
        .clone()
        .expect("the first node prints the admin token");
    let client = reqwest::Client::new();
    let (na, nb) = (
        Node {
            base: &a.base,
            token: &token,
            client: &client,
        },
        Node {
            base: &b.base,
            token: &token,
            client: &client,
        },
    );

    let (status, s) = na
        .post(
            "/v1/subjects",
            json!({"subject_type": "lead",
                   "identifiers": [{"kind": "email", "value": "two-processes@example.com"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    let subject = s["id"].as_str().unwrap().to_owned();
    let newsletter = json!({"identifier": {"kind": "email", "value": "two-processes@example.com"},
                            "purpose": "marketing.send", "channel": "email",
                            "message_class": "newsletter"});
    let by_id = json!({"subject_id": subject, "purpose": "marketing.send", "channel": "email",
                       "message_class": "newsletter"});
    let consent = |action: &str| {
        json!({"scope": "marketing_email", "action": action, "method": "api",
               "collection_point": "crm"})
    };
    let path = format!("/v1/subjects/{subject}/consents");
    let (status, v) = na.post(&path, consent("granted")).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    // Both nodes answer (and cache) "allowed", by address and by id.
    for node in [&na, &nb] {
        node.until(&newsletter, true).await;
        node.until(&by_id, true).await;
        assert_eq!(node.decide(&newsletter).await["allowed"], true);
    }

    // Withdrawn on A: the very next decision on A is denied, and B follows within 1 s.
    let (status, v) = na.post(&path, consent("withdrawn")).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let d = na.decide(&newsletter).await;
    assert_eq!(d["reason"], "consent_withdrawn", "{d}");
    let on_b = nb.until(&by_id, false).await;
    assert!(on_b < Duration::from_secs(1), "node B took {on_b:?}");
    assert_eq!(nb.decide(&newsletter).await["reason"], "consent_withdrawn");

    // Granted again, then an objection to direct marketing on B: A follows within 1 s.
    let (status, v) = na.post(&path, consent("granted")).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    nb.until(&newsletter, true).await;
    na.until(&newsletter, true).await;
    let (status, v) = nb
        .post(
            &format!("/v1/subjects/{subject}/objections"),
            json!({"direct_marketing": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(nb.decide(&newsletter).await["allowed"], false);
    let on_a = na.until(&newsletter, false).await;
    assert!(on_a < Duration::from_secs(1), "node A took {on_a:?}");

    a.stop();
    b.stop();
    let _ = admin
        .execute_raw_for_tests(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await;
}
