//! Whatever a client sends, the server answers with a reason, keeps refused changes aside,
//! stores nothing corrupt, does not panic, and goes on serving other devices.

mod common;

use automerge::{ActorId, AutoCommit, ROOT, ReadDoc, transaction::Transactable};
use common::*;
use lianxin_shared::protocol::{
    self, ClientMessage, Outcome, Push, PushOutcome, ServerMessage, SyncItem,
};
use lianxin_shared::{CaseDoc, CaseDraft, Channel, DocId, Editor, UnitId};

const NOW: i64 = 1_790_000_000_000;

/// How a connection-level row must end.
enum Ends {
    /// The server sends an error containing this text, then closes.
    Error(&'static str),
    /// The frame exceeded even the socket layer's limit: the server reports that, or the
    /// socket layer cuts the connection (close code 1009) before it can.
    Cut,
}

/// Connection-level rows: frames that cannot be part of a conversation.
fn frame_rows(visible_doc: DocId) -> Vec<(&'static str, bool, Vec<u8>, Ends)> {
    let hello = protocol::encode(&ClientMessage::Hello { cursor: 0 });
    let sync = protocol::encode(&ClientMessage::Sync(vec![SyncItem {
        doc: visible_doc,
        data: vec![0x42, 1, 2],
    }]));
    let mut oversized = vec![protocol::PROTOCOL_VERSION];
    oversized.resize(protocol::MAX_FRAME + 1, 0);
    vec![
        ("empty frame", false, vec![], Ends::Error("empty frame")),
        (
            "unknown protocol version",
            false,
            vec![9, 0, 0],
            Ends::Error("version 9"),
        ),
        (
            "garbage after the version byte",
            false,
            vec![protocol::PROTOCOL_VERSION, 77, 1, 2],
            Ends::Error("undecodable"),
        ),
        (
            "truncated message",
            true,
            sync[..sync.len() / 2].to_vec(),
            Ends::Error("undecodable"),
        ),
        (
            "sync before hello",
            false,
            sync.clone(),
            Ends::Error("must open with hello"),
        ),
        (
            "hello twice",
            true,
            hello.clone(),
            Ends::Error("hello sent twice"),
        ),
        (
            "an opening with rows after hello",
            true,
            protocol::encode(&ClientMessage::Open {
                cursor: 0,
                rows: true,
            }),
            Ends::Error("hello sent twice"),
        ),
        (
            "a push from too many heads",
            true,
            protocol::encode(&ClientMessage::Push(vec![Push {
                doc: visible_doc,
                n: 1,
                since: vec![[7; 32]; 257],
                changes: vec![],
            }])),
            Ends::Error("at most 256 heads"),
        ),
        (
            "frame over the protocol limit",
            true,
            oversized,
            Ends::Error("exceeds the limit"),
        ),
        (
            "frame over the socket limit",
            true,
            vec![protocol::PROTOCOL_VERSION; 20 << 20],
            Ends::Cut,
        ),
    ]
}

fn new_case(unit: &str, actor: &ActorId) -> (DocId, AutoCommit) {
    let draft = CaseDraft::new(UnitId::new(unit).unwrap(), Channel::Visit, "测试案件");
    let case = CaseDoc::create(&draft, &Editor::new("mediator", NOW), actor.clone());
    (draft.id, case.into_doc())
}

/// Flips bytes near the end of a sync message, where the changes are.
fn corrupt(mut data: Vec<u8>) -> Vec<u8> {
    if data.len() > 40 {
        let n = data.len();
        for i in (n - 30)..(n - 10) {
            data[i] ^= 0x5a;
        }
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_and_bad_documents_get_reasons_and_the_server_serves_on() {
    count_panics();
    let server = TestServer::start().await;
    let actor = ActorId::random();
    let session = raw_login(&server.url, "mediator", &actor).await;

    // Another unit's case, for the rows about documents one may not see.
    let mut other = device(&server.url, "shitang").await;
    let hidden: DocId = other
        .new_case("shitang", "visit", "石塘镇的案件", NOW)
        .unwrap();
    other.sync().await.unwrap();

    // A well-behaved device keeps working between every row.
    let mut bystander = device(&server.url, "mediator2").await;
    let bystander_case = bystander
        .new_case("longxi", "visit", "旁观者的案件", NOW)
        .unwrap()
        .to_string();
    bystander.sync().await.unwrap();
    let mut bystander_notes = 0;
    let mut still_serving = async |row: &str| {
        bystander_notes += 1;
        let text = format!("第{bystander_notes}条记录");
        bystander.note(&bystander_case, &text, NOW).unwrap();
        let report = bystander
            .sync()
            .await
            .unwrap_or_else(|e| panic!("after {row}: {e}"));
        assert!(
            report.refused.is_empty(),
            "after {row}: {:?}",
            report.refused
        );
        let notes = find_case(&bystander, &bystander_case)["notes"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(notes.contains(&text));
    };

    for (row, hello_first, frame, ends) in frame_rows(hidden) {
        let mut socket = connect(&server.url, &session.token).await;
        if hello_first {
            open(&mut socket, 0).await;
        }
        send(&mut socket, frame).await;
        let heard = next(&mut socket).await;
        match (ends, heard) {
            (Ends::Error(expected), Heard::Message(ServerMessage::Error(reason))) => {
                assert!(reason.contains(expected), "{row}: {reason}");
                assert!(
                    matches!(next(&mut socket).await, Heard::Closed(_)),
                    "{row}: closed after the error"
                );
            }
            (Ends::Cut, Heard::Closed(code)) => {
                assert!(code.is_none() || code == Some(1009), "{row}: {code:?}")
            }
            (Ends::Cut, Heard::Message(ServerMessage::Error(reason))) => {
                assert!(reason.contains("too long"), "{row}: {reason}")
            }
            (_, heard) => panic!("{row}: heard {heard:?}"),
        }
        // A text frame is a row of its own: it is not binary.
        still_serving(row).await;
    }
    {
        let mut socket = connect(&server.url, &session.token).await;
        open(&mut socket, 0).await;
        let _ = futures_util::SinkExt::send(
            &mut socket,
            tokio_tungstenite::tungstenite::Message::Text("hello".into()),
        )
        .await;
        match next(&mut socket).await {
            Heard::Message(ServerMessage::Error(reason)) => {
                assert!(reason.contains("text frames"), "{reason}")
            }
            other => panic!("text frame: heard {other:?}"),
        }
        still_serving("text frame").await;
    }

    // Document-level rows: the item is refused with a reason, the connection stays open,
    // nothing is stored and the refused bytes are kept aside.
    let mut socket = connect(&server.url, &session.token).await;
    open(&mut socket, 0).await;
    let quarantined = || server.state.store.quarantined().unwrap().len();
    let stored = |id: &DocId| server.state.store.load_doc(id).unwrap().is_some();

    // Garbage where a sync message should be, for an unknown id.
    let unknown = DocId::random();
    send(
        &mut socket,
        protocol::encode(&ClientMessage::Sync(vec![SyncItem {
            doc: unknown,
            data: vec![0x42, 7, 7, 7],
        }])),
    )
    .await;
    match next(&mut socket).await {
        Heard::Message(ServerMessage::Replies(r)) => match &r[0].outcome {
            Outcome::Refused(reason) => assert!(reason.contains("undecodable"), "{reason}"),
            other => panic!("garbage sync data: {other:?}"),
        },
        other => panic!("garbage sync data: heard {other:?}"),
    }
    assert!(!stored(&unknown));
    assert_eq!(quarantined(), 1);
    still_serving("garbage sync data").await;

    // A case whose change bytes were damaged in transit.
    let (id, mut doc) = new_case("longxi", &actor);
    let reason = push_with(&mut socket, id, &mut doc, corrupt)
        .await
        .unwrap_err();
    assert!(
        reason.contains("undecodable") || reason.contains("corrupt"),
        "{reason}"
    );
    assert!(!stored(&id));
    assert_eq!(quarantined(), 2);
    still_serving("corrupt changes").await;

    // A document that is not a case at all.
    let id = DocId::random();
    let mut doc = AutoCommit::new().with_actor(actor.clone());
    doc.put(ROOT, "anything", "goes").unwrap();
    let reason = push_doc(&mut socket, id, &mut doc).await.unwrap_err();
    assert!(reason.contains("schema violation"), "{reason}");
    assert!(!stored(&id));
    still_serving("not a case").await;

    // A case sent under another case's id.
    let (_, mut doc) = new_case("longxi", &actor);
    let claimed = DocId::random();
    let reason = push_doc(&mut socket, claimed, &mut doc).await.unwrap_err();
    assert!(reason.contains("says it is"), "{reason}");
    assert!(!stored(&claimed));
    still_serving("wrong id").await;

    // A case for a unit that does not exist.
    let (id, mut doc) = new_case("atlantis", &actor);
    let reason = push_doc(&mut socket, id, &mut doc).await.unwrap_err();
    assert!(reason.contains("unknown unit"), "{reason}");
    assert!(!stored(&id));
    still_serving("unknown unit").await;

    // A case signed with an actor other than the one registered at login.
    let (id, mut doc) = new_case("longxi", &ActorId::random());
    let reason = push_doc(&mut socket, id, &mut doc).await.unwrap_err();
    assert!(reason.contains("registered as"), "{reason}");
    assert!(!stored(&id));
    still_serving("forged actor").await;

    // A case of a unit this user may not see: refused, and nothing about it is sent back.
    let (_, mut doc) = new_case("longxi", &actor);
    let reason = push_doc(&mut socket, hidden, &mut doc).await.unwrap_err();
    assert!(reason.contains("not visible"), "{reason}");
    still_serving("another unit's case").await;

    // The same through a push (changes since known heads), the short way a reconnect takes.
    let mut n = 0;
    let mut push = async |socket: &mut Socket, doc: DocId, since: Vec<[u8; 32]>, changes| {
        n += 1;
        send(
            socket,
            protocol::encode(&ClientMessage::Push(vec![Push {
                doc,
                n,
                since,
                changes,
            }])),
        )
        .await;
        loop {
            match next(socket).await {
                Heard::Message(ServerMessage::Pushed(p)) => {
                    assert_eq!((p.len(), p[0].n), (1, n));
                    break p[0].outcome.clone();
                }
                Heard::Message(ServerMessage::Changed(_)) => continue,
                other => panic!("expected an answer to a push, heard {other:?}"),
            }
        }
    };
    let all = |doc: &mut AutoCommit| -> Vec<Vec<u8>> {
        doc.get_changes(&[])
            .into_iter()
            .map(|mut c| c.bytes().into_owned())
            .collect()
    };
    let before = quarantined();
    let (id, _) = new_case("longxi", &actor);
    match push(
        &mut socket,
        id,
        vec![],
        vec![vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]],
    )
    .await
    {
        PushOutcome::Refused(reason) => assert!(
            reason.contains("undecodable") || reason.contains("corrupt"),
            "{reason}"
        ),
        other => panic!("garbage pushed: {other:?}"),
    }
    assert!(!stored(&id));
    assert_eq!(quarantined(), before + 1, "the refused push is kept aside");
    still_serving("garbage pushed").await;
    let (id, mut doc) = new_case("longxi", &ActorId::random());
    match push(&mut socket, id, vec![], all(&mut doc)).await {
        PushOutcome::Refused(reason) => assert!(reason.contains("registered as"), "{reason}"),
        other => panic!("forged actor pushed: {other:?}"),
    }
    assert!(!stored(&id));
    still_serving("forged actor pushed").await;
    let (id, mut doc) = new_case("longxi", &actor);
    match push(&mut socket, id, vec![[9; 32]], all(&mut doc)).await {
        PushOutcome::Unknown => {}
        other => panic!("a push from heads the server never had: {other:?}"),
    }
    assert!(!stored(&id), "nothing is taken from unknown heads");
    still_serving("a push from unknown heads").await;
    let bomb = automerge::sync::Message::decode(&lianxin_shared::inflation_bomb(1 << 30)).unwrap();
    let (id, _) = new_case("longxi", &actor);
    let chunks: Vec<Vec<u8>> = bomb.changes.iter().map(<[u8]>::to_vec).collect();
    match push(&mut socket, id, vec![], chunks).await {
        PushOutcome::Refused(reason) => assert!(reason.contains("too large"), "{reason}"),
        other => panic!("an inflation bomb pushed: {other:?}"),
    }
    assert!(!stored(&id));
    still_serving("an inflation bomb pushed").await;
    let (_, mut doc) = new_case("longxi", &actor);
    match push(&mut socket, hidden, vec![], all(&mut doc)).await {
        PushOutcome::Refused(reason) => assert!(reason.contains("not visible"), "{reason}"),
        other => panic!("another unit's case pushed: {other:?}"),
    }
    still_serving("another unit's case pushed").await;

    // A tampered device's edits to a case it may see, written through Automerge or with a
    // doctored editor: each refused with its reason, nothing of it stored.
    let m = Editor::new("mediator", NOW);
    let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "篡改测试");
    let mut good = CaseDoc::create(&draft, &m, actor.clone());
    good.add_follow_up(
        &m,
        &lianxin_shared::FollowUpDraft {
            text: "同事的回访".into(),
            ..Default::default()
        },
    )
    .unwrap();
    good.append_note(&m, "同事的记录").unwrap();
    let mut stored_doc = good.doc().clone();
    push_doc(&mut socket, draft.id, &mut stored_doc)
        .await
        .unwrap();
    let heads = |id: &DocId| {
        let (bytes, _, _) = server.state.store.load_doc(id).unwrap().unwrap();
        AutoCommit::load(&bytes).unwrap().get_heads()
    };
    let before = heads(&draft.id);
    type Tamper = Box<dyn Fn(&mut CaseDoc)>;
    let tampering: Vec<(&str, &str, Tamper)> = vec![
        (
            "forged authorship",
            "\"mediator\" is signed in",
            Box::new(|c| {
                c.add_follow_up(
                    &Editor::new("leader", NOW),
                    &lianxin_shared::FollowUpDraft {
                        text: "冒名".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
            }),
        ),
        (
            "a time in the year 2230",
            "ahead of the server's clock",
            Box::new(|c| {
                c.append_note(&Editor::new("mediator", 8_200_000_000_000), "未来")
                    .unwrap()
            }),
        ),
        (
            "a colleague's follow-up deleted",
            "may not be removed",
            Box::new(|c| {
                let mut doc = c.doc().clone();
                let (_, list) = doc.get(ROOT, "follow_ups").unwrap().unwrap();
                doc.delete(&list, 0).unwrap();
                *c = CaseDoc::from_doc(doc).unwrap();
            }),
        ),
        (
            "the notes erased",
            "text may not be removed",
            Box::new(|c| {
                let mut doc = c.doc().clone();
                let (_, notes) = doc.get(ROOT, "notes").unwrap().unwrap();
                let n = doc.length(&notes);
                doc.splice_text(&notes, 0, n as isize, "").unwrap();
                *c = CaseDoc::from_doc(doc).unwrap();
            }),
        ),
        (
            "another township added by a mediator",
            "may not assign",
            Box::new(|c| {
                c.set_assisting(
                    &Editor::new("mediator", NOW),
                    &UnitId::new("shitang").unwrap(),
                    true,
                )
                .unwrap()
            }),
        ),
        (
            "a conclusion by a mediator",
            "may not record acceptance",
            Box::new(|c| {
                c.add_step(
                    &Editor::new("mediator", NOW),
                    &lianxin_shared::StepDraft {
                        kind: lianxin_shared::StepKind::Concluded,
                        on: "2026-09-20".parse().unwrap(),
                        reason: None,
                        outcome: Some("upheld".into()),
                    },
                )
                .unwrap();
            }),
        ),
    ];
    for (row, expected, tamper) in &tampering {
        let mut c = CaseDoc::from_doc(stored_doc.clone()).unwrap();
        tamper(&mut c);
        let mut doc = c.into_doc();
        let reason = match push_doc(&mut socket, draft.id, &mut doc).await {
            Err(reason) => reason,
            Ok(()) => panic!("{row}: accepted"),
        };
        assert!(reason.contains(expected), "{row}: {reason}");
        assert_eq!(heads(&draft.id), before, "{row}: nothing stored");
        still_serving(row).await;
    }

    // A second conclusion, from the handler of the responsible unit.
    let handler_actor = ActorId::random();
    let handler = raw_login(&server.url, "handler", &handler_actor).await;
    let mut handler_socket = connect(&server.url, &handler.token).await;
    open(&mut handler_socket, 0).await;
    let h = Editor::new("handler", NOW);
    let draft = CaseDraft::new(UnitId::new("hrss").unwrap(), Channel::Letter, "欠薪");
    let mut theirs = CaseDoc::create(&draft, &h, handler_actor.clone());
    let conclude = lianxin_shared::StepDraft {
        kind: lianxin_shared::StepKind::Concluded,
        on: "2026-09-20".parse().unwrap(),
        reason: None,
        outcome: Some("explained".into()),
    };
    theirs.add_step(&h, &conclude).unwrap();
    let mut once = theirs.doc().clone();
    push_doc(&mut handler_socket, draft.id, &mut once)
        .await
        .unwrap();
    theirs.add_step(&h, &conclude).unwrap();
    let mut twice = theirs.into_doc();
    let reason = push_doc(&mut handler_socket, draft.id, &mut twice)
        .await
        .unwrap_err();
    assert!(reason.contains("concluded already"), "{reason}");
    still_serving("a second conclusion").await;

    // An unknown id with nothing in it: nothing is created and nothing is sent.
    let id = DocId::random();
    let mut empty = AutoCommit::new().with_actor(actor.clone());
    push_doc(&mut socket, id, &mut empty).await.unwrap();
    assert!(!stored(&id));

    // After all that the same connection still takes a good case.
    let (id, mut doc) = new_case("longxi", &actor);
    push_doc(&mut socket, id, &mut doc).await.unwrap();
    assert!(stored(&id));
    let refused = server.state.store.quarantined().unwrap().len();
    // Seven sync items, four pushes (the unknown heads are no refusal), six tampered edits, one
    // second conclusion.
    assert_eq!(
        refused,
        7 + 4 + 6 + 1,
        "every refused change was kept aside"
    );
    still_serving("the end").await;
    assert_eq!(panics(), 0, "nothing panicked, not even inside a guard");
}
