//! DOMAIN.md's report definitions, row by row: each rate with what it counts and what it does
//! not, "—" with nothing to count, 同比 across 29 February, a conclusion on the deadline day and
//! the day after, an extension, an evaluation changed later, and the monthly assessment's
//! scores, ranks and streaks.

use automerge::ActorId;
use lianxin_shared::report::{self, AssessmentRules, Item, Period, Rate};
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{
    CaseDoc, CaseDraft, CaseRow, Channel, Date, Editor, Field, Satisfaction, StepDraft, StepKind,
    UnitId,
};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn ms(day: Date) -> i64 {
    // Noon in China on that day.
    let base = d("2026-01-01");
    1_767_240_000_000 + base.days_until(day) as i64 * 86_400_000
}

struct Spec<'a> {
    unit: &'a str,
    channel: Channel,
    level: Option<&'a str>,
    steps: Vec<(StepKind, &'a str)>,
    evaluations: Vec<(&'a str, Satisfaction, Satisfaction)>,
    /// A petitioner (name, phone) and the category, for repeat linking.
    petitioner: Option<(&'a str, &'a str)>,
    category: Option<&'a str>,
    /// Tagged to this campaign; resolved by the seven evenings.
    campaign: Option<lianxin_shared::EntryId>,
    resolved: bool,
}

fn spec(unit: &str) -> Spec<'_> {
    Spec {
        unit,
        channel: Channel::Visit,
        level: None,
        steps: Vec::new(),
        evaluations: Vec::new(),
        petitioner: None,
        category: None,
        campaign: None,
        resolved: false,
    }
}

/// A case made through the ordinary edits, and its caseload row.
fn row(s: &Spec) -> (String, CaseRow) {
    let first = d(s.steps.first().map(|x| x.1).unwrap_or("2026-01-05"));
    let ed = Editor::new("registrar", ms(first));
    let draft = CaseDraft::new(UnitId::new(s.unit).unwrap(), s.channel, "测试事项");
    let (mut case, mut details) = CaseDoc::create_with_details(&draft, &[], &ed, ActorId::random());
    if let Some((name, phone)) = s.petitioner {
        let p = lianxin_shared::Petitioner::new(name, None, Some(phone.into()), None);
        case.add_petitioner(&ed, &p, Some(&mut details)).unwrap();
    }
    if let Some(category) = s.category {
        case.set(Field::Category, category, &ed).unwrap();
    }
    if let Some(campaign) = &s.campaign {
        case.set_campaign(&ed, campaign, true).unwrap();
    }
    if s.resolved {
        case.set(Field::EveningOutcome, "resolved", &ed).unwrap();
    }
    if let Some(level) = s.level {
        case.set(Field::Level, level, &ed).unwrap();
    }
    for (i, (kind, on)) in s.steps.iter().enumerate() {
        let at = Editor::new("handler", ms(d(on)) + i as i64);
        let (reason, outcome) = match kind {
            StepKind::Extended => (Some("案情复杂".to_string()), None),
            StepKind::Concluded => (None, Some("upheld".to_string())),
            _ => (None, None),
        };
        case.add_step(
            &at,
            &StepDraft {
                kind: *kind,
                on: d(on),
                reason,
                outcome,
            },
        )
        .unwrap();
    }
    for (i, (on, office, unit)) in s.evaluations.iter().enumerate() {
        let at = Editor::new("registrar", ms(d(on)) + 1_000 + i as i64);
        case.evaluate(&at, d(on), *office, *unit).unwrap();
    }
    // As a handling unit's device reads it: with its details.
    let mut whole = case.read().unwrap();
    whole.with_details(&details.read().unwrap());
    let row = CaseRow::of(&whole, &Limits::default(), &Calendar::default());
    (draft.id.to_string(), row)
}

fn items(rows: &[(String, CaseRow)]) -> Vec<Item<'_>> {
    rows.iter().map(|(id, row)| Item { id, row }).collect()
}

