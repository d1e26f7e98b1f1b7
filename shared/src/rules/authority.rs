//! The server is the authority: who may do what (DOMAIN.md "Who may do what"), who did it,
//! and nothing erased. Pure: the server hands in its document before a device's changes and
//! after them, the kind's declaration and who is signed in ([`Signer`]); [`judge`] compares
//! the two — which single values, texts, entries, sets and units the changes touched — and
//! says whether the signed-in user may have made them.
//!
//! - **Roles**: every touched thing is an [`Op`] (each kind says which, [`Kind::op`]), and
//!   [`may`] is the table.
//! - **Authorship**: a new value or entry must say it was made by the signed-in user, at a
//!   time not beyond the server's clock by more than [`CLOCK_TOLERANCE_MS`] (edits made
//!   offline days ago are normal; the year 2230 is not). A new document's header likewise.
//! - **Nothing erased**: no single value's key, no list entry, no character of an append-only
//!   text (the notes) and no set member may be removed; a value or entry already stored is
//!   not rewritten in place (a value is corrected by setting it again, which keeps the old
//!   one in the history). A case is concluded once, again only after a review reopened it.

use std::collections::{BTreeMap, HashMap};

use automerge::{ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::Kind;
use crate::kit::cells::{entries_under, map_obj, read_header};
use crate::kit::schema::KindDecl;

/// How far ahead of the server's clock a device's clock may be.
pub const CLOCK_TOLERANCE_MS: i64 = 10 * 60 * 1000;

/// The roles of DOMAIN.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Registrar,
    Handler,
    Mediator,
    Leader,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Registrar,
        Role::Handler,
        Role::Mediator,
        Role::Leader,
        Role::Admin,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Role::Registrar => "registrar",
            Role::Handler => "handler",
            Role::Mediator => "mediator",
            Role::Leader => "leader",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }
}

/// The operations of DOMAIN.md's table, one per row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Register a case (and its registration details: channel, form, people, level, source,
    /// category, reference, summary, the 登记 step).
    Register,
    /// Responsible unit, assisting units, the units a case belongs to, 转送 / 交办 steps.
    Assign,
    /// 告知 … 办结: acceptance, handling, extension and conclusion steps; the handler.
    Handle,
    /// The petitioner's evaluation 评价; review and re-review steps.
    Evaluate,
    /// Notes, follow-up visits, seven evenings, progress notes, petitioners' details, hearings.
    FieldWork,
    /// A case package 包案 (leader, due date), 四定四包 people.
    Package,
    /// Hardship aid.
    ApproveAid,
    /// Disputes.
    Mediate,
    /// Reception days and their matters.
    Reception,
    /// Archive / unarchive.
    Archive,
    /// Reference data: units, users, devices, calendar, assessment rules.
    Reference,
    /// Export and import ledgers.
    Ledger,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::Register,
        Op::Assign,
        Op::Handle,
        Op::Evaluate,
        Op::FieldWork,
        Op::Package,
        Op::ApproveAid,
        Op::Mediate,
        Op::Reception,
        Op::Archive,
        Op::Reference,
        Op::Ledger,
    ];

    /// Said in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Op::Register => "register cases",
            Op::Assign => "assign cases (responsible and assisting units, 转送/交办)",
            Op::Handle => "record acceptance, handling, extension or conclusion (告知…办结)",
            Op::Evaluate => "record evaluations, reviews or re-reviews",
            Op::FieldWork => "record field work",
            Op::Package => "take case packages (包案, 四定四包)",
            Op::ApproveAid => "approve hardship aid",
            Op::Mediate => "work on disputes",
            Op::Reception => "record reception days",
            Op::Archive => "archive cases",
            Op::Reference => "change reference data",
            Op::Ledger => "export or import ledgers",
        }
    }
}

/// DOMAIN.md's table: may `role` do `op` (on the cases it may see)?
pub fn may(role: Role, op: Op) -> bool {
    use Op::*;
    use Role::*;
    match role {
        Admin => true,
        Registrar => matches!(
            op,
            Register | Assign | Evaluate | FieldWork | Package | Reception | Archive | Ledger
        ),
        Handler => matches!(op, Register | Handle | FieldWork | Ledger),
        Mediator => matches!(op, Register | FieldWork | Mediate),
        Leader => matches!(op, FieldWork | Package | ApproveAid | Reception | Ledger),
    }
}

