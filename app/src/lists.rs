//! The lists the screens show — the caseload, the mediation ledger, the reception days —
//! worked out from the stored rows alone: no document is loaded for them.

use std::collections::HashMap;

use leptos::prelude::*;
use lianxin_shared::fieldwork::MatterKey;
use lianxin_shared::protocol::Unit;
use lianxin_shared::rules::{Colour, Limits, State};
use lianxin_shared::{Date, DocId};
use lianxin_shared::{Evaluated, OptionCode, StoredRow};

use crate::{mediation, perf, reception_view, today};

/// One line of the caseload.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) summary: String,
    pub(crate) unit: String,
    pub(crate) unit_id: String,
    pub(crate) channel: String,
    pub(crate) colour: Colour,
    pub(crate) state: State,
    pub(crate) due: Option<Date>,
    /// What repeat linking compares: day received, category, petitioners' digests.
    pub(crate) matter: MatterKey,
    pub(crate) evaluation: Option<Evaluated>,
    /// Petitioners' names, the leader and the handler: what the search finds besides the
    /// reference, the summary and the unit.
    pub(crate) names: Vec<String>,
    pub(crate) leader: String,
    pub(crate) handler: String,
    /// Two devices set a value differently and nobody has chosen yet.
    pub(crate) conflicted: bool,
    /// Edits made here that the server has not confirmed.
    pub(crate) waiting: bool,
    pub(crate) facts: lianxin_shared::report::Facts,
    pub(crate) package_due: Option<Date>,
    pub(crate) last_visit: Option<Date>,
    /// The seven-evenings run as of today, while a plan is on.
    pub(crate) evening: Option<lianxin_shared::fieldwork::EveningRun>,
}

impl Row {
    /// What a list keys a line by: everything [`crate::CaseLine`] draws. A line keyed by its
    /// id alone is drawn once and kept while the list is on screen, so a change that arrived
    /// then (a confirmation, a merge, a colleague's edit) never showed.
    pub(crate) fn line_key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{:?}|{:?}|{}|{}|{:?}",
            self.id,
            self.reference,
            self.summary,
            self.unit,
            self.state,
            self.colour,
            self.conflicted,
            self.waiting,
            self.due
        )
    }

    /// What the search looks in: the summary, the reference, the unit, the petitioners'
    /// names, the leader and the handler.
    fn searched(&self) -> impl Iterator<Item = &str> + Clone {
        [&self.summary, &self.reference, &self.unit]
            .into_iter()
            .chain(&self.names)
            .chain([&self.leader, &self.handler])
            .map(String::as_str)
    }
}

/// A search text made ready for the whole caseload: each of its words is prepared once, not
/// once for every field of every row (at 50,000 cases, setting up `str::contains` for each
/// field took a third of the scan).
pub(crate) struct Search {
    words: Vec<memchr::memmem::Finder<'static>>,
}

impl Search {
    pub(crate) fn new(q: &str) -> Self {
        Self {
            words: q
                .split_whitespace()
                .map(|w| memchr::memmem::Finder::new(w).into_owned())
                .collect(),
        }
    }

    /// Whether every word of the search is found in the row, each in any of its fields.
    pub(crate) fn finds(&self, row: &Row) -> bool {
        self.finds_in(row.searched())
    }

    /// Whether every word is found in one of `fields`. A word is never found across two
    /// fields; found in UTF-8 bytes, a word starts and ends where a character does.
    fn finds_in<'a>(&self, fields: impl Iterator<Item = &'a str> + Clone) -> bool {
        self.words
            .iter()
            .all(|word| fields.clone().any(|f| word.find(f.as_bytes()).is_some()))
    }
}

