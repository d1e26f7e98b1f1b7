//! What the server checks before it accepts a device's changes to a document.
//!
//! Pure: the server hands in its copy of the document and the device's sync message and gets
//! back either the new document with the changes it brought, or a [`Refusal`] with the
//! reason. Whether the user may touch the document's units is the server's to decide, with
//! the headers this returns.

use automerge::{ActorId, AutoCommit, Change, ReadDoc, sync, sync::SyncDoc};

use crate::kit::cells::read_header;
use crate::kit::schema::{SCHEMA_VERSION, check};
use crate::sync::inflate::{Oversize, inflated_size};
use crate::{DocId, Header, Kind};

/// Why a device's changes were not accepted. The message is shown to the device's user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("undecodable sync message: {0}")]
    Undecodable(String),
    #[error("corrupt changes: {0}")]
    Corrupt(String),
    #[error("change signed by actor {found}, but this device is registered as {expected}")]
    ForgedActor { found: String, expected: String },
    #[error("schema violation: {0}")]
    Schema(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("too large: {0}")]
    TooLarge(String),
}

/// A device's sync message, applied to a copy of the server's document and checked.
#[derive(Debug)]
pub struct Checked {
    pub doc: AutoCommit,
    pub state: sync::State,
    /// The changes the message brought that the server did not have.
    pub changes: Vec<Change>,
    /// The header before and after (None before: a new document).
    pub before: Option<Header>,
    pub after: Option<Header>,
    /// What the message's changes inflated to, in bytes.
    pub inflated: usize,
    /// Changes the device's changes depend on and did not bring: the server's answer asks
    /// for them by hash ([`reply`]).
    pub missing: Vec<automerge::ChangeHash>,
}

/// The server's answer to a device about `doc`: Automerge's next sync message, asking by hash
/// for the changes `missing` names (from [`Checked::missing`]).
pub fn reply(
    doc: &mut AutoCommit,
    state: &mut sync::State,
    missing: &[automerge::ChangeHash],
) -> Option<Vec<u8>> {
    // Devices are answered as sync V1 peers, and the answer carries no flags: a device that
    // never learns the server speaks V2 never sends it a whole document (whose parsing a few
    // hostile bytes can turn into gigabytes; see `inflate`). A reset is then signalled the V1
    // way, with empty heads, which Automerge reads as "start again".
    state.their_capabilities = Some(vec![sync::Capability::MessageV1]);
    let mut message = doc.sync().generate_sync_message(state)?;
    message.flags = None;
    if !missing.is_empty() {
        message.need.extend_from_slice(missing);
        // The wire format keeps hashes sorted.
        message.need.sort();
        message.need.dedup();
    }
    Some(message.encode())
}

/// Applies `data` to a copy of `current` and checks every change it brings: inflating to at
/// most `inflate_limit` bytes (counted before Automerge inflates anything), signed by
/// `device_actor`, leaving a well-formed document of its kind whose header names `id`, whose
/// fixed header fields did not change and whose units only grew.
pub fn check_incoming(
    current: &AutoCommit,
    state: &sync::State,
    data: &[u8],
    id: DocId,
    device_actor: &ActorId,
    inflate_limit: usize,
) -> Result<Checked, Refusal> {
    // Automerge is fuzzed, but not enough: a hostile message can leave its change graph in a
    // state where a later call (`get_changes`) panics on an internal unwrap (found by our
    // fuzzer, `tests/fuzz-crashers/check/`). Whatever Automerge does with a device's bytes
    // happens inside this guard, and a panic is a refusal.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check_unguarded(current, state, data, id, device_actor, inflate_limit)
    }))
    .unwrap_or_else(|_| Err(Refusal::Corrupt("the changes could not be applied".into())))
}

