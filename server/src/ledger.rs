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
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let io = |e: csv::Error| LedgerError::Read(e.to_string());
        w.write_record(table.columns.iter().map(|c| c.header.as_str()))
            .map_err(io)?;
        for row in &table.rows {
            w.write_record(row.iter().map(Cell::display)).map_err(io)?;
        }
        w.flush()?;
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// Writes several tables into one CSV (UTF-8, BOM): each under a line with its name, a blank
/// line between them.
pub fn write_csv_tables(tables: &[Table], path: &Path) -> Result<(), LedgerError> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        let io = |e: csv::Error| LedgerError::Read(e.to_string());
        for (i, table) in tables.iter().enumerate() {
            if i > 0 {
                w.write_record([""]).map_err(io)?;
            }
            if tables.len() > 1 {
                w.write_record([table.name.as_str()]).map_err(io)?;
            }
            w.write_record(table.columns.iter().map(|c| c.header.as_str()))
                .map_err(io)?;
            for row in &table.rows {
                w.write_record(row.iter().map(Cell::display)).map_err(io)?;
            }
        }
        w.flush()?;
    }
    std::fs::write(path, out)?;
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
        let text = text.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| LedgerError::Read(e.to_string()))?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        rows
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
    // Offices put a title row or two above the header: the header is the first row that
    // names at least two known columns.
    let start = rows
        .iter()
        .position(|r| {
            lianxin_shared::ledger::recognise(r, &[])
                .iter()
                .filter(|t| t.is_some())
                .count()
                >= 2
        })
        .ok_or_else(|| {
            LedgerError::Read("no header row found (登记日期, 信访人, 反映问题 …)".into())
        })?;
    let mut rest = rows.split_off(start);
    let header = rest.remove(0);
    Ok((header, rest, start + 2))
}
