//! The campaigns 专项活动 a case is tagged to: the administrator's list (the reference data),
//! ticked by those who may assign cases (the registrar, the administrator).

use leptos::prelude::*;
use lianxin_shared::StoredRow;
use lianxin_shared::rules::authority::Touch;

use super::{CaseScreen, edit, editor, part};
use crate::i18n::t;
use crate::with_engine;

/// The campaigns of the reference data on this tablet.
pub(crate) fn campaigns() -> Vec<lianxin_shared::Campaign> {
    with_engine(|e| {
        e.rows.borrow().values().find_map(|r| match r {
            StoredRow::Reference(r) => Some(r.campaigns.clone()),
            _ => None,
        })
    })
    .flatten()
    .unwrap_or_default()
}

#[component]
pub(super) fn Campaigns(s: CaseScreen) -> impl IntoView {
    let CaseScreen {
        ctx,
        id,
        case,
        error: _,
    } = s;
    let lang = ctx.lang;
    // Refusals show in this section, beside its buttons.
    let error = RwSignal::new(None::<String>);
    let tagged = part(case, |c| c.campaigns.clone());
    let all = Memo::new(move |_| {
        ctx.version.track();
        campaigns()
    });
    let may = move || ctx.may(Touch::Set("campaigns"));
    let set = move |campaign: lianxin_shared::EntryId, on: bool| {
        let ed = editor(ctx);
        edit(&id.get_value(), error, |c| {
            c.set_campaign(&ed, &campaign, on)
        });
    };
    view! {
        <Show when=move || !all.get().is_empty()>
            <section data-testid="campaigns">
                <h3>{move || t(lang.get(), "campaigns")}</h3>
                <ul class="campaigns">
                    {move || {
                        let mine = tagged.get().unwrap_or_default();
                        all.get().into_iter().map(|c| {
                            let on = mine.contains(&c.id);
                            let cid = c.id.clone();
                            let label = match &c.to {
                                Some(to) => format!("{}（{} — {}）", c.name, c.from, to),
                                None => format!("{}（{} 起）", c.name, c.from),
                            };
                            view! {
                                <li>
                                    <label>
                                        <input type="checkbox" name="campaign" value=c.id.to_string() checked=on disabled=!may()
                                            on:change=move |ev| set(cid.clone(), event_target_checked(&ev))/>
                                        {label}
                                    </label>
                                </li>
                            }
                        }).collect_view()
                    }}
                </ul>
            <crate::explain::Refusal lang error/>
            </section>
        </Show>
    }
}
