//! Reference numbers 连信〔YYYY〕NNNN号 for cases registered on tablets with no signal: each
//! device is given a block of numbers of the year (`POST /api/references`) and numbers its new
//! cases from it offline, so two devices never give the same number. Blocks are handed out in
//! order, above any number already used (the demo's, an office's own floor).

use super::db::{Dialect, args};
use super::{Result, Store};
use lianxin_shared::protocol::ReferenceBlock;

/// Most blocks one device is given in a day: 20 × 50 numbers, far beyond any office's day,
/// so a device asking in a loop cannot burn the year's numbers or grow the table unbounded.
pub const BLOCKS_PER_DAY: i64 = 20;

impl Store {
    /// Gives the next `count` numbers of `year` to the device `actor` of `username`; None once
    /// the device has had [`BLOCKS_PER_DAY`] blocks in the last 24 hours.
    pub fn issue_references(
        &self,
        year: i32,
        count: u32,
        actor: &str,
        username: &str,
        now: i64,
    ) -> Result<Option<ReferenceBlock>> {
        self.tx(|c| {
            // One block at a time across instances: the blocks of a year never overlap.
            if c.dialect() == Dialect::Postgres {
                c.exec("SELECT pg_advisory_xact_lock(7311002)", &[])?;
            }
            let recent = c.int(
                "SELECT COUNT(*) FROM reference_blocks WHERE actor = ?1 AND at > ?2",
                args![actor, now - 86_400_000],
            )?;
            if recent >= BLOCKS_PER_DAY {
                return Ok(None);
            }
            let issued = c
                .row("SELECT MAX(first + count) FROM reference_blocks WHERE year = ?1", args![year])?
                .map(|r| r.opt_int(0))
                .transpose()?
                .flatten();
            let floor = c
                .row("SELECT next FROM reference_floor WHERE year = ?1", args![year])?
                .map(|r| r.int(0))
                .transpose()?;
            let first = issued.unwrap_or(1).max(floor.unwrap_or(1)).max(1);
            c.exec(
                "INSERT INTO reference_blocks (year, first, count, actor, username, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                args![year, first, count, actor, username, now],
            )?;
            Ok(Some(ReferenceBlock {
                year,
                first: first as u32,
                count,
            }))
        })
    }

    /// Numbers of `year` below `next` are taken (the demo's cases, an office's paper ledger):
    /// blocks start at `next` or above.
    pub fn set_reference_floor(&self, year: i32, next: u32) -> Result<()> {
        self.with(|c| {
            let greatest = match c.dialect() {
                Dialect::Sqlite => "MAX",
                Dialect::Postgres => "GREATEST",
            };
            c.exec(
                &format!(
                    "INSERT INTO reference_floor (year, next) VALUES (?1, ?2)
                     ON CONFLICT (year) DO UPDATE SET next = {greatest}(reference_floor.next, excluded.next)"
                ),
                args![year, next],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_never_overlap_and_start_above_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.set_reference_floor(2026, 301).unwrap();
        let issue = |year, actor, at| store.issue_references(year, 50, actor, "u", at).unwrap();
        let a = issue(2026, "aa", 1).unwrap();
        let b = issue(2026, "bb", 2).unwrap();
        let c = issue(2027, "aa", 3).unwrap();
        assert_eq!((a.first, b.first, c.first), (301, 351, 1));
        // A lower floor set later never moves blocks back.
        store.set_reference_floor(2026, 10).unwrap();
        assert_eq!(issue(2026, "aa", 4).unwrap().first, 401);
        assert_eq!(a.number(a.first), "连信〔2026〕0301号");
        // A device asking in a loop: 20 blocks a day, then none until a day has passed;
        // another device is not held back.
        let given = (0..30)
            .filter(|i| issue(2026, "cc", 10 + i).is_some())
            .count();
        assert_eq!(given as i64, BLOCKS_PER_DAY);
        assert!(issue(2026, "dd", 50).is_some());
        assert!(issue(2026, "cc", 10 + 86_400_000).is_some());
    }
}
