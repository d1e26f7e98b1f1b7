//! HTTP routes: login, logout, the sync WebSocket, and the front page.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, Request, State, WebSocketUpgrade, ws::Message, ws::WebSocket},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};

use lianxin_shared::protocol::{self, ClientMessage, LoginRequest, LoginResponse, ServerMessage};
use tower::ServiceExt;

use crate::store::{Session, Store, visible_units};
use crate::sync::{AppState, CONNECTIONS_PER_USER, ConnectionPermit, MAX_WS_MESSAGE};
use crate::throttle::Decision;
use crate::{auth, now_ms};

/// How long a connection that brings no token in a header has to send it as its first frame.
const AUTH_FRAME_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The Content-Security-Policy of every answer: only our own script and WebAssembly
/// (`'wasm-unsafe-eval'` lets the page compile it), no inline script, no framing, no other
/// origin to talk to.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// The one error type of the HTTP boundary: a status and a message for the person, never
/// internals.
#[derive(Debug)]
pub struct AppError(pub StatusCode, pub String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> AppError {
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
        .route("/api/sync", get(sync_socket))
        .route("/api/history/{doc}", get(history))
        .route("/api/ledger-log", post(ledger_log))
        .route("/api/references", post(references))
        .route(
            "/api/cases/{case}/attachments/{hash}",
            get(crate::attachments::get)
                .put(crate::attachments::put)
                .layer(axum::extract::DefaultBodyLimit::max(
                    lianxin_shared::MAX_ATTACHMENT_BYTES as usize,
                )),
        )
        .route("/ca.pem", get(ca_certificate))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics));
    let bundle = state
        .bundle
        .clone()
        .filter(|dir| dir.join("index.html").is_file());
    let router = match bundle {
        // The app's files, brotli- or gzip-compressed where the browser accepts it (the
        // bundle step writes a .br and a .gz beside every file). A file whose name carries its
        // content's hash is immutable (`security_headers`); the rest are revalidated.
        // A screen's address (/case/…, /board) that is no file is the app itself, which
        // opens the screen; a missing file under /pkg/ or with an extension stays a 404.
        Some(dir) => {
            let shell = tower_http::services::ServeFile::new(dir.join("index.html"))
                .precompressed_br()
                .precompressed_gzip();
            let files = tower_http::services::ServeDir::new(&dir)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(true);
            api.fallback(move |request: Request| async move {
                let path = request.uri().path();
                let headers = request.headers().clone();
                let screen = !path.starts_with("/api/")
                    && !path.starts_with("/pkg/")
                    && !path.rsplit('/').next().unwrap_or("").contains('.');
                let found = files.clone().oneshot(request).await;
                match found {
                    Ok(r) if r.status() == StatusCode::NOT_FOUND && screen => {
                        let mut request = Request::new(axum::body::Body::empty());
                        *request.headers_mut() = headers;
                        shell
                            .clone()
                            .oneshot(request)
                            .await
                            .map(IntoResponse::into_response)
                    }
                    other => other.map(IntoResponse::into_response),
                }
                .unwrap_or_else(|never| match never {})
            })
        }
        None => api.route("/", get(front_page)),
    };
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Gives every request an id — the proxy's `X-Request-Id` when it sent one, else this
/// instance's own — logs it with the method, the path (never the query: it may carry a name),
/// the status and the time taken, and answers it in `X-Request-Id`. What the handlers log
/// (a sync session's lines too) is inside the request's span and carries the id.
async fn request_id(request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(|| {
            let n = REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            format!("{:08x}-{n}", std::process::id())
        });
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let span = tracing::info_span!("request", id = %id, %method, path = %path);
    let started = std::time::Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis() as u64,
            "answered"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The headers every answer carries: the CSP, no sniffing, no framing, no referrer, no
/// camera or location for anyone else; HSTS over https; API answers never stored by a cache
/// (they carry tokens and personal data), the app's files with a content hash in their names
/// kept for a year without asking, the others revalidated.
async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let immutable = !api && content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let found = response.status() == StatusCode::OK;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(self), geolocation=(), microphone=(), payment=()",
    );
    if state.https {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if api {
        set(h, header::CACHE_CONTROL, "no-store");
    } else if immutable && found {
        set(
            h,
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable",
        );
    } else if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-cache");
    }
    response
}

