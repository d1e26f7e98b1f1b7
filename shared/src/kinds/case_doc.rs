//! The case document: its declaration ([`CASE`]), how a case lives in Automerge, and the only
//! way to edit it.
//!
//! Layout (root map), as [`CASE`] declares it:
//!
//! ```text
//! header      map   id, schema, kind, created_by, created_at, units: map unit -> true
//! fields      map   field name -> map { v, by, at }     single values (one wins, conflicts kept)
//! summary     text  character-level merge
//! notes       text  character-level merge
//! petitioners list  map { id, name, id_masked, phone_masked, address_masked } (in full only
//!                   in the case's details document, [`crate::DetailsDoc`])
//! steps       list  map { id, kind, on, reason, outcome, by, at }
//! follow_ups  list  map { id, on, text, place, visitors, met, attitude, outcome, next_step, by, at }
//! …           lists of seven evenings, evaluations, progress, aid and hearings
//! assisting   map   unit -> flag
//! ```
//!
//! A single value is written as a fresh map holding the value with who set it and when, so
//! that when two devices set a field concurrently both maps survive and each still says who
//! set it. Fields added in later schema versions read as absent from older documents.

// tidy: long because a case is one kind: its declaration, every edit and its hydration
// belong together (the dispute and the reception day are the same shape, shorter).

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};

use crate::Date;
use crate::kinds::case::{
    Aid, Case, Evaluation, EveningEntry, EveningStart, FollowUp, Hearing, Petitioner, Progress,
    Step,
};
use crate::kit::cells::{
    Editor, Singles, commit, map_obj, new_document, read_header, set_field, text_at,
};
use crate::kit::schema::{
    AT, BY, FieldDecl, ID, KindDecl, LINE, LINE_CHARS, ListDecl, TextDecl, ValueType, opt,
    read_list, record_entry, req, update_entry,
};
use crate::{
    Category, Channel, Commitment, DocId, EntryId, Error, EveningOutcome, Form, FourRole, Level,
    MatterKind, Outcome, PackageTask, Satisfaction, Source, StepKind, UnitId,
};

/// An optional short text (may be empty).
const SHORT: ValueType = ValueType::Para { max: LINE_CHARS };
/// A paragraph: reasons, outcomes, what was talked about.
const PARA: ValueType = ValueType::Para { max: 10_000 };

pub(crate) const PETITIONERS: ListDecl = ListDecl {
    name: "petitioners",
    entry: &[
        ID,
        req("name", LINE),
        // What everyone who sees the case sees; in full only in its details document.
        opt("id_masked", ValueType::Masked),
        opt("phone_masked", ValueType::Masked),
        opt("address_masked", ValueType::Masked),
    ],
};
pub(crate) const STEPS: ListDecl = ListDecl {
    name: "steps",
    entry: &[
        ID,
        req("kind", ValueType::Code(&StepKind::VOCAB)),
        req("on", ValueType::Date),
        opt("reason", PARA),
        opt("outcome", ValueType::Code(&Outcome::VOCAB)),
        BY,
        AT,
    ],
};
/// A step withdrawn: a wrong step is never rewritten or removed, it is withdrawn by this
/// entry (who, when, why), shown struck through and left out of the lifecycle.
pub(crate) const WITHDRAWALS: ListDecl = ListDecl {
    name: "withdrawals",
    entry: &[
        ID,
        req("step", ValueType::Entry),
        req("reason", PARA),
        BY,
        AT,
    ],
};
pub(crate) const FOLLOW_UPS: ListDecl = ListDecl {
    name: "follow_ups",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("text", PARA),
        opt("place", SHORT),
        opt("visitors", SHORT),
        opt("met", SHORT),
        opt("attitude", SHORT),
        opt("outcome", PARA),
        opt("next_step", PARA),
        BY,
        AT,
    ],
};
/// A note 工作记录: who wrote it, when, on which device (the entry's own Automerge actor).
/// Notes written on several devices at once are all kept, each whole; a note is never
/// rewritten (a correction is a new note). The older `notes` text is still read.
pub(crate) const NOTES: ListDecl = ListDecl {
    name: "note_entries",
    entry: &[ID, req("text", PARA), BY, AT],
};
/// Largest photo or scanned page, in bytes; and most attachments per case.
pub const MAX_ATTACHMENT_BYTES: i64 = 8 * 1024 * 1024;
pub const MAX_ATTACHMENTS: usize = 60;

