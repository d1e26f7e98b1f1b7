//! 导入台账: an office's ledger brought in on the tablet — its XLSX workbook (the first sheet,
//! read by [`lianxin_shared::ledger::xlsx`]) or a CSV file,
//! its columns recognised by their usual Chinese headers and corrected by the clerk, the rows
//! that cannot be read shown with the sheet's row numbers and why, then each row made a case
//! with dated steps — or, matched by 编号, the existing case brought up to date — with the
//! progress shown. Allowed to the roles that may import ledgers; recorded on the server.

use leptos::prelude::*;
use lianxin_shared::ledger::{self, Problem, Record, Target};
use lianxin_shared::rules::authority::Role;
use lianxin_shared::{DocId, StoredRow, UnitId};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::t;
use crate::{Ctx, with_engine};

/// The file as read: its name, header, rows and the sheet's number of the first row.
#[derive(Clone, Debug, PartialEq)]
struct Sheet {
    name: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    first_row: usize,
}

/// Lets the screen draw between rows.
async fn next_frame() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}

#[component]
pub(crate) fn Import(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    let sheet = RwSignal::new(None::<Sheet>);
    let corrections = RwSignal::new(Vec::<(String, Option<Target>)>::new());
    let unit = RwSignal::new(
        ctx.units
            .get_untracked()
            .first()
            .map(|u| u.0.clone())
            .unwrap_or_default(),
    );
    let progress = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        leptos::task::spawn_local(async move {
            let rows = if name.to_lowercase().ends_with(".xlsx") {
                let bytes = JsFuture::from(file.array_buffer())
                    .await
                    .map(|b| js_sys::Uint8Array::new(&b).to_vec())
                    .unwrap_or_default();
                match ledger::xlsx::read_first_sheet(&bytes) {
                    Ok(rows) => rows,
                    Err(e) => {
                        error.set(Some(e));
                        return;
                    }
                }
            } else {
                let text = JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default();
                ledger::parse_csv(&text)
            };
            match ledger::find_header(&rows) {
                Some(at) => {
                    error.set(None);
                    corrections.set(Vec::new());
                    sheet.set(Some(Sheet {
                        name,
                        header: rows[at].clone(),
                        rows: rows[at + 1..].to_vec(),
                        first_row: at + 2,
                    }));
                }
                None => error.set(Some(t(lang.get_untracked(), "no_header").to_string())),
            }
        });
    };
    let find_unit = move |s: &str| {
        ctx.directory.with_untracked(|d| {
            ledger::find_unit(d.iter().map(|(id, name)| (id.as_str(), name.as_str())), s)
        })
    };
    // The mapping and what it reads, redone when the clerk corrects a column.
    let read = Memo::new(move |_| {
        let sheet = sheet.get()?;
        let mapping = ledger::recognise(&sheet.header, &corrections.get());
        let (records, problems) =
            ledger::read_records(&sheet.rows, sheet.first_row, &mapping, &find_unit);
        Some((sheet.header.clone(), mapping, records, problems))
    });
    let set_column = move |header: String, code: String| {
        corrections.update(|c| {
            c.retain(|(h, _)| h != &header);
            c.push((header, Target::from_code(&code)));
        });
    };
    let run = move |_| {
        let Some((_, _, records, _)) = read.get_untracked() else {
            return;
        };
        let Ok(unit) = UnitId::new(&unit.get_untracked()) else {
            return;
        };
        let Some(role) = ctx.role.with_untracked(|r| Role::parse(r)) else {
            return;
        };
        let user = ctx.username.get_untracked();
        let others = crate::handling_others(ctx, &unit);
        let file = sheet.with_untracked(|s| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
        leptos::task::spawn_local(async move {
            let existing: std::collections::HashMap<String, DocId> = with_engine(|e| {
                e.rows
                    .borrow()
                    .iter()
                    .filter_map(|(id, r)| match r {
                        StoredRow::Case(c) if !c.reference.is_empty() => {
                            Some((c.reference.clone(), *id))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
            let (mut created, mut updated, mut failed) = (0, 0, 0);
            let total = records.len();
            for (i, record) in records.iter().enumerate() {
                let done =
                    with_engine(|e| import_one(e, record, &existing, &user, role, &unit, &others))
                        .unwrap_or(Err("not signed in".into()));
                match done {
                    Ok(true) => created += 1,
                    Ok(false) => updated += 1,
                    Err(e) => {
                        failed += 1;
                        web_sys::console::warn_1(&format!("row {}: {e}", record.row).into());
                    }
                }
                if i % 20 == 0 {
                    progress.set(Some(format!("{} / {total}", i + 1)));
                    next_frame().await;
                }
            }
            crate::reports::record_ledger(
                ctx,
                "import",
                &format!("信访事项台账 {file}"),
                created + updated,
            );
            let l = lang.get_untracked();
            progress.set(Some(format!(
                "{}：{} {created}，{} {updated}，{} {failed}",
                t(l, "imported"),
                t(l, "created_n"),
                t(l, "updated_n"),
                t(l, "failed_n")
            )));
        });
    };
    view! {
        <div class="case import" data-testid="import">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2>{move || t(lang.get(), "import_ledger")}</h2>
            <p class="meta">{move || t(lang.get(), "import_hint")}</p>
            <section class="fields">
                <label><span>{move || t(lang.get(), "unit")}</span>
                    <select name="import-unit" on:change=move |ev| unit.set(event_target_value(&ev))>
                        {move || ctx.units.get().into_iter().map(|(id, name)| view! { <option value=id.clone() selected=unit.get_untracked() == id>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t(lang.get(), "file")}</span>
                    <input type="file" name="ledger-file" accept=".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" on:change=on_file/>
                </label>
            </section>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            {move || read.get().map(|(header, mapping, records, problems)| {
                let l = lang.get();
                view! {
                    <section data-testid="mapping">
                        <h3>{t(l, "mapping")}</h3>
                        <table class="report-table">
                            <thead><tr><th>{t(l, "column")}</th><th>{t(l, "read_as")}</th></tr></thead>
                            <tbody>{header.into_iter().zip(mapping).map(|(h, target)| {
                                let chosen = target.map(|x| x.code()).unwrap_or("");
                                let (h2, h3) = (h.clone(), h.clone());
                                view! {
                                    <tr data-column=h3>
                                        <td>{h}</td>
                                        <td><select name="map" on:change=move |ev| set_column(h2.clone(), event_target_value(&ev))>
                                            <option value="" selected=chosen.is_empty()>{t(l, "ignored")}</option>
                                            {Target::ALL.into_iter().map(|x| view! {
                                                <option value=x.code() selected=chosen == x.code()>{x.zh()}</option>
                                            }).collect_view()}
                                        </select></td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                    <section data-testid="preview">
                        <p data-testid="readable">{format!("{} {}，{} {}", t(l, "readable_rows"), records.len(), t(l, "problem_rows"), problems.len())}</p>
                        {(!problems.is_empty()).then(|| problem_table(&problems, l))}
                        {warnings(&records, l)}
                        <button data-testid="run-import" disabled=records.is_empty() on:click=run>{t(l, "run_import")}</button>
                    </section>
                }
            })}
            <Show when=move || progress.get().is_some()>
                <p class="meta" data-testid="import-progress">{move || progress.get().unwrap_or_default()}</p>
            </Show>
        </div>
    }
}

/// One record into the tablet's caseload: a new case (true) or the case of its 编号 updated.
fn import_one(
    e: &std::rc::Rc<crate::sync::Engine>,
    record: &Record,
    existing: &std::collections::HashMap<String, DocId>,
    user: &str,
    role: Role,
    unit: &UnitId,
    others: &[UnitId],
) -> Result<bool, String> {
    if let Some(id) = record.reference.as_ref().and_then(|r| existing.get(r)) {
        e.edit_with_details(*id, |c, d| match c {
            Some(c) => record.update(c, d.as_mut(), user, role).map(|_| ()),
            None => Err(crate::not_here("case")),
        })?;
        return Ok(false);
    }
    let (case, details, _) = record
        .to_case(user, role, unit, others, e.actor.clone())
        .map_err(|e| e.to_string())?;
    let id = case.id().map_err(|e| e.to_string())?;
    e.edit_with_details(id, |c, d| {
        *c = Some(case);
        *d = Some(details);
        Ok(())
    })?;
    Ok(true)
}

fn problem_table(problems: &[Problem], l: crate::i18n::Lang) -> impl IntoView + use<> {
    view! {
        <table class="report-table" data-testid="problems">
            <thead><tr><th>{t(l, "row")}</th><th>{t(l, "why")}</th></tr></thead>
            <tbody>{problems.iter().map(|p| view! {
                <tr data-row=p.row.to_string()><td>{p.row}</td><td>{p.reason.clone()}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

fn warnings(records: &[Record], l: crate::i18n::Lang) -> impl IntoView + use<> {
    let lines: Vec<(usize, String)> = records
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .map(|r| (r.row, r.warnings.join("；")))
        .collect();
    (!lines.is_empty()).then(|| {
        view! {
            <details>
                <summary>{format!("{} {}", t(l, "warning_rows"), lines.len())}</summary>
                <ul>{lines.into_iter().map(|(row, w)| view! { <li>{format!("{row}：{w}")}</li> }).collect_view()}</ul>
            </details>
        }
    })
}
