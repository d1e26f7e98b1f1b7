//! The caseload rows the server works out for the documents it sends a new device
//! ([`protocol::Fresh`]), so that the tablet stores each document as it came and lists it
//! without loading one (a first sync of 10,000 cases would otherwise load 20,000 Automerge
//! documents in the browser, the larger part of its time).
//!
//! A row is what the device itself would work out: [`AnyDoc::row_of`] over the document and,
//! for a case, its personal details when this opening sends them too (a user who may not have
//! them gets the row without them, as their device would make it). Rows are kept in memory by
//! the heads they were made from (the document's, and its details' if used) and the calendar;
//! any change to either makes them again. A row that cannot be made (no header yet) is sent as
//! none, and the device works it out itself.

use std::collections::HashMap;
use std::sync::Mutex;

use automerge::AutoCommit;
use lianxin_shared::protocol::{self, Fresh};
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, DocId, load_document, pack_rows};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Rows kept at most; beyond, the cache starts again (it is bounded by the documents stored,
/// this only keeps a runaway store from holding the memory).
const MAX_ROWS: usize = 500_000;

/// Rows to make before a helper thread is worth starting.
const ROWS_PER_HELPER: usize = 64;

pub(crate) struct RowCache {
    inner: Mutex<Inner>,
    /// Threads that help an opening make its rows, shared by every opening: each makes rows
    /// on its own thread (a blocking one the session already holds) and on as many helpers as
    /// are free then, so that many new tablets at once do not each start four threads.
    helpers: Semaphore,
    most_helpers: usize,
}

impl Default for RowCache {
    fn default() -> Self {
        // With the opening's own thread, at most four make rows on a machine with four cores.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        RowCache::with_helpers(cores.clamp(1, 4) - 1)
    }
}

#[derive(Default)]
struct Inner {
    /// The calendar the rows were made with (deadlines depend on it).
    calendar: Option<Calendar>,
    rows: HashMap<DocId, Cached>,
    made: u64,
    reused: u64,
}

#[derive(Clone)]
struct Cached {
    heads: protocol::Heads,
    /// The details' heads the row was made with (None: made without them).
    details: Option<protocol::Heads>,
    row: Option<Vec<u8>>,
}

/// A document's stored bytes opened, with its heads (None: they do not load).
fn open(bytes: &[u8]) -> Option<(AutoCommit, protocol::Heads)> {
    let mut doc = load_document(bytes).ok()?;
    let heads = protocol::heads_to_wire(&doc.get_heads());
    Some((doc, heads))
}

fn packed(id: &DocId, row: Option<lianxin_shared::StoredRow>) -> Option<Vec<u8>> {
    row.and_then(|row| pack_rows([(id, &row)]).ok())
}

/// What making rows reads: the bytes sent, the rows known, the heads listed.
struct Job<'a> {
    bytes_of: &'a HashMap<DocId, &'a [u8]>,
    known: &'a HashMap<DocId, Cached>,
    listed: &'a HashMap<DocId, protocol::Heads>,
    limits: &'a Limits,
    calendar: &'a Calendar,
}

impl Job<'_> {
    /// The row of one document, and of its details when they are sent and not known (a
    /// case's details are opened once for both rows).
    fn make(&self, id: DocId) -> Vec<(DocId, Cached)> {
        let Some(bytes) = self.bytes_of.get(&id) else {
            return Vec::new();
        };
        let (limits, calendar) = (self.limits, self.calendar);
        let this = open(bytes);
        let details_id = DocId::details_of(&id);
        let details = self.bytes_of.get(&details_id).and_then(|b| open(b));
        let details_doc = details.as_ref().map(|(doc, _)| doc);
        let row = this
            .as_ref()
            .and_then(|(doc, _)| AnyDoc::row_of(doc, details_doc, limits, calendar).ok());
        let mut out = Vec::with_capacity(2);
        if let Some((doc, heads)) = &details
            && !self.known.contains_key(&details_id)
        {
            let row = AnyDoc::row_of(doc, None, limits, calendar).ok();
            out.push((
                details_id,
                Cached {
                    heads: heads.clone(),
                    details: None,
                    row: packed(&details_id, row),
                },
            ));
        }
        out.push((
            id,
            Cached {
                heads: this.map(|(_, heads)| heads).unwrap_or_default(),
                // Keyed as [`RowCache::fresh`] looks rows up: by the heads listed.
                details: details.and_then(|_| self.listed.get(&details_id).cloned()),
                row: packed(&id, row),
            },
        ));
        out
    }
}

impl RowCache {
    fn with_helpers(most: usize) -> Self {
        RowCache {
            inner: Mutex::default(),
            helpers: Semaphore::new(most),
            most_helpers: most,
        }
    }

