//! The browser's local store: one IndexedDB database per user of the tablet,
//! `lianxin-USERNAME`, with five object stores: `docs` (case id → the saved Automerge bytes
//! and sync state), `rows` (case id → the caseload line written since the last pack, in
//! postcard like the pack, see below), `drafts` (long texts being typed), `blobs`
//! (attachments) and `meta` (the sync cursor, the session, and `rowpack`: every caseload
//! line in one value). Every value but
//! the cursor is sealed by the user's [`Vault`] (AES-GCM), so the raw store holds no case
//! text, name or note in clear.
//!
//! The caseload shows before any document is loaded, from the rows. Rows are written one by
//! one as documents change, and now and then packed ([`Db::put_pack`]): all of them in one
//! sealed value, in the same transaction that empties `rows`. A start reads the pack and the
//! few rows written since (an empty value in `rows` marks a row taken away), so a tablet with
//! 50,000 cases opens one sealed record for its list instead of 50,000.
//!
//! Writes go through one queue, in the order they were asked for: sealing is asynchronous,
//! and a later batch must never commit before an earlier one for the same case. Each batch
//! is one transaction, documents with their rows, and the cursor only with the documents it
//! covers.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

use lianxin_shared::{DocId, StoredRow};

use crate::vault::Vault;

const VERSION: u32 = 2;
/// `blobs`: the bytes of photos and scanned pages, by SHA-256, sealed like the rest (version 2).
const STORES: [&str; 5] = ["docs", "rows", "drafts", "meta", "blobs"];

/// The database of one user on this tablet.
pub fn database_name(username: &str) -> String {
    format!("lianxin-{username}")
}

fn js_error(context: &str, e: JsValue) -> String {
    format!(
        "{context}: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    )
}

/// Waits for a request's result.
async fn request(req: &IdbRequest) -> Result<JsValue, String> {
    let req2 = req.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = req2.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("request failed"));
        });
        req2.set_onsuccess(Some(on_success.unchecked_ref()));
        req2.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| js_error("IndexedDB", e))
}

/// Waits for a transaction to commit.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let tx2 = tx.clone();
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("transaction failed"));
        });
        tx2.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx2.set_onerror(Some(on_error.unchecked_ref()));
        tx2.set_onabort(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| js_error("IndexedDB", e))
}

/// One stored document: id, saved bytes, sync state.
pub type StoredDoc = (String, Vec<u8>, Vec<u8>);

/// A batch of writes waiting its turn.
struct Batch {
    docs: Vec<StoredDoc>,
    /// Each row on its own, as a pack of one ([`lianxin_shared::pack_rows`]).
    rows: Vec<(String, Vec<u8>)>,
    cursor: Option<u64>,
    /// Documents to delete, with their rows.
    gone: Vec<String>,
    /// Every row in one value ([`lianxin_shared::pack_rows`]): written, and `rows` emptied.
    pack: Option<Vec<u8>>,
}

#[derive(Clone)]
pub struct Db {
    db: IdbDatabase,
    vault: Vault,
    queue: Rc<RefCell<VecDeque<Batch>>>,
    writing: Rc<RefCell<bool>>,
}

/// The document and its sync state as one sealed value: length of the document (u32 LE),
/// the document, the state.
fn pack(doc: &[u8], state: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + doc.len() + state.len());
    out.extend((doc.len() as u32).to_le_bytes());
    out.extend(doc);
    out.extend(state);
    out
}

fn unpack(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let doc = bytes.get(4..4 + n)?.to_vec();
    Some((doc, bytes.get(4 + n..)?.to_vec()))
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: i32) {
    gloo_timers::future::TimeoutFuture::new(ms.max(0) as u32).await;
}

