//! The petitioners of a case, added and edited detail by detail. ID numbers, phones and
//! addresses live in the case's details document, which only the devices of the units that
//! handle the case receive: elsewhere they show masked (4101**********1234) and cannot be
//! changed.

use leptos::prelude::*;
use lianxin_shared::{DocId, Petitioner};

use super::{CaseScreen, editor, part, some_text};
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
        error,
    } = s;
    let lang = ctx.lang;
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
    let add_petitioner = move |_| {
        let ed = editor(ctx);
        let [name, id_number, phone, address] = new_p.map(|s| s.get_untracked());
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
    let set_petitioner = move |pid: lianxin_shared::EntryId, key: &'static str, value: String| {
        let ed = editor(ctx);
        edit(&|c, d| c.set_petitioner(&ed, &pid, key, &value, d));
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
                            view! {
                                <label>
                                    <span>{move || t(lang.get(), "name")}</span>
                                    <input name="p-name" value=p.name.clone()
                                        on:change=move |ev| set_petitioner(pid.clone(), "name", event_target_value(&ev))/>
                                </label>
                            }
                        };
                        let details = DETAILS.into_iter().map(|key| {
                            let pid = pid.clone();
                            let shown = p.shown(key).unwrap_or_default().to_string();
                            if handled {
                                view! {
                                    <label>
                                        <span>{move || t(lang.get(), key)}</span>
                                        <input name=format!("p-{key}") value=shown
                                            on:change=move |ev| set_petitioner(pid.clone(), key, event_target_value(&ev))/>
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
                    {["name", "id_number", "phone", "address"].into_iter().zip(new_p).map(|(key, sig)| view! {
                        <Show when=move || key == "name" || handled.get()>
                            <label>
                                <span>{move || t(lang.get(), key)}</span>
                                <input name=format!("new-p-{key}") prop:value=sig on:input=move |ev| sig.set(event_target_value(&ev))/>
                            </label>
                        </Show>
                    }).collect_view()}
                </div>
                <button data-testid="add-petitioner" on:click=add_petitioner>{move || t(lang.get(), "add_petitioner")}</button>
            </section>
    }
}
