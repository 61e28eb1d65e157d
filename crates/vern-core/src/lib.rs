//! being written
pub mod crypto;
pub mod ids;
