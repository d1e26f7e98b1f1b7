//! Sync: the wire protocol, the device's session engine, the server's check of what a device
//! sends, and which units a user sees.

pub(crate) mod check;
pub(crate) mod engine;
pub(crate) mod inflate;
pub mod protocol;
pub mod push;
pub(crate) mod units;
