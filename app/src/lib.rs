//! The Lianxin tablet app: Leptos, client-side rendered, compiled to wasm32.
//!
//! This module: login, the caseload (search, filters, sorted by urgency, four colours from
//! `shared::rules`), the header with the sync indicator, the screens as one [`Screen`] enum,
//! Chinese by default with an English switch. The board is in `board`, a case in `case`,
//! disputes in `mediation`, reception days in `reception_view`; the local store and the
//! sync transport in `store` and `sync`.

mod board;
mod case;
mod explain;
mod files;
mod gate;
mod home;
mod i18n;
mod import;
mod lists;
mod mediation;
mod numbers;
mod perf;
mod reception_view;
mod reports;
mod route;
mod store;
mod sync;
mod vault;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use lianxin_shared::Date;
use lianxin_shared::protocol::{LoginResponse, Unit};
use lianxin_shared::rules::{Colour, State};

use i18n::{Lang, t};
use lists::{Row, show_rows};
use sync::{Engine, Status};

thread_local! {
    static ENGINE: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
    /// The signed-in user's local store, from the moment it is open (before the engine,
    /// which waits for the documents to load).
    static STORE: RefCell<Option<store::Db>> = const { RefCell::new(None) };
}

/// The signed-in user's local store.
pub(crate) fn local_store() -> Option<store::Db> {
    STORE.with(|s| s.borrow().clone())
}

/// The app's shared screen state; every field is a signal, so it is `Copy`.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub lang: RwSignal<Lang>,
    pub username: RwSignal<String>,
    /// The signed-in user's role code (registrar, handler, mediator, leader, admin).
    pub role: RwSignal<String>,
    /// Units this user may record cases for: (id, name).
    pub units: RwSignal<Vec<(String, String)>>,
    /// Every unit of the county: (id, name), for the responsible unit.
    pub directory: RwSignal<Vec<(String, String)>>,
    /// The petition bureau (the roots of the unit tree): it handles every case.
    pub bureau: RwSignal<Vec<String>>,
    /// Bumped whenever documents change, so open screens re-read.
    pub version: RwSignal<u64>,
    /// The screens opened so far, the one shown last; "back" returns to the one before.
    pub screens: RwSignal<Vec<Screen>>,
    pub waiting: RwSignal<usize>,
    /// The caseload's search and filters, kept while other screens are open.
    pub filter: RwSignal<Filter>,
    /// The signed-in user's name as the cases write it (a leader's packages, a handler's
    /// cases); empty if the office has not entered one.
    pub name: RwSignal<String>,
}

/// The caseload's search, filters and page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub query: String,
    pub state: String,
    pub unit: String,
    pub channel: String,
    pub colour: String,
    /// Shown first: `""`, `"conflicted"` or `"waiting"`.
    pub mark: String,
    /// The page shown, from 0.
    pub page: usize,
}

impl Filter {
    fn is_empty(&self) -> bool {
        Filter {
            page: 0,
            ..self.clone()
        } == Filter::default()
    }
}

/// What the app shows: one screen at a time.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// What the signed-in user's role starts the day with (see `home`), above the caseload.
    Home,
    /// The caseload, most urgent first.
    Caseload,
    Case(String),
    NewCase,
    /// The four-colour board.
    Board,
    /// The mediation ledger 台账.
    Ledger,
    Dispute(String),
    NewDispute,
    /// The leader reception days.
    Receptions,
    Reception(String),
    /// The office's reports: bulletin, figures, rates, assessment.
    Reports,
    /// Importing an office's ledger.
    Import,
}

impl Ctx {
    /// Whether the signed-in user's role may make this change to a case (the server's own
    /// rule, `rules::authority`): the screens offer only what the server would accept.
    pub fn may(&self, touch: lianxin_shared::rules::authority::Touch) -> bool {
        use lianxin_shared::rules::authority::{Role, may};
        self.role
            .with(|r| Role::parse(r))
            .is_some_and(|role| may(role, lianxin_shared::Kind::Case.op(&touch)))
    }

    /// The screen on show.
    pub fn screen(&self) -> Screen {
        self.screens
            .with(|s| s.last().cloned())
            .unwrap_or(Screen::Home)
    }

