//! The consent ledger against the reference: replaying any generated history gives the stored
//! projection, the chain verifies, and a tampered event is found.

use proptest::prelude::*;
use uuid::Uuid;
use vern_core::consent::{ConsentAction, ConsentEntry, ConsentEvent, ConsentState, ConsentStatus};
use vern_store::consent::{ConsentStateRow, ConsentStore};
use vern_store::testsuite::{consent_event, new_subject};
use vern_store::{Backend, BreakReason, ChainBreak, SqlStore, Store};

use crate::harness::{with_postgres, with_sqlite};

fn to_core(row: &ConsentStateRow) -> ConsentEntry {
    ConsentEntry {
        scope: row.scope.clone(),
        channel: row.channel.clone(),
        status: ConsentStatus {
            action: ConsentAction::parse(&row.action).unwrap(),
            at: row.at,
            expires_at: row.expires_at,
            event_id: row.event_id,
            renewal_due_at: row.renewal_due_at,
        },
    }
}

/// One generated step: (scope, channel, action, expiry), appended in batches of `batch`.
type Step = (usize, usize, usize, Option<i64>);

async fn replay_matches(store: &SqlStore, steps: Vec<Step>, batch: usize) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();
    let scopes = ["marketing_email", "marketing_sms", "marketing_profiling"];
    let channels = ["", "email", "sms"];
    let actions = ["granted", "withdrawn", "expired", "renewed"];
    let events: Vec<_> = steps
        .iter()
        .map(|&(s, c, a, exp)| {
            let mut e = consent_event(tenant, id, scopes[s], channels[c], actions[a]);
            e.expires_at = exp;
            e
        })
        .collect();
    for chunk in events.chunks(batch.max(1)) {
        store.append_consent(chunk.to_vec(), vec![]).await.unwrap();
    }
    let history = store.consent_history(tenant, id).await.unwrap();
    let replayed: Vec<ConsentEvent> = history
        .iter()
        .map(|r| ConsentEvent {
            id: r.event.id,
            scope: r.event.scope.clone(),
            channel: r.event.channel.clone(),
            action: ConsentAction::parse(&r.event.action).unwrap(),
            at: r.event.at,
            expires_at: r.event.expires_at,
        })
        .collect();
    let stored = store.consent_state(tenant, id).await.unwrap();
    let stored = ConsentState::from_entries(stored.iter().map(to_core).collect());
    assert_eq!(vern_core::consent::fold(&replayed), stored);
    let n = u64::try_from(events.len()).unwrap();
    assert_eq!(store.verify_consent_chain(tenant).await.unwrap(), Ok(n));
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0..3usize,
            0..3usize,
            0..4usize,
            prop::option::of(0..i64::MAX / 2),
        ),
        0..25,
    )
}

proptest! {
    // Each case is real SQL; a few dozen histories cover the interleavings that matter.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn stored_projection_equals_replaying_the_ledger_on_sqlite(steps in steps(), batch in 1..4usize) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(with_sqlite(move |store| async move {
            replay_matches(&store, steps, batch).await;
        }));
    }
}

#[tokio::test]
async fn stored_projection_equals_replaying_the_ledger_on_postgres() {
    with_postgres(|store| async move {
        let steps = (0..30)
            .map(|i| (i % 3, (i / 3) % 3, (i * 7) % 4, None))
            .collect();
        replay_matches(&store, steps, 3).await;
    })
    .await;
}

/// A forged consent event is found where it is, once the database guard is lifted.
async fn tampered_consent_is_found(store: SqlStore) {
    let tenant = Uuid::now_v7();
    let new = new_subject(tenant);
    let id = new.subject.id;
    store.create_subject(new).await.unwrap();
    for action in ["granted", "withdrawn", "granted", "withdrawn"] {
        let e = consent_event(tenant, id, "marketing_email", "email", action);
        store.append_consent(vec![e], vec![]).await.unwrap();
    }
    assert_eq!(store.verify_consent_chain(tenant).await.unwrap(), Ok(4));
    let lift: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER consent_events_no_update",
            "DROP TRIGGER consent_events_no_delete",
        ],
        Backend::Postgres => &["ALTER TABLE consent_events DISABLE TRIGGER USER"],
    };
    for sql in lift {
        store.execute_raw_for_tests(sql).await.unwrap();
    }
    // Turning the last withdrawal back into a grant is exactly the forgery that matters.
    let forge = "UPDATE consent_events SET action = 'granted' WHERE seq = 4";
    assert_eq!(store.execute_raw_for_tests(forge).await.unwrap(), 1);
    assert_eq!(
        store.verify_consent_chain(tenant).await.unwrap(),
        Err(ChainBreak {
            seq: 4,
            reason: BreakReason::HashMismatch
        })
    );
    let cut = "DELETE FROM consent_events WHERE seq = 4";
    store.execute_raw_for_tests(cut).await.unwrap();
    assert_eq!(
        store.verify_consent_chain(tenant).await.unwrap(),
        Err(ChainBreak {
            seq: 3,
            reason: BreakReason::HeadMismatch { head_seq: 4 }
        })
    );
}

#[tokio::test]
async fn tampered_consent_is_found_on_sqlite() {
    with_sqlite(tampered_consent_is_found).await;
}

#[tokio::test]
async fn tampered_consent_is_found_on_postgres() {
    with_postgres(tampered_consent_is_found).await;
}
