//! The server's authority, role × operation over every cell of DOMAIN.md's table "Who may do
//! what" that a document carries, and the bad input a tampered device sends: forged
//! authorship, future times, deletions, a second conclusion, units widened by a mediator.
//!
//! The expected table is written out below as DOMAIN.md has it (● may, ○ may not), not taken
//! from the code under test. Reference data and ledgers are not document operations: the
//! first is the admin command line's (`lianxin admin`, no device can write it), ledgers are
//! not built yet.

use automerge::ActorId;
use automerge::transaction::Transactable;
use lianxin_shared::rules::authority::{CLOCK_TOLERANCE_MS, Role, Signer, judge};
use lianxin_shared::{
    AidDraft, CaseDoc, CaseDraft, Channel, Committee, DisputeDoc, DisputeDraft, Editor, Field,
    FollowUpDraft, Kind, MediationKind, MediationLevel, ReceptionDoc, ReceptionDraft, Satisfaction,
    StepDraft, StepKind, UnitId,
};

const T0: i64 = 1_790_000_000_000;
const NOW: i64 = T0 + 86_400_000;

/// DOMAIN.md's table, the rows a document carries: registrar, handler, mediator, leader, admin.
const TABLE: &[(&str, &str)] = &[
    ("register a case", "●●●○●"),
    ("assign", "●○○○●"),
    ("acceptance … conclusion steps", "○●○○●"),
    ("evaluation; review steps", "●○○○●"),
    ("field work and petitioners", "●●●●●"),
    ("case package, 四定四包", "●○○●●"),
    ("approve hardship aid", "○○○●●"),
    ("disputes", "○○●○●"),
    ("reception days", "●○○●●"),
    ("archive", "●○○○●"),
];

fn day(s: &str) -> lianxin_shared::Date {
    s.parse().unwrap()
}

fn step(kind: StepKind) -> StepDraft {
    StepDraft {
        kind,
        on: day("2026-09-22"),
        reason: matches!(kind, StepKind::Extended | StepKind::NotAccepted).then(|| "原因".into()),
        outcome: (kind == StepKind::Concluded).then(|| "upheld".into()),
    }
}

/// A registered case in 龙溪镇, made by the office the day before.
fn base() -> CaseDoc {
    let office = Editor::new("admin", T0);
    let draft = CaseDraft::new(
        UnitId::new("longxi").unwrap(),
        Channel::Visit,
        "反映土地补偿",
    );
    let mut c = CaseDoc::create(&draft, &office, ActorId::random());
    c.add_step(&office, &step(StepKind::Registered)).unwrap();
    c.add_step(&office, &step(StepKind::Assigned)).unwrap();
    c
}

type Way = fn(&mut CaseDoc, &Editor);

