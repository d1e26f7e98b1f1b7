//! Registering a new case.

use leptos::prelude::*;

use crate::Screen;
use lianxin_shared::{DocId, Field, UnitId};

use super::{editor, label, options};
use crate::Ctx;
use crate::explain::Invalid;
use crate::i18n::t;
use crate::with_engine;
use lianxin_shared::rules::check::{self, Problem};
use lianxin_shared::{CaseDoc, CaseDraft, Channel};

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
    // Problems beside the fields: the number of people (five or more for a collective visit)
    // and the summary.
    let people_problem = RwSignal::new(None::<Problem>);
    let summary_problem = RwSignal::new(None::<Problem>);
    let create = move |_| {
        let collective = form.get_untracked() == "collective";
        let checked_people = check::people(&people.get_untracked(), collective);
        people_problem.set(checked_people.clone().err());
        summary_problem.set(check::required(&summary.get_untracked()).err());
        if checked_people.is_err() || summary_problem.with_untracked(Option::is_some) {
            return;
        }
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
            let others = crate::handling_others(ctx, &draft.unit);
            let today = crate::today();
            let user = ctx.username.get_untracked();
            let registers = ctx.may(lianxin_shared::rules::authority::Touch::Entry {
                list: "steps",
                kind: Some(lianxin_shared::StepKind::Registered.code()),
            });
            let reference = crate::numbers::take(&user, today.ymd().0);
            if reference.is_none() {
                crate::numbers::wait_for_number(&user, id);
            }
            with_engine(|e| {
                let actor = e.actor.clone();
                e.edit_with_details(id, |doc, details| {
                    let (mut case, made) =
                        CaseDoc::create_with_details(&draft, &others, &ed, actor);
                    case.set(Field::Form, &form, &ed)?;
                    case.set(Field::People, &people, &ed)?;
                    // Registered today, with the next number of this device's block (or
                    // numbered when the next block arrives).
                    if registers {
                        case.add_step(
                            &ed,
                            &lianxin_shared::StepDraft {
                                kind: lianxin_shared::StepKind::Registered,
                                on: today,
                                reason: None,
                                outcome: None,
                            },
                        )?;
                    }
                    if let Some(reference) = &reference {
                        case.set(Field::Reference, reference, &ed)?;
                    }
                    *doc = Some(case);
                    *details = Some(made);
                    Ok(())
                })
            })
            .ok_or("not signed in")??;
            Ok(id)
        })();
        match result {
            Ok(id) => {
                ctx.replace(&[Screen::Case(id.to_string())]);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="case new-case" data-testid="new-case">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2>{move || t(lang.get(), "new_case")}</h2>
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
                    <input name="people" inputmode="numeric" prop:value=people aria-invalid=move || people_problem.with(Option::is_some).to_string()
                        on:input=move |ev| { people.set(event_target_value(&ev)); people_problem.set(None); }/>
                    <Invalid lang problem=people_problem/>
                </label>
            </section>
            <textarea name="summary" placeholder=move || t(lang.get(), "summary") prop:value=summary
                aria-invalid=move || summary_problem.with(Option::is_some).to_string()
                on:input=move |ev| { summary.set(event_target_value(&ev)); summary_problem.set(None); }></textarea>
            <Invalid lang problem=summary_problem/>
            <button data-testid="create" on:click=create>{move || t(lang.get(), "register")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
        </div>
    }
}
