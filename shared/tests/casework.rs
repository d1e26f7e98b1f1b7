//! Field-work records in the case document, edited on two devices offline and merged:
//! seven-evenings plans and their logs, evaluations, petitioners' details.

use automerge::{ActorId, AutoCommit, ROOT, transaction::Transactable};
use lianxin_shared::OptionCode;
use lianxin_shared::fieldwork::{Evening, evening_run};
use lianxin_shared::{
    CaseDoc, CaseDraft, Channel, DetailsDoc, DocId, Editor, EveningLogDraft, Field, Petitioner,
    Satisfaction, UnitId,
};
use lianxin_shared::{Date, EntryId};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn new_case() -> CaseDoc {
    let draft = CaseDraft::new(UnitId::new("t01").unwrap(), Channel::Visit, "宅基地纠纷");
    CaseDoc::create(&draft, &Editor::new("registrar", 1_000), ActorId::random())
}

/// A second device's copy of the case, signing with its own actor.
fn fork(case: &CaseDoc) -> CaseDoc {
    CaseDoc::from_doc(case.doc().clone().with_actor(ActorId::random())).unwrap()
}

fn merge(a: &mut CaseDoc, b: &mut CaseDoc) {
    let mut x = a.doc().clone();
    let mut y = b.doc().clone();
    x.merge(&mut y).unwrap();
    y.merge(&mut x.clone()).unwrap();
    *a = CaseDoc::from_doc(x).unwrap();
    *b = CaseDoc::from_doc(y).unwrap();
}

fn evening(on: &str, held: bool, talk: &str) -> EveningLogDraft {
    EveningLogDraft {
        on: Some(d(on)),
        held,
        time: held.then(|| "19:30–22:10".to_string()),
        talk: talk.into(),
        attitude: Some("情绪平稳".into()),
        agreement: None,
    }
}

#[test]
fn two_visitors_log_the_same_plan_offline_and_nothing_is_lost() {
    let (wang, li) = (Editor::new("wang", 2_000), Editor::new("li", 2_001));
    let mut case = new_case();
    case.start_evenings(&wang, d("2026-11-28"), "王书记、乡贤李大爷")
        .unwrap();
    let mut a = fork(&case);
    let mut b = fork(&case);
    a.log_evening(&wang, &evening("2026-11-28", true, "听取诉求，讲解政策"))
        .unwrap();
    a.log_evening(&wang, &evening("2026-11-29", true, "核对宅基地面积"))
        .unwrap();
    // Li logs the first evening too, and the third, on another tablet.
    b.log_evening(&li, &evening("2026-11-28", true, "拉家常，了解家庭困难"))
        .unwrap();
    b.log_evening(&li, &evening("2026-11-30", true, "邀请村干部一起谈"))
        .unwrap();
    merge(&mut a, &mut b);
    let (ra, rb) = (a.read().unwrap(), b.read().unwrap());
    assert_eq!(ra, rb);
    let talks: Vec<&str> = ra.evening_logs.iter().map(|l| l.talk.as_str()).collect();
    for t in [
        "听取诉求，讲解政策",
        "核对宅基地面积",
        "拉家常，了解家庭困难",
        "邀请村干部一起谈",
    ] {
        assert!(talks.contains(&t), "{t} lost: {talks:?}");
    }
    let run = evening_run(&ra.evening_plan().unwrap(), d("2026-12-01")).unwrap();
    assert_eq!(run.progress, 3, "three evenings held over a month end");
    assert_eq!(run.evenings[3], Evening::Tonight);
    assert_eq!(run.broken_on, None);
    assert_eq!(ra.evening_starts[0].visitors, "王书记、乡贤李大爷");

    // A missed evening breaks the run; a restart begins a new one.
    a.log_evening(&wang, &evening("2026-12-01", false, ""))
        .unwrap();
    let run = evening_run(&a.read().unwrap().evening_plan().unwrap(), d("2026-12-02")).unwrap();
    assert_eq!((run.progress, run.broken_on), (3, Some(d("2026-12-01"))));
    a.start_evenings(&wang, d("2026-12-05"), "王书记").unwrap();
    let run = evening_run(&a.read().unwrap().evening_plan().unwrap(), d("2026-12-05")).unwrap();
    assert_eq!((run.progress, run.restarts, run.broken_on), (0, 1, None));

    // The plan's outcome is a single value like any other field.
    a.set(Field::EveningOutcome, "resolved", &wang).unwrap();
    assert_eq!(a.read().unwrap().evening_outcome.code(), Some("resolved"));
    assert!(a.set(Field::EveningOutcome, "maybe", &wang).is_err());
}

