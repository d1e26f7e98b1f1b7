//! Table tests of the lifecycle rules on exact days.

use lianxin_shared::rules::{self, Calendar, Colour, DeadlineKind, Limits, State};
use lianxin_shared::{Date, EntryId, Step};

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn step(n: u32, kind: &str, on: &str, reason: Option<&str>) -> Step {
    Step {
        id: EntryId::parse(&format!("{n:016x}")).unwrap(),
        kind: lianxin_shared::Code::of(kind),
        on: d(on),
        reason: reason.map(str::to_string),
        outcome: None,
        by: "registrar".into(),
        at: n as i64,
        withdrawn: None,
    }
}

/// A calendar with the 2026 National Day holidays, make-up working days and New Year's Day.
fn holidays() -> Calendar {
    let mut c = Calendar::default();
    for day in 1..=7 {
        c.holidays.insert(Date::from_ymd(2026, 10, day).unwrap());
    }
    c.holidays.insert(d("2027-01-01"));
    c.workdays.insert(d("2026-09-27"));
    c.workdays.insert(d("2026-10-10"));
    c
}

#[test]
fn deadlines_across_month_and_year_ends_and_rest_days() {
    let plain = Calendar::default();
    let hol = holidays();
    let table: &[(&str, u32, &Calendar, &str, &str)] = &[
        ("2026-01-20", 15, &plain, "2026-02-04", "month end"),
        ("2026-12-20", 15, &plain, "2027-01-04", "year end"),
        ("2028-02-14", 15, &plain, "2028-02-29", "leap day"),
        (
            "2026-12-01",
            30,
            &plain,
            "2026-12-31",
            "last day of the year",
        ),
        (
            "2026-03-03",
            60,
            &plain,
            "2026-05-04",
            "Saturday moves to Monday",
        ),
        (
            "2026-11-20",
            15,
            &plain,
            "2026-12-07",
            "Saturday moves to Monday",
        ),
        (
            "2026-09-20",
            15,
            &plain,
            "2026-10-05",
            "no holidays configured",
        ),
        (
            "2026-09-20",
            15,
            &hol,
            "2026-10-08",
            "National Day moves it past the holiday",
        ),
        (
            "2026-09-25",
            15,
            &hol,
            "2026-10-10",
            "a make-up working Saturday is a working day",
        ),
        (
            "2026-09-25",
            15,
            &plain,
            "2026-10-12",
            "an ordinary Saturday is not",
        ),
        (
            "2026-12-17",
            15,
            &hol,
            "2027-01-04",
            "New Year's Day then a weekend",
        ),
    ];
    for (from, days, cal, due, why) in table {
        assert_eq!(
            cal.deadline(d(from), *days),
            d(due),
            "{from} + {days}: {why}"
        );
    }
    let working: &[(&str, u32, &Calendar, &str)] = &[
        ("2026-11-20", 5, &plain, "2026-11-27"),
        ("2026-09-25", 5, &hol, "2026-10-08"),
        ("2026-09-30", 1, &hol, "2026-10-08"),
    ];
    for (from, days, cal, due) in working {
        assert_eq!(
            cal.working_deadline(d(from), *days),
            d(due),
            "{from} + {days} working days"
        );
    }
}

