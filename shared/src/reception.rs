//! A leader's reception day 领导接访/下沉接访: a leader sits at a township reception room on a
//! set day. Its own document (header kind `reception`), synced and seen by unit like a case:
//! the day, leader and place as single values; the matters received and the appointments
//! booked ahead 预约接访 as entry lists (both devices' entries kept). The log's counts — matters
//! and people received, resolved on the spot, given a deadline — are worked out from the
//! matters, and a received matter becomes a case in one step ([`ReceptionDoc::matter_to_case`]).

use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
use serde::Serialize;

use crate::document::{
    Singles, append_entry, commit, entries, new_document, put_by, put_cell, read_header, str_at,
    time_at,
};
use crate::vocab::ReceivedOutcome;
use crate::{
    CaseDoc, CaseDraft, Channel, Conflict, Date, DocId, Editor, EntryId, Error, Header, UnitId,
};

pub const KIND_RECEPTION: &str = "reception";

#[derive(Clone, Debug)]
pub struct ReceptionDraft {
    pub id: DocId,
    pub unit: UnitId,
    pub on: Date,
    pub leader: String,
    pub place: String,
}

/// A matter received on the day.
#[derive(Clone, Debug)]
pub struct MatterDraft {
    pub summary: String,
    pub people: i64,
    pub petitioner: String,
    pub phone: Option<String>,
    /// `on_the_spot` or `deadline` (a matter becomes a `case` with [`ReceptionDoc::matter_to_case`]).
    pub outcome: ReceivedOutcome,
    /// For `deadline`: the day it is to be resolved by.
    pub due: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matter {
    pub id: EntryId,
    pub summary: String,
    pub people: i64,
    pub petitioner: String,
    pub phone: Option<String>,
    pub outcome: String,
    pub due: Option<Date>,
    /// The case it became.
    pub case: Option<String>,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Appointment {
    pub id: EntryId,
    pub name: String,
    pub phone: Option<String>,
    pub matter: String,
    pub by: String,
    pub at: i64,
}

/// The day's log, counted from its matters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Tally {
    pub matters: usize,
    pub people: i64,
    pub on_the_spot: usize,
    pub deadline: usize,
    pub cases: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reception {
    pub header: Header,
    pub on: Option<Date>,
    pub leader: Option<String>,
    pub place: Option<String>,
    pub matters: Vec<Matter>,
    pub appointments: Vec<Appointment>,
    pub tally: Tally,
    pub conflicts: Vec<Conflict>,
}

#[derive(Clone, Debug)]
pub struct ReceptionDoc {
    doc: AutoCommit,
}

impl ReceptionDoc {
    pub fn create(
        draft: &ReceptionDraft,
        editor: &Editor,
        actor: ActorId,
    ) -> Result<ReceptionDoc, Error> {
        for (field, value) in [("leader", &draft.leader), ("place", &draft.place)] {
            if value.trim().is_empty() {
                return Err(Error::InvalidValue {
                    field: field.into(),
                    value: String::new(),
                    reason: format!("a reception day names its {field}"),
                });
            }
        }
        let summary = format!(
            "{} {} {}",
            draft.on,
            draft.leader.trim(),
            draft.place.trim()
        );
        let doc = new_document(
            KIND_RECEPTION,
            draft.id,
            &draft.unit,
            &summary,
            editor,
            actor,
            |doc| {
                doc.put_object(ROOT, "matters", ObjType::List)?;
                doc.put_object(ROOT, "appointments", ObjType::List)?;
                Ok(())
            },
        );
        let mut r = ReceptionDoc { doc };
        put_cell(&mut r.doc, "on", draft.on.to_string(), editor)?;
        put_cell(&mut r.doc, "leader", draft.leader.trim(), editor)?;
        put_cell(&mut r.doc, "place", draft.place.trim(), editor)?;
        commit(&mut r.doc, editor);
        Ok(r)
    }

    pub fn from_doc(doc: AutoCommit) -> Result<ReceptionDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != KIND_RECEPTION {
            return Err(Error::NotACase(format!(
                "a {} is not a reception day",
                header.kind
            )));
        }
        Ok(ReceptionDoc { doc })
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }

    /// Records a matter received; a matter given a deadline needs the day.
    pub fn receive(&mut self, editor: &Editor, m: &MatterDraft) -> Result<EntryId, Error> {
        let invalid = |field: &str, value: String, reason: &str| Error::InvalidValue {
            field: field.into(),
            value,
            reason: reason.into(),
        };
        if m.summary.trim().is_empty() {
            return Err(invalid(
                "summary",
                String::new(),
                "a matter says what was asked",
            ));
        }
        if m.petitioner.trim().is_empty() {
            return Err(invalid(
                "petitioner",
                String::new(),
                "a matter names who came",
            ));
        }
        if !(1..=100_000).contains(&m.people) {
            return Err(invalid(
                "people",
                m.people.to_string(),
                "expected 1 to 100000 people",
            ));
        }
        match (m.outcome, m.due) {
            (ReceivedOutcome::Case, _) => {
                return Err(invalid(
                    "outcome",
                    "case".into(),
                    "receive it, then make it a case",
                ));
            }
            (ReceivedOutcome::Deadline, None) => {
                return Err(invalid(
                    "due",
                    String::new(),
                    "a matter given a deadline needs the day",
                ));
            }
            _ => {}
        }
        let entry = append_entry(&mut self.doc, "matters")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "summary", m.summary.trim())?;
        self.doc.put(&entry, "people", m.people)?;
        self.doc.put(&entry, "petitioner", m.petitioner.trim())?;
        if let Some(p) = m.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            self.doc.put(&entry, "phone", p)?;
        }
        self.doc.put(&entry, "outcome", m.outcome.code())?;
        if let (ReceivedOutcome::Deadline, Some(due)) = (m.outcome, m.due) {
            self.doc.put(&entry, "due", due.to_string())?;
        }
        put_by(&mut self.doc, &entry, editor)?;
        commit(&mut self.doc, editor);
        Ok(id)
    }

    /// Books someone in ahead of the day.
    pub fn book(
        &mut self,
        editor: &Editor,
        name: &str,
        phone: Option<&str>,
        matter: &str,
    ) -> Result<EntryId, Error> {
        if name.trim().is_empty() || matter.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "appointment".into(),
                value: String::new(),
                reason: "an appointment names who comes and about what".into(),
            });
        }
        let entry = append_entry(&mut self.doc, "appointments")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "name", name.trim())?;
        if let Some(p) = phone.map(str::trim).filter(|p| !p.is_empty()) {
            self.doc.put(&entry, "phone", p)?;
        }
        self.doc.put(&entry, "matter", matter.trim())?;
        put_by(&mut self.doc, &entry, editor)?;
        commit(&mut self.doc, editor);
        Ok(id)
    }

    /// Makes a received matter a case in one step: the summary, the people, the petitioner,
    /// registered on the reception day; the matter then says it became that case.
    pub fn matter_to_case(
        &mut self,
        editor: &Editor,
        matter: &EntryId,
        actor: ActorId,
    ) -> Result<CaseDoc, Error> {
        let r = self.read()?;
        let m = r
            .matters
            .iter()
            .find(|m| &m.id == matter)
            .ok_or_else(|| Error::NoSuchEntry(matter.to_string()))?;
        if let Some(case) = &m.case {
            return Err(Error::InvalidValue {
                field: "case".into(),
                value: case.clone(),
                reason: "this matter is already a case".into(),
            });
        }
        let unit = r.header.units[0].clone();
        let draft = CaseDraft::new(unit, Channel::Visit, &m.summary);
        let mut case = CaseDoc::create(&draft, editor, actor);
        let form = if m.people >= 5 {
            "collective"
        } else {
            "individual"
        };
        case.set(crate::Field::Form, form, editor)?;
        case.set(crate::Field::People, &m.people.to_string(), editor)?;
        if let Some(leader) = &r.leader {
            case.set(crate::Field::Leader, leader, editor)?;
        }
        case.add_petitioner(
            editor,
            &crate::Petitioner {
                id: EntryId::random(),
                name: m.petitioner.clone(),
                id_number: None,
                phone: m.phone.clone(),
                address: None,
            },
        )?;
        if let Some(on) = r.on {
            case.add_step(
                editor,
                &crate::StepDraft {
                    kind: crate::StepKind::Registered,
                    on,
                    reason: None,
                    outcome: None,
                },
            )?;
        }
        let entry = entries(&self.doc, "matters")
            .find(|e| str_at(&self.doc, e, "id").as_deref() == Some(matter.as_str()))
            .ok_or_else(|| Error::NoSuchEntry(matter.to_string()))?;
        self.doc.put(&entry, "case", draft.id.to_string())?;
        self.doc
            .put(&entry, "outcome", ReceivedOutcome::Case.code())?;
        commit(&mut self.doc, editor);
        Ok(case)
    }

    pub fn read(&self) -> Result<Reception, Error> {
        let doc = &self.doc;
        let header = read_header(doc)?;
        let mut singles = Singles::new(doc);
        let mut single = |name: &str| singles.text(name);
        let on = single("on").and_then(|d| d.parse().ok());
        let leader = single("leader");
        let place = single("place");
        let mut matters: Vec<Matter> = entries(doc, "matters")
            .filter_map(|e| {
                Some(Matter {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    summary: str_at(doc, &e, "summary").unwrap_or_default(),
                    people: match doc.get(&e, "people") {
                        Ok(Some((automerge::Value::Scalar(v), _))) => v.as_i64().unwrap_or(1),
                        _ => 1,
                    },
                    petitioner: str_at(doc, &e, "petitioner").unwrap_or_default(),
                    phone: str_at(doc, &e, "phone"),
                    outcome: str_at(doc, &e, "outcome").unwrap_or_default(),
                    due: str_at(doc, &e, "due").and_then(|d| d.parse().ok()),
                    case: str_at(doc, &e, "case"),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        matters.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut appointments: Vec<Appointment> = entries(doc, "appointments")
            .filter_map(|e| {
                Some(Appointment {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    name: str_at(doc, &e, "name").unwrap_or_default(),
                    phone: str_at(doc, &e, "phone"),
                    matter: str_at(doc, &e, "matter").unwrap_or_default(),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        appointments.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let tally = Tally {
            matters: matters.len(),
            people: matters.iter().map(|m| m.people).sum(),
            on_the_spot: matters
                .iter()
                .filter(|m| m.outcome == "on_the_spot")
                .count(),
            deadline: matters.iter().filter(|m| m.outcome == "deadline").count(),
            cases: matters.iter().filter(|m| m.case.is_some()).count(),
        };
        Ok(Reception {
            header,
            on,
            leader,
            place,
            matters,
            appointments,
            tally,
            conflicts: singles.conflicts,
        })
    }
}