impl Db {
    pub async fn open(username: &str, vault: Vault) -> Result<Db, String> {
        let factory = web_sys::window()
            .ok_or("no window")?
            .indexed_db()
            .map_err(|e| js_error("IndexedDB", e))?
            .ok_or("this browser has no IndexedDB")?;
        let open = factory
            .open_with_u32(&database_name(username), VERSION)
            .map_err(|e| js_error("open", e))?;
        let upgrading = open.clone();
        let on_upgrade = Closure::once_into_js(move || {
            if let Ok(db) = upgrading
                .result()
                .map(|r| r.unchecked_into::<IdbDatabase>())
            {
                let names = db.object_store_names();
                for store in STORES {
                    if !names.contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = request(&open).await?;
        Ok(Db {
            db: db.unchecked_into(),
            vault,
            queue: Rc::default(),
            writing: Rc::default(),
        })
    }

    /// Deletes a user's whole database from this tablet (sign-out). Closes it first.
    pub async fn delete(username: &str) -> Result<(), String> {
        let factory = web_sys::window()
            .ok_or("no window")?
            .indexed_db()
            .map_err(|e| js_error("IndexedDB", e))?
            .ok_or("this browser has no IndexedDB")?;
        let req = factory
            .delete_database(&database_name(username))
            .map_err(|e| js_error("delete", e))?;
        request(&req).await.map(|_| ())
    }

    pub fn close(&self) {
        self.db.close();
    }

    /// Queues documents with their caseload rows (and, if given, the cursor that covers
    /// them) for writing in one transaction, after every batch queued before.
    pub fn put_docs(
        &self,
        docs: Vec<StoredDoc>,
        rows: Vec<(String, Vec<u8>)>,
        cursor: Option<u64>,
    ) {
        self.queue.borrow_mut().push_back(Batch {
            docs,
            rows,
            cursor,
            gone: Vec::new(),
            pack: None,
        });
        self.write_queued();
    }

    /// Queues every row in one value (after every batch queued before, so it holds what they
    /// wrote); the rows written one by one before it are then removed.
    pub fn put_pack(&self, pack: Vec<u8>) {
        self.queue.borrow_mut().push_back(Batch {
            docs: Vec::new(),
            rows: Vec::new(),
            cursor: None,
            gone: Vec::new(),
            pack: Some(pack),
        });
        self.write_queued();
    }

    /// Queues the deletion of documents this user may no longer hold, with their rows.
    pub fn drop_docs(&self, gone: Vec<String>) {
        self.queue.borrow_mut().push_back(Batch {
            docs: Vec::new(),
            rows: Vec::new(),
            cursor: None,
            gone,
            pack: None,
        });
        self.write_queued();
    }

    fn write_queued(&self) {
        if *self.writing.borrow() {
            return;
        }
        *self.writing.borrow_mut() = true;
        let db = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let next = db.queue.borrow_mut().pop_front();
                let Some(batch) = next else { break };
                let n = batch.docs.len();
                if let Err(e) = db.write(batch).await {
                    web_sys::console::error_1(&format!("could not store {n} cases: {e}").into());
                }
            }
            *db.writing.borrow_mut() = false;
        });
    }

    /// Waits until every queued write has committed.
    pub async fn flushed(&self) {
        while *self.writing.borrow() || !self.queue.borrow().is_empty() {
            sleep(20).await;
        }
    }

    async fn write(&self, batch: Batch) -> Result<(), String> {
        let start = crate::perf::now();
        let out = self.write_with(batch).await;
        crate::perf::add("store: seal and write batch", start);
        out
    }

    async fn write_with(&self, batch: Batch) -> Result<(), String> {
        let packed: Vec<Vec<u8>> = batch.docs.iter().map(|(_, d, s)| pack(d, s)).collect();
        let plains: Vec<&[u8]> = packed
            .iter()
            .map(Vec::as_slice)
            .chain(batch.rows.iter().map(|(_, r)| r.as_slice()))
            .chain(batch.pack.as_deref())
            .collect();
        let start = crate::perf::now();
        let sealed = self.vault.seal_all(&plains).await?;
        crate::perf::add("store: seal (AES-GCM)", start);
        let (sealed_docs, rest) = sealed.split_at(batch.docs.len());
        let (sealed_rows, sealed_pack) = rest.split_at(batch.rows.len());
        let stores = Array::of3(&"docs".into(), &"rows".into(), &"meta".into());
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite)
            .map_err(|e| js_error("transaction", e))?;
        let store = tx.object_store("docs").map_err(|e| js_error("docs", e))?;
        for ((id, _, _), value) in batch.docs.iter().zip(sealed_docs) {
            store
                .put_with_key(&Uint8Array::from(&value[..]), &JsValue::from_str(id))
                .map_err(|e| js_error("put", e))?;
        }
        let row_store = tx.object_store("rows").map_err(|e| js_error("rows", e))?;
        let meta = tx.object_store("meta").map_err(|e| js_error("meta", e))?;
        if let Some(pack) = sealed_pack.first() {
            // In order within the transaction: the pack, then `rows` emptied, then this
            // batch's own rows (none, as put_pack queues it).
            meta.put_with_key(&Uint8Array::from(&pack[..]), &ROW_PACK.into())
                .map_err(|e| js_error("put", e))?;
            row_store.clear().map_err(|e| js_error("clear", e))?;
        }
        for ((id, _), value) in batch.rows.iter().zip(sealed_rows) {
            row_store
                .put_with_key(&Uint8Array::from(&value[..]), &JsValue::from_str(id))
                .map_err(|e| js_error("put", e))?;
        }
        for id in &batch.gone {
            store
                .delete(&JsValue::from_str(id))
                .map_err(|e| js_error("delete", e))?;
            // An empty value: the row is gone from the pack too, at the next start.
            row_store
                .put_with_key(&Uint8Array::new_with_length(0), &JsValue::from_str(id))
                .map_err(|e| js_error("delete", e))?;
        }
        if let Some(cursor) = batch.cursor {
            meta.put_with_key(&JsValue::from_f64(cursor as f64), &"cursor".into())
                .map_err(|e| js_error("put", e))?;
        }
        committed(&tx).await
    }

