//! Declarations: what a kind of document holds, written once, and the one check every
//! document passes.
//!
//! A kind declares its single-value fields with their value types, its texts with their caps,
//! its entry lists with their entry fields, and its unit sets ([`KindDecl`]). Creation
//! ([`crate::kit::cells::new_document`]) makes what the declaration lists; entries are written
//! through [`push_entry`], which refuses what the declaration would refuse; reading goes
//! through [`EntryRef`], typed by the same value types; and the server runs [`check`] over the
//! whole document after a device's changes, so the devices and the server cannot disagree on
//! what a valid document is.

use std::collections::HashSet;
use std::fmt;

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::kit::cells::{Editor, append_entry, entries_under};
pub use crate::kit::code::{Code, Label, OptionCode, Vocab, Vocabulary};
use crate::{Date, DocId, EntryId, Error, UnitId};

/// The schema version written into new documents.
pub const SCHEMA_VERSION: u64 = 1;

/// Longest name of a user or a person, and of any one-line text, in characters.
pub const LINE_CHARS: usize = 200;

/// The type of one stored value.
#[derive(Debug, Clone, Copy)]
pub enum ValueType {
    /// A string of 1 to `max` characters, not blank.
    Line {
        max: usize,
    },
    /// A string of 0 to `max` characters (free text kept as one value).
    Para {
        max: usize,
    },
    /// One code of a vocabulary.
    Code(&'static Vocab),
    /// One code of any of several vocabularies.
    AnyCode(&'static [&'static Vocab]),
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// A whole number in a range, of `what` (people, yuan; "" for a plain number).
    Int {
        min: i64,
        max: i64,
        what: &'static str,
    },
    Bool,
    /// A document id (32 hex digits).
    Doc,
    /// A unit id.
    Unit,
    /// An entry id.
    Entry,
    /// Milliseconds since the Unix epoch.
    Time,
    /// A personal detail as those who do not handle the case see it (138****5678): it hides
    /// something (`****`) and shows at most eight characters.
    Masked,
}

/// A short line of text: names, places, references.
pub const LINE: ValueType = ValueType::Line { max: LINE_CHARS };

