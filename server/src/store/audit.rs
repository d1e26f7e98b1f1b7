//! What the administrator and the audit need of the store: taking a unit away from a case
//! (and telling that unit's devices), a case's history, the names users go by.

use super::db::args;
use super::{Expect, HistoryEntry, Received, Result, Store, StoreError, doc_units};
use lianxin_shared::{DocId, UnitId};

impl Store {
    /// Sets the name the cases write for `username` (a leader's packages find them by it).
    pub fn set_user_name(&self, username: &str, name: &str) -> Result<()> {
        self.with(|c| {
            match c.exec(
                "UPDATE users SET name = ?2 WHERE username = ?1",
                args![username, name],
            )? {
                0 => Err(StoreError::Invalid(format!("no user {username}"))),
                _ => Ok(()),
            }
        })
    }

    /// Takes `unit` away from a case (the administrator's `case unshare`): a change by the
    /// server removes it from the case's units and unmarks it as assisting, stored as the new
    /// snapshot; the unit's devices are told to drop the case at their next sync
    /// ([`Store::gone_since`]). The unit loses the case's personal details with it. The
    /// removal stays in the case's history. Refused for the responsible unit and the last unit.
    pub fn unshare(&self, id: &DocId, unit: &UnitId, now: i64) -> Result<u64> {
        let (bytes, _, _) = self
            .load_doc(id)?
            .ok_or_else(|| StoreError::Invalid(format!("no case {id}")))?;
        let doc = lianxin_shared::load_document(&bytes)
            .map_err(|e| StoreError::Invalid(format!("case {id} does not load: {e}")))?;
        let case = lianxin_shared::CaseDoc::from_doc(doc.clone())
            .and_then(|c| c.read())
            .map_err(|e| StoreError::Invalid(format!("not a case: {e}")))?;
        if !case.header.units.contains(unit) {
            return Err(StoreError::Invalid(format!(
                "case {id} is not shared with {unit}"
            )));
        }
        if case.header.units.len() == 1 {
            return Err(StoreError::Invalid(format!(
                "{unit} is the case's only unit"
            )));
        }
        if case.responsible_unit.as_ref() == Some(unit) {
            return Err(StoreError::Invalid(format!(
                "{unit} is the responsible unit; set another one first"
            )));
        }
        let details = DocId::details_of(id);
        if let Some((bytes, units, _)) = self.load_doc(&details)?
            && units.contains(unit)
            && units.len() > 1
        {
            let doc = lianxin_shared::load_document(&bytes)
                .map_err(|e| StoreError::Invalid(format!("details {details} do not load: {e}")))?;
            self.take_unit(
                &details,
                doc,
                &units,
                unit,
                lianxin_shared::Access::Own,
                now,
            )?;
        }
        self.take_unit(
            id,
            doc,
            &case.header.units,
            unit,
            lianxin_shared::Access::Units,
            now,
        )
    }

