//! The document kit: how any kind of document is laid out in Automerge, written and read.
//!
//! Every kind (case, dispute, reception day) is a root map with a `header`, a `fields` map of
//! single-value cells, texts and entry lists; these are the only functions that touch those
//! shapes, so the kinds never restate them.

use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::{CommitOptions, Transactable},
};

use crate::kit::schema::{Code, KindDecl, SCHEMA_VERSION, Vocabulary};
use crate::{Conflict, ConflictValue, Date, DocId, Error, Header, UnitId};

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

/// Loads a saved document. Automerge's parser has been fuzzed to panic on some malformed
/// inputs (`shared/tests/fuzz-crashers/load/`); a panic here is turned into an error, so a
/// damaged store or a hostile snapshot costs one document, not the process. Chunks no save of
/// ours writes (a bundle, whose counts can make the parser allocate gigabytes from a hundred
/// bytes: `tests/fuzz-crashers/load/oom-*`) are refused before Automerge sees them: an allocation failure cannot
/// be caught.
pub fn load_document(bytes: &[u8]) -> Result<AutoCommit, Error> {
    crate::sync::inflate::stored_chunks(bytes)
        .map_err(|why| Error::Malformed(format!("the saved document could not be read: {why}")))?;
    match std::panic::catch_unwind(|| AutoCommit::load(bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(Error::Malformed(
            "the saved document could not be read".into(),
        )),
    }
}

/// A new document of the kind `decl`: its header (id, schema, kind, creator, the one unit it
/// belongs to) and every map, text and list the declaration names, the `summary` text holding
/// `summary`. Every change is signed with `actor`; the first commit is left to the caller.
pub(crate) fn new_document(
    decl: &KindDecl,
    id: DocId,
    unit: &UnitId,
    summary: &str,
    editor: &Editor,
    actor: ActorId,
) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(actor);
    let build = |doc: &mut AutoCommit| -> Result<(), automerge::AutomergeError> {
        let header = doc.put_object(ROOT, "header", ObjType::Map)?;
        doc.put(&header, "id", id.to_string())?;
        doc.put(&header, "schema", SCHEMA_VERSION)?;
        doc.put(&header, "kind", decl.name)?;
        doc.put(&header, "created_by", editor.user.as_str())?;
        doc.put(&header, "created_at", ScalarValue::Timestamp(editor.now))?;
        let units = doc.put_object(&header, "units", ObjType::Map)?;
        doc.put(&units, unit.as_str(), true)?;
        doc.put_object(ROOT, "fields", ObjType::Map)?;
        for text in decl.texts {
            let t = doc.put_object(ROOT, text.name, ObjType::Text)?;
            if text.name == "summary" {
                doc.splice_text(&t, 0, 0, summary)?;
            }
        }
        for list in decl.lists {
            doc.put_object(ROOT, list.name, ObjType::List)?;
        }
        for set in decl.sets {
            doc.put_object(ROOT, *set, ObjType::Map)?;
        }
        Ok(())
    };
    // Writing into a fresh document cannot fail; if it ever did, the error surfaces on read.
    let _ = build(&mut doc);
    doc
}

/// Sets the single-value field `name` of a document of the kind `decl`, refusing a value the
/// declaration refuses.
pub(crate) fn set_field(
    doc: &mut AutoCommit,
    decl: &KindDecl,
    name: &str,
    value: ScalarValue,
    editor: &Editor,
) -> Result<(), Error> {
    let field = decl.known_field(name)?;
    field
        .ty
        .check(&value)
        .map_err(|reason| Error::InvalidValue {
            field: name.into(),
            value: match &value {
                ScalarValue::Str(s) => s.to_string(),
                other => other.to_string(),
            },
            reason,
        })?;
    put_cell(doc, name, value, editor)
}

/// Sets the field `name` from a person's text, checked by its declared type.
pub(crate) fn set_field_text(
    doc: &mut AutoCommit,
    decl: &KindDecl,
    name: &str,
    text: &str,
    editor: &Editor,
) -> Result<ScalarValue, Error> {
    let field = decl.known_field(name)?;
    let value = field
        .ty
        .from_text(text)
        .map_err(|reason| Error::InvalidValue {
            field: name.into(),
            value: text.into(),
            reason,
        })?;
    put_cell(doc, name, value.clone(), editor)?;
    Ok(value)
}

/// Sets a single-value field: a fresh cell {v, by, at} under `fields`, so concurrent sets
/// on two devices are kept side by side as a conflict ([`read_single`]).
fn put_cell(
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
        Some(_) => return Err(Error::Malformed(format!("{key} is not a list"))),
        None => doc.put_object(ROOT, key, ObjType::List)?,
    };
    Ok(doc.insert_object(&list, doc.length(&list), ObjType::Map)?)
}

pub(crate) fn commit(doc: &mut AutoCommit, editor: &Editor) {
    doc.commit_with(CommitOptions::default().with_time(editor.now / 1000));
}

