//! Mediation disputes as their own documents: edited on two devices, escalated up the levels,
//! turned into a case and a case sent to mediation.

use automerge::ActorId;
use lianxin_shared::OptionCode;
use lianxin_shared::{
    CaseDoc, CaseDraft, Channel, Committee, Date, DocId, Editor, MediationKind, MediationLevel,
    Petitioner, UnitId,
};
use lianxin_shared::{DisputeDoc, DisputeDraft};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn new_dispute() -> DisputeDoc {
    let draft = DisputeDraft {
        id: DocId::random(),
        unit: UnitId::new("longxi").unwrap(),
        summary: "两户因宅前排水沟堵塞发生争执".into(),
        kind: MediationKind::People,
        committee: Committee::Local,
        level: MediationLevel::Group,
    };
    DisputeDoc::create(&draft, &Editor::new("screener", 1_000), ActorId::random())
}

fn fork(d: &DisputeDoc) -> DisputeDoc {
    DisputeDoc::from_doc(d.doc().clone().with_actor(ActorId::random())).unwrap()
}

fn merge(a: &mut DisputeDoc, b: &mut DisputeDoc) {
    let (mut x, mut y) = (a.doc().clone(), b.doc().clone());
    x.merge(&mut y).unwrap();
    y.merge(&mut x.clone()).unwrap();
    *a = DisputeDoc::from_doc(x).unwrap();
    *b = DisputeDoc::from_doc(y).unwrap();
}

#[test]
fn two_mediators_offline_lose_nothing_and_a_differing_value_shows_both() {
    let (wang, li) = (Editor::new("wang", 2_000), Editor::new("li", 3_000));
    let mut dispute = new_dispute();
    dispute
        .add_party(&wang, "张某", Some("申请人"), Some("13800000001"))
        .unwrap();
    let mut a = fork(&dispute);
    let mut b = fork(&dispute);
    a.add_party(&wang, "李某", Some("被申请人"), None).unwrap();
    a.add_session(
        &wang,
        d("2026-11-20"),
        "王调解员",
        "现场查看排水沟，双方各执一词",
    )
    .unwrap();
    b.add_session(&li, d("2026-11-21"), "李调解员", "约双方到村调委会面谈")
        .unwrap();
    a.set("mediator", "王调解员", &wang).unwrap();
    b.set("mediator", "李调解员", &li).unwrap();
    a.set_agreement("张某负责疏通上段，", &wang).unwrap();
    b.set_agreement("李某负责疏通下段。", &li).unwrap();
    merge(&mut a, &mut b);
    let (x, y) = (a.read().unwrap(), b.read().unwrap());
    assert_eq!(x, y);
    assert_eq!(x.parties.len(), 2);
    assert_eq!(x.sessions.len(), 2);
    assert_eq!(x.sessions[0].mediator, "王调解员", "ordered by date");
    assert!(x.agreement.contains("张某负责疏通上段") && x.agreement.contains("李某负责疏通下段"));
    let conflict = x.conflicts.iter().find(|c| c.field == "mediator").unwrap();
    assert_eq!(conflict.values.len(), 2);
    // Bad values are refused with the reason.
    for (field, value, why) in [
        ("level", "moon", "expected one of"),
        ("colour", "red", "unknown field"),
        ("mediator", " ", "1 to 200"),
    ] {
        let err = a.set(field, value, &wang).unwrap_err().to_string();
        assert!(err.contains(why), "{field}: {err}");
    }
    assert!(a.add_session(&wang, d("2026-11-22"), "王", " ").is_err());
    assert!(a.add_party(&wang, "", None, None).is_err());
}

