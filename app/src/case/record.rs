//! What was done on a case: notes, lifecycle steps and follow-up visits.

use leptos::prelude::*;
use lianxin_shared::{FollowUpDraft, StepDraft};

use super::{CaseScreen, edit, editor, kept, label_step, part, some_text};
use crate::i18n::{Lang, t};

/// The notes 工作记录: each with who wrote it, when and on which device; notes written on two
/// tablets at once are both kept. Notes from before notes had authors show above, as they were.
#[component]
pub(super) fn Notes(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let notes = part(case, |c| (c.notes.clone(), c.note_entries.clone()));
    let here = crate::with_engine(|e| e.actor.to_hex_string()).unwrap_or_default();
    let note = kept(format!("{}.note", id.get_value()));
    let add_note = {
        move |_| {
            let ed = editor(ctx);
            let text = note.get_untracked();
            if edit(&id.get_value(), error, |c| {
                c.add_note(&ed, &text).map(|_| ())
            }) {
                note.set(String::new());
            }
        }
    };

    view! {
            <section>
                <h3>{move || t(lang.get(), "notes")}</h3>
                <div class="notes" data-testid="notes">
                    {move || {
                        let (earlier, entries) = notes.get().unwrap_or_default();
                        let here = here.clone();
                        view! {
                            {(!earlier.is_empty()).then(|| view! { <pre class="earlier-notes">{earlier}</pre> })}
                            <ul class="note-entries">
                                {entries.into_iter().map(|n| {
                                    let device = if n.device == here { t(lang.get(), "this_device").to_string() }
                                        else { format!("{} {}", t(lang.get(), "device"), n.device.get(..6).unwrap_or(&n.device)) };
                                    view! {
                                        <li data-note=n.id.to_string()>
                                            <p>{n.text}</p>
                                            <span class="meta">{format!("{} · {} · {device}", n.by, super::time_of(n.at))}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                    }}
                </div>
                <textarea name="note" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                <button data-testid="add-note" on:click=add_note>{move || t(lang.get(), "add_note")}</button>
                <crate::explain::Refusal lang error/>
            </section>
    }
}
/// How far before the case was entered its 登记 step may be dated.
const REGISTER_BACK_DAYS: i32 = 60;

/// The lifecycle steps, and the form to record one.
#[component]
pub(super) fn Steps(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let steps = part(case, |c| c.steps.clone());
    // The day the matter was received (its 登记 step, else the day it was made): no step
    // before it. And the steps the rules flag, with why.
    let received = part(case, super::received_on);
    let irregular = part(case, |c| {
        let calendar = crate::with_engine(|e| e.calendar.clone()).unwrap_or_default();
        lianxin_shared::rules::lifecycle(
            &c.live_steps(),
            c.received(),
            &lianxin_shared::rules::Limits::default(),
            &calendar,
        )
        .irregularities
    });
    let date_problem = RwSignal::new(None::<lianxin_shared::rules::check::Problem>);
    // Lifecycle steps.
    // Only the steps this role may record are offered (the server's rule).
    let allowed_steps: Vec<lianxin_shared::StepKind> = lianxin_shared::StepKind::ALL
        .iter()
        .copied()
        .filter(|k| {
            ctx.may(lianxin_shared::rules::authority::Touch::Entry {
                list: "steps",
                kind: Some(k.code()),
            })
        })
        .collect();
    let step_kind = RwSignal::new(
        allowed_steps
            .first()
            .map(|k| k.code().to_string())
            .unwrap_or_default(),
    );
    let may_step = !allowed_steps.is_empty();
    let step_on = RwSignal::new(crate::today().to_string());
    let step_reason = RwSignal::new(String::new());
    let step_outcome = RwSignal::new(String::new());
    let add_step = {
        move |_| {
            let ed = editor(ctx);
            // The 登记 step itself may be dated a little before the case was entered on the
            // tablet (a letter entered late): up to REGISTER_BACK_DAYS; every other step not
            // before the 登记 day.
            let registering =
                step_kind.get_untracked() == lianxin_shared::StepKind::Registered.code();
            let first = received.get_untracked().unwrap_or_else(crate::today);
            let first = if registering {
                first.add_days(-REGISTER_BACK_DAYS)
            } else {
                first
            };
            let on = match lianxin_shared::rules::check::entry_date(
                &step_on.get_untracked(),
                first,
                crate::today(),
            ) {
                Ok(on) => on,
                Err(p) => return date_problem.set(Some(p)),
            };
            date_problem.set(None);
            let draft = (|| -> Result<StepDraft, lianxin_shared::Error> {
                let reason = step_reason.get_untracked();
                let outcome = step_outcome.get_untracked();
                Ok(StepDraft {
                    kind: lianxin_shared::StepKind::parse(&step_kind.get_untracked())?,
                    on,
                    reason: (!reason.trim().is_empty()).then_some(reason),
                    outcome: (!outcome.is_empty()).then_some(outcome),
                })
            })();
            match draft {
                Ok(draft) => {
                    if edit(&id.get_value(), error, |c| {
                        c.add_step(&ed, &draft).map(|_| ())
                    }) {
                        step_reason.set(String::new());
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        }
    };

    // A wrong step is withdrawn, with the reason typed in the reason box.
    let withdraw = move |step: lianxin_shared::EntryId| {
        let ed = editor(ctx);
        let reason = step_reason.get_untracked();
        if edit(&id.get_value(), error, |c| {
            c.withdraw_step(&ed, &step, &reason).map(|_| ())
        }) {
            step_reason.set(String::new());
        }
    };

    view! {
            <section>
                <h3>{move || t(lang.get(), "steps")}</h3>
                <ul class="steps" data-testid="steps">
                    {move || steps.get().unwrap_or_default().into_iter().map(|s| {
                        let l = lang.get();
                        let outcome = s.outcome.as_ref().and_then(|o| o.known())
                            .map(|o| format!(" · {}：{}", t(l, "outcome"), crate::i18n::vocab_label(o, l)))
                            .unwrap_or_default();
                        let text = format!("{} {}{outcome} — {}{}", s.on, label_step(s.kind.code(), l), s.by,
                            s.reason.as_ref().map(|r| format!("（{r}）")).unwrap_or_default());
                        let flagged: Vec<String> = irregular.get().unwrap_or_default().into_iter()
                            .filter(|i| i.step == s.id.to_string())
                            .map(|i| match l {
                                Lang::Zh => crate::explain::reason_zh(&i.reason).unwrap_or("该步骤不合规程").to_string(),
                                Lang::En => i.reason.clone(),
                            })
                            .collect();
                        let flag = (!flagged.is_empty()).then(|| view! {
                            <span class="irregular" data-testid="irregular">{format!(" ⚠ {}", flagged.join("；"))}</span>
                        });
                        let may_withdraw = s.withdrawn.is_none() && ctx.may(lianxin_shared::rules::authority::Touch::Entry {
                            list: "withdrawals",
                            kind: Some(s.kind.code()),
                        });
                        let step_id = s.id.clone();
                        match s.withdrawn {
                            Some(w) => view! {
                                <li class="withdrawn" data-step=s.kind.code().to_string() data-withdrawn="true">
                                    <s>{text}</s>
                                    <span class="meta">{format!(" {} {}（{}）", t(l, "withdrawn_by"), w.by, w.reason)}</span>
                                </li>
                            }.into_any(),
                            None => view! {
                                <li data-step=s.kind.code().to_string()>
                                    {text}
                                    {flag}
                                    {may_withdraw.then(|| view! {
                                        <button class="plain" data-testid="withdraw-step" on:click=move |_| withdraw(step_id.clone())>
                                            {t(l, "withdraw")}
                                        </button>
                                    })}
                                </li>
                            }.into_any(),
                        }
                    }).collect_view()}
                </ul>
                <Show when=move || may_step>
                <div class="tools">
                    <select name="step-kind" on:change=move |ev| step_kind.set(event_target_value(&ev))>
                        {allowed_steps.iter().map(|k| {
                            let k = *k;
                            view! { <option value=k.code() prop:selected=move || step_kind.get() == k.code()>{move || crate::i18n::vocab_label(k, lang.get())}</option> }
                        }).collect_view()}
                    </select>
                    <span class="field-with-problem">
                        <input name="step-on" type="date" prop:value=step_on aria-invalid=move || date_problem.with(Option::is_some).to_string()
                            on:input=move |ev| { step_on.set(event_target_value(&ev)); date_problem.set(None); }/>
                        <crate::explain::Invalid lang problem=date_problem/>
                    </span>
                    <input name="step-reason" placeholder=move || t(lang.get(), "reason") prop:value=step_reason
                        on:input=move |ev| step_reason.set(event_target_value(&ev))/>
                    <select name="step-outcome" on:change=move |ev| step_outcome.set(event_target_value(&ev))>
                        <option value="">{move || t(lang.get(), "no_outcome")}</option>
                        {lianxin_shared::Outcome::ALL.iter().map(|o| {
                            let o = *o;
                            view! { <option value=o.code()>{move || crate::i18n::vocab_label(o, lang.get())}</option> }
                        }).collect_view()}
                    </select>
                    <button data-testid="add-step" on:click=add_step>{move || t(lang.get(), "add_step")}</button>
                </div>
                </Show>
            <crate::explain::Refusal lang error/>
            </section>
    }
}
/// Follow-up visits with every field DOMAIN.md lists.
#[component]
pub(super) fn FollowUps(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let follow_ups = part(case, |c| c.follow_ups.clone());
    let received = part(case, super::received_on);
    // The follow-up visit form: every field DOMAIN.md lists.
    let visit = VisitForm::new(&id.get_value());
    let add_visit = {
        move |_| {
            let ed = editor(ctx);
            let first = received.get_untracked().unwrap_or_else(crate::today);
            let Some(draft) = visit.draft(first) else {
                return;
            };
            if edit(&id.get_value(), error, |c| {
                c.add_follow_up(&ed, &draft).map(|_| ())
            }) {
                visit.clear();
            }
        }
    };

    view! {
            <section>
                <h3>{move || t(lang.get(), "follow_ups")}</h3>
                <ul class="follow-ups" data-testid="follow-ups">
                    {move || follow_ups.get().unwrap_or_default().into_iter().map(|f| {
                        let l = lang.get();
                        let extra: Vec<String> = [("visitors", &f.visitors), ("met", &f.met), ("attitude", &f.attitude), ("visit_outcome", &f.outcome), ("next_step", &f.next_step)]
                            .into_iter()
                            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{}：{v}", t(l, k))))
                            .collect();
                        view! {
                            <li data-follow-up=f.id.to_string()>
                                <div>{format!("{} {} — {} {}", f.on, f.text, f.by, f.place.clone().unwrap_or_default())}</div>
                                <div class="meta">{extra.join(" · ")}</div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <VisitFields lang form=visit/>
                <button data-testid="add-follow-up" on:click=add_visit>{move || t(lang.get(), "add_follow_up")}</button>
            <crate::explain::Refusal lang error/>
            </section>
    }
}

/// The follow-up visit form's fields, kept while the case re-renders.
#[derive(Clone, Copy)]
struct VisitForm {
    on: RwSignal<String>,
    /// What is wrong with the date, shown under it.
    on_problem: RwSignal<Option<lianxin_shared::rules::check::Problem>>,
    text: RwSignal<String>,
    /// place, time, visitors, met, attitude, outcome, next step
    rest: [RwSignal<String>; 7],
}

const VISIT_FIELDS: [&str; 7] = [
    "place",
    "time",
    "visitors",
    "met",
    "attitude",
    "visit_outcome",
    "next_step",
];

impl VisitForm {
    fn new(case: &str) -> Self {
        VisitForm {
            on: RwSignal::new(crate::today().to_string()),
            on_problem: RwSignal::new(None),
            text: kept(format!("{case}.visit")),
            rest: [(); 7].map(|_| RwSignal::new(String::new())),
        }
    }

    /// The visit as typed, once its date passes: not before `received`, not after tomorrow.
    fn draft(&self, received: lianxin_shared::Date) -> Option<FollowUpDraft> {
        let checked = lianxin_shared::rules::check::entry_date(
            &self.on.get_untracked(),
            received,
            crate::today(),
        );
        self.on_problem.set(checked.clone().err());
        let on = checked.ok()?;
        let [place, time, visitors, met, attitude, outcome, next_step] =
            self.rest.map(|s| some_text(s.get_untracked()));
        // The time of the visit is kept with the place ("14:30 · 王庄村"): the entry has no
        // separate time of day.
        let place = match (time, place) {
            (Some(t), Some(p)) => Some(format!("{t} · {p}")),
            (t, p) => t.or(p),
        };
        Some(FollowUpDraft {
            on: Some(on),
            text: self.text.get_untracked(),
            place,
            visitors,
            met,
            attitude,
            outcome,
            next_step,
        })
    }

    fn clear(&self) {
        self.text.set(String::new());
        self.rest.iter().for_each(|s| s.set(String::new()));
    }
}

#[component]
fn VisitFields(lang: RwSignal<Lang>, form: VisitForm) -> impl IntoView {
    view! {
        <div class="fields visit-form">
            <label><span>{move || t(lang.get(), "date")}</span>
                <input name="visit-on" type="date" prop:value=form.on aria-invalid=move || form.on_problem.with(Option::is_some).to_string()
                    on:input=move |ev| { form.on.set(event_target_value(&ev)); form.on_problem.set(None); }/>
                <crate::explain::Invalid lang problem=form.on_problem/>
            </label>
            {VISIT_FIELDS.into_iter().zip(form.rest).map(|(key, sig)| view! {
                <label><span>{move || t(lang.get(), key)}</span>
                    <input name=format!("visit-{key}") prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                </label>
            }).collect_view()}
        </div>
        <textarea name="visit" placeholder=move || t(lang.get(), "visit_text") prop:value=form.text on:input=move |ev| form.text.set(event_target_value(&ev))></textarea>
    }
}