/// Reads a document's header; shared by the device and the server's validation.
pub(crate) fn read_header<D: ReadDoc>(doc: &D) -> Result<Header, Error> {
    let header =
        map_obj(doc, &ROOT, "header").ok_or_else(|| Error::Malformed("no header".into()))?;
    let missing = |what: &str| Error::Malformed(format!("header has no {what}"));
    // The header's fields in one pass over its map (a read each would seek it each time).
    let mut scalars: Vec<(String, ScalarValue)> = Vec::new();
    let mut units_obj = None;
    for item in doc.map_range(&header, ..) {
        match item.value {
            automerge::ValueRef::Scalar(s) => scalars.push((item.key.to_string(), s.into())),
            automerge::ValueRef::Object(ObjType::Map) if item.key == "units" => {
                units_obj = Some(item.id());
            }
            automerge::ValueRef::Object(_) => {}
        }
    }
    let scalar = |key: &str| scalars.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let text = |key: &str| match scalar(key) {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    let id = text("id").ok_or_else(|| missing("id"))?;
    let id: DocId = id
        .parse()
        .map_err(|_| Error::Malformed(format!("header id {id:?} is not a document id")))?;
    let schema = match scalar("schema") {
        Some(ScalarValue::Uint(n)) => *n,
        Some(ScalarValue::Int(n)) if *n >= 0 => *n as u64,
        _ => return Err(missing("schema version")),
    };
    let kind = text("kind").ok_or_else(|| missing("kind"))?;
    let units_obj = units_obj.ok_or_else(|| missing("units"))?;
    let mut units = Vec::new();
    for key in doc.keys(&units_obj) {
        units
            .push(UnitId::new(&key).map_err(|_| Error::Malformed(format!("bad unit id {key:?}")))?);
    }
    if units.is_empty() {
        return Err(missing("unit"));
    }
    Ok(Header {
        id,
        schema,
        kind,
        units,
        created_by: text("created_by").unwrap_or_default(),
        created_at: match scalar("created_at") {
            Some(ScalarValue::Timestamp(t) | ScalarValue::Int(t)) => *t,
            _ => 0,
        },
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
pub(crate) fn entries_under<'a, D: ReadDoc>(
    doc: &'a D,
    key: &str,
) -> impl Iterator<Item = ObjId> + 'a {
    let lists: Vec<ObjId> = doc
        .get_all(ROOT, key)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::List)).then_some(id))
        .collect();
    // One pass over each list (an index at a time would seek the list again for each).
    lists.into_iter().flat_map(move |list| {
        doc.list_range(&list, ..)
            .filter(|item| matches!(item.value, automerge::ValueRef::Object(ObjType::Map)))
            .map(|item| item.id())
            .collect::<Vec<_>>()
    })
}

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
    /// The cells of `fields`, read in one pass: name, the winning cell, and whether other
    /// values compete with it (then the cell is read in full, with who set each).
    cells: Vec<(String, ObjId, bool)>,
    pub conflicts: Vec<Conflict>,
}

impl<'a, D: ReadDoc> Singles<'a, D> {
    pub(crate) fn new(doc: &'a D) -> Self {
        let fields = map_obj(doc, &ROOT, "fields");
        let cells = fields
            .as_ref()
            .map(|f| {
                doc.map_range(f, ..)
                    .filter(|item| matches!(item.value, automerge::ValueRef::Object(ObjType::Map)))
                    .map(|item| (item.key.to_string(), item.id(), item.conflict))
                    .collect()
            })
            .unwrap_or_default();
        Singles {
            doc,
            fields,
            cells,
            conflicts: Vec::new(),
        }
    }

    /// The value shown (the winner), recording a conflict if there are several.
    pub(crate) fn value(&mut self, name: &str) -> Option<serde_json::Value> {
        let fields = self.fields.as_ref()?;
        // A cell nobody has competed for: its value alone (the common case, one read).
        match self.cells.iter().find(|(n, _, _)| n == name) {
            None => return None,
            Some((_, cell, false)) => {
                return match self.doc.get(cell, "v") {
                    Ok(Some((Value::Scalar(s), _))) => Some(scalar_json(s.as_ref())),
                    _ => None,
                };
            }
            Some((_, _, true)) => {}
        }
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

    pub(crate) fn code<T: Vocabulary>(&mut self, name: &str) -> Option<Code<T>> {
        self.text(name).map(|c| Code::of(&c))
    }

    pub(crate) fn date(&mut self, name: &str) -> Option<Date> {
        self.text(name).and_then(|d| d.parse().ok())
    }

    pub(crate) fn int(&mut self, name: &str) -> Option<i64> {
        self.value(name).and_then(|v| v.as_i64())
    }

    pub(crate) fn flag(&mut self, name: &str) -> bool {
        self.value(name).and_then(|v| v.as_bool()).unwrap_or(false)
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
