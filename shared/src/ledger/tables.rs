//! The report tables, for XLSX (a sheet each) and CSV: what `report … --xlsx` writes.
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
