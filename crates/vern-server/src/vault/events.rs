//! Behavioural events for profiling, enforced at the door: each event is decided like any
//! other use of the subject's data (`vern_core::decision`), and only admitted events are
//! stored, sealed with the subject key. Events sent with `Sec-GPC: 1`, of subjects without the
//! consent the purpose needs, with an objection, restricted or suppressed are dropped and
//! counted (shared counters in the database, and a Prometheus counter per node).
//!
//! The interest profile is derived from the stored events when read, so deleting the events
//! (on withdrawal of the consent, or an objection) deletes the profile with them.
//!
//! Storage (decision 0022): the admitted events of one subject from one batch are one stored
//! *segment* — one row, sealed once with the subject key — because events are written in
//! bulk, read only whole per subject (profile, access) and deleted only whole per subject.
//! A row per event cost SQLite a B-tree insert, an index insert and a foreign-key probe per
//! event. Everything about an event (kind, topic, time, channel, truncated IP) is inside the
//! sealed segment; the row's `at` is its earliest event, `channel` and `ip_truncated` are
//! NULL. Rows written before segments (one event each, kind and topic sealed, the rest in
//! columns) are still read.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;
use vern_core::access::Permission;
use vern_core::consent::truncate_ip;
use vern_core::crypto::{Aad, SubjectKey, open, seal};
use vern_core::decision::{self, AddressKind, DecisionInput};
use vern_core::ids::{from_micros, new_id, to_micros};
use vern_store::events::{EventRow, EventStore};

use super::{Principal, Vault, VaultError, VaultResult};

/// Most events one batch may carry.
pub const MAX_EVENTS_PER_BATCH: usize = 10_000;
/// The AAD field events are sealed under (row: the event).
const EVENT_FIELD: &str = "event.body";
/// The drop reason for `Sec-GPC: 1`.
pub const GPC: &str = "gpc";

/// One behavioural event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub subject_id: Uuid,
    /// What happened: `page_view`, `click`, `email_open`, …
    #[schema(min_length = 1, max_length = 64)]
    pub kind: String,
    /// What it was about (a product area, a newsletter topic); feeds the interest profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Where it was observed: a channel of the policy (`website`, `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
    /// The client's IP address; stored truncated (/24, /48) only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// A batch of events for one profiling purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "purpose": "marketing.profiling",
    "events": [{"subject_id": "01936f5e-0000-7000-8000-000000000000", "kind": "page_view",
                "topic": "pricing", "channel": "website", "ip": "198.51.100.23"}]
}))]
pub struct EventBatch {
    pub purpose: String,
    pub events: Vec<EventInput>,
}

/// What happened to a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestSummary {
    pub accepted: u64,
    /// Dropped events per reason (`gpc`, `no_consent`, `objected`, `unknown_subject`, …).
    pub dropped: BTreeMap<String, u64>,
}

/// The interest profile derived from a subject's admitted events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProfileView {
    pub subject_id: Uuid,
    pub events: u64,
    /// Events per topic.
    pub topics: BTreeMap<String, u64>,
    /// When the latest event happened.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen: Option<OffsetDateTime>,
}

/// One stored event, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The purpose the event was admitted for (its provenance).
    pub purpose: String,
    pub kind: String,
    pub topic: Option<String>,
    /// Microseconds since the epoch.
    pub at: i64,
    pub channel: Option<String>,
    pub ip_truncated: Option<String>,
}

/// A segment's sealed body: the events of one subject from one batch.
#[derive(Serialize)]
struct SegmentRef<'a> {
    v: u8,
    events: &'a [EventRef<'a>],
}

#[derive(Serialize)]
struct EventRef<'a> {
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    topic: Option<&'a str>,
    at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
}

/// What a stored row's sealed body holds: a segment, or (rows written before segments) one
/// event's kind and topic.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredBody {
    Segment { v: u8, events: Vec<SegmentEvent> },
    Single { kind: String, topic: Option<String> },
}

#[derive(Deserialize)]
struct SegmentEvent {
    kind: String,
    #[serde(default)]
    topic: Option<String>,
    at: i64,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    ip: Option<String>,
}

/// The version byte of [`SegmentRef`].
const SEGMENT_V1: u8 = 1;

