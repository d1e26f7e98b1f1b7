//! Lianxin's heart: the case document, the domain vocabulary and the sync engine.
//!
//! This crate does no IO. It knows no HTTP, browser or database, so the server, the
//! command-line device and the browser app all run the same code, and it is tested natively.
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

mod case;
mod date;
pub mod demo;
pub mod dispute;
mod document;
mod engine;
mod error;
pub mod fieldwork;
mod ids;
pub mod protocol;
pub mod reception;
pub mod row;
pub mod rules;
mod validate;
pub mod vocab;

pub use case::{
    Aid, Case, Conflict, ConflictValue, Evaluation, EveningEntry, EveningStart, FollowUp, Header,
    Hearing, Petitioner, Progress, Step,
};
pub use date::Date;
pub use document::{
    AidDraft, CaseDoc, CaseDraft, Editor, EveningLogDraft, Field, FollowUpDraft, HearingDraft,
    SCHEMA_VERSION, StepDraft,
};
pub use engine::{DeviceSession, Replica, Task};
pub use error::Error;
pub use ids::{DocId, EntryId, UnitId};
pub use validate::{Refusal, check_incoming};
pub use vocab::{
    Category, Channel, Commitment, Committee, EveningOutcome, Form, FourRole, Level, MatterKind,
    MediationKind, MediationLevel, MediationResult, Outcome, PackageTask, ReceivedOutcome,
    Satisfaction, Source, StepKind,
};
