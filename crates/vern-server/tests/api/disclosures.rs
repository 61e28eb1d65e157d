//! The disclosure register and the public sub-processor overview.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{id_of, lead, problem, spawn_app};

fn authority_body(subject: &str, decision: Option<Value>) -> Value {
    let mut body = json!({
        "recipient": "authority.police_and_others",
        "subjects": [subject],
        "categories": ["contact.email", "identity.name"],
        "purpose": "authority.disclosure",
        "mechanism": "export"
    });
    if let Some(d) = decision {
        body["legal_decision"] = d;
    }
    body
}

fn decision(nondisclosure_until: &str) -> Value {
    json!({"issued_by": "Oslo tingrett", "case_number": "26-123456TVI-OTIR/01",
           "decided_on": "2026-01-05", "scope": "contact data of one person",
           "nondisclosure_until": nondisclosure_until})
}

#[tokio::test]
async fn an_authority_gets_data_only_on_a_legal_decision_approved_by_the_dpo() {
    let app = spawn_app().await;
    let id = id_of(&app.create_subject(&lead("police.case@example.com")).await);
    let dpo = app.token("dpo").await;
    let service = app.token("service").await;

    // No legal decision: refused, nothing recorded.
    let r = app
        .post(&dpo, "/v1/disclosures", &authority_body(&id, None))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(p["errors"][0]["code"], "legal_decision_required", "{p}");
    let list: Value = app
        .get(&dpo, &format!("/v1/subjects/{id}/disclosures"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));

    // A decision, but recorded by a role that cannot approve: forbidden.
    let r = app
        .post(
            &service,
            "/v1/disclosures",
            &authority_body(&id, Some(decision("2099-01-01"))),
        )
        .await;
    problem(r, StatusCode::FORBIDDEN).await;

    // The DPO records it: that is the approval.
    let r = app
        .post(
            &dpo,
            "/v1/disclosures",
            &authority_body(&id, Some(decision("2099-01-01"))),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let receipt: Value = r.json().await.unwrap();
    assert_eq!(receipt["subjects"], 1);

    let list: Value = app
        .get(&dpo, &format!("/v1/subjects/{id}/disclosures"))
        .await
        .json()
        .await
        .unwrap();
    let entry = &list[0];
    assert_eq!(entry["recipient"], "authority.police_and_others");
    assert_eq!(
        entry["legal_decision"]["case_number"],
        "26-123456TVI-OTIR/01"
    );
    assert_eq!(entry["legal_basis"], "legal_obligation");
    assert!(entry["recorded_by"].as_str().unwrap().starts_with("token:"));

    // While the non-disclosure order stands, the subject's access report leaves it out…
    let recipients = |report: &Value| -> Vec<String> {
        report["recipients"]
            .as_array()
            .unwrap_or_else(|| panic!("{report}"))
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let access_report = || async {
        let r = app
            .get(
                &app.admin_token,
                &format!("/v1/subjects/{id}/access-report?lang=en"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()
    };
    let report = access_report().await;
    assert!(recipients(&report).is_empty(), "{report}");
    let html = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{id}/access-report?format=html&lang=en"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("26-123456TVI-OTIR/01") && !html.contains("authority.police"));
    // …and a disclosure whose order has ended is in it.
    let r = app
        .post(
            &dpo,
            "/v1/disclosures",
            &authority_body(&id, Some(decision("2026-02-01"))),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let report = access_report().await;
    assert_eq!(
        recipients(&report),
        ["authority.police_and_others"],
        "{report}"
    );
    let told = &report["recipients"][0];
    assert!(
        told["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("contact.email")),
        "{told}"
    );
}

#[tokio::test]
async fn disclosures_outside_the_policy_are_refused() {
    let app = spawn_app().await;
    let id = id_of(&app.create_subject(&lead("group.sync@example.com")).await);
    let token = &app.admin_token;
    let group = |categories: Value| {
        json!({"recipient": "group.confect_sverige", "subjects": [id], "categories": categories,
               "purpose": "group.internal_admin", "mechanism": "sync"})
    };

    let r = app
        .post(token, "/v1/disclosures", &group(json!(["recruitment.cv"])))
        .await;
    let p = problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        p["errors"][0]["code"], "category_not_allowed_for_recipient",
        "{p}"
    );
    assert_eq!(p["errors"][0]["field"], "categories[0]");

    let mut unknown = group(json!(["contact.email"]));
    unknown["recipient"] = json!("data.broker");
    let p = problem(
        app.post(token, "/v1/disclosures", &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_recipient");

    let mut wrong_purpose = group(json!(["contact.email"]));
    wrong_purpose["purpose"] = json!("marketing.send");
    let p = problem(
        app.post(token, "/v1/disclosures", &wrong_purpose).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "purpose_not_allowed_for_recipient");

    let mut ghost = group(json!(["contact.email"]));
    ghost["subjects"] = json!(["0190a6b2-0000-7000-8000-000000000001"]);
    let p = problem(
        app.post(token, "/v1/disclosures", &ghost).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unknown_subject");

    let list: Value = app
        .get(token, &format!("/v1/subjects/{id}/disclosures"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]), "nothing was recorded");

    let r = app
        .post(
            token,
            "/v1/disclosures",
            &group(json!(["contact.email", "identity.name"])),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_public_sub_processor_overview_needs_no_token() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/v1/public/subprocessors?lang=en"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    let list = list.as_array().unwrap();
    let policy = app.vault.policy();
    let expected = policy
        .raw
        .recipients
        .iter()
        .filter(|r| {
            matches!(
                r.kind.get_ref(),
                vern_policy::model::RecipientKind::Processor
                    | vern_policy::model::RecipientKind::SubProcessor
            )
        })
        .count();
    assert_eq!(list.len(), expected);
    for e in list {
        if e["in_eea"] == false {
            let t = e["transfer"].as_str().unwrap_or_default();
            assert!(!t.is_empty(), "a non-EEA entry names its safeguard: {e}");
        }
    }
    let r = app
        .client
        .get(app.url("/public/subprocessors?lang=nb"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"nb\">") && html.contains("Underleverandører"),
        "{html}"
    );
    let r = app
        .client
        .get(app.url("/public/subprocessors?lang=de"))
        .send()
        .await
        .unwrap();
    problem(r, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn the_disclosures_of_an_unknown_or_erased_subject_are_not_found() {
    let app = spawn_app().await;
    let s = app.create_subject(&lead("gone@example.com")).await;
    let id = id_of(&s);
    let path = format!("/v1/subjects/{id}/disclosures");
    assert_eq!(
        app.get(&app.admin_token, &path).await.status(),
        StatusCode::OK
    );
    let r = app
        .delete(&app.admin_token, &format!("/v1/subjects/{id}"))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    problem(
        app.get(&app.admin_token, &path).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let unknown = format!("/v1/subjects/{}/disclosures", uuid::Uuid::now_v7());
    problem(
        app.get(&app.admin_token, &unknown).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