impl Vault {
    /// Decides every event at the door and stores the admitted ones. See the module docs.
    pub async fn ingest_events(
        &self,
        who: &Principal,
        batch: &EventBatch,
        gpc: bool,
    ) -> VaultResult<IngestSummary> {
        self.require(who, Permission::SubjectsWrite)?;
        if self.policy().purpose(&batch.purpose).is_none() {
            return Err(VaultError::field(
                "purpose",
                "unknown_purpose",
                "not a purpose of the policy",
            ));
        }
        if batch.events.len() > MAX_EVENTS_PER_BATCH {
            return Err(VaultError::field(
                "events",
                "too_many_items",
                format!("at most {MAX_EVENTS_PER_BATCH} events per batch"),
            ));
        }
        for (i, e) in batch.events.iter().enumerate() {
            if e.kind.is_empty() || e.kind.len() > 64 {
                return Err(VaultError::field(
                    format!("events[{i}].kind"),
                    "invalid_kind",
                    "expected 1 to 64 characters",
                ));
            }
        }
        let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
        let mut rows = Vec::new();
        let mut accepted = 0u64;
        if gpc {
            // Sec-GPC: 1 is the person's general request not to be tracked for others' use:
            // nothing of the request is kept.
            dropped.insert(GPC.to_owned(), batch.events.len() as u64);
        } else {
            let now = self.now();
            let policy = self.policy();
            // Decisions and keys per subject, once per batch; the keys in one key-store query.
            let mut subjects: HashMap<
                Uuid,
                Option<(std::sync::Arc<super::cache::SubjectEntry>, SubjectKey)>,
            > = HashMap::new();
            let mut entries = Vec::new();
            for e in &batch.events {
                if let Entry::Vacant(slot) = subjects.entry(e.subject_id) {
                    slot.insert(None);
                    match self.subject_entry(e.subject_id).await {
                        Ok(ctx) => entries.push((e.subject_id, ctx)),
                        Err(VaultError::NotFound(_)) => {}
                        Err(other) => return Err(other),
                    }
                }
            }
            let ids: Vec<Uuid> = entries.iter().map(|(id, _)| *id).collect();
            let mut keys: HashMap<Uuid, SubjectKey> = HashMap::with_capacity(ids.len());
            for row in self
                .store
                .subject_keys_of(self.tenant, &ids)
                .await
                .map_err(VaultError::store("subject"))?
            {
                keys.insert(row.subject_id, self.unwrap_subject_key(&row)?);
            }
            for (id, ctx) in entries {
                // A subject without a key is being erased: its events are dropped as unknown.
                if let Some(key) = keys.remove(&id) {
                    subjects.insert(id, Some((ctx, key)));
                }
            }
            // Admitted events, grouped per subject in batch order: one sealed segment each.
            let mut admitted: Vec<(Uuid, Vec<EventRef<'_>>)> = Vec::new();
            let mut slot_of: HashMap<Uuid, usize> = HashMap::new();
            for e in &batch.events {
                let Some(Some((sc, _))) = subjects.get(&e.subject_id) else {
                    *dropped.entry("unknown_subject".into()).or_default() += 1;
                    continue;
                };
                let d = decision::decide(
                    &policy,
                    &DecisionInput {
                        purpose: &batch.purpose,
                        channel: e.channel.as_deref(),
                        message_class: None,
                        subject_type: Some(&sc.subject_type),
                        consent: &sc.consent,
                        objections: &sc.objections,
                        restricted: sc.restricted,
                        suppressed: sc.suppressed,
                        address: AddressKind::Personal,
                        now,
                    },
                );
                if !d.allowed {
                    *dropped.entry(d.reason.as_str().to_owned()).or_default() += 1;
                    continue;
                }
                let slot = *slot_of.entry(e.subject_id).or_insert_with(|| {
                    admitted.push((e.subject_id, Vec::new()));
                    admitted.len() - 1
                });
                if let Some((_, events)) = admitted.get_mut(slot) {
                    events.push(EventRef {
                        kind: &e.kind,
                        topic: e.topic.as_deref(),
                        at: e.at.map_or(now, to_micros),
                        channel: e.channel.as_deref(),
                        ip: e
                            .ip
                            .as_deref()
                            .and_then(|ip| ip.parse().ok())
                            .map(truncate_ip),
                    });
                }
            }
            let mut body = Vec::with_capacity(4096);
            for (subject, events) in &admitted {
                let Some(Some((_, key))) = subjects.get(subject) else {
                    continue;
                };
                accepted += events.len() as u64;
                let id = new_id();
                body.clear();
                serde_json::to_writer(
                    &mut body,
                    &SegmentRef {
                        v: SEGMENT_V1,
                        events,
                    },
                )
                .map_err(|err| VaultError::Internal(err.to_string()))?;
                rows.push(EventRow {
                    tenant_id: self.tenant,
                    id,
                    subject_id: *subject,
                    purpose: batch.purpose.clone(),
                    channel: None,
                    at: events.iter().map(|e| e.at).min().unwrap_or(now),
                    ip_truncated: None,
                    body_ct: seal(key, &self.event_aad(*subject, id), &body)?,
                    created_at: now,
                });
            }
        }
        for (reason, n) in &dropped {
            metrics::counter!("vern_events_dropped_total", "reason" => reason.clone())
                .increment(*n);
        }
        self.store
            .ingest_events(self.tenant, rows, dropped.clone().into_iter().collect())
            .await
            .map_err(VaultError::store("subject"))?;
        Ok(IngestSummary { accepted, dropped })
    }

    fn event_aad(&self, subject: Uuid, event: Uuid) -> Aad<'static> {
        Aad {
            tenant: self.tenant,
            subject,
            record: event,
            field: EVENT_FIELD,
        }
    }