impl ValueType {
    /// Whether `v` is a value of this type; the reason if not.
    pub fn check(&self, v: &ScalarValue) -> Result<(), String> {
        let string = || match v {
            ScalarValue::Str(s) => Ok(s.as_str()),
            other => Err(format!("expected text, found {}", kind_of(other))),
        };
        match *self {
            ValueType::Line { max } => {
                let s = string()?;
                let n = s.chars().count();
                if s.trim().is_empty() {
                    return Err(format!("expected 1 to {max} characters, found none"));
                }
                if n > max {
                    return Err(format!("at most {max} characters allowed, found {n}"));
                }
            }
            ValueType::Para { max } => {
                let n = string()?.chars().count();
                if n > max {
                    return Err(format!("expected at most {max} characters, found {n}"));
                }
            }
            ValueType::Code(vocab) => {
                let s = string()?;
                if !vocab.codes.contains(&s) {
                    return Err(format!(
                        "unknown {} {s:?} (expected one of {})",
                        vocab.name,
                        vocab.codes.join(", ")
                    ));
                }
            }
            ValueType::AnyCode(vocabs) => {
                let s = string()?;
                if !vocabs.iter().any(|v| v.codes.contains(&s)) {
                    return Err(format!("unknown code {s:?}"));
                }
            }
            ValueType::Date => {
                let s = string()?;
                s.parse::<Date>()
                    .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))?;
            }
            ValueType::Int { min, max, what } => {
                let n = match v {
                    ScalarValue::Int(n) => *n,
                    ScalarValue::Uint(n) => i64::try_from(*n).unwrap_or(i64::MAX),
                    other => return Err(format!("expected a number, found {}", kind_of(other))),
                };
                if !(min..=max).contains(&n) {
                    return Err(format!(
                        "expected a number of {what} from {min} to {max}, found {n}"
                    )
                    .replace("number of  from", "number from"));
                }
            }
            ValueType::Bool => {
                if !matches!(v, ScalarValue::Boolean(_)) {
                    return Err(format!("expected true or false, found {}", kind_of(v)));
                }
            }
            ValueType::Doc => {
                let s = string()?;
                s.parse::<DocId>()
                    .map_err(|_| format!("{s:?} is not a document id"))?;
            }
            ValueType::Unit => {
                let s = string()?;
                UnitId::new(s).map_err(|_| format!("{s:?} is not a unit id"))?;
            }
            ValueType::Entry => {
                let s = string()?;
                EntryId::parse(s).map_err(|_| format!("{s:?} is not an entry id"))?;
            }
            ValueType::Time => {
                if !matches!(v, ScalarValue::Timestamp(_) | ScalarValue::Int(_)) {
                    return Err(format!("expected a time, found {}", kind_of(v)));
                }
            }
            ValueType::Masked => {
                let s = string()?;
                let shown = s.chars().filter(|c| *c != '*').count();
                if !s.contains("****") || shown > 8 || s.chars().count() > LINE_CHARS {
                    // The value is not quoted: it may be an ID number or a phone, and
                    // reasons are logged and kept.
                    return Err(format!(
                        "a value of {shown} characters is not masked: personal details go in \
                         the case's details document"
                    ));
                }
            }
        }
        Ok(())
    }

    /// A value typed by a person, checked and turned into what the document stores.
    pub fn from_text(&self, text: &str) -> Result<ScalarValue, String> {
        let t = text.trim();
        let value = match *self {
            ValueType::Int { min, max, what } => match t.parse::<i64>() {
                Ok(n) => ScalarValue::Int(n),
                Err(_) => {
                    return Err(format!("expected a number of {what} from {min} to {max}")
                        .replace("number of  from", "number from"));
                }
            },
            ValueType::Bool => match t {
                "true" => ScalarValue::Boolean(true),
                "false" => ScalarValue::Boolean(false),
                _ => return Err("expected true or false".into()),
            },
            ValueType::Time => match t.parse::<i64>() {
                Ok(n) => ScalarValue::Timestamp(n),
                Err(_) => return Err("expected a time".into()),
            },
            ValueType::Para { .. } => ScalarValue::Str(text.into()),
            _ => ScalarValue::Str(t.into()),
        };
        self.check(&value)?;
        Ok(value)
    }
}

fn kind_of(v: &ScalarValue) -> &'static str {
    match v {
        ScalarValue::Str(_) => "text",
        ScalarValue::Int(_) | ScalarValue::Uint(_) | ScalarValue::F64(_) => "a number",
        ScalarValue::Boolean(_) => "true/false",
        ScalarValue::Timestamp(_) => "a time",
        ScalarValue::Null => "null",
        ScalarValue::Bytes(_) => "bytes",
        _ => "another value",
    }
}

/// One field: of a kind's `fields` map, or of an entry.
#[derive(Debug, Clone, Copy)]
pub struct FieldDecl {
    pub name: &'static str,
    pub ty: ValueType,
    /// An entry without it is not an entry (and is refused).
    pub required: bool,
}

/// A field an entry must have.
pub const fn req(name: &'static str, ty: ValueType) -> FieldDecl {
    FieldDecl {
        name,
        ty,
        required: true,
    }
}

/// A field that may be absent.
pub const fn opt(name: &'static str, ty: ValueType) -> FieldDecl {
    FieldDecl {
        name,
        ty,
        required: false,
    }
}

/// Every entry's stable id.
pub const ID: FieldDecl = req("id", ValueType::Entry);
/// Who recorded an entry, and when.
pub const BY: FieldDecl = req("by", LINE);
pub const AT: FieldDecl = req("at", ValueType::Time);

/// A list of entries under a root key; both devices' entries are kept.
#[derive(Debug)]
pub struct ListDecl {
    pub name: &'static str,
    pub entry: &'static [FieldDecl],
}

