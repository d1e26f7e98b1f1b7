//! The petitioners of a case, added and edited detail by detail.

use leptos::prelude::*;
use lianxin_shared::Petitioner;

use super::{CaseScreen, edit, editor, part, some_text};
use crate::i18n::t;

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

    view! {
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
    }
}
