//! The server's side of a sync session, one per connected device.
//!
//! Every document id in every message is authorised against the user's units; a device
//! never receives a document it may not see. A device's changes are checked
//! ([`lianxin_shared::check_incoming`]), stored durably, and only then answered; refused ones
//! are kept aside in the quarantine table with the reason, and the device is told why.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use automerge::{AutoCommit, sync as am_sync};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use lianxin_shared::protocol::{
    self, ClientMessage, Outcome, Reply, ServerMessage, Snapshot, SyncItem,
};
use lianxin_shared::{DocId, Refusal, UnitId, check_incoming};
use tokio::sync::{Mutex, broadcast};

use crate::now_ms;
use crate::store::{Session, Store, StoreError, Unit, visible_units};

/// The WebSocket layer's own limit; frames between [`protocol::MAX_FRAME`] and this get our
/// clear error, larger ones are cut off by the socket layer (close code 1009).
pub const MAX_WS_MESSAGE: usize = 2 * protocol::MAX_FRAME;

/// Appended changes per document before it is compacted into one snapshot.
const COMPACT_AFTER: usize = 256;

/// How often an idle connection re-checks that its session is still valid.
const SESSION_RECHECK: Duration = Duration::from_secs(5);

/// Documents kept in memory at most; beyond it, documents nobody is using are dropped (they
/// load again from the store when next needed).
pub const DOC_CACHE_SLOTS: usize = 4_096;

/// Frames a connection may send in a burst, and per second over time; beyond that the
/// connection is told to slow down and closed. A device sends a handful of frames per
/// conversation and one per live edit.
pub const FRAME_BURST: f64 = 200.0;
pub const FRAMES_PER_SECOND: f64 = 50.0;

/// Sync connections one user may hold at once (a tablet and a few spares).
pub const CONNECTIONS_PER_USER: usize = 8;

/// Password checks (Argon2id, 19 MiB each) running at once; a login beyond that is answered
/// at once with 503 rather than queued.
pub const PASSWORD_CHECKS: usize = 4;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    /// The built browser app (`dist/`), served at `/` when present.
    pub bundle: Option<std::path::PathBuf>,
    docs: Arc<DocCache>,
    notices: broadcast::Sender<Notice>,
    /// Open sync connections per user.
    connections: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    /// Permits for password checks.
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

/// One open sync connection of a user, counted while it lives.
pub struct ConnectionPermit {
    connections: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    user: String,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.get_mut(&self.user) {
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

    pub fn new(store: Store) -> AppState {
        AppState {
            store: Arc::new(store),
            bundle: None,
            docs: Arc::new(DocCache::default()),
            notices: broadcast::channel(4096).0,
            connections: Arc::default(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(PASSWORD_CHECKS)),
        }
    }

    /// A place for one more sync connection of `user`, if they have fewer than
    /// [`CONNECTIONS_PER_USER`].
    pub fn connection(&self, user: &str) -> Option<ConnectionPermit> {
        let mut c = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.entry(user.to_string()).or_insert(0);
        if *n >= CONNECTIONS_PER_USER {
            return None;
        }
        *n += 1;
        Some(ConnectionPermit {
            connections: self.connections.clone(),
            user: user.to_string(),
        })
    }

    /// How many documents the server holds in memory now.
    pub fn cached_docs(&self) -> usize {
        self.docs.len()
    }
}

/// A stored change, announced to the other sessions.
#[derive(Clone, Debug)]
struct Notice {
    doc: DocId,
    heads: protocol::Heads,
    units: Vec<UnitId>,
    origin: u64,
}

/// Documents in memory, loaded on first use, one lock each so that two devices writing the
/// same case are serialised and devices writing different cases are not. Bounded: a slot
/// nobody holds is dropped when the cache is full, and a slot for an id that names no stored
/// document is dropped as soon as its conversation item is done.
#[derive(Default)]
struct DocCache {
    slots: std::sync::Mutex<HashMap<DocId, Arc<Mutex<Slot>>>>,
}

#[derive(Default)]
struct Slot {
    loaded: bool,
    /// None: no such document (yet).
    doc: Option<AutoCommit>,
    units: Vec<UnitId>,
    appended: usize,
    /// Stored bytes: the snapshot and the changes appended since.
    size: usize,
}

impl DocCache {
    fn slot(&self, id: DocId) -> Arc<Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= DOC_CACHE_SLOTS && !slots.contains_key(&id) {
            // Drop unused slots (held by the map alone) until a tenth of the room is free.
            let target = DOC_CACHE_SLOTS - DOC_CACHE_SLOTS / 10;
            let unused: Vec<DocId> = slots
                .iter()
                .filter(|(_, s)| Arc::strong_count(s) == 1)
                .map(|(id, _)| *id)
                .take(slots.len().saturating_sub(target))
                .collect();
            for id in unused {
                slots.remove(&id);
            }
        }
        slots.entry(id).or_default().clone()
    }