impl ListDecl {
    pub fn field(&self, name: &str) -> Option<&FieldDecl> {
        self.entry.iter().find(|f| f.name == name)
    }
}

/// A text under a root key, merged character by character.
#[derive(Debug)]
pub struct TextDecl {
    pub name: &'static str,
    pub max: usize,
}

/// What one kind of document holds.
#[derive(Debug)]
pub struct KindDecl {
    /// The header's `kind`.
    pub name: &'static str,
    /// Single values under `fields`, each a cell `{v, by, at}`.
    pub fields: &'static [FieldDecl],
    pub texts: &'static [TextDecl],
    pub lists: &'static [ListDecl],
    /// Maps of unit id → flag (a unit named or not), e.g. assisting units.
    pub sets: &'static [&'static str],
}

impl KindDecl {
    pub fn field(&self, name: &str) -> Option<&FieldDecl> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn list(&self, name: &str) -> Option<&ListDecl> {
        self.lists.iter().find(|l| l.name == name)
    }
    /// A single field, or the error a person sees for an unknown one.
    pub fn known_field(&self, name: &str) -> Result<&FieldDecl, Error> {
        self.field(name).ok_or_else(|| {
            let known: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
            Error::UnknownField(name.to_string(), known.join(", "))
        })
    }
}

/// What is wrong with a document, and where: `path` names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

fn violation(path: impl Into<String>, reason: impl Into<String>) -> Violation {
    Violation {
        path: path.into(),
        reason: reason.into(),
    }
}

/// The header's keys, and nothing else.
const HEADER_KEYS: &[&str] = &["id", "schema", "kind", "created_by", "created_at", "units"];
/// A single-value cell's keys.
const CELL_KEYS: &[&str] = &["v", "by", "at"];

/// Checks the whole document against its kind's declaration: no unknown key anywhere, every
/// value of its declared type (every competing value of a conflict included), every entry with
/// its required fields and a unique id, every text within its cap, units as a set of flags.
pub fn check<D: ReadDoc>(doc: &D, decl: &KindDecl) -> Result<(), Violation> {
    for key in doc.keys(&ROOT) {
        let expected = if key == "header" || key == "fields" || decl.sets.contains(&key.as_str()) {
            ObjType::Map
        } else if decl.texts.iter().any(|t| t.name == key) {
            ObjType::Text
        } else if decl.list(&key).is_some() {
            ObjType::List
        } else {
            return Err(violation(&key, format!("unknown key in a {}", decl.name)));
        };
        for (value, obj) in all(doc, &ROOT, &key) {
            if !matches!(value, Value::Object(t) if t == expected) {
                return Err(violation(&key, format!("must be a {expected:?}")));
            }
            match key.as_str() {
                "header" => check_header(doc, &obj)?,
                "fields" => check_fields(doc, &obj, decl)?,
                k if decl.sets.contains(&k) => check_set(doc, &obj, k)?,
                k => {
                    if let Some(text) = decl.texts.iter().find(|t| t.name == k) {
                        let n = doc.length(&obj);
                        if n > text.max {
                            return Err(violation(
                                k,
                                format!("text of {n} characters, at most {} allowed", text.max),
                            ));
                        }
                    }
                }
            }
        }
    }
    for list in decl.lists {
        let mut ids = HashSet::new();
        for (i, entry) in list_items(doc, list.name)?.into_iter().enumerate() {
            check_entry(doc, &entry, list, i, &mut ids)?;
        }
    }
    Ok(())
}

fn all<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Vec<(Value<'static>, ObjId)> {
    doc.get_all(obj, key)
        .unwrap_or_default()
        .into_iter()
        .map(|(v, id)| (v.into_owned(), id))
        .collect()
}

fn scalars<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    path: &str,
) -> Result<Vec<ScalarValue>, Violation> {
    all(doc, obj, key)
        .into_iter()
        .map(|(v, _)| match v {
            Value::Scalar(s) => Ok(s.into_owned()),
            Value::Object(t) => Err(violation(path, format!("expected a value, found a {t:?}"))),
        })
        .collect()
}

