//! Consent receipts verified by an independent JOSE library (Python joserfc).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::consent::{consent, grant};
use crate::helpers::{id_of, lead, spawn_app};

/// Runs `scripts/verify-receipt.py` (joserfc) on a receipt; `None` if joserfc is missing and
/// this is not CI (where it must be installed).
fn verify_with_joserfc(jwks: &str, receipt: &str) -> Option<(bool, String)> {
    let has_joserfc = std::process::Command::new("python3")
        .args(["-c", "import joserfc"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_joserfc {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs python3 with joserfc"
        );
        eprintln!("skipping: python3 with joserfc is not installed");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("vern-receipt-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jwks.json"), jwks).unwrap();
    std::fs::write(dir.join("receipt.jws"), receipt).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/verify-receipt.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.join("jwks.json"))
        .arg(dir.join("receipt.jws"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    });
    Some((out.status.success(), text.into_owned()))
}

#[tokio::test]
async fn receipts_verify_with_an_independent_jose_library() {
    let app = spawn_app().await;
    let subject = id_of(&app.create_subject(&lead("receipt@example.com")).await);
    let recorded = consent(&app, &subject, grant("marketing_email", None)).await;
    let receipt = recorded["receipt"].as_str().unwrap().to_owned();
    let r = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/jwk-set+json");
    let jwks = r.text().await.unwrap();

    let Some((ok, out)) = verify_with_joserfc(&jwks, &receipt) else {
        return;
    };
    assert!(ok, "{out}");
    let claims: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(claims["version"], "KI-CR-v1.1.0");
    assert_eq!(claims["piiPrincipalId"], subject.as_str());
    assert_eq!(claims["vern"]["action"], "granted");
    assert_eq!(
        claims["services"][0]["purposes"][0]["consentType"],
        "explicit"
    );
    assert!(claims["consentTimestamp"].is_i64());

    // A withdrawal gets its receipt too; a forged payload does not verify.
    let withdrawn = consent(
        &app,
        &subject,
        json!({"scope": "marketing_email",
        "action": "withdrawn", "method": "api", "collection_point": "crm"}),
    )
    .await;
    let (ok, out) = verify_with_joserfc(&jwks, withdrawn["receipt"].as_str().unwrap()).unwrap();
    assert!(ok && out.contains("\"withdrawn\""), "{out}");
    let mut parts: Vec<String> = receipt.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].replace('A', "B");
    let (ok, _) = verify_with_joserfc(&jwks, &parts.join(".")).unwrap();
    assert!(!ok, "a tampered receipt must not verify");
}