#[test]
fn the_state_and_current_deadline_follow_the_steps() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let received = d("2026-11-20");
    let all = [
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-21", None),
        step(3, "notified", "2026-11-23", None),
        step(4, "handling", "2026-12-01", None),
        step(5, "concluded", "2027-01-20", None),
        step(6, "evaluated", "2027-01-25", None),
        step(7, "review", "2027-02-10", None),
        step(8, "concluded", "2027-03-01", None),
        step(9, "re_review", "2027-03-15", None),
        step(10, "concluded", "2027-04-01", None),
    ];
    use DeadlineKind::*;
    let table: &[(usize, State, Option<(DeadlineKind, &str)>)] = &[
        (0, State::Registered, Some((Register, "2026-12-07"))),
        (1, State::Registered, Some((Register, "2026-12-07"))),
        (2, State::Assigned, Some((Notify, "2026-12-07"))),
        (3, State::Handling, Some((Conclude, "2027-01-22"))),
        (4, State::Handling, Some((Conclude, "2027-01-22"))),
        (5, State::Concluded, None),
        (6, State::Concluded, None),
        (7, State::UnderReview, Some((Review, "2027-03-12"))),
        (8, State::Reviewed, None),
        (9, State::UnderReReview, Some((ReReview, "2027-04-14"))),
        (10, State::Final, None),
    ];
    for (n, state, deadline) in table {
        let life = rules::lifecycle(&all[..*n], received, &limits, &cal);
        assert_eq!(life.state, *state, "after {n} steps");
        assert_eq!(
            life.deadline.map(|x| (x.kind, x.due)),
            deadline.map(|(k, due)| (k, d(due))),
            "after {n} steps"
        );
        assert!(
            life.irregularities.is_empty(),
            "after {n} steps: {:?}",
            life.irregularities
        );
    }
}

#[test]
fn one_extension_of_thirty_days_with_a_reason() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let mut steps = vec![
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-21", None),
        step(3, "notified", "2026-11-23", None),
        step(4, "extended", "2027-01-10", Some("需要现场测量")),
    ];
    let life = rules::lifecycle(&steps, d("2026-11-20"), &limits, &cal);
    assert!(life.extended);
    // 90 days from acceptance is Sunday 2027-02-21; the deadline moves to Monday.
    assert_eq!(life.deadline.unwrap().due, d("2027-02-22"));
    assert!(life.irregularities.is_empty());

    steps.push(step(5, "extended", "2027-02-01", Some("再次延期")));
    let twice = rules::lifecycle(&steps, d("2026-11-20"), &limits, &cal);
    assert_eq!(
        twice.deadline.unwrap().due,
        d("2027-02-22"),
        "a second extension does not count"
    );
    assert_eq!(twice.irregularities.len(), 1);
    assert!(
        twice.irregularities[0]
            .reason
            .contains("only one extension")
    );

    let no_reason = [
        steps[0].clone(),
        steps[1].clone(),
        steps[2].clone(),
        step(4, "extended", "2027-01-10", None),
    ];
    let life = rules::lifecycle(&no_reason, d("2026-11-20"), &limits, &cal);
    assert!(life.irregularities[0].reason.contains("needs a reason"));
}

#[test]
fn review_and_re_review_windows() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let base = vec![
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-20", None),
        step(3, "notified", "2026-11-20", None),
        step(4, "concluded", "2027-02-01", None),
    ];
    // The window to ask for review ends 30 days after the reply: 2027-03-03.
    for (asked, late) in [("2027-03-03", false), ("2027-03-04", true)] {
        let mut steps = base.clone();
        steps.push(step(5, "review", asked, None));
        let life = rules::lifecycle(&steps, d("2026-11-20"), &limits, &cal);
        assert_eq!(life.state, State::UnderReview);
        assert_eq!(
            !life.irregularities.is_empty(),
            late,
            "review asked on {asked}"
        );
    }
    // A re-review only after a concluded review.
    let mut steps = base.clone();
    steps.push(step(5, "re_review", "2027-02-10", None));
    let life = rules::lifecycle(&steps, d("2026-11-20"), &limits, &cal);
    assert_eq!(life.state, State::Concluded);
    assert!(life.irregularities[0].reason.contains("does not fit"));
}

