//! The sync socket: one task per connected device, carrying frames between the WebSocket and
//! the device's [`ServerSession`] (which does the work, on a blocking thread), pushing other
//! devices' stored changes live, and re-checking the session now and then.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use lianxin_shared::protocol::{self, ServerMessage};
use tokio::sync::broadcast;

pub use crate::hub::{DOC_CACHE_SLOTS, FRAME_BURST, FRAMES_PER_SECOND};
use crate::hub::{Fatal, Hub, Notice, ServerSession};
use crate::now_ms;
use crate::store::{Session, Store, StoreError};

/// The WebSocket layer's own limit; frames between [`protocol::MAX_FRAME`] and this get our
/// clear error, larger ones are cut off by the socket layer (close code 1009).
pub const MAX_WS_MESSAGE: usize = 2 * protocol::MAX_FRAME;

/// How often an idle connection re-checks that its session is still valid.
const SESSION_RECHECK: Duration = Duration::from_secs(5);

/// Sync connections one user may hold at once (a tablet and a few spares).
pub const CONNECTIONS_PER_USER: usize = 8;

/// Announcements sent to a device in one `Changed` frame at most.
const MAX_CHANGED_PER_FRAME: usize = 256;

/// Password checks (Argon2id, 19 MiB and ~20 ms of a core each) running at once: one, so that
/// a storm of sign-ins takes at most one core from the devices that sync (measured with the
/// soak benchmark: four at once starved them on a 2-core machine). Sign-ins beyond that wait,
/// at most [`PASSWORD_QUEUE`] of them for at most [`PASSWORD_WAIT`]; the rest get 503 at once.
pub const PASSWORD_CHECKS: usize = 1;
pub const PASSWORD_QUEUE: usize = 64;
pub const PASSWORD_WAIT: Duration = Duration::from_secs(3);

/// A place in the queue of sign-ins waiting for a password check, held while it waits.
pub struct QueuePlace(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for QueuePlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    /// The built browser app (`dist/`), served at `/` when present.
    pub bundle: Option<std::path::PathBuf>,
    hub: Arc<Hub<Store>>,
    notices: broadcast::Sender<Notice>,
    /// Open sync connections per user, and their turn at the frames.
    connections: Connections,
    /// Permits for password checks, and how many sign-ins wait for one.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    password_waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// Failed sign-ins, per account and per address.
    pub throttle: Arc<crate::throttle::Throttle>,
    /// Served over https: answers carry HSTS.
    pub https: bool,
    /// The office CA's certificate, offered at `/ca.pem` for tablets to install.
    pub ca_cert: Option<std::path::PathBuf>,
}

type Connections = Arc<std::sync::Mutex<HashMap<String, (usize, Turn)>>>;

/// One user's turn at having a frame decoded and applied: their connections' frames are
/// handled one at a time, so one user holds at most one frame's inflating and decoding (up to
/// [`protocol::MAX_INFLATED_FRAME`] and what Automerge makes of it), however many
/// connections they open; and within their [`Budget`] of the server's time.
type Turn = Arc<tokio::sync::Mutex<Budget>>;

/// The share of one core a user's frames may take over time, beyond a burst.
pub const FRAME_TIME_SHARE: f64 = 0.5;
/// The burst: this much handling time at once before the share holds (a first sync of a large
/// caseload goes at full speed this far, then at the share).
pub const FRAME_TIME_BURST_MS: f64 = 2_000.0;

/// What is left of one user's frame-handling time: a token bucket of milliseconds, refilled at
/// [`FRAME_TIME_SHARE`] up to [`FRAME_TIME_BURST_MS`]. A frame is handled whole and its time
/// taken afterwards; the next frame waits until the bucket is above zero again. So one user
/// sending frames as costly as the limits allow takes half a core at most, not the server.
#[derive(Debug)]
pub struct Budget {
    left_ms: f64,
    at: std::time::Instant,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            left_ms: FRAME_TIME_BURST_MS,
            at: std::time::Instant::now(),
        }
    }
}

