//! The device's side of the sync engine: a session state machine over frames.
//!
//! It does no IO. A shell (the command-line device, the browser app, a test) opens a
//! connection, sends [`DeviceSession::hello`], feeds every frame it receives to
//! [`DeviceSession::receive`], carries out the returned [`Task`]s with
//! [`DeviceSession::handle`] on the document each names (loading and storing it however it
//! stores documents), and sends what [`DeviceSession::take_frames`] gives. When
//! [`DeviceSession::is_settled`] says so, every document is in sync and
//! [`DeviceSession::cursor`] is the cursor to keep for next time.

use automerge::{ActorId, AutoCommit, ChangeHash, sync, sync::SyncDoc};

use crate::protocol::{self, ClientMessage, Outcome, PushOutcome, ServerMessage, SyncItem};
use crate::{DocId, Error};

/// A document and its sync state towards the server.
#[derive(Debug)]
pub struct Replica {
    pub doc: AutoCommit,
    pub state: sync::State,
}

impl Replica {
    /// A document this device does not have yet.
    pub fn empty(actor: ActorId) -> Replica {
        Replica {
            doc: AutoCommit::new().with_actor(actor),
            state: sync::State::new(),
        }
    }

    pub fn new(doc: AutoCommit) -> Replica {
        Replica {
            doc,
            state: sync::State::new(),
        }
    }

    /// Restores a stored document and the sync state kept with it.
    pub fn restore(doc: &[u8], state: Option<&[u8]>, actor: ActorId) -> Result<Replica, Error> {
        let doc = crate::kit::cells::load_document(doc)?.with_actor(actor);
        let state = match state {
            Some(bytes) => {
                sync::State::decode(bytes).map_err(|e| Error::Automerge(e.to_string()))?
            }
            None => sync::State::new(),
        };
        Ok(Replica { doc, state })
    }

    /// Forgets what belonged to the last connection (messages in flight, what the peer was
    /// last told), keeping what the server confirmed. Call it for every replica kept in
    /// memory when a new connection opens; otherwise Automerge may wait for an answer that
    /// will never come on the new connection.
    pub fn new_connection(&mut self) {
        if let Ok(state) = sync::State::decode(&self.state.encode()) {
            self.state = state;
        }
    }

    /// The sync state to keep with a document stored as the server sent it, without loading
    /// it: the server holds at least `heads`, the heads of the bytes it sent.
    pub fn confirmed_state(heads: &[ChangeHash]) -> Vec<u8> {
        let mut state = sync::State::new();
        state.shared_heads = heads.to_vec();
        state.encode()
    }

    /// The part of the sync state worth keeping across connections.
    pub fn state_bytes(&self) -> Vec<u8> {
        self.state.encode()
    }

    /// True when the server has confirmed it holds everything this replica holds.
    pub fn is_confirmed(&mut self) -> bool {
        same_heads(&self.state.shared_heads, &self.doc.get_heads())
    }

    pub fn is_empty(&mut self) -> bool {
        self.doc.get_heads().is_empty()
    }

    fn receive(&mut self, data: &[u8]) -> Result<(), Error> {
        let message = sync::Message::decode(data)
            .map_err(|e| Error::Protocol(format!("bad sync message: {e}")))?;
        self.doc
            .sync()
            .receive_sync_message(&mut self.state, message)?;
        Ok(())
    }

    fn generate(&mut self) -> Option<Vec<u8>> {
        self.doc
            .sync()
            .generate_sync_message(&mut self.state)
            .map(|m| m.encode())
    }

    fn take_snapshot(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.is_empty() {
            let actor = self.doc.get_actor().clone();
            self.doc = crate::kit::cells::load_document(bytes)?.with_actor(actor);
            // The server holds at least this much.
            self.state.shared_heads = self.doc.get_heads();
        } else {
            self.doc.load_incremental(bytes)?;
        }
        Ok(())
    }
}

fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

