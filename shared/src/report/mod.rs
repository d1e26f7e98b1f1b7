//! The office's reports, pure, with time a parameter (DOMAIN.md "Reports"): figures for a
//! period with 同比, the rates per unit and overall, the daily bulletin and the monthly
//! assessment. They read the stored caseload rows ([`crate::CaseRow`], whose [`Facts`] carry
//! the step dates, deadlines and evaluation a report needs), so no document is loaded: a tablet
//! computes them offline over the cases it holds, and the server over every case — the same
//! functions, so the same figures over the same data.
//!
//! A rate with nothing to count is `None` ("—"), never 0% or 100%.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::fieldwork::{self, MatterKey};
use crate::kit::schema::Code;
use crate::rules::{Calendar, Colour, Limits};
use crate::{Case, CaseRow, Channel, Date, Level, Satisfaction, StepKind};

/// What the reports need of a case beyond its caseload line: the days of its milestones and
/// the deadlines they set, worked out once from its live steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The day of its `registered` step (else the day it was made).
    pub received: Date,
    pub level: Option<Code<Level>>,
    pub form: Option<Code<crate::Form>>,
    pub source: Option<Code<crate::Source>>,
    /// `people` if set, else the number of petitioners, else 1.
    pub people: i64,
    pub leader: Option<String>,
    pub handler: Option<String>,
    pub register_due: Option<Date>,
    /// The first 转送/交办, and the acceptance deadline it set.
    pub assigned: Option<Date>,
    pub accept_due: Option<Date>,
    /// The first acceptance step (告知, 不予受理, 不再受理).
    pub accepted: Option<Date>,
    /// The conclusion deadline (with the extension, if one was granted).
    pub conclude_due: Option<Date>,
    /// The first conclusion.
    pub concluded: Option<Date>,
    /// The day of the evaluation that counts.
    pub evaluated: Option<Date>,
    /// Resolved by the seven evenings 事心双解.
    pub resolved: bool,
    pub archived: bool,
    /// The campaigns it is tagged to.
    #[serde(default)]
    pub campaigns: Vec<String>,
}

impl Facts {
    pub fn of(case: &Case, limits: &Limits, calendar: &Calendar) -> Facts {
        let steps = case.live_steps();
        let first = |kinds: &[StepKind]| {
            steps
                .iter()
                .find(|s| s.kind.known().is_some_and(|k| kinds.contains(&k)))
                .map(|s| s.on)
        };
        let received = first(&[StepKind::Registered]).unwrap_or_else(|| case.received());
        let assigned = first(&[StepKind::Forwarded, StepKind::Assigned]);
        let accepted = first(&[
            StepKind::Notified,
            StepKind::NotAccepted,
            StepKind::NotReaccepted,
        ]);
        let notified = first(&[StepKind::Notified]);
        let extended = steps.iter().any(|s| s.kind.is(StepKind::Extended));
        let conclude_due = notified.map(|on| {
            let days = limits.conclude + if extended { limits.extension } else { 0 };
            calendar.deadline(on, days)
        });
        Facts {
            received,
            level: case.level.clone(),
            form: case.form.clone(),
            source: case.source.clone(),
            people: case.people.unwrap_or(case.petitioners.len() as i64).max(1),
            leader: case.leader.clone(),
            handler: case.handler.clone(),
            register_due: Some(calendar.deadline(received, limits.register)),
            assigned,
            accept_due: assigned.map(|on| calendar.deadline(on, limits.notify)),
            accepted,
            conclude_due,
            concluded: first(&[StepKind::Concluded]),
            evaluated: case.evaluation().map(|e| e.on),
            resolved: case
                .evening_outcome
                .as_ref()
                .is_some_and(|o| o.code() == "resolved"),
            archived: case.archived,
            campaigns: case.campaigns.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// Overdue (red) at the end of `day`: a deadline of the phase the case was in then had
    /// passed (registration, acceptance, conclusion).
    pub fn overdue_on(&self, day: Date) -> bool {
        let by = |d: Option<Date>| d.is_some_and(|d| d <= day);
        if self.received > day || by(self.concluded) {
            return false;
        }
        if by(self.accepted) {
            return self.conclude_due.is_some_and(|due| due < day);
        }
        if by(self.assigned) {
            return self.accept_due.is_some_and(|due| due < day);
        }
        self.register_due.is_some_and(|due| due < day)
    }
}

/// A range of whole days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn new(from: Date, to: Date) -> Period {
        Period { from, to }
    }

    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }

    fn has(&self, d: Option<Date>) -> bool {
        d.is_some_and(|d| self.contains(d))
    }

    /// The same days one year earlier (29 February → 28 February).
    pub fn year_before(&self) -> Period {
        Period {
            from: year_before(self.from),
            to: year_before(self.to),
        }
    }

    /// The calendar month `YYYY-MM`.
    pub fn month(month: &str) -> Option<Period> {
        let (y, m) = month.split_once('-')?;
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        let from = Date::from_ymd(y, m, 1)?;
        let next = if m == 12 {
            Date::from_ymd(y + 1, 1, 1)?
        } else {
            Date::from_ymd(y, m + 1, 1)?
        };
        Some(Period {
            from,
            to: next.add_days(-1),
        })
    }
}

