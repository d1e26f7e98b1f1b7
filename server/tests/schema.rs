//! A tampered device sends changes that break its document's declared schema, through a real
//! socket: each is refused with the field named, kept in quarantine, and nothing of it is
//! stored, while a well-behaved device goes on syncing.

// tidy: long because it is one table of schema-breaking rows, each through a real socket,
// with the good documents of every kind they break.

mod common;

use automerge::sync::SyncDoc;
use automerge::{
    AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable,
};
use common::*;
use lianxin_shared::{
    CaseDoc, CaseDraft, Channel, Committee, DisputeDoc, DisputeDraft, DocId, Editor, EntryId,
    FollowUpDraft, Kind, MatterDraft, MediationKind, MediationLevel, ReceivedOutcome, ReceptionDoc,
    ReceptionDraft, Satisfaction, StepDraft, StepKind, UnitId, check_incoming,
};

const NOW: i64 = 1_790_000_000_000;

fn obj(doc: &AutoCommit, parent: &ObjId, key: &str) -> ObjId {
    match doc.get(parent, key).unwrap() {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("no object {key}: {other:?}"),
    }
}

/// Writes a single-value cell `{v, by, at}` as a device would, with any value.
fn cell(doc: &mut AutoCommit, field: &str, v: impl Into<ScalarValue>) {
    let fields = obj(doc, &ROOT, "fields");
    let c = doc.put_object(&fields, field, ObjType::Map).unwrap();
    doc.put(&c, "v", v.into()).unwrap();
    doc.put(&c, "by", "admin").unwrap();
    doc.put(&c, "at", ScalarValue::Timestamp(NOW)).unwrap();
}

/// The first entry of a root list.
fn first(doc: &AutoCommit, list: &str) -> ObjId {
    let l = obj(doc, &ROOT, list);
    match doc.get(&l, 0).unwrap() {
        Some((_, id)) => id,
        None => panic!("{list} is empty"),
    }
}

/// Appends an entry with the given values to a root list.
fn entry(doc: &mut AutoCommit, list: &str, values: &[(&str, ScalarValue)]) {
    let l = obj(doc, &ROOT, list);
    let n = doc.length(&l);
    let e = doc.insert_object(&l, n, ObjType::Map).unwrap();
    for (k, v) in values {
        doc.put(&e, *k, v.clone()).unwrap();
    }
}

fn s(v: &str) -> ScalarValue {
    ScalarValue::Str(v.into())
}

/// A well-formed step entry with one value replaced.
fn step_with(key: &str, value: ScalarValue) -> Vec<(&str, ScalarValue)> {
    let mut e = vec![
        ("id", s(EntryId::random().as_str())),
        ("kind", s("assigned")),
        ("on", s("2026-11-20")),
        ("by", s("admin")),
        ("at", ScalarValue::Timestamp(NOW)),
    ];
    e.retain(|(k, _)| *k != key);
    e.push((key, value));
    e
}

type Tamper = Box<dyn Fn(&mut AutoCommit)>;