fn rate(num: usize, den: usize) -> Rate {
    Rate { num, den }
}

fn march() -> Period {
    Period::new(d("2026-03-01"), d("2026-03-31"))
}

#[test]
fn timely_acceptance_counts_what_was_assigned_in_the_period_and_is_accepted_or_late() {
    let cal = Calendar::default();
    let due = cal.deadline(d("2026-03-02"), 15);
    let on_due = due.to_string();
    let after = due.add_days(1).to_string();
    let rows = vec![
        // Accepted on the deadline day: in time.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-03-01"),
                (StepKind::Assigned, "2026-03-02"),
                (StepKind::Notified, &on_due),
            ],
            ..spec("longxi")
        }),
        // The day after: late.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-03-01"),
                (StepKind::Assigned, "2026-03-02"),
                (StepKind::Notified, &after),
            ],
            ..spec("longxi")
        }),
        // Assigned late in March, not accepted, deadline not yet passed on the 31st: not due.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-03-25"),
                (StepKind::Assigned, "2026-03-28"),
            ],
            ..spec("longxi")
        }),
        // Assigned early, never accepted, past its deadline on the 31st: due, not in time.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-03-01"),
                (StepKind::Assigned, "2026-03-03"),
            ],
            ..spec("shitang")
        }),
        // Assigned in February: another period's.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-02-01"),
                (StepKind::Assigned, "2026-02-02"),
                (StepKind::Notified, "2026-02-05"),
            ],
            ..spec("longxi")
        }),
    ];
    let r = report::rates(&items(&rows), march());
    assert_eq!(r.overall.timely_acceptance, rate(1, 3));
    assert_eq!(r.units["longxi"].timely_acceptance, rate(1, 2));
    assert_eq!(r.units["shitang"].timely_acceptance, rate(0, 1));
    assert_eq!(r.overall.timely_acceptance.shown(), "33.3%");
}

#[test]
fn on_time_conclusion_on_the_deadline_day_the_day_after_and_with_an_extension() {
    let cal = Calendar::default();
    let accepted = d("2026-01-05");
    let due = cal.deadline(accepted, 60);
    let extended_due = cal.deadline(accepted, 90);
    let (on_due, after) = (due.to_string(), due.add_days(1).to_string());
    let late_but_extended = extended_due.to_string();
    fn steps(concluded: &str, extended: bool) -> Vec<(StepKind, &str)> {
        let mut s = vec![
            (StepKind::Registered, "2026-01-02"),
            (StepKind::Assigned, "2026-01-03"),
            (StepKind::Notified, "2026-01-05"),
        ];
        if extended {
            s.push((StepKind::Extended, "2026-02-20"));
        }
        s.push((StepKind::Concluded, concluded));
        s
    }
    let owned: Vec<(String, bool)> = vec![
        (on_due.clone(), false),
        (after.clone(), false),
        (late_but_extended.clone(), true),
    ];
    let rows: Vec<(String, CaseRow)> = owned
        .iter()
        .map(|(c, e)| {
            row(&Spec {
                steps: steps(c, *e),
                ..spec("longxi")
            })
        })
        .collect();
    // A period holding every deadline and conclusion.
    let whole = Period::new(d("2026-03-01"), d("2026-04-30"));
    let r = report::rates(&items(&rows), whole);
    assert_eq!(
        r.overall.on_time,
        rate(2, 3),
        "on the day: on time; the day after: late; extended: on time"
    );
    // A period before any deadline or conclusion: nothing to count, "—".
    let early = Period::new(d("2026-01-10"), d("2026-01-20"));
    let none = report::rates(&items(&rows), early);
    assert_eq!(none.overall.on_time, rate(0, 0));
    assert_eq!(none.overall.on_time.shown(), "—");
    assert_eq!(none.overall.on_time.value(), None);
    // Still open past its deadline: due, not on time.
    let open = vec![row(&Spec {
        steps: vec![
            (StepKind::Registered, "2026-01-02"),
            (StepKind::Notified, "2026-01-05"),
        ],
        ..spec("longxi")
    })];
    let r = report::rates(&items(&open), whole);
    assert_eq!(r.overall.on_time, rate(0, 1));
}