/// The ways each row can be done on a case that exists.
fn ways(row: &str) -> Vec<(&'static str, Way)> {
    match row {
        "register a case" => vec![
            ("channel", |c, e| {
                c.set(Field::Channel, "letter", e).unwrap()
            }),
            ("summary", |c, e| c.set_summary("改正后的摘要", e).unwrap()),
            ("登记 step", |c, e| {
                c.add_step(e, &step(StepKind::Registered)).unwrap();
            }),
        ],
        "assign" => vec![
            ("responsible unit", |c, e| {
                c.set(Field::ResponsibleUnit, "hrss", e).unwrap()
            }),
            ("assisting unit", |c, e| {
                c.set_assisting(e, &UnitId::new("housing").unwrap(), true)
                    .unwrap()
            }),
            ("交办 step", |c, e| {
                c.add_step(e, &step(StepKind::Assigned)).unwrap();
            }),
        ],
        "acceptance … conclusion steps" => vec![
            ("告知", |c, e| {
                c.add_step(e, &step(StepKind::Notified)).unwrap();
            }),
            ("延期", |c, e| {
                c.add_step(e, &step(StepKind::Extended)).unwrap();
            }),
            ("办结", |c, e| {
                c.add_step(e, &step(StepKind::Concluded)).unwrap();
            }),
            ("handler", |c, e| {
                c.set(Field::Handler, "张经办", e).unwrap()
            }),
        ],
        "evaluation; review steps" => vec![
            ("评价", |c, e| {
                c.evaluate(
                    e,
                    day("2026-09-22"),
                    Satisfaction::Satisfied,
                    Satisfaction::Satisfied,
                )
                .unwrap();
            }),
            ("复查", |c, e| {
                c.add_step(e, &step(StepKind::Review)).unwrap();
            }),
        ],
        "field work and petitioners" => vec![
            ("note", |c, e| c.append_note(e, "入户走访").unwrap()),
            ("follow-up", |c, e| {
                c.add_follow_up(
                    e,
                    &FollowUpDraft {
                        text: "回访".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
            }),
        ],
        "case package, 四定四包" => vec![
            ("leader", |c, e| {
                c.set(Field::Leader, "刘副县长", e).unwrap()
            }),
            ("四定四包 officer", |c, e| {
                c.set(Field::FourOfficer, "王干部", e).unwrap()
            }),
        ],
        "approve hardship aid" => vec![("aid", |c, e| {
            c.add_aid(
                e,
                &AidDraft {
                    amount: 50_000,
                    reason: "困难".into(),
                    approved_by: e.user.clone(),
                    approved_on: Some(day("2026-09-22")),
                    paid_on: None,
                },
            )
            .unwrap();
        })],
        "archive" => vec![("archived", |c, e| {
            c.set(Field::Archived, "true", e).unwrap()
        })],
        _ => Vec::new(),
    }
}

fn signer(role: Role) -> Signer {
    Signer {
        user: role.code().into(),
        role,
        now_ms: NOW,
    }
}

#[test]
fn every_role_may_do_exactly_what_the_table_says() {
    let mut cells = 0;
    for (row, marks) in TABLE {
        let marks: Vec<bool> = marks.chars().map(|m| m == '●').collect();
        for (role, expected) in Role::ALL.into_iter().zip(marks) {
            let ed = Editor::new(role.code(), NOW);
            let s = signer(role);
            let mut outcomes: Vec<(&str, Result<(), String>)> = Vec::new();
            for (what, way) in ways(row) {
                let before = base();
                let mut after = before.clone();
                way(&mut after, &ed);
                outcomes.push((what, judge(Some(before.doc()), after.doc(), Kind::Case, &s)));
            }
            match *row {
                "register a case" => {
                    let draft =
                        CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "新案");
                    let new = CaseDoc::create(&draft, &ed, ActorId::random());
                    outcomes.push(("a new case", judge(None, new.doc(), Kind::Case, &s)));
                }
                "disputes" => {
                    let draft = DisputeDraft {
                        id: lianxin_shared::DocId::random(),
                        unit: UnitId::new("longxi").unwrap(),
                        summary: "邻里纠纷".into(),
                        kind: MediationKind::People,
                        committee: Committee::Local,
                        level: MediationLevel::Group,
                    };
                    let office = Editor::new("admin", T0);
                    let new = DisputeDoc::create(&draft, &ed, ActorId::random());
                    outcomes.push(("a new dispute", judge(None, new.doc(), Kind::Dispute, &s)));
                    let before = DisputeDoc::create(&draft, &office, ActorId::random());
                    let mut after = before.clone();
                    after
                        .add_session(&ed, day("2026-09-22"), "调解员", "第一次调解")
                        .unwrap();
                    outcomes.push((
                        "a session",
                        judge(Some(before.doc()), after.doc(), Kind::Dispute, &s),
                    ));
                }
                "reception days" => {
                    let draft = ReceptionDraft {
                        id: lianxin_shared::DocId::random(),
                        unit: UnitId::new("longxi").unwrap(),
                        on: day("2026-09-22"),
                        leader: "刘副县长".into(),
                        place: "接待室".into(),
                    };
                    let new = ReceptionDoc::create(&draft, &ed, ActorId::random()).unwrap();
                    outcomes.push((
                        "a new reception day",
                        judge(None, new.doc(), Kind::Reception, &s),
                    ));
                }
                _ => {}
            }
            assert!(!outcomes.is_empty(), "{row}: no way to do it");
            for (what, outcome) in outcomes {
                cells += 1;
                assert_eq!(
                    outcome.is_ok(),
                    expected,
                    "{row} ({what}) by a {}: {outcome:?}",
                    role.code()
                );
                if let Err(reason) = outcome {
                    assert!(reason.contains("may not"), "{reason}");
                }
            }
        }
    }
    assert!(cells >= 5 * 20, "{cells} cells tried");
}

/// A change written through Automerge directly, as a tampered device would.
fn tampered(f: impl FnOnce(&mut automerge::AutoCommit)) -> (CaseDoc, CaseDoc) {
    let before = base();
    let mut doc = before.doc().clone();
    f(&mut doc);
    (before, CaseDoc::from_doc(doc).unwrap())
}

#[test]
fn forged_authorship_future_times_deletions_and_second_conclusions_are_refused() {
    use automerge::{ROOT, ReadDoc};
    let mediator = signer(Role::Mediator);
    let handler = signer(Role::Handler);
    let m = Editor::new("mediator", NOW);
    let refused = |before: &CaseDoc, after: &CaseDoc, s: &Signer| {
        judge(Some(before.doc()), after.doc(), Kind::Case, s).unwrap_err()
    };

    // A follow-up "by leader": the signed-in mediator is not the leader.
    let before = base();
    let mut after = before.clone();
    after
        .add_follow_up(
            &Editor::new("leader", NOW),
            &FollowUpDraft {
                text: "冒名的回访".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let r = refused(&before, &after, &mediator);
    assert!(
        r.contains("\"leader\"") && r.contains("\"mediator\" is signed in"),
        "{r}"
    );

    // A note dated in the year 2230; within the tolerance it is fine, beyond it not.
    let mut after = before.clone();
    after
        .add_follow_up(
            &Editor::new("mediator", 8_200_000_000_000),
            &FollowUpDraft {
                text: "未来的回访".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(refused(&before, &after, &mediator).contains("ahead of the server's clock"));
    let mut after = before.clone();
    after
        .add_follow_up(
            &Editor::new("mediator", NOW + CLOCK_TOLERANCE_MS - 1),
            &FollowUpDraft {
                text: "时钟略快".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(judge(Some(before.doc()), after.doc(), Kind::Case, &mediator).is_ok());
    // Edits made offline days ago are normal.
    let mut after = before.clone();
    after
        .append_note(&Editor::new("mediator", T0 - 5 * 86_400_000), "五天前写的")
        .unwrap();
    assert!(judge(Some(before.doc()), after.doc(), Kind::Case, &mediator).is_ok());

    // A new case "by leader" in 2230.
    let draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "x");
    let forged = CaseDoc::create(
        &draft,
        &Editor::new("leader", 8_200_000_000_000),
        ActorId::random(),
    );
    assert!(judge(None, forged.doc(), Kind::Case, &mediator).is_err());

    // Deleting a colleague's follow-up, the notes, a petitioner's whole list, a field.
    let mut with_visit = base();
    with_visit
        .add_follow_up(
            &Editor::new("mediator2", T0),
            &FollowUpDraft {
                text: "同事的回访".into(),
                ..Default::default()
            },
        )
        .unwrap();
    with_visit
        .append_note(&Editor::new("mediator2", T0), "同事的记录")
        .unwrap();
    with_visit
        .set(Field::Category, "land", &Editor::new("admin", T0))
        .unwrap();
    let rows: Vec<(&str, Box<dyn Fn(&mut automerge::AutoCommit)>)> = vec![
        (
            "may not be removed",
            Box::new(|d| {
                let (_, list) = d.get(ROOT, "follow_ups").unwrap().unwrap();
                d.delete(&list, 0).unwrap();
            }),
        ),
        (
            "text may not be removed from notes",
            Box::new(|d| {
                let (_, notes) = d.get(ROOT, "notes").unwrap().unwrap();
                let n = d.length(&notes);
                d.splice_text(&notes, 0, n as isize, "").unwrap();
            }),
        ),
        (
            "may not be removed",
            Box::new(|d| {
                d.delete(ROOT, "steps").unwrap();
            }),
        ),
        (
            "category may not be removed",
            Box::new(|d| {
                let (_, fields) = d.get(ROOT, "fields").unwrap().unwrap();
                d.delete(&fields, "category").unwrap();
            }),
        ),
        (
            "a stored value may not be rewritten",
            Box::new(|d| {
                let (_, fields) = d.get(ROOT, "fields").unwrap().unwrap();
                let (_, cell) = d.get(&fields, "category").unwrap().unwrap();
                d.put(&cell, "v", "wages").unwrap();
            }),
        ),
        (
            "its by may not change",
            Box::new(|d| {
                let (_, list) = d.get(ROOT, "follow_ups").unwrap().unwrap();
                let (_, visit) = d.get(&list, 0).unwrap().unwrap();
                d.put(&visit, "by", "mediator").unwrap();
            }),
        ),
    ];
    for (expected, f) in rows {
        let before = with_visit.clone();
        let mut doc = before.doc().clone();
        f(&mut doc);
        let after = CaseDoc::from_doc(doc).unwrap();
        let r = refused(&before, &after, &mediator);
        assert!(r.contains(expected), "expected {expected:?}: {r}");
    }
    let _ = tampered(|_| {});

    // A second conclusion: refused, unless a review reopened the case.
    let h = Editor::new("handler", NOW);
    let mut concluded = base();
    concluded.add_step(&h, &step(StepKind::Concluded)).unwrap();
    let mut again = concluded.clone();
    again.add_step(&h, &step(StepKind::Concluded)).unwrap();
    assert!(refused(&concluded, &again, &handler).contains("concluded already"));
    let mut reviewed = concluded.clone();
    reviewed
        .add_step(&Editor::new("registrar", NOW), &step(StepKind::Review))
        .unwrap();
    let mut after_review = reviewed.clone();
    after_review
        .add_step(&h, &step(StepKind::Concluded))
        .unwrap();
    assert!(
        judge(
            Some(reviewed.doc()),
            after_review.doc(),
            Kind::Case,
            &handler
        )
        .is_ok()
    );

    // A wrong step is withdrawn, not removed: by a role that may record that step; the
    // withdrawn conclusion no longer counts, so the case can be concluded again.
    let mut wrong = concluded.clone();
    let conclusion = wrong
        .read()
        .unwrap()
        .steps
        .iter()
        .find(|s| s.kind.known() == Some(StepKind::Concluded))
        .unwrap()
        .id
        .clone();
    let before = wrong.clone();
    wrong.withdraw_step(&m, &conclusion, "误录").unwrap();
    assert!(refused(&before, &wrong, &mediator).contains("may not record acceptance"));
    let mut wrong = before.clone();
    wrong.withdraw_step(&h, &conclusion, "误录").unwrap();
    assert!(judge(Some(before.doc()), wrong.doc(), Kind::Case, &handler).is_ok());
    let read = wrong.read().unwrap();
    assert!(read.steps.iter().any(|s| {
        s.withdrawn
            .as_ref()
            .is_some_and(|w| w.reason == "误录" && w.by == "handler")
    }));
    assert!(
        read.live_steps()
            .iter()
            .all(|s| s.kind.known() != Some(StepKind::Concluded))
    );
    let mut again = wrong.clone();
    again.add_step(&h, &step(StepKind::Concluded)).unwrap();
    assert!(judge(Some(wrong.doc()), again.doc(), Kind::Case, &handler).is_ok());
    assert!(
        wrong.withdraw_step(&h, &conclusion, "再次").is_err(),
        "withdrawn once"
    );

    // A mediator widening the case to another township, as an assisting unit.
    let before = base();
    let mut after = before.clone();
    after
        .set_assisting(&m, &UnitId::new("shitang").unwrap(), true)
        .unwrap();
    assert!(refused(&before, &after, &mediator).contains("may not assign"));
}
