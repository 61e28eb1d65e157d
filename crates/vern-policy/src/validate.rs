//! Semantic validation of a parsed policy (being written).
use crate::Diagnostics;
use crate::model::RawPolicy;

pub(crate) fn validate(_raw: &RawPolicy, _source: &str) -> Diagnostics {
    Diagnostics::default()
}
