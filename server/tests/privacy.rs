//! Personal data only where the case is handled (DOMAIN.md "Privacy and scope"), through real
//! sockets: the ID number, phone and address reach the devices of the registering unit, the
//! responsible unit and the bureau; an assisting unit's device receives the case with them
//! masked, and its raw local store — the SQLite file and every change of every document in
//! it, uncompressed — holds none of them. A device that tries to write or make details it may
//! not is refused.

mod common;

use automerge::AutoCommit;
use common::*;
use lianxin_server::now_ms;
use lianxin_shared::{CaseDoc, CaseDraft, Channel, DetailsDoc, DocId, Editor, UnitId};

const ID_NUMBER: &str = "430581196504120017";
const PHONE: &str = "13807390011";
const ADDRESS: &str = "龙溪镇王庄村三组十七号";

/// Every byte the device keeps, and every document it keeps saved uncompressed (so a value
/// in a compressed column, or one overwritten long ago, is seen too).
fn raw_store(d: &TestDevice) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(home(d)).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            out.push(std::fs::read(&path).unwrap());
        }
    }
    let db = rusqlite::Connection::open(home(d).join("device.sqlite")).unwrap();
    let mut stmt = db.prepare("SELECT doc FROM docs").unwrap();
    let docs: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!docs.is_empty());
    for bytes in docs {
        out.push(AutoCommit::load(&bytes).unwrap().save_nocompress());
    }
    out
}

