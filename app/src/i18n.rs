//! The screen's words: Chinese by default, English on request.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

const WORDS: &[(&str, &str, &str)] = &[
    ("app", "连心 · 信访案件", "Lianxin · petitions"),
    ("switch", "English", "中文"),
    ("login", "登录", "Sign in"),
    ("username", "用户名", "Username"),
    ("password", "密码", "Password"),
    ("sign_in", "登录", "Sign in"),
    ("offline", "离线", "Offline"),
    ("syncing", "同步中…", "Syncing…"),
    ("synced", "已同步", "Synced"),
    (
        "search",
        "搜索摘要、编号、单位",
        "Search summary, reference, unit",
    ),
    ("cases", "件", "cases"),
];

pub fn t(lang: Lang, key: &str) -> &'static str {
    WORDS
        .iter()
        .find(|w| w.0 == key)
        .map(|w| if lang == Lang::Zh { w.1 } else { w.2 })
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_has_both_languages() {
        for (key, zh, en) in WORDS {
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
        }
        assert_eq!(t(Lang::Zh, "login"), "登录");
        assert_eq!(t(Lang::En, "login"), "Sign in");
    }
}
