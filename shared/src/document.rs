//! The case document: how a case lives in Automerge, and the only way to edit it.
//!
//! Layout (root map):
//!
//! ```text
//! header      map   id, schema, kind, created_by, created_at, units: map unit -> true
//! fields      map   field name -> map { v, by, at }     single values (one wins, conflicts kept)
//! summary     text  character-level merge
//! notes       text  character-level merge
//! petitioners list  map { id, name, id_number, phone, address }
//! steps       list  map { id, kind, on, reason, outcome, by, at }
//! follow_ups  list  map { id, on, text, place, visitors, met, attitude, outcome, next_step, by, at }
//! ```
//!
//! A single value is written as a fresh map holding the value with who set it and when, so
//! that when two devices set a field concurrently both maps survive and each still says who
//! set it. Fields added in later schema versions read as absent from older documents.

use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::{CommitOptions, Transactable},
};

use crate::case::{
    Aid, Case, Conflict, ConflictValue, Evaluation, EveningEntry, EveningStart, FollowUp, Header,
    Hearing, Petitioner, Progress, Step,
};
use crate::vocab::{Category, Channel, Form, Level, Source, StepKind};
use crate::{Date, DocId, EntryId, Error, UnitId};

/// The schema version written into new documents.
pub const SCHEMA_VERSION: u64 = 1;
pub const KIND_CASE: &str = "case";

/// Who makes an edit, and when (the shells read the clock, not this crate).
#[derive(Clone, Debug)]
pub struct Editor {
    pub user: String,
    /// Milliseconds since the Unix epoch.
    pub now: i64,
}

impl Editor {
    pub fn new(user: &str, now: i64) -> Self {
        Editor {
            user: user.to_string(),
            now,
        }
    }
}

/// What a new case needs.
#[derive(Clone, Debug)]
pub struct CaseDraft {
    pub id: DocId,
    pub unit: UnitId,
    pub channel: Channel,
    pub summary: String,
}

impl CaseDraft {
    pub fn new(unit: UnitId, channel: Channel, summary: &str) -> Self {
        CaseDraft {
            id: DocId::random(),
            unit,
            channel,
            summary: summary.to_string(),
        }
    }
}

/// A single-value field of a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Field {
    Reference,
    Channel,
    Form,
    People,
    Level,
    Source,
    Category,
    ResponsibleUnit,
    Handler,
    Leader,
    Archived,
    /// How the seven-evenings plan ended.
    EveningOutcome,
    /// The leader's case package: the day it is to be resolved by.
    PackageDue,
    /// The four people of 四定四包.
    FourCountyLeader,
    FourDeptLeader,
    FourTownshipLeader,
    FourOfficer,
    /// The mediation dispute this case became, or came from (a document id).
    Dispute,
    /// Suggestion, accusation, or complaint and request.
    MatterKind,
}

impl Field {
    pub const ALL: &'static [Field] = &[
        Field::Reference,
        Field::Channel,
        Field::Form,
        Field::People,
        Field::Level,
        Field::Source,
        Field::Category,
        Field::ResponsibleUnit,
        Field::Handler,
        Field::Leader,
        Field::Archived,
        Field::EveningOutcome,
        Field::PackageDue,
        Field::FourCountyLeader,
        Field::FourDeptLeader,
        Field::FourTownshipLeader,
        Field::FourOfficer,
        Field::Dispute,
        Field::MatterKind,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Reference => "reference",
            Field::Channel => "channel",
            Field::Form => "form",
            Field::People => "people",
            Field::Level => "level",
            Field::Source => "source",
            Field::Category => "category",
            Field::ResponsibleUnit => "responsible_unit",
            Field::Handler => "handler",
            Field::Leader => "leader",
            Field::Archived => "archived",
            Field::EveningOutcome => "evening_outcome",
            Field::PackageDue => "package_due",
            Field::FourCountyLeader => "four_county_leader",
            Field::FourDeptLeader => "four_dept_leader",
            Field::FourTownshipLeader => "four_township_leader",
            Field::FourOfficer => "four_officer",
            Field::Dispute => "dispute",
            Field::MatterKind => "matter_kind",
        }
    }

    pub fn parse(name: &str) -> Result<Field, Error> {
        Field::ALL
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                Error::UnknownField(name.to_string(), format!("{}, summary", known.join(", ")))
            })
    }

    /// Checks a value typed by a person and turns it into what the document stores.
    fn value_from_text(self, text: &str) -> Result<ScalarValue, Error> {
        let invalid = |reason: &str| Error::InvalidValue {
            field: self.name().into(),
            value: text.into(),
            reason: reason.into(),
        };
        Ok(match self {
            Field::Channel => Channel::parse(text)?.code().into(),
            Field::Form => Form::parse(text)?.code().into(),
            Field::Level => Level::parse(text)?.code().into(),
            Field::Source => Source::parse(text)?.code().into(),
            Field::Category => Category::parse(text)?.code().into(),
            Field::MatterKind => crate::vocab::MatterKind::parse(text)?.code().into(),
            Field::EveningOutcome => crate::vocab::EveningOutcome::parse(text)?.code().into(),
            Field::PackageDue => text.trim().parse::<Date>()?.to_string().into(),
            Field::Dispute => text
                .trim()
                .parse::<DocId>()
                .map_err(|_| invalid("expected a document id (32 hex digits)"))?
                .to_string()
                .into(),
            Field::ResponsibleUnit => UnitId::new(text)?.as_str().into(),
            Field::People => match text.parse::<i64>() {
                Ok(n) if (1..=100_000).contains(&n) => ScalarValue::Int(n),
                _ => return Err(invalid("expected a number of people from 1 to 100000")),
            },
            Field::Archived => match text {
                "true" => ScalarValue::Boolean(true),
                "false" => ScalarValue::Boolean(false),
                _ => return Err(invalid("expected true or false")),
            },
            Field::Reference
            | Field::Handler
            | Field::Leader
            | Field::FourCountyLeader
            | Field::FourDeptLeader
            | Field::FourTownshipLeader
            | Field::FourOfficer => {
                let t = text.trim();
                if t.is_empty() || t.chars().count() > 200 {
                    return Err(invalid("expected 1 to 200 characters"));
                }
                t.into()
            }
        })
    }
}

