//! The kinds of document, each declared once in its own module ([`crate::CASE`],
//! [`crate::DISPUTE`], [`crate::RECEPTION`]), and the one place that tells them apart: [`Kind`],
//! opened from a document's header, and [`AnyDoc`], a document of any kind.
//!
//! Every `match` on a [`Kind`] or an [`AnyDoc`] names every kind, so a new kind makes the
//! compiler point at each place that must handle it (see ARCHITECTURE.md, "Adding a kind").

use automerge::{AutoCommit, ReadDoc};

use crate::kit::cells::read_header;
use crate::kit::schema::KindDecl;
use crate::rules::{Calendar, Limits};
use crate::{
    CASE, CaseDoc, CaseRow, DETAILS, DISPUTE, DetailsDoc, DetailsRow, DisputeDoc, DisputeRow,
    Error, RECEPTION, ReceptionDoc, ReceptionRow, StoredRow,
};

pub(crate) mod case;
pub(crate) mod case_doc;
pub(crate) mod details;
pub(crate) mod dispute;
pub(crate) mod reception;
pub(crate) mod reference;
pub(crate) mod row;
pub(crate) mod vocab;

/// The kinds of document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Case,
    Dispute,
    Reception,
    /// A case's personal details, apart from it ([`crate::DETAILS`]).
    Details,
    /// The county's reference data ([`crate::REFERENCE`]).
    Reference,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Case,
        Kind::Dispute,
        Kind::Reception,
        Kind::Details,
        Kind::Reference,
    ];

    /// The kind's declaration: its fields, texts and lists.
    pub fn decl(self) -> &'static KindDecl {
        match self {
            Kind::Case => &CASE,
            Kind::Dispute => &DISPUTE,
            Kind::Reception => &RECEPTION,
            Kind::Details => &DETAILS,
            Kind::Reference => &crate::REFERENCE,
        }
    }

    /// Which operation of DOMAIN.md's table a change to this kind is (for the server's
    /// [`crate::rules::authority::judge`]).
    pub fn op(self, touch: &crate::rules::authority::Touch) -> crate::rules::authority::Op {
        match self {
            Kind::Case => crate::kinds::case_doc::op(touch),
            Kind::Dispute => crate::rules::authority::Op::Mediate,
            Kind::Reception => crate::rules::authority::Op::Reception,
            Kind::Details => crate::kinds::details::op(touch),
            Kind::Reference => crate::rules::authority::Op::Reference,
        }
    }

    /// Texts only ever added to (no character removed): a case's notes.
    pub fn append_only(self, text: &str) -> bool {
        matches!((self, text), (Kind::Case, "notes"))
    }

    /// Lists whose entries, once recorded, are never rewritten (a step is withdrawn or
    /// corrected by a new one).
    pub fn entries_fixed(self, list: &str) -> bool {
        matches!(
            (self, list),
            (Kind::Case, "steps" | "evaluations" | "withdrawals")
        )
    }

    /// A kind's own rule over its entries before and after a change.
    pub(crate) fn lifecycle_rule(
        self,
        before: &crate::rules::authority::Entries,
        after: &crate::rules::authority::Entries,
    ) -> Result<(), String> {
        match self {
            Kind::Case => crate::rules::authority::one_conclusion(before, after),
            Kind::Dispute | Kind::Reception | Kind::Details | Kind::Reference => Ok(()),
        }
    }

    /// Who the server gives a document of this kind to.
    pub fn access(self) -> Access {
        match self {
            Kind::Case | Kind::Dispute | Kind::Reception => Access::Units,
            Kind::Details => Access::Own,
            Kind::Reference => Access::Everyone,
        }
    }

    /// The header's `kind` value.
    pub fn name(self) -> &'static str {
        self.decl().name
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind a document says it is, from its header.
    pub fn of<D: ReadDoc>(doc: &D) -> Result<Kind, Error> {
        let header = read_header(doc)?;
        Kind::from_name(&header.kind)
            .ok_or_else(|| Error::WrongKind(format!("unknown kind of document {:?}", header.kind)))
    }
}

/// Who may have a document, by its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Access {
    /// Users whose units see the document's (their own and every unit below): most kinds.
    #[default]
    Units,
    /// Users whose own units are among the document's: a case's personal details.
    Own,
    /// Every user: the reference data (assessment rules, campaigns).
    Everyone,
}

impl Access {
    /// As the server's store keeps it.
    pub fn code(self) -> i64 {
        match self {
            Access::Units => 0,
            Access::Own => 1,
            Access::Everyone => 2,
        }
    }

    pub fn from_code(code: i64) -> Access {
        match code {
            1 => Access::Own,
            2 => Access::Everyone,
            _ => Access::Units,
        }
    }
}

/// A document of any kind, opened by its header.
#[derive(Clone, Debug)]
pub enum AnyDoc {
    Case(CaseDoc),
    Dispute(DisputeDoc),
    Reception(ReceptionDoc),
    Details(DetailsDoc),
    Reference(crate::ReferenceDoc),
}