fn year_before(d: Date) -> Date {
    let (y, m, day) = d.ymd();
    Date::from_ymd(y - 1, m, day)
        .or_else(|| Date::from_ymd(y - 1, m, day - 1))
        .unwrap_or(d)
}

/// A fraction; `None` as a value when there is nothing to count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub num: usize,
    pub den: usize,
}

impl Rate {
    pub fn value(&self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }

    /// As a report prints it: 87.5% or —.
    pub fn shown(&self) -> String {
        match self.value() {
            Some(v) => format!("{:.1}%", v * 100.0),
            None => "—".into(),
        }
    }

    fn count(&mut self, counted: bool, hit: bool) {
        if counted {
            self.den += 1;
            self.num += usize::from(hit);
        }
    }
}

/// A case as the reports see it: its id, its line and its unit.
pub struct Item<'a> {
    pub id: &'a str,
    pub row: &'a CaseRow,
}

impl Item<'_> {
    fn unit(&self) -> &str {
        &self.row.unit
    }
    fn facts(&self) -> &Facts {
        &self.row.facts
    }
}

/// The rates of DOMAIN.md, for some cases over a period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// 及时受理率
    pub timely_acceptance: Rate,
    /// 按期办结率
    pub on_time: Rate,
    /// 满意率, with the petition office and with the responsible unit.
    pub satisfaction_office: Rate,
    pub satisfaction_unit: Rate,
    /// 参评率
    pub participation: Rate,
    /// 重复信访率
    pub repeat: Rate,
    /// 网上信访占比
    pub online: Rate,
}

const ONLINE: [Channel; 3] = [Channel::Online, Channel::Mobile, Channel::Mailbox];

fn satisfied(s: Satisfaction) -> bool {
    matches!(
        s,
        Satisfaction::Satisfied | Satisfaction::BasicallySatisfied
    )
}

impl Rates {
    fn add(&mut self, item: &Item, period: &Period, repeated: &BTreeSet<String>) {
        let f = item.facts();
        // Due for acceptance: assigned in the period, and accepted or past its deadline on
        // the period's last day; in time: accepted on or before the deadline.
        let due_accept = period.has(f.assigned)
            && (f.accepted.is_some() || f.accept_due.is_some_and(|due| due < period.to));
        let in_time = matches!((f.accepted, f.accept_due), (Some(a), Some(due)) if a <= due);
        self.timely_acceptance.count(due_accept, in_time);
        // Due or done: the conclusion deadline in the period, or concluded in it; on time:
        // concluded on or before the deadline (a conclusion with no deadline is on time).
        let due_conclude = period.has(f.conclude_due) || period.has(f.concluded);
        let on_time = match (f.concluded, f.conclude_due) {
            (Some(c), Some(due)) => c <= due,
            (Some(_), None) => true,
            (None, _) => false,
        };
        self.on_time.count(due_conclude, on_time);
        if period.has(f.evaluated)
            && let Some(e) = item.row.evaluation
        {
            self.satisfaction_office.count(true, satisfied(e.office));
            self.satisfaction_unit.count(true, satisfied(e.unit));
        }
        self.participation
            .count(period.has(f.concluded), f.evaluated.is_some());
        let received = period.contains(f.received);
        self.repeat.count(received, repeated.contains(item.id));
        let online = item
            .row
            .channel
            .as_ref()
            .and_then(|c| c.known())
            .is_some_and(|c| ONLINE.contains(&c));
        self.online.count(received, online);
    }
}

/// The cases that repeat an earlier petition of the same person on the same matter, among
/// `items` (see [`fieldwork::repeats`]).
pub fn repeated(items: &[Item]) -> BTreeSet<String> {
    let keys: Vec<MatterKey> = items.iter().map(|i| i.row.matter(i.id)).collect();
    fieldwork::repeats(&keys)
        .into_iter()
        .filter(|(_, earlier)| !earlier.is_empty())
        .map(|(id, _)| id)
        .collect()
}

