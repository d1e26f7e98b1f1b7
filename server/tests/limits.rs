//! The server keeps serving whatever one user sends: each attack that once took it down or made
//! it grow without bound is answered with a clear refusal, the other users are served, and
//! nothing unbounded is stored.

mod common;

use automerge::{AutoCommit, ROOT, ReadDoc, sync::SyncDoc, transaction::Transactable};
use common::*;
use lianxin_server::limits::{CONNECTIONS_PER_USER, DOC_CACHE_SLOTS, FRAME_BURST};
use lianxin_server::store::QUARANTINE_BYTES_PER_USER;
use lianxin_shared::protocol::{self, ClientMessage, Outcome, ServerMessage, SyncItem};
use lianxin_shared::{CaseDoc, CaseDraft, Channel, DocId, Editor, FollowUpDraft, UnitId};

const NOW: i64 = 1_790_000_000_000;

/// A sync message carrying `chunk` as its changes.
fn message_with(chunk: Vec<u8>) -> Vec<u8> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "x", 1).unwrap();
    let mut m = doc
        .sync()
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap();
    m.changes = automerge::sync::ChunkList::from(chunk);
    m.encode()
}

/// The next message that is not a live notice of another device's change.
async fn next_own(socket: &mut Socket) -> Heard {
    loop {
        match next(socket).await {
            Heard::Message(ServerMessage::Changed(_)) => continue,
            other => return other,
        }
    }
}

fn sync_frame(items: Vec<SyncItem>) -> Vec<u8> {
    protocol::encode(&ClientMessage::Sync(items))
}

/// Sends one sync item and returns the server's reply to it.
async fn one_item(socket: &mut Socket, doc: DocId, data: Vec<u8>) -> Outcome {
    send(socket, sync_frame(vec![SyncItem { doc, data }])).await;
    loop {
        match next(socket).await {
            Heard::Message(ServerMessage::Replies(r)) => return r[0].outcome.clone(),
            Heard::Message(ServerMessage::Changed(_)) => continue,
            other => panic!("expected a reply, heard {other:?}"),
        }
    }
}

