//! Ledgers in the office's files: [`lianxin_shared::ledger::Table`]s written as XLSX (one sheet
//! per table, Chinese headers in bold, a frozen header row, real dates, sensible widths) or CSV
//! (UTF-8 with a BOM, so Excel reads the Chinese), and an office's own ledger read back from
//! XLSX, XLS or CSV as rows of text.

use std::path::Path;

use lianxin_shared::ledger::{Cell, Table};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

/// What can go wrong with a ledger file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("cannot write the spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("cannot read the spreadsheet: {0}")]
    Read(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes the tables as one XLSX workbook, a sheet each.
pub fn write_xlsx(tables: &[Table], path: &Path) -> Result<(), LedgerError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_background_color("#F2DCDB");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for table in tables {
        let sheet = book.add_worksheet();
        // Excel allows 31 characters and no []:*?/\ in a sheet's name.
        let name: String = table
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        sheet.set_name(name)?;
        for (col, column) in table.columns.iter().enumerate() {
            let col = col as u16;
            sheet.write_string_with_format(0, col, &column.header, &header)?;
            sheet.set_column_width(col, column.width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, row) in table.rows.iter().enumerate() {
            let r = (r + 1) as u32;
            for (col, cell) in row.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, col, s)?;
                    }
                    Cell::Int(n) => {
                        sheet.write_number(r, col, *n as f64)?;
                    }
                    Cell::Date(d) => {
                        let (y, m, day) = d.ymd();
                        let when = ExcelDateTime::from_ymd(y as u16, m as u8, day as u8)?;
                        sheet.write_datetime_with_format(r, col, &when, &date)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    book.save(path)?;
    Ok(())
}

/// Writes a table as CSV in UTF-8 with a byte-order mark.
pub fn write_csv(table: &Table, path: &Path) -> Result<(), LedgerError> {
    write_csv_tables(std::slice::from_ref(table), path)
}

/// Writes several tables into one CSV (UTF-8, BOM): each under a line with its name, a blank
/// line between them ([`lianxin_shared::ledger::csv`]).
pub fn write_csv_tables(tables: &[Table], path: &Path) -> Result<(), LedgerError> {
    std::fs::write(path, lianxin_shared::ledger::csv(tables))?;
    Ok(())
}

/// An office's ledger as text: the header row and the rows under it (the first sheet of a
/// workbook; a CSV in UTF-8, with or without a BOM). A number that is a whole number reads
/// without a decimal point; a date cell reads as its day number (see
/// [`lianxin_shared::ledger::read_date`]).
/// The header, the rows under it, and the sheet's number of the first of them.
pub fn read_sheet(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>, usize), LedgerError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut rows: Vec<Vec<String>> = if ext == "csv" {
        let bytes = std::fs::read(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| LedgerError::Read("the CSV is not UTF-8 (save it as CSV UTF-8)".into()))?;
        lianxin_shared::ledger::parse_csv(&text)
    } else {
        use calamine::{Data, Reader};
        let mut book =
            calamine::open_workbook_auto(path).map_err(|e| LedgerError::Read(e.to_string()))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| LedgerError::Read("the workbook has no sheet".into()))?
            .map_err(|e| LedgerError::Read(e.to_string()))?;
        range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::String(s) => s.clone(),
                        Data::Int(n) => n.to_string(),
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                            format!("{}", *f as i64)
                        }
                        Data::Float(f) => f.to_string(),
                        Data::Bool(b) => b.to_string(),
                        Data::DateTime(d) => format!("{}", d.as_f64().floor() as i64),
                        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                        Data::Error(_) | Data::Empty => String::new(),
                    })
                    .collect()
            })
            .collect()
    };
    // Offices put a title row or two above the header.
    let start = lianxin_shared::ledger::find_header(&rows).ok_or_else(|| {
        LedgerError::Read("no header row found (登记日期, 信访人, 反映问题 …)".into())
    })?;
    let mut rest = rows.split_off(start);
    let header = rest.remove(0);
    Ok((header, rest, start + 2))
}