    /// The interest profile, derived from the admitted events (audited read).
    pub async fn profile(&self, who: &Principal, subject: Uuid) -> VaultResult<ProfileView> {
        self.require(who, Permission::SubjectsRead)?;
        self.subject_row(subject).await?;
        let events = self.open_events(subject).await?;
        let mut topics: BTreeMap<String, u64> = BTreeMap::new();
        for e in &events {
            if let Some(t) = &e.topic {
                *topics.entry(t.clone()).or_default() += 1;
            }
        }
        self.append_audit(vec![self.audit(
            who,
            "profile.read",
            Some(subject),
            None,
            json!({ "events": events.len() }),
        )])
        .await?;
        Ok(ProfileView {
            subject_id: subject,
            events: events.len() as u64,
            topics,
            last_seen: events.iter().map(|e| e.at).max().and_then(from_micros),
        })
    }

    /// The subject's stored events, opened, oldest first. Not audited and not permission
    /// checked: for callers that check and audit (the profile) and for tests.
    pub async fn open_events(&self, subject: Uuid) -> VaultResult<Vec<StoredEvent>> {
        let rows = self
            .store
            .subject_events(self.tenant, subject)
            .await
            .map_err(VaultError::store("subject"))?;
        let mut out = Vec::new();
        if rows.is_empty() {
            return Ok(out);
        }
        let key = self.subject_key(subject).await?;
        for r in rows {
            let plain = open(&key, &self.event_aad(subject, r.id), &r.body_ct)?;
            let corrupt = || VaultError::Internal(format!("event segment {} is corrupt", r.id));
            match serde_json::from_slice::<StoredBody>(&plain).map_err(|_| corrupt())? {
                StoredBody::Segment { v, events } => {
                    if v != SEGMENT_V1 {
                        return Err(corrupt());
                    }
                    out.extend(events.into_iter().map(|e| StoredEvent {
                        purpose: r.purpose.clone(),
                        kind: e.kind,
                        topic: e.topic,
                        at: e.at,
                        channel: e.channel,
                        ip_truncated: e.ip,
                    }));
                }
                StoredBody::Single { kind, topic } => out.push(StoredEvent {
                    purpose: r.purpose.clone(),
                    kind,
                    topic,
                    at: r.at,
                    channel: r.channel,
                    ip_truncated: r.ip_truncated,
                }),
            }
        }
        out.sort_by_key(|e| e.at);
        Ok(out)
    }

