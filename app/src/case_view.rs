//! A case on screen: every core field editable, the notes, lifecycle steps, follow-up visits,
//! conflicts with both values and who set them; and the new-case form.

use leptos::prelude::*;
use lianxin_shared::vocab::{Category, Channel, Form, Level, Source};
use lianxin_shared::{
    Case, CaseDoc, CaseDraft, DocId, Editor, Field, FollowUpDraft, StepDraft, UnitId,
};

use crate::i18n::{Lang, t};
use crate::{Ctx, with_engine};

fn editor(ctx: Ctx) -> Editor {
    Editor::new(&ctx.username.get_untracked(), js_sys::Date::now() as i64)
}

fn read_case(id: &str) -> Option<Case> {
    let id: DocId = id.parse().ok()?;
    with_engine(|e| {
        let replicas = e.replicas.borrow();
        let replica = replicas.get(&id)?;
        CaseDoc::from_doc(replica.doc.clone())
            .and_then(|c| c.read())
            .ok()
    })
    .flatten()
}

/// Applies an edit to the open case; the error, if any, is shown in `error`.
fn edit(
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
            None => Err(lianxin_shared::Error::Protocol(
                "no such case on this device".into(),
            )),
        })
    });
    match result {
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

/// The label of a vocabulary value in the screen's language.
fn label(field: &str, code: &str, lang: Lang) -> String {
    macro_rules! find {
        ($t:ty) => {
            <$t>::ALL
                .iter()
                .find(|v| v.code() == code)
                .map(|v| if lang == Lang::Zh { v.zh() } else { v.en() }.to_string())
        };
    }
    let found = match field {
        "channel" => find!(Channel),
        "form" => find!(Form),
        "level" => find!(Level),
        "source" => find!(Source),
        "category" => find!(Category),
        _ => None,
    };
    found.unwrap_or_else(|| code.to_string())
}

fn options(field: &str) -> Vec<&'static str> {
    match field {
        "channel" => Channel::ALL.iter().map(|v| v.code()).collect(),
        "form" => Form::ALL.iter().map(|v| v.code()).collect(),
        "level" => Level::ALL.iter().map(|v| v.code()).collect(),
        "source" => Source::ALL.iter().map(|v| v.code()).collect(),
        "category" => Category::ALL.iter().map(|v| v.code()).collect(),
        _ => Vec::new(),
    }
}

fn time_of(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(d.to_locale_string("zh-CN", &wasm_bindgen::JsValue::UNDEFINED))
}