    /// Every key and value of an object store, in key order, in one read transaction.
    async fn everything(&self, name: &str) -> Result<(Array, Array), String> {
        self.keys_and_values(name, &JsValue::NULL, None).await
    }

    /// The keys and values of an object store in `range` (`null`: all), in key order, at
    /// most `limit` of them, in one read transaction.
    async fn keys_and_values(
        &self,
        name: &str,
        range: &JsValue,
        limit: Option<u32>,
    ) -> Result<(Array, Array), String> {
        let tx = self
            .db
            .transaction_with_str(name)
            .map_err(|e| js_error("transaction", e))?;
        let store = tx.object_store(name).map_err(|e| js_error(name, e))?;
        let (keys, values) = match limit {
            Some(n) => (
                store.get_all_keys_with_key_and_limit(range, n),
                store.get_all_with_key_and_limit(range, n),
            ),
            None => (
                store.get_all_keys_with_key(range),
                store.get_all_with_key(range),
            ),
        };
        let keys: Array = request(&keys.map_err(|e| js_error("keys", e))?)
            .await?
            .unchecked_into();
        let values: Array = request(&values.map_err(|e| js_error("values", e))?)
            .await?
            .unchecked_into();
        Ok((keys, values))
    }

    /// Up to `count` stored documents in key order, after the key `after` (from the first
    /// without one): a start reads them a slice at a time, the caseload already on screen.
    pub async fn load_docs_after(
        &self,
        after: Option<&str>,
        count: u32,
    ) -> Result<Vec<StoredDoc>, String> {
        let start = crate::perf::now();
        let range: JsValue = match after {
            Some(key) => web_sys::IdbKeyRange::lower_bound_with_open(&key.into(), true)
                .map_err(|e| js_error("range", e))?
                .into(),
            None => JsValue::NULL,
        };
        let (keys, values) = self.keys_and_values("docs", &range, Some(count)).await?;
        crate::perf::add("store: read all (IndexedDB)", start);
        let start = crate::perf::now();
        let sealed: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                v.dyn_into::<Uint8Array>()
                    .map(|a| a.to_vec())
                    .unwrap_or_default()
            })
            .collect();
        let opened = self.vault.open_all(&sealed).await?;
        crate::perf::add("store: open all (AES-GCM)", start);
        Ok(keys
            .iter()
            .map(|k| k.as_string().unwrap_or_default())
            .zip(opened)
            .filter_map(|(id, bytes)| {
                let (doc, state) = unpack(&bytes)?;
                Some((id, doc, state))
            })
            .collect())
    }

    /// One stored document, if this tablet holds it.
    pub async fn load_doc(&self, id: &str) -> Result<Option<StoredDoc>, String> {
        Ok(self
            .get_opened("docs", id)
            .await?
            .and_then(|bytes| unpack(&bytes))
            .map(|(doc, state)| (id.to_string(), doc, state)))
    }

    /// Every stored caseload row: the pack's, with the rows written since over them (an empty
    /// value takes a row away). Also says how many were written since the pack; a pack that
    /// does not read (another format) gives no rows, and the documents' rows are made again.
    pub async fn load_rows(&self) -> Result<(HashMap<DocId, StoredRow>, usize), String> {
        let start = crate::perf::now();
        let pack = self.get_opened("meta", ROW_PACK).await?;
        crate::perf::add("store: row pack read and opened", start);
        let mut rows: HashMap<DocId, StoredRow> =
            crate::perf::timed("start: row pack decoded", || {
                pack.and_then(|p| lianxin_shared::unpack_rows(&p))
                    .map(|list| list.into_iter().collect())
                    .unwrap_or_default()
            });
        let start = crate::perf::now();
        let (keys, values) = self.everything("rows").await?;
        let (mut ids, mut sealed) = (Vec::new(), Vec::new());
        for (key, value) in keys.iter().zip(values.iter()) {
            let Some(id) = key.as_string().and_then(|k| k.parse::<DocId>().ok()) else {
                continue;
            };
            match value.dyn_into::<Uint8Array>() {
                Ok(a) if a.length() == 0 => {
                    rows.remove(&id);
                }
                Ok(a) => {
                    ids.push(id);
                    sealed.push(a.to_vec());
                }
                Err(_) => {}
            }
        }
        let written = keys.length() as usize;
        crate::perf::add("store: read all (IndexedDB)", start);
        let start = crate::perf::now();
        let opened = self.vault.open_all(&sealed).await?;
        crate::perf::add("store: open all (AES-GCM)", start);
        crate::perf::timed("start: rows parsed", || {
            // A row that does not read (another format) is made again from its document.
            for (id, bytes) in ids.into_iter().zip(opened) {
                if let Some((_, row)) =
                    lianxin_shared::unpack_rows(&bytes).and_then(|one| one.into_iter().next())
                {
                    rows.insert(id, row);
                }
            }
        });
        Ok((rows, written))
    }

    async fn get(&self, store: &str, key: &str) -> Result<JsValue, String> {
        let tx = self
            .db
            .transaction_with_str(store)
            .map_err(|e| js_error("transaction", e))?;
        let s = tx.object_store(store).map_err(|e| js_error(store, e))?;
        request(&s.get(&key.into()).map_err(|e| js_error("get", e))?).await
    }

    async fn put_sealed(&self, store: &str, key: &str, value: Option<&[u8]>) -> Result<(), String> {
        let sealed = match value {
            Some(v) => Some(self.vault.seal(v).await?),
            None => None,
        };
        let tx = self
            .db
            .transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)
            .map_err(|e| js_error("transaction", e))?;
        let s = tx.object_store(store).map_err(|e| js_error(store, e))?;
        match sealed {
            Some(v) => s
                .put_with_key(&Uint8Array::from(&v[..]), &key.into())
                .map(|_| ()),
            None => s.delete(&key.into()).map(|_| ()),
        }
        .map_err(|e| js_error("put", e))?;
        committed(&tx).await
    }

    async fn get_opened(&self, store: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let value = self.get(store, key).await?;
        match value.dyn_into::<Uint8Array>() {
            Ok(a) => Ok(Some(self.vault.open(&a.to_vec()).await?)),
            Err(_) => Ok(None),
        }
    }

    pub async fn cursor(&self) -> Result<u64, String> {
        Ok(self.get("meta", "cursor").await?.as_f64().unwrap_or(0.0) as u64)
    }

    /// The session (the login answer, token included), sealed.
    pub async fn put_session(&self, json: &str) -> Result<(), String> {
        self.put_sealed("meta", "session", Some(json.as_bytes()))
            .await
    }

    pub async fn session(&self) -> Result<Option<String>, String> {
        Ok(self
            .get_opened("meta", "session")
            .await?
            .and_then(|b| String::from_utf8(b).ok()))
    }

    /// Keeps the bytes of an attachment, sealed, under their SHA-256.
    pub async fn put_blob(&self, hash: &str, bytes: &[u8]) -> Result<(), String> {
        self.put_sealed("blobs", hash, Some(bytes)).await
    }

    /// The bytes of an attachment, if this tablet holds them.
    pub async fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>, String> {
        self.get_opened("blobs", hash).await
    }

    /// Attachments taken here and not yet sent: (case, hash) pairs, sealed in `meta`.
    pub async fn blobs_to_send(&self) -> Vec<(String, String)> {
        self.get_opened("meta", "blobs_to_send")
            .await
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or_default()
    }

    pub async fn set_blobs_to_send(&self, pending: &[(String, String)]) -> Result<(), String> {
        let json = serde_json::to_vec(pending).map_err(|e| e.to_string())?;
        self.put_sealed("meta", "blobs_to_send", Some(&json)).await
    }

    /// A text being typed, kept sealed; an empty text removes it.
    pub async fn put_draft(&self, key: &str, text: &str) -> Result<(), String> {
        let value = (!text.is_empty()).then_some(text.as_bytes());
        self.put_sealed("drafts", key, value).await
    }

    pub async fn draft(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self
            .get_opened("drafts", key)
            .await?
            .and_then(|b| String::from_utf8(b).ok()))
    }
}

