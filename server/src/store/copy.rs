//! Moving an office from the embedded SQLite file to PostgreSQL (`lianxin admin copy`): every
//! table, row for row, into an empty PostgreSQL database, in one transaction (a copy that
//! fails leaves the database as empty as it was), then counted on both sides.
//!
//! Sessions and devices come along, so tablets signed in before the move stay signed in and
//! keep their actors; the store's sequence number comes along, so every tablet's cursor still
//! means the same changes.

use super::db::{Sql, Val, args};
use super::{Backend, Result, Store, StoreError};

/// Every table, parents before the tables that refer to them. A table of the SQLite file that
/// is not here stops the copy (nothing is left behind unnoticed when one is added).
const TABLES: &[&str] = &[
    "meta",
    "units",
    "users",
    "user_units",
    "devices",
    "sessions",
    "docs",
    "doc_units",
    "changes",
    "calendar",
    "quarantine",
    "change_log",
    "unshared",
    "ledger_log",
    "quarantine_overflow",
    "attachments",
    "reference_blocks",
    "reference_floor",
];

/// Tables whose `id` PostgreSQL numbers itself: its counter goes on after the copied ids.
const NUMBERED: &[&str] = &["changes", "quarantine", "ledger_log"];

/// Why a copy is refused when the file changed while it was read.
const CHANGED: &str = "the SQLite file changed during the copy: stop the server on it and copy \
     again (nothing was written to PostgreSQL)";

/// Rows read from SQLite at a time (documents carry their snapshots).
const PAGE: i64 = 200;

impl Store {
    /// Copies this SQLite store into `to`, an empty PostgreSQL store; returns each table with
    /// the rows copied.
    pub fn copy_into(&self, to: &Store) -> Result<Vec<(&'static str, u64)>> {
        if !matches!(self.backend, Backend::Sqlite { .. }) {
            return Err(StoreError::Invalid("the copy reads an SQLite store".into()));
        }
        if !matches!(to.backend, Backend::Postgres(_)) {
            return Err(StoreError::Invalid(
                "the copy writes into a PostgreSQL store".into(),
            ));
        }
        let unknown = self.read(|c| {
            let names = c.rows(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
                &[],
            )?;
            let mut unknown = Vec::new();
            for row in names {
                let name = row.text(0)?;
                if !TABLES.contains(&name.as_str()) {
                    unknown.push(name);
                }
            }
            Ok(unknown)
        })?;
        if !unknown.is_empty() {
            return Err(StoreError::Invalid(format!(
                "this version does not know how to copy the table(s) {}",
                unknown.join(", ")
            )));
        }
        to.tx(|pg| {
            let held = pg.int("SELECT value FROM meta WHERE key = 'seq'", &[])?
                + pg.int("SELECT count(*) FROM units", &[])?
                + pg.int("SELECT count(*) FROM docs", &[])?;
            if held != 0 {
                return Err(StoreError::Invalid(
                    "the PostgreSQL database already holds an office's data; copy into a new, \
                     empty one (createdb)"
                        .into(),
                ));
            }
            // The migrations' first row of `meta` gives way to the copied one.
            pg.exec("DELETE FROM meta", &[])?;
            let mut copied = Vec::with_capacity(TABLES.len());
            for &table in TABLES {
                copied.push((table, self.copy_table(table, pg)?));
            }
            for &table in NUMBERED {
                pg.row(
                    &format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                         COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                    ),
                    &[],
                )?;
            }
            // Counted again on both sides before the commit: a file that changed meanwhile
            // (a server still running on it) is not copied half old, half new.
            let seq = self.seq()?;
            if pg.int("SELECT value FROM meta WHERE key = 'seq'", &[])? != seq as i64 {
                return Err(StoreError::Invalid(CHANGED.into()));
            }
            for &(table, n) in &copied {
                let count = format!("SELECT count(*) FROM {table}");
                let here = self.read(|c| c.int(&count, &[]))?;
                let there = pg.int(&count, &[])?;
                if here != n as i64 {
                    return Err(StoreError::Invalid(format!("{table}: {CHANGED}")));
                }
                if there != n as i64 {
                    return Err(StoreError::Invalid(format!(
                        "{table}: {n} rows read, {there} in PostgreSQL"
                    )));
                }
            }
            Ok(copied)
        })
    }

    /// Copies one table a page at a time, by SQLite's row order.
    fn copy_table(&self, table: &str, pg: &mut dyn Sql) -> Result<u64> {
        let columns: Vec<String> = self.read(|c| {
            c.rows(
                "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
                args![table],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect()
        })?;
        let wanted = pg.rows(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1",
            args![table],
        )?;
        let wanted: Vec<String> = wanted.iter().map(|r| r.text(0)).collect::<Result<_>>()?;
        if let Some(missing) = columns.iter().find(|c| !wanted.contains(c)) {
            return Err(StoreError::Invalid(format!(
                "PostgreSQL's {table} has no column {missing}: is its schema older than the file's?"
            )));
        }
        let list = columns.join(", ");
        let read = format!(
            "SELECT rowid, {list} FROM {table} WHERE rowid > ?1 ORDER BY rowid LIMIT {PAGE}"
        );
        let places: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let write = format!(
            "INSERT INTO {table} ({list}) VALUES ({})",
            places.join(", ")
        );
        let (mut after, mut n) = (i64::MIN, 0u64);
        loop {
            let rows = self.read(|c| c.rows(&read, args![after]))?;
            let Some(last) = rows.last() else {
                return Ok(n);
            };
            after = last.int(0)?;
            for row in &rows {
                let values: Vec<Val> = row.values()[1..].to_vec();
                pg.exec(&write, &values)?;
                n += 1;
            }
        }
    }
}