fn field_value(case: &Case, field: &str) -> String {
    match field {
        "reference" => case.reference.clone(),
        "channel" => case.channel.clone(),
        "form" => case.form.clone(),
        "people" => case.people.map(|n| n.to_string()),
        "level" => case.level.clone(),
        "source" => case.source.clone(),
        "category" => case.category.clone(),
        "handler" => case.handler.clone(),
        "leader" => case.leader.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

#[component]
pub fn CaseView(ctx: Ctx, id: String) -> impl IntoView {
    let lang = ctx.lang;
    let error = RwSignal::new(None::<String>);
    let case_id = id.clone();
    let case = Memo::new(move |_| {
        ctx.version.get();
        read_case(&case_id)
    });
    let note = RwSignal::new(String::new());
    let visit = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());

    let set_field = {
        let id = id.clone();
        move |field: &'static str, value: String| {
            let Ok(f) = Field::parse(field) else { return };
            let ed = editor(ctx);
            edit(&id, error, |c| c.set(f, &value, &ed));
        }
    };
    let add_note = {
        let id = id.clone();
        move |_| {
            let ed = editor(ctx);
            let text = note.get_untracked();
            if edit(&id, error, |c| c.append_note(&ed, &text)) {
                note.set(String::new());
            }
        }
    };
    let add_visit = {
        let id = id.clone();
        move |_| {
            let ed = editor(ctx);
            let place_text = place.get_untracked();
            let draft = FollowUpDraft {
                text: visit.get_untracked(),
                place: (!place_text.trim().is_empty()).then_some(place_text),
                ..Default::default()
            };
            if edit(&id, error, |c| c.add_follow_up(&ed, &draft).map(|_| ())) {
                visit.set(String::new());
                place.set(String::new());
            }
        }
    };

    let step_kind = RwSignal::new("registered".to_string());
    let step_on = RwSignal::new(crate::today().to_string());
    let step_reason = RwSignal::new(String::new());
    let step_outcome = RwSignal::new(String::new());
    let add_step = {
        let id = id.clone();
        move |_| {
            let ed = editor(ctx);
            let draft = (|| -> Result<StepDraft, lianxin_shared::Error> {
                let reason = step_reason.get_untracked();
                let outcome = step_outcome.get_untracked();
                Ok(StepDraft {
                    kind: lianxin_shared::StepKind::parse(&step_kind.get_untracked())?,
                    on: step_on.get_untracked().parse()?,
                    reason: (!reason.trim().is_empty()).then_some(reason),
                    outcome: (!outcome.is_empty()).then_some(outcome),
                })
            })();
            match draft {
                Ok(draft) => {
                    if edit(&id, error, |c| c.add_step(&ed, &draft).map(|_| ())) {
                        step_reason.set(String::new());
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    };
    let id_for_summary = id.clone();
    let select_fields: [&'static str; 5] = ["channel", "form", "level", "source", "category"];
    let text_fields: [&'static str; 4] = ["reference", "people", "handler", "leader"];

    view! {
        <div class="case" data-testid="case">
            <button class="plain back" on:click=move |_| ctx.selected.set(None)>{move || t(lang.get(), "back")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            {move || case.get().map(|c| {
                let set_field = set_field.clone();
                let set_field2 = set_field.clone();
                let conflicts = c.conflicts.clone();
                view! {
                    <h2 data-testid="summary">{c.summary.clone()}</h2>
                    <label class="summary-edit">
                        <span>{move || t(lang.get(), "summary")}</span>
                        <textarea name="summary-edit" prop:value=c.summary.clone() on:change={
                            let id = id_for_summary.clone();
                            move |ev| {
                                let ed = editor(ctx);
                                let text = event_target_value(&ev);
                                edit(&id, error, |c| c.set_summary(&text, &ed));
                            }
                        }></textarea>
                    </label>
                    <p class="lifecycle" data-testid="lifecycle">{lifecycle_line(&c, lang.get_untracked())}</p>
                    <section class="conflicts">
                        {conflicts.into_iter().map(|conflict| {
                            let field = conflict.field.clone();
                            let testid = format!("conflict-{field}");
                            view! {
                                <div class="conflict" data-testid=testid>
                                    <strong>{move || format!("{}：{}", t(lang.get(), &field), t(lang.get(), "conflict"))}</strong>
                                    <ul>
                                    {conflict.values.into_iter().enumerate().map(|(i, v)| {
                                        let value = v.value.as_str().map(str::to_string).unwrap_or_else(|| v.value.to_string());
                                        let shown = label(&conflict.field, &value, lang.get_untracked());
                                        let f: &'static str = Field::parse(&conflict.field).map(|f| f.name()).unwrap_or("level");
                                        let set_field = set_field2.clone();
                                        let shown_value = value.clone();
                                        view! {
                                            <li data-testid=format!("conflict-{}-{i}", conflict.field) data-value=shown_value>
                                                <span>{format!("{shown} — {} · {}", v.by, time_of(v.at))}</span>
                                                <button on:click=move |_| set_field(f, value.clone())>{move || t(lang.get(), "choose")}</button>
                                            </li>
                                        }
                                    }).collect_view()}
                                    </ul>
                                </div>
                            }
                        }).collect_view()}
                    </section>
                    <section class="fields">
                        {select_fields.into_iter().map(|field| {
                            let current = field_value(&c, field);
                            let set_field = set_field.clone();
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), field)}</span>
                                    <select name=field on:change=move |ev| set_field(field, event_target_value(&ev))>
                                        <option value="" prop:selected=current.is_empty() disabled=true>"—"</option>
                                        {options(field).into_iter().map(|code| {
                                            let selected = current == code;
                                            view! { <option value=code prop:selected=selected>{move || label(field, code, lang.get())}</option> }
                                        }).collect_view()}
                                    </select>
                                </label>
                            }
                        }).collect_view()}
                        <label>
                            <span>{move || t(lang.get(), "responsible_unit")}</span>
                            <select name="responsible_unit" on:change={
                                let set_field = set_field.clone();
                                move |ev| set_field("responsible_unit", event_target_value(&ev))
                            }>
                                <option value="" prop:selected=c.responsible_unit.is_none() disabled=true>"—"</option>
                                {ctx.directory.get_untracked().into_iter().map(|(uid, name)| {
                                    let selected = c.responsible_unit.as_deref() == Some(uid.as_str());
                                    view! { <option value=uid prop:selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        {text_fields.into_iter().map(|field| {
                            let current = field_value(&c, field);
                            let set_field = set_field.clone();
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), field)}</span>
                                    <input name=field value=current on:change=move |ev| set_field(field, event_target_value(&ev))/>
                                </label>
                            }
                        }).collect_view()}
                    </section>
                    <section>
                        <h3>{move || t(lang.get(), "notes")}</h3>
                        <pre class="notes" data-testid="notes">{c.notes.clone()}</pre>
                        <textarea name="note" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                        <button data-testid="add-note" on:click=add_note.clone()>{move || t(lang.get(), "add_note")}</button>
                    </section>
                    <section>
                        <h3>{move || t(lang.get(), "steps")}</h3>
                        <ul class="steps" data-testid="steps">
                            {c.steps.iter().map(|s| view! {
                                <li data-step=s.kind.clone()>{format!("{} {} — {}{}", s.on, label_step(&s.kind, lang.get_untracked()), s.by,
                                    s.reason.as_ref().map(|r| format!("（{r}）")).unwrap_or_default())}</li>
                            }).collect_view()}
                        </ul>
                        <div class="tools">
                            <select name="step-kind" on:change=move |ev| step_kind.set(event_target_value(&ev))>
                                {lianxin_shared::StepKind::ALL.iter().map(|k| {
                                    let k = *k;
                                    view! { <option value=k.code() prop:selected=move || step_kind.get() == k.code()>{move || if lang.get() == Lang::Zh { k.zh() } else { k.en() }}</option> }
                                }).collect_view()}
                            </select>
                            <input name="step-on" type="date" prop:value=step_on on:input=move |ev| step_on.set(event_target_value(&ev))/>
                            <input name="step-reason" placeholder=move || t(lang.get(), "reason") prop:value=step_reason
                                on:input=move |ev| step_reason.set(event_target_value(&ev))/>
                            <select name="step-outcome" on:change=move |ev| step_outcome.set(event_target_value(&ev))>
                                <option value="">{move || t(lang.get(), "no_outcome")}</option>
                                {lianxin_shared::Outcome::ALL.iter().map(|o| {
                                    let o = *o;
                                    view! { <option value=o.code()>{move || if lang.get() == Lang::Zh { o.zh() } else { o.en() }}</option> }
                                }).collect_view()}
                            </select>
                            <button data-testid="add-step" on:click=add_step.clone()>{move || t(lang.get(), "add_step")}</button>
                        </div>
                    </section>
                    <section>
                        <h3>{move || t(lang.get(), "follow_ups")}</h3>
                        <ul class="follow-ups" data-testid="follow-ups">
                            {c.follow_ups.iter().map(|f| view! {
                                <li data-follow-up=f.id.to_string()>{format!("{} {} — {} {}", f.on, f.text, f.by, f.place.clone().unwrap_or_default())}</li>
                            }).collect_view()}
                        </ul>
                        <textarea name="visit" prop:value=visit on:input=move |ev| visit.set(event_target_value(&ev))></textarea>
                        <input name="place" placeholder=move || t(lang.get(), "place") prop:value=place on:input=move |ev| place.set(event_target_value(&ev))/>
                        <button data-testid="add-follow-up" on:click=add_visit.clone()>{move || t(lang.get(), "add_follow_up")}</button>
                    </section>
                }
            })}
        </div>
    }
}

/// "办理中 · 期限 2027-01-22 · 黄牌", from the rules as of today.
fn lifecycle_line(case: &Case, lang: Lang) -> String {
    use lianxin_shared::rules::{self, Calendar, Limits};
    let limits = Limits::default();
    let received = lianxin_shared::Date::from_unix_ms_china(case.header.created_at);
    let life = rules::lifecycle(&case.steps, received, &limits, &Calendar::default());
    let colour = rules::colour(&life, crate::today(), &limits);
    let deadline = life
        .deadline
        .map(|d| format!(" · {} {}", t(lang, "deadline"), d.due))
        .unwrap_or_default();
    let warnings = if life.irregularities.is_empty() {
        String::new()
    } else {
        format!(" · ⚠ {}", life.irregularities.len())
    };
    format!("{}{deadline} · {}{warnings}", life.state.zh(), colour.zh())
}

fn label_step(kind: &str, lang: Lang) -> String {
    lianxin_shared::StepKind::parse(kind)
        .map(|k| if lang == Lang::Zh { k.zh() } else { k.en() }.to_string())
        .unwrap_or_else(|_| kind.to_string())
}

/// Registers a new case: channel, individual or collective with the number of people, unit,
/// summary.
#[component]
pub fn NewCase(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    let units = ctx.units;
    let unit = RwSignal::new(
        units
            .get_untracked()
            .first()
            .map(|u| u.0.clone())
            .unwrap_or_default(),
    );
    let channel = RwSignal::new("visit".to_string());
    let form = RwSignal::new("individual".to_string());
    let people = RwSignal::new("1".to_string());
    let summary = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        let ed = editor(ctx);
        let result = (|| -> Result<DocId, String> {
            let unit = UnitId::new(&unit.get_untracked()).map_err(|e| e.to_string())?;
            let channel = Channel::parse(&channel.get_untracked()).map_err(|e| e.to_string())?;
            let text = summary.get_untracked();
            if text.trim().is_empty() {
                return Err(t(lang.get_untracked(), "summary_needed").to_string());
            }
            let draft = CaseDraft::new(unit, channel, text.trim());
            let id = draft.id;
            let (form, people) = (form.get_untracked(), people.get_untracked());
            with_engine(|e| {
                let actor = e.actor.clone();
                e.edit(id, |doc| {
                    let mut case = CaseDoc::create(&draft, &ed, actor);
                    case.set(Field::Form, &form, &ed)?;
                    case.set(Field::People, &people, &ed)?;
                    *doc = Some(case);
                    Ok(())
                })
            })
            .ok_or("not signed in")??;
            Ok(id)
        })();
        match result {
            Ok(id) => {
                ctx.creating.set(false);
                ctx.selected.set(Some(id.to_string()));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="case new-case" data-testid="new-case">
            <button class="plain back" on:click=move |_| ctx.creating.set(false)>{move || t(lang.get(), "back")}</button>
            <h2>{move || t(lang.get(), "new_case")}</h2>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <section class="fields">
                <label><span>{move || t(lang.get(), "unit")}</span>
                    <select name="unit" on:change=move |ev| unit.set(event_target_value(&ev))>
                        {move || units.get().into_iter().map(|(id, name)| {
                            let selected = unit.get_untracked() == id;
                            view! { <option value=id selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t(lang.get(), "channel")}</span>
                    <select name="channel" on:change=move |ev| channel.set(event_target_value(&ev))>
                        {options("channel").into_iter().map(|code| view! {
                            <option value=code selected=code == "visit">{move || label("channel", code, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t(lang.get(), "form")}</span>
                    <select name="form" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if v == "individual" { people.set("1".into()); } else if people.get_untracked() == "1" { people.set("5".into()); }
                        form.set(v);
                    }>
                        {options("form").into_iter().map(|code| view! {
                            <option value=code selected=code == "individual">{move || label("form", code, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t(lang.get(), "people")}</span>
                    <input name="people" type="number" min="1" prop:value=people on:input=move |ev| people.set(event_target_value(&ev))/>
                </label>
            </section>
            <textarea name="summary" placeholder=move || t(lang.get(), "summary") prop:value=summary
                on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
            <button data-testid="create" on:click=create>{move || t(lang.get(), "register")}</button>
        </div>
    }
}
