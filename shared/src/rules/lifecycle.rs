//! The petition lifecycle rules: state derived from the dated steps, the current deadline under
//! the 2022 regulation's limits, the four colours, and the same-day check.
//!
//! Pure: the limits and the holiday calendar are configuration handed in, and `today` is a
//! parameter, so every rule is table-tested on exact days.
//!
//! Counting days (DOMAIN.md, Civil Code arts. 201/203): the day of the event is not counted;
//! the period's last day is the deadline; overdue from the next day. A deadline on a rest day
//! moves to the next working day. Working-day periods skip rest days.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Category, Channel, Date, Level, MatterKind, Step, StepKind};

/// Rest days beyond weekends (public holidays) and make-up working days 调休上班: the State
/// Council's notice for the year, entered by the bureau's administrator
/// (`lianxin admin calendar`) and handed to every device at login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    #[serde(default)]
    pub holidays: BTreeSet<Date>,
    #[serde(default)]
    pub workdays: BTreeSet<Date>,
}

impl Calendar {
    pub fn is_rest_day(&self, d: Date) -> bool {
        if self.workdays.contains(&d) {
            return false;
        }
        self.holidays.contains(&d) || d.weekday() >= 5
    }

    /// The first working day on or after `d`.
    pub fn next_working_day(&self, mut d: Date) -> Date {
        while self.is_rest_day(d) {
            d = d.add_days(1);
        }
        d
    }

    /// The deadline of a period of `days` calendar days starting the day after `from`.
    pub fn deadline(&self, from: Date, days: u32) -> Date {
        self.next_working_day(from.add_days(days as i32))
    }

    /// The deadline of a period of `days` working days starting the day after `from`.
    pub fn working_deadline(&self, from: Date, days: u32) -> Date {
        let mut d = from;
        let mut left = days;
        while left > 0 {
            d = d.add_days(1);
            if !self.is_rest_day(d) {
                left -= 1;
            }
        }
        d
    }
}

/// The time limits of 《信访工作条例》(2022), in days. Configuration, not literals in logic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// The petition office registers and forwards or assigns (art. 22).
    pub register: u32,
    /// The receiving body notifies receipt and route (art. 23).
    pub notify: u32,
    /// The receiving body objects that the matter is outside its remit, in working days (art. 23).
    pub object_working_days: u32,
    /// Handle and conclude, from acceptance (art. 34).
    pub conclude: u32,
    /// One extension of at most this many days (art. 34).
    pub extension: u32,
    /// Ask for review within, and review done within (art. 35).
    pub review_request: u32,
    pub review: u32,
    /// Ask for re-review within, and re-review done within (art. 36).
    pub re_review_request: u32,
    pub re_review: u32,
    /// Yellow when the deadline is today or within this many calendar days.
    pub warning_days: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            register: 15,
            notify: 15,
            object_working_days: 5,
            conclude: 60,
            extension: 30,
            review_request: 30,
            review: 30,
            re_review_request: 30,
            re_review: 30,
            warning_days: 5,
        }
    }
}

/// Where a case stands, derived from its steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Received and registered; to be forwarded or assigned.
    Registered,
    /// Forwarded or assigned; the receiving body is to notify receipt.
    Assigned,
    /// Accepted (receipt notified); being handled, to be concluded.
    Handling,
    /// Concluded with a written reply; the petitioner may ask for review.
    Concluded,
    /// A review 复查 is under way.
    UnderReview,
    /// The review is concluded; the petitioner may ask for re-review.
    Reviewed,
    /// A re-review 复核 is under way.
    UnderReReview,
    /// Re-review concluded: the same facts and reasons are not accepted again.
    Final,
    /// Not accepted (不予受理 / 不再受理), with a reason.
    NotAccepted,
}

impl State {
    pub const ALL: [State; 9] = [
        State::Registered,
        State::Assigned,
        State::Handling,
        State::Concluded,
        State::UnderReview,
        State::Reviewed,
        State::UnderReReview,
        State::Final,
        State::NotAccepted,
    ];

