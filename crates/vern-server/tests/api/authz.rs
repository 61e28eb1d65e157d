//! The authorisation matrix: every endpoint × every role of the bundled policy, against a
//! table written out here, plus role × category reads (what each role sees of a subject with
//! recruitment, contact and support data) and the audit of denied reads.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ROLES, TestApp, applicant, id_of, lead, problem, spawn_app};

/// Ids an operation may need, made fresh by the admin before each call.
struct Fixture {
    subject: String,
    record: String,
    identifier: String,
    token: String,
    /// A data-subject request in progress (verified by staff at entry).
    request: String,
    /// A decision about the subject (in the decision audit).
    decision: String,
}

async fn fixture(app: &TestApp, n: usize) -> Fixture {
    let s = app
        .create_subject(&lead(&format!("fixture{n}@example.com")))
        .await;
    let subject = id_of(&s);
    let record = id_of(&s["records"][0]);
    let identifier = id_of(&s["identifiers"][0]);
    let r = app
        .post(
            &app.admin_token,
            "/v1/tokens",
            &json!({"name": "victim", "role": "service"}),
        )
        .await;
    let token = id_of(&r.json::<Value>().await.unwrap());
    let r = app
        .post(
            &app.admin_token,
            "/v1/requests",
            &json!({"rights": ["access"], "lang": "en", "channel": "phone",
                    "identifiers": [{"kind": "email", "value": format!("fixture{n}@example.com")}],
                    "staff_verification": "called from the number on file"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let request = id_of(&r.json::<Value>().await.unwrap());
    let r = app
        .post(
            &app.admin_token,
            "/v1/decisions",
            &json!({"subject_id": subject, "purpose": "marketing.send", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let decision = r.json::<Value>().await.unwrap()["decision_id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        subject,
        record,
        identifier,
        token,
        request,
        decision,
    }
}

/// Who may call what, per the bundled policy: `admin` may do anything; `dpo` holds
/// `subjects.read/write/erase` and `audit.read`; the others `subjects.read/write`. Record
/// operations on a `contact.*` record also need the role to cover `contact` (the recruiter
/// covers only `recruitment`). Identifiers are read (and deleted) under the category named
/// after their kind (`email` → `contact.email`), so the recruiter cannot delete the fixture's
/// email; registering one needs only `subjects.write`.
const ALL: &[&str] = &[
    "admin",
    "dpo",
    "support",
    "marketing",
    "recruiter",
    "service",
];
const CONTACT: &[&str] = &["admin", "dpo", "support", "marketing", "service"];
const MATRIX: &[(&str, &[&str])] = &[
    ("createSubject (no records)", ALL),
    ("createSubject (contact record)", CONTACT),
    ("listSubjects", ALL),
    ("getSubject", ALL),
    ("updateSubject", ALL),
    ("eraseSubject", &["admin", "dpo"]),
    ("eraseSubjectOnRequest", &["admin", "dpo"]),
    // A report must be complete: the recruiter does not cover the fixture's contact record.
    ("getAccessReport", CONTACT),
    ("getPortabilityPackage", CONTACT),
    ("rectifyRecord (contact)", CONTACT),
    ("eraseSubjectOnRequest (dry run)", &["admin", "dpo"]),
    ("addIdentifier", ALL),
    ("listIdentifiers", ALL),
    ("deleteIdentifier", CONTACT),
    ("lookupSubject", ALL),
    ("addRecord (contact)", CONTACT),
    ("listRecords", ALL),
    ("getRecord (contact)", CONTACT),
    ("updateRecord (contact)", CONTACT),
    ("deleteRecord (contact)", CONTACT),
    ("createToken", &["admin"]),
    ("listTokens", &["admin"]),
    ("revokeToken", &["admin"]),
    ("verifyAudit", &["admin", "dpo"]),
    // The decision audit: `audit.read`.
    ("getDecision", &["admin", "dpo"]),
    ("expireConsents", ALL),
    // `disclosures.write`: admin, dpo, service; to an authority also `disclosures.approve`.
    (
        "recordDisclosure (group company)",
        &["admin", "dpo", "service"],
    ),
    ("recordDisclosure (authority)", &["admin", "dpo"]),
    ("listSubjectDisclosures", &["admin", "dpo"]),
    // Policy versions, sub-processors and processor customers: admin roles only. The editorial
    // publish comes before the sub-processor (a material version scheduled ahead).
    ("publishPolicyVersion (editorial)", &["admin"]),
    ("listPolicyVersions", &["admin"]),
    ("addProcessorCustomer", &["admin"]),
    ("listProcessorCustomers", &["admin"]),
    ("addSubprocessor (EEA)", &["admin"]),
    ("listSubprocessorNotices", &["admin"]),
    ("listSubprocessorObjections", &["admin"]),
    // The outbox is administrative (`tokens.manage`).
    ("listOutbox", &["admin"]),
    ("sendTestMail", &["admin"]),
    // Requests: `requests.write` (admin, dpo, support, service); reading and handling
    // `requests.read`/`requests.manage` (admin, dpo, support); refusing `requests.refuse`.
    ("submitRequest", &["admin", "dpo", "support", "service"]),
    ("listRequests", &["admin", "dpo", "support"]),
    ("getRequest", &["admin", "dpo", "support"]),
    ("actOnRequest (extend)", &["admin", "dpo", "support"]),
    ("actOnRequest (refuse)", &["admin", "dpo"]),
    // Art. 19 tasks: listed with `requests.read`, closed with `requests.manage` (both admin,
    // dpo, support); closing is in dsr_fulfil::art19_tasks_*.
    ("listRecipientTasks", &["admin", "dpo", "support"]),
];

fn call(op: &str, f: &Fixture, n: usize) -> (Method, String, Option<Value>) {
    let s = &f.subject;
    let contact = json!({"category": "contact.email.work_named", "value": "w@example.com",
                         "source": "direct", "purposes": ["marketing.send"]});
    match op {
        "createSubject (no records)" => (
            Method::POST,
            "/v1/subjects".into(),
            Some(json!({"subject_type": "lead",
                        "identifiers": [{"kind": "email", "value": format!("new{n}@example.com")}]})),
        ),
        "createSubject (contact record)" => (
            Method::POST,
            "/v1/subjects".into(),
            Some(lead(&format!("new{n}@example.com"))),
        ),
        "listSubjects" => (Method::GET, "/v1/subjects".into(), None),
        "getSubject" => (Method::GET, format!("/v1/subjects/{s}"), None),
        "updateSubject" => (
            Method::PATCH,
            format!("/v1/subjects/{s}"),
            Some(json!({"jurisdiction": "DK"})),
        ),
        "eraseSubject" => (Method::DELETE, format!("/v1/subjects/{s}"), None),
        "rectifyRecord (contact)" => (
            Method::POST,
            format!("/v1/subjects/{s}/records/{}/rectification", f.record),
            Some(json!({"value": format!("fixed{n}@example.com")})),
        ),
        "getPortabilityPackage" => (Method::GET, format!("/v1/subjects/{s}/portability"), None),
        "getAccessReport" => (
            Method::GET,
            format!("/v1/subjects/{s}/access-report?format=html&lang=nb"),
            None,
        ),
        "eraseSubjectOnRequest" => (Method::POST, format!("/v1/subjects/{s}/erasure"), None),
        "eraseSubjectOnRequest (dry run)" => (
            Method::POST,
            format!("/v1/subjects/{s}/erasure?dry_run=true"),
            None,
        ),
        "addIdentifier" => (
            Method::POST,
            format!("/v1/subjects/{s}/identifiers"),
            Some(json!({"kind": "username", "value": format!("user{n}")})),
        ),
        "listIdentifiers" => (Method::GET, format!("/v1/subjects/{s}/identifiers"), None),
        "deleteIdentifier" => (
            Method::DELETE,
            format!("/v1/subjects/{s}/identifiers/{}", f.identifier),
            None,
        ),
        "lookupSubject" => (
            Method::POST,
            "/v1/lookup".into(),
            Some(json!({"kind": "email", "value": format!("fixture{n}@example.com")})),
        ),
        "addRecord (contact)" => (
            Method::POST,
            format!("/v1/subjects/{s}/records"),
            Some(contact),
        ),
        "listRecords" => (Method::GET, format!("/v1/subjects/{s}/records"), None),
        "getRecord (contact)" => (
            Method::GET,
            format!("/v1/subjects/{s}/records/{}", f.record),
            None,
        ),
        "updateRecord (contact)" => (
            Method::PATCH,
            format!("/v1/subjects/{s}/records/{}", f.record),
            Some(json!({"last_activity_at": "2030-01-01T00:00:00Z"})),
        ),
        "deleteRecord (contact)" => (
            Method::DELETE,
            format!("/v1/subjects/{s}/records/{}", f.record),
            None,
        ),
        "createToken" => (
            Method::POST,
            "/v1/tokens".into(),
            Some(json!({"name": "made", "role": "support"})),
        ),
        "listTokens" => (Method::GET, "/v1/tokens".into(), None),
        "revokeToken" => (Method::DELETE, format!("/v1/tokens/{}", f.token), None),
        "verifyAudit" => (Method::GET, "/v1/audit/verify".into(), None),
        "getDecision" => (Method::GET, format!("/v1/decisions/{}", f.decision), None),
        "expireConsents" => (Method::POST, "/v1/consents/expire".into(), None),
        "recordDisclosure (group company)" => (
            Method::POST,
            "/v1/disclosures".into(),
            Some(
                json!({"recipient": "group.confect_sverige", "subjects": [s],
                        "categories": ["contact.email"], "purpose": "group.internal_admin",
                        "mechanism": "sync"}),
            ),
        ),
        "recordDisclosure (authority)" => (
            Method::POST,
            "/v1/disclosures".into(),
            Some(
                json!({"recipient": "authority.police_and_others", "subjects": [s],
                        "categories": ["contact.email"], "purpose": "authority.disclosure",
                        "mechanism": "export",
                        "legal_decision": {"issued_by": "Oslo tingrett", "case_number": "26-1",
                                           "decided_on": "2026-01-05", "scope": "contact data"}}),
            ),
        ),
        "listSubjectDisclosures" => (Method::GET, format!("/v1/subjects/{s}/disclosures"), None),
        "publishPolicyVersion (editorial)" => (
            Method::POST,
            "/v1/policy/versions".into(),
            Some(json!({"source": vern_policy::BUNDLED_SOURCE.replacen(
                "en = \"Marketing on social media\" }\ndescription.nb",
                "en = \"Marketing in social media\" }\ndescription.nb",
                1,
            )})),
        ),
        "listPolicyVersions" => (Method::GET, "/v1/policy/versions".into(), None),
        "addProcessorCustomer" => (
            Method::POST,
            "/v1/processor-customers".into(),
            Some(json!({"name": "Kunde AS", "dpa_signed_on": "2026-01-01",
                        "notice_email": "dpo@kunde.example"})),
        ),
        "listProcessorCustomers" => (Method::GET, "/v1/processor-customers".into(), None),
        "addSubprocessor (EEA)" => (
            Method::POST,
            "/v1/subprocessors".into(),
            Some(json!({"id": "subprocessor.eu_mail", "name": "EU Mail BV",
                        "service": "Mail relay", "processor": "processor.crm",
                        "purposes": ["sales.offers"], "categories": ["identity.name"],
                        "country": "NL", "dpa_date": "2026-10-01"})),
        ),
        "listSubprocessorNotices" => (Method::GET, "/v1/processor-customers/notices".into(), None),
        "listSubprocessorObjections" => (
            Method::GET,
            "/v1/processor-customers/objections".into(),
            None,
        ),
        "listOutbox" => (Method::GET, "/v1/outbox".into(), None),
        "sendTestMail" => (
            Method::POST,
            "/v1/outbox/test".into(),
            Some(json!({"to": format!("ops{n}@example.com")})),
        ),
        "submitRequest" => (
            Method::POST,
            "/v1/requests".into(),
            Some(
                json!({"rights": ["erasure"], "lang": "nb", "channel": "api",
                        "identifiers": [{"kind": "email", "value": format!("req{n}@example.com")}]}),
            ),
        ),
        "listRequests" => (Method::GET, "/v1/requests".into(), None),
        "listRecipientTasks" => (Method::GET, "/v1/recipient-tasks".into(), None),
        "getRequest" => (Method::GET, format!("/v1/requests/{}", f.request), None),
        "actOnRequest (extend)" => (
            Method::POST,
            format!("/v1/requests/{}/actions", f.request),
            Some(json!({"action": "extend", "months": 1, "reason": "many requests at once"})),
        ),
        "actOnRequest (refuse)" => (
            Method::POST,
            format!("/v1/requests/{}/actions", f.request),
            Some(
                json!({"action": "refuse", "reason": "the tenth identical request this month",
                        "legal_basis": "GDPR Art. 12(5)(b)"}),
            ),
        ),
        other => panic!("no call for {other}"),
    }
}

#[tokio::test]
async fn every_endpoint_for_every_role() {
    let app = spawn_app().await;
    let mut tokens = HashMap::new();
    for role in ROLES {
        tokens.insert(role, app.token(role).await);
    }
    let mut n = 0;
    let mut failures = Vec::new();
    for (op, allowed) in MATRIX {
        for role in ROLES {
            n += 1;
            let f = fixture(&app, n).await;
            let (method, path, body) = call(op, &f, n);
            let r = app
                .request(method.clone(), &path, Some(&tokens[role]), body.as_ref())
                .await;
            let status = r.status();
            let expected_allow = allowed.contains(&role);
            let ok = if expected_allow {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!(
                    "{op} as {role}: {status} (expected {}) {}",
                    if expected_allow { "2xx" } else { "403" },
                    r.text().await.unwrap_or_default()
                ));
            } else if !expected_allow {
                problem(r, StatusCode::FORBIDDEN).await;
            }
            // Without a token: 401, whatever the role would have been.
            if role == "admin" {
                let r = app.request(method, &path, None, body.as_ref()).await;
                assert!(r.headers().contains_key("www-authenticate"), "{op}");
                problem(r, StatusCode::UNAUTHORIZED).await;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn categories(v: &Value) -> BTreeSet<String> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_role_reads_only_its_categories_and_denials_are_audited() {
    let app = spawn_app().await;
    let subject = app
        .create_subject(&applicant("applicant@example.com"))
        .await;
    let id = id_of(&subject);
    let all = ["contact.email.personal", "recruitment.cv", "support.ticket"];
    let expected: &[(&str, &[&str])] = &[
        ("admin", &all),
        ("dpo", &all),
        ("support", &["contact.email.personal", "support.ticket"]),
        ("marketing", &["contact.email.personal"]),
        ("recruiter", &["recruitment.cv"]),
        ("service", &["contact.email.personal", "support.ticket"]),
    ];
    let mut recruiter_id = String::new();
    for (role, sees) in expected {
        let (token, token_id) = app.token_with_id(role).await;
        if *role == "recruiter" {
            recruiter_id = token_id;
        }
        let want: BTreeSet<String> = sees.iter().map(|s| (*s).to_owned()).collect();
        let got: Value = app
            .get(&token, &format!("/v1/subjects/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(categories(&got), want, "{role} via getSubject");
        // The email identifier is contact data: hidden from the recruiter only.
        let emails = got["identifiers"].as_array().unwrap().len();
        assert_eq!(
            emails,
            usize::from(*role != "recruiter"),
            "{role} identifiers"
        );
        let listed: Value = app
            .get(&token, &format!("/v1/subjects/{id}/identifiers"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed.as_array().unwrap().len(),
            emails,
            "{role} listIdentifiers"
        );
        let list: Value = app
            .get(&token, &format!("/v1/subjects/{id}/records"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            categories(&json!({"records": list})),
            want,
            "{role} via listRecords"
        );
        // Reading a record of another category directly is a 403.
        for r in subject["records"].as_array().unwrap() {
            let cat = r["category"].as_str().unwrap();
            let resp = app
                .get(&token, &format!("/v1/subjects/{id}/records/{}", id_of(r)))
                .await;
            if sees.contains(&cat) {
                assert_eq!(resp.status(), StatusCode::OK, "{role} {cat}");
            } else {
                problem(resp, StatusCode::FORBIDDEN).await;
            }
        }
    }

    // The recruiter's denied reads are in the audit log, by category, without values.
    let actor = format!("token:{recruiter_id}");
    let denied: Vec<_> = app
        .audit_entries()
        .await
        .into_iter()
        .filter(|e| e.entry.actor == actor && e.entry.action == "record.read_denied")
        .collect();
    assert!(!denied.is_empty());
    for e in &denied {
        assert_eq!(e.entry.subject_id.map(|u| u.to_string()), Some(id.clone()));
        assert!(!e.entry.detail.contains("applicant@example.com"));
    }
    let hidden = app
        .audit_entries()
        .await
        .into_iter()
        .find(|e| e.entry.actor == actor && e.entry.action == "identifier.read_denied")
        .expect("the withheld identifier is audited");
    assert!(hidden.entry.detail.contains("email"));
    assert!(!hidden.entry.detail.contains("applicant@example.com"));
    let summary = &denied[0].entry.detail;
    assert!(summary.contains("contact.email.personal") && summary.contains("support.ticket"));
    assert!(!summary.contains("recruitment.cv"));
}
