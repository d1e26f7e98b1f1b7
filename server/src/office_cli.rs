//! The office's commands on the command line: `lianxin device import` (an office's ledger
//! brought in, with the user's corrections to the mapping and progress on long files) and
//! `report …` (on a device over its own copy, or as `lianxin admin report …` over every case).

use std::path::Path;

use lianxin_server::device::Device;
use lianxin_server::reports::{Ask, Caseload};
use lianxin_shared::ledger::Target;

/// `--map HEADER=FIELD` (or `HEADER=` to ignore a column), parsed.
fn corrections(map: &[String]) -> anyhow::Result<Vec<(String, Option<Target>)>> {
    let mut corrections = Vec::new();
    for m in map {
        let (header, field) = m
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--map takes HEADER=FIELD, not {m}"))?;
        let target = match field.trim() {
            "" => None,
            f => Some(
                Target::from_code(f)
                    .ok_or_else(|| anyhow::anyhow!("unknown field {f} in --map {m}"))?,
            ),
        };
        corrections.push((header.to_string(), target));
    }
    Ok(corrections)
}

/// `admin import`: into the store, as the administrator; prints the report.
pub fn admin_import(
    store: &lianxin_server::store::Store,
    file: &Path,
    unit: &str,
    dry_run: bool,
    map: &[String],
) -> anyhow::Result<()> {
    let unit = lianxin_shared::UnitId::new(unit)?;
    let report = lianxin_server::ledger::import_into_store(
        store,
        file,
        &unit,
        &corrections(map)?,
        dry_run,
        lianxin_server::now_ms(),
    )?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Imports on the device; prints the report.
pub fn import(
    device: &mut Device,
    file: &Path,
    unit: &str,
    dry_run: bool,
    map: &[String],
    now: i64,
) -> anyhow::Result<()> {
    let corrections = corrections(map)?;
    let mut shown = 0;
    let report =
        device.import_ledger(file, unit, &corrections, dry_run, now, &mut |done, all| {
            // Long files say how far they are, a tenth at a time.
            if all >= 200 && done * 10 / all.max(1) > shown {
                shown = done * 10 / all.max(1);
                eprintln!("{done}/{all} rows");
            }
        })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Where a report is written besides (or instead of) the JSON on standard output.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct Out {
    /// Writes the report's tables as XLSX, a sheet each.
    #[arg(long)]
    pub xlsx: Option<std::path::PathBuf>,
    /// Writes the report's tables as CSV (UTF-8 with a BOM).
    #[arg(long)]
    pub csv: Option<std::path::PathBuf>,
}

/// `report …`: each prints JSON (docs/reports.md), or writes `--xlsx FILE` / `--csv FILE`.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum ReportCommand {
    /// 信访情况日通报: the day's matters by where they were lodged, then the four colours.
    Bulletin {
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Matters and people by channel, level, form, category, source and unit, with 同比.
    Figures {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        unit: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// 及时受理率, 按期办结率, 满意率, 参评率, 重复信访率, 网上信访占比: per unit and overall.
    Rates {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        out: Out,
    },
    /// 信访月考评 of YYYY-MM with the five months before it: scores and how they were made,
    /// ranks, streaks.
    Assessment {
        #[arg(long)]
        month: String,
        #[command(flatten)]
        out: Out,
    },
    /// Each campaign's matters, resolved, 化解率 and week-by-week progress, as of a day.
    Campaigns {
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Leader reception figures for a period: days held, matters, people, outcomes.
    Receptions {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        out: Out,
    },
}

impl ReportCommand {
    fn out(&self) -> &Out {
        match self {
            ReportCommand::Bulletin { out, .. }
            | ReportCommand::Figures { out, .. }
            | ReportCommand::Rates { out, .. }
            | ReportCommand::Assessment { out, .. }
            | ReportCommand::Receptions { out, .. }
            | ReportCommand::Campaigns { out, .. } => out,
        }
    }
}

/// The report asked for, `today` (China time) where no day is given.
pub fn ask(command: &ReportCommand, today: lianxin_shared::Date) -> anyhow::Result<Ask> {
    let day = |s: &str| -> anyhow::Result<lianxin_shared::Date> { Ok(s.parse()?) };
    Ok(match command {
        ReportCommand::Bulletin { on, .. } => Ask::Bulletin {
            on: on.as_deref().map(day).transpose()?.unwrap_or(today),
        },
        ReportCommand::Figures { from, to, unit, .. } => Ask::Figures {
            from: day(from)?,
            to: day(to)?,
            unit: unit.clone(),
        },
        ReportCommand::Rates { from, to, .. } => Ask::Rates {
            from: day(from)?,
            to: day(to)?,
        },
        ReportCommand::Campaigns { on, .. } => Ask::Campaigns {
            on: on.as_deref().map(day).transpose()?.unwrap_or(today),
        },
        ReportCommand::Receptions { from, to, .. } => Ask::Receptions {
            from: day(from)?,
            to: day(to)?,
        },
        ReportCommand::Assessment { month, .. } => {
            if lianxin_shared::report::Period::month(month).is_none() {
                anyhow::bail!("--month takes YYYY-MM, not {month}");
            }
            Ask::Assessment {
                month: month.clone(),
            }
        }
    })
}

/// Prints a report of `caseload` as JSON, or writes its tables where `command` says.
pub fn print(caseload: &Caseload, command: &ReportCommand, ask: &Ask) -> anyhow::Result<()> {
    let limits = lianxin_shared::rules::Limits::default();
    let out = command.out();
    if out.xlsx.is_none() && out.csv.is_none() {
        println!(
            "{}",
            serde_json::to_string_pretty(&caseload.report(ask, &limits))?
        );
        return Ok(());
    }
    let tables = caseload.tables(ask, &limits);
    if let Some(path) = &out.xlsx {
        lianxin_server::ledger::write_xlsx(&tables, path)?;
        println!("{} sheets written to {}", tables.len(), path.display());
    }
    if let Some(path) = &out.csv {
        lianxin_server::ledger::write_csv_tables(&tables, path)?;
        println!("{} tables written to {}", tables.len(), path.display());
    }
    Ok(())
}

/// `admin calendar …`: the holiday calendar deadlines are computed with.
#[derive(clap::Subcommand)]
pub enum CalendarCommand {
    /// Public holidays (rest days that are not weekends).
    Holiday {
        days: Vec<String>,
    },
    /// Make-up working days 调休上班 (weekends that are working days).
    Workday {
        days: Vec<String>,
    },
    Remove {
        days: Vec<String>,
    },
    List,
}

/// Changes or lists the holiday calendar.
pub fn calendar(
    store: &lianxin_server::store::Store,
    command: CalendarCommand,
) -> anyhow::Result<()> {
    use lianxin_shared::Date;
    let parse = |days: &[String]| -> anyhow::Result<Vec<Date>> {
        anyhow::ensure!(!days.is_empty(), "give one or more dates (YYYY-MM-DD)");
        // Every date is checked before any is written.
        days.iter()
            .map(|d| d.parse::<Date>().map_err(anyhow::Error::from))
            .collect()
    };
    match command {
        CalendarCommand::Holiday { days } => {
            for d in parse(&days)? {
                store.set_calendar_day(d, false)?;
            }
        }
        CalendarCommand::Workday { days } => {
            for d in parse(&days)? {
                store.set_calendar_day(d, true)?;
            }
        }
        CalendarCommand::Remove { days } => {
            for d in parse(&days)? {
                store.remove_calendar_day(d)?;
            }
        }
        CalendarCommand::List => {
            let cal = store.calendar()?;
            let mut all: Vec<(Date, &str)> = cal
                .holidays
                .iter()
                .map(|d| (*d, "holiday"))
                .chain(cal.workdays.iter().map(|d| (*d, "workday")))
                .collect();
            all.sort();
            for (d, kind) in all {
                println!("{d}\t{kind}");
            }
        }
    }
    Ok(())
}

/// `admin reference …`.
#[derive(clap::Subcommand)]
pub enum ReferenceCommand {
    /// Prints the reference data as JSON.
    Show,
    /// Adds a campaign 专项活动; prints its id (cases are tagged with `device case campaign`).
    Campaign {
        name: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        kind: Option<String>,
    },
    /// Sets one of the monthly assessment's rules (whole points): on_time, timely_acceptance,
    /// satisfaction_unit, participation, no_repeat, online, capital, province, red,
    /// reception_day, reception_days_max.
    Rule { name: String, points: i64 },
}

pub fn reference(
    store: &lianxin_server::store::Store,
    command: ReferenceCommand,
) -> anyhow::Result<()> {
    use lianxin_server::reference;
    let now = lianxin_server::now_ms();
    match command {
        ReferenceCommand::Show => {
            let read = match reference::load(store)? {
                Some(r) => serde_json::to_value(r.read()?)?,
                None => {
                    serde_json::json!({"rules": lianxin_shared::report::AssessmentRules::default(), "campaigns": []})
                }
            };
            println!("{}", serde_json::to_string_pretty(&read)?);
        }
        ReferenceCommand::Campaign {
            name,
            from,
            to,
            kind,
        } => {
            let from: lianxin_shared::Date = from.parse()?;
            let to: Option<lianxin_shared::Date> = to.map(|t| t.parse()).transpose()?;
            let id = reference::change(store, now, "campaigns +", |r, ed| {
                r.add_campaign(ed, &name, from, to, kind.as_deref())
            })?;
            println!("{id}");
        }
        ReferenceCommand::Rule { name, points } => {
            reference::change(store, now, &name, |r, ed| r.set_rule(ed, &name, points))?;
            println!("{name} = {points}; devices get it at their next sync");
        }
    }
    Ok(())
}