#[test]
fn evening_logs_need_a_plan_and_held_evenings_need_the_talk() {
    let wang = Editor::new("wang", 2_000);
    let mut case = new_case();
    let before = case.read().unwrap();
    let err = case
        .log_evening(&wang, &evening("2026-11-28", true, "谈话"))
        .unwrap_err();
    assert!(
        err.to_string().contains("start a seven-evenings plan"),
        "{err}"
    );
    assert!(case.start_evenings(&wang, d("2026-11-28"), "  ").is_err());
    case.start_evenings(&wang, d("2026-11-28"), "王书记")
        .unwrap();
    let err = case
        .log_evening(&wang, &evening("2026-11-28", true, " "))
        .unwrap_err();
    assert!(err.to_string().contains("talked about"), "{err}");
    let after = case.read().unwrap();
    assert_eq!(
        after.evening_logs, before.evening_logs,
        "a refused log leaves nothing"
    );
}

#[test]
fn a_list_made_on_two_devices_for_an_older_case_keeps_both_entries() {
    let wang = Editor::new("wang", 2_000);
    // A case made before evaluations existed: no list under the key.
    let mut old = new_case();
    let mut doc: AutoCommit = old.doc().clone();
    doc.delete(ROOT, "evaluations").unwrap();
    old = CaseDoc::from_doc(doc).unwrap();
    let mut a = fork(&old);
    let mut b = fork(&old);
    a.evaluate(
        &wang,
        d("2026-12-01"),
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
    )
    .unwrap();
    b.evaluate(
        &Editor::new("li", 3_000),
        d("2026-12-02"),
        Satisfaction::Unsatisfied,
        Satisfaction::Unsatisfied,
    )
    .unwrap();
    merge(&mut a, &mut b);
    let case = a.read().unwrap();
    assert_eq!(case.evaluations.len(), 2, "both devices' evaluations kept");
    let latest = case.evaluation().unwrap();
    assert_eq!(
        (latest.office.as_str(), latest.by.as_str()),
        ("unsatisfied", "li")
    );
    assert_eq!(b.read().unwrap(), case);
}

fn fork_details(d: &DetailsDoc) -> DetailsDoc {
    DetailsDoc::from_doc(d.doc().clone().with_actor(ActorId::random())).unwrap()
}

fn merge_details(a: &mut DetailsDoc, b: &mut DetailsDoc) {
    let mut x = a.doc().clone();
    let mut y = b.doc().clone();
    x.merge(&mut y).unwrap();
    y.merge(&mut x.clone()).unwrap();
    *a = DetailsDoc::from_doc(x).unwrap();
    *b = DetailsDoc::from_doc(y).unwrap();
}

/// The case as a handling unit's device reads it: with its details.
fn whole(case: &CaseDoc, details: &DetailsDoc) -> lianxin_shared::Case {
    let mut c = case.read().unwrap();
    c.with_details(&details.read().unwrap());
    c
}

