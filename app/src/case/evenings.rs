//! The seven-evenings plan 七晚工作法: the run at a glance, the log, the outcome.

use leptos::prelude::*;
use lianxin_shared::fieldwork;
use lianxin_shared::{EveningLogDraft, EveningOutcome, OptionCode};

use super::{CaseScreen, edit, editor, kept, part, some_text};
use crate::i18n::{Lang, t};

/// The run (seven cells), its logs, its outcome, and the forms to start and log.
#[component]
pub(super) fn Evenings(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let set_field = move |field: &'static str, value: String| s.set_field(field, value);
    let evenings = part(case, |c| {
        (
            c.evening_starts.clone(),
            c.evening_logs.clone(),
            c.evening_outcome.code().map(str::to_string),
            c.evening_plan(),
        )
    });
    // Seven evenings.
    let plan_on = RwSignal::new(crate::today().to_string());
    let plan_visitors = RwSignal::new(String::new());
    let start_plan = {
        move |_| {
            let ed = editor(ctx);
            let on = match plan_on.get_untracked().parse::<lianxin_shared::Date>() {
                Ok(on) => on,
                Err(e) => return error.set(Some(e.to_string())),
            };
            let visitors = plan_visitors.get_untracked();
            if edit(&id.get_value(), error, |c| {
                c.start_evenings(&ed, on, &visitors).map(|_| ())
            }) {
                plan_visitors.set(String::new());
            }
        }
    };
    let evening = EveningForm::new(&id.get_value());
    let log_evening = {
        move |_| {
            let ed = editor(ctx);
            let draft = match evening.draft() {
                Ok(d) => d,
                Err(e) => return error.set(Some(e)),
            };
            if edit(&id.get_value(), error, |c| {
                c.log_evening(&ed, &draft).map(|_| ())
            }) {
                evening.clear();
            }
        }
    };

    view! {
            <section class="evenings" data-testid="evenings">
                <h3>{move || t(lang.get(), "seven_evenings")}</h3>
                {

                    move || evenings.get().and_then(|(starts, logs, outcome, plan)| {
                        let plan = plan?;
                        let run = fieldwork::evening_run(&plan, crate::today())?;
                        let visitors = starts.last().map(|s| s.visitors.clone()).unwrap_or_default();
                        let l = lang.get();
                        Some(view! {
                            <p class="run-head">
                                <strong data-testid="evening-progress">{format!("{}/{}", run.progress, fieldwork::EVENINGS)}</strong>
                                {format!(" · {} {} · {}", t(l, "start"), run.start, visitors)}
                                {(run.restarts > 0).then(|| format!(" · {} {}", t(l, "restarts"), run.restarts))}
                            </p>
                            {run.broken_on.map(|d| view! { <p class="broken" data-testid="evening-broken">{format!("{} {d}", t(l, "run_broken"))}</p> })}
                            {run.complete.then(|| view! { <p class="complete">{t(l, "run_complete")}</p> })}
                            <ol class="run" data-testid="evening-run">
                                {run.evenings.iter().enumerate().map(|(i, e)| {
                                    let day = run.start.add_days(i as i32);
                                    let (class, word) = match e {
                                        fieldwork::Evening::Held => ("held", "held"),
                                        fieldwork::Evening::Missed => ("missed", "missed"),
                                        fieldwork::Evening::Tonight => ("tonight", "tonight"),
                                        fieldwork::Evening::Ahead => ("ahead", "ahead"),
                                    };
                                    let (_, m, d) = day.ymd();
                                    view! {
                                        <li class=class data-evening=class>
                                            <span class="n">{format!("{}", i + 1)}</span>
                                            <span class="day">{format!("{m}/{d}")}</span>
                                            <span class="word">{t(l, word)}</span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                            <ul class="evening-logs" data-testid="evening-logs">
                                {logs.into_iter().rev().map(|g| {
                                    let extra: Vec<String> = [("time", &g.time), ("attitude", &g.attitude), ("agreement", &g.agreement)]
                                        .into_iter()
                                        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{}：{v}", t(l, k))))
                                        .collect();
                                    view! {
                                        <li>
                                            <div>{format!("{} {} — {} {}", g.on, t(l, if g.held { "held" } else { "missed" }), g.by, g.talk)}</div>
                                            <div class="meta">{extra.join(" · ")}</div>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <label class="outcome">
                                <span>{t(l, "evening_outcome")}</span>
                                <select name="evening-outcome" on:change=move |ev| set_field("evening_outcome", event_target_value(&ev))>
                                    <option value="" prop:selected=outcome.is_none() disabled=true>"—"</option>
                                    {EveningOutcome::ALL.iter().map(|o| {
                                        let selected = outcome.as_deref() == Some(o.code());
                                        view! { <option value=o.code() prop:selected=selected>{crate::i18n::vocab_label(o, l)}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                        })
                    })
                }
                <Show when=move || evenings.with(|e| e.as_ref().is_some_and(|e| e.3.is_some()))>
                    <EveningFields lang form=evening/>
                    <button data-testid="log-evening" on:click=log_evening>{move || t(lang.get(), "log_evening")}</button>
                </Show>
                <div class="tools">
                    <input name="plan-on" type="date" prop:value=plan_on on:input=move |ev| plan_on.set(event_target_value(&ev))/>
                    <input name="plan-visitors" placeholder=move || t(lang.get(), "visitors") prop:value=plan_visitors
                        on:input=move |ev| plan_visitors.set(event_target_value(&ev))/>
                    <button data-testid="start-evenings" on:click=start_plan>
                        {move || t(lang.get(), if evenings.with(|e| e.as_ref().is_some_and(|e| e.3.is_some())) { "restart_evenings" } else { "start_evenings" })}
                    </button>
                </div>
            <crate::explain::Refusal lang error/>
            </section>
    }
}

/// The evening log form.
#[derive(Clone, Copy)]
struct EveningForm {
    on: RwSignal<String>,
    held: RwSignal<bool>,
    talk: RwSignal<String>,
    /// time, attitude, agreement
    rest: [RwSignal<String>; 3],
}

const EVENING_FIELDS: [&str; 3] = ["time", "attitude", "agreement"];

impl EveningForm {
    fn new(case: &str) -> Self {
        EveningForm {
            on: RwSignal::new(crate::today().to_string()),
            held: RwSignal::new(true),
            talk: kept(format!("{case}.evening")),
            rest: [(); 3].map(|_| RwSignal::new(String::new())),
        }
    }

    fn draft(&self) -> Result<EveningLogDraft, String> {
        let on: lianxin_shared::Date = self
            .on
            .get_untracked()
            .parse()
            .map_err(|e: lianxin_shared::Error| e.to_string())?;
        let [time, attitude, agreement] = self.rest.map(|s| some_text(s.get_untracked()));
        Ok(EveningLogDraft {
            on: Some(on),
            held: self.held.get_untracked(),
            time,
            talk: self.talk.get_untracked(),
            attitude,
            agreement,
        })
    }

    fn clear(&self) {
        self.talk.set(String::new());
        self.rest.iter().for_each(|s| s.set(String::new()));
    }
}

#[component]
fn EveningFields(lang: RwSignal<Lang>, form: EveningForm) -> impl IntoView {
    view! {
        <div class="fields evening-form">
            <label><span>{move || t(lang.get(), "date")}</span>
                <input name="evening-on" type="date" prop:value=form.on on:input=move |ev| form.on.set(event_target_value(&ev))/>
            </label>
            <label><span>{move || t(lang.get(), "held_or_missed")}</span>
                <select name="evening-held" on:change=move |ev| form.held.set(event_target_value(&ev) == "held")>
                    <option value="held" prop:selected=move || form.held.get()>{move || t(lang.get(), "held")}</option>
                    <option value="missed" prop:selected=move || !form.held.get()>{move || t(lang.get(), "missed")}</option>
                </select>
            </label>
            {EVENING_FIELDS.into_iter().zip(form.rest).map(|(key, sig)| view! {
                <label><span>{move || t(lang.get(), key)}</span>
                    <input name=format!("evening-{key}") prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                </label>
            }).collect_view()}
        </div>
        <textarea name="evening-talk" placeholder=move || t(lang.get(), "talk") prop:value=form.talk on:input=move |ev| form.talk.set(event_target_value(&ev))></textarea>
    }
}
