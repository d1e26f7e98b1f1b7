//! Table tests of the field-work rules.

use lianxin_shared::Date;
use lianxin_shared::fieldwork::{
    self, Evening, EveningLog, EveningPlan, Identity, MatterKey, Satisfaction, evening_run,
};
use lianxin_shared::rules::Colour;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn logs(start: &str, pattern: &str) -> Vec<EveningLog> {
    // 'H' held, 'M' logged as missed, '.' no log; one character per evening from `start`.
    pattern
        .chars()
        .enumerate()
        .filter(|(_, c)| *c != '.')
        .map(|(i, c)| EveningLog {
            on: d(start).add_days(i as i32),
            held: c == 'H',
        })
        .collect()
}

#[test]
fn seven_evening_runs_complete_broken_pending_and_restarted() {
    use Evening::*;
    let start = "2026-11-28"; // over a month end
    let table: &[(&str, &str, usize, Option<&str>, bool, [Evening; 7])] = &[
        // pattern, today, progress, broken on, complete, the run at a glance
        ("HHHHHHH", "2026-12-05", 7, None, true, [Held; 7]),
        (
            "HHH....",
            "2026-12-01",
            3,
            None,
            false,
            [Held, Held, Held, Tonight, Ahead, Ahead, Ahead],
        ),
        (
            "HHH....",
            "2026-12-02",
            3,
            Some("2026-12-01"),
            false,
            [Held, Held, Held, Missed, Tonight, Ahead, Ahead],
        ),
        (
            "HHMHH..",
            "2026-12-03",
            2,
            Some("2026-11-30"),
            false,
            [Held, Held, Missed, Held, Held, Tonight, Ahead],
        ),
        (
            "M......",
            "2026-11-28",
            0,
            Some("2026-11-28"),
            false,
            [Missed, Ahead, Ahead, Ahead, Ahead, Ahead, Ahead],
        ),
        (".......", "2026-11-20", 0, None, false, [Ahead; 7]),
    ];
    for (pattern, today, progress, broken, complete, glance) in table {
        let plan = EveningPlan {
            starts: vec![d(start)],
            logs: logs(start, pattern),
        };
        let run = evening_run(&plan, d(today)).unwrap();
        assert_eq!(run.progress, *progress, "{pattern} on {today}");
        assert_eq!(run.broken_on, broken.map(d), "{pattern} on {today}");
        assert_eq!(run.complete, *complete, "{pattern} on {today}");
        assert_eq!(run.evenings, *glance, "{pattern} on {today}");
    }

    // Broken on the third evening, restarted two days later and held through.
    let mut all = logs(start, "HHM");
    all.extend(logs("2026-12-02", "HHHHHHH"));
    let plan = EveningPlan {
        starts: vec![d(start), d("2026-12-02")],
        logs: all,
    };
    let run = evening_run(&plan, d("2026-12-09")).unwrap();
    assert_eq!(
        (run.start, run.progress, run.complete, run.restarts),
        (d("2026-12-02"), 7, true, 1)
    );
    assert_eq!(run.broken_on, None);

    // Two visitors log the same evening on two tablets, one forgetting to tick "held".
    let mut both = logs(start, "HH");
    both.push(EveningLog {
        on: d(start).add_days(1),
        held: false,
    });
    let plan = EveningPlan {
        starts: vec![d(start)],
        logs: both,
    };
    assert_eq!(evening_run(&plan, d("2026-11-30")).unwrap().progress, 2);

    assert!(
        evening_run(
            &EveningPlan {
                starts: vec![],
                logs: vec![]
            },
            d(start)
        )
        .is_none()
    );
}

fn person(name: &str, id: Option<&str>, phone: Option<&str>) -> Identity {
    Identity {
        name: name.into(),
        id_number: id.map(Into::into),
        phone: phone.map(Into::into),
    }
}

