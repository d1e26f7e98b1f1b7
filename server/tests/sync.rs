//! Devices syncing through a real server over a real socket: concurrent offline edits merge
//! with nothing lost, and access follows the unit tree.

mod common;

use common::*;
use lianxin_server::device::DeviceError;
use lianxin_shared::Date;

const NOW: i64 = 1_790_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_edit_one_case_offline_and_converge_with_nothing_lost() {
    let server = TestServer::start().await;
    let mut a = device(&server.url, "mediator").await;
    let mut b = device(&server.url, "mediator2").await;
    let id = a
        .new_case("longxi", "visit", "王某反映土地承包经营权纠纷", NOW)
        .unwrap()
        .to_string();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(case_ids(&b), vec![id.clone()], "b received the case");

    // Offline: no sync between these edits.
    a.note(&id, "甲：第一晚入户，当事人情绪激动。", NOW + 1)
        .unwrap();
    b.note(&id, "乙：村委会提供了1998年承包合同复印件。", NOW + 2)
        .unwrap();
    let fa = a.follow_up(&id, "甲回访：当事人同意调解", NOW + 3).unwrap();
    let fb = b
        .follow_up(&id, "乙回访：村组长到场说明情况", NOW + 4)
        .unwrap();
    a.set(&id, "level", "county", NOW + 5).unwrap();
    b.set(&id, "level", "township", NOW + 6).unwrap();

    // Network back, in an order where each device syncs while the other's changes are pending.
    let ra = a.sync().await.unwrap();
    let rb = b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert!(
        ra.refused.is_empty() && rb.refused.is_empty(),
        "{:?} {:?}",
        ra.refused,
        rb.refused
    );

    let (ca, cb) = (caseload(&a), caseload(&b));
    assert_eq!(ca, cb, "both devices hold the same caseload");
    let case = &ca[0];
    assert_eq!(case["synced"], true);
    let notes = case["notes"].as_str().unwrap();
    assert!(
        notes.contains("甲：第一晚入户，当事人情绪激动。"),
        "{notes}"
    );
    assert!(
        notes.contains("乙：村委会提供了1998年承包合同复印件。"),
        "{notes}"
    );
    let mut lines: Vec<&str> = notes.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "乙：村委会提供了1998年承包合同复印件。",
            "甲：第一晚入户，当事人情绪激动。"
        ],
        "each paragraph stays a line of its own"
    );
    let follow_ups = case["follow_ups"].as_array().unwrap();
    let ids: Vec<&str> = follow_ups
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(follow_ups.len(), 2);
    assert!(ids.contains(&fa.as_str()) && ids.contains(&fb.as_str()));
    let by: Vec<&str> = follow_ups
        .iter()
        .map(|f| f["by"].as_str().unwrap())
        .collect();
    assert!(by.contains(&"mediator") && by.contains(&"mediator2"));

    let conflicts = case["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["field"], "level");
    let mut values: Vec<(String, String, String)> = conflicts[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["by"].as_str().unwrap().to_string(),
                v["device"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    values.sort();
    assert_eq!(
        values,
        vec![
            (
                "county".into(),
                "mediator".into(),
                a.actor().to_hex_string()
            ),
            (
                "township".into(),
                "mediator2".into(),
                b.actor().to_hex_string()
            ),
        ]
    );
    // The shown value is one of the two, the same on both devices.
    assert!(case["level"] == "county" || case["level"] == "township");

    // Choosing a value is an ordinary edit; it resolves the conflict everywhere.
    a.set(&id, "level", "township", NOW + 7).unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let resolved = find_case(&b, &id);
    assert_eq!(resolved["level"], "township");
    assert_eq!(resolved["conflicts"].as_array().unwrap().len(), 0);
    assert_eq!(caseload(&a), caseload(&b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_receives_and_changes_only_cases_of_its_units() {
    let server = TestServer::start().await;
    let mut longxi = device(&server.url, "mediator").await;
    let mut shitang = device(&server.url, "shitang").await;
    let mut county = device(&server.url, "registrar").await;
    let ours = longxi
        .new_case("longxi", "visit", "龙溪镇的案件", NOW)
        .unwrap()
        .to_string();
    let theirs = shitang
        .new_case("shitang", "letter", "石塘镇的案件", NOW)
        .unwrap()
        .to_string();
    longxi.sync().await.unwrap();
    shitang.sync().await.unwrap();
    longxi.sync().await.unwrap();

    // Each township sees its own case; the county bureau above both sees both.
    assert_eq!(case_ids(&longxi), vec![ours.clone()]);
    assert_eq!(case_ids(&shitang), vec![theirs.clone()]);
    county.sync().await.unwrap();
    let mut both = vec![ours.clone(), theirs.clone()];
    both.sort();
    assert_eq!(case_ids(&county), both);

    // The CLI will not record a case for another unit...
    let err = longxi
        .new_case("shitang", "visit", "越权", NOW)
        .unwrap_err();
    assert!(matches!(err, DeviceError::UnitNotYours(..)), "{err}");

    // ...and a tampered device that does is refused by the server.
    longxi.tamper_config("visible_units", r#"["longxi","shitang"]"#);
    let mut longxi = longxi.reopen();
    let forged = longxi
        .new_case("shitang", "visit", "越权登记", NOW)
        .unwrap()
        .to_string();
    let report = longxi.sync().await.unwrap();
    // The case and its personal details, both refused.
    assert_eq!(report.refused.len(), 2, "{:?}", report.refused);
    assert!(report.refused.iter().any(|r| r.0 == forged));
    assert!(
        report.refused.iter().all(|r| r.1.contains("not yours")),
        "{:?}",
        report.refused
    );

    // A copy of the other unit's case, obtained outside Lianxin and edited, is refused too,
    // and the other unit never sees the edit.
    longxi.smuggle_doc_from(&shitang, &theirs);
    longxi.note(&theirs, "不该出现的内容", NOW).unwrap();
    let report = longxi.sync().await.unwrap();
    let refused: Vec<&str> = report.refused.iter().map(|(d, _)| d.as_str()).collect();
    assert!(refused.contains(&theirs.as_str()), "{:?}", report.refused);
    shitang.sync().await.unwrap();
    county.sync().await.unwrap();
    assert!(
        !find_case(&shitang, &theirs)["notes"]
            .as_str()
            .unwrap()
            .contains("不该出现")
    );
    assert_eq!(
        case_ids(&county),
        both,
        "the forged case never reached the server"
    );

    // Every refusal was kept aside with its reason.
    let kept = server.state.store.quarantined().unwrap();
    assert!(kept.len() >= 2, "{kept:?}");
    assert!(kept.iter().all(|k| k.2 == "mediator"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_signed_with_another_actor_are_refused() {
    let server = TestServer::start().await;
    let mut honest = device(&server.url, "mediator").await;
    let id = honest
        .new_case("longxi", "visit", "案件", NOW)
        .unwrap()
        .to_string();
    honest.sync().await.unwrap();

    // A second device of another user copies the honest device's actor id and signs with it.
    let mut forger = device(&server.url, "mediator2").await;
    forger.sync().await.unwrap();
    forger.tamper_config("actor", &honest.actor().to_hex_string());
    let mut forger = forger.reopen();
    assert_eq!(forger.actor(), honest.actor());
    forger.note(&id, "冒名记录", NOW).unwrap();
    let report = forger.sync().await.unwrap();
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    assert!(
        report.refused[0].1.contains("registered as"),
        "{}",
        report.refused[0].1
    );
    honest.sync().await.unwrap();
    assert!(
        !find_case(&honest, &id)["notes"]
            .as_str()
            .unwrap()
            .contains("冒名")
    );

    // Nor can it register that actor as its own at login.
    let err = match login(forger, &server.url, "mediator2").await {
        Ok(_) => panic!("login with another device's actor succeeded"),
        Err(e) => e,
    };
    assert!(err.contains("login failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_users_device_stops_syncing() {
    let server = TestServer::start().await;
    let mut d = device(&server.url, "mediator").await;
    d.new_case("longxi", "visit", "案件", NOW).unwrap();
    d.sync().await.unwrap();

    // A connection open at the moment of disabling is closed with the reason.
    let token: String = {
        let conn = rusqlite::Connection::open(home(&d).join("device.sqlite")).unwrap();
        conn.query_row("SELECT value FROM config WHERE key = 'token'", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let mut live = connect(&server.url, &token).await;
    open(&mut live, 0).await;
    server.state.store.set_disabled("mediator", true).unwrap();
    match next(&mut live).await {
        Heard::Message(lianxin_shared::protocol::ServerMessage::SessionEnded(reason)) => {
            assert!(reason.contains("disabled"), "{reason}")
        }
        other => panic!("expected the session to end, heard {other:?}"),
    }

    // New connections are refused before the upgrade, and the edit stays on the device.
    let id = case_ids(&d)[0].clone();
    d.note(&id, "停用后写的记录", NOW).unwrap();
    let err = d.sync().await.unwrap_err();
    assert!(matches!(err, DeviceError::SessionEnded(_)), "{err}");
    assert!(
        find_case(&d, &id)["notes"]
            .as_str()
            .unwrap()
            .contains("停用后写的记录")
    );
    let err = match login(d, &server.url, "mediator").await {
        Ok(_) => panic!("a disabled user logged in"),
        Err(e) => e,
    };
    // The right password of a disabled account is answered as a wrong one: it tells nobody
    // holding it that it is right.
    assert!(
        err.contains("wrong username or password") && err.contains("401"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_recorded_offline_on_two_devices_merge_into_the_derived_state() {
    use lianxin_shared::{Date, StepDraft, StepKind};
    let day = |s: &str| s.parse::<Date>().unwrap();
    let step = |kind, on: &str, reason: Option<&str>| StepDraft {
        kind,
        on: day(on),
        reason: reason.map(str::to_string),
        outcome: None,
    };
    let server = TestServer::start().await;
    // Steps of every kind: the office (the administrator, on two devices) may record them all.
    let mut a = device(&server.url, "admin").await;
    let mut b = device(&server.url, "admin").await;
    let id = a
        .new_case("longxi", "visit", "李某反映拖欠工资", NOW)
        .unwrap()
        .to_string();
    a.step(&id, &step(StepKind::Registered, "2026-11-20", None), NOW)
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    // Offline, the registrar's tablet records the assignment and the township's the receipt,
    // each a day apart, in the opposite order to when they happened.
    b.step(&id, &step(StepKind::Notified, "2026-11-23", None), NOW + 1)
        .unwrap();
    a.step(&id, &step(StepKind::Assigned, "2026-11-21", None), NOW + 2)
        .unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let today = day("2027-01-18");
    let life = |d: &TestDevice| {
        let export = d.export_as_of(today).unwrap();
        export["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap()["lifecycle"]
            .clone()
    };
    let (la, lb) = (life(&a), life(&b));
    assert_eq!(la, lb);
    assert_eq!(la["state"], "handling");
    assert_eq!(la["deadline"]["kind"], "conclude");
    assert_eq!(
        la["deadline"]["due"], "2027-01-22",
        "60 days from the receipt"
    );
    assert_eq!(la["colour"], "yellow", "four days before the deadline");
    assert_eq!(la["irregularities"].as_array().unwrap().len(), 0);

    // Offline again: one extends, the other concludes later; merged, the case is concluded.
    a.step(
        &id,
        &step(StepKind::Extended, "2027-01-15", Some("需补充调查")),
        NOW + 3,
    )
    .unwrap();
    let concluded = StepDraft {
        outcome: Some("explained".into()),
        ..step(StepKind::Concluded, "2027-02-10", None)
    };
    b.step(&id, &concluded, NOW + 4).unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    let (la, lb) = (life(&a), life(&b));
    assert_eq!(la, lb);
    assert_eq!(la["state"], "concluded");
    assert_eq!(la["colour"], "green");
    assert_eq!(la["extended"], true);
    assert_eq!(la["irregularities"].as_array().unwrap().len(), 0, "{la}");

    // Input the rules forbid is refused at the door, with the reason.
    let err = a
        .step(&id, &step(StepKind::NotAccepted, "2027-02-11", None), NOW)
        .unwrap_err();
    assert!(err.to_string().contains("needs a reason"), "{err}");
    let bad = StepDraft {
        outcome: Some("maybe".into()),
        ..step(StepKind::Concluded, "2027-02-11", None)
    };
    assert!(
        a.step(&id, &bad, NOW)
            .unwrap_err()
            .to_string()
            .contains("upheld")
    );
}

/// A mediation dispute is its own document: two mediators of the township work on it offline,
/// it climbs a level, the other township never sees it, and it becomes a case the county
/// bureau receives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disputes_sync_like_cases_escalate_and_become_cases() {
    let server = TestServer::start().await;
    let mut a = device(&server.url, "mediator").await;
    let mut b = device(&server.url, "mediator2").await;
    let mut shitang = device(&server.url, "shitang").await;
    let id = a
        .new_dispute("longxi", "land", "两户因承包地边界发生争执", NOW)
        .unwrap()
        .to_string();
    a.edit_dispute(&id, NOW, |d, ed| {
        d.add_party(ed, "张某", Some("申请人"), None)
    })
    .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // Offline on both tablets: a session each; A escalates to the village.
    let day: Date = "2026-11-20".parse().unwrap();
    a.edit_dispute(&id, NOW, |d, ed| {
        d.add_session(ed, day, "王", "现场丈量边界")
    })
    .unwrap();
    a.edit_dispute(&id, NOW, |d, ed| d.escalate(ed, day, "村民小组调解不成"))
        .unwrap();
    b.edit_dispute(&id, NOW + 1, |d, ed| {
        d.add_session(ed, day.add_days(1), "李", "约双方面谈")
    })
    .unwrap();
    for _ in 0..2 {
        a.sync().await.unwrap();
        b.sync().await.unwrap();
    }
    let (ea, eb) = (a.export().unwrap(), b.export().unwrap());
    assert_eq!(ea["disputes"], eb["disputes"]);
    let d = &ea["disputes"][0];
    assert_eq!(d["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(d["level"], "village");
    assert_eq!(d["escalations"][0]["by"], "mediator");
    assert!(
        ea["cases"].as_array().unwrap().is_empty(),
        "a dispute is not a case"
    );

    // The other township never receives it.
    shitang.sync().await.unwrap();
    assert!(
        shitang.export().unwrap()["disputes"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // It becomes a case; the county bureau gets both, linked.
    let case = b.dispute_to_case(&id, NOW + 2).unwrap().to_string();
    let report = b.sync().await.unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    let mut county = device(&server.url, "registrar").await;
    county.sync().await.unwrap();
    let export = county.export().unwrap();
    let c = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == case.as_str())
        .cloned()
        .expect("the case reached the county bureau");
    assert_eq!(c["dispute"], id.as_str());
    assert_eq!(c["petitioners"][0]["name"], "张某");
    assert_eq!(export["disputes"][0]["case"], case.as_str());
}

/// A reconnect pushes only the changes made since the heads the server last confirmed; a server
/// restored from an older backup does not know those heads, says so, and the device syncs that
/// case the full way instead: nothing typed is lost, and another device gets all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_an_older_backup_gets_everything_the_full_way() {
    if on_postgres() {
        // The backup here is a copy of the SQLite file; PostgreSQL's is pg_dump
        // (scripts/backup-check.sh).
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let store = lianxin_server::store::Store::open(data.path()).unwrap();
    lianxin_server::demo::seed(&store, 0, NOW).unwrap();
    let server = TestServer::start_on(store).await;
    let mut a = device(&server.url, "mediator").await;
    let id = a
        .new_case("longxi", "visit", "李某反映宅基地界址纠纷", NOW)
        .unwrap()
        .to_string();
    a.note(&id, "第一次记录：现场查看界桩", NOW + 1).unwrap();
    a.sync().await.unwrap();

    // The night's backup.
    let backup = tempfile::tempdir().unwrap();
    rusqlite::Connection::open(data.path().join("lianxin.sqlite"))
        .unwrap()
        .execute(
            "VACUUM INTO ?1",
            [backup.path().join("lianxin.sqlite").to_str().unwrap()],
        )
        .unwrap();

    // The next day: a note reaches the server, then one more is typed and pushed on its own.
    a.note(&id, "第二次记录：双方同意测量", NOW + 2).unwrap();
    let next_day = a.sync().await.unwrap();
    assert_eq!(
        (next_day.pushes, next_day.full_way),
        (1, 0),
        "the note went the short way"
    );

    // The server's disk dies; it is restored from the backup, which lacks the second note.
    let restored =
        TestServer::start_on(lianxin_server::store::Store::open(backup.path()).unwrap()).await;
    a.note(&id, "第三次记录：测量结果已告知", NOW + 3).unwrap();
    a.login(&restored.url, "mediator", lianxin_server::demo::PASSWORD)
        .unwrap();
    let report = a.sync().await.unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(
        report.full_way, 1,
        "the restored server did not know the heads"
    );
    let again = a.sync().await.unwrap();
    assert_eq!(again.pushes, 0, "nothing left to send: {again:?}");

    let mut b = device(&restored.url, "mediator2").await;
    b.sync().await.unwrap();
    let notes = find_case(&b, &id)["notes"].as_str().unwrap().to_string();
    for note in [
        "第一次记录：现场查看界桩",
        "第二次记录：双方同意测量",
        "第三次记录：测量结果已告知",
    ] {
        assert!(notes.contains(note), "{note} missing from {notes}");
    }
    assert_eq!(find_case(&a, &id)["synced"], true);
}