/// The name an attachment's bytes go by on every device and the server: their SHA-256, in
/// lower-case hex.
pub fn content_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A photo or scanned page: its SHA-256 (the bytes travel apart from the document, see
/// `server/src/attachments.rs`), file name, type and size.
pub(crate) const ATTACHMENTS: ListDecl = ListDecl {
    name: "attachments",
    entry: &[
        ID,
        req("hash", LINE),
        opt("name", SHORT),
        req("mime", LINE),
        req(
            "size",
            ValueType::Int {
                min: 1,
                max: MAX_ATTACHMENT_BYTES,
                what: "bytes",
            },
        ),
        BY,
        AT,
    ],
};
pub(crate) const EVENING_STARTS: ListDecl = ListDecl {
    name: "evening_starts",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("visitors", LINE),
        BY,
        AT,
    ],
};
pub(crate) const EVENING_LOGS: ListDecl = ListDecl {
    name: "evening_logs",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("held", ValueType::Bool),
        opt("time", SHORT),
        opt("talk", PARA),
        opt("attitude", SHORT),
        opt("agreement", PARA),
        BY,
        AT,
    ],
};
pub(crate) const EVALUATIONS: ListDecl = ListDecl {
    name: "evaluations",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("office", ValueType::Code(&Satisfaction::VOCAB)),
        req("unit", ValueType::Code(&Satisfaction::VOCAB)),
        BY,
        AT,
    ],
};
pub(crate) const PROGRESS: ListDecl = ListDecl {
    name: "progress",
    entry: &[
        ID,
        req(
            "track",
            ValueType::AnyCode(&[&PackageTask::VOCAB, &Commitment::VOCAB, &FourRole::VOCAB]),
        ),
        req("on", ValueType::Date),
        opt("text", PARA),
        opt("done", ValueType::Bool),
        BY,
        AT,
    ],
};
pub(crate) const AID: ListDecl = ListDecl {
    name: "aid",
    entry: &[
        ID,
        req(
            "amount",
            ValueType::Int {
                min: 1,
                max: 10_000_000,
                what: "yuan",
            },
        ),
        req("reason", PARA),
        req("approved_by", LINE),
        opt("approved_on", ValueType::Date),
        opt("paid_on", ValueType::Date),
        BY,
        AT,
    ],
};
pub(crate) const HEARINGS: ListDecl = ListDecl {
    name: "hearings",
    entry: &[
        ID,
        req("on", ValueType::Date),
        req("participants", PARA),
        req("conclusion", PARA),
        BY,
        AT,
    ],
};

/// Every single-value field of a case, with its type (see [`Field`] for each one's meaning).
const CASE_FIELDS: &[FieldDecl] = &[
    opt("reference", LINE),
    opt("channel", ValueType::Code(&Channel::VOCAB)),
    opt("form", ValueType::Code(&Form::VOCAB)),
    opt(
        "people",
        ValueType::Int {
            min: 1,
            max: 100_000,
            what: "people",
        },
    ),
    opt("level", ValueType::Code(&Level::VOCAB)),
    opt("source", ValueType::Code(&Source::VOCAB)),
    opt("category", ValueType::Code(&Category::VOCAB)),
    opt("responsible_unit", ValueType::Unit),
    opt("handler", LINE),
    opt("leader", LINE),
    opt("archived", ValueType::Bool),
    opt("evening_outcome", ValueType::Code(&EveningOutcome::VOCAB)),
    opt("package_due", ValueType::Date),
    opt("four_county_leader", LINE),
    opt("four_dept_leader", LINE),
    opt("four_township_leader", LINE),
    opt("four_officer", LINE),
    opt("dispute", ValueType::Doc),
    opt("matter_kind", ValueType::Code(&MatterKind::VOCAB)),
];

/// A petition matter 信访事项: the declaration creation, reading and the server's check share.
pub static CASE: KindDecl = KindDecl {
    name: "case",
    fields: CASE_FIELDS,
    texts: &[
        TextDecl {
            name: "summary",
            max: 5_000,
        },
        TextDecl {
            name: "notes",
            max: 200_000,
        },
    ],
    lists: &[
        PETITIONERS,
        STEPS,
        WITHDRAWALS,
        FOLLOW_UPS,
        NOTES,
        ATTACHMENTS,
        EVENING_STARTS,
        EVENING_LOGS,
        EVALUATIONS,
        PROGRESS,
        AID,
        HEARINGS,
    ],
    sets: &["assisting", "campaigns"],
};

