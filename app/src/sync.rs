//! The browser's sync transport: one WebSocket to `/api/sync` driving the shared
//! [`DeviceSession`], reconnecting with backoff when the network goes.
//!
//! Every document that changes is written to IndexedDB ([`crate::store`]) after each frame,
//! with its caseload row, and with the cursor once the session has settled.
//!
//! Documents restored from the store are loaded lazily: at start-up only the rows are needed
//! to show the caseload. The documents' bytes are then read from the store a slice at a time
//! ([`Engine::read_stored`], the caseload already on screen; one opened meanwhile is read on
//! its own at once), and each is turned into an Automerge document when it is opened, edited
//! or synced (or at once, if it holds edits the server has not confirmed). The engine
//! connects only once every stored document has been read.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::{Rc, Weak};

use automerge::ActorId;
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, DetailsRow, StoredRow};
use lianxin_shared::{Case, CaseDoc, DetailsDoc, DeviceSession, DocId, Replica};
use lianxin_shared::{Dispute, DisputeDoc};
use lianxin_shared::{Reception, ReceptionDoc};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::store::{Db, StoredDoc};

mod start;

/// What the local store held at start-up.
pub struct Restored {
    pub rows: HashMap<DocId, StoredRow>,
    /// Rows written one by one since the store last packed them.
    pub written: usize,
    pub cursor: u64,
    /// The holiday calendar differs from the one the rows were worked out with.
    pub calendar_changed: bool,
}

/// A stored document not loaded yet: its saved bytes and sync state.
type Saved = (Vec<u8>, Vec<u8>);

/// What the sync indicator shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Offline,
    Syncing,
    Synced,
    /// The server ended the session (expired, revoked, signed out elsewhere): the edits stay
    /// here, sealed, until the user signs in again.
    SignIn,
}

/// Called when the status changes or documents arrive.
pub type Listener = Rc<dyn Fn(Status, bool)>;

pub struct Engine {
    me: Weak<Engine>,
    pub actor: ActorId,
    /// The holiday calendar from the last login, for deadlines.
    pub calendar: Calendar,
    db: Option<Db>,
    dirty: RefCell<HashSet<DocId>>,
    /// Documents that arrived whole and have not changed since: the bytes as the server sent
    /// them, with their heads, stored as they are instead of saved again.
    fresh: RefCell<HashMap<DocId, (Vec<u8>, Vec<automerge::ChangeHash>)>>,
    /// Documents that arrived whole with their heads and rows ([`lianxin_shared::Task::Snapshot`]
    /// after an open asking for rows): kept as bytes, never loaded, and written as they came
    /// with their rows at the next persist.
    arrived: RefCell<Vec<(StoredDoc, (String, Vec<u8>))>>,
    replicas: RefCell<HashMap<DocId, Replica>>,
    /// Stored documents not loaded yet: saved bytes and sync state.
    unloaded: RefCell<HashMap<DocId, Saved>>,
    /// The caseload line of every case this device holds.
    pub rows: RefCell<HashMap<DocId, StoredRow>>,
    cursor: RefCell<u64>,
    token: RefCell<String>,
    /// No more connecting: the session ended, or the tablet is being locked or signed out.
    stopped: RefCell<bool>,
    /// The server ended the session: edits wait for the user to sign in again.
    ended: RefCell<bool>,
    listener: Listener,
    socket: RefCell<Option<WebSocket>>,
    /// The open session, while connected: local edits go up at once through it.
    live: RefCell<Option<Rc<RefCell<DeviceSession>>>>,
    backoff_ms: RefCell<i32>,
    /// The stored documents are still being read (start-up): no connecting yet, and a
    /// document asked for is read from the store on its own.
    loading: RefCell<bool>,
    /// Documents being read on their own while loading.
    fetching: RefCell<HashSet<DocId>>,
    /// Told when one of them is there: the screens read again.
    on_fetched: RefCell<Option<Rc<dyn Fn()>>>,
    calendar_changed: bool,
    /// Rows written one by one since the last pack.
    unpacked: RefCell<usize>,
}