impl Budget {
    /// How long the next frame must wait at `now`.
    pub fn wait(&mut self, now: std::time::Instant) -> std::time::Duration {
        let since = now.saturating_duration_since(self.at).as_secs_f64() * 1000.0;
        self.left_ms = (self.left_ms + since * FRAME_TIME_SHARE).min(FRAME_TIME_BURST_MS);
        self.at = now;
        if self.left_ms >= 0.0 {
            std::time::Duration::ZERO
        } else {
            std::time::Duration::from_secs_f64(-self.left_ms / FRAME_TIME_SHARE / 1000.0)
        }
    }

    /// A frame took `spent`.
    pub fn spend(&mut self, spent: std::time::Duration) {
        self.left_ms -= spent.as_secs_f64() * 1000.0;
    }
}

/// One open sync connection of a user, counted while it lives.
pub struct ConnectionPermit {
    connections: Connections,
    user: String,
    turn: Turn,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((n, _)) = c.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.user);
            }
        }
    }
}

impl AppState {
    /// Serves the browser app from `dir` (made by `cargo run -p xtask -- bundle`).
    pub fn with_bundle(mut self, dir: std::path::PathBuf) -> AppState {
        self.bundle = Some(dir);
        self
    }

    /// Marks the state as served over https, offering `ca_cert` (if any) at `/ca.pem`.
    pub fn with_https(mut self, ca_cert: Option<std::path::PathBuf>) -> AppState {
        self.https = true;
        self.ca_cert = ca_cert;
        self
    }

    pub fn new(store: Store) -> AppState {
        let store = Arc::new(store);
        let notices = broadcast::channel(4096).0;
        let sender = notices.clone();
        let hub = Arc::new(Hub::new(store.clone(), move |n| {
            let _ = sender.send(n);
        }));
        // Changes stored through other instances (PostgreSQL) reach this one's devices too.
        let sender = notices.clone();
        let listening = store.listen(move |r| {
            crate::metrics::REMOTE_CHANGES.inc();
            let _ = sender.send(Notice {
                doc: r.doc,
                heads: r.heads,
                units: r.units,
                access: r.access,
                origin: 0,
            });
        });
        if let Err(e) = listening {
            tracing::error!("cannot listen for other instances' changes: {e}");
        }
        AppState {
            store,
            bundle: None,
            hub,
            notices,
            connections: Arc::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(PASSWORD_CHECKS)),
            password_waiting: Arc::default(),
            throttle: Arc::default(),
            https: false,
            ca_cert: None,
        }
    }

    /// A place in the sign-in queue, if it is not full.
    pub fn password_queue(&self) -> Option<QueuePlace> {
        let n = self.password_waiting.fetch_add(1, Ordering::SeqCst);
        let place = QueuePlace(self.password_waiting.clone());
        (n < PASSWORD_QUEUE).then_some(place)
    }

    /// A place for one more sync connection of `user`, if they have fewer than
    /// [`CONNECTIONS_PER_USER`].
    pub fn connection(&self, user: &str) -> Option<ConnectionPermit> {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let (n, turn) = c.entry(user.to_string()).or_default();
        if *n >= CONNECTIONS_PER_USER {
            return None;
        }
        *n += 1;
        Some(ConnectionPermit {
            connections: self.connections.clone(),
            user: user.to_string(),
            turn: turn.clone(),
        })
    }

    /// How many documents the server holds in memory now.
    pub fn cached_docs(&self) -> usize {
        self.hub.cached_docs()
    }

    /// Caseload rows made, and reused, for documents sent to new devices since the start.
    pub fn rows_made(&self) -> (u64, u64) {
        self.hub.rows_made()
    }

    /// The state's own gauges for `/metrics`: queues and memory.
    pub fn gauges(&self) -> Vec<(&'static str, &'static str, u64)> {
        let (rows_made, rows_reused) = self.rows_made();
        vec![
            (
                "lianxin_rows_made",
                "Caseload rows made for documents sent to new devices.",
                rows_made,
            ),
            (
                "lianxin_rows_reused",
                "Caseload rows sent to new devices as made before.",
                rows_reused,
            ),
            (
                "lianxin_row_helpers_busy",
                "Threads helping openings make caseload rows now, shared by every opening.",
                self.hub.row_helpers_busy() as u64,
            ),
            (
                "lianxin_documents_in_memory",
                "Documents the hub holds in memory.",
                self.cached_docs() as u64,
            ),
            (
                "lianxin_announcements_queued",
                "Announcements waiting for the slowest connection.",
                self.notices.len() as u64,
            ),
            (
                "lianxin_sign_ins_waiting",
                "Sign-ins waiting for a password check.",
                self.password_waiting.load(Ordering::SeqCst) as u64,
            ),
            (
                "lianxin_password_checks_free",
                "Password checks that could start now.",
                self.password_checks.available_permits() as u64,
            ),
        ]
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("storage task failed: {e}")),
    }
}