/// The rates over a period: overall and per unit (the responsible unit, else the registering
/// one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RatesReport {
    pub period: Option<Period>,
    pub overall: Rates,
    pub units: BTreeMap<String, Rates>,
}

pub fn rates(items: &[Item], period: Period) -> RatesReport {
    rates_with(items, period, &repeated(items))
}

/// [`rates`] with the repeat petitions worked out already (the assessment's months share them).
pub fn rates_with(items: &[Item], period: Period, repeated: &BTreeSet<String>) -> RatesReport {
    let mut out = RatesReport {
        period: Some(period),
        ..RatesReport::default()
    };
    for item in items.iter().filter(|i| !i.facts().archived) {
        out.overall.add(item, &period, repeated);
        out.units
            .entry(item.unit().to_string())
            .or_default()
            .add(item, &period, repeated);
    }
    out
}

/// Matters 件 and people 人次.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub matters: usize,
    pub people: i64,
}

/// Counts by one dimension, now and a year before, and the change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub now: Count,
    pub then: Count,
    /// (now − then) / then as a percentage, one decimal; None when then is 0.
    pub matters_change: Option<f64>,
    pub people_change: Option<f64>,
}

fn change(now: i64, then: i64) -> Option<f64> {
    (then != 0).then(|| ((now - then) as f64 / then as f64 * 1000.0).round() / 10.0)
}

/// Figures for a period 同比: in total and by channel, level, form, category, source and
/// unit (keys are codes; "" for a case without one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub period: Option<Period>,
    pub last_year: Option<Period>,
    pub total: Line,
    pub by: BTreeMap<String, BTreeMap<String, Line>>,
}

pub fn figures(items: &[Item], period: Period) -> Figures {
    let then = period.year_before();
    let mut out = Figures {
        period: Some(period),
        last_year: Some(then),
        ..Figures::default()
    };
    let code = |c: Option<&str>| c.unwrap_or_default().to_string();
    for item in items.iter().filter(|i| !i.facts().archived) {
        let f = item.facts();
        let slot = if period.contains(f.received) {
            0
        } else if then.contains(f.received) {
            1
        } else {
            continue;
        };
        let dims = [
            ("channel", code(item.row.channel.as_ref().map(|c| c.code()))),
            ("level", code(f.level.as_ref().map(|c| c.code()))),
            ("form", code(f.form.as_ref().map(|c| c.code()))),
            (
                "category",
                code(item.row.category.as_ref().map(|c| c.code())),
            ),
            ("source", code(f.source.as_ref().map(|c| c.code()))),
            ("unit", item.unit().to_string()),
        ];
        let add = |line: &mut Line| {
            let c = if slot == 0 {
                &mut line.now
            } else {
                &mut line.then
            };
            c.matters += 1;
            c.people += f.people;
        };
        add(&mut out.total);
        for (dim, key) in dims {
            add(out
                .by
                .entry(dim.to_string())
                .or_default()
                .entry(key)
                .or_default());
        }
    }
    let finish = |l: &mut Line| {
        l.matters_change = change(l.now.matters as i64, l.then.matters as i64);
        l.people_change = change(l.now.people, l.then.people);
    };
    finish(&mut out.total);
    out.by
        .values_mut()
        .flat_map(|m| m.values_mut())
        .for_each(finish);
    out
}

/// Where a matter was lodged, as the daily bulletin groups them.
fn lodged(item: &Item) -> &'static str {
    let level = item.facts().level.as_ref().and_then(|l| l.known());
    let channel = item.row.channel.as_ref().and_then(|c| c.known());
    match level {
        Some(Level::Capital) => "赴京",
        Some(Level::Province) => "赴省",
        Some(Level::Prefecture) => "到地市",
        _ if channel.is_some_and(|c| c != Channel::Visit) => "网信电",
        _ => "来市",
    }
}

/// The groups of the daily bulletin, in its order.
pub const LODGED: [&str; 5] = ["赴京", "赴省", "到地市", "网信电", "来市"];

/// One matter of the day in the bulletin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BulletinLine {
    pub case: String,
    pub reference: String,
    pub summary: String,
    pub unit: String,
    pub people: i64,
    pub leader: Option<String>,
    pub handler: Option<String>,
    /// 化解时限: the deadline now running.
    pub due: Option<Date>,
}

/// 信访情况日通报: the day's matters by where they were lodged, then the four-colour board.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    pub day: Option<Date>,
    pub groups: Vec<(String, Vec<BulletinLine>)>,
    pub total: Count,
    /// Per unit (and "" for all): red, yellow, blue, green as of the day.
    pub board: BTreeMap<String, [usize; 4]>,
}

