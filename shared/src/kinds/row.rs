//! The caseload line of a case: what the list shows, small enough to keep for every case
//! beside the document so that a tablet holding 10,000 cases shows its list without loading
//! a single document.
//!
//! A row holds what does not depend on the day (state and deadline); the colour is worked out
//! from it for the day the list is shown, with [`CaseRow::colour`].

use serde::{Deserialize, Serialize};

use crate::fieldwork::{MatterKey, PersonKey};
use crate::kit::schema::Code;
use crate::rules::{self, Calendar, Colour, Deadline, Lifecycle, Limits, State};
use crate::{
    Case, Category, Channel, Committee, Date, MediationLevel, MediationResult, Satisfaction,
};

/// Longest summary a row keeps, in characters; the case screen shows the whole text.
pub const SUMMARY_CHARS: usize = 80;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseRow {
    pub reference: String,
    pub summary: String,
    /// The responsible unit, or else the unit that registered the case.
    pub unit: String,
    pub channel: Option<Code<Channel>>,
    pub state: State,
    pub deadline: Option<Deadline>,
    /// The day received, the category and the petitioners' digests: what repeat linking
    /// compares (see [`CaseRow::matter`]). Rows stored before these existed do not read, and
    /// are worked out again from their documents.
    pub registered: Date,
    pub category: Option<Code<Category>>,
    pub petitioners: Vec<PersonKey>,
    /// The evaluation that counts, if the petitioner has given one.
    pub evaluation: Option<Evaluated>,
    /// What the reports need: milestone days, deadlines, level, people (see
    /// [`crate::report::Facts`]). Rows stored before it existed do not read and are redone.
    pub facts: crate::report::Facts,
    /// The petitioners' names, for the search (the case shows them to whoever sees it).
    pub names: Vec<String>,
    /// Single values set differently on two devices, not yet chosen between.
    pub conflicted: bool,
    /// The leader's package 包案: the day it is to be resolved by.
    pub package_due: Option<Date>,
    /// The day of the latest follow-up visit.
    pub last_visit: Option<Date>,
    /// A seven-evenings plan not yet ended: its starts and the evenings logged (day, held).
    pub evenings: Option<(Vec<Date>, Vec<(Date, bool)>)>,
    /// The device holds edits the server has not confirmed.
    #[serde(default)]
    pub pending: bool,
}

/// The petitioner's satisfaction with the petition office and with the responsible unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluated {
    pub office: Satisfaction,
    pub unit: Satisfaction,
}

impl CaseRow {
    pub fn of(case: &Case, limits: &Limits, calendar: &Calendar) -> CaseRow {
        let received = case.received();
        let life = rules::lifecycle(&case.live_steps(), received, limits, calendar);
        CaseRow {
            reference: case.reference.clone().unwrap_or_default(),
            summary: case.summary.chars().take(SUMMARY_CHARS).collect(),
            unit: case
                .responsible_unit
                .as_ref()
                .or_else(|| case.header.units.first())
                .map(|u| u.to_string())
                .unwrap_or_default(),
            channel: case.channel.clone(),
            state: life.state,
            deadline: life.deadline,
            registered: received,
            category: case.category.clone(),
            petitioners: case.matter_key().petitioners,
            evaluation: case.evaluation().and_then(|e| {
                Some(Evaluated {
                    office: e.office.known()?,
                    unit: e.unit.known()?,
                })
            }),
            facts: crate::report::Facts::of(case, limits, calendar),
            names: case.petitioners.iter().map(|p| p.name.clone()).collect(),
            conflicted: !case.conflicts.is_empty(),
            package_due: case.package_due,
            last_visit: case.follow_ups.iter().map(|f| f.on).max(),
            evenings: case
                .evening_plan()
                .filter(|_| case.evening_outcome.is_none())
                .map(|p| {
                    (
                        p.starts,
                        p.logs.into_iter().map(|l| (l.on, l.held)).collect(),
                    )
                }),
            pending: false,
        }
    }

