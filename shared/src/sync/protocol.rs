//! The sync protocol's messages and their binary encoding.
//!
//! A frame is one WebSocket binary message: a version byte, then the message in postcard
//! encoding. Several documents travel in one frame, so a reconnect costs a few frames however
//! many documents changed.
//!
//! ```text
//! device                                     server
//!   Hello { cursor } ──────────────────────────▶   (authenticated before the upgrade;
//!                                                   or Open { cursor, rows: true })
//!   Sync [dirty documents' sync messages] ─────▶
//!                    ◀──────────────────────────  Snapshots [documents new to the device]
//!                                                  (Fresh, with heads and rows, after Open)
//!                    ◀──────────────────────────  Welcome { seq, changed: [(doc, heads)] }
//!   Sync [changed documents] ──────────────────▶
//!                    ◀──────────────────────────  Replies [one per item: data, or refused]
//!                         … until no side has anything to send …
//!   Push [changes since the confirmed heads] ──▶   (instead of Sync, when the device knows
//!                    ◀──────────────────────────  Pushed [the changes it lacks]   them)
//!                    ◀──────────────────────────  Changed [(doc, heads)]   (live, other devices)
//! ```
//!
//! The server answers every `Sync` item with exactly one `Reply`, after storing what the
//! item brought durably; so the device knows when a round is finished and when a change
//! is safe.

use serde::{Deserialize, Serialize};

use crate::{DocId, Error};

/// The version byte that starts every frame.
pub const PROTOCOL_VERSION: u8 = 1;

/// The largest frame either side accepts, in bytes. Senders split batches to stay under it.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;

/// What a batch may hold before the sender starts a new frame.
pub const BATCH_BYTES: usize = 1024 * 1024;

/// The most sync items (or snapshots, or replies) one frame carries. Senders split beyond it;
/// the server refuses a frame with more.
pub const MAX_ITEMS: usize = 1_000;

/// The largest a document may grow on the server, in stored bytes (its snapshot and the
/// changes appended since). Half a frame, so the server can always send any document it keeps
/// to a new device in one frame, and a change that would take a document past it is refused.
pub const MAX_DOC_BYTES: usize = MAX_FRAME / 2;

/// What the changes of one sync item may inflate to (a whole new document, sent at once, is
/// larger inflated than stored). Counted before anything is inflated into memory.
pub const MAX_INFLATED_ITEM: usize = 4 * MAX_DOC_BYTES;

/// What the changes of one frame may inflate to, all its items together.
pub const MAX_INFLATED_FRAME: usize = 2 * MAX_INFLATED_ITEM;

/// A change hash, 32 bytes.
pub type Heads = Vec<[u8; 32]>;

// Login, over HTTP (JSON): the one request before the socket.

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The device's Automerge actor id (hex); every change it makes must be signed with it.
    pub actor: String,
    #[serde(default)]
    pub device_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: i64,
    pub username: String,
    /// The name the cases write for the user (a leader's packages, a handler's cases).
    #[serde(default)]
    pub name: String,
    pub role: String,
    /// The user's own units.
    pub units: Vec<String>,
    /// The units the user may see (own units and everything below them).
    pub visible_units: Vec<String>,
    /// The whole unit tree, for names and pickers.
    pub directory: Vec<Unit>,
    /// Public holidays and make-up working days, for deadlines.
    #[serde(default)]
    pub calendar: crate::rules::Calendar,
}

/// Reference numbers 连信〔YYYY〕NNNN号 given to one device: `first` to `first + count - 1` of
/// `year` (`POST /api/references`). The device numbers the cases it registers from them, with
/// or without a signal; no other device is given the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceBlock {
    pub year: i32,
    pub first: u32,
    pub count: u32,
}

impl ReferenceBlock {
    /// The reference of number `n` of this block's year.
    pub fn number(&self, n: u32) -> String {
        format!("连信〔{}〕{n:04}号", self.year)
    }
}

/// A unit of the unit tree, as the directory lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
}

// The sync socket (binary frames).

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ClientMessage {
    /// Opens a session. `cursor` is the server sequence number up to which this device has
    /// everything it may see (0 for a new device).
    Hello { cursor: u64 },
    /// Automerge sync messages, one per document.
    Sync(Vec<SyncItem>),
    /// The session token, as the first frame of a connection that did not bring it in an
    /// `Authorization` header (a browser cannot set one on a WebSocket). The token is never
    /// put in a URL, where proxies and logs would keep it.
    Auth { token: String },
    /// Changes made on the device since the heads the server last confirmed, per document:
    /// the short way ([`Push`]). Answered by [`ServerMessage::Pushed`], one per item.
    Push(Vec<Push>),
    /// Opens a session as [`ClientMessage::Hello`] does; with `rows`, documents new to the
    /// device come as [`ServerMessage::Fresh`]: each with its heads and its caseload row, so
    /// that a new tablet stores them as they are and lists them without loading one.
    Open { cursor: u64, rows: bool },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// Whole documents the device does not have yet (saved Automerge bytes).
    Snapshots(Vec<Snapshot>),
    /// The end of the opening: documents changed since the cursor, with the server's heads so
    /// that a device already holding them does nothing. `seq` becomes the device's cursor once
    /// it has synced them all.
    Welcome {
        seq: u64,
        changed: Vec<(DocId, Heads)>,
    },
    /// One reply per item of a `Sync` frame, in order.
    Replies(Vec<Reply>),
    /// Documents other devices changed while this one is connected.
    Changed(Vec<(DocId, Heads)>),
    /// A fatal error; the server closes the connection after sending it.
    Error(String),
    /// The session is not valid (expired, idle too long, revoked, signed out or the user
    /// disabled): the device keeps its edits and asks its user to sign in again.
    SessionEnded(String),
    /// Documents this device may no longer hold (the administrator took its unit away from
    /// them): it drops them. Sent in the opening, before the welcome.
    Gone(Vec<DocId>),
    /// One answer per item of a `Push` frame, in order.
    Pushed(Vec<Pushed>),
    /// In the opening, before the welcome: documents changed since the cursor, as the changes
    /// stored after it by other devices (the device has everything before). Documents whose
    /// changes are no longer kept one by one are in the welcome, with their heads.
    Since(Vec<Since>),
    /// Whole documents the device does not have yet, as [`ServerMessage::Snapshots`], with
    /// their heads and rows (the answer to an [`ClientMessage::Open`] asking for rows).
    Fresh(Vec<Fresh>),
}

