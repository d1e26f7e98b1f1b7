//! Lianxin's heart: the document kinds, the domain vocabulary, the rules and the sync engine.
//!
//! This crate does no IO. It knows no HTTP, browser or database, so the server, the
//! command-line device and the browser app all run the same code, and it is tested natively.
//!
//! The modules are private; this façade is the API. They are grouped by what they own:
//! - `kit`: the document kit — ids, dates, the declarations of kinds ([`KindDecl`]) and the
//!   one check every document passes, cells and entry lists;
//! - `kinds`: the kinds of document (case, dispute, reception day), each declared once, their
//!   hydrated types and rows, the vocabularies, and [`Kind`] / [`AnyDoc`], the one dispatch
//!   point over them;
//! - `sync`: the wire protocol ([`protocol`]), the device's session engine, and the server's
//!   check of incoming changes;
//! - [`rules`] and [`fieldwork`]: the petition lifecycle and field-work rules, pure, with
//!   time as a parameter (the place reports will join).
//!
//! ```
//! use lianxin_shared::{CaseDraft, CaseDoc, Channel, Editor, UnitId};
//!
//! let editor = Editor::new("wang", 1_700_000_000_000);
//! let draft = CaseDraft::new(UnitId::new("wugang").unwrap(), Channel::Visit, "工资被拖欠三个月");
//! let mut case = CaseDoc::create(&draft, &editor, automerge::ActorId::random());
//! case.append_note(&editor, "已电话联系用人单位").unwrap();
//! assert_eq!(case.read().unwrap().notes, "已电话联系用人单位");
//! ```

#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "demo")]
pub mod demo_field;
mod error;
mod kinds;
mod kit;
pub mod ledger;
pub mod report;
pub mod rules;
mod sync;

pub use error::Error;
pub use kinds::case::{
    Aid, Attachment, Case, Conflict, ConflictValue, Evaluation, EveningEntry, EveningStart,
    FollowUp, Header, Hearing, Masked, Note, Petitioner, Progress, Step, Withdrawn,
};
pub use kinds::case_doc::{
    AidDraft, CASE, CaseDoc, CaseDraft, EveningLogDraft, Field, FollowUpDraft, HearingDraft,
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, StepDraft, content_hash,
};
pub use kinds::details::{
    DETAIL_KEYS, DETAILS, Details, DetailsDoc, PersonDetails, handling_units, mask_address,
    mask_detail, mask_id_number, mask_phone,
};
pub use kinds::dispute::{DISPUTE, Dispute, DisputeDoc, DisputeDraft, Escalation, Party, Session};
pub use kinds::reception::{
    Appointment, Matter, MatterDraft, RECEPTION, Reception, ReceptionDoc, ReceptionDraft, Tally,
};
pub use kinds::reference::{Campaign, REFERENCE, RULES, Reference, ReferenceDoc};
pub use kinds::row::{
    CaseRow, DetailsRow, DisputeRow, Evaluated, ROW_PACK_FORMAT, ReceptionRow, ReferenceRow,
    SUMMARY_CHARS, StoredRow, pack_rows, unpack_rows,
};
pub use kinds::vocab::{
    Category, Channel, Commitment, Committee, EveningOutcome, Form, FourRole, Level, MatterKind,
    MediationKind, MediationLevel, MediationResult, Outcome, PackageTask, ReceivedOutcome,
    Satisfaction, Source, StepKind,
};
pub use kinds::{Access, AnyDoc, Kind};
pub use kit::cells::{Editor, load_document};
pub use kit::date::Date;
pub use kit::ids::{DocId, EntryId, UnitId};
pub use kit::schema::{
    Code, FieldDecl, KindDecl, Label, ListDecl, OptionCode, SCHEMA_VERSION, TextDecl, ValueType,
    Violation, Vocab, Vocabulary,
};
pub use rules::fieldwork;
pub use sync::check::{Checked, Refusal, check_incoming, reply};
pub use sync::engine::{DeviceSession, Replica, Task};
pub use sync::inflate::inflation_bomb;
pub use sync::protocol;
pub use sync::push;
pub use sync::units::{UnitTree, visible_units};
