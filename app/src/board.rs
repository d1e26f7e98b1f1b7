//! The four-colour board 四色督办: per unit and in total, today's red, yellow, blue and green
//! cases, the repeat petitions and the satisfaction rates, from [`fieldwork::board`] over the
//! stored rows; a tapped count lists its cases.

use leptos::prelude::*;
use lianxin_shared::fieldwork::{self, MatterKey, Satisfaction};
use lianxin_shared::rules::Colour;

use crate::i18n::t;
use crate::{CaseLine, Ctx, PAGE_ROWS, Row, colour_label, today};

/// What a tapped count on the board stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pick {
    Colour(Colour),
    /// The repeat petitions 重复信访.
    Repeats,
}

/// One unit's line on the board (or the total's, with an empty id), from
/// [`fieldwork::board`].
#[derive(Clone, Debug, PartialEq)]
struct BoardLine {
    id: String,
    name: String,
    counts: fieldwork::BoardLine,
}

/// 四色督办: per unit, how many cases are red, yellow, blue and green today, how many are
/// repeat petitions, and the satisfaction rates 满意率 with the petition office and with the
/// unit; the cases behind a count when it is tapped (the red ones of every unit at first).
#[component]
pub(crate) fn Board(ctx: Ctx, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    // (unit id or "" for every unit, what was tapped)
    let chosen = RwSignal::new((String::new(), Pick::Colour(Colour::Red)));
    // The cases that repeat an earlier petition of the same person on the same matter.
    let repeated = Memo::new(move |_| {
        caseload.with(|rows| {
            let keys: Vec<MatterKey> = rows.iter().map(|r| r.matter.clone()).collect();
            fieldwork::repeats(&keys)
                .into_iter()
                .filter(|(_, earlier)| !earlier.is_empty())
                .map(|(id, _)| id)
                .collect::<std::collections::HashSet<String>>()
        })
    });
    let lines = Memo::new(move |_| {
        repeated.with(|repeated| {
            caseload.with(|rows| {
                let board = fieldwork::board(rows.iter().map(|row| fieldwork::OnBoard {
                    unit: row.unit_id.as_str(),
                    colour: row.colour,
                    repeat: repeated.contains(&row.id),
                    evaluation: row.evaluation.map(|e| (e.office, e.unit)),
                }));
                let name = |id: &str| {
                    rows.iter()
                        .find(|r| r.unit_id == id)
                        .map(|r| r.unit.clone())
                        .unwrap_or_default()
                };
                let mut out: Vec<BoardLine> = board
                    .units
                    .iter()
                    .map(|(id, counts)| BoardLine {
                        id: id.to_string(),
                        name: name(id),
                        counts: counts.clone(),
                    })
                    .collect();
                // Units with the most red cases first, then yellow.
                out.sort_by(|a, b| {
                    let (ac, bc) = (&a.counts.colours, &b.counts.colours);
                    (bc[0], bc[1], &a.name).cmp(&(ac[0], ac[1], &b.name))
                });
                let total = BoardLine {
                    id: String::new(),
                    name: String::new(),
                    counts: board.total,
                };
                (out, total)
            })
        })
    });
    // The list grows a page at a time; choosing another cell starts again.
    let limit = RwSignal::new(PAGE_ROWS);
    Effect::new(move |_| {
        chosen.track();
        limit.set(PAGE_ROWS);
    });
    let listed = Memo::new(move |_| {
        let (unit, pick) = chosen.get();
        repeated.with(|repeated| {
            caseload.with(|rows| {
                rows.iter()
                    .filter(|r| unit.is_empty() || r.unit_id == unit)
                    .filter(|r| match pick {
                        Pick::Colour(c) => r.colour == c,
                        Pick::Repeats => repeated.contains(&r.id),
                    })
                    .cloned()
                    .collect::<Vec<_>>()
            })
        })
    });
    let cell = move |unit: String, pick: Pick, n: usize| {
        let unit2 = unit.clone();
        let (class, code) = match pick {
            Pick::Colour(c) => ("count", c.code()),
            Pick::Repeats => ("count repeats", "repeats"),
        };
        view! {
            <td>
                <button class=move || {
                    let on = chosen.with(|(u, p)| *u == unit2 && *p == pick);
                    format!("{class} {code}{}", if on { " chosen" } else { "" })
                } data-unit=unit.clone() data-colour=code
                    on:click=move |_| chosen.set((unit.clone(), pick))>{n}</button>
            </td>
        }
    };
    let rate = move |evaluations: &[Satisfaction]| {
        let n = evaluations.len();
        let (shown, data) = match fieldwork::satisfaction_rate(evaluations) {
            Some(r) => (format!("{:.1}%", r * 100.0), format!("{r:.4}")),
            None => ("—".to_string(), String::new()),
        };
        view! {
            <td class="rate" data-rate=data data-evaluated=n.to_string()>
                {shown}
                <small>{move || format!("{n} {}", t(lang.get(), "evaluated"))}</small>
            </td>
        }
    };
    let line = move |l: BoardLine, name: String| {
        view! {
            <tr data-board-unit=l.id.clone() class:total=l.id.is_empty()>
                <th>{name}</th>
                {Colour::ALL.into_iter().map(|c| cell(l.id.clone(), Pick::Colour(c), l.counts.colours[c as usize])).collect_view()}
                {cell(l.id.clone(), Pick::Repeats, l.counts.repeats)}
                {rate(&l.counts.office)}
                {rate(&l.counts.unit)}
            </tr>
        }
    };
    view! {
        <div class="tools">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2 class="board-title">{move || format!("{} · {}", t(lang.get(), "board"), today())}</h2>
        </div>
        <div class="board-scroll">
        <table class="board" data-testid="board">
            <thead>
                <tr>
                    <th>{move || t(lang.get(), "unit")}</th>
                    {Colour::ALL.into_iter().map(|c| view! { <th><span class=format!("colour {}", c.code())>{colour_label(lang, c)}</span></th> }).collect_view()}
                    <th>{move || t(lang.get(), "repeat_petitions")}</th>
                    <th>{move || t(lang.get(), "office_rate")}</th>
                    <th>{move || t(lang.get(), "unit_rate")}</th>
                </tr>
            </thead>
            <tbody>
                {move || {
                    let (units, total) = lines.get();
                    let total_name = t(lang.get(), "total").to_string();
                    units
                        .into_iter()
                        .map(|l| { let name = l.name.clone(); line(l, name) })
                        .chain(std::iter::once(line(total, total_name)))
                        .collect_view()
                }}
            </tbody>
        </table>
        </div>
        <h3 data-testid="board-list-title">{move || {
            let (unit, pick) = chosen.get();
            let name = lines.with(|(units, _)| units.iter().find(|l| l.id == unit).map(|l| l.name.clone()))
                .unwrap_or_else(|| t(lang.get(), "total").to_string());
            let what = match pick {
                Pick::Colour(c) => colour_label(lang, c)(),
                Pick::Repeats => t(lang.get(), "repeat_petitions"),
            };
            format!("{name} · {what}")
        }}</h3>
        <ul class="cases" data-testid="board-list">
            <For each=move || listed.get().into_iter().take(limit.get()) key=Row::line_key let:row>
                <CaseLine ctx row/>
            </For>
        </ul>
        <Show when=move || { listed.with(Vec::len) > limit.get() }>
            <button class="plain more" data-testid="more" on:click=move |_| limit.update(|l| *l += PAGE_ROWS)>
                {move || format!("{} ({} / {})", t(lang.get(), "show_more"), limit.get(), listed.with(Vec::len))}
            </button>
        </Show>
    }
}
