//! A case's personal details 个人信息: the petitioners' ID numbers, phones and addresses, in a
//! companion document of their own (header kind `details`) whose units are only the units that
//! *handle* the case — the unit that registered it, its responsible unit and the petition bureau
//! (DOMAIN.md "Privacy and scope"). Access control is per document, so a device of an
//! assisting unit, or of a unit above the responsible one, never receives them: the case
//! itself keeps the petitioner's name and the masked forms (4101**********1234, 138****5678).
//!
//! Its id is worked out from the case's ([`DocId::details_of`]), so every device that has the
//! case finds it, and the server never has two. It is made with the case
//! ([`crate::CaseDoc::create_with_details`]); its entries are written through the case's
//! petitioner edits, which write the masked forms into the case at the same time.
//!
//! The server lets a user's device have it only when one of the user's *own* units is among
//! its units (not the units below them, as for every other document).

use automerge::{
    ActorId, AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable,
};
use serde::Serialize;

use crate::kit::cells::{commit, new_document, read_header, set_field};
use crate::kit::schema::{
    AT, BY, ID, KindDecl, LINE, ListDecl, ValueType, opt, push_entry, read_list, req, update_entry,
};
use crate::{DocId, Editor, EntryId, Error, Header, UnitId};

pub(crate) const PEOPLE: ListDecl = ListDecl {
    name: "people",
    entry: &[
        ID,
        // The case's petitioner entry these details belong to.
        req("petitioner", ValueType::Entry),
        opt("id_number", LINE),
        opt("phone", LINE),
        opt("address", LINE),
        BY,
        AT,
    ],
};

/// The personal details of a case's petitioners: the declaration creation, reading and the
/// server's check share.
pub static DETAILS: KindDecl = KindDecl {
    name: "details",
    fields: &[opt("case", ValueType::Doc)],
    texts: &[],
    lists: &[PEOPLE],
    sets: &[],
};

/// The keys of a petitioner's personal details.
pub const DETAIL_KEYS: [&str; 3] = ["id_number", "phone", "address"];

impl DocId {
    /// The id of the details document of the case `case`: the same on every device.
    pub fn details_of(case: &DocId) -> DocId {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(b"lianxin details of ");
        hash.update(case.as_bytes());
        let digest = hash.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest[..16]);
        DocId::from_bytes(id)
    }
}

/// The units that handle a case and so see its personal details: the unit that registered it,
/// its responsible unit (if one is set) and the petition bureau (the roots of the unit tree).
pub fn handling_units(
    directory: &[crate::protocol::Unit],
    registering: &UnitId,
    responsible: Option<&UnitId>,
) -> Vec<UnitId> {
    let mut units = vec![registering.clone()];
    units.extend(responsible.cloned());
    units.extend(
        directory
            .iter()
            .filter(|u| u.parent.is_none())
            .filter_map(|u| UnitId::new(&u.id).ok()),
    );
    units.sort();
    units.dedup();
    units
}

/// An ID number as those who do not handle the case see it: the first four and last four
/// characters (4101**********1234).
pub fn mask_id_number(id: &str) -> String {
    mask(id.trim(), 4, 4)
}

/// A phone as those who do not handle the case see it: 138****5678.
pub fn mask_phone(phone: &str) -> String {
    mask(phone.trim(), 3, 4)
}

/// An address as those who do not handle the case see it: its first six characters (the
/// county and township), the rest hidden.
pub fn mask_address(address: &str) -> String {
    let chars: Vec<char> = address.trim().chars().collect();
    let kept = chars.len().min(6).min(chars.len().saturating_sub(1));
    let mut out: String = chars[..kept].iter().collect();
    out.push_str("****");
    out
}

/// The masked form of a detail by its key.
pub fn mask_detail(key: &str, value: &str) -> String {
    match key {
        "id_number" => mask_id_number(value),
        "phone" => mask_phone(value),
        _ => mask_address(value),
    }
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        // Too short to show any of it.
        return "*".repeat(chars.len().max(4));
    }
    let hidden = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// One petitioner's details.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PersonDetails {
    pub petitioner: Option<EntryId>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// The details document, hydrated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Details {
    pub header: Header,
    pub case: Option<DocId>,
    pub people: Vec<PersonDetails>,
}

impl Details {
    /// The details of the petitioner `id` of the case, if any were recorded.
    pub fn of(&self, id: &EntryId) -> Option<&PersonDetails> {
        self.people
            .iter()
            .find(|p| p.petitioner.as_ref() == Some(id))
    }
}

#[derive(Clone, Debug)]
pub struct DetailsDoc {
    doc: AutoCommit,
}

