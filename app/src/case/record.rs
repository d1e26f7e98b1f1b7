//! What was done on a case: notes, lifecycle steps and follow-up visits.

use leptos::prelude::*;
use lianxin_shared::{FollowUpDraft, StepDraft};

use super::{CaseScreen, edit, editor, kept, label_step, part, some_text};
use crate::i18n::{Lang, t};

/// The notes, appended paragraph by paragraph.
#[component]
pub(super) fn Notes(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error,
    } = s;
    let lang = ctx.lang;
    let notes = part(case, |c| c.notes.clone());
    // Notes.
    let note = kept(format!("{}.note", id.get_value()));
    let add_note = {
        move |_| {
            let ed = editor(ctx);
            let text = note.get_untracked();
            if edit(&id.get_value(), error, |c| c.append_note(&ed, &text)) {
                note.set(String::new());
            }
        }
    };

    view! {
            <section>
                <h3>{move || t(lang.get(), "notes")}</h3>
                <pre class="notes" data-testid="notes">{move || notes.get().unwrap_or_default()}</pre>
                <textarea name="note" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                <button data-testid="add-note" on:click=add_note>{move || t(lang.get(), "add_note")}</button>
            </section>
    }
}
/// The lifecycle steps, and the form to record one.
#[component]
pub(super) fn Steps(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error,
    } = s;
    let lang = ctx.lang;
    let steps = part(case, |c| c.steps.clone());
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
                        let text = format!("{} {} — {}{}", s.on, label_step(s.kind.code(), l), s.by,
                            s.reason.as_ref().map(|r| format!("（{r}）")).unwrap_or_default());
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
                    <input name="step-on" type="date" prop:value=step_on on:input=move |ev| step_on.set(event_target_value(&ev))/>
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
        error,
    } = s;
    let lang = ctx.lang;
    let follow_ups = part(case, |c| c.follow_ups.clone());
    // The follow-up visit form: every field DOMAIN.md lists.
    let visit = VisitForm::new(&id.get_value());
    let add_visit = {
        move |_| {
            let ed = editor(ctx);
            let draft = match visit.draft() {
                Ok(d) => d,
                Err(e) => return error.set(Some(e)),
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
            </section>
    }
}

/// The follow-up visit form's fields, kept while the case re-renders.
#[derive(Clone, Copy)]
struct VisitForm {
    on: RwSignal<String>,
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
            text: kept(format!("{case}.visit")),
            rest: [(); 7].map(|_| RwSignal::new(String::new())),
        }
    }

    fn draft(&self) -> Result<FollowUpDraft, String> {
        let on: lianxin_shared::Date = self
            .on
            .get_untracked()
            .parse()
            .map_err(|e: lianxin_shared::Error| e.to_string())?;
        let [place, time, visitors, met, attitude, outcome, next_step] =
            self.rest.map(|s| some_text(s.get_untracked()));
        // The time of the visit is kept with the place ("14:30 · 王庄村"): the entry has no
        // separate time of day.
        let place = match (time, place) {
            (Some(t), Some(p)) => Some(format!("{t} · {p}")),
            (t, p) => t.or(p),
        };
        Ok(FollowUpDraft {
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
                <input name="visit-on" type="date" prop:value=form.on on:input=move |ev| form.on.set(event_target_value(&ev))/>
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