/// (what, the kind of document, the tampering, the field the refusal must name)
fn rows() -> Vec<(&'static str, Kind, Tamper, &'static str)> {
    let long = |n: usize| "长".repeat(n);
    vec![
        // A wrong value type, for each type of single value.
        (
            "people = \"lots\"",
            Kind::Case,
            Box::new(|d| cell(d, "people", "lots")),
            "fields.people",
        ),
        (
            "people = 0",
            Kind::Case,
            Box::new(|d| cell(d, "people", 0i64)),
            "fields.people",
        ),
        (
            "archived = \"yes\"",
            Kind::Case,
            Box::new(|d| cell(d, "archived", "yes")),
            "fields.archived",
        ),
        (
            "package_due = 5",
            Kind::Case,
            Box::new(|d| cell(d, "package_due", 5i64)),
            "fields.package_due",
        ),
        (
            "handler = 7",
            Kind::Case,
            Box::new(|d| cell(d, "handler", 7i64)),
            "fields.handler",
        ),
        (
            "responsible_unit not a unit id",
            Kind::Case,
            Box::new(|d| cell(d, "responsible_unit", "龙溪 镇!")),
            "fields.responsible_unit",
        ),
        (
            "dispute not a document id",
            Kind::Case,
            Box::new(|d| cell(d, "dispute", "xyz")),
            "fields.dispute",
        ),
        (
            "a cell that is not a map",
            Kind::Case,
            Box::new(|d| {
                let f = obj(d, &ROOT, "fields");
                d.put(&f, "handler", "张三").unwrap();
            }),
            "fields.handler",
        ),
        (
            "a cell with an extra key",
            Kind::Case,
            Box::new(|d| {
                cell(d, "handler", "张三");
                let f = obj(d, &ROOT, "fields");
                let c = obj(d, &f, "handler");
                d.put(&c, "colour", "red").unwrap();
            }),
            "fields.handler.colour",
        ),
        (
            "an unknown field",
            Kind::Case,
            Box::new(|d| cell(d, "colour", "red")),
            "fields.colour",
        ),
        // Unknown vocabulary codes.
        (
            "channel carrier-pigeon",
            Kind::Case,
            Box::new(|d| cell(d, "channel", "carrier-pigeon")),
            "fields.channel",
        ),
        (
            "a step of kind foo",
            Kind::Case,
            Box::new(|d| entry(d, "steps", &step_with("kind", s("foo")))),
            "steps[0].kind",
        ),
        (
            "an evaluation \"thrilled\"",
            Kind::Case,
            Box::new(|d| {
                entry(
                    d,
                    "evaluations",
                    &[
                        ("id", s(EntryId::random().as_str())),
                        ("on", s("2026-11-20")),
                        ("office", s("thrilled")),
                        ("unit", s("satisfied")),
                        ("by", s("admin")),
                        ("at", ScalarValue::Timestamp(NOW)),
                    ],
                )
            }),
            "evaluations[0].office",
        ),
        (
            "a dispute's committee",
            Kind::Dispute,
            Box::new(|d| cell(d, "committee", "astrology")),
            "fields.committee",
        ),
        (
            "a received matter's outcome",
            Kind::Reception,
            Box::new(|d| {
                let m = first(d, "matters");
                d.put(&m, "outcome", "vanished").unwrap();
            }),
            "matters[0].outcome",
        ),
        // Impossible dates.
        (
            "a step dated 2026-13-45",
            Kind::Case,
            Box::new(|d| entry(d, "steps", &step_with("on", s("2026-13-45")))),
            "steps[0].on",
        ),
        (
            "a step dated by a number",
            Kind::Case,
            Box::new(|d| entry(d, "steps", &step_with("on", ScalarValue::Int(20261120)))),
            "steps[0].on",
        ),
        (
            "a reception day on 2026-02-30",
            Kind::Reception,
            Box::new(|d| cell(d, "on", "2026-02-30")),
            "fields.on",
        ),
        // Entries: ids, missing fields, numbers out of range, wrong shapes.
        (
            "a bad entry id",
            Kind::Case,
            Box::new(|d| entry(d, "steps", &step_with("id", s("not an id!")))),
            "steps[0].id",
        ),
        (
            "an entry id used twice",
            Kind::Case,
            Box::new(|d| {
                let e = first(d, "follow_ups");
                let id = match d.get(&e, "id").unwrap() {
                    Some((automerge::Value::Scalar(v), _)) => {
                        v.to_string().trim_matches('"').to_string()
                    }
                    other => panic!("no id: {other:?}"),
                };
                entry(
                    d,
                    "follow_ups",
                    &[
                        ("id", s(&id)),
                        ("on", s("2026-11-21")),
                        ("text", s("又去了一次")),
                        ("by", s("admin")),
                        ("at", ScalarValue::Timestamp(NOW)),
                    ],
                );
            }),
            "follow_ups[1].id",
        ),
        (
            "an entry without its date",
            Kind::Case,
            Box::new(|d| {
                let e = first(d, "follow_ups");
                d.delete(&e, "on").unwrap();
            }),
            "follow_ups[0].on",
        ),
        (
            "an entry with an unknown field",
            Kind::Case,
            Box::new(|d| {
                let e = first(d, "follow_ups");
                d.put(&e, "gps", "28.1,112.9").unwrap();
            }),
            "follow_ups[0].gps",
        ),
        (
            "hardship aid of -5",
            Kind::Case,
            Box::new(|d| {
                entry(
                    d,
                    "aid",
                    &[
                        ("id", s(EntryId::random().as_str())),
                        ("amount", ScalarValue::Int(-5)),
                        ("reason", s("困难")),
                        ("approved_by", s("admin")),
                        ("by", s("admin")),
                        ("at", ScalarValue::Timestamp(NOW)),
                    ],
                )
            }),
            "aid[0].amount",
        ),
        (
            "a matter's people as text",
            Kind::Reception,
            Box::new(|d| {
                let m = first(d, "matters");
                d.put(&m, "people", "many").unwrap();
            }),
            "matters[0].people",
        ),
        (
            "an ID number in clear in a case",
            Kind::Case,
            Box::new(|d| {
                let l = obj(d, &ROOT, "petitioners");
                let p = d.insert_object(&l, 0, ObjType::Map).unwrap();
                d.put(&p, "id", "00000000000000aa").unwrap();
                d.put(&p, "name", "王某").unwrap();
                d.put(&p, "id_number", "430581196504120017").unwrap();
            }),
            "petitioners[0].id_number",
        ),
        (
            "a \"masked\" phone showing the whole number",
            Kind::Case,
            Box::new(|d| {
                let l = obj(d, &ROOT, "petitioners");
                let p = d.insert_object(&l, 0, ObjType::Map).unwrap();
                d.put(&p, "id", "00000000000000ab").unwrap();
                d.put(&p, "name", "王某").unwrap();
                d.put(&p, "phone_masked", "13800001111****").unwrap();
            }),
            "petitioners[0].phone_masked",
        ),
        (
            "an assessment rule out of range",
            Kind::Reference,
            Box::new(|d| {
                let fields = obj(d, &ROOT, "fields");
                let cell = d.put_object(&fields, "capital", ObjType::Map).unwrap();
                d.put(&cell, "v", 50).unwrap();
                d.put(&cell, "by", "admin").unwrap();
                d.put(&cell, "at", automerge::ScalarValue::Timestamp(NOW))
                    .unwrap();
            }),
            "fields.capital",
        ),
        (
            "personal details of no petitioner",
            Kind::Details,
            Box::new(|d| {
                let e = first(d, "people");
                d.put(&e, "petitioner", "张三").unwrap();
            }),
            "people[0].petitioner",
        ),
        (
            "a list entry that is not a map",
            Kind::Case,
            Box::new(|d| {
                let l = obj(d, &ROOT, "steps");
                d.insert(&l, 0, "登记").unwrap();
            }),
            "steps[0]",
        ),
        (
            "notes replaced by a number",
            Kind::Case,
            Box::new(|d| d.put(ROOT, "notes", 3i64).unwrap()),
            "notes",
        ),
        (
            "parties replaced by text",
            Kind::Dispute,
            Box::new(|d| d.put(ROOT, "parties", "none").unwrap()),
            "parties",
        ),
        // Keys that no declaration has.
        (
            "an unknown root key",
            Kind::Case,
            Box::new(|d| d.put(ROOT, "extra", true).unwrap()),
            "extra",
        ),
        (
            "an unknown root key in a dispute",
            Kind::Dispute,
            Box::new(|d| d.put(ROOT, "notes", "x").unwrap()),
            "notes",
        ),
        (
            "an extra header key",
            Kind::Case,
            Box::new(|d| {
                let h = obj(d, &ROOT, "header");
                d.put(&h, "owner", "leader").unwrap();
            }),
            "header.owner",
        ),
        // Units as a set of flags.
        (
            "a unit set to false",
            Kind::Case,
            Box::new(|d| {
                let h = obj(d, &ROOT, "header");
                let u = obj(d, &h, "units");
                d.put(&u, "longxi", false).unwrap();
            }),
            "header.units.longxi",
        ),
        (
            "an assisting unit set to a number",
            Kind::Case,
            Box::new(|d| {
                let a = obj(d, &ROOT, "assisting");
                d.put(&a, "longxi", 1i64).unwrap();
            }),
            "assisting.longxi",
        ),
        // Over-long texts.
        (
            "a 5,001-character summary",
            Kind::Case,
            Box::new(move |d| {
                let t = obj(d, &ROOT, "summary");
                d.splice_text(&t, 0, 0, &long(5_001)).unwrap();
            }),
            "summary",
        ),
        (
            "a 201-character handler",
            Kind::Case,
            Box::new(move |d| cell(d, "handler", long(201).as_str())),
            "fields.handler",
        ),
        (
            "a 10,001-character follow-up",
            Kind::Case,
            Box::new(move |d| {
                let e = first(d, "follow_ups");
                d.put(&e, "text", long(10_001)).unwrap();
            }),
            "follow_ups[0].text",
        ),
    ]
}

