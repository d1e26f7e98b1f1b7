//! Photos and scanned pages of a case: taken with the tablet's camera or chosen as files,
//! shown as thumbnails and opened full size, with no signal too (see `crate::files`).

use leptos::prelude::*;
use lianxin_shared::{Attachment, DocId};
use wasm_bindgen::JsCast;

use super::{CaseScreen, editor, part};
use crate::i18n::t;
use crate::with_engine;

/// The type of a file the browser did not name, from its extension.
fn mime_of(file: &web_sys::File) -> String {
    let given = file.type_();
    if !given.is_empty() {
        return given;
    }
    let name = file.name().to_lowercase();
    match name.rsplit('.').next().unwrap_or("") {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "heic" => "image/heic",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
    .to_string()
}

#[component]
pub(super) fn Attachments(s: CaseScreen) -> impl IntoView {
    let CaseScreen { ctx, id, case, .. } = s;
    let lang = ctx.lang;
    let error = RwSignal::new(None::<String>);
    let attachments = part(case, |c| c.attachments.clone());
    let busy = RwSignal::new(false);
    // The one opened full size: (object URL, type, name).
    let opened = RwSignal::new(None::<(String, String, String)>);

    let take = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(list) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        let case_id = id.get_value();
        busy.set(true);
        leptos::task::spawn_local(async move {
            for file in files {
                let size = file.size();
                if size > lianxin_shared::MAX_ATTACHMENT_BYTES as f64 {
                    error.set(Some(crate::files::too_big(size, lang.get_untracked())));
                    continue;
                }
                let bytes = match crate::files::read(&file).await {
                    Ok(b) => b,
                    Err(e) => {
                        error.set(Some(e));
                        continue;
                    }
                };
                let hash = lianxin_shared::content_hash(&bytes);
                let (mime, name) = (mime_of(&file), file.name());
                if let Err(e) = crate::files::keep(&hash, &bytes).await {
                    error.set(Some(e));
                    continue;
                }
                let ed = editor(ctx);
                let Ok(doc) = case_id.parse::<DocId>() else {
                    continue;
                };
                let recorded = with_engine(|e| {
                    e.edit(doc, |c| match c {
                        Some(c) => c
                            .attach(&ed, &hash, &name, &mime, bytes.len() as i64)
                            .map(|_| ()),
                        None => Err(crate::not_here("case")),
                    })
                });
                match recorded {
                    Some(Ok(())) => {
                        if let Err(e) = crate::files::queue(&case_id, &hash).await {
                            error.set(Some(e));
                        } else {
                            error.set(None);
                        }
                    }
                    Some(Err(e)) => error.set(Some(e)),
                    None => {}
                }
            }
            busy.set(false);
            // With a signal, they go up once the listing has.
            crate::files::send_pending().await;
        });
    };

    view! {
        <section data-testid="attachments">
            <h3>{move || t(lang.get(), "attachments")}</h3>
            <ul class="thumbs">
                {move || attachments.get().unwrap_or_default().into_iter().map(|a| {
                    view! { <Thumb case=id.get_value() a opened lang version=ctx.version/> }
                }).collect_view()}
            </ul>
            <div class="tools">
                <label class="button">
                    {move || t(lang.get(), "take_photo")}
                    <input type="file" name="photo" accept="image/*" capture="environment" class="hidden-file" on:change=take/>
                </label>
                <label class="button plain">
                    {move || t(lang.get(), "choose_files")}
                    <input type="file" name="attach" accept="image/*,application/pdf" multiple class="hidden-file" on:change=take/>
                </label>
                <Show when=move || busy.get()>
                    <span class="meta">{move || t(lang.get(), "saving")}</span>
                </Show>
            </div>
            <p class="hint">{move || t(lang.get(), "attach_hint")}</p>
            <crate::explain::Refusal lang error/>
            <Show when=move || opened.with(Option::is_some)>
                <div class="lightbox" data-testid="lightbox" role="dialog" on:click=move |_| opened.set(None)>
                    {move || opened.get().map(|(url, mime, name)| if mime.starts_with("image/") {
                        view! { <img src=url alt=name/> }.into_any()
                    } else {
                        view! { <a href=url target="_blank" rel="noopener">{name}</a> }.into_any()
                    })}
                    <button class="plain">{move || t(lang.get(), "close")}</button>
                </div>
            </Show>
        </section>
    }
}

/// One attachment: its thumbnail once its bytes are here (from this tablet, or fetched from
/// the server and kept), else its name and "not yet here".
#[component]
fn Thumb(
    case: String,
    a: Attachment,
    opened: RwSignal<Option<(String, String, String)>>,
    lang: RwSignal<crate::i18n::Lang>,
    /// Tried again whenever documents change (a sync), until the bytes are here.
    version: RwSignal<u64>,
) -> impl IntoView {
    let url = RwSignal::new(None::<String>);
    let (hash, mime, name) = (a.hash.clone(), a.mime.clone(), a.name.clone());
    {
        let (hash, mime) = (hash.clone(), mime.clone());
        Effect::new(move |_| {
            version.track();
            if url.with_untracked(Option::is_some) {
                return;
            }
            let (case, hash, mime) = (case.clone(), hash.clone(), mime.clone());
            leptos::task::spawn_local(async move {
                if let Some(bytes) = crate::files::bytes(&case, &hash).await {
                    url.set(crate::files::object_url(&bytes, &mime));
                }
            });
        });
    }
    let image = mime.starts_with("image/");
    let label = if name.is_empty() {
        hash[..8].to_string()
    } else {
        name.clone()
    };
    view! {
        <li class="thumb" data-attachment=hash.clone() data-loaded=move || url.with(Option::is_some).to_string()
            on:click=move |_| if let Some(u) = url.get_untracked() { opened.set(Some((u, mime.clone(), name.clone()))) }>
            {move || match url.get() {
                Some(u) if image => view! { <img src=u alt=label.clone()/> }.into_any(),
                Some(_) => view! { <span class="doc">"PDF"</span> }.into_any(),
                None => view! { <span class="meta">{move || t(lang.get(), "not_here_yet")}</span> }.into_any(),
            }}
            <span class="meta">{format!("{} · {} KB", a.by, a.size / 1024)}</span>
        </li>
    }
}
