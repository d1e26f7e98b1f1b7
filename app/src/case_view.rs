//! A case on screen: every core field editable, conflicts with both values and who set them,
//! petitioners, notes, lifecycle steps, follow-up visits, the seven-evenings plan, the leader's
//! package and 四定四包 with progress notes, joint handling, hardship aid, hearings and the
//! evaluation; and the new-case form. Each section re-renders only when its part of the case
//! changes.

use leptos::prelude::*;
use lianxin_shared::dispute::DisputeDoc;
use lianxin_shared::fieldwork;
use lianxin_shared::vocab::{Category, Channel, Form, Level, Source};
use lianxin_shared::{
    AidDraft, Case, CaseDoc, CaseDraft, Commitment, DocId, Editor, EveningLogDraft, EveningOutcome,
    Field, FollowUpDraft, FourRole, HearingDraft, PackageTask, Petitioner, Satisfaction, StepDraft,
    UnitId,
};

use crate::i18n::{Lang, t};
use crate::{Ctx, Row, with_engine};

fn editor(ctx: Ctx) -> Editor {
    Editor::new(&ctx.username.get_untracked(), js_sys::Date::now() as i64)
}

fn read_case(id: &str) -> Option<Case> {
    let id: DocId = id.parse().ok()?;
    with_engine(|e| e.read(id)).flatten()
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
        "matter_kind" => find!(lianxin_shared::MatterKind),
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
        "matter_kind" => lianxin_shared::MatterKind::ALL
            .iter()
            .map(|v| v.code())
            .collect(),
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
        "matter_kind" => case.matter_kind.clone(),
        "handler" => case.handler.clone(),
        "leader" => case.leader.clone(),
        _ => None,
    }
    .unwrap_or_default()
}

/// A part of the open case, as its own memo: a section re-renders only when its part
/// changes, so a colleague's note arriving leaves a half-typed field elsewhere alone.
fn part<T: Clone + PartialEq + Send + Sync + 'static>(
    case: Memo<Option<Case>>,
    f: impl Fn(&Case) -> T + Send + Sync + 'static,
) -> Memo<Option<T>> {
    Memo::new(move |_| case.with(|c| c.as_ref().map(&f)))
}

/// A long free text being typed (a note, what a visit discussed, an evening's talk), kept in
/// localStorage as it is typed, so a closed tab or a flat battery loses nothing not yet added.
/// Adding the entry clears it.
fn kept(key: String) -> RwSignal<String> {
    let key = format!("lianxin.draft.{key}");
    let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
    let start = storage
        .as_ref()
        .and_then(|s| s.get_item(&key).ok().flatten())
        .unwrap_or_default();
    let signal = RwSignal::new(start);
    Effect::new(move |_| {
        let text = signal.get();
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = if text.is_empty() {
                s.remove_item(&key)
            } else {
                s.set_item(&key, &text)
            };
        }
    });
    signal
}

