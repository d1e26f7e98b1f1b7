//! Who is responsible: the leader's package, 四定四包, joint handling, and mediation.

use leptos::prelude::*;
use lianxin_shared::rules::authority::Touch;

use crate::Screen;
use lianxin_shared::{Commitment, DisputeDoc, DocId, FourRole, PackageTask, UnitId};

use super::{CaseScreen, edit, editor, part};
use crate::i18n::t;
use crate::with_engine;

/// The package's due day and tasks, the four people and commitments, joint handling.
#[component]
pub(super) fn Responsibility(s: CaseScreen) -> impl IntoView {
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
    let duty = part(case, |c| {
        (
            c.package_due,
            c.four_people.clone(),
            c.progress.clone(),
            c.assisting
                .iter()
                .map(|u| u.to_string())
                .collect::<Vec<String>>(),
            c.responsible_unit.as_ref().map(|u| u.to_string()),
        )
    });
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

    view! {
            <section class="duty" data-testid="responsibility">
                <h3>{move || t(lang.get(), "responsibility")}</h3>
                <p class="hint">{move || t(lang.get(), "progress_hint")}</p>
                <div class="tools">
                    <select name="track" on:change=move |ev| track.set(event_target_value(&ev))>
                        {move || {
                            let l = lang.get();
                            // Grouped: 包化解 is both a package task and one of the four
                            // commitments, and says which.
                            let group = |key: &'static str, items: Vec<(&'static str, &'static str)>| view! {
                                <optgroup label=t(l, key)>
                                    {items.into_iter().map(|(code, name)| view! { <option value=code prop:selected=move || track.get_untracked() == code>{name}</option> }).collect_view()}
                                </optgroup>
                            };
                            view! {
                                {group("group_tasks", PackageTask::ALL.iter().map(|k| (k.code(), crate::i18n::vocab_label(*k, l))).collect())}
                                {group("group_commitments", Commitment::ALL.iter().map(|k| (k.code(), crate::i18n::vocab_label(*k, l))).collect())}
                                {group("group_four", FourRole::ALL.iter().map(|k| (k.code(), crate::i18n::vocab_label(*k, l))).collect())}
                            }
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
                                <input name="package_due" type="date" disabled=!ctx.may(Touch::Field("package_due")) value=due.map(|d| d.to_string()).unwrap_or_default()
                                    on:change=move |ev| set_field("package_due", event_target_value(&ev))/>
                            </label>
                        </div>
                        <h4>{t(l, "package_tasks")}</h4>
                        <ul class="tracks">{PackageTask::ALL.iter().map(|k| row(k.code(), crate::i18n::vocab_label(k, l))).collect_view()}</ul>
                        <h4>{t(l, "four_packages")}</h4>
                        <div class="fields">
                            {FourRole::ALL.iter().enumerate().map(|(i, r)| {
                                let code = r.code();
                                let (n, _, last) = notes_of(code);
                                view! {
                                    <label data-role=code>
                                        <span>{crate::i18n::vocab_label(r, l)}</span>
                                        <input name=code value=four[i].clone().unwrap_or_default() disabled=!ctx.may(Touch::Field("four_officer")) on:change=move |ev| set_field(code, event_target_value(&ev))/>
                                        <span class="meta">{if n > 0 { last } else { String::new() }}</span>
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                        <ul class="tracks">{Commitment::ALL.iter().map(|k| row(k.code(), crate::i18n::vocab_label(k, l))).collect_view()}</ul>
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
                                        {ctx.may(Touch::Set("assisting")).then(|| view! {
                                            <button class="plain" on:click=move |_| set_assisting(unit.clone(), false)>{t(l, "remove")}</button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <select name="add-assisting" disabled=!ctx.may(Touch::Set("assisting")) on:change=move |ev| {
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
            <crate::explain::Refusal lang error/>
            </section>
    }
}
/// The dispute this case became or came from, or "send to mediation".
#[component]
pub(super) fn MediationLink(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let linked_dispute = part(case, |c| c.dispute.map(|d| d.to_string()));
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
                ctx.replace(&[Screen::Ledger, Screen::Dispute(dispute_id.to_string())]);
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        }
    };
    view! {
            <section data-testid="mediation">
                <h3>{move || t(lang.get(), "ledger")}</h3>
                {move || match linked_dispute.get().flatten() {
                    Some(d) => view! {
                        <button class="plain" data-testid="open-dispute" on:click=move |_| {
                            ctx.replace(&[Screen::Ledger, Screen::Dispute(d.clone())]);
                        }>{t(lang.get(), "open_dispute")}</button>
                    }.into_any(),
                    None => view! {
                        <button class="plain" data-testid="to-mediation" on:click=to_mediation>{t(lang.get(), "to_mediation")}</button>
                    }.into_any(),
                }}
            <crate::explain::Refusal lang error/>
            </section>
    }
}
