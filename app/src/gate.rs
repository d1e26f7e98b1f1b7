//! Who is at the tablet: signing in (online), unlocking (offline, with the password), the
//! user's name in the header with lock and sign-out, locking when idle, and signing in again
//! when the server has ended the session.
//!
//! Each user of a tablet has their own actor, their own database and their own data key
//! ([`crate::vault`]). Signing out removes that user's database, key and lock record from
//! the tablet — once every local edit has reached the server, or after the user has been
//! told how many would be lost and has confirmed — and ends the session on the server when
//! there is a signal. Locking only forgets the key: the page reloads to the unlock screen.

use leptos::prelude::*;
use lianxin_shared::protocol::{LoginRequest, LoginResponse};

use crate::i18n::{Lang, t};
use crate::store::Db;
use crate::sync::Status;
use crate::vault::{self, Vault};
use crate::{Ctx, storage, with_engine};

/// Minutes without a touch or a key before the tablet locks itself, unless set otherwise
/// (the header offers [`IDLE_CHOICES`]; the setting is kept in seconds, `lianxin.idle_seconds`).
pub const IDLE_MINUTES: u32 = 15;
const IDLE_CHOICES: [u32; 5] = [1, 5, 15, 30, 60];

fn idle_seconds() -> u32 {
    storage()
        .and_then(|s| s.get_item("lianxin.idle_seconds").ok().flatten())
        .and_then(|m| m.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(IDLE_MINUTES * 60)
}

/// This tablet's Automerge actor for `username`, made at their first sign-in here and kept:
/// each user of a shared tablet writes as their own actor.
pub fn device_actor(username: &str) -> automerge::ActorId {
    let key = format!("lianxin.actor.{username}");
    let stored = storage().and_then(|s| s.get_item(&key).ok().flatten());
    if let Some(actor) = stored.and_then(|a| automerge::ActorId::try_from(a.as_str()).ok()) {
        return actor;
    }
    // The version before kept one actor for the tablet: its user keeps it, so the edits it
    // signed and has not sent yet are still theirs.
    let legacy = (crate::store::legacy_user().as_deref() == Some(username))
        .then(|| storage().and_then(|s| s.get_item("lianxin.actor").ok().flatten()))
        .flatten()
        .and_then(|a| automerge::ActorId::try_from(a.as_str()).ok());
    let actor = legacy.unwrap_or_else(automerge::ActorId::random);
    if let Some(s) = storage() {
        let _ = s.set_item(&key, &actor.to_hex_string());
    }
    actor
}

pub(crate) async fn post(
    path: &str,
    body: Option<String>,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let mut request = gloo_net::http::Request::post(path);
    if let Some(token) = token {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(body),
        None => request.build(),
    }
    .map_err(|_| "request")?;
    let response = request
        .send()
        .await
        .map_err(|_| "网络不可用 / network unavailable".to_string())?;
    let text = response.text().await.map_err(|_| "body")?;
    Ok((response.status(), text))
}

/// Signs in with the server.
pub async fn login(username: &str, password: &str) -> Result<LoginResponse, String> {
    let window = web_sys::window().ok_or("no window")?;
    let body = serde_json::to_string(&LoginRequest {
        username: username.to_string(),
        password: password.to_string(),
        actor: device_actor(username).to_hex_string(),
        device_name: window.navigator().user_agent().unwrap_or_default(),
    })
    .map_err(|e| e.to_string())?;
    let (status, text) = post("/api/login", Some(body), None).await?;
    if !(200..300).contains(&status) {
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(reason);
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Signs in online, then opens (or makes) this user's sealed store with the same password.
async fn sign_in(username: &str, password: &str) -> Result<(LoginResponse, Db), String> {
    let resp = login(username, password).await?;
    let vault = match vault::record(&resp.username) {
        Some(record) => Vault::unlock(password, &record).await.map_err(|_| {
            "本机数据是用您以前的密码加密的：请先用旧密码解锁 / this tablet's data was locked with your previous password: unlock with it first".to_string()
        })?,
        None => {
            let (vault, record) = Vault::create(&resp.username, password).await?;
            vault::keep_record(&record);
            vault
        }
    };
    let db = Db::open(&resp.username, vault).await?;
    db.put_session(&serde_json::to_string(&resp).map_err(|e| e.to_string())?)
        .await?;
    match crate::store::adopt_legacy(&db, &resp.username).await {
        Ok(0) => {}
        Ok(n) => {
            web_sys::console::info_1(&format!("sealed {n} documents of the version before").into())
        }
        Err(e) => {
            web_sys::console::error_1(&format!("could not take in the old store: {e}").into())
        }
    }
    vault::set_current_user(Some(&resp.username));
    Ok((resp, db))
}

/// Unlocks the last user's sealed store with their password: no network needed.
async fn unlock(username: &str, password: &str) -> Result<(LoginResponse, Db), String> {
    let record = vault::record(username).ok_or("no data for this user on this tablet")?;
    let vault = Vault::unlock(password, &record).await?;
    let db = Db::open(username, vault).await?;
    let session = db
        .session()
        .await?
        .and_then(|json| serde_json::from_str::<LoginResponse>(&json).ok())
        .ok_or("no session kept on this tablet; sign in with a signal")?;
    Ok((session, db))
}

/// What the gate's `on_open` returns: done once the session is open, or why it could not be.
pub type Opening = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>;

/// The sign-in or unlock screen.
#[component]
pub fn Gate(
    lang: RwSignal<Lang>,
    on_open: impl Fn(LoginResponse, Db) -> Opening + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let locked = RwSignal::new(vault::current_user().filter(|u| vault::record(u).is_some()));
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        crate::perf::mark_open();
        busy.set(true);
        error.set(None);
        let on_open = on_open.clone();
        leptos::task::spawn_local(async move {
            let pw = password.get_untracked();
            let outcome = match locked.get_untracked() {
                Some(user) => unlock(&user, &pw).await.map_err(|e| {
                    if e == "wrong password" {
                        t(lang.get_untracked(), "wrong_password").to_string()
                    } else {
                        e
                    }
                }),
                None => sign_in(username.get_untracked().trim(), &pw).await,
            };
            match outcome {
                Ok((resp, db)) => {
                    password.set(String::new());
                    if let Err(e) = on_open(resp, db).await {
                        error.set(Some(e));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="login" on:submit=submit>
            {move || match locked.get() {
                Some(user) => view! {
                    <h2 data-testid="locked">{move || t(lang.get(), "locked")}</h2>
                    <p class="who">{user}</p>
                }.into_any(),
                None => view! {
                    <h2>{move || t(lang.get(), "login")}</h2>
                    <input name="username" autocomplete="username" placeholder=move || t(lang.get(), "username")
                        prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
                }.into_any(),
            }}
            <input name="password" type="password" autocomplete="current-password" placeholder=move || t(lang.get(), "password")
                prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            <button type="submit" disabled=busy>
                {move || if locked.get().is_some() { t(lang.get(), "unlock") } else { t(lang.get(), "sign_in") }}
            </button>
            <Show when=move || locked.get().is_some()>
                <button type="button" class="plain" data-testid="other-user"
                    on:click=move |_| { locked.set(None); error.set(None); }>
                    {move || t(lang.get(), "other_user")}
                </button>
            </Show>
        </form>
    }
}

/// Forgets the key and shows the unlock screen (a reload clears everything in memory).
pub fn lock() {
    leptos::task::spawn_local(async {
        if let Some(engine) = with_engine(|e| e.clone()) {
            engine.stop();
            engine.flushed().await;
        }
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
}

/// Removes the user's data from the tablet and ends the session on the server.
fn sign_out(username: String) {
    leptos::task::spawn_local(async move {
        let token = with_engine(|e| e.token());
        if let Some(engine) = with_engine(|e| e.clone()) {
            engine.stop();
            engine.flushed().await;
            engine.close_store();
        }
        if let Some(token) = token {
            // Best effort: with no signal the token is gone from the tablet anyway, and the
            // session dies of idleness on the server.
            let _ = post("/api/logout", None, Some(&token)).await;
        }
        if let Err(e) = Db::delete(&username).await {
            web_sys::console::error_1(&format!("could not delete the local store: {e}").into());
        }
        vault::forget_record(&username);
        vault::set_current_user(None);
        // To the front page, not the screen on show: the next person starts at their home.
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign("/");
        }
    });
}

/// The header's part for the signed-in user: name, lock, sign-out (held back while edits
/// wait), the idle lock's setting; and the idle lock itself.
#[component]
pub fn Account(ctx: Ctx, status: RwSignal<Status>) -> impl IntoView {
    let lang = ctx.lang;
    let asking = RwSignal::new(false);
    // Sign out once everything has gone up.
    let after_sync = RwSignal::new(false);
    Effect::new(move |_| {
        if after_sync.get() && ctx.waiting.get() == 0 && status.get() == Status::Synced {
            sign_out(ctx.username.get_untracked());
        }
    });
    let idle = RwSignal::new(idle_seconds());
    watch_idle(idle);
    let out = move |_| {
        if ctx.waiting.get_untracked() == 0 {
            sign_out(ctx.username.get_untracked());
        } else {
            asking.set(true);
        }
    };
    view! {
        <span class="account">
            <span data-testid="user">{move || ctx.username.get()}</span>
            <select name="idle" title=move || t(lang.get(), "idle_lock")
                on:change=move |ev| {
                    let m: u32 = event_target_value(&ev).parse().unwrap_or(IDLE_MINUTES);
                    if let Some(s) = storage() { let _ = s.set_item("lianxin.idle_seconds", &(m * 60).to_string()); }
                    idle.set(m * 60);
                }>
                {IDLE_CHOICES.iter().map(|m| {
                    let m = *m;
                    view! { <option value=m.to_string() selected=move || idle.get() == m * 60>
                        {move || format!("{} {m} {}", t(lang.get(), "idle_lock"), t(lang.get(), "minutes"))}
                    </option> }
                }).collect_view()}
            </select>
            <button class="plain" data-testid="lock" on:click=move |_| lock()>{move || t(lang.get(), "lock")}</button>
            <button class="plain" data-testid="sign-out" on:click=out>{move || t(lang.get(), "sign_out")}</button>
        </span>
        <Show when=move || asking.get()>
            <div class="panel signout" data-testid="sign-out-panel" role="alertdialog">
                <p>{move || format!("{} {} {}", t(lang.get(), "unsent_before"), ctx.waiting.get(), t(lang.get(), "unsent_after"))}</p>
                <Show when=move || after_sync.get()>
                    <p data-testid="sign-out-waiting">{move || t(lang.get(), "signing_out_after_sync")}</p>
                </Show>
                <button data-testid="sign-out-after-sync" on:click=move |_| after_sync.set(true)>
                    {move || t(lang.get(), "sign_out_after_sync")}
                </button>
                <button class="danger" data-testid="sign-out-discard"
                    on:click=move |_| sign_out(ctx.username.get_untracked())>
                    {move || format!("{} {}", t(lang.get(), "sign_out_discard"), ctx.waiting.get())}
                </button>
                <button class="plain" on:click=move |_| { asking.set(false); after_sync.set(false); }>
                    {move || t(lang.get(), "cancel")}
                </button>
            </div>
        </Show>
    }
}

/// Locks the tablet after `idle` seconds without a touch or a key (checked every second).
fn watch_idle(idle: RwSignal<u32>) {
    use std::cell::Cell;
    use std::rc::Rc;
    let Some(window) = web_sys::window() else {
        return;
    };
    let last = Rc::new(Cell::new(js_sys::Date::now()));
    let options = gloo_events::EventListenerOptions {
        phase: gloo_events::EventListenerPhase::Capture,
        passive: true,
    };
    for event in ["pointerdown", "keydown", "scroll"] {
        let last = last.clone();
        gloo_events::EventListener::new_with_options(&window, event, options, move |_| {
            last.set(js_sys::Date::now())
        })
        .forget();
    }
    gloo_timers::callback::Interval::new(1_000, move || {
        let Some(seconds) = idle.try_get_untracked() else {
            return;
        };
        let limit = f64::from(seconds) * 1_000.0;
        if js_sys::Date::now() - last.get() > limit {
            lock();
        }
    })
    .forget();
}

/// Shown when the server has ended the session: the password signs in again and the edits
/// kept here go up.
#[component]
pub fn SignInAgain(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        leptos::task::spawn_local(async move {
            match login(&ctx.username.get_untracked(), &password.get_untracked()).await {
                Ok(resp) => {
                    password.set(String::new());
                    if let Some(engine) = with_engine(|e| e.clone()) {
                        if let (Some(db), Ok(json)) = (engine.store(), serde_json::to_string(&resp))
                        {
                            let _ = db.put_session(&json).await;
                        }
                        engine.resume(resp.token);
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="panel again" data-testid="sign-in-again" on:submit=submit>
            <p>{move || t(lang.get(), "session_ended")}</p>
            <input name="password-again" type="password" autocomplete="current-password"
                placeholder=move || t(lang.get(), "password")
                prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
            <button type="submit">{move || t(lang.get(), "sign_in")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
        </form>
    }
}
