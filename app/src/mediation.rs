//! Mediation 矛盾纠纷排查化解: the ledger 台账 of disputes, a new dispute, and a dispute on
//! screen (parties, sessions, escalation up the levels with who and when, result, agreement,
//! turning it into a case).

use leptos::prelude::*;

use crate::Screen;
use lianxin_shared::{Code, DisputeDoc, DisputeDraft, OptionCode};
use lianxin_shared::{
    Committee, DocId, Editor, MediationKind, MediationLevel, MediationResult, UnitId,
};

use crate::i18n::{Lang, t};
use crate::{Ctx, with_engine};

/// One line of the ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerRow {
    pub id: String,
    pub summary: String,
    pub unit: String,
    pub committee: Option<Code<Committee>>,
    pub level: Option<Code<MediationLevel>>,
    pub result: Option<Code<MediationResult>>,
    pub sessions: usize,
    pub case: Option<String>,
}

fn editor(ctx: Ctx) -> Editor {
    Editor::new(&ctx.username.get_untracked(), js_sys::Date::now() as i64)
}

/// The label of the code of a vocabulary `T`, or the code itself when unknown.
fn word<T: lianxin_shared::Vocabulary>(code: &str, lang: Lang) -> String {
    T::from_code(code)
        .map(|v| crate::i18n::vocab_label(v, lang).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub fn level_label(code: &str, lang: Lang) -> String {
    word::<MediationLevel>(code, lang)
}

pub fn result_label(code: &str, lang: Lang) -> String {
    if code.is_empty() {
        return t(lang, "in_mediation").to_string();
    }
    word::<MediationResult>(code, lang)
}

pub fn committee_label(code: &str, lang: Lang) -> String {
    word::<Committee>(code, lang)
}

#[component]
pub fn Ledger(ctx: Ctx, disputes: RwSignal<Vec<LedgerRow>>) -> impl IntoView {
    let lang = ctx.lang;
    view! {
        <div class="tools">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2 class="board-title">{move || t(lang.get(), "ledger")}</h2>
            <button data-testid="new-dispute-button" on:click=move |_| ctx.go(Screen::NewDispute)>{move || t(lang.get(), "new_dispute")}</button>
        </div>
        <p class="count" data-testid="dispute-count">{move || crate::i18n::count(disputes.with(Vec::len), "disputes", lang.get())}</p>
        <ul class="cases" data-testid="ledger">
            <For each=move || disputes.get() key=|r| format!("{r:?}") let:row>
                <li data-dispute=row.id.clone() on:click={
                    let id = row.id.clone();
                    move |_| ctx.go(Screen::Dispute(id.clone()))
                }>
                    <span class=format!("colour {}", match row.result.known() { Some(MediationResult::Settled) => "green", Some(MediationResult::Escalated) => "yellow", _ => "blue" })>
                        {move || level_label(row.level.code().unwrap_or_default(), lang.get())}
                    </span>
                    <div>
                        <div class="summary">{row.summary.clone()}</div>
                        <div class="meta">{move || format!("{} · {} · {} · {} {}", row.unit, committee_label(row.committee.code().unwrap_or_default(), lang.get()),
                            result_label(row.result.code().unwrap_or_default(), lang.get()), row.sessions, t(lang.get(), "sessions_count"))}</div>
                    </div>
                    <div class="meta">{row.case.as_ref().map(|_| "→ 案件")}</div>
                </li>
            </For>
        </ul>
    }
}

#[component]
pub fn NewDispute(ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang;
    let unit = RwSignal::new(
        ctx.units
            .get_untracked()
            .first()
            .map(|u| u.0.clone())
            .unwrap_or_default(),
    );
    let committee = RwSignal::new("local".to_string());
    let summary = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        let ed = editor(ctx);
        let result = (|| -> Result<DocId, String> {
            let text = summary.get_untracked();
            if text.trim().is_empty() {
                return Err(t(lang.get_untracked(), "summary_needed").to_string());
            }
            let draft = DisputeDraft {
                id: DocId::random(),
                unit: UnitId::new(&unit.get_untracked()).map_err(|e| e.to_string())?,
                summary: text.trim().to_string(),
                kind: MediationKind::People,
                committee: Committee::parse(&committee.get_untracked())
                    .map_err(|e| e.to_string())?,
                level: MediationLevel::Group,
            };
            with_engine(|e| {
                let actor = e.actor.clone();
                e.edit_dispute(draft.id, |doc| {
                    *doc = Some(DisputeDoc::create(&draft, &ed, actor));
                    Ok(())
                })
            })
            .ok_or("not signed in")??;
            Ok(draft.id)
        })();
        match result {
            Ok(id) => {
                ctx.replace(&[Screen::Dispute(id.to_string())]);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="case new-case" data-testid="new-dispute">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2>{move || t(lang.get(), "new_dispute")}</h2>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            <section class="fields">
                <label><span>{move || t(lang.get(), "unit")}</span>
                    <select name="dispute-unit" on:change=move |ev| unit.set(event_target_value(&ev))>
                        {move || ctx.units.get().into_iter().map(|(id, name)| {
                            let selected = unit.get_untracked() == id;
                            view! { <option value=id selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label><span>{move || t(lang.get(), "committee")}</span>
                    <select name="dispute-committee" on:change=move |ev| committee.set(event_target_value(&ev))>
                        {Committee::ALL.iter().map(|c| {
                            let c = *c;
                            view! { <option value=c.code() selected=c == Committee::Local>{move || committee_label(c.code(), lang.get())}</option> }
                        }).collect_view()}
                    </select>
                </label>
            </section>
            <textarea name="dispute-summary" placeholder=move || t(lang.get(), "dispute_summary") prop:value=summary
                on:input=move |ev| summary.set(event_target_value(&ev))></textarea>
            <button data-testid="create-dispute" on:click=create>{move || t(lang.get(), "register")}</button>
        </div>
    }
}

#[component]
pub fn DisputeView(ctx: Ctx, id: String) -> impl IntoView {
    let lang = ctx.lang;
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(id);
    let dispute = Memo::new(move |_| {
        ctx.version.get();
        let doc_id: DocId = id.get_value().parse().ok()?;
        with_engine(|e| e.read_dispute(doc_id)).flatten()
    });
    let apply =
        move |f: &dyn Fn(&mut DisputeDoc, &Editor) -> Result<(), lianxin_shared::Error>| -> bool {
            let ed = editor(ctx);
            let Ok(doc_id) = id.get_value().parse::<DocId>() else {
                return false;
            };
            crate::show_outcome(
                error,
                with_engine(|e| {
                    e.edit_dispute(doc_id, |d| match d {
                        Some(d) => f(d, &ed),
                        None => Err(crate::not_here("dispute")),
                    })
                }),
            )
        };
    let party = RwSignal::new(String::new());
    let session_on = RwSignal::new(crate::today().to_string());
    let session_mediator = RwSignal::new(String::new());
    let session_text = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let add_party = move |_| {
        let name = party.get_untracked();
        if apply(&|d, ed| d.add_party(ed, &name, Some("当事人"), None).map(|_| ())) {
            party.set(String::new());
        }
    };
    let add_session = move |_| {
        let on = match session_on.get_untracked().parse::<lianxin_shared::Date>() {
            Ok(on) => on,
            Err(e) => return error.set(Some(e.to_string())),
        };
        let (m, text) = (
            session_mediator.get_untracked(),
            session_text.get_untracked(),
        );
        if apply(&|d, ed| d.add_session(ed, on, &m, &text).map(|_| ())) {
            session_text.set(String::new());
        }
    };
    let escalate = move |_| {
        let why = reason.get_untracked();
        if apply(&|d, ed| d.escalate(ed, crate::today(), &why).map(|_| ())) {
            reason.set(String::new());
        }
    };
    let to_case = move |_| {
        let ed = editor(ctx);
        let Ok(doc_id) = id.get_value().parse::<DocId>() else {
            return;
        };
        let others = with_engine(|e| e.unit_of(doc_id))
            .flatten()
            .map(|unit| crate::handling_others(ctx, &unit))
            .unwrap_or_default();
        let made = with_engine(|e| {
            let actor = e.actor.clone();
            let case = e.edit_dispute(doc_id, |d| match d {
                Some(d) => d.make_case(&ed, actor, &others),
                None => Err(lianxin_shared::Error::Protocol(
                    "no such dispute on this device".into(),
                )),
            })?;
            let case_id = case.0.id().map_err(|e| e.to_string())?;
            e.edit_with_details(case_id, |doc, details| {
                *doc = Some(case.0);
                *details = Some(case.1);
                Ok(())
            })?;
            Ok::<_, String>(case_id)
        });
        match made {
            Some(Ok(case_id)) => {
                ctx.replace(&[Screen::Case(case_id.to_string())]);
            }
            Some(Err(e)) => error.set(Some(e)),
            None => {}
        }
    };
    view! {
        <div class="case" data-testid="dispute">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            {move || dispute.get().map(|d| {
                let l = lang.get();
                let case = d.case.map(|c| c.to_string());
                view! {
                    <h2 data-testid="dispute-summary">{d.summary.clone()}</h2>
                    <p class="lifecycle" data-testid="dispute-status">
                        {format!("{} · {} · {}", level_label(d.level.code().unwrap_or(""), l),
                            committee_label(d.committee.code().unwrap_or(""), l),
                            result_label(d.result.code().unwrap_or(""), l))}
                    </p>
                    {case.map(|c| {
                        let target = c.clone();
                        view! {
                            <button class="plain" data-testid="open-linked-case" on:click=move |_| {
                                ctx.replace(&[Screen::Case(target.clone())]);
                            }>{t(l, "open_case")}</button>
                        }
                    })}
                    <section class="fields">
                        <label><span>{t(l, "mediator")}</span>
                            <input name="dispute-mediator" value=d.mediator.clone().unwrap_or_default()
                                on:change=move |ev| { let v = event_target_value(&ev); apply(&|x, ed| x.set("mediator", &v, ed)); }/>
                        </label>
                        <label><span>{t(l, "result")}</span>
                            <select name="dispute-result" on:change=move |ev| { let v = event_target_value(&ev); apply(&|x, ed| x.set("result", &v, ed)); }>
                                <option value="" prop:selected=d.result.is_none() disabled=true>{t(l, "in_mediation")}</option>
                                {MediationResult::ALL.iter().map(|r| {
                                    let selected = d.result.code() == Some(r.code());
                                    view! { <option value=r.code() prop:selected=selected>{result_label(r.code(), l)}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    </section>
                    <section>
                        <h3>{t(l, "parties")}</h3>
                        <ul data-testid="parties">
                            {d.parties.iter().map(|p| view! { <li>{format!("{} {}", p.name, party_role(p.role.as_deref().unwrap_or(""), l))}</li> }).collect_view()}
                        </ul>
                        <div class="tools">
                            <input name="party-name" placeholder=move || t(lang.get(), "party_name") prop:value=party on:input=move |ev| party.set(event_target_value(&ev))/>
                            <button data-testid="add-party" on:click=add_party>{move || t(lang.get(), "add_party")}</button>
                        </div>
                    </section>
                    <section>
                        <h3>{t(l, "sessions")}</h3>
                        <ul data-testid="sessions">
                            {d.sessions.iter().map(|s| view! { <li>{format!("{} {} — {}（{}）", s.on, s.text, s.mediator, s.by)}</li> }).collect_view()}
                        </ul>
                        <div class="tools">
                            <input name="session-on" type="date" prop:value=session_on on:input=move |ev| session_on.set(event_target_value(&ev))/>
                            <input name="session-mediator" placeholder=move || t(lang.get(), "mediator") prop:value=session_mediator on:input=move |ev| session_mediator.set(event_target_value(&ev))/>
                        </div>
                        <textarea name="session-text" placeholder=move || t(lang.get(), "session_text") prop:value=session_text on:input=move |ev| session_text.set(event_target_value(&ev))></textarea>
                        <button data-testid="add-session" on:click=add_session>{move || t(lang.get(), "add_session")}</button>
                    </section>
                    <section>
                        <h3>{t(l, "escalations")}</h3>
                        <ul data-testid="escalations">
                            {d.escalations.iter().map(|e| view! {
                                <li>{format!("{} {} → {} — {}：{}", e.on, level_label(e.from.code(), l), level_label(e.to.code(), l), e.by, e.reason)}</li>
                            }).collect_view()}
                        </ul>
                        <div class="tools">
                            <input name="escalate-reason" placeholder=move || t(lang.get(), "escalate_reason") prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))/>
                            <button data-testid="escalate" on:click=escalate>{move || t(lang.get(), "escalate")}</button>
                        </div>
                    </section>
                    <section>
                        <h3>{t(l, "agreement_text")}</h3>
                        <textarea name="dispute-agreement" prop:value=d.agreement.clone()
                            on:change=move |ev| { let v = event_target_value(&ev); apply(&|x, ed| x.set_agreement(&v, ed)); }></textarea>
                    </section>
                }
            })}
            <Show when=move || dispute.with(|d| d.as_ref().is_some_and(|d| d.case.is_none()))>
                <button class="plain" data-testid="to-case" on:click=to_case>{move || t(lang.get(), "to_case")}</button>
            </Show>
        </div>
    }
}

/// A party's role in the screen's language (the roles are typed in Chinese: 申请人, 被申请人).
fn party_role(role: &str, lang: Lang) -> String {
    match (lang, role) {
        (Lang::En, "申请人") => "applicant".into(),
        (Lang::En, "被申请人") => "respondent".into(),
        (Lang::En, "第三人") => "third party".into(),
        _ => role.to_string(),
    }
}
