//! Tests for ropa (being written).
