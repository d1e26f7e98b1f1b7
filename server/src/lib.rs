//! The Lianxin server: accounts and access, the sync endpoint, durable storage, and the
//! command-line device that does what a tablet does.
//!
//! [`app`] builds the axum router from an [`AppState`], so tests can drive it in-process or
//! over a real socket. The binary (`lianxin`) is in `main.rs`.

pub mod auth;
pub mod demo;
pub mod device;
mod http;
pub mod hub;
pub mod store;
mod sync;

pub use http::app;
pub use lianxin_shared::protocol::{LoginRequest, LoginResponse};
pub use sync::AppState;

/// The limits the sync endpoint enforces.
pub mod limits {
    pub use crate::sync::{
        CONNECTIONS_PER_USER, DOC_CACHE_SLOTS, FRAME_BURST, FRAMES_PER_SECOND, PASSWORD_CHECKS,
        PASSWORD_QUEUE, PASSWORD_WAIT,
    };
}

/// Milliseconds since the Unix epoch: the one clock the server reads.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Starts serving on `listener` until the process ends.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}