    /// Forgets the slot of an id with no document, unless someone else is using it.
    fn release_if_empty(&self, id: DocId, slot: Arc<Mutex<Slot>>) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let empty = slot.try_lock().is_ok_and(|s| s.doc.is_none());
        drop(slot);
        if empty && slots.get(&id).is_some_and(|s| Arc::strong_count(s) == 1) {
            slots.remove(&id);
        }
    }

    fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
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

struct ServerSession {
    id: u64,
    state: AppState,
    user: Session,
    token_hash: Vec<u8>,
    directory: Vec<Unit>,
    visible: Vec<UnitId>,
    sync_states: HashMap<DocId, am_sync::State>,
    hello: bool,
    /// Frames this connection may still send now (refilled at [`FRAMES_PER_SECOND`]).
    frame_tokens: f64,
    tokens_at: tokio::time::Instant,
}

/// A reason to end the connection, sent to the device first.
struct Fatal(String);

pub async fn run(
    state: AppState,
    socket: WebSocket,
    user: Session,
    token_hash: Vec<u8>,
    _permit: ConnectionPermit,
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
    let visible = visible_units(&directory, &user.units);
    let mut session = ServerSession {
        id: SESSION_IDS.fetch_add(1, Ordering::Relaxed),
        state,
        user,
        token_hash,
        directory,
        visible,
        sync_states: HashMap::new(),
        hello: false,
        frame_tokens: FRAME_BURST,
        tokens_at: tokio::time::Instant::now(),
    };
    tracing::info!(user = %session.user.username, session = session.id, "sync session opened");
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    recheck.tick().await;
    let fatal: Option<String> = loop {
        tokio::select! {
            incoming = rx.next() => {
                let frame = match incoming {
                    None | Some(Ok(Message::Close(_))) => break None,
                    Some(Err(e)) => break Some(format!("bad frame: {e}")),
                    Some(Ok(Message::Binary(bytes))) => bytes,
                    Some(Ok(Message::Text(_))) => break Some("text frames are not part of the protocol".into()),
                    Some(Ok(_)) => continue, // ping and pong are answered by the socket layer
                };
                if let Err(Fatal(reason)) = session.take_frame_token() {
                    break Some(reason);
                }
                if let Err(Fatal(reason)) = session.check_session().await {
                    break Some(reason);
                }
                match session.handle_frame(&frame).await {
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
                    Err(Fatal(reason)) => break Some(reason),
                }
            }
            notice = notices.recv() => {
                match notice {
                    Ok(n) if n.origin != session.id && session.hello && session.may_see(&n.units) => {
                        let msg = ServerMessage::Changed(vec![(n.doc, n.heads)]);
                        if tx.send(Message::Binary(protocol::encode(&msg).into())).await.is_err() {
                            break None;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        break Some("this connection fell behind; reconnect to catch up".into());
                    }
                    Err(broadcast::error::RecvError::Closed) => break None,
                }
            }
            _ = recheck.tick() => {
                if let Err(Fatal(reason)) = session.check_session().await {
                    break Some(reason);
                }
            }
        }
    };
    if let Some(reason) = fatal {
        tracing::warn!(user = %session.user.username, session = session.id, "closing sync session: {reason}");
        let _ = tx
            .send(Message::Binary(
                protocol::encode(&ServerMessage::Error(reason.clone())).into(),
            ))
            .await;
        let close = CloseFrame {
            code: 1008,
            reason: reason.chars().take(60).collect::<String>().into(),
        };
        let _ = tx.send(Message::Close(Some(close))).await;
    }
    tracing::info!(user = %session.user.username, session = session.id, "sync session closed");
}

impl ServerSession {
    /// Counts a frame against the connection's rate.
    fn take_frame_token(&mut self) -> Result<(), Fatal> {
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(self.tokens_at).as_secs_f64();
        self.tokens_at = now;
        self.frame_tokens = (self.frame_tokens + elapsed * FRAMES_PER_SECOND).min(FRAME_BURST);
        if self.frame_tokens < 1.0 {
            return Err(Fatal(format!(
                "too many frames: at most {FRAMES_PER_SECOND} a second; reconnect and send less often"
            )));
        }
        self.frame_tokens -= 1.0;
        Ok(())
    }

    fn may_see(&self, units: &[UnitId]) -> bool {
        units.iter().any(|u| self.visible.contains(u))
    }

    async fn check_session(&self) -> Result<(), Fatal> {
        let store = self.state.store.clone();
        let hash = self.token_hash.clone();
        match blocking(move || store.session(&hash, now_ms())).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Fatal(
                "session expired, ended or user disabled; log in again".into(),
            )),
            Err(e) => Err(Fatal(format!("server storage error: {e}"))),
        }
    }

    async fn handle_frame(&mut self, frame: &[u8]) -> Result<Vec<ServerMessage>, Fatal> {
        let message: ClientMessage = protocol::decode(frame).map_err(|e| Fatal(e.to_string()))?;
        match message {
            ClientMessage::Hello { .. } if self.hello => Err(Fatal("hello sent twice".into())),
            ClientMessage::Hello { cursor } => {
                self.hello = true;
                self.opening(cursor).await
            }
            ClientMessage::Sync(_) if !self.hello => {
                Err(Fatal("the session must open with hello".into()))
            }
            ClientMessage::Sync(items) if items.len() > protocol::MAX_ITEMS => Err(Fatal(format!(
                "a frame may carry at most {} sync items; this one has {}",
                protocol::MAX_ITEMS,
                items.len()
            ))),
            ClientMessage::Sync(items) => {
                let mut replies = Vec::with_capacity(items.len());
                let mut inflate_budget = protocol::MAX_INFLATED_FRAME;
                for item in items {
                    replies.push(self.sync_item(item, &mut inflate_budget).await?);
                }
                // Each reply is at most about a document; several go in several frames.
                let frames: Vec<ServerMessage> = protocol::batches(replies, reply_size)
                    .into_iter()
                    .map(ServerMessage::Replies)
                    .collect();
                if frames.is_empty() {
                    return Ok(vec![ServerMessage::Replies(Vec::new())]);
                }
                Ok(frames)
            }
        }
    }

    /// Snapshots of documents new to the device, then the list of those that changed.
    async fn opening(&mut self, cursor: u64) -> Result<Vec<ServerMessage>, Fatal> {
        let store = self.state.store.clone();
        let visible = self.visible.clone();
        let storage = |e: String| Fatal(format!("server storage error: {e}"));
        let (seq, changed) = blocking(move || {
            let seq = store.seq()?;
            Ok((seq, store.changed_since(cursor, &visible)?))
        })
        .await
        .map_err(storage)?;
        let (new, known): (Vec<_>, Vec<_>) =
            changed.into_iter().partition(|d| d.created_seq > cursor);
        let store = self.state.store.clone();
        let new_ids: Vec<DocId> = new.iter().map(|d| d.id).collect();
        let snapshots = blocking(move || {
            let mut out = Vec::with_capacity(new_ids.len());
            for id in new_ids {
                if let Some((bytes, _, _)) = store.load_doc(&id)? {
                    out.push(Snapshot { doc: id, bytes });
                }
            }
            Ok(out)
        })
        .await
        .map_err(storage)?;
        let mut out: Vec<ServerMessage> = protocol::batches(snapshots, |s| s.bytes.len())
            .into_iter()
            .map(ServerMessage::Snapshots)
            .collect();
        out.push(ServerMessage::Welcome {
            seq,
            changed: known.into_iter().map(|d| (d.id, d.heads)).collect(),
        });
        Ok(out)
    }

    async fn sync_item(&mut self, item: SyncItem, budget: &mut usize) -> Result<Reply, Fatal> {
        let id = item.doc;
        let slot = self.state.docs.slot(id);
        let reply = self.sync_item_in(&slot, item, budget).await;
        self.state.docs.release_if_empty(id, slot);
        reply
    }

    async fn sync_item_in(
        &mut self,
        slot: &Arc<Mutex<Slot>>,
        item: SyncItem,
        budget: &mut usize,
    ) -> Result<Reply, Fatal> {
        let SyncItem { doc: id, data } = item;
        let mut slot = slot.lock().await;
        if !slot.loaded {
            let store = self.state.store.clone();
            let loaded = blocking(move || store.load_doc(&id))
                .await
                .map_err(|e| Fatal(format!("server storage error: {e}")))?;
            if let Some((bytes, units, appended)) = loaded {
                let size = bytes.len();
                match tokio::task::spawn_blocking(move || AutoCommit::load(&bytes)).await {
                    Ok(Ok(doc)) => {
                        slot.doc = Some(doc);
                        slot.units = units;
                        slot.appended = appended;
                        slot.size = size;
                    }
                    Err(e) => return Err(Fatal(format!("server task failed: {e}"))),
                    Ok(Err(e)) => {
                        tracing::error!(doc = %id, "stored document does not load: {e}");
                        return Ok(self.refuse(id, "this case cannot be read on the server; an administrator has been told", &data).await);
                    }
                }
            }
            slot.loaded = true;
        }
        if slot.doc.is_some() && !self.may_see(&slot.units) {
            return Ok(self
                .refuse(
                    id,
                    &format!("case {} is not visible to you", id.short()),
                    &data,
                )
                .await);
        }
        let state = self.sync_states.entry(id).or_default().clone();
        let actor = match automerge::ActorId::try_from(self.user.actor.as_str()) {
            Ok(a) => a,
            Err(_) => return Err(Fatal("this device's registered key is unreadable".into())),
        };
        // Decoding, inflating and applying are CPU work: off the async workers, with the
        // document lent to the blocking thread and given back.
        let limit = (*budget).min(protocol::MAX_INFLATED_ITEM);
        let current = slot.doc.take();
        let data = Arc::new(data);
        let bytes = data.clone();
        let (current, checked) = match tokio::task::spawn_blocking(move || {
            let empty = AutoCommit::new();
            let checked = check_incoming(
                current.as_ref().unwrap_or(&empty),
                &state,
                &bytes,
                id,
                &actor,
                limit,
            );
            (current, checked)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => return Err(Fatal(format!("server task failed: {e}"))),
        };
        slot.doc = current;
        let checked = match checked {
            Ok(c) => c,
            Err(refusal) => return Ok(self.refuse(id, &refusal.to_string(), &data).await),
        };
        *budget = budget.saturating_sub(checked.inflated);
        let missing = checked.missing.clone();
        if !checked.changes.is_empty() {
            let Some(after) = &checked.after else {
                return Ok(self
                    .refuse(id, &Refusal::Schema("no header".into()).to_string(), &data)
                    .await);
            };
            if let Some(reason) =
                self.forbidden(checked.before.as_ref().map(|h| &h.units[..]), &after.units)
            {
                return Ok(self.refuse(id, &reason, &data).await);
            }
            let mut doc = checked.doc;
            let heads = protocol::heads_to_wire(&doc.get_heads());
            let raw: Vec<Vec<u8>> = checked
                .changes
                .iter()
                .map(|c| c.raw_bytes().to_vec())
                .collect();
            let appended = slot.appended + raw.len();
            let raw_bytes: usize = raw.iter().map(Vec::len).sum();
            let mut snapshot =
                (slot.doc.is_none() || appended >= COMPACT_AFTER).then(|| doc.save());
            if snapshot.is_none() && slot.size + raw_bytes > protocol::MAX_DOC_BYTES {
                // Compacted, it may still fit.
                snapshot = Some(doc.save());
            }
            let size = snapshot.as_ref().map_or(slot.size + raw_bytes, Vec::len);
            if size > protocol::MAX_DOC_BYTES {
                let reason = format!(
                    "this change would make the document {size} bytes; the limit is {} bytes",
                    protocol::MAX_DOC_BYTES
                );
                return Ok(self.refuse(id, &reason, &data).await);
            }
            let compacted = snapshot.is_some();
            let store = self.state.store.clone();
            let units = after.units.clone();
            let heads_stored = heads.clone();
            blocking(move || {
                store.append_changes(&id, &units, &raw, &heads_stored, snapshot.as_deref())
            })
            .await
            .map_err(|e| Fatal(format!("server storage error: {e}")))?;
            slot.appended = if compacted { 0 } else { appended };
            slot.size = size;
            slot.units = after.units.clone();
            slot.doc = Some(doc);
            let _ = self.state.notices.send(Notice {
                doc: id,
                heads,
                units: slot.units.clone(),
                origin: self.id,
            });
        }
        let state = self.sync_states.entry(id).or_default();
        *state = checked.state;
        // For a document the server does not have, answer as an empty document would: that
        // tells a device pushing a new case to send its changes, and tells anyone else nothing.
        let mut empty = AutoCommit::new();
        let doc = slot.doc.as_mut().unwrap_or(&mut empty);
        let reply = lianxin_shared::reply(doc, state, &missing);
        Ok(Reply {
            doc: id,
            outcome: Outcome::Sync(reply),
        })
    }

    /// Why this user may not write a document with these units, if they may not.
    fn forbidden(&self, before: Option<&[UnitId]>, after: &[UnitId]) -> Option<String> {
        if let Some(unknown) = after
            .iter()
            .find(|u| !self.directory.iter().any(|d| d.id == u.as_str()))
        {
            return Some(format!("unknown unit {unknown}"));
        }
        let owner = before.unwrap_or(after);
        if !self.may_see(owner) {
            let units: Vec<&str> = owner.iter().map(UnitId::as_str).collect();
            return Some(format!(
                "units {} are not yours to change",
                units.join(", ")
            ));
        }
        None
    }

    async fn refuse(&self, id: DocId, reason: &str, data: &[u8]) -> Reply {
        // A reason may quote what the device sent (a key's name); it is kept short.
        let reason: String = match reason.char_indices().nth(400) {
            Some((cut, _)) => format!("{}…", &reason[..cut]),
            None => reason.to_string(),
        };
        let reason = reason.as_str();
        tracing::warn!(user = %self.user.username, doc = %id.short(), "refused: {reason}");
        let store = self.state.store.clone();
        let (user, actor, reason_owned, bytes) = (
            self.user.username.clone(),
            self.user.actor.clone(),
            reason.to_string(),
            data.to_vec(),
        );
        if let Err(e) = blocking(move || {
            store.quarantine(
                &user,
                &actor,
                &id.to_string(),
                &reason_owned,
                &bytes,
                now_ms(),
            )
        })
        .await
        {
            tracing::error!("cannot keep a refused change aside: {e}");
        }
        Reply {
            doc: id,
            outcome: Outcome::Refused(reason.to_string()),
        }
    }
}

/// About how many bytes a reply takes in a frame.
fn reply_size(reply: &Reply) -> usize {
    match &reply.outcome {
        Outcome::Sync(Some(data)) => data.len(),
        Outcome::Sync(None) => 0,
        Outcome::Refused(reason) => reason.len(),
    }
}