/// Work the shell must do on one document, then hand back to [`DeviceSession::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// A whole document the device did not have. After [`DeviceSession::open`], with the
    /// heads the bytes hold and the caseload row the server worked out ([`protocol::Fresh`]):
    /// a shell that does not have the document may store both as they are, without loading
    /// it, and mark the heads confirmed ([`Replica::confirmed_state`]). Otherwise `heads` is
    /// empty and `row` None.
    Snapshot {
        doc: DocId,
        bytes: Vec<u8>,
        heads: Vec<ChangeHash>,
        row: Option<Vec<u8>>,
    },
    /// The server changed this document; it now has these heads.
    Changed { doc: DocId, heads: Vec<ChangeHash> },
    /// The server's answer to our last sync message for this document.
    Reply { doc: DocId, data: Option<Vec<u8>> },
    /// The server's changes to this document since the device's cursor (the opening).
    Since { doc: DocId, changes: Vec<Vec<u8>> },
    /// The server's answer to our push of this document.
    Pushed { doc: DocId, outcome: PushOutcome },
    /// The server refused our changes to this document. They stay on the device.
    Refused { doc: DocId, reason: String },
    /// This device may no longer hold the document: the shell deletes it.
    Gone { doc: DocId },
}

impl Task {
    pub fn doc(&self) -> DocId {
        match self {
            Task::Snapshot { doc, .. }
            | Task::Changed { doc, .. }
            | Task::Reply { doc, .. }
            | Task::Pushed { doc, .. }
            | Task::Since { doc, .. }
            | Task::Refused { doc, .. }
            | Task::Gone { doc } => *doc,
        }
    }
}

/// One connection's worth of protocol state on the device.
#[derive(Debug, Default)]
pub struct DeviceSession {
    cursor: u64,
    welcome_seq: Option<u64>,
    /// Sync items sent and not yet answered.
    outstanding: usize,
    outbox: Vec<SyncItem>,
    pushes: Vec<protocol::Push>,
    /// Per document with a push in flight, the push's number and the heads the document had
    /// when pushed (what the server's answer confirms).
    pushed: std::collections::HashMap<DocId, (u64, Vec<ChangeHash>)>,
    pushes_sent: u64,
    /// The document of each push in flight, by number (answers name only the number).
    push_docs: std::collections::HashMap<u64, DocId>,
    /// Heads the server announced for a document while a push of it was in flight: its
    /// answer may predate them, and then the document is pushed again.
    announced: std::collections::HashMap<DocId, Vec<ChangeHash>>,
    /// Documents whose opening changes did not fit what the device holds while a push of them
    /// was in flight: after its answer they are synced the full way.
    reconcile: std::collections::HashSet<DocId>,
    /// Documents this session syncs the full way: the server did not know the heads they
    /// were pushed from.
    classic: std::collections::HashSet<DocId>,
    refused: Vec<(DocId, String)>,
    /// Sync messages sent per document in this session.
    rounds: std::collections::HashMap<DocId, u32>,
    /// Sync messages sent per document and not answered yet.
    awaiting: std::collections::HashMap<DocId, u32>,
}

/// Sync messages one document may take in one session. Automerge converges in a handful;
/// a live document being edited elsewhere during the session needs a few more.
pub const MAX_ROUNDS: u32 = 64;

impl DeviceSession {
    /// Starts a session; returns it and the opening frame.
    pub fn hello(cursor: u64) -> (DeviceSession, Vec<u8>) {
        let session = DeviceSession {
            cursor,
            ..Default::default()
        };
        (session, protocol::encode(&ClientMessage::Hello { cursor }))
    }

    /// Starts a session as [`DeviceSession::hello`] does, asking for documents new to the
    /// device with their heads and rows ([`ClientMessage::Open`]).
    pub fn open(cursor: u64) -> (DeviceSession, Vec<u8>) {
        let session = DeviceSession {
            cursor,
            ..Default::default()
        };
        let frame = protocol::encode(&ClientMessage::Open { cursor, rows: true });
        (session, frame)
    }

