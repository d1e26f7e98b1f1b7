//! The case as people read it: plain values hydrated from a case document.
//!
//! These types are what the screens and `lianxin device export` show. They are never written
//! back wholesale: edits go through [`crate::CaseDoc`], one field or entry at a time, so that
//! concurrent edits merge.

use serde::Serialize;

use crate::kit::schema::Code;
use crate::{
    Category, Channel, Date, DocId, EntryId, EveningOutcome, Form, Level, MatterKind, Outcome,
    Satisfaction, Source, StepKind, UnitId,
};

/// The fixed part of every document: what it is, who owns it, who made it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Header {
    pub id: DocId,
    pub schema: u64,
    pub kind: String,
    /// The units the document belongs to: the key for access control. Only ever grows.
    pub units: Vec<UnitId>,
    pub created_by: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

impl Header {
    /// The header of a document of any kind.
    pub fn of<D: automerge::ReadDoc>(doc: &D) -> Result<Header, crate::Error> {
        crate::kit::cells::read_header(doc)
    }
}

/// One petition matter 信访事项, hydrated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Case {
    pub header: Header,
    pub reference: Option<String>,
    pub channel: Option<Code<Channel>>,
    pub form: Option<Code<Form>>,
    pub people: Option<i64>,
    pub level: Option<Code<Level>>,
    pub source: Option<Code<Source>>,
    pub category: Option<Code<Category>>,
    /// `suggestion`, `accusation` or `request` (see [`crate::rules::route`]).
    pub matter_kind: Option<Code<MatterKind>>,
    pub responsible_unit: Option<UnitId>,
    pub handler: Option<String>,
    pub leader: Option<String>,
    pub archived: bool,
    pub summary: String,
    /// The notes written before notes had authors: one text, merged character by character.
    pub notes: String,
    /// Notes 工作记录, each with who wrote it, when and on which device, oldest first.
    pub note_entries: Vec<Note>,
    /// Photos and scanned pages, by content hash, in the order recorded.
    pub attachments: Vec<Attachment>,
    pub petitioners: Vec<Petitioner>,
    /// Lifecycle steps, ordered by date, then by when they were recorded.
    pub steps: Vec<Step>,
    /// Follow-up visits, ordered by date, then by when they were recorded.
    pub follow_ups: Vec<FollowUp>,
    /// Seven-evenings plan: its start and restarts, ordered by date.
    pub evening_starts: Vec<EveningStart>,
    /// One entry per evening logged (two visitors may log the same evening), ordered by date.
    pub evening_logs: Vec<EveningEntry>,
    /// How the seven-evenings plan ended (`resolved` or `continue`), once it has.
    pub evening_outcome: Option<Code<EveningOutcome>>,
    /// The petitioner's evaluations, oldest first; the latest counts.
    pub evaluations: Vec<Evaluation>,
    /// The leader's case package: the day it is to be resolved by (the leader is `leader`).
    pub package_due: Option<Date>,
    /// 四定四包's four people, in [`crate::FourRole::ALL`] order.
    pub four_people: [Option<String>; 4],
    /// Progress notes on package tasks, commitments and the four people, ordered by date.
    pub progress: Vec<Progress>,
    /// Units assisting in joint handling; the responsible unit leads.
    pub assisting: Vec<UnitId>,
    /// The campaigns 专项活动 the case is tagged to (ids of the reference data's campaigns).
    pub campaigns: Vec<EntryId>,
    /// Hardship aid, in the order recorded.
    pub aid: Vec<Aid>,
    /// Public evaluation hearings, ordered by date.
    pub hearings: Vec<Hearing>,
    /// The mediation dispute this case became, or came from.
    pub dispute: Option<DocId>,
    /// Single-value fields set differently on several devices and not yet chosen between.
    pub conflicts: Vec<Conflict>,
}

impl Case {
    /// The steps that count: those not withdrawn, in order.
    pub fn live_steps(&self) -> Vec<Step> {
        self.steps
            .iter()
            .filter(|s| s.withdrawn.is_none())
            .cloned()
            .collect()
    }

    /// The seven-evenings plan, for [`crate::fieldwork::evening_run`]; None without one.
    pub fn evening_plan(&self) -> Option<crate::fieldwork::EveningPlan> {
        if self.evening_starts.is_empty() {
            return None;
        }
        Some(crate::fieldwork::EveningPlan {
            starts: self.evening_starts.iter().map(|s| s.on).collect(),
            logs: self
                .evening_logs
                .iter()
                .map(|l| crate::fieldwork::EveningLog {
                    on: l.on,
                    held: l.held,
                })
                .collect(),
        })
    }

    /// The evaluation that counts: the latest by date, then by when it was recorded.
    pub fn evaluation(&self) -> Option<&Evaluation> {
        self.evaluations.last()
    }

    /// Fills in the petitioners' ID numbers, phones and addresses from the case's details
    /// document (on a device of a unit that handles the case).
    pub fn with_details(&mut self, details: &crate::Details) {
        for p in &mut self.petitioners {
            if let Some(d) = details.of(&p.id) {
                p.id_number = d.id_number.clone();
                p.phone = d.phone.clone();
                p.address = d.address.clone();
            }
        }
    }

