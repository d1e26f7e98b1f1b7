//! Leader reception days 领导接访: the list of days, a new day, and a day on screen (its tally,
//! the matters received — each can become a case in one tap — and appointments booked ahead).

use leptos::prelude::*;

use crate::Screen;
use lianxin_shared::{DocId, Editor, EntryId, ReceivedOutcome, UnitId};
use lianxin_shared::{MatterDraft, ReceptionDoc, ReceptionDraft};

use crate::i18n::{Lang, t};
use crate::{Ctx, with_engine};

/// One line of the list of reception days.
#[derive(Clone, Debug, PartialEq)]
pub struct DayRow {
    pub id: String,
    pub on: String,
    pub leader: String,
    pub place: String,
    pub unit: String,
    pub tally: lianxin_shared::Tally,
}

fn editor(ctx: Ctx) -> Editor {
    Editor::new(&ctx.username.get_untracked(), js_sys::Date::now() as i64)
}

fn tally_line(t_: &lianxin_shared::Tally, lang: Lang) -> String {
    format!(
        "{} {} · {} {} · {} {} · {} {} · {} {}",
        t_.matters,
        t(lang, "matters"),
        t_.people,
        t(lang, "people_received"),
        t_.on_the_spot,
        t(lang, "on_the_spot"),
        t_.deadline,
        t(lang, "given_deadline"),
        t_.cases,
        t(lang, "became_cases")
    )
}

#[component]
pub fn Days(ctx: Ctx, days: RwSignal<Vec<DayRow>>) -> impl IntoView {
    let lang = ctx.lang;
    let on = RwSignal::new(crate::today().to_string());
    let leader = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let create = move |_| {
        let ed = editor(ctx);
        let result = (|| -> Result<DocId, String> {
            let draft = ReceptionDraft {
                id: DocId::random(),
                unit: UnitId::new(
                    &ctx.units
                        .get_untracked()
                        .first()
                        .map(|u| u.0.clone())
                        .unwrap_or_default(),
                )
                .map_err(|e| e.to_string())?,
                on: on
                    .get_untracked()
                    .parse()
                    .map_err(|e: lianxin_shared::Error| e.to_string())?,
                leader: leader.get_untracked(),
                place: place.get_untracked(),
            };
            with_engine(|e| {
                let actor = e.actor.clone();
                e.edit_reception(draft.id, |doc| {
                    *doc = Some(ReceptionDoc::create(&draft, &ed, actor)?);
                    Ok(())
                })
            })
            .ok_or("not signed in")??;
            Ok(draft.id)
        })();
        match result {
            Ok(id) => ctx.go(Screen::Reception(id.to_string())),
            Err(e) => error.set(Some(e)),
        }
    };
    view! {
        <div class="tools">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <h2 class="board-title">{move || t(lang.get(), "reception_days")}</h2>
        </div>
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
        </Show>
        <ul class="cases" data-testid="reception-days">
            <For each=move || days.get() key=|r| format!("{r:?}") let:row>
                <li data-reception=row.id.clone() on:click={
                    let id = row.id.clone();
                    move |_| ctx.go(Screen::Reception(id.clone()))
                }>
                    <span class="colour blue">{row.on.clone()}</span>
                    <div>
                        <div class="summary">{format!("{} · {} · {}", row.leader, row.place, row.unit)}</div>
                        <div class="meta">{move || tally_line(&row.tally, lang.get())}</div>
                    </div>
                    <div></div>
                </li>
            </For>
        </ul>
        <h3>{move || t(lang.get(), "new_reception")}</h3>
        <div class="tools">
            <input name="reception-on" type="date" prop:value=on on:input=move |ev| on.set(event_target_value(&ev))/>
            <input name="reception-leader" placeholder=move || t(lang.get(), "reception_leader") prop:value=leader on:input=move |ev| leader.set(event_target_value(&ev))/>
            <input name="reception-place" placeholder=move || t(lang.get(), "place") prop:value=place on:input=move |ev| place.set(event_target_value(&ev))/>
            <button data-testid="create-reception" on:click=create>{move || t(lang.get(), "register")}</button>
        </div>
    }
}

