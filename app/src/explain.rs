//! Errors in the screen's language. The shared rules and the server say what went wrong in
//! English (logs, the command line, the API); the tablet says it to a clerk in Chinese (or in
//! English when chosen): the field by its label, the value, and the reason in words, with no
//! developer text. A reason the table does not know is said as "this value cannot be saved".

use leptos::prelude::*;
use lianxin_shared::rules::check::Problem;

use crate::i18n::{Lang, t};

/// A refused edit, shown in the section whose button made it (not at the top of a long page).
#[component]
pub fn Refusal(lang: RwSignal<Lang>, error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <p class="error" role="alert">{move || explain(&error.get().unwrap_or_default(), lang.get())}</p>
        </Show>
    }
}

/// A problem in the screen's language.
pub fn problem(p: &Problem, lang: Lang) -> String {
    match lang {
        Lang::Zh => p.zh(),
        Lang::En => p.en(),
    }
}

/// What is wrong with a field, shown right under it (the field itself is marked with
/// `aria-invalid` by its form).
#[component]
pub fn Invalid(lang: RwSignal<Lang>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    view! {
        <Show when=move || problem.with(Option::is_some)>
            <span class="invalid" role="alert">{move || problem.get().map(|p| self::problem(&p, lang.get()))}</span>
        </Show>
    }
}

/// Known reasons (or their beginnings), in Chinese.
const REASONS: &[(&str, &str)] = &[
    ("expected a number", "应为有效范围内的整数"),
    ("step needs a reason", "此步骤须填写理由"),
    ("a withdrawal needs a reason", "撤回须填写理由"),
    ("aid needs a reason", "救助须填写理由"),
    ("needs it", "此项必填"),
    ("expected 1 to", "不能为空"),
    ("at most", "内容过长"),
    ("expected one of", "不是可选的值"),
    ("a case needs a summary", "请填写诉求摘要"),
    ("a petitioner has a name", "请填写姓名"),
    ("a party has a name", "请填写当事人姓名"),
    ("a session says what happened", "请填写调解经过"),
    ("a reception day names its", "请填写接访领导和地点"),
    ("an escalation gives its reason", "请填写上报理由"),
    ("already at the highest level", "已是最高一级，不能再上报"),
    ("this matter is already a case", "该事项已登记为案件"),
    (
        "this dispute is already linked to a case",
        "该纠纷已关联案件",
    ),
    ("this case is already in mediation", "本案已转入调解"),
    ("withdrawn already", "该步骤已撤回"),
    ("start a seven-evenings plan", "请先制定七晚工作计划"),
    (
        "personal details are kept only",
        "个人信息只由办理本案的单位保存",
    ),
    ("no such petitioner", "本案没有这位信访人"),
    ("a refusal needs a reason", "不予受理须说明理由"),
    ("only one extension is allowed", "只能延期一次"),
    ("an extension needs a reason", "延期须说明理由"),
    (
        "review asked for after the 30-day window",
        "复查申请超过30日期限",
    ),
    (
        "re-review asked for after the 30-day window",
        "复核申请超过30日期限",
    ),
    (
        "this step does not fit where the case stands",
        "该步骤与案件当前所处阶段不符",
    ),
    ("unknown step kind", "未知的步骤类型"),
    (
        "a campaign ends after it starts",
        "专项活动的结束日期须晚于开始日期",
    ),
];

/// Whole messages the server or the tablet sends, in Chinese.
const MESSAGES: &[(&str, &str)] = &[
    ("wrong username or password", "用户名或密码错误"),
    ("this account is disabled", "该账号已停用"),
    ("not signed in", "尚未登录"),
    ("network unavailable", "网络不可用，请稍后再试"),
    (
        "session ended",
        "登录已失效，请重新登录（本机的修改都已保留）",
    ),
    ("no such case on this device", "本机没有这件案件"),
    ("no such dispute on this device", "本机没有这件纠纷"),
    ("no such reception day on this device", "本机没有这个接访日"),
    ("may not be removed", "已记录的内容不能删除，请另行更正"),
    ("may not be rewritten", "已记录的内容不能改写，请另行更正"),
    ("may not change", "已记录的内容不能改写，请另行更正"),
    ("internal error", "服务器出错，请联系管理员"),
    ("server busy", "服务器繁忙，请稍后再试"),
    ("still being read", "本机的案卷还在读出，请稍候再试"),
];

