//! Ledgers 台账, pure: the case ledger as a table (what the XLSX and CSV writers write, with
//! Chinese headers, real dates and sensible widths), and the reading of an office's own Excel
//! ledger — its usual Chinese headers recognised, a mapping the user can correct, each row
//! read into a [`Record`] or refused with the reason — and the case a record becomes (dated
//! steps, so its deadline, colour and rates are right).
//!
//! Personal details go into the ledger only as the exporting device holds them: in full for
//! cases read with their details (the user's unit handles them), masked otherwise.

use serde::Serialize;

use crate::rules::authority::{Role, Touch, may};
use crate::rules::{self, Calendar, Limits};
use crate::{
    Case, CaseDoc, CaseDraft, Category, Channel, Date, DetailsDoc, DocId, Editor, Error, Field,
    Kind, Outcome, Petitioner, StepDraft, StepKind, UnitId, Vocabulary,
};
use automerge::ActorId;

/// One cell of a ledger.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Int(i64),
    Date(Date),
    Empty,
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    /// As a spreadsheet's text (dates as YYYY-MM-DD).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// A column: its Chinese header and its width in characters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Column {
    pub header: String,
    pub width: u16,
}

/// A ledger (one sheet): its name, columns and rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Table {
    /// The table as CSV lines (header first), without the byte-order mark.
    pub fn csv_lines(&self) -> String {
        let mut out = String::new();
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        out.push_str(&line(
            self.columns.iter().map(|c| c.header.clone()).collect(),
        ));
        out.push_str("\r\n");
        for row in &self.rows {
            out.push_str(&line(row.iter().map(Cell::display).collect()));
            out.push_str("\r\n");
        }
        out
    }
}

/// Tables as one CSV in UTF-8 with a byte-order mark (so Excel reads the Chinese): with
/// several, each under a line with its name, a blank line between them.
pub fn csv(tables: &[Table]) -> String {
    let mut out = String::from("\u{feff}");
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if tables.len() > 1 {
            out.push_str(&csv_field(&t.name));
            out.push_str("\r\n");
        }
        out.push_str(&t.csv_lines());
    }
    out
}

const CASE_COLUMNS: &[(&str, u16)] = &[
    ("编号", 18),
    ("登记日期", 12),
    ("信访人", 12),
    ("身份证号", 20),
    ("联系电话", 14),
    ("住址", 24),
    ("信访形式", 10),
    ("人数", 6),
    ("问题类别", 14),
    ("反映问题", 40),
    ("责任单位", 16),
    ("包案领导", 12),
    ("办理情况", 10),
    ("办理期限", 12),
    ("办结日期", 12),
    ("督办颜色", 8),
    ("对信访部门满意度", 10),
    ("对责任单位满意度", 10),
];