impl Engine {
    /// An engine holding the rows restored from the local store; with a store, the
    /// documents follow through [`Engine::read_stored`].
    pub fn new(
        actor: ActorId,
        token: String,
        listener: Listener,
        db: Option<Db>,
        restored: Restored,
        calendar: Calendar,
    ) -> Rc<Engine> {
        let Restored {
            rows,
            written,
            cursor,
            calendar_changed,
        } = restored;
        let loading = db.is_some();
        Rc::new_cyclic(|me| Engine {
            me: me.clone(),
            actor,
            calendar,
            db,
            dirty: RefCell::new(HashSet::new()),
            fresh: RefCell::new(HashMap::new()),
            arrived: RefCell::new(Vec::new()),
            replicas: RefCell::new(HashMap::new()),
            unloaded: RefCell::new(HashMap::new()),
            rows: RefCell::new(rows),
            cursor: RefCell::new(cursor),
            token: RefCell::new(token),
            stopped: RefCell::new(false),
            ended: RefCell::new(false),
            listener,
            socket: RefCell::new(None),
            live: RefCell::new(None),
            backoff_ms: RefCell::new(1000),
            loading: RefCell::new(loading),
            fetching: RefCell::new(HashSet::new()),
            on_fetched: RefCell::new(None),
            calendar_changed,
            unpacked: RefCell::new(written),
        })
    }

    /// Turns a stored document into a replica, if it is not one yet.
    fn load(&self, replicas: &mut HashMap<DocId, Replica>, id: DocId) {
        if replicas.contains_key(&id) {
            return;
        }
        let Some((doc, state)) = self.unloaded.borrow_mut().remove(&id) else {
            return;
        };
        match Replica::restore(&doc, Some(&state), self.actor.clone()) {
            Ok(r) => {
                replicas.insert(id, r);
            }
            Err(e) => {
                web_sys::console::warn_1(
                    &format!("stored case {} unreadable: {e}", id.short()).into(),
                );
                self.rows.borrow_mut().remove(&id);
            }
        }
    }

    /// One case, hydrated, loading it first if needed.
    pub fn read(&self, id: DocId) -> Option<Case> {
        let mut replicas = self.replicas.borrow_mut();
        let details = DocId::details_of(&id);
        self.load_or_fetch(&mut replicas, &[id, details]);
        let replica = replicas.get(&id)?;
        let mut case = CaseDoc::from_doc(replica.doc.clone())
            .and_then(|c| c.read())
            .ok()?;
        // In full only where this device has the details (its user's unit handles the case).
        if let Some(d) = replicas.get(&details).and_then(|r| {
            DetailsDoc::from_doc(r.doc.clone())
                .and_then(|d| d.read())
                .ok()
        }) {
            case.with_details(&d);
        }
        Some(case)
    }

    /// The first unit of a document's header (the unit that recorded it).
    pub fn unit_of(&self, id: DocId) -> Option<lianxin_shared::UnitId> {
        let mut replicas = self.replicas.borrow_mut();
        self.load_or_fetch(&mut replicas, &[id]);
        let header = lianxin_shared::Header::of(&replicas.get(&id)?.doc).ok()?;
        header.units.first().cloned()
    }

    /// Whether this device holds the case's personal details.
    pub fn has_details(&self, id: DocId) -> bool {
        let details = DocId::details_of(&id);
        self.replicas.borrow().contains_key(&details)
            || self.unloaded.borrow().contains_key(&details)
    }

    /// [`Engine::edit`] of a case together with its personal details (None on a device that
    /// does not have them; set both to make a new case).
    pub fn edit_with_details<T>(
        &self,
        id: DocId,
        f: impl FnOnce(
            &mut Option<CaseDoc>,
            &mut Option<DetailsDoc>,
        ) -> Result<T, lianxin_shared::Error>,
    ) -> Result<T, String> {
        let details_id = DocId::details_of(&id);
        let out = {
            let mut replicas = self.replicas.borrow_mut();
            self.load_or_fetch(&mut replicas, &[id, details_id]);
            self.not_read_yet(&replicas, id)?;
            self.not_read_yet(&replicas, details_id)?;
            let mut case = match replicas.get(&id) {
                Some(r) => Some(CaseDoc::from_doc(r.doc.clone()).map_err(|e| e.to_string())?),
                None => None,
            };
            let mut details = match replicas.get(&details_id) {
                Some(r) => Some(DetailsDoc::from_doc(r.doc.clone()).map_err(|e| e.to_string())?),
                None => None,
            };
            let out = f(&mut case, &mut details).map_err(|e| e.to_string())?;
            let docs = [
                (id, case.map(CaseDoc::into_doc)),
                (details_id, details.map(DetailsDoc::into_doc)),
            ];
            for (doc_id, doc) in docs {
                let Some(doc) = doc else { continue };
                match replicas.get_mut(&doc_id) {
                    Some(r) => r.doc = doc,
                    None => {
                        replicas.insert(doc_id, Replica::new(doc));
                    }
                }
            }
            out
        };
        self.edited(&[id, details_id]);
        Ok(out)
    }

