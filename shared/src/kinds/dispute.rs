//! A dispute 矛盾纠纷 found by daily screening and mediated at the lowest level that can resolve
//! it: its own Automerge document (header kind `dispute`), synced, checked and seen by unit
//! exactly like a case.
//!
//! Parties and sessions are lists of entries (both devices' entries kept); kind, committee,
//! level, mediator and result are single values (a conflict shows both); the agreement and the
//! summary are text (merged). Escalation moves the level up one step and records who and when.
//! A dispute can become a case ([`DisputeDoc::make_case`]) and a case can go to mediation
//! ([`DisputeDoc::from_case`]); each then names the other.

use automerge::{
    ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde::Serialize;

use crate::kit::cells::{
    Singles, commit, new_document, read_header, set_field, set_field_text, text_at,
};
use crate::kit::schema::{
    AT, BY, Code, ID, KindDecl, LINE, LINE_CHARS, ListDecl, TextDecl, ValueType, opt, push_entry,
    read_list, record_entry, req,
};
use crate::{
    Case, CaseDoc, CaseDraft, Channel, Committee, Conflict, Date, DocId, Editor, EntryId, Error,
    Header, MediationKind, MediationLevel, MediationResult, UnitId,
};

const SHORT: ValueType = ValueType::Para { max: LINE_CHARS };
const PARA: ValueType = ValueType::Para { max: 10_000 };

pub(crate) const PARTIES: ListDecl = ListDecl {
    name: "parties",
    entry: &[
        ID,
        req("name", LINE),
        opt("role", SHORT),
        opt("phone", SHORT),
    ],
};
pub(crate) const SESSIONS: ListDecl = ListDecl {
    name: "sessions",
    entry: &[
        ID,
        req("on", ValueType::Date),
        opt("mediator", SHORT),
        req("text", PARA),
        BY,
        AT,
    ],
};
pub(crate) const ESCALATIONS: ListDecl = ListDecl {
    name: "escalations",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("from", ValueType::Code(&MediationLevel::VOCAB)),
        req("to", ValueType::Code(&MediationLevel::VOCAB)),
        req("reason", PARA),
        BY,
        AT,
    ],
};

/// A mediation dispute: the declaration creation, reading and the server's check share.
pub static DISPUTE: KindDecl = KindDecl {
    name: "dispute",
    fields: &[
        opt("kind", ValueType::Code(&MediationKind::VOCAB)),
        opt("committee", ValueType::Code(&Committee::VOCAB)),
        opt("level", ValueType::Code(&MediationLevel::VOCAB)),
        opt("mediator", LINE),
        opt("result", ValueType::Code(&MediationResult::VOCAB)),
        opt("case", ValueType::Doc),
    ],
    texts: &[
        TextDecl {
            name: "summary",
            max: 5_000,
        },
        TextDecl {
            name: "agreement",
            max: 20_000,
        },
    ],
    lists: &[PARTIES, SESSIONS, ESCALATIONS],
    sets: &[],
};

fn text(s: &str) -> ScalarValue {
    ScalarValue::Str(s.into())
}

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
    pub from: Code<MediationLevel>,
    pub to: Code<MediationLevel>,
    pub reason: String,
    pub by: String,
    pub at: i64,
}

