//! The petitioners of a case, added and edited detail by detail. ID numbers, phones and
//! addresses live in the case's details document, which only the devices of the units that
//! handle the case receive: elsewhere they show masked (4101**********1234) and cannot be
//! changed.

use leptos::prelude::*;
use lianxin_shared::{DocId, Petitioner};

use super::{CaseScreen, editor, part, some_text};
use crate::explain::Invalid;
use lianxin_shared::rules::check::{self, Problem};

/// What a petitioner's detail must be, when given: an ID number (GB 11643) or a phone.
fn check_detail(key: &str, value: &str) -> Option<Problem> {
    if value.trim().is_empty() {
        return (key == "name").then_some(Problem::Required);
    }
    match key {
        "id_number" => check::id_number(value).err(),
        "phone" => check::phone(value).err(),
        _ => None,
    }
}
use crate::i18n::t;
use crate::with_engine;

const DETAILS: [&str; 3] = ["id_number", "phone", "address"];

/// Petitioners, each detail its own edit so two devices' changes merge.
#[component]
pub(super) fn Petitioners(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let petitioners = part(case, |c| c.petitioners.clone());
    // Whether this device holds the details (its user's unit handles the case).
    let handled = Memo::new(move |_| {
        ctx.version.track();
        let Ok(doc) = id.get_value().parse::<DocId>() else {
            return false;
        };
        with_engine(|e| e.has_details(doc)).unwrap_or(false)
    });
    let edit = move |f: &dyn Fn(
        &mut lianxin_shared::CaseDoc,
        Option<&mut lianxin_shared::DetailsDoc>,
    ) -> Result<(), lianxin_shared::Error>| {
        let Ok(doc) = id.get_value().parse::<DocId>() else {
            return false;
        };
        let result = with_engine(|e| {
            e.edit_with_details(doc, |c, d| match c {
                Some(c) => f(c, d.as_mut()),
                None => Err(crate::not_here("case")),
            })
        });
        crate::show_outcome(error, result)
    };
    let new_p = [(); 4].map(|_| RwSignal::new(String::new()));
    let new_problems = [(); 4].map(|_| RwSignal::new(None::<Problem>));
    let add_petitioner = move |_| {
        let ed = editor(ctx);
        let [name, id_number, phone, address] = new_p.map(|s| s.get_untracked());
        let mut fine = true;
        for ((key, value), problem) in ["name", "id_number", "phone", "address"]
            .into_iter()
            .zip([&name, &id_number, &phone, &address])
            .zip(new_problems)
        {
            let found = check_detail(key, value);
            fine &= found.is_none();
            problem.set(found);
        }
        if !fine {
            return;
        }
        let p = Petitioner::new(
            name.trim(),
            some_text(id_number),
            some_text(phone),
            some_text(address),
        );
        if edit(&|c, d| c.add_petitioner(&ed, &p, d).map(|_| ())) {
            new_p.iter().for_each(|s| s.set(String::new()));
        }
    };
    // A detail that does not pass stays in its box, marked, and is not saved.
    let set_petitioner = move |pid: lianxin_shared::EntryId,
                               key: &'static str,
                               value: String,
                               problem: RwSignal<Option<Problem>>| {
        let found = check_detail(key, &value);
        let fine = found.is_none();
        problem.set(found);
        if fine {
            let ed = editor(ctx);
            edit(&|c, d| c.set_petitioner(&ed, &pid, key, &value, d));
        }
    };

    view! {
            <section data-testid="petitioners">
                <h3>{move || t(lang.get(), "petitioners")}</h3>
                <Show when=move || !handled.get()>
                    <p class="hint" data-testid="details-masked">{move || t(lang.get(), "details_masked")}</p>
                </Show>
                {
                    move || { let handled = handled.get(); petitioners.get().unwrap_or_default().into_iter().enumerate().map(|(i, p)| {
                        let pid = p.id.clone();
                        let name = {
                            let pid = pid.clone();
                            let problem = RwSignal::new(None::<Problem>);
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), "name")}</span>
                                    <input name="p-name" value=p.name.clone() aria-invalid=move || problem.with(Option::is_some).to_string()
                                        on:change=move |ev| set_petitioner(pid.clone(), "name", event_target_value(&ev), problem)/>
                                    <Invalid lang problem/>
                                </label>
                            }
                        };
                        let details = DETAILS.into_iter().map(|key| {
                            let pid = pid.clone();
                            let shown = p.shown(key).unwrap_or_default().to_string();
                            if handled {
                                let problem = RwSignal::new(None::<Problem>);
                                view! {
                                    <label>
                                        <span>{move || t(lang.get(), key)}</span>
                                        <input name=format!("p-{key}") value=shown aria-invalid=move || problem.with(Option::is_some).to_string()
                                            on:change=move |ev| set_petitioner(pid.clone(), key, event_target_value(&ev), problem)/>
                                        <Invalid lang problem/>
                                    </label>
                                }.into_any()
                            } else {
                                view! {
                                    <label>
                                        <span>{move || t(lang.get(), key)}</span>
                                        <output class="masked" data-testid=format!("masked-{key}")>{shown}</output>
                                    </label>
                                }.into_any()
                            }
                        }).collect_view();
                        view! {
                            <div class="fields petitioner" data-testid=format!("petitioner-{i}")>
                                {name}
                                {details}
                            </div>
                        }
                    }).collect_view() }
                }
                <div class="fields new-petitioner">
                    {["name", "id_number", "phone", "address"].into_iter().zip(new_p).zip(new_problems).map(|((key, sig), problem)| view! {
                        <Show when=move || key == "name" || handled.get()>
                            <label>
                                <span>{move || t(lang.get(), key)}</span>
                                <input name=format!("new-p-{key}") prop:value=sig aria-invalid=move || problem.with(Option::is_some).to_string()
                                    on:input=move |ev| { sig.set(event_target_value(&ev)); problem.set(None); }/>
                                <Invalid lang problem/>
                            </label>
                        </Show>
                    }).collect_view()}
                </div>
                <button data-testid="add-petitioner" on:click=add_petitioner>{move || t(lang.get(), "add_petitioner")}</button>
            <crate::explain::Refusal lang error/>
            </section>
    }
}
