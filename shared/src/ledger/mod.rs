//! Ledgers 台账, pure: the case ledger as a table (what the XLSX and CSV writers write, with
//! Chinese headers, real dates and sensible widths), and the reading of an office's own Excel
//! ledger — its usual Chinese headers recognised, a mapping the user can correct, each row
//! read into a [`Record`] or refused with the reason — and the case a record becomes (dated
//! steps, so its deadline, colour and rates are right).
//!
//! Personal details go into the ledger only as the exporting device holds them: in full for
//! cases read with their details (the user's unit handles them), masked otherwise.

use serde::Serialize;

use crate::rules::{self, Calendar, Limits};
use crate::{Case, Date, StepKind};

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

mod import;
pub mod xlsx;
pub use import::{
    ImportReport, Problem, Record, Target, find_header, find_unit, parse_csv, read_date,
    read_records, recognise,
};

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
    fn csv_is_read_back_as_written() {
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
            rows: vec![
                vec![
                    Cell::Text("A,1".into()),
                    Cell::Text("他说\"欠薪\"\n两年".into()),
                ],
                vec![Cell::Empty, Cell::Text("二".into())],
            ],
        };
        let rows = parse_csv(&csv(&[t]));
        assert_eq!(
            rows,
            vec![
                vec!["编号".to_string(), "反映问题".into()],
                vec!["A,1".into(), "他说\"欠薪\"\n两年".into()],
                vec!["".into(), "二".into()],
            ]
        );
        let titled = parse_csv("某镇台账\n\n编号,登记日期,信访人\n1,2026-01-02,王某\n");
        assert_eq!(find_header(&titled), Some(2));
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
pub mod tables;