    /// The day the matter was received (the day the document was made, in China).
    pub fn received(&self) -> Date {
        Date::from_unix_ms_china(self.header.created_at)
    }

    /// What repeat linking compares of this case (see [`crate::fieldwork::repeats`]).
    pub fn matter_key(&self) -> crate::fieldwork::MatterKey {
        crate::fieldwork::MatterKey {
            case: self.header.id.to_string(),
            registered: self.received(),
            category: self.category.clone(),
            petitioners: self
                .petitioners
                .iter()
                .map(|p| {
                    crate::fieldwork::PersonKey::of(&crate::fieldwork::Identity {
                        name: p.name.clone(),
                        id_number: p.id_number.clone(),
                        phone: p.phone.clone(),
                    })
                })
                .collect(),
        }
    }

    /// A task's or commitment's notes so far and whether the latest says it is done.
    pub fn track(&self, track: &str) -> (Vec<&Progress>, bool) {
        let notes: Vec<&Progress> = self.progress.iter().filter(|p| p.track == track).collect();
        let done = notes.last().is_some_and(|p| p.done);
        (notes, done)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Progress {
    pub id: EntryId,
    /// A package task, commitment or four-people role code.
    pub track: String,
    pub on: Date,
    pub text: String,
    pub done: bool,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aid {
    pub id: EntryId,
    /// Yuan.
    pub amount: i64,
    pub reason: String,
    pub approved_by: String,
    pub approved_on: Option<Date>,
    pub paid_on: Option<Date>,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hearing {
    pub id: EntryId,
    pub on: Date,
    pub participants: String,
    pub conclusion: String,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EveningStart {
    pub id: EntryId,
    pub on: Date,
    pub visitors: String,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EveningEntry {
    pub id: EntryId,
    pub on: Date,
    pub held: bool,
    pub time: Option<String>,
    pub talk: String,
    pub attitude: Option<String>,
    pub agreement: Option<String>,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub id: EntryId,
    pub on: Date,
    /// Satisfaction with the petition office.
    pub office: Code<Satisfaction>,
    /// Satisfaction with the responsible unit.
    pub unit: Code<Satisfaction>,
    pub by: String,
    pub at: i64,
}

/// A petitioner. The ID number, phone and address are in full only when the case was read
/// with its details document ([`Case::with_details`], on a handling unit's device); `masked`
/// is what everyone who sees the case sees.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Petitioner {
    pub id: EntryId,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub masked: Masked,
}

/// A petitioner's details as the case itself keeps them: 4101**********1234, 138****5678.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Masked {
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl Petitioner {
    /// A new petitioner (for [`crate::CaseDoc::add_petitioner`]).
    pub fn new(
        name: &str,
        id_number: Option<String>,
        phone: Option<String>,
        address: Option<String>,
    ) -> Petitioner {
        Petitioner {
            id: EntryId::random(),
            name: name.to_string(),
            id_number,
            phone,
            address,
            masked: Masked::default(),
        }
    }

    /// A detail (`id_number`, `phone` or `address`) as this device may show it: in full with
    /// the details, else masked.
    pub fn shown(&self, key: &str) -> Option<&str> {
        let (full, masked) = match key {
            "id_number" => (&self.id_number, &self.masked.id_number),
            "phone" => (&self.phone, &self.masked.phone),
            _ => (&self.address, &self.masked.address),
        };
        full.as_deref().or(masked.as_deref())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub id: EntryId,
    pub kind: Code<StepKind>,
    pub on: Date,
    pub reason: Option<String>,
    pub outcome: Option<Code<Outcome>>,
    pub by: String,
    pub at: i64,
    /// Withdrawn as wrong: struck through, left out of the lifecycle.
    pub withdrawn: Option<Withdrawn>,
}

/// Who withdrew a step, when, why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Withdrawn {
    pub by: String,
    pub at: i64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attachment {
    pub id: EntryId,
    /// SHA-256 of the bytes, 64 lower-case hex digits: the bytes' name on devices and server.
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Note {
    pub id: EntryId,
    pub text: String,
    pub by: String,
    pub at: i64,
    /// The device (Automerge actor, hex) that wrote it.
    pub device: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FollowUp {
    pub id: EntryId,
    pub on: Date,
    pub text: String,
    pub place: Option<String>,
    pub visitors: Option<String>,
    pub met: Option<String>,
    pub attitude: Option<String>,
    pub outcome: Option<String>,
    pub next_step: Option<String>,
    pub by: String,
    pub at: i64,
    /// The device (Automerge actor, hex) that recorded the entry.
    pub device: String,
}

/// A single-value field with competing values. `values[0]` is the one shown until someone
/// chooses; the choice is an ordinary edit that supersedes all of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conflict {
    pub field: String,
    pub values: Vec<ConflictValue>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConflictValue {
    pub value: serde_json::Value,
    pub by: String,
    /// Milliseconds since the Unix epoch, as the setting device's clock said.
    pub at: i64,
    /// The device (Automerge actor, hex) whose change set it; the server checks actors, so
    /// this is trustworthy.
    pub device: String,
}
