//! Reading an office's own ledger: its usual Chinese headers recognised ([`recognise`], with
//! the user's corrections), each row a [`Record`] or a [`Problem`], each record the case it
//! becomes ([`Record::to_case`], with dated steps) or the update of the case it already is.

use serde::Serialize;

use crate::rules::authority::{Role, Touch, may};
use crate::{
    CaseDoc, CaseDraft, Category, Channel, Date, DetailsDoc, DocId, Editor, Error, Field, Kind,
    Outcome, Petitioner, StepDraft, StepKind, UnitId, Vocabulary,
};
use automerge::ActorId;

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

/// Reads CSV text (RFC 4180: quoted fields with doubled quotes, commas and line breaks inside
/// quotes; a byte-order mark ignored) into rows of fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// The header row of a sheet: offices put a title row or two above it, so it is the first
/// row naming at least two known columns.
pub fn find_header(rows: &[Vec<String>]) -> Option<usize> {
    rows.iter()
        .position(|r| recognise(r, &[]).iter().filter(|t| t.is_some()).count() >= 2)
}

impl Target {
    /// What the column holds, in Chinese, for the mapping a person corrects.
    pub fn zh(self) -> &'static str {
        self.headers()[0]
    }
}

/// A unit's id from how a ledger names it: its name or id, else a name containing it (or
/// contained in it). `units` are (id, name).
pub fn find_unit<'a>(
    units: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    s: &str,
) -> Option<UnitId> {
    let s = s.trim();
    units
        .clone()
        .find(|(id, name)| *name == s || *id == s)
        .or_else(|| {
            units
                .into_iter()
                .find(|(_, name)| name.contains(s) || s.contains(name))
        })
        .and_then(|(id, _)| UnitId::new(id).ok())
}

/// What an import did (or, dry, would do): the same on the tablet, the device and the server.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportReport {
    /// Each column's header and what it was read as (None: ignored).
    pub mapping: Vec<(String, Option<Target>)>,
    pub created: usize,
    pub updated: usize,
    /// Rows that could not be read, and why.
    pub problems: Vec<Problem>,
    /// Rows read with something left out, and what.
    pub warnings: Vec<(usize, Vec<String>)>,
    pub dry_run: bool,
}

impl ImportReport {
    /// Before anything is imported: the mapping, the problems, each record's warnings.
    pub fn new(
        headers: &[String],
        columns: Vec<Option<Target>>,
        records: &[Record],
        problems: Vec<Problem>,
        dry_run: bool,
    ) -> ImportReport {
        ImportReport {
            mapping: headers.iter().cloned().zip(columns).collect(),
            created: 0,
            updated: 0,
            problems,
            warnings: records
                .iter()
                .filter(|r| !r.warnings.is_empty())
                .map(|r| (r.row, r.warnings.clone()))
                .collect(),
            dry_run,
        }
    }

    /// Adds what was left out of a row as it was imported.
    pub fn note(&mut self, row: usize, lines: Vec<String>) {
        if lines.is_empty() {
            return;
        }
        match self.warnings.iter_mut().find(|(r, _)| *r == row) {
            Some((_, w)) => w.extend(lines),
            None => self.warnings.push((row, lines)),
        }
    }
}
