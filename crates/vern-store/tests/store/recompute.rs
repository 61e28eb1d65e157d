//! The set-based expiry recompute (docs/decisions/0020) against the application's evaluation:
//! for every record class the policy's rules can be compiled for, the database's `UPDATE`
//! must store exactly the (expires_at, retention_rule) that `vern_core::retention` computes,
//! touch nothing else, count exactly the rows it changed, and leave the application path
//! exactly the records it did not handle.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use time::{Date, Month, OffsetDateTime, Time};
use uuid::Uuid;
use vern_core::ids::{from_micros, to_micros};
use vern_core::retention::{ClassFormula, OwnAnchor, RecordFacts, RetentionPlan};
use vern_policy::Policy;
use vern_policy::duration::Unit;
use vern_store::testsuite::{new_subject, record};
use vern_store::{
    CLASS_ANCHOR_MAX, CLASS_ANCHOR_MIN, ClassAnchor, ClassRule, ClassUnit, ExpiryClass,
    RetentionStore, SqlStore, Store,
};

use crate::harness::{with_postgres, with_sqlite};

/// One generated record: category, purposes, anchors (µs) and what is stored before.
#[derive(Debug, Clone)]
struct Spec {
    category: String,
    purposes: Vec<String>,
    collected_at: i64,
    last_activity_at: Option<i64>,
    with_events: bool,
    /// `None`: the correct values are stored already (the recompute must not count it).
    stored: Option<(Option<i64>, Option<String>)>,
}

fn policy() -> Policy {
    Policy::bundled().unwrap()
}

/// The store's form of a class formula, as the vault builds it.
fn class_of(category: &str, purposes_json: &str, f: &ClassFormula) -> ExpiryClass {
    ExpiryClass {
        category: category.to_owned(),
        purposes_json: purposes_json.to_owned(),
        purposes: f
            .purposes
            .iter()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let (amount, unit) = match c.duration.unit {
                            Unit::Days => (c.duration.amount, ClassUnit::Days),
                            Unit::Months => (c.duration.amount, ClassUnit::Months),
                            Unit::Years => (c.duration.amount * 12, ClassUnit::Months),
                        };
                        ClassRule {
                            rule: c.rule.clone(),
                            anchor: match c.anchor {
                                OwnAnchor::Collected => ClassAnchor::Collected,
                                OwnAnchor::LastActivity => ClassAnchor::LastActivity,
                            },
                            amount,
                            unit,
                        }
                    })
                    .collect()
            })
            .collect(),
    }
}

fn in_range(at: i64) -> bool {
    (CLASS_ANCHOR_MIN..CLASS_ANCHOR_MAX).contains(&at)
}