    /// Queues a document that changed on this device (a local edit, or left unconfirmed by an
    /// earlier session), or that the server changed, for sending: its changes since the heads
    /// the server last confirmed ([`protocol::Push`]), or Automerge's next sync message when
    /// this session syncs it the full way.
    pub fn push(&mut self, doc: DocId, replica: &mut Replica) {
        let classic = self.classic.contains(&doc);
        if !classic && self.pushed.contains_key(&doc) {
            // One push in flight per document: its answer pushes again what is still new.
            return;
        }
        let data = if classic { replica.generate() } else { None };
        if classic && data.is_none() {
            return;
        }
        let rounds = self.rounds.entry(doc).or_insert(0);
        *rounds += 1;
        if *rounds > MAX_ROUNDS {
            // The two sides are not converging (a bug on one of them). Stop instead of
            // spinning; the document stays unconfirmed and is retried next session.
            if !self.refused.iter().any(|(d, _)| *d == doc) {
                self.refused.push((
                    doc,
                    format!("no agreement with the server after {MAX_ROUNDS} rounds; will retry"),
                ));
            }
            return;
        }
        match data {
            Some(data) => self.outbox.push(SyncItem { doc, data }),
            None => {
                let since = replica.state.shared_heads.clone();
                let (since, changes, heads) = crate::push::changes_since(&mut replica.doc, &since);
                self.pushes_sent += 1;
                let n = self.pushes_sent;
                self.pushed.insert(doc, (n, heads));
                self.push_docs.insert(n, doc);
                self.pushes.push(protocol::Push {
                    doc,
                    n,
                    since: protocol::heads_to_wire(&since),
                    changes,
                });
            }
        }
    }

    /// From now on this session syncs `doc` the full way.
    fn go_classic(&mut self, doc: DocId, replica: &mut Replica) {
        self.classic.insert(doc);
        self.pushed.remove(&doc);
        replica.new_connection();
        self.push(doc, replica);
    }

    fn answered(&mut self, n: usize, docs: impl Iterator<Item = DocId>) -> Result<(), Error> {
        if n > self.outstanding {
            return Err(Error::Protocol(
                "more replies than sync messages sent".into(),
            ));
        }
        self.outstanding -= n;
        for doc in docs {
            if let Some(n) = self.awaiting.get_mut(&doc) {
                *n = n.saturating_sub(1);
            }
        }
        Ok(())
    }