#[test]
fn petitioner_details_edited_on_two_devices_merge_detail_by_detail() {
    let wang = Editor::new("wang", 2_000);
    let draft = CaseDraft::new(UnitId::new("t01").unwrap(), Channel::Visit, "宅基地纠纷");
    let bureau = UnitId::new("lianshan").unwrap();
    let (mut case, mut details) = CaseDoc::create_with_details(
        &draft,
        std::slice::from_ref(&bureau),
        &Editor::new("registrar", 1_000),
        ActorId::random(),
    );
    assert_eq!(details.header().unwrap().id, DocId::details_of(&draft.id));
    let mut p = Petitioner::new(
        "张桂兰",
        Some("410102195601011234".into()),
        None,
        Some("城关镇东街".into()),
    );
    let id = p.id.clone();
    // Without the details document (a device of a unit that does not handle the case) the
    // details cannot be written; the name alone can.
    assert!(
        case.add_petitioner(&wang, &p, None)
            .unwrap_err()
            .to_string()
            .contains("only by the units handling the case")
    );
    case.add_petitioner(&wang, &p, Some(&mut details)).unwrap();
    let (mut a, mut b) = (fork(&case), fork(&case));
    let (mut da, mut db) = (fork_details(&details), fork_details(&details));
    a.set_petitioner(&wang, &id, "phone", "13800001111", Some(&mut da))
        .unwrap();
    b.set_petitioner(
        &Editor::new("li", 3_000),
        &id,
        "address",
        "城关镇东街12号",
        Some(&mut db),
    )
    .unwrap();
    merge(&mut a, &mut b);
    merge_details(&mut da, &mut db);
    let full = &whole(&a, &da).petitioners[0];
    assert_eq!(full.phone.as_deref(), Some("13800001111"));
    assert_eq!(full.address.as_deref(), Some("城关镇东街12号"));
    assert_eq!(full.id_number.as_deref(), Some("410102195601011234"));
    // The case alone holds the masked forms only, and nowhere in its history the details.
    let masked = &a.read().unwrap().petitioners[0];
    assert_eq!(
        (masked.id_number.as_deref(), masked.phone.as_deref()),
        (None, None)
    );
    assert_eq!(
        masked.masked.id_number.as_deref(),
        Some("4101**********1234")
    );
    assert_eq!(masked.masked.phone.as_deref(), Some("138****1111"));
    assert_eq!(masked.masked.address.as_deref(), Some("城关镇东街1****"));
    assert_eq!(masked.shown("phone"), Some("138****1111"));
    assert_eq!(full.shown("phone"), Some("13800001111"));
    let saved = a.doc().clone().save_nocompress();
    for secret in ["410102195601011234", "13800001111", "东街12号"] {
        assert!(
            !saved.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the case's bytes"
        );
    }

    a.set_petitioner(&wang, &id, "phone", "", Some(&mut da))
        .unwrap();
    assert_eq!(whole(&a, &da).petitioners[0].phone, None);
    assert_eq!(a.read().unwrap().petitioners[0].masked.phone, None);
    a.set_petitioner(&wang, &id, "name", "张桂兰", None)
        .unwrap();
    for (key, value, why) in [
        ("name", "", "has a name"),
        ("email", "x", "expected name"),
        ("phone", &"1".repeat(201), "at most 200"),
        ("phone", "13800001111", "only by the units handling"),
    ] {
        let details = (!why.contains("handling")).then_some(&mut da);
        let err = a
            .set_petitioner(&wang, &id, key, value, details)
            .unwrap_err();
        assert!(err.to_string().contains(why), "{key}: {err}");
    }
    assert!(
        a.set_petitioner(&wang, &EntryId::random(), "phone", "1", Some(&mut da))
            .unwrap_err()
            .to_string()
            .contains("no such petitioner")
    );
    p.name = " ".into();
    assert!(a.add_petitioner(&wang, &p, Some(&mut da)).is_err());
}

