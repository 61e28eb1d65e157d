//! Retention scenarios over HTTP with backdated data: the sweep deletes what the policy's
//! rules say has expired, by the day, and nothing else; legal holds stop it; evidence counts
//! what went; an emptied subject is erased and its key shredded.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;
use vern_store::{RetentionStore, Store};

use crate::helpers::{id_of, spawn_app};

fn rfc(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// `at` minus calendar months (the day clamped to the month's end).
fn months_ago(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let zero = i64::from(at.month() as u8) - 1 - i64::from(months);
    let year = at.year() + i32::try_from(zero.div_euclid(12)).unwrap();
    let month = time::Month::try_from(u8::try_from(zero.rem_euclid(12) + 1).unwrap()).unwrap();
    let day = at.day().min(month.length(year));
    Date::from_calendar_date(year, month, day)
        .unwrap()
        .with_time(at.time())
        .assume_utc()
}

fn applicant_with_deadline(email: &str, deadline: OffsetDateTime) -> Value {
    json!({
        "subject_type": "job_applicant",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [{
            "category": "recruitment.cv",
            "value": {"summary": "ten years of baking"},
            "source": "direct",
            "purposes": ["recruitment.process"],
            "collected_at": rfc(deadline - Duration::days(20)),
            "event_times": {"application_deadline": rfc(deadline)}
        }]
    })
}

fn lead_active_at(email: &str, activity: OffsetDateTime) -> Value {
    json!({
        "subject_type": "lead",
        "jurisdiction": "NO",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [{
            "category": "contact.email.work_named",
            "value": email,
            "source": "direct",
            "purposes": ["marketing.send"],
            "collected_at": rfc(activity - Duration::days(30)),
            "last_activity_at": rfc(activity)
        }]
    })
}

async fn run(app: &crate::helpers::TestApp) -> Value {
    let r = app
        .post(&app.admin_token, "/v1/retention/run", &json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn exists(app: &crate::helpers::TestApp, subject: &str) -> bool {
    let r = app
        .get(&app.admin_token, &format!("/v1/subjects/{subject}"))
        .await;
    r.status() == StatusCode::OK
}

#[tokio::test]
async fn applicants_go_six_months_after_the_deadline_to_the_day() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    let gone = app
        .create_subject(&applicant_with_deadline(
            "gone@example.com",
            months_ago(now, 6) - Duration::days(1),
        ))
        .await;
    let kept = app
        .create_subject(&applicant_with_deadline(
            "kept@example.com",
            months_ago(now, 5) - Duration::days(29),
        ))
        .await;
    let report = run(&app).await;
    assert_eq!(report["deleted"], 1);
    assert_eq!(report["subjects_erased"], 1);
    assert_eq!(report["keys_shredded"], 1);
    assert!(!exists(&app, &id_of(&gone)).await);
    assert!(exists(&app, &id_of(&kept)).await);

    // The emptied subject's key is gone; the evidence names rule and category, no data.
    let gone_id = Uuid::parse_str(&id_of(&gone)).unwrap();
    let store = app.vault.store();
    assert!(
        store
            .get_subject_key(app.vault.tenant(), gone_id)
            .await
            .is_err()
    );
    let evidence = store
        .evidence_for_subject(app.vault.tenant(), gone_id)
        .await
        .unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].rule, "recruitment_process");
    assert_eq!(evidence[0].category, "recruitment.cv");
    assert_eq!(evidence[0].count, 1);
    assert_eq!(store.evidence_total(app.vault.tenant()).await.unwrap(), 1);

    // The kept applicant's status shows the rule and the date.
    let status: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{}/retention", id_of(&kept)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["records"][0]["rule"], "recruitment_process");
    assert_eq!(status["records"][0]["basis"], "rule");
    assert_eq!(status["records"][0]["held"], false);
}

