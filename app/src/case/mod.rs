//! A case on screen: one component per section, each reading its own memo of the case so a
//! change elsewhere does not re-render (and take the focus from) a field being typed in.
//!
//! The sections: conflicts and core fields (`fields`), petitioners (`people`), notes, steps and
//! follow-up visits (`record`), the seven-evenings plan (`evenings`), the leader's package,
//! 四定四包, joint handling and mediation (`duty`), aid, hearings and the evaluation
//! (`support`); and the new-case form (`new_case`). Every edit goes through [`edit`], which
//! shows a refusal beside the case.

use leptos::prelude::*;

use crate::Screen;
use lianxin_shared::{
    Case, CaseDoc, Category, Channel, DocId, Editor, Field, Form, Level, MatterKind, OptionCode,
    Satisfaction, Source, Vocabulary,
};

use crate::i18n::{Lang, t};
use crate::{Ctx, Row, with_engine};

mod attachments;
mod duty;
mod evenings;
mod fields;
mod history;
mod new_case;
mod people;
mod record;
mod support;

use duty::{MediationLink, Responsibility};
use evenings::Evenings;
use fields::{Conflicts, CoreFields};
pub use new_case::NewCase;
use people::Petitioners;
pub(crate) mod campaigns;
use record::{FollowUps, Notes, Steps};
use support::{AidSection, EvaluationSection, Hearings};

pub(crate) use crate::i18n::vocab_label;

/// What every section of the open case needs: the app, the case's id, the case itself (one
/// memo the sections read parts of) and where a refused edit is shown.
#[derive(Clone, Copy)]
pub(super) struct CaseScreen {
    ctx: Ctx,
    id: StoredValue<String>,
    case: Memo<Option<Case>>,
    error: RwSignal<Option<String>>,
}

impl CaseScreen {
    /// Sets a single-value field from what the person chose or typed.
    fn set_field(&self, field: &str, value: String) {
        let Ok(f) = Field::parse(field) else { return };
        let ed = editor(self.ctx);
        let Ok(id) = self.id.get_value().parse::<DocId>() else {
            return;
        };
        let result = with_engine(|e| {
            e.edit_with_details(id, |c, d| {
                let Some(c) = c else {
                    return Err(crate::not_here("case"));
                };
                // A new responsible unit handles the case: it gets the personal details.
                if f == Field::ResponsibleUnit
                    && let Some(d) = d
                {
                    d.share(&ed, &lianxin_shared::UnitId::new(&value)?)?;
                }
                c.set(f, &value, &ed)
            })
        });
        crate::show_outcome(self.error, result);
    }
}

pub(super) fn editor(ctx: Ctx) -> Editor {
    Editor::new(&ctx.username.get_untracked(), js_sys::Date::now() as i64)
}

pub(super) fn read_case(id: &str) -> Option<Case> {
    let id: DocId = id.parse().ok()?;
    crate::perf::timed("case: read", || with_engine(|e| e.read(id)).flatten())
}

/// Applies an edit to the open case; the error, if any, is shown in `error`.
pub(super) fn edit(
    id: &str,
    error: RwSignal<Option<String>>,
    f: impl FnOnce(&mut CaseDoc) -> Result<(), lianxin_shared::Error>,
) -> bool {
    let Ok(id) = id.parse::<DocId>() else {
        return false;
    };
    let result = with_engine(|e| {
        e.edit(id, |doc| match doc {
            Some(doc) => f(doc),
            None => Err(crate::not_here("case")),
        })
    });
    crate::show_outcome(error, result)
}

/// The label of the vocabulary value `code` of a case field, in the screen's language.
pub(crate) fn label(field: &str, code: &str, lang: Lang) -> String {
    fn of<T: Vocabulary>(code: &str, lang: Lang) -> Option<&'static str> {
        T::from_code(code).map(|v| vocab_label(v, lang))
    }
    let found = match field {
        "channel" => of::<Channel>(code, lang),
        "form" => of::<Form>(code, lang),
        "level" => of::<Level>(code, lang),
        "source" => of::<Source>(code, lang),
        "category" => of::<Category>(code, lang),
        "matter_kind" => of::<MatterKind>(code, lang),
        _ => None,
    };
    found
        .map(str::to_string)
        .unwrap_or_else(|| code.to_string())
}

/// The codes a vocabulary field of a case offers.
pub(super) fn options(field: &str) -> Vec<&'static str> {
    fn codes<T: Vocabulary>() -> Vec<&'static str> {
        T::all().iter().map(|v| v.code()).collect()
    }
    match field {
        "channel" => codes::<Channel>(),
        "form" => codes::<Form>(),
        "level" => codes::<Level>(),
        "source" => codes::<Source>(),
        "category" => codes::<Category>(),
        "matter_kind" => codes::<MatterKind>(),
        _ => Vec::new(),
    }
}

pub(super) fn time_of(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(d.to_locale_string("zh-CN", &wasm_bindgen::JsValue::UNDEFINED))
}