/// Whether a path names a file after its content, as the bundle step does:
/// `…/name-0123456789abcdef.ext` (16 lowercase hex digits before the extension).
pub fn content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let Some((stem, ext)) = file.rsplit_once('.') else {
        return false;
    };
    let Some((name, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    !name.is_empty()
        && !ext.is_empty()
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The office CA's certificate, for tablets to install (`lianxin admin tls init` made it).
async fn ca_certificate(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(path) = state.ca_cert.clone() else {
        return Err(AppError(
            StatusCode::NOT_FOUND,
            "this server has no office certificate authority".into(),
        ));
    };
    let pem = tokio::fs::read(&path).await.map_err(internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-x509-ca-cert"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lianxin-ca.crt\"",
            ),
        ],
        pem,
    )
        .into_response())
}

/// Whether this instance can serve: its store answers. 200 "ok", or 503 with the reason (a
/// load balancer takes the instance out of rotation).
async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    match tokio::task::spawn_blocking(move || store.seq()).await {
        Ok(Ok(seq)) => (StatusCode::OK, format!("ok {seq}\n")).into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

/// The counters in Prometheus text format, to the machine itself only (a proxy in front
/// keeps `/metrics` to itself too: docs/deploy.md).
async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to the machine itself\n",
        )
            .into_response();
    }
    let text = crate::metrics::render(&state.gauges());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    )
        .into_response()
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

/// The address a sign-in comes from, for throttling: the peer's (a proxy in front must be
/// configured to pass one connection per client; see docs/deploy.md when it exists).
fn peer(ConnectInfo(address): &ConnectInfo<SocketAddr>) -> String {
    address.ip().to_string()
}

/// Places for refused sign-ins held before their answer: at most 1,024 at once. A permit is
/// given back however the request ends (a client that hangs up mid-pause drops it too).
static TARPIT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1_024);