impl DetailsDoc {
    /// The details document of a new case, belonging to the units that handle it.
    /// `first` is the registering unit; `others` the rest of [`handling_units`].
    pub fn create(
        case: &DocId,
        first: &UnitId,
        others: &[UnitId],
        editor: &Editor,
        actor: ActorId,
    ) -> DetailsDoc {
        let mut doc = new_document(&DETAILS, DocId::details_of(case), first, "", editor, actor);
        let _ = set_field(
            &mut doc,
            &DETAILS,
            "case",
            ScalarValue::Str(case.to_string().into()),
            editor,
        );
        let mut d = DetailsDoc { doc };
        for unit in others {
            let _ = d.put_unit(unit);
        }
        commit(&mut d.doc, editor);
        d
    }

    pub fn from_doc(doc: AutoCommit) -> Result<DetailsDoc, Error> {
        let header = read_header(&doc)?;
        if header.kind != DETAILS.name {
            return Err(Error::WrongKind(format!(
                "a {} is not a case's personal details",
                header.kind
            )));
        }
        Ok(DetailsDoc { doc })
    }

    pub fn doc(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn doc_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    pub fn into_doc(self) -> AutoCommit {
        self.doc
    }

    fn put_unit(&mut self, unit: &UnitId) -> Result<(), Error> {
        let header = match self.doc.get(ROOT, "header")? {
            Some((automerge::Value::Object(ObjType::Map), id)) => id,
            _ => return Err(Error::Malformed("no header".into())),
        };
        let units = match self.doc.get(&header, "units")? {
            Some((automerge::Value::Object(ObjType::Map), id)) => id,
            _ => return Err(Error::Malformed("no units in the header".into())),
        };
        self.doc.put(&units, unit.as_str(), true)?;
        Ok(())
    }

    /// A unit that now handles the case (its new responsible unit) gets the details too.
    pub fn share(&mut self, editor: &Editor, unit: &UnitId) -> Result<(), Error> {
        if self.header()?.units.contains(unit) {
            return Ok(());
        }
        self.put_unit(unit)?;
        commit(&mut self.doc, editor);
        Ok(())
    }

    pub fn header(&self) -> Result<Header, Error> {
        read_header(&self.doc)
    }

    /// Sets (or, with an empty value, clears) one detail of the petitioner `petitioner`.
    /// Uncommitted: the caller commits (the case's edit does, with the masked form).
    pub(crate) fn put(
        &mut self,
        editor: &Editor,
        petitioner: &EntryId,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        let value = value.trim();
        let existing = read_list(&self.doc, &PEOPLE)
            .find(|e| e.str("petitioner").as_deref() == Some(petitioner.as_str()))
            .map(|e| e.id());
        match existing {
            Some(id) => update_entry(
                &mut self.doc,
                &PEOPLE,
                id.as_str(),
                key,
                (!value.is_empty()).then(|| ScalarValue::Str(value.into())),
            ),
            None if value.is_empty() => Ok(()),
            None => push_entry(
                &mut self.doc,
                &PEOPLE,
                editor,
                &[
                    ("petitioner", ScalarValue::Str(petitioner.as_str().into())),
                    (key, ScalarValue::Str(value.into())),
                ],
            )
            .map(|_| ()),
        }
    }

    pub(crate) fn commit(&mut self, editor: &Editor) {
        commit(&mut self.doc, editor);
    }

    pub fn read(&self) -> Result<Details, Error> {
        read_details(&self.doc)
    }
}

/// [`DetailsDoc::read`] of a document known to be a case's details, borrowed.
pub(crate) fn read_details(doc: &AutoCommit) -> Result<Details, Error> {
    read_details_after(doc, read_header(doc)?)
}

/// [`read_details`] with its header already read.
pub(crate) fn read_details_after(
    doc: &AutoCommit,
    header: crate::Header,
) -> Result<Details, Error> {
    let mut f = crate::kit::cells::Singles::new(doc);
    let case = f.text("case").and_then(|c| c.parse().ok());
    let people = read_list(doc, &PEOPLE)
        .map(|e| PersonDetails {
            petitioner: e.str("petitioner").and_then(|p| EntryId::parse(&p).ok()),
            id_number: e.str("id_number"),
            phone: e.str("phone"),
            address: e.str("address"),
        })
        .collect();
    Ok(Details {
        header,
        case,
        people,
    })
}

/// Which operation of DOMAIN.md's table a change to a details document is: made with its case,
/// shared with a new responsible unit as an assignment, its entries written with the
/// petitioners (field work, like the case's petitioner list).
pub(crate) fn op(touch: &crate::rules::authority::Touch) -> crate::rules::authority::Op {
    use crate::rules::authority::{Op, Touch};
    match *touch {
        Touch::Create | Touch::Field(_) | Touch::Text(_) => Op::Register,
        Touch::Units | Touch::Set(_) => Op::Assign,
        Touch::Entry { .. } => Op::FieldWork,
    }
}