fn check_header<D: ReadDoc>(doc: &D, header: &ObjId) -> Result<(), Violation> {
    for key in doc.keys(header) {
        let path = format!("header.{key}");
        if !HEADER_KEYS.contains(&key.as_str()) {
            return Err(violation(path, "unknown key in the header"));
        }
        if key == "units" {
            for (value, units) in all(doc, header, "units") {
                if !matches!(value, Value::Object(ObjType::Map)) {
                    return Err(violation(path.clone(), "must be a map of unit → true"));
                }
                for unit in doc.keys(&units) {
                    let upath = format!("header.units.{unit}");
                    UnitId::new(&unit).map_err(|_| violation(&upath, "not a unit id"))?;
                    for v in scalars(doc, &units, &unit, &upath)? {
                        if v != ScalarValue::Boolean(true) {
                            return Err(violation(
                                upath,
                                "a document's units are flags set to true",
                            ));
                        }
                    }
                }
            }
            continue;
        }
        let ty = match key.as_str() {
            "id" => ValueType::Doc,
            "kind" | "created_by" => LINE,
            "created_at" => ValueType::Time,
            _ => ValueType::Int {
                min: 0,
                max: i64::MAX,
                what: "",
            },
        };
        for v in scalars(doc, header, &key, &path)? {
            ty.check(&v).map_err(|r| violation(&path, r))?;
        }
    }
    Ok(())
}

fn check_fields<D: ReadDoc>(doc: &D, fields: &ObjId, decl: &KindDecl) -> Result<(), Violation> {
    for key in doc.keys(fields) {
        let path = format!("fields.{key}");
        let field = decl
            .field(&key)
            .ok_or_else(|| violation(&path, format!("unknown field of a {}", decl.name)))?;
        for (value, cell) in all(doc, fields, &key) {
            if !matches!(value, Value::Object(ObjType::Map)) {
                return Err(violation(&path, "a field holds a cell {v, by, at}"));
            }
            for k in doc.keys(&cell) {
                if !CELL_KEYS.contains(&k.as_str()) {
                    return Err(violation(format!("{path}.{k}"), "unknown key in a cell"));
                }
            }
            let value = scalars(doc, &cell, "v", &path)?;
            if value.is_empty() {
                return Err(violation(&path, "a cell without a value"));
            }
            for v in value {
                field.ty.check(&v).map_err(|r| violation(&path, r))?;
            }
            for (k, ty) in [("by", BY.ty), ("at", AT.ty)] {
                for v in scalars(doc, &cell, k, &format!("{path}.{k}"))? {
                    ty.check(&v)
                        .map_err(|r| violation(format!("{path}.{k}"), r))?;
                }
            }
        }
    }
    Ok(())
}

fn check_set<D: ReadDoc>(doc: &D, set: &ObjId, name: &str) -> Result<(), Violation> {
    for unit in doc.keys(set) {
        let path = format!("{name}.{unit}");
        UnitId::new(&unit).map_err(|_| violation(&path, "not a unit id"))?;
        for v in scalars(doc, set, &unit, &path)? {
            ValueType::Bool.check(&v).map_err(|r| violation(&path, r))?;
        }
    }
    Ok(())
}

/// Every item of every list under `key` (two devices may each have made the list).
fn list_items<D: ReadDoc>(doc: &D, key: &str) -> Result<Vec<ObjId>, Violation> {
    let mut out = Vec::new();
    for (value, list) in all(doc, &ROOT, key) {
        if !matches!(value, Value::Object(ObjType::List)) {
            continue; // reported by the root check
        }
        for i in 0..doc.length(&list) {
            for (v, item) in doc.get_all(&list, i).unwrap_or_default() {
                if !matches!(v, Value::Object(ObjType::Map)) {
                    return Err(violation(format!("{key}[{i}]"), "an entry is a map"));
                }
                out.push(item);
            }
        }
    }
    Ok(out)
}

