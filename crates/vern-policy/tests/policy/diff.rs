//! Tests for diff (being written).