/// A document of each kind, made and edited through the ordinary operations.
fn made(kind: Kind, actor: &automerge::ActorId) -> (DocId, AutoCommit) {
    let ed = Editor::new("admin", NOW);
    let unit = UnitId::new("longxi").unwrap();
    match kind {
        Kind::Case => {
            let draft = CaseDraft::new(unit, Channel::Visit, "王某反映土地承包纠纷");
            let mut case = CaseDoc::create(&draft, &ed, actor.clone());
            let visit = FollowUpDraft {
                text: "第一次走访".into(),
                ..Default::default()
            };
            case.add_follow_up(&ed, &visit).unwrap();
            (draft.id, case.into_doc())
        }
        Kind::Dispute => {
            let draft = DisputeDraft {
                id: DocId::random(),
                unit,
                summary: "邻里排水纠纷".into(),
                kind: MediationKind::People,
                committee: Committee::Local,
                level: MediationLevel::Group,
            };
            let mut d = DisputeDoc::create(&draft, &ed, actor.clone());
            d.add_party(&ed, "甲", Some("申请人"), None).unwrap();
            (draft.id, d.into_doc())
        }
        Kind::Reception => {
            let draft = ReceptionDraft {
                id: DocId::random(),
                unit,
                on: "2026-11-25".parse().unwrap(),
                leader: "刘副县长".into(),
                place: "龙溪镇接待室".into(),
            };
            let mut r = ReceptionDoc::create(&draft, &ed, actor.clone()).unwrap();
            let m = MatterDraft {
                summary: "欠薪".into(),
                people: 2,
                petitioner: "李某".into(),
                phone: None,
                outcome: ReceivedOutcome::OnTheSpot,
                due: None,
            };
            r.receive(&ed, &m).unwrap();
            (draft.id, r.into_doc())
        }
        Kind::Details => {
            let draft = CaseDraft::new(unit, Channel::Visit, "个人信息");
            let bureau = UnitId::new("lianshan").unwrap();
            let (mut case, mut details) =
                CaseDoc::create_with_details(&draft, &[bureau], &ed, actor.clone());
            let p = lianxin_shared::Petitioner::new(
                "王某",
                Some("430581196504120017".into()),
                None,
                None,
            );
            case.add_petitioner(&ed, &p, Some(&mut details)).unwrap();
            (DocId::details_of(&draft.id), details.into_doc())
        }
        Kind::Reference => {
            let bureau = UnitId::new("lianshan").unwrap();
            let mut r = lianxin_shared::ReferenceDoc::create(&bureau, &ed, actor.clone());
            r.set_rule(&ed, "on_time", 25).unwrap();
            r.add_campaign(
                &ed,
                "重复信访积案化解",
                "2026-11-01".parse().unwrap(),
                None,
                Some("积案"),
            )
            .unwrap();
            (DocId::reference(), r.into_doc())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_breaking_changes_are_refused_with_the_field_named_and_nothing_stored() {
    count_panics();
    let server = TestServer::start().await;
    let actor = automerge::ActorId::random();
    let session = raw_login(&server.url, "admin", &actor).await;
    let mut socket = connect(&server.url, &session.token).await;
    open(&mut socket, 0).await;

    let mut bystander = device(&server.url, "mediator2").await;
    let theirs = bystander
        .new_case("longxi", "visit", "旁观者的案件", NOW)
        .unwrap()
        .to_string();
    bystander.sync().await.unwrap();

    // One good document of each kind, stored first.
    let mut base = std::collections::HashMap::new();
    for kind in Kind::ALL {
        let (id, mut doc) = made(kind, &actor);
        push_doc(&mut socket, id, &mut doc).await.unwrap();
        assert!(server.state.store.load_doc(&id).unwrap().is_some());
        base.insert(kind, (id, doc));
    }
    let stored_heads = |id: &DocId| {
        let (bytes, _, _) = server.state.store.load_doc(id).unwrap().unwrap();
        AutoCommit::load(&bytes).unwrap().get_heads()
    };

    for (i, (row, kind, tamper, field)) in rows().into_iter().enumerate() {
        let (id, good) = &base[&kind];
        let before = stored_heads(id);
        let quarantined = server.state.store.quarantined().unwrap().len();
        let mut bad = good.clone().with_actor(actor.clone());
        tamper(&mut bad);
        bad.commit();
        let reason = push_doc(&mut socket, *id, &mut bad).await.expect_err(row);
        assert!(
            reason.contains("schema violation") && reason.contains(field),
            "{row}: the refusal names {field}: {reason}"
        );
        // Refusals are logged and kept: they never quote personal details.
        for secret in ["13800001111", "430581196504120017"] {
            assert!(!reason.contains(secret), "{row}: {reason}");
        }
        assert_eq!(stored_heads(id), before, "{row}: nothing of it is stored");
        assert_eq!(
            server.state.store.quarantined().unwrap().len(),
            quarantined + 1,
            "{row}: kept in quarantine"
        );
        // A bystander keeps syncing.
        let note = format!("第{i}条");
        bystander.note(&theirs, &note, NOW).unwrap();
        let report = bystander
            .sync()
            .await
            .unwrap_or_else(|e| panic!("after {row}: {e}"));
        assert!(
            report.refused.is_empty(),
            "after {row}: {:?}",
            report.refused
        );
    }
    // The good documents still take good edits on the same connection.
    let (id, good) = &base[&Kind::Case];
    let mut case = CaseDoc::from_doc(good.clone().with_actor(actor.clone())).unwrap();
    case.evaluate(
        &Editor::new("admin", NOW),
        "2026-11-30".parse().unwrap(),
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
    )
    .unwrap();
    let mut doc = case.into_doc();
    push_doc(&mut socket, *id, &mut doc).await.unwrap();
    assert_eq!(stored_heads(id), doc.get_heads());
    assert_eq!(panics(), 0);
}

/// Creation and checking agree: every document the demo generator makes, and every edit
/// operation of every kind, passes the server's check of incoming changes.
#[test]
fn every_document_the_demo_and_the_edit_operations_make_passes_the_check() {
    use lianxin_shared::{AidDraft, EveningLogDraft, HearingDraft, Petitioner};
    let actor = automerge::ActorId::random();
    let check = |doc: &AutoCommit, what: &str| {
        let mut device = doc.clone();
        let mut state = automerge::sync::State::new();
        let message = device.sync().generate_sync_message(&mut state).unwrap();
        // The server has nothing yet: the first message asks; answer as the server would.
        let mut server = AutoCommit::new();
        let mut server_state = automerge::sync::State::new();
        server
            .sync()
            .receive_sync_message(&mut server_state, message)
            .unwrap();
        let reply = lianxin_shared::reply(&mut server, &mut server_state, &[]).unwrap();
        let reply = automerge::sync::Message::decode(&reply).unwrap();
        device
            .sync()
            .receive_sync_message(&mut state, reply)
            .unwrap();
        let data = device
            .sync()
            .generate_sync_message(&mut state)
            .unwrap()
            .encode();
        let doc_id = lianxin_shared::AnyDoc::open(doc.clone())
            .map(|d| lianxin_shared::Header::of(d.doc()).unwrap().id)
            .unwrap();
        check_incoming(
            &AutoCommit::new(),
            &automerge::sync::State::new(),
            &data,
            doc_id,
            &actor,
            lianxin_shared::protocol::MAX_INFLATED_ITEM,
        )
        .unwrap_or_else(|r| panic!("{what}: refused: {r}"));
    };

    // The demo county: 600 cases in DOMAIN.md's proportions, every record they hold.
    let mut rng = lianxin_shared::demo::Rng::new(7);
    for i in 0..600 {
        let (mut case, details) = lianxin_shared::demo::case(&mut rng, i, NOW, actor.clone());
        let doc = case.save();
        check(&AutoCommit::load(&doc).unwrap(), &format!("demo case {i}"));
        check(details.doc(), &format!("demo case {i}'s details"));
    }

    // Every edit operation of a case.
    let ed = Editor::new("admin", NOW);
    let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "全部操作");
    let mut c = CaseDoc::create(&draft, &ed, actor.clone());
    for field in lianxin_shared::Field::ALL {
        let value = match field.name() {
            "reference"
            | "handler"
            | "leader"
            | "four_county_leader"
            | "four_dept_leader"
            | "four_township_leader"
            | "four_officer" => "张三".to_string(),
            "channel" => "letter".into(),
            "form" => "collective".into(),
            "people" => "12".into(),
            "level" => "township".into(),
            "source" => "inspection".into(),
            "category" => "land".into(),
            "responsible_unit" => "shitang".into(),
            "archived" => "false".into(),
            "evening_outcome" => "resolved".into(),
            "package_due" => "2026-12-31".into(),
            "dispute" => DocId::random().to_string(),
            "matter_kind" => "request".into(),
            other => panic!("a field the test does not know: {other}"),
        };
        c.set(*field, &value, &ed).unwrap();
    }
    c.set_summary("全部操作：改过的摘要", &ed).unwrap();
    c.append_note(&ed, "一条笔记").unwrap();
    let mut details = lianxin_shared::DetailsDoc::create(
        &draft.id,
        &UnitId::new("longxi").unwrap(),
        &[UnitId::new("lianshan").unwrap()],
        &ed,
        actor.clone(),
    );
    let pid = c
        .add_petitioner(
            &ed,
            &Petitioner::new(
                "王某",
                Some("430581196504120017".into()),
                Some("13800000000".into()),
                Some("龙溪镇王庄村".into()),
            ),
            Some(&mut details),
        )
        .unwrap();
    c.set_petitioner(&ed, &pid, "phone", "13900000000", Some(&mut details))
        .unwrap();
    c.set_petitioner(&ed, &pid, "address", "", Some(&mut details))
        .unwrap();
    details
        .share(&ed, &UnitId::new("shitang").unwrap())
        .unwrap();
    check(details.doc(), "details with every edit");
    for kind in StepKind::ALL {
        let (reason, outcome) = match kind {
            StepKind::NotAccepted | StepKind::NotReaccepted | StepKind::Extended => {
                (Some("理由".to_string()), None)
            }
            StepKind::Concluded => (None, Some("upheld".to_string())),
            _ => (None, None),
        };
        let draft = StepDraft {
            kind: *kind,
            on: "2026-11-20".parse().unwrap(),
            reason,
            outcome,
        };
        c.add_step(&ed, &draft).unwrap();
    }
    let first = c.read().unwrap().steps[0].id.clone();
    c.withdraw_step(&ed, &first, "误录").unwrap();
    let visit = FollowUpDraft {
        on: Some("2026-11-21".parse().unwrap()),
        text: "入户走访".into(),
        place: Some("王庄村".into()),
        visitors: Some("李四".into()),
        met: Some("王某".into()),
        attitude: Some("平稳".into()),
        outcome: Some("同意调解".into()),
        next_step: Some("约见村委".into()),
    };
    c.add_follow_up(&ed, &visit).unwrap();
    c.start_evenings(&ed, "2026-11-22".parse().unwrap(), "李四、乡贤王老")
        .unwrap();
    let evening = EveningLogDraft {
        on: Some("2026-11-22".parse().unwrap()),
        held: true,
        time: Some("19:10–22:40".into()),
        talk: "谈了补偿标准".into(),
        attitude: Some("缓和".into()),
        agreement: Some("同意再谈".into()),
    };
    c.log_evening(&ed, &evening).unwrap();
    c.evaluate(
        &ed,
        "2026-11-30".parse().unwrap(),
        Satisfaction::Satisfied,
        Satisfaction::Unsatisfied,
    )
    .unwrap();
    for track in ["investigate", "policy", "four_officer"] {
        c.add_progress(&ed, track, "2026-11-23".parse().unwrap(), "进展", true)
            .unwrap();
    }
    c.set_assisting(&ed, &UnitId::new("hrss").unwrap(), true)
        .unwrap();
    c.set_assisting(&ed, &UnitId::new("hrss").unwrap(), false)
        .unwrap();
    let aid = c
        .add_aid(
            &ed,
            &AidDraft {
                amount: 5000,
                reason: "生活困难".into(),
                approved_by: "刘副县长".into(),
                approved_on: Some("2026-11-24".parse().unwrap()),
                paid_on: None,
            },
        )
        .unwrap();
    c.set_aid_paid(&ed, &aid, "2026-11-25".parse().unwrap())
        .unwrap();
    c.add_hearing(
        &ed,
        &HearingDraft {
            on: Some("2026-11-26".parse().unwrap()),
            participants: "人大代表、律师".into(),
            conclusion: "诉求部分合理".into(),
        },
    )
    .unwrap();
    check(c.doc(), "a case with every edit");

    // A dispute with every edit, a case sent to mediation, and a dispute made a case.
    let (_, d) = made(Kind::Dispute, &actor);
    let mut d = DisputeDoc::from_doc(d).unwrap();
    for (field, value) in [
        ("kind", "administrative"),
        ("committee", "land"),
        ("level", "village"),
        ("mediator", "调解员赵"),
        ("result", "not_settled"),
    ] {
        d.set(field, value, &ed).unwrap();
    }
    d.set_agreement("双方同意", &ed).unwrap();
    d.add_session(&ed, "2026-11-21".parse().unwrap(), "赵", "第一次调解")
        .unwrap();
    d.escalate(&ed, "2026-11-22".parse().unwrap(), "村级调不成")
        .unwrap();
    let (made_case, made_details) = d.make_case(&ed, actor.clone(), &[]).unwrap();
    check(d.doc(), "a dispute with every edit");
    check(made_case.doc(), "a case made from a dispute");
    check(
        made_details.doc(),
        "the details of a case made from a dispute",
    );
    let c2 = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Phone, "送调解");
    let mut to_mediate = CaseDoc::create(&c2, &ed, actor.clone());
    let from_case =
        DisputeDoc::from_case(&mut to_mediate, &ed, actor.clone(), Committee::Labour).unwrap();
    check(from_case.doc(), "a dispute made from a case");
    check(to_mediate.doc(), "a case sent to mediation");

    // A reception day with every edit, and a matter made a case.
    let (_, r) = made(Kind::Reception, &actor);
    let mut r = ReceptionDoc::from_doc(r).unwrap();
    let due = MatterDraft {
        summary: "宅基地".into(),
        people: 6,
        petitioner: "张某".into(),
        phone: Some("13700000000".into()),
        outcome: ReceivedOutcome::Deadline,
        due: Some("2026-12-10".parse().unwrap()),
    };
    let matter = r.receive(&ed, &due).unwrap();
    r.book(&ed, "赵某", Some("13600000000"), "工资").unwrap();
    let (case, details) = r.matter_to_case(&ed, &matter, actor.clone(), &[]).unwrap();
    check(r.doc(), "a reception day with every edit");
    check(case.doc(), "a case made from a received matter");
    check(
        details.doc(),
        "the details of a case made from a received matter",
    );
}
