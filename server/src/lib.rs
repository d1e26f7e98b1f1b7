//! The Lianxin server: accounts and access, the sync endpoint, durable storage, and the
//! command-line device that does what a tablet does.
//!
//! [`app`] builds the axum router from an [`AppState`], so tests can drive it in-process or
//! over a real socket. The binary (`lianxin`) is in `main.rs`.

mod attachments;
pub mod auth;
pub mod demo;
pub mod device;
mod http;
pub mod hub;
pub mod ledger;
pub mod metrics;
pub mod reference;
pub mod reports;
pub mod store;
mod sync;
pub mod throttle;
pub mod tls;

pub use http::{app, content_hashed};
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

/// Connections the kernel holds for the server before it accepts them (Linux caps it at
/// `net.core.somaxconn`, 4096 on Debian). The standard library's 128 overflowed when an
/// office's 300 tablets came back at once: the SYNs beyond it were dropped and each of those
/// tablets waited a second for the kernel's retry (the load generator's 1 s reconnect tail).
pub const LISTEN_BACKLOG: u32 = 4096;

/// Listens on `addr` (the first of its addresses that binds) with [`LISTEN_BACKLOG`].
pub async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        // As the standard library does, so a restarted server binds at once.
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{addr} names no address"),
        )
    }))
}

/// Starts serving plain http on `listener` until the process ends (localhost, and tests).
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    purge_sessions_hourly(&state);
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}

/// Starts serving https on `listener` with `tls` until the process ends.
pub async fn serve_tls(
    state: AppState,
    listener: tokio::net::TcpListener,
    tls: std::sync::Arc<rustls::ServerConfig>,
) -> std::io::Result<()> {
    purge_sessions_hourly(&state);
    let listener = listener.into_std()?;
    axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )?
    .serve(app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
    .await
}

/// Deletes dead sessions now and every hour (they are refused when used either way; this
/// keeps the table to the living).
fn purge_sessions_hourly(state: &AppState) {
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let store = store.clone();
            match tokio::task::spawn_blocking(move || store.purge_sessions(now_ms())).await {
                Ok(Ok(n)) if n > 0 => tracing::info!("purged {n} ended sessions"),
                Ok(Err(e)) => tracing::error!("cannot purge sessions: {e}"),
                _ => {}
            }
        }
    });
}