    /// Opens the socket; on close, tries again later (1 s, doubling to 60 s).
    pub fn connect(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let host = location.host().unwrap_or_default();
        let scheme = if location.protocol().unwrap_or_default() == "https:" {
            "wss"
        } else {
            "ws"
        };
        // Not while the stored documents are still being read (start-up calls it after).
        if *self.stopped.borrow() || *self.loading.borrow() {
            return;
        }
        // The token goes in the first frame, never in the URL.
        let url = format!("{scheme}://{host}/api/sync");
        let Ok(ws) = WebSocket::new(&url) else {
            self.retry_later();
            return;
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let session = Rc::new(RefCell::new(DeviceSession::default()));
        (self.listener)(Status::Syncing, false);

        let engine = self.clone();
        let opened_session = session.clone();
        let socket = ws.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            *engine.backoff_ms.borrow_mut() = 1000;
            let (s, hello) = DeviceSession::open(*engine.cursor.borrow());
            *opened_session.borrow_mut() = s;
            let auth =
                lianxin_shared::protocol::encode(&lianxin_shared::protocol::ClientMessage::Auth {
                    token: engine.token.borrow().clone(),
                });
            let _ = socket.send_with_u8_array(&auth);
            let _ = socket.send_with_u8_array(&hello);
            let mut session = opened_session.borrow_mut();
            for (id, replica) in engine.replicas.borrow_mut().iter_mut() {
                replica.new_connection();
                if !replica.is_confirmed() {
                    session.push(*id, replica);
                }
            }
            for frame in session.take_frames() {
                let _ = socket.send_with_u8_array(&frame);
            }
            drop(session);
            *engine.live.borrow_mut() = Some(opened_session.clone());
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let engine = self.clone();
        let socket = ws.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
            let mut session = session.borrow_mut();
            let start = crate::perf::now();
            let received = session.receive(&bytes);
            crate::perf::add("sync: frame decoded", start);
            let tasks = match received {
                Ok(tasks) => tasks,
                Err(lianxin_shared::Error::SessionEnded(reason)) => {
                    web_sys::console::warn_1(&format!("sync: session ended: {reason}").into());
                    *engine.stopped.borrow_mut() = true;
                    *engine.ended.borrow_mut() = true;
                    let _ = socket.close();
                    (engine.listener)(Status::SignIn, false);
                    return;
                }
                Err(e) => {
                    web_sys::console::warn_1(&format!("sync: {e}").into());
                    let _ = socket.close();
                    return;
                }
            };
            let mut changed = false;
            let mut gone = Vec::new();
            let start = crate::perf::now();
            {
                let mut replicas = engine.replicas.borrow_mut();
                for task in tasks {
                    let id = task.doc();
                    if let lianxin_shared::Task::Gone { .. } = task {
                        // Taken away from this user's units: not kept on this tablet.
                        let _ = session.handle(&task, &mut Replica::empty(engine.actor.clone()));
                        replicas.remove(&id);
                        engine.unloaded.borrow_mut().remove(&id);
                        engine.fresh.borrow_mut().remove(&id);
                        engine.rows.borrow_mut().remove(&id);
                        engine.dirty.borrow_mut().remove(&id);
                        gone.push(id.to_string());
                        changed = true;
                        continue;
                    }
                    let Some(task) = engine.take_arrived(&replicas, task) else {
                        changed = true;
                        continue;
                    };
                    engine.load(&mut replicas, id);
                    let replica = replicas
                        .entry(id)
                        .or_insert_with(|| Replica::empty(engine.actor.clone()));
                    let was_confirmed = replica.is_confirmed();
                    // Kept only where there is a store to write them to (persist takes them).
                    let whole = match &task {
                        lianxin_shared::Task::Snapshot { bytes, .. }
                            if replica.is_empty() && engine.db.is_some() =>
                        {
                            Some(bytes.clone())
                        }
                        _ => None,
                    };
                    match session.handle(&task, replica) {
                        Ok(stored) => {
                            if let Some(bytes) = whole {
                                let heads = replica.doc.get_heads();
                                engine.fresh.borrow_mut().insert(id, (bytes, heads));
                            }
                            if stored {
                                changed = true;
                            }
                            // A confirmation changes the kept sync state and the row's
                            // "waiting" mark, so it is stored too.
                            if stored || replica.is_confirmed() != was_confirmed {
                                engine.dirty.borrow_mut().insert(id);
                            }
                        }
                        Err(e) => {
                            web_sys::console::warn_1(&format!("sync {}: {e}", id.short()).into())
                        }
                    }
                }
            }
            crate::perf::add("sync: frame applied", start);
            if !gone.is_empty()
                && let Some(db) = &engine.db
            {
                *engine.unpacked.borrow_mut() += gone.len();
                db.drop_docs(std::mem::take(&mut gone));
            }
            for frame in session.take_frames() {
                let _ = socket.send_with_u8_array(&frame);
            }
            let settled = session.is_settled();
            if settled {
                *engine.cursor.borrow_mut() = session.cursor();
            }
            crate::perf::timed("sync: persist (rows, saves)", || {
                engine.persist(settled.then(|| session.cursor()))
            });
            (engine.listener)(
                if settled {
                    Status::Synced
                } else {
                    Status::Syncing
                },
                changed,
            );
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        let engine = self.clone();
        let on_close = Closure::<dyn FnMut()>::new(move || {
            engine.live.borrow_mut().take();
            engine.socket.borrow_mut().take();
            if *engine.stopped.borrow() {
                return;
            }
            (engine.listener)(Status::Offline, false);
            engine.retry_later();
        });
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
        *self.socket.borrow_mut() = Some(ws);
    }

    /// Keeps a document that arrived whole with its heads and row, new to this tablet, as it
    /// came: its bytes (not loaded), the heads marked confirmed, its row in the caseload;
    /// written at the next persist. Any other task comes back (as does one whose row does not
    /// read, or for a document the tablet holds), to be handled the usual way.
    fn take_arrived(
        &self,
        replicas: &HashMap<DocId, Replica>,
        task: lianxin_shared::Task,
    ) -> Option<lianxin_shared::Task> {
        let lianxin_shared::Task::Snapshot {
            doc,
            bytes,
            heads,
            row: Some(row),
        } = task
        else {
            return Some(task);
        };
        let held = replicas.contains_key(&doc) || self.unloaded.borrow().contains_key(&doc);
        let usable = !heads.is_empty() && self.db.is_some() && !held;
        let read = usable
            .then(|| lianxin_shared::unpack_rows(&row)?.into_iter().next())
            .flatten()
            .filter(|(id, _)| *id == doc);
        let Some((_, stored)) = read else {
            let row = Some(row);
            return Some(lianxin_shared::Task::Snapshot {
                doc,
                bytes,
                heads,
                row,
            });
        };
        let state = Replica::confirmed_state(&heads);
        self.rows.borrow_mut().insert(doc, stored);
        self.unloaded
            .borrow_mut()
            .insert(doc, (bytes.clone(), state.clone()));
        self.arrived
            .borrow_mut()
            .push(((doc.to_string(), bytes, state), (doc.to_string(), row)));
        None
    }

    /// Applies a local edit to one case (or creates it), stores it, and sends it at once if
    /// connected; offline it waits, unconfirmed, for the next connection.
    pub fn edit<T>(
        &self,
        id: DocId,
        f: impl FnOnce(&mut Option<CaseDoc>) -> Result<T, lianxin_shared::Error>,
    ) -> Result<T, String> {
        self.edit_doc(id, CaseDoc::from_doc, CaseDoc::into_doc, f)
    }

    /// [`Engine::edit`] for a mediation dispute.
    pub fn edit_dispute<T>(
        &self,
        id: DocId,
        f: impl FnOnce(&mut Option<DisputeDoc>) -> Result<T, lianxin_shared::Error>,
    ) -> Result<T, String> {
        self.edit_doc(id, DisputeDoc::from_doc, DisputeDoc::into_doc, f)
    }

    /// [`Engine::edit`] for a leader's reception day.
    pub fn edit_reception<T>(
        &self,
        id: DocId,
        f: impl FnOnce(&mut Option<ReceptionDoc>) -> Result<T, lianxin_shared::Error>,
    ) -> Result<T, String> {
        self.edit_doc(id, ReceptionDoc::from_doc, ReceptionDoc::into_doc, f)
    }

    /// One reception day, hydrated, loading it first if needed.
    pub fn read_reception(&self, id: DocId) -> Option<Reception> {
        let mut replicas = self.replicas.borrow_mut();
        self.load_or_fetch(&mut replicas, &[id]);
        let replica = replicas.get(&id)?;
        ReceptionDoc::from_doc(replica.doc.clone())
            .and_then(|r| r.read())
            .ok()
    }

    /// One dispute, hydrated, loading it first if needed.
    pub fn read_dispute(&self, id: DocId) -> Option<Dispute> {
        let mut replicas = self.replicas.borrow_mut();
        self.load_or_fetch(&mut replicas, &[id]);
        let replica = replicas.get(&id)?;
        DisputeDoc::from_doc(replica.doc.clone())
            .and_then(|d| d.read())
            .ok()
    }

    fn edit_doc<W, T>(
        &self,
        id: DocId,
        wrap: impl Fn(automerge::AutoCommit) -> Result<W, lianxin_shared::Error>,
        unwrap: impl Fn(W) -> automerge::AutoCommit,
        f: impl FnOnce(&mut Option<W>) -> Result<T, lianxin_shared::Error>,
    ) -> Result<T, String> {
        let out = {
            let mut replicas = self.replicas.borrow_mut();
            self.load_or_fetch(&mut replicas, &[id]);
            self.not_read_yet(&replicas, id)?;
            // The edit works on a copy, written back only if it succeeds: a refused edit
            // leaves the stored document as it was.
            let mut doc = match replicas.get(&id) {
                Some(r) => Some(wrap(r.doc.clone()).map_err(|e| e.to_string())?),
                None => None,
            };
            let out = f(&mut doc).map_err(|e| e.to_string())?;
            if let Some(doc) = doc {
                match replicas.get_mut(&id) {
                    Some(r) => r.doc = unwrap(doc),
                    None => {
                        replicas.insert(id, Replica::new(unwrap(doc)));
                    }
                }
            }
            out
        };
        self.edited(&[id]);
        Ok(out)
    }

    /// After an edit of these documents: their rows redone and stored, and pushed if live.
    fn edited(&self, ids: &[DocId]) {
        self.dirty.borrow_mut().extend(ids.iter().copied());
        self.persist(None);
        let live = self.live.borrow().clone();
        let socket = self.socket.borrow().clone();
        if let (Some(session), Some(socket)) = (live, socket) {
            let mut session = session.borrow_mut();
            for id in ids {
                if let Some(replica) = self.replicas.borrow_mut().get_mut(id) {
                    session.push(*id, replica);
                }
            }
            for frame in session.take_frames() {
                let _ = socket.send_with_u8_array(&frame);
            }
            (self.listener)(Status::Syncing, true);
        } else if *self.ended.borrow() {
            (self.listener)(Status::SignIn, true);
        } else {
            (self.listener)(Status::Offline, true);
        }
    }

    /// How many cases hold edits the server has not confirmed.
    pub fn waiting(&self) -> usize {
        self.rows.borrow().values().filter(|r| r.waiting()).count()
    }

    /// Brings the rows of the documents changed since the last write up to date and writes
    /// documents and rows (and the cursor, if given) to the local store, in one transaction.
    fn persist(&self, cursor: Option<u64>) {
        let dirty: Vec<DocId> = self.dirty.borrow_mut().drain().collect();
        let arrived = std::mem::take(&mut *self.arrived.borrow_mut());
        if dirty.is_empty() && arrived.is_empty() && cursor.is_none() {
            return;
        }
        let (limits, calendar) = (Limits::default(), &self.calendar);
        let mut docs: Vec<StoredDoc> = Vec::with_capacity(dirty.len() + arrived.len());
        let mut rows = Vec::with_capacity(dirty.len() + arrived.len());
        for (doc, row) in arrived {
            docs.push(doc);
            rows.push(row);
        }
        {
            let mut replicas = self.replicas.borrow_mut();
            let mut index = self.rows.borrow_mut();
            // A case's row carries digests of its details: when only the details changed,
            // the case's row is redone too. (The details of a case changed with them need not
            // be read for it: in a first sync, that is every one.)
            let mut dirty = dirty;
            for id in &dirty {
                self.load(&mut replicas, *id);
            }
            let with_their_case: HashSet<DocId> = dirty.iter().map(DocId::details_of).collect();
            // Details read once here serve both their case's row and their own (by the
            // details' id; an error kept as no row, as before).
            let mut details_read: HashMap<DocId, Result<Option<lianxin_shared::Details>, ()>> =
                HashMap::new();
            let mut cases = Vec::new();
            for id in dirty.iter().filter(|id| !with_their_case.contains(id)) {
                let Some(r) = replicas.get(id) else { continue };
                let read = AnyDoc::details_in(&r.doc).map_err(|_| ());
                if let Ok(Some(details)) = &read {
                    if let Some(case) = details.case.filter(|case| !dirty.contains(case)) {
                        cases.push(case);
                    }
                    details_read.insert(*id, read);
                }
            }
            dirty.extend(cases);
            for id in &dirty {
                self.load(&mut replicas, DocId::details_of(id));
            }
            // Cases before the details that came with them, so that those are read once.
            dirty.sort_by_key(|id| with_their_case.contains(id));
            // Whole documents stored as they came and confirmed: kept as bytes, not in memory
            // (a first sync brings thousands), loaded again when opened or synced.
            let mut evict: Vec<(DocId, Saved)> = Vec::new();
            for id in &dirty {
                // The details are read in place; the document's own replica is taken out of
                // the map while its row is made (and put back at once).
                let Some(mut r) = replicas.remove(id) else {
                    continue;
                };
                let details_id = DocId::details_of(id);
                let details = replicas.get(&details_id).map(|d| &d.doc);
                let pending = !r.is_confirmed();
                if self.db.is_some() {
                    let start = crate::perf::now();
                    let saved = match self.fresh.borrow_mut().remove(id) {
                        Some((bytes, heads)) if heads == r.doc.get_heads() => {
                            if !pending {
                                evict.push((*id, (bytes.clone(), r.state_bytes())));
                            }
                            bytes
                        }
                        _ => r.doc.save(),
                    };
                    docs.push((id.to_string(), saved, r.state_bytes()));
                    crate::perf::add("persist: document saved", start);
                }
                let start = crate::perf::now();
                // A document still arriving (no header yet) has no row.
                let row = if let Some(Ok(Some(read))) = details_read.get(id) {
                    // Details read already (for their case, or as changed alone).
                    Some(StoredRow::Details(DetailsRow::of(read)))
                } else {
                    // The case's details, read once (unreadable details: no row, as before).
                    let read = match details {
                        Some(details) => details_read
                            .entry(details_id)
                            .or_insert_with(|| AnyDoc::details_in(details).map_err(|_| ()))
                            .as_ref()
                            .ok()
                            .map(Option::as_ref),
                        None => Some(None),
                    };
                    read.and_then(|read| AnyDoc::row_of_read(&r.doc, read, &limits, calendar).ok())
                };
                crate::perf::add("persist: row made", start);
                replicas.insert(*id, r);
                if let Some(mut row) = row {
                    row.set_pending(pending);
                    if let Ok(one) = lianxin_shared::pack_rows([(id, &row)]) {
                        rows.push((id.to_string(), one));
                    }
                    index.insert(*id, row);
                }
            }
            let mut unloaded = self.unloaded.borrow_mut();
            for (id, saved) in evict {
                replicas.remove(&id);
                unloaded.insert(id, saved);
            }
        }
        if let Some(db) = &self.db {
            *self.unpacked.borrow_mut() += rows.len();
            db.put_docs(docs, rows, cursor);
            if cursor.is_some() {
                self.pack_if_needed();
            }
        }
    }

    /// A new session (signed in again after the old one ended): connect with it.
    pub fn resume(self: &Rc<Self>, token: String) {
        *self.token.borrow_mut() = token;
        *self.stopped.borrow_mut() = false;
        *self.ended.borrow_mut() = false;
        *self.backoff_ms.borrow_mut() = 1000;
        self.connect();
    }

    /// Stops syncing (lock, sign-out): closes the socket and does not reconnect.
    pub fn stop(&self) {
        *self.stopped.borrow_mut() = true;
        if let Some(ws) = self.socket.borrow_mut().take() {
            let _ = ws.close();
        }
        self.live.borrow_mut().take();
    }

    /// Waits until every write to the local store has committed.
    pub async fn flushed(&self) {
        if let Some(db) = &self.db {
            db.flushed().await;
        }
    }

    /// The local store, if this browser has one.
    pub fn store(&self) -> Option<Db> {
        self.db.clone()
    }

    /// Closes the local store (before it is deleted at sign-out).
    pub fn close_store(&self) {
        if let Some(db) = &self.db {
            db.close();
        }
    }

    pub fn token(&self) -> String {
        self.token.borrow().clone()
    }

    fn retry_later(self: &Rc<Self>) {
        let delay = *self.backoff_ms.borrow();
        *self.backoff_ms.borrow_mut() = (delay * 2).min(60_000);
        if *self.stopped.borrow() {
            return;
        }
        let engine = self.clone();
        gloo_timers::callback::Timeout::new(delay.max(0) as u32, move || engine.connect()).forget();
    }
}