pub(super) fn field_value(case: &Case, field: &str) -> String {
    match field {
        "reference" => case.reference.clone(),
        "channel" => case.channel.code().map(str::to_string),
        "form" => case.form.code().map(str::to_string),
        "people" => case.people.map(|n| n.to_string()),
        "level" => case.level.code().map(str::to_string),
        "source" => case.source.code().map(str::to_string),
        "category" => case.category.code().map(str::to_string),
        "matter_kind" => case.matter_kind.code().map(str::to_string),
        "handler" => case.handler.clone(),
        "leader" => case.leader.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// A part of the open case, as its own memo: a section re-renders only when its part
/// changes, so a colleague's note arriving leaves a half-typed field elsewhere alone.
pub(super) fn part<T: Clone + PartialEq + Send + Sync + 'static>(
    case: Memo<Option<Case>>,
    f: impl Fn(&Case) -> T + Send + Sync + 'static,
) -> Memo<Option<T>> {
    Memo::new(move |_| case.with(|c| c.as_ref().map(&f)))
}

/// A long free text being typed (a note, what a visit discussed, an evening's talk), kept
/// sealed in the local store as it is typed, so a closed tab or a flat battery loses nothing
/// not yet added. Adding the entry clears it.
pub(super) fn kept(key: String) -> RwSignal<String> {
    let key = StoredValue::new(key);
    let signal = RwSignal::new(String::new());
    // Nothing is written until the kept text has been read, so the empty start does not
    // erase it.
    let loaded = RwSignal::new(false);
    if let Some(db) = crate::local_store() {
        let db2 = db.clone();
        leptos::task::spawn_local(async move {
            if let Ok(Some(text)) = db2.draft(&key.get_value()).await
                && signal.get_untracked().is_empty()
            {
                signal.set(text);
            }
            loaded.set(true);
        });
        Effect::new(move |_| {
            let text = signal.get();
            if !loaded.get() {
                return;
            }
            let db = db.clone();
            leptos::task::spawn_local(async move {
                let _ = db.put_draft(&key.get_value(), &text).await;
            });
        });
    }
    signal
}

/// The day the matter was received: its 登记 step's, else the day the case was made (an
/// imported ledger's cases are made today with their own earlier dates).
pub(super) fn received_on(case: &Case) -> lianxin_shared::Date {
    case.live_steps()
        .iter()
        .filter(|s| s.kind.known() == Some(lianxin_shared::StepKind::Registered))
        .map(|s| s.on)
        .min()
        .unwrap_or_else(|| case.received())
}

pub(super) fn some_text(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[component]
pub fn CaseView(ctx: Ctx, id: String, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    let error = RwSignal::new(None::<String>);
    // Copy, so every handler below is Copy and can live in re-rendered sections.
    let id = StoredValue::new(id);
    let case = Memo::new(move |_| {
        ctx.version.get();
        id.with_value(|id| read_case(id))
    });
    let s = CaseScreen {
        ctx,
        id,
        case,
        error,
    };
    let head = Memo::new(move |_| {
        let l = lang.get();
        case.with(|c| {
            c.as_ref()
                .map(|c| (c.summary.clone(), lifecycle_line(c, l)))
        })
    });
    // The index: every section's heading, to jump to; a tapped heading folds its section.
    let index = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        case.track();
        lang.track();
        request_animation_frame(move || index.set(section_titles()));
    });
    let jump = move |i: usize| {
        if let Some(section) = section_heading(i).and_then(|h| h.parent_element()) {
            let _ = section.class_list().remove_1("folded");
            section.scroll_into_view();
        }
    };
    let fold = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        if target.tag_name() == "H3"
            && let Some(section) = target
                .parent_element()
                .filter(|p| p.tag_name() == "SECTION")
        {
            let _ = section.class_list().toggle("folded");
        }
    };
    view! {
        <div class="case" data-testid="case" on:click=fold>
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <nav class="case-index" data-testid="case-index" aria-label=move || t(lang.get(), "case_index")>
                {move || index.get().into_iter().enumerate().map(|(i, title)| view! {
                    <button class="plain" on:click=move |ev| { ev.stop_propagation(); jump(i); }>{title}</button>
                }).collect_view()}
            </nav>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            <Show when=move || case.with(Option::is_some) fallback=move || view! { <p>{move || t(lang.get(), "loading")}</p> }>
            {
                move || head.get().map(|(summary, line)| view! {
                    <h2 data-testid="summary">{summary.clone()}</h2>
                    <label class="summary-edit">
                        <span>{move || t(lang.get(), "summary")}</span>
                        <textarea name="summary-edit" prop:value=summary on:change={
                                            move |ev| {
                                let ed = editor(ctx);
                                let text = event_target_value(&ev);
                                edit(&id.get_value(), error, |c| c.set_summary(&text, &ed));
                            }
                        }></textarea>
                    </label>
                    <p class="lifecycle" data-testid="lifecycle">{line}</p>
                })
            }
            <Repeats ctx id=id.get_value() caseload/>
            <Conflicts s/>
            <CoreFields s/>
            <Petitioners s/>
            <Notes s/>
            <Steps s/>
            <FollowUps s/>
            <attachments::Attachments s/>
            <Evenings s/>
            <MediationLink s/>
            <Responsibility s/>
            <campaigns::Campaigns s/>
            <AidSection s/>
            <Hearings s/>
            <EvaluationSection s/>
            <history::History s/>
            </Show>
        </div>
    }
}

