//! Durable storage in one SQLite file: units, users, devices, sessions, documents (compacted
//! snapshot plus appended changes) and the refused changes kept aside.
//!
//! WAL with `synchronous = FULL`: when a write returns, it survives `kill -9` and power loss.
//! The server acknowledges a change to a device only after [`Store::append_changes`] returns.

use std::path::Path;
use std::sync::Mutex;

use lianxin_shared::{DocId, UnitId};

mod audit;
pub use audit::LedgerEntry;
mod files;
mod numbers;
mod scope;
use rusqlite::{Connection, OptionalExtension, params};
pub use scope::Scope;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
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
}

pub struct Store {
    conn: Mutex<Connection>,
}

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
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }

    // Units.

    pub fn add_unit(&self, id: &UnitId, name: &str, parent: Option<&UnitId>) -> Result<()> {
        self.with(|c| {
            if let Some(p) = parent {
                let exists: Option<i64> =
                    c.query_row("SELECT 1 FROM units WHERE id = ?1", [p.as_str()], |r| r.get(0)).optional()?;
                if exists.is_none() {
                    return Err(StoreError::Invalid(format!("no parent unit {p}")));
                }
            }
            let n = c.execute(
                "INSERT INTO units (id, name, parent) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
                params![id.as_str(), name, parent.map(|p| p.as_str())],
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
            c.execute(
                "INSERT INTO calendar (day, kind) VALUES (?1, ?2) ON CONFLICT(day) DO UPDATE SET kind = ?2",
                params![day.to_string(), kind],
            )?;
            Ok(())
        })
    }

    /// Forgets a day; an error if it was not in the calendar.
    pub fn remove_calendar_day(&self, day: lianxin_shared::Date) -> Result<()> {
        self.with(|c| {
            let n = c.execute("DELETE FROM calendar WHERE day = ?1", [day.to_string()])?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("{day} is not in the calendar")));
            }
            Ok(())
        })
    }

    pub fn calendar(&self) -> Result<lianxin_shared::rules::Calendar> {
        self.with(|c| {
            let mut cal = lianxin_shared::rules::Calendar::default();
            let mut stmt = c.prepare("SELECT day, kind FROM calendar ORDER BY day")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (day, kind) = row?;
                let Ok(day) = day.parse() else { continue };
                if kind == "workday" {
                    cal.workdays.insert(day);
                } else {
                    cal.holidays.insert(day);
                }
            }
            Ok(cal)
        })
    }

    pub fn units(&self) -> Result<Vec<Unit>> {
        self.with(|c| {
            let mut stmt = c.prepare("SELECT id, name, parent FROM units ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Unit {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    parent: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })
    }

    // Users.

    pub fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        unit: &UnitId,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM units WHERE id = ?1", [unit.as_str()], |r| r.get(0)).optional()?;
            if exists.is_none() {
                return Err(StoreError::Invalid(format!("no unit {unit}")));
            }
            let n = tx.execute(
                "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                params![username, password_hash, role.code()],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("user {username} already exists")));
            }
            tx.execute("INSERT INTO user_units (username, unit) VALUES (?1, ?2)", params![username, unit.as_str()])?;
            tx.commit()?;
            Ok(())
        })
    }

    pub fn user(&self, username: &str) -> Result<Option<User>> {
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT username, password_hash, role, disabled, name FROM users WHERE username = ?1",
                    [username],
                    |r| {
                        Ok((
                            (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                            r.get::<_, String>(2)?,
                            r.get::<_, bool>(3)?,
                            r.get::<_, String>(4)?,
                        ))
                    },
                )
                .optional()?;
            let Some(((username, password_hash), role, disabled, name)) = row else {
                return Ok(None);
            };
            let units = user_units(c, &username)?;
            Ok(Some(User {
                username,
                password_hash,
                role: parse_role(&role)?,
                disabled,
                units,
                name,
            }))
        })
    }

    /// Disables or enables a user; disabling ends every session of theirs.
    pub fn set_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE users SET disabled = ?2 WHERE username = ?1",
                params![username, disabled],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("no user {username}")));
            }
            if disabled {
                tx.execute("DELETE FROM sessions WHERE username = ?1", [username])?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    // Devices and sessions.

    /// Registers a device's actor for a user. An actor belongs to one user for ever, and a
    /// revoked one is never taken again.
    pub fn register_device(&self, username: &str, actor: &str, name: &str, now: i64) -> Result<()> {
        self.with(|c| {
            let owner: Option<(String, Option<i64>)> = c
                .query_row("SELECT username, revoked_at FROM devices WHERE actor = ?1", [actor], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match owner {
                Some((_, Some(_))) => Err(StoreError::Invalid(
                    "this device has been revoked by the administrator".into(),
                )),
                Some((o, None)) if o == username => Ok(()),
                Some(_) => Err(StoreError::Invalid("this device key is registered to another user".into())),
                None => {
                    c.execute(
                        "INSERT INTO devices (actor, username, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                        params![actor, username, name, now],
                    )?;
                    Ok(())
                }
            }
        })
    }

    /// A new session, for [`SESSION_ABSOLUTE_MS`] from `now`; returns when it expires.
    pub fn create_session(
        &self,
        token_hash: &[u8],
        username: &str,
        actor: &str,
        now: i64,
    ) -> Result<i64> {
        let expires_at = now + SESSION_ABSOLUTE_MS;
        self.with(|c| {
            c.execute(
                "INSERT INTO sessions (token_hash, username, actor, expires_at, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![token_hash, username, actor, expires_at, now],
            )?;
            Ok(expires_at)
        })
    }

    /// The live session for a token: not past its absolute or its idle lifetime, the user not
    /// disabled, the device not revoked. Using it counts as activity (written at most once a
    /// minute).
    pub fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>> {
        self.with(|c| {
            let row = c
                .query_row(
                    "SELECT s.username, u.role, s.actor, s.last_seen FROM sessions s
                     JOIN users u ON u.username = s.username
                     JOIN devices d ON d.actor = s.actor
                     WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.last_seen > ?3
                       AND u.disabled = 0 AND d.revoked_at IS NULL",
                    params![token_hash, now, now - SESSION_IDLE_MS],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((username, role, actor, last_seen)) = row else {
                return Ok(None);
            };
            if now - last_seen > 60_000 {
                c.execute(
                    "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
                    params![token_hash, now],
                )?;
                c.execute(
                    "UPDATE devices SET last_seen = ?2 WHERE actor = ?1",
                    params![actor, now],
                )?;
            }
            let units = user_units(c, &username)?;
            Ok(Some(Session {
                username,
                role: parse_role(&role)?,
                actor,
                units,
            }))
        })
    }

    pub fn end_session(&self, token_hash: &[u8]) -> Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
    }

    /// Deletes sessions past their absolute or idle lifetime; returns how many.
    pub fn purge_sessions(&self, now: i64) -> Result<usize> {
        self.with(|c| {
            Ok(c.execute(
                "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2",
                params![now, now - SESSION_IDLE_MS],
            )?)
        })
    }

    /// Every registered device, newest first, with its live sessions as of `now`.
    pub fn devices(&self, now: i64) -> Result<Vec<DeviceInfo>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT d.actor, d.username, d.name, d.created_at, d.last_seen, d.revoked_at,
                   (SELECT COUNT(*) FROM sessions s WHERE s.actor = d.actor AND s.expires_at > ?1 AND s.last_seen > ?2)
                 FROM devices d ORDER BY d.created_at DESC, d.actor",
            )?;
            let rows = stmt.query_map(params![now, now - SESSION_IDLE_MS], |r| {
                Ok(DeviceInfo {
                    actor: r.get(0)?,
                    username: r.get(1)?,
                    name: r.get(2)?,
                    created_at: r.get(3)?,
                    last_seen: r.get(4)?,
                    revoked_at: r.get(5)?,
                    live_sessions: r.get::<_, i64>(6)? as usize,
                })
            })?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })
    }

    /// Revokes a device (a lost or stolen tablet): its sessions end at once, its connections
    /// close within seconds, and its key can never sign in again. `actor` may be a unique
    /// prefix of the key.
    pub fn revoke_device(&self, actor: &str, now: i64) -> Result<String> {
        self.with(|c| {
            let tx = c.transaction()?;
            let matches: Vec<String> = {
                let mut stmt =
                    tx.prepare("SELECT actor FROM devices WHERE actor LIKE ?1 || '%'")?;
                stmt.query_map([actor], |r| r.get(0))?
                    .collect::<std::result::Result<_, _>>()?
            };
            let full = match matches.as_slice() {
                [one] => one.clone(),
                [] => return Err(StoreError::Invalid(format!("no device {actor}"))),
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "{actor} names {} devices; give more of its key",
                        matches.len()
                    )));
                }
            };
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE actor = ?1 AND revoked_at IS NULL",
                params![full, now],
            )?;
            tx.execute("DELETE FROM sessions WHERE actor = ?1", [&full])?;
            tx.commit()?;
            Ok(full)
        })
    }

    /// Whether the office has been set up (any unit exists).
    pub fn is_initialised(&self) -> Result<bool> {
        self.with(|c| Ok(c.prepare("SELECT 1 FROM units LIMIT 1")?.exists([])?))
    }

    // Documents.

    pub fn seq(&self) -> Result<u64> {
        self.with(|c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64,
            )
        })
    }

    /// A document's stored bytes (snapshot followed by its appended changes, which Automerge
    /// loads as one) and its units, or None.
    pub fn load_doc(&self, id: &DocId) -> Result<Option<(Vec<u8>, Vec<UnitId>, usize)>> {
        self.with(|c| {
            let snapshot: Option<Vec<u8>> = c
                .query_row(
                    "SELECT snapshot FROM docs WHERE id = ?1",
                    [&id.as_bytes()[..]],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(mut bytes) = snapshot else {
                return Ok(None);
            };
            let mut stmt =
                c.prepare_cached("SELECT bytes FROM changes WHERE doc = ?1 ORDER BY id")?;
            let mut count = 0;
            for change in stmt.query_map([&id.as_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))? {
                bytes.extend(change?);
                count += 1;
            }
            let units = doc_units(c, id)?;
            Ok(Some((bytes, units, count)))
        })
    }

    /// A document's sequence number, to tell whether a copy held in memory is still current
    /// (another process — the admin command line, another instance — may have changed it).
    pub fn doc_seq(&self, id: &DocId) -> Result<Option<u64>> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT seq FROM docs WHERE id = ?1",
                [&id.as_bytes()[..]],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|s| s as u64))
        })
    }

    /// Durably appends a document's new changes (or, when `snapshot` is given, replaces its
    /// stored form with that compacted snapshot), records its units and heads, and returns the
    /// document's new sequence number.
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
    ) -> Result<u64> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("UPDATE meta SET value = value + 1 WHERE key = 'seq'", [])?;
            let seq: i64 = tx.query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| r.get(0))?;
            let key = &id.as_bytes()[..];
            let heads_blob: Vec<u8> = heads.iter().flatten().copied().collect();
            let exists: Option<i64> = tx.query_row("SELECT 1 FROM docs WHERE id = ?1", [key], |r| r.get(0)).optional()?;
            if exists.is_none() {
                tx.execute(
                    "INSERT INTO docs (id, seq, created_seq, snapshot, heads, private) VALUES (?1, ?2, ?2, X'', ?3, ?4)",
                    params![key, seq, heads_blob, access.code()],
                )?;
            } else {
                tx.execute("UPDATE docs SET seq = ?2, heads = ?3 WHERE id = ?1", params![key, seq, heads_blob])?;
            }
            match snapshot {
                Some(snap) => {
                    tx.execute("UPDATE docs SET snapshot = ?2 WHERE id = ?1", params![key, snap])?;
                    tx.execute("DELETE FROM changes WHERE doc = ?1", [key])?;
                }
                None => {
                    let mut stmt = tx.prepare_cached("INSERT INTO changes (doc, bytes) VALUES (?1, ?2)")?;
                    for change in changes {
                        stmt.execute(params![key, change])?;
                    }
                }
            }
            {
                let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO doc_units (doc, unit) VALUES (?1, ?2)")?;
                for unit in units {
                    stmt.execute(params![key, unit.as_str()])?;
                }
            }
            if let Some(r) = received {
                tx.execute(
                    "INSERT INTO change_log (seq, doc, username, actor, received_at, changes, what)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![seq, key, r.user, r.actor, r.at, changes.len().max(1) as i64,
                        serde_json::to_string(r.what).unwrap_or_default()],
                )?;
            }
            tx.commit()?;
            Ok(seq as u64)
        })
    }

    /// Documents in `scope` changed after `cursor`.
    pub fn changed_since(&self, cursor: u64, scope: &Scope) -> Result<Vec<ChangedDoc>> {
        let (visible, own) = (Scope::json(&scope.visible)?, Scope::json(&scope.own)?);
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT d.id, d.created_seq, d.heads FROM docs d WHERE d.seq > ?1 AND (d.private = 2 OR EXISTS (
                   SELECT 1 FROM doc_units u WHERE u.doc = d.id AND u.unit IN
                     (SELECT value FROM json_each(CASE WHEN d.private = 1 THEN ?3 ELSE ?2 END))))
                 ORDER BY d.seq",
            )?;
            let rows = stmt.query_map(params![cursor as i64, visible, own], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, created_seq, heads) = row?;
                let id: [u8; 16] = id
                    .try_into()
                    .map_err(|_| StoreError::Invalid("bad document id in store".into()))?;
                let heads = heads
                    .chunks_exact(32)
                    .map(|h| h.try_into().unwrap_or([0; 32]))
                    .collect();
                out.push(ChangedDoc {
                    id: DocId::from_bytes(id),
                    created_seq: created_seq as u64,
                    heads,
                });
            }
            Ok(out)
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
        self.with(|c| {
            let (rows, kept): (i64, i64) = c.query_row(
                "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM quarantine WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let full = rows as usize >= QUARANTINE_ROWS_PER_USER
                || kept as usize + bytes.len() > QUARANTINE_BYTES_PER_USER;
            if full {
                c.execute(
                    "INSERT INTO quarantine_overflow (username, refused, bytes) VALUES (?1, 1, ?2)
                     ON CONFLICT (username) DO UPDATE SET refused = refused + 1, bytes = bytes + ?2",
                    params![username, bytes.len() as i64],
                )?;
            } else {
                c.execute(
                    "INSERT INTO quarantine (at, username, actor, doc, reason, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![now, username, actor, doc, reason, bytes],
                )?;
            }
            Ok(())
        })
    }

    /// Refusals counted but not kept, per user: (user, how many, their bytes).
    pub fn quarantine_overflow(&self) -> Result<Vec<(String, u64, u64)>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT username, refused, bytes FROM quarantine_overflow ORDER BY username",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Bytes of refused changes kept for `username`.
    pub fn quarantined_bytes(&self, username: &str) -> Result<u64> {
        self.with(|c| {
            let n: i64 = c.query_row(
                "SELECT coalesce(sum(length(bytes)), 0) FROM quarantine WHERE username = ?1",
                [username],
                |r| r.get(0),
            )?;
            Ok(n as u64)
        })
    }

    /// The changes kept aside: (id, at, user, doc, reason, size).
    pub fn quarantined(&self) -> Result<Vec<(i64, i64, String, String, String, usize)>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT id, at, username, doc, reason, length(bytes) FROM quarantine ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get::<_, i64>(5)? as usize,
                ))
            })?;
            Ok(rows.collect::<std::result::Result<_, _>>()?)
        })
    }
}

fn user_units(c: &Connection, username: &str) -> Result<Vec<UnitId>> {
    let mut stmt =
        c.prepare_cached("SELECT unit FROM user_units WHERE username = ?1 ORDER BY unit")?;
    let rows = stmt.query_map([username], |r| r.get::<_, String>(0))?;
    rows.map(|r| UnitId::new(&r?).map_err(|e| StoreError::Invalid(e.to_string())))
        .collect()
}

fn doc_units(c: &Connection, id: &DocId) -> Result<Vec<UnitId>> {
    let mut stmt = c.prepare_cached("SELECT unit FROM doc_units WHERE doc = ?1 ORDER BY unit")?;
    let rows = stmt.query_map([&id.as_bytes()[..]], |r| r.get::<_, String>(0))?;
    rows.map(|r| UnitId::new(&r?).map_err(|e| StoreError::Invalid(e.to_string())))
        .collect()
}

pub use lianxin_shared::visible_units;