#[test]
fn refusals_close_the_case_and_need_a_reason() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let with_reason = [
        step(1, "registered", "2026-11-20", None),
        step(
            2,
            "not_accepted",
            "2026-11-25",
            Some("已进入诉讼程序，依法不予受理"),
        ),
    ];
    let life = rules::lifecycle(&with_reason, d("2026-11-20"), &limits, &cal);
    assert_eq!(life.state, State::NotAccepted);
    assert_eq!(life.deadline, None);
    assert!(life.irregularities.is_empty());
    assert_eq!(
        rules::colour(&life, d("2027-06-01"), &limits),
        Colour::Green
    );

    let without = [
        step(1, "registered", "2026-11-20", None),
        step(2, "not_reaccepted", "2026-11-25", None),
    ];
    let life = rules::lifecycle(&without, d("2026-11-20"), &limits, &cal);
    assert_eq!(life.state, State::NotAccepted);
    assert!(life.irregularities[0].reason.contains("needs a reason"));
}

#[test]
fn colours_on_the_exact_days() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let handling = [
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-21", None),
        step(3, "notified", "2026-11-23", None),
    ];
    let life = rules::lifecycle(&handling, d("2026-11-20"), &limits, &cal);
    assert_eq!(life.deadline.unwrap().due, d("2027-01-22"));
    let table = [
        ("2026-11-23", Colour::Blue),
        ("2027-01-16", Colour::Blue),   // six days left
        ("2027-01-17", Colour::Yellow), // five days left: the warning window begins
        ("2027-01-22", Colour::Yellow), // the deadline itself
        ("2027-01-23", Colour::Red),    // overdue from the next day
    ];
    for (today, colour) in table {
        assert_eq!(
            rules::colour(&life, d(today), &limits),
            colour,
            "on {today}"
        );
    }
    let narrow = Limits {
        warning_days: 0,
        ..Limits::default()
    };
    assert_eq!(rules::colour(&life, d("2027-01-21"), &narrow), Colour::Blue);
    assert_eq!(
        rules::colour(&life, d("2027-01-22"), &narrow),
        Colour::Yellow
    );

    let mut concluded = handling.to_vec();
    concluded.push(step(4, "concluded", "2027-03-01", None));
    let life = rules::lifecycle(&concluded, d("2026-11-20"), &limits, &cal);
    assert_eq!(
        rules::colour(&life, d("2027-03-02"), &limits),
        Colour::Green,
        "late but concluded"
    );
}

#[test]
fn same_day_handling_check() {
    let on_the_day = [
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-20", None),
        step(3, "notified", "2026-11-20", None),
    ];
    let next_day = [
        step(1, "registered", "2026-11-20", None),
        step(2, "assigned", "2026-11-20", None),
        step(3, "notified", "2026-11-21", None),
    ];
    let table: &[(&[Step], Option<&str>, Option<&str>, Option<bool>)] = &[
        (&on_the_day, Some("visit"), Some("township"), Some(true)),
        (&on_the_day, Some("visit"), Some("county"), Some(true)),
        (&next_day, Some("visit"), Some("township"), Some(false)),
        (
            &on_the_day[..2],
            Some("visit"),
            Some("township"),
            Some(false),
        ),
        (&on_the_day, Some("letter"), Some("township"), None),
        (&on_the_day, Some("visit"), Some("province"), None),
        (&[], Some("visit"), Some("township"), None),
    ];
    for (i, (steps, channel, level, expected)) in table.iter().enumerate() {
        assert_eq!(
            rules::same_day(
                steps,
                channel.map(|c| lianxin_shared::Channel::parse(c).unwrap()),
                level.map(|l| lianxin_shared::Level::parse(l).unwrap())
            ),
            *expected,
            "row {i}"
        );
    }
}

#[test]
fn a_step_out_of_order_is_flagged_and_changes_nothing() {
    let limits = Limits::default();
    let cal = Calendar::default();
    let steps = [
        step(1, "registered", "2026-11-20", None),
        step(2, "concluded", "2026-11-21", None),
    ];
    let life = rules::lifecycle(&steps, d("2026-11-20"), &limits, &cal);
    assert_eq!(life.state, State::Registered);
    assert_eq!(life.irregularities.len(), 1);
    assert_eq!(life.irregularities[0].step, format!("{:016x}", 2));
}