#[test]
fn escalation_climbs_the_four_levels_with_who_and_when_and_stops_at_the_top() {
    let mut dispute = new_dispute();
    let levels = ["village", "township", "city", "standing"];
    for (i, want) in levels.iter().enumerate() {
        let ed = Editor::new(&format!("u{i}"), 10_000 + i as i64);
        let to = dispute
            .escalate(&ed, d("2026-11-20").add_days(i as i32), "本级调解不成")
            .unwrap();
        assert_eq!(&to, want);
    }
    let x = dispute.read().unwrap();
    assert_eq!(x.level.code(), Some("standing"));
    assert_eq!(x.result.code(), Some("escalated"));
    let steps: Vec<(String, String, String)> = x
        .escalations
        .iter()
        .map(|e| {
            (
                e.from.code().to_string(),
                e.to.code().to_string(),
                e.by.clone(),
            )
        })
        .collect();
    assert_eq!(steps[0], ("group".into(), "village".into(), "u0".into()));
    assert_eq!(steps[3], ("city".into(), "standing".into(), "u3".into()));
    assert_eq!(x.escalations[3].on, d("2026-11-23"));
    let err = dispute
        .escalate(&Editor::new("u9", 20_000), d("2026-11-30"), "再报")
        .unwrap_err();
    assert!(err.to_string().contains("highest level"), "{err}");
    let mut fresh = new_dispute();
    assert!(
        fresh
            .escalate(&Editor::new("u", 1), d("2026-11-30"), " ")
            .is_err()
    );
    // The higher level settles it.
    dispute
        .set("result", "settled", &Editor::new("u5", 30_000))
        .unwrap();
    assert_eq!(dispute.read().unwrap().result.code(), Some("settled"));
}

#[test]
fn a_dispute_becomes_a_case_and_a_case_goes_to_mediation() {
    let ed = Editor::new("wang", 2_000);
    let mut dispute = new_dispute();
    dispute
        .add_party(&ed, "张某", Some("申请人"), Some("13800000001"))
        .unwrap();
    let bureau = UnitId::new("lianshan").unwrap();
    let (mut case, details) = dispute
        .make_case(&ed, ActorId::random(), std::slice::from_ref(&bureau))
        .unwrap();
    let mut c = case.read().unwrap();
    // The party's phone went into the details, masked into the case.
    assert_eq!(c.petitioners[0].phone, None);
    assert_eq!(
        c.petitioners[0].masked.phone.as_deref(),
        Some("138****0001")
    );
    let d = details.read().unwrap();
    assert_eq!(d.header.units.len(), 2);
    assert!(d.header.units.contains(&bureau));
    c.with_details(&d);
    assert_eq!(c.petitioners[0].phone.as_deref(), Some("13800000001"));
    let x = dispute.read().unwrap();
    assert_eq!(x.case, Some(c.header.id));
    assert_eq!(c.dispute, Some(x.header.id));
    assert_eq!(c.summary, x.summary);
    assert_eq!(c.petitioners[0].name, "张某");
    assert_eq!(c.header.units, x.header.units);
    assert!(
        dispute.make_case(&ed, ActorId::random(), &[]).is_err(),
        "only once"
    );
    assert!(
        CaseDoc::from_doc(dispute.doc().clone()).is_err(),
        "a dispute is never read as a case"
    );
    let _ = &mut case;

    // And back: a case sent to mediation.
    let draft = CaseDraft::new(
        UnitId::new("taohua").unwrap(),
        Channel::Visit,
        "邻里通道纠纷",
    );
    let mut case = CaseDoc::create(&draft, &ed, ActorId::random());
    case.add_petitioner(&ed, &Petitioner::new("赵某", None, None, None), None)
        .unwrap();
    let sent = DisputeDoc::from_case(&mut case, &ed, ActorId::random(), Committee::Land).unwrap();
    let s = sent.read().unwrap();
    let c = case.read().unwrap();
    assert_eq!(s.case, Some(c.header.id));
    assert_eq!(c.dispute, Some(s.header.id));
    assert_eq!(
        (s.committee.code(), s.level.code()),
        (Some("land"), Some("township"))
    );
    assert_eq!(s.parties[0].name, "赵某");
    assert!(DisputeDoc::from_case(&mut case, &ed, ActorId::random(), Committee::Land).is_err());
}