/// `text` (an error of the shared rules, the tablet or the server) in `lang`.
pub fn explain(text: &str, lang: Lang) -> String {
    let text = text.trim();
    // Already said in Chinese by the tablet itself (a file too large, a missing header).
    let cjk = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if cjk
        && !text.contains(" / ")
        && !text
            .split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.len() > 2 && w != "MB")
    {
        return text.to_string();
    }
    if lang == Lang::En {
        // The English is the rules' own, with the field's label instead of its code.
        return match invalid_value(text) {
            Some((field, value, reason)) => {
                format!("{} \"{value}\": {reason}", label(Lang::En, field))
            }
            None => text.to_string(),
        };
    }
    if let Some(rest) = text.strip_prefix("too many failed sign-ins; try again in ") {
        let seconds = rest.trim_end_matches(" s");
        return format!("登录失败次数过多，请 {seconds} 秒后再试");
    }
    if let Some((field, value, reason)) = invalid_value(text) {
        let label = label(Lang::Zh, field);
        return match reason_zh(reason) {
            Some(reason) if value.is_empty() => format!("「{label}」未填写：{reason}"),
            None if value.is_empty() => format!("请填写「{label}」"),
            Some(reason) => format!("「{label}」的值“{value}”无效：{reason}"),
            None => format!("「{label}」的值“{value}”不能保存"),
        };
    }
    if text.contains(" may not ") && text.starts_with("a ") {
        return "您的岗位无权进行此项操作".into();
    }
    if let Some((_, zh)) = MESSAGES.iter().find(|(en, _)| text.contains(en)) {
        return zh.to_string();
    }
    if let Some(zh) = reason_zh(text) {
        return zh.to_string();
    }
    // Something the table does not know: said plainly, never as developer text.
    "操作未能完成，请检查填写的内容".into()
}

/// A known reason in Chinese.
pub fn reason_zh(reason: &str) -> Option<&'static str> {
    REASONS
        .iter()
        .find(|(en, _)| reason.starts_with(en) || reason.contains(en))
        .map(|(_, zh)| *zh)
}

/// `invalid value "V" for FIELD: REASON` → (field, value, reason).
fn invalid_value(text: &str) -> Option<(&str, &str, &str)> {
    let rest = text.split_once("invalid value \"")?.1;
    let (value, rest) = rest.split_once("\" for ")?;
    let (field, reason) = rest.split_once(": ")?;
    Some((field, value, reason))
}

/// The word list's key for a field: most fields are their own key.
/// The label key of a field the rules name: most are the label's own key.
fn field_key(field: &str) -> &str {
    match field {
        "on" => "date",
        "note" => "notes",
        "follow-up" => "follow_ups",
        "progress" => "progress_note",
        other => other,
    }
}

/// A field's label, or — for a field with no label of its own — a plain word for it, never a
/// placeholder.
fn label(lang: Lang, field: &str) -> &'static str {
    match t(lang, field_key(field)) {
        "?" if lang == Lang::Zh => "必填内容",
        "?" => "a required field",
        known => known,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_latin_words(s: &str) -> bool {
        s.split(|c: char| !c.is_ascii_alphabetic())
            .any(|w| w.len() > 1 && w != "X")
    }

    /// What the clerks saw, and what the rules and the server say: Chinese, with no English.
    #[test]
    fn refusals_are_said_in_chinese_table() {
        let rows = [
            (
                r#"invalid value "-5" for people: expected a number of people from 1 to 100000, found -5"#,
                "「人数」的值“-5”无效：应为有效范围内的整数",
            ),
            (
                r#"invalid value "" for reason: a extended step needs a reason (--reason)"#,
                "「理由」未填写：此步骤须填写理由",
            ),
            (
                r#"invalid value "" for note: a note needs some text"#,
                "请填写「工作记录」",
            ),
            (
                r#"invalid value "" for follow-up: a follow-up needs some text"#,
                "请填写「走访回访」",
            ),
            (
                r#"invalid value "" for no-such-field: something is needed"#,
                "请填写「必填内容」",
            ),
            ("wrong username or password", "用户名或密码错误"),
            (
                "too many failed sign-ins; try again in 30 s",
                "登录失败次数过多，请 30 秒后再试",
            ),
            ("no such case on this device", "本机没有这件案件"),
            (
                "this case is still being read from this tablet; try again in a moment",
                "本机的案卷还在读出，请稍候再试",
            ),
            (
                r#"a mediator may not record 办结 (DOMAIN.md "who may do what")"#,
                "您的岗位无权进行此项操作",
            ),
            (
                "steps entry 1a2b may not be rewritten; record a new one",
                "已记录的内容不能改写，请另行更正",
            ),
            ("网络不可用 / network unavailable", "网络不可用，请稍后再试"),
            (
                "this step does not fit where the case stands",
                "该步骤与案件当前所处阶段不符",
            ),
        ];
        for (en, zh) in rows {
            assert_eq!(explain(en, Lang::Zh), zh, "{en}");
        }
        for odd in [
            "automerge: bad op",
            "protocol: frame too large",
            "malformed document: x",
        ] {
            let said = explain(odd, Lang::Zh);
            assert!(!has_latin_words(&said), "{odd} → {said}");
        }
        for (_, zh) in REASONS.iter().chain(MESSAGES) {
            assert!(!has_latin_words(zh), "{zh}");
        }
    }
}
