//! Field-work rules: the seven-evenings run 七晚工作法, repeat-petition linking 重复信访, the
//! satisfaction rate and the four-colour board. Pure; `today` is a parameter.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Date;
use crate::rules::Colour;
pub use crate::vocab::Satisfaction;

/// The evenings in a run.
pub const EVENINGS: usize = 7;

/// One evening's log as recorded (several devices may log the same evening).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EveningLog {
    pub on: Date,
    pub held: bool,
}

/// A seven-evenings plan: its start and any restarts (each a new first evening), and the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EveningPlan {
    pub starts: Vec<Date>,
    pub logs: Vec<EveningLog>,
}

/// How one evening of the current run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evening {
    Held,
    Missed,
    /// Today, not yet logged.
    Tonight,
    /// Later than today.
    Ahead,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EveningRun {
    /// The first evening of the current run (the latest start).
    pub start: Date,
    /// The seven evenings at a glance.
    pub evenings: [Evening; EVENINGS],
    /// Held evenings, counted from the start until the first missed one: the n of "n/7".
    pub progress: usize,
    /// The evening that broke the run, if one did.
    pub broken_on: Option<Date>,
    pub complete: bool,
    /// Earlier runs given up for a restart.
    pub restarts: usize,
}

/// The state of a plan's current run as of `today`. An evening counts as held if any log for
/// that date says so (two visitors logging the same evening on two tablets agree on "held"
/// if either held it); a past evening with no held log, or logged as missed, breaks the run.
pub fn evening_run(plan: &EveningPlan, today: Date) -> Option<EveningRun> {
    let start = *plan.starts.iter().max()?;
    let mut evenings = [Evening::Ahead; EVENINGS];
    for (i, slot) in evenings.iter_mut().enumerate() {
        let day = start.add_days(i as i32);
        let logs: Vec<&EveningLog> = plan.logs.iter().filter(|l| l.on == day).collect();
        *slot = if logs.iter().any(|l| l.held) {
            Evening::Held
        } else if !logs.is_empty() || day < today {
            Evening::Missed
        } else if day == today {
            Evening::Tonight
        } else {
            Evening::Ahead
        };
    }
    let progress = evenings.iter().take_while(|e| **e == Evening::Held).count();
    let broken_on = evenings
        .iter()
        .position(|e| *e == Evening::Missed)
        .map(|i| start.add_days(i as i32));
    Some(EveningRun {
        start,
        evenings,
        progress,
        broken_on,
        complete: progress == EVENINGS,
        restarts: plan.starts.len() - 1,
    })
}

/// Who a petitioner is, as far as linking goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

/// What repeat linking needs of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatterKey {
    pub case: String,
    pub registered: Date,
    pub category: Option<String>,
    pub petitioners: Vec<Identity>,
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The same person: the same ID number when both have one; otherwise the same name and the
/// same phone. A name alone is never enough (many people share one).
pub fn same_person(a: &Identity, b: &Identity) -> bool {
    match (&a.id_number, &b.id_number) {
        (Some(x), Some(y)) if !x.trim().is_empty() && !y.trim().is_empty() => {
            normalise(x) == normalise(y)
        }
        _ => {
            let phones = match (&a.phone, &b.phone) {
                (Some(x), Some(y)) => !x.trim().is_empty() && normalise(x) == normalise(y),
                _ => false,
            };
            phones && normalise(&a.name) == normalise(&b.name)
        }
    }
}

/// For each case, the earlier cases of the same petitioner and the same matter (same
/// category), oldest first. Its length is the repeat count.
pub fn repeats(cases: &[MatterKey]) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for case in cases {
        let mut earlier: Vec<&MatterKey> = cases
            .iter()
            .filter(|o| o.case != case.case)
            .filter(|o| (o.registered, &o.case) < (case.registered, &case.case))
            .filter(|o| o.category.is_some() && o.category == case.category)
            .filter(|o| {
                o.petitioners
                    .iter()
                    .any(|p| case.petitioners.iter().any(|q| same_person(p, q)))
            })
            .collect();
        earlier.sort_by_key(|o| (o.registered, o.case.clone()));
        out.insert(
            case.case.clone(),
            earlier.into_iter().map(|o| o.case.clone()).collect(),
        );
    }
    out
}

/// 满意率: satisfied and basically satisfied over evaluated, as a fraction; None with no
/// evaluations (a rate of nothing is not 0%).
pub fn satisfaction_rate(evaluations: &[Satisfaction]) -> Option<f64> {
    if evaluations.is_empty() {
        return None;
    }
    let good = evaluations
        .iter()
        .filter(|e| **e != Satisfaction::Unsatisfied)
        .count();
    Some(good as f64 / evaluations.len() as f64)
}

/// The four-colour board: per unit, the count of cases of each colour (red, yellow, blue,
/// green), units in id order.
pub fn board<'a>(
    cases: impl IntoIterator<Item = (&'a str, Colour)>,
) -> BTreeMap<&'a str, [usize; 4]> {
    let mut out: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for (unit, colour) in cases {
        out.entry(unit).or_default()[colour as usize] += 1;
    }
    out
}