#[test]
fn satisfaction_counts_the_latest_evaluation_and_participation_the_concluded() {
    use Satisfaction::*;
    let concluded = |evaluations| Spec {
        steps: vec![
            (StepKind::Registered, "2026-02-01"),
            (StepKind::Notified, "2026-02-02"),
            (StepKind::Concluded, "2026-03-10"),
        ],
        evaluations,
        ..spec("longxi")
    };
    let rows = vec![
        // Unsatisfied in March, changed to satisfied in April: April's counts, in April.
        row(&concluded(vec![
            ("2026-03-12", Unsatisfied, Unsatisfied),
            ("2026-04-02", Satisfied, BasicallySatisfied),
        ])),
        // Basically satisfied with the office, not with the unit.
        row(&concluded(vec![(
            "2026-03-15",
            BasicallySatisfied,
            Unsatisfied,
        )])),
        // Concluded in March, never evaluated.
        row(&concluded(vec![])),
    ];
    let m = report::rates(&items(&rows), march());
    assert_eq!(m.overall.satisfaction_office, rate(1, 1));
    assert_eq!(m.overall.satisfaction_unit, rate(0, 1));
    assert_eq!(m.overall.participation, rate(2, 3));
    let april = Period::new(d("2026-04-01"), d("2026-04-30"));
    let a = report::rates(&items(&rows), april);
    assert_eq!(a.overall.satisfaction_office, rate(1, 1));
    assert_eq!(a.overall.satisfaction_unit, rate(1, 1));
    assert_eq!(
        a.overall.participation,
        rate(0, 0),
        "none concluded in April"
    );
}

#[test]
fn online_share_and_figures_with_the_same_days_a_year_before() {
    fn received<'a>(on: &'a str, channel: Channel, level: Option<&'a str>) -> Spec<'a> {
        Spec {
            channel,
            level,
            steps: vec![(StepKind::Registered, on)],
            ..spec("longxi")
        }
    }
    let specs = [
        received("2028-02-29", Channel::Online, None),
        received("2028-02-10", Channel::Mobile, None),
        received("2028-02-11", Channel::Visit, Some("capital")),
        received("2028-02-12", Channel::Letter, None),
        // A year before: 28 February 2027 is the last day of the same period.
        received("2027-02-28", Channel::Visit, None),
        received("2027-02-01", Channel::Visit, None),
        received("2027-03-01", Channel::Visit, None),
    ];
    let rows: Vec<_> = specs.iter().map(row).collect();
    let feb = Period::new(d("2028-02-01"), d("2028-02-29"));
    assert_eq!(
        feb.year_before(),
        Period::new(d("2027-02-01"), d("2027-02-28"))
    );
    let r = report::rates(&items(&rows), feb);
    assert_eq!(r.overall.online, rate(2, 4));
    let f = report::figures(&items(&rows), feb);
    assert_eq!((f.total.now.matters, f.total.then.matters), (4, 2));
    assert_eq!(f.total.matters_change, Some(100.0));
    assert_eq!(f.by["channel"]["online"].now.matters, 1);
    assert_eq!(f.by["channel"]["visit"].then.matters, 2);
    assert_eq!(
        f.by["channel"]["online"].matters_change, None,
        "nothing a year before: —"
    );
    assert_eq!(f.by["level"]["capital"].now.people, 1);
    // The daily bulletin of 11 February: the capital matter under 赴京.
    let b = report::bulletin(&items(&rows), d("2028-02-11"), &Limits::default());
    assert_eq!(b.groups[0].0, "赴京");
    assert_eq!(b.groups[0].1.len(), 1);
    assert!(b.groups[1..].iter().all(|(_, l)| l.is_empty()));
    assert_eq!(b.total.matters, 1);
}