    /// Opens `screen` above the current one, as a new entry of the browser's history.
    pub fn go(&self, screen: Screen) {
        let depth = self.screens.with_untracked(Vec::len);
        route::record(&screen, depth, true);
        self.screens.update(|s| s.push(screen));
        // A new screen opens at its top.
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }

    /// Replaces the current screen with `screens` (a form becomes what it made; a case goes
    /// to mediation and the ledger shows its dispute): the form's history entry is taken over,
    /// so "back" does not return to a form already sent.
    pub fn replace(&self, screens: &[Screen]) {
        let depth = self.screens.with_untracked(Vec::len).saturating_sub(1);
        for (i, screen) in screens.iter().enumerate() {
            route::record(screen, depth + i, i > 0);
        }
        self.screens.update(|s| {
            s.pop();
            s.extend_from_slice(screens);
        });
    }

    /// Back to the screen before: the browser's own back, so both stay in step. A screen
    /// opened from its address has nothing before it in the app: back leads home.
    pub fn back(&self) {
        if self.screens.with_untracked(Vec::len) > 1 {
            route::back();
        } else {
            self.replace(&[Screen::Home]);
        }
    }
}

/// Shows the outcome of an edit on the screen that made it: a refusal in `error`, cleared on
/// success. True when the edit was kept. Every screen's edits end here.
pub(crate) fn show_outcome(
    error: RwSignal<Option<String>>,
    outcome: Option<Result<(), String>>,
) -> bool {
    match outcome {
        Some(Ok(())) => {
            error.set(None);
            true
        }
        Some(Err(e)) => {
            error.set(Some(e));
            false
        }
        None => false,
    }
}

/// The error for an edit of a document this device does not hold.
pub(crate) fn not_here(what: &str) -> lianxin_shared::Error {
    lianxin_shared::Error::Protocol(format!("no such {what} on this device"))
}

/// Runs `job` unless it is running already; a call made while it runs has it run once more
/// when it ends (what was queued meanwhile goes then, not at some later sync). `state` is the
/// job's own flag: 0 idle, 1 running, 2 running and asked again.
pub(crate) async fn one_at_a_time<F: std::future::Future<Output = ()>>(
    state: &'static std::thread::LocalKey<std::cell::Cell<u8>>,
    job: impl Fn() -> F,
) {
    let running = state.with(|s| {
        let was = s.get();
        s.set(if was == 0 { 1 } else { 2 });
        was > 0
    });
    if running {
        return;
    }
    loop {
        job().await;
        let again = state.with(|s| s.replace(u8::from(s.get() == 2)) == 2);
        if !again {
            return;
        }
    }
}

/// Runs `f` with the sync engine, once signed in.
pub fn with_engine<T>(f: impl FnOnce(&Rc<Engine>) -> T) -> Option<T> {
    ENGINE.with(|e| e.borrow().as_ref().map(f))
}

/// The units besides `unit` that handle a case registered by `unit`: the bureau (see
/// [`lianxin_shared::handling_units`]); the responsible unit joins when it is set.
pub(crate) fn handling_others(
    ctx: Ctx,
    unit: &lianxin_shared::UnitId,
) -> Vec<lianxin_shared::UnitId> {
    ctx.bureau
        .get_untracked()
        .iter()
        .filter_map(|u| lianxin_shared::UnitId::new(u).ok())
        .filter(|u| u != unit)
        .collect()
}

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
    // The signed-in part, fetched behind the gate (a failure is said when opening needs it).
    leptos::task::spawn_local(async {
        let _ = preload_signed_in().await;
    });
}

/// The tablet's localStorage (settings, lock records, the ledger queue), if the browser gives
/// one. On web-sys, not gloo-storage: gloo's typed access stores JSON (the values kept here
/// are plain strings from earlier versions) and its raw access panics where there is none.
pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(crate) fn today() -> Date {
    Date::from_unix_ms_china(js_sys::Date::now() as i64)
}