static SESSION_IDS: AtomicU64 = AtomicU64::new(1);

pub async fn run(
    state: AppState,
    socket: WebSocket,
    user: Session,
    token_hash: Vec<u8>,
    permit: ConnectionPermit,
) {
    let (mut tx, mut rx) = socket.split();
    let mut notices = state.notices.subscribe();
    let store = state.store.clone();
    let directory = match blocking(move || store.units()).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("cannot read units: {e}");
            return;
        }
    };
    let username = user.username.clone();
    let id = SESSION_IDS.fetch_add(1, Ordering::Relaxed);
    // The session moves to a blocking thread for each frame and back.
    let mut session = Some(ServerSession::new(id, state.hub.clone(), user, directory));
    tracing::info!(user = %username, session = id, "sync session opened");
    crate::metrics::CONNECTIONS_OPENED.inc();
    crate::metrics::CONNECTIONS_OPEN.inc();
    let _open = OpenGauge;
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.tick().await;
    let fatal: Option<ServerMessage> = loop {
        tokio::select! {
            incoming = rx.next() => {
                let frame = match incoming {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => break Some(ServerMessage::Error(format!("bad frame: {e}"))),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Text(_))) => break Some(ServerMessage::Error("text frames are not part of the protocol".into())),
                    Some(Ok(_)) => continue, // ping and pong are answered by the socket layer
                };
                let Some(mut s) = session.take() else { break None };
                crate::metrics::FRAMES.inc();
                if let Err(Fatal(reason)) = s.take_frame_token(now_ms()) {
                    break Some(ServerMessage::Error(reason));
                }
                if let Err(ended) = check_session(&state, &token_hash).await {
                    break Some(ended);
                }
                let mut turn = permit.turn.clone().lock_owned().await;
                let wait = turn.wait(std::time::Instant::now());
                if !wait.is_zero() {
                    crate::metrics::FRAMES_HELD.inc();
                    tokio::time::sleep(wait).await;
                    turn.wait(std::time::Instant::now());
                }
                let done = tokio::task::spawn_blocking(move || {
                    let start = std::time::Instant::now();
                    let out = s.handle_frame(&frame, now_ms());
                    turn.spend(start.elapsed());
                    drop((turn, frame));
                    (s, out)
                })
                .await;
                let out = match done {
                    Ok((s, out)) => {
                        session = Some(s);
                        out
                    }
                    Err(e) => break Some(ServerMessage::Error(format!("server task failed: {e}"))),
                };
                match out {
                    Ok(out) => {
                        let mut failed = false;
                        for message in out {
                            if tx.send(Message::Binary(protocol::encode(&message).into())).await.is_err() {
                                failed = true;
                                break;
                            }
                        }
                        if failed { break None; }
                    }
                    Err(Fatal(reason)) => break Some(ServerMessage::Error(reason)),
                }
            }
            notice = notices.recv() => {
                let Some(s) = session.as_ref() else { break None };
                // Every announcement waiting now goes in one frame: under load a device hears
                // of many changes at once, not in a frame each.
                let mut waiting = vec![notice];
                while waiting.len() < MAX_CHANGED_PER_FRAME {
                    match notices.try_recv() {
                        Ok(n) => waiting.push(Ok(n)),
                        Err(broadcast::error::TryRecvError::Empty) => break,
                        Err(broadcast::error::TryRecvError::Lagged(n)) => {
                            waiting.push(Err(broadcast::error::RecvError::Lagged(n)));
                            break;
                        }
                        Err(broadcast::error::TryRecvError::Closed) => break,
                    }
                }
                let mut changed = Vec::new();
                let mut ended = None;
                for notice in waiting {
                    match notice {
                        Ok(n) if n.origin != s.id && s.hello && s.may_see(n.access, &n.units) => {
                            changed.retain(|(doc, _)| *doc != n.doc);
                            changed.push((n.doc, n.heads));
                        }
                        Ok(_) => {}
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            crate::metrics::LAGGED.inc();
                            ended = Some(Some(ServerMessage::Error("this connection fell behind; reconnect to catch up".into())));
                        }
                        Err(broadcast::error::RecvError::Closed) => ended = Some(None),
                    }
                }
                if !changed.is_empty() {
                    let msg = ServerMessage::Changed(changed);
                    if tx.send(Message::Binary(protocol::encode(&msg).into())).await.is_err() {
                        break None;
                    }
                }
                if let Some(end) = ended {
                    break end;
                }
            }
            _ = recheck.tick() => {
                if let Err(ended) = check_session(&state, &token_hash).await {
                    break Some(ended);
                }
            }
        }
    };
    if let Some(message) = fatal {
        let reason = match &message {
            ServerMessage::Error(r) | ServerMessage::SessionEnded(r) => r.clone(),
            _ => String::new(),
        };
        tracing::warn!(user = %username, session = id, "closing sync session: {reason}");
        let _ = tx
            .send(Message::Binary(protocol::encode(&message).into()))
            .await;
        let close = CloseFrame {
            code: 1008,
            reason: reason.chars().take(60).collect::<String>().into(),
        };
        let _ = tx.send(Message::Close(Some(close))).await;
        // Whatever the device sent meanwhile is read and dropped until it closes too (for at
        // most 2 s): a socket closed with unread data is reset, and a reset can make the
        // device lose the reason sent just before it.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(Ok(frame)) = rx.next().await {
                if matches!(frame, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    tracing::info!(user = %username, session = id, "sync session closed");
}

/// Counts a connection open while it lives.
struct OpenGauge;

impl Drop for OpenGauge {
    fn drop(&mut self) {
        crate::metrics::CONNECTIONS_OPEN.dec();
    }
}

/// Whether the connection's session still holds; if not, what to tell the device.
async fn check_session(state: &AppState, token_hash: &[u8]) -> Result<(), ServerMessage> {
    let store = state.store.clone();
    let hash = token_hash.to_vec();
    match blocking(move || store.session(&hash, now_ms())).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ServerMessage::SessionEnded(
            "session expired, ended or user disabled; log in again".into(),
        )),
        Err(e) => Err(ServerMessage::Error(format!("server storage error: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_users_frame_time_is_a_burst_then_a_share_of_a_core() {
        let start = Instant::now();
        let mut budget = Budget {
            left_ms: FRAME_TIME_BURST_MS,
            at: start,
        };
        // The burst goes at once.
        assert_eq!(budget.wait(start), Duration::ZERO);
        budget.spend(Duration::from_millis(FRAME_TIME_BURST_MS as u64 + 500));
        // 500 ms over: the next frame waits until the share has paid it back.
        let wait = budget.wait(start);
        assert_eq!(wait, Duration::from_secs_f64(0.5 / FRAME_TIME_SHARE));
        assert_eq!(budget.wait(start + wait), Duration::ZERO);
        // Idle time refills the burst, and no more than the burst.
        budget.wait(start + Duration::from_secs(3_600));
        assert_eq!(budget.left_ms, FRAME_TIME_BURST_MS);
    }

    #[test]
    fn a_users_connections_share_one_turn_and_it_goes_with_the_last_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(Store::open(dir.path()).unwrap());
        let a = state.connection("zhang").unwrap();
        let b = state.connection("zhang").unwrap();
        let other = state.connection("li").unwrap();
        assert!(Arc::ptr_eq(&a.turn, &b.turn), "one turn per user");
        assert!(!Arc::ptr_eq(&a.turn, &other.turn));
        let turn = a.turn.clone();
        drop((a, b));
        // The last connection gone, the user's entry (turn and budget) is gone with it.
        let again = state.connection("zhang").unwrap();
        assert!(!Arc::ptr_eq(&turn, &again.turn));
    }
}
