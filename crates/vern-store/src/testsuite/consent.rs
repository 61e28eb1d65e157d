//! Conformance scenarios for [`ConsentStore`]: the ledger and its projection, objections,
//! restriction, suppression, and what erasure leaves behind.

use uuid::Uuid;

use super::{assert_not_found, audit, audit_actions, bytes, new_subject, now};
use crate::consent::{
    CompellingGrounds, ConsentStore, DIRECT_MARKETING, NewConsentEvent, ObjectionRow,
    SuppressionRow,
};
use crate::{SqlStore, Store, StoreError};

/// A consent event for `subject` with plausible proof fields.
pub fn consent_event(
    tenant: Uuid,
    subject: Uuid,
    scope: &str,
    channel: &str,
    action: &str,
) -> NewConsentEvent {
    NewConsentEvent {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: subject,
        scope: scope.into(),
        channel: channel.into(),
        action: action.into(),
        at: now(),
        expires_at: None,
        policy_hash: "ab".repeat(32),
        notice_hash: "cd".repeat(32),
        collection_point: "form:newsletter".into(),
        method: "checkbox".into(),
        ip_truncated: Some("192.0.2.0".into()),
        user_agent: Some("Mozilla/5.0".into()),
        idempotency_key: None,
        actor: "token:test".into(),
    }
}

pub async fn consent_ledger_and_projection<S: Store + ConsentStore>(store: &S) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();

    let rows = store
        .append_consent(
            vec![
                consent_event(tenant, id, "marketing_email", "email", "granted"),
                consent_event(tenant, id, "marketing_sms", "sms", "granted"),
            ],
            vec![audit(tenant, "consent.record", Some(id))],
        )
        .await
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    let withdrawal = consent_event(tenant, id, "marketing_email", "email", "withdrawn");
    let withdrawal_id = withdrawal.id;
    store
        .append_consent(vec![withdrawal], vec![])
        .await
        .unwrap();

    let state = store.consent_state(tenant, id).await.unwrap();
    let keys: Vec<_> = state
        .iter()
        .map(|s| (s.scope.as_str(), s.channel.as_str(), s.action.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("marketing_email", "email", "withdrawn"),
            ("marketing_sms", "sms", "granted")
        ]
    );
    assert_eq!((state[0].event_id, state[0].seq), (withdrawal_id, 3));
    let history = store.consent_history(tenant, id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].event.id, withdrawal_id);
    assert_eq!(store.verify_consent_chain(tenant).await.unwrap(), Ok(3));

    // Nobody's consent: refused, and the chain is untouched.
    let ghost = consent_event(
        tenant,
        Uuid::now_v7(),
        "marketing_email",
        "email",
        "granted",
    );
    assert_not_found(store.append_consent(vec![ghost], vec![]).await, "ghost");
    assert_eq!(store.verify_consent_chain(tenant).await.unwrap(), Ok(3));
    assert_eq!(
        store
            .consent_ledger_page(tenant, 2, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        audit_actions(store, tenant).await,
        ["subject.create", "consent.record"]
    );
}

