//! The server's side of sync, without IO: a [`Hub`] of documents shared by every session, and
//! one [`ServerSession`] per connected device that turns the device's frames into answers.
//!
//! Every document id in every message is authorised against the user's units; a device never
//! receives a document it may not see. A device's changes are checked
//! ([`lianxin_shared::check_incoming`]), stored durably through a [`DocStore`], and only then
//! answered; refused ones are kept aside in quarantine with the reason, and the device is told
//! why. The socket loop (`sync.rs`) runs [`ServerSession::handle_frame`] on a blocking thread;
//! the simulation test runs it directly, over an in-memory store that can crash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::{AutoCommit, sync as am_sync};
use lianxin_shared::protocol::{
    self, ClientMessage, Outcome, PushOutcome, Pushed, Reply, ServerMessage, Snapshot,
};
use lianxin_shared::rules::authority;
use lianxin_shared::{DocId, Refusal, UnitId, check_incoming, visible_units};

pub use crate::store::Scope;

use crate::store::{Session, StoreError, Unit};

/// Appended changes per document before it is compacted into one snapshot.
const COMPACT_AFTER: usize = 256;

/// Documents kept in memory at most; beyond it, documents nobody is using are dropped (they
/// load again from the store when next needed).
pub const DOC_CACHE_SLOTS: usize = 4_096;

/// Frames a connection may send in a burst, and per second over time; beyond that the
/// connection is told to slow down and closed. A device sends a handful of frames per
/// conversation and one per live edit.
pub const FRAME_BURST: f64 = 200.0;
pub const FRAMES_PER_SECOND: f64 = 50.0;

pub use docstore::DocStore;

mod docstore;
mod rows;

/// A stored change, announced to the other sessions.
#[derive(Clone, Debug)]
pub struct Notice {
    pub doc: DocId,
    pub heads: protocol::Heads,
    pub units: Vec<UnitId>,
    /// Who may have the document.
    pub access: lianxin_shared::Access,
    /// The session that stored it (which need not be told).
    pub origin: u64,
}

/// The documents every session shares, and where stored changes are announced.
pub struct Hub<S: DocStore> {
    pub store: Arc<S>,
    docs: DocCache,
    /// Rows of documents sent to new devices ([`protocol::Fresh`]).
    rows: rows::RowCache,
    notify: Box<dyn Fn(Notice) + Send + Sync>,
}

impl<S: DocStore> Hub<S> {
    pub fn new(store: Arc<S>, notify: impl Fn(Notice) + Send + Sync + 'static) -> Hub<S> {
        Hub {
            store,
            docs: DocCache::default(),
            rows: rows::RowCache::default(),
            notify: Box::new(notify),
        }
    }

    /// How many documents the hub holds in memory now.
    pub fn cached_docs(&self) -> usize {
        self.docs.len()
    }

    /// Rows made, and rows reused, for documents sent to new devices since the start.
    pub fn rows_made(&self) -> (u64, u64) {
        self.rows.counts()
    }

    /// Threads helping openings make rows now (shared by all of them).
    pub fn row_helpers_busy(&self) -> usize {
        self.rows.helpers_busy()
    }
}

/// Documents in memory, loaded on first use, one lock each so that two devices writing the
/// same case are serialised and devices writing different cases are not. Bounded: a slot
/// nobody holds is dropped when the cache is full, and a slot for an id that names no stored
/// document is dropped as soon as its conversation item is done.
#[derive(Default)]
struct DocCache {
    slots: Mutex<HashMap<DocId, Arc<Mutex<Slot>>>>,
}