/// Seeds the specs over three subjects of different types and jurisdictions (the SQL path must
/// not depend on them), runs the set-based path for every compilable class and checks it
/// against `RetentionPlan::evaluate`. Returns how many records the SQL path handled.
async fn sql_path_matches(store: &SqlStore, specs: Vec<Spec>) -> usize {
    let policy = policy();
    let plan = RetentionPlan::new(&policy).unwrap();
    let tenant = Uuid::now_v7();
    let subjects = [
        ("lead", None),
        ("customer_contact", Some("SE")),
        ("job_applicant", Some("NO")),
    ];
    let mut batch = Vec::new();
    for (t, j) in subjects {
        let mut s = new_subject(tenant);
        s.subject.subject_type = t.into();
        s.subject.jurisdiction = j.map(str::to_owned);
        s.records.clear();
        batch.push(s);
    }
    // What each record's facts give in the application, and what is stored before.
    let mut expected: BTreeMap<Uuid, (Option<i64>, Option<String>)> = BTreeMap::new();
    let mut before: BTreeMap<Uuid, (Option<i64>, Option<String>)> = BTreeMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let s = &mut batch[i % 3];
        let (subject_type, jurisdiction) = subjects[i % 3];
        let mut r = record(tenant, s.subject.id, &spec.category);
        r.purposes.clone_from(&spec.purposes);
        r.collected_at = spec.collected_at;
        r.last_activity_at = spec.last_activity_at;
        if !spec.with_events {
            r.event_times.clear();
        }
        let events: BTreeMap<String, OffsetDateTime> = r
            .event_times
            .iter()
            .map(|(k, v)| (k.clone(), from_micros(*v).unwrap()))
            .collect();
        let facts = RecordFacts {
            category: &r.category,
            purposes: &r.purposes,
            subject_type,
            jurisdiction,
            collected_at: from_micros(r.collected_at).unwrap(),
            last_activity_at: r.last_activity_at.map(|t| from_micros(t).unwrap()),
            event_times: &events,
        };
        let e = plan.evaluate(&facts, &[]);
        let want = (e.expires_at.map(to_micros), e.rule);
        let stored = spec.stored.clone().unwrap_or_else(|| want.clone());
        (r.expires_at, r.retention_rule) = stored.clone();
        expected.insert(r.id, want);
        before.insert(r.id, stored);
        s.records.push(r);
    }
    store.import_batch(batch).await.unwrap();

    let mut classes = Vec::new();
    let found = store.record_classes(tenant).await.unwrap();
    assert_eq!(
        found.iter().map(|(_, _, n)| n).sum::<u64>(),
        specs.len() as u64
    );
    for (category, purposes_json, n) in found {
        let purposes: Vec<String> = serde_json::from_str(&purposes_json).unwrap();
        if let Some(f) = plan.class_formula(&category, &purposes) {
            // Both plans: the index for small classes, ranges of the table for large ones.
            let share = if n.is_multiple_of(2) { 1.0 } else { 0.0 };
            classes.push((class_of(&category, &purposes_json, &f), share));
        }
    }
    let mut changed = 0;
    for (c, share) in &classes {
        changed += store.apply_expiry_class(tenant, c, *share).await.unwrap();
    }
    let classes: Vec<ExpiryClass> = classes.into_iter().map(|(c, _)| c).collect();
    let keys: Vec<(String, String)> = classes
        .iter()
        .map(|c| (c.category.clone(), c.purposes_json.clone()))
        .collect();
    let key_set: BTreeSet<&(String, String)> = keys.iter().collect();

    let after = store
        .calendar_page(tenant, None, 1_000_000, &[])
        .await
        .unwrap();
    let rest: BTreeSet<Uuid> = store
        .calendar_page(tenant, None, 1_000_000, &keys)
        .await
        .unwrap()
        .records
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(after.records.len(), specs.len());
    let (mut handled, mut want_changed) = (0usize, 0u64);
    for r in &after.records {
        let sql = key_set.contains(&(r.category.clone(), r.purposes_json.clone()))
            && in_range(r.collected_at)
            && r.last_activity_at.is_none_or(in_range);
        let now = (r.expires_at, r.retention_rule.clone());
        if sql {
            handled += 1;
            assert_eq!(
                now, expected[&r.id],
                "SQL and application disagree on {} {} collected {} activity {:?}",
                r.category, r.purposes_json, r.collected_at, r.last_activity_at
            );
            if before[&r.id] != expected[&r.id] {
                want_changed += 1;
            }
            assert!(!rest.contains(&r.id), "handled twice: {}", r.id);
        } else {
            assert_eq!(now, before[&r.id], "the SQL path touched {}", r.category);
            assert!(rest.contains(&r.id), "left to no path: {}", r.category);
        }
    }
    assert_eq!(changed, want_changed, "rows counted as changed");
    handled
}

/// Dates that stress calendar arithmetic: month ends, 29 February, the turn of a year,
/// before 1970 (negative µs), with a time of day and microseconds.
fn tricky_dates() -> Vec<i64> {
    let mut out = Vec::new();
    for (y, m, d) in [
        (2024, Month::January, 31),
        (2024, Month::February, 29),
        (2023, Month::August, 31),
        (2023, Month::December, 31),
        (2025, Month::March, 31),
        (1969, Month::December, 31),
        (1900, Month::February, 28),
        (2100, Month::February, 28),
    ] {
        let date = Date::from_calendar_date(y, m, d).unwrap();
        let time = Time::from_hms_micro(23, 59, 59, 999_999).unwrap();
        out.push(to_micros(date.with_time(time).assume_utc()));
        out.push(to_micros(date.with_time(Time::MIDNIGHT).assume_utc()));
    }
    out
}