#[test]
fn the_monthly_assessment_scores_ranks_ties_and_streaks() {
    // Three townships over three months. Every matter is lodged online, accepted, concluded
    // and evaluated satisfied the day it came, so every rate is whole; 石塘乡 has one at the
    // capital each month (−5), 桃花坪 one at the province in January only (−2); 龙溪镇 has no
    // matter at all, and a rate with nothing to count scores its whole weight: 100.
    let mut specs = Vec::new();
    for month in ["2026-01", "2026-02", "2026-03"] {
        let on = format!("{month}-10");
        specs.push((on.clone(), "shitang", Some("capital")));
        if month == "2026-01" {
            specs.push((on.clone(), "taohua", Some("province")));
        }
    }
    let rows: Vec<_> = specs
        .iter()
        .map(|(on, unit, level)| {
            let on = on.as_str();
            row(&Spec {
                channel: Channel::Online,
                level: *level,
                steps: vec![
                    (StepKind::Registered, on),
                    (StepKind::Assigned, on),
                    (StepKind::Notified, on),
                    (StepKind::Concluded, on),
                ],
                evaluations: vec![(on, Satisfaction::Satisfied, Satisfaction::Satisfied)],
                ..spec(unit)
            })
        })
        .collect();
    let units: Vec<String> = ["longxi", "shitang", "taohua"].map(String::from).to_vec();
    let months = report::months_up_to("2026-03", 3);
    assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
    let receptions = vec![("taohua".to_string(), d("2026-03-05"))];
    let a = report::assessment(
        &items(&rows),
        &units,
        &receptions,
        &months,
        &AssessmentRules::default(),
    );
    let jan = &a.months[0].scores;
    let score = |m: &report::Month, u: &str| m.scores.iter().find(|s| s.unit == u).unwrap().clone();
    let shitang = score(&a.months[0], "shitang");
    let part = |s: &report::Score, p: &str| s.parts.iter().find(|x| x.0 == p).unwrap().1;
    assert_eq!(part(&shitang, "赴京"), -5.0);
    assert_eq!(part(&shitang, "网上信访占比"), 10.0);
    assert_eq!(part(&shitang, "按期办结率"), 30.0);
    assert_eq!(part(&shitang, "月末红牌"), 0.0);
    assert_eq!(shitang.total, 95.0);
    assert_eq!(
        shitang.total,
        shitang.parts.iter().map(|p| p.1).sum::<f64>()
    );
    assert_eq!(score(&a.months[0], "taohua").total, 98.0);
    assert_eq!(jan[0].unit, "longxi");
    assert_eq!(jan[0].total, 100.0);
    // February: 龙溪镇 and 桃花坪 tie at 100 and share the first rank.
    let feb = &a.months[1];
    assert_eq!(
        (score(feb, "longxi").rank, score(feb, "taohua").rank),
        (1, 1)
    );
    assert_eq!(score(feb, "shitang").rank, 3);
    // March: 桃花坪 held a reception day (+1) and is first alone.
    let mar = &a.months[2];
    assert_eq!(part(&score(mar, "taohua"), "领导接访"), 1.0);
    assert_eq!(score(mar, "taohua").rank, 1);
    let s = &a.standing;
    assert!(s["taohua"].commended && !s["longxi"].commended);
    assert_eq!(s["longxi"].top_two_run, 3);
    assert!(s["longxi"].contest_bonus, "top two three months running");
    assert!(s["shitang"].criticised);
    assert_eq!(s["shitang"].last_run, 3);
    assert!(s["shitang"].close_management, "last two months running");
    assert!(!s["taohua"].close_management);
}