#[component]
fn App() -> impl IntoView {
    // The language chosen is remembered on this tablet (and said to the browser, for its
    // fonts, hyphenation and screen readers).
    let lang = RwSignal::new(
        storage()
            .and_then(|s| s.get_item("lianxin.lang").ok().flatten())
            .map_or(Lang::Zh, |l| if l == "en" { Lang::En } else { Lang::Zh }),
    );
    Effect::new(move |_| {
        let code = match lang.get() {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        };
        if let Some(s) = storage() {
            let _ = s.set_item("lianxin.lang", if code == "en" { "en" } else { "zh" });
        }
        if let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = html.set_attribute("lang", code);
        }
    });
    let ctx = Ctx {
        lang,
        username: RwSignal::new(String::new()),
        role: RwSignal::new(String::new()),
        units: RwSignal::new(Vec::new()),
        directory: RwSignal::new(Vec::new()),
        bureau: RwSignal::new(Vec::new()),
        version: RwSignal::new(0),
        screens: RwSignal::new(route::initial()),
        waiting: RwSignal::new(0),
        filter: RwSignal::new(Filter::default()),
        name: RwSignal::new(String::new()),
    };
    let shown = Shown {
        session: RwSignal::new(None),
        status: RwSignal::new(Status::Offline),
        caseload: RwSignal::new(Vec::new()),
        disputes: RwSignal::new(Vec::new()),
        days: RwSignal::new(Vec::new()),
        last_sync: RwSignal::new(None),
    };
    let session = shown.session;
    route::follow(ctx.screens);

    // The rest of the app comes in its own part (see `open_session`), fetched while the gate
    // is on screen; opening waits for it, and says so if it cannot be had.
    let start_sync = move |login: LoginResponse, db: store::Db| {
        let opening: gate::Opening = Box::pin(async move {
            open_session(ctx, shown, login, db)
                .await
                .map_err(|_| t(lang.get_untracked(), "part_not_loaded").to_string())
        });
        opening
    };
    // The last user's session opens with their password, signal or not (gate::Gate).
    view! {
        <header>
            // The title is the way home, as on every site.
            <h1><a href="/" data-testid="home-link" on:click=move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                if ctx.screen() != Screen::Home {
                    ctx.go(Screen::Home);
                }
            }>{move || t(lang.get(), "app")}</a></h1>
            <Show when=move || session.get().is_some()>
                <Suspense fallback=|| ()>
                    {Suspend::new(async move { signed_in_header(ctx, shown).await.unwrap_or_else(|_| ().into_any()) })}
                </Suspense>
            </Show>
            <button class="plain" data-testid="lang" on:click=move |_| lang.update(|l| *l = l.other())>
                {move || t(lang.get(), "switch")}
            </button>
        </header>
        <main>
            <Show when=move || session.get().is_some() fallback=move || view! { <gate::Gate lang on_open=start_sync/> }>
                <Suspense fallback=move || view! { <p class="muted">{move || t(lang.get(), "loading")}</p> }>
                    {Suspend::new(async move { signed_in_main(ctx, shown).await.unwrap_or_else(|_| ().into_any()) })}
                </Suspense>
            </Show>
        </main>
    }
}

/// What a signed-in session shows besides its screens, kept while they change: every field a
/// signal, so it is `Copy`.
#[derive(Clone, Copy)]
struct Shown {
    /// The signed-in user and the units they see: set once the caseload is ready.
    session: RwSignal<Option<(String, Vec<(String, String)>)>>,
    status: RwSignal<Status>,
    caseload: RwSignal<Vec<Row>>,
    disputes: RwSignal<Vec<mediation::LedgerRow>>,
    days: RwSignal<Vec<reception_view::DayRow>>,
    last_sync: RwSignal<Option<String>>,
}

/// A part of the app the browser could not fetch (never cached, no signal): the gate says so.
type Loaded<T> = Result<T, leptos::wasm_split::SplitLoaderError>;

// The app in two parts (see ARCHITECTURE.md, "Size"): the first holds the gate and what it
// needs (sign-in, the vault, the local store's opening); the functions below, and whatever
// only they reach (the sync engine, Automerge, every screen), are split into a second part
// by the bundle (`cargo xtask bundle`). `preload_signed_in` fetches it as soon as the gate is
// up, so it has come while the password is typed; the service worker keeps both for offline.

