//! Field-work rules: the seven-evenings run 七晚工作法, repeat-petition linking 重复信访, the
//! satisfaction rate and the four-colour board. Pure; `today` is a parameter.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

pub use crate::Satisfaction;
use crate::kit::schema::Code;
use crate::rules::Colour;
use crate::{Category, Date};

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

/// What linking compares of a petitioner: a digest of the normalised ID number, and one of the
/// normalised name with the phone. Rows keep these instead of the details themselves, so the
/// caseload line of a case holds no ID number or phone in clear (the case document, on the same
/// device, still does: a digest of an ID number is no secret from someone who has the device).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonKey {
    // Both always written (no `skip_serializing_if`): rows are also kept in postcard
    // (`kinds::row::pack_rows`), which reads fields by position.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name_phone: Option<String>,
}

fn digest(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    hex::encode(&hash.finalize()[..8])
}

fn present(s: &Option<String>) -> Option<String> {
    s.as_deref().map(normalise).filter(|s| !s.is_empty())
}

impl PersonKey {
    pub fn of(p: &Identity) -> PersonKey {
        PersonKey {
            id: present(&p.id_number).map(|id| digest(&["id", &id])),
            name_phone: present(&p.phone).map(|phone| digest(&["np", &normalise(&p.name), &phone])),
        }
    }

    /// The same person: the same ID number when both have one; otherwise the same name and
    /// the same phone. A name alone is never enough (many people share one).
    pub fn matches(&self, other: &PersonKey) -> bool {
        match (&self.id, &other.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.name_phone.is_some() && self.name_phone == other.name_phone,
        }
    }
}

/// What repeat linking needs of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatterKey {
    pub case: String,
    pub registered: Date,
    pub category: Option<Code<Category>>,
    pub petitioners: Vec<PersonKey>,
}

impl MatterKey {
    /// `other` is an earlier petition of the same petitioner on the same matter (same
    /// category; a case without a category links to nothing).
    pub fn repeats(&self, other: &MatterKey) -> bool {
        (other.registered, &other.case) < (self.registered, &self.case)
            && other.category.is_some()
            && other.category == self.category
            && other
                .petitioners
                .iter()
                .any(|p| self.petitioners.iter().any(|q| p.matches(q)))
    }
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// See [`PersonKey::matches`].
pub fn same_person(a: &Identity, b: &Identity) -> bool {
    PersonKey::of(a).matches(&PersonKey::of(b))
}

/// One case's links: the earlier petitions of the same petitioner on the same matter (its
/// repeat count is their number) and the later ones, each oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Linked {
    pub earlier: Vec<String>,
    pub later: Vec<String>,
}

impl Linked {
    /// 第 n 次: this petition's place among its own, 1 for a first petition.
    pub fn nth(&self) -> usize {
        self.earlier.len() + 1
    }
}

/// The links of the case `case` among `cases`, by looking at each.
pub fn linked<'a>(cases: impl IntoIterator<Item = &'a MatterKey>, case: &str) -> Linked {
    let cases: Vec<&MatterKey> = cases.into_iter().collect();
    let Some(this) = cases.iter().copied().find(|c| c.case == case) else {
        return Linked::default();
    };
    let order = |v: &mut Vec<&MatterKey>| v.sort_by_key(|o| (o.registered, o.case.clone()));
    let mut earlier: Vec<&MatterKey> = cases.iter().copied().filter(|o| this.repeats(o)).collect();
    let mut later: Vec<&MatterKey> = cases.iter().copied().filter(|o| o.repeats(this)).collect();
    order(&mut earlier);
    order(&mut later);
    Linked {
        earlier: earlier.into_iter().map(|o| o.case.clone()).collect(),
        later: later.into_iter().map(|o| o.case.clone()).collect(),
    }
}

/// For each case, the earlier cases of the same petitioner and the same matter, oldest first
/// (the same as [`linked`]'s `earlier`, for every case at once). Cases are compared only
/// with those sharing a category and an ID or name-and-phone digest, so 10,000 cases take
/// about as long as reading them.
pub fn repeats(cases: &[MatterKey]) -> BTreeMap<String, Vec<String>> {
    let mut by_key: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(category) = case.category.as_ref().map(|c| c.code()) else {
            continue;
        };
        for p in &case.petitioners {
            for key in [&p.id, &p.name_phone].into_iter().flatten() {
                by_key.entry((category, key)).or_default().push(i);
            }
        }
    }
    let mut out = BTreeMap::new();
    for case in cases {
        let mut candidates: Vec<usize> = match case.category.as_ref().map(|c| c.code()) {
            Some(category) => case
                .petitioners
                .iter()
                .flat_map(|p| [&p.id, &p.name_phone].into_iter().flatten())
                .filter_map(|key| by_key.get(&(category, key.as_str())))
                .flatten()
                .copied()
                .collect(),
            None => Vec::new(),
        };
        candidates.sort_unstable();
        candidates.dedup();
        let mut earlier: Vec<&MatterKey> = candidates
            .into_iter()
            .map(|i| &cases[i])
            .filter(|o| case.repeats(o))
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

/// One case as the four-colour board counts it.
#[derive(Clone, Copy, Debug)]
pub struct OnBoard<'a> {
    pub unit: &'a str,
    pub colour: Colour,
    /// It repeats an earlier petition of the same person on the same matter.
    pub repeat: bool,
    /// The evaluation that counts: (with the petition office, with the unit).
    pub evaluation: Option<(Satisfaction, Satisfaction)>,
}

impl<'a> From<(&'a str, Colour)> for OnBoard<'a> {
    fn from((unit, colour): (&'a str, Colour)) -> Self {
        OnBoard {
            unit,
            colour,
            repeat: false,
            evaluation: None,
        }
    }
}

/// One unit's line of the board, or the total's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardLine {
    /// Red, yellow, blue, green.
    pub colours: [usize; 4],
    pub repeats: usize,
    /// The latest evaluations of the cases: with the petition office, with the unit.
    pub office: Vec<Satisfaction>,
    pub unit: Vec<Satisfaction>,
}

impl BoardLine {
    fn add(&mut self, case: &OnBoard) {
        self.colours[case.colour as usize] += 1;
        self.repeats += usize::from(case.repeat);
        if let Some((office, unit)) = case.evaluation {
            self.office.push(office);
            self.unit.push(unit);
        }
    }
}

/// The four-colour board: per unit (in unit order) and in total, the cases of each colour,
/// the repeat petitions and the evaluations the satisfaction rates are worked out from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Board<'a> {
    pub units: BTreeMap<&'a str, BoardLine>,
    pub total: BoardLine,
}

impl<'a> std::ops::Index<&str> for Board<'a> {
    type Output = [usize; 4];
    /// A unit's colour counts.
    fn index(&self, unit: &str) -> &[usize; 4] {
        &self.units[unit].colours
    }
}

impl<'a> Board<'a> {
    pub fn keys(&self) -> impl Iterator<Item = &&'a str> {
        self.units.keys()
    }
}

pub fn board<'a, C: Into<OnBoard<'a>>>(cases: impl IntoIterator<Item = C>) -> Board<'a> {
    let mut out = Board::default();
    for case in cases {
        let case = case.into();
        out.units.entry(case.unit).or_default().add(&case);
        out.total.add(&case);
    }
    out
}
