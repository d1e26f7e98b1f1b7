//! The rules, pure with time as a parameter: the petition lifecycle (state, deadlines, the
//! four colours, the same-day check, routing) here, and field work in [`fieldwork`].

pub mod authority;
pub mod check;
pub mod fieldwork;
mod lifecycle;

pub use lifecycle::*;
