//! Identity verification by a signed token from a trusted OIDC issuer (method (b)): an app
//! passes its logged-in user's token with the request; vern checks signature (JWKS by `kid`,
//! cached), issuer, audience and expiry, links the subject holding the token's `sub`, and the
//! request starts verified. A bad token changes nothing; the token is never stored.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vern_server::oidc::{IssuerConfig, OidcVerifier};
use vern_server::vault::RequestOidc;
use vern_store::RequestStore;

use crate::helpers::{TestApp, id_of, problem, spawn_app};
use crate::oidc::{TestIssuer, TestKey};

const SUB: &str = "0190a2b4-0000-7000-8000-000000000001";

async fn submit(app: &TestApp, token: &str, id_token: &str) -> reqwest::Response {
    app.post(
        token,
        "/v1/requests",
        &json!({"rights": ["access"], "lang": "en", "channel": "api",
                "identifiers": [{"kind": "email", "value": "app.user@example.com"}],
                "id_token": id_token}),
    )
    .await
}

#[tokio::test]
async fn a_token_from_a_trusted_issuer_verifies_the_request() {
    let app = spawn_app().await;
    let key = TestKey::rsa("rsa-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let other = TestIssuer::start(&[&key]).await;
    // Without configured issuers a token is refused.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let service = app.token("service").await;
    let p = problem(
        submit(&app, &service, &key.sign(&issuer.claims(now))).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "oidc_not_configured");

    app.vault.set_request_oidc(Some(RequestOidc {
        verifier: OidcVerifier::new(vec![IssuerConfig::new(
            issuer.issuer.clone(),
            vec!["vern-api".into()],
        )])
        .unwrap(),
        identifier_kind: "external:app_login".into(),
    }));
    let subject = id_of(
        &app.create_subject(&json!({
            "subject_type": "lead",
            "identifiers": [{"kind": "external:app_login", "value": SUB},
                            {"kind": "email", "value": "app.user@example.com"}],
        }))
        .await,
    );

    // Bad tokens: expired, wrong audience, untrusted issuer, wrong key, garbage. Nothing stored.
    let tenant = app.vault.tenant();
    let before = app.vault.store().count_requests(tenant).await.unwrap();
    let mut expired = issuer.claims(now);
    expired["exp"] = json!(now - 3600);
    let mut audience = issuer.claims(now);
    audience["aud"] = json!("someone-else");
    let foreign = other.claims(now);
    let ec = TestKey::ec("rsa-1");
    for bad in [
        key.sign(&expired),
        key.sign(&audience),
        key.sign(&foreign),
        ec.sign(&issuer.claims(now)),
        "not.a.token".to_owned(),
    ] {
        let p = problem(
            submit(&app, &service, &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["code"], "invalid_token", "{p}");
        assert_eq!(p["errors"][0]["field"], "id_token", "{p}");
    }
    assert_eq!(
        app.vault.store().count_requests(tenant).await.unwrap(),
        before
    );

    // A good token: verified at once, the subject linked by `sub`.
    let good = key.sign(&issuer.claims(now));
    let r = submit(&app, &service, &good).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "in_progress");
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{}", id_of(&v)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["verification"]["method"], "oidc");
    assert_eq!(detail["subject_id"], subject.as_str());
    // A second request: the key comes from the cache (one JWKS fetch for the kid).
    let hits = issuer.jwks_hits.load(std::sync::atomic::Ordering::SeqCst);
    let r = submit(&app, &service, &key.sign(&issuer.claims(now))).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        issuer.jwks_hits.load(std::sync::atomic::Ordering::SeqCst),
        hits
    );
    // The token is not kept anywhere: not in the audit log, not in the database file.
    let audit = app.audit_entries().await;
    assert!(audit.iter().all(|e| !e.entry.detail.contains(&good[..40])));
    if let Some(dir) = &app.data_dir {
        let db = std::fs::read(dir.join("vern.sqlite3")).unwrap();
        let wal = std::fs::read(dir.join("vern.sqlite3-wal")).unwrap_or_default();
        let needle = &good.as_bytes()[good.len() - 40..];
        for bytes in [&db, &wal] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }
    // A token for a `sub` vern does not know verifies the person, links no subject (and an
    // email in the same request does not link one either).
    let mut stranger = issuer.claims(now);
    stranger["sub"] = json!("0190a2b4-0000-7000-8000-00000000ffff");
    let r = submit(&app, &service, &key.sign(&stranger)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let detail: Value = app
        .get(&app.admin_token, &format!("/v1/requests/{}", id_of(&v)))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["subject_id"].is_null(), "{detail}");
}