/// A unit's name from the directory, or its id if the directory does not know it.
pub(crate) fn unit_name(units: &[Unit], id: &str) -> String {
    units
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The caseload, the mediation ledger and the reception days, from the rows.
pub(crate) fn show_rows(
    index: &HashMap<DocId, StoredRow>,
    units: &[Unit],
    (caseload, disputes, days): (
        RwSignal<Vec<Row>>,
        RwSignal<Vec<mediation::LedgerRow>>,
        RwSignal<Vec<reception_view::DayRow>>,
    ),
) {
    perf::timed("caseload: rows built", || {
        caseload.set(rows(index.iter(), units));
        disputes.set(ledger(index.iter(), units));
        days.set(reception_days(index.iter(), units));
    });
}

/// The caseload, most urgent first, from the stored rows: no document is loaded for it.
fn rows<'a>(index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>, units: &[Unit]) -> Vec<Row> {
    let (limits, today) = (Limits::default(), today());
    let mut out: Vec<Row> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Case(row) => Some((id, row)),
            _ => None,
        })
        .map(|(id, row)| Row {
            id: id.to_string(),
            reference: row.reference.clone(),
            summary: row.summary.clone(),
            unit: unit_name(units, &row.unit),
            unit_id: row.unit.clone(),
            channel: row.channel.code().unwrap_or_default().to_string(),
            colour: row.colour(today, &limits),
            state: row.state,
            due: row.deadline.map(|d| d.due),
            matter: row.matter(&id.to_string()),
            evaluation: row.evaluation,
            names: row.names.clone(),
            leader: row.facts.leader.clone().unwrap_or_default(),
            handler: row.facts.handler.clone().unwrap_or_default(),
            conflicted: row.conflicted,
            waiting: row.pending,
            facts: row.facts.clone(),
            package_due: row.package_due,
            last_visit: row.last_visit,
            evening: row.evening_run(today),
        })
        .collect();
    // Most urgent first: red, yellow, blue, green; then the nearest deadline.
    out.sort_by(|a, b| (a.colour, a.due, &a.id).cmp(&(b.colour, b.due, &b.id)));
    out
}

/// The leader reception days from the stored rows, latest first.
fn reception_days<'a>(
    index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>,
    units: &[Unit],
) -> Vec<reception_view::DayRow> {
    let mut out: Vec<reception_view::DayRow> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Reception(r) => Some(reception_view::DayRow {
                id: id.to_string(),
                on: r.on.map(|d| d.to_string()).unwrap_or_default(),
                leader: r.leader.clone(),
                place: r.place.clone(),
                unit: unit_name(units, &r.unit),
                tally: r.tally,
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| (&b.on, &a.id).cmp(&(&a.on, &b.id)));
    out
}

/// The mediation ledger from the stored rows: disputes still in mediation first.
fn ledger<'a>(
    index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>,
    units: &[Unit],
) -> Vec<mediation::LedgerRow> {
    let mut out: Vec<mediation::LedgerRow> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Dispute(d) => Some(mediation::LedgerRow {
                id: id.to_string(),
                summary: d.summary.clone(),
                unit: unit_name(units, &d.unit),
                committee: d.committee.clone(),
                level: d.level.clone(),
                result: d.result.clone(),
                sessions: d.sessions,
                case: d.case.map(|c| c.to_string()),
            }),
            _ => None,
        })
        .collect();
    let settled = |r: &mediation::LedgerRow| {
        r.result
            .known()
            .is_some_and(|r| r == lianxin_shared::MediationResult::Settled)
    };
    out.sort_by(|a, b| (settled(a), &a.id).cmp(&(settled(b), &b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::Search;

    fn finds(q: &str, fields: &[&str]) -> bool {
        Search::new(q).finds_in(fields.iter().copied())
    }

    #[test]
    fn every_word_is_found_each_in_some_field() {
        let fields = ["李家村宅基地纠纷", "信访〔2026〕12号", "城关镇", "王秀英"];
        assert!(finds("", &fields), "no words: every row");
        assert!(finds("  ", &fields), "blanks alone: every row");
        assert!(finds("宅基地", &fields));
        assert!(finds("宅基地 王秀英", &fields), "two words, two fields");
        assert!(finds("12号  城关", &fields));
        assert!(!finds("宅基地 张三", &fields), "one word missing: no match");
        assert!(!finds("纠纷信访", &fields), "never across two fields");
        assert!(!finds("工资", &fields));
    }

    #[test]
    fn latin_letters_are_found_as_typed() {
        assert!(finds("ABC", &["xABCx"]));
        assert!(!finds("abc", &["xABCx"]));
    }
}