fn check_unguarded(
    current: &AutoCommit,
    state: &sync::State,
    data: &[u8],
    id: DocId,
    device_actor: &ActorId,
    inflate_limit: usize,
) -> Result<Checked, Refusal> {
    let message = sync::Message::decode(data).map_err(|e| Refusal::Undecodable(e.to_string()))?;
    let inflated = inflated_size(&message, inflate_limit).map_err(|e| match e {
        Oversize::TooLarge { .. } => Refusal::TooLarge(e.to_string()),
        Oversize::Malformed(_) => Refusal::Corrupt(e.to_string()),
    })?;
    let mut doc = current.clone();
    let mut state = state.clone();
    let before_heads = doc.get_heads();
    let before = if before_heads.is_empty() {
        None
    } else {
        read_header(&doc).ok()
    };
    if let Err(e) = doc.sync().receive_sync_message(&mut state, message) {
        return Err(Refusal::Corrupt(e.to_string()));
    }
    // A change whose dependency has not arrived (the device skipped the dependency, trusting a
    // Bloom filter's false positive) waits in Automerge's queue. The server keeps no queue: it
    // keeps only applied, checked changes. So it forgets the waiting ones, asks the device with
    // Automerge's reset flag to forget what it believes it has sent, and names the missing
    // dependencies in its answer's `need` ([`reply`]): the device sends what is needed by hash
    // whatever its Bloom filter says. Both halves matter. Without the reset the device would not
    // resend what it had sent; without the need it would skip the dependency again, since the
    // server's filter — and so its false positive — stays the same, and the two went round in
    // circles until the 64-round guard (the durability test's old "known flaw").
    let missing = doc.get_missing_deps(&[]);
    if !missing.is_empty() {
        let applied = doc.get_changes(&before_heads);
        doc = current.clone();
        doc.apply_changes(applied)
            .map_err(|e| Refusal::Corrupt(e.to_string()))?;
        state.needs_reset = true;
    }
    let changes = doc.get_changes(&before_heads);
    for change in &changes {
        if change.actor_id() != device_actor {
            return Err(Refusal::ForgedActor {
                found: change.actor_id().to_hex_string(),
                expected: device_actor.to_hex_string(),
            });
        }
    }
    if changes.is_empty() {
        return Ok(Checked {
            doc,
            state,
            changes,
            after: before.clone(),
            before,
            inflated,
            missing,
        });
    }
    let after = read_header(&doc).map_err(|e| Refusal::Schema(e.to_string()))?;
    if after.id != id {
        return Err(Refusal::Schema(format!(
            "document {} says it is {}",
            id.short(),
            after.id.short()
        )));
    }
    let Some(kind) = Kind::from_name(&after.kind) else {
        return Err(Refusal::Schema(format!(
            "unknown document kind {:?}",
            after.kind
        )));
    };
    if after.schema > SCHEMA_VERSION {
        return Err(Refusal::Schema(format!(
            "schema version {} is newer than this server's {SCHEMA_VERSION}; update the server",
            after.schema
        )));
    }
    if let Some(before) = &before {
        if (
            before.id,
            before.schema,
            &before.kind,
            &before.created_by,
            before.created_at,
        ) != (
            after.id,
            after.schema,
            &after.kind,
            &after.created_by,
            after.created_at,
        ) {
            return Err(Refusal::Schema(
                "the header's fixed fields may not change".into(),
            ));
        }
        if let Some(gone) = before.units.iter().find(|u| !after.units.contains(u)) {
            return Err(Refusal::Schema(format!(
                "unit {gone} may not be removed from a case"
            )));
        }
    }
    check(&doc, kind.decl()).map_err(|v| Refusal::Schema(v.to_string()))?;
    Ok(Checked {
        doc,
        state,
        changes,
        before,
        after: Some(after),
        inflated,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaseDoc, CaseDraft, Channel, Editor, Field, UnitId};
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};

    fn server_and_device() -> (AutoCommit, CaseDoc, DocId, ActorId) {
        let actor = ActorId::random();
        let draft = CaseDraft::new(UnitId::new("a").unwrap(), Channel::Letter, "s");
        let mut case = CaseDoc::create(&draft, &Editor::new("u", 1), actor.clone());
        let server = AutoCommit::load(&case.save()).unwrap();
        (server, case, draft.id, actor)
    }

    /// Runs the opening exchange and returns the device's message carrying its changes.
    fn message_with_changes(server: &mut AutoCommit, device: &mut AutoCommit) -> Vec<u8> {
        let (mut s, mut d) = (sync::State::new(), sync::State::new());
        let m = device.sync().generate_sync_message(&mut d).unwrap();
        server.sync().receive_sync_message(&mut s, m).unwrap();
        let m = sync::Message::decode(&reply(server, &mut s, &[]).unwrap()).unwrap();
        device.sync().receive_sync_message(&mut d, m).unwrap();
        device
            .sync()
            .generate_sync_message(&mut d)
            .unwrap()
            .encode()
    }

    /// The device sends a change without the one it depends on (as after a Bloom filter's false
    /// positive); the server, which keeps only applied changes, answers so that the device
    /// sends both, and the two agree in a few rounds.
    #[test]
    fn a_change_sent_before_its_dependency_is_asked_for_again() {
        let (mut server, case, id, actor) = server_and_device();
        let mut dev = case.into_doc();
        let (mut s, mut d) = (sync::State::new(), sync::State::new());
        // In step first.
        for _ in 0..4 {
            if let Some(m) = dev.sync().generate_sync_message(&mut d) {
                server.sync().receive_sync_message(&mut s, m).unwrap();
            }
            if let Some(m) =
                reply(&mut server, &mut s, &[]).map(|m| sync::Message::decode(&m).unwrap())
            {
                dev.sync().receive_sync_message(&mut d, m).unwrap();
            }
        }
        assert_eq!(server.get_heads(), dev.get_heads());
        let base = server.get_heads();
        let mut case = CaseDoc::from_doc(dev).unwrap();
        case.set(Field::Handler, "张三", &Editor::new("u", 2))
            .unwrap();
        case.set(Field::Leader, "李四", &Editor::new("u", 3))
            .unwrap();
        let mut dev = case.into_doc();
        let changes = dev.get_changes(&base);
        assert_eq!(changes.len(), 2);
        let (first, second) = (&changes[0], &changes[1]);
        // The device's message carries only the second change, and it remembers sending it.
        let mut message = dev.sync().generate_sync_message(&mut d).unwrap();
        message.changes = sync::ChunkList::from(second.raw_bytes().to_vec());
        d.sent_hashes = [second.hash()].into_iter().collect();
        let checked =
            check_incoming(&server, &s, &message.encode(), id, &actor, usize::MAX).unwrap();
        assert!(checked.changes.is_empty(), "nothing applied yet");
        assert!(
            checked.doc.get_missing_deps(&[]).is_empty(),
            "no queue kept"
        );
        server = checked.doc;
        s = checked.state;
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 10, "the two sides do not agree");
            let reply = reply(&mut server, &mut s, &[]).map(|m| sync::Message::decode(&m).unwrap());
            if let Some(m) = reply {
                dev.sync().receive_sync_message(&mut d, m).unwrap();
            }
            let Some(m) = dev.sync().generate_sync_message(&mut d) else {
                break;
            };
            let checked = check_incoming(&server, &s, &m.encode(), id, &actor, usize::MAX).unwrap();
            if !checked.changes.is_empty() {
                server = checked.doc;
            }
            s = checked.state;
        }
        assert!(server.get_change_by_hash(&first.hash()).is_some());
        assert!(server.get_change_by_hash(&second.hash()).is_some());
        assert_eq!(server.get_heads(), dev.get_heads());
    }

    /// The stall of the durability test, reproduced with a real Bloom filter false positive: a
    /// device's change X that the server lacks but whose hash the server's filter happens to
    /// contain, and a change on top of it. The device's Automerge skips X (the filter says the
    /// server has it) every time; the server must ask for X by hash, or the two never agree.
    #[test]
    fn a_dependency_hidden_by_a_bloom_false_positive_is_asked_for_by_hash() {
        use automerge::sync::BloomFilter;
        let actor = ActorId::random();
        let draft = CaseDraft::new(UnitId::new("a").unwrap(), Channel::Letter, "s");
        let mut case = CaseDoc::create(&draft, &Editor::new("u", 1), actor.clone());
        // A server copy with many changes, so its filter is dense enough to find a false
        // positive quickly.
        for i in 0..300 {
            case.set(
                Field::Handler,
                &format!("经办人{i}"),
                &Editor::new("u", 2 + i),
            )
            .unwrap();
        }
        let server_base = case.doc().clone();
        let mut server_doc = server_base.clone();
        let hashes: Vec<automerge::ChangeHash> = server_doc
            .get_changes(&[])
            .iter()
            .map(|c| c.hash())
            .collect();
        let bloom = BloomFilter::from_hashes(hashes.iter());
        // A device change whose hash the filter falsely contains.
        let mut device = None;
        for i in 0..100_000u64 {
            let mut fork =
                CaseDoc::from_doc(server_base.clone().with_actor(actor.clone())).unwrap();
            fork.set(Field::Leader, &format!("领导{i}"), &Editor::new("u", 1_000))
                .unwrap();
            let mut doc = fork.into_doc();
            let head = doc.get_heads()[0];
            if bloom.contains_hash(&head) {
                device = Some(doc);
                break;
            }
        }
        let mut device = device.expect("a false positive within 100,000 tries");
        let hidden = device.get_heads()[0];
        assert!(server_doc.get_change_by_hash(&hidden).is_none());
        let mut top = CaseDoc::from_doc(device).unwrap();
        top.append_note(&Editor::new("u", 1_001), "在那之后")
            .unwrap();
        let mut device = top.into_doc();

        let (mut s, mut d) = (sync::State::new(), sync::State::new());
        let mut rounds = 0;
        loop {
            rounds += 1;
            assert!(rounds < 20, "the two sides do not agree");
            let Some(m) = device.sync().generate_sync_message(&mut d) else {
                break;
            };
            let checked =
                check_incoming(&server_doc, &s, &m.encode(), draft.id, &actor, usize::MAX)
                    .unwrap_or_else(|r| panic!("refused: {r}"));
            server_doc = checked.doc;
            s = checked.state;
            if let Some(answer) = reply(&mut server_doc, &mut s, &checked.missing) {
                let answer = sync::Message::decode(&answer).unwrap();
                device.sync().receive_sync_message(&mut d, answer).unwrap();
            }
        }
        assert!(server_doc.get_change_by_hash(&hidden).is_some());
        assert_eq!(server_doc.get_heads(), device.get_heads());
    }

    #[test]
    fn accepts_a_proper_edit_and_names_its_changes() {
        let (mut server, mut case, id, actor) = server_and_device();
        case.set(Field::Handler, "张三", &Editor::new("u", 2))
            .unwrap();
        let mut device = case.into_doc();
        let data = message_with_changes(&mut server, &mut device);
        let checked =
            check_incoming(&server, &sync::State::new(), &data, id, &actor, usize::MAX).unwrap();
        assert_eq!(checked.changes.len(), 1);
    }

    #[test]
    fn refuses_forged_actors_schema_breaks_and_garbage() {
        let (mut server, case, id, actor) = server_and_device();
        let mut device = case.into_doc();
        // A change signed by someone else.
        device.set_actor(ActorId::random());
        device.put(ROOT, "x", 1).unwrap();
        let data = message_with_changes(&mut server, &mut device.clone());
        let r = check_incoming(&server, &sync::State::new(), &data, id, &actor, usize::MAX)
            .unwrap_err();
        assert!(matches!(r, Refusal::ForgedActor { .. }), "{r}");

        // Notes replaced by a number.
        let mut device = AutoCommit::load(&server.save())
            .unwrap()
            .with_actor(actor.clone());
        device.put(ROOT, "notes", 3).unwrap();
        let data = message_with_changes(&mut server, &mut device);
        let r = check_incoming(&server, &sync::State::new(), &data, id, &actor, usize::MAX)
            .unwrap_err();
        assert!(matches!(r, Refusal::Schema(_)), "{r}");

        // A unit removed.
        let mut device = AutoCommit::load(&server.save())
            .unwrap()
            .with_actor(actor.clone());
        let header = match device.get(ROOT, "header").unwrap() {
            Some((_, h)) => h,
            None => unreachable!(),
        };
        let units = match device.get(&header, "units").unwrap() {
            Some((_, u)) => u,
            None => unreachable!(),
        };
        device.put(&units, "b", true).unwrap();
        device.delete(&units, "a").unwrap();
        let data = message_with_changes(&mut server, &mut device);
        let r = check_incoming(&server, &sync::State::new(), &data, id, &actor, usize::MAX)
            .unwrap_err();
        assert!(r.to_string().contains("unit a may not be removed"), "{r}");

        let r = check_incoming(
            &server,
            &sync::State::new(),
            b"\x42garbage",
            id,
            &actor,
            usize::MAX,
        )
        .unwrap_err();
        assert!(matches!(r, Refusal::Undecodable(_)), "{r}");
    }

    #[test]
    fn a_dispute_is_checked_like_a_case_with_its_own_shape() {
        use crate::{Committee, MediationKind, MediationLevel};
        use crate::{DisputeDoc, DisputeDraft};
        let actor = ActorId::random();
        let draft = DisputeDraft {
            id: DocId::random(),
            unit: UnitId::new("a").unwrap(),
            summary: "邻里排水纠纷".into(),
            kind: MediationKind::People,
            committee: Committee::Local,
            level: MediationLevel::Group,
        };
        let ed = Editor::new("u", 1);
        let mut dispute = DisputeDoc::create(&draft, &ed, actor.clone());
        let mut server = AutoCommit::new();
        let mut device = dispute.doc().clone();
        let msg = message_with_changes(&mut server, &mut device);
        let checked = check_incoming(
            &server,
            &sync::State::new(),
            &msg,
            draft.id,
            &actor,
            usize::MAX,
        )
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
        assert_eq!(checked.after.unwrap().kind, "dispute");

        // Its own shape: parties must stay a list.
        let mut server = checked.doc;
        dispute.add_party(&ed, "甲", None, None).unwrap();
        let mut bad = dispute.into_doc();
        bad.put(ROOT, "parties", "none").unwrap();
        bad.commit();
        let msg = message_with_changes(&mut server, &mut bad);
        let refused = check_incoming(
            &server,
            &sync::State::new(),
            &msg,
            draft.id,
            &actor,
            usize::MAX,
        );
        assert!(
            matches!(&refused, Err(Refusal::Schema(r)) if r.contains("parties")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_reception_day_is_accepted_with_its_shape() {
        use crate::{ReceptionDoc, ReceptionDraft};
        let actor = ActorId::random();
        let draft = ReceptionDraft {
            id: DocId::random(),
            unit: UnitId::new("a").unwrap(),
            on: "2026-11-25".parse().unwrap(),
            leader: "刘副县长".into(),
            place: "接待室".into(),
        };
        let day = ReceptionDoc::create(&draft, &Editor::new("u", 1), actor.clone()).unwrap();
        let mut server = AutoCommit::new();
        let mut device = day.doc().clone();
        let msg = message_with_changes(&mut server, &mut device);
        let checked = check_incoming(
            &server,
            &sync::State::new(),
            &msg,
            draft.id,
            &actor,
            usize::MAX,
        )
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
        assert_eq!(checked.after.unwrap().kind, "reception");
        let mut server = checked.doc;
        let mut bad = day.into_doc();
        bad.put(ROOT, "matters", 3).unwrap();
        bad.commit();
        let msg = message_with_changes(&mut server, &mut bad);
        let refused = check_incoming(
            &server,
            &sync::State::new(),
            &msg,
            draft.id,
            &actor,
            usize::MAX,
        );
        assert!(
            matches!(&refused, Err(Refusal::Schema(r)) if r.contains("matters")),
            "{refused:?}"
        );
    }
}
