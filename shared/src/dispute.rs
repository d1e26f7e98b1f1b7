//! A dispute 矛盾纠纷 found by daily screening and mediated at the lowest level that can resolve
//! it: its own Automerge document (header kind `dispute`), synced, checked and seen by unit
//! exactly like a case.
//!
//! Parties and sessions are lists of entries (both devices' entries kept); kind, committee,
//! level, mediator and result are single values (a conflict shows both); the agreement and the
//! summary are text (merged). Escalation moves the level up one step and records who and when.
//! A dispute can become a case ([`DisputeDoc::make_case`]) and a case can go to mediation
//! ([`DisputeDoc::from_case`]); each then names the other.

use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc, Value, transaction::Transactable};
use serde::Serialize;

use crate::document::{
    Singles, append_entry, commit, entries, new_document, put_by, put_cell, read_header, str_at,
    text_at, time_at,
};
use crate::vocab::{Committee, MediationKind, MediationLevel, MediationResult};
use crate::{
    Case, CaseDoc, CaseDraft, Channel, Conflict, Date, DocId, Editor, EntryId, Error, Header,
    UnitId,
};

pub const KIND_DISPUTE: &str = "dispute";

/// A single-value field of a dispute.
const FIELDS: &[&str] = &["kind", "committee", "level", "mediator", "result", "case"];

