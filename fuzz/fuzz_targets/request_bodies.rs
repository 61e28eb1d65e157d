//! Any bytes as a request body of the subject/record/disclosure API: decoding and the policy
//! checks that follow must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vern_policy::Policy;
use vern_server::vault::{DisclosureInput, RecordPatch, SubjectInput};

fn policy() -> &'static Option<Policy> {
    static P: OnceLock<Option<Policy>> = OnceLock::new();
    P.get_or_init(|| Policy::bundled().ok())
}

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<RecordPatch>(data);
    let _ = serde_json::from_slice::<DisclosureInput>(data);
    if let Ok(subject) = serde_json::from_slice::<SubjectInput>(data) {
        if let Some(policy) = policy() {
            let _ = vern_core::records::check_subject_type(policy, &subject.subject_type);
            for r in &subject.records {
                let input = vern_core::records::RecordInput {
                    category: r.category.clone(),
                    value: r.value.clone(),
                    source: r.source.clone(),
                    purposes: r.purposes.clone(),
                    legal_basis: r.legal_basis.clone(),
                    collected_at: r.collected_at,
                    last_activity_at: r.last_activity_at,
                    originating_system: r.originating_system.clone(),
                };
                let _ = vern_core::records::check_record(policy, &subject.subject_type, &input);
            }
            for id in &subject.identifiers {
                if let Ok(kind) = vern_core::identifier::IdentifierKind::parse(&id.kind) {
                    let _ = vern_core::identifier::normalise(&kind, &id.value);
                }
            }
        }
    }
});
