//! Erasure on request: exceptions keep invoices with their legal reference and end date
//! (outcome partially refused), everything else goes, addresses are suppressed, recipients
//! from the disclosure register are listed, the key that sealed the erased data is destroyed
//! (kept items are re-sealed under a fresh one); a dry run changes nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, id_of, spawn_app};

async fn customer_with_invoice(app: &TestApp, email: &str) -> String {
    let s = app
        .create_subject(&json!({
            "subject_type": "customer_contact",
            "jurisdiction": "NO",
            "identifiers": [{"kind": "email", "value": email},
                            {"kind": "phone", "value": "+47 912 34 567"}],
            "records": [
                {"category": "contact.email.work_named", "value": email,
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "identity.name", "value": "Kari Nordmann",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"]},
                {"category": "finance.invoice", "value": {"number": "F-1001", "to": "Kari Nordmann"},
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"],
                 "collected_at": "2026-03-10T12:00:00Z"}
            ]
        }))
        .await;
    id_of(&s)
}

#[tokio::test]
async fn a_customer_contact_with_an_invoice_is_erased_except_the_invoice() {
    let app = spawn_app().await;
    let s = customer_with_invoice(&app, "kari@customer.example").await;
    let r = app
        .post(
            &app.admin_token,
            "/v1/disclosures",
            &json!({"recipient": "group.confect_sverige", "subjects": [s],
                    "categories": ["contact.email"], "purpose": "group.internal_admin",
                    "mechanism": "sync"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // The dry run predicts the outcome and changes nothing.
    let dry = app.erase(&s, true).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["outcome"], "partially_refused");
    let subject: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(subject["records"].as_array().unwrap().len(), 3);
    assert_eq!(subject["identifiers"].as_array().unwrap().len(), 2);
    let (store, tenant) = (app.vault.store(), app.vault.tenant());
    let sid: uuid::Uuid = s.parse().unwrap();
    let key_before = vern_store::Store::get_subject_key(store, tenant, sid)
        .await
        .unwrap();
    let invoice_before = vern_store::Store::list_records(store, tenant, sid)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.category == "finance.invoice")
        .unwrap();

    let out = app.erase(&s, false).await;
    assert_eq!(out["dry_run"], false);
    assert_eq!(out["outcome"], "partially_refused");
    assert_eq!(
        out["erased"],
        json!({"contact.email.work_named": 1, "identity.name": 1})
    );
    assert_eq!(out["identifiers_erased"], 2);
    assert_eq!(out["suppression_entries"], 2);
    assert_eq!(out["key_destroyed"], true);
    let kept = out["kept"].as_array().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["category"], "finance.invoice");
    assert_eq!(kept[0]["reason"], "erasure_exception");
    assert_eq!(kept[0]["exception"], "bookkeeping_no_primary");
    assert!(
        kept[0]["legal_ref"]
            .as_str()
            .unwrap()
            .contains("Bokføringsloven")
    );
    // Fiscal year 2026 ends 31 December; 5 years after.
    assert_eq!(kept[0]["until"], "2032-01-01T00:00:00Z");
    assert!(
        kept[0]["description"]["en"]
            .as_str()
            .unwrap()
            .contains("Invoices")
    );
    assert_eq!(
        out["recipients_to_notify"][0]["recipient"],
        "group.confect_sverige"
    );
    for lang in ["nb", "en"] {
        let text = out["explanation"][lang].as_str().unwrap();
        assert!(
            text.contains("finance.invoice") && text.contains("2032-01-01"),
            "{text}"
        );
    }

    // Only the invoice is left, readable (the key stays for it); no identifier finds them.
    let subject: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await
        .json()
        .await
        .unwrap();
    let records = subject["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["value"]["number"], "F-1001");
    assert!(subject["identifiers"].as_array().unwrap().is_empty());

    // The key that sealed the erased data is gone: the subject has a fresh key, the invoice is
    // sealed under it (new ciphertext), and no successor is left half-promoted.
    let key_after = vern_store::Store::get_subject_key(store, tenant, sid)
        .await
        .unwrap();
    assert_ne!(key_after.wrapped_key, key_before.wrapped_key);
    let invoice_after = vern_store::Store::get_record(store, tenant, sid, invoice_before.id)
        .await
        .unwrap();
    assert_ne!(invoice_after.value_ct, invoice_before.value_ct);
    assert_eq!(
        vern_store::ErasureStore::settle_key_successors(store, i64::MAX)
            .await
            .unwrap(),
        vern_store::SettledSuccessors::default()
    );
    let r = app
        .post(
            &app.admin_token,
            "/v1/lookup",
            &json!({"kind": "email", "value": "kari@customer.example"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Deletion evidence and audit: ids, categories and counts, no personal data.
    let audit = app.audit_entries().await;
    let erase = audit
        .iter()
        .find(|e| e.entry.action == "subject.erase")
        .unwrap();
    assert!(erase.entry.detail.contains("finance.invoice"));
    assert!(audit.iter().any(|e| e.entry.action == "suppression.add"));
    for e in &audit {
        assert!(
            !e.entry.detail.contains("kari") && !e.entry.detail.contains("Nordmann"),
            "{}",
            e.entry.detail
        );
    }
    let partial = vern_store::ErasureStore::partial_erasures(app.vault.store(), app.vault.tenant())
        .await
        .unwrap();
    assert_eq!(partial.len(), 1);
    assert_eq!(partial[0].kept_records.len(), 1);
}

#[tokio::test]
async fn a_lead_without_exceptions_is_erased_completely_and_the_key_destroyed() {
    let app = spawn_app().await;
    let s = id_of(
        &app.create_subject(&crate::helpers::lead("lead@example.com"))
            .await,
    );
    let out = app.erase(&s, false).await;
    assert_eq!(out["outcome"], "completed");
    assert_eq!(out["key_destroyed"], true);
    assert!(out["kept"].as_array().unwrap().is_empty());
    assert_eq!(
        app.get(&app.admin_token, &format!("/v1/subjects/{s}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let erased = vern_store::Store::erased_subjects(app.vault.store(), app.vault.tenant())
        .await
        .unwrap();
    assert_eq!(erased.len(), 1);
    // Erasing again: the subject no longer exists.
    let r = app
        .request(
            reqwest::Method::POST,
            &format!("/v1/subjects/{s}/erasure"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_legal_hold_keeps_the_held_categories() {
    let app = spawn_app().await;
    let s = id_of(
        &app.create_subject(&crate::helpers::lead("held@example.com"))
            .await,
    );
    let r = app
        .post(
            &app.admin_token,
            "/v1/retention/holds",
            &json!({"subject_id": s, "categories": ["contact"], "reason": "complaint 2026-7",
                    "review_at": "2030-01-01T00:00:00Z", "approved_by": "dpo"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let out = app.erase(&s, false).await;
    assert_eq!(out["outcome"], "partially_refused");
    assert_eq!(out["kept"][0]["reason"], "legal_hold");
    assert!(
        out["kept"][0]["legal_ref"]
            .as_str()
            .unwrap()
            .contains("17(3)(e)")
    );
}

/// Restriction end to end (Art. 18): a customer contact's order handling is allowed; once
/// restricted, it is denied with `restricted` while legal claims stay allowed; lifting the
/// restriction allows it again. The subject's data stays (store only), readable by staff.
#[tokio::test]
async fn restriction_stores_only_and_lifting_it_restores_processing() {
    let app = spawn_app().await;
    let s = customer_with_invoice(&app, "restricted@customer.example").await;
    let ask = |purpose: &str| json!({"subject_id": s, "purpose": purpose});
    let sales = crate::consent::decide(&app, &ask("sales.orders_agreements_payments")).await;
    assert_eq!(sales["allowed"], true, "{sales}");

    let restrict = |on: bool| {
        let app = &app;
        let s = s.clone();
        async move {
            let r = app
                .request(
                    reqwest::Method::PUT,
                    &format!("/v1/subjects/{s}/restriction"),
                    Some(&app.admin_token),
                    Some(&json!({"restricted": on})),
                )
                .await;
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
    };
    restrict(true).await;
    let sales = crate::consent::decide(&app, &ask("sales.orders_agreements_payments")).await;
    assert_eq!(
        (sales["allowed"].clone(), sales["reason"].clone()),
        (json!(false), json!("restricted"))
    );
    let claims = crate::consent::decide(&app, &ask("compliance.legal_claims")).await;
    assert_ne!(claims["reason"], "restricted", "{claims}");
    // Store only: the data is still there.
    let subject: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(subject["records"].as_array().unwrap().len(), 3);

    restrict(false).await;
    let sales = crate::consent::decide(&app, &ask("sales.orders_agreements_payments")).await;
    assert_eq!(sales["allowed"], true, "{sales}");
    // Art. 18(3): the subject was told of the lift, by a notice queued with it.
    let outbox: Value = app
        .get(&app.admin_token, &format!("/v1/outbox?subject_id={s}"))
        .await
        .json()
        .await
        .unwrap();
    let notices: Vec<&Value> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["template"] == "restriction_lift")
        .collect();
    assert_eq!(notices.len(), 1, "{outbox}");
    // Lifting an unrestricted subject tells nobody anything.
    restrict(false).await;
    let outbox: Value = app
        .get(&app.admin_token, &format!("/v1/outbox?subject_id={s}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        outbox.to_string().matches("restriction_lift").count(),
        1,
        "{outbox}"
    );
}

/// A subject vern cannot mail must be told of a lift another way, and the lift says how.
#[tokio::test]
async fn lifting_a_restriction_without_an_address_needs_to_say_how_the_subject_was_told() {
    let app = spawn_app().await;
    let s = id_of(
        &app.create_subject(&json!({
            "subject_type": "customer_contact",
            "records": [{"category": "identity.name", "value": "Ola Nordmann",
                         "source": "direct", "purposes": ["sales.orders_agreements_payments"]}]
        }))
        .await,
    );
    let put = |body: Value| {
        let app = &app;
        let s = s.clone();
        async move {
            app.request(
                reqwest::Method::PUT,
                &format!("/v1/subjects/{s}/restriction"),
                Some(&app.admin_token),
                Some(&body),
            )
            .await
        }
    };
    assert_eq!(
        put(json!({"restricted": true})).await.status(),
        StatusCode::NO_CONTENT
    );
    let r = put(json!({"restricted": false})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert!(problem.to_string().contains("informed_by"), "{problem}");
    // Nothing changed: still restricted.
    let ask = json!({"subject_id": s, "purpose": "sales.orders_agreements_payments"});
    assert_eq!(
        crate::consent::decide(&app, &ask).await["reason"],
        "restricted"
    );

    let r = put(json!({"restricted": false, "informed_by": "letter"})).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(crate::consent::decide(&app, &ask).await["allowed"], true);
    let audit = app.audit_entries().await;
    let lift = audit
        .iter()
        .find(|e| e.entry.action == "subject.unrestrict")
        .unwrap();
    assert!(
        lift.entry.detail.contains("letter"),
        "{}",
        lift.entry.detail
    );
}
