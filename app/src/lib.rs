//! The Lianxin tablet app: Leptos, client-side rendered, compiled to wasm32.
//!
//! This module: login, the caseload (search, filters, sorted by urgency, four colours from
//! `shared::rules`), the header with the sync indicator, the screens as one [`Screen`] enum,
//! Chinese by default with an English switch. The board is in `board`, a case in `case`,
//! disputes in `mediation`, reception days in `reception_view`; the local store and the
//! sync transport in `store` and `sync`.

mod board;
mod case;
mod gate;
mod i18n;
mod import;
mod mediation;
mod reception_view;
mod reports;
mod store;
mod sync;
mod vault;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;
use lianxin_shared::fieldwork::MatterKey;
use lianxin_shared::protocol::{LoginResponse, Unit};
use lianxin_shared::rules::{Colour, Limits, State};
use lianxin_shared::{Date, DocId};
use lianxin_shared::{Evaluated, OptionCode, StoredRow};

use i18n::{Lang, t};
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
}

/// What the app shows: one screen at a time.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
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
            .unwrap_or(Screen::Caseload)
    }

    /// Opens `screen` above the current one.
    pub fn go(&self, screen: Screen) {
        self.screens.update(|s| s.push(screen));
    }

    /// Replaces the current screen with `screens` (a form becomes what it made; a case goes
    /// to mediation and the ledger shows its dispute).
    pub fn replace(&self, screens: &[Screen]) {
        self.screens.update(|s| {
            s.pop();
            s.extend_from_slice(screens);
        });
    }

    /// Back to the screen before.
    pub fn back(&self) {
        self.screens.update(|s| {
            s.pop();
        });
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

/// One line of the caseload.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) summary: String,
    pub(crate) unit: String,
    pub(crate) unit_id: String,
    pub(crate) channel: String,
    pub(crate) colour: Colour,
    pub(crate) state: State,
    pub(crate) due: Option<Date>,
    /// What repeat linking compares: day received, category, petitioners' digests.
    pub(crate) matter: MatterKey,
    pub(crate) evaluation: Option<Evaluated>,
}

#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(crate) fn today() -> Date {
    Date::from_unix_ms_china(js_sys::Date::now() as i64)
}

/// A unit's name from the directory, or its id if the directory does not know it.
fn unit_name(units: &[Unit], id: &str) -> String {
    units
        .iter()
        .find(|u| u.id == id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The caseload, most urgent first, from the stored rows: no document is loaded for it.
fn rows<'a>(index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>, units: &[Unit]) -> Vec<Row> {
    let (limits, today) = (Limits::default(), today());
    let mut out: Vec<Row> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Case(row) => Some((id, row)),
            _ => None,
        })
        .map(|(id, row)| Row {
            id: id.to_string(),
            reference: row.reference.clone(),
            summary: row.summary.clone(),
            unit: unit_name(units, &row.unit),
            unit_id: row.unit.clone(),
            channel: row.channel.code().unwrap_or_default().to_string(),
            colour: row.colour(today, &limits),
            state: row.state,
            due: row.deadline.map(|d| d.due),
            matter: row.matter(&id.to_string()),
            evaluation: row.evaluation,
        })
        .collect();
    // Most urgent first: red, yellow, blue, green; then the nearest deadline.
    out.sort_by(|a, b| (a.colour, a.due, &a.id).cmp(&(b.colour, b.due, &b.id)));
    out
}

/// The leader reception days from the stored rows, latest first.
fn reception_days<'a>(
    index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>,
    units: &[Unit],
) -> Vec<reception_view::DayRow> {
    let mut out: Vec<reception_view::DayRow> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Reception(r) => Some(reception_view::DayRow {
                id: id.to_string(),
                on: r.on.map(|d| d.to_string()).unwrap_or_default(),
                leader: r.leader.clone(),
                place: r.place.clone(),
                unit: unit_name(units, &r.unit),
                tally: r.tally,
            }),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| (&b.on, &a.id).cmp(&(&a.on, &b.id)));
    out
}

