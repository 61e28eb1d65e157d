//! The Helsinki profile GDPR API over HTTP (`/gdpr-api/v1/user/{uuid}`), with tokens from an
//! OIDC issuer served by the test: GET returns the key/children/value tree, DELETE with
//! `?dry_run=true` answers as the real call would and changes nothing, DELETE erases (204) or,
//! when an exception keeps data, refuses (403, the protocol's error body) and changes nothing.
//! Missing scope or another user's token: 403; no or bad token: 401; unknown user: 404/204.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vern_server::api::gdpr_api::GdprApiConfig;
use vern_server::oidc::{IssuerConfig, OidcVerifier};

use crate::helpers::{Options, TestApp, id_of, spawn_app_with};
use crate::oidc::{TestIssuer, TestKey};

async fn app_with(issuer: &TestIssuer) -> TestApp {
    let mut cfg = IssuerConfig::new(issuer.issuer.clone(), vec!["vern-api".into()]);
    cfg.scope_claims = vec!["scope".into()];
    spawn_app_with(Options {
        gdpr_api: Some(GdprApiConfig {
            verifier: OidcVerifier::new(vec![cfg]).unwrap(),
            query_scopes: vec!["gdprquery".into()],
            delete_scopes: vec!["gdprdelete".into()],
            identifier_kind: "external:helsinki_profile".into(),
        }),
        ..Options::default()
    })
    .await
}

fn token(key: &TestKey, issuer: &TestIssuer, user: &str, scope: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut c = issuer.claims(now);
    c["sub"] = json!(user);
    c["scope"] = json!(scope);
    key.sign(&c)
}

async fn call(
    app: &TestApp,
    method: Method,
    user: &str,
    query: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(&format!("/gdpr-api/v1/user/{user}{query}")));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.unwrap()
}

async fn profile_user(app: &TestApp, user: &str, subject_type: &str, records: Value) -> String {
    id_of(
        &app.create_subject(&json!({
            "subject_type": subject_type,
            "jurisdiction": "NO",
            "identifiers": [{"kind": "external:helsinki_profile", "value": user},
                            {"kind": "email", "value": format!("u{}@example.com", &user[user.len() - 4..])}],
            "records": records,
        }))
        .await,
    )
}

#[tokio::test]
async fn get_and_delete_with_dry_run_over_http() {
    let key = TestKey::rsa("rsa-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = app_with(&issuer).await;
    let lead_user = "0190a2b4-0000-7000-8000-00000000a001";
    let customer_user = "0190a2b4-0000-7000-8000-00000000a002";
    let lead = profile_user(
        &app,
        lead_user,
        "lead",
        json!([{"category": "contact.email.work_named", "value": "ua001@example.com",
                "source": "direct", "purposes": ["marketing.send"]}]),
    )
    .await;
    let customer = profile_user(
        &app,
        customer_user,
        "customer_contact",
        json!([{"category": "identity.name", "value": "Kari Nordmann", "source": "direct",
                "purposes": ["sales.orders_agreements_payments"]},
               {"category": "finance.invoice", "value": {"number": "F-1"}, "source": "direct",
                "purposes": ["sales.orders_agreements_payments"],
                "collected_at": "2026-03-10T12:00:00Z"}]),
    )
    .await;

    // GET: the tree, for the token's own user with the query scope.
    let r = call(
        &app,
        Method::GET,
        lead_user,
        "",
        Some(&token(&key, &issuer, lead_user, "gdprquery")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tree: Value = r.json().await.unwrap();
    assert_eq!(tree["key"], "VERN", "{tree}");
    assert!(tree["children"].is_array());
    assert!(tree.to_string().contains("ua001@example.com"));
    // No token: 401. Delete scope only: 403. Another user's token: 403.
    assert_eq!(
        call(&app, Method::GET, lead_user, "", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = call(
        &app,
        Method::GET,
        lead_user,
        "",
        Some(&token(&key, &issuer, lead_user, "gdprdelete")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    for lang in ["fi", "sv", "en"] {
        assert!(body["errors"][0]["message"][lang].is_string(), "{body}");
    }
    let r = call(
        &app,
        Method::GET,
        lead_user,
        "",
        Some(&token(&key, &issuer, customer_user, "gdprquery")),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // DELETE ?dry_run=true on an erasable user: 204, nothing changes.
    let del = token(&key, &issuer, lead_user, "gdprdelete");
    let r = call(&app, Method::DELETE, lead_user, "?dry_run=true", Some(&del)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&app.admin_token, &format!("/v1/subjects/{lead}"))
            .await
            .status(),
        StatusCode::OK
    );
    // A user an exception keeps data of: 403 with the protocol's body, dry run or not, and
    // nothing is deleted.
    let cdel = token(&key, &issuer, customer_user, "gdprdelete");
    for q in ["?dry_run=true", ""] {
        let r = call(&app, Method::DELETE, customer_user, q, Some(&cdel)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{q}");
        let body: Value = r.json().await.unwrap();
        assert!(body["errors"][0]["code"].is_string(), "{body}");
        assert!(body["errors"][0]["message"]["en"].is_string(), "{body}");
    }
    let s: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{customer}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        s["records"].as_array().unwrap().len(),
        2,
        "nothing deleted: {s}"
    );
    // The real DELETE of the erasable user: 204 and gone.
    let r = call(&app, Method::DELETE, lead_user, "", Some(&del)).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&app.admin_token, &format!("/v1/subjects/{lead}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Gone: GET answers 204 (no data), as the protocol says for unknown users.
    let r = call(
        &app,
        Method::GET,
        lead_user,
        "",
        Some(&token(&key, &issuer, lead_user, "gdprquery")),
    )
    .await;
    assert!(
        r.status() == StatusCode::NO_CONTENT || r.status() == StatusCode::NOT_FOUND,
        "{}",
        r.status()
    );
}
