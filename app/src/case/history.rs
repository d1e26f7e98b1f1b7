//! A case's history, from the server: every stored change with who sent it, from which
//! device, when the server received it and what it touched (the administrator also sees the
//! refused ones). It needs a signal: the server keeps it, not the tablet.

use leptos::prelude::*;

use super::CaseScreen;
use crate::i18n::t;

#[derive(Clone, Debug, serde::Deserialize)]
struct Entry {
    seq: u64,
    user: String,
    device: String,
    device_name: String,
    received_at: i64,
    what: Vec<String>,
    refused: Option<String>,
}

async fn fetch_history(id: &str) -> Result<Vec<Entry>, String> {
    let token = crate::with_engine(|e| e.token()).ok_or("not signed in")?;
    let response = gloo_net::http::Request::get(&format!("/api/history/{id}"))
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| "需要网络 / needs a signal".to_string())?;
    let text = response.text().await.map_err(|_| "body")?;
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if !response.ok() {
        return Err(value["error"].as_str().unwrap_or(&text).to_string());
    }
    serde_json::from_value(value["entries"].clone()).map_err(|e| e.to_string())
}

/// One thing a change touched, in the reader's language: a field's or list's name, a step by
/// its kind (办理环节 + 交办), an entry changed, a unit taken away.
fn describe(what: &str, lang: crate::i18n::Lang) -> String {
    let zh = lang == crate::i18n::Lang::Zh;
    let name = |key: &str| -> String {
        let own = match key {
            "created" => Some(("登记创建", "created")),
            "withdrawals" => Some(("撤回", "withdrawals")),
            "evaluations" => Some(("评价", "evaluations")),
            "evening_starts" | "evening_logs" => Some(("七个晚上", "seven evenings")),
            "progress" => Some(("进展记录", "progress notes")),
            "aid" => Some(("困难救助", "hardship aid")),
            "hearings" => Some(("听证", "hearings")),
            "assisting" => Some(("协办单位", "assisting units")),
            "archived" => Some(("归档", "archived")),
            _ => None,
        };
        match own {
            Some((z, e)) => (if zh { z } else { e }).to_string(),
            None => match t(lang, key) {
                "?" => key.to_string(),
                word => word.to_string(),
            },
        }
    };
    if let Some(unit) = what.strip_prefix("units −") {
        return format!("{} {unit}", if zh { "取消共享" } else { "unshared from" });
    }
    if let Some((list, kind)) = what.split_once(" + ") {
        let kind = lianxin_shared::StepKind::parse(kind)
            .map(|k| crate::i18n::vocab_label(k, lang).to_string())
            .unwrap_or_else(|_| kind.to_string());
        return format!("{} + {kind}", name(list));
    }
    if let Some(list) = what.strip_suffix(" +") {
        return format!("{} +", name(list));
    }
    if let Some(list) = what.strip_suffix(" ~") {
        return format!("{} {}", name(list), if zh { "修改" } else { "changed" });
    }
    name(what)
}

/// "When" in China time, to the minute.
fn when(ms: i64) -> String {
    let d = lianxin_shared::Date::from_unix_ms_china(ms);
    format!(
        "{d} {:02}:{:02}",
        (ms / 3_600_000 + 8) % 24,
        ms / 60_000 % 60
    )
}

#[component]
pub(super) fn History(s: CaseScreen) -> impl IntoView {
    let CaseScreen { ctx, id, .. } = s;
    let lang = ctx.lang;
    let entries = RwSignal::new(None::<Result<Vec<Entry>, String>>);
    let load = move |_| {
        leptos::task::spawn_local(async move {
            entries.set(Some(fetch_history(&id.get_value()).await));
        });
    };
    view! {
        <section data-testid="history">
            <h3>{move || t(lang.get(), "history")}</h3>
            <button class="plain" data-testid="load-history" on:click=load>{move || t(lang.get(), "load_history")}</button>
            {move || match entries.get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="history">
                        <thead><tr>
                            <th>{t(lang.get(), "received_at")}</th>
                            <th>{t(lang.get(), "who")}</th>
                            <th>{t(lang.get(), "device")}</th>
                            <th>{t(lang.get(), "what")}</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| {
                                let short = e.device.get(..8).unwrap_or(&e.device).to_string();
                                let device = if e.device_name.is_empty() { short } else { format!("{short} · {}", e.device_name.chars().take(40).collect::<String>()) };
                                let refused = e.refused.is_some();
                                view! {
                                    <tr class:refused=refused data-seq=e.seq.to_string()>
                                        <td>{when(e.received_at)}</td>
                                        <td>{e.user}</td>
                                        <td class="meta">{device}</td>
                                        <td data-what=e.what.join(",")>{match e.refused {
                                            // In the screen's language; the server's own words stay in
                                            // the server's log and the administrator's command line.
                                            Some(reason) => format!("{}：{}", t(lang.get(), "refused"), crate::explain::explain(&reason, lang.get())),
                                            None => e.what.iter().map(|w| describe(w, lang.get())).collect::<Vec<_>>().join("，"),
                                        }}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