/// Opens a session: the stored caseload on screen, the documents read behind it, then the
/// connection to the server.
#[leptos::wasm_split::wasm_split(
    signed_in,
    wasm_split_path = ::leptos::wasm_split,
    preload(preload_signed_in),
    fallible
)]
fn open_session(ctx: Ctx, shown: Shown, login: LoginResponse, db: store::Db) -> Loaded<()> {
    let Shown {
        session,
        status,
        caseload,
        disputes,
        days,
        last_sync,
    } = shown;
    let units: Vec<Unit> = login.directory.clone();
    let listener: sync::Listener = Rc::new(move |s, changed| {
        status.set(s);
        if s == Status::Synced {
            // Ledger exports made offline are recorded now.
            leptos::task::spawn_local(reports::send_ledger_log(ctx.username.get_untracked()));
            // Reference numbers for cases registered here, offline too.
            leptos::task::spawn_local(numbers::top_up(ctx.username.get_untracked()));
            // Photos taken offline go up once their cases' listings have.
            leptos::task::spawn_local(files::send_pending());
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
                        show_rows(&engine.rows.borrow(), &units, (caseload, disputes, days));
                        ctx.waiting.set(engine.waiting());
                    }
                });
            }
            ctx.version.update(|v| *v += 1);
        }
    });
    // Restore what this browser holds, show it, then connect.
    STORE.with(|s| *s.borrow_mut() = Some(db.clone()));
    leptos::task::spawn_local(async move {
        perf::since_open("open: store opened");
        let db = Some(db);
        let units: Vec<(String, String)> = login
            .directory
            .iter()
            .map(|u| (u.id.clone(), u.name.clone()))
            .collect();
        ctx.username.set(login.username.clone());
        ctx.role.set(login.role.clone());
        ctx.name.set(login.name.clone());
        ctx.directory.set(units.clone());
        ctx.bureau.set(
            login
                .directory
                .iter()
                .filter(|u| u.parent.is_none())
                .map(|u| u.id.clone())
                .collect(),
        );
        let visible = &login.visible_units;
        ctx.units.set(
            units
                .iter()
                .filter(|u| visible.is_empty() || visible.contains(&u.0))
                .cloned()
                .collect(),
        );
        // The caseload shows from the stored rows first; the documents come after.
        let (index, written) = match &db {
            Some(db) => db.load_rows().await.unwrap_or_default(),
            None => (HashMap::new(), 0),
        };
        perf::since_open("open: rows read");
        let cursor = match &db {
            Some(db) => db.cursor().await.unwrap_or(0),
            None => 0,
        };
        store::request_persistence();
        // The rows were worked out with the calendar of the last start-up; if the office
        // has changed it since, every row is redone once.
        let calendar_json = serde_json::to_string(&login.calendar).unwrap_or_default();
        let calendar_changed = storage()
            .and_then(|s| s.get_item("lianxin.calendar").ok().flatten())
            .is_none_or(|before| before != calendar_json);
        if let Some(s) = storage() {
            let _ = s.set_item("lianxin.calendar", &calendar_json);
        }
        // The engine first, so a case tapped as soon as the list shows can be read.
        let engine = Engine::new(
            gate::device_actor(&login.username),
            login.token.clone(),
            listener.clone(),
            db.clone(),
            sync::Restored {
                rows: index,
                written,
                cursor,
                calendar_changed,
            },
            login.calendar.clone(),
        );
        // A case opened before its documents' slice came reads again once they are here.
        engine.on_fetched(Rc::new(move || ctx.version.update(|v| *v += 1)));
        ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
        {
            let index = engine.rows.borrow();
            show_rows(&index, &login.directory, (caseload, disputes, days));
            ctx.waiting
                .set(index.values().filter(|r| r.waiting()).count());
        }
        session.set(Some((login.username.clone(), units)));
        perf::since_open("open: caseload set");
        // The caseload is on screen; the documents are read behind it.
        if !engine.read_stored().await {
            return; // locked or signed out meanwhile
        }
        listener(Status::Offline, true);
        engine.connect();
    });
    Ok(())
}

