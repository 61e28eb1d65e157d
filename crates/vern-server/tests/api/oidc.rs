//! OIDC token verification against an issuer served by the test itself: discovery and JWKS over
//! HTTP on loopback, RS256 and ES256 keys, key rotation (unknown `kid` → one refetch, rate
//! limited), and every claim check with an explicit clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::RwLock;
use vern_server::oidc::{IssuerConfig, OidcError, OidcVerifier};

/// A 2048-bit RSA key (PKCS#1 DER) made with openssl for these tests only.
const RSA_DER: &[u8] = include_bytes!("fixtures/oidc-test-rsa.der");

/// A test signing key with its JWK.
pub struct TestKey {
    pub kid: String,
    alg: &'static str,
    rsa: Option<RsaKeyPair>,
    ec: Option<EcdsaKeyPair>,
}

impl TestKey {
    pub fn rsa(kid: &str) -> TestKey {
        TestKey {
            kid: kid.into(),
            alg: "RS256",
            rsa: Some(RsaKeyPair::from_der(RSA_DER).unwrap()),
            ec: None,
        }
    }

    pub fn ec(kid: &str) -> TestKey {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            doc.as_ref(),
            &rng,
        )
        .unwrap();
        TestKey {
            kid: kid.into(),
            alg: "ES256",
            rsa: None,
            ec: Some(pair),
        }
    }

    pub fn jwk(&self) -> Value {
        if let Some(r) = &self.rsa {
            let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(r.public());
            json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                "n": URL_SAFE_NO_PAD.encode(&public.n),
                "e": URL_SAFE_NO_PAD.encode(&public.e)})
        } else {
            let point = self.ec.as_ref().unwrap().public_key().as_ref().to_vec();
            json!({"kty": "EC", "crv": "P-256", "kid": self.kid,
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let rng = SystemRandom::new();
        let sig = if let Some(r) = &self.rsa {
            let mut sig = vec![0; r.public().modulus_len()];
            r.sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
            sig
        } else {
            self.ec
                .as_ref()
                .unwrap()
                .sign(&rng, input.as_bytes())
                .unwrap()
                .as_ref()
                .to_vec()
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// An OIDC issuer on loopback: discovery + a JWKS the test can replace; counts JWKS requests.
pub struct TestIssuer {
    pub issuer: String,
    jwks: Arc<RwLock<Value>>,
    pub jwks_hits: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct IssuerState {
    issuer: String,
    jwks: Arc<RwLock<Value>>,
    hits: Arc<AtomicUsize>,
}

impl TestIssuer {
    pub async fn start(keys: &[&TestKey]) -> TestIssuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}/", listener.local_addr().unwrap());
        let jwks = Arc::new(RwLock::new(json!({
            "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()
        })));
        let hits = Arc::new(AtomicUsize::new(0));
        let state = IssuerState {
            issuer: issuer.clone(),
            jwks: jwks.clone(),
            hits: hits.clone(),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(s): State<IssuerState>| async move {
                    Json(json!({"issuer": s.issuer, "jwks_uri": format!("{}jwks", s.issuer)}))
                }),
            )
            .route(
                "/jwks",
                get(|State(s): State<IssuerState>| async move {
                    s.hits.fetch_add(1, Ordering::SeqCst);
                    Json(s.jwks.read().await.clone())
                }),
            )
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIssuer {
            issuer,
            jwks,
            jwks_hits: hits,
        }
    }

    pub async fn publish(&self, keys: &[&TestKey]) {
        *self.jwks.write().await =
            json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    }

    pub fn claims(&self, now: i64) -> Value {
        json!({"iss": self.issuer, "sub": "0190a2b4-0000-7000-8000-000000000001",
            "aud": "vern-api", "iat": now - 300, "exp": now + 300,
            "scope": "openid vern.dsr"})
    }
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

const NOW: i64 = 1_800_000_000;

fn verifier(issuer: &TestIssuer, min_refetch: Duration) -> OidcVerifier {
    let mut cfg = IssuerConfig::new(issuer.issuer.clone(), vec!["vern-api".into()]);
    cfg.min_refetch = min_refetch;
    cfg.scope_claims
        .push("authorization.permissions.scopes".into());
    OidcVerifier::new(vec![cfg]).unwrap()
}

#[tokio::test]
async fn rs256_and_es256_tokens_verify_and_keys_are_cached_by_kid() {
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&rsa, &ec]).await;
    let v = verifier(&issuer, Duration::from_secs(3600));

    let token = v
        .verify(&rsa.sign(&issuer.claims(NOW)), at(NOW))
        .await
        .unwrap();
    assert_eq!(token.subject, "0190a2b4-0000-7000-8000-000000000001");
    assert!(token.has_scope("vern.dsr") && token.has_scope("openid"));
    let token = v
        .verify(&ec.sign(&issuer.claims(NOW)), at(NOW))
        .await
        .unwrap();
    assert_eq!(token.issuer, issuer.issuer);
    // Both keys came from one JWKS fetch.
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);
    for _ in 0..5 {
        v.verify(&rsa.sign(&issuer.claims(NOW)), at(NOW))
            .await
            .unwrap();
    }
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_and_then_is_rate_limited() {
    let old = TestKey::rsa("old");
    let new = TestKey::ec("new");
    let issuer = TestIssuer::start(&[&old]).await;
    let v = verifier(&issuer, Duration::from_millis(300));
    v.verify(&old.sign(&issuer.claims(NOW)), at(NOW))
        .await
        .unwrap();
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 1);

    // Rotation: the issuer publishes a new key; the first token with it triggers one refetch
    // (once the minimum interval has passed).
    issuer.publish(&[&old, &new]).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    v.verify(&new.sign(&issuer.claims(NOW)), at(NOW))
        .await
        .unwrap();
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 2);

    // A flood of made-up key ids costs at most one fetch per interval.
    let forged = TestKey::ec("made-up");
    for _ in 0..20 {
        let err = v
            .verify(&forged.sign(&issuer.claims(NOW)), at(NOW))
            .await
            .unwrap_err();
        assert_eq!(err, OidcError::UnknownKey);
    }
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        v.verify(&forged.sign(&issuer.claims(NOW)), at(NOW))
            .await
            .unwrap_err(),
        OidcError::UnknownKey
    );
    assert_eq!(issuer.jwks_hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn every_claim_check_refuses_with_its_own_reason() {
    let key = TestKey::rsa("k");
    let issuer = TestIssuer::start(&[&key]).await;
    let v = verifier(&issuer, Duration::from_secs(3600));
    let with = |patch: Value| {
        let mut c = issuer.claims(NOW);
        for (k, val) in patch.as_object().unwrap() {
            if val.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = val.clone();
            }
        }
        key.sign(&c)
    };
    let cases = [
        (json!({"exp": NOW - 61}), OidcError::Expired),
        (json!({"exp": null}), OidcError::MissingClaim("exp")),
        (json!({"nbf": NOW + 61}), OidcError::NotYetValid),
        (json!({"aud": "someone-else"}), OidcError::Audience),
        (json!({"aud": ["a", "b"]}), OidcError::Audience),
        (json!({"aud": null}), OidcError::MissingClaim("aud")),
        (
            json!({"iss": "http://127.0.0.1:1/"}),
            OidcError::UntrustedIssuer,
        ),
        (json!({"sub": null}), OidcError::MissingClaim("sub")),
    ];
    for (patch, want) in cases {
        assert_eq!(
            v.verify(&with(patch.clone()), at(NOW)).await.unwrap_err(),
            want,
            "{patch}"
        );
    }
    // A list audience that contains ours, and the leeway, are fine.
    v.verify(
        &with(json!({"aud": ["x", "vern-api"], "exp": NOW - 30})),
        at(NOW),
    )
    .await
    .unwrap();
    // The same token is expired later: the clock is a parameter.
    let token = key.sign(&issuer.claims(NOW));
    assert_eq!(
        v.verify(&token, at(NOW + 400)).await.unwrap_err(),
        OidcError::Expired
    );
}