    /// Removes `unit` from a document's header (and from its assisting units), as a change by
    /// the server stored as the new snapshot, and records it as unshared.
    fn take_unit(
        &self,
        id: &DocId,
        doc: automerge::AutoCommit,
        units: &[UnitId],
        unit: &UnitId,
        access: lianxin_shared::Access,
        now: i64,
    ) -> Result<u64> {
        use automerge::transaction::Transactable;
        use automerge::{ObjType, ROOT, ReadDoc, Value};
        let mut doc = doc.with_actor(automerge::ActorId::from(&b"lianxin-server-admin"[..]));
        let bad = |e: automerge::AutomergeError| {
            StoreError::Invalid(format!("cannot edit the case: {e}"))
        };
        let header = match doc.get(ROOT, "header").map_err(bad)? {
            Some((Value::Object(ObjType::Map), h)) => h,
            _ => return Err(StoreError::Invalid("the case has no header".into())),
        };
        if let Some((Value::Object(ObjType::Map), units)) =
            doc.get(&header, "units").map_err(bad)?
        {
            doc.delete(&units, unit.as_str()).map_err(bad)?;
        }
        if let Some((Value::Object(ObjType::Map), assisting)) =
            doc.get(ROOT, "assisting").map_err(bad)?
            && doc.get(&assisting, unit.as_str()).map_err(bad)?.is_some()
        {
            doc.put(&assisting, unit.as_str(), false).map_err(bad)?;
        }
        doc.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(format!("unshared from {unit} by the administrator"))
                .with_time(now / 1000),
        );
        let heads: Vec<[u8; 32]> = lianxin_shared::protocol::heads_to_wire(&doc.get_heads());
        let units: Vec<UnitId> = units.iter().filter(|u| *u != unit).cloned().collect();
        let snapshot = doc.save();
        let what = [format!("units −{unit}")];
        let received = Received {
            user: "admin (command line)",
            actor: "lianxin-server-admin",
            at: now,
            what: &what,
        };
        let seq = self.append_changes(
            id,
            &units,
            access,
            &[],
            &heads,
            Some(&snapshot),
            Some(&received),
            Expect::Any,
        )?;
        self.tx(|c| {
            c.exec(
                "DELETE FROM doc_units WHERE doc = ?1 AND unit = ?2",
                args![&id.as_bytes()[..], unit.as_str()],
            )?;
            c.exec(
                "INSERT INTO unshared (doc, unit, seq, at) VALUES (?1, ?2, ?3, ?4)",
                args![&id.as_bytes()[..], unit.as_str(), seq as i64, now],
            )?;
            Ok(seq)
        })
    }

    /// A case's history: every stored change with who sent it from which device and when the
    /// server received it, oldest first; with `refused`, the changes refused too.
    pub fn history(&self, id: &DocId, refused: bool) -> Result<Vec<HistoryEntry>> {
        self.read(|c| {
            let key = &id.as_bytes()[..];
            let mut out = Vec::new();
            for r in c.rows(
                "SELECT l.seq, l.username, l.actor, COALESCE(d.name, ''), l.received_at, l.changes, l.what
                 FROM change_log l LEFT JOIN devices d ON d.actor = l.actor WHERE l.doc = ?1 ORDER BY l.seq",
                args![key],
            )? {
                out.push(HistoryEntry {
                    seq: r.int(0)? as u64,
                    user: r.text(1)?,
                    device: r.text(2)?,
                    device_name: r.text(3)?,
                    received_at: r.int(4)?,
                    changes: r.int(5)? as usize,
                    what: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
                    refused: None,
                });
            }
            if refused {
                for r in c.rows(
                    "SELECT q.at, q.username, q.actor, COALESCE(d.name, ''), q.reason FROM quarantine q
                     LEFT JOIN devices d ON d.actor = q.actor WHERE q.doc = ?1 ORDER BY q.id",
                    args![id.to_string()],
                )? {
                    out.push(HistoryEntry {
                        seq: 0,
                        user: r.text(1)?,
                        device: r.text(2)?,
                        device_name: r.text(3)?,
                        received_at: r.int(0)?,
                        changes: 0,
                        what: Vec::new(),
                        refused: Some(r.text(4)?),
                    });
                }
                out.sort_by_key(|e| e.received_at);
            }
            Ok(out)
        })
    }

    /// Documents taken away from any of `units` after `cursor` that none of them may see now:
    /// the devices of those units drop them.
    pub fn gone_since(&self, cursor: u64, scope: &super::Scope) -> Result<Vec<DocId>> {
        self.read(|c| {
            let mut out = Vec::new();
            for unit in &scope.visible {
                for r in c.rows(
                    "SELECT DISTINCT doc FROM unshared WHERE seq > ?1 AND unit = ?2",
                    args![cursor as i64, unit.as_str()],
                )? {
                    let doc = r.blob(0)?;
                    let Ok(bytes) = <[u8; 16]>::try_from(doc.as_slice()) else {
                        continue;
                    };
                    let id = DocId::from_bytes(bytes);
                    if out.contains(&id) {
                        continue;
                    }
                    let still = doc_units(c, &id)?;
                    let access = c.int("SELECT private FROM docs WHERE id = ?1", args![doc])?;
                    if !scope.admits(lianxin_shared::Access::from_code(access), &still) {
                        out.push(id);
                    }
                }
            }
            Ok(out)
        })
    }

    /// Records a ledger export or import (who, from which device, when the server heard of
    /// it and when the device did it, what, how many rows).
    pub fn record_ledger(&self, entry: &LedgerEntry) -> Result<()> {
        self.with(|c| {
            c.exec(
                "INSERT INTO ledger_log (at, username, actor, action, what, rows, device_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    entry.at,
                    entry.user.as_str(),
                    entry.actor.as_str(),
                    entry.action.as_str(),
                    entry.what.as_str(),
                    entry.rows as i64,
                    entry.device_at
                ],
            )?;
            Ok(())
        })
    }

    /// Stores a document made or changed on the server (the demo, the administrator's
    /// command line) as its new snapshot, under its header's id and units, with `received`
    /// in its history.
    pub fn put_snapshot(
        &self,
        doc: &mut automerge::AutoCommit,
        access: lianxin_shared::Access,
        received: &Received,
    ) -> Result<u64> {
        let header =
            lianxin_shared::Header::of(doc).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let heads = lianxin_shared::protocol::heads_to_wire(&doc.get_heads());
        let snapshot = doc.save();
        self.append_changes(
            &header.id,
            &header.units,
            access,
            &[],
            &heads,
            Some(&snapshot),
            Some(received),
            Expect::Any,
        )
    }

    /// Every recorded ledger export and import, oldest first.
    pub fn ledger_log(&self) -> Result<Vec<LedgerEntry>> {
        self.read(|c| {
            c.rows(
                "SELECT at, username, actor, action, what, rows, device_at FROM ledger_log ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(LedgerEntry {
                    at: r.int(0)?,
                    user: r.text(1)?,
                    actor: r.text(2)?,
                    action: r.text(3)?,
                    what: r.text(4)?,
                    rows: r.int(5)? as usize,
                    device_at: r.int(6)?,
                })
            })
            .collect()
        })
    }
}

/// One recorded ledger export or import.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LedgerEntry {
    /// When the server recorded it (ms).
    pub at: i64,
    pub user: String,
    pub actor: String,
    /// `export` or `import`.
    pub action: String,
    /// Which ledger, and the file's name.
    pub what: String,
    pub rows: usize,
    /// When the device did it (ms, its own clock).
    pub device_at: i64,
}