/// The header's part for a signed-in session: the sync indicator and the account.
#[leptos::wasm_split::wasm_split(signed_in, wasm_split_path = ::leptos::wasm_split, fallible)]
fn signed_in_header(ctx: Ctx, shown: Shown) -> Loaded<AnyView> {
    let lang = ctx.lang;
    let Shown {
        status, last_sync, ..
    } = shown;
    Ok(view! {
        <span class=move || if status.get() == Status::Offline { "sync offline" } else { "sync" } data-testid="sync">
            {move || match status.get() {
                Status::Offline => t(lang.get(), "offline").to_string(),
                Status::Syncing => t(lang.get(), "syncing").to_string(),
                Status::Synced => format!("{} {}", t(lang.get(), "synced"), last_sync.get().unwrap_or_default()),
                Status::SignIn => t(lang.get(), "sign_in_again").to_string(),
            }}
            {move || (ctx.waiting.get() > 0).then(|| format!(" · {} {}", ctx.waiting.get(), t(lang.get(), "waiting")))}
        </span>
        <gate::Account ctx status/>
    }
    .into_any())
}

/// The main part for a signed-in session: the screen on show (and the password again when
/// the server has ended the session).
#[leptos::wasm_split::wasm_split(signed_in, wasm_split_path = ::leptos::wasm_split, fallible)]
fn signed_in_main(ctx: Ctx, shown: Shown) -> Loaded<AnyView> {
    let Shown {
        status,
        caseload,
        disputes,
        days,
        last_sync,
        ..
    } = shown;
    Ok(view! {
        <Show when=move || status.get() == Status::SignIn>
            <gate::SignInAgain ctx/>
        </Show>
        {move || match ctx.screen() {
            Screen::NewCase => view! { <case::NewCase ctx/> }.into_any(),
            Screen::Case(id) => view! { <case::CaseView ctx id caseload/> }.into_any(),
            Screen::Reception(id) => view! { <reception_view::Day ctx id/> }.into_any(),
            Screen::Receptions => view! { <reception_view::Days ctx days/> }.into_any(),
            Screen::NewDispute => view! { <mediation::NewDispute ctx/> }.into_any(),
            Screen::Dispute(id) => view! { <mediation::DisputeView ctx id/> }.into_any(),
            Screen::Ledger => view! { <mediation::Ledger ctx disputes/> }.into_any(),
            Screen::Board => view! { <board::Board ctx caseload/> }.into_any(),
            Screen::Reports => view! { <reports::Reports ctx last_sync/> }.into_any(),
            Screen::Import => view! { <import::Import ctx/> }.into_any(),
            Screen::Caseload => view! { <Caseload ctx caseload/> }.into_any(),
            Screen::Home => view! { <home::Home ctx caseload days/> <Caseload ctx caseload/> }.into_any(),
        }}
    }
    .into_any())
}