/// Takes in the unsealed store of the version before this one — one database `lianxin` for
/// the whole tablet, its session in localStorage `lianxin.session`, drafts in
/// `lianxin.draft.*` — if it belonged to `username`: its documents (unsent edits included),
/// cursor and drafts are written sealed into `db` (its rows are made again from the
/// documents at start-up), then the old database and keys are deleted. Returns how many
/// documents came over. (The old actor is kept too, by `gate::device_actor`, so the edits it
/// signed are accepted.)
pub async fn adopt_legacy(db: &Db, username: &str) -> Result<usize, String> {
    let Some(local) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return Ok(0);
    };
    if legacy_user().as_deref() != Some(username) {
        return Ok(0);
    }
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(|e| js_error("IndexedDB", e))?
        .ok_or("this browser has no IndexedDB")?;
    let open = factory.open(LEGACY).map_err(|e| js_error("open", e))?;
    let old: IdbDatabase = request(&open).await?.unchecked_into();
    let names = old.object_store_names();
    let mut moved = 0;
    if names.contains("docs") && names.contains("meta") {
        let legacy = Db {
            db: old.clone(),
            vault: db.vault.clone(),
            queue: Rc::default(),
            writing: Rc::default(),
        };
        let (keys, values) = legacy.everything("docs").await?;
        let docs: Vec<StoredDoc> = keys
            .iter()
            .zip(values.iter())
            .filter_map(|(k, v)| {
                let pair: Array = v.dyn_into().ok()?;
                let doc: Uint8Array = pair.get(0).dyn_into().ok()?;
                let state: Uint8Array = pair.get(1).dyn_into().ok()?;
                Some((k.as_string()?, doc.to_vec(), state.to_vec()))
            })
            .collect();
        // The old version's rows are not taken: each is made again from its document.
        let cursor = legacy.cursor().await.unwrap_or(0);
        moved = docs.len();
        db.put_docs(docs, Vec::new(), Some(cursor));
        db.flushed().await;
    }
    old.close();
    // Drafts typed in the old version.
    let mut drafts = Vec::new();
    for i in 0..local.length().unwrap_or(0) {
        if let Ok(Some(key)) = local.key(i)
            && let Some(name) = key.strip_prefix("lianxin.draft.")
        {
            drafts.push((key.clone(), name.to_string()));
        }
    }
    for (key, name) in drafts {
        if let Ok(Some(text)) = local.get_item(&key) {
            db.put_draft(&name, &text).await?;
        }
        let _ = local.remove_item(&key);
    }
    let delete = factory
        .delete_database(LEGACY)
        .map_err(|e| js_error("delete", e))?;
    request(&delete).await?;
    let _ = local.remove_item("lianxin.session");
    let _ = local.remove_item("lianxin.actor");
    Ok(moved)
}

/// The key in `meta` of every row in one value.
const ROW_PACK: &str = "rowpack";

/// The unsealed database of the version before.
const LEGACY: &str = "lianxin";

/// Whose session the version before kept, if any.
pub fn legacy_user() -> Option<String> {
    let text = web_sys::window()?
        .local_storage()
        .ok()??
        .get_item("lianxin.session")
        .ok()??;
    let session: serde_json::Value = serde_json::from_str(&text).ok()?;
    session["username"].as_str().map(str::to_string)
}

/// Asks the browser not to evict the caseload under storage pressure.
pub fn request_persistence() {
    if let Some(window) = web_sys::window()
        && let Ok(promise) = window.navigator().storage().persist()
    {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(promise).await;
        });
    }
}