/// The mediation ledger from the stored rows: disputes still in mediation first.
fn ledger<'a>(
    index: impl Iterator<Item = (&'a DocId, &'a StoredRow)>,
    units: &[Unit],
) -> Vec<mediation::LedgerRow> {
    let mut out: Vec<mediation::LedgerRow> = index
        .filter_map(|(id, row)| match row {
            StoredRow::Dispute(d) => Some(mediation::LedgerRow {
                id: id.to_string(),
                summary: d.summary.clone(),
                unit: unit_name(units, &d.unit),
                committee: d.committee.clone(),
                level: d.level.clone(),
                result: d.result.clone(),
                sessions: d.sessions,
                case: d.case.map(|c| c.to_string()),
            }),
            _ => None,
        })
        .collect();
    let settled = |r: &mediation::LedgerRow| {
        r.result
            .known()
            .is_some_and(|r| r == lianxin_shared::MediationResult::Settled)
    };
    out.sort_by(|a, b| (settled(a), &a.id).cmp(&(settled(b), &b.id)));
    out
}

#[component]
fn App() -> impl IntoView {
    let lang = RwSignal::new(Lang::Zh);
    let ctx = Ctx {
        lang,
        username: RwSignal::new(String::new()),
        role: RwSignal::new(String::new()),
        units: RwSignal::new(Vec::new()),
        directory: RwSignal::new(Vec::new()),
        bureau: RwSignal::new(Vec::new()),
        version: RwSignal::new(0),
        screens: RwSignal::new(Vec::new()),
        waiting: RwSignal::new(0),
    };
    let session = RwSignal::new(None::<(String, Vec<(String, String)>)>);
    let status = RwSignal::new(Status::Offline);
    let caseload = RwSignal::new(Vec::<Row>::new());
    let disputes = RwSignal::new(Vec::<mediation::LedgerRow>::new());
    let days = RwSignal::new(Vec::<reception_view::DayRow>::new());
    let last_sync = RwSignal::new(None::<String>);

    let start_sync = move |login: LoginResponse, db: store::Db| {
        let units: Vec<Unit> = login.directory.clone();
        let listener: sync::Listener = Rc::new(move |s, changed| {
            status.set(s);
            if s == Status::Synced {
                // Ledger exports made offline are recorded now.
                leptos::task::spawn_local(reports::send_ledger_log(ctx.username.get_untracked()));
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
                            caseload.set(rows(engine.rows.borrow().iter(), &units));
                            disputes.set(ledger(engine.rows.borrow().iter(), &units));
                            days.set(reception_days(engine.rows.borrow().iter(), &units));
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
            let db = Some(db);
            let units: Vec<(String, String)> = login
                .directory
                .iter()
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect();
            ctx.username.set(login.username.clone());
            ctx.role.set(login.role.clone());
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
            let index: HashMap<DocId, StoredRow> = match &db {
                Some(db) => db
                    .load_rows()
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(id, json)| {
                        Some((id.parse().ok()?, serde_json::from_str(&json).ok()?))
                    })
                    .collect(),
                None => HashMap::new(),
            };
            caseload.set(rows(index.iter(), &login.directory));
            disputes.set(ledger(index.iter(), &login.directory));
            days.set(reception_days(index.iter(), &login.directory));
            ctx.waiting
                .set(index.values().filter(|r| r.waiting()).count());
            session.set(Some((login.username.clone(), units)));
            let (stored, cursor) = match &db {
                Some(db) => (
                    db.load_docs().await.unwrap_or_default(),
                    db.cursor().await.unwrap_or(0),
                ),
                None => (Vec::new(), 0),
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
            let engine = Engine::new(
                gate::device_actor(&login.username),
                login.token.clone(),
                listener.clone(),
                db,
                sync::Restored {
                    docs: stored,
                    rows: index,
                    cursor,
                    calendar_changed,
                },
                login.calendar.clone(),
            );
            ENGINE.with(|e| *e.borrow_mut() = Some(engine.clone()));
            listener(Status::Offline, true);
            engine.connect();
        });
    };
    // The last user's session opens with their password, signal or not (gate::Gate).
    view! {
        <header>
            <h1>{move || t(lang.get(), "app")}</h1>
            <Show when=move || session.get().is_some()>
                <span class=move || if status.get() == Status::Offline { "sync offline" } else { "sync" } data-testid="sync">
                    {move || match status.get() {
                        Status::Offline => t(lang.get(), "offline").to_string(),
                        Status::Syncing => t(lang.get(), "syncing").to_string(),
                        Status::Synced => format!("{} {}", t(lang.get(), "synced"), last_sync.get().unwrap_or_default()),
                        Status::SignIn => t(lang.get(), "sign_in_again").to_string(),
                    }}
                    {move || (ctx.waiting.get() > 0).then(|| format!(" · {} {}", ctx.waiting.get(), t(lang.get(), "waiting")))}
                </span>
            </Show>
            <Show when=move || session.get().is_some()>
                <gate::Account ctx status/>
            </Show>
            <button class="plain" data-testid="lang" on:click=move |_| lang.update(|l| *l = l.other())>
                {move || t(lang.get(), "switch")}
            </button>
        </header>
        <main>
            <Show when=move || status.get() == Status::SignIn>
                <gate::SignInAgain ctx/>
            </Show>
            <Show when=move || session.get().is_some() fallback=move || view! { <gate::Gate lang on_open=start_sync/> }>
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
                }}
            </Show>
        </main>
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
            <button data-testid="new-case-button" on:click=move |_| ctx.go(Screen::NewCase)>{move || t(lang.get(), "new_case")}</button>
            <button class="plain" data-testid="board-button" on:click=move |_| ctx.go(Screen::Board)>{move || t(lang.get(), "board")}</button>
            <button class="plain" data-testid="reports-button" on:click=move |_| ctx.go(Screen::Reports)>{move || t(lang.get(), "reports")}</button>
            <button class="plain" data-testid="ledger-button" on:click=move |_| ctx.go(Screen::Ledger)>{move || t(lang.get(), "ledger")}</button>
            <button class="plain" data-testid="receptions-button" on:click=move |_| ctx.go(Screen::Receptions)>{move || t(lang.get(), "reception_days")}</button>
        </div>
        <div class="tools filters">
            <select name="f-state" on:change=move |ev| f_state.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_states")}</option>
                {State::ALL.into_iter().map(|st| view! { <option value=st.code()>{move || crate::i18n::vocab_label(st, lang.get())}</option> }).collect_view()}
            </select>
            <select name="f-unit" on:change=move |ev| f_unit.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_units")}</option>
                {move || unit_options.get().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
            </select>
            <select name="f-channel" on:change=move |ev| f_channel.set(event_target_value(&ev))>
                <option value="">{move || t(lang.get(), "all_channels")}</option>
                {lianxin_shared::Channel::ALL.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c.code()>{move || crate::i18n::vocab_label(c, lang.get())}</option> }
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
                    move |_| ctx.go(Screen::Case(id.clone()))
                }>
                    <span class=format!("colour {}", row.colour.code())>{colour_label(lang, row.colour)}</span>
                    <div>
                        <div class="summary">{row.summary.clone()}</div>
                        <div class="meta">{move || meta(&[&row.reference, &row.unit,
                            crate::i18n::vocab_label(row.state, lang.get())])}</div>
                    </div>
                    <div class="meta">{row.due.map(|d| d.to_string()).unwrap_or_default()}</div>
                </li>
            </For>
        </ul>
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

/// Rows on screen at most; search and filters narrow the rest.
pub(crate) const SHOWN_ROWS: usize = 200;

pub(crate) fn colour_label(lang: RwSignal<Lang>, c: Colour) -> impl Fn() -> &'static str {
    move || match lang.get() {
        Lang::Zh => c.zh(),
        Lang::En => c.code(),
    }
}