/// Every category of the seed policy with no purpose, each single purpose, and each ordered
/// pair of the purposes that retention rules name, on the tricky dates.
fn every_combination() -> Vec<Spec> {
    let policy = policy();
    let categories: Vec<String> = policy
        .raw
        .categories
        .iter()
        .map(|c| c.id.get_ref().clone())
        .collect();
    let purposes: Vec<String> = policy
        .raw
        .purposes
        .iter()
        .map(|p| p.id.get_ref().clone())
        .collect();
    let ruled: Vec<String> = policy
        .raw
        .retention
        .iter()
        .flat_map(|r| r.purposes.iter().map(|p| p.get_ref().clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut combos: Vec<Vec<String>> = vec![vec![]];
    combos.extend(purposes.iter().map(|p| vec![p.clone()]));
    for a in &ruled {
        for b in &ruled {
            if a != b {
                combos.push(vec![a.clone(), b.clone()]);
            }
        }
    }
    let dates = tricky_dates();
    let mut specs = Vec::new();
    let mut i = 0usize;
    for category in &categories {
        for purposes in &combos {
            let collected_at = dates[i % dates.len()];
            let last_activity_at = (!i.is_multiple_of(3)).then(|| dates[(i * 7 + 3) % dates.len()]);
            specs.push(Spec {
                category: category.clone(),
                purposes: purposes.clone(),
                collected_at,
                last_activity_at,
                with_events: i.is_multiple_of(2),
                stored: (!i.is_multiple_of(4)).then(|| (Some(i as i64), Some("stale".to_owned()))),
            });
            i += 1;
        }
    }
    specs
}

#[tokio::test]
async fn sql_recompute_equals_rust_for_every_category_and_purpose_on_sqlite() {
    with_sqlite(|store| async move {
        let handled = sql_path_matches(&store, every_combination()).await;
        assert!(handled > 1000, "only {handled} records took the SQL path");
    })
    .await;
}

/// A large class on SQLite is updated in ranges of the primary key, each its own transaction:
/// every record is recomputed once, those at the ends of the ranges included.
#[tokio::test]
async fn a_scanned_class_is_recomputed_range_by_range_on_sqlite() {
    with_sqlite(|mut store| async move {
        store.set_scan_chunk_for_tests(7);
        let dates = tricky_dates();
        // 24 records of one class (an even count: `sql_path_matches` scans it), all stale, so
        // the last record of each range of 7 must change like the others.
        let specs: Vec<Spec> = (0..24)
            .map(|i| Spec {
                category: "contact.email.work_named".into(),
                purposes: vec!["marketing.send".into()],
                collected_at: dates[i % dates.len()],
                last_activity_at: (i % 2 == 0).then(|| dates[(i + 5) % dates.len()]),
                with_events: false,
                stored: Some((Some(i as i64), Some("stale".to_owned()))),
            })
            .collect();
        assert_eq!(sql_path_matches(&store, specs).await, 24);
    })
    .await;
}

#[tokio::test]
async fn sql_recompute_equals_rust_for_every_category_and_purpose_on_postgres() {
    with_postgres(|store| async move {
        let handled = sql_path_matches(&store, every_combination()).await;
        assert!(handled > 1000, "only {handled} records took the SQL path");
    })
    .await;
}

/// A date: year 1890..2300 (some outside the SQL range), any month, a day near the month's
/// end more often than not, any time of day to the microsecond.
fn date() -> impl Strategy<Value = i64> {
    (
        1890i32..2300,
        1u8..=12,
        prop_oneof![Just(1u8), 27u8..=31, 1u8..=31],
        0u32..86_400,
        0u32..1_000_000,
        prop::bool::weighted(0.03),
    )
        .prop_map(|(y, m, d, secs, us, far)| {
            let year = if far { 8100 } else { y };
            let month = Month::try_from(m).unwrap();
            let day = d.min(month.length(year));
            let date = Date::from_calendar_date(year, month, day).unwrap();
            let time = Time::from_hms_micro(
                (secs / 3600) as u8,
                ((secs / 60) % 60) as u8,
                (secs % 60) as u8,
                us,
            )
            .unwrap();
            to_micros(date.with_time(time).assume_utc())
        })
}

fn spec(categories: Vec<String>, purposes: Vec<String>) -> impl Strategy<Value = Spec> {
    (
        prop::sample::select(categories),
        prop::collection::vec(prop::sample::select(purposes), 0..4),
        date(),
        prop::option::of(date()),
        any::<bool>(),
        prop::option::of((
            prop::option::of(any::<i64>()),
            prop::option::of("[a-z_]{1,12}"),
        )),
    )
        .prop_map(
            |(category, purposes, collected_at, last_activity_at, with_events, stored)| Spec {
                category,
                purposes,
                collected_at,
                last_activity_at,
                with_events,
                stored,
            },
        )
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    let policy = policy();
    let categories: Vec<String> = policy
        .raw
        .categories
        .iter()
        .map(|c| c.id.get_ref().clone())
        .collect();
    let purposes: Vec<String> = policy
        .raw
        .purposes
        .iter()
        .map(|p| p.id.get_ref().clone())
        .collect();
    prop::collection::vec(spec(categories, purposes), 1..300)
}

proptest! {
    // Each case is a few hundred records through real SQL.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sql_recompute_equals_rust_for_generated_records_on_sqlite(specs in specs(), chunk in 50u64..400) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(with_sqlite(move |mut store| async move {
            store.set_scan_chunk_for_tests(chunk);
            sql_path_matches(&store, specs).await;
        }));
    }
}

