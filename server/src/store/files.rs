//! The bytes of the photos and scanned pages attached to cases, kept by case and SHA-256
//! apart from the documents (which hold only each attachment's hash, name, type and size).

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use lianxin_shared::DocId;

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS attachments (case_id TEXT NOT NULL, hash TEXT NOT NULL,
  bytes BLOB NOT NULL, username TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (case_id, hash));
";

impl Store {
    /// Keeps the bytes of an attachment of `case` (once: the same bytes again change nothing).
    pub fn put_attachment(
        &self,
        case: &DocId,
        hash: &str,
        bytes: &[u8],
        username: &str,
        now: i64,
    ) -> Result<()> {
        self.with(|c| {
            c.execute_batch(TABLES)?;
            c.execute(
                "INSERT OR IGNORE INTO attachments (case_id, hash, bytes, username, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![case.to_string(), hash, bytes, username, now],
            )?;
            Ok(())
        })
    }

    /// The bytes of an attachment of `case`, if the server has them.
    pub fn attachment(&self, case: &DocId, hash: &str) -> Result<Option<Vec<u8>>> {
        self.with(|c| {
            c.execute_batch(TABLES)?;
            Ok(c.query_row(
                "SELECT bytes FROM attachments WHERE case_id = ?1 AND hash = ?2",
                params![case.to_string(), hash],
                |r| r.get(0),
            )
            .optional()?)
        })
    }
}
