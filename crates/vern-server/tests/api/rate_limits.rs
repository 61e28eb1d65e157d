//! Rate limits (decision 0021): request submission per client network, verification-code
//! attempts per network and per target request; 429 with `Retry-After` and a problem body, and
//! the same calls succeed again once the bucket has refilled.
//!
//! The test server listens on loopback, which is exempt by default; these tests declare
//! 127.0.0.1 a trusted proxy and name the client in `X-Forwarded-For`, as a deployment behind a
//! reverse proxy does.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_server::ServerConfig;
use vern_server::ratelimit::{Bucket, RateLimitConfig};
use vern_store::RequestStore;

use crate::helpers::{Options, TestApp, id_of, problem, spawn_app_with};

fn request_body(email: &str) -> Value {
    json!({"rights": ["access"], "lang": "en", "channel": "web",
           "identifiers": [{"kind": "email", "value": email}]})
}

async fn app_with(limits: RateLimitConfig) -> TestApp {
    spawn_app_with(Options {
        config: Some(ServerConfig {
            rate_limits: limits,
            ..ServerConfig::default()
        }),
        ..Options::default()
    })
    .await
}

fn behind_proxy() -> RateLimitConfig {
    RateLimitConfig {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..RateLimitConfig::off()
    }
}

async fn submit_from(app: &TestApp, token: &str, client: &str, n: usize) -> reqwest::Response {
    app.client
        .post(app.url("/v1/requests"))
        .bearer_auth(token)
        .header("X-Forwarded-For", client)
        .json(&request_body(&format!("rl{n}@example.com")))
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 problem with a `Retry-After` of at least one second; returns the seconds.
async fn too_many(r: reqwest::Response) -> u64 {
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let p = problem(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(p["type"], "https://vern.dev/problems/too-many-requests");
    assert_eq!(p["status"], 429);
    retry
}

#[tokio::test]
async fn submissions_from_one_network_are_limited_then_recover() {
    let app = app_with(RateLimitConfig {
        submit_per_client: Bucket::new(2, Duration::from_millis(700)),
        ..behind_proxy()
    })
    .await;
    let service = app.token("service").await;
    for n in 0..2 {
        let r = submit_from(&app, &service, "203.0.113.5", n).await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // Another address in the same /24 shares the bucket.
    let retry = too_many(submit_from(&app, &service, "203.0.113.77", 2).await).await;
    assert_eq!(retry, 1);
    // Another network has its own; a spoofed left-most hop changes nothing.
    let r = submit_from(&app, &service, "198.51.100.1", 3).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    too_many(submit_from(&app, &service, "198.51.100.9, 203.0.113.6", 4).await).await;
    // Nothing refused was stored.
    assert_eq!(
        app.vault
            .store()
            .count_requests(app.vault.tenant())
            .await
            .unwrap(),
        3
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r = submit_from(&app, &service, "203.0.113.5", 5).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn loopback_is_exempt_only_without_forwarded_for() {
    let app = app_with(RateLimitConfig {
        submit_per_client: Bucket::new(1, Duration::from_secs(60)),
        ..RateLimitConfig::default()
    })
    .await;
    let service = app.token("service").await;
    for n in 0..5 {
        let r = app
            .post(
                &service,
                "/v1/requests",
                &request_body(&format!("lo{n}@example.com")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // A proxy on the same host that is not declared trusted: every client is one bucket.
    let r = submit_from(&app, &service, "203.0.113.5", 10).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    too_many(submit_from(&app, &service, "198.51.100.1", 11).await).await;
}

#[tokio::test]
async fn the_portal_form_is_limited_like_the_api() {
    let app = app_with(RateLimitConfig {
        submit_per_client: Bucket::new(1, Duration::from_secs(60)),
        ..behind_proxy()
    })
    .await;
    let post = || {
        app.client
            .post(app.url("/rights"))
            .header("X-Forwarded-For", "192.0.2.10")
            .form(&[("csrf", "x"), ("email", "a@example.com")])
            .send()
    };
    // The first is counted and reaches the form handler (which refuses the missing CSRF
    // cookie); the second never gets there.
    let first = post().await.unwrap();
    assert_ne!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    too_many(post().await.unwrap()).await;
}

/// The verification link and code of the newest mail in the outbox.
async fn link_and_code(app: &TestApp) -> (String, String) {
    let list: Value = app
        .get(&app.admin_token, "/v1/outbox?limit=50")
        .await
        .json()
        .await
        .unwrap();
    let items = list.as_array().unwrap().clone();
    for m in items {
        if m["template"] != "dsr_verify" {
            continue;
        }
        let mail: Value = app
            .get(&app.admin_token, &format!("/v1/outbox/{}", id_of(&m)))
            .await
            .json()
            .await
            .unwrap();
        let body = mail["body"].as_str().unwrap();
        let link = body
            .split_whitespace()
            .find(|w| w.contains("/v1/request-verifications/"))
            .unwrap()
            .to_owned();
        let at = body.find("Code: ").unwrap();
        return (link, body[at + 6..at + 12].to_owned());
    }
    panic!("no verification mail in the outbox");
}

async fn attempt(app: &TestApp, link: &str, client: &str, code: &str) -> reqwest::Response {
    app.client
        .post(link)
        .header("X-Forwarded-For", client)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn code_attempts_are_limited_per_request_from_any_address_then_recover() {
    let app = app_with(RateLimitConfig {
        verify_per_request: Bucket::new(2, Duration::from_millis(700)),
        ..behind_proxy()
    })
    .await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &request_body("code@example.com"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let (link, code) = link_and_code(&app).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for client in ["192.0.2.1", "198.51.100.1"] {
        problem(
            attempt(&app, &link, client, wrong).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // A third network gains nothing: the bucket is the request's. Not even the right code
    // is tried (the attempt counter in the store stays at 2).
    too_many(attempt(&app, &link, "203.0.113.1", &code).await).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r = attempt(&app, &link, "203.0.113.1", &code).await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
}

#[tokio::test]
async fn code_attempts_are_limited_per_network_across_links() {
    let app = app_with(RateLimitConfig {
        verify_per_client: Bucket::new(3, Duration::from_secs(60)),
        ..behind_proxy()
    })
    .await;
    // Unknown links answer 404 until the network's bucket is empty, then 429.
    for n in 0..3 {
        let link = app.url(&format!("/v1/request-verifications/vern_guess{n}"));
        problem(
            attempt(&app, &link, "192.0.2.50", "123456").await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    let link = app.url("/v1/request-verifications/vern_guess9");
    let retry = too_many(attempt(&app, &link, "192.0.2.51", "123456").await).await;
    assert!((1..=60).contains(&retry), "{retry}");
    problem(
        attempt(&app, &link, "192.0.3.50", "123456").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn the_openapi_document_lists_429_with_retry_after_on_the_limited_operations() {
    let app = crate::helpers::spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/v1/requests", "/v1/request-verifications/{token}"] {
        let r = &doc["paths"][path]["post"]["responses"]["429"];
        assert!(r["headers"]["Retry-After"].is_object(), "{path}: {r}");
        assert!(
            r["content"]["application/problem+json"].is_object(),
            "{path}"
        );
    }
    assert!(doc["paths"]["/v1/subjects"]["post"]["responses"]["429"].is_null());
}