#[tokio::test]
async fn forged_and_confused_tokens_are_refused() {
    let key = TestKey::rsa("k");
    let other = TestKey::ec("k2");
    let issuer = TestIssuer::start(&[&key]).await;
    let v = verifier(&issuer, Duration::from_secs(3600));
    let good = key.sign(&issuer.claims(NOW));

    // Payload swapped after signing.
    let mut parts: Vec<&str> = good.split('.').collect();
    let mut claims = issuer.claims(NOW);
    claims["scope"] = json!("admin");
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    parts[1] = &forged_payload;
    assert_eq!(
        v.verify(&parts.join("."), at(NOW)).await.unwrap_err(),
        OidcError::BadSignature
    );
    // alg none, HS256 (with the public key as the secret), unknown algs.
    for alg in ["none", "HS256", "PS256", "RS512"] {
        let t = key.sign_with_header(&json!({"alg": alg, "kid": "k"}), &issuer.claims(NOW));
        assert_eq!(
            v.verify(&t, at(NOW)).await.unwrap_err(),
            OidcError::UnsupportedAlgorithm,
            "{alg}"
        );
    }
    // An ES256 token naming the RSA key's kid.
    let t = other.sign_with_header(&json!({"alg": "ES256", "kid": "k"}), &issuer.claims(NOW));
    assert_eq!(
        v.verify(&t, at(NOW)).await.unwrap_err(),
        OidcError::KeyMismatch
    );
    // Garbage.
    for t in ["", "a.b", "a.b.c.d", "!!.??.**", &"x".repeat(20_000)] {
        assert!(matches!(
            v.verify(t, at(NOW)).await.unwrap_err(),
            OidcError::Malformed(_)
        ));
    }
}

#[tokio::test]
async fn keycloak_style_nested_scopes_are_read() {
    let key = TestKey::rsa("k");
    let issuer = TestIssuer::start(&[&key]).await;
    let v = verifier(&issuer, Duration::from_secs(3600));
    let mut c = issuer.claims(NOW);
    c.as_object_mut().unwrap().remove("scope");
    c["authorization"] = json!({"permissions": [{"scopes": [["gdprquery"]]}]});
    let t = v.verify(&key.sign(&c), at(NOW)).await.unwrap();
    assert!(t.has_scope("gdprquery"));
    assert!(!t.has_scope("vern.dsr"));
}

#[tokio::test]
async fn an_unreachable_issuer_is_unavailable_not_a_token_fault() {
    let key = TestKey::rsa("k");
    let mut cfg = IssuerConfig::new("http://127.0.0.1:1/", vec!["vern-api".into()]);
    cfg.fetch_timeout = Duration::from_secs(2);
    let v = OidcVerifier::new(vec![cfg]).unwrap();
    let mut c =
        json!({"iss": "http://127.0.0.1:1/", "sub": "s", "aud": "vern-api", "exp": NOW + 60});
    let err = v.verify(&key.sign(&c), at(NOW)).await.unwrap_err();
    assert!(matches!(err, OidcError::Unavailable(_)), "{err:?}");
    assert!(!err.is_token_fault());
    c["iss"] = json!("http://evil.example/");
    assert_eq!(
        v.verify(&key.sign(&c), at(NOW)).await.unwrap_err(),
        OidcError::UntrustedIssuer
    );
}
