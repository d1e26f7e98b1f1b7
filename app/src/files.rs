//! Photos and scanned pages on the tablet: taken with the camera or chosen as files, kept
//! sealed in the local store under their SHA-256 (outside the case document, which lists each
//! one's hash, name, type and size), sent to the server once the case's listing has gone up,
//! and fetched from it for the cases this tablet sees when a colleague took them.

use js_sys::Uint8Array;
use wasm_bindgen_futures::JsFuture;

use crate::{local_store, with_engine};

/// What a file could not be attached for, in the screen's language.
pub fn too_big(size: f64, lang: crate::i18n::Lang) -> String {
    let mb = size / 1024.0 / 1024.0;
    let cap = lianxin_shared::MAX_ATTACHMENT_BYTES / 1024 / 1024;
    match lang {
        crate::i18n::Lang::Zh => {
            format!("文件过大（{mb:.1} MB），单个附件不能超过 {cap} MB。请缩小照片后再试。")
        }
        crate::i18n::Lang::En => {
            format!("This file is too large ({mb:.1} MB): an attachment is at most {cap} MB.")
        }
    }
}

/// The bytes of a chosen file.
pub async fn read(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| "the file could not be read")?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

async fn call(
    method: gloo_net::http::Method,
    path: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), String> {
    let token = with_engine(|e| e.token()).ok_or("not signed in")?;
    let request = gloo_net::http::RequestBuilder::new(path)
        .method(method)
        .header("authorization", &format!("Bearer {token}"));
    let request = match body {
        Some(bytes) => request.body(Uint8Array::from(bytes)),
        None => request.build(),
    }
    .map_err(|_| "request")?;
    let response = request.send().await.map_err(|_| "network unavailable")?;
    let bytes = response.binary().await.map_err(|_| "body")?;
    Ok((response.status(), bytes))
}

/// Keeps the bytes of a photo taken here (before the case lists it, so its thumbnail finds it).
pub async fn keep(hash: &str, bytes: &[u8]) -> Result<(), String> {
    local_store()
        .ok_or("not signed in")?
        .put_blob(hash, bytes)
        .await
}

/// Queues a photo the case now lists for the server.
pub async fn queue(case: &str, hash: &str) -> Result<(), String> {
    let db = local_store().ok_or("not signed in")?;
    let _list = LIST.lock().await;
    let mut pending = db.blobs_to_send().await;
    pending.push((case.to_string(), hash.to_string()));
    db.set_blobs_to_send(&pending).await
}

/// The list of photos to send is read and written back with awaits between (it is sealed):
/// one change of it at a time, or a photo queued while the list was being sent was written
/// over and never went up.
static LIST: std::sync::LazyLock<futures_util::lock::Mutex<()>> =
    std::sync::LazyLock::new(|| futures_util::lock::Mutex::new(()));

/// After a sync: sends the photos taken here whose case listing the server now has. One that
/// the server does not take yet (its listing still on the way) waits for the next sync.
pub async fn send_pending() {
    // One sender at a time: two syncs settling close together would send each photo twice.
    thread_local! {
        static SENDING: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    }
    crate::one_at_a_time(&SENDING, send_pending_now).await;
}

async fn send_pending_now() {
    let Some(db) = local_store() else { return };
    let pending = {
        let _list = LIST.lock().await;
        db.blobs_to_send().await
    };
    let mut sent = Vec::new();
    for (case, hash) in pending {
        let done = match db.blob(&hash).await {
            Ok(Some(bytes)) => {
                let path = format!("/api/cases/{case}/attachments/{hash}");
                matches!(
                    call(gloo_net::http::Method::PUT, &path, Some(&bytes)).await,
                    Ok((200, _))
                )
            }
            // Gone from the tablet (signed out and in again): nothing left to send.
            _ => true,
        };
        if done {
            sent.push((case, hash));
        }
    }
    if sent.is_empty() {
        return;
    }
    // Off the list as it is now: a photo queued meanwhile stays on it.
    let _list = LIST.lock().await;
    let mut still = db.blobs_to_send().await;
    still.retain(|p| !sent.contains(p));
    let _ = db.set_blobs_to_send(&still).await;
}

/// The bytes of an attachment: from this tablet, else from the server (then kept here, so it
/// opens with no signal next time). None while neither has it.
pub async fn bytes(case: &str, hash: &str) -> Option<Vec<u8>> {
    let db = local_store()?;
    if let Ok(Some(b)) = db.blob(hash).await {
        return Some(b);
    }
    let (status, body) = call(
        gloo_net::http::Method::GET,
        &format!("/api/cases/{case}/attachments/{hash}"),
        None,
    )
    .await
    .ok()?;
    if status != 200 || lianxin_shared::content_hash(&body) != hash {
        return None;
    }
    let _ = db.put_blob(hash, &body).await;
    Some(body)
}

/// An object URL for bytes of type `mime`, for an `<img>` or a new tab.
pub fn object_url(bytes: &[u8], mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
