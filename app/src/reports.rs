//! The office's reports on the tablet, offline, from the stored rows (no document is loaded):
//! the daily bulletin 信访情况日通报 (printable on A4: the office and the day on every page,
//! page numbers, no buttons), figures for a period with 同比 and bar charts drawn as SVG, the
//! rates per unit, the monthly assessment with its ranks, streaks and each unit's points, and
//! the leader reception figures.
//! Each says "as of" the last sync and how many local edits have not gone up.

use leptos::prelude::*;
use lianxin_shared::report::{self, Item, Period};
use lianxin_shared::rules::Limits;
use lianxin_shared::{CaseRow, Date, StoredRow};

use crate::i18n::{Lang, t};
use crate::{Ctx, today, with_engine};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Bulletin,
    Figures,
    Rates,
    Assessment,
    Receptions,
    Campaigns,
}

/// The caseload rows the reports read, with their ids.
fn rows() -> Vec<(String, CaseRow)> {
    with_engine(|e| {
        e.rows
            .borrow()
            .iter()
            .filter_map(|(id, r)| match r {
                StoredRow::Case(row) => Some((id.to_string(), row.clone())),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

/// The assessment's rules from the reference data (DOMAIN.md's defaults without it).
fn rules() -> report::AssessmentRules {
    with_engine(|e| {
        e.rows.borrow().values().find_map(|r| match r {
            StoredRow::Reference(r) => Some(r.rules.clone()),
            _ => None,
        })
    })
    .flatten()
    .unwrap_or_default()
}

fn reception_rows() -> Vec<lianxin_shared::ReceptionRow> {
    with_engine(|e| {
        e.rows
            .borrow()
            .values()
            .filter_map(|r| match r {
                StoredRow::Reception(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

fn receptions() -> Vec<(String, Date)> {
    with_engine(|e| {
        e.rows
            .borrow()
            .values()
            .filter_map(|r| match r {
                StoredRow::Reception(d) => Some((d.unit.clone(), d.on?)),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default()
}

fn items(rows: &[(String, CaseRow)]) -> Vec<Item<'_>> {
    rows.iter().map(|(id, row)| Item { id, row }).collect()
}

fn first_of_month(d: Date) -> Date {
    let (y, m, _) = d.ymd();
    Date::from_ymd(y, m, 1).unwrap_or(d)
}

fn month_of(d: Date) -> String {
    let (y, m, _) = d.ymd();
    format!("{y:04}-{m:02}")
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:+.1}%", v))
        .unwrap_or_else(|| "—".into())
}

/// A horizontal bar chart, drawn as SVG: one bar per label, this period's beside last year's.
fn bars(title: String, lines: Vec<(String, usize, usize)>) -> impl IntoView {
    let max = lines.iter().map(|l| l.1.max(l.2)).max().unwrap_or(0).max(1);
    let row_h = 26;
    let height = 24 + row_h * lines.len();
    let width = 520;
    let scale = |n: usize| (n as f64 / max as f64 * 300.0).round();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {width} {height}") width="100%" role="img">
                {lines.into_iter().enumerate().map(|(i, (label, now, then))| {
                    let y = 12 + i * row_h;
                    view! {
                        <g>
                            <text x="0" y=(y + 14).to_string() font-size="12">{label}</text>
                            <rect x="130" y=y.to_string() height="10" width=scale(now).to_string() fill="#a52a2a"/>
                            <rect x="130" y=(y + 11).to_string() height="6" width=scale(then).to_string() fill="#c9a0a0"/>
                            <text x=(136.0 + scale(now)).to_string() y=(y + 10).to_string() font-size="11">{now.to_string()}</text>
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// Whether the signed-in user's role may export ledgers (DOMAIN.md "Who may do what").
fn may_export(ctx: Ctx) -> bool {
    use lianxin_shared::rules::authority::{Op, Role, may};
    ctx.role
        .with(|r| Role::parse(r))
        .is_some_and(|role| may(role, Op::Ledger))
}

const PENDING: &str = "lianxin.ledger_pending.";

use crate::storage;

/// Ledger exports made on this tablet and not yet recorded on the server.
fn pending(user: &str) -> Vec<serde_json::Value> {
    storage()
        .and_then(|s| s.get_item(&format!("{PENDING}{user}")).ok().flatten())
        .and_then(|q| serde_json::from_str(&q).ok())
        .unwrap_or_default()
}

fn set_pending(user: &str, queue: &[serde_json::Value]) {
    if let Some(s) = storage() {
        let _ = s.set_item(
            &format!("{PENDING}{user}"),
            &serde_json::to_string(queue).unwrap_or_default(),
        );
    }
}

/// Sends the ledger records waiting on this tablet (called after each sync): each export is
/// recorded on the server (who, when, what, how many rows); offline they wait here.
pub(crate) async fn send_ledger_log(user: String) {
    // One sender at a time: two syncs settling close together started two, and both sent
    // the first record before either took it off the queue (recorded twice on the server).
    thread_local! {
        static SENDING: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    }
    crate::one_at_a_time(&SENDING, || send_ledger_log_now(&user)).await;
}

async fn send_ledger_log_now(user: &str) {
    loop {
        // Read again each time: an export recorded while sending goes in this round too.
        let Some(entry) = pending(user).first().cloned() else {
            return;
        };
        let Some(token) = with_engine(|e| e.token()) else {
            return;
        };
        let Ok((status, _)) =
            crate::gate::post("/api/ledger-log", Some(entry.to_string()), Some(&token)).await
        else {
            return; // no signal: the record waits
        };
        match status {
            // Recorded; or refused for good (a role that may not): never sent again.
            200 | 400 | 403 => {
                // Off the queue as it is now (an export may have joined it meanwhile).
                let mut queue = pending(user);
                if let Some(i) = queue.iter().position(|e| *e == entry) {
                    queue.remove(i);
                }
                set_pending(user, &queue);
            }
            _ => return,
        }
    }
}

/// The ledgers of the documents on this tablet, downloaded: as CSV (UTF-8 with a BOM: the case
/// ledger) or as XLSX (the case, dispute and reception ledgers, a sheet each). Personal details
/// as the tablet holds them. The export is recorded on the server now, or after the next sync
/// when there is no signal.
fn export_ledger(ctx: Ctx, xlsx: bool) -> Result<usize, String> {
    let ids: Vec<(lianxin_shared::DocId, u8)> = with_engine(|e| {
        e.rows
            .borrow()
            .iter()
            .filter_map(|(id, r)| match r {
                StoredRow::Case(_) => Some((*id, 0)),
                StoredRow::Dispute(_) => Some((*id, 1)),
                StoredRow::Reception(_) => Some((*id, 2)),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default();
    let of = |kind: u8| {
        ids.iter()
            .filter(move |(_, k)| *k == kind)
            .map(|(id, _)| *id)
    };
    let cases: Vec<lianxin_shared::Case> = of(0)
        .filter_map(|id| with_engine(|e| e.read(id)).flatten())
        .collect();
    let directory = ctx.directory.get_untracked();
    let name = |id: &str| {
        directory
            .iter()
            .find(|(u, _)| u == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let calendar = with_engine(|e| e.calendar.clone()).unwrap_or_default();
    let table =
        lianxin_shared::ledger::case_ledger(&cases, &name, &Limits::default(), &calendar, today());
    let (bytes, mime, ext) = if xlsx {
        let disputes: Vec<lianxin_shared::Dispute> = of(1)
            .filter_map(|id| with_engine(|e| e.read_dispute(id)).flatten())
            .collect();
        let days: Vec<lianxin_shared::Reception> = of(2)
            .filter_map(|id| with_engine(|e| e.read_reception(id)).flatten())
            .collect();
        let sheets = [
            table.clone(),
            lianxin_shared::ledger::dispute_ledger(&disputes, &name),
            lianxin_shared::ledger::reception_ledger(&days, &name),
        ];
        (
            lianxin_shared::ledger::xlsx::write(&sheets),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    } else {
        (
            lianxin_shared::ledger::csv(std::slice::from_ref(&table)).into_bytes(),
            "text/csv;charset=utf-8",
            "csv",
        )
    };
    let file = format!("信访事项台账-{}.{ext}", today());
    download(&bytes, mime, &file)?;
    record_ledger(
        ctx,
        "export",
        &format!("{} {file}", table.name),
        table.rows.len(),
    );
    Ok(table.rows.len())
}

/// Offers `bytes` as a file to save.
fn download(bytes: &[u8], mime: &str, file: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| "blob".to_string())?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "url".to_string())?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "a")?
        .dyn_into()
        .map_err(|_| "a")?;
    a.set_href(&url);
    a.set_download(file);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Records a ledger export or import on the server: now, or after the next sync.
pub(crate) fn record_ledger(ctx: Ctx, action: &str, what: &str, rows: usize) {
    let user = ctx.username.get_untracked();
    let mut queue = pending(&user);
    queue.push(serde_json::json!({
        "action": action,
        "what": what,
        "rows": rows,
        "at": js_sys::Date::now() as i64,
    }));
    set_pending(&user, &queue);
    leptos::task::spawn_local(send_ledger_log(user));
}

#[component]
pub(crate) fn Reports(ctx: Ctx, last_sync: RwSignal<Option<String>>) -> impl IntoView {
    let lang = ctx.lang;
    let tab = RwSignal::new(Tab::Bulletin);
    let day = RwSignal::new(today());
    let from = RwSignal::new(first_of_month(today()));
    let to = RwSignal::new(today());
    let month = RwSignal::new(month_of(today()));
    let exported = RwSignal::new(None::<usize>);
    let data = Memo::new(move |_| {
        ctx.version.track();
        (rows(), receptions())
    });
    let unit_name = move |id: &str| {
        ctx.directory.with_untracked(|d| {
            d.iter()
                .find(|(u, _)| u == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| id.to_string())
        })
    };
    let office = move || {
        ctx.bureau
            .get()
            .first()
            .map(|b| unit_name(b))
            .unwrap_or_default()
    };
    let as_of = move || {
        let z = lang.get() == Lang::Zh;
        let sync = last_sync.get().unwrap_or_else(|| {
            if z {
                "未同步".into()
            } else {
                "never".into()
            }
        });
        let waiting = ctx.waiting.get();
        if z {
            format!("数据截至上次同步 {sync}；本机另有 {waiting} 件未上传")
        } else {
            format!("As of the last sync {sync}; {waiting} local edits not yet uploaded")
        }
    };
    let tab_button = move |which: Tab, key: &'static str| {
        view! {
            <button class:plain=move || tab.get() != which data-testid=format!("tab-{key}")
                on:click=move |_| tab.set(which)>{move || t(lang.get(), key)}</button>
        }
    };
    let date_input = move |name: &'static str, sig: RwSignal<Date>| {
        view! {
            <input type="date" name=name prop:value=move || sig.get().to_string()
                on:change=move |ev| if let Ok(d) = event_target_value(&ev).parse() { sig.set(d) }/>
        }
    };

    let bulletin = move || {
        let (rows, _) = data.get();
        let b = report::bulletin(&items(&rows), day.get(), &Limits::default());
        let l = lang.get();
        view! {
            <section class="report bulletin" data-testid="bulletin">
            // A table's head repeats on every printed page: the office and the day on each.
            <table class="print-frame"><thead><tr><th class="print-header">{format!("{} · {} · {}", office(), t(l, "bulletin"), day.get())}</th></tr></thead><tbody><tr><td>
                <h2>{format!("{}（{}）", t(l, "bulletin"), day.get())}</h2>
                <p class="meta">{format!("{}：{} {}，{} {}", t(l, "total"), b.total.matters, t(l, "matters_unit"), b.total.people, t(l, "people_unit"))}</p>
                {b.groups.into_iter().map(|(group, lines)| view! {
                    <h3>{format!("{group}（{}）", lines.len())}</h3>
                    {if lines.is_empty() {
                        view! { <p class="meta">{t(l, "none")}</p> }.into_any()
                    } else {
                        view! {
                            <table class="report-table" data-group=group.clone()>
                                <thead><tr>
                                    <th>{t(l, "reference")}</th><th>{t(l, "summary")}</th><th>{t(l, "responsible_unit")}</th>
                                    <th>{t(l, "leader")}</th><th>{t(l, "handler")}</th><th>{t(l, "deadline")}</th>
                                </tr></thead>
                                <tbody>{lines.into_iter().map(|line| view! {
                                    <tr data-case=line.case.clone()>
                                        <td>{line.reference}</td><td>{line.summary}</td><td>{unit_name(&line.unit)}</td>
                                        <td>{line.leader.unwrap_or_default()}</td><td>{line.handler.unwrap_or_default()}</td>
                                        <td>{line.due.map(|d| d.to_string()).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}</tbody>
                            </table>
                        }.into_any()
                    }}
                }).collect_view()}
                <h3>{t(l, "board")}</h3>
                <table class="report-table" data-testid="bulletin-board">
                    <thead><tr><th>{t(l, "unit")}</th><th>"红牌"</th><th>"黄牌"</th><th>"蓝牌"</th><th>"绿牌"</th></tr></thead>
                    <tbody>{b.board.into_iter().map(|(unit, c)| {
                        let name = if unit.is_empty() { t(l, "total").to_string() } else { unit_name(&unit) };
                        view! { <tr><td>{name}</td>{c.into_iter().map(|n| view! { <td>{n}</td> }).collect_view()}</tr> }
                    }).collect_view()}</tbody>
                </table>
            </td></tr></tbody></table>
            </section>
        }
    };

    let figures = move || {
        let (rows, _) = data.get();
        let f = report::figures(&items(&rows), Period::new(from.get(), to.get()));
        let l = lang.get();
        let dim = |name: &str, label: &dyn Fn(&str) -> String| -> Vec<(String, usize, usize)> {
            let mut v: Vec<(String, usize, usize)> =
                f.by.get(name)
                    .map(|m| {
                        m.iter()
                            .map(|(k, line)| (label(k), line.now.matters, line.then.matters))
                            .collect()
                    })
                    .unwrap_or_default();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        };
        let vocab = |field: &'static str| {
            move |code: &str| {
                if code.is_empty() {
                    "—".to_string()
                } else {
                    crate::case::label(field, code, l)
                }
            }
        };
        let months: Vec<(String, usize, usize)> = report::months_up_to(&month_of(to.get()), 12)
            .into_iter()
            .filter_map(|m| {
                let p = Period::month(&m)?;
                let t = report::figures(&items(&rows), p).total;
                Some((m, t.now.matters, t.then.matters))
            })
            .collect();
        let board = report::bulletin(&items(&rows), to.get(), &Limits::default())
            .board
            .get("")
            .copied()
            .unwrap_or_default();
        let colours: Vec<(String, usize, usize)> = ["红牌", "黄牌", "蓝牌", "绿牌"]
            .iter()
            .zip(board)
            .map(|(c, n)| (c.to_string(), n, 0))
            .collect();
        let by_unit = dim("unit", &|u| unit_name(u));
        let by_category = dim("category", &vocab("category"));
        let by_channel = dim("channel", &vocab("channel"));
        view! {
            <section class="report" data-testid="figures">
                <h2>{format!("{} {} — {}", t(l, "figures"), from.get(), to.get())}</h2>
                <p data-testid="figures-total">{format!(
                    "{} {} {}（{} {}）；{} {} {}（{} {}）；{} {} {}，{} {}",
                    t(l, "total"), f.total.now.matters, t(l, "matters_unit"), f.total.now.people, t(l, "people_unit"),
                    t(l, "last_year"), f.total.then.matters, t(l, "matters_unit"), f.total.then.people, t(l, "people_unit"),
                    t(l, "year_on_year"), t(l, "matters_unit"), pct(f.total.matters_change),
                    t(l, "people_unit"), pct(f.total.people_change),
                )}</p>
                <p class="meta">{t(l, "chart_key")}</p>
                <div class="charts">
                    {bars(t(l, "category").to_string(), by_category)}
                    {bars(t(l, "unit").to_string(), by_unit)}
                    {bars(t(l, "channel").to_string(), by_channel)}
                    {bars(t(l, "by_month").to_string(), months)}
                    {bars(format!("{}（{}）", t(l, "board"), to.get()), colours)}
                </div>
            </section>
        }
    };

    let rates = move || {
        let (rows, _) = data.get();
        let r = report::rates(&items(&rows), Period::new(from.get(), to.get()));
        let l = lang.get();
        let cells = |x: &report::Rates| {
            [
                x.timely_acceptance,
                x.on_time,
                x.satisfaction_office,
                x.satisfaction_unit,
                x.participation,
                x.repeat,
                x.online,
            ]
            .map(
                |rate| view! { <td title=format!("{}/{}", rate.num, rate.den)>{rate.shown()}</td> },
            )
        };
        view! {
            <section class="report" data-testid="rates">
                <h2>{format!("{} {} — {}", t(l, "rates"), from.get(), to.get())}</h2>
                <table class="report-table">
                    <thead><tr>
                        <th>{t(l, "unit")}</th><th>"及时受理率"</th><th>"按期办结率"</th><th>"满意率（信访部门）"</th>
                        <th>"满意率（责任单位）"</th><th>"参评率"</th><th>"重复信访率"</th><th>"网上信访占比"</th>
                    </tr></thead>
                    <tbody>
                        <tr class="total" data-unit="">{t(l, "total")}{cells(&r.overall).into_iter().collect_view()}</tr>
                        {r.units.iter().map(|(unit, x)| view! {
                            <tr data-unit=unit.clone()><td>{unit_name(unit)}</td>{cells(x).into_iter().collect_view()}</tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }
    };

    let assessment = move || {
        let (rows, days) = data.get();
        let units: Vec<String> = ctx.directory.with(|d| {
            let bureau = ctx.bureau.get();
            d.iter()
                .map(|(id, _)| id.clone())
                .filter(|id| !bureau.contains(id))
                .collect()
        });
        let a = report::assessment(
            &items(&rows),
            &units,
            &days,
            &report::months_up_to(&month.get(), 6),
            &rules(),
        );
        let l = lang.get();
        let Some(current) = a.months.last().cloned() else {
            return view! { <p>{t(l, "none")}</p> }.into_any();
        };
        let history = a.months.clone();
        view! {
            <section class="report" data-testid="assessment">
                <h2>{format!("{} {}", t(l, "assessment"), current.month)}</h2>
                <table class="report-table">
                    <thead><tr>
                        <th>{t(l, "rank")}</th><th>{t(l, "unit")}</th><th>{t(l, "score")}</th>
                        {history.iter().map(|m| view! { <th>{m.month.clone()}</th> }).collect_view()}
                        <th>{t(l, "standing")}</th>
                    </tr></thead>
                    <tbody>{current.scores.iter().map(|s| {
                        let standing = a.standing.get(&s.unit).cloned().unwrap_or_default();
                        let mut marks = Vec::new();
                        if standing.commended { marks.push("通报表扬"); }
                        if standing.contest_bonus { marks.push("连续三月前两名 +10"); }
                        if standing.criticised { marks.push("通报批评"); }
                        if standing.close_management { marks.push("连续两月末位：重点管理"); }
                        let parts = s.parts.iter().map(|(p, v)| format!("{p} {v:+}")).collect::<Vec<_>>().join("；");
                        let ranks = history.iter().map(|m| {
                            let rank = m.scores.iter().find(|x| x.unit == s.unit).map(|x| x.rank.to_string()).unwrap_or_default();
                            view! { <td>{rank}</td> }
                        }).collect_view();
                        view! {
                            <tr data-unit=s.unit.clone() data-rank=s.rank.to_string()>
                                <td>{s.rank}</td>
                                <td>{unit_name(&s.unit)}</td>
                                <td><details><summary>{format!("{:.2}", s.total)}</summary><small>{parts}</small></details></td>
                                {ranks}
                                <td class="marks">{marks.join("，")}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            </section>
        }.into_any()
    };

    let receptions_view = move || {
        let days = reception_rows();
        let refs: Vec<&lianxin_shared::ReceptionRow> = days.iter().collect();
        let figures = report::reception_figures(&refs, Period::new(from.get(), to.get()));
        let l = lang.get();
        view! {
            <section class="report" data-testid="receptions-report">
                <h2>{format!("{} {} — {}", t(l, "reception_figures"), from.get(), to.get())}</h2>
                <table class="report-table">
                    <thead><tr>
                        <th>{t(l, "unit")}</th><th>"接访日数"</th><th>"接待事项"</th><th>"接待人次"</th>
                        <th>"现场化解"</th><th>"限期化解"</th><th>"登记为案件"</th>
                    </tr></thead>
                    <tbody>{figures.into_iter().map(|(unit, f)| {
                        let name = if unit.is_empty() { t(l, "total").to_string() } else { unit_name(&unit) };
                        view! {
                            <tr data-unit=unit.clone()>
                                <td>{name}</td><td>{f.days}</td><td>{f.tally.matters}</td><td>{f.tally.people}</td>
                                <td>{f.tally.on_the_spot}</td><td>{f.tally.deadline}</td><td>{f.tally.cases}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            </section>
        }
    };

    let campaigns_view = move || {
        let (rows, _) = data.get();
        let progress = report::campaigns(
            &items(&rows),
            &crate::case::campaigns::campaigns(),
            to.get(),
        );
        let l = lang.get();
        view! {
            <section class="report" data-testid="campaigns-report">
                <h2>{format!("{}（{}）", t(l, "campaigns"), to.get())}</h2>
                {if progress.is_empty() {
                    view! { <p>{t(l, "none")}</p> }.into_any()
                } else {
                    view! {
                        <table class="report-table">
                            <thead><tr><th>"活动"</th><th>"期间"</th><th>"交办事项"</th><th>"已化解"</th><th>"化解率"</th></tr></thead>
                            <tbody>{progress.iter().map(|p| view! {
                                <tr data-campaign=p.campaign.id.to_string()>
                                    <td>{p.campaign.name.clone()}</td>
                                    <td>{format!("{} — {}", p.campaign.from, p.campaign.to.map(|d| d.to_string()).unwrap_or_default())}</td>
                                    <td>{p.matters}</td><td>{p.resolved}</td><td>{p.rate.shown()}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                        <div class="charts">
                            {progress.into_iter().map(|p| {
                                let weeks = p.weeks.iter().map(|(d, n)| (d.to_string(), *n, 0)).collect();
                                bars(format!("{} · {}", p.campaign.name, t(l, "by_week")), weeks)
                            }).collect_view()}
                        </div>
                    }.into_any()
                }}
            </section>
        }
    };

    let export_report = move |_| {
        use lianxin_shared::ledger::tables;
        let (rows, days) = data.get_untracked();
        let it = items(&rows);
        let name = |id: &str| unit_name(id);
        let (label, tables) = match tab.get_untracked() {
            Tab::Bulletin => (
                "bulletin",
                tables::bulletin(
                    &report::bulletin(&it, day.get_untracked(), &Limits::default()),
                    &name,
                ),
            ),
            Tab::Figures => {
                let f = report::figures(&it, Period::new(from.get_untracked(), to.get_untracked()));
                let label = |dim: &str, code: &str| match dim {
                    "unit" => unit_name(code),
                    _ if code.is_empty() => "—".to_string(),
                    _ => crate::case::label(dim, code, Lang::Zh),
                };
                ("figures", tables::figures(&f, &label))
            }
            Tab::Rates => (
                "rates",
                tables::rates(
                    &report::rates(&it, Period::new(from.get_untracked(), to.get_untracked())),
                    &name,
                ),
            ),
            Tab::Assessment => {
                let units: Vec<String> = ctx.directory.with_untracked(|d| {
                    let bureau = ctx.bureau.get_untracked();
                    d.iter()
                        .map(|(id, _)| id.clone())
                        .filter(|id| !bureau.contains(id))
                        .collect()
                });
                let a = report::assessment(
                    &it,
                    &units,
                    &days,
                    &report::months_up_to(&month.get_untracked(), 6),
                    &rules(),
                );
                ("assessment", tables::assessment(&a, &name))
            }
            Tab::Receptions => {
                let all = reception_rows();
                let refs: Vec<&lianxin_shared::ReceptionRow> = all.iter().collect();
                (
                    "reception_figures",
                    tables::receptions(
                        &report::reception_figures(
                            &refs,
                            Period::new(from.get_untracked(), to.get_untracked()),
                        ),
                        &name,
                    ),
                )
            }
            Tab::Campaigns => (
                "campaigns",
                tables::campaigns(&report::campaigns(
                    &it,
                    &crate::case::campaigns::campaigns(),
                    to.get_untracked(),
                )),
            ),
        };
        let title = t(Lang::Zh, label);
        let file = format!("{title}-{}.xlsx", today());
        let rows: usize = tables.iter().map(|t| t.rows.len()).sum();
        let bytes = lianxin_shared::ledger::xlsx::write(&tables);
        match download(
            &bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &file,
        ) {
            Ok(()) => {
                record_ledger(ctx, "export", &format!("{title} {file}"), rows);
                exported.set(Some(rows));
            }
            Err(e) => web_sys::console::warn_1(&e.into()),
        }
    };

    view! {
        <div class="reports">
            <div class="tools no-print">
                <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
                {tab_button(Tab::Bulletin, "bulletin")}
                {tab_button(Tab::Figures, "figures")}
                {tab_button(Tab::Rates, "rates")}
                {tab_button(Tab::Assessment, "assessment")}
                {tab_button(Tab::Receptions, "reception_figures")}
                {tab_button(Tab::Campaigns, "campaigns")}
                <button data-testid="print" on:click=move |_| { if let Some(w) = web_sys::window() { let _ = w.print(); } }>{move || t(lang.get(), "print")}</button>
                <Show when=move || may_export(ctx)>
                    <button class="plain" data-testid="export-ledger" on:click=move |_| {
                        match export_ledger(ctx, false) {
                            Ok(n) => exported.set(Some(n)),
                            Err(e) => web_sys::console::warn_1(&e.into()),
                        }
                    }>{move || t(lang.get(), "export_ledger")}</button>
                    <button class="plain" data-testid="export-ledger-xlsx" on:click=move |_| {
                        match export_ledger(ctx, true) {
                            Ok(n) => exported.set(Some(n)),
                            Err(e) => web_sys::console::warn_1(&e.into()),
                        }
                    }>{move || t(lang.get(), "export_ledger_xlsx")}</button>
                    <button class="plain" data-testid="export-report" on:click=export_report>{move || t(lang.get(), "export_report")}</button>
                    <button class="plain" data-testid="import-ledger" on:click=move |_| ctx.go(crate::Screen::Import)>{move || t(lang.get(), "import_ledger")}</button>
                </Show>
            </div>
            <Show when=move || exported.get().is_some()>
                <p class="meta" data-testid="exported">{move || format!("{} {}", t(lang.get(), "exported_rows"), exported.get().unwrap_or_default())}</p>
            </Show>
            <div class="tools no-print">
                {move || match tab.get() {
                    Tab::Bulletin => date_input("day", day).into_any(),
                    Tab::Campaigns => date_input("to", to).into_any(),
                    Tab::Figures | Tab::Rates | Tab::Receptions => view! { {date_input("from", from)} " — " {date_input("to", to)} }.into_any(),
                    Tab::Assessment => view! {
                        <input type="month" name="month" prop:value=move || month.get()
                            on:change=move |ev| month.set(event_target_value(&ev))/>
                    }.into_any(),
                }}
            </div>
            <p class="meta as-of" data-testid="as-of">{as_of}</p>
            {move || match tab.get() {
                Tab::Bulletin => bulletin().into_any(),
                Tab::Figures => figures().into_any(),
                Tab::Rates => rates().into_any(),
                Tab::Assessment => assessment(),
                Tab::Receptions => receptions_view().into_any(),
                Tab::Campaigns => campaigns_view().into_any(),
            }}
        </div>
    }
}
