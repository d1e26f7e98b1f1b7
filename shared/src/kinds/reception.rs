//! A leader's reception day 领导接访/下沉接访: a leader sits at a township reception room on a
//! set day. Its own document (header kind `reception`), synced and seen by unit like a case:
//! the day, leader and place as single values; the matters received and the appointments
//! booked ahead 预约接访 as entry lists (both devices' entries kept). The log's counts — matters
//! and people received, resolved on the spot, given a deadline — are worked out from the
//! matters, and a received matter becomes a case in one step ([`ReceptionDoc::matter_to_case`]).

use automerge::{ActorId, AutoCommit, ScalarValue};
use serde::Serialize;

use crate::kit::cells::{Singles, commit, new_document, read_header, set_field};
use crate::kit::schema::{
    AT, BY, Code, ID, KindDecl, LINE, LINE_CHARS, ListDecl, TextDecl, ValueType, opt, read_list,
    record_entry, req, update_entry,
};
use crate::{
    CaseDoc, CaseDraft, Channel, Conflict, Date, DocId, Editor, EntryId, Error, Header,
    ReceivedOutcome, UnitId,
};

const SHORT: ValueType = ValueType::Para { max: LINE_CHARS };

pub(crate) const MATTERS: ListDecl = ListDecl {
    name: "matters",
    entry: &[
        ID,
        req("summary", ValueType::Para { max: 5_000 }),
        req(
            "people",
            ValueType::Int {
                min: 1,
                max: 100_000,
                what: "people",
            },
        ),
        req("petitioner", LINE),
        opt("phone", SHORT),
        req("outcome", ValueType::Code(&ReceivedOutcome::VOCAB)),
        opt("due", ValueType::Date),
        opt("case", ValueType::Doc),
        BY,
        AT,
    ],
};
pub(crate) const APPOINTMENTS: ListDecl = ListDecl {
    name: "appointments",
    entry: &[
        ID,
        req("name", LINE),
        opt("phone", SHORT),
        req("matter", ValueType::Para { max: 5_000 }),
        BY,
        AT,
    ],
};

/// A leader's reception day: the declaration creation, reading and the server's check share.
pub static RECEPTION: KindDecl = KindDecl {
    name: "reception",
    fields: &[
        opt("on", ValueType::Date),
        opt("leader", LINE),
        opt("place", LINE),
    ],
    texts: &[TextDecl {
        name: "summary",
        max: 5_000,
    }],
    lists: &[MATTERS, APPOINTMENTS],
    sets: &[],
};

fn text(s: &str) -> ScalarValue {
    ScalarValue::Str(s.into())
}

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
    pub outcome: Code<ReceivedOutcome>,
    pub due: Option<Date>,
    /// The case it became.
    pub case: Option<DocId>,
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
        let doc = new_document(&RECEPTION, draft.id, &draft.unit, &summary, editor, actor);
        let mut r = ReceptionDoc { doc };
        set_field(
            &mut r.doc,
            &RECEPTION,
            "on",
            text(&draft.on.to_string()),
            editor,
        )?;
        set_field(
            &mut r.doc,
            &RECEPTION,
            "leader",
            text(draft.leader.trim()),
            editor,
        )?;
        set_field(
            &mut r.doc,
            &RECEPTION,
            "place",
            text(draft.place.trim()),
            editor,
        )?;
        commit(&mut r.doc, editor);
        Ok(r)
    }

    pub fn from_doc(doc: AutoCommit) -> Result<ReceptionDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != RECEPTION.name {
            return Err(Error::WrongKind(format!(
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
        let mut values = vec![
            ("summary", text(m.summary.trim())),
            ("people", ScalarValue::Int(m.people)),
            ("petitioner", text(m.petitioner.trim())),
            ("outcome", text(m.outcome.code())),
        ];
        if let Some(p) = m.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            values.push(("phone", text(p)));
        }
        if let (ReceivedOutcome::Deadline, Some(due)) = (m.outcome, m.due) {
            values.push(("due", text(&due.to_string())));
        }
        record_entry(&mut self.doc, &MATTERS, editor, &values)
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
        let mut values = vec![("name", text(name.trim())), ("matter", text(matter.trim()))];
        if let Some(p) = phone.map(str::trim).filter(|p| !p.is_empty()) {
            values.push(("phone", text(p)));
        }
        record_entry(&mut self.doc, &APPOINTMENTS, editor, &values)
    }

    /// Makes a received matter a case in one step: the summary, the people, the petitioner
    /// (the phone in the case's details document, shared with the day's unit and `others`, see
    /// [`crate::handling_units`]), registered on the reception day; the matter then says it
    /// became that case.
    pub fn matter_to_case(
        &mut self,
        editor: &Editor,
        matter: &EntryId,
        actor: ActorId,
        others: &[UnitId],
    ) -> Result<(CaseDoc, crate::DetailsDoc), Error> {
        let r = self.read()?;
        let m = r
            .matters
            .iter()
            .find(|m| &m.id == matter)
            .ok_or_else(|| Error::NoSuchEntry(matter.to_string()))?;
        if let Some(case) = &m.case {
            return Err(Error::InvalidValue {
                field: "case".into(),
                value: case.to_string(),
                reason: "this matter is already a case".into(),
            });
        }
        let unit = r.header.units[0].clone();
        let draft = CaseDraft::new(unit, Channel::Visit, &m.summary);
        let (mut case, mut details) = CaseDoc::create_with_details(&draft, others, editor, actor);
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
            &crate::Petitioner::new(&m.petitioner, None, m.phone.clone(), None),
            Some(&mut details),
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
        let (id, cases) = (matter.as_str(), &MATTERS);
        update_entry(
            &mut self.doc,
            cases,
            id,
            "case",
            Some(text(&draft.id.to_string())),
        )?;
        let outcome = Some(text(ReceivedOutcome::Case.code()));
        update_entry(&mut self.doc, cases, id, "outcome", outcome)?;
        commit(&mut self.doc, editor);
        Ok((case, details))
    }

    pub fn read(&self) -> Result<Reception, Error> {
        let doc = &self.doc;
        let header = read_header(doc)?;
        let mut f = Singles::new(doc);
        let mut matters: Vec<Matter> = read_list(doc, &MATTERS)
            .filter_map(|e| {
                Some(Matter {
                    id: e.id(),
                    summary: e.text("summary"),
                    people: e.int("people").unwrap_or(1),
                    petitioner: e.text("petitioner"),
                    phone: e.str("phone"),
                    outcome: e.code("outcome")?,
                    due: e.date("due"),
                    case: e.str("case").and_then(|c| c.parse().ok()),
                    by: e.by(),
                    at: e.at(),
                })
            })
            .collect();
        matters.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut appointments: Vec<Appointment> = read_list(doc, &APPOINTMENTS)
            .map(|e| Appointment {
                id: e.id(),
                name: e.text("name"),
                phone: e.str("phone"),
                matter: e.text("matter"),
                by: e.by(),
                at: e.at(),
            })
            .collect();
        appointments.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let count = |o: ReceivedOutcome| matters.iter().filter(|m| m.outcome.is(o)).count();
        let tally = Tally {
            matters: matters.len(),
            people: matters.iter().map(|m| m.people).sum(),
            on_the_spot: count(ReceivedOutcome::OnTheSpot),
            deadline: count(ReceivedOutcome::Deadline),
            cases: matters.iter().filter(|m| m.case.is_some()).count(),
        };
        Ok(Reception {
            header,
            on: f.date("on"),
            leader: f.text("leader"),
            place: f.text("place"),
            matters,
            appointments,
            tally,
            conflicts: f.conflicts,
        })
    }
}