    /// What repeat linking compares, for the case `id` this row belongs to.
    pub fn matter(&self, id: &str) -> MatterKey {
        MatterKey {
            case: id.to_string(),
            registered: self.registered,
            category: self.category.clone(),
            petitioners: self.petitioners.clone(),
        }
    }

    /// The seven-evenings run as of `today`, while the plan is on.
    pub fn evening_run(&self, today: Date) -> Option<crate::fieldwork::EveningRun> {
        let (starts, logs) = self.evenings.as_ref()?;
        let plan = crate::fieldwork::EveningPlan {
            starts: starts.clone(),
            logs: logs
                .iter()
                .map(|(on, held)| crate::fieldwork::EveningLog {
                    on: *on,
                    held: *held,
                })
                .collect(),
        };
        crate::fieldwork::evening_run(&plan, today)
    }

    /// The row's colour as of `today`: the same as [`rules::colour`] on the whole case.
    pub fn colour(&self, today: Date, limits: &Limits) -> Colour {
        let life = Lifecycle {
            state: self.state,
            deadline: self.deadline,
            extended: false,
            irregularities: Vec::new(),
        };
        rules::colour(&life, today, limits)
    }
}

/// The ledger line of a mediation dispute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DisputeRow {
    pub summary: String,
    pub unit: String,
    pub committee: Option<Code<Committee>>,
    pub level: Option<Code<MediationLevel>>,
    /// Settled, not settled or escalated; None while in mediation.
    pub result: Option<Code<MediationResult>>,
    pub sessions: usize,
    /// The case it became or came from.
    pub case: Option<crate::DocId>,
    #[serde(default)]
    pub pending: bool,
}

impl DisputeRow {
    pub fn of(d: &crate::Dispute) -> DisputeRow {
        DisputeRow {
            summary: d.summary.chars().take(SUMMARY_CHARS).collect(),
            unit: d
                .header
                .units
                .first()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            committee: d.committee.clone(),
            level: d.level.clone(),
            result: d.result.clone(),
            sessions: d.sessions.len(),
            case: d.case,
            pending: false,
        }
    }
}

/// The line of a leader's reception day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceptionRow {
    pub on: Option<Date>,
    pub leader: String,
    pub place: String,
    pub unit: String,
    pub tally: crate::Tally,
    #[serde(default)]
    pub pending: bool,
}

impl ReceptionRow {
    pub fn of(r: &crate::Reception) -> ReceptionRow {
        ReceptionRow {
            on: r.on,
            leader: r.leader.clone().unwrap_or_default(),
            place: r.place.clone().unwrap_or_default(),
            unit: r
                .header
                .units
                .first()
                .map(|u| u.to_string())
                .unwrap_or_default(),
            tally: r.tally,
            pending: false,
        }
    }
}

/// The line of a case's personal details: which case they belong to (the case's own row carries
/// the digests worked out from them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetailsRow {
    pub case: Option<crate::DocId>,
    #[serde(default)]
    pub pending: bool,
}

impl DetailsRow {
    pub fn of(d: &crate::Details) -> DetailsRow {
        DetailsRow {
            case: d.case,
            pending: false,
        }
    }
}

/// The line of the reference data: the rules and campaigns themselves (they are small), so
/// the reports need no document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRow {
    pub rules: crate::report::AssessmentRules,
    pub campaigns: Vec<crate::Campaign>,
    #[serde(default)]
    pub pending: bool,
}

impl From<crate::Reference> for ReferenceRow {
    fn from(r: crate::Reference) -> ReferenceRow {
        ReferenceRow {
            rules: r.rules,
            campaigns: r.campaigns,
            pending: false,
        }
    }
}

/// What the app stores per document beside it, so lists show without loading documents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StoredRow {
    Case(CaseRow),
    Dispute(DisputeRow),
    Reception(ReceptionRow),
    Details(DetailsRow),
    Reference(ReferenceRow),
}

impl StoredRow {
    pub fn pending(&self) -> bool {
        match self {
            StoredRow::Case(r) => r.pending,
            StoredRow::Dispute(r) => r.pending,
            StoredRow::Reception(r) => r.pending,
            StoredRow::Details(r) => r.pending,
            StoredRow::Reference(r) => r.pending,
        }
    }