impl AnyDoc {
    pub fn open(doc: AutoCommit) -> Result<AnyDoc, Error> {
        Ok(match Kind::of(&doc)? {
            Kind::Case => AnyDoc::Case(CaseDoc::from_doc(doc)?),
            Kind::Dispute => AnyDoc::Dispute(DisputeDoc::from_doc(doc)?),
            Kind::Reception => AnyDoc::Reception(ReceptionDoc::from_doc(doc)?),
            Kind::Details => AnyDoc::Details(DetailsDoc::from_doc(doc)?),
            Kind::Reference => AnyDoc::Reference(crate::ReferenceDoc::from_doc(doc)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            AnyDoc::Case(_) => Kind::Case,
            AnyDoc::Dispute(_) => Kind::Dispute,
            AnyDoc::Reception(_) => Kind::Reception,
            AnyDoc::Details(_) => Kind::Details,
            AnyDoc::Reference(_) => Kind::Reference,
        }
    }

    pub fn doc(&self) -> &AutoCommit {
        match self {
            AnyDoc::Case(d) => d.doc(),
            AnyDoc::Dispute(d) => d.doc(),
            AnyDoc::Reception(d) => d.doc(),
            AnyDoc::Details(d) => d.doc(),
            AnyDoc::Reference(d) => d.doc(),
        }
    }

    pub fn into_doc(self) -> AutoCommit {
        match self {
            AnyDoc::Case(d) => d.into_doc(),
            AnyDoc::Dispute(d) => d.into_doc(),
            AnyDoc::Reception(d) => d.into_doc(),
            AnyDoc::Details(d) => d.into_doc(),
            AnyDoc::Reference(d) => d.into_doc(),
        }
    }

    /// The line the lists show for this document, worked out from the whole document.
    pub fn row(&self, limits: &Limits, calendar: &Calendar) -> Result<StoredRow, Error> {
        self.row_with(None, limits, calendar)
    }

    /// [`AnyDoc::row_with`] of a document and its case's details, both borrowed: a case and
    /// its details are read where they are (no copy of either is made, as opening them would).
    pub fn row_of(
        doc: &AutoCommit,
        details: Option<&AutoCommit>,
        limits: &Limits,
        calendar: &Calendar,
    ) -> Result<StoredRow, Error> {
        // Not a case's details (damaged, or of another kind): the row without them, as when
        // opening them fails.
        let details = details.map(AnyDoc::details_in).transpose()?.flatten();
        AnyDoc::row_of_read(doc, details.as_ref(), limits, calendar)
    }

    /// A case's personal details read from their document, borrowed; `None` when the document
    /// is of another kind or its header cannot be read. Read once, they serve both the case's
    /// row and their own ([`AnyDoc::row_of_read`], [`DetailsRow::of`]).
    pub fn details_in(doc: &AutoCommit) -> Result<Option<crate::Details>, Error> {
        let Ok(header) = read_header(doc) else {
            return Ok(None);
        };
        if Kind::from_name(&header.kind) != Some(Kind::Details) {
            return Ok(None);
        }
        crate::kinds::details::read_details_after(doc, header).map(Some)
    }

    /// [`AnyDoc::row_of`] with the case's details already read; the document's header is
    /// read once (its kind, then the rest of the document after it).
    pub fn row_of_read(
        doc: &AutoCommit,
        details: Option<&crate::Details>,
        limits: &Limits,
        calendar: &Calendar,
    ) -> Result<StoredRow, Error> {
        let header = read_header(doc)?;
        let kind = Kind::from_name(&header.kind).ok_or_else(|| {
            Error::WrongKind(format!("unknown kind of document {:?}", header.kind))
        })?;
        Ok(match kind {
            Kind::Case => {
                let mut case = crate::kinds::case_doc::read_case_after(doc, header)?;
                if let Some(details) = details {
                    case.with_details(details);
                }
                StoredRow::Case(CaseRow::of(&case, limits, calendar))
            }
            Kind::Details => StoredRow::Details(DetailsRow::of(
                &crate::kinds::details::read_details_after(doc, header)?,
            )),
            _ => AnyDoc::open(doc.clone())?.row_with(None, limits, calendar)?,
        })
    }

    /// [`AnyDoc::row`], a case's with its personal details when the device has them (the
    /// digests repeat linking compares come from them).
    pub fn row_with(
        &self,
        details: Option<&DetailsDoc>,
        limits: &Limits,
        calendar: &Calendar,
    ) -> Result<StoredRow, Error> {
        Ok(match self {
            AnyDoc::Case(d) => {
                let mut case = d.read()?;
                if let Some(details) = details {
                    case.with_details(&details.read()?);
                }
                StoredRow::Case(CaseRow::of(&case, limits, calendar))
            }
            AnyDoc::Details(d) => StoredRow::Details(DetailsRow::of(&d.read()?)),
            AnyDoc::Reference(d) => StoredRow::Reference(d.read()?.into()),
            AnyDoc::Dispute(d) => StoredRow::Dispute(DisputeRow::of(&d.read()?)),
            AnyDoc::Reception(d) => StoredRow::Reception(ReceptionRow::of(&d.read()?)),
        })
    }

    /// The hydrated document as JSON (what `lianxin device export` prints).
    pub fn to_json(&self) -> Result<serde_json::Value, Error> {
        let json = match self {
            AnyDoc::Case(d) => serde_json::to_value(d.read()?),
            AnyDoc::Dispute(d) => serde_json::to_value(d.read()?),
            AnyDoc::Reception(d) => serde_json::to_value(d.read()?),
            AnyDoc::Details(d) => serde_json::to_value(d.read()?),
            AnyDoc::Reference(d) => serde_json::to_value(d.read()?),
        };
        json.map_err(|e| Error::Protocol(e.to_string()))
    }
}
