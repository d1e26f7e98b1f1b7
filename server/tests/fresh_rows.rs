//! A new device's opening with rows ([`ClientMessage::Open`]): every document new to it comes
//! with the heads its bytes hold and the caseload row the device would make itself — a case's
//! with its personal details when they come too, without them for a unit that may not have
//! them — so the tablet stores them as they came and lists them without loading one. Rows are
//! kept by heads and calendar: an edit or a new holiday makes them again; an old device's
//! hello still gets plain snapshots.

mod common;

use std::collections::HashMap;

use automerge::{ActorId, AutoCommit};
use common::*;
use lianxin_server::{demo, now_ms};
use lianxin_shared::protocol::{self, ClientMessage, Fresh, ServerMessage};
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, DocId, Kind, StoredRow, UnitId, load_document, unpack_rows};

/// A new device of `username`: its opening with rows (the fresh items) and everything else
/// it heard up to the welcome.
async fn opening(url: &str, username: &str, rows: bool) -> (Vec<Fresh>, Vec<ServerMessage>) {
    let login = raw_login(url, username, &ActorId::random()).await;
    let mut socket = connect(url, &login.token).await;
    let hello = if rows {
        ClientMessage::Open { cursor: 0, rows }
    } else {
        ClientMessage::Hello { cursor: 0 }
    };
    send(&mut socket, protocol::encode(&hello)).await;
    let (mut fresh, mut other) = (Vec::new(), Vec::new());
    loop {
        match next(&mut socket).await {
            Heard::Message(ServerMessage::Fresh(items)) => fresh.extend(items),
            Heard::Message(m @ ServerMessage::Welcome { .. }) => {
                other.push(m);
                // A second opening in the same session is refused, and the session ends.
                send(&mut socket, protocol::encode(&hello)).await;
                match next(&mut socket).await {
                    Heard::Message(ServerMessage::Error(reason)) => {
                        assert!(reason.contains("hello sent twice"), "{reason}")
                    }
                    heard => panic!("expected the refusal, heard {heard:?}"),
                }
                assert!(matches!(next(&mut socket).await, Heard::Closed(_)));
                return (fresh, other);
            }
            Heard::Message(m) => other.push(m),
            heard => panic!("expected the opening, heard {heard:?}"),
        }
    }
}

/// Checks every item against what a device makes of the same documents: the heads of the
/// bytes, and the row of `AnyDoc::row_of` with the details that came along. Returns the rows.
fn check_rows(fresh: &[Fresh], calendar: &Calendar) -> HashMap<DocId, StoredRow> {
    let docs: HashMap<DocId, AutoCommit> = fresh
        .iter()
        .map(|f| (f.doc, load_document(&f.bytes).unwrap()))
        .collect();
    let mut rows = HashMap::new();
    for f in fresh {
        let mut doc = docs[&f.doc].clone();
        assert_eq!(protocol::heads_to_wire(&doc.get_heads()), f.heads);
        let details = docs.get(&DocId::details_of(&f.doc));
        let made = AnyDoc::row_of(&doc, details, &Limits::default(), calendar).unwrap();
        let packed = f.row.as_ref().expect("every demo document has a row");
        let sent = unpack_rows(packed).unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, f.doc, "the row is the document's");
        assert_eq!(sent[0].1, made, "the row a device makes of {}", f.doc);
        rows.insert(f.doc, made);
    }
    rows
}