pub fn bulletin(items: &[Item], day: Date, limits: &Limits) -> Bulletin {
    let mut out = Bulletin {
        day: Some(day),
        groups: LODGED.iter().map(|g| (g.to_string(), Vec::new())).collect(),
        ..Bulletin::default()
    };
    let mut todays: Vec<&Item> = items
        .iter()
        .filter(|i| !i.facts().archived && i.facts().received == day)
        .collect();
    todays.sort_by_key(|i| (i.row.reference.clone(), i.id.to_string()));
    for item in todays {
        let f = item.facts();
        let line = BulletinLine {
            case: item.id.to_string(),
            reference: item.row.reference.clone(),
            summary: item.row.summary.clone(),
            unit: item.unit().to_string(),
            people: f.people,
            leader: f.leader.clone(),
            handler: f.handler.clone(),
            due: item.row.deadline.map(|d| d.due),
        };
        out.total.matters += 1;
        out.total.people += f.people;
        let group = lodged(item);
        if let Some((_, lines)) = out.groups.iter_mut().find(|(g, _)| g == group) {
            lines.push(line);
        }
    }
    for item in items.iter().filter(|i| !i.facts().archived) {
        if item.facts().received > day {
            continue;
        }
        let slot = match item.row.colour(day, limits) {
            Colour::Red => 0,
            Colour::Yellow => 1,
            Colour::Blue => 2,
            Colour::Green => 3,
        };
        for unit in ["", item.unit()] {
            out.board.entry(unit.to_string()).or_default()[slot] += 1;
        }
    }
    out
}

mod assessment;
pub use assessment::{
    Assessment, AssessmentRules, Month, Score, Standing, assess_month, assessment, months_up_to,
};

/// Leader reception figures 领导接访 for a period: days held, matters and people received,
/// resolved on the spot, given a deadline, made cases — overall and per unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceptionFigures {
    pub days: usize,
    pub tally: crate::Tally,
}

pub fn reception_figures(
    days: &[&crate::ReceptionRow],
    period: Period,
) -> BTreeMap<String, ReceptionFigures> {
    let mut out: BTreeMap<String, ReceptionFigures> = BTreeMap::new();
    for day in days.iter().filter(|d| period.has(d.on)) {
        for unit in ["", day.unit.as_str()] {
            let f = out.entry(unit.to_string()).or_default();
            f.days += 1;
            f.tally.matters += day.tally.matters;
            f.tally.people += day.tally.people;
            f.tally.on_the_spot += day.tally.on_the_spot;
            f.tally.deadline += day.tally.deadline;
            f.tally.cases += day.tally.cases;
        }
    }
    out
}

/// A campaign's progress 专项活动: its matters, those resolved (concluded, or resolved by the
/// seven evenings), 化解率, and week by week from its start how many were resolved by then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignProgress {
    pub campaign: crate::Campaign,
    pub matters: usize,
    pub resolved: usize,
    pub rate: Rate,
    /// (the week's last day, resolved by then), up to `today` or the campaign's end.
    pub weeks: Vec<(Date, usize)>,
}

pub fn campaigns(
    items: &[Item],
    campaigns: &[crate::Campaign],
    today: Date,
) -> Vec<CampaignProgress> {
    campaigns
        .iter()
        .map(|c| {
            let id = c.id.to_string();
            let mine: Vec<&Facts> = items
                .iter()
                .map(|i| i.facts())
                .filter(|f| !f.archived && f.campaigns.contains(&id))
                .collect();
            // Resolved on: the conclusion's day; resolved by the evenings without one: counted
            // from the campaign's start.
            let resolved_on = |f: &Facts| f.concluded.or(f.resolved.then_some(c.from));
            let resolved = mine.iter().filter(|f| resolved_on(f).is_some()).count();
            let end = c.to.map_or(today, |to| to.min(today));
            let mut weeks = Vec::new();
            let mut day = c.from.add_days(6);
            while day < end.add_days(7) && weeks.len() < 520 {
                let upto = day.min(end);
                let n = mine
                    .iter()
                    .filter(|f| resolved_on(f).is_some_and(|d| d <= upto))
                    .count();
                weeks.push((upto, n));
                day = day.add_days(7);
            }
            CampaignProgress {
                campaign: c.clone(),
                matters: mine.len(),
                resolved,
                rate: Rate {
                    num: resolved,
                    den: mine.len(),
                },
                weeks,
            }
        })
        .collect()
}
