//! The Lianxin tablet app: Leptos, client-side rendered, compiled to wasm32.
//!
//! What exists: login, the caseload (search, sorted by urgency, four colours from
//! `shared::rules`), a sync indicator, live sync over the shared engine, Chinese by default
//! with an English switch. Not yet: IndexedDB persistence, the service worker, case editing
//! screens, conflicts on screen (issue #3).

mod case_view;
mod i18n;
mod store;
mod sync;

use std::cell::RefCell;
use std::rc::Rc;

use automerge::ActorId;
use leptos::prelude::*;
use lianxin_shared::protocol::{LoginRequest, LoginResponse, Unit};
use lianxin_shared::rules::{self, Calendar, Colour, Limits, State};
use lianxin_shared::{CaseDoc, Date};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use i18n::{Lang, t};
use sync::{Engine, Status};

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

/// The app's shared screen state; every field is a signal, so it is `Copy`.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub username: RwSignal<String>,
    /// Units this user may record cases for: (id, name).
    pub units: RwSignal<Vec<(String, String)>>,
    /// Every unit of the county: (id, name), for the responsible unit.
    pub directory: RwSignal<Vec<(String, String)>>,
    /// Bumped whenever documents change, so open screens re-read.
    pub version: RwSignal<u64>,
    pub selected: RwSignal<Option<String>>,
    pub creating: RwSignal<bool>,
    pub waiting: RwSignal<usize>,
}

/// Runs `f` with the sync engine, once signed in.
pub fn with_engine<T>(f: impl FnOnce(&Rc<Engine>) -> T) -> Option<T> {
    ENGINE.with(|e| e.borrow().as_ref().map(f))
}

/// One line of the caseload.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    id: String,
    reference: String,
    summary: String,
    unit: String,
    unit_id: String,
    channel: String,
    colour: Colour,
    state: State,
    due: Option<Date>,
}

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// This browser's Automerge actor, made once and kept.
fn device_actor() -> ActorId {
    let stored = storage().and_then(|s| s.get_item("lianxin.actor").ok().flatten());
    if let Some(actor) = stored.and_then(|a| ActorId::try_from(a.as_str()).ok()) {
        return actor;
    }
    let actor = ActorId::random();
    if let Some(s) = storage() {
        let _ = s.set_item("lianxin.actor", &actor.to_hex_string());
    }
    actor
}

pub(crate) fn today() -> Date {
    Date::from_unix_ms_china(js_sys::Date::now() as i64)
}

fn rows(engine: &Engine, units: &[Unit]) -> Vec<Row> {
    let (limits, calendar, today) = (Limits::default(), Calendar::default(), today());
    let mut out = Vec::new();
    for (id, replica) in engine.replicas.borrow().iter() {
        let Ok(case) = CaseDoc::from_doc(replica.doc.clone()).and_then(|c| c.read()) else {
            continue;
        };
        let received = Date::from_unix_ms_china(case.header.created_at);
        let life = rules::lifecycle(&case.steps, received, &limits, &calendar);
        let unit_id = case
            .responsible_unit
            .clone()
            .or_else(|| case.header.units.first().map(|u| u.to_string()));
        let unit_id_of_row = unit_id.clone().unwrap_or_default();
        let unit = unit_id
            .map(|u| {
                units
                    .iter()
                    .find(|x| x.id == u)
                    .map(|x| x.name.clone())
                    .unwrap_or(u)
            })
            .unwrap_or_default();
        out.push(Row {
            id: id.to_string(),
            reference: case.reference.unwrap_or_default(),
            summary: case.summary,
            unit,
            unit_id: unit_id_of_row,
            channel: case.channel.clone().unwrap_or_default(),
            colour: rules::colour(&life, today, &limits),
            state: life.state,
            due: life.deadline.map(|d| d.due),
        });
    }
    // Most urgent first: red, yellow, blue, green; then the nearest deadline.
    out.sort_by(|a, b| (a.colour, a.due, &a.id).cmp(&(b.colour, b.due, &b.id)));
    out
}

