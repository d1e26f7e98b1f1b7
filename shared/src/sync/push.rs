//! The short way to sync a document both sides knew alike ([`crate::protocol::Push`]).
//!
//! The device remembers, per document, the heads the server last confirmed (Automerge's
//! `shared_heads`, kept with the document). On a reconnect it sends the changes it made since
//! those heads; the server, if it holds them, checks and stores the changes like any others and
//! answers with its own changes since those heads that the push did not bring. Each side's
//! changes cross once, in one round trip, with 16 bytes of document id and 32 per head
//! around them — where Automerge's own protocol spends a have/need round with Bloom filters.
//! Whenever the heads are not known on the server, the device falls back to that protocol.
//!
//! Pure functions over documents, used by the server's hub and the device's engine.

use automerge::{AutoCommit, Change, ChangeHash, ReadDoc, sync};

use crate::Error;

/// The pushed changes as an Automerge sync message, so the server runs them through the same
/// check as any device's ([`crate::check_incoming`]): inflation counted first, the signer, the
/// kind's declaration, the header's fixed fields.
pub fn as_sync_message(changes: &[Vec<u8>]) -> Vec<u8> {
    sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: changes.to_vec().into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
    .encode()
}

/// Whether `doc` holds every change named in `since`.
pub fn knows(doc: &AutoCommit, since: &[ChangeHash]) -> bool {
    ReadDoc::get_missing_deps(doc, since).is_empty()
}

/// The server's answer to a push: its changes after `since` that are not among `brought`
/// (what the push stored), as change chunks. `doc` must hold `since` ([`knows`]).
pub fn lacking(doc: &mut AutoCommit, since: &[ChangeHash], brought: &[ChangeHash]) -> Vec<Vec<u8>> {
    let brought: std::collections::HashSet<&ChangeHash> = brought.iter().collect();
    doc.get_changes(since)
        .into_iter()
        .filter(|c| !brought.contains(&c.hash()))
        .map(|mut c| c.bytes().into_owned())
        .collect()
}

/// What a set of changes starts from: their dependencies that are not among them, sorted.
pub fn boundary(changes: &[Change]) -> Vec<ChangeHash> {
    let own: std::collections::HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut out: Vec<ChangeHash> = changes
        .iter()
        .flat_map(|c| c.deps().iter().copied())
        .filter(|h| !own.contains(h))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The device's side of a push: the heads to send as `since` (none when the changes start
/// from exactly those, see [`crate::protocol::Push::since`]), the changes, and the heads they
/// bring the document to (what the server will hold of this device's once it has them).
pub fn changes_since(
    doc: &mut AutoCommit,
    since: &[ChangeHash],
) -> (Vec<ChangeHash>, Vec<Vec<u8>>, Vec<ChangeHash>) {
    let changes = doc.get_changes(since);
    let mut stated = since.to_vec();
    stated.sort();
    if !changes.is_empty() && boundary(&changes) == stated {
        stated.clear();
    }
    let bytes = changes
        .into_iter()
        .map(|mut c| c.bytes().into_owned())
        .collect();
    (stated, bytes, doc.get_heads())
}

/// The device takes the server's answer: applies the changes it lacked and returns the heads
/// the server now holds — those it pushed (`pushed`, its heads when it pushed) advanced by the
/// server's changes. Edits made on the device since the push are not among them, so they stay
/// unconfirmed and go in the next push.
pub fn take(
    doc: &mut AutoCommit,
    pushed: &[ChangeHash],
    changes: &[Vec<u8>],
) -> Result<Vec<ChangeHash>, Error> {
    let new = apply(doc, changes)?;
    Ok(advance(pushed, &new))
}

/// Applies the changes of `changes` that `doc` lacks and returns those; an error when they
/// depend on changes neither held nor sent.
pub fn apply(doc: &mut AutoCommit, changes: &[Vec<u8>]) -> Result<Vec<Change>, Error> {
    let mut new = Vec::new();
    for bytes in changes {
        let change = Change::from_bytes(bytes.clone())
            .map_err(|e| Error::Protocol(format!("bad change from the server: {e}")))?;
        if !ReadDoc::get_missing_deps(doc, &[change.hash()]).is_empty() {
            new.push(change);
        }
    }
    doc.apply_changes(new.clone())?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(Error::Protocol(
            "the server's changes depend on changes it did not send".into(),
        ));
    }
    Ok(new)
}

