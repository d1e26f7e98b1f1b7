//! One way for the store to speak SQL to either database: SQLite in one file (the embedded
//! default) or PostgreSQL (`serve --database postgres://…`, several instances sharing it).
//!
//! The store's queries are written once, with `?1`-style placeholders and the SQL both
//! dialects share (`ON CONFLICT`, `RETURNING`, `CAST`); the few places that differ ask
//! [`Sql::dialect`]. Values cross as [`Val`], rows come back as [`Row`].
//!
//! PostgreSQL runs on the store's own small tokio runtime: each statement is a task there, and
//! the caller waits for its answer on a channel, so a store call blocks its caller as a SQLite
//! call does and may be made from anywhere (a blocking thread, the command line, a test).

use std::sync::{Condvar, Mutex};

use rusqlite::Connection;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::{Result, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value passed to or read from the database.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::Int(v.into())
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::Int(v.into())
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(v.into())
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<&[u8]> for Val {
    fn from(v: &[u8]) -> Val {
        Val::Blob(v.to_vec())
    }
}
impl From<Vec<u8>> for Val {
    fn from(v: Vec<u8>) -> Val {
        Val::Blob(v)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}

/// The arguments of a query, each turned into a [`Val`].
macro_rules! args {
    ($($e:expr),* $(,)?) => { &[$($crate::store::db::Val::from($e)),*][..] };
}
pub(crate) use args;

/// One row of a result.
#[derive(Debug)]
pub struct Row(Vec<Val>);

impl Row {
    /// Every value of the row, in the order of the query's columns.
    pub fn values(&self) -> &[Val] {
        &self.0
    }

    fn get(&self, i: usize) -> Result<&Val> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Invalid(format!("no column {i} in the row")))
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?
            .ok_or_else(|| StoreError::Invalid(format!("column {i} is null")))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.get(i)? {
            Val::Int(v) => Ok(Some(*v)),
            Val::Null => Ok(None),
            other => Err(StoreError::Invalid(format!(
                "column {i}: an integer expected, found {other:?}"
            ))),
        }
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| StoreError::Invalid(format!("column {i} is null")))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.get(i)? {
            Val::Text(v) => Ok(Some(v.clone())),
            Val::Null => Ok(None),
            other => Err(StoreError::Invalid(format!(
                "column {i}: text expected, found {other:?}"
            ))),
        }
    }

    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.get(i)? {
            Val::Blob(v) => Ok(v.clone()),
            other => Err(StoreError::Invalid(format!(
                "column {i}: bytes expected, found {other:?}"
            ))),
        }
    }
}

/// A connection (or a transaction on one).
pub trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; how many rows it changed.
    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64>;
    /// Runs one query; its rows.
    fn rows(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>>;
    /// The first row, if any.
    fn row(&mut self, sql: &str, args: &[Val]) -> Result<Option<Row>> {
        Ok(self.rows(sql, args)?.into_iter().next())
    }
    /// The first row's first integer (a count, a sum), 0 when there is no row.
    fn int(&mut self, sql: &str, args: &[Val]) -> Result<i64> {
        match self.row(sql, args)? {
            Some(r) => Ok(r.opt_int(0)?.unwrap_or(0)),
            None => Ok(0),
        }
    }
    /// Runs several statements with no arguments (a schema).
    fn batch(&mut self, sql: &str) -> Result<()>;
}

// SQLite.

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Int(v) => ValueRef::Integer(*v),
            Val::Text(v) => ValueRef::Text(v.as_bytes()),
            Val::Blob(v) => ValueRef::Blob(v),
            Val::Null => ValueRef::Null,
        }))
    }
}

pub struct Lite<'a>(pub &'a Connection);

impl Sql for Lite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
    }

    fn rows(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Int(v as i64),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Blob(b.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.0.execute_batch(sql)?)
    }
}

// PostgreSQL.

impl ToSql for Val {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Val::Null => Ok(IsNull::Yes),
            Val::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Val::Text(v) => v.as_str().to_sql(ty, out),
            Val::Blob(v) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// `?1` placeholders as PostgreSQL writes them (`$1`).
pub fn postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '?' && !quoted && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn pg_row(r: &tokio_postgres::Row) -> Result<Row> {
    let mut row = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let bad = |e: tokio_postgres::Error| StoreError::Postgres(e.to_string());
        let v = match *column.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Val::Int),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::BOOL => r
                .try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map(|v| Val::Int(v.into())),
            Type::BYTEA => r
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map(Val::Blob),
            _ => r
                .try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map(Val::Text),
        };
        row.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(row))
}

/// One pooled connection and the statements prepared on it.
struct Conn {
    client: std::sync::Arc<tokio_postgres::Client>,
    prepared: std::collections::HashMap<String, tokio_postgres::Statement>,
}

/// A few PostgreSQL connections shared by the store's callers, on the store's own runtime.
pub struct Pool {
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
    /// Idle connections, and how many are open in all.
    idle: Mutex<(Vec<Conn>, usize)>,
    returned: Condvar,
    size: usize,
}

