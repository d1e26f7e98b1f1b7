//! Support and closure: hardship aid, public evaluation hearings and the evaluation.

use leptos::prelude::*;
use lianxin_shared::rules::authority::Touch;
use lianxin_shared::{AidDraft, HearingDraft, Satisfaction};

use super::{CaseScreen, edit, editor, part, sat_label, some_text};
use crate::i18n::t;

/// Hardship aid 信访救助: amount, reason, approval, paid.
#[component]
pub(super) fn AidSection(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let aid = part(case, |c| c.aid.clone());
    // Hardship aid and hearings.
    let aid_form = [(); 5].map(|_| RwSignal::new(String::new()));
    let add_aid = move |_| {
        let ed = editor(ctx);
        let [amount, reason, approved_by, approved_on, paid_on] =
            aid_form.map(|s| s.get_untracked());
        let date = |t: String| -> Result<Option<lianxin_shared::Date>, String> {
            some_text(t)
                .map(|t| t.parse().map_err(|e: lianxin_shared::Error| e.to_string()))
                .transpose()
        };
        let draft = (|| -> Result<AidDraft, String> {
            Ok(AidDraft {
                amount: amount
                    .trim()
                    .parse()
                    .map_err(|_| t(lang.get_untracked(), "amount_needed").to_string())?,
                reason,
                approved_by,
                approved_on: date(approved_on)?,
                paid_on: date(paid_on)?,
            })
        })();
        match draft {
            Ok(draft) => {
                if edit(&id.get_value(), error, |c| {
                    c.add_aid(&ed, &draft).map(|_| ())
                }) {
                    aid_form.iter().for_each(|s| s.set(String::new()));
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let mark_paid = move |aid_id: lianxin_shared::EntryId| {
        let ed = editor(ctx);
        edit(&id.get_value(), error, |c| {
            c.set_aid_paid(&ed, &aid_id, crate::today())
        });
    };
    view! {
            <section data-testid="aid">
                <h3>{move || t(lang.get(), "aid")}</h3>
                <ul class="aid-list">
                    {move || aid.get().unwrap_or_default().into_iter().map(|a| {
                        let l = lang.get();
                        let aid_id = a.id.clone();
                        view! {
                            <li data-aid=a.id.to_string()>
                                {format!("{} {} — {} · {} {}", a.amount, t(l, "yuan"), a.reason, t(l, "approved_by"), a.approved_by)}
                                {a.approved_on.map(|d| format!(" · {} {d}", t(l, "approved_on")))}
                                {match a.paid_on {
                                    Some(d) => view! { <span class="paid">{format!(" · {} {d}", t(l, "paid_on"))}</span> }.into_any(),
                                    None if ctx.may(Touch::Entry { list: "aid", kind: None }) => view! { <button class="plain" on:click=move |_| mark_paid(aid_id.clone())>{t(l, "mark_paid")}</button> }.into_any(),
                                    None => ().into_any(),
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <Show when=move || ctx.may(Touch::Entry { list: "aid", kind: None })>
                <div class="fields">
                    {["amount", "aid_reason", "approved_by", "approved_on", "paid_on"].into_iter().zip(aid_form).map(|(key, sig)| {
                        let kind = match key { "amount" => "number", "approved_on" | "paid_on" => "date", _ => "text" };
                        view! {
                            <label><span>{move || t(lang.get(), key)}</span>
                                <input name=format!("aid-{key}") type=kind prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                            </label>
                        }
                    }).collect_view()}
                </div>
                <button data-testid="add-aid" on:click=add_aid>{move || t(lang.get(), "add_aid")}</button>
                </Show>
            <crate::explain::Refusal lang error/>
            </section>
    }
}
/// Public evaluation hearings 群众评议/听证.
#[component]
pub(super) fn Hearings(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let hearings = part(case, |c| c.hearings.clone());
    let hearing_form = [(); 3].map(|_| RwSignal::new(String::new()));
    hearing_form[0].set(crate::today().to_string());
    let add_hearing = move |_| {
        let ed = editor(ctx);
        let [on, participants, conclusion] = hearing_form.map(|s| s.get_untracked());
        let on = match on.parse::<lianxin_shared::Date>() {
            Ok(on) => on,
            Err(e) => return error.set(Some(e.to_string())),
        };
        let draft = HearingDraft {
            on: Some(on),
            participants,
            conclusion,
        };
        if edit(&id.get_value(), error, |c| {
            c.add_hearing(&ed, &draft).map(|_| ())
        }) {
            hearing_form[1].set(String::new());
            hearing_form[2].set(String::new());
        }
    };

    view! {
            <section data-testid="hearings">
                <h3>{move || t(lang.get(), "hearings")}</h3>
                <ul>
                    {move || hearings.get().unwrap_or_default().into_iter().map(|h| {
                        let l = lang.get();
                        view! {
                            <li>
                                <div>{format!("{} {}：{}", h.on, t(l, "conclusion"), h.conclusion)}</div>
                                <div class="meta">{format!("{}：{} — {}", t(l, "participants"), h.participants, h.by)}</div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <div class="fields">
                    {["date", "participants", "conclusion"].into_iter().zip(hearing_form).map(|(key, sig)| {
                        let kind = if key == "date" { "date" } else { "text" };
                        view! {
                            <label><span>{move || t(lang.get(), key)}</span>
                                <input name=format!("hearing-{key}") type=kind prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                            </label>
                        }
                    }).collect_view()}
                </div>
                <button data-testid="add-hearing" on:click=add_hearing>{move || t(lang.get(), "add_hearing")}</button>
            <crate::explain::Refusal lang error/>
            </section>
    }
}
/// The petitioner's evaluation of the office and of the unit; the latest counts.
#[component]
pub(super) fn EvaluationSection(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let evaluations = part(case, |c| c.evaluations.clone());
    // Evaluation.
    let eval_office = RwSignal::new("satisfied".to_string());
    let eval_unit = RwSignal::new("satisfied".to_string());
    let evaluate = {
        move |_| {
            let ed = editor(ctx);
            let parsed = Satisfaction::parse(&eval_office.get_untracked())
                .and_then(|o| Ok((o, Satisfaction::parse(&eval_unit.get_untracked())?)));
            match parsed {
                Ok((office, unit)) => {
                    edit(&id.get_value(), error, |c| {
                        c.evaluate(&ed, crate::today(), office, unit).map(|_| ())
                    });
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    };

    view! {
            <section data-testid="evaluation">
                <h3>{move || t(lang.get(), "evaluation")}</h3>
                <p data-testid="evaluation-latest">{move || {
                    let l = lang.get();
                    evaluations.get().unwrap_or_default().last().map(|e| {
                        format!("{} {}：{} · {}：{} — {}", e.on, t(l, "eval_office"), sat_label(e.office.code(), l), t(l, "eval_unit"), sat_label(e.unit.code(), l), e.by)
                    }).unwrap_or_else(|| t(l, "not_evaluated").to_string())
                }}</p>
                <Show when=move || ctx.may(Touch::Entry { list: "evaluations", kind: None })>
                <div class="tools">
                    {[("eval-office", "eval_office", eval_office), ("eval-unit", "eval_unit", eval_unit)].into_iter().map(|(name, word, sig)| view! {
                        <label class="inline">
                            <span>{move || t(lang.get(), word)}</span>
                            <select name=name on:change=move |ev| sig.set(event_target_value(&ev))>
                                {Satisfaction::ALL.iter().map(|s| {
                                    let s = *s;
                                    view! { <option value=s.code() prop:selected=move || sig.get() == s.code()>{move || crate::i18n::vocab_label(s, lang.get())}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }).collect_view()}
                    <button data-testid="evaluate" on:click=evaluate>{move || t(lang.get(), "record_evaluation")}</button>
                </div>
                </Show>
            <crate::explain::Refusal lang error/>
            </section>
    }
}