#[tokio::test]
async fn leads_go_24_months_after_activity_and_new_activity_resets_the_clock() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    let stale = months_ago(now, 24) - Duration::days(1);
    let gone = app
        .create_subject(&lead_active_at("old@example.com", stale))
        .await;
    let revived = app
        .create_subject(&lead_active_at("revived@example.com", stale))
        .await;
    // New activity on the revived lead before the sweep.
    let records: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{}/records", id_of(&revived)),
        )
        .await
        .json()
        .await
        .unwrap();
    let record = records[0]["id"].as_str().unwrap();
    let r = app
        .patch(
            &app.admin_token,
            &format!("/v1/subjects/{}/records/{record}", id_of(&revived)),
            &json!({"last_activity_at": rfc(now - Duration::days(1))}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let report = run(&app).await;
    assert_eq!(report["deleted"], 1);
    assert!(!exists(&app, &id_of(&gone)).await);
    assert!(exists(&app, &id_of(&revived)).await);
}

#[tokio::test]
async fn an_invoice_stays_while_the_rest_of_the_customer_contact_goes() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    let activity = months_ago(now, 24) - Duration::days(1);
    let customer = app
        .create_subject(&json!({
            "subject_type": "customer_contact",
            "jurisdiction": "NO",
            "identifiers": [{"kind": "email", "value": "buyer@example.com"}],
            "records": [
                {"category": "contact.email.work_named", "value": "buyer@example.com",
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"],
                 "collected_at": rfc(activity - Duration::days(10)),
                 "last_activity_at": rfc(activity)},
                {"category": "finance.invoice", "value": {"number": "F-1001"},
                 "source": "direct", "purposes": ["sales.orders_agreements_payments"],
                 "collected_at": rfc(activity)}
            ]
        }))
        .await;
    let report = run(&app).await;
    assert_eq!(report["deleted"], 1);
    assert_eq!(report["subjects_erased"], 0);
    let status: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{}/retention", id_of(&customer)),
        )
        .await
        .json()
        .await
        .unwrap();
    let records = status["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["category"], "finance.invoice");
    assert_eq!(records[0]["rule"], "bookkeeping_primary");
    // 5 years after the end of the fiscal year (31 December) of the invoice.
    let expected = format!("{}-01-01T00:00:00Z", activity.year() + 6);
    assert_eq!(records[0]["expires_at"], expected.as_str());

    // Moving the customer to Sweden puts the invoice under Swedish bookkeeping law (7 years).
    let r = app
        .patch(
            &app.admin_token,
            &format!("/v1/subjects/{}", id_of(&customer)),
            &json!({"jurisdiction": "SE"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let status: Value = app
        .get(
            &app.admin_token,
            &format!("/v1/subjects/{}/retention", id_of(&customer)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["records"][0]["rule"], "bookkeeping_se");
    assert_eq!(status["records"][0]["basis"], "erasure_exception");
    let expected = format!("{}-01-01T00:00:00Z", activity.year() + 8);
    assert_eq!(status["records"][0]["expires_at"], expected.as_str());
}

#[tokio::test]
async fn a_legal_hold_stops_the_sweep_and_its_release_lets_the_next_one_act() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    let lead = app
        .create_subject(&lead_active_at(
            "held@example.com",
            months_ago(now, 24) - Duration::days(1),
        ))
        .await;
    let hold: Value = app
        .post(
            &app.admin_token,
            "/v1/retention/holds",
            &json!({
                "subject_id": id_of(&lead),
                "matter": "case-17",
                "reason": "pending dispute",
                "review_at": rfc(now + Duration::days(90)),
                "approved_by": "dpo"
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let preview: Value = app
        .get(&app.admin_token, "/v1/retention/preview")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["would_delete"], 0);
    assert_eq!(preview["held"], 1);
    assert_eq!(preview["forecast"].as_array().unwrap().len(), 24);

    let report = run(&app).await;
    assert_eq!(report["deleted"], 0);
    assert_eq!(report["held"], 1);
    assert!(exists(&app, &id_of(&lead)).await);

    let r = app
        .post(
            &app.admin_token,
            &format!("/v1/retention/holds/{}/release", id_of(&hold)),
            &json!({"reason": "dispute settled"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let released: Value = r.json().await.unwrap();
    assert_eq!(released["release_reason"], "dispute settled");
    let report = run(&app).await;
    assert_eq!(report["deleted"], 1);
    assert!(!exists(&app, &id_of(&lead)).await);
}

#[tokio::test]
async fn retention_admin_routes_need_the_erase_permission_and_refuse_future_sweeps() {
    let app = spawn_app().await;
    let support = app.token("support").await;
    let r = app.post(&support, "/v1/retention/run", &json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.get(&support, "/v1/retention/holds").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let future = rfc(OffsetDateTime::now_utc() + Duration::days(400));
    let r = app
        .post(
            &app.admin_token,
            "/v1/retention/run",
            &json!({"as_of": future}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Unknown event names are refused.
    let mut body = applicant_with_deadline("x@example.com", OffsetDateTime::now_utc());
    body["records"][0]["event_times"] = json!({"no_such_event": rfc(OffsetDateTime::now_utc())});
    let r = app.post(&app.admin_token, "/v1/subjects", &body).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

fn talent_pool_applicant(email: &str, deadline: OffsetDateTime) -> Value {
    json!({
        "subject_type": "job_applicant",
        "identifiers": [{"kind": "email", "value": email}],
        "records": [{
            "category": "recruitment.cv",
            "value": {"summary": "pastry chef"},
            "source": "direct",
            "purposes": ["recruitment.process"],
            "collected_at": rfc(deadline - Duration::days(20)),
            "event_times": {"application_deadline": rfc(deadline)}
        }, {
            "category": "recruitment.cv",
            "value": {"summary": "pastry chef"},
            "source": "direct",
            "purposes": ["recruitment.talent_pool"],
            "collected_at": rfc(deadline - Duration::days(20)),
            "event_times": {"application_deadline": rfc(deadline)}
        }]
    })
}

async fn preview_at(app: &crate::helpers::TestApp, at: OffsetDateTime) -> u64 {
    let r = app
        .get(
            &app.admin_token,
            &format!(
                "/v1/retention/preview?as_of={}",
                rfc(at).replace('+', "%2B").replace(':', "%3A")
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["would_delete"].as_u64().unwrap()
}

#[tokio::test]
async fn talent_pool_consent_keeps_an_applicant_until_withdrawn_or_its_own_limit() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    // Both applications closed 7 months ago: 6 months later they would be gone.
    let deadline = months_ago(now, 7);
    let stays = app
        .create_subject(&talent_pool_applicant("stays@example.com", deadline))
        .await;
    let leaves = app
        .create_subject(&talent_pool_applicant("leaves@example.com", deadline))
        .await;
    let (stays, leaves) = (id_of(&stays), id_of(&leaves));
    assert_eq!(preview_at(&app, now).await, 4, "expired before any consent");

    // Both join the talent pool: the consent moves their records past the 6 months.
    for s in [&stays, &leaves] {
        crate::consent::consent(
            &app,
            s,
            json!({"scope": "talent_pool", "action": "granted", "method": "checkbox",
                   "collection_point": "form:application", "language": "nb"}),
        )
        .await;
    }
    let status: Value = app
        .get(&app.admin_token, &format!("/v1/subjects/{stays}/retention"))
        .await
        .json()
        .await
        .unwrap();
    let pool = status["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "recruitment_talent_pool")
        .unwrap_or_else(|| panic!("{status}"));
    let until = OffsetDateTime::parse(pool["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(until > now + Duration::days(700), "{status}");
    // The sweep takes the process records (6 months are over) and leaves the talent pool.
    let report = run(&app).await;
    assert_eq!(report["deleted"], 2, "{report}");
    assert_eq!(report["subjects_erased"], 0, "{report}");
    assert!(exists(&app, &stays).await && exists(&app, &leaves).await);

    // One withdraws: the next sweep deletes that one only.
    crate::consent::consent(
        &app,
        &leaves,
        json!({"scope": "talent_pool", "action": "withdrawn", "method": "api",
               "collection_point": "self-service"}),
    )
    .await;
    let report = run(&app).await;
    assert_eq!(report["deleted"], 1, "{report}");
    assert!(!exists(&app, &leaves).await);
    assert!(exists(&app, &stays).await);
    let evidence = app
        .vault
        .store()
        .evidence_for_subject(app.vault.tenant(), Uuid::parse_str(&leaves).unwrap())
        .await
        .unwrap();
    let rules: Vec<&str> = evidence.iter().map(|e| e.rule.as_str()).collect();
    assert_eq!(rules, ["recruitment_process", "recruitment_talent_pool"]);

    // The other stays until the consent's own limit (24 months from the grant), then goes.
    assert_eq!(preview_at(&app, until - Duration::days(1)).await, 0);
    assert_eq!(preview_at(&app, until).await, 1);
}

/// The bundled policy with the recruitment rule anonymising instead of deleting.
fn anonymising_policy() -> vern_policy::Policy {
    let text = include_str!("../../../../policies/confect.toml");
    let rule = "id = \"recruitment_process\"";
    let at = text.find(rule).unwrap();
    let tail = &text[at..];
    let action = tail.find("action = \"delete\"").unwrap();
    let changed = format!(
        "{}{}action = \"anonymise\"{}",
        &text[..at],
        &tail[..action],
        &tail[action + "action = \"delete\"".len()..]
    );
    vern_policy::Policy::parse(&changed).unwrap().0
}

#[tokio::test]
async fn an_anonymise_rule_leaves_counts_and_no_person() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        policy: Some(anonymising_policy()),
        ..crate::helpers::Options::default()
    })
    .await;
    let now = OffsetDateTime::now_utc();
    let deadline = months_ago(now, 6) - Duration::days(1);
    let gone = app
        .create_subject(&applicant_with_deadline("anon@example.com", deadline))
        .await;
    let gone = Uuid::parse_str(&id_of(&gone)).unwrap();
    let report = run(&app).await;
    assert_eq!(report["deleted"], 1, "{report}");
    assert_eq!(report["subjects_erased"], 1, "{report}");
    assert!(!exists(&app, &gone.to_string()).await);

    let store = app.vault.store();
    let tenant = app.vault.tenant();
    let evidence = store.evidence_for_subject(tenant, gone).await.unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].action, "anonymise");
    assert_eq!(evidence[0].rule, "recruitment_process");
    let collected = deadline - Duration::days(20);
    let month = format!("{:04}-{:02}", collected.year(), u8::from(collected.month()));
    assert_eq!(
        store.anonymised_counts(tenant).await.unwrap(),
        vec![vern_store::AnonymisedCount {
            rule: "recruitment_process".to_owned(),
            category: "recruitment.cv".to_owned(),
            purposes: "[\"recruitment.process\"]".to_owned(),
            source: "direct".to_owned(),
            collected_month: month,
            count: 1
        }]
    );
    // The counts carry no identifier, value or link to the subject.
    let sqlite_or_pg_dump = format!("{:?}", store.anonymised_counts(tenant).await.unwrap());
    assert!(!sqlite_or_pg_dump.contains("anon@example.com"));
    assert!(!sqlite_or_pg_dump.contains(&gone.to_string()));
    assert!(!sqlite_or_pg_dump.contains("baking"));
}

async fn statuses(app: &crate::helpers::TestApp, subjects: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for s in subjects {
        let v: Value = app
            .get(&app.admin_token, &format!("/v1/subjects/{s}/retention"))
            .await
            .json()
            .await
            .unwrap();
        out.push(v["records"].clone());
    }
    out
}

/// After a policy change every record is recomputed set-based (pages of records with their
/// subjects and consents, bulk updates): the result equals what each write computed.
#[tokio::test]
async fn recomputing_every_expiry_restores_what_the_writes_computed() {
    let app = spawn_app().await;
    let now = OffsetDateTime::now_utc();
    let mut subjects = Vec::new();
    for i in 0..3 {
        let a = app
            .create_subject(&talent_pool_applicant(
                &format!("pool{i}@example.com"),
                months_ago(now, 2 + i),
            ))
            .await;
        subjects.push(id_of(&a));
        let l = app
            .create_subject(&lead_active_at(
                &format!("lead{i}@example.com"),
                months_ago(now, 3 + i),
            ))
            .await;
        subjects.push(id_of(&l));
    }
    crate::consent::consent(
        &app,
        &subjects[0],
        json!({"scope": "talent_pool", "action": "granted", "method": "checkbox",
               "collection_point": "form:application", "language": "nb"}),
    )
    .await;
    let before = statuses(&app, &subjects).await;
    let store = app.vault.store();
    store
        .execute_raw_for_tests("UPDATE records SET expires_at = 1, retention_rule = 'stale'")
        .await
        .unwrap();
    let who = app
        .vault
        .admin_principal(vern_server::vault::Actor::Cli)
        .unwrap();
    let changed = app.vault.recompute_expiries(&who).await.unwrap();
    assert_eq!(changed, 9, "6 applicant records and 3 lead records");
    assert_eq!(statuses(&app, &subjects).await, before);
    assert_eq!(app.vault.recompute_expiries(&who).await.unwrap(), 0);
}