/// What a new case needs.
/// Which operation of DOMAIN.md's table each part of a case is.
pub(crate) fn op(touch: &crate::rules::authority::Touch) -> crate::rules::authority::Op {
    use crate::rules::authority::{Op, Touch};
    match *touch {
        Touch::Create => Op::Register,
        Touch::Units | Touch::Set(_) => Op::Assign,
        Touch::Field(f) => match f {
            "responsible_unit" => Op::Assign,
            "handler" => Op::Handle,
            "leader"
            | "package_due"
            | "four_county_leader"
            | "four_dept_leader"
            | "four_township_leader"
            | "four_officer" => Op::Package,
            "archived" => Op::Archive,
            "evening_outcome" | "dispute" => Op::FieldWork,
            // reference, channel, form, people, level, source, category, matter_kind
            _ => Op::Register,
        },
        Touch::Text("summary") => Op::Register,
        Touch::Text(_) => Op::FieldWork,
        Touch::Entry {
            list: "steps" | "withdrawals",
            kind,
        } => match kind.unwrap_or("") {
            "registered" => Op::Register,
            "forwarded" | "assigned" => Op::Assign,
            "evaluated" | "review" | "re_review" => Op::Evaluate,
            // notified, not_accepted, not_reaccepted, handling, extended, concluded
            _ => Op::Handle,
        },
        Touch::Entry {
            list: "evaluations",
            ..
        } => Op::Evaluate,
        Touch::Entry { list: "aid", .. } => Op::ApproveAid,
        // petitioners, follow-ups, evenings, progress, hearings
        Touch::Entry { .. } => Op::FieldWork,
    }
}

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

/// A single-value field of a case, by name: [`CASE`] says its type.
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
    /// In the order of [`CASE`]'s fields.
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

    /// Its declaration in [`CASE`].
    pub fn decl(self) -> &'static FieldDecl {
        &CASE_FIELDS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.decl().name
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

/// A string value for an entry.
fn text(s: &str) -> ScalarValue {
    ScalarValue::Str(s.into())
}

fn day(d: Date) -> ScalarValue {
    ScalarValue::Str(d.to_string().into())
}

/// The optional texts of a draft that are given and not blank.
fn given<'a>(pairs: &[(&'a str, &Option<String>)]) -> Vec<(&'a str, ScalarValue)> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let v = v.as_deref()?.trim();
            (!v.is_empty()).then(|| (*k, text(v)))
        })
        .collect()
}

/// The keys flagged true in the set `name` (every competing map of it), sorted, once each.
fn flags<'a>(doc: &'a AutoCommit, name: &str) -> impl Iterator<Item = String> + 'a {
    let mut keys: Vec<String> = doc
        .get_all(ROOT, name)
        .unwrap_or_default()
        .into_iter()
        .filter(|(v, _)| matches!(v, Value::Object(ObjType::Map)))
        .flat_map(|(_, map)| {
            doc.keys(&map)
                .filter(|k| crate::kit::cells::bool_at(doc, &map, k))
                .collect::<Vec<_>>()
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
}

/// The case's key for the masked form of a personal detail.
fn masked_key(key: &str) -> String {
    match key {
        "id_number" => "id_masked".into(),
        other => format!("{other}_masked"),
    }
}

fn not_handling(key: &str) -> Error {
    Error::InvalidValue {
        field: key.into(),
        value: String::new(),
        reason: "personal details are kept only by the units handling the case".into(),
    }
}

fn required_text(field: &str, value: &str, reason: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::InvalidValue {
            field: field.into(),
            value: String::new(),
            reason: reason.into(),
        });
    }
    Ok(())
}

impl CaseDoc {
    /// Makes a new case document, with everything [`CASE`] declares. Every change it records
    /// is signed with `actor`.
    pub fn create(draft: &CaseDraft, editor: &Editor, actor: ActorId) -> CaseDoc {
        let doc = new_document(&CASE, draft.id, &draft.unit, &draft.summary, editor, actor);
        let mut case = CaseDoc { doc };
        let channel = text(draft.channel.code());
        let _ = set_field(&mut case.doc, &CASE, Field::Channel.name(), channel, editor);
        case.commit(editor);
        case
    }

