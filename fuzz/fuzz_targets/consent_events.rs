//! Any bytes as a consent event body (`POST /v1/subjects/{id}/consents`), an event batch
//! (`POST /v1/events`) or a bulk decision body (`POST /v1/decisions/bulk`, JSON array and
//! NDJSON): decoding, the consent ledger's planning against the bundled policy, and IP
//! truncation must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vern_core::consent::{ConsentAction, ConsentMethod, ConsentState, plan_events, truncate_ip};
use vern_policy::Policy;
use vern_server::api::decisions::parse_bulk_body;
use vern_server::json::parse_json;
use vern_server::vault::{ConsentInput, EventBatch};

fn policy() -> &'static Option<Policy> {
    static P: OnceLock<Option<Policy>> = OnceLock::new();
    P.get_or_init(|| Policy::bundled().ok())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = parse_json::<ConsentInput>(data)
        && let (Some(action), Some(method), Some(policy)) = (
            ConsentAction::parse(&input.action),
            ConsentMethod::parse(&input.method),
            policy(),
        )
    {
        let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let _ = plan_events(
            policy,
            &ConsentState::default(),
            &input.scope,
            input.channel.as_deref(),
            action,
            method,
            at,
        );
    }
    if let Ok(batch) = parse_json::<EventBatch>(data) {
        for e in &batch.events {
            if let Some(ip) = e.ip.as_deref().and_then(|s| s.parse().ok()) {
                let _ = truncate_ip(ip);
            }
        }
    }
    let _ = parse_bulk_body(data, true);
    let _ = parse_bulk_body(data, false);
});