fn refused(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Refused(reason) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The server's answer to a login: (status, body).
fn try_login(url: &str, username: &str, password: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = serde_json::json!({
        "username": username,
        "password": password,
        "actor": automerge::ActorId::random().to_hex_string(),
    });
    let mut resp = agent
        .post(format!("{url}/api/login"))
        .send_json(&request)
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_users_attacks_are_refused_and_everyone_else_is_served() {
    count_panics();
    let server = TestServer::start().await;
    let actor = automerge::ActorId::random();
    let session = raw_login(&server.url, "mediator", &actor).await;

    let mut bystander = device(&server.url, "mediator2").await;
    let theirs = bystander
        .new_case("longxi", "visit", "旁观者的案件", NOW)
        .unwrap()
        .to_string();
    bystander.sync().await.unwrap();
    let mut notes = 0;
    let mut still_serving = async |row: &str| {
        notes += 1;
        bystander
            .note(&theirs, &format!("第{notes}条"), NOW)
            .unwrap();
        let report = bystander
            .sync()
            .await
            .unwrap_or_else(|e| panic!("after {row}: {e}"));
        assert!(
            report.refused.is_empty(),
            "after {row}: {:?}",
            report.refused
        );
    };
    let mut socket = connect(&server.url, &session.token).await;
    open(&mut socket, 0).await;

    // A compressed change that inflates to 1 GiB, in a frame of about 1 MB: refused once the
    // count passes the limit, before anything is inflated into memory.
    let frame = lianxin_shared::inflation_bomb(1 << 30);
    assert!(frame.len() < 2 << 20, "{} bytes", frame.len());
    let id = DocId::random();
    let reason = refused(&one_item(&mut socket, id, frame).await).to_string();
    assert!(reason.contains("inflate to more than"), "{reason}");
    assert!(server.state.store.load_doc(&id).unwrap().is_none());
    still_serving("an inflation bomb").await;

    // A well-formed change writing a 40 MiB string, compressed as Automerge compresses large
    // changes, in a frame of about 100 KB: refused, nothing stored.
    let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "大字段");
    let case = CaseDoc::create(&draft, &Editor::new("mediator", NOW), actor.clone());
    let mut doc = case.clone().into_doc();
    let heads = doc.get_heads();
    let fields = match doc.get(ROOT, "fields").unwrap() {
        Some((_, f)) => f,
        None => unreachable!(),
    };
    let cell = doc
        .put_object(&fields, "handler", automerge::ObjType::Map)
        .unwrap();
    doc.put(&cell, "v", "长".repeat(14 << 20)).unwrap();
    doc.commit();
    let change = doc.get_changes(&heads).remove(0);
    let raw = change.raw_bytes();
    // Chunk header: magic (4), checksum (4), type (1), length (LEB128), then the data.
    let mut at = 9;
    while raw[at] & 0x80 != 0 {
        at += 1;
    }
    let deflated = miniz_oxide::deflate::compress_to_vec(&raw[at + 1..], 6);
    let mut chunk = raw[..8].to_vec();
    chunk.push(2);
    let mut len = deflated.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        chunk.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    chunk.extend(deflated);
    let mut push = case.clone().into_doc();
    push_doc(&mut socket, draft.id, &mut push).await.unwrap();
    let frame = message_with(chunk);
    assert!(frame.len() < 1 << 20, "{} bytes", frame.len());
    let reason = refused(&one_item(&mut socket, draft.id, frame).await).to_string();
    assert!(reason.contains("inflate to more than"), "{reason}");
    let stored = server.state.store.load_doc(&draft.id).unwrap().unwrap().0;
    assert!(stored.len() < 100_000, "{} bytes stored", stored.len());
    still_serving("a 40 MiB value").await;

    // A 3 MB summary on a stored case (10 MB once took the whole county's devices down):
    // refused, the case is left as it was.
    push_doc(&mut socket, draft.id, &mut case.clone().into_doc())
        .await
        .unwrap();
    let before = server.state.store.load_doc(&draft.id).unwrap().unwrap().0;
    let mut big = case.clone().into_doc();
    let summary = match big.get(ROOT, "summary").unwrap() {
        Some((_, s)) => s,
        None => unreachable!(),
    };
    big.splice_text(&summary, 0, 0, &"诉".repeat(1_000_000))
        .unwrap();
    big.commit();
    let reason = push_doc(&mut socket, draft.id, &mut big).await.unwrap_err();
    assert!(
        reason.contains("too large") || reason.contains("summary"),
        "{reason}"
    );
    assert_eq!(
        server.state.store.load_doc(&draft.id).unwrap().unwrap().0,
        before
    );
    still_serving("a 3 MB summary").await;

    // Items for 20,000 random ids: answered as unknown, and the server keeps no slot for them.
    let empty = AutoCommit::new()
        .sync()
        .generate_sync_message(&mut automerge::sync::State::new())
        .map(|m| m.encode());
    let empty = empty.unwrap_or_else(|| message_with(Vec::new()));
    for _ in 0..20 {
        let items: Vec<SyncItem> = (0..protocol::MAX_ITEMS)
            .map(|_| SyncItem {
                doc: DocId::random(),
                data: empty.clone(),
            })
            .collect();
        send(&mut socket, sync_frame(items)).await;
        let mut answered = 0;
        while answered < protocol::MAX_ITEMS {
            match next(&mut socket).await {
                Heard::Message(ServerMessage::Replies(r)) => answered += r.len(),
                Heard::Message(ServerMessage::Changed(_)) => {}
                other => panic!("random ids: heard {other:?}"),
            }
        }
    }
    assert!(
        server.state.cached_docs() < 50,
        "{} slots kept after 20,000 unknown ids",
        server.state.cached_docs()
    );
    assert!(DOC_CACHE_SLOTS >= 1_000);
    still_serving("20,000 random ids").await;

    // 100,000 items in one frame: the frame is refused whole and the connection closed.
    let items: Vec<SyncItem> = (0..100_000)
        .map(|_| SyncItem {
            doc: DocId::random(),
            data: vec![0x42],
        })
        .collect();
    send(&mut socket, sync_frame(items)).await;
    match next_own(&mut socket).await {
        Heard::Message(ServerMessage::Error(reason)) => {
            assert!(reason.contains("at most 1000 sync items"), "{reason}")
        }
        other => panic!("100,000 items: heard {other:?}"),
    }
    still_serving("100,000 items in a frame").await;

    // Refusals with 1 MiB of garbage each, 40 MiB in all: the quarantine keeps the first
    // 16 MiB of this user's and counts the rest.
    let mut socket = connect(&server.url, &session.token).await;
    open(&mut socket, 0).await;
    for _ in 0..10 {
        let items: Vec<SyncItem> = (0..4)
            .map(|_| SyncItem {
                doc: DocId::random(),
                data: vec![0x42; 1 << 20],
            })
            .collect();
        send(&mut socket, sync_frame(items)).await;
        let mut answered = 0;
        while answered < 4 {
            match next_own(&mut socket).await {
                Heard::Message(ServerMessage::Replies(r)) => answered += r.len(),
                other => panic!("garbage: heard {other:?}"),
            }
        }
    }
    let kept = server.state.store.quarantined_bytes("mediator").unwrap();
    assert!(
        kept <= QUARANTINE_BYTES_PER_USER as u64,
        "{kept} bytes kept"
    );
    assert!(
        kept >= (QUARANTINE_BYTES_PER_USER as u64) / 2,
        "the first ones are kept: {kept}"
    );
    let overflow = server.state.store.quarantine_overflow().unwrap();
    assert!(
        overflow.iter().any(|(u, n, _)| u == "mediator" && *n >= 20),
        "{overflow:?}"
    );
    still_serving("a quarantine flood").await;

    // Frames as fast as the socket takes them: after the burst, told to slow down and closed.
    let mut flood = connect(&server.url, &session.token).await;
    open(&mut flood, 0).await;
    let frames = FRAME_BURST as usize * 2;
    for _ in 0..frames {
        send(&mut flood, sync_frame(Vec::new())).await;
    }
    let mut told = None;
    for _ in 0..frames + 1 {
        match next_own(&mut flood).await {
            Heard::Message(ServerMessage::Replies(_)) => {}
            Heard::Message(ServerMessage::Error(reason)) => {
                told = Some(reason);
                break;
            }
            other => panic!("frame flood: heard {other:?}"),
        }
    }
    let told = told.expect("the flood was stopped");
    assert!(told.contains("too many frames"), "{told}");
    still_serving("a frame flood").await;

    // Connections: this user's ninth at once is refused before the upgrade.
    drop(socket);
    drop(flood);
    // The flooded connection is released once the server has stopped draining it: at most
    // 2 s after its reason (sync.rs), so the wait is longer than that.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let mut held = Vec::new();
    for _ in 0..CONNECTIONS_PER_USER {
        held.push(connect(&server.url, &session.token).await);
    }
    let ws = format!("{}/api/sync", server.url.replacen("http", "ws", 1));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws.as_str())
            .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", session.token).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 429)
        }
        other => panic!("a connection too many: {:?}", other.map(|_| ())),
    }
    drop(held.pop());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    held.push(connect(&server.url, &session.token).await);
    still_serving("too many connections").await;
    drop(held);

    // 256 wrong-password logins at once, for an account and for no account: each answered
    // (401; 503 beyond the password checks the server runs together and the short queue
    // waiting for them; 429 once the address or the account is throttled), and the same
    // answer for a user who does not exist as for a wrong password.
    let url = server.url.clone();
    let answers = tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..256)
                .map(|i| {
                    let url = url.clone();
                    s.spawn(move || {
                        let user = if i % 2 == 0 { "mediator" } else { "nobody" };
                        try_login(&url, user, "wrong password")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        })
    })
    .await
    .unwrap();
    let busy = answers.iter().filter(|(s, _)| *s == 503).count();
    let wrong = answers.iter().filter(|(s, _)| *s == 401).count();
    let throttled = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(busy + wrong + throttled, 256, "{answers:?}");
    assert!(
        wrong > 0 && busy + throttled > 0,
        "{wrong} wrong, {busy} busy, {throttled} throttled"
    );
    let digits =
        |(status, body): (u16, String)| (status, body.replace(|c: char| c.is_ascii_digit(), ""));
    let unknown = digits(try_login(&server.url, "nobody", "wrong password"));
    let known = digits(try_login(&server.url, "mediator", "wrong password"));
    assert_eq!(
        unknown, known,
        "an unknown user looks like a wrong password"
    );
    still_serving("a login storm").await;
    assert_eq!(panics(), 0);
}