#[test]
fn codes_are_the_exported_names() {
    for state in State::ALL {
        assert_eq!(serde_json::to_value(state).unwrap(), state.code());
    }
    for colour in Colour::ALL {
        assert_eq!(serde_json::to_value(colour).unwrap(), colour.code());
    }
}

/// The caseload row kept beside each document gives the same state, deadline and colour as the
/// whole case, on every day around its deadline, after a trip through its stored JSON form.
#[test]
fn caseload_row_agrees_with_the_whole_case() {
    use lianxin_shared::demo;
    use lianxin_shared::{CaseRow, SUMMARY_CHARS, StoredRow};
    let (limits, calendar) = (Limits::default(), holidays());
    let now = 1_790_000_000_000; // 2026-09-21
    let mut rng = demo::Rng::new(11);
    let mut colours = std::collections::BTreeSet::new();
    for i in 0..300 {
        let case = demo::case(&mut rng, i, now, automerge::ActorId::random())
            .0
            .read()
            .unwrap();
        let row = StoredRow::Case(CaseRow::of(&case, &limits, &calendar));
        let row = match serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap() {
            StoredRow::Case(row) => row,
            other => panic!("{other:?}"),
        };
        let received = Date::from_unix_ms_china(case.header.created_at);
        let life = rules::lifecycle(&case.steps, received, &limits, &calendar);
        assert_eq!((row.state, row.deadline), (life.state, life.deadline));
        assert!(row.summary.chars().count() <= SUMMARY_CHARS);
        assert!(case.summary.starts_with(&row.summary));
        let due = life.deadline.map(|d| d.due).unwrap_or(received);
        for offset in -7..=2 {
            let today = due.add_days(offset);
            let colour = row.colour(today, &limits);
            assert_eq!(
                colour,
                rules::colour(&life, today, &limits),
                "case {i} on {today}"
            );
            colours.insert(colour);
        }
    }
    assert_eq!(
        colours.len(),
        4,
        "the demo cases cover every colour: {colours:?}"
    );
}