/// A new dispute as registered from screening.
#[derive(Clone, Debug)]
pub struct DisputeDraft {
    pub id: DocId,
    pub unit: UnitId,
    pub summary: String,
    pub kind: MediationKind,
    pub committee: Committee,
    pub level: MediationLevel,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Party {
    pub id: EntryId,
    pub name: String,
    /// 申请人 / 被申请人 or free text.
    pub role: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Session {
    pub id: EntryId,
    pub on: Date,
    pub mediator: String,
    pub text: String,
    pub by: String,
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Escalation {
    pub id: EntryId,
    pub on: Date,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

/// A dispute, hydrated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dispute {
    pub header: Header,
    pub summary: String,
    pub kind: Option<String>,
    pub committee: Option<String>,
    /// The level it is mediated at now (raised by escalations).
    pub level: Option<String>,
    pub mediator: Option<String>,
    pub result: Option<String>,
    /// The case this dispute became, or came from.
    pub case: Option<String>,
    pub agreement: String,
    pub parties: Vec<Party>,
    pub sessions: Vec<Session>,
    pub escalations: Vec<Escalation>,
    pub conflicts: Vec<Conflict>,
}

#[derive(Clone, Debug)]
pub struct DisputeDoc {
    doc: AutoCommit,
}

impl DisputeDoc {
    pub fn create(draft: &DisputeDraft, editor: &Editor, actor: ActorId) -> DisputeDoc {
        let doc = new_document(
            KIND_DISPUTE,
            draft.id,
            &draft.unit,
            &draft.summary,
            editor,
            actor,
            |doc| {
                doc.put_object(ROOT, "agreement", ObjType::Text)?;
                for list in ["parties", "sessions", "escalations"] {
                    doc.put_object(ROOT, list, ObjType::List)?;
                }
                Ok(())
            },
        );
        let mut d = DisputeDoc { doc };
        for (field, value) in [
            ("kind", draft.kind.code()),
            ("committee", draft.committee.code()),
            ("level", draft.level.code()),
        ] {
            let _ = d.put_single(field, value, editor);
        }
        d.commit(editor);
        d
    }

    /// Wraps a document, checking that it is a dispute.
    pub fn from_doc(doc: AutoCommit) -> Result<DisputeDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != KIND_DISPUTE {
            return Err(Error::NotACase(format!(
                "a {} is not a dispute",
                header.kind
            )));
        }
        Ok(DisputeDoc { doc })
    }

    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    /// Sets kind, committee, level, mediator or result (vocabulary codes; the mediator is a
    /// name), checked.
    pub fn set(&mut self, field: &str, value: &str, editor: &Editor) -> Result<(), Error> {
        let value = value.trim();
        let checked = match field {
            "kind" => MediationKind::parse(value)?.code().to_string(),
            "committee" => Committee::parse(value)?.code().to_string(),
            "level" => MediationLevel::parse(value)?.code().to_string(),
            "result" => MediationResult::parse(value)?.code().to_string(),
            "mediator" if !value.is_empty() && value.chars().count() <= 200 => value.to_string(),
            "mediator" => {
                return Err(Error::InvalidValue {
                    field: field.into(),
                    value: value.into(),
                    reason: "expected 1 to 200 characters".into(),
                });
            }
            _ => {
                return Err(Error::UnknownField(
                    field.into(),
                    "kind, committee, level, mediator, result".into(),
                ));
            }
        };
        self.put_single(field, &checked, editor)?;
        self.commit(editor);
        Ok(())
    }

    pub fn set_agreement(&mut self, text: &str, editor: &Editor) -> Result<(), Error> {
        let agreement = match self.doc.get(ROOT, "agreement")? {
            Some((Value::Object(ObjType::Text), id)) => id,
            _ => return Err(Error::NotACase("no agreement text".into())),
        };
        self.doc.update_text(&agreement, text)?;
        self.commit(editor);
        Ok(())
    }

    pub fn add_party(
        &mut self,
        editor: &Editor,
        name: &str,
        role: Option<&str>,
        phone: Option<&str>,
    ) -> Result<EntryId, Error> {
        if name.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "name".into(),
                value: String::new(),
                reason: "a party has a name".into(),
            });
        }
        let entry = self.append("parties")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "name", name.trim())?;
        for (key, value) in [("role", role), ("phone", phone)] {
            if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
                self.doc.put(&entry, key, v)?;
            }
        }
        self.commit(editor);
        Ok(id)
    }

    /// A mediation session: when, who mediated, what happened.
    pub fn add_session(
        &mut self,
        editor: &Editor,
        on: Date,
        mediator: &str,
        text: &str,
    ) -> Result<EntryId, Error> {
        if text.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "session".into(),
                value: String::new(),
                reason: "a session says what happened".into(),
            });
        }
        let entry = self.append("sessions")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "mediator", mediator.trim())?;
        self.doc.put(&entry, "text", text.trim())?;
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Sends the dispute one level up (village group → village → township → city joint
    /// conference → party standing committee), with the reason; the result becomes
    /// "escalated" until the higher level records its own.
    pub fn escalate(&mut self, editor: &Editor, on: Date, reason: &str) -> Result<String, Error> {
        let current = self.read()?.level.unwrap_or_else(|| "group".into());
        let from = MediationLevel::parse(&current)?;
        let position = MediationLevel::ALL
            .iter()
            .position(|l| *l == from)
            .unwrap_or(0);
        let Some(to) = MediationLevel::ALL.get(position + 1).copied() else {
            return Err(Error::InvalidValue {
                field: "level".into(),
                value: current,
                reason: "already at the highest level".into(),
            });
        };
        if reason.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "reason".into(),
                value: String::new(),
                reason: "an escalation gives its reason".into(),
            });
        }
        let entry = self.append("escalations")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "from", from.code())?;
        self.doc.put(&entry, "to", to.code())?;
        self.doc.put(&entry, "reason", reason.trim())?;
        self.put_by(&entry, editor)?;
        self.put_single("level", to.code(), editor)?;
        self.put_single("result", MediationResult::Escalated.code(), editor)?;
        self.commit(editor);
        Ok(to.code().to_string())
    }

    /// The case this dispute becomes (same unit, the summary and parties carried over); the
    /// dispute then names it. Store the returned case as a new document.
    pub fn make_case(&mut self, editor: &Editor, actor: ActorId) -> Result<CaseDoc, Error> {
        let dispute = self.read()?;
        if let Some(case) = &dispute.case {
            return Err(Error::InvalidValue {
                field: "case".into(),
                value: case.clone(),
                reason: "this dispute is already linked to a case".into(),
            });
        }
        let unit = dispute.header.units[0].clone();
        let draft = CaseDraft::new(unit, Channel::Visit, &dispute.summary);
        let mut case = CaseDoc::create(&draft, editor, actor);
        for p in &dispute.parties {
            case.add_petitioner(
                editor,
                &crate::Petitioner {
                    id: EntryId::random(),
                    name: p.name.clone(),
                    id_number: None,
                    phone: p.phone.clone(),
                    address: None,
                },
            )?;
        }
        case.set(
            crate::Field::Dispute,
            &dispute.header.id.to_string(),
            editor,
        )?;
        self.put_single("case", &draft.id.to_string(), editor)?;
        self.commit(editor);
        Ok(case)
    }

    /// A dispute for a case sent to mediation: the case's unit, summary and petitioners; the
    /// case is marked as sent (set its `dispute` field from the returned document's id).
    pub fn from_case(
        case: &mut CaseDoc,
        editor: &Editor,
        actor: ActorId,
        committee: Committee,
    ) -> Result<DisputeDoc, Error> {
        let c: Case = case.read()?;
        if let Some(d) = &c.dispute {
            return Err(Error::InvalidValue {
                field: "dispute".into(),
                value: d.clone(),
                reason: "this case is already in mediation".into(),
            });
        }
        let unit = c
            .responsible_unit
            .as_deref()
            .and_then(|u| UnitId::new(u).ok())
            .unwrap_or_else(|| c.header.units[0].clone());
        let draft = DisputeDraft {
            id: DocId::random(),
            unit,
            summary: c.summary.clone(),
            kind: MediationKind::People,
            committee,
            level: MediationLevel::Township,
        };
        let mut dispute = DisputeDoc::create(&draft, editor, actor);
        for p in &c.petitioners {
            dispute.add_party(editor, &p.name, Some("申请人"), p.phone.as_deref())?;
        }
        dispute.put_single("case", &c.header.id.to_string(), editor)?;
        dispute.commit(editor);
        case.set(crate::Field::Dispute, &draft.id.to_string(), editor)?;
        Ok(dispute)
    }

    pub fn read(&self) -> Result<Dispute, Error> {
        let doc = &self.doc;
        let header = read_header(doc)?;
        let mut singles = Singles::new(doc);
        let mut single = |name: &str| singles.text(name);
        let [kind, committee, level, mediator, result, case] =
            [0, 1, 2, 3, 4, 5].map(|i| single(FIELDS[i]));
        let parties = entries(doc, "parties")
            .filter_map(|e| {
                Some(Party {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    name: str_at(doc, &e, "name").unwrap_or_default(),
                    role: str_at(doc, &e, "role"),
                    phone: str_at(doc, &e, "phone"),
                })
            })
            .collect();
        let mut sessions: Vec<Session> = entries(doc, "sessions")
            .filter_map(|e| {
                Some(Session {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    mediator: str_at(doc, &e, "mediator").unwrap_or_default(),
                    text: str_at(doc, &e, "text").unwrap_or_default(),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        sessions.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let mut escalations: Vec<Escalation> = entries(doc, "escalations")
            .filter_map(|e| {
                Some(Escalation {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    from: str_at(doc, &e, "from")?,
                    to: str_at(doc, &e, "to")?,
                    reason: str_at(doc, &e, "reason").unwrap_or_default(),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        escalations.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        Ok(Dispute {
            header,
            summary: text_at(doc, &ROOT, "summary"),
            kind,
            committee,
            level,
            mediator,
            result,
            case,
            agreement: text_at(doc, &ROOT, "agreement"),
            parties,
            sessions,
            escalations,
            conflicts: singles.conflicts,
        })
    }

    fn put_single(&mut self, field: &str, value: &str, editor: &Editor) -> Result<(), Error> {
        put_cell(&mut self.doc, field, value, editor)
    }

    fn append(&mut self, key: &str) -> Result<automerge::ObjId, Error> {
        append_entry(&mut self.doc, key)
    }

    fn put_by(&mut self, entry: &automerge::ObjId, editor: &Editor) -> Result<(), Error> {
        put_by(&mut self.doc, entry, editor)
    }

    fn commit(&mut self, editor: &Editor) {
        commit(&mut self.doc, editor)
    }
}