/// A follow-up visit as typed in the field.
#[derive(Clone, Debug, Default)]
pub struct FollowUpDraft {
    pub on: Option<Date>,
    pub text: String,
    pub place: Option<String>,
    pub visitors: Option<String>,
    pub met: Option<String>,
    pub attitude: Option<String>,
    pub outcome: Option<String>,
    pub next_step: Option<String>,
}

/// One evening of a seven-evenings plan as logged by a visitor.
#[derive(Clone, Debug, Default)]
pub struct EveningLogDraft {
    pub on: Option<Date>,
    pub held: bool,
    /// When the talk ran, as written ("19:10–22:40").
    pub time: Option<String>,
    pub talk: String,
    pub attitude: Option<String>,
    pub agreement: Option<String>,
}

/// Hardship aid 信访救助 as recorded.
#[derive(Clone, Debug, Default)]
pub struct AidDraft {
    /// In yuan.
    pub amount: i64,
    pub reason: String,
    pub approved_by: String,
    pub approved_on: Option<Date>,
    pub paid_on: Option<Date>,
}

/// A public evaluation hearing 群众评议/听证.
#[derive(Clone, Debug, Default)]
pub struct HearingDraft {
    pub on: Option<Date>,
    /// Who took part: deputies, lawyers, village representatives, relatives.
    pub participants: String,
    pub conclusion: String,
}

/// A lifecycle step to record.
#[derive(Clone, Debug)]
pub struct StepDraft {
    pub kind: StepKind,
    pub on: Date,
    pub reason: Option<String>,
    pub outcome: Option<String>,
}

impl StepDraft {
    /// What a person must give for the step to count: a reason for refusals and extensions,
    /// and an outcome only where a conclusion is recorded, from the outcome vocabulary.
    pub fn check(&self) -> Result<(), Error> {
        let invalid = |field: &str, value: &str, reason: &str| Error::InvalidValue {
            field: field.into(),
            value: value.into(),
            reason: reason.into(),
        };
        let needs_reason = matches!(
            self.kind,
            StepKind::NotAccepted | StepKind::NotReaccepted | StepKind::Extended
        );
        if needs_reason && self.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid(
                "reason",
                "",
                &format!("a {} step needs a reason (--reason)", self.kind.code()),
            ));
        }
        if let Some(outcome) = &self.outcome {
            if self.kind != StepKind::Concluded {
                return Err(invalid(
                    "outcome",
                    outcome,
                    "only a concluded step has an outcome",
                ));
            }
            crate::Outcome::parse(outcome)?;
        }
        Ok(())
    }
}

/// A case held as an Automerge document.
#[derive(Clone, Debug)]
pub struct CaseDoc {
    doc: AutoCommit,
}

impl CaseDoc {
    /// Makes a new case document. Every change it records is signed with `actor`.
    pub fn create(draft: &CaseDraft, editor: &Editor, actor: ActorId) -> CaseDoc {
        let doc = new_document(
            KIND_CASE,
            draft.id,
            &draft.unit,
            &draft.summary,
            editor,
            actor,
            |doc| {
                doc.put_object(ROOT, "notes", ObjType::Text)?;
                doc.put_object(ROOT, "petitioners", ObjType::List)?;
                doc.put_object(ROOT, "steps", ObjType::List)?;
                doc.put_object(ROOT, "follow_ups", ObjType::List)?;
                for list in LATER_LISTS {
                    doc.put_object(ROOT, *list, ObjType::List)?;
                }
                doc.put_object(ROOT, "assisting", ObjType::Map)?;
                Ok(())
            },
        );
        let mut case = CaseDoc { doc };
        let channel = draft.channel.code().into();
        let _ = case.put_single(Field::Channel, channel, editor);
        case.commit(editor);
        case
    }

    /// Wraps a document, checking that it is a case. Edits are signed with the document's actor.
    pub fn from_doc(doc: AutoCommit) -> Result<CaseDoc, Error> {
        let case = CaseDoc { doc };
        let header = case.header()?;
        if header.kind != KIND_CASE {
            return Err(Error::NotACase(format!("a {} is not a case", header.kind)));
        }
        Ok(case)
    }

    pub fn load(bytes: &[u8], actor: ActorId) -> Result<CaseDoc, Error> {
        CaseDoc::from_doc(AutoCommit::load(bytes)?.with_actor(actor))
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }

    pub fn id(&self) -> Result<DocId, Error> {
        Ok(self.header()?.id)
    }

