//! The monthly assessment 信访月考评: each unit's score for a month with how it was made
//! (DOMAIN.md's rules, or the administrator's from the reference data), ranks with ties, and
//! the streaks over the months.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Item, Period, Rate, rates_with, repeated};
use crate::{Date, Level};

/// The monthly assessment's rules (DOMAIN.md's defaults; admin-edited reference data).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRules {
    pub on_time: f64,
    pub timely_acceptance: f64,
    pub satisfaction_unit: f64,
    pub participation: f64,
    pub no_repeat: f64,
    pub online: f64,
    pub capital: f64,
    pub province: f64,
    pub red: f64,
    pub reception_day: f64,
    pub reception_days_max: usize,
}

impl Default for AssessmentRules {
    fn default() -> Self {
        AssessmentRules {
            on_time: 30.0,
            timely_acceptance: 20.0,
            satisfaction_unit: 20.0,
            participation: 10.0,
            no_repeat: 10.0,
            online: 10.0,
            capital: -5.0,
            province: -2.0,
            red: -1.0,
            reception_day: 1.0,
            reception_days_max: 3,
        }
    }
}

/// One unit's score for a month, with how it was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub unit: String,
    pub total: f64,
    /// (part, points): each part as DOMAIN.md names it.
    pub parts: Vec<(String, f64)>,
    /// 1 is first; ties share a rank.
    pub rank: usize,
}

/// The assessment of one month: each unit's score and rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Month {
    pub month: String,
    pub scores: Vec<Score>,
}

fn weighted(rate: &Rate, weight: f64) -> f64 {
    // A rate with nothing to count scores its whole weight.
    rate.value().map_or(weight, |v| v * weight)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The month `YYYY-MM` scored for `units` (every township, street and department): the
/// cases of `items`, the reception days held (unit, day).
pub fn assess_month(
    items: &[Item],
    units: &[String],
    receptions: &[(String, Date)],
    month: &str,
    rules: &AssessmentRules,
) -> Option<Month> {
    assess_month_with(items, units, receptions, month, rules, &repeated(items))
}

fn assess_month_with(
    items: &[Item],
    units: &[String],
    receptions: &[(String, Date)],
    month: &str,
    rules: &AssessmentRules,
    repeated: &BTreeSet<String>,
) -> Option<Month> {
    let period = Period::month(month)?;
    let report = rates_with(items, period, repeated);
    let mut scores: Vec<Score> = units
        .iter()
        .map(|unit| {
            let r = report.units.get(unit).cloned().unwrap_or_default();
            let mine: Vec<&Item> = items
                .iter()
                .filter(|i| i.unit() == unit && !i.facts().archived)
                .collect();
            let lodged_at = |level: Level| {
                mine.iter()
                    .filter(|i| {
                        period.contains(i.facts().received)
                            && i.facts().level.as_ref().and_then(|l| l.known()) == Some(level)
                    })
                    .count() as f64
            };
            let red = mine
                .iter()
                .filter(|i| i.facts().overdue_on(period.to))
                .count() as f64;
            let days = receptions
                .iter()
                .filter(|(u, d)| u == unit && period.contains(*d))
                .count()
                .min(rules.reception_days_max) as f64;
            let no_repeat = Rate {
                num: r.repeat.den - r.repeat.num,
                den: r.repeat.den,
            };
            let parts = vec![
                (
                    "按期办结率".to_string(),
                    weighted(&r.on_time, rules.on_time),
                ),
                (
                    "及时受理率".to_string(),
                    weighted(&r.timely_acceptance, rules.timely_acceptance),
                ),
                (
                    "满意率（责任单位）".to_string(),
                    weighted(&r.satisfaction_unit, rules.satisfaction_unit),
                ),
                (
                    "参评率".to_string(),
                    weighted(&r.participation, rules.participation),
                ),
                (
                    "非重复信访".to_string(),
                    weighted(&no_repeat, rules.no_repeat),
                ),
                (
                    "网上信访占比".to_string(),
                    weighted(&r.online, rules.online),
                ),
                (
                    "赴京".to_string(),
                    lodged_at(Level::Capital) * rules.capital,
                ),
                (
                    "赴省".to_string(),
                    lodged_at(Level::Province) * rules.province,
                ),
                ("月末红牌".to_string(), red * rules.red),
                ("领导接访".to_string(), days * rules.reception_day),
            ];
            let parts: Vec<(String, f64)> =
                parts.into_iter().map(|(p, v)| (p, round2(v))).collect();
            Score {
                unit: unit.clone(),
                total: round2(parts.iter().map(|(_, v)| v).sum()),
                parts,
                rank: 0,
            }
        })
        .collect();
    scores.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.unit.cmp(&b.unit)));
    for i in 0..scores.len() {
        scores[i].rank = if i > 0 && scores[i].total == scores[i - 1].total {
            scores[i - 1].rank
        } else {
            i + 1
        };
    }
    Some(Month {
        month: month.to_string(),
        scores,
    })
}

/// What the months say of a unit: commended, criticised, streaks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// First place: 通报表扬.
    pub commended: bool,
    /// Last place: 通报批评.
    pub criticised: bool,
    /// Months running in the top two, up to this month.
    pub top_two_run: usize,
    /// In the top two three months running: +10 in the quarter's contest 季度擂台赛.
    pub contest_bonus: bool,
    /// Months running in last place, up to this month.
    pub last_run: usize,
    /// Last two months running: six months of close management 重点管理 from the next month.
    pub close_management: bool,
}

/// The assessment of a month with its history: the months up to it (oldest first) and each
/// unit's standing in the last of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub months: Vec<Month>,
    pub standing: BTreeMap<String, Standing>,
}

/// `months` (oldest first, `YYYY-MM`) assessed; the standing is that of the last month.
pub fn assessment(
    items: &[Item],
    units: &[String],
    receptions: &[(String, Date)],
    months: &[String],
    rules: &AssessmentRules,
) -> Assessment {
    let repeated = repeated(items);
    let months: Vec<Month> = months
        .iter()
        .filter_map(|m| assess_month_with(items, units, receptions, m, rules, &repeated))
        .collect();
    let mut standing = BTreeMap::new();
    for unit in units {
        let mut s = Standing::default();
        for month in &months {
            let Some(score) = month.scores.iter().find(|x| &x.unit == unit) else {
                continue;
            };
            let last = month.scores.iter().map(|x| x.rank).max().unwrap_or(0);
            let is_last = month.scores.len() > 1 && score.rank == last;
            s.commended = score.rank == 1;
            s.criticised = is_last;
            s.top_two_run = if score.rank <= 2 {
                s.top_two_run + 1
            } else {
                0
            };
            s.last_run = if is_last { s.last_run + 1 } else { 0 };
        }
        s.contest_bonus = s.top_two_run >= 3;
        s.close_management = s.last_run >= 2;
        standing.insert(unit.clone(), s);
    }
    Assessment { months, standing }
}

/// The month `YYYY-MM` and the `n - 1` before it, oldest first.
pub fn months_up_to(month: &str, n: usize) -> Vec<String> {
    let Some((y, m)) = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<i32>().ok()?)))
    else {
        return Vec::new();
    };
    let index = y * 12 + (m - 1);
    (0..n as i32)
        .rev()
        .map(|k| {
            let i = index - k;
            format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
        })
        .collect()
}