    /// Decodes one frame from the server into tasks.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Vec<Task>, Error> {
        let message: ServerMessage = protocol::decode(frame)?;
        Ok(match message {
            ServerMessage::Snapshots(snaps) => snaps
                .into_iter()
                .map(|s| Task::Snapshot {
                    doc: s.doc,
                    bytes: s.bytes,
                    heads: Vec::new(),
                    row: None,
                })
                .collect(),
            ServerMessage::Fresh(items) => items
                .into_iter()
                .map(|f| Task::Snapshot {
                    doc: f.doc,
                    heads: protocol::heads_from_wire(&f.heads),
                    bytes: f.bytes,
                    row: f.row,
                })
                .collect(),
            ServerMessage::Welcome { seq, changed } => {
                self.welcome_seq = Some(seq);
                changed
                    .into_iter()
                    .map(|(doc, heads)| Task::Changed {
                        doc,
                        heads: protocol::heads_from_wire(&heads),
                    })
                    .collect()
            }
            ServerMessage::Since(items) => items
                .into_iter()
                .map(|i| Task::Since {
                    doc: i.doc,
                    changes: i.changes,
                })
                .collect(),
            ServerMessage::Changed(changed) => changed
                .into_iter()
                .map(|(doc, heads)| Task::Changed {
                    doc,
                    heads: protocol::heads_from_wire(&heads),
                })
                .collect(),
            ServerMessage::Replies(replies) => {
                self.answered(replies.len(), replies.iter().map(|r| r.doc))?;
                replies
                    .into_iter()
                    .map(|r| match r.outcome {
                        Outcome::Sync(data) => Task::Reply { doc: r.doc, data },
                        Outcome::Refused(reason) => Task::Refused { doc: r.doc, reason },
                    })
                    .collect()
            }
            ServerMessage::Pushed(answers) => {
                // Only the answer to the push in flight counts; one to an earlier push of the
                // same document (repeated by the network, or late) says nothing about it.
                let answers: Vec<(DocId, PushOutcome)> = answers
                    .into_iter()
                    .filter_map(|a| {
                        let doc = self.push_docs.remove(&a.n)?;
                        Some((doc, a.outcome))
                    })
                    .collect();
                self.answered(answers.len(), answers.iter().map(|(doc, _)| *doc))?;
                answers
                    .into_iter()
                    .map(|(doc, outcome)| match outcome {
                        PushOutcome::Refused(reason) => Task::Refused { doc, reason },
                        outcome => Task::Pushed { doc, outcome },
                    })
                    .collect()
            }
            ServerMessage::Error(reason) => {
                return Err(Error::Protocol(format!("server: {reason}")));
            }
            ServerMessage::SessionEnded(reason) => return Err(Error::SessionEnded(reason)),
            ServerMessage::Gone(docs) => docs.into_iter().map(|doc| Task::Gone { doc }).collect(),
        })
    }

    /// Carries out a task on its document (the shell passes `Replica::empty` for a document it
    /// does not have). Returns whether the replica changed and must be stored.
    pub fn handle(&mut self, task: &Task, replica: &mut Replica) -> Result<bool, Error> {
        match task {
            Task::Snapshot { bytes, .. } => {
                replica.take_snapshot(bytes)?;
                Ok(true)
            }
            Task::Changed { doc, heads } => {
                if same_heads(heads, &replica.doc.get_heads()) {
                    if !replica.is_confirmed() {
                        replica.state.shared_heads = heads.clone();
                        return Ok(true);
                    }
                    return Ok(false);
                }
                if self.pushed.contains_key(doc) {
                    self.announced.insert(*doc, heads.clone());
                    return Ok(false);
                }
                if self.awaiting.get(doc).is_some_and(|n| *n > 0) {
                    // A conversation about this document is under way; the server's answer
                    // carries its new heads, and the conversation goes on from there. A
                    // second, parallel conversation would only confuse both sides.
                    return Ok(false);
                }
                // The server moved on (another device wrote) after our last conversation about
                // this document ended. Start afresh: our last message may still count as "in
                // flight" to Automerge, which would then stay silent.
                replica.new_connection();
                self.push(*doc, replica);
                Ok(false)
            }
            Task::Reply { doc, data } => {
                let before = replica.state_bytes();
                if let Some(data) = data {
                    replica.receive(data)?;
                }
                if replica.is_confirmed() {
                    // Agreement reached: a later edit in a long session starts a fresh count.
                    self.rounds.remove(doc);
                }
                self.push(*doc, replica);
                Ok(data.is_some() || before != replica.state_bytes())
            }
            Task::Since { doc, changes } => {
                let confirmed = !replica.is_empty() && replica.is_confirmed();
                match crate::push::apply(&mut replica.doc, changes) {
                    Ok(new) => {
                        if let Some((_, heads)) = self.pushed.get_mut(doc) {
                            // The push in flight will be answered without these.
                            *heads = crate::push::advance(heads, &new);
                        }
                        if confirmed {
                            // It held all the server had up to the cursor, and these are all
                            // the server has since.
                            replica.state.shared_heads = replica.doc.get_heads();
                        } else if !self.pushed.contains_key(doc) {
                            self.push(*doc, replica);
                        }
                        Ok(true)
                    }
                    Err(_) if self.pushed.contains_key(doc) => {
                        self.reconcile.insert(*doc);
                        Ok(true)
                    }
                    Err(_) => {
                        self.go_classic(*doc, replica);
                        Ok(true)
                    }
                }
            }
            Task::Pushed { doc, outcome } => {
                let Some((_, pushed)) = self.pushed.remove(doc) else {
                    // Dropped meanwhile (taken away from this user's units).
                    return Ok(false);
                };
                if self.reconcile.remove(doc) {
                    if let PushOutcome::Taken(changes) = outcome {
                        let _ = crate::push::apply(&mut replica.doc, changes);
                    }
                    self.go_classic(*doc, replica);
                    return Ok(true);
                }
                match outcome {
                    PushOutcome::Taken(changes) => {
                        match crate::push::take(&mut replica.doc, &pushed, changes) {
                            Ok(confirmed) => {
                                replica.state.shared_heads = confirmed;
                                let behind = self
                                    .announced
                                    .remove(doc)
                                    .is_some_and(|heads| !crate::push::knows(&replica.doc, &heads));
                                if behind {
                                    // The server stored more while the answer was on its way.
                                    self.push(*doc, replica);
                                } else if replica.is_confirmed() {
                                    self.rounds.remove(doc);
                                } else {
                                    // Edited while the push was on its way: push that too.
                                    self.push(*doc, replica);
                                }
                            }
                            // The answer does not fit what this device holds: the full way
                            // finds out what each side lacks.
                            Err(_) => self.go_classic(*doc, replica),
                        }
                        Ok(true)
                    }
                    PushOutcome::Unknown => {
                        self.go_classic(*doc, replica);
                        Ok(false)
                    }
                    PushOutcome::Refused(reason) => {
                        self.refused.push((*doc, reason.clone()));
                        Ok(false)
                    }
                }
            }
            Task::Refused { doc, reason } => {
                self.pushed.remove(doc);
                self.refused.push((*doc, reason.clone()));
                Ok(false)
            }
            Task::Gone { doc } => {
                // The shell deletes the document; nothing more is said about it here.
                self.awaiting.remove(doc);
                self.rounds.remove(doc);
                self.pushed.remove(doc);
                Ok(false)
            }
        }
    }

    /// Frames to send now.
    pub fn take_frames(&mut self) -> Vec<Vec<u8>> {
        let items = std::mem::take(&mut self.outbox);
        let pushes = std::mem::take(&mut self.pushes);
        self.outstanding += items.len() + pushes.len();
        for doc in items
            .iter()
            .map(|i| i.doc)
            .chain(pushes.iter().map(|p| p.doc))
        {
            *self.awaiting.entry(doc).or_insert(0) += 1;
        }
        let mut frames: Vec<Vec<u8>> = protocol::batches(items, |i| i.data.len())
            .into_iter()
            .map(|batch| protocol::encode(&ClientMessage::Sync(batch)))
            .collect();
        frames.extend(
            protocol::batches(pushes, |p| {
                32 * p.since.len() + p.changes.iter().map(Vec::len).sum::<usize>()
            })
            .into_iter()
            .map(|batch| protocol::encode(&ClientMessage::Push(batch))),
        );
        frames
    }

    /// True once the opening is over and every sync message sent has been answered.
    pub fn is_settled(&self) -> bool {
        self.welcome_seq.is_some()
            && self.outstanding == 0
            && self.outbox.is_empty()
            && self.pushes.is_empty()
    }

    /// The cursor to keep: the server's sequence number once settled, else the old one.
    pub fn cursor(&self) -> u64 {
        match self.welcome_seq {
            Some(seq) if self.is_settled() => seq.max(self.cursor),
            _ => self.cursor,
        }
    }

    /// Pushes sent in this session ([`protocol::Push`]).
    pub fn pushes(&self) -> u64 {
        self.pushes_sent
    }

    /// Documents this session synced the full way, because the server did not know the heads
    /// they were pushed from.
    pub fn full_way(&self) -> usize {
        self.classic.len()
    }

    /// Documents the server refused in this session, with its reasons.
    pub fn refused(&self) -> &[(DocId, String)] {
        &self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaseDoc, CaseDraft, Channel, Editor, UnitId};
    use automerge::transaction::Transactable;

    fn new_case() -> (DocId, Replica) {
        let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "测试");
        let case = CaseDoc::create(&draft, &Editor::new("m", 0), ActorId::random());
        (draft.id, Replica::new(case.into_doc()))
    }

    #[test]
    fn a_server_that_never_agrees_stops_the_document_not_the_device() {
        let (id, mut replica) = new_case();
        let (mut session, _) = DeviceSession::hello(0);
        session
            .receive(&protocol::encode(&ServerMessage::Welcome {
                seq: 1,
                changed: vec![],
            }))
            .unwrap();
        session.push(id, &mut replica);
        let mut rounds = 0;
        loop {
            let frames = session.take_frames();
            if frames.is_empty() {
                break;
            }
            rounds += 1;
            assert!(rounds <= MAX_ROUNDS, "the device keeps sending");
            // A server that does not know the heads a push starts from, then answers every
            // message of the full way with nothing.
            let reply = match protocol::decode::<ClientMessage>(&frames[0]).unwrap() {
                ClientMessage::Push(p) => ServerMessage::Pushed(vec![protocol::Pushed {
                    n: p[0].n,
                    outcome: PushOutcome::Unknown,
                }]),
                _ => ServerMessage::Replies(vec![protocol::Reply {
                    doc: id,
                    outcome: Outcome::Sync(None),
                }]),
            };
            // And a shell that forgets the in-memory sync state between frames (the bug that
            // once made the command-line device spin), so Automerge never stops by itself.
            replica.state = sync::State::decode(&replica.state_bytes()).unwrap();
            for task in session.receive(&protocol::encode(&reply)).unwrap() {
                session.handle(&task, &mut replica).unwrap();
            }
        }
        assert!(session.is_settled());
        assert_eq!(session.refused().len(), 1);
        assert!(
            session.refused()[0].1.contains("no agreement"),
            "{}",
            session.refused()[0].1
        );
        assert!(
            !replica.is_confirmed(),
            "the document stays pending for the next session"
        );
    }

    #[test]
    fn a_document_stored_as_it_came_is_confirmed_and_pushes_only_what_is_new() {
        let (id, mut sent) = new_case();
        let bytes = sent.doc.save();
        let heads = sent.doc.get_heads();
        // Kept as it came (not loaded), with the heads marked confirmed.
        let state = Replica::confirmed_state(&heads);
        let mut replica = Replica::restore(&bytes, Some(&state), ActorId::random()).unwrap();
        assert!(replica.is_confirmed());
        // Heads it does not hold are not confirmation.
        let other = new_case().1.doc.get_heads();
        let mut wrong = Replica::restore(
            &bytes,
            Some(&Replica::confirmed_state(&other)),
            ActorId::random(),
        )
        .unwrap();
        assert!(!wrong.is_confirmed());
        // An edit goes up as that change alone, from the confirmed heads.
        replica.doc.put(automerge::ROOT, "x", 1).unwrap();
        assert!(!replica.is_confirmed());
        let (mut session, _) = DeviceSession::open(0);
        session.push(id, &mut replica);
        let frames = session.take_frames();
        let ClientMessage::Push(pushes) = protocol::decode(&frames[0]).unwrap() else {
            panic!("a push");
        };
        assert_eq!(pushes[0].changes.len(), 1);
        assert!(
            pushes[0].since.is_empty(),
            "the change starts from the confirmed heads"
        );
    }

    #[test]
    fn a_refusal_leaves_the_document_on_the_device_unconfirmed() {
        let (id, mut replica) = new_case();
        let (mut session, _) = DeviceSession::hello(0);
        session.push(id, &mut replica);
        assert_eq!(session.take_frames().len(), 1);
        let reply = ServerMessage::Replies(vec![protocol::Reply {
            doc: id,
            outcome: Outcome::Refused("不可".into()),
        }]);
        for task in session.receive(&protocol::encode(&reply)).unwrap() {
            assert!(!session.handle(&task, &mut replica).unwrap());
        }
        session
            .receive(&protocol::encode(&ServerMessage::Welcome {
                seq: 3,
                changed: vec![],
            }))
            .unwrap();
        assert!(session.is_settled());
        assert_eq!(session.refused(), &[(id, "不可".to_string())]);
        assert!(!replica.is_confirmed());
        assert_eq!(session.cursor(), 3);
    }
}
