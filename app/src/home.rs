//! The home screen: what the signed-in user's role starts the day with, above the caseload.
//!
//! - a leader: their case packages 包案 with the latest progress on each task, their reception
//!   days (to come, then the latest held), and the red and yellow cases of their units;
//! - a handler: their unit's cases awaiting acceptance 待受理 and awaiting conclusion 待办结,
//!   nearest deadline first;
//! - a mediator: tonight's seven evenings and the cases due a visit (none for 15 days);
//! - a registrar: the cases registered and not yet forwarded or assigned.
//!
//! Everything here comes from the stored rows (a package's tasks from its document, which the
//! device holds), so the home opens with no signal.

use leptos::prelude::*;
use lianxin_shared::Date;
use lianxin_shared::fieldwork::Evening;
use lianxin_shared::rules::{Colour, State};

use crate::i18n::t;
use crate::reception_view::DayRow;
use crate::{CaseLine, Ctx, Row, Screen, today, with_engine};

/// A case is due a visit when none was made for this many days.
pub const VISIT_EVERY_DAYS: i32 = 15;

/// Lines a section shows before "show all".
const FIRST: usize = 8;

/// The sections of `role`'s home, from the caseload as of `today`: (key, test id, rows).
pub fn sections(
    role: &str,
    name: &str,
    units: &[String],
    rows: &[Row],
    today: Date,
) -> Vec<(&'static str, &'static str, Vec<Row>)> {
    let mine = |r: &&Row| units.is_empty() || units.contains(&r.unit_id);
    let by_due = |mut v: Vec<Row>| {
        v.sort_by(|a, b| (a.due.is_none(), a.due, &a.id).cmp(&(b.due.is_none(), b.due, &b.id)));
        v
    };
    let open = |r: &Row| {
        matches!(
            r.state,
            State::Registered | State::Assigned | State::Handling
        )
    };
    match role {
        "leader" => {
            let mut packages: Vec<Row> = rows
                .iter()
                .filter(|r| !name.is_empty() && r.leader == name && r.package_due.is_some())
                .cloned()
                .collect();
            packages.sort_by(|a, b| (a.package_due, &a.id).cmp(&(b.package_due, &b.id)));
            let urgent = rows
                .iter()
                .filter(mine)
                .filter(|r| matches!(r.colour, Colour::Red | Colour::Yellow))
                .cloned()
                .collect();
            vec![
                ("home_packages", "home-packages", packages),
                ("home_red_yellow", "home-red-yellow", by_due(urgent)),
            ]
        }
        "handler" => {
            let of = |state: State| {
                by_due(
                    rows.iter()
                        .filter(mine)
                        .filter(|r| r.state == state)
                        .cloned()
                        .collect(),
                )
            };
            vec![
                ("home_to_accept", "home-to-accept", of(State::Assigned)),
                ("home_to_conclude", "home-to-conclude", of(State::Handling)),
            ]
        }
        "mediator" => {
            let tonight = rows
                .iter()
                .filter(|r| {
                    r.evening
                        .as_ref()
                        .is_some_and(|run| run.evenings.contains(&Evening::Tonight))
                })
                .cloned()
                .collect();
            let mut visits: Vec<Row> = rows
                .iter()
                .filter(mine)
                .filter(|r| open(r))
                .filter(|r| {
                    r.last_visit
                        .is_none_or(|d| d.add_days(VISIT_EVERY_DAYS) <= today)
                })
                .cloned()
                .collect();
            visits.sort_by(|a, b| (a.last_visit, &a.id).cmp(&(b.last_visit, &b.id)));
            vec![
                ("home_tonight", "home-tonight", tonight),
                ("home_visits", "home-visits", visits),
            ]
        }
        "registrar" => vec![(
            "home_to_assign",
            "home-to-assign",
            by_due(
                rows.iter()
                    .filter(|r| r.state == State::Registered)
                    .cloned()
                    .collect(),
            ),
        )],
        _ => Vec::new(),
    }
}

