//! Roles through a real socket: for each operation of DOMAIN.md's table that a document
//! carries, a user whose role may not do it is refused — nothing of it is stored, and the
//! edit stays on their device — and a user whose role may is accepted. (Every cell of the
//! table is tried in `shared/tests/authority.rs`; this is the same rule at the server.)

mod common;

use common::*;
use lianxin_server::now_ms;
use lianxin_shared::{AidDraft, Date, Satisfaction, StepDraft, StepKind};

fn today() -> Date {
    Date::from_unix_ms_china(now_ms())
}

fn concluded() -> StepDraft {
    StepDraft {
        kind: StepKind::Concluded,
        on: today(),
        reason: None,
        outcome: Some("upheld".into()),
    }
}

/// Whether the server's copy of case `id`, as a fresh office device receives it, shows `what`.
async fn stored(url: &str, id: &str, what: &str) -> bool {
    let mut office = device(url, "admin").await;
    office.sync().await.unwrap();
    office.export().unwrap().to_string().contains(what)
        && office.export().unwrap()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_is_refused_to_a_role_that_may_not_and_accepted_from_one_that_may() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut registrar = device(&url, "registrar").await;
    let mut mediator = device(&url, "mediator").await;
    let mut handler = device(&url, "handler").await;
    let mut leader = device(&url, "leader").await;

    // Register: a mediator may (own township), a leader may not.
    let id = mediator
        .new_case("longxi", "visit", "村民反映宅基地纠纷", now_ms())
        .unwrap()
        .to_string();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
    let err = leader.new_case("hrss", "visit", "领导登记的案件", now_ms());
    if let Ok(leaders) = err {
        let report = leader.sync().await.unwrap();
        // The case and its personal details, both refused.
        assert_eq!(report.refused.len(), 2, "{report:?}");
        assert!(
            report
                .refused
                .iter()
                .all(|r| r.1.contains("a leader may not register")),
            "{:?}",
            report.refused
        );
        assert!(!stored(&url, &leaders.to_string(), "领导登记的案件").await);
        // The refused case stays on that device, refused at every sync; the leader goes on
        // with another.
        leader = device(&url, "leader").await;
    }
    registrar.sync().await.unwrap();
    handler.sync().await.unwrap();
    leader.sync().await.unwrap();

    // Each row: (who may not, what they try) refused and kept on their device; then one who
    // may does the same and it is stored.
    type Try = Box<dyn Fn(&mut lianxin_server::device::Device, &str) -> String>;
    let rows: Vec<(&str, Try)> = vec![
        (
            "assign",
            Box::new(|d, id| {
                d.set(id, "responsible_unit", "hrss", now_ms()).unwrap();
                "hrss".into()
            }),
        ),
        (
            "evaluate",
            Box::new(|d, id| {
                d.edit_case(id, now_ms(), |c, ed| {
                    c.evaluate(
                        ed,
                        today(),
                        Satisfaction::Unsatisfied,
                        Satisfaction::Unsatisfied,
                    )
                })
                .unwrap();
                "unsatisfied".into()
            }),
        ),
        (
            "package",
            Box::new(|d, id| {
                d.set(id, "leader", "刘副县长", now_ms()).unwrap();
                "刘副县长".into()
            }),
        ),
        (
            "aid",
            Box::new(|d, id| {
                d.edit_case(id, now_ms(), |c, ed| {
                    c.add_aid(
                        ed,
                        &AidDraft {
                            amount: 50_000,
                            reason: "自批的救助".into(),
                            approved_by: ed.user.clone(),
                            approved_on: Some(today()),
                            paid_on: None,
                        },
                    )
                })
                .unwrap();
                "自批的救助".into()
            }),
        ),
        (
            "archive",
            Box::new(|d, id| {
                d.set(id, "archived", "true", now_ms()).unwrap();
                "\"archived\":true".into()
            }),
        ),
    ];
    for (row, attempt) in &rows {
        let marker = attempt(&mut mediator, &id);
        let report = mediator.sync().await.unwrap();
        // One refusal, or two when the edit also shared the case's details (an assignment).
        assert!((1..=2).contains(&report.refused.len()), "{row}: {report:?}");
        assert!(
            report
                .refused
                .iter()
                .all(|r| r.1.contains("a mediator may not")),
            "{row}: {:?}",
            report.refused
        );
        assert!(
            mediator.export().unwrap().to_string().contains(&marker),
            "{row}: the refused edit stays on the device"
        );
        assert!(
            !stored(&url, &id, &marker).await,
            "{row}: nothing of it stored"
        );
        // The mediator's copy now differs from the server's for good; a fresh device goes on.
        mediator = device(&url, "mediator").await;
        mediator.sync().await.unwrap();
    }
    // Who may: the registrar assigns, evaluates and archives; the leader takes the package
    // and approves aid.
    registrar.sync().await.unwrap();
    for (row, attempt) in &rows {
        let who = match *row {
            "package" | "aid" => &mut leader,
            _ => &mut registrar,
        };
        who.sync().await.unwrap();
        let marker = attempt(who, &id);
        let report = who.sync().await.unwrap();
        assert!(report.refused.is_empty(), "{row}: {:?}", report.refused);
        assert!(stored(&url, &id, &marker).await, "{row}: stored");
    }

    // Handle: the mediator may not conclude; the handler of the responsible unit may, once.
    mediator.sync().await.unwrap();
    mediator.step(&id, &concluded(), now_ms()).unwrap();
    let report = mediator.sync().await.unwrap();
    assert!(
        report.refused[0]
            .1
            .contains("a mediator may not record acceptance"),
        "{report:?}"
    );
    assert!(!stored(&url, &id, "\"concluded\"").await);
    handler.sync().await.unwrap();
    handler.step(&id, &concluded(), now_ms()).unwrap();
    assert!(handler.sync().await.unwrap().refused.is_empty());
    handler.step(&id, &concluded(), now_ms()).unwrap();
    let report = handler.sync().await.unwrap();
    assert!(
        report.refused[0].1.contains("concluded already"),
        "{report:?}"
    );

    // Field work: everyone, the leader included.
    leader.sync().await.unwrap();
    leader.note(&id, "领导走访记录", now_ms()).unwrap();
    assert!(leader.sync().await.unwrap().refused.is_empty());
    assert!(stored(&url, &id, "领导走访记录").await);

    // Disputes: the mediator's, not the registrar's.
    let dispute = registrar.new_dispute("longxi", "local", "登记员登记的纠纷", now_ms());
    if dispute.is_ok() {
        let report = registrar.sync().await.unwrap();
        assert!(
            report.refused[0]
                .1
                .contains("a registrar may not work on disputes"),
            "{report:?}"
        );
    }
    let mut mediator = device(&url, "mediator").await;
    mediator.sync().await.unwrap();
    mediator
        .new_dispute("longxi", "local", "调解员登记的纠纷", now_ms())
        .unwrap();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unshared_case_leaves_the_other_units_devices_at_their_next_sync() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut registrar = device(&url, "registrar").await;
    let mut mediator = device(&url, "mediator").await;
    let mut shitang = device(&url, "shitang").await;
    let id = registrar
        .new_case("longxi", "visit", "跨乡镇的土地纠纷", now_ms())
        .unwrap();
    let other = lianxin_shared::UnitId::new("shitang").unwrap();
    registrar
        .edit_case(&id.to_string(), now_ms(), |c, ed| {
            c.set_assisting(ed, &other, true)
        })
        .unwrap();
    registrar.sync().await.unwrap();
    shitang.sync().await.unwrap();
    mediator.sync().await.unwrap();
    let has = |d: &lianxin_server::device::Device| {
        d.export().unwrap()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.to_string())
    };
    assert!(has(&shitang) && has(&mediator));

    // The administrator takes 石塘镇 away (as `lianxin admin case unshare` does, here on the
    // running server's store: its copy in memory is then out of date and must be reloaded).
    server.state.store.unshare(&id, &other, now_ms()).unwrap();
    // A colleague edits the case meanwhile: the unit does not come back.
    mediator
        .note(&id.to_string(), "石塘镇退出后补充的记录", now_ms())
        .unwrap();
    assert!(mediator.sync().await.unwrap().refused.is_empty());
    let (_, units, _) = server.state.store.load_doc(&id).unwrap().unwrap();
    assert!(!units.contains(&other), "{units:?}");

    // 石塘镇's device drops the case at its next sync.
    let report = shitang.sync().await.unwrap();
    assert_eq!(report.dropped, 1, "{report:?}");
    assert!(!has(&shitang));
    // And a new 石塘镇 device never gets it.
    let mut fresh = device(&url, "shitang").await;
    fresh.sync().await.unwrap();
    assert!(!has(&fresh));
    // The removal is in the case's history; the case's own units kept it apart.
    let (bytes, _, _) = server.state.store.load_doc(&id).unwrap().unwrap();
    let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
    let messages: Vec<String> = doc
        .get_changes(&[])
        .iter()
        .filter_map(|c| c.message().map(str::to_string))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("unshared from shitang")),
        "{messages:?}"
    );
    mediator.sync().await.unwrap();
    let case = mediator.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.to_string())
        .cloned()
        .unwrap();
    assert!(case.to_string().contains("石塘镇退出后补充的记录"));
    assert_eq!(case["assisting"], serde_json::json!([]));
    // Refused: the responsible unit, a unit the case does not have.
    assert!(server.state.store.unshare(&id, &other, now_ms()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cases_history_says_who_changed_what_when_and_from_which_device() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut registrar = device(&url, "registrar").await;
    let mut mediator = device(&url, "mediator").await;
    let id = mediator
        .new_case("longxi", "visit", "历史记录测试", now_ms())
        .unwrap()
        .to_string();
    mediator.sync().await.unwrap();
    registrar.sync().await.unwrap();
    registrar
        .set(&id, "responsible_unit", "hrss", now_ms())
        .unwrap();
    registrar.sync().await.unwrap();
    mediator.sync().await.unwrap();
    mediator.note(&id, "入户走访", now_ms()).unwrap();
    mediator.sync().await.unwrap();
    // A refused change: a mediator's conclusion.
    mediator.step(&id, &concluded(), now_ms()).unwrap();
    assert_eq!(mediator.sync().await.unwrap().refused.len(), 1);

    let history = mediator.history(&id).unwrap();
    let entries = history["entries"].as_array().unwrap();
    let line = |e: &serde_json::Value| {
        format!(
            "{} {} {}",
            e["user"].as_str().unwrap(),
            e["device"].as_str().unwrap(),
            e["what"]
        )
    };
    let lines: Vec<String> = entries.iter().map(line).collect();
    assert_eq!(entries.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("mediator") && lines[0].contains("created"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("registrar") && lines[1].contains("responsible_unit"),
        "{lines:#?}"
    );
    assert!(
        lines[1].contains(&registrar.actor().to_hex_string()),
        "{lines:#?}"
    );
    assert!(
        lines[2].starts_with("mediator") && lines[2].contains("notes"),
        "{lines:#?}"
    );
    assert!(
        entries.iter().all(|e| e["refused"].is_null()),
        "refusals are the admin's to see"
    );
    let at = entries[2]["received_at"].as_i64().unwrap();
    assert!((now_ms() - at).abs() < 60_000, "the server's clock");

    // The administrator also sees the refused change, with its reason.
    let admin = device(&url, "admin").await;
    let history = admin.history(&id).unwrap();
    let refused: Vec<&serde_json::Value> = history["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["refused"].is_string())
        .collect();
    assert_eq!(refused.len(), 1);
    assert!(
        refused[0]["refused"]
            .as_str()
            .unwrap()
            .contains("a mediator may not")
    );
    assert_eq!(refused[0]["user"], "mediator");

    // Another township's user learns nothing of it.
    let shitang = device(&url, "shitang").await;
    let err = shitang.history(&id).unwrap_err().to_string();
    assert!(err.contains("no such case"), "{err}");
}