fn holds(store: &[Vec<u8>], secret: &str) -> bool {
    store
        .iter()
        .any(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
}

fn petitioner(d: &TestDevice, id: &str) -> serde_json::Value {
    find_case(d, id)["petitioners"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_details_reach_only_the_handling_units_devices_and_show_masked_elsewhere() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    // 龙溪镇's mediator registers the case, with the petitioner's details.
    let mut mediator = device(&url, "mediator").await;
    let id = mediator
        .new_case("longxi", "visit", "王某反映宅基地被占", now_ms())
        .unwrap();
    let case = id.to_string();
    mediator
        .add_petitioner(
            &case,
            "王某",
            [
                Some(ID_NUMBER.into()),
                Some(PHONE.into()),
                Some(ADDRESS.into()),
            ],
            now_ms(),
        )
        .unwrap();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
    assert_eq!(petitioner(&mediator, &case)["id_number"], ID_NUMBER);

    // The bureau's registrar has them in full, makes 县自然资源局 responsible (it gets them
    // too) and asks 石塘乡 to assist (it does not).
    let mut registrar = device(&url, "registrar").await;
    registrar.sync().await.unwrap();
    assert_eq!(petitioner(&registrar, &case)["phone"], PHONE);
    registrar
        .set(&case, "responsible_unit", "hrss", now_ms())
        .unwrap();
    let shitang_unit = UnitId::new("shitang").unwrap();
    registrar
        .edit_case(&case, now_ms(), |c, ed| {
            c.set_assisting(ed, &shitang_unit, true)
        })
        .unwrap();
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    let mut handler = device(&url, "handler").await;
    handler.sync().await.unwrap();
    assert_eq!(petitioner(&handler, &case)["address"], ADDRESS);

    // 石塘乡's mediator sees the case, the name and the masked details only.
    let mut shitang = device(&url, "shitang").await;
    shitang.sync().await.unwrap();
    let p = petitioner(&shitang, &case);
    assert_eq!(p["name"], "王某");
    assert_eq!(p["id_number"], serde_json::Value::Null, "{p}");
    assert_eq!(p["phone"], serde_json::Value::Null, "{p}");
    assert_eq!(p["masked"]["id_number"], "4305**********0017");
    assert_eq!(p["masked"]["phone"], "138****0011");
    assert_eq!(p["masked"]["address"], "龙溪镇王庄村****");
    let store = raw_store(&shitang);
    for secret in [ID_NUMBER, PHONE, ADDRESS, "三组十七号"] {
        assert!(
            !holds(&store, secret),
            "{secret} on the assisting unit's device"
        );
    }
    // The handling units' devices do hold them (the check above can see them when there).
    assert!(holds(&raw_store(&handler), ID_NUMBER));
    assert!(holds(&raw_store(&mediator), PHONE));

    // A change of phone on a handling device reaches the others with it, and not 石塘乡.
    let pid = find_case(&handler, &case)["petitioners"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let new_phone = "13907390022";
    handler
        .set_petitioner_detail(&case, &pid, "phone", new_phone, now_ms())
        .unwrap();
    assert!(handler.sync().await.unwrap().refused.is_empty());
    registrar.sync().await.unwrap();
    assert_eq!(petitioner(&registrar, &case)["phone"], new_phone);
    shitang.sync().await.unwrap();
    assert_eq!(
        petitioner(&shitang, &case)["masked"]["phone"],
        "139****0022"
    );
    assert!(!holds(&raw_store(&shitang), new_phone));

    // Hostile: 石塘乡's device writes details it may not have, or makes a second set of
    // details for the case under another id; both refused, nothing stored.
    let actor = automerge::ActorId::random();
    let session = raw_login(&url, "shitang", &actor).await;
    let mut socket = connect(&url, &session.token).await;
    open(&mut socket, 0).await;
    let ed = Editor::new("shitang", now_ms());
    let draft = CaseDraft {
        id,
        unit: shitang_unit.clone(),
        channel: Channel::Visit,
        summary: String::new(),
    };
    let (_, forged) = CaseDoc::create_with_details(&draft, &[], &ed, actor.clone());
    let details_id = DocId::details_of(&id);
    let mut forged = forged.into_doc();
    let reason = push_doc(&mut socket, details_id, &mut forged)
        .await
        .expect_err("details of a case it does not handle");
    assert!(
        reason.contains("not visible") || reason.contains("not yours"),
        "{reason}"
    );
    // Details made for a case of its own, then said to be this case's.
    let own = DocId::random();
    let mut second = DetailsDoc::create(&own, &shitang_unit, &[], &ed, actor.clone()).into_doc();
    {
        use automerge::transaction::Transactable;
        use automerge::{ObjType, ROOT, ReadDoc};
        let fields = second.get(ROOT, "fields").unwrap().unwrap().1;
        let cell = second.put_object(&fields, "case", ObjType::Map).unwrap();
        second.put(&cell, "v", id.to_string()).unwrap();
        second.put(&cell, "by", "shitang").unwrap();
        second
            .put(&cell, "at", automerge::ScalarValue::Timestamp(now_ms()))
            .unwrap();
        second.commit();
    }
    let reason = push_doc(&mut socket, DocId::details_of(&own), &mut second)
        .await
        .expect_err("a second set of details");
    assert!(reason.contains("details id"), "{reason}");
    let mut again = device(&url, "registrar").await;
    again.sync().await.unwrap();
    assert_eq!(petitioner(&again, &case)["phone"], new_phone);

    // The case moves on to 县自然资源局 (which gets the details); the administrator takes
    // 县人社局 off it: the case and its details leave that unit's device.
    registrar.sync().await.unwrap();
    registrar
        .set(&case, "responsible_unit", "natres", now_ms())
        .unwrap();
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    let hrss = UnitId::new("hrss").unwrap();
    server.state.store.unshare(&id, &hrss, now_ms()).unwrap();
    let (_, units, _) = server.state.store.load_doc(&details_id).unwrap().unwrap();
    assert!(!units.contains(&hrss), "{units:?}");
    assert!(units.contains(&UnitId::new("natres").unwrap()), "{units:?}");
    let report = handler.sync().await.unwrap();
    assert_eq!(report.dropped, 2, "the case and its details: {report:?}");
    assert!(!holds(&raw_store_or_empty(&handler), ID_NUMBER));
}

fn raw_store_or_empty(d: &TestDevice) -> Vec<Vec<u8>> {
    let db = rusqlite::Connection::open(home(d).join("device.sqlite")).unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM docs", [], |r| r.get(0))
        .unwrap();
    if n == 0 { Vec::new() } else { raw_store(d) }
}