/// Something a change touched, for [`Kind::op`] to name its operation.
#[derive(Clone, Copy, Debug)]
pub enum Touch<'a> {
    /// A new document.
    Create,
    Field(&'a str),
    Text(&'a str),
    /// An entry of a list; `kind` is a step's kind code.
    Entry {
        list: &'a str,
        kind: Option<&'a str>,
    },
    Set(&'a str),
    /// The units the document belongs to grew.
    Units,
}

/// Who is signed in, as the server knows it.
#[derive(Clone, Debug)]
pub struct Signer {
    pub user: String,
    pub role: Role,
    pub now_ms: i64,
}

type Cell = BTreeMap<String, ScalarValue>;

/// What [`judge`] compares of a document.
#[derive(Default, Debug)]
struct Snap {
    /// Field → its cells (several when set concurrently), by object id.
    cells: HashMap<String, BTreeMap<ObjId, Cell>>,
    texts: HashMap<String, String>,
    /// (list, entry id) → the entry's scalar values.
    entries: BTreeMap<(String, String), Cell>,
    sets: HashMap<String, BTreeMap<String, ScalarValue>>,
}

fn scalars<D: ReadDoc>(doc: &D, obj: &ObjId) -> Cell {
    doc.keys(obj)
        .filter_map(|k| match doc.get(obj, &k) {
            Ok(Some((Value::Scalar(v), _))) => Some((k, v.into_owned())),
            _ => None,
        })
        .collect()
}

fn snap<D: ReadDoc>(doc: &D, decl: &KindDecl) -> Snap {
    let mut s = Snap::default();
    for fields in doc.get_all(ROOT, "fields").unwrap_or_default() {
        let (Value::Object(ObjType::Map), fields) = fields else {
            continue;
        };
        for key in doc.keys(&fields) {
            let cells = s.cells.entry(key.clone()).or_default();
            for (value, cell) in doc.get_all(&fields, &key).unwrap_or_default() {
                if matches!(value, Value::Object(ObjType::Map)) {
                    let c = scalars(doc, &cell);
                    cells.insert(cell, c);
                } else if let Value::Scalar(v) = value {
                    // Not a cell (the schema check refuses it); compared as it is.
                    cells.insert(cell, Cell::from([("v".to_string(), v.into_owned())]));
                }
            }
        }
    }
    for text in decl.texts {
        let all: String = doc
            .get_all(ROOT, text.name)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(v, id)| matches!(v, Value::Object(ObjType::Text)).then_some(id))
            .map(|id| doc.text(&id).unwrap_or_default())
            .collect();
        s.texts.insert(text.name.to_string(), all);
    }
    for list in decl.lists {
        for entry in entries_under(doc, list.name) {
            let values = scalars(doc, &entry);
            let id = match values.get("id") {
                Some(ScalarValue::Str(id)) => id.to_string(),
                _ => format!("{entry}"),
            };
            s.entries.insert((list.name.to_string(), id), values);
        }
    }
    for set in decl.sets {
        if let Some(obj) = map_obj(doc, &ROOT, set) {
            s.sets
                .insert(set.to_string(), scalars(doc, &obj).into_iter().collect());
        }
    }
    s
}

fn str_of(c: &Cell, key: &str) -> Option<String> {
    match c.get(key)? {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn time_of(c: &Cell, key: &str) -> Option<i64> {
    match c.get(key)? {
        ScalarValue::Timestamp(t) | ScalarValue::Int(t) => Some(*t),
        ScalarValue::Uint(t) => i64::try_from(*t).ok(),
        _ => None,
    }
}

/// Whether every character of `before` is still in `after`, in order.
fn kept_in(before: &str, after: &str) -> bool {
    let mut rest = after.chars();
    before.chars().all(|c| rest.any(|d| d == c))
}

/// Checks authorship of something new: made by the signer, not in the future.
fn authored(
    signer: &Signer,
    what: &str,
    by: Option<String>,
    at: Option<i64>,
) -> Result<(), String> {
    if let Some(by) = by
        && by != signer.user
    {
        return Err(format!(
            "{what} says it was made by {by:?}, but {:?} is signed in",
            signer.user
        ));
    }
    if let Some(at) = at
        && at > signer.now_ms + CLOCK_TOLERANCE_MS
    {
        return Err(format!(
            "{what} is dated {} minutes ahead of the server's clock; set the tablet's clock",
            (at - signer.now_ms) / 60_000
        ));
    }
    Ok(())
}

fn allowed(signer: &Signer, kind: Kind, touch: Touch) -> Result<(), String> {
    let op = kind.op(&touch);
    if may(signer.role, op) {
        Ok(())
    } else {
        Err(format!(
            "a {} may not {} (DOMAIN.md \"Who may do what\")",
            signer.role.code(),
            op.describe()
        ))
    }
}

/// Whether the signer's role may record or change `entry` of `list`: a step by its kind, a
/// withdrawal by the kind of the step it withdraws.
fn allowed_entry(
    signer: &Signer,
    kind: Kind,
    list: &str,
    entry: &Cell,
    entries: &Entries,
) -> Result<(), String> {
    let code = if list == "withdrawals" {
        str_of(entry, "step")
            .and_then(|step| entries.get(&("steps".to_string(), step)))
            .and_then(|s| str_of(s, "kind"))
    } else {
        str_of(entry, "kind")
    };
    allowed(
        signer,
        kind,
        Touch::Entry {
            list,
            kind: code.as_deref(),
        },
    )
}

/// May `signer` have turned `before` (None: a new document) into `after`? The reason if not.
pub fn judge<D: ReadDoc>(
    before: Option<&D>,
    after: &D,
    kind: Kind,
    signer: &Signer,
) -> Result<(), String> {
    let decl = kind.decl();
    let a = snap(after, decl);
    let b = match before {
        Some(doc) => snap(doc, decl),
        None => {
            allowed(signer, kind, Touch::Create)?;
            let header = read_header(after).map_err(|e| e.to_string())?;
            authored(
                signer,
                "the new document",
                Some(header.created_by),
                Some(header.created_at),
            )?;
            Snap::default()
        }
    };
    if let (Some(before), Ok(after_header)) = (before, read_header(after))
        && let Ok(before_header) = read_header(before)
        && after_header
            .units
            .iter()
            .any(|u| !before_header.units.contains(u))
    {
        allowed(signer, kind, Touch::Units)?;
    }

    // Single values.
    for (field, old) in &b.cells {
        let new = a.cells.get(field);
        if new.is_none_or(BTreeMap::is_empty) && !old.is_empty() {
            return Err(format!(
                "{field} may not be removed; set it again to correct it"
            ));
        }
    }
    for (field, cells) in &a.cells {
        let old = b.cells.get(field);
        for (id, cell) in cells {
            match old.and_then(|o| o.get(id)) {
                Some(stored) if stored == cell => {}
                Some(_) => {
                    return Err(format!(
                        "{field}: a stored value may not be rewritten; set it again to correct it"
                    ));
                }
                None => {
                    allowed(signer, kind, Touch::Field(field))?;
                    authored(signer, field, str_of(cell, "by"), time_of(cell, "at"))?;
                }
            }
        }
    }

    // Texts.
    for text in decl.texts {
        let (old, new) = (
            b.texts.get(text.name).map(String::as_str).unwrap_or(""),
            a.texts.get(text.name).map(String::as_str).unwrap_or(""),
        );
        if old == new {
            continue;
        }
        allowed(signer, kind, Touch::Text(text.name))?;
        if kind.append_only(text.name) && !kept_in(old, new) {
            return Err(format!(
                "text may not be removed from {}; add a correction instead",
                text.name
            ));
        }
    }

    // Entries.
    for (key, old) in &b.entries {
        let (list, id) = key;
        let Some(new) = a.entries.get(key) else {
            return Err(format!(
                "{list} entry {id} may not be removed; record one that corrects or withdraws it"
            ));
        };
        if new == old {
            continue;
        }
        allowed_entry(signer, kind, list, new, &a.entries)?;
        for fixed in ["id", "by", "at", "kind"] {
            if old.get(fixed) != new.get(fixed) {
                return Err(format!("{list} entry {id}: its {fixed} may not change"));
            }
        }
        if kind.entries_fixed(list) {
            return Err(format!(
                "{list} entry {id} may not be rewritten; record a new one"
            ));
        }
        // What was there stays there.
        if let Some(gone) = old.keys().find(|k| !new.contains_key(*k)) {
            return Err(format!("{list} entry {id}: {gone} may not be removed"));
        }
    }
    for (key, new) in &a.entries {
        if b.entries.contains_key(key) {
            continue;
        }
        let (list, id) = key;
        allowed_entry(signer, kind, list, new, &a.entries)?;
        authored(
            signer,
            &format!("{list} entry {id}"),
            str_of(new, "by"),
            time_of(new, "at"),
        )?;
    }

    // Sets.
    for set in decl.sets {
        let (old, new) = (
            b.sets.get(*set).filter(|s| !s.is_empty()),
            a.sets.get(*set).filter(|s| !s.is_empty()),
        );
        if old == new {
            continue;
        }
        if let Some(gone) = old
            .into_iter()
            .flat_map(|o| o.keys())
            .find(|k| !new.is_some_and(|n| n.contains_key(*k)))
        {
            return Err(format!(
                "{gone} may not be removed from {set}; unmark it instead"
            ));
        }
        allowed(signer, kind, Touch::Set(set))?;
    }

    kind.lifecycle_rule(&b.entries, &a.entries)
}

/// What a change touched, for the case's history: each single value set ("level"), text
/// added to ("notes"), entry added ("steps + concluded", "follow_ups +") or changed
/// ("petitioners ~"), set changed and unit added.
pub fn touched<D: ReadDoc>(before: Option<&D>, after: &D, kind: Kind) -> Vec<String> {
    let decl = kind.decl();
    let a = snap(after, decl);
    let b = before.map(|d| snap(d, decl)).unwrap_or_default();
    let mut out = Vec::new();
    if before.is_none() {
        out.push("created".to_string());
    }
    let mut fields: Vec<&String> = a
        .cells
        .iter()
        .filter(|(f, cells)| {
            cells
                .keys()
                .any(|id| !b.cells.get(*f).is_some_and(|o| o.contains_key(id)))
        })
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    out.extend(fields.into_iter().cloned());
    for text in decl.texts {
        if a.texts.get(text.name) != b.texts.get(text.name) {
            out.push(text.name.to_string());
        }
    }
    for (key, entry) in &a.entries {
        let (list, _) = key;
        match b.entries.get(key) {
            None => out.push(match str_of(entry, "kind") {
                Some(k) => format!("{list} + {k}"),
                None => format!("{list} +"),
            }),
            Some(old) if old != entry => out.push(format!("{list} ~")),
            Some(_) => {}
        }
    }
    for set in decl.sets {
        if a.sets.get(*set).filter(|s| !s.is_empty()) != b.sets.get(*set).filter(|s| !s.is_empty())
        {
            out.push(set.to_string());
        }
    }
    out.dedup();
    out
}

/// Every change a device sends carries the time it was made (Automerge keeps seconds); none
/// may lie beyond the server's clock by more than the tolerance. This covers what has no
/// `at` of its own, such as characters added to the notes.
pub fn judge_times(changes: &[automerge::Change], signer: &Signer) -> Result<(), String> {
    for change in changes {
        let at = change.timestamp().saturating_mul(1000);
        if at > signer.now_ms + CLOCK_TOLERANCE_MS {
            return Err(format!(
                "a change is dated {} minutes ahead of the server's clock; set the tablet's clock",
                (at - signer.now_ms) / 60_000
            ));
        }
    }
    Ok(())
}

/// The case's rule on conclusions: at most one more than the reviews that reopened it.
pub(crate) fn one_conclusion(before: &Entries, after: &Entries) -> Result<(), String> {
    // Steps withdrawn as wrong do not count.
    let count = |entries: &BTreeMap<(String, String), Cell>, kinds: &[&str]| {
        let withdrawn: Vec<String> = entries
            .iter()
            .filter(|((list, _), _)| list == "withdrawals")
            .filter_map(|(_, w)| str_of(w, "step"))
            .collect();
        entries
            .iter()
            .filter(|((list, id), e)| {
                list == "steps"
                    && !withdrawn.contains(id)
                    && str_of(e, "kind").is_some_and(|k| kinds.contains(&k.as_str()))
            })
            .count()
    };
    let concluded = count(after, &["concluded"]);
    if concluded > count(before, &["concluded"])
        && concluded > 1 + count(after, &["review", "re_review"])
    {
        return Err(
            "this case is concluded already: a second conclusion needs a review (复查) first"
                .into(),
        );
    }
    Ok(())
}

/// The sets a snapshot of entries is made of, for the kinds' rules.
pub(crate) type Entries = BTreeMap<(String, String), BTreeMap<String, ScalarValue>>;
