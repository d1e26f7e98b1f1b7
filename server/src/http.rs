//! HTTP routes: login, logout, the sync WebSocket, and the front page.

use axum::{
    Json, Router,
    extract::{Query, State, WebSocketUpgrade},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use lianxin_shared::protocol::{LoginRequest, LoginResponse};

use crate::store::visible_units;
use crate::sync::{AppState, CONNECTIONS_PER_USER, MAX_WS_MESSAGE};
use crate::{auth, now_ms};

/// How long a session token lives: a month, so a tablet can stay in the field.
const SESSION_MS: i64 = 30 * 24 * 3600 * 1000;

/// The one error type of the HTTP boundary: a status and a message for the person, never
/// internals.
#[derive(Debug)]
pub struct AppError(StatusCode, String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!("internal error: {e}");
    AppError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; the administrator can see the log".into(),
    )
}

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/sync", get(sync_socket));
    let bundle = state
        .bundle
        .clone()
        .filter(|dir| dir.join("index.html").is_file());
    let router = match bundle {
        // The app's files, gzip-compressed where the browser accepts it (the bundle step
        // writes a .gz beside every file). Names are not content-hashed yet, so every
        // response is revalidated.
        Some(dir) => api.fallback_service(
            tower_http::services::ServeDir::new(dir)
                .precompressed_gzip()
                .append_index_html_on_directories(true),
        ),
        None => api.route("/", get(front_page)),
    };
    router
        .layer(axum::middleware::map_response(
            |mut response: Response| async move {
                if !response.headers().contains_key(header::CACHE_CONTROL) {
                    response.headers_mut().insert(
                        header::CACHE_CONTROL,
                        header::HeaderValue::from_static("no-cache"),
                    );
                }
                response
            },
        ))
        .with_state(state)
}

async fn front_page() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>连心 Lianxin</title>",
        "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>连心 Lianxin</h1>",
        "<p>服务器运行中。同步接口：<code>/api/sync</code>。平板应用尚在开发中，目前请使用命令行设备 ",
        "<code>lianxin device</code>。</p><p>The server is running. The tablet app is not built yet; ",
        "use the command-line device <code>lianxin device</code>.</p></body></html>"
    ))
}

async fn login(
    State(state): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let actor = automerge::ActorId::try_from(req.actor.as_str()).map_err(|_| {
        AppError(
            StatusCode::BAD_REQUEST,
            "actor must be a hex Automerge actor id".into(),
        )
    })?;
    if actor.to_bytes().len() < 16 {
        return Err(AppError(
            StatusCode::BAD_REQUEST,
            "actor must be at least 16 random bytes".into(),
        ));
    }
    // Each check holds 19 MiB for about 20 ms of a core: a few at once, a short queue of
    // sign-ins waiting at most a few seconds for their turn (a morning's burst of tablets),
    // and beyond that a quick 503 rather than a queue that grows with every request.
    let busy = || {
        AppError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is busy checking other sign-ins; try again in a moment".into(),
        )
    };
    let Some(_waiting) = state.password_queue() else {
        return Err(busy());
    };
    let permit = match tokio::time::timeout(
        crate::sync::PASSWORD_WAIT,
        state.password_checks.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(permit)) => permit,
        _ => return Err(busy()),
    };
    let store = state.store.clone();
    let resp = tokio::task::spawn_blocking(move || -> Result<LoginResponse, AppError> {
        let _permit = permit;
        let wrong = || {
            AppError(
                StatusCode::UNAUTHORIZED,
                "wrong username or password".into(),
            )
        };
        let Some(user) = store.user(&req.username).map_err(internal)? else {
            // The same work for an unknown user as for a wrong password.
            auth::verify_password(&req.password, auth::dummy_hash());
            return Err(wrong());
        };
        if !auth::verify_password(&req.password, &user.password_hash) {
            return Err(wrong());
        }
        if user.disabled {
            return Err(AppError(
                StatusCode::FORBIDDEN,
                "this account is disabled".into(),
            ));
        }
        let now = now_ms();
        store
            .register_device(
                &user.username,
                &actor.to_hex_string(),
                &req.device_name,
                now,
            )
            .map_err(|e| AppError(StatusCode::CONFLICT, e.to_string()))?;
        let (token, hash) = auth::new_token();
        let expires_at = now + SESSION_MS;
        store
            .create_session(&hash, &user.username, &actor.to_hex_string(), expires_at)
            .map_err(internal)?;
        let directory = store.units().map_err(internal)?;
        let calendar = store.calendar().map_err(internal)?;
        let visible = visible_units(&directory, &user.units);
        Ok(LoginResponse {
            token,
            expires_at,
            username: user.username,
            role: user.role.code().into(),
            units: user.units.iter().map(|u| u.to_string()).collect(),
            visible_units: visible.iter().map(|u| u.to_string()).collect(),
            directory,
            calendar,
        })
    })
    .await
    .map_err(internal)??;
    tracing::info!(user = %resp.username, "login");
    Ok(Json(resp))
}

fn bearer(headers: &HeaderMap, query: &TokenQuery) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or_else(|| query.token.clone())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, AppError> {
    let token = bearer(&headers, &TokenQuery { token: None })
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    state
        .store
        .end_session(&auth::token_hash(&token))
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The sync endpoint. The session is checked before the upgrade: no valid token, no socket.
async fn sync_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let token = bearer(&headers, &query)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    let hash = auth::token_hash(&token);
    let session = state
        .store
        .session(&hash, now_ms())
        .map_err(internal)?
        .ok_or_else(|| {
            AppError(
                StatusCode::UNAUTHORIZED,
                "session expired, ended or user disabled; log in again".into(),
            )
        })?;
    let permit = state.connection(&session.username).ok_or_else(|| {
        AppError(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many sync connections for this user (at most {CONNECTIONS_PER_USER}); close another device's"
            ),
        )
    })?;
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| crate::sync::run(state, socket, session, hash, permit)))
}