    /// Sets a single-value field from a person's text, validated.
    pub fn set(&mut self, field: Field, text: &str, editor: &Editor) -> Result<(), Error> {
        let value = field.value_from_text(text)?;
        if field == Field::ResponsibleUnit {
            // The responsible unit must be able to see the case.
            let units = self.obj(&self.header_obj()?, "units")?;
            self.doc.put(&units, text, true)?;
        }
        self.put_single(field, value, editor)?;
        self.commit(editor);
        Ok(())
    }

    /// Replaces the summary; the text merge keeps concurrent edits by others.
    pub fn set_summary(&mut self, text: &str, editor: &Editor) -> Result<(), Error> {
        let summary = self.obj(&ROOT, "summary")?;
        self.doc.update_text(&summary, text)?;
        self.commit(editor);
        Ok(())
    }

    /// Appends a paragraph to the notes.
    pub fn append_note(&mut self, editor: &Editor, text: &str) -> Result<(), Error> {
        let text = text.trim_end();
        if text.is_empty() {
            return Err(Error::InvalidValue {
                field: "note".into(),
                value: text.into(),
                reason: "a note needs some text".into(),
            });
        }
        let notes = self.obj(&ROOT, "notes")?;
        let len = self.doc.length(&notes);
        // Each paragraph carries its own line end, so that paragraphs appended at the same
        // place on two devices stay two lines after the merge.
        let para = format!("{text}\n");
        self.doc.splice_text(&notes, len, 0, &para)?;
        self.commit(editor);
        Ok(())
    }