/// The case ledger 信访事项台账 as of `today`: a row per case, oldest first. `unit_name` names
/// a unit by its id (the directory's name).
pub fn case_ledger(
    cases: &[Case],
    unit_name: &dyn Fn(&str) -> String,
    limits: &Limits,
    calendar: &Calendar,
    today: Date,
) -> Table {
    let mut sorted: Vec<&Case> = cases.iter().collect();
    sorted.sort_by_key(|c| (c.received(), c.header.id.to_string()));
    let rows = sorted
        .into_iter()
        .map(|c| {
            let steps = c.live_steps();
            let life = rules::lifecycle(&steps, c.received(), limits, calendar);
            let colour = rules::colour(&life, today, limits);
            let join = |key: &str| {
                c.petitioners
                    .iter()
                    .filter_map(|p| p.shown(key))
                    .collect::<Vec<_>>()
                    .join("；")
            };
            let concluded = steps
                .iter()
                .rev()
                .find(|s| s.kind.is(StepKind::Concluded))
                .map(|s| s.on);
            let evaluation = c.evaluation();
            vec![
                Cell::text(c.reference.clone().unwrap_or_default()),
                Cell::Date(c.received()),
                Cell::text(
                    c.petitioners
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::text(join("id_number")),
                Cell::text(join("phone")),
                Cell::text(join("address")),
                Cell::text(
                    c.channel
                        .as_ref()
                        .map(|v| v.zh().to_string())
                        .unwrap_or_default(),
                ),
                c.people.map(Cell::Int).unwrap_or(Cell::Empty),
                Cell::text(
                    c.category
                        .as_ref()
                        .map(|v| v.zh().to_string())
                        .unwrap_or_default(),
                ),
                Cell::text(c.summary.clone()),
                Cell::text(
                    c.responsible_unit
                        .as_ref()
                        .map(|u| unit_name(u.as_str()))
                        .unwrap_or_default(),
                ),
                Cell::text(c.leader.clone().unwrap_or_default()),
                Cell::text(life.state.zh()),
                life.deadline
                    .map(|d| Cell::Date(d.due))
                    .unwrap_or(Cell::Empty),
                concluded.map(Cell::Date).unwrap_or(Cell::Empty),
                Cell::text(colour.zh()),
                Cell::text(
                    evaluation
                        .map(|e| e.office.zh().to_string())
                        .unwrap_or_default(),
                ),
                Cell::text(
                    evaluation
                        .map(|e| e.unit.zh().to_string())
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    Table {
        name: "信访事项台账".into(),
        columns: CASE_COLUMNS
            .iter()
            .map(|(header, width)| Column {
                header: header.to_string(),
                width: *width,
            })
            .collect(),
        rows,
    }
}

/// The dispute ledger 矛盾纠纷排查调处台账: a row per dispute, oldest first.
pub fn dispute_ledger(disputes: &[crate::Dispute], unit_name: &dyn Fn(&str) -> String) -> Table {
    let mut sorted: Vec<&crate::Dispute> = disputes.iter().collect();
    sorted.sort_by_key(|d| (d.header.created_at, d.header.id.to_string()));
    let code = |c: Option<String>| Cell::text(c.unwrap_or_default());
    let rows = sorted
        .into_iter()
        .map(|d| {
            vec![
                Cell::Date(Date::from_unix_ms_china(d.header.created_at)),
                Cell::text(
                    d.header
                        .units
                        .first()
                        .map(|u| unit_name(u.as_str()))
                        .unwrap_or_default(),
                ),
                Cell::text(d.summary.clone()),
                Cell::text(
                    d.parties
                        .iter()
                        .map(|p| match &p.role {
                            Some(r) => format!("{}（{r}）", p.name),
                            None => p.name.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                code(d.kind.as_ref().map(|k| k.zh().to_string())),
                code(d.committee.as_ref().map(|k| k.zh().to_string())),
                code(d.level.as_ref().map(|k| k.zh().to_string())),
                Cell::text(d.mediator.clone().unwrap_or_default()),
                Cell::Int(d.sessions.len() as i64),
                code(d.result.as_ref().map(|k| k.zh().to_string())),
                Cell::text(d.agreement.clone()),
            ]
        })
        .collect();
    Table {
        name: "矛盾纠纷台账".into(),
        columns: [
            ("登记日期", 12),
            ("单位", 14),
            ("纠纷概要", 40),
            ("当事人", 24),
            ("调解类型", 10),
            ("调委会", 12),
            ("调解层级", 12),
            ("调解员", 10),
            ("调解次数", 8),
            ("调解结果", 10),
            ("协议内容", 30),
        ]
        .iter()
        .map(|(h, w)| Column {
            header: h.to_string(),
            width: *w,
        })
        .collect(),
        rows,
    }
}

/// The reception ledger 领导接访台账: a row per matter received, by day.
pub fn reception_ledger(days: &[crate::Reception], unit_name: &dyn Fn(&str) -> String) -> Table {
    let mut sorted: Vec<&crate::Reception> = days.iter().collect();
    sorted.sort_by_key(|r| (r.on, r.header.id.to_string()));
    let mut rows = Vec::new();
    for r in sorted {
        let unit = r
            .header
            .units
            .first()
            .map(|u| unit_name(u.as_str()))
            .unwrap_or_default();
        for m in &r.matters {
            rows.push(vec![
                r.on.map(Cell::Date).unwrap_or(Cell::Empty),
                Cell::text(unit.clone()),
                Cell::text(r.leader.clone().unwrap_or_default()),
                Cell::text(r.place.clone().unwrap_or_default()),
                Cell::text(m.petitioner.clone()),
                Cell::Int(m.people),
                Cell::text(m.summary.clone()),
                Cell::text(m.outcome.zh().to_string()),
                m.due.map(Cell::Date).unwrap_or(Cell::Empty),
                Cell::text(if m.case.is_some() { "是" } else { "" }),
            ]);
        }
    }
    Table {
        name: "领导接访台账".into(),
        columns: [
            ("接访日期", 12),
            ("单位", 14),
            ("接访领导", 12),
            ("地点", 16),
            ("来访人", 10),
            ("人数", 6),
            ("反映问题", 40),
            ("处理方式", 12),
            ("化解期限", 12),
            ("已登记为案件", 10),
        ]
        .iter()
        .map(|(h, w)| Column {
            header: h.to_string(),
            width: *w,
        })
        .collect(),
        rows,
    }
}

/// What a column of an imported ledger holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Reference,
    Registered,
    Name,
    IdNumber,
    Phone,
    Address,
    Channel,
    People,
    Category,
    Summary,
    Responsible,
    Leader,
    Progress,
    Concluded,
}

impl Target {
    pub const ALL: [Target; 14] = [
        Target::Reference,
        Target::Registered,
        Target::Name,
        Target::IdNumber,
        Target::Phone,
        Target::Address,
        Target::Channel,
        Target::People,
        Target::Category,
        Target::Summary,
        Target::Responsible,
        Target::Leader,
        Target::Progress,
        Target::Concluded,
    ];

    /// The code used in a mapping (`--map 来访时间=registered`).
    pub fn code(self) -> &'static str {
        match self {
            Target::Reference => "reference",
            Target::Registered => "registered",
            Target::Name => "name",
            Target::IdNumber => "id_number",
            Target::Phone => "phone",
            Target::Address => "address",
            Target::Channel => "channel",
            Target::People => "people",
            Target::Category => "category",
            Target::Summary => "summary",
            Target::Responsible => "responsible",
            Target::Leader => "leader",
            Target::Progress => "progress",
            Target::Concluded => "concluded",
        }
    }

    pub fn from_code(code: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The headers offices use for it, as they write them.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Target::Reference => &[
                "编号",
                "案件编号",
                "信访编号",
                "登记编号",
                "事项编号",
                "文号",
            ],
            Target::Registered => &[
                "登记日期",
                "来访日期",
                "信访日期",
                "受理日期",
                "来信日期",
                "登记时间",
                "来访时间",
            ],
            Target::Name => &["信访人", "姓名", "信访人姓名", "来访人", "反映人"],
            Target::IdNumber => &["身份证号", "身份证号码", "证件号码", "公民身份号码"],
            Target::Phone => &["联系电话", "电话", "手机", "手机号码", "联系方式"],
            Target::Address => &["住址", "地址", "家庭住址", "现住址", "户籍地址"],
            Target::Channel => &["信访形式", "渠道", "信访方式", "来源渠道", "信访渠道"],
            Target::People => &["人数", "来访人数", "信访人数"],
            Target::Category => &["问题类别", "类别", "问题分类", "信访类别"],
            Target::Summary => &[
                "反映问题",
                "诉求摘要",
                "主要诉求",
                "反映内容",
                "信访事项",
                "事由",
                "主要问题",
            ],
            Target::Responsible => &["责任单位", "承办单位", "交办单位", "办理单位"],
            Target::Leader => &["包案领导", "责任领导"],
            Target::Progress => &["办理情况", "办理结果", "处理情况", "化解情况"],
            Target::Concluded => &["办结日期", "办结时间", "化解日期"],
        }
    }
}

/// Which column holds what: recognised from the header row, then corrected by the user's
/// own choices (`header → target`, or `header → ignored` with None).
pub fn recognise(
    headers: &[String],
    corrections: &[(String, Option<Target>)],
) -> Vec<Option<Target>> {
    let normal = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && !"*：:（）()".contains(*c))
            .collect::<String>()
    };
    let mut taken = std::collections::HashSet::new();
    headers
        .iter()
        .map(|h| {
            let h = normal(h);
            if let Some((_, t)) = corrections.iter().find(|(c, _)| normal(c) == h) {
                return *t;
            }
            let found = Target::ALL
                .into_iter()
                .find(|t| t.headers().iter().any(|x| *x == h));
            // The first column of a kind wins; a second 电话 is not read over the first.
            found.filter(|t| taken.insert(*t))
        })
        .collect()
}

/// One row of an imported ledger, read.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Record {
    /// The row's number in the sheet.
    pub row: usize,
    pub reference: Option<String>,
    pub registered: Option<Date>,
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub channel: Option<Channel>,
    pub people: Option<i64>,
    pub category: Option<Category>,
    pub summary: String,
    pub responsible: Option<UnitId>,
    pub leader: Option<String>,
    pub progress: Option<String>,
    pub concluded: Option<Date>,
    /// What could not be read and was left out (the row is still imported).
    pub warnings: Vec<String>,
}

/// A row that cannot be imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub row: usize,
    pub reason: String,
}

/// Reads a date as offices write it: 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305,
/// or a spreadsheet's day number (days since 1899-12-30, for the years 1954 to 2119).
pub fn read_date(s: &str) -> Option<Date> {
    let s = s.trim();
    if let Ok(serial) = s.parse::<f64>()
        && (20_000.0..80_000.0).contains(&serial)
        && (s.len() != 8 || s.contains('.'))
    {
        return Date::from_ymd(1899, 12, 30).map(|d| d.add_days(serial.floor() as i32));
    }
    let digits: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    match digits[..] {
        [y, m, d, ..] if y > 1900 => Date::from_ymd(y as i32, m, d),
        [ymd] if (19_000_101..=29_991_231).contains(&ymd) => {
            Date::from_ymd((ymd / 10_000) as i32, ymd / 100 % 100, ymd % 100)
        }
        _ => None,
    }
}

fn vocab<T: Vocabulary>(s: &str) -> Option<T> {
    let s = s.trim();
    T::from_code(s).or_else(|| {
        T::all()
            .iter()
            .copied()
            .find(|v| v.zh() == s || v.zh().split('/').any(|part| part == s))
            .or_else(|| {
                T::all()
                    .iter()
                    .copied()
                    .find(|v| s.contains(v.zh()) || v.zh().contains(s))
            })
    })
}

fn channel(s: &str) -> Option<Channel> {
    match s.trim() {
        "走访" | "来访" | "上访" | "到访" => Some(Channel::Visit),
        "信件" | "书信" | "来信" => Some(Channel::Letter),
        "电话" | "来电" => Some(Channel::Phone),
        "网信" | "网上" | "网络" | "网上信访" => Some(Channel::Online),
        other => vocab::<Channel>(other),
    }
}

/// Reads the rows under the header with the mapping `columns` (from [`recognise`]); `unit`
/// finds a unit's id from its name or id; `first_row` is the sheet's number of the first row
/// (so problems name the rows as the clerk sees them). Each row is a record or a problem;
/// empty rows are skipped.
pub fn read_records(
    rows: &[Vec<String>],
    first_row: usize,
    columns: &[Option<Target>],
    unit: &dyn Fn(&str) -> Option<UnitId>,
) -> (Vec<Record>, Vec<Problem>) {
    let (mut records, mut problems) = (Vec::new(), Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let number = first_row + i;
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut r = Record {
            row: number,
            ..Record::default()
        };
        for (value, target) in row.iter().zip(columns) {
            let (Some(target), v) = (target, value.trim()) else {
                continue;
            };
            if v.is_empty() {
                continue;
            }
            let some = || Some(v.to_string());
            match target {
                Target::Reference => r.reference = some(),
                Target::Registered => r.registered = read_date(v),
                Target::Name => r.name = some(),
                Target::IdNumber => r.id_number = some(),
                Target::Phone => r.phone = some(),
                Target::Address => r.address = some(),
                Target::Channel => {
                    r.channel = channel(v);
                    if r.channel.is_none() {
                        r.warnings
                            .push(format!("信访形式“{v}”无法识别，按来访登记"));
                    }
                }
                Target::People => match v.trim_end_matches('人').parse::<f64>() {
                    Ok(n) if (1.0..=100_000.0).contains(&n) => r.people = Some(n as i64),
                    _ => r.warnings.push(format!("人数“{v}”无法识别")),
                },
                Target::Category => {
                    r.category = vocab::<Category>(v);
                    if r.category.is_none() {
                        r.warnings.push(format!("问题类别“{v}”无法识别"));
                    }
                }
                Target::Summary => r.summary = v.to_string(),
                Target::Responsible => {
                    r.responsible = unit(v);
                    if r.responsible.is_none() {
                        r.warnings.push(format!("责任单位“{v}”不在单位名录中"));
                    }
                }
                Target::Leader => r.leader = some(),
                Target::Progress => r.progress = some(),
                Target::Concluded => {
                    r.concluded = read_date(v);
                    if r.concluded.is_none() {
                        r.warnings.push(format!("办结日期“{v}”无法识别"));
                    }
                }
            }
        }
        let registered_text = columns
            .iter()
            .position(|t| *t == Some(Target::Registered))
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let reason = if r.summary.is_empty() {
            Some("没有反映问题（诉求摘要）".to_string())
        } else if r.registered.is_none() && registered_text.is_empty() {
            Some("没有登记日期".to_string())
        } else if r.registered.is_none() {
            Some(format!("登记日期“{registered_text}”无法识别"))
        } else if r.concluded.zip(r.registered).is_some_and(|(c, g)| c < g) {
            Some("办结日期早于登记日期".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => problems.push(Problem {
                row: number,
                reason,
            }),
            None => records.push(r),
        }
    }
    (records, problems)
}

/// The time a record's case is taken to have been made: 09:00 China time on the day it was
/// registered (so the case is received that day).
fn made_at(day: Date) -> i64 {
    let (y, m, d) = day.ymd();
    let days = days_from_civil(y, m, d);
    days * 86_400_000 + 3_600_000 // 09:00 in China is 01:00 UTC
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The outcome a conclusion's 办理情况 names, if it names one.
fn outcome_of(progress: Option<&str>) -> Option<Outcome> {
    let p = progress?;
    if p.contains("不予支持") || p.contains("不支持") {
        Some(Outcome::NotUpheld)
    } else if p.contains("支持") {
        Some(Outcome::Upheld)
    } else if p.contains("协议") || p.contains("和解") || p.contains("调解") {
        Some(Outcome::Agreement)
    } else {
        Some(Outcome::Explained)
    }
}

impl Record {
    /// The case this record becomes, registered by `user` (whose role is `role`) for `unit`,
    /// with its details (shared with `others` besides, see [`crate::handling_units`]):
    /// registered on its day; assigned then to its responsible unit; accepted and concluded
    /// on the day it was concluded, if it was. What the role may not record (a registrar's
    /// conclusion, DOMAIN.md "Who may do what") is left out and said in the returned lines.
    pub fn to_case(
        &self,
        user: &str,
        role: Role,
        unit: &UnitId,
        others: &[UnitId],
        actor: ActorId,
    ) -> Result<(CaseDoc, DetailsDoc, Vec<String>), Error> {
        let day = self.registered.ok_or_else(|| Error::InvalidValue {
            field: "registered".into(),
            value: String::new(),
            reason: "a record needs its day".into(),
        })?;
        let ed = Editor::new(user, made_at(day));
        let draft = CaseDraft {
            id: DocId::random(),
            unit: unit.clone(),
            channel: self.channel.unwrap_or(Channel::Visit),
            summary: self.summary.clone(),
        };
        let mut others = others.to_vec();
        others.extend(self.responsible.clone());
        let (mut case, mut details) = CaseDoc::create_with_details(&draft, &others, &ed, actor);
        case.add_step(&ed, &step(StepKind::Registered, day, None))?;
        let left_out = self.update(&mut case, Some(&mut details), user, role)?;
        Ok((case, details, left_out))
    }

    /// Brings an existing case (matched by its reference) up to this record: fields that
    /// differ are set again, a petitioner not yet on it added, a conclusion recorded once.
    /// Without `details` (a device that does not hold them), personal details are left out.
    /// Returns what `role` may not record and was left out.
    pub fn update(
        &self,
        case: &mut CaseDoc,
        mut details: Option<&mut DetailsDoc>,
        user: &str,
        role: Role,
    ) -> Result<Vec<String>, Error> {
        let day = self.registered.unwrap_or(Date::from_unix_ms_china(0));
        // Half a minute after the registration, so the steps read back in their order.
        let ed = Editor::new(user, made_at(day) + 30_000);
        let now = case.read()?;
        let mut left_out = Vec::new();
        let may_field = |name: &str| may(role, Kind::Case.op(&Touch::Field(name)));
        let may_step = |kind: StepKind| {
            may(
                role,
                Kind::Case.op(&Touch::Entry {
                    list: "steps",
                    kind: Some(kind.code()),
                }),
            )
        };
        let set = |case: &mut CaseDoc, field: Field, value: Option<String>, old: Option<String>| {
            match value {
                Some(v) if Some(&v) != old.as_ref() && may_field(field.name()) => {
                    case.set(field, &v, &ed)
                }
                _ => Ok(()),
            }
        };
        set(
            case,
            Field::Reference,
            self.reference.clone(),
            now.reference.clone(),
        )?;
        set(
            case,
            Field::People,
            self.people.map(|n| n.to_string()),
            now.people.map(|n| n.to_string()),
        )?;
        set(
            case,
            Field::Form,
            self.people
                .map(|n| if n >= 5 { "collective" } else { "individual" }.to_string()),
            now.form.as_ref().map(|f| f.code().to_string()),
        )?;
        set(
            case,
            Field::Category,
            self.category.map(|c| c.code().to_string()),
            now.category.as_ref().map(|c| c.code().to_string()),
        )?;
        set(case, Field::Leader, self.leader.clone(), now.leader.clone())?;
        if self.responsible.is_some() && !may_field("responsible_unit") {
            left_out.push(format!(
                "责任单位须由登记员交办（{} 无权交办）",
                role.code()
            ));
        }
        if let Some(unit) = &self.responsible
            && now.responsible_unit.as_ref() != Some(unit)
            && may_field("responsible_unit")
        {
            if let Some(d) = details.as_deref_mut() {
                d.share(&ed, unit)?;
            }
            case.set(Field::ResponsibleUnit, unit.as_str(), &ed)?;
            case.add_step(&ed, &step(StepKind::Assigned, day, None))?;
        }
        if let Some(name) = &self.name
            && !now.petitioners.iter().any(|p| &p.name == name)
        {
            let held = details.is_some();
            let detail = |v: &Option<String>| v.clone().filter(|_| held);
            let p = Petitioner::new(
                name,
                detail(&self.id_number),
                detail(&self.phone),
                detail(&self.address),
            );
            case.add_petitioner(&ed, &p, details)?;
        }
        if self.concluded.is_some() && !may_step(StepKind::Concluded) {
            left_out.push(format!(
                "办结日期须由承办单位录入（{} 无权记录办结），已写入工作记录",
                role.code()
            ));
        }
        if let Some(on) = self.concluded
            && !now
                .live_steps()
                .iter()
                .any(|s| s.kind.is(StepKind::Concluded))
            && may_step(StepKind::Concluded)
        {
            let at = Editor::new(user, made_at(on) + 60_000);
            if !now
                .live_steps()
                .iter()
                .any(|s| s.kind.is(StepKind::Notified))
            {
                case.add_step(&at, &step(StepKind::Notified, day, None))?;
            }
            let outcome = outcome_of(self.progress.as_deref()).map(|o| o.code().to_string());
            case.add_step(&at, &step(StepKind::Concluded, on, outcome))?;
        }
        let mut note = self
            .progress
            .as_ref()
            .map(|p| format!("办理情况（导入）：{p}"))
            .unwrap_or_default();
        if let (Some(on), false) = (self.concluded, may_step(StepKind::Concluded)) {
            note.push_str(&format!("（台账记载办结日期 {on}）"));
        }
        if !note.is_empty() && !now.notes.contains(note.as_str()) {
            case.append_note(&ed, &note)?;
        }
        Ok(left_out)
    }
}

fn step(kind: StepKind, on: Date, outcome: Option<String>) -> StepDraft {
    StepDraft {
        kind,
        on,
        reason: None,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_offices_write_them() {
        let want = Date::from_ymd(2026, 3, 5);
        for s in [
            "2026-03-05",
            "2026/3/5",
            "2026.3.5",
            "2026年3月5日",
            "20260305",
            "46086",
            " 2026-3-5 ",
        ] {
            assert_eq!(read_date(s), want, "{s}");
        }
        // 29 February only in a leap year; nonsense is no date.
        assert_eq!(read_date("2028-02-29"), Date::from_ymd(2028, 2, 29));
        for s in ["2026-02-29", "三月初", "", "2026", "13/45/2026"] {
            assert_eq!(read_date(s), None, "{s}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_starts_with_a_bom() {
        let t = Table {
            name: "表".into(),
            columns: vec![
                Column {
                    header: "编号".into(),
                    width: 8,
                },
                Column {
                    header: "反映问题".into(),
                    width: 8,
                },
            ],
            rows: vec![vec![
                Cell::Text("A,1".into()),
                Cell::Text("他说\"欠薪\"\n两年".into()),
            ]],
        };
        assert_eq!(
            csv(&[t]),
            "\u{feff}编号,反映问题\r\n\"A,1\",\"他说\"\"欠薪\"\"\n两年\"\r\n"
        );
    }

    #[test]
    fn headers_are_recognised_and_the_users_corrections_win() {
        let headers: Vec<String> = [
            "序号",
            "来访日期",
            "姓名 ",
            "联系电话",
            "电话",
            "诉求摘要",
            "备注",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got = recognise(&headers, &[]);
        assert_eq!(
            got,
            [
                None,
                Some(Target::Registered),
                Some(Target::Name),
                Some(Target::Phone),
                None, // a second phone column is not read over the first
                Some(Target::Summary),
                None,
            ]
        );
        let fixed = recognise(
            &headers,
            &[
                ("备注".into(), Some(Target::Progress)),
                ("姓名".into(), None),
            ],
        );
        assert_eq!(fixed[6], Some(Target::Progress));
        assert_eq!(fixed[2], None);
        for t in Target::ALL {
            assert_eq!(Target::from_code(t.code()), Some(t));
        }
    }
}

/// The report tables, for XLSX (a sheet each) and CSV: what `report … --xlsx` writes.
pub mod tables {
    use super::{Cell, Column, Table};
    use crate::report::{Assessment, Bulletin, Figures, Rate, RatesReport, ReceptionFigures};
    use std::collections::BTreeMap;

    fn table(name: &str, columns: &[(&str, u16)], rows: Vec<Vec<Cell>>) -> Table {
        Table {
            name: name.to_string(),
            columns: columns
                .iter()
                .map(|(header, width)| Column {
                    header: header.to_string(),
                    width: *width,
                })
                .collect(),
            rows,
        }
    }

    fn text(s: impl Into<String>) -> Cell {
        Cell::text(s)
    }

    fn rate(r: &Rate) -> Cell {
        Cell::Text(r.shown())
    }

    fn change(c: Option<f64>) -> Cell {
        Cell::Text(c.map(|v| format!("{v:+.1}%")).unwrap_or_else(|| "—".into()))
    }

    pub fn bulletin(b: &Bulletin, unit: &dyn Fn(&str) -> String) -> Vec<Table> {
        let mut rows = Vec::new();
        for (group, lines) in &b.groups {
            for l in lines {
                rows.push(vec![
                    text(group.clone()),
                    text(l.reference.clone()),
                    text(l.summary.clone()),
                    text(unit(&l.unit)),
                    Cell::Int(l.people),
                    text(l.leader.clone().unwrap_or_default()),
                    text(l.handler.clone().unwrap_or_default()),
                    l.due.map(Cell::Date).unwrap_or(Cell::Empty),
                ]);
            }
        }
        let board = b
            .board
            .iter()
            .map(|(u, c)| {
                let name = if u.is_empty() {
                    "合计".to_string()
                } else {
                    unit(u)
                };
                let mut row = vec![text(name)];
                row.extend(c.iter().map(|n| Cell::Int(*n as i64)));
                row
            })
            .collect();
        vec![
            table(
                "日通报",
                &[
                    ("去向", 8),
                    ("编号", 18),
                    ("反映问题", 40),
                    ("责任单位", 16),
                    ("人数", 6),
                    ("包案领导", 12),
                    ("经办人", 10),
                    ("化解时限", 12),
                ],
                rows,
            ),
            table(
                "四色督办",
                &[
                    ("单位", 16),
                    ("红牌", 8),
                    ("黄牌", 8),
                    ("蓝牌", 8),
                    ("绿牌", 8),
                ],
                board,
            ),
        ]
    }

    pub fn figures(f: &Figures, label: &dyn Fn(&str, &str) -> String) -> Vec<Table> {
        const COLUMNS: &[(&str, u16)] = &[
            ("分类", 18),
            ("本期件数", 10),
            ("本期人次", 10),
            ("去年同期件数", 12),
            ("去年同期人次", 12),
            ("件数同比", 10),
            ("人次同比", 10),
        ];
        let line = |name: String, l: &crate::report::Line| {
            vec![
                text(name),
                Cell::Int(l.now.matters as i64),
                Cell::Int(l.now.people),
                Cell::Int(l.then.matters as i64),
                Cell::Int(l.then.people),
                change(l.matters_change),
                change(l.people_change),
            ]
        };
        let mut out = vec![table("合计", COLUMNS, vec![line("合计".into(), &f.total)])];
        for (dim, sheet) in [
            ("channel", "按渠道"),
            ("level", "按去向"),
            ("form", "按形式"),
            ("category", "按类别"),
            ("source", "按来源"),
            ("unit", "按单位"),
        ] {
            let rows =
                f.by.get(dim)
                    .map(|m| m.iter().map(|(k, l)| line(label(dim, k), l)).collect())
                    .unwrap_or_default();
            out.push(table(sheet, COLUMNS, rows));
        }
        out
    }

    pub fn rates(r: &RatesReport, unit: &dyn Fn(&str) -> String) -> Vec<Table> {
        let row = |name: String, x: &crate::report::Rates| {
            vec![
                text(name),
                rate(&x.timely_acceptance),
                rate(&x.on_time),
                rate(&x.satisfaction_office),
                rate(&x.satisfaction_unit),
                rate(&x.participation),
                rate(&x.repeat),
                rate(&x.online),
            ]
        };
        let mut rows = vec![row("合计".into(), &r.overall)];
        rows.extend(r.units.iter().map(|(u, x)| row(unit(u), x)));
        vec![table(
            "考核指标",
            &[
                ("单位", 16),
                ("及时受理率", 12),
                ("按期办结率", 12),
                ("满意率（信访部门）", 16),
                ("满意率（责任单位）", 16),
                ("参评率", 10),
                ("重复信访率", 12),
                ("网上信访占比", 12),
            ],
            rows,
        )]
    }

    pub fn assessment(a: &Assessment, unit: &dyn Fn(&str) -> String) -> Vec<Table> {
        let Some(last) = a.months.last() else {
            return Vec::new();
        };
        let parts: Vec<&'static str> = vec![
            "按期办结率",
            "及时受理率",
            "满意率（责任单位）",
            "参评率",
            "非重复信访",
            "网上信访占比",
            "赴京",
            "赴省",
            "月末红牌",
            "领导接访",
        ];
        let mut columns: Vec<(&str, u16)> = vec![("名次", 6), ("单位", 16), ("得分", 8)];
        columns.extend(parts.iter().map(|p| (*p, 10u16)));
        columns.push(("通报", 24));
        let rows = last
            .scores
            .iter()
            .map(|s| {
                let st = a.standing.get(&s.unit).cloned().unwrap_or_default();
                let mut marks = Vec::new();
                if st.commended {
                    marks.push("通报表扬");
                }
                if st.contest_bonus {
                    marks.push("连续三月前两名 +10");
                }
                if st.criticised {
                    marks.push("通报批评");
                }
                if st.close_management {
                    marks.push("重点管理");
                }
                let mut row = vec![
                    Cell::Int(s.rank as i64),
                    text(unit(&s.unit)),
                    text(format!("{:.2}", s.total)),
                ];
                row.extend(parts.iter().map(|p| {
                    let v = s.parts.iter().find(|x| x.0 == *p).map_or(0.0, |x| x.1);
                    text(format!("{v:.2}"))
                }));
                row.push(text(marks.join("，")));
                row
            })
            .collect();
        let history_rows: Vec<Vec<Cell>> = last
            .scores
            .iter()
            .map(|s| {
                let mut row = vec![text(unit(&s.unit))];
                row.extend(a.months.iter().map(|m| {
                    m.scores
                        .iter()
                        .find(|x| x.unit == s.unit)
                        .map_or(Cell::Empty, |x| Cell::Int(x.rank as i64))
                }));
                row
            })
            .collect();
        let mut history_columns: Vec<(&str, u16)> = vec![("单位", 16)];
        history_columns.extend(a.months.iter().map(|m| (m.month.as_str(), 10u16)));
        vec![
            table(&format!("月考评{}", last.month), &columns, rows),
            table("历月名次", &history_columns, history_rows),
        ]
    }

    pub fn campaigns(progress: &[crate::report::CampaignProgress]) -> Vec<Table> {
        let rows = progress
            .iter()
            .map(|p| {
                vec![
                    text(p.campaign.name.clone()),
                    Cell::Date(p.campaign.from),
                    p.campaign.to.map(Cell::Date).unwrap_or(Cell::Empty),
                    Cell::Int(p.matters as i64),
                    Cell::Int(p.resolved as i64),
                    rate(&p.rate),
                ]
            })
            .collect();
        let weekly = progress
            .iter()
            .flat_map(|p| {
                p.weeks.iter().map(|(day, n)| {
                    vec![
                        text(p.campaign.name.clone()),
                        Cell::Date(*day),
                        Cell::Int(*n as i64),
                    ]
                })
            })
            .collect();
        vec![
            table(
                "专项活动",
                &[
                    ("活动", 24),
                    ("开始", 12),
                    ("结束", 12),
                    ("交办事项", 10),
                    ("已化解", 10),
                    ("化解率", 10),
                ],
                rows,
            ),
            table(
                "逐周进度",
                &[("活动", 24), ("截至", 12), ("累计化解", 10)],
                weekly,
            ),
        ]
    }

    pub fn receptions(
        r: &BTreeMap<String, ReceptionFigures>,
        unit: &dyn Fn(&str) -> String,
    ) -> Vec<Table> {
        let rows = r
            .iter()
            .map(|(u, f)| {
                vec![
                    text(if u.is_empty() {
                        "合计".to_string()
                    } else {
                        unit(u)
                    }),
                    Cell::Int(f.days as i64),
                    Cell::Int(f.tally.matters as i64),
                    Cell::Int(f.tally.people),
                    Cell::Int(f.tally.on_the_spot as i64),
                    Cell::Int(f.tally.deadline as i64),
                    Cell::Int(f.tally.cases as i64),
                ]
            })
            .collect();
        vec![table(
            "领导接访",
            &[
                ("单位", 16),
                ("接访日数", 10),
                ("接待事项", 10),
                ("接待人次", 10),
                ("现场化解", 10),
                ("限期化解", 10),
                ("登记为案件", 10),
            ],
            rows,
        )]
    }
}