#[derive(Default)]
struct Slot {
    loaded: bool,
    /// None: no such document (yet).
    doc: Option<AutoCommit>,
    units: Vec<UnitId>,
    /// Who may have the document (personal details: the users of its own units only).
    access: lianxin_shared::Access,
    appended: usize,
    /// Stored bytes: the snapshot and the changes appended since.
    size: usize,
    /// The stored sequence number this copy is of (None: the store cannot tell).
    seq: Option<u64>,
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

/// A reason to end the connection, sent to the device first.
#[derive(Debug)]
pub struct Fatal(pub String);

fn storage(e: StoreError) -> Fatal {
    Fatal(format!("server storage error: {e}"))
}

/// How often a sync item is done again when the document changed through another instance
/// meanwhile.
const STALE_RETRIES: usize = 16;

/// Why a sync item was not done: the connection ends, or the copy was stale (do it again).
enum ItemError {
    Fatal(Fatal),
    Stale,
}

impl From<Fatal> for ItemError {
    fn from(f: Fatal) -> ItemError {
        ItemError::Fatal(f)
    }
}

/// How a device sent a document's changes: Automerge's sync message, or a push of the changes
/// since heads it says the server confirmed ([`protocol::Push`]).
#[derive(Clone, Copy)]
enum Way<'a> {
    Sync,
    /// From these heads (none: from where the changes start), with this many changes.
    Push(&'a [automerge::ChangeHash], usize),
}

/// The answer to one item, in the way it came (a push's gets its number from the caller).
enum Answer {
    Sync(Reply),
    Push(PushOutcome),
}

impl Answer {
    fn refused(way: Way<'_>, doc: DocId, reason: String) -> Answer {
        match way {
            Way::Sync => Answer::Sync(Reply {
                doc,
                outcome: Outcome::Refused(reason),
            }),
            Way::Push(..) => Answer::Push(PushOutcome::Refused(reason)),
        }
    }
}

/// One connected device's conversation with the server.
pub struct ServerSession<S: DocStore> {
    pub id: u64,
    hub: Arc<Hub<S>>,
    pub user: Session,
    directory: Vec<Unit>,
    scope: Scope,
    sync_states: HashMap<DocId, am_sync::State>,
    /// Changes sent in this session's opening, per document: a push's answer leaves them out.
    opened: HashMap<DocId, std::collections::HashSet<automerge::ChangeHash>>,
    pub hello: bool,
    /// Frames this connection may still send now (refilled at [`FRAMES_PER_SECOND`]).
    frame_tokens: f64,
    /// When the tokens were last counted, in milliseconds of the caller's clock.
    tokens_at: Option<i64>,
}

impl<S: DocStore> ServerSession<S> {
    pub fn new(id: u64, hub: Arc<Hub<S>>, user: Session, directory: Vec<Unit>) -> Self {
        let scope = Scope {
            visible: visible_units(&directory, &user.units),
            own: user.units.clone(),
        };
        ServerSession {
            id,
            hub,
            user,
            directory,
            scope,
            sync_states: HashMap::new(),
            opened: HashMap::new(),
            hello: false,
            frame_tokens: FRAME_BURST,
            tokens_at: None,
        }
    }

    /// Counts a frame arriving at `now_ms` against the connection's rate.
    pub fn take_frame_token(&mut self, now_ms: i64) -> Result<(), Fatal> {
        let elapsed = self
            .tokens_at
            .map_or(0.0, |t| (now_ms - t).max(0) as f64 / 1000.0);
        self.tokens_at = Some(now_ms);
        self.frame_tokens = (self.frame_tokens + elapsed * FRAMES_PER_SECOND).min(FRAME_BURST);
        if self.frame_tokens < 1.0 {
            return Err(Fatal(format!(
                "too many frames: at most {FRAMES_PER_SECOND} a second; reconnect and send less often"
            )));
        }
        self.frame_tokens -= 1.0;
        Ok(())
    }

    /// Whether a document of these units and this access may be shown to this session's user.
    pub fn may_see(&self, access: lianxin_shared::Access, units: &[UnitId]) -> bool {
        self.scope.admits(access, units)
    }