    /// The code used in exports and filters (the serialised name).
    pub fn code(self) -> &'static str {
        match self {
            State::Registered => "registered",
            State::Assigned => "assigned",
            State::Handling => "handling",
            State::Concluded => "concluded",
            State::UnderReview => "under_review",
            State::Reviewed => "reviewed",
            State::UnderReReview => "under_re_review",
            State::Final => "final",
            State::NotAccepted => "not_accepted",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            State::Registered => "registered",
            State::Assigned => "forwarded / assigned",
            State::Handling => "being handled",
            State::Concluded => "concluded",
            State::UnderReview => "under review",
            State::Reviewed => "reviewed",
            State::UnderReReview => "under re-review",
            State::Final => "final",
            State::NotAccepted => "not accepted",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            State::Registered => "已登记",
            State::Assigned => "已转送/交办",
            State::Handling => "办理中",
            State::Concluded => "已办结",
            State::UnderReview => "复查中",
            State::Reviewed => "已复查",
            State::UnderReReview => "复核中",
            State::Final => "已复核（终结）",
            State::NotAccepted => "不予受理",
        }
    }

    /// Whether the office still owes something by a deadline.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            State::Registered
                | State::Assigned
                | State::Handling
                | State::UnderReview
                | State::UnderReReview
        )
    }
}

/// What the current deadline is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    Register,
    Notify,
    Conclude,
    Review,
    ReReview,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub due: Date,
}

/// 四色督办.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Red,
    Yellow,
    Blue,
    Green,
}

impl Colour {
    /// Most urgent first.
    pub const ALL: [Colour; 4] = [Colour::Red, Colour::Yellow, Colour::Blue, Colour::Green];

    /// The code used in exports and filters (the serialised name).
    pub fn code(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Yellow => "yellow",
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Colour::Red => "红牌",
            Colour::Yellow => "黄牌",
            Colour::Blue => "蓝牌",
            Colour::Green => "绿牌",
        }
    }
}

impl Colour {
    pub fn en(self) -> &'static str {
        match self {
            Colour::Red => "red card",
            Colour::Yellow => "yellow card",
            Colour::Blue => "blue card",
            Colour::Green => "green card",
        }
    }
}

macro_rules! labelled {
    ($($t:ty),*) => {$(
        impl crate::kit::schema::Label for $t {
            fn zh(self) -> &'static str { <$t>::zh(self) }
            fn en(self) -> &'static str { <$t>::en(self) }
        }
    )*};
}
labelled!(State, Colour, Route);

/// Something in the steps that breaks the rules, shown to people rather than hidden.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Irregularity {
    pub step: String,
    pub reason: String,
}

/// The lifecycle as of the steps recorded so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    pub state: State,
    pub deadline: Option<Deadline>,
    /// Whether the one allowed extension was used.
    pub extended: bool,
    pub irregularities: Vec<Irregularity>,
}

/// Derives the lifecycle from the steps, in date order (then by when recorded, as
/// [`crate::Case::steps`] holds them). `received` is the day the matter arrived (the case's
/// creation day) for a case with no registration step yet.
pub fn lifecycle(
    steps: &[Step],
    received: Date,
    limits: &Limits,
    calendar: &Calendar,
) -> Lifecycle {
    let mut state = State::Registered;
    let mut deadline = Some(Deadline {
        kind: DeadlineKind::Register,
        due: calendar.deadline(received, limits.register),
    });
    let mut extended = false;
    let mut concluded_on: Option<Date> = None;
    let mut accepted_on: Option<Date> = None;
    let mut irregular = Vec::new();
    let mut flag = |step: &Step, reason: &str| {
        irregular.push(Irregularity {
            step: step.id.to_string(),
            reason: reason.to_string(),
        });
    };
    for step in steps {
        let on = step.on;
        let Some(kind) = step.kind.known() else {
            flag(step, "unknown step kind");
            continue;
        };
        match (state, kind) {
            (State::Registered, StepKind::Registered) => {
                deadline = Some(Deadline {
                    kind: DeadlineKind::Register,
                    due: calendar.deadline(on, limits.register),
                });
            }
            (State::Registered, StepKind::Forwarded | StepKind::Assigned) => {
                state = State::Assigned;
                deadline = Some(Deadline {
                    kind: DeadlineKind::Notify,
                    due: calendar.deadline(on, limits.notify),
                });
            }
            (State::Registered | State::Assigned, StepKind::Notified) => {
                state = State::Handling;
                accepted_on = Some(on);
                deadline = Some(Deadline {
                    kind: DeadlineKind::Conclude,
                    due: calendar.deadline(on, limits.conclude),
                });
            }
            (State::Handling, StepKind::Handling) => {}
            (_, StepKind::NotAccepted | StepKind::NotReaccepted)
                if matches!(
                    state,
                    State::Registered
                        | State::Assigned
                        | State::Reviewed
                        | State::Final
                        | State::Concluded
                ) =>
            {
                if step.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    flag(step, "a refusal needs a reason");
                }
                state = State::NotAccepted;
                deadline = None;
            }
            (State::Handling, StepKind::Extended) => {
                if extended {
                    flag(step, "only one extension is allowed");
                    continue;
                }
                if step.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                    flag(step, "an extension needs a reason");
                }
                extended = true;
                if let Some(accepted) = accepted_on {
                    // The extension adds to the original period, not to a deadline moved off
                    // a rest day.
                    let days = limits.conclude + limits.extension;
                    deadline = Some(Deadline {
                        kind: DeadlineKind::Conclude,
                        due: calendar.deadline(accepted, days),
                    });
                }
            }
            (State::Handling, StepKind::Concluded) => {
                state = State::Concluded;
                concluded_on = Some(on);
                deadline = None;
            }
            (State::Concluded, StepKind::Evaluated)
            | (State::Reviewed | State::Final, StepKind::Evaluated) => {}
            (State::Concluded, StepKind::Review) => {
                if let Some(c) = concluded_on
                    && on > calendar.deadline(c, limits.review_request)
                {
                    flag(step, "review asked for after the 30-day window");
                }
                state = State::UnderReview;
                deadline = Some(Deadline {
                    kind: DeadlineKind::Review,
                    due: calendar.deadline(on, limits.review),
                });
            }
            (State::UnderReview, StepKind::Concluded) => {
                state = State::Reviewed;
                concluded_on = Some(on);
                deadline = None;
            }
            (State::Reviewed, StepKind::ReReview) => {
                if let Some(c) = concluded_on
                    && on > calendar.deadline(c, limits.re_review_request)
                {
                    flag(step, "re-review asked for after the 30-day window");
                }
                state = State::UnderReReview;
                deadline = Some(Deadline {
                    kind: DeadlineKind::ReReview,
                    due: calendar.deadline(on, limits.re_review),
                });
            }
            (State::UnderReReview, StepKind::Concluded) => {
                state = State::Final;
                deadline = None;
            }
            _ => flag(step, "this step does not fit where the case stands"),
        }
    }
    Lifecycle {
        state,
        deadline,
        extended,
        irregularities: irregular,
    }
}