#[component]
pub fn Day(ctx: Ctx, id: String) -> impl IntoView {
    let lang = ctx.lang;
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(id);
    let day = Memo::new(move |_| {
        ctx.version.get();
        let doc_id: DocId = id.get_value().parse().ok()?;
        with_engine(|e| e.read_reception(doc_id)).flatten()
    });
    let apply = move |f: &dyn Fn(
        &mut ReceptionDoc,
        &Editor,
    ) -> Result<(), lianxin_shared::Error>|
          -> bool {
        let ed = editor(ctx);
        let Ok(doc_id) = id.get_value().parse::<DocId>() else {
            return false;
        };
        crate::show_outcome(
            error,
            with_engine(|e| {
                e.edit_reception(doc_id, |d| match d {
                    Some(d) => f(d, &ed),
                    None => Err(crate::not_here("reception day")),
                })
            }),
        )
    };
    // summary, people, petitioner, phone, due
    let form = [(); 5].map(|_| RwSignal::new(String::new()));
    form[1].set("1".into());
    let outcome = RwSignal::new("on_the_spot".to_string());
    let receive = move |_| {
        let [summary, people, petitioner, phone, due] = form.map(|s| s.get_untracked());
        let draft = (|| -> Result<MatterDraft, String> {
            Ok(MatterDraft {
                summary,
                people: people
                    .trim()
                    .parse()
                    .map_err(|_| t(lang.get_untracked(), "people_needed").to_string())?,
                petitioner,
                phone: Some(phone),
                outcome: ReceivedOutcome::parse(&outcome.get_untracked())
                    .map_err(|e| e.to_string())?,
                due: if due.trim().is_empty() {
                    None
                } else {
                    Some(
                        due.parse()
                            .map_err(|e: lianxin_shared::Error| e.to_string())?,
                    )
                },
            })
        })();
        match draft {
            Ok(m) => {
                if apply(&|d, ed| d.receive(ed, &m).map(|_| ())) {
                    form.iter().for_each(|s| s.set(String::new()));
                    form[1].set("1".into());
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let to_case = move |matter: EntryId| {
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
            let case = e.edit_reception(doc_id, |d| match d {
                Some(d) => d.matter_to_case(&ed, &matter, actor, &others),
                None => Err(lianxin_shared::Error::Protocol(
                    "no such reception day on this device".into(),
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
    let booking = [(); 2].map(|_| RwSignal::new(String::new()));
    let book = move |_| {
        let [name, matter] = booking.map(|s| s.get_untracked());
        if apply(&|d, ed| d.book(ed, &name, None, &matter).map(|_| ())) {
            booking.iter().for_each(|s| s.set(String::new()));
        }
    };
    view! {
        <div class="case" data-testid="reception">
            <button class="plain back" on:click=move |_| ctx.back()>{move || t(lang.get(), "back")}</button>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || crate::explain::explain(&error.get().unwrap_or_default(), lang.get())}</p>
            </Show>
            {move || day.get().map(|r| {
                let l = lang.get();
                view! {
                    <h2>{format!("{} · {} · {}", r.on.map(|d| d.to_string()).unwrap_or_default(), r.leader.clone().unwrap_or_default(), r.place.clone().unwrap_or_default())}</h2>
                    <p class="lifecycle" data-testid="tally">{tally_line(&r.tally, l)}</p>
                    <section>
                        <h3>{t(l, "matters_received")}</h3>
                        <ul class="matters" data-testid="matters">
                            {r.matters.iter().map(|m| {
                                let mid = m.id.clone();
                                let outcome = match l {
                                    Lang::Zh => m.outcome.zh(),
                                    Lang::En => m.outcome.en(),
                                }
                                .to_string();
                                view! {
                                    <li data-matter=m.id.to_string()>
                                        <div>{format!("{}（{} {}）— {}", m.summary, m.people, t(l, "people_received"), m.petitioner)}</div>
                                        <div class="meta">{format!("{outcome}{}", m.due.map(|d| format!(" · {d}")).unwrap_or_default())}</div>
                                        {m.case.is_none().then(|| view! {
                                            <button class="plain" on:click=move |_| to_case(mid.clone())>{t(l, "to_case")}</button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                    <section>
                        <h3>{t(l, "appointments")}</h3>
                        <ul data-testid="appointments">
                            {r.appointments.iter().map(|a| view! { <li>{format!("{} — {}", a.name, a.matter)}</li> }).collect_view()}
                        </ul>
                    </section>
                }
            })}
            <h3>{move || t(lang.get(), "receive_matter")}</h3>
            <div class="fields">
                {["summary", "people", "petitioner", "phone", "due"].into_iter().zip(form).map(|(key, sig)| {
                    let kind = match key { "people" => "number", "due" => "date", _ => "text" };
                    let word = match key { "summary" => "matter_summary", "petitioner" => "name", "due" => "due", other => other };
                    view! {
                        <label><span>{move || t(lang.get(), word)}</span>
                            <input name=format!("matter-{key}") type=kind prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                        </label>
                    }
                }).collect_view()}
                <label><span>{move || t(lang.get(), "visit_outcome")}</span>
                    <select name="matter-outcome" on:change=move |ev| outcome.set(event_target_value(&ev))>
                        {[ReceivedOutcome::OnTheSpot, ReceivedOutcome::Deadline].into_iter().map(|o| view! {
                            <option value=o.code() prop:selected=move || outcome.get() == o.code()>{move || crate::i18n::vocab_label(o, lang.get())}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <button data-testid="receive" on:click=receive>{move || t(lang.get(), "receive")}</button>
            <h3>{move || t(lang.get(), "book")}</h3>
            <div class="tools">
                <input name="booking-name" placeholder=move || t(lang.get(), "name") prop:value=booking[0] on:input=move |ev| booking[0].set(event_target_value(&ev))/>
                <input name="booking-matter" placeholder=move || t(lang.get(), "matter_summary") prop:value=booking[1] on:input=move |ev| booking[1].set(event_target_value(&ev))/>
                <button data-testid="book" on:click=book>{move || t(lang.get(), "book")}</button>
            </div>
        </div>
    }
}