impl Pool {
    pub fn connect(url: &str, size: usize) -> Result<Pool> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lianxin-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Postgres(format!("cannot start the runtime: {e}")))?;
        let pool = Pool {
            url: url.to_string(),
            runtime: Some(runtime),
            idle: Mutex::new((Vec::new(), 0)),
            returned: Condvar::new(),
            size: size.max(1),
        };
        // Fail now, with the reason, when the database cannot be reached.
        let conn = pool.take()?;
        pool.put_back(conn);
        Ok(pool)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn handle(&self) -> Result<tokio::runtime::Handle> {
        self.runtime
            .as_ref()
            .map(|r| r.handle().clone())
            .ok_or_else(|| StoreError::Postgres("the store is closing".into()))
    }

    fn open(&self) -> Result<Conn> {
        let url = self.url.clone();
        let client = wait_on(&self.handle()?, async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| {
                StoreError::Postgres(format!("cannot connect to {}: {e}", redact(&url)))
            })?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("postgres connection ended: {e}");
                }
            });
            Ok::<_, StoreError>(client)
        })??;
        Ok(Conn {
            client: std::sync::Arc::new(client),
            prepared: Default::default(),
        })
    }

    fn take(&self) -> Result<Conn> {
        let mut idle = self.idle.lock().map_err(|_| StoreError::Poisoned)?;
        loop {
            while let Some(conn) = idle.0.pop() {
                if !conn.client.is_closed() {
                    return Ok(conn);
                }
                idle.1 -= 1;
            }
            if idle.1 < self.size {
                idle.1 += 1;
                drop(idle);
                return self.open().inspect_err(|_| {
                    if let Ok(mut idle) = self.idle.lock() {
                        idle.1 -= 1;
                    }
                });
            }
            idle = self.returned.wait(idle).map_err(|_| StoreError::Poisoned)?;
        }
    }

    fn put_back(&self, conn: Conn) {
        if let Ok(mut idle) = self.idle.lock() {
            if conn.client.is_closed() {
                idle.1 = idle.1.saturating_sub(1);
            } else {
                idle.0.push(conn);
            }
        }
        self.returned.notify_one();
    }

    /// Runs `f` on a pooled connection; `transaction`: inside BEGIN … COMMIT (ROLLBACK when
    /// `f` fails).
    pub fn run<T: Send>(
        &self,
        transaction: bool,
        f: impl FnOnce(&mut dyn Sql) -> Result<T> + Send,
    ) -> Result<T> {
        let mut conn = self.take()?;
        let handle = self.handle()?;
        let result = {
            let mut pg = Pg {
                conn: &mut conn,
                handle: &handle,
            };
            if transaction {
                pg.batch("BEGIN").and_then(|()| match f(&mut pg) {
                    Ok(v) => pg.batch("COMMIT").map(|()| v),
                    Err(e) => {
                        let _ = pg.batch("ROLLBACK");
                        Err(e)
                    }
                })
            } else {
                f(&mut pg)
            }
        };
        self.put_back(conn);
        result
    }
}

/// A database address without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &url[scheme + 3..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.0.clear();
        }
        // Dropping a runtime blocks; where that is not allowed (an async task), it is let go.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` on the store's runtime and waits for its answer (on any thread: a plain
/// channel, not the runtime's own blocking).
fn wait_on<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv()
        .map_err(|_| StoreError::Postgres("the database task ended without an answer".into()))
}

struct Pg<'a> {
    conn: &'a mut Conn,
    handle: &'a tokio::runtime::Handle,
}

impl Pg<'_> {
    fn statement(&mut self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(stmt) = self.conn.prepared.get(sql) {
            return Ok(stmt.clone());
        }
        let translated = postgres_placeholders(sql);
        let client = self.conn.client.clone();
        let stmt = wait_on(
            self.handle,
            async move { client.prepare(&translated).await },
        )?
        .map_err(pg_error)?;
        self.conn.prepared.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

fn pg_error(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Postgres(e.to_string()),
    }
}

fn pg_args(args: &[Val]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

impl Sql for Pg<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn exec(&mut self, sql: &str, args: &[Val]) -> Result<u64> {
        let stmt = self.statement(sql)?;
        let (client, args) = (self.conn.client.clone(), args.to_vec());
        wait_on(self.handle, async move {
            client.execute(&stmt, &pg_args(&args)).await
        })?
        .map_err(pg_error)
    }

    fn rows(&mut self, sql: &str, args: &[Val]) -> Result<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let (client, args) = (self.conn.client.clone(), args.to_vec());
        let rows = wait_on(self.handle, async move {
            client.query(&stmt, &pg_args(&args)).await
        })?
        .map_err(pg_error)?;
        rows.iter().map(pg_row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let (client, sql) = (self.conn.client.clone(), sql.to_string());
        wait_on(self.handle, async move { client.batch_execute(&sql).await })?.map_err(pg_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            postgres_placeholders("SELECT ?1, '?2' FROM t WHERE a = ?12 AND b LIKE ?2 || '%'"),
            "SELECT $1, '?2' FROM t WHERE a = $12 AND b LIKE $2 || '%'"
        );
        assert_eq!(postgres_placeholders("a ? b"), "a ? b");
    }
}
