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
    /// Leader reception figures for a period, per unit and overall.
    Receptions { from: Date, to: Date },
    /// Each campaign's progress, week by week, as of a day.
    Campaigns { on: Date },
}

/// What the reports read: the caseload rows, the reception days held, the units scored.
pub struct Caseload {
    rows: Vec<(String, CaseRow)>,
    receptions: Vec<(String, Date)>,
    days: Vec<lianxin_shared::ReceptionRow>,
    units: Vec<String>,
    names: HashMap<String, String>,
    /// The reference data's rules and campaigns (the defaults and none without it).
    reference: lianxin_shared::ReferenceRow,
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
        let mut days = Vec::new();
        let mut reference = lianxin_shared::ReferenceRow {
            rules: AssessmentRules::default(),
            campaigns: Vec::new(),
            pending: false,
        };
        for (id, doc) in &opened {
            let details = match opened.get(&DocId::details_of(id)) {
                Some(AnyDoc::Details(d)) => Some(d),
                _ => None,
            };
            match doc.row_with(details, limits, calendar) {
                Ok(StoredRow::Case(row)) => rows.push((id.to_string(), row)),
                Ok(StoredRow::Reception(r)) => {
                    if let Some(on) = r.on {
                        receptions.push((r.unit.clone(), on));
                    }
                    days.push(r);
                }
                Ok(StoredRow::Reference(r)) => reference = r,
                _ => {}
            }
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        receptions.sort();
        days.sort_by(|a, b| (a.on, &a.unit, &a.leader).cmp(&(b.on, &b.unit, &b.leader)));
        // Every township, street and department is scored: every unit but the bureau.
        let units = directory
            .iter()
            .filter(|u| u.parent.is_some())
            .map(|u| u.id.clone())
            .collect();
        Caseload {
            rows,
            receptions,
            days,
            units,
            names: directory
                .iter()
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect(),
            reference,
        }
    }

    fn items(&self) -> Vec<Item<'_>> {
        self.rows.iter().map(|(id, row)| Item { id, row }).collect()
    }

    /// A unit's name from the directory (its id if unknown).
    pub fn unit_name(&self, id: &str) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// The report as tables (a sheet each in XLSX): names, Chinese headers, labels.
    pub fn tables(&self, ask: &Ask, limits: &Limits) -> Vec<lianxin_shared::ledger::Table> {
        use lianxin_shared::ledger::tables;
        let items = self.items();
        let unit = |id: &str| self.unit_name(id);
        match ask {
            Ask::Bulletin { on } => tables::bulletin(&report::bulletin(&items, *on, limits), &unit),
            Ask::Figures {
                from,
                to,
                unit: only,
            } => {
                let kept: Vec<Item> = items
                    .into_iter()
                    .filter(|i| only.as_ref().is_none_or(|u| &i.row.unit == u))
                    .collect();
                let f = report::figures(&kept, Period::new(*from, *to));
                let label = |dim: &str, code: &str| match dim {
                    "unit" => self.unit_name(code),
                    _ if code.is_empty() => "—".to_string(),
                    _ => vocab_zh(dim, code),
                };
                tables::figures(&f, &label)
            }
            Ask::Rates { from, to } => {
                tables::rates(&report::rates(&items, Period::new(*from, *to)), &unit)
            }
            Ask::Assessment { month } => tables::assessment(
                &report::assessment(
                    &items,
                    &self.units,
                    &self.receptions,
                    &report::months_up_to(month, 6),
                    &self.reference.rules,
                ),
                &unit,
            ),
            Ask::Campaigns { on } => {
                let progress = report::campaigns(&items, &self.reference.campaigns, *on);
                lianxin_shared::ledger::tables::campaigns(&progress)
            }
            Ask::Receptions { from, to } => {
                let days: Vec<&lianxin_shared::ReceptionRow> = self.days.iter().collect();
                tables::receptions(
                    &report::reception_figures(&days, Period::new(*from, *to)),
                    &unit,
                )
            }
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
                &self.reference.rules,
            ))),
            Ask::Campaigns { on } => json(serde_json::to_value(report::campaigns(
                &items,
                &self.reference.campaigns,
                *on,
            ))),
            Ask::Receptions { from, to } => {
                let days: Vec<&lianxin_shared::ReceptionRow> = self.days.iter().collect();
                json(serde_json::to_value(report::reception_figures(
                    &days,
                    Period::new(*from, *to),
                )))
            }
        }
    }
}

/// A vocabulary code's Chinese label, by the dimension it belongs to.
fn vocab_zh(dim: &str, code: &str) -> String {
    use lianxin_shared::{Category, Channel, Form, Level, Source, Vocabulary};
    fn of<T: Vocabulary>(code: &str) -> Option<&'static str> {
        T::from_code(code).map(|v| v.zh())
    }
    match dim {
        "channel" => of::<Channel>(code),
        "level" => of::<Level>(code),
        "form" => of::<Form>(code),
        "category" => of::<Category>(code),
        "source" => of::<Source>(code),
        _ => None,
    }
    .unwrap_or(code)
    .to_string()
}

/// Every case on the server (the office's official figures), with the server's calendar.
pub fn from_store(store: &crate::store::Store) -> Result<Caseload, crate::store::StoreError> {
    let directory = store.units()?;
    let scope = crate::store::Scope::everything(&directory);
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