    /// Wraps a document, checking that it is a case. Edits are signed with the document's actor.
    pub fn from_doc(doc: AutoCommit) -> Result<CaseDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != CASE.name {
            return Err(Error::WrongKind(format!("a {} is not a case", header.kind)));
        }
        Ok(CaseDoc { doc })
    }

    pub fn load(bytes: &[u8], actor: ActorId) -> Result<CaseDoc, Error> {
        CaseDoc::from_doc(crate::kit::cells::load_document(bytes)?.with_actor(actor))
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

    /// Sets a single-value field from a person's text, checked by its declared type.
    pub fn set(&mut self, field: Field, text: &str, editor: &Editor) -> Result<(), Error> {
        let value = field
            .decl()
            .ty
            .from_text(text)
            .map_err(|reason| Error::InvalidValue {
                field: field.name().into(),
                value: text.into(),
                reason,
            })?;
        if field == Field::ResponsibleUnit {
            // The responsible unit must be able to see the case.
            let units = self.obj(&self.header_obj()?, "units")?;
            self.doc.put(&units, text.trim(), true)?;
        }
        set_field(&mut self.doc, &CASE, field.name(), value, editor)?;
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
        required_text("note", text, "a note needs some text")?;
        let notes = self.obj(&ROOT, "notes")?;
        let len = self.doc.length(&notes);
        // Each paragraph carries its own line end, so that paragraphs appended at the same
        // place on two devices stay two lines after the merge.
        let para = format!("{text}\n");
        self.doc.splice_text(&notes, len, 0, &para)?;
        self.commit(editor);
        Ok(())
    }

    /// Records a photo or scanned page by its SHA-256 (64 hex digits): only images and PDFs,
    /// at most [`MAX_ATTACHMENT_BYTES`], at most [`MAX_ATTACHMENTS`] per case.
    pub fn attach(
        &mut self,
        editor: &Editor,
        hash: &str,
        name: &str,
        mime: &str,
        size: i64,
    ) -> Result<EntryId, Error> {
        let bad = |field: &str, value: String, reason: &str| Error::InvalidValue {
            field: field.into(),
            value,
            reason: reason.into(),
        };
        if hash.len() != 64
            || !hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        {
            return Err(bad(
                "hash",
                hash.into(),
                "expected a SHA-256 in 64 lower-case hex digits",
            ));
        }
        if !(mime.starts_with("image/") || mime == "application/pdf") {
            return Err(bad(
                "mime",
                mime.into(),
                "only photos and scanned pages (images, PDF) may be attached",
            ));
        }
        if !(1..=MAX_ATTACHMENT_BYTES).contains(&size) {
            return Err(bad(
                "size",
                size.to_string(),
                "an attachment is at most 8 MB",
            ));
        }
        if read_list(&self.doc, &ATTACHMENTS).count() >= MAX_ATTACHMENTS {
            return Err(bad(
                "attachments",
                String::new(),
                "a case holds at most 60 attachments",
            ));
        }
        let name: String = name.trim().chars().take(LINE_CHARS).collect();
        let mut values = vec![
            ("hash", text(hash)),
            ("mime", text(mime)),
            ("size", ScalarValue::Int(size)),
        ];
        if !name.is_empty() {
            values.push(("name", text(&name)));
        }
        record_entry(&mut self.doc, &ATTACHMENTS, editor, &values)
    }

    /// Adds an authored note.
    pub fn add_note(&mut self, editor: &Editor, note: &str) -> Result<EntryId, Error> {
        let note = note.trim();
        required_text("note", note, "a note needs some text")?;
        record_entry(&mut self.doc, &NOTES, editor, &[("text", text(note))])
    }

    pub fn add_follow_up(
        &mut self,
        editor: &Editor,
        draft: &FollowUpDraft,
    ) -> Result<EntryId, Error> {
        required_text("follow-up", &draft.text, "a follow-up needs some text")?;
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        let mut values = vec![("on", day(on)), ("text", text(&draft.text))];
        values.extend(given(&[
            ("place", &draft.place),
            ("visitors", &draft.visitors),
            ("met", &draft.met),
            ("attitude", &draft.attitude),
            ("outcome", &draft.outcome),
            ("next_step", &draft.next_step),
        ]));
        record_entry(&mut self.doc, &FOLLOW_UPS, editor, &values)
    }

    pub fn add_step(&mut self, editor: &Editor, draft: &StepDraft) -> Result<EntryId, Error> {
        draft.check()?;
        let mut values = vec![("kind", text(draft.kind.code())), ("on", day(draft.on))];
        values.extend(given(&[
            ("reason", &draft.reason),
            ("outcome", &draft.outcome),
        ]));
        record_entry(&mut self.doc, &STEPS, editor, &values)
    }

    /// Withdraws a recorded step that was wrong, with the reason; the step stays, struck
    /// through, and no longer counts.
    pub fn withdraw_step(
        &mut self,
        editor: &Editor,
        step: &EntryId,
        reason: &str,
    ) -> Result<EntryId, Error> {
        required_text("reason", reason, "a withdrawal needs a reason")?;
        let case = self.read()?;
        match case.steps.iter().find(|s| &s.id == step) {
            None => return Err(Error::NoSuchEntry(step.to_string())),
            Some(s) if s.withdrawn.is_some() => {
                return Err(Error::InvalidValue {
                    field: "step".into(),
                    value: step.to_string(),
                    reason: "withdrawn already".into(),
                });
            }
            Some(_) => {}
        }
        record_entry(
            &mut self.doc,
            &WITHDRAWALS,
            editor,
            &[
                ("step", text(&step.to_string())),
                ("reason", text(reason.trim())),
            ],
        )
    }

    /// Starts (or restarts) a seven-evenings plan: the first evening and who visits.
    pub fn start_evenings(
        &mut self,
        editor: &Editor,
        on: Date,
        visitors: &str,
    ) -> Result<EntryId, Error> {
        required_text(
            "visitors",
            visitors,
            "a seven-evenings plan names who visits",
        )?;
        record_entry(
            &mut self.doc,
            &EVENING_STARTS,
            editor,
            &[("on", day(on)), ("visitors", text(visitors.trim()))],
        )
    }

    /// Logs one evening of the plan, held or missed. Two visitors may log the same evening.
    pub fn log_evening(
        &mut self,
        editor: &Editor,
        draft: &EveningLogDraft,
    ) -> Result<EntryId, Error> {
        if draft.held {
            required_text(
                "talk",
                &draft.talk,
                "a held evening says what was talked about",
            )?;
        }
        if read_list(&self.doc, &EVENING_STARTS).next().is_none() {
            return Err(Error::InvalidValue {
                field: "evening".into(),
                value: String::new(),
                reason: "start a seven-evenings plan before logging an evening".into(),
            });
        }
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        let mut values = vec![
            ("on", day(on)),
            ("held", ScalarValue::Boolean(draft.held)),
            ("talk", text(draft.talk.trim())),
        ];
        values.extend(given(&[
            ("time", &draft.time),
            ("attitude", &draft.attitude),
            ("agreement", &draft.agreement),
        ]));
        record_entry(&mut self.doc, &EVENING_LOGS, editor, &values)
    }

    /// Records the petitioner's evaluation 评价 of the petition office and of the responsible
    /// unit. Every evaluation is kept; the latest counts.
    pub fn evaluate(
        &mut self,
        editor: &Editor,
        on: Date,
        office: Satisfaction,
        unit: Satisfaction,
    ) -> Result<EntryId, Error> {
        record_entry(
            &mut self.doc,
            &EVALUATIONS,
            editor,
            &[
                ("on", day(on)),
                ("office", text(office.code())),
                ("unit", text(unit.code())),
            ],
        )
    }

    /// A progress note on a package task, a 四定四包 commitment or one of its four people
    /// (`track` is a [`PackageTask`], [`Commitment`] or [`FourRole`] code); `done` marks a
    /// task or commitment fulfilled (the latest note says whether it is).
    pub fn add_progress(
        &mut self,
        editor: &Editor,
        track: &str,
        on: Date,
        text_: &str,
        done: bool,
    ) -> Result<EntryId, Error> {
        let known = PackageTask::parse(track).is_ok()
            || Commitment::parse(track).is_ok()
            || FourRole::parse(track).is_ok();
        if !known {
            return Err(Error::InvalidValue {
                field: "track".into(),
                value: track.into(),
                reason: "expected a package task, a commitment or one of the four people".into(),
            });
        }
        required_text("progress", text_, "a progress note needs some text")?;
        record_entry(
            &mut self.doc,
            &PROGRESS,
            editor,
            &[
                ("track", text(track)),
                ("on", day(on)),
                ("text", text(text_.trim())),
                ("done", ScalarValue::Boolean(done)),
            ],
        )
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
            Some(_) => return Err(Error::Malformed("assisting is not a map".into())),
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

    /// Tags the case to a campaign 专项活动 of the reference data (or untags it: the flag
    /// goes false, nothing is erased).
    pub fn set_campaign(
        &mut self,
        editor: &Editor,
        campaign: &EntryId,
        tagged: bool,
    ) -> Result<(), Error> {
        let map = match self.doc.get(ROOT, "campaigns")? {
            Some((Value::Object(ObjType::Map), id)) => id,
            Some(_) => return Err(Error::Malformed("campaigns is not a map".into())),
            None => self.doc.put_object(ROOT, "campaigns", ObjType::Map)?,
        };
        self.doc.put(&map, campaign.as_str(), tagged)?;
        self.commit(editor);
        Ok(())
    }

    /// Records hardship aid: amount in yuan, reason, who approved it and when, and when it
    /// was paid, if it has been.
    pub fn add_aid(&mut self, editor: &Editor, draft: &AidDraft) -> Result<EntryId, Error> {
        required_text("reason", &draft.reason, "aid needs a reason")?;
        required_text(
            "approved_by",
            &draft.approved_by,
            "aid needs who approved it",
        )?;
        let mut values = vec![
            ("amount", ScalarValue::Int(draft.amount)),
            ("reason", text(draft.reason.trim())),
            ("approved_by", text(draft.approved_by.trim())),
        ];
        if let Some(d) = draft.approved_on {
            values.push(("approved_on", day(d)));
        }
        if let Some(d) = draft.paid_on {
            values.push(("paid_on", day(d)));
        }
        record_entry(&mut self.doc, &AID, editor, &values)
    }

    /// Marks recorded aid as paid on a day.
    pub fn set_aid_paid(&mut self, editor: &Editor, id: &EntryId, on: Date) -> Result<(), Error> {
        update_entry(&mut self.doc, &AID, id.as_str(), "paid_on", Some(day(on)))?;
        self.commit(editor);
        Ok(())
    }

    /// Records a public evaluation hearing: who took part and what it concluded.
    pub fn add_hearing(&mut self, editor: &Editor, draft: &HearingDraft) -> Result<EntryId, Error> {
        for (field, value) in [
            ("participants", &draft.participants),
            ("conclusion", &draft.conclusion),
        ] {
            required_text(field, value, &format!("a hearing records its {field}"))?;
        }
        let on = draft
            .on
            .unwrap_or_else(|| Date::from_unix_ms_china(editor.now));
        record_entry(
            &mut self.doc,
            &HEARINGS,
            editor,
            &[
                ("on", day(on)),
                ("participants", text(draft.participants.trim())),
                ("conclusion", text(draft.conclusion.trim())),
            ],
        )
    }

    /// Changes one detail of a petitioner (name, id_number, phone or address); an empty value
    /// clears it (the name cannot be cleared). Concurrent changes of different details merge.
    /// An ID number, phone or address goes in full into `details` (only the handling units'
    /// devices have it; without it they cannot be changed) and masked into the case.
    pub fn set_petitioner(
        &mut self,
        editor: &Editor,
        id: &EntryId,
        key: &str,
        value: &str,
        details: Option<&mut crate::DetailsDoc>,
    ) -> Result<(), Error> {
        if key != "name" && !crate::DETAIL_KEYS.contains(&key) {
            return Err(Error::InvalidValue {
                field: key.into(),
                value: value.into(),
                reason: "expected name, id_number, phone or address".into(),
            });
        }
        let value = value.trim();
        if !read_list(&self.doc, &PETITIONERS).any(|e| e.str("id").as_deref() == Some(id.as_str()))
        {
            return Err(Error::InvalidValue {
                field: key.into(),
                value: id.to_string(),
                reason: "no such petitioner on this case".into(),
            });
        }
        if key == "name" {
            required_text("name", value, "a petitioner has a name")?;
            update_entry(
                &mut self.doc,
                &PETITIONERS,
                id.as_str(),
                key,
                Some(text(value)),
            )?;
            self.commit(editor);
            return Ok(());
        }
        let Some(details) = details else {
            return Err(not_handling(key));
        };
        details.put(editor, id, key, value)?;
        let masked = (!value.is_empty()).then(|| text(&crate::mask_detail(key, value)));
        update_entry(
            &mut self.doc,
            &PETITIONERS,
            id.as_str(),
            &masked_key(key),
            masked,
        )?;
        details.commit(editor);
        self.commit(editor);
        Ok(())
    }

    /// Adds a petitioner: the name (and the masked details) to the case, the ID number, phone
    /// and address in full to `details`, which only the handling units' devices have.
    pub fn add_petitioner(
        &mut self,
        editor: &Editor,
        p: &Petitioner,
        details: Option<&mut crate::DetailsDoc>,
    ) -> Result<EntryId, Error> {
        required_text("name", &p.name, "a petitioner has a name")?;
        let given: Vec<(&str, String)> = [
            ("id_number", &p.id_number),
            ("phone", &p.phone),
            ("address", &p.address),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            let v = v.as_deref()?.trim();
            (!v.is_empty()).then(|| (k, v.to_string()))
        })
        .collect();
        let mut values = vec![("id", text(p.id.as_str())), ("name", text(p.name.trim()))];
        let masked: Vec<(String, ScalarValue)> = given
            .iter()
            .map(|(k, v)| (masked_key(k), text(&crate::mask_detail(k, v))))
            .collect();
        values.extend(masked.iter().map(|(k, v)| (k.as_str(), v.clone())));
        match details {
            Some(details) => {
                for (key, value) in &given {
                    details.put(editor, &p.id, key, value)?;
                }
                if !given.is_empty() {
                    details.commit(editor);
                }
            }
            None if !given.is_empty() => return Err(not_handling(given[0].0)),
            None => {}
        }
        record_entry(&mut self.doc, &PETITIONERS, editor, &values)?;
        Ok(p.id.clone())
    }

    /// A new case with its details document (belonging to the units that handle it: the
    /// registering unit and `others`, see [`crate::handling_units`]).
    pub fn create_with_details(
        draft: &CaseDraft,
        others: &[UnitId],
        editor: &Editor,
        actor: ActorId,
    ) -> (CaseDoc, crate::DetailsDoc) {
        let case = CaseDoc::create(draft, editor, actor.clone());
        let details = crate::DetailsDoc::create(&draft.id, &draft.unit, others, editor, actor);
        (case, details)
    }

    pub fn header(&self) -> Result<crate::Header, Error> {
        read_header(&self.doc)
    }

    /// Hydrates the whole case: every value typed as [`CASE`] declares it.
    pub fn read(&self) -> Result<Case, Error> {
        read_case(&self.doc)
    }
}