    /// Up to `want` helpers, as many as are free (perhaps none); given back when dropped.
    fn take_helpers(&self, want: usize) -> SemaphorePermit<'_> {
        loop {
            let n = self.helpers.available_permits().min(want);
            // Another opening may take some between the count and the taking: count again.
            if let Ok(taken) = self.helpers.try_acquire_many(n as u32) {
                return taken;
            }
        }
    }

    /// The documents `loaded` (id and stored bytes), new to a device, as [`Fresh`] items with
    /// their heads and rows. `listed` gives the heads the store listed for each document this
    /// opening sends: a case's details are used for its row when they are among them.
    pub(crate) fn fresh(
        &self,
        listed: &HashMap<DocId, protocol::Heads>,
        loaded: Vec<(DocId, Vec<u8>)>,
        calendar: &Calendar,
    ) -> Vec<Fresh> {
        let limits = Limits::default();
        let mut known: HashMap<DocId, Cached> = HashMap::new();
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            if inner.calendar.as_ref() != Some(calendar) || inner.rows.len() > MAX_ROWS {
                inner.rows.clear();
                inner.calendar = Some(calendar.clone());
            }
            for (id, _) in &loaded {
                let details = listed.get(&DocId::details_of(id));
                if let Some(c) = inner.rows.get(id)
                    && listed.get(id) == Some(&c.heads)
                    && c.details.as_ref() == details
                {
                    known.insert(*id, c.clone());
                }
            }
        }
        let bytes_of: HashMap<DocId, &[u8]> =
            loaded.iter().map(|(id, b)| (*id, b.as_slice())).collect();
        // What must be made: each document not known, except details whose case is made too
        // (they are opened once, with it).
        let missing: Vec<DocId> = loaded
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !known.contains_key(id))
            .collect();
        let with_case: std::collections::HashSet<DocId> = missing
            .iter()
            .map(DocId::details_of)
            .filter(|d| bytes_of.contains_key(d))
            .collect();
        let jobs: Vec<DocId> = missing
            .into_iter()
            .filter(|id| !with_case.contains(id))
            .collect();
        let job = Job {
            bytes_of: &bytes_of,
            known: &known,
            listed,
            limits: &limits,
            calendar,
        };
        // Spread over the helpers free (a first sync of 10,000 cases makes 20,000 rows); a
        // few rows are not worth a thread.
        let helpers = self.take_helpers(jobs.len() / ROWS_PER_HELPER);
        let chunk = jobs.len().div_ceil(helpers.num_permits() + 1).max(1);
        let mut made: HashMap<DocId, Cached> = HashMap::new();
        std::thread::scope(|scope| {
            let mut parts = jobs.chunks(chunk);
            let mine = parts.next().unwrap_or_default();
            let running: Vec<_> = parts
                .map(|ids| scope.spawn(|| ids.iter().flat_map(|id| job.make(*id)).collect()))
                .collect();
            made.extend(mine.iter().flat_map(|id| job.make(*id)));
            for handle in running {
                let part: Vec<(DocId, Cached)> = handle.join().unwrap_or_default();
                made.extend(part);
            }
        });
        drop(helpers);
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            inner.made += made.len() as u64;
            inner.reused += known.len() as u64;
            for (id, c) in &made {
                inner.rows.insert(*id, c.clone());
            }
        }
        loaded
            .into_iter()
            .map(|(doc, bytes)| {
                let c = known.remove(&doc).or_else(|| made.remove(&doc));
                let (heads, row) = c.map(|c| (c.heads, c.row)).unwrap_or_default();
                Fresh {
                    doc,
                    bytes,
                    heads,
                    row,
                }
            })
            .collect()
    }

    /// Rows made and rows reused since the server started.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.made, inner.reused)
    }

    /// Helper threads making rows now.
    pub(crate) fn helpers_busy(&self) -> usize {
        self.most_helpers
            .saturating_sub(self.helpers.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lianxin_shared::{CaseDoc, CaseDraft, Channel, Editor, UnitId};

    /// The heads listed and the bytes loaded for an opening.
    type Opening = (HashMap<DocId, protocol::Heads>, Vec<(DocId, Vec<u8>)>);

    fn cases(n: usize) -> Opening {
        let editor = Editor::new("mediator", 1_767_225_600_000);
        let (mut listed, mut loaded) = (HashMap::new(), Vec::new());
        for i in 0..n {
            let title = format!("工资被拖欠 {i}");
            let draft = CaseDraft::new(UnitId::new("wugang").unwrap(), Channel::Visit, &title);
            let mut doc = CaseDoc::create(&draft, &editor, automerge::ActorId::random()).into_doc();
            listed.insert(draft.id, protocol::heads_to_wire(&doc.get_heads()));
            loaded.push((draft.id, doc.save()));
        }
        (listed, loaded)
    }

    #[test]
    fn helpers_are_shared_and_given_back() {
        let cache = RowCache::with_helpers(3);
        let first = cache.take_helpers(2);
        let second = cache.take_helpers(5);
        let third = cache.take_helpers(1);
        let taken = (
            first.num_permits(),
            second.num_permits(),
            third.num_permits(),
        );
        assert_eq!(taken, (2, 1, 0));
        assert_eq!(cache.helpers_busy(), 3);
        drop(first);
        assert_eq!(cache.helpers_busy(), 1);
        assert_eq!(cache.take_helpers(3).num_permits(), 2, "the two given back");
        drop((second, third));
        assert_eq!(cache.helpers_busy(), 0);
    }

    #[test]
    fn an_opening_with_no_helper_free_makes_every_row_itself() {
        let (listed, loaded) = cases(300);
        let calendar = Calendar::default();
        let spread = RowCache::with_helpers(3);
        let alone = RowCache::with_helpers(3);
        let held = alone.take_helpers(3);
        let with_helpers = spread.fresh(&listed, loaded.clone(), &calendar);
        let by_itself = alone.fresh(&listed, loaded, &calendar);
        assert_eq!(alone.helpers_busy(), 3, "held elsewhere all along");
        drop(held);
        assert_eq!((spread.helpers_busy(), alone.helpers_busy()), (0, 0));
        assert_eq!(by_itself.len(), 300);
        for (a, b) in by_itself.iter().zip(&with_helpers) {
            assert_eq!(a.doc, b.doc);
            assert!(a.row.is_some(), "every case has its row");
            assert_eq!((&a.heads, &a.row), (&b.heads, &b.row));
            assert_eq!(Some(&a.heads), listed.get(&a.doc));
        }
        assert_eq!(alone.counts(), (300, 0));
    }
}
