//! Leader reception days: matters received on two tablets, the day's tally, appointments, and
//! a received matter made a case in one step.

use automerge::ActorId;
use lianxin_shared::OptionCode;
use lianxin_shared::{Date, DocId, Editor, EntryId, ReceivedOutcome, UnitId};
use lianxin_shared::{MatterDraft, ReceptionDoc, ReceptionDraft};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn day() -> ReceptionDoc {
    let draft = ReceptionDraft {
        id: DocId::random(),
        unit: UnitId::new("longxi").unwrap(),
        on: d("2026-11-25"),
        leader: "刘副县长".into(),
        place: "龙溪镇群众接待室".into(),
    };
    ReceptionDoc::create(&draft, &Editor::new("registrar", 1_000), ActorId::random()).unwrap()
}

fn fork(r: &ReceptionDoc) -> ReceptionDoc {
    ReceptionDoc::from_doc(r.doc().clone().with_actor(ActorId::random())).unwrap()
}

fn matter(summary: &str, people: i64, outcome: ReceivedOutcome, due: Option<&str>) -> MatterDraft {
    MatterDraft {
        summary: summary.into(),
        people,
        petitioner: "王某".into(),
        phone: Some("13900000000".into()),
        outcome,
        due: due.map(d),
    }
}

#[test]
fn two_clerks_log_one_day_and_the_tally_counts_both() {
    let (a_ed, b_ed) = (Editor::new("clerk1", 2_000), Editor::new("clerk2", 3_000));
    let r = day();
    let (mut a, mut b) = (fork(&r), fork(&r));
    a.receive(
        &a_ed,
        &matter("反映低保被取消", 1, ReceivedOutcome::OnTheSpot, None),
    )
    .unwrap();
    a.book(&a_ed, "张某", None, "征地补偿").unwrap();
    b.receive(
        &b_ed,
        &matter(
            "要求修缮村道",
            6,
            ReceivedOutcome::Deadline,
            Some("2026-12-10"),
        ),
    )
    .unwrap();
    let (mut x, mut y) = (a.doc().clone(), b.doc().clone());
    x.merge(&mut y).unwrap();
    y.merge(&mut x.clone()).unwrap();
    let (a, b) = (
        ReceptionDoc::from_doc(x).unwrap(),
        ReceptionDoc::from_doc(y).unwrap(),
    );
    let r = a.read().unwrap();
    assert_eq!(r, b.read().unwrap());
    assert_eq!((r.tally.matters, r.tally.people), (2, 7));
    assert_eq!(
        (r.tally.on_the_spot, r.tally.deadline, r.tally.cases),
        (1, 1, 0)
    );
    assert_eq!(r.appointments[0].matter, "征地补偿");
    assert_eq!(r.leader.as_deref(), Some("刘副县长"));
    assert_eq!(r.on, Some(d("2026-11-25")));
}

#[test]
fn a_received_matter_becomes_a_case_in_one_step() {
    let ed = Editor::new("clerk1", 2_000);
    let mut r = day();
    let id = r
        .receive(
            &ed,
            &matter(
                "反映工程款拖欠",
                8,
                ReceivedOutcome::Deadline,
                Some("2026-12-25"),
            ),
        )
        .unwrap();
    let (case, details) = r.matter_to_case(&ed, &id, ActorId::random(), &[]).unwrap();
    let (case, details) = (case.read().unwrap(), details.read().unwrap());
    assert_eq!(details.case, Some(case.header.id));
    assert_eq!(details.header.units, case.header.units);
    assert_eq!(case.summary, "反映工程款拖欠");
    assert_eq!(
        (case.form.code(), case.people),
        (Some("collective"), Some(8))
    );
    assert_eq!(case.leader.as_deref(), Some("刘副县长"));
    assert_eq!(case.petitioners[0].name, "王某");
    assert_eq!(case.steps[0].kind, "registered");
    assert_eq!(
        case.steps[0].on,
        d("2026-11-25"),
        "registered on the reception day"
    );
    let log = r.read().unwrap();
    assert_eq!(log.matters[0].case, Some(case.header.id));
    assert_eq!(log.tally.cases, 1);
    assert!(
        r.matter_to_case(&ed, &id, ActorId::random(), &[]).is_err(),
        "only once"
    );
    assert!(
        r.matter_to_case(&ed, &EntryId::random(), ActorId::random(), &[])
            .is_err()
    );
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let ed = Editor::new("clerk1", 2_000);
    let mut r = day();
    let before = r.read().unwrap();
    let cases = [
        (
            matter(" ", 1, ReceivedOutcome::OnTheSpot, None),
            "what was asked",
        ),
        (
            matter("x", 0, ReceivedOutcome::OnTheSpot, None),
            "1 to 100000",
        ),
        (
            matter("x", 1, ReceivedOutcome::Deadline, None),
            "needs the day",
        ),
        (
            matter("x", 1, ReceivedOutcome::Case, None),
            "make it a case",
        ),
    ];
    for (m, why) in cases {
        let err = r.receive(&ed, &m).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }
    assert!(r.book(&ed, "", None, "x").is_err());
    assert_eq!(r.read().unwrap(), before);
    let draft = ReceptionDraft {
        id: DocId::random(),
        unit: UnitId::new("longxi").unwrap(),
        on: d("2026-11-25"),
        leader: " ".into(),
        place: "x".into(),
    };
    assert!(ReceptionDoc::create(&draft, &ed, ActorId::random()).is_err());
}