#[component]
fn Caseload(ctx: Ctx, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    let filter = ctx.filter;
    // Sets one part of the filter and goes back to the first page.
    let set = move |f: fn(&mut Filter, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            filter.update(|flt| {
                f(flt, value);
                flt.page = 0;
            });
        }
    };
    // Where in the caseload the rows are that pass the search and the filters, most urgent
    // first. Positions, not rows: at 50,000 cases, cloning the rows that match (and dropping
    // the last list's clones) took most of a keystroke.
    let matching = Memo::new(move |_| {
        let f = filter.get();
        let search = lists::Search::new(&f.query);
        caseload.with(|rows| {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| {
                    (f.state.is_empty() || r.state.code() == f.state)
                        && (f.unit.is_empty() || r.unit_id == f.unit)
                        && (f.channel.is_empty() || r.channel == f.channel)
                        && (f.colour.is_empty() || r.colour.code() == f.colour)
                        && match f.mark.as_str() {
                            "conflicted" => r.conflicted,
                            "waiting" => r.waiting,
                            _ => true,
                        }
                        && search.finds(r)
                })
                .map(|(at, _)| at)
                .collect::<Vec<usize>>()
        })
    });
    let pages = Memo::new(move |_| matching.with(Vec::len).div_ceil(PAGE_ROWS).max(1));
    let page = Memo::new(move |_| filter.with(|f| f.page).min(pages.get() - 1));
    let shown = Memo::new(move |_| {
        let p = page.get();
        matching.with(|at| {
            caseload.with(|rows| {
                at.iter()
                    .skip(p * PAGE_ROWS)
                    .take(PAGE_ROWS)
                    .filter_map(|&i| rows.get(i).cloned())
                    .collect::<Vec<_>>()
            })
        })
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
    let turn = move |by: isize| {
        let to = (page.get_untracked() as isize + by).clamp(0, pages.get_untracked() as isize - 1);
        filter.update(|f| f.page = to as usize);
        // To the top of the list (not of the page, where the home's sections are).
        if let Some(count) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("[data-testid=count]").ok().flatten())
        {
            count.scroll_into_view();
        }
    };
    let selected = move |get: fn(&Filter) -> &String, value: &str| {
        let value = value.to_string();
        move || filter.with(|f| get(f) == &value)
    };
    view! {
        <div class="tools">
            <input type="search" name="search" placeholder=move || t(lang.get(), "search")
                prop:value=move || filter.with(|f| f.query.clone()) on:input=set(|f, v| f.query = v)/>
            <button data-testid="new-case-button" on:click=move |_| ctx.go(Screen::NewCase)>{move || t(lang.get(), "new_case")}</button>
            <button class="plain" data-testid="board-button" on:click=move |_| ctx.go(Screen::Board)>{move || t(lang.get(), "board")}</button>
            <button class="plain" data-testid="reports-button" on:click=move |_| ctx.go(Screen::Reports)>{move || t(lang.get(), "reports")}</button>
            <button class="plain" data-testid="ledger-button" on:click=move |_| ctx.go(Screen::Ledger)>{move || t(lang.get(), "ledger")}</button>
            <button class="plain" data-testid="receptions-button" on:click=move |_| ctx.go(Screen::Receptions)>{move || t(lang.get(), "reception_days")}</button>
        </div>
        <div class="tools filters">
            <select name="f-state" on:change=set(|f, v| f.state = v)>
                <option value="" selected=selected(|f| &f.state, "")>{move || t(lang.get(), "all_states")}</option>
                {State::ALL.into_iter().map(|st| view! { <option value=st.code() selected=selected(|f| &f.state, st.code())>{move || crate::i18n::vocab_label(st, lang.get())}</option> }).collect_view()}
            </select>
            <select name="f-unit" on:change=set(|f, v| f.unit = v)>
                <option value="" selected=selected(|f| &f.unit, "")>{move || t(lang.get(), "all_units")}</option>
                {move || unit_options.get().into_iter().map(|(id, name)| view! { <option value=id.clone() selected=selected(|f| &f.unit, &id)>{name}</option> }).collect_view()}
            </select>
            <select name="f-channel" on:change=set(|f, v| f.channel = v)>
                <option value="" selected=selected(|f| &f.channel, "")>{move || t(lang.get(), "all_channels")}</option>
                {lianxin_shared::Channel::ALL.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c.code() selected=selected(|f| &f.channel, c.code())>{move || crate::i18n::vocab_label(c, lang.get())}</option> }
                }).collect_view()}
            </select>
            <select name="f-colour" on:change=set(|f, v| f.colour = v)>
                <option value="" selected=selected(|f| &f.colour, "")>{move || t(lang.get(), "all_colours")}</option>
                {Colour::ALL.into_iter().map(|c| {
                    view! { <option value=c.code() selected=selected(|f| &f.colour, c.code())>{colour_label(lang, c)}</option> }
                }).collect_view()}
            </select>
            <select name="f-mark" on:change=set(|f, v| f.mark = v)>
                <option value="" selected=selected(|f| &f.mark, "")>{move || t(lang.get(), "all_marks")}</option>
                <option value="conflicted" selected=selected(|f| &f.mark, "conflicted")>{move || t(lang.get(), "mark_conflicted")}</option>
                <option value="waiting" selected=selected(|f| &f.mark, "waiting")>{move || t(lang.get(), "mark_waiting")}</option>
            </select>
            <Show when=move || !filter.with(Filter::is_empty)>
                <button class="plain" data-testid="clear-filters" on:click=move |_| filter.set(Filter::default())>
                    {move || t(lang.get(), "clear_filters")}
                </button>
            </Show>
        </div>
        <p class="count" data-testid="count">
            {move || {
                let n = matching.with(Vec::len);
                if n > 0 {
                    perf::drawn_since_open();
                }
                let first = page.get() * PAGE_ROWS;
                let range = if n > PAGE_ROWS {
                    format!(" · {} {}–{}", t(lang.get(), "showing"), first + 1, (first + PAGE_ROWS).min(n))
                } else {
                    String::new()
                };
                format!("{}{range}", crate::i18n::count(n, "cases", lang.get()))
            }}
        </p>
        <Show when=move || matching.with(Vec::is_empty) && !filter.with(Filter::is_empty)>
            <p class="empty" data-testid="no-match">
                {move || t(lang.get(), "no_match")}
                " "
                <button class="plain" on:click=move |_| filter.set(Filter::default())>{move || t(lang.get(), "clear_filters")}</button>
            </p>
        </Show>
        <ul class="cases">
            <For each=move || shown.get() key=Row::line_key let:row>
                <CaseLine ctx row/>
            </For>
        </ul>
        <Show when=move || { pages.get() > 1 }>
            <nav class="pager" data-testid="pager">
                <button class="plain" data-testid="page-prev" disabled=move || page.get() == 0 on:click=move |_| turn(-1)>
                    {move || t(lang.get(), "page_prev")}
                </button>
                <span data-testid="page">{move || format!("{} / {}", page.get() + 1, pages.get())}</span>
                <button class="plain" data-testid="page-next" disabled=move || { page.get() + 1 >= pages.get() } on:click=move |_| turn(1)>
                    {move || t(lang.get(), "page_next")}
                </button>
            </nav>
        </Show>
    }
}