fn check_entry<D: ReadDoc>(
    doc: &D,
    entry: &ObjId,
    list: &ListDecl,
    i: usize,
    ids: &mut HashSet<String>,
) -> Result<(), Violation> {
    let at = |k: &str| format!("{}[{i}].{k}", list.name);
    for key in doc.keys(entry) {
        let field = list
            .field(&key)
            .ok_or_else(|| violation(at(&key), format!("unknown field of {}", list.name)))?;
        for v in scalars(doc, entry, &key, &at(&key))? {
            field.ty.check(&v).map_err(|r| violation(at(&key), r))?;
        }
    }
    for field in list.entry.iter().filter(|f| f.required) {
        if doc.get(entry, field.name).ok().flatten().is_none() {
            return Err(violation(at(field.name), "missing"));
        }
    }
    if list.field("id").is_some() {
        if let Ok(Some((Value::Scalar(s), _))) = doc.get(entry, "id") {
            if let ScalarValue::Str(id) = s.as_ref() {
                if !ids.insert(id.to_string()) {
                    return Err(violation(at("id"), format!("entry id {id} used twice")));
                }
            }
        }
    }
    Ok(())
}

/// Appends an entry to `list`, refusing what [`check`] would refuse. `id`, `by` and `at` are
/// filled in when the list declares them; returns the new entry's id.
pub fn push_entry(
    doc: &mut AutoCommit,
    list: &ListDecl,
    editor: &Editor,
    values: &[(&str, ScalarValue)],
) -> Result<EntryId, Error> {
    let id = EntryId::random();
    let mut all: Vec<(&str, ScalarValue)> = Vec::with_capacity(values.len() + 3);
    for (key, value) in [
        (ID.name, ScalarValue::Str(id.as_str().into())),
        (BY.name, ScalarValue::Str(editor.user.as_str().into())),
        (AT.name, ScalarValue::Timestamp(editor.now)),
    ] {
        if list.field(key).is_some() && !values.iter().any(|(k, _)| *k == key) {
            all.push((key, value));
        }
    }
    all.extend(values.iter().cloned());
    for (key, value) in &all {
        let field = list.field(key).ok_or_else(|| {
            Error::UnknownField(format!("{}.{key}", list.name), field_names(list.entry))
        })?;
        field
            .ty
            .check(value)
            .map_err(|reason| Error::InvalidValue {
                field: (*key).to_string(),
                value: scalar_text(value),
                reason,
            })?;
    }
    if let Some(missing) = list
        .entry
        .iter()
        .find(|f| f.required && !all.iter().any(|(k, _)| *k == f.name))
    {
        return Err(Error::InvalidValue {
            field: missing.name.into(),
            value: String::new(),
            reason: format!("an entry of {} needs it", list.name),
        });
    }
    let written = all.iter().find_map(|(k, v)| match (k, v) {
        (&"id", ScalarValue::Str(s)) => EntryId::parse(s).ok(),
        _ => None,
    });
    let entry = append_entry(doc, list.name)?;
    for (key, value) in all {
        automerge::transaction::Transactable::put(doc, &entry, key, value)?;
    }
    Ok(written.unwrap_or(id))
}

/// [`push_entry`] as one edit of its own: the entry, committed (every kind's "add an entry").
pub fn record_entry(
    doc: &mut AutoCommit,
    list: &ListDecl,
    editor: &Editor,
    values: &[(&str, ScalarValue)],
) -> Result<EntryId, Error> {
    let id = push_entry(doc, list, editor, values)?;
    crate::kit::cells::commit(doc, editor);
    Ok(id)
}