#[component]
pub fn Home(ctx: Ctx, caseload: RwSignal<Vec<Row>>, days: RwSignal<Vec<DayRow>>) -> impl IntoView {
    let lang = ctx.lang;
    let sections = Memo::new(move |_| {
        let units: Vec<String> = ctx
            .units
            .with(|u| u.iter().map(|(id, _)| id.clone()).collect());
        caseload.with(|rows| sections(&ctx.role.get(), &ctx.name.get(), &units, rows, today()))
    });
    // The leader's own reception days: those to come first (soonest first), then the three
    // latest held.
    let my_days = Memo::new(move |_| {
        let name = ctx.name.get();
        let now = today().to_string();
        let mine: Vec<DayRow> = days.with(|d| {
            d.iter()
                .filter(|d| !name.is_empty() && d.leader == name)
                .cloned()
                .collect()
        });
        let mut ahead: Vec<DayRow> = mine.iter().filter(|d| d.on >= now).cloned().collect();
        ahead.sort_by(|a, b| a.on.cmp(&b.on));
        ahead.extend(mine.into_iter().filter(|d| d.on < now).take(3));
        ahead
    });
    let is_leader = move || ctx.role.get() == "leader";
    view! {
        <section class="home" data-testid="home">
            <h2>{move || format!("{} · {}", t(lang.get(), "home_title"), {
                let n = ctx.name.get();
                if n.is_empty() { ctx.username.get() } else { n }
            })}</h2>
            {move || sections.get().into_iter().map(|(key, id, rows)| view! {
                <HomeSection ctx key id rows/>
            }).collect_view()}
            <Show when=is_leader>
                <div class="home-section" data-testid="home-days">
                    <h3>{move || format!("{} ({})", t(lang.get(), "home_days"), my_days.with(Vec::len))}</h3>
                    <ul class="cases">
                        <For each=move || my_days.get() key=|d| format!("{d:?}") let:d>
                            <li data-day=d.id.clone() on:click={
                                let id = d.id.clone();
                                move |_| ctx.go(Screen::Reception(id.clone()))
                            }>
                                <span class="colour blue">{d.on.clone()}</span>
                                <div>
                                    <div class="summary">{d.place.clone()}</div>
                                    <div class="meta">{move || format!("{} {} · {} {}",
                                        d.tally.matters, t(lang.get(), "matters"), d.tally.people, t(lang.get(), "people_unit"))}</div>
                                </div>
                            </li>
                        </For>
                    </ul>
                </div>
            </Show>
            <h2 class="all-cases">{move || t(lang.get(), "all_cases")}</h2>
        </section>
    }
}

/// One section of the home: its title with the count, the first lines, then all on request.
#[component]
fn HomeSection(ctx: Ctx, key: &'static str, id: &'static str, rows: Vec<Row>) -> impl IntoView {
    let lang = ctx.lang;
    let all = RwSignal::new(false);
    let n = rows.len();
    let packages = key == "home_packages";
    let rows = StoredValue::new(rows);
    view! {
        <div class="home-section" data-testid=id>
            <h3>{move || format!("{} ({n})", t(lang.get(), key))}</h3>
            {(n == 0).then(|| view! { <p class="empty">{move || t(lang.get(), "home_none")}</p> })}
            <ul class="cases">
                {move || {
                    let shown = if all.get() { n } else { FIRST };
                    rows.with_value(|rows| rows.iter().take(shown).cloned().map(|row| {
                        let tasks = packages.then(|| package_tasks(ctx, &row));
                        view! { <CaseLine ctx row home=true/> {tasks} }
                    }).collect_view())
                }}
            </ul>
            <Show when=move || { n > FIRST && !all.get() }>
                <button class="plain more" data-testid=format!("{id}-all") on:click=move |_| all.set(true)>
                    {move || format!("{} ({n})", t(lang.get(), "show_all"))}
                </button>
            </Show>
        </div>
    }
}

/// A package's tasks under its line: each task with its latest progress note and whether it
/// is done, from the case document on this device.
fn package_tasks(ctx: Ctx, row: &Row) -> impl IntoView + use<> {
    let lang = ctx.lang;
    let case = row
        .id
        .parse()
        .ok()
        .and_then(|id| with_engine(|e| e.read(id)).flatten());
    let due = row.package_due.map(|d| d.to_string()).unwrap_or_default();
    let tasks: Vec<(String, String, bool)> = lianxin_shared::PackageTask::ALL
        .iter()
        .filter_map(|task| {
            let latest = case
                .as_ref()?
                .progress
                .iter()
                .filter(|p| p.track == task.code())
                .max_by_key(|p| (p.on, p.at))?;
            Some((
                task.code().to_string(),
                format!("{} {}", latest.on, latest.text),
                latest.done,
            ))
        })
        .collect();
    view! {
        <li class="tasks" data-package-tasks=row.id.clone()>
            <span class="meta">{move || format!("{} {due}", t(lang.get(), "package_due"))}</span>
            {if tasks.is_empty() {
                view! { <span class="meta">{move || t(lang.get(), "no_progress")}</span> }.into_any()
            } else {
                tasks.into_iter().map(|(code, text, done)| {
                    let label = move || lianxin_shared::PackageTask::parse(&code)
                        .map(|k| crate::i18n::vocab_label(k, lang.get()))
                        .unwrap_or("?");
                    view! { <span class="task" class:done=done>{label} " " {text}</span> }
                }).collect_view().into_any()
            }}
        </li>
    }
}
