//! The browser's local store: IndexedDB database `lianxin` with three object stores,
//! `docs` (case id → [saved Automerge bytes, sync state]), `rows` (case id → the caseload line,
//! JSON, so the list shows before any document is loaded) and `meta` (the sync cursor).
//! Documents are written one by one as they change, each with its row, in one transaction per
//! batch, and the cursor only in the same transaction as the documents it covers.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction, IdbTransactionMode};

const NAME: &str = "lianxin";
const VERSION: u32 = 2;

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

#[derive(Clone)]
pub struct Db(IdbDatabase);

/// One stored document: id, saved bytes, sync state.
pub type StoredDoc = (String, Vec<u8>, Vec<u8>);

impl Db {
    pub async fn open() -> Result<Db, String> {
        let factory = web_sys::window()
            .ok_or("no window")?
            .indexed_db()
            .map_err(|e| js_error("IndexedDB", e))?
            .ok_or("this browser has no IndexedDB")?;
        let open = factory
            .open_with_u32(NAME, VERSION)
            .map_err(|e| js_error("open", e))?;
        let upgrading = open.clone();
        let on_upgrade = Closure::once_into_js(move || {
            if let Ok(db) = upgrading
                .result()
                .map(|r| r.unchecked_into::<IdbDatabase>())
            {
                let names = db.object_store_names();
                for store in ["docs", "rows", "meta"] {
                    if !names.contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = request(&open).await?;
        Ok(Db(db.unchecked_into()))
    }

    /// Writes documents with their caseload rows (and, if given, the cursor that covers them)
    /// in one transaction.
    pub async fn put_docs(
        &self,
        docs: &[StoredDoc],
        rows: &[(String, String)],
        cursor: Option<u64>,
    ) -> Result<(), String> {
        let stores = Array::of3(&"docs".into(), &"rows".into(), &"meta".into());
        let tx = self
            .0
            .transaction_with_str_sequence_and_mode(&stores, IdbTransactionMode::Readwrite)
            .map_err(|e| js_error("transaction", e))?;
        let store = tx.object_store("docs").map_err(|e| js_error("docs", e))?;
        for (id, doc, state) in docs {
            let value = Array::of2(&Uint8Array::from(&doc[..]), &Uint8Array::from(&state[..]));
            store
                .put_with_key(&value, &JsValue::from_str(id))
                .map_err(|e| js_error("put", e))?;
        }
        let row_store = tx.object_store("rows").map_err(|e| js_error("rows", e))?;
        for (id, row) in rows {
            row_store
                .put_with_key(&JsValue::from_str(row), &JsValue::from_str(id))
                .map_err(|e| js_error("put", e))?;
        }
        if let Some(cursor) = cursor {
            let meta = tx.object_store("meta").map_err(|e| js_error("meta", e))?;
            meta.put_with_key(&JsValue::from_f64(cursor as f64), &"cursor".into())
                .map_err(|e| js_error("put", e))?;
        }
        committed(&tx).await
    }

    /// Every key and value of an object store, in key order, in one read transaction.
    async fn everything(&self, name: &str) -> Result<(Array, Array), String> {
        let tx = self
            .0
            .transaction_with_str(name)
            .map_err(|e| js_error("transaction", e))?;
        let store = tx.object_store(name).map_err(|e| js_error(name, e))?;
        let keys: Array = request(&store.get_all_keys().map_err(|e| js_error("keys", e))?)
            .await?
            .unchecked_into();
        let values: Array = request(&store.get_all().map_err(|e| js_error("values", e))?)
            .await?
            .unchecked_into();
        Ok((keys, values))
    }

    pub async fn load_docs(&self) -> Result<Vec<StoredDoc>, String> {
        let (keys, values) = self.everything("docs").await?;
        let mut out = Vec::with_capacity(keys.length() as usize);
        for (key, value) in keys.iter().zip(values.iter()) {
            let pair: Array = value.unchecked_into();
            let doc: Uint8Array = pair.get(0).unchecked_into();
            let state: Uint8Array = pair.get(1).unchecked_into();
            out.push((
                key.as_string().unwrap_or_default(),
                doc.to_vec(),
                state.to_vec(),
            ));
        }
        Ok(out)
    }

    /// Every stored caseload row: (case id, JSON).
    pub async fn load_rows(&self) -> Result<Vec<(String, String)>, String> {
        let (keys, values) = self.everything("rows").await?;
        Ok(keys
            .iter()
            .zip(values.iter())
            .filter_map(|(k, v)| Some((k.as_string()?, v.as_string()?)))
            .collect())
    }

    pub async fn cursor(&self) -> Result<u64, String> {
        let tx = self
            .0
            .transaction_with_str("meta")
            .map_err(|e| js_error("transaction", e))?;
        let store = tx.object_store("meta").map_err(|e| js_error("meta", e))?;
        let value = request(
            &store
                .get(&"cursor".into())
                .map_err(|e| js_error("get", e))?,
        )
        .await?;
        Ok(value.as_f64().unwrap_or(0.0) as u64)
    }
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