/// The plans of the recompute's queries on the bundled SQLite, with migration 0017's
/// statistics: the application path's page is a primary-key range read in order (no sort of
/// the tenant's remaining records per page), the class list reads only the class index.
#[tokio::test]
async fn recompute_queries_use_the_intended_sqlite_plans() {
    use sqlx::{AnyConnection, Connection, Row};
    let dir = crate::harness::TempDir::new();
    let store = SqlStore::open_dir(&dir.0).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}/vern.sqlite3", dir.0.display());
    let mut c = AnyConnection::connect(&url).await.unwrap();
    let mut plan = async |q: &str| -> String {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {q}")))
            .fetch_all(&mut c)
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String, _>(3).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The shape `calendar_page` builds with `except` classes.
    let page = plan(
        "SELECT r.subject_id, r.id FROM records r CROSS JOIN subjects s \
         ON s.tenant_id = r.tenant_id AND s.id = r.subject_id \
         WHERE r.tenant_id = x'01' AND r.id > x'00' AND NOT (r.collected_at >= 0 AND \
         (r.category, r.purposes) IN (SELECT j.value ->> 0, j.value ->> 1 \
         FROM json_each('[]') j)) ORDER BY r.id LIMIT 10000",
    )
    .await;
    assert!(
        page.contains("SEARCH r USING PRIMARY KEY (tenant_id=? AND id>?)"),
        "{page}"
    );
    assert!(!page.contains("TEMP B-TREE"), "{page}");
    let classes = plan(
        "SELECT category, purposes, COUNT(*) AS n FROM records WHERE tenant_id = x'01' \
         GROUP BY category, purposes ORDER BY category, purposes",
    )
    .await;
    assert!(
        classes.contains("COVERING INDEX records_class_idx"),
        "{classes}"
    );
    assert!(!classes.contains("TEMP B-TREE"), "{classes}");
    // A scanned class: the end of the next range, and the update of one range, both read a
    // range of the primary key.
    let range_end = plan(
        "SELECT id FROM records INDEXED BY sqlite_autoindex_records_1 WHERE tenant_id = x'01' \
         AND id > x'00' ORDER BY id LIMIT 1 OFFSET 99999",
    )
    .await;
    assert!(
        range_end.contains("SEARCH records USING PRIMARY KEY (tenant_id=? AND id>?)"),
        "{range_end}"
    );
    assert!(!range_end.contains("TEMP B-TREE"), "{range_end}");
    let update = plan(
        "UPDATE records INDEXED BY sqlite_autoindex_records_1 SET expires_at = 1 \
         WHERE tenant_id = x'01' AND category = 'c' AND purposes = '[]' \
         AND id > x'00' AND id <= x'ff' AND expires_at IS NOT 1",
    )
    .await;
    assert!(
        update.contains("SEARCH records USING PRIMARY KEY (tenant_id=? AND id>? AND id<?)"),
        "{update}"
    );
}