/// The headings of the open case's sections, in order.
fn section_titles() -> Vec<String> {
    let Some(list) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector_all(".case section > h3").ok())
    else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.text_content())
        .map(|t| t.trim().to_string())
        .collect()
}

fn section_heading(i: usize) -> Option<web_sys::Element> {
    use wasm_bindgen::JsCast;
    web_sys::window()?
        .document()?
        .query_selector_all(".case section > h3")
        .ok()?
        .item(i as u32)?
        .dyn_into()
        .ok()
}

pub(super) fn sat_label(code: &str, lang: Lang) -> String {
    Satisfaction::parse(code)
        .map(|s| crate::i18n::vocab_label(s, lang).to_string())
        .unwrap_or_else(|_| code.to_string())
}

/// "办理中 · 期限 2027-01-22 · 黄牌", from the rules as of today.
pub(super) fn lifecycle_line(case: &Case, lang: Lang) -> String {
    use lianxin_shared::rules::{self, Limits};
    let limits = Limits::default();
    let received = case.received();
    let calendar = with_engine(|e| e.calendar.clone()).unwrap_or_default();
    let life = rules::lifecycle(&case.live_steps(), received, &limits, &calendar);
    let colour = rules::colour(&life, crate::today(), &limits);
    let deadline = life
        .deadline
        .map(|d| format!(" · {} {}", t(lang, "deadline"), d.due))
        .unwrap_or_default();
    let warnings = if life.irregularities.is_empty() {
        String::new()
    } else {
        let n = life.irregularities.len();
        match lang {
            Lang::Zh => format!(" · ⚠ {n} 个步骤不合规程（见下方步骤）"),
            Lang::En => format!(
                " · ⚠ {n} irregular step{} (see the steps)",
                if n == 1 { "" } else { "s" }
            ),
        }
    };
    let route = rules::route(case.matter_kind.known(), case.category.known())
        .map(|r| format!(" · → {}", crate::i18n::vocab_label(r, lang)))
        .unwrap_or_default();
    let colour = match lang {
        Lang::Zh => colour.zh(),
        Lang::En => colour.code(),
    };
    format!(
        "{}{deadline} · {colour}{warnings}{route}",
        crate::i18n::vocab_label(life.state, lang),
    )
}

pub(super) fn label_step(kind: &str, lang: Lang) -> String {
    lianxin_shared::StepKind::parse(kind)
        .map(|k| crate::i18n::vocab_label(k, lang).to_string())
        .unwrap_or_else(|_| kind.to_string())
}

/// 重复信访: the earlier petitions of the same petitioner on the same matter (this one's
/// number among them) and the later ones, each a link; nothing for a first and only petition.
/// Worked out from the caseload rows, so it needs no other document.
#[component]
fn Repeats(ctx: Ctx, id: String, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    let links = Memo::new(move |_| {
        caseload.with(|rows| {
            let linked = crate::perf::timed("case: repeats linked", || {
                lianxin_shared::fieldwork::linked(rows.iter().map(|r| &r.matter), &id)
            });
            let row = |id: &String| rows.iter().find(|r| r.id == *id).cloned();
            (
                linked.nth(),
                linked.earlier.iter().filter_map(row).collect::<Vec<Row>>(),
                linked.later.iter().filter_map(row).collect::<Vec<Row>>(),
            )
        })
    });
    let list = move |rows: Vec<Row>, testid: &'static str| {
        view! {
            <ul class="cases" data-testid=testid>
                {rows.into_iter().map(|r| {
                    let id = r.id.clone();
                    view! {
                        <li data-case=r.id.clone() on:click=move |_| ctx.go(Screen::Case(id.clone()))>
                            <span class=format!("colour {}", r.colour.code())>{move || crate::i18n::vocab_label(r.state, lang.get())}</span>
                            <div>
                                <div class="summary">{r.summary.clone()}</div>
                                <div class="meta">{crate::meta(&[&r.matter.registered.to_string(), &r.reference])}</div>
                            </div>
                            <div class="meta">{r.unit.clone()}</div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    };
    move || {
        let (nth, earlier, later) = links.get();
        (!earlier.is_empty() || !later.is_empty()).then(|| {
            let l = lang.get();
            view! {
                <section class="repeats" data-testid="repeats" data-nth=nth.to_string()>
                    <h3>{if earlier.is_empty() { t(l, "repeat_petitions").to_string() } else { t(l, "repeat_nth").replace("{}", &nth.to_string()) }}</h3>
                    {(!earlier.is_empty()).then(|| view! {
                        <p class="meta">{t(l, "earlier_petitions")}</p>
                        {list(earlier, "repeats-earlier")}
                    })}
                    {(!later.is_empty()).then(|| view! {
                        <p class="meta">{t(l, "later_petitions")}</p>
                        {list(later, "repeats-later")}
                    })}
                </section>
            }
        })
    }
}
