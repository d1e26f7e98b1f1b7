//! The engine's start-up: the stored documents taken in a slice at a time behind the
//! caseload, one asked for meanwhile read on its own, edits of those not read yet refused,
//! and the rows packed into one value when many were written one by one.

use std::collections::HashMap;
use std::rc::Rc;

use lianxin_shared::{DocId, Replica};

use super::Engine;
use crate::store::StoredDoc;

/// Rows written one by one after which the store packs them all again (at a settled sync or
/// at start-up): a twentieth of the rows, at least 8 and at most 1,000, so a start opens the
/// pack and at most about that many rows on their own, and packing stays rare.
fn pack_after(rows: usize) -> usize {
    (rows / 20).clamp(8, 1_000)
}

/// Stored documents read in one slice at start-up, behind the caseload.
const DOCS_PER_SLICE: u32 = 2_000;

impl Engine {
    /// Reads every stored document, a slice at a time, letting the browser draw and take taps
    /// between slices (a case opened meanwhile is read on its own), then [`Engine::loaded`].
    /// False if syncing was stopped meanwhile (lock, sign-out): this engine is done.
    pub async fn read_stored(&self) -> bool {
        let Some(db) = self.db.clone() else {
            return true;
        };
        crate::store::sleep(0).await;
        let start = crate::perf::now();
        let mut after: Option<String> = None;
        loop {
            if self.stopped() {
                return false;
            }
            let Ok(slice) = db.load_docs_after(after.as_deref(), DOCS_PER_SLICE).await else {
                break;
            };
            let last = slice.last().map(|(id, _, _)| id.clone());
            let full = slice.len() as u32 == DOCS_PER_SLICE;
            self.take_stored(slice);
            match last {
                Some(last) if full => after = Some(last),
                _ => break,
            }
            crate::store::sleep(0).await;
        }
        crate::perf::add("start: documents read", start);
        crate::perf::since_open("open: documents all read");
        self.loaded();
        true
    }

    /// Takes in stored documents read at start-up, skipping any this engine already has
    /// (read on its own when opened, or edited since). A document with a row that says it is
    /// confirmed stays as bytes until needed; one without a row (stored by an older version),
    /// with unconfirmed edits, or with deadlines from another holiday calendar is loaded now
    /// and its row redone. Returns how many were new.
    fn take_stored(&self, stored: Vec<StoredDoc>) -> usize {
        let mut replicas = self.replicas.borrow_mut();
        let mut dirty = Vec::new();
        let mut taken = 0;
        {
            let mut unloaded = self.unloaded.borrow_mut();
            let rows = self.rows.borrow();
            for (id, doc, state) in stored {
                let Ok(id) = id.parse::<DocId>() else {
                    continue;
                };
                if replicas.contains_key(&id) || unloaded.contains_key(&id) {
                    continue;
                }
                if self.calendar_changed || rows.get(&id).is_none_or(|r| r.pending()) {
                    dirty.push(id);
                }
                unloaded.insert(id, (doc, state));
                taken += 1;
            }
        }
        for id in &dirty {
            self.load(&mut replicas, *id);
        }
        drop(replicas);
        self.dirty.borrow_mut().extend(dirty);
        taken
    }

    /// Every stored document has been read: rows redone meanwhile are stored (and all rows
    /// packed again if many were written one by one), and the engine may connect.
    fn loaded(&self) {
        *self.loading.borrow_mut() = false;
        self.persist(None);
        self.pack_if_needed();
    }

    /// What to call when a document asked for while loading has been read on its own.
    pub fn on_fetched(&self, tell: Rc<dyn Fn()>) {
        *self.on_fetched.borrow_mut() = Some(tell);
    }

    /// Whether syncing has been stopped (lock, sign-out, the session ended).
    pub fn stopped(&self) -> bool {
        *self.stopped.borrow()
    }

    /// Writes every row in one value if enough were written one by one since the last time.
    pub(super) fn pack_if_needed(&self) {
        let Some(db) = &self.db else { return };
        if *self.unpacked.borrow() < pack_after(self.rows.borrow().len()) || *self.loading.borrow()
        {
            return;
        }
        let packed = crate::perf::timed("store: rows packed", || {
            lianxin_shared::pack_rows(self.rows.borrow().iter())
        });
        match packed {
            Ok(pack) => {
                db.put_pack(pack);
                *self.unpacked.borrow_mut() = 0;
            }
            Err(e) => web_sys::console::warn_1(&format!("rows not packed: {e}").into()),
        }
    }

    /// [`Engine::load`] of each of `ids`; while the stored documents are still being read,
    /// those not read yet are read from the store on their own, together (a case with its
    /// details, so it never shows or is edited without them), and the screens are told once
    /// they are there.
    pub(super) fn load_or_fetch(&self, replicas: &mut HashMap<DocId, Replica>, ids: &[DocId]) {
        for id in ids {
            self.load(replicas, *id);
        }
        if !*self.loading.borrow() {
            return;
        }
        // Not already being read (the screens ask again on every render).
        let mut fetching = self.fetching.borrow_mut();
        let missing: Vec<DocId> = ids
            .iter()
            .copied()
            .filter(|id| !replicas.contains_key(id) && !fetching.contains(id))
            .collect();
        fetching.extend(missing.iter().copied());
        drop(fetching);
        if missing.is_empty() {
            return;
        }
        let (Some(db), Some(me)) = (self.db.clone(), self.me.upgrade()) else {
            return;
        };
        crate::perf::since_open("open: documents asked for before their slice");
        wasm_bindgen_futures::spawn_local(async move {
            let mut found = Vec::new();
            for id in &missing {
                if let Ok(Some(doc)) = db.load_doc(&id.to_string()).await {
                    found.push(doc);
                }
            }
            let taken = me.take_stored(found);
            crate::perf::since_open(if taken > 0 {
                "open: … read on their own"
            } else {
                "open: … came in a slice first"
            });
            for id in &missing {
                me.fetching.borrow_mut().remove(id);
            }
            let told = me.on_fetched.borrow().clone();
            if taken > 0
                && let Some(tell) = told
            {
                tell();
            }
        });
    }

    /// An edit of a document the store holds but has not given yet (start-up) is refused,
    /// not made on an empty document.
    pub(super) fn not_read_yet(
        &self,
        replicas: &HashMap<DocId, Replica>,
        id: DocId,
    ) -> Result<(), String> {
        if *self.loading.borrow()
            && !replicas.contains_key(&id)
            && self.rows.borrow().contains_key(&id)
        {
            return Err(
                "this case is still being read from this tablet; try again in a moment".to_string(),
            );
        }
        Ok(())
    }
}