async fn login(
    State(state): State<AppState>,
    info: ConnectInfo<SocketAddr>,
    Json(req): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let address = peer(&info);
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
    let wait = match state.throttle.decide(&req.username, &address, now_ms()) {
        Decision::Check => None,
        Decision::Wait(ms) => Some(ms),
        // Failures from this address (an office's tablets share one behind its router) do
        // not keep out a tablet this account has signed in from before.
        Decision::AddressLocked(ms) => {
            let (store, name, key) = (
                state.store.clone(),
                req.username.clone(),
                actor.to_hex_string(),
            );
            let known = tokio::task::spawn_blocking(move || store.known_device(&name, &key))
                .await
                .map_err(internal)?
                .map_err(internal)?;
            (!known).then_some(ms)
        }
    };
    if let Some(ms) = wait {
        tracing::warn!(user = %req.username, %address, "sign-in refused unchecked: too many failures");
        // Answered after a pause (up to a second, for a bounded number at once): a script
        // that tries again at once is slowed to a try a second per connection, instead of
        // thousands of answers a second taking the cores from everyone else.
        if let Ok(_place) = TARPIT.try_acquire() {
            let ms = u64::try_from(ms.clamp(0, 1_000)).unwrap_or(1_000);
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        let seconds = (ms + 999) / 1000;
        return Err(AppError(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed sign-ins; try again in {seconds} s"),
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
    let throttle = state.throttle.clone();
    let resp = tokio::task::spawn_blocking(move || -> Result<LoginResponse, AppError> {
        let _permit = permit;
        let wrong = |why: &str| {
            // Logged with the name and address, never the password.
            tracing::warn!(user = %req.username, %address, "failed sign-in: {why}");
            throttle.failed(&req.username, &address, now_ms());
            AppError(
                StatusCode::UNAUTHORIZED,
                "wrong username or password".into(),
            )
        };
        let user = store.user(&req.username).map_err(internal)?;
        // The same work for an unknown user as for a wrong password: a hash is checked
        // either way, so neither the answer nor its time tells which names exist.
        let hash = user
            .as_ref()
            .map_or(auth::dummy_hash(), |u| u.password_hash.as_str());
        let right = auth::verify_password(&req.password, hash);
        let Some(user) = user else {
            return Err(wrong("no such user"));
        };
        if !right {
            return Err(wrong("wrong password"));
        }
        if user.disabled {
            // The same answer as a wrong password: a disabled account does not tell anyone
            // holding its password that the password is right.
            return Err(wrong("account disabled"));
        }
        throttle.succeeded(&req.username, &address);
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
        let expires_at = store
            .create_session(&hash, &user.username, &actor.to_hex_string(), now)
            .map_err(internal)?;
        let directory = store.units().map_err(internal)?;
        let calendar = store.calendar().map_err(internal)?;
        let visible = visible_units(&directory, &user.units);
        Ok(LoginResponse {
            token,
            expires_at,
            username: user.username,
            name: user.name,
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

/// The live session of `token`, or a 401 that says to sign in again.
pub(crate) fn session_of(store: &Store, token: &str, now: i64) -> Result<Session, AppError> {
    store
        .session(&auth::token_hash(token), now)
        .map_err(internal)?
        .ok_or_else(|| {
            AppError(
                StatusCode::UNAUTHORIZED,
                "session expired, ended or user disabled; log in again".into(),
            )
        })
}

/// The stored document `id` if `session`'s user may see it (one of its units is theirs or
/// below theirs); else a 404 that does not say whether it exists.
pub(crate) fn visible_doc(
    store: &Store,
    session: &Session,
    id: &lianxin_shared::DocId,
) -> Result<Vec<u8>, AppError> {
    let not_found = || {
        AppError(
            StatusCode::NOT_FOUND,
            "no such case, or not one you may see".into(),
        )
    };
    let visible = visible_units(&store.units().map_err(internal)?, &session.units);
    let (bytes, units, _) = store
        .load_doc(id)
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if !units.iter().any(|u| visible.contains(u)) {
        return Err(not_found());
    }
    Ok(bytes)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<StatusCode, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    state
        .store
        .end_session(&auth::token_hash(&token))
        .map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A case's history (`Authorization: Bearer TOKEN`): every stored change with who sent it,
/// from which device, when the server received it and what it touched, for a user who may
/// see the case; the administrator sees the refused changes too.
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(doc): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    let id: lianxin_shared::DocId = doc
        .parse()
        .map_err(|_| AppError(StatusCode::BAD_REQUEST, "not a case id".into()))?;
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let session = session_of(&store, &token, now_ms())?;
        visible_doc(&store, &session, &id)?;
        let admin = session.role == crate::store::Role::Admin;
        store.history(&id, admin).map_err(internal)
    })
    .await
    .map_err(internal)??;
    Ok(Json(
        serde_json::json!({ "case": id.to_string(), "entries": entries }),
    ))
}

/// What a device reports of a ledger export or import it made.
#[derive(serde::Deserialize)]
struct LedgerReport {
    action: String,
    what: String,
    rows: usize,
    at: i64,
}

/// Records a device's ledger export or import (`Authorization: Bearer TOKEN`): refused (403)
/// to a role that may not export or import ledgers (DOMAIN.md "Who may do what"), so the
/// record says who, from which device, when, what and how many rows.
/// Numbers in a block a tablet registers its new cases with, offline too: 50 of this year to
/// the session's device, never given to another (`store::numbers`). Roles that may not register
/// cases get none.
async fn references(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<protocol::ReferenceBlock>, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let now = now_ms();
        let session = session_of(&store, &token, now)?;
        use lianxin_shared::rules::authority::{Touch, may};
        if !may(session.role, lianxin_shared::Kind::Case.op(&Touch::Create)) {
            return Err(AppError(
                StatusCode::FORBIDDEN,
                format!("a {} may not register cases", session.role.code()),
            ));
        }
        let (year, _, _) = lianxin_shared::Date::from_unix_ms_china(now).ymd();
        let block = store
            .issue_references(year, REFERENCE_BLOCK, &session.actor, &session.username, now)
            .map_err(internal)?
            .ok_or_else(|| {
                tracing::warn!(user = %session.username, "reference numbers refused: too many blocks today");
                AppError(
                    StatusCode::TOO_MANY_REQUESTS,
                    "this device has had its reference numbers for today".into(),
                )
            })?;
        tracing::info!(user = %session.username, year, first = block.first, "reference numbers issued");
        Ok(Json(block))
    })
    .await
    .map_err(internal)?
}

/// Numbers in one block: a busy day's registrations at a township's tablet.
const REFERENCE_BLOCK: u32 = 50;

async fn ledger_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(report): Json<LedgerReport>,
) -> Result<Json<serde_json::Value>, AppError> {
    let token = bearer(&headers)
        .ok_or_else(|| AppError(StatusCode::UNAUTHORIZED, "no session token".into()))?;
    if !matches!(report.action.as_str(), "export" | "import")
        || report.what.chars().count() > 400
        || report.rows > 10_000_000
    {
        return Err(AppError(
            StatusCode::BAD_REQUEST,
            "expected {action: export|import, what (at most 400 characters), rows, at}".into(),
        ));
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let session = session_of(&store, &token, now_ms())?;
        use lianxin_shared::rules::authority::{Op, may};
        if !may(session.role, Op::Ledger) {
            tracing::warn!(user = %session.username, "ledger {} refused: role may not", report.action);
            return Err(AppError(
                StatusCode::FORBIDDEN,
                format!(
                    "a {} may not export or import ledgers",
                    session.role.code()
                ),
            ));
        }
        store
            .record_ledger(&crate::store::LedgerEntry {
                at: now_ms(),
                user: session.username,
                actor: session.actor,
                action: report.action,
                what: report.what,
                rows: report.rows,
                device_at: report.at,
            })
            .map_err(internal)
    })
    .await
    .map_err(internal)??;
    Ok(Json(serde_json::json!({ "recorded": true })))
}

/// A token's live session and a place among its user's connections.
async fn authenticate(
    state: &AppState,
    token: &str,
) -> Result<(Session, Vec<u8>, ConnectionPermit), AppError> {
    let hash = auth::token_hash(token);
    let store = state.store.clone();
    let lookup = hash.clone();
    let session = tokio::task::spawn_blocking(move || store.session(&lookup, now_ms()))
        .await
        .map_err(internal)?
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
    Ok((session, hash, permit))
}

/// The sync endpoint. A program that can set headers brings its token in `Authorization`,
/// checked before the upgrade; a browser (which cannot) sends it as the first frame,
/// [`ClientMessage::Auth`]. The token is never in the URL.
async fn sync_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    let early = match bearer(&headers) {
        Some(token) => Some(authenticate(&state, &token).await?),
        None => None,
    };
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |mut socket| async move {
            let (session, hash, permit) = match early {
                Some(authenticated) => authenticated,
                None => match first_frame(&state, &mut socket).await {
                    Ok(authenticated) => authenticated,
                    Err(refusal) => {
                        let _ = socket
                            .send(Message::Binary(protocol::encode(&refusal).into()))
                            .await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                },
            };
            crate::sync::run(state, socket, session, hash, permit).await
        }))
}

/// Reads the token from the first frame of a connection; what to answer if there is none.
async fn first_frame(
    state: &AppState,
    socket: &mut WebSocket,
) -> Result<(Session, Vec<u8>, ConnectionPermit), ServerMessage> {
    let frame = match tokio::time::timeout(AUTH_FRAME_WAIT, socket.recv()).await {
        Ok(Some(Ok(Message::Binary(bytes)))) => bytes,
        Ok(_) => {
            return Err(ServerMessage::Error(
                "the first frame must carry the session token".into(),
            ));
        }
        Err(_) => return Err(ServerMessage::Error("no session token within 10 s".into())),
    };
    let token = match protocol::decode::<ClientMessage>(&frame) {
        Ok(ClientMessage::Auth { token }) => token,
        Ok(_) => {
            return Err(ServerMessage::SessionEnded(
                "no session token; log in".into(),
            ));
        }
        Err(e) => return Err(ServerMessage::Error(e.to_string())),
    };
    authenticate(state, &token)
        .await
        .map_err(|AppError(status, reason)| {
            if status == StatusCode::UNAUTHORIZED {
                ServerMessage::SessionEnded(reason)
            } else {
                ServerMessage::Error(reason)
            }
        })
}
