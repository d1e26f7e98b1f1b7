//! The reference data as a document: the administrator's rules and campaigns reach every
//! device (a township's mediator included), no one else may change them, the registrar tags
//! cases to a campaign, and the campaign's progress and the assessment under the new rules
//! are computed alike on a device and on the server.

mod common;

use automerge::AutoCommit;
use common::*;
use lianxin_server::now_ms;
use lianxin_server::reports::{self, Ask};
use lianxin_shared::rules::Limits;
use lianxin_shared::{Date, DocId, EntryId, StepDraft, StepKind};

fn today() -> Date {
    Date::from_unix_ms_china(now_ms())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrators_reference_data_reaches_every_device_and_no_one_else_writes_it() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let store = &server.state.store;
    let campaign = lianxin_server::reference::change(store, now_ms(), "campaigns +", |r, ed| {
        r.set_rule(ed, "capital", -10)?;
        r.add_campaign(
            ed,
            "问题楼盘专项治理",
            today().add_days(-20),
            None,
            Some("问题楼盘"),
        )
    })
    .unwrap();

    // A case at the capital, tagged to the campaign by the registrar, concluded by the
    // handler of the responsible unit.
    let mut registrar = device(&url, "registrar").await;
    let id = registrar
        .new_case("longxi", "visit", "某楼盘逾期交房", now_ms())
        .unwrap()
        .to_string();
    registrar.set(&id, "level", "capital", now_ms()).unwrap();
    registrar
        .set(&id, "responsible_unit", "hrss", now_ms())
        .unwrap();
    registrar
        .edit_case(&id, now_ms(), |c, ed| c.set_campaign(ed, &campaign, true))
        .unwrap();
    let step = |kind| StepDraft {
        kind,
        on: today(),
        reason: None,
        outcome: (kind == StepKind::Concluded).then(|| "explained".to_string()),
    };
    registrar
        .step(&id, &step(StepKind::Registered), now_ms())
        .unwrap();
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    let mut handler = device(&url, "handler").await;
    handler.sync().await.unwrap();
    handler
        .step(&id, &step(StepKind::Notified), now_ms())
        .unwrap();
    handler
        .step(&id, &step(StepKind::Concluded), now_ms())
        .unwrap();
    assert!(handler.sync().await.unwrap().refused.is_empty());

    // A township's mediator: the reference data arrives though its units do not see the
    // bureau's; tagging a case is not theirs to do.
    let mut shitang = device(&url, "shitang").await;
    shitang.sync().await.unwrap();
    let limits = Limits::default();
    let on_device = shitang.caseload().unwrap();
    let progress = on_device.report(&Ask::Campaigns { on: today() }, &limits);
    assert_eq!(
        progress[0]["campaign"]["name"], "问题楼盘专项治理",
        "{progress}"
    );
    let mut mediator = device(&url, "mediator").await;
    mediator.sync().await.unwrap();
    mediator
        .edit_case(&id, now_ms(), |c, ed| c.set_campaign(ed, &campaign, false))
        .unwrap();
    let report = mediator.sync().await.unwrap();
    assert!(
        report
            .refused
            .iter()
            .any(|r| r.1.contains("a mediator may not assign")),
        "{report:?}"
    );

    // No one but the administrator changes the reference data: a registrar's tampered
    // device is refused and nothing is stored.
    let actor = automerge::ActorId::random();
    let session = raw_login(&url, "registrar", &actor).await;
    let mut socket = connect(&url, &session.token).await;
    open(&mut socket, 0).await;
    let (bytes, _, _) = store.load_doc(&DocId::reference()).unwrap().unwrap();
    let mut doc = lianxin_shared::ReferenceDoc::from_doc(
        AutoCommit::load(&bytes).unwrap().with_actor(actor.clone()),
    )
    .unwrap();
    doc.set_rule(
        &lianxin_shared::Editor::new("registrar", now_ms()),
        "on_time",
        100,
    )
    .unwrap();
    let before = store.doc_seq(&DocId::reference()).unwrap();
    let reason = push_doc(&mut socket, DocId::reference(), &mut doc.into_doc())
        .await
        .expect_err("a registrar changes the rules");
    assert!(
        reason.contains("a registrar may not change reference data"),
        "{reason}"
    );
    assert_eq!(store.doc_seq(&DocId::reference()).unwrap(), before);

    // The campaign's progress and the assessment under the administrator's rules: the same on
    // the bureau's device and on the server.
    registrar.sync().await.unwrap();
    let on_device = registrar.caseload().unwrap();
    let on_server = reports::from_store(store).unwrap();
    let (y, m, _) = today().ymd();
    for ask in [
        Ask::Campaigns { on: today() },
        Ask::Assessment {
            month: format!("{y:04}-{m:02}"),
        },
    ] {
        assert_eq!(
            on_device.report(&ask, &limits),
            on_server.report(&ask, &limits),
            "{ask:?}"
        );
    }
    let progress = on_server.report(&Ask::Campaigns { on: today() }, &limits);
    assert_eq!(
        (
            progress[0]["matters"].as_u64(),
            progress[0]["resolved"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(progress[0]["rate"], serde_json::json!({"num": 1, "den": 1}));
    assert!(!progress[0]["weeks"].as_array().unwrap().is_empty());
    let assessment = on_server.report(
        &Ask::Assessment {
            month: format!("{y:04}-{m:02}"),
        },
        &limits,
    );
    let month = assessment["months"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let hrss = month["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["unit"] == "hrss")
        .unwrap()
        .clone();
    let capital = hrss["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p[0] == "赴京")
        .unwrap()[1]
        .as_f64();
    assert_eq!(capital, Some(-10.0), "the administrator's rule: {hrss}");
    let _ = EntryId::random();
}