#[component]
fn App() -> impl IntoView {
    let lang = RwSignal::new(Lang::Zh);
    let ctx = Ctx {
        lang,
        username: RwSignal::new(String::new()),
        units: RwSignal::new(Vec::new()),
        directory: RwSignal::new(Vec::new()),
        version: RwSignal::new(0),
        selected: RwSignal::new(None),
        creating: RwSignal::new(false),
        waiting: RwSignal::new(0),
    };
    let session = RwSignal::new(None::<(String, Vec<(String, String)>)>);
    let status = RwSignal::new(Status::Offline);
    let caseload = RwSignal::new(Vec::<Row>::new());
    let last_sync = RwSignal::new(None::<String>);

    let start_sync = move |login: LoginResponse| {
        let units: Vec<Unit> = login.directory.clone();
        let listener: sync::Listener = Rc::new(move |s, changed| {
            status.set(s);
            if s == Status::Synced {
                last_sync.set(Some(
                    js_sys::Date::new_0().to_locale_time_string("zh-CN").into(),
                ));
            }
            if changed || s == Status::Synced {
                // The caseload is rebuilt once a conversation settles (or offline), not after
                // every frame of a first sync: that would cost frames × cases.
                if s != Status::Syncing {
                    ENGINE.with(|e| {
                        if let Some(engine) = e.borrow().as_ref() {
                            caseload.set(rows(engine, &units));
                            ctx.waiting.set(engine.waiting());
                        }
                    });
                }
                ctx.version.update(|v| *v += 1);
            }
        });
        // Restore what this browser holds, show it, then connect.
        leptos::task::spawn_local(async move {
            let db = match store::Db::open().await {
                Ok(db) => Some(db),
                Err(e) => {
                    web_sys::console::error_1(&format!("local store unavailable: {e}").into());
                    None
                }
            };
            let (stored, cursor) = match &db {
                Some(db) => (
                    db.load_docs().await.unwrap_or_default(),
                    db.cursor().await.unwrap_or(0),
                ),
                None => (Vec::new(), 0),
            };
            store::request_persistence();
            let engine = Engine::new(
                device_actor(),
                login.token.clone(),
                listener.clone(),
                db,
                stored,
                cursor,
            );
            ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
            let units: Vec<(String, String)> = login
                .directory
                .iter()
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect();
            ctx.username.set(login.username.clone());
            ctx.directory.set(units.clone());
            let visible = &login.visible_units;
            ctx.units.set(
                units
                    .iter()
                    .filter(|u| visible.is_empty() || visible.contains(&u.0))
                    .cloned()
                    .collect(),
            );
            session.set(Some((login.username.clone(), units)));
            listener(Status::Offline, true);
            engine.connect();
        });
    };
    // A session kept from an earlier visit opens the caseload at once, signal or not.
    if let Some(kept) = storage()
        .and_then(|s| s.get_item("lianxin.session").ok().flatten())
        .and_then(|text| serde_json::from_str::<LoginResponse>(&text).ok())
    {
        start_sync(kept);
    }

    view! {
        <header>
            <h1>{move || t(lang.get(), "app")}</h1>
            <Show when=move || session.get().is_some()>
                <span class=move || if status.get() == Status::Offline { "sync offline" } else { "sync" } data-testid="sync">
                    {move || match status.get() {
                        Status::Offline => t(lang.get(), "offline").to_string(),
                        Status::Syncing => t(lang.get(), "syncing").to_string(),
                        Status::Synced => format!("{} {}", t(lang.get(), "synced"), last_sync.get().unwrap_or_default()),
                    }}
                    {move || (ctx.waiting.get() > 0).then(|| format!(" · {} {}", ctx.waiting.get(), t(lang.get(), "waiting")))}
                </span>
            </Show>
            <button class="plain" on:click=move |_| lang.update(|l| *l = l.other())>
                {move || t(lang.get(), "switch")}
            </button>
        </header>
        <main>
            <Show when=move || session.get().is_some() fallback=move || view! { <Login lang on_login=start_sync/> }>
                {move || {
                    if ctx.creating.get() {
                        view! { <case_view::NewCase ctx/> }.into_any()
                    } else if let Some(id) = ctx.selected.get() {
                        view! { <case_view::CaseView ctx id/> }.into_any()
                    } else {
                        view! { <Caseload ctx caseload/> }.into_any()
                    }
                }}
            </Show>
        </main>
    }
}