#[test]
fn a_case_is_red_at_a_months_end_only_while_a_deadline_of_its_phase_has_passed() {
    let cal = Calendar::default();
    let (_, r) = row(&Spec {
        steps: vec![
            (StepKind::Registered, "2026-01-02"),
            (StepKind::Assigned, "2026-01-03"),
            (StepKind::Notified, "2026-01-10"),
            (StepKind::Concluded, "2026-05-20"),
        ],
        ..spec("longxi")
    });
    let due = cal.deadline(d("2026-01-10"), 60);
    assert!(!r.facts.overdue_on(due));
    assert!(r.facts.overdue_on(due.add_days(1)));
    assert!(!r.facts.overdue_on(d("2026-05-20")), "concluded");
    assert!(!r.facts.overdue_on(d("2026-01-01")), "not yet received");
}

#[test]
fn the_repeat_rate_counts_matters_of_the_period_repeating_an_earlier_one() {
    let petition = |on, name, category| Spec {
        steps: vec![(StepKind::Registered, on)],
        petitioner: Some((name, "13807390011")),
        category: Some(category),
        ..spec("longxi")
    };
    let rows = vec![
        // February: the first petition of 王某 about land.
        row(&petition("2026-02-10", "王某", "land")),
        // March: 王某 again about land (a repeat), about wages (not), and 李某 (not).
        row(&petition("2026-03-05", "王某", "land")),
        row(&petition("2026-03-06", "王某", "wages")),
        row(&Spec {
            petitioner: Some(("李某", "13900000000")),
            ..petition("2026-03-07", "李某", "land")
        }),
    ];
    let r = report::rates(&items(&rows), march());
    assert_eq!(r.overall.repeat, rate(1, 3));
    let feb = Period::new(d("2026-02-01"), d("2026-02-28"));
    assert_eq!(report::rates(&items(&rows), feb).overall.repeat, rate(0, 1));
}

#[test]
fn a_campaigns_resolution_rate_counts_conclusions_and_the_seven_evenings() {
    use lianxin_shared::{Campaign, EntryId};
    let id = EntryId::random();
    let campaign = Campaign {
        id: id.clone(),
        name: "重复信访积案化解".into(),
        from: d("2026-03-01"),
        to: Some(d("2026-03-31")),
        kind: None,
    };
    let empty = Campaign {
        id: EntryId::random(),
        name: "问题楼盘".into(),
        from: d("2026-03-01"),
        to: None,
        kind: None,
    };
    let tagged = |steps, resolved| Spec {
        steps,
        campaign: Some(id.clone()),
        resolved,
        ..spec("longxi")
    };
    let rows = vec![
        // Concluded on 10 March.
        row(&tagged(
            vec![
                (StepKind::Registered, "2026-02-20"),
                (StepKind::Notified, "2026-02-21"),
                (StepKind::Concluded, "2026-03-10"),
            ],
            false,
        )),
        // Resolved by the seven evenings, not concluded: counted from the campaign's start.
        row(&tagged(vec![(StepKind::Registered, "2026-02-22")], true)),
        // Still open.
        row(&tagged(vec![(StepKind::Registered, "2026-02-23")], false)),
        // Concluded, but not the campaign's.
        row(&Spec {
            steps: vec![
                (StepKind::Registered, "2026-02-20"),
                (StepKind::Notified, "2026-02-21"),
                (StepKind::Concluded, "2026-03-02"),
            ],
            ..spec("longxi")
        }),
    ];
    let p = report::campaigns(&items(&rows), &[campaign, empty], d("2026-03-31"));
    assert_eq!((p[0].matters, p[0].resolved), (3, 2));
    assert_eq!(p[0].rate.shown(), "66.7%");
    assert_eq!(
        p[0].weeks[0],
        (d("2026-03-07"), 1),
        "the evenings' from the start"
    );
    assert_eq!(p[0].weeks[1], (d("2026-03-14"), 2));
    assert_eq!(p[0].weeks.last(), Some(&(d("2026-03-31"), 2)));
    assert_eq!(p[1].rate.shown(), "—", "a campaign with no matters");
}