/// The heads of everything before `heads` together with `new` (changes none of which is
/// before `heads`).
pub fn advance(heads: &[ChangeHash], new: &[Change]) -> Vec<ChangeHash> {
    let deps: std::collections::HashSet<ChangeHash> =
        new.iter().flat_map(|c| c.deps().iter().copied()).collect();
    let mut out: Vec<ChangeHash> = heads
        .iter()
        .copied()
        .chain(new.iter().map(Change::hash))
        .filter(|h| !deps.contains(h))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaseDoc, CaseDraft, Channel, Editor, UnitId};
    use automerge::{ActorId, sync::SyncDoc, transaction::Transactable};

    fn case() -> AutoCommit {
        let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "测试");
        CaseDoc::create(&draft, &Editor::new("m", 0), ActorId::random()).into_doc()
    }

    fn edit(doc: &mut AutoCommit, key: &str) {
        doc.put(automerge::ROOT, key, key).unwrap();
        doc.commit();
    }

    /// Both sides edit after a confirmed point; one push and its answer bring both to the
    /// same document, each side's changes crossing once, and the device's confirmed heads are
    /// the server's.
    #[test]
    fn a_push_and_its_answer_leave_both_sides_alike() {
        let mut server = case();
        let since = server.get_heads();
        let mut device = server.fork().with_actor(ActorId::random());
        edit(&mut device, "device");
        edit(&mut server, "server");

        let (stated, changes, pushed) = changes_since(&mut device, &since);
        assert_eq!(changes.len(), 1);
        assert!(
            stated.is_empty(),
            "an ordinary edit starts from the confirmed heads"
        );
        assert!(knows(&server, &since));
        let message = sync::Message::decode(&as_sync_message(&changes)).unwrap();
        let mut state = sync::State::new();
        server
            .sync()
            .receive_sync_message(&mut state, message)
            .unwrap();
        let brought: Vec<Change> = server
            .get_changes(&since)
            .into_iter()
            .filter(|c| pushed.contains(&c.hash()))
            .collect();
        assert_eq!(
            boundary(&brought),
            since,
            "the server works out where they start"
        );
        let hashes: Vec<ChangeHash> = brought.iter().map(Change::hash).collect();
        let answer = lacking(&mut server, &since, &hashes);
        assert_eq!(answer.len(), 1, "only the server's own change goes back");

        // The device typed again while the answer was on its way.
        edit(&mut device, "typed meanwhile");
        let confirmed = take(&mut device, &pushed, &answer).unwrap();
        assert_eq!(confirmed, server.get_heads());
        assert_ne!(
            confirmed,
            device.get_heads(),
            "the new edit is not confirmed"
        );
        assert!(
            device
                .get(automerge::ROOT, "server")
                .ok()
                .flatten()
                .is_some()
        );
        assert!(
            server
                .get(automerge::ROOT, "device")
                .ok()
                .flatten()
                .is_some()
        );
    }

    #[test]
    fn unknown_heads_are_told_apart() {
        let server = case();
        let mut other = case();
        assert!(!knows(&server, &other.get_heads()));
        assert!(knows(&server, &[]));
    }

    #[test]
    fn a_change_already_held_is_not_applied_twice_or_counted() {
        let mut server = case();
        let since = server.get_heads();
        let mut device = server.fork().with_actor(ActorId::random());
        edit(&mut server, "server");
        let answer = lacking(&mut server, &since, &[]);
        let pushed = device.get_heads();
        let once = take(&mut device, &pushed, &answer).unwrap();
        let twice = take(&mut device, &once, &answer).unwrap();
        assert_eq!(once, server.get_heads());
        assert_eq!(twice, once);
    }

    #[test]
    fn an_answer_missing_a_dependency_is_an_error() {
        let mut server = case();
        let since = server.get_heads();
        let mut device = server.fork().with_actor(ActorId::random());
        edit(&mut server, "one");
        let first = server.get_heads();
        edit(&mut server, "two");
        let only_second = lacking(&mut server, &first, &[]);
        let pushed = device.get_heads();
        assert!(take(&mut device, &pushed, &only_second).is_err());
        let _ = since;
    }
}