/// A dispute, hydrated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dispute {
    pub header: Header,
    pub summary: String,
    pub kind: Option<Code<MediationKind>>,
    pub committee: Option<Code<Committee>>,
    /// The level it is mediated at now (raised by escalations).
    pub level: Option<Code<MediationLevel>>,
    pub mediator: Option<String>,
    pub result: Option<Code<MediationResult>>,
    /// The case this dispute became, or came from.
    pub case: Option<DocId>,
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
            &DISPUTE,
            draft.id,
            &draft.unit,
            &draft.summary,
            editor,
            actor,
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
        if header.kind != DISPUTE.name {
            return Err(Error::WrongKind(format!(
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
    /// name), checked by [`DISPUTE`]'s types.
    pub fn set(&mut self, field: &str, value: &str, editor: &Editor) -> Result<(), Error> {
        if field == "case" {
            return Err(Error::UnknownField(
                field.into(),
                "kind, committee, level, mediator, result".into(),
            ));
        }
        set_field_text(&mut self.doc, &DISPUTE, field, value, editor)?;
        self.commit(editor);
        Ok(())
    }

    pub fn set_agreement(&mut self, text: &str, editor: &Editor) -> Result<(), Error> {
        let agreement = match self.doc.get(ROOT, "agreement")? {
            Some((Value::Object(ObjType::Text), id)) => id,
            _ => return Err(Error::Malformed("no agreement text".into())),
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
        let mut values = vec![("name", text(name.trim()))];
        for (key, value) in [("role", role), ("phone", phone)] {
            if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
                values.push((key, text(v)));
            }
        }
        record_entry(&mut self.doc, &PARTIES, editor, &values)
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
        record_entry(
            &mut self.doc,
            &SESSIONS,
            editor,
            &[
                ("on", ScalarValue::Str(on.to_string().into())),
                ("mediator", ScalarValue::Str(mediator.trim().into())),
                ("text", ScalarValue::Str(text.trim().into())),
            ],
        )
    }

    /// Sends the dispute one level up (village group → village → township → city joint
    /// conference → party standing committee), with the reason; the result becomes
    /// "escalated" until the higher level records its own.
    pub fn escalate(&mut self, editor: &Editor, on: Date, reason: &str) -> Result<String, Error> {
        let current = self.read()?.level;
        let from = match &current {
            None => MediationLevel::Group,
            Some(level) => MediationLevel::parse(level.code())?,
        };
        let position = MediationLevel::ALL
            .iter()
            .position(|l| *l == from)
            .unwrap_or(0);
        let Some(to) = MediationLevel::ALL.get(position + 1).copied() else {
            return Err(Error::InvalidValue {
                field: "level".into(),
                value: from.code().into(),
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
        push_entry(
            &mut self.doc,
            &ESCALATIONS,
            editor,
            &[
                ("on", text(&on.to_string())),
                ("from", text(from.code())),
                ("to", text(to.code())),
                ("reason", text(reason.trim())),
            ],
        )?;
        self.put_single("level", to.code(), editor)?;
        self.put_single("result", MediationResult::Escalated.code(), editor)?;
        self.commit(editor);
        Ok(to.code().to_string())
    }

    /// The case this dispute becomes (same unit, the summary and parties carried over), with
    /// its details document (the parties' phones; shared with the dispute's unit and
    /// `others`, see [`crate::handling_units`]); the dispute then names it. Store both as new
    /// documents.
    pub fn make_case(
        &mut self,
        editor: &Editor,
        actor: ActorId,
        others: &[crate::UnitId],
    ) -> Result<(CaseDoc, crate::DetailsDoc), Error> {
        let dispute = self.read()?;
        if let Some(case) = &dispute.case {
            return Err(Error::InvalidValue {
                field: "case".into(),
                value: case.to_string(),
                reason: "this dispute is already linked to a case".into(),
            });
        }
        let unit = dispute.header.units[0].clone();
        let draft = CaseDraft::new(unit, Channel::Visit, &dispute.summary);
        let (mut case, mut details) = CaseDoc::create_with_details(&draft, others, editor, actor);
        for p in &dispute.parties {
            case.add_petitioner(
                editor,
                &crate::Petitioner::new(&p.name, None, p.phone.clone(), None),
                Some(&mut details),
            )?;
        }
        case.set(
            crate::Field::Dispute,
            &dispute.header.id.to_string(),
            editor,
        )?;
        self.put_single("case", &draft.id.to_string(), editor)?;
        self.commit(editor);
        Ok((case, details))
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
                value: d.to_string(),
                reason: "this case is already in mediation".into(),
            });
        }
        let unit = c
            .responsible_unit
            .clone()
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
        let mut f = Singles::new(doc);
        let parties = read_list(doc, &PARTIES)
            .map(|e| Party {
                id: e.id(),
                name: e.text("name"),
                role: e.str("role"),
                phone: e.str("phone"),
            })
            .collect();
        let mut sessions: Vec<Session> = read_list(doc, &SESSIONS)
            .filter_map(|e| {
                Some(Session {
                    id: e.id(),
                    on: e.date("on")?,
                    mediator: e.text("mediator"),
                    text: e.text("text"),
                    by: e.by(),
                    at: e.at(),
                })
            })
            .collect();
        sessions.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let mut escalations: Vec<Escalation> = read_list(doc, &ESCALATIONS)
            .filter_map(|e| {
                Some(Escalation {
                    id: e.id(),
                    on: e.date("on")?,
                    from: e.code("from")?,
                    to: e.code("to")?,
                    reason: e.text("reason"),
                    by: e.by(),
                    at: e.at(),
                })
            })
            .collect();
        escalations.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        Ok(Dispute {
            header,
            summary: text_at(doc, &ROOT, "summary"),
            kind: f.code("kind"),
            committee: f.code("committee"),
            level: f.code("level"),
            mediator: f.text("mediator"),
            result: f.code("result"),
            case: f.text("case").and_then(|c| c.parse().ok()),
            agreement: text_at(doc, &ROOT, "agreement"),
            parties,
            sessions,
            escalations,
            conflicts: f.conflicts,
        })
    }

    fn put_single(&mut self, field: &str, value: &str, editor: &Editor) -> Result<(), Error> {
        set_field(&mut self.doc, &DISPUTE, field, text(value), editor)
    }

    fn commit(&mut self, editor: &Editor) {
        commit(&mut self.doc, editor)
    }
}