#[test]
fn responsibility_joint_handling_aid_and_hearings_merge_and_refuse_bad_input() {
    use lianxin_shared::{AidDraft, Commitment, FourRole, HearingDraft, PackageTask};
    let (wang, li) = (Editor::new("wang", 2_000), Editor::new("li", 3_000));
    let mut case = new_case();
    case.set(Field::Leader, "刘副县长", &wang).unwrap();
    case.set(Field::PackageDue, "2027-01-31", &wang).unwrap();
    case.set(Field::FourCountyLeader, "刘副县长", &wang)
        .unwrap();
    case.set(Field::FourOfficer, "村支书唐某", &wang).unwrap();
    assert!(case.set(Field::PackageDue, "2027-02-30", &wang).is_err());

    let mut a = fork(&case);
    let mut b = fork(&case);
    let task = PackageTask::Investigate.code();
    a.add_progress(&wang, task, d("2026-12-01"), "调阅征地档案", false)
        .unwrap();
    b.add_progress(&li, task, d("2026-12-03"), "现场核实面积，调研完成", true)
        .unwrap();
    b.add_progress(
        &li,
        Commitment::Hardship.code(),
        d("2026-12-03"),
        "申请临时救助",
        false,
    )
    .unwrap();
    a.add_progress(
        &wang,
        FourRole::CountyLeader.code(),
        d("2026-12-02"),
        "召开专题协调会",
        false,
    )
    .unwrap();
    // Joint handling: the housing bureau assists on one tablet, the HRSS on the other.
    let housing = UnitId::new("housing").unwrap();
    a.set_assisting(&wang, &housing, true).unwrap();
    b.set_assisting(&li, &UnitId::new("hrss").unwrap(), true)
        .unwrap();
    a.add_aid(
        &wang,
        &AidDraft {
            amount: 3000,
            reason: "家庭困难，子女就学".into(),
            approved_by: "县信访联席会议".into(),
            approved_on: Some(d("2026-12-05")),
            paid_on: None,
        },
    )
    .unwrap();
    b.add_hearing(
        &li,
        &HearingDraft {
            on: Some(d("2026-12-06")),
            participants: "人大代表2名、律师1名、村民代表3名".into(),
            conclusion: "诉求部分合理，建议按政策补足青苗费".into(),
        },
    )
    .unwrap();
    merge(&mut a, &mut b);
    let c = a.read().unwrap();
    assert_eq!(c, b.read().unwrap());
    let (notes, done) = c.track(task);
    assert_eq!(
        (notes.len(), done),
        (2, true),
        "both notes, the latest says done"
    );
    assert!(!c.track(Commitment::Hardship.code()).1);
    assert_eq!(c.track(FourRole::CountyLeader.code()).0.len(), 1);
    assert_eq!(c.package_due, Some(d("2027-01-31")));
    assert_eq!(c.four_people[0].as_deref(), Some("刘副县长"));
    assert_eq!(c.four_people[3].as_deref(), Some("村支书唐某"));
    assert_eq!(
        c.assisting,
        vec![
            UnitId::new("housing").unwrap(),
            UnitId::new("hrss").unwrap()
        ]
    );
    let units: Vec<String> = c.header.units.iter().map(|u| u.to_string()).collect();
    assert!(
        units.contains(&"housing".into()) && units.contains(&"hrss".into()),
        "assisting units can see the case: {units:?}"
    );
    assert_eq!(
        c.hearings[0].conclusion,
        "诉求部分合理，建议按政策补足青苗费"
    );
    let aid_id = c.aid[0].id.clone();
    assert_eq!((c.aid[0].amount, c.aid[0].paid_on), (3000, None));
    a.set_aid_paid(&wang, &aid_id, d("2026-12-10")).unwrap();
    assert_eq!(a.read().unwrap().aid[0].paid_on, Some(d("2026-12-10")));
    a.set_assisting(&wang, &housing, false).unwrap();
    assert_eq!(
        a.read().unwrap().assisting,
        vec![UnitId::new("hrss").unwrap()]
    );

    // Bad input is refused with the reason and changes nothing.
    let before = a.read().unwrap();
    let refusals = [
        a.add_progress(&wang, "golf", d("2026-12-01"), "x", false)
            .unwrap_err(),
        a.add_progress(&wang, task, d("2026-12-01"), " ", false)
            .unwrap_err(),
        a.add_aid(
            &wang,
            &AidDraft {
                amount: 0,
                reason: "r".into(),
                approved_by: "a".into(),
                ..Default::default()
            },
        )
        .unwrap_err(),
        a.add_aid(
            &wang,
            &AidDraft {
                amount: 10,
                reason: " ".into(),
                approved_by: "a".into(),
                ..Default::default()
            },
        )
        .unwrap_err(),
        a.add_hearing(
            &wang,
            &HearingDraft {
                on: None,
                participants: "代表".into(),
                conclusion: "".into(),
            },
        )
        .unwrap_err(),
        a.set_aid_paid(&wang, &EntryId::random(), d("2026-12-10"))
            .unwrap_err(),
    ];
    for (err, why) in refusals.iter().zip([
        "package task",
        "needs some text",
        "amount",
        "needs a reason",
        "conclusion",
        "no entry",
    ]) {
        assert!(err.to_string().contains(why), "{err}");
    }
    assert_eq!(a.read().unwrap(), before);
}