fn some_text(s: String) -> Option<String> {
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
    let select_fields: [&'static str; 6] = [
        "channel",
        "form",
        "level",
        "source",
        "category",
        "matter_kind",
    ];
    let text_fields: [&'static str; 4] = ["reference", "people", "handler", "leader"];
    let head = Memo::new(move |_| {
        let l = lang.get();
        case.with(|c| {
            c.as_ref()
                .map(|c| (c.summary.clone(), lifecycle_line(c, l)))
        })
    });
    let conflicts = part(case, |c| c.conflicts.clone());
    let fields = part(case, move |c| {
        let values: Vec<String> = select_fields
            .iter()
            .chain(text_fields.iter())
            .map(|f| field_value(c, f))
            .collect();
        (values, c.responsible_unit.clone())
    });
    let petitioners = part(case, |c| c.petitioners.clone());
    let notes = part(case, |c| c.notes.clone());
    let steps = part(case, |c| c.steps.clone());
    let follow_ups = part(case, |c| c.follow_ups.clone());
    let evenings = part(case, |c| {
        (
            c.evening_starts.clone(),
            c.evening_logs.clone(),
            c.evening_outcome.clone(),
            c.evening_plan(),
        )
    });
    let evaluations = part(case, |c| c.evaluations.clone());
    let duty = part(case, |c| {
        (
            c.package_due,
            c.four_people.clone(),
            c.progress.clone(),
            c.assisting.clone(),
            c.responsible_unit.clone(),
        )
    });
    let aid = part(case, |c| c.aid.clone());
    let linked_dispute = part(case, |c| c.dispute.clone());
    let to_mediation = move |_| {
        let ed = editor(ctx);
        let Ok(case_id) = id.get_value().parse::<DocId>() else {
            return;
        };
        let made = with_engine(|e| {
            let actor = e.actor.clone();
            let dispute = e.edit(case_id, |c| match c {
                Some(c) => DisputeDoc::from_case(c, &ed, actor, lianxin_shared::Committee::Local),
                None => Err(lianxin_shared::Error::Protocol(
                    "no such case on this device".into(),
                )),
            })?;
            let dispute_id = dispute.read().map_err(|e| e.to_string())?.header.id;
            e.edit_dispute(dispute_id, |d| {
                *d = Some(dispute);
                Ok(())
            })?;
            Ok::<_, String>(dispute_id)
        });
        match made {
            Some(Ok(dispute_id)) => {
                ctx.selected.set(None);
                ctx.ledger.set(true);
                ctx.dispute.set(Some(dispute_id.to_string()));
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        }
    };
    let hearings = part(case, |c| c.hearings.clone());

    // Responsibility: progress notes, joint handling.
    let track = RwSignal::new(PackageTask::Investigate.code().to_string());
    let track_text = RwSignal::new(String::new());
    let track_done = RwSignal::new(false);
    let add_progress = move |_| {
        let ed = editor(ctx);
        let text = track_text.get_untracked();
        let ok = edit(&id.get_value(), error, |c| {
            c.add_progress(
                &ed,
                &track.get_untracked(),
                crate::today(),
                &text,
                track_done.get_untracked(),
            )
            .map(|_| ())
        });
        if ok {
            track_text.set(String::new());
            track_done.set(false);
        }
    };
    let set_assisting = move |unit: String, on: bool| {
        let ed = editor(ctx);
        match UnitId::new(&unit) {
            Ok(u) => {
                edit(&id.get_value(), error, |c| c.set_assisting(&ed, &u, on));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

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

    let set_field = {
        move |field: &'static str, value: String| {
            let Ok(f) = Field::parse(field) else { return };
            let ed = editor(ctx);
            edit(&id.get_value(), error, |c| c.set(f, &value, &ed));
        }
    };

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

    // Lifecycle steps.
    let step_kind = RwSignal::new("registered".to_string());
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

    // Petitioners.
    let new_p = [(); 4].map(|_| RwSignal::new(String::new()));
    let add_petitioner = {
        move |_| {
            let ed = editor(ctx);
            let [name, id_number, phone, address] = new_p.map(|s| s.get_untracked());
            let p = Petitioner {
                id: lianxin_shared::EntryId::random(),
                name: name.trim().to_string(),
                id_number: some_text(id_number),
                phone: some_text(phone),
                address: some_text(address),
            };
            if edit(&id.get_value(), error, |c| {
                c.add_petitioner(&ed, &p).map(|_| ())
            }) {
                new_p.iter().for_each(|s| s.set(String::new()));
            }
        }
    };
    let set_petitioner = {
        move |pid: lianxin_shared::EntryId, key: &'static str, value: String| {
            let ed = editor(ctx);
            edit(&id.get_value(), error, |c| {
                c.set_petitioner(&ed, &pid, key, &value)
            });
        }
    };

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
        <div class="case" data-testid="case">
            <button class="plain back" on:click=move |_| ctx.selected.set(None)>{move || t(lang.get(), "back")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
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
            {
                move || fields.get().map(|(values, responsible)| {
                    view! {
                    <section class="fields">
                        {select_fields.into_iter().enumerate().map(|(i, field)| {
                            let current = values[i].clone();
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
                                    <input name=field value=current on:change=move |ev| set_field(field, event_target_value(&ev))/>
                                </label>
                            }
                        }).collect_view()}
                    </section>
                }})
            }
            <section data-testid="petitioners">
                <h3>{move || t(lang.get(), "petitioners")}</h3>
                {
                    move || petitioners.get().unwrap_or_default().into_iter().enumerate().map(|(i, p)| {
                        view! {
                            <div class="fields petitioner" data-testid=format!("petitioner-{i}")>
                                {[("name", Some(p.name.clone())), ("id_number", p.id_number.clone()), ("phone", p.phone.clone()), ("address", p.address.clone())]
                                    .into_iter().map(|(key, value)| {
                                        let pid = p.id.clone();
                                        view! {
                                            <label>
                                                <span>{move || t(lang.get(), key)}</span>
                                                <input name=format!("p-{key}") value=value.unwrap_or_default()
                                                    on:change=move |ev| set_petitioner(pid.clone(), key, event_target_value(&ev))/>
                                            </label>
                                        }
                                    }).collect_view()}
                            </div>
                        }
                    }).collect_view()
                }
                <div class="fields new-petitioner">
                    {["name", "id_number", "phone", "address"].into_iter().zip(new_p).map(|(key, sig)| view! {
                        <label>
                            <span>{move || t(lang.get(), key)}</span>
                            <input name=format!("new-p-{key}") prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                        </label>
                    }).collect_view()}
                </div>
                <button data-testid="add-petitioner" on:click=add_petitioner>{move || t(lang.get(), "add_petitioner")}</button>
            </section>
            <section>
                <h3>{move || t(lang.get(), "notes")}</h3>
                <pre class="notes" data-testid="notes">{move || notes.get().unwrap_or_default()}</pre>
                <textarea name="note" prop:value=note on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                <button data-testid="add-note" on:click=add_note>{move || t(lang.get(), "add_note")}</button>
            </section>
            <section>
                <h3>{move || t(lang.get(), "steps")}</h3>
                <ul class="steps" data-testid="steps">
                    {move || steps.get().unwrap_or_default().into_iter().map(|s| view! {
                        <li data-step=s.kind.clone()>{format!("{} {} — {}{}", s.on, label_step(&s.kind, lang.get()), s.by,
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
                    <button data-testid="add-step" on:click=add_step>{move || t(lang.get(), "add_step")}</button>
                </div>
            </section>
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
                                        view! { <option value=o.code() prop:selected=selected>{if l == Lang::Zh { o.zh() } else { o.en() }}</option> }
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
            </section>
            <section data-testid="mediation">
                <h3>{move || t(lang.get(), "ledger")}</h3>
                {move || match linked_dispute.get().flatten() {
                    Some(d) => view! {
                        <button class="plain" data-testid="open-dispute" on:click=move |_| {
                            ctx.selected.set(None);
                            ctx.ledger.set(true);
                            ctx.dispute.set(Some(d.clone()));
                        }>{t(lang.get(), "open_dispute")}</button>
                    }.into_any(),
                    None => view! {
                        <button class="plain" data-testid="to-mediation" on:click=to_mediation>{t(lang.get(), "to_mediation")}</button>
                    }.into_any(),
                }}
            </section>
            <section class="duty" data-testid="responsibility">
                <h3>{move || t(lang.get(), "responsibility")}</h3>
                {move || duty.get().map(|(due, four, progress, assisting, lead)| {
                    let l = lang.get();
                    let notes_of = |code: &str| -> (usize, bool, String) {
                        let notes: Vec<&lianxin_shared::Progress> = progress.iter().filter(|p| p.track == code).collect();
                        let last = notes.last().map(|p| format!("{} {} — {}", p.on, p.text, p.by)).unwrap_or_default();
                        (notes.len(), notes.last().is_some_and(|p| p.done), last)
                    };
                    let row = |code: &'static str, name: &'static str| {
                        let (n, done, last) = notes_of(code);
                        view! {
                            <li data-track=code class=if done { "done" } else { "" }>
                                <strong>{name}</strong>
                                <span class="status">{if done { format!("✓ {}", t(l, "done")) } else if n > 0 { format!("{n} {}", t(l, "notes_count")) } else { "—".to_string() }}</span>
                                <span class="meta">{last}</span>
                            </li>
                        }
                    };
                    let directory = ctx.directory.get_untracked();
                    let name_of = move |u: &str| directory.iter().find(|d| d.0 == u).map(|d| d.1.clone()).unwrap_or_else(|| u.to_string());
                    view! {
                        <div class="fields">
                            <label>
                                <span>{t(l, "package_due")}</span>
                                <input name="package_due" type="date" value=due.map(|d| d.to_string()).unwrap_or_default()
                                    on:change=move |ev| set_field("package_due", event_target_value(&ev))/>
                            </label>
                        </div>
                        <h4>{t(l, "package_tasks")}</h4>
                        <ul class="tracks">{PackageTask::ALL.iter().map(|k| row(k.code(), if l == Lang::Zh { k.zh() } else { k.en() })).collect_view()}</ul>
                        <h4>{t(l, "four_packages")}</h4>
                        <div class="fields">
                            {FourRole::ALL.iter().enumerate().map(|(i, r)| {
                                let code = r.code();
                                let (n, _, last) = notes_of(code);
                                view! {
                                    <label data-role=code>
                                        <span>{if l == Lang::Zh { r.zh() } else { r.en() }}</span>
                                        <input name=code value=four[i].clone().unwrap_or_default() on:change=move |ev| set_field(code, event_target_value(&ev))/>
                                        <span class="meta">{if n > 0 { last } else { String::new() }}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <ul class="tracks">{Commitment::ALL.iter().map(|k| row(k.code(), if l == Lang::Zh { k.zh() } else { k.en() })).collect_view()}</ul>
                        <h4>{t(l, "joint_handling")}</h4>
                        <p data-testid="joint">
                            {format!("{}：{}", t(l, "lead_unit"), lead.as_deref().map(&name_of).unwrap_or_else(|| "—".into()))}
                        </p>
                        <ul class="assisting" data-testid="assisting">
                            {assisting.iter().map(|u| {
                                let unit = u.clone();
                                view! {
                                    <li data-unit=u.clone()>
                                        {name_of(u)}
                                        <button class="plain" on:click=move |_| set_assisting(unit.clone(), false)>{t(l, "remove")}</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <select name="add-assisting" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if !v.is_empty() { set_assisting(v, true); }
                        }>
                            <option value="" selected=true>{t(l, "add_assisting")}</option>
                            {ctx.directory.get_untracked().into_iter()
                                .filter(|(u, _)| lead.as_deref() != Some(u.as_str()) && !assisting.contains(u))
                                .map(|(u, name)| view! { <option value=u>{name}</option> }).collect_view()}
                        </select>
                    }
                })}
                <div class="tools">
                    <select name="track" on:change=move |ev| track.set(event_target_value(&ev))>
                        {move || {
                            let l = lang.get();
                            let word = |zh: &'static str, en: &'static str| if l == Lang::Zh { zh } else { en };
                            PackageTask::ALL.iter().map(|k| (k.code(), word(k.zh(), k.en())))
                                .chain(Commitment::ALL.iter().map(|k| (k.code(), word(k.zh(), k.en()))))
                                .chain(FourRole::ALL.iter().map(|k| (k.code(), word(k.zh(), k.en()))))
                                .map(|(code, name)| view! { <option value=code prop:selected=move || track.get_untracked() == code>{name}</option> })
                                .collect_view()
                        }}
                    </select>
                    <input name="track-text" placeholder=move || t(lang.get(), "progress_note") prop:value=track_text
                        on:input=move |ev| track_text.set(event_target_value(&ev))/>
                    <label class="inline">
                        <input name="track-done" type="checkbox" prop:checked=track_done on:change=move |ev| track_done.set(event_target_checked(&ev))/>
                        <span>{move || t(lang.get(), "done")}</span>
                    </label>
                    <button data-testid="add-progress" on:click=add_progress>{move || t(lang.get(), "add_progress")}</button>
                </div>
            </section>
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
                                    None => view! { <button class="plain" on:click=move |_| mark_paid(aid_id.clone())>{t(l, "mark_paid")}</button> }.into_any(),
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
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
            </section>
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
            </section>
            <section data-testid="evaluation">
                <h3>{move || t(lang.get(), "evaluation")}</h3>
                <p data-testid="evaluation-latest">{move || {
                    let l = lang.get();
                    evaluations.get().unwrap_or_default().last().map(|e| {
                        format!("{} {}：{} · {}：{} — {}", e.on, t(l, "eval_office"), sat_label(&e.office, l), t(l, "eval_unit"), sat_label(&e.unit, l), e.by)
                    }).unwrap_or_else(|| t(l, "not_evaluated").to_string())
                }}</p>
                <div class="tools">
                    {[("eval-office", "eval_office", eval_office), ("eval-unit", "eval_unit", eval_unit)].into_iter().map(|(name, word, sig)| view! {
                        <label class="inline">
                            <span>{move || t(lang.get(), word)}</span>
                            <select name=name on:change=move |ev| sig.set(event_target_value(&ev))>
                                {Satisfaction::ALL.iter().map(|s| {
                                    let s = *s;
                                    view! { <option value=s.code() prop:selected=move || sig.get() == s.code()>{move || if lang.get() == Lang::Zh { s.zh() } else { s.en() }}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }).collect_view()}
                    <button data-testid="evaluate" on:click=evaluate>{move || t(lang.get(), "record_evaluation")}</button>
                </div>
            </section>
            </Show>
        </div>
    }
}

fn sat_label(code: &str, lang: Lang) -> String {
    Satisfaction::parse(code)
        .map(|s| if lang == Lang::Zh { s.zh() } else { s.en() }.to_string())
        .unwrap_or_else(|_| code.to_string())
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

/// "办理中 · 期限 2027-01-22 · 黄牌", from the rules as of today.
fn lifecycle_line(case: &Case, lang: Lang) -> String {
    use lianxin_shared::rules::{self, Limits};
    let limits = Limits::default();
    let received = case.received();
    let calendar = with_engine(|e| e.calendar.clone()).unwrap_or_default();
    let life = rules::lifecycle(&case.steps, received, &limits, &calendar);
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
    let route = rules::route(case.matter_kind.as_deref(), case.category.as_deref())
        .map(|r| format!(" · → {}", if lang == Lang::Zh { r.zh() } else { r.en() }))
        .unwrap_or_default();
    format!(
        "{}{deadline} · {}{warnings}{route}",
        life.state.zh(),
        colour.zh()
    )
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

/// 重复信访: the earlier petitions of the same petitioner on the same matter (this one's
/// number among them) and the later ones, each a link; nothing for a first and only petition.
/// Worked out from the caseload rows, so it needs no other document.
#[component]
fn Repeats(ctx: Ctx, id: String, caseload: RwSignal<Vec<Row>>) -> impl IntoView {
    let lang = ctx.lang;
    let links = Memo::new(move |_| {
        caseload.with(|rows| {
            let linked = lianxin_shared::fieldwork::linked(rows.iter().map(|r| &r.matter), &id);
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
                        <li data-case=r.id.clone() on:click=move |_| ctx.selected.set(Some(id.clone()))>
                            <span class=format!("colour {}", r.colour.code())>{move || if lang.get() == Lang::Zh { r.state.zh() } else { r.state.en() }}</span>
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