/// [`CaseDoc::read`] of a document known to be a case, borrowed (no copy of it is made).
pub(crate) fn read_case(doc: &AutoCommit) -> Result<Case, Error> {
    read_case_after(doc, read_header(doc)?)
}

/// [`read_case`] with its header already read (the header is read once for a row).
pub(crate) fn read_case_after(doc: &AutoCommit, header: crate::Header) -> Result<Case, Error> {
    let mut f = Singles::new(doc);

    let mut steps: Vec<Step> = read_list(doc, &STEPS)
        .filter_map(|e| {
            Some(Step {
                id: e.id(),
                kind: e.code("kind")?,
                on: e.date("on")?,
                reason: e.str("reason"),
                outcome: e.code("outcome"),
                by: e.by(),
                at: e.at(),
                withdrawn: None,
            })
        })
        .collect();
    steps.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    for w in read_list(doc, &WITHDRAWALS) {
        let Some(target) = w.str("step") else {
            continue;
        };
        if let Some(step) = steps
            .iter_mut()
            .find(|s| s.id.to_string() == target && s.withdrawn.is_none())
        {
            step.withdrawn = Some(crate::kinds::case::Withdrawn {
                by: w.by(),
                at: w.at(),
                reason: w.text("reason"),
            });
        }
    }

    let mut note_entries: Vec<crate::kinds::case::Note> = read_list(doc, &NOTES)
        .map(|e| crate::kinds::case::Note {
            id: e.id(),
            text: e.text("text"),
            by: e.by(),
            at: e.at(),
            device: e.device(),
        })
        .collect();
    note_entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));

    let attachments: Vec<crate::kinds::case::Attachment> = read_list(doc, &ATTACHMENTS)
        .filter_map(|e| {
            Some(crate::kinds::case::Attachment {
                id: e.id(),
                hash: e.str("hash")?,
                name: e.str("name").unwrap_or_default(),
                mime: e.str("mime")?,
                size: e.int("size")?,
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();

    let mut follow_ups: Vec<FollowUp> = read_list(doc, &FOLLOW_UPS)
        .filter_map(|e| {
            Some(FollowUp {
                id: e.id(),
                on: e.date("on")?,
                text: e.text("text"),
                place: e.str("place"),
                visitors: e.str("visitors"),
                met: e.str("met"),
                attitude: e.str("attitude"),
                outcome: e.str("outcome"),
                next_step: e.str("next_step"),
                by: e.by(),
                at: e.at(),
                device: e.device(),
            })
        })
        .collect();
    follow_ups.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));

    let mut evening_starts: Vec<EveningStart> = read_list(doc, &EVENING_STARTS)
        .filter_map(|e| {
            Some(EveningStart {
                id: e.id(),
                on: e.date("on")?,
                visitors: e.text("visitors"),
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    evening_starts.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    let mut evening_logs: Vec<EveningEntry> = read_list(doc, &EVENING_LOGS)
        .filter_map(|e| {
            Some(EveningEntry {
                id: e.id(),
                on: e.date("on")?,
                held: e.flag("held"),
                time: e.str("time"),
                talk: e.text("talk"),
                attitude: e.str("attitude"),
                agreement: e.str("agreement"),
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    evening_logs.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    let mut evaluations: Vec<Evaluation> = read_list(doc, &EVALUATIONS)
        .filter_map(|e| {
            Some(Evaluation {
                id: e.id(),
                on: e.date("on")?,
                office: e.code("office")?,
                unit: e.code("unit")?,
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    evaluations.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    let mut progress: Vec<Progress> = read_list(doc, &PROGRESS)
        .filter_map(|e| {
            Some(Progress {
                id: e.id(),
                track: e.str("track")?,
                on: e.date("on")?,
                text: e.text("text"),
                done: e.flag("done"),
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    progress.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    let assisting: Vec<UnitId> = flags(doc, "assisting")
        .filter_map(|k| UnitId::new(&k).ok())
        .collect();
    let campaigns: Vec<EntryId> = flags(doc, "campaigns")
        .filter_map(|k| EntryId::parse(&k).ok())
        .collect();
    let mut aid: Vec<Aid> = read_list(doc, &AID)
        .filter_map(|e| {
            Some(Aid {
                id: e.id(),
                amount: e.int("amount")?,
                reason: e.text("reason"),
                approved_by: e.text("approved_by"),
                approved_on: e.date("approved_on"),
                paid_on: e.date("paid_on"),
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    aid.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let mut hearings: Vec<Hearing> = read_list(doc, &HEARINGS)
        .filter_map(|e| {
            Some(Hearing {
                id: e.id(),
                on: e.date("on")?,
                participants: e.text("participants"),
                conclusion: e.text("conclusion"),
                by: e.by(),
                at: e.at(),
            })
        })
        .collect();
    hearings.sort_by(|a, b| (a.on, a.at, &a.id).cmp(&(b.on, b.at, &b.id)));
    let petitioners = read_list(doc, &PETITIONERS)
        .map(|e| Petitioner {
            id: e.id(),
            name: e.text("name"),
            id_number: None,
            phone: None,
            address: None,
            masked: crate::kinds::case::Masked {
                id_number: e.str("id_masked"),
                phone: e.str("phone_masked"),
                address: e.str("address_masked"),
            },
        })
        .collect();
    let four_people = [
        Field::FourCountyLeader,
        Field::FourDeptLeader,
        Field::FourTownshipLeader,
        Field::FourOfficer,
    ]
    .map(|field| f.text(field.name()));

    Ok(Case {
        header,
        reference: f.text(Field::Reference.name()),
        channel: f.code(Field::Channel.name()),
        form: f.code(Field::Form.name()),
        people: f.int(Field::People.name()),
        level: f.code(Field::Level.name()),
        source: f.code(Field::Source.name()),
        category: f.code(Field::Category.name()),
        matter_kind: f.code(Field::MatterKind.name()),
        responsible_unit: f
            .text(Field::ResponsibleUnit.name())
            .and_then(|u| UnitId::new(&u).ok()),
        handler: f.text(Field::Handler.name()),
        leader: f.text(Field::Leader.name()),
        archived: f.flag(Field::Archived.name()),
        summary: text_at(doc, &ROOT, "summary"),
        notes: text_at(doc, &ROOT, "notes")
            .trim_end_matches('\n')
            .to_string(),
        petitioners,
        steps,
        follow_ups,
        note_entries,
        attachments,
        evening_starts,
        evening_logs,
        evening_outcome: f.code(Field::EveningOutcome.name()),
        evaluations,
        package_due: f.date(Field::PackageDue.name()),
        four_people,
        progress,
        assisting,
        campaigns,
        aid,
        hearings,
        dispute: f.text(Field::Dispute.name()).and_then(|d| d.parse().ok()),
        conflicts: f.conflicts,
    })
}

impl CaseDoc {
    fn commit(&mut self, editor: &Editor) {
        commit(&mut self.doc, editor)
    }

    fn header_obj(&self) -> Result<ObjId, Error> {
        map_obj(&self.doc, &ROOT, "header").ok_or_else(|| Error::Malformed("no header".into()))
    }

    fn obj(&self, parent: &ObjId, key: &str) -> Result<ObjId, Error> {
        match self.doc.get(parent, key)? {
            Some((Value::Object(_), id)) => Ok(id),
            _ => Err(Error::Malformed(format!("no {key} in the document"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OptionCode, SCHEMA_VERSION};

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
        assert_eq!(case.channel.code(), Some("visit"));
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
        assert_eq!(case.read().unwrap().channel.code(), Some("visit"));
    }

    #[test]
    fn notes_written_on_two_devices_at_once_are_both_kept_with_their_authors() {
        let mut a = new_case();
        let actor_b = ActorId::random();
        let mut b = CaseDoc::load(&a.save(), actor_b.clone()).unwrap();
        a.add_note(&editor("mediator"), "第一晚：当事人情绪激动")
            .unwrap();
        b.add_note(&editor("mediator2"), "村干部表示愿意协调")
            .unwrap();
        b.add_note(&editor("mediator2"), "约定周五再谈").unwrap();
        a.doc.merge(&mut b.doc).unwrap();
        b.doc.merge(&mut a.doc).unwrap();
        let (ra, rb) = (a.read().unwrap(), b.read().unwrap());
        assert_eq!(
            ra.note_entries, rb.note_entries,
            "the same notes in the same order"
        );
        let mut who: Vec<(&str, &str)> = ra
            .note_entries
            .iter()
            .map(|n| (n.by.as_str(), n.text.as_str()))
            .collect();
        who.sort();
        assert_eq!(
            who,
            vec![
                ("mediator", "第一晚：当事人情绪激动"),
                ("mediator2", "村干部表示愿意协调"),
                ("mediator2", "约定周五再谈"),
            ]
        );
        // Each says which device wrote it: the entry's own actor.
        let from_b: Vec<&str> = ra
            .note_entries
            .iter()
            .filter(|n| n.device == actor_b.to_hex_string())
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(from_b.len(), 2);
        assert!(
            a.add_note(&editor("x"), "   ").is_err(),
            "an empty note is refused"
        );
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