    /// Whether this row counts among the edits waiting to go up: a case's details go up with
    /// the case, so they are counted once, as the case.
    pub fn waiting(&self) -> bool {
        self.pending()
            && matches!(
                self,
                StoredRow::Case(_) | StoredRow::Dispute(_) | StoredRow::Reception(_)
            )
    }

    pub fn set_pending(&mut self, pending: bool) {
        match self {
            StoredRow::Case(r) => r.pending = pending,
            StoredRow::Dispute(r) => r.pending = pending,
            StoredRow::Reception(r) => r.pending = pending,
            StoredRow::Details(r) => r.pending = pending,
            StoredRow::Reference(r) => r.pending = pending,
        }
    }
}

/// The format of [`pack_rows`]: raise it whenever a row type's fields change (the test
/// `a_pack_of_rows_keeps_its_bytes` fails to say so). A pack of another format is not read: its
/// rows are made again from their documents, as for a tablet that kept no rows.
pub const ROW_PACK_FORMAT: u32 = 2;
const ROW_PACK_MAGIC: &[u8; 4] = b"LXRP";

/// [`StoredRow`] with its kind as postcard's variant number (postcard cannot read serde's
/// internally tagged enums); the variants in the same order as [`Packed`].
#[derive(Serialize)]
enum PackedRef<'a> {
    Case(&'a CaseRow),
    Dispute(&'a DisputeRow),
    Reception(&'a ReceptionRow),
    Details(&'a DetailsRow),
    Reference(&'a ReferenceRow),
}

#[derive(Deserialize)]
enum Packed {
    Case(CaseRow),
    Dispute(DisputeRow),
    Reception(ReceptionRow),
    Details(DetailsRow),
    Reference(ReferenceRow),
}

/// Every row of a tablet in one value, for the local store to seal and read back in one piece:
/// a tablet with 50,000 cases opens one record instead of 100,000, and postcard reads several
/// times faster than JSON. The magic, [`ROW_PACK_FORMAT`] (u32 LE), then the (id, row) list.
pub fn pack_rows<'a>(
    rows: impl IntoIterator<Item = (&'a crate::DocId, &'a StoredRow)>,
) -> Result<Vec<u8>, crate::Error> {
    let list: Vec<(&crate::DocId, PackedRef)> = rows
        .into_iter()
        .map(|(id, row)| {
            let packed = match row {
                StoredRow::Case(r) => PackedRef::Case(r),
                StoredRow::Dispute(r) => PackedRef::Dispute(r),
                StoredRow::Reception(r) => PackedRef::Reception(r),
                StoredRow::Details(r) => PackedRef::Details(r),
                StoredRow::Reference(r) => PackedRef::Reference(r),
            };
            (id, packed)
        })
        .collect();
    let mut out = ROW_PACK_MAGIC.to_vec();
    out.extend(ROW_PACK_FORMAT.to_le_bytes());
    postcard::to_extend(&list, out).map_err(|e| crate::Error::Malformed(format!("row pack: {e}")))
}

/// The rows of a [`pack_rows`] value; None for anything else (another format, damaged bytes).
pub fn unpack_rows(bytes: &[u8]) -> Option<Vec<(crate::DocId, StoredRow)>> {
    let body = bytes.strip_prefix(ROW_PACK_MAGIC.as_slice())?;
    let (format, body) = body.split_at_checked(4)?;
    if u32::from_le_bytes(format.try_into().ok()?) != ROW_PACK_FORMAT {
        return None;
    }
    let list: Vec<(crate::DocId, Packed)> = postcard::from_bytes(body).ok()?;
    Some(
        list.into_iter()
            .map(|(id, packed)| {
                let row = match packed {
                    Packed::Case(r) => StoredRow::Case(r),
                    Packed::Dispute(r) => StoredRow::Dispute(r),
                    Packed::Reception(r) => StoredRow::Reception(r),
                    Packed::Details(r) => StoredRow::Details(r),
                    Packed::Reference(r) => StoredRow::Reference(r),
                };
                (id, row)
            })
            .collect(),
    )
}