/// `lianxin admin --data DIR import FILE --unit ID`: an office's ledger imported straight into
/// the store as the administrator (who may record every step), each new case with its details
/// document and a history entry; a row whose 编号 a stored case has updates that case. The
/// running server's cached copies are reloaded (they are out of date by sequence number);
/// devices get the cases at their next sync. Recorded in the ledger log.
pub fn import_into_store(
    store: &crate::store::Store,
    path: &Path,
    unit: &lianxin_shared::UnitId,
    map: &[(String, Option<lianxin_shared::ledger::Target>)],
    dry_run: bool,
    now: i64,
) -> anyhow::Result<lianxin_shared::ledger::ImportReport> {
    use lianxin_shared::ledger;
    use lianxin_shared::rules::authority::Role;
    use lianxin_shared::{AnyDoc, CaseDoc, DetailsDoc, DocId};
    let directory = store.units()?;
    anyhow::ensure!(
        directory.iter().any(|u| u.id == unit.as_str()),
        "no unit {unit} in the unit directory"
    );
    let (headers, rows, first_row) = read_sheet(path)?;
    let columns = ledger::recognise(&headers, map);
    let find_unit = |s: &str| {
        ledger::find_unit(
            directory.iter().map(|u| (u.id.as_str(), u.name.as_str())),
            s,
        )
    };
    let (records, problems) = ledger::read_records(&rows, first_row, &columns, &find_unit);
    let mut report = ledger::ImportReport::new(&headers, columns, &records, problems, dry_run);
    // The stored cases by reference.
    let scope = crate::store::Scope::everything(&directory);
    let mut by_reference = std::collections::HashMap::new();
    for changed in store.changed_since(0, &scope)? {
        if let Some((bytes, _, _)) = store.load_doc(&changed.id)?
            && let Ok(AnyDoc::Case(case)) =
                lianxin_shared::load_document(&bytes).and_then(AnyDoc::open)
            && let Some(r) = case.read()?.reference
        {
            by_reference.insert(r, changed.id);
        }
    }
    let actor = automerge::ActorId::from(&b"lianxin-server-admin"[..]);
    let others: Vec<lianxin_shared::UnitId> =
        lianxin_shared::handling_units(&directory, unit, None)
            .into_iter()
            .filter(|u| u != unit)
            .collect();
    let user = "admin (command line)";
    let store_doc = |doc: &mut automerge::AutoCommit,
                     access: lianxin_shared::Access,
                     what: &str|
     -> anyhow::Result<()> {
        let what = [what.to_string()];
        let received = crate::store::Received {
            user,
            actor: "lianxin-server-admin",
            at: now,
            what: &what,
        };
        store.put_snapshot(doc, access, &received)?;
        Ok(())
    };
    for record in &records {
        let existing = record
            .reference
            .as_ref()
            .and_then(|r| by_reference.get(r))
            .copied();
        match existing {
            Some(id) => {
                report.updated += 1;
                if dry_run {
                    continue;
                }
                let Some((bytes, _, _)) = store.load_doc(&id)? else {
                    continue;
                };
                let mut case = CaseDoc::from_doc(
                    lianxin_shared::load_document(&bytes)?.with_actor(actor.clone()),
                )?;
                let mut details = match store.load_doc(&DocId::details_of(&id))? {
                    Some((b, _, _)) => Some(DetailsDoc::from_doc(
                        lianxin_shared::load_document(&b)?.with_actor(actor.clone()),
                    )?),
                    None => None,
                };
                let left = record.update(&mut case, details.as_mut(), user, Role::Admin)?;
                report.note(record.row, left);
                store_doc(
                    &mut case.into_doc(),
                    lianxin_shared::Access::Units,
                    "updated (ledger import)",
                )?;
                if let Some(d) = details {
                    store_doc(
                        &mut d.into_doc(),
                        lianxin_shared::Access::Own,
                        "updated (ledger import)",
                    )?;
                }
            }
            None => {
                report.created += 1;
                if dry_run {
                    continue;
                }
                let (case, details, left) =
                    record.to_case(user, Role::Admin, unit, &others, actor.clone())?;
                report.note(record.row, left);
                let id = case.id()?;
                store_doc(
                    &mut case.into_doc(),
                    lianxin_shared::Access::Units,
                    "created (ledger import)",
                )?;
                store_doc(
                    &mut details.into_doc(),
                    lianxin_shared::Access::Own,
                    "created (ledger import)",
                )?;
                if let Some(r) = &record.reference {
                    by_reference.insert(r.clone(), id);
                }
            }
        }
    }
    if !dry_run {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
        store.record_ledger(&crate::store::LedgerEntry {
            at: now,
            user: user.into(),
            actor: "lianxin-server-admin".into(),
            action: "import".into(),
            what: format!("信访事项台账 {file}"),
            rows: report.created + report.updated,
            device_at: now,
        })?;
    }
    Ok(report)
}