#[test]
fn repeat_petitions_link_the_same_person_and_matter() {
    let pairs: &[(Identity, Identity, bool, &str)] = &[
        (
            person("王建国", Some("430581196504120017"), None),
            person("王建国", Some("430581196504120017"), None),
            true,
            "same ID",
        ),
        (
            person("王建国", Some("430581196504120017"), None),
            person("王 建国", Some("430581196504120017 "), Some("1")),
            true,
            "spacing",
        ),
        (
            person("王建国", Some("43058119650412001x"), None),
            person("王建国", Some("43058119650412001X"), None),
            true,
            "check letter case",
        ),
        (
            person("王建国", Some("430581196504120017"), Some("13900000000")),
            person("王建国", Some("430581197001010011"), Some("13900000000")),
            false,
            "different IDs win over a shared phone",
        ),
        (
            person("王建国", None, Some("139-0000-0000")),
            person("王建国", None, Some("13900000000")),
            true,
            "name and phone",
        ),
        (
            person("王建国", None, None),
            person("王建国", None, None),
            false,
            "a name alone",
        ),
        (
            person("王建国", None, Some("13900000000")),
            person("李建国", None, Some("13900000000")),
            false,
            "shared family phone",
        ),
    ];
    for (a, b, same, why) in pairs {
        assert_eq!(fieldwork::same_person(a, b), *same, "{why}");
        assert_eq!(fieldwork::same_person(b, a), *same, "{why}, swapped");
    }

    let wang = person("王建国", Some("430581196504120017"), None);
    let li = person("李秀英", None, Some("13800000000"));
    let key = |case: &str, on: &str, category: &str, who: Vec<Identity>| MatterKey {
        case: case.into(),
        registered: d(on),
        category: Some(lianxin_shared::Code::of(category)),
        petitioners: who.iter().map(fieldwork::PersonKey::of).collect(),
    };
    let cases = vec![
        key("c3", "2026-09-01", "land", vec![wang.clone()]),
        key("c1", "2025-03-01", "land", vec![wang.clone()]),
        key("c2", "2025-08-01", "wages", vec![wang.clone()]),
        key("c4", "2026-10-01", "land", vec![li.clone(), wang.clone()]), // a collective case he joined
        key("c5", "2026-10-02", "land", vec![li.clone()]),
    ];
    let linked = fieldwork::repeats(&cases);
    assert_eq!(linked["c1"], Vec::<String>::new());
    assert_eq!(linked["c2"], Vec::<String>::new(), "another matter");
    assert_eq!(linked["c3"], vec!["c1"]);
    assert_eq!(linked["c4"], vec!["c1", "c3"]);
    assert_eq!(linked["c5"], vec!["c4"]);
    // One case's links, looked up one by one, agree; and name the later petitions too.
    for case in &cases {
        let one = fieldwork::linked(&cases, &case.case);
        assert_eq!(one.earlier, linked[&case.case], "{}", case.case);
        assert_eq!(one.nth(), linked[&case.case].len() + 1);
    }
    assert_eq!(fieldwork::linked(&cases, "c1").later, vec!["c3", "c4"]);
    assert_eq!(fieldwork::linked(&cases, "c4").later, vec!["c5"]);
    assert_eq!(fieldwork::linked(&cases, "c5").later, Vec::<String>::new());
    assert_eq!(
        fieldwork::linked(&cases, "none"),
        fieldwork::Linked::default()
    );

    // No category, no links: the matter is unknown.
    let mut open = cases.clone();
    open[0].category = None; // c3
    let linked = fieldwork::repeats(&open);
    assert_eq!(linked["c3"], Vec::<String>::new());
    assert_eq!(linked["c4"], vec!["c1"]);

    // The digests: no ID number or phone in clear, and blank details are no details.
    let key = fieldwork::PersonKey::of(&wang);
    let json = serde_json::to_string(&key).unwrap();
    assert!(!json.contains("430581"), "{json}");
    assert_eq!(
        fieldwork::PersonKey::of(&person("王建国", Some("  "), Some(" "))),
        fieldwork::PersonKey::default()
    );
}

#[test]
fn satisfaction_rate_and_the_board() {
    use Satisfaction::*;
    assert_eq!(fieldwork::satisfaction_rate(&[]), None);
    assert_eq!(
        fieldwork::satisfaction_rate(&[Satisfied, BasicallySatisfied, Unsatisfied, Satisfied]),
        Some(0.75)
    );
    assert_eq!(
        Satisfaction::parse("basically_satisfied").ok(),
        Some(BasicallySatisfied)
    );
    assert_eq!(Satisfaction::parse("ok").ok(), None);

    let board = fieldwork::board([
        ("longxi", Colour::Red),
        ("longxi", Colour::Green),
        ("shitang", Colour::Yellow),
        ("longxi", Colour::Red),
        ("shitang", Colour::Blue),
    ]);
    assert_eq!(board["longxi"], [2, 0, 0, 1]);
    assert_eq!(board["shitang"], [0, 1, 1, 0]);
    assert_eq!(
        board.keys().copied().collect::<Vec<_>>(),
        vec!["longxi", "shitang"]
    );
}
