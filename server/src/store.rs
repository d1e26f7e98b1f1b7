//! Durable storage: units, users, devices, sessions, documents (compacted snapshot plus
//! appended changes) and the refused changes kept aside — in one SQLite file (the embedded
//! default: WAL with `synchronous = FULL`, so a write that returned survives `kill -9` and
//! power loss) or in PostgreSQL shared by several server instances ([`Store::open_postgres`]).
//!
//! The server acknowledges a change to a device only after [`Store::append_changes`] has
//! committed. Every write takes the next number of one sequence (`meta.seq`, locked until the
//! commit), so numbers are given in commit order on either database, and "changed since N"
//! never misses a change committed later with a smaller number.

use std::{path::Path, sync::Mutex};

use lianxin_shared::{DocId, UnitId};

mod accounts;
mod audit;
mod copy;
pub use audit::LedgerEntry;
pub mod db;
mod files;
mod listen;
mod numbers;
mod schema;
mod scope;
use db::{Dialect, Sql, args};
pub use listen::Remote;
use rusqlite::Connection;
pub use scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Postgres(String),
    /// The document was changed through another instance (or the command line) since this
    /// copy was read; read it again and redo the write.
    #[error("the document changed meanwhile; read it again")]
    Stale,
    #[error("{0}")]
    Invalid(String),
    #[error("database lock poisoned")]
    Poisoned,
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The roles, as the shared rules define them (DOMAIN.md "Who may do what").
pub use lianxin_shared::rules::authority::Role;

/// A role from its code, or why not.
pub fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| {
        StoreError::Invalid(format!(
            "unknown role {s:?} (expected one of registrar, handler, mediator, leader, admin)"
        ))
    })
}

pub use lianxin_shared::protocol::Unit;

#[derive(Clone, Debug)]
pub struct User {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub units: Vec<UnitId>,
    /// The name the cases write for this person (周书记, 李建国); may be empty.
    pub name: String,
}

/// An authenticated session: who, on which device (its registered Automerge actor).
#[derive(Clone, Debug)]
pub struct Session {
    pub username: String,
    pub role: Role,
    pub actor: String,
    pub units: Vec<UnitId>,
}

/// A document changed after some sequence number.
#[derive(Clone, Debug)]
pub struct ChangedDoc {
    pub id: DocId,
    pub created_seq: u64,
    pub heads: Vec<[u8; 32]>,
    /// The device (actor) whose changes were stored last, if a device's: that device holds
    /// the document as stored, so its opening need not mention it.
    pub by: Option<String>,
    /// Up to which sequence number the stored snapshot holds the document (None: stored
    /// before this was recorded). Changes appended after it are kept one by one with theirs.
    pub snapshot_seq: Option<u64>,
}

pub struct Store {
    backend: Backend,
    /// This process's id among the instances sharing a PostgreSQL database (the doorbell
    /// carries it, so an instance does not ring for its own changes).
    instance: u64,
}

enum Backend {
    /// One connection that writes, and a few that only read: in WAL mode readers never wait
    /// for a writer's fsync.
    Sqlite {
        writer: Mutex<Connection>,
        readers: Vec<Mutex<Connection>>,
        next: std::sync::atomic::AtomicUsize,
    },
    Postgres(db::Pool),
}

/// Connections that read from the SQLite file beside the one that writes.
const SQLITE_READERS: usize = 4;

/// What a write expects of the stored document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Nothing: the writer does not hold a copy (the command line, a new document).
    Any,
    /// The stored sequence number of the copy the write was made on (None: no document yet);
    /// anything else stored means someone else wrote meanwhile ([`StoreError::Stale`]).
    Seq(Option<u64>),
}

/// The SQLite schema (PostgreSQL's is in `store/schema.rs`, as numbered migrations).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('seq', 0);
CREATE TABLE IF NOT EXISTS units (id TEXT PRIMARY KEY, name TEXT NOT NULL, parent TEXT REFERENCES units(id));
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS user_units (username TEXT NOT NULL REFERENCES users(username),
  unit TEXT NOT NULL REFERENCES units(id), PRIMARY KEY (username, unit));