    /// How many events were dropped at the door, per reason (all nodes).
    pub async fn event_drops(&self, who: &Principal) -> VaultResult<BTreeMap<String, u64>> {
        self.require(who, Permission::SubjectsRead)?;
        Ok(self
            .store
            .event_drop_counts(self.tenant)
            .await
            .map_err(VaultError::store("event counts"))?
            .into_iter()
            .collect())
    }

    /// Deletes the subject's events and so its profile: on opting out of profiling.
    pub(crate) async fn purge_profile(
        &self,
        who: &Principal,
        subject: Uuid,
        why: &str,
    ) -> VaultResult<u64> {
        let audit = vec![self.audit(
            who,
            "profile.delete",
            Some(subject),
            None,
            json!({ "because": why }),
        )];
        self.store
            .purge_events(self.tenant, subject, audit)
            .await
            .map_err(VaultError::store("subject"))
    }

    /// Whether withdrawing `scope` opts out of a profiling purpose (its basis or a gate).
    pub(crate) fn scope_feeds_profiling(&self, scope: &str) -> bool {
        self.policy().raw.purposes.iter().any(|p| {
            p.profiling
                && (p
                    .consent_scope
                    .as_ref()
                    .is_some_and(|s| s.get_ref() == scope)
                    || p.gates.iter().any(|g| g.consent_scope.get_ref() == scope))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Arc;

    use vern_core::crypto::MasterKey;
    use vern_core::ids::SystemClock;
    use vern_policy::Policy;
    use vern_store::{SqlStore, Store};

    use super::*;
    use crate::vault::{IdentifierInput, SubjectInput};

    /// A row written before segments (one event: kind and topic sealed, the rest in columns)
    /// reads back beside a segment, in time order.
    #[tokio::test]
    async fn rows_from_before_segments_are_still_read() {
        let dir = std::env::temp_dir().join(format!("vern-events-{}", Uuid::new_v4()));
        let store = SqlStore::open_dir(&dir).await.unwrap();
        store.migrate().await.unwrap();
        let vault = Vault::open(
            store,
            Arc::new(Policy::bundled().unwrap()),
            MasterKey::generate(),
            Vec::new(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap();
        let who = Principal::cli_admin();
        let input = SubjectInput {
            subject_type: "lead".into(),
            jurisdiction: None,
            identifiers: vec![IdentifierInput {
                kind: "email".into(),
                value: "legacy@example.com".into(),
            }],
            records: vec![],
        };
        let subject = vault.create_subject(&who, &input).await.unwrap().subject.id;
        let key = vault.subject_key(subject).await.unwrap();
        let (id, at) = (new_id(), 1_700_000_000_000_000);
        let legacy = EventRow {
            tenant_id: vault.tenant,
            id,
            subject_id: subject,
            purpose: "marketing.profiling".into(),
            channel: Some("website".into()),
            at,
            ip_truncated: Some("192.0.2.0".into()),
            body_ct: seal(
                &key,
                &vault.event_aad(subject, id),
                br#"{"kind":"click","topic":"pricing"}"#,
            )
            .unwrap(),
            created_at: at,
        };
        let (id2, at2) = (new_id(), at + 1_000_000);
        let body = serde_json::to_vec(&SegmentRef {
            v: SEGMENT_V1,
            events: &[EventRef {
                kind: "page_view",
                topic: Some("blog"),
                at: at2,
                channel: None,
                ip: None,
            }],
        })
        .unwrap();
        let segment = EventRow {
            id: id2,
            at: at2,
            channel: None,
            ip_truncated: None,
            body_ct: seal(&key, &vault.event_aad(subject, id2), &body).unwrap(),
            ..legacy.clone()
        };
        vault
            .store
            .ingest_events(vault.tenant, vec![segment, legacy], Vec::new())
            .await
            .unwrap();
        let events = vault.open_events(subject).await.unwrap();
        assert_eq!(
            events,
            vec![
                StoredEvent {
                    purpose: "marketing.profiling".into(),
                    kind: "click".into(),
                    topic: Some("pricing".into()),
                    at,
                    channel: Some("website".into()),
                    ip_truncated: Some("192.0.2.0".into()),
                },
                StoredEvent {
                    purpose: "marketing.profiling".into(),
                    kind: "page_view".into(),
                    topic: Some("blog".into()),
                    at: at2,
                    channel: None,
                    ip_truncated: None,
                },
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