pub async fn objections_restriction_and_suppression<S: Store + ConsentStore>(store: &S) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();

    let objection = |target: &str| ObjectionRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: id,
        target: target.into(),
        created_at: now(),
        grounds_ct: None,
        grounds_at: None,
        grounds_by: None,
    };
    let first = store
        .add_objection(objection(DIRECT_MARKETING), vec![])
        .await
        .unwrap();
    // Objecting again changes nothing: the first objection stands.
    let again = store
        .add_objection(objection(DIRECT_MARKETING), vec![])
        .await
        .unwrap();
    assert_eq!(first, again);
    store
        .add_objection(objection("support"), vec![])
        .await
        .unwrap();
    let grounds = |target: &str| CompellingGrounds {
        tenant_id: tenant,
        subject_id: id,
        target: target.into(),
        grounds_ct: bytes(40),
        at: now(),
        by: "token:dpo".into(),
    };
    store
        .set_compelling_grounds(grounds("support"), vec![])
        .await
        .unwrap();
    let twice = store
        .set_compelling_grounds(grounds("support"), vec![])
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_not_found(
        store.set_compelling_grounds(grounds("nope"), vec![]).await,
        "grounds without objection",
    );

    store
        .set_restricted(tenant, id, true, now(), vec![], vec![])
        .await
        .unwrap();
    let ctx = store.consent_context(tenant, id).await.unwrap();
    assert!(ctx.restricted);
    assert_eq!(ctx.objections.len(), 2);
    let support = ctx
        .objections
        .iter()
        .find(|o| o.target == "support")
        .unwrap();
    assert!(support.grounds_at.is_some());
    store
        .set_restricted(tenant, id, false, now(), vec![], vec![])
        .await
        .unwrap();
    assert!(!store.consent_context(tenant, id).await.unwrap().restricted);

    let hash = bytes(32);
    let row = SuppressionRow {
        tenant_id: tenant,
        kind: "email".into(),
        hash: hash.clone(),
        reason: "objection".into(),
        created_at: now(),
    };
    store
        .add_suppression(vec![row.clone()], vec![])
        .await
        .unwrap();
    store.add_suppression(vec![row], vec![]).await.unwrap();
    let other = bytes(32);
    let hits = store
        .suppressed_among(tenant, "email", vec![other, hash.clone()])
        .await
        .unwrap();
    assert_eq!(hits, vec![hash.clone()]);
    assert!(
        store
            .suppressed_among(tenant, "phone", vec![hash.clone()])
            .await
            .unwrap()
            .is_empty()
    );

    // Erasure removes what describes the living subject; the proof and the list stay.
    store
        .append_consent(
            vec![consent_event(
                tenant,
                id,
                "marketing_email",
                "email",
                "granted",
            )],
            vec![],
        )
        .await
        .unwrap();
    store
        .erase_subject(tenant, id, now(), vec![])
        .await
        .unwrap();
    let ctx = store.consent_context(tenant, id).await.unwrap();
    assert!(ctx.state.is_empty() && ctx.objections.is_empty() && !ctx.restricted);
    assert_eq!(store.consent_history(tenant, id).await.unwrap().len(), 1);
    assert_eq!(
        store
            .suppressed_among(tenant, "email", vec![hash.clone()])
            .await
            .unwrap(),
        vec![hash]
    );
}

pub async fn consent_tables_are_append_only(store: &SqlStore) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();
    store
        .append_consent(
            vec![consent_event(
                tenant,
                id,
                "marketing_email",
                "email",
                "granted",
            )],
            vec![],
        )
        .await
        .unwrap();
    store
        .add_suppression(
            vec![SuppressionRow {
                tenant_id: tenant,
                kind: "email".into(),
                hash: bytes(32),
                reason: "erasure".into(),
                created_at: now(),
            }],
            vec![],
        )
        .await
        .unwrap();
    for sql in [
        "UPDATE consent_events SET action = 'granted'",
        "DELETE FROM consent_events",
        "UPDATE suppression SET reason = 'x'",
        "DELETE FROM suppression",
    ] {
        match store.execute_raw_for_tests(sql).await {
            Err(StoreError::Refused(msg)) => assert!(msg.starts_with("append-only"), "{msg}"),
            other => panic!("{sql}: expected Refused, got {other:?}"),
        }
    }
    assert_eq!(store.verify_consent_chain(tenant).await.unwrap(), Ok(1));
}

pub async fn events_ingest_count_and_purge<S: Store + crate::EventStore>(store: &S) {
    use crate::events::EventRow;
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();
    let event = |subject| EventRow {
        tenant_id: tenant,
        id: Uuid::now_v7(),
        subject_id: subject,
        purpose: "marketing.profiling".into(),
        channel: Some("website".into()),
        at: now(),
        ip_truncated: Some("192.0.2.0".into()),
        body_ct: bytes(40),
        created_at: now(),
    };
    let drops = |n| vec![("gpc".to_owned(), n), ("no_consent".to_owned(), 0)];
    store
        .ingest_events(tenant, vec![event(id), event(id)], drops(3))
        .await
        .unwrap();
    store.ingest_events(tenant, vec![], drops(2)).await.unwrap();
    assert_eq!(store.subject_events(tenant, id).await.unwrap().len(), 2);
    assert_eq!(
        store.event_drop_counts(tenant).await.unwrap(),
        vec![("gpc".to_owned(), 5)]
    );
    // An event of nobody: nothing of the batch is stored.
    let ghost = store
        .ingest_events(tenant, vec![event(id), event(Uuid::now_v7())], drops(1))
        .await;
    assert_not_found(ghost, "event of an unknown subject");
    assert_eq!(store.subject_events(tenant, id).await.unwrap().len(), 2);
    assert_eq!(
        store
            .purge_events(tenant, id, vec![audit(tenant, "profile.delete", Some(id))])
            .await
            .unwrap(),
        2
    );
    assert!(store.subject_events(tenant, id).await.unwrap().is_empty());
}
