//! `PUT` and `GET /api/cases/{case}/attachments/{hash}`: the bytes of a case's photos and
//! scanned pages. The case document lists each attachment (hash, name, type, size) and syncs
//! like every edit; the bytes follow over HTTP once the listing has reached the server, under
//! the case's own access: only a user who may see the case sends or receives them.
//!
//! The server takes bytes only for an attachment the case lists, whose SHA-256 and size are
//! the listed ones, of at most [`lianxin_shared::MAX_ATTACHMENT_BYTES`]; anything else is a
//! clear refusal.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::{AppError, bearer, internal, session_of, visible_doc};
use crate::now_ms;
use crate::store::Store;
use crate::sync::AppState;
use lianxin_shared::{Attachment, CaseDoc, DocId};

/// The session's user, the case (which they may see) and the attachment it lists as `hash`.
fn listed(
    store: &Store,
    token: &str,
    case: &str,
    hash: &str,
) -> Result<(crate::store::Session, DocId, Attachment), AppError> {
    let session = session_of(store, token, now_ms())?;
    let not_found = || {
        AppError(
            StatusCode::NOT_FOUND,
            "no such case or attachment, or not one you may see".into(),
        )
    };
    let id: DocId = case.parse().map_err(|_| not_found())?;
    let bytes = visible_doc(store, &session, &id)?;
    let doc = lianxin_shared::load_document(&bytes).map_err(internal)?;
    let (position, attachment) = CaseDoc::from_doc(doc)
        .and_then(|c| c.read())
        .map_err(|_| not_found())?
        .attachments
        .into_iter()
        .enumerate()
        .find(|(_, a)| a.hash == hash)
        .ok_or_else(not_found)?;
    // The app lists at most MAX_ATTACHMENTS; a tampered device listing more gets no bytes
    // kept for the rest, so a case never holds more than 60 × 8 MB.
    if position >= lianxin_shared::MAX_ATTACHMENTS {
        return Err(AppError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "a case holds at most {} attachments",
                lianxin_shared::MAX_ATTACHMENTS
            ),
        ));
    }
    Ok((session, id, attachment))
}

pub async fn put(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((case, hash)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let (session, id, listed) = listed(&store, &token, &case, &hash)?;
        let found = lianxin_shared::content_hash(&body);
        if found != hash || body.len() as i64 != listed.size {
            return Err(AppError(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "these bytes are not the attachment the case lists (SHA-256 {found}, {} bytes; listed {hash}, {} bytes)",
                    body.len(),
                    listed.size
                ),
            ));
        }
        store
            .put_attachment(&id, &hash, &body, &session.username, now_ms())
            .map_err(internal)?;
        tracing::info!(user = %session.username, case = %id.short(), bytes = body.len(), "attachment kept");
        Ok(Json(serde_json::json!({ "kept": hash })))
    })
    .await
    .map_err(internal)?
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((case, hash)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let (_, id, listed) = listed(&store, &token, &case, &hash)?;
        let bytes = store
            .attachment(&id, &hash)
            .map_err(internal)?
            .ok_or_else(|| {
                AppError(
                    StatusCode::NOT_FOUND,
                    "the device that took it has not sent it yet".into(),
                )
            })?;
        Ok(([(header::CONTENT_TYPE, listed.mime)], bytes).into_response())
    })
    .await
    .map_err(internal)?
}