/// Where a matter belongs outside the petition channel (articles 29–31, 诉访分离).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Law- and litigation-related: into litigation, arbitration or administrative review,
    /// through the political-legal organs.
    PoliticalLegal,
    /// An accusation against officials: to the discipline inspection and supervision bodies.
    Discipline,
}

impl Route {
    pub fn zh(self) -> &'static str {
        match self {
            Route::PoliticalLegal => "导入法律程序，转政法机关（诉访分离）",
            Route::Discipline => "转纪检监察机关",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Route::PoliticalLegal => "into legal procedure, to the political-legal organs",
            Route::Discipline => "to the discipline inspection bodies",
        }
    }
}

/// Where a matter is to be routed, from its kind and category; None when the petition system
/// handles it itself. An accusation goes to the discipline bodies whatever its category.
pub fn route(matter_kind: Option<MatterKind>, category: Option<Category>) -> Option<Route> {
    match (matter_kind, category) {
        (Some(MatterKind::Accusation), _) => Some(Route::Discipline),
        (_, Some(Category::Law)) => Some(Route::PoliticalLegal),
        _ => None,
    }
}

/// The colour of a case as of `today`.
pub fn colour(life: &Lifecycle, today: Date, limits: &Limits) -> Colour {
    if !life.state.is_open() {
        return Colour::Green;
    }
    match life.deadline {
        None => Colour::Blue,
        Some(d) if today > d.due => Colour::Red,
        Some(d) if today.days_until(d.due) <= limits.warning_days as i32 => Colour::Yellow,
        Some(_) => Colour::Blue,
    }
}

/// 当日即办: a visit is assigned (or forwarded) and accepted (receipt notified) on the day it
/// was registered. None when the rule does not apply (not a visit at county or township level).
pub fn same_day(steps: &[Step], channel: Option<Channel>, level: Option<Level>) -> Option<bool> {
    if channel != Some(Channel::Visit) || !matches!(level, Some(Level::County | Level::Township)) {
        return None;
    }
    let first = |kinds: &[StepKind]| {
        steps
            .iter()
            .find(|s| s.kind.known().is_some_and(|k| kinds.contains(&k)))
            .map(|s| s.on)
    };
    let registered = first(&[StepKind::Registered])?;
    let assigned = first(&[StepKind::Assigned, StepKind::Forwarded]);
    let notified = first(&[StepKind::Notified]);
    Some(assigned == Some(registered) && notified == Some(registered))
}
