//! The case's single values: conflicts with every competing value and a choice, and the
//! core fields (vocabulary selects, the responsible unit, reference, people, handler, leader).

use leptos::prelude::*;
use lianxin_shared::OptionCode;
use lianxin_shared::rules::check::{self, Problem};

use crate::explain::Invalid;
use lianxin_shared::Field;
use lianxin_shared::rules::authority::Touch;

use super::{CaseScreen, field_value, label, options, part, time_of};
use crate::i18n::t;

/// Fields set differently on two devices: every value, who set it, and "use this".
#[component]
pub(super) fn Conflicts(s: CaseScreen) -> impl IntoView {
    let CaseScreen { ctx, case, .. } = s;
    let lang = ctx.lang;
    let set_field = move |field: &'static str, value: String| s.set_field(field, value);
    let conflicts = part(case, |c| c.conflicts.clone());

    view! {
            <section class="conflicts">
            {

                move || conflicts.get().unwrap_or_default().into_iter().map(|conflict| {
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
                }).collect_view()
            }
            </section>
    }
}
/// The vocabulary selects, the responsible unit and the one-line fields.
#[component]
pub(super) fn CoreFields(s: CaseScreen) -> impl IntoView {
    let CaseScreen { ctx, case, .. } = s;
    let lang = ctx.lang;
    // The number of people and the form are checked together (a collective visit is five or
    // more); a number that does not pass stays in its box, marked, and is not saved.
    let people_problem = RwSignal::new(None::<Problem>);
    let set_field = move |field: &'static str, value: String| {
        let (people, collective) = case.with_untracked(|c| {
            c.as_ref().map_or((String::new(), false), |c| {
                (
                    field_value(c, "people"),
                    c.form.code() == Some("collective"),
                )
            })
        });
        let checked = match field {
            "people" => check::people(&value, collective).map(|_| ()),
            "form" if !people.is_empty() => {
                check::people(&people, value == "collective").map(|_| ())
            }
            _ => Ok(()),
        };
        people_problem.set(checked.clone().err());
        if checked.is_ok() || field == "form" {
            s.set_field(field, value);
        }
    };
    let select_fields: [&'static str; 6] = [
        "channel",
        "form",
        "level",
        "source",
        "category",
        "matter_kind",
    ];
    let text_fields: [&'static str; 4] = ["reference", "people", "handler", "leader"];
    let fields = part(case, move |c| {
        let values: Vec<String> = select_fields
            .iter()
            .chain(text_fields.iter())
            .map(|f| field_value(c, f))
            .collect();
        (values, c.responsible_unit.as_ref().map(|u| u.to_string()))
    });

    view! {
            {
                move || fields.get().map(|(values, responsible)| {
                    view! {
                    <section class="fields">
                        {select_fields.into_iter().enumerate().map(|(i, field)| {
                            let current = values[i].clone();
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), field)}</span>
                                    <select name=field disabled=!ctx.may(Touch::Field(field)) on:change=move |ev| set_field(field, event_target_value(&ev))>
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
                            <select name="responsible_unit" disabled=!ctx.may(Touch::Field("responsible_unit")) on:change={
                                move |ev| set_field("responsible_unit", event_target_value(&ev))
                            }>
                                <option value="" prop:selected=responsible.is_none() disabled=true>"—"</option>
                                {ctx.directory.get_untracked().into_iter().map(|(uid, name)| {
                                    let selected = responsible.as_deref() == Some(uid.as_str());
                                    view! { <option value=uid prop:selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        {text_fields.into_iter().enumerate().map(|(i, field)| {
                            let current = values[select_fields.len() + i].clone();
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), field)}</span>
                                    <input name=field value=current disabled=!ctx.may(Touch::Field(field))
                                        aria-invalid=move || (field == "people" && people_problem.with(Option::is_some)).to_string()
                                        on:change=move |ev| set_field(field, event_target_value(&ev))/>
                                    {(field == "people").then(|| view! { <Invalid lang problem=people_problem/> })}
                                </label>
                            }
                        }).collect_view()}
                    </section>
                }})
            }
    }
}
