//! The bytes of the photos and scanned pages attached to cases, kept by case and SHA-256
//! apart from the documents (which hold only each attachment's hash, name, type and size).

use super::db::args;
use super::{Result, Store};
use lianxin_shared::DocId;

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
            c.exec(
                "INSERT INTO attachments (case_id, hash, bytes, username, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
                args![case.to_string(), hash, bytes, username, now],
            )?;
            Ok(())
        })
    }

    /// The bytes of an attachment of `case`, if the server has them.
    pub fn attachment(&self, case: &DocId, hash: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.row(
                "SELECT bytes FROM attachments WHERE case_id = ?1 AND hash = ?2",
                args![case.to_string(), hash],
            )?
            .map(|r| r.blob(0))
            .transpose()
        })
    }
}
