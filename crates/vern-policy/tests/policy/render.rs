//! Tests for render (being written).