#[component]
fn Login(
    lang: RwSignal<Lang>,
    on_login: impl Fn(LoginResponse) + Clone + 'static,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let on_login = on_login.clone();
        leptos::task::spawn_local(async move {
            match login(&username.get_untracked(), &password.get_untracked()).await {
                Ok(resp) => {
                    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(&resp)) {
                        let _ = s.set_item("lianxin.session", &text);
                    }
                    on_login(resp)
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <h2>{move || t(lang.get(), "login")}</h2>
            <input name="username" autocomplete="username" placeholder=move || t(lang.get(), "username")
                prop:value=username on:input=move |ev| username.set(event_target_value(&ev))/>
            <input name="password" type="password" autocomplete="current-password" placeholder=move || t(lang.get(), "password")
                prop:value=password on:input=move |ev| password.set(event_target_value(&ev))/>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" disabled=busy>{move || t(lang.get(), "sign_in")}</button>
        </form>
    }
}

#[component]
fn Caseload(ctx: Ctx, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    let query = RwSignal::new(String::new());
    let (f_state, f_unit, f_channel, f_colour) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // Every row that passes the search and the four filters, most urgent first.
    let matching = Memo::new(move |_| {
        let q = query.get();
        let (state, unit, channel, colour) =
            (f_state.get(), f_unit.get(), f_channel.get(), f_colour.get());
        caseload.with(|rows| {
            rows.iter()
                .filter(|r| {
                    (q.is_empty()
                        || r.summary.contains(&q)
                        || r.reference.contains(&q)
                        || r.unit.contains(&q))
                        && (state.is_empty() || r.state.code() == state)
                        && (unit.is_empty() || r.unit_id == unit)
                        && (channel.is_empty() || r.channel == channel)
                        && (colour.is_empty() || r.colour.code() == colour)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    // The screen lists the first 200; the count says how many match.
    let shown = Memo::new(move |_| {
        matching.with(|rows| rows.iter().take(SHOWN_ROWS).cloned().collect::<Vec<_>>())
    });
    let unit_options = Memo::new(move |_| {
        let mut units: Vec<(String, String)> = caseload.with(|rows| {
            rows.iter()
                .map(|r| (r.unit_id.clone(), r.unit.clone()))
                .collect()
        });
        units.sort();
        units.dedup();
        units
    });
    view! {
        <div class="tools">
            <input type="search" placeholder=move || t(lang.get(), "search")
                prop:value=query on:input=move |ev| query.set(event_target_value(&ev))/>
            <button data-testid="new-case-button" on:click=move |_| ctx.creating.set(true)>{move || t(lang.get(), "new_case")}</button>
        </div>
        <div class="tools filters">
            <select name="f-state" on:change=move |ev| f_state.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_states")}</option>
                {State::ALL.into_iter().map(|st| view! { <option value=st.code()>{move || if lang.get() == Lang::Zh { st.zh() } else { st.en() }}</option> }).collect_view()}
            </select>
            <select name="f-unit" on:change=move |ev| f_unit.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_units")}</option>
                {move || unit_options.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
            </select>
            <select name="f-channel" on:change=move |ev| f_channel.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_channels")}</option>
                {lianxin_shared::Channel::ALL.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c.code()>{move || if lang.get() == Lang::Zh { c.zh() } else { c.en() }}</option> }
                }).collect_view()}
            </select>
            <select name="f-colour" on:change=move |ev| f_colour.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_colours")}</option>
                {Colour::ALL.into_iter().map(|c| {
                    view! { <option value=c.code()>{colour_label(lang, c)}</option> }
                }).collect_view()}
            </select>
        </div>
        <p class="count" data-testid="count">
            {move || {
                let n = matching.with(Vec::len);
                let more = if n > SHOWN_ROWS { format!(" · {} {SHOWN_ROWS}", t(lang.get(), "showing_first")) } else { String::new() };
                format!("{n} {}{more}", t(lang.get(), "cases"))
            }}
        </p>
        <ul class="cases">
            <For each=move || shown.get() key=|r| r.id.clone() let:row>
                <li data-case=row.id.clone() on:click={
                    let id = row.id.clone();
                    move |_| ctx.selected.set(Some(id.clone()))
                }>
                    <span class=format!("colour {}", row.colour.code())>{colour_label(lang, row.colour)}</span>
                    <div>
                        <div class="summary">{row.summary.clone()}</div>
                        <div class="meta">{move || format!("{} · {} · {}", row.reference, row.unit,
                            if lang.get() == Lang::Zh { row.state.zh() } else { row.state.en() })}</div>
                    </div>
                    <div class="meta">{row.due.map(|d| d.to_string()).unwrap_or_default()}</div>
                </li>
            </For>
        </ul>
    }
}

/// Rows on screen at most; search and filters narrow the rest.
const SHOWN_ROWS: usize = 200;

fn colour_label(lang: RwSignal<Lang>, c: Colour) -> impl Fn() -> &'static str {
    move || match lang.get() {
        Lang::Zh => c.zh(),
        Lang::En => c.code(),
    }
}

async fn login(username: &str, password: &str) -> Result<LoginResponse, String> {
    let window = web_sys::window().ok_or("no window")?;
    let body = serde_json::to_string(&LoginRequest {
        username: username.to_string(),
        password: password.to_string(),
        actor: device_actor().to_hex_string(),
        device_name: window.navigator().user_agent().unwrap_or_default(),
    })
    .map_err(|e| e.to_string())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body.into());
    let headers = web_sys::Headers::new().map_err(|_| "headers")?;
    let _ = headers.set("content-type", "application/json");
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init("/api/login", &init).map_err(|_| "request")?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "网络不可用 / network unavailable".to_string())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "response")?;
    let text = JsFuture::from(response.text().map_err(|_| "body")?)
        .await
        .map_err(|_| "body")?;
    let text = text.as_string().unwrap_or_default();
    if !response.ok() {
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(reason);
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}