    pub fn add_follow_up(
        &mut self,
        editor: &Editor,
        draft: &FollowUpDraft,
    ) -> Result<EntryId, Error> {
        if draft.text.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "follow-up".into(),
                value: draft.text.clone(),
                reason: "a follow-up needs some text".into(),
            });
        }
        let list = self.obj(&ROOT, "follow_ups")?;
        let id = EntryId::random();
        let entry = self
            .doc
            .insert_object(&list, self.doc.length(&list), ObjType::Map)?;
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "text", draft.text.as_str())?;
        for (key, value) in [
            ("place", &draft.place),
            ("visitors", &draft.visitors),
            ("met", &draft.met),
            ("attitude", &draft.attitude),
            ("outcome", &draft.outcome),
            ("next_step", &draft.next_step),
        ] {
            if let Some(v) = value {
                self.doc.put(&entry, key, v.as_str())?;
            }
        }
        self.doc.put(&entry, "by", editor.user.as_str())?;
        self.doc
            .put(&entry, "at", ScalarValue::Timestamp(editor.now))?;
        self.commit(editor);
        Ok(id)
    }

    pub fn add_step(&mut self, editor: &Editor, draft: &StepDraft) -> Result<EntryId, Error> {
        draft.check()?;
        let list = self.obj(&ROOT, "steps")?;
        let id = EntryId::random();
        let entry = self
            .doc
            .insert_object(&list, self.doc.length(&list), ObjType::Map)?;
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "kind", draft.kind.code())?;
        self.doc.put(&entry, "on", draft.on.to_string())?;
        if let Some(r) = &draft.reason {
            self.doc.put(&entry, "reason", r.as_str())?;
        }
        if let Some(o) = &draft.outcome {
            self.doc.put(&entry, "outcome", o.as_str())?;
        }
        self.doc.put(&entry, "by", editor.user.as_str())?;
        self.doc
            .put(&entry, "at", ScalarValue::Timestamp(editor.now))?;
        self.commit(editor);
        Ok(id)
    }

    /// Starts (or restarts) a seven-evenings plan: the first evening and who visits.
    pub fn start_evenings(
        &mut self,
        editor: &Editor,
        on: Date,
        visitors: &str,
    ) -> Result<EntryId, Error> {
        let visitors = visitors.trim();
        if visitors.is_empty() {
            return Err(Error::InvalidValue {
                field: "visitors".into(),
                value: String::new(),
                reason: "a seven-evenings plan names who visits".into(),
            });
        }
        let entry = self.append_entry("evening_starts")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "visitors", visitors)?;
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Logs one evening of the plan, held or missed. Two visitors may log the same evening.
    pub fn log_evening(
        &mut self,
        editor: &Editor,
        draft: &EveningLogDraft,
    ) -> Result<EntryId, Error> {
        if draft.held && draft.talk.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "talk".into(),
                value: String::new(),
                reason: "a held evening says what was talked about".into(),
            });
        }
        if entries(&self.doc, "evening_starts").next().is_none() {
            return Err(Error::InvalidValue {
                field: "evening".into(),
                value: String::new(),
                reason: "start a seven-evenings plan before logging an evening".into(),
            });
        }
        let entry = self.append_entry("evening_logs")?;
        let id = EntryId::random();
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "held", draft.held)?;
        self.doc.put(&entry, "talk", draft.talk.trim())?;
        for (key, value) in [
            ("time", &draft.time),
            ("attitude", &draft.attitude),
            ("agreement", &draft.agreement),
        ] {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                self.doc.put(&entry, key, v)?;
            }
        }
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Records the petitioner's evaluation 评价 of the petition office and of the responsible
    /// unit. Every evaluation is kept; the latest counts.
    pub fn evaluate(
        &mut self,
        editor: &Editor,
        on: Date,
        office: crate::Satisfaction,
        unit: crate::Satisfaction,
    ) -> Result<EntryId, Error> {
        let entry = self.append_entry("evaluations")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "office", office.code())?;
        self.doc.put(&entry, "unit", unit.code())?;
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// A progress note on a package task, a 四定四包 commitment or one of its four people
    /// (`track` is a [`crate::PackageTask`], [`crate::Commitment`] or [`crate::FourRole`] code);
    /// `done` marks a task or commitment fulfilled (the latest note says whether it is).
    pub fn add_progress(
        &mut self,
        editor: &Editor,
        track: &str,
        on: Date,
        text: &str,
        done: bool,
    ) -> Result<EntryId, Error> {
        let known = crate::PackageTask::parse(track).is_ok()
            || crate::Commitment::parse(track).is_ok()
            || crate::FourRole::parse(track).is_ok();
        if !known {
            return Err(Error::InvalidValue {
                field: "track".into(),
                value: track.into(),
                reason: "expected a package task, a commitment or one of the four people".into(),
            });
        }
        if text.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "progress".into(),
                value: String::new(),
                reason: "a progress note needs some text".into(),
            });
        }
        let entry = self.append_entry("progress")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "track", track)?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc.put(&entry, "text", text.trim())?;
        self.doc.put(&entry, "done", done)?;
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Names a unit as assisting in joint handling (the responsible unit leads), or stops it
    /// assisting. An assisting unit can see the case from then on.
    pub fn set_assisting(
        &mut self,
        editor: &Editor,
        unit: &UnitId,
        assisting: bool,
    ) -> Result<(), Error> {
        let map = match self.doc.get(ROOT, "assisting")? {
            Some((Value::Object(ObjType::Map), id)) => id,
            Some(_) => return Err(Error::NotACase("assisting is not a map".into())),
            None => self.doc.put_object(ROOT, "assisting", ObjType::Map)?,
        };
        if assisting {
            let units = self.obj(&self.header_obj()?, "units")?;
            self.doc.put(&units, unit.as_str(), true)?;
        }
        self.doc.put(&map, unit.as_str(), assisting)?;
        self.commit(editor);
        Ok(())
    }

    /// Records hardship aid: amount in yuan, reason, who approved it and when, and when it
    /// was paid, if it has been.
    pub fn add_aid(&mut self, editor: &Editor, draft: &AidDraft) -> Result<EntryId, Error> {
        let invalid = |field: &str, value: String, reason: &str| Error::InvalidValue {
            field: field.into(),
            value,
            reason: reason.into(),
        };
        if !(1..=10_000_000).contains(&draft.amount) {
            return Err(invalid(
                "amount",
                draft.amount.to_string(),
                "expected an amount from 1 to 10000000 yuan",
            ));
        }
        if draft.reason.trim().is_empty() {
            return Err(invalid("reason", String::new(), "aid needs a reason"));
        }
        if draft.approved_by.trim().is_empty() {
            return Err(invalid(
                "approved_by",
                String::new(),
                "aid needs who approved it",
            ));
        }
        let entry = self.append_entry("aid")?;
        let id = EntryId::random();
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "amount", draft.amount)?;
        self.doc.put(&entry, "reason", draft.reason.trim())?;
        self.doc
            .put(&entry, "approved_by", draft.approved_by.trim())?;
        if let Some(d) = draft.approved_on {
            self.doc.put(&entry, "approved_on", d.to_string())?;
        }
        if let Some(d) = draft.paid_on {
            self.doc.put(&entry, "paid_on", d.to_string())?;
        }
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Marks recorded aid as paid on a day.
    pub fn set_aid_paid(&mut self, editor: &Editor, id: &EntryId, on: Date) -> Result<(), Error> {
        let entry = entries(&self.doc, "aid")
            .find(|e| str_at(&self.doc, e, "id").as_deref() == Some(id.as_str()))
            .ok_or_else(|| Error::NoSuchEntry(id.to_string()))?;
        self.doc.put(&entry, "paid_on", on.to_string())?;
        self.commit(editor);
        Ok(())
    }

    /// Records a public evaluation hearing: who took part and what it concluded.
    pub fn add_hearing(&mut self, editor: &Editor, draft: &HearingDraft) -> Result<EntryId, Error> {
        for (field, value) in [
            ("participants", &draft.participants),
            ("conclusion", &draft.conclusion),
        ] {
            if value.trim().is_empty() {
                return Err(Error::InvalidValue {
                    field: field.into(),
                    value: String::new(),
                    reason: format!("a hearing records its {field}"),
                });
            }
        }
        let entry = self.append_entry("hearings")?;
        let id = EntryId::random();
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        self.doc.put(&entry, "id", id.as_str())?;
        self.doc.put(&entry, "on", on.to_string())?;
        self.doc
            .put(&entry, "participants", draft.participants.trim())?;
        self.doc
            .put(&entry, "conclusion", draft.conclusion.trim())?;
        self.put_by(&entry, editor)?;
        self.commit(editor);
        Ok(id)
    }

    /// Changes one detail of a petitioner (name, id_number, phone or address); an empty value
    /// clears it (the name cannot be cleared). Concurrent changes of different details merge.
    pub fn set_petitioner(
        &mut self,
        editor: &Editor,
        id: &EntryId,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let invalid = |reason: &str| Error::InvalidValue {
            field: key.into(),
            value: value.into(),
            reason: reason.into(),
        };
        if !["name", "id_number", "phone", "address"].contains(&key) {
            return Err(invalid("expected name, id_number, phone or address"));
        }
        let value = value.trim();
        if value.chars().count() > 200 {
            return Err(invalid("expected at most 200 characters"));
        }
        let entry = entries(&self.doc, "petitioners")
            .find(|e| str_at(&self.doc, e, "id").as_deref() == Some(id.as_str()))
            .ok_or_else(|| invalid("no such petitioner on this case"))?;
        match (key, value.is_empty()) {
            ("name", true) => return Err(invalid("a petitioner has a name")),
            (_, true) => self.doc.delete(&entry, key)?,
            (_, false) => self.doc.put(&entry, key, value)?,
        }
        self.commit(editor);
        Ok(())
    }

    pub fn add_petitioner(&mut self, editor: &Editor, p: &Petitioner) -> Result<EntryId, Error> {
        if p.name.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "name".into(),
                value: String::new(),
                reason: "a petitioner has a name".into(),
            });
        }
        let list = self.obj(&ROOT, "petitioners")?;
        let entry = self
            .doc
            .insert_object(&list, self.doc.length(&list), ObjType::Map)?;
        self.doc.put(&entry, "id", p.id.as_str())?;
        self.doc.put(&entry, "name", p.name.as_str())?;
        for (key, value) in [
            ("id_number", &p.id_number),
            ("phone", &p.phone),
            ("address", &p.address),
        ] {
            if let Some(v) = value {
                self.doc.put(&entry, key, v.as_str())?;
            }
        }
        self.commit(editor);
        Ok(p.id.clone())
    }

    pub fn header(&self) -> Result<Header, Error> {
        read_header(&self.doc)
    }

    /// Hydrates the whole case.
    pub fn read(&self) -> Result<Case, Error> {
        let doc = &self.doc;
        let header = read_header(doc)?;
        let mut singles = Singles::new(doc);
        let mut single = |field: Field| singles.value(field.name());
        let as_string =
            |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_string));
        let reference = as_string(single(Field::Reference));
        let channel = as_string(single(Field::Channel));
        let form = as_string(single(Field::Form));
        let people = single(Field::People).and_then(|v| v.as_i64());
        let level = as_string(single(Field::Level));
        let source = as_string(single(Field::Source));
        let category = as_string(single(Field::Category));
        let matter_kind = as_string(single(Field::MatterKind));
        let responsible_unit = as_string(single(Field::ResponsibleUnit));
        let handler = as_string(single(Field::Handler));
        let leader = as_string(single(Field::Leader));
        let archived = single(Field::Archived)
            .and_then(|v| v.as_bool())
            .unwrap_or(false);

        let mut steps: Vec<Step> = entries(doc, "steps")
            .filter_map(|e| {
                Some(Step {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    kind: str_at(doc, &e, "kind")?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    reason: str_at(doc, &e, "reason"),
                    outcome: str_at(doc, &e, "outcome"),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        steps.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));

        let mut follow_ups: Vec<FollowUp> = entries(doc, "follow_ups")
            .filter_map(|e| {
                Some(FollowUp {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    text: str_at(doc, &e, "text").unwrap_or_default(),
                    place: str_at(doc, &e, "place"),
                    visitors: str_at(doc, &e, "visitors"),
                    met: str_at(doc, &e, "met"),
                    attitude: str_at(doc, &e, "attitude"),
                    outcome: str_at(doc, &e, "outcome"),
                    next_step: str_at(doc, &e, "next_step"),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                    device: actor_of(&e),
                })
            })
            .collect();
        follow_ups.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));

        let mut evening_starts: Vec<EveningStart> = entries(doc, "evening_starts")
            .filter_map(|e| {
                Some(EveningStart {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    visitors: str_at(doc, &e, "visitors").unwrap_or_default(),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        evening_starts.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let mut evening_logs: Vec<EveningEntry> = entries(doc, "evening_logs")
            .filter_map(|e| {
                Some(EveningEntry {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    held: bool_at(doc, &e, "held"),
                    time: str_at(doc, &e, "time"),
                    talk: str_at(doc, &e, "talk").unwrap_or_default(),
                    attitude: str_at(doc, &e, "attitude"),
                    agreement: str_at(doc, &e, "agreement"),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        evening_logs.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let mut evaluations: Vec<Evaluation> = entries(doc, "evaluations")
            .filter_map(|e| {
                Some(Evaluation {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    office: str_at(doc, &e, "office")?,
                    unit: str_at(doc, &e, "unit")?,
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        evaluations.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let evening_outcome = as_string(single(Field::EveningOutcome));
        let dispute = as_string(single(Field::Dispute));
        let package_due = as_string(single(Field::PackageDue)).and_then(|d| d.parse().ok());
        let four_people = [
            Field::FourCountyLeader,
            Field::FourDeptLeader,
            Field::FourTownshipLeader,
            Field::FourOfficer,
        ]
        .map(|f| as_string(single(f)));
        let mut progress: Vec<Progress> = entries(doc, "progress")
            .filter_map(|e| {
                Some(Progress {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    track: str_at(doc, &e, "track")?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    text: str_at(doc, &e, "text").unwrap_or_default(),
                    done: bool_at(doc, &e, "done"),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        progress.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
        let mut assisting: Vec<String> = doc
            .get_all(ROOT, "assisting")
            .unwrap_or_default()
            .into_iter()
            .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
            .flat_map(|(_, map)| {
                doc.keys(&map)
                    .filter(|k| bool_at(doc, &map, k))
                    .collect::<Vec<_>>()
            })
            .collect();
        assisting.sort();
        assisting.dedup();
        let mut aid: Vec<Aid> = entries(doc, "aid")
            .filter_map(|e| {
                Some(Aid {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    amount: match doc.get(&e, "amount") {
                        Ok(Some((Value::Scalar(v), _))) => v.as_i64()?,
                        _ => return None,
                    },
                    reason: str_at(doc, &e, "reason").unwrap_or_default(),
                    approved_by: str_at(doc, &e, "approved_by").unwrap_or_default(),
                    approved_on: str_at(doc, &e, "approved_on").and_then(|d| d.parse().ok()),
                    paid_on: str_at(doc, &e, "paid_on").and_then(|d| d.parse().ok()),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        aid.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut hearings: Vec<Hearing> = entries(doc, "hearings")
            .filter_map(|e| {
                Some(Hearing {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    on: str_at(doc, &e, "on")?.parse().ok()?,
                    participants: str_at(doc, &e, "participants").unwrap_or_default(),
                    conclusion: str_at(doc, &e, "conclusion").unwrap_or_default(),
                    by: str_at(doc, &e, "by").unwrap_or_default(),
                    at: time_at(doc, &e, "at"),
                })
            })
            .collect();
        hearings.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));

        let petitioners = entries(doc, "petitioners")
            .filter_map(|e| {
                Some(Petitioner {
                    id: EntryId::parse(&str_at(doc, &e, "id")?).ok()?,
                    name: str_at(doc, &e, "name").unwrap_or_default(),
                    id_number: str_at(doc, &e, "id_number"),
                    phone: str_at(doc, &e, "phone"),
                    address: str_at(doc, &e, "address"),
                })
            })
            .collect();

        Ok(Case {
            header,
            reference,
            channel,
            form,
            people,
            level,
            source,
            category,
            matter_kind,
            responsible_unit,
            handler,
            leader,
            archived,
            summary: text_at(doc, &ROOT, "summary"),
            notes: text_at(doc, &ROOT, "notes")
                .trim_end_matches('\n')
                .to_string(),
            petitioners,
            steps,
            follow_ups,
            evening_starts,
            evening_logs,
            evening_outcome,
            evaluations,
            package_due,
            four_people,
            progress,
            assisting,
            aid,
            hearings,
            dispute,
            conflicts: singles.conflicts,
        })
    }

    fn put_single(
        &mut self,
        field: Field,
        value: ScalarValue,
        editor: &Editor,
    ) -> Result<(), Error> {
        put_cell(&mut self.doc, field.name(), value, editor)
    }

    fn append_entry(&mut self, key: &str) -> Result<ObjId, Error> {
        append_entry(&mut self.doc, key)
    }

    fn put_by(&mut self, entry: &ObjId, editor: &Editor) -> Result<(), Error> {
        put_by(&mut self.doc, entry, editor)
    }

    fn commit(&mut self, editor: &Editor) {
        commit(&mut self.doc, editor)
    }

    fn header_obj(&self) -> Result<ObjId, Error> {
        map_obj(&self.doc, &ROOT, "header").ok_or_else(|| Error::NotACase("no header".into()))
    }

    fn obj(&self, parent: &ObjId, key: &str) -> Result<ObjId, Error> {
        match self.doc.get(parent, key)? {
            Some((Value::Object(_), id)) => Ok(id),
            _ => Err(Error::NotACase(format!("no {key} in the document"))),
        }
    }
}

/// A new document of `kind`: its header (id, schema, kind, creator, the one unit it belongs
/// to), a `fields` map and the `summary` text, then whatever `build` adds. Every change is
/// signed with `actor`; the first commit is left to the caller.
pub(crate) fn new_document(
    kind: &str,
    id: DocId,
    unit: &UnitId,
    summary: &str,
    editor: &Editor,
    actor: ActorId,
    build: impl FnOnce(&mut AutoCommit) -> Result<(), automerge::AutomergeError>,
) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(actor);
    let header = |doc: &mut AutoCommit| -> Result<(), automerge::AutomergeError> {
        let header = doc.put_object(ROOT, "header", ObjType::Map)?;
        doc.put(&header, "id", id.to_string())?;
        doc.put(&header, "schema", SCHEMA_VERSION)?;
        doc.put(&header, "kind", kind)?;
        doc.put(&header, "created_by", editor.user.as_str())?;
        doc.put(&header, "created_at", ScalarValue::Timestamp(editor.now))?;
        let units = doc.put_object(&header, "units", ObjType::Map)?;
        doc.put(&units, unit.as_str(), true)?;
        doc.put_object(ROOT, "fields", ObjType::Map)?;
        let text = doc.put_object(ROOT, "summary", ObjType::Text)?;
        doc.splice_text(&text, 0, 0, summary)?;
        build(doc)
    };
    // Writing into a fresh document cannot fail; if it ever did, the error surfaces on read.
    let _ = header(&mut doc);
    doc
}

/// Sets a single-value field: a fresh cell {v, by, at} under `fields`, so concurrent sets
/// on two devices are kept side by side as a conflict ([`read_single`]).
pub(crate) fn put_cell(
    doc: &mut AutoCommit,
    field: &str,
    value: impl Into<ScalarValue>,
    editor: &Editor,
) -> Result<(), Error> {
    let fields = match map_obj(doc, &ROOT, "fields") {
        Some(f) => f,
        None => doc.put_object(ROOT, "fields", ObjType::Map)?,
    };
    let cell = doc.put_object(&fields, field, ObjType::Map)?;
    doc.put(&cell, "v", value.into())?;
    doc.put(&cell, "by", editor.user.as_str())?;
    doc.put(&cell, "at", ScalarValue::Timestamp(editor.now))?;
    Ok(())
}

/// A new entry at the end of a root list. A list added to the schema after a document was
/// made is created on first use; if two devices create it at once, both lists are kept by
/// Automerge and [`entries`] reads them all, so no entry is lost.
pub(crate) fn append_entry(doc: &mut AutoCommit, key: &str) -> Result<ObjId, Error> {
    let list = match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::List), id)) => id,
        Some(_) => return Err(Error::NotACase(format!("{key} is not a list"))),
        None => doc.put_object(ROOT, key, ObjType::List)?,
    };
    Ok(doc.insert_object(&list, doc.length(&list), ObjType::Map)?)
}

/// Who recorded an entry, and when.
pub(crate) fn put_by(doc: &mut AutoCommit, entry: &ObjId, editor: &Editor) -> Result<(), Error> {
    doc.put(entry, "by", editor.user.as_str())?;
    doc.put(entry, "at", ScalarValue::Timestamp(editor.now))?;
    Ok(())
}

pub(crate) fn commit(doc: &mut AutoCommit, editor: &Editor) {
    doc.commit_with(CommitOptions::default().with_time(editor.now / 1000));
}

/// Reads a document's header; shared by the device and the server's validation.
pub(crate) fn read_header<D: ReadDoc>(doc: &D) -> Result<Header, Error> {
    let header =
        map_obj(doc, &ROOT, "header").ok_or_else(|| Error::NotACase("no header".into()))?;
    let missing = |what: &str| Error::NotACase(format!("header has no {what}"));
    let id = str_at(doc, &header, "id").ok_or_else(|| missing("id"))?;
    let id: DocId = id
        .parse()
        .map_err(|_| Error::NotACase(format!("header id {id:?} is not a document id")))?;
    let schema = match doc.get(&header, "schema")? {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Uint(n) => *n,
            ScalarValue::Int(n) if *n >= 0 => *n as u64,
            _ => return Err(missing("schema version")),
        },
        _ => return Err(missing("schema version")),
    };
    let kind = str_at(doc, &header, "kind").ok_or_else(|| missing("kind"))?;
    let units_obj = map_obj(doc, &header, "units").ok_or_else(|| missing("units"))?;
    let mut units = Vec::new();
    for key in doc.keys(&units_obj) {
        units.push(UnitId::new(&key).map_err(|_| Error::NotACase(format!("bad unit id {key:?}")))?);
    }
    if units.is_empty() {
        return Err(missing("unit"));
    }
    Ok(Header {
        id,
        schema,
        kind,
        units,
        created_by: str_at(doc, &header, "created_by").unwrap_or_default(),
        created_at: time_at(doc, &header, "created_at"),
    })
}

pub(crate) fn map_obj<D: ReadDoc>(doc: &D, parent: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(parent, key) {
        Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
        _ => None,
    }
}

pub(crate) fn bool_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> bool {
    matches!(doc.get(obj, key), Ok(Some((Value::Scalar(v), _))) if v.as_ref() == &ScalarValue::Boolean(true))
}

pub(crate) fn str_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn time_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> i64 {
    match doc.get(obj, key) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Timestamp(t) | ScalarValue::Int(t) => *t,
            _ => 0,
        },
        _ => 0,
    }
}

pub(crate) fn text_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> String {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.text(&id).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The entries of a root list. Every list under the key counts: two devices that created a
/// list added to the schema later each made one, and both lists' entries are kept.
pub(crate) fn entries<'a, D: ReadDoc>(doc: &'a D, key: &str) -> impl Iterator<Item = ObjId> + 'a {
    let lists: Vec<ObjId> = doc
        .get_all(ROOT, key)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::List)).then_some(id))
        .collect();
    lists.into_iter().flat_map(move |list| {
        (0..doc.length(&list)).filter_map(move |i| match doc.get(&list, i) {
            Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
            _ => None,
        })
    })
}

/// Lists added to the case after its first schema; made at creation, or on first use in a
/// case made before them.
const LATER_LISTS: &[&str] = &[
    "evening_starts",
    "evening_logs",
    "evaluations",
    "progress",
    "aid",
    "hearings",
];

fn actor_of(id: &ObjId) -> String {
    match id {
        ObjId::Id(_, actor, _) => actor.to_hex_string(),
        ObjId::Root => String::new(),
    }
}

fn scalar_json(s: &ScalarValue) -> serde_json::Value {
    match s {
        ScalarValue::Str(s) => serde_json::Value::String(s.to_string()),
        ScalarValue::Int(n) | ScalarValue::Timestamp(n) => (*n).into(),
        ScalarValue::Uint(n) => (*n).into(),
        ScalarValue::F64(f) => (*f).into(),
        ScalarValue::Boolean(b) => (*b).into(),
        ScalarValue::Null => serde_json::Value::Null,
        other => serde_json::Value::String(other.to_string()),
    }
}

/// Reads a document's single-value fields, keeping aside those set differently on several
/// devices as conflicts.
pub(crate) struct Singles<'a, D> {
    doc: &'a D,
    fields: Option<ObjId>,
    pub conflicts: Vec<Conflict>,
}

impl<'a, D: ReadDoc> Singles<'a, D> {
    pub(crate) fn new(doc: &'a D) -> Self {
        Singles {
            doc,
            fields: map_obj(doc, &ROOT, "fields"),
            conflicts: Vec::new(),
        }
    }

    /// The value shown (the winner), recording a conflict if there are several.
    pub(crate) fn value(&mut self, name: &str) -> Option<serde_json::Value> {
        let fields = self.fields.as_ref()?;
        let (winner, all) = read_single(self.doc, fields, name);
        if all.len() > 1 {
            self.conflicts.push(Conflict {
                field: name.to_string(),
                values: all,
            });
        }
        winner
    }

    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        self.value(name)
            .and_then(|v| v.as_str().map(str::to_string))
    }
}

/// The winning value of a single-value field, and every competing value with who set it.
/// The winner comes first in the list.
pub(crate) fn read_single<D: ReadDoc>(
    doc: &D,
    fields: &ObjId,
    name: &str,
) -> (Option<serde_json::Value>, Vec<ConflictValue>) {
    let Ok(all) = doc.get_all(fields, name) else {
        return (None, Vec::new());
    };
    let winner = doc.get(fields, name).ok().flatten().map(|(_, id)| id);
    let mut values: Vec<(bool, ConflictValue)> = all
        .into_iter()
        .filter_map(|(value, id)| {
            let Value::Object(ObjType::Map) = value else {
                return None;
            };
            let v = match doc.get(&id, "v") {
                Ok(Some((Value::Scalar(s), _))) => scalar_json(s.as_ref()),
                _ => return None,
            };
            let is_winner = winner.as_ref() == Some(&id);
            Some((
                is_winner,
                ConflictValue {
                    value: v,
                    by: str_at(doc, &id, "by").unwrap_or_default(),
                    at: time_at(doc, &id, "at"),
                    device: actor_of(&id),
                },
            ))
        })
        .collect();
    values.sort_by_key(|(w, _)| !*w);
    let winner_value = values.first().map(|(_, c)| c.value.clone());
    (winner_value, values.into_iter().map(|(_, c)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editor(user: &str) -> Editor {
        Editor::new(user, 1_763_800_000_000)
    }

    fn new_case() -> CaseDoc {
        let draft = CaseDraft::new(UnitId::new("wugang").unwrap(), Channel::Visit, "拖欠工资");
        CaseDoc::create(&draft, &editor("reg"), ActorId::random())
    }

    #[test]
    fn a_new_case_reads_back() {
        let case = new_case().read().unwrap();
        assert_eq!(case.channel.as_deref(), Some("visit"));
        assert_eq!(case.summary, "拖欠工资");
        assert_eq!(case.header.units, vec![UnitId::new("wugang").unwrap()]);
        assert_eq!(case.header.schema, SCHEMA_VERSION);
        assert!(case.conflicts.is_empty());
    }

    #[test]
    fn bad_values_are_refused_with_the_reason() {
        let mut case = new_case();
        let e = editor("a");
        assert!(matches!(
            case.set(Field::Channel, "pigeon", &e),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            case.set(Field::People, "-3", &e),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            Field::parse("colour"),
            Err(Error::UnknownField(..))
        ));
        assert_eq!(case.read().unwrap().channel.as_deref(), Some("visit"));
    }

    #[test]
    fn concurrent_sets_show_a_conflict_until_someone_chooses() {
        let mut a = new_case();
        let mut b = CaseDoc::load(&a.save(), ActorId::random()).unwrap();
        a.set(Field::Handler, "张三", &editor("a")).unwrap();
        b.set(Field::Handler, "李四", &editor("b")).unwrap();
        a.doc.merge(&mut b.doc).unwrap();
        let read = a.read().unwrap();
        assert_eq!(read.conflicts.len(), 1);
        let c = &read.conflicts[0];
        assert_eq!(c.field, "handler");
        let mut who: Vec<_> = c
            .values
            .iter()
            .map(|v| (v.by.as_str(), v.value.as_str().unwrap()))
            .collect();
        who.sort();
        assert_eq!(who, vec![("a", "张三"), ("b", "李四")]);
        assert_eq!(read.handler.as_deref(), c.values[0].value.as_str());

        a.set(Field::Handler, "李四", &editor("a")).unwrap();
        let read = a.read().unwrap();
        assert!(read.conflicts.is_empty());
        assert_eq!(read.handler.as_deref(), Some("李四"));
    }

    #[test]
    fn a_document_without_later_fields_still_loads() {
        // A schema-1 document written before "fields", "petitioners" and "steps" existed.
        let mut doc = AutoCommit::new();
        let h = doc.put_object(ROOT, "header", ObjType::Map).unwrap();
        doc.put(&h, "id", DocId::random().to_string()).unwrap();
        doc.put(&h, "schema", 1u64).unwrap();
        doc.put(&h, "kind", "case").unwrap();
        let u = doc.put_object(&h, "units", ObjType::Map).unwrap();
        doc.put(&u, "wugang", true).unwrap();
        let case = CaseDoc::load(&doc.save(), ActorId::random()).unwrap();
        let read = case.read().unwrap();
        assert_eq!(read.channel, None);
        assert!(read.steps.is_empty() && read.follow_ups.is_empty() && read.notes.is_empty());
    }
}