CREATE TABLE IF NOT EXISTS devices (actor TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username),
  name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token_hash BLOB PRIMARY KEY, username TEXT NOT NULL, actor TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_actor ON sessions (actor);
CREATE TABLE IF NOT EXISTS docs (id BLOB PRIMARY KEY, seq INTEGER NOT NULL, created_seq INTEGER NOT NULL,
  snapshot BLOB NOT NULL, heads BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_seq ON docs(seq);
CREATE TABLE IF NOT EXISTS doc_units (doc BLOB NOT NULL, unit TEXT NOT NULL, PRIMARY KEY (doc, unit));
CREATE INDEX IF NOT EXISTS doc_units_unit ON doc_units(unit);
CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY AUTOINCREMENT, doc BLOB NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS changes_doc ON changes(doc);
CREATE TABLE IF NOT EXISTS calendar (day TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')));
CREATE TABLE IF NOT EXISTS quarantine (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
  username TEXT NOT NULL, actor TEXT NOT NULL, doc TEXT NOT NULL, reason TEXT NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS quarantine_user ON quarantine (username);
CREATE TABLE IF NOT EXISTS change_log (seq INTEGER PRIMARY KEY, doc BLOB NOT NULL, username TEXT NOT NULL,
  actor TEXT NOT NULL, received_at INTEGER NOT NULL, changes INTEGER NOT NULL, what TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS change_log_doc ON change_log (doc);
CREATE TABLE IF NOT EXISTS unshared (doc BLOB NOT NULL, unit TEXT NOT NULL, seq INTEGER NOT NULL,
  at INTEGER NOT NULL, PRIMARY KEY (doc, unit, seq));
CREATE INDEX IF NOT EXISTS unshared_seq ON unshared (seq);
CREATE TABLE IF NOT EXISTS ledger_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
  username TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, what TEXT NOT NULL,
  rows INTEGER NOT NULL, device_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine_overflow (username TEXT PRIMARY KEY, refused INTEGER NOT NULL,
  bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (case_id TEXT NOT NULL, hash TEXT NOT NULL,
  bytes BLOB NOT NULL, username TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (case_id, hash));
CREATE TABLE IF NOT EXISTS reference_blocks (year INTEGER NOT NULL, first INTEGER NOT NULL,
  count INTEGER NOT NULL, actor TEXT NOT NULL, username TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (year, first));
CREATE TABLE IF NOT EXISTS reference_floor (year INTEGER PRIMARY KEY, next INTEGER NOT NULL);
";

/// What the quarantine keeps of one user's refused changes: the first this many bytes and
/// rows; beyond either, refusals are only counted (`quarantine_overflow`).
pub const QUARANTINE_BYTES_PER_USER: usize = 16 << 20;
pub const QUARANTINE_ROWS_PER_USER: usize = 10_000;

/// Columns added after the first release, with their definitions: added to an older database
/// when it is opened.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("sessions", "created_at", "INTEGER NOT NULL DEFAULT 0"),
    ("sessions", "last_seen", "INTEGER NOT NULL DEFAULT 0"),
    ("devices", "last_seen", "INTEGER"),
    ("devices", "revoked_at", "INTEGER"),
    ("docs", "private", "INTEGER NOT NULL DEFAULT 0"),
    ("users", "name", "TEXT NOT NULL DEFAULT ''"),
    // Which stored sequence number each appended change came with, and up to which the
    // snapshot holds a document: an opening sends the changes after the device's cursor.
    ("changes", "seq", "INTEGER"),
    ("docs", "snapshot_seq", "INTEGER"),
];

/// A session ends this long after sign-in whatever happens (a month: a tablet can stay in
/// the field), or after this long unused (two weeks: a lost tablet's session does not live on
/// for the month). Both are checked on every use; [`Store::purge_sessions`] deletes the dead.
pub const SESSION_ABSOLUTE_MS: i64 = 30 * 24 * 3600 * 1000;
pub const SESSION_IDLE_MS: i64 = 14 * 24 * 3600 * 1000;

/// Who sent a stored change, as the server saw it: the signed-in user, the device's actor,
/// the server's clock, and what the change touched.
#[derive(Clone, Debug)]
pub struct Received<'a> {
    pub user: &'a str,
    pub actor: &'a str,
    pub at: i64,
    pub what: &'a [String],
}

/// One line of a case's history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryEntry {
    pub seq: u64,
    pub user: String,
    /// The device's actor id and its registered name.
    pub device: String,
    pub device_name: String,
    /// Milliseconds since the Unix epoch, the server's clock.
    pub received_at: i64,
    pub changes: usize,
    pub what: Vec<String>,
    /// Refused changes (for the administrator): the reason.
    pub refused: Option<String>,
}

/// One registered device, for the administrator.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub actor: String,
    pub username: String,
    pub name: String,
    pub created_at: i64,
    pub last_seen: Option<i64>,
    pub revoked_at: Option<i64>,
    pub live_sessions: usize,
}

impl Store {
    /// Opens (creating if needed) `DIR/lianxin.sqlite`.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let conn = Connection::open(dir.join("lianxin.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        for (table, column, definition) in ADDED_COLUMNS {
            let has: bool = conn
                .prepare(&format!(
                    "SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"
                ))?
                .exists([column])?;
            if !has {
                conn.execute_batch(&format!(
                    "ALTER TABLE {table} ADD COLUMN {column} {definition}"
                ))?;
            }
        }
        let mut readers = Vec::with_capacity(SQLITE_READERS);
        for _ in 0..SQLITE_READERS {
            let reader = Connection::open(dir.join("lianxin.sqlite"))?;
            reader.busy_timeout(std::time::Duration::from_secs(10))?;
            reader.pragma_update(None, "foreign_keys", "ON")?;
            readers.push(Mutex::new(reader));
        }
        Ok(Store {
            backend: Backend::Sqlite {
                writer: Mutex::new(conn),
                readers,
                next: Default::default(),
            },
            instance: rand::random(),
        })
    }

    /// Connects to PostgreSQL (`postgres://user:password@host:port/database`), bringing its
    /// schema up to date (numbered migrations, one instance at a time).
    pub fn open_postgres(url: &str) -> Result<Store> {
        let pool = db::Pool::connect(url, 8)?;
        pool.run(true, schema::migrate)?;
        Ok(Store {
            backend: Backend::Postgres(pool),
            instance: rand::random::<u64>() >> 1,
        })
    }

    /// Makes a new, empty database `name` on the PostgreSQL server of `url` and returns its
    /// address (a test's own database; an office makes its own with `createdb`).
    pub fn create_postgres_database(url: &str, name: &str) -> Result<String> {
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(StoreError::Invalid(format!(
                "not a plain database name: {name:?}"
            )));
        }
        let pool = db::Pool::connect(url, 1)?;
        pool.run(false, |c| c.batch(&format!("CREATE DATABASE {name}")))?;
        let base = url.split('?').next().unwrap_or(url);
        let (server, _) = base.rsplit_once('/').unwrap_or((base, ""));
        Ok(format!("{server}/{name}"))
    }

    /// Ends the change listeners' connections to `database` on the PostgreSQL server of
    /// `url` (what a network fault does; the tests' way to show a listener catches up).
    pub fn terminate_listeners(url: &str, database: &str) -> Result<usize> {
        let pool = db::Pool::connect(url, 1)?;
        pool.run(false, |c| {
            c.int(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = ?1 AND application_name = ?2",
                args![database, listen::APPLICATION_NAME],
            )
        })
        .map(|n| n as usize)
    }

    /// The store a command names: PostgreSQL when `database` is given, else SQLite in `data`.
    pub fn open_at(data: &Path, database: Option<&str>) -> Result<Store> {
        match database {
            Some(url) => Store::open_postgres(url),
            None => Store::open(data),
        }
    }

    /// Which database this store is on.
    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` on a connection, each statement on its own.
    fn with<T: Send>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send) -> Result<T> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let conn = writer.lock().map_err(|_| StoreError::Poisoned)?;
                f(&mut db::Lite(&conn))
            }
            Backend::Postgres(pool) => pool.run(false, f),
        }
    }

    /// Runs `f`, which reads (and at most rarely writes a line, like a session's last use),
    /// on a connection that does not wait for the writer.
    fn read<T: Send>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send) -> Result<T> {
        match &self.backend {
            Backend::Sqlite { readers, next, .. } => {
                let start = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let n = readers.len();
                let free = (0..n).find_map(|k| readers[(start + k) % n].try_lock().ok());
                let conn = match free {
                    Some(conn) => conn,
                    None => readers[start % n]
                        .lock()
                        .map_err(|_| StoreError::Poisoned)?,
                };
                f(&mut db::Lite(&conn))
            }
            Backend::Postgres(pool) => pool.run(false, f),
        }
    }

    /// Runs `f` in one transaction: all of it is committed, or none.
    fn tx<T: Send>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send) -> Result<T> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let mut conn = writer.lock().map_err(|_| StoreError::Poisoned)?;
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let value = f(&mut db::Lite(&tx))?;
                tx.commit()?;
                Ok(value)
            }
            Backend::Postgres(pool) => pool.run(true, f),
        }
    }

    // Units.

    pub fn add_unit(&self, id: &UnitId, name: &str, parent: Option<&UnitId>) -> Result<()> {
        self.tx(|c| {
            if let Some(p) = parent
                && c.row("SELECT 1 FROM units WHERE id = ?1", args![p.as_str()])?.is_none()
            {
                return Err(StoreError::Invalid(format!("no parent unit {p}")));
            }
            let n = c.exec(
                "INSERT INTO units (id, name, parent) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
                args![id.as_str(), name, parent.map(|p| p.as_str())],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("unit {id} already exists")));
            }
            Ok(())
        })
    }

    // The holiday calendar.

    /// Marks a day as a public holiday, or (`workday`) as a make-up working day; a day is one
    /// or the other.
    pub fn set_calendar_day(&self, day: lianxin_shared::Date, workday: bool) -> Result<()> {
        let kind = if workday { "workday" } else { "holiday" };
        self.with(|c| {
            c.exec(
                "INSERT INTO calendar (day, kind) VALUES (?1, ?2) ON CONFLICT(day) DO UPDATE SET kind = excluded.kind",
                args![day.to_string(), kind],
            )?;
            Ok(())
        })
    }

    /// Forgets a day; an error if it was not in the calendar.
    pub fn remove_calendar_day(&self, day: lianxin_shared::Date) -> Result<()> {
        self.with(|c| {
            let n = c.exec(
                "DELETE FROM calendar WHERE day = ?1",
                args![day.to_string()],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("{day} is not in the calendar")));
            }
            Ok(())
        })
    }

    pub fn calendar(&self) -> Result<lianxin_shared::rules::Calendar> {
        self.read(|c| {
            let mut cal = lianxin_shared::rules::Calendar::default();
            for row in c.rows("SELECT day, kind FROM calendar ORDER BY day", &[])? {
                let Ok(day) = row.text(0)?.parse() else {
                    continue;
                };
                if row.text(1)? == "workday" {
                    cal.workdays.insert(day);
                } else {
                    cal.holidays.insert(day);
                }
            }
            Ok(cal)
        })
    }

    pub fn units(&self) -> Result<Vec<Unit>> {
        self.read(|c| {
            c.rows("SELECT id, name, parent FROM units ORDER BY id", &[])?
                .iter()
                .map(|r| {
                    Ok(Unit {
                        id: r.text(0)?,
                        name: r.text(1)?,
                        parent: r.opt_text(2)?,
                    })
                })
                .collect()
        })
    }

    /// Whether the office has been set up (any unit exists).
    pub fn is_initialised(&self) -> Result<bool> {
        self.read(|c| Ok(c.row("SELECT 1 FROM units LIMIT 1", &[])?.is_some()))
    }

    // Documents.

    pub fn seq(&self) -> Result<u64> {
        self.read(|c| Ok(c.int("SELECT value FROM meta WHERE key = 'seq'", &[])? as u64))
    }

    /// A document's stored bytes (snapshot followed by its appended changes, which Automerge
    /// loads as one) and its units, or None.
    pub fn load_doc(&self, id: &DocId) -> Result<Option<(Vec<u8>, Vec<UnitId>, usize)>> {
        self.read(|c| {
            let key = &id.as_bytes()[..];
            // One statement, so one snapshot of the database: a compaction committed meanwhile
            // cannot pair an old snapshot with the emptied list of changes.
            let rows = c.rows(
                "SELECT 0, 0, snapshot FROM docs WHERE id = ?1
                 UNION ALL SELECT 1, id, bytes FROM changes WHERE doc = ?1 ORDER BY 1, 2",
                args![key],
            )?;
            let Some((first, changes)) = rows.split_first() else {
                return Ok(None);
            };
            if first.int(0)? != 0 {
                return Ok(None);
            }
            let mut bytes = first.blob(2)?;
            for change in changes {
                bytes.extend(change.blob(2)?);
            }
            let units = doc_units(c, id)?;
            Ok(Some((bytes, units, changes.len())))
        })
    }

    /// Several documents' stored bytes at once (a device's opening): (id, bytes) for those that
    /// exist, a few hundred to a statement.
    /// The changes of these documents stored after `cursor` by anyone but `actor`, one by one,
    /// in the order they were stored (for documents whose snapshot is no newer than `cursor`:
    /// see [`ChangedDoc::snapshot_seq`]).
    pub fn changes_after(
        &self,
        ids: &[DocId],
        cursor: u64,
        actor: &str,
    ) -> Result<Vec<(DocId, Vec<u8>)>> {
        const CHUNK: usize = 400;
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let marks: Vec<String> = (3..chunk.len() + 3).map(|i| format!("?{i}")).collect();
            let sql = format!(
                "SELECT c.doc, c.bytes FROM changes c WHERE c.doc IN ({}) AND c.seq > ?1
                   AND NOT EXISTS (SELECT 1 FROM change_log l WHERE l.seq = c.seq AND l.actor = ?2)
                 ORDER BY c.id",
                marks.join(", ")
            );
            let mut args: Vec<db::Val> = vec![db::Val::from(cursor as i64), db::Val::from(actor)];
            args.extend(chunk.iter().map(|id| db::Val::from(&id.as_bytes()[..])));
            for row in self.read(|c| c.rows(&sql, &args))? {
                out.push((doc_id(&row.blob(0)?)?, row.blob(1)?));
            }
        }
        Ok(out)
    }

    pub fn load_docs(&self, ids: &[DocId]) -> Result<Vec<(DocId, Vec<u8>)>> {
        const CHUNK: usize = 400;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let marks = marks.join(", ");
            let sql = format!(
                "SELECT 0, d.id, 0, d.snapshot FROM docs d WHERE d.id IN ({marks})
                 UNION ALL SELECT 1, c.doc, c.id, c.bytes FROM changes c WHERE c.doc IN ({marks})
                 ORDER BY 2, 1, 3"
            );
            let args: Vec<db::Val> = chunk
                .iter()
                .map(|id| db::Val::from(&id.as_bytes()[..]))
                .collect();
            let rows = self.read(|c| c.rows(&sql, &args))?;
            let mut current: Option<(DocId, Vec<u8>)> = None;
            for row in rows {
                let id = doc_id(&row.blob(1)?)?;
                if row.int(0)? == 0 {
                    out.extend(current.take());
                    current = Some((id, row.blob(3)?));
                } else if let Some((doc, bytes)) = current.as_mut()
                    && *doc == id
                {
                    bytes.extend(row.blob(3)?);
                }
            }
            out.extend(current);
        }
        Ok(out)
    }

    /// A document's sequence number, to tell whether a copy held in memory is still current
    /// (another process — the admin command line, another instance — may have changed it).
    pub fn doc_seq(&self, id: &DocId) -> Result<Option<u64>> {
        self.read(|c| {
            Ok(c.row(
                "SELECT seq FROM docs WHERE id = ?1",
                args![&id.as_bytes()[..]],
            )?
            .map(|r| r.int(0))
            .transpose()?
            .map(|s| s as u64))
        })
    }

    /// Durably appends a document's new changes (or, when `snapshot` is given, replaces its
    /// stored form with that compacted snapshot), records its units and heads, and returns the
    /// document's new sequence number. On PostgreSQL the commit rings the other instances'
    /// doorbell ([`listen`]).
    #[allow(clippy::too_many_arguments)]
    pub fn append_changes(
        &self,
        id: &DocId,
        units: &[UnitId],
        access: lianxin_shared::Access,
        changes: &[Vec<u8>],
        heads: &[[u8; 32]],
        snapshot: Option<&[u8]>,
        received: Option<&Received>,
        expect: Expect,
    ) -> Result<u64> {
        let instance = self.instance;
        self.tx(|c| {
            // The sequence row is locked until the commit: writers take turns, in commit order.
            let seq = c.int("UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value", &[])?;
            let key = &id.as_bytes()[..];
            let heads_blob: Vec<u8> = heads.iter().flatten().copied().collect();
            let stored = c
                .row("SELECT seq FROM docs WHERE id = ?1", args![key])?
                .map(|r| r.int(0))
                .transpose()?;
            if let Expect::Seq(expected) = expect
                && stored.map(|s| s as u64) != expected
            {
                return Err(StoreError::Stale);
            }
            if stored.is_none() {
                c.exec(
                    "INSERT INTO docs (id, seq, created_seq, snapshot, heads, private, snapshot_seq) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?2)",
                    args![key, seq, Vec::<u8>::new(), heads_blob, access.code()],
                )?;
            } else {
                c.exec("UPDATE docs SET seq = ?2, heads = ?3 WHERE id = ?1", args![key, seq, heads_blob])?;
            }
            match snapshot {
                Some(snap) => {
                    c.exec("UPDATE docs SET snapshot = ?2, snapshot_seq = ?3 WHERE id = ?1", args![key, snap, seq])?;
                    c.exec("DELETE FROM changes WHERE doc = ?1", args![key])?;
                }
                None => {
                    for change in changes {
                        c.exec("INSERT INTO changes (doc, bytes, seq) VALUES (?1, ?2, ?3)", args![key, change.as_slice(), seq])?;
                    }
                }
            }
            for unit in units {
                c.exec(
                    "INSERT INTO doc_units (doc, unit) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    args![key, unit.as_str()],
                )?;
            }
            if let Some(r) = received {
                c.exec(
                    "INSERT INTO change_log (seq, doc, username, actor, received_at, changes, what)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    args![seq, key, r.user, r.actor, r.at, changes.len().max(1) as i64,
                        serde_json::to_string(r.what).unwrap_or_default()],
                )?;
            }
            if c.dialect() == Dialect::Postgres {
                listen::ring(c, instance, id, seq as u64)?;
            }
            Ok(seq as u64)
        })
    }

    /// Documents in `scope` changed after `cursor`.
    pub fn changed_since(&self, cursor: u64, scope: &Scope) -> Result<Vec<ChangedDoc>> {
        let (visible, own) = (Scope::json(&scope.visible)?, Scope::json(&scope.own)?);
        self.read(|c| {
            let units_of = match c.dialect() {
                Dialect::Sqlite => "SELECT value FROM json_each(CASE WHEN d.private = 1 THEN ?3 ELSE ?2 END)",
                Dialect::Postgres => "SELECT json_array_elements_text(CAST(CASE WHEN d.private = 1 THEN CAST(?3 AS TEXT) ELSE CAST(?2 AS TEXT) END AS json))",
            };
            let sql = format!(
                "SELECT d.id, d.created_seq, d.heads, (SELECT l.actor FROM change_log l WHERE l.seq = d.seq), d.snapshot_seq
                 FROM docs d WHERE d.seq > ?1 AND (d.private = 2 OR EXISTS (
                   SELECT 1 FROM doc_units u WHERE u.doc = d.id AND u.unit IN ({units_of})))
                 ORDER BY d.seq"
            );
            c.rows(&sql, args![cursor as i64, visible, own])?
                .iter()
                .map(|r| {
                    Ok(ChangedDoc {
                        id: doc_id(&r.blob(0)?)?,
                        created_seq: r.int(1)? as u64,
                        heads: split_heads(&r.blob(2)?),
                        by: r.opt_text(3)?,
                        snapshot_seq: r.opt_int(4)?.map(|s| s as u64),
                    })
                })
                .collect()
        })
    }

    /// Keeps a refused change aside for inspection.
    pub fn quarantine(
        &self,
        username: &str,
        actor: &str,
        doc: &str,
        reason: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<()> {
        self.tx(|c| {
            let row = c.row(
                "SELECT count(*), CAST(coalesce(sum(length(bytes)), 0) AS BIGINT) FROM quarantine WHERE username = ?1",
                args![username],
            )?;
            let (rows, kept) = match row {
                Some(r) => (r.int(0)?, r.int(1)?),
                None => (0, 0),
            };
            let full = rows as usize >= QUARANTINE_ROWS_PER_USER
                || kept as usize + bytes.len() > QUARANTINE_BYTES_PER_USER;
            if full {
                c.exec(
                    "INSERT INTO quarantine_overflow (username, refused, bytes) VALUES (?1, 1, ?2)
                     ON CONFLICT (username) DO UPDATE SET refused = quarantine_overflow.refused + 1,
                       bytes = quarantine_overflow.bytes + excluded.bytes",
                    args![username, bytes.len() as i64],
                )?;
            } else {
                c.exec(
                    "INSERT INTO quarantine (at, username, actor, doc, reason, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![now, username, actor, doc, reason, bytes],
                )?;
            }
            Ok(())
        })
    }

    /// Refusals counted but not kept, per user: (user, how many, their bytes).
    pub fn quarantine_overflow(&self) -> Result<Vec<(String, u64, u64)>> {
        self.read(|c| {
            c.rows(
                "SELECT username, refused, bytes FROM quarantine_overflow ORDER BY username",
                &[],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.int(1)? as u64, r.int(2)? as u64)))
            .collect()
        })
    }

    /// Bytes of refused changes kept for `username`.
    pub fn quarantined_bytes(&self, username: &str) -> Result<u64> {
        self.read(|c| {
            Ok(c.int(
                "SELECT CAST(coalesce(sum(length(bytes)), 0) AS BIGINT) FROM quarantine WHERE username = ?1",
                args![username],
            )? as u64)
        })
    }

    /// The changes kept aside: (id, at, user, doc, reason, size).
    pub fn quarantined(&self) -> Result<Vec<(i64, i64, String, String, String, usize)>> {
        self.read(|c| {
            c.rows(
                "SELECT id, at, username, doc, reason, length(bytes) FROM quarantine ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok((
                    r.int(0)?,
                    r.int(1)?,
                    r.text(2)?,
                    r.text(3)?,
                    r.text(4)?,
                    r.int(5)? as usize,
                ))
            })
            .collect()
        })
    }
}

fn doc_id(bytes: &[u8]) -> Result<DocId> {
    let id: [u8; 16] = bytes
        .try_into()
        .map_err(|_| StoreError::Invalid("bad document id in store".into()))?;
    Ok(DocId::from_bytes(id))
}

fn split_heads(bytes: &[u8]) -> Vec<[u8; 32]> {
    bytes
        .chunks_exact(32)
        .map(|h| h.try_into().unwrap_or([0; 32]))
        .collect()
}

pub(crate) fn user_units(c: &mut dyn Sql, username: &str) -> Result<Vec<UnitId>> {
    c.rows(
        "SELECT unit FROM user_units WHERE username = ?1 ORDER BY unit",
        args![username],
    )?
    .iter()
    .map(|r| UnitId::new(&r.text(0)?).map_err(|e| StoreError::Invalid(e.to_string())))
    .collect()
}

fn doc_units(c: &mut dyn Sql, id: &DocId) -> Result<Vec<UnitId>> {
    c.rows(
        "SELECT unit FROM doc_units WHERE doc = ?1 ORDER BY unit",
        args![&id.as_bytes()[..]],
    )?
    .iter()
    .map(|r| UnitId::new(&r.text(0)?).map_err(|e| StoreError::Invalid(e.to_string())))
    .collect()
}

pub use lianxin_shared::visible_units;