/// Changes (or, with None, clears) one field of the entry `id` of `list`, checked.
pub fn update_entry(
    doc: &mut AutoCommit,
    list: &ListDecl,
    id: &str,
    key: &str,
    value: Option<ScalarValue>,
) -> Result<(), Error> {
    let field = list.field(key).ok_or_else(|| {
        Error::UnknownField(format!("{}.{key}", list.name), field_names(list.entry))
    })?;
    let entry = read_list(doc, list)
        .find(|e| e.str("id").as_deref() == Some(id))
        .map(|e| e.obj)
        .ok_or_else(|| Error::NoSuchEntry(id.to_string()))?;
    match value {
        Some(v) => {
            field.ty.check(&v).map_err(|reason| Error::InvalidValue {
                field: key.into(),
                value: scalar_text(&v),
                reason,
            })?;
            automerge::transaction::Transactable::put(doc, &entry, key, v)?;
        }
        None if field.required => {
            return Err(Error::InvalidValue {
                field: key.into(),
                value: String::new(),
                reason: format!("an entry of {} needs it", list.name),
            });
        }
        None => automerge::transaction::Transactable::delete(doc, &entry, key)?,
    }
    Ok(())
}

fn field_names(fields: &[FieldDecl]) -> String {
    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

fn scalar_text(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// One entry of a list, read through its declared types.
pub struct EntryRef<'a, D> {
    doc: std::marker::PhantomData<&'a D>,
    pub(crate) obj: ObjId,
    /// The entry's scalar fields, read in one pass over its map (the winner of each).
    fields: Vec<(String, ScalarValue)>,
}

impl<'a, D: ReadDoc> EntryRef<'a, D> {
    pub(crate) fn new(doc: &'a D, obj: ObjId) -> Self {
        let fields = doc
            .map_range(&obj, ..)
            .filter_map(|item| match item.value {
                automerge::ValueRef::Scalar(s) => Some((item.key.to_string(), s.into())),
                automerge::ValueRef::Object(_) => None,
            })
            .collect();
        EntryRef {
            doc: std::marker::PhantomData,
            obj,
            fields,
        }
    }

    fn scalar(&self, key: &str) -> Option<ScalarValue> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
    pub fn str(&self, key: &str) -> Option<String> {
        match self.scalar(key)? {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }
    /// A text that reads as empty when absent.
    pub fn text(&self, key: &str) -> String {
        self.str(key).unwrap_or_default()
    }
    pub fn date(&self, key: &str) -> Option<Date> {
        self.str(key)?.parse().ok()
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.scalar(key)? {
            ScalarValue::Int(n) => Some(n),
            ScalarValue::Uint(n) => i64::try_from(n).ok(),
            _ => None,
        }
    }
    pub fn flag(&self, key: &str) -> bool {
        self.scalar(key) == Some(ScalarValue::Boolean(true))
    }
    pub fn code<T: Vocabulary>(&self, key: &str) -> Option<Code<T>> {
        self.str(key).map(|c| Code::of(&c))
    }
    /// The entry's id. [`read_list`] yields only entries whose required fields read, and every
    /// list declares [`ID`], so the fallback is never taken for a listed entry.
    pub fn id(&self) -> EntryId {
        self.str("id")
            .and_then(|s| EntryId::parse(&s).ok())
            .unwrap_or_else(EntryId::random)
    }
    pub fn by(&self) -> String {
        self.text("by")
    }
    pub fn at(&self) -> i64 {
        match self.scalar("at") {
            Some(ScalarValue::Timestamp(t) | ScalarValue::Int(t)) => t,
            _ => 0,
        }
    }
    /// The device (Automerge actor, hex) that made the entry.
    pub fn device(&self) -> String {
        match &self.obj {
            ObjId::Id(_, actor, _) => actor.to_hex_string(),
            ObjId::Root => String::new(),
        }
    }
}

/// The entries of `list` that are entries: those with every required field readable as its
/// type (a document from a newer device may hold others; they are skipped, not misread).
pub fn read_list<'a, D: ReadDoc>(
    doc: &'a D,
    list: &'a ListDecl,
) -> impl Iterator<Item = EntryRef<'a, D>> + 'a {
    entries_under(doc, list.name)
        .map(move |obj| EntryRef::new(doc, obj))
        .filter(move |e| {
            list.entry.iter().filter(|f| f.required).all(|f| {
                e.scalar(f.name)
                    .is_some_and(|v| f.ty.check(&v).is_ok() || matches!(f.ty, ValueType::Code(_)))
            })
        })
}