    /// Answers one frame from the device (`now_ms` is the server's clock, for the records).
    pub fn handle_frame(&mut self, frame: &[u8], now_ms: i64) -> Result<Vec<ServerMessage>, Fatal> {
        let message: ClientMessage = protocol::decode(frame).map_err(|e| Fatal(e.to_string()))?;
        match message {
            ClientMessage::Auth { .. } => Err(Fatal(
                "the token goes in the first frame only, before hello".into(),
            )),
            ClientMessage::Hello { .. } | ClientMessage::Open { .. } if self.hello => {
                Err(Fatal("hello sent twice".into()))
            }
            ClientMessage::Hello { cursor } => {
                self.hello = true;
                self.opening(cursor, false)
            }
            ClientMessage::Open { cursor, rows } => {
                self.hello = true;
                self.opening(cursor, rows)
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
                    match self.sync_item(
                        item.doc,
                        Way::Sync,
                        &item.data,
                        &mut inflate_budget,
                        now_ms,
                    )? {
                        Answer::Sync(r) => replies.push(r),
                        Answer::Push(_) => {
                            return Err(Fatal("internal: a push answer to a sync".into()));
                        }
                    }
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
            ClientMessage::Push(_) if !self.hello => {
                Err(Fatal("the session must open with hello".into()))
            }
            ClientMessage::Push(items) if items.len() > protocol::MAX_ITEMS => Err(Fatal(format!(
                "a frame may carry at most {} pushed documents; this one has {}",
                protocol::MAX_ITEMS,
                items.len()
            ))),
            ClientMessage::Push(items) => {
                let mut answers = Vec::with_capacity(items.len());
                let mut inflate_budget = protocol::MAX_INFLATED_FRAME;
                for item in items {
                    if item.since.len() > MAX_PUSH_HEADS {
                        return Err(Fatal(format!(
                            "a push may start from at most {MAX_PUSH_HEADS} heads"
                        )));
                    }
                    let since = protocol::heads_from_wire(&item.since);
                    let data = lianxin_shared::push::as_sync_message(&item.changes);
                    match self.sync_item(
                        item.doc,
                        Way::Push(&since, item.changes.len()),
                        &data,
                        &mut inflate_budget,
                        now_ms,
                    )? {
                        Answer::Push(outcome) => answers.push(Pushed { n: item.n, outcome }),
                        Answer::Sync(_) => {
                            return Err(Fatal("internal: a sync answer to a push".into()));
                        }
                    }
                }
                let frames: Vec<ServerMessage> = protocol::batches(answers, pushed_size)
                    .into_iter()
                    .map(ServerMessage::Pushed)
                    .collect();
                if frames.is_empty() {
                    return Ok(vec![ServerMessage::Pushed(Vec::new())]);
                }
                Ok(frames)
            }
        }
    }

    /// Snapshots of documents new to the device (with `rows`, as [`protocol::Fresh`] items),
    /// then the list of those that changed.
    fn opening(&mut self, cursor: u64, rows: bool) -> Result<Vec<ServerMessage>, Fatal> {
        let store = &self.hub.store;
        let seq = store.seq().map_err(storage)?;
        let mut changed = store.changed_since(cursor, &self.scope).map_err(storage)?;
        if cursor > 0 {
            // What this device stored last it holds already (its own new cases included): not
            // sent back. A device with nothing (cursor 0) gets everything, whoever wrote it.
            changed.retain(|d| d.by.as_deref() != Some(self.user.actor.as_str()));
        }
        let (new, known): (Vec<_>, Vec<_>) =
            changed.into_iter().partition(|d| d.created_seq > cursor);
        let ids: Vec<DocId> = new.iter().map(|d| d.id).collect();
        let loaded = store.load_docs(&ids).map_err(storage)?;
        let mut out: Vec<ServerMessage> = if rows {
            let calendar = store.calendar().map_err(storage)?;
            let listed: HashMap<DocId, protocol::Heads> =
                new.iter().map(|d| (d.id, d.heads.clone())).collect();
            let fresh = self.hub.rows.fresh(&listed, loaded, &calendar);
            protocol::batches(fresh, |f| {
                f.bytes.len() + f.row.as_ref().map_or(0, Vec::len) + 32 * f.heads.len()
            })
            .into_iter()
            .map(ServerMessage::Fresh)
            .collect()
        } else {
            let snapshots = loaded
                .into_iter()
                .map(|(doc, bytes)| Snapshot { doc, bytes })
                .collect();
            protocol::batches(snapshots, |s: &Snapshot| s.bytes.len())
                .into_iter()
                .map(ServerMessage::Snapshots)
                .collect()
        };
        let gone = store.gone_since(cursor, &self.scope).map_err(storage)?;
        if !gone.is_empty() {
            out.push(ServerMessage::Gone(gone));
        }
        // A document whose changes since the cursor are all kept one by one goes as those
        // changes (the device has everything up to its cursor); the rest are named with their
        // heads, and the device asks for what it lacks.
        let whole: Vec<DocId> = known
            .iter()
            .filter(|d| d.snapshot_seq.is_some_and(|s| s <= cursor))
            .map(|d| d.id)
            .collect();
        let mut since: HashMap<DocId, Vec<Vec<u8>>> = HashMap::new();
        for (doc, bytes) in store
            .changes_after(&whole, cursor, &self.user.actor)
            .map_err(storage)?
        {
            since.entry(doc).or_default().push(bytes);
        }
        let mut items = Vec::with_capacity(since.len());
        let mut named = Vec::new();
        for d in known {
            match since.remove(&d.id) {
                Some(changes) => {
                    let sent = self.opened.entry(d.id).or_default();
                    for change in &changes {
                        if let Ok(c) = automerge::Change::from_bytes(change.clone()) {
                            sent.insert(c.hash());
                        }
                    }
                    items.push(protocol::Since { doc: d.id, changes });
                }
                None => named.push((d.id, d.heads)),
            }
        }
        out.extend(
            protocol::batches(items, |i| i.changes.iter().map(Vec::len).sum())
                .into_iter()
                .map(ServerMessage::Since),
        );
        out.push(ServerMessage::Welcome {
            seq,
            changed: named,
        });
        Ok(out)
    }

    fn sync_item(
        &mut self,
        id: DocId,
        way: Way<'_>,
        data: &[u8],
        budget: &mut usize,
        now_ms: i64,
    ) -> Result<Answer, Fatal> {
        let slot = self.hub.docs.slot(id);
        // Another instance may store the same document between this copy's check and its
        // write; the store then says so ([`StoreError::Stale`]) and the item is done again on
        // the document as it is now.
        let mut reply = Err(Fatal(
            "the case kept changing on other servers; sync again".into(),
        ));
        for _ in 0..STALE_RETRIES {
            match self.sync_item_in(&slot, id, way, data, budget, now_ms) {
                Err(ItemError::Stale) => {
                    // Another instance is writing the same case this moment (live typing on
                    // both): let it finish before reading the case again.
                    std::thread::sleep(std::time::Duration::from_millis(
                        1 + rand::random::<u64>() % 4,
                    ));
                    continue;
                }
                Err(ItemError::Fatal(f)) => {
                    reply = Err(f);
                    break;
                }
                Ok(r) => {
                    reply = Ok(r);
                    break;
                }
            }
        }
        self.hub.docs.release_if_empty(id, slot);
        reply
    }

    fn sync_item_in(
        &mut self,
        slot: &Arc<Mutex<Slot>>,
        id: DocId,
        way: Way<'_>,
        data: &[u8],
        budget: &mut usize,
        now_ms: i64,
    ) -> Result<Answer, ItemError> {
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        // A copy changed by someone else since it was loaded (the admin's unshare) is
        // loaded again.
        if slot.loaded && slot.doc.is_some() {
            let stored = self.hub.store.doc_seq(&id).map_err(storage)?;
            if stored.is_some() && stored != slot.seq {
                slot.loaded = false;
            }
        }
        if !slot.loaded {
            slot.seq = self.hub.store.doc_seq(&id).map_err(storage)?;
            if let Some((bytes, units, appended)) = self.hub.store.load_doc(&id).map_err(storage)? {
                match lianxin_shared::load_document(&bytes) {
                    Ok(doc) => {
                        slot.access = lianxin_shared::Kind::of(&doc)
                            .map_or(Default::default(), |k| k.access());
                        slot.doc = Some(doc);
                        slot.units = units;
                        slot.appended = appended;
                        slot.size = bytes.len();
                    }
                    Err(e) => {
                        tracing::error!(doc = %id, "stored document does not load: {e}");
                        let reason = "this case cannot be read on the server; an administrator has been told";
                        return Ok(self.refuse(way, id, reason, data, now_ms));
                    }
                }
            }
            slot.loaded = true;
        }
        if slot.doc.is_some() && !self.may_see(slot.access, &slot.units) {
            let reason = format!("case {} is not visible to you", id.short());
            return Ok(self.refuse(way, id, &reason, data, now_ms));
        }
        // A push starts from heads the device says the server confirmed: when this copy does
        // not hold them all, nothing is taken and the device syncs the full way.
        if let Way::Push(since, _) = way {
            let known = slot
                .doc
                .as_ref()
                .map_or(since.is_empty(), |d| lianxin_shared::push::knows(d, since));
            if !known {
                return Ok(Answer::Push(PushOutcome::Unknown));
            }
        }
        let state = match way {
            Way::Sync => self.sync_states.entry(id).or_default().clone(),
            Way::Push(..) => am_sync::State::new(),
        };
        let actor = match automerge::ActorId::try_from(self.user.actor.as_str()) {
            Ok(a) => a,
            Err(_) => {
                return Err(Fatal("this device's registered key is unreadable".into()).into());
            }
        };
        let limit = (*budget).min(protocol::MAX_INFLATED_ITEM);
        let empty = AutoCommit::new();
        let current = slot.doc.as_ref().unwrap_or(&empty);
        let checked = match check_incoming(current, &state, data, id, &actor, limit) {
            Ok(c) => c,
            Err(refusal) => return Ok(self.refuse(way, id, &refusal.to_string(), data, now_ms)),
        };
        *budget = budget.saturating_sub(checked.inflated);
        let missing = checked.missing.clone();
        if matches!(way, Way::Push(..)) && !missing.is_empty() {
            // The pushed changes depend on changes neither side sent: the full way sorts it out.
            return Ok(Answer::Push(PushOutcome::Unknown));
        }
        // Where the pushed changes start, for a push that leaves it to the server.
        let start = lianxin_shared::push::boundary(&checked.changes);
        let brought: Vec<automerge::ChangeHash> = checked
            .changes
            .iter()
            .map(automerge::Change::hash)
            .collect();
        if !checked.changes.is_empty() {
            let Some(after) = &checked.after else {
                let reason = Refusal::Schema("no header".into()).to_string();
                return Ok(self.refuse(way, id, &reason, data, now_ms));
            };
            // The server is the authority: the role, the authorship and nothing erased, from
            // the document before and after (DOMAIN.md "Who may do what").
            let Some(kind) = lianxin_shared::Kind::from_name(&after.kind) else {
                return Ok(self.refuse(way, id, "unknown document kind", data, now_ms));
            };
            if let Some(reason) = self.forbidden(
                kind.access(),
                checked.before.as_ref().map(|h| &h.units[..]),
                &after.units,
            ) {
                return Ok(self.refuse(way, id, &reason, data, now_ms));
            }
            if let Some(reason) = misplaced(kind, &checked.doc, &id) {
                return Ok(self.refuse(way, id, &reason, data, now_ms));
            }
            let signer = authority::Signer {
                user: self.user.username.clone(),
                role: self.user.role,
                now_ms,
            };
            let before = checked.before.is_some().then_some(current);
            if let Err(reason) = authority::judge_times(&checked.changes, &signer)
                .and_then(|()| authority::judge(before, &checked.doc, kind, &signer))
            {
                return Ok(self.refuse(way, id, &reason, data, now_ms));
            }
            let what = authority::touched(before, &checked.doc, kind);
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
                return Ok(self.refuse(way, id, &reason, data, now_ms));
            }
            let compacted = snapshot.is_some();
            let units = after.units.clone();
            let started = std::time::Instant::now();
            let stored = self.hub.store.append_changes(
                &id,
                &units,
                kind.access(),
                &raw,
                &heads,
                snapshot.as_deref(),
                Some(&crate::store::Received {
                    user: &self.user.username,
                    actor: &self.user.actor,
                    at: now_ms,
                    what: &what,
                }),
                crate::store::Expect::Seq(slot.seq),
            );
            crate::metrics::store_write(started.elapsed());
            let seq = match stored {
                Ok(seq) => {
                    crate::metrics::CHANGES_STORED.inc();
                    seq
                }
                Err(StoreError::Stale) => {
                    crate::metrics::STALE_RETRIES.inc();
                    slot.loaded = false;
                    return Err(ItemError::Stale);
                }
                Err(e) => return Err(storage(e).into()),
            };
            slot.seq = Some(seq);
            slot.appended = if compacted { 0 } else { appended };
            slot.size = size;
            slot.units = units;
            slot.access = kind.access();
            slot.doc = Some(doc);
            (self.hub.notify)(Notice {
                doc: id,
                heads,
                units: slot.units.clone(),
                access: slot.access,
                origin: self.id,
            });
        }
        let since = match way {
            Way::Push(since, pushed) if since.is_empty() && pushed > 0 => {
                if brought.is_empty() {
                    // Every pushed change was here already (its answer was lost): where they
                    // started is unknown here; the full way finds out what the device lacks.
                    return Ok(Answer::Push(PushOutcome::Unknown));
                }
                start
            }
            Way::Push(since, _) => since.to_vec(),
            Way::Sync => {
                let state = self.sync_states.entry(id).or_default();
                *state = checked.state;
                // For a document the server does not have, answer as an empty document would:
                // that tells a device pushing a new case to send its changes, and tells anyone
                // else nothing.
                let mut empty = AutoCommit::new();
                let doc = slot.doc.as_mut().unwrap_or(&mut empty);
                let reply = lianxin_shared::reply(doc, state, &missing);
                return Ok(Answer::Sync(Reply {
                    doc: id,
                    outcome: Outcome::Sync(reply),
                }));
            }
        };
        // A full-way conversation about this document, if one comes later, starts afresh.
        self.sync_states.remove(&id);
        let mut known = brought;
        if let Some(sent) = self.opened.get(&id) {
            known.extend(sent.iter().copied());
        }
        let lacking = match slot.doc.as_mut() {
            Some(doc) => lianxin_shared::push::lacking(doc, &since, &known),
            None => Vec::new(),
        };
        Ok(Answer::Push(PushOutcome::Taken(lacking)))
    }

