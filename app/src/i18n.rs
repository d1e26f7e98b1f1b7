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
    ("all_marks", "全部标记", "All marks"),
    ("case_index", "本案目录", "Sections of this case"),
    (
        "progress_hint",
        "选择任务、承诺或人员，写下进展（可勾选“已完成”），记录后显示在下方对应一行。",
        "Choose a task, commitment or person and write the progress (tick done if it is); it shows on its line below.",
    ),
    ("reception_leader", "接访领导", "Receiving leader"),
    ("group_tasks", "包案任务", "Package tasks"),
    ("group_commitments", "四包", "Four commitments"),
    ("group_four", "四定人员", "Four people"),
    ("attachments", "照片和扫描件", "Photos and scanned pages"),
    ("take_photo", "拍照", "Take a photo"),
    ("choose_files", "选择文件", "Choose files"),
    ("saving", "正在保存…", "Saving…"),
    (
        "attach_hint",
        "照片保存在本机，有信号时随案件上传；单个不超过 8 MB。",
        "Photos are kept on this tablet and go up with the case when there is a signal; at most 8 MB each.",
    ),
    ("close", "关闭", "Close"),
    ("not_here_yet", "尚未同步到本机", "not on this tablet yet"),
    ("this_device", "本机", "this tablet"),
    ("ref_pending", "编号待分配", "number to come"),
    ("outcome", "结果", "Outcome"),
    ("mark_conflicted", "有冲突", "Conflict"),
    ("mark_waiting", "待上传", "Not yet sent"),
    ("clear_filters", "清除筛选", "Clear filters"),
    ("showing", "显示", "showing"),
    ("no_match", "没有符合条件的案件。", "No case matches."),
    ("page_prev", "‹ 上一页", "‹ Previous"),
    ("page_next", "下一页 ›", "Next ›"),
    ("show_more", "显示更多", "Show more"),
    ("show_all", "显示全部", "Show all"),
    ("home_title", "今日工作", "Today"),
    ("home_packages", "我的包案", "My case packages"),
    (
        "home_red_yellow",
        "本单位红色、黄色案件",
        "Red and yellow cases of my units",
    ),
    (
        "home_to_accept",
        "待受理（已交办、转送）",
        "Awaiting acceptance",
    ),
    (
        "home_to_conclude",
        "办理中 · 待办结",
        "Being handled · to conclude",
    ),
    ("home_tonight", "今晚的七晚走访", "Tonight's seven evenings"),
    (
        "home_visits",
        "待走访（15天未走访）",
        "Due a visit (none for 15 days)",
    ),
    (
        "home_to_assign",
        "已登记 · 待转送交办",
        "Registered · to forward or assign",
    ),
    ("home_days", "我的接访日", "My reception days"),
    ("home_none", "暂无。", "None."),
    ("all_cases", "全部案件", "All cases"),
    ("no_progress", "尚无进展记录", "no progress yet"),
    ("app", "连心 · 信访案件", "Lianxin · petitions"),
    ("switch", "English", "中文"),
    ("login", "登录", "Sign in"),
    ("username", "用户名", "Username"),
    ("password", "密码", "Password"),
    ("sign_in", "登录", "Sign in"),
    ("offline", "离线", "Offline"),
    (
        "locked",
        "已锁定 · 输入密码解锁",
        "Locked · enter your password",
    ),
    ("unlock", "解锁", "Unlock"),
    ("wrong_password", "密码错误", "Wrong password"),
    ("other_user", "其他用户登录", "Another user"),
    ("lock", "锁定", "Lock"),
    ("sign_out", "退出登录", "Sign out"),
    ("idle_lock", "闲置锁定", "Lock after"),
    ("minutes", "分钟", "min"),
    ("unsent_before", "本机还有", "This tablet still holds"),
    (
        "unsent_after",
        "件案件的修改未上传到服务器。",
        "cases with edits the server has not received.",
    ),
    (
        "sign_out_after_sync",
        "同步完成后自动退出",
        "Sign out once they have synced",
    ),
    (
        "signing_out_after_sync",
        "等待同步…完成后将自动退出",
        "Waiting for the sync; signing out after it",
    ),
    (
        "sign_out_discard",
        "仍然退出，丢弃的修改件数：",
        "Sign out anyway, discarding edits of cases:",
    ),
    ("cancel", "取消", "Cancel"),
    ("withdraw", "撤回", "Withdraw"),
    ("history", "修改记录", "History"),
    (
        "load_history",
        "查看修改记录（需要网络）",
        "Show the history (needs a signal)",
    ),
    ("received_at", "服务器收到时间", "Received"),
    ("who", "修改人", "Who"),
    ("device", "设备", "Device"),
    ("what", "修改内容", "What"),
    ("refused", "被拒绝", "Refused"),
    ("withdrawn_by", "已撤回：", "withdrawn by"),
    (
        "session_ended",
        "登录已过期或被终止。本机的修改都还在，输入密码重新登录后即上传。",
        "Your session has ended. Your edits are kept on this tablet; enter your password to sign in again and send them.",
    ),
    ("sign_in_again", "请重新登录", "Sign in again"),
    ("syncing", "同步中…", "Syncing…"),
    ("synced", "已同步", "Synced"),
    (
        "search",
        "搜索摘要、编号、姓名、领导、经办人、单位",
        "Search summary, reference, names, leader, handler, unit",
    ),
    ("cases", "件", "cases"),
    ("waiting", "条待上传", "waiting to upload"),
    ("back", "← 返回", "← Back"),
    (
        "conflict",
        "多台设备填写不一致，请选择",
        "set differently on two devices; choose one",
    ),
    ("choose", "采用", "Use this"),
    ("notes", "工作记录", "Notes"),
    ("add_note", "追加记录", "Add to notes"),
    ("steps", "办理环节", "Lifecycle"),
    ("follow_ups", "走访回访", "Follow-up visits"),
    ("place", "地点", "Place"),
    ("add_follow_up", "添加走访记录", "Add follow-up visit"),
    ("new_case", "登记新案件", "Register a case"),
    ("unit", "单位", "Unit"),
    ("channel", "渠道", "Channel"),
    ("form", "形式", "Form"),
    ("people", "人数", "People"),
    ("level", "去向层级", "Lodged at"),
    ("source", "来源", "Source"),
    ("category", "问题类别", "Category"),
    ("matter_kind", "信访事项类型", "Kind of matter"),
    ("reference", "编号", "Reference"),
    ("handler", "经办人", "Handler"),
    ("leader", "包案领导", "Leader in charge"),
    ("summary", "诉求摘要", "Summary of the request"),
    (
        "summary_needed",
        "请填写诉求摘要",
        "Please write the summary",
    ),
    ("register", "登记", "Register"),
    ("all_states", "全部状态", "All states"),
    ("responsible_unit", "责任单位", "Responsible unit"),
    ("reason", "理由", "Reason"),
    ("no_outcome", "（无结论）", "(no outcome)"),
    ("add_step", "记录环节", "Record step"),
    ("deadline", "期限", "due"),
    ("all_units", "全部单位", "All units"),
    ("all_channels", "全部渠道", "All channels"),
    ("all_colours", "全部颜色", "All colours"),
    ("showing_first", "显示前", "showing the first"),
    ("loading", "正在读取…", "Loading…"),
    (
        "part_not_loaded",
        "本机尚未下载完整的应用，请在有信号时再试。",
        "This tablet has not downloaded the whole app yet; try again where there is a signal.",
    ),
    ("petitioners", "信访人", "Petitioners"),
    ("name", "姓名", "Name"),
    ("reports", "报表", "Reports"),
    ("bulletin", "信访情况日通报", "Daily bulletin"),
    ("figures", "信访数据", "Figures"),
    ("rates", "考核指标", "Rates"),
    ("assessment", "信访月考评", "Monthly assessment"),
    ("print", "打印", "Print"),
    ("import_ledger", "导入台账", "Import a ledger"),
    (
        "export_ledger_xlsx",
        "导出台账（Excel）",
        "Export the ledgers (Excel)",
    ),
    (
        "import_hint",
        "选择台账文件（Excel 的 .xlsx，读第一张工作表；或 CSV）。编号相同的案件会被更新，不会重复。",
        "Choose the ledger file (Excel .xlsx, its first sheet; or CSV). Cases with the same reference are updated, not duplicated.",
    ),
    ("file", "文件", "File"),
    (
        "no_header",
        "找不到表头（登记日期、信访人、反映问题……）",
        "No header row found (登记日期, 信访人, 反映问题 …)",
    ),
    ("mapping", "各列读作", "What each column is read as"),
    ("column", "列", "Column"),
    ("read_as", "读作", "Read as"),
    ("ignored", "不导入", "not imported"),
    ("readable_rows", "可导入行数", "Rows to import"),
    ("problem_rows", "无法读取行数", "rows that cannot be read"),
    (
        "warning_rows",
        "部分内容未能识别的行",
        "Rows with something left out",
    ),
    ("row", "行", "Row"),
    ("why", "原因", "Why"),
    ("run_import", "开始导入", "Import"),
    ("imported", "导入完成", "Imported"),
    ("created_n", "新建", "created"),
    ("updated_n", "更新", "updated"),
    ("failed_n", "失败", "failed"),
    (
        "by_month",
        "逐月（去年同月浅色）",
        "Month by month (last year light)",
    ),
    ("reception_figures", "领导接访", "Leader receptions"),
    ("campaigns", "专项活动", "Campaigns"),
    ("by_week", "逐周累计化解", "resolved by week"),
    (
        "export_ledger",
        "导出信访事项台账（CSV）",
        "Export the case ledger (CSV)",
    ),
    (
        "exported_rows",
        "已导出台账，行数：",
        "Ledger exported, rows:",
    ),
    ("matters_unit", "件", "matters"),
    ("people_unit", "人次", "people"),
    ("none", "无", "none"),
    ("year_on_year", "同比", "year on year"),
    ("last_year", "去年同期", "same period last year"),
    (
        "chart_key",
        "深色：本期；浅色：去年同期。",
        "Dark: this period; light: the same days last year.",
    ),
    ("rank", "名次", "Rank"),
    ("score", "得分", "Score"),
    ("standing", "通报", "Standing"),
    (
        "details_masked",
        "身份证号、电话和住址只对办理本案的单位显示，此处已隐去。",
        "ID numbers, phones and addresses are shown only to the units handling this case; they are hidden here.",
    ),
    ("id_number", "身份证号", "ID number"),
    ("phone", "电话", "Phone"),
    ("address", "住址", "Address"),
    ("add_petitioner", "添加信访人", "Add petitioner"),
    ("date", "日期", "Date"),
    ("time", "时间", "Time"),
    ("visitors", "走访人员", "Who went"),
    ("met", "接谈对象", "Who was met"),
    ("attitude", "态度", "Attitude"),
    ("visit_outcome", "结果", "Outcome"),
    ("next_step", "下一步", "Next step"),
    ("visit_text", "谈了什么", "What was discussed"),
    ("seven_evenings", "七晚工作法", "Seven evenings"),
    ("start", "开始", "from"),
    ("restarts", "重新开始", "restarts"),
    ("run_broken", "中断于", "run broken on"),
    ("run_complete", "七晚已完成", "all seven evenings held"),
    ("held", "已开展", "held"),
    ("missed", "未开展", "missed"),
    ("tonight", "今晚", "tonight"),
    ("ahead", "待开展", "ahead"),
    ("agreement", "达成共识", "Agreement"),
    ("evening_outcome", "七晚结果", "Outcome of the plan"),
    ("log_evening", "记录当晚情况", "Log the evening"),
    ("held_or_missed", "是否开展", "Held or missed"),
    ("talk", "谈话内容", "What was talked about"),
    (
        "start_evenings",
        "制定七晚计划",
        "Start a seven-evenings plan",
    ),
    (
        "restart_evenings",
        "重新开始七晚",
        "Restart the seven evenings",
    ),
    ("evaluation", "满意度评价", "Satisfaction"),
    ("eval_office", "信访部门", "Petition office"),
    ("eval_unit", "责任单位", "Responsible unit"),
    ("record_evaluation", "记录评价", "Record evaluation"),
    ("not_evaluated", "尚未评价", "Not evaluated yet"),
    ("board", "四色督办", "Four-colour board"),
    ("caseload", "案件列表", "Caseload"),
    ("total", "合计", "Total"),
    ("repeat_petitions", "重复信访", "Repeat petitions"),
    ("office_rate", "信访部门满意率", "Satisfied with the bureau"),
    ("unit_rate", "责任单位满意率", "Satisfied with the unit"),
    ("evaluated", "件参评", "evaluated"),
    (
        "repeat_nth",
        "重复信访 · 第 {} 次",
        "Repeat petition · number {}",
    ),
    (
        "earlier_petitions",
        "此前同一信访人就同一事项的信访",
        "Earlier petitions of the same person on the same matter",
    ),
    (
        "later_petitions",
        "此后同一信访人就同一事项又信访",
        "Later petitions of the same person on the same matter",
    ),
    ("responsibility", "包案与责任", "Responsibility"),
    ("package_due", "包案化解期限", "Package to be resolved by"),
    ("package_tasks", "领导包案任务", "Leader's package tasks"),
    ("four_packages", "四定四包", "Four assigned, four packages"),
    ("joint_handling", "联合办理", "Joint handling"),
    ("lead_unit", "牵头单位", "Lead unit"),
    (
        "add_assisting",
        "＋ 增加协办单位",
        "+ Add an assisting unit",
    ),
    ("remove", "移除", "Remove"),
    ("done", "已完成", "done"),
    ("notes_count", "条进展", "progress notes"),
    ("progress_note", "进展情况", "Progress"),
    ("add_progress", "记录进展", "Record progress"),
    ("aid", "信访救助", "Hardship aid"),
    ("amount", "金额（元）", "Amount (yuan)"),
    ("yuan", "元", "yuan"),
    ("aid_reason", "救助理由", "Reason"),
    ("approved_by", "审批", "Approved by"),
    ("approved_on", "审批日期", "Approved on"),
    ("paid_on", "发放日期", "Paid on"),
    ("mark_paid", "标记为今日已发放", "Mark as paid today"),
    ("add_aid", "记录救助", "Record aid"),
    (
        "amount_needed",
        "请填写救助金额（元）",
        "Please give the amount in yuan",
    ),
    ("hearings", "群众评议/听证", "Public evaluation hearings"),
    ("participants", "参加人员", "Participants"),
    ("conclusion", "评议结论", "Conclusion"),
    ("add_hearing", "记录听证", "Record hearing"),
    ("ledger", "矛盾纠纷台账", "Mediation ledger"),
    ("new_dispute", "登记纠纷", "Register a dispute"),
    ("disputes", "件纠纷", "disputes"),
    ("sessions_count", "次调解", "sessions"),
    ("in_mediation", "调解中", "in mediation"),
    ("committee", "调委会", "Committee"),
    (
        "dispute_summary",
        "纠纷简要情况",
        "What the dispute is about",
    ),
    ("open_case", "查看关联信访案件", "Open the linked case"),
    ("mediator", "调解员", "Mediator"),
    ("result", "调解结果", "Result"),
    ("parties", "当事人", "Parties"),
    ("sessions", "调解记录", "Sessions"),
    ("escalations", "逐级上报", "Escalations"),
    ("agreement_text", "调解协议", "Agreement"),
    ("party_name", "当事人姓名", "Party's name"),
    ("add_party", "添加当事人", "Add party"),
    ("session_text", "调解经过", "What happened"),
    ("add_session", "记录调解", "Record session"),
    ("escalate_reason", "上报理由", "Why it goes up"),
    ("escalate", "上报上一级", "Escalate one level"),
    ("to_case", "转为信访案件", "Turn into a petition case"),
    ("to_mediation", "转人民调解", "Send to mediation"),
    ("open_dispute", "查看调解记录", "Open the mediation"),
    ("reception_days", "领导接访", "Leader reception days"),
    ("new_reception", "安排接访日", "Schedule a reception day"),
    ("matters", "件", "matters"),
    ("people_received", "人", "people"),
    ("on_the_spot", "件现场化解", "resolved on the spot"),
    ("given_deadline", "件限期化解", "given a deadline"),
    ("became_cases", "件登记为案件", "registered as cases"),
    ("matters_received", "接待事项", "Matters received"),
    ("appointments", "预约接访", "Appointments"),
    ("receive_matter", "登记接待事项", "Record a matter received"),
    ("matter_summary", "反映事项", "What was asked"),
    ("due", "化解期限", "Resolve by"),
    ("receive", "登记事项", "Record matter"),
    ("book", "预约", "Book"),
    (
        "people_needed",
        "请填写人数",
        "Please give the number of people",
    ),
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
        let mut keys: Vec<&str> = WORDS.iter().map(|w| w.0).collect();
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(
            keys.len(),
            before,
            "a key is declared twice: the second is never shown"
        );
        assert_eq!(count(1, "disputes", Lang::En), "1 dispute");
        assert_eq!(count(2, "disputes", Lang::En), "2 disputes");
        assert_eq!(count(1, "disputes", Lang::Zh), "1 件纠纷");
        assert_eq!(t(Lang::Zh, "login"), "登录");
        assert_eq!(t(Lang::En, "login"), "Sign in");
    }
}

/// "3 件纠纷", "1 dispute", "3 disputes": a number with its word, singular in English for one.
pub fn count(n: usize, key: &str, lang: Lang) -> String {
    let word = t(lang, key);
    match lang {
        Lang::En if n == 1 => format!("1 {}", word.strip_suffix('s').unwrap_or(word)),
        _ => format!("{n} {word}"),
    }
}

/// The label of any vocabulary value, state, colour or route in the screen's language: the one
/// place that chooses between a value's Chinese and English words.
pub fn vocab_label<T: lianxin_shared::Label>(v: T, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => v.zh(),
        Lang::En => v.en(),
    }
}