/// One case of a list: colour, summary, reference · unit · state, the marks, the deadline.
#[component]
pub(crate) fn CaseLine(
    ctx: Ctx,
    row: Row,
    /// On the home screen: marked `data-home-case` rather than `data-case`, so the caseload's
    /// own lines are told apart from the home's.
    #[prop(optional)]
    home: bool,
) -> impl IntoView {
    let lang = ctx.lang;
    let id = row.id.clone();
    let (in_list, in_home) = if home {
        (None, Some(row.id.clone()))
    } else {
        (Some(row.id.clone()), None)
    };
    view! {
        <li data-case=in_list data-home-case=in_home on:click=move |_| ctx.go(Screen::Case(id.clone()))>
            <span class=format!("colour {}", row.colour.code())>{colour_label(lang, row.colour)}</span>
            <div>
                <div class="summary">{row.summary.clone()}</div>
                <div class="meta">{move || {
                    let reference = if row.reference.is_empty() { t(lang.get(), "ref_pending") } else { row.reference.as_str() };
                    meta(&[reference, &row.unit, crate::i18n::vocab_label(row.state, lang.get())])
                }}</div>
                <div class="marks">
                    {row.conflicted.then(|| view! { <span class="mark conflict" data-testid="mark-conflicted">{move || t(lang.get(), "mark_conflicted")}</span> })}
                    {row.waiting.then(|| view! { <span class="mark waiting" data-testid="mark-waiting">{move || t(lang.get(), "mark_waiting")}</span> })}
                </div>
            </div>
            <div class="meta">{row.due.map(|d| d.to_string()).unwrap_or_default()}</div>
        </li>
    }
}

/// A row's second line: its parts that are not empty, joined by " · ".
pub(crate) fn meta(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Rows on one page of the caseload.
pub(crate) const PAGE_ROWS: usize = 100;

pub(crate) fn colour_label(lang: RwSignal<Lang>, c: Colour) -> impl Fn() -> &'static str {
    move || match lang.get() {
        Lang::Zh => c.zh(),
        Lang::En => c.code(),
    }
}
