//! The doorbell between server instances sharing one PostgreSQL database.
//!
//! Each commit of a document change sends `NOTIFY lianxin_changes, '<doc> <seq> <instance>'`
//! inside its transaction (so it rings only if the change is stored). Every instance listens on
//! a connection of its own; a ring from another instance becomes a [`Remote`] for its live
//! connections. The bell carries only an id and a number: what a device is told is read from
//! the table. When the listening connection is lost, the listener connects again, listens, and
//! then catches up from the highest sequence number it had seen — a lost ring loses nothing.

use std::time::Duration;

use futures_util::StreamExt;
use lianxin_shared::{Access, DocId, UnitId};

use super::db::{Sql, args};
use super::{Result, Store, StoreError};

const CHANNEL: &str = "lianxin_changes";
/// How the listening connection names itself (`pg_stat_activity.application_name`).
pub const APPLICATION_NAME: &str = "lianxin-listener";

/// A document stored through another instance.
#[derive(Clone, Debug)]
pub struct Remote {
    pub doc: DocId,
    pub seq: u64,
    pub heads: Vec<[u8; 32]>,
    pub units: Vec<UnitId>,
    pub access: Access,
}

/// Rings the other instances' bell; called inside the storing transaction.
pub(super) fn ring(c: &mut dyn Sql, instance: u64, id: &DocId, seq: u64) -> Result<()> {
    c.exec(
        "SELECT pg_notify('lianxin_changes', CAST(?1 AS TEXT))",
        args![format!("{} {seq} {instance}", hex::encode(id.as_bytes()))],
    )?;
    Ok(())
}

impl Store {
    /// Calls `on_change` for every document stored through another instance, from now on, for
    /// as long as the store lives. On SQLite (one instance) there is nobody else.
    pub fn listen(&self, on_change: impl Fn(Remote) + Send + Sync + 'static) -> Result<()> {
        let super::Backend::Postgres(pool) = &self.backend else {
            return Ok(());
        };
        let from = self.seq()?;
        let url = pool.url().to_string();
        let instance = self.instance;
        pool.handle()?.spawn(listen(url, instance, from, on_change));
        Ok(())
    }
}

async fn listen(url: String, instance: u64, mut last: u64, on_change: impl Fn(Remote)) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen_once(&url, instance, &mut last, &on_change).await {
            Ok(()) => tracing::warn!("the change listener's connection ended; connecting again"),
            Err(e) => tracing::warn!("the change listener failed: {e}; connecting again"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

fn pg(e: tokio_postgres::Error) -> StoreError {
    StoreError::Postgres(e.to_string())
}

async fn listen_once(
    url: &str,
    instance: u64,
    last: &mut u64,
    on_change: &impl Fn(Remote),
) -> Result<()> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(pg)?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = message
                && tx.send(n.payload().to_string()).is_err()
            {
                break;
            }
        }
    });
    client
        .batch_execute(&format!(
            "SET application_name = '{APPLICATION_NAME}'; LISTEN {CHANNEL}"
        ))
        .await
        .map_err(pg)?;
    // Listening now: whatever was committed while nobody listened is read from the table.
    let missed = client
        .query(
            "SELECT d.id, d.seq, d.heads, d.private, array_remove(array_agg(u.unit ORDER BY u.unit), NULL)
             FROM docs d LEFT JOIN doc_units u ON u.doc = d.id WHERE d.seq > $1
             GROUP BY d.id, d.seq, d.heads, d.private ORDER BY d.seq",
            &[&(*last as i64)],
        )
        .await
        .map_err(pg)?;
    if !missed.is_empty() {
        tracing::info!(
            from = *last,
            documents = missed.len(),
            "the change listener caught up"
        );
    }
    for row in &missed {
        if let Some(remote) = remote_of(row)? {
            *last = (*last).max(remote.seq);
            on_change(remote);
        }
    }
    while let Some(payload) = rx.recv().await {
        let mut parts = payload.split(' ');
        let (Some(doc), Some(seq), Some(from)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(doc), Ok(seq)) = (hex::decode(doc), seq.parse::<u64>()) else {
            continue;
        };
        if seq <= *last {
            continue;
        }
        *last = seq;
        if from == instance.to_string() {
            continue;
        }
        let row = client
            .query_opt(
                "SELECT d.id, d.seq, d.heads, d.private, array_remove(array_agg(u.unit ORDER BY u.unit), NULL)
                 FROM docs d LEFT JOIN doc_units u ON u.doc = d.id WHERE d.id = $1
                 GROUP BY d.id, d.seq, d.heads, d.private",
                &[&doc],
            )
            .await
            .map_err(pg)?;
        if let Some(remote) = row.as_ref().map(remote_of).transpose()?.flatten() {
            on_change(remote);
        }
    }
    driver.abort();
    Ok(())
}

fn remote_of(row: &tokio_postgres::Row) -> Result<Option<Remote>> {
    let id: Vec<u8> = row.try_get(0).map_err(pg)?;
    let Ok(id) = <[u8; 16]>::try_from(id.as_slice()) else {
        return Ok(None);
    };
    let units: Vec<String> = row.try_get(4).map_err(pg)?;
    Ok(Some(Remote {
        doc: DocId::from_bytes(id),
        seq: row.try_get::<_, i64>(1).map_err(pg)? as u64,
        heads: super::split_heads(&row.try_get::<_, Vec<u8>>(2).map_err(pg)?),
        units: units.iter().filter_map(|u| UnitId::new(u).ok()).collect(),
        access: Access::from_code(row.try_get(3).map_err(pg)?),
    }))
}
