//! The reports of [`lianxin_shared::report`] over a set of documents: a device's own copy
//! (`lianxin device report …`, offline) or every case on the server (`lianxin admin report …`,
//! the office's official figures). Both load the documents the same way — each case read with
//! its personal details where they are held — so the same documents give the same figures.

use automerge::AutoCommit;
use lianxin_shared::protocol::Unit;
use lianxin_shared::report::{self, AssessmentRules, Item, Period};
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, CaseRow, Date, DocId, StoredRow};
use std::collections::HashMap;

/// A report asked for.
#[derive(Clone, Debug)]
pub enum Ask {
    /// 信访情况日通报 of a day.
    Bulletin { on: Date },
    /// Figures for a period with 同比; `unit` keeps one unit's cases.
    Figures {
        from: Date,
        to: Date,
        unit: Option<String>,
    },
    /// The rates per unit and overall.
    Rates { from: Date, to: Date },
    /// The monthly assessment `YYYY-MM`, with the five months before it for the streaks.
    Assessment { month: String },
}

/// What the reports read: the caseload rows, the reception days held, the units scored.
pub struct Caseload {
    rows: Vec<(String, CaseRow)>,
    receptions: Vec<(String, Date)>,
    units: Vec<String>,
}

impl Caseload {
    /// From documents of any kind (cases, their details, reception days; others ignored).
    pub fn of(
        docs: Vec<(DocId, AutoCommit)>,
        directory: &[Unit],
        limits: &Limits,
        calendar: &Calendar,
    ) -> Caseload {
        let mut opened: HashMap<DocId, AnyDoc> = HashMap::new();
        for (id, doc) in docs {
            if let Ok(d) = AnyDoc::open(doc) {
                opened.insert(id, d);
            }
        }
        let mut rows = Vec::new();
        let mut receptions = Vec::new();
        for (id, doc) in &opened {
            let details = match opened.get(&DocId::details_of(id)) {
                Some(AnyDoc::Details(d)) => Some(d),
                _ => None,
            };
            match doc.row_with(details, limits, calendar) {
                Ok(StoredRow::Case(row)) => rows.push((id.to_string(), row)),
                Ok(StoredRow::Reception(r)) => {
                    if let Some(on) = r.on {
                        receptions.push((r.unit, on));
                    }
                }
                _ => {}
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        receptions.sort();
        // Every township, street and department is scored: every unit but the bureau.
        let units = directory
            .iter()
            .filter(|u| u.parent.is_some())
            .map(|u| u.id.clone())
            .collect();
        Caseload {
            rows,
            receptions,
            units,
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The report, as JSON (docs/reports.md).
    pub fn report(&self, ask: &Ask, limits: &Limits) -> serde_json::Value {
        let items: Vec<Item> = self.rows.iter().map(|(id, row)| Item { id, row }).collect();
        let json = |v: Result<serde_json::Value, serde_json::Error>| v.unwrap_or_default();
        match ask {
            Ask::Bulletin { on } => {
                json(serde_json::to_value(report::bulletin(&items, *on, limits)))
            }
            Ask::Figures { from, to, unit } => {
                let kept: Vec<Item> = items
                    .into_iter()
                    .filter(|i| unit.as_ref().is_none_or(|u| &i.row.unit == u))
                    .collect();
                json(serde_json::to_value(report::figures(
                    &kept,
                    Period::new(*from, *to),
                )))
            }
            Ask::Rates { from, to } => json(serde_json::to_value(report::rates(
                &items,
                Period::new(*from, *to),
            ))),
            Ask::Assessment { month } => json(serde_json::to_value(report::assessment(
                &items,
                &self.units,
                &self.receptions,
                &report::months_up_to(month, 6),
                &AssessmentRules::default(),
            ))),
        }
    }
}

/// Every case on the server (the office's official figures), with the server's calendar.
pub fn from_store(store: &crate::store::Store) -> Result<Caseload, crate::store::StoreError> {
    let directory = store.units()?;
    let all: Vec<lianxin_shared::UnitId> = directory
        .iter()
        .filter_map(|u| lianxin_shared::UnitId::new(&u.id).ok())
        .collect();
    let scope = crate::store::Scope {
        visible: all.clone(),
        own: all,
    };
    let mut docs = Vec::new();
    for changed in store.changed_since(0, &scope)? {
        if let Some((bytes, _, _)) = store.load_doc(&changed.id)?
            && let Ok(doc) = lianxin_shared::load_document(&bytes)
        {
            docs.push((changed.id, doc));
        }
    }
    Ok(Caseload::of(
        docs,
        &directory,
        &Limits::default(),
        &store.calendar()?,
    ))
}