#[tokio::test]
async fn a_new_device_gets_each_document_with_its_heads_and_the_row_it_would_make() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let store = &server.state.store;
    demo::store_cases(store, 40, 7, now_ms()).unwrap();
    let calendar = store.calendar().unwrap();

    let (fresh, other) = opening(&url, "mediator", true).await;
    assert!(
        !other
            .iter()
            .any(|m| matches!(m, ServerMessage::Snapshots(_))),
        "an open asking for rows gets no plain snapshots"
    );
    assert!(!fresh.is_empty());
    let rows = check_rows(&fresh, &calendar);
    let cases = fresh
        .iter()
        .filter(|f| matches!(rows[&f.doc], StoredRow::Case(_)))
        .count();
    let with_details = fresh
        .iter()
        .filter(|f| fresh.iter().any(|d| d.doc == DocId::details_of(&f.doc)))
        .count();
    assert!(
        cases > 0 && with_details == cases,
        "{cases} / {with_details}"
    );
    let n = fresh.len() as u64;
    assert_eq!(server.state.rows_made(), (n, 0));

    // A second new device: the same items, the rows reused.
    let (again, _) = opening(&url, "mediator", true).await;
    assert_eq!(again, fresh);
    assert_eq!(server.state.rows_made(), (n, n));

    // An old device's hello: plain snapshots of the same documents.
    let (none, other) = opening(&url, "mediator", false).await;
    assert!(none.is_empty());
    let mut plain: Vec<DocId> = other
        .iter()
        .flat_map(|m| match m {
            ServerMessage::Snapshots(s) => s.iter().map(|s| s.doc).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut ids: Vec<DocId> = fresh.iter().map(|f| f.doc).collect();
    plain.sort();
    ids.sort();
    assert_eq!(plain, ids);

    // An edit makes that case's row again (its details' row is reused), and the row shows it.
    let case = fresh
        .iter()
        .find(|f| matches!(rows[&f.doc], StoredRow::Case(_)))
        .unwrap()
        .doc;
    let mut mediator = device(&url, "mediator").await;
    mediator.sync().await.unwrap();
    mediator
        .set(
            &case.to_string(),
            "summary",
            "村民反映修路占地补偿未到位",
            now_ms(),
        )
        .unwrap();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
    let (edited, _) = opening(&url, "mediator", true).await;
    let after = check_rows(&edited, &calendar);
    let StoredRow::Case(row) = &after[&case] else {
        panic!("a case row");
    };
    assert_eq!(row.summary, "村民反映修路占地补偿未到位");
    let changed = edited.iter().find(|f| f.doc == case).unwrap();
    let before = fresh.iter().find(|f| f.doc == case).unwrap();
    assert_ne!(changed.heads, before.heads);
    assert_eq!(server.state.rows_made(), (n + 1, n + n - 1));

    // A holiday added to the calendar: every row is made again, with it.
    let day = lianxin_shared::Date::from_unix_ms_china(now_ms());
    store.set_calendar_day(day, false).unwrap();
    let calendar = store.calendar().unwrap();
    assert!(calendar.holidays.contains(&day));
    let (later, _) = opening(&url, "mediator", true).await;
    check_rows(&later, &calendar);
    assert_eq!(server.state.rows_made().0, 2 * n + 1);
}

const ID_NUMBER: &str = "430581196504120017";

#[tokio::test]
async fn a_unit_without_the_details_gets_the_row_made_without_them() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut mediator = device(&url, "mediator").await;
    let id = mediator
        .new_case("longxi", "visit", "王某反映宅基地被占", now_ms())
        .unwrap();
    let case = id.to_string();
    mediator
        .add_petitioner(
            &case,
            "王某",
            [Some(ID_NUMBER.into()), Some("13807390011".into()), None],
            now_ms(),
        )
        .unwrap();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
    // The bureau's registrar asks 石塘乡 to assist (it does not get the details).
    let mut registrar = device(&url, "registrar").await;
    registrar.sync().await.unwrap();
    registrar
        .edit_case(&case, now_ms(), |c, ed| {
            c.set_assisting(ed, &UnitId::new("shitang").unwrap(), true)
        })
        .unwrap();
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    let calendar = server.state.store.calendar().unwrap();

    // 龙溪镇 handles it: the case and its details, the row made with them.
    let (own, _) = opening(&url, "mediator", true).await;
    let rows = check_rows(&own, &calendar);
    assert!(own.iter().any(|f| f.doc == DocId::details_of(&id)));

    // 石塘乡 assists: the case alone, its row made without the details, and none of them in
    // what it was sent.
    let (assisting, _) = opening(&url, "shitang", true).await;
    assert_eq!(
        assisting.iter().map(|f| f.doc).collect::<Vec<_>>(),
        vec![id]
    );
    let theirs = check_rows(&assisting, &calendar);
    let doc = load_document(&assisting[0].bytes).unwrap();
    assert_eq!(Kind::of(&doc).unwrap(), Kind::Case);
    assert_eq!(
        theirs[&id],
        AnyDoc::row_of(&doc, None, &Limits::default(), &calendar).unwrap()
    );
    assert_ne!(
        theirs[&id], rows[&id],
        "the handling unit's row has the details"
    );
    let row = assisting[0].row.as_ref().unwrap();
    assert!(
        !row.windows(ID_NUMBER.len())
            .any(|w| w == ID_NUMBER.as_bytes()),
        "no ID number in the row"
    );
}