/// Repeat linking and the satisfaction rates from the rows alone are what the whole cases
/// give: the links by comparing every pair of petitioners' own details, the rates from the
/// latest evaluations.
#[test]
fn rows_link_repeats_and_rate_satisfaction_as_the_cases_do() {
    use lianxin_shared::demo;
    use lianxin_shared::fieldwork::{self, Identity, Satisfaction};
    use lianxin_shared::{CaseRow, StoredRow};
    let (limits, calendar) = (Limits::default(), holidays());
    let now = 1_790_000_000_000;
    let mut rng = demo::Rng::new(5);
    // A handling unit's device: each case read with its details document, and its row worked
    // out as the app does, from both.
    let (cases, rows): (Vec<_>, Vec<CaseRow>) = (0..400)
        .map(|i| {
            let (case, details) = demo::case(&mut rng, i, now, automerge::ActorId::random());
            let mut whole = case.read().unwrap();
            whole.with_details(&details.read().unwrap());
            let row = lianxin_shared::AnyDoc::Case(case)
                .row_with(Some(&details), &limits, &calendar)
                .unwrap();
            let json = serde_json::to_string(&row);
            let row = match serde_json::from_str(&json.unwrap()).unwrap() {
                StoredRow::Case(row) => row,
                other => panic!("{other:?}"),
            };
            (whole, row)
        })
        .unzip();
    let keys: Vec<_> = cases
        .iter()
        .zip(&rows)
        .map(|(c, r)| r.matter(&c.header.id.to_string()))
        .collect();
    assert_eq!(
        keys,
        cases.iter().map(|c| c.matter_key()).collect::<Vec<_>>()
    );
    let linked = fieldwork::repeats(&keys);
    let identity = |p: &lianxin_shared::Petitioner| Identity {
        name: p.name.clone(),
        id_number: p.id_number.clone(),
        phone: p.phone.clone(),
    };
    let mut repeated = 0;
    for a in &cases {
        let mut want: Vec<&lianxin_shared::Case> = cases
            .iter()
            .filter(|b| {
                (b.received(), b.header.id.to_string()) < (a.received(), a.header.id.to_string())
                    && b.category.is_some()
                    && b.category == a.category
                    && b.petitioners.iter().any(|p| {
                        a.petitioners
                            .iter()
                            .any(|q| fieldwork::same_person(&identity(p), &identity(q)))
                    })
            })
            .collect();
        want.sort_by_key(|b| (b.received(), b.header.id.to_string()));
        let want: Vec<String> = want.iter().map(|b| b.header.id.to_string()).collect();
        let id = a.header.id.to_string();
        assert_eq!(linked[&id], want, "case {id}");
        assert_eq!(fieldwork::linked(&keys, &id).earlier, want);
        repeated += usize::from(!want.is_empty());
    }
    assert!(
        (10..80).contains(&repeated),
        "the demo has some repeat petitions: {repeated} of 400"
    );

    let latest = |pick: fn(&lianxin_shared::Evaluation) -> &str| -> Vec<Satisfaction> {
        cases
            .iter()
            .filter_map(|c| c.evaluations.last())
            .map(|e| Satisfaction::parse(pick(e)).unwrap())
            .collect()
    };
    let office: Vec<Satisfaction> = rows
        .iter()
        .filter_map(|r| r.evaluation)
        .map(|e| e.office)
        .collect();
    let unit: Vec<Satisfaction> = rows
        .iter()
        .filter_map(|r| r.evaluation)
        .map(|e| e.unit)
        .collect();
    assert_eq!(office, latest(|e| e.office.code()));
    assert_eq!(unit, latest(|e| e.unit.code()));
    let rate = fieldwork::satisfaction_rate(&office).unwrap();
    assert!(
        (0.8..1.0).contains(&rate),
        "demo office satisfaction {rate}"
    );
}

/// 诉访分离: law-related matters leave the petition channel for the political-legal organs,
/// accusations go to the discipline bodies, the rest stay.
#[test]
fn matters_are_routed_by_kind_and_category() {
    use rules::Route;
    let table: &[(Option<&str>, Option<&str>, Option<Route>)] = &[
        (Some("request"), Some("law"), Some(Route::PoliticalLegal)),
        (None, Some("law"), Some(Route::PoliticalLegal)),
        (Some("accusation"), Some("land"), Some(Route::Discipline)),
        (Some("accusation"), Some("law"), Some(Route::Discipline)),
        (Some("request"), Some("wages"), None),
        (Some("suggestion"), Some("environment"), None),
        (None, None, None),
    ];
    for (kind, category, want) in table {
        assert_eq!(
            rules::route(
                kind.map(|k| lianxin_shared::MatterKind::parse(k).unwrap()),
                category.map(|c| lianxin_shared::Category::parse(c).unwrap())
            ),
            *want,
            "{kind:?} {category:?}"
        );
    }
    // The kind is a checked single-value field of the case.
    let mut case = lianxin_shared::CaseDoc::create(
        &lianxin_shared::CaseDraft::new(
            lianxin_shared::UnitId::new("t").unwrap(),
            lianxin_shared::Channel::Letter,
            "举报村干部侵占集体资金",
        ),
        &lianxin_shared::Editor::new("u", 1),
        automerge::ActorId::random(),
    );
    let ed = lianxin_shared::Editor::new("u", 2);
    case.set(lianxin_shared::Field::MatterKind, "accusation", &ed)
        .unwrap();
    assert!(
        case.set(lianxin_shared::Field::MatterKind, "rumour", &ed)
            .is_err()
    );
    let c = case.read().unwrap();
    assert_eq!(
        rules::route(
            c.matter_kind.as_ref().and_then(|k| k.known()),
            c.category.as_ref().and_then(|k| k.known())
        ),
        Some(Route::Discipline)
    );
}
