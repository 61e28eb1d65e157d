//! Tests for props (being written).