    /// Why this user may not write a document with these units, if they may not.
    fn forbidden(
        &self,
        access: lianxin_shared::Access,
        before: Option<&[UnitId]>,
        after: &[UnitId],
    ) -> Option<String> {
        if let Some(unknown) = after
            .iter()
            .find(|u| !self.directory.iter().any(|d| d.id == u.as_str()))
        {
            return Some(format!("unknown unit {unknown}"));
        }
        let owner = before.unwrap_or(after);
        // Everyone may have the reference data; only the administrator writes it (the role
        // check below), so the rule here is the ordinary one.
        let access = match access {
            lianxin_shared::Access::Everyone => lianxin_shared::Access::Units,
            other => other,
        };
        if !self.may_see(access, owner) {
            let units: Vec<&str> = owner.iter().map(UnitId::as_str).collect();
            return Some(format!(
                "units {} are not yours to change",
                units.join(", ")
            ));
        }
        None
    }

    fn refuse(&self, way: Way<'_>, id: DocId, reason: &str, data: &[u8], now_ms: i64) -> Answer {
        // A reason may quote what the device sent (a key's name); it is kept short.
        let reason: String = match reason.char_indices().nth(400) {
            Some((cut, _)) => format!("{}…", &reason[..cut]),
            None => reason.to_string(),
        };
        tracing::warn!(user = %self.user.username, doc = %id.short(), "refused: {reason}");
        crate::metrics::REFUSALS.inc();
        if let Err(e) = self.hub.store.quarantine(
            &self.user.username,
            &self.user.actor,
            &id.to_string(),
            &reason,
            data,
            now_ms,
        ) {
            tracing::error!("cannot keep a refused change aside: {e}");
        }
        Answer::refused(way, id, reason)
    }
}

/// Why a document is not where it claims to be: a case's details document lives only under the
/// id worked out from its case's ([`DocId::details_of`]), so no device can make a second one
/// or attach details to another case.
fn misplaced(kind: lianxin_shared::Kind, doc: &AutoCommit, id: &DocId) -> Option<String> {
    if kind != lianxin_shared::Kind::Details {
        return None;
    }
    let details = lianxin_shared::DetailsDoc::from_doc(doc.clone())
        .and_then(|d| d.read())
        .ok()?;
    match details.case {
        Some(case) if DocId::details_of(&case) == *id => None,
        _ => Some("personal details belong under their case's details id".into()),
    }
}

/// About how many bytes a push's answer takes in a frame.
fn pushed_size(answer: &Pushed) -> usize {
    match &answer.outcome {
        PushOutcome::Taken(changes) => changes.iter().map(Vec::len).sum(),
        PushOutcome::Unknown => 0,
        PushOutcome::Refused(reason) => reason.len(),
    }
}

/// The most heads a push may start from (a document's heads are as many as the devices that
/// wrote it concurrently; a handful in practice).
const MAX_PUSH_HEADS: usize = 256;

/// About how many bytes a reply takes in a frame.
fn reply_size(reply: &Reply) -> usize {
    match &reply.outcome {
        Outcome::Sync(Some(data)) => data.len(),
        Outcome::Sync(None) => 0,
        Outcome::Refused(reason) => reason.len(),
    }
}