/// Nothing the server sends is larger than a client accepts: a case near the size limit
/// reaches a brand-new device, and a change that would take it past the limit is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_near_the_size_limit_reaches_a_new_device_and_cannot_grow_past_it() {
    let server = TestServer::start().await;
    let mut tablet = device(&server.url, "mediator").await;
    let id = tablet
        .new_case("longxi", "visit", "一个很长的案件", NOW)
        .unwrap()
        .to_string();
    tablet.sync().await.unwrap();
    // Follow-ups of 9,000 varied characters each, synced a few at a time, until the stored
    // case is near the limit.
    let mut seed = 1u64;
    let mut text = |n: usize| -> String {
        (0..n)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from_u32(0x4e00 + ((seed >> 33) % 6000) as u32).unwrap_or('字')
            })
            .collect()
    };
    let stored = |server: &TestServer| {
        let id: DocId = id.parse().unwrap();
        server.state.store.load_doc(&id).unwrap().unwrap().0.len()
    };
    let mut refused = None;
    for round in 0..200 {
        for _ in 0..5 {
            let draft = FollowUpDraft {
                text: text(9_000),
                ..Default::default()
            };
            tablet
                .edit_case(&id, NOW, |c, ed| c.add_follow_up(ed, &draft))
                .unwrap();
        }
        let report = tablet.sync().await.unwrap();
        if !report.refused.is_empty() {
            refused = Some((round, report.refused));
            break;
        }
    }
    let (_, reasons) = refused.expect("the case reached the limit");
    assert!(
        reasons.iter().any(|(_, r)| r.contains("the limit is")),
        "{reasons:?}"
    );
    let size = stored(&server);
    assert!(size <= protocol::MAX_DOC_BYTES, "{size}");
    assert!(
        size > protocol::MAX_DOC_BYTES * 3 / 4,
        "near the limit: {size}"
    );
    // A brand-new device of the same unit gets the whole case in its first sync.
    let mut fresh = device(&server.url, "mediator2").await;
    fresh.sync().await.unwrap();
    let case = find_case(&fresh, &id);
    let got = case["follow_ups"].as_array().unwrap().len();
    assert!(got >= 50, "{got} follow-ups arrived");
}