/// A document new to the device: its saved bytes, the heads they hold, and its caseload row
/// as the device would work it out from the documents this opening sends (a case's with its
/// personal details if they come too), packed as the device stores rows
/// ([`crate::pack_rows`], one row). No row: the device works it out itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fresh {
    pub doc: DocId,
    pub bytes: Vec<u8>,
    pub heads: Heads,
    pub row: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Since {
    pub doc: DocId,
    /// Automerge change chunks, in the order stored.
    pub changes: Vec<Vec<u8>>,
}

/// A document's changes since `since`, the heads the server last confirmed to this device.
/// When the server holds all of `since` it stores the changes (checked as any sync message's)
/// and answers with the changes the device lacks: one round trip, no Bloom filters, each
/// side's changes crossing once. When it does not, the device syncs the document the full way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub doc: DocId,
    /// The push's number in this session, repeated in its answer: an answer is taken only for
    /// the push it answers (a late or repeated answer to an earlier one confirms nothing).
    pub n: u64,
    /// Empty when it is what the changes themselves start from (their dependencies that are
    /// not among them), as it is after ordinary edits: the server works it out, and a push
    /// costs little more than its changes.
    pub since: Heads,
    /// Automerge change chunks, in the order `get_changes` gives them.
    pub changes: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pushed {
    /// The number of the push answered (the answer names no document: the push did).
    pub n: u64,
    pub outcome: PushOutcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PushOutcome {
    /// Stored (if the push brought changes); here are the server's changes since `since` that
    /// the push did not bring. With them the device holds what the server holds.
    Taken(Vec<Vec<u8>>),
    /// The server does not hold every head of `since` (a restored server, or a device that
    /// remembers wrong): nothing was stored; sync this document with the full protocol.
    Unknown,
    /// Not accepted: the reason, as for [`Outcome::Refused`].
    Refused(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncItem {
    pub doc: DocId,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub doc: DocId,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub doc: DocId,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Stored (if it brought changes); here is the server's next sync message, if any.
    Sync(Option<Vec<u8>>),
    /// Not accepted: the reason. The device keeps its data; the server kept the refused
    /// change aside for inspection.
    Refused(String),
}

pub fn encode<M: Serialize>(message: &M) -> Vec<u8> {
    let mut out = vec![PROTOCOL_VERSION];
    // Serialising plain owned data into a Vec cannot fail.
    out.extend(postcard::to_stdvec(message).unwrap_or_default());
    out
}

pub fn decode<M: for<'de> Deserialize<'de>>(frame: &[u8]) -> Result<M, Error> {
    if frame.len() > MAX_FRAME {
        return Err(Error::Protocol(format!(
            "frame of {} bytes exceeds the limit of {MAX_FRAME}",
            frame.len()
        )));
    }
    match frame.split_first() {
        None => Err(Error::Protocol("empty frame".into())),
        Some((&PROTOCOL_VERSION, body)) => postcard::from_bytes(body)
            .map_err(|e| Error::Protocol(format!("undecodable frame: {e}"))),
        Some((v, _)) => Err(Error::Protocol(format!(
            "protocol version {v} is not supported (this side speaks {PROTOCOL_VERSION})"
        ))),
    }
}

/// Splits items into frames of at most about [`BATCH_BYTES`] each.
pub fn batches<T>(items: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for item in items {
        let n = size(&item) + 24;
        if !current.is_empty() && (bytes + n > BATCH_BYTES || current.len() >= MAX_ITEMS) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += n;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub fn heads_to_wire(heads: &[automerge::ChangeHash]) -> Heads {
    heads.iter().map(|h| h.0).collect()
}

pub fn heads_from_wire(heads: &Heads) -> Vec<automerge::ChangeHash> {
    heads.iter().map(|h| automerge::ChangeHash(*h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_frames_are_errors() {
        let m = ClientMessage::Sync(vec![SyncItem {
            doc: DocId::random(),
            data: vec![1, 2, 3],
        }]);
        assert_eq!(decode::<ClientMessage>(&encode(&m)).unwrap(), m);
        assert!(decode::<ClientMessage>(&[]).is_err());
        assert!(
            decode::<ClientMessage>(&[9, 0])
                .unwrap_err()
                .to_string()
                .contains("version 9")
        );
        assert!(decode::<ClientMessage>(&[PROTOCOL_VERSION, 77, 1]).is_err());
        assert!(decode::<ClientMessage>(&vec![PROTOCOL_VERSION; MAX_FRAME + 1]).is_err());
    }

    #[test]
    fn batches_split_by_size() {
        let items = vec![vec![0u8; BATCH_BYTES / 2]; 5];
        let b = batches(items, |v| v.len());
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![1, 1, 1, 1, 1]
        );
        let small = batches(vec![1u8; 10], |_| 1);
        assert_eq!(small.len(), 1);
    }
}
