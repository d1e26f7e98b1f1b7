//! `store-bench`: the store at a prefecture's scale — 100,000 cases and 1,000,000 stored
//! changes — on SQLite or PostgreSQL. Prints what a reconnect costs when nothing changed and
//! when 50 or 500 cases changed (the store's changed-since query alone, and a whole opening
//! through the hub as a device's hello gets it), and what compaction keeps of a case edited
//! 600 times through the hub.
//!
//! ```sh
//! cargo build --release -p lianxin-server --bin store-bench
//! target/release/store-bench                                    # SQLite, 100,000 cases
//! scripts/postgres.sh -- sh -c 'target/release/store-bench --postgres "$LIANXIN_TEST_POSTGRES"'
//! target/release/store-bench --cases 10000 --changes 100000     # quicker
//! ```

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use automerge::ActorId;
use lianxin_server::hub::{Hub, ServerSession};
use lianxin_server::store::{Expect, Scope, Session, Store};
use lianxin_server::{demo, now_ms};
use lianxin_shared::protocol::{self, ClientMessage, ServerMessage};
use lianxin_shared::{Access, CaseDoc, DeviceSession, DocId, Editor, Kind, Replica, UnitId};

struct Args {
    cases: usize,
    changes: usize,
    postgres: Option<String>,
}

fn args() -> Result<Args> {
    let mut a = Args {
        cases: 100_000,
        changes: 1_000_000,
        postgres: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("a flag needs a value");
        match flag.as_str() {
            "--cases" => a.cases = value()?.parse()?,
            "--changes" => a.changes = value()?.parse()?,
            "--postgres" => a.postgres = Some(value()?),
            other => bail!("unknown flag {other} (--cases N --changes N --postgres URL)"),
        }
    }
    Ok(a)
}

/// Median milliseconds of `f` over five runs, and its last result.
fn time<T>(mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut ms = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        last = Some(f()?);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    Ok((ms[2], last.context("no run")?))
}

/// Appends a note to a stored case, as a device's change would arrive.
fn touch(store: &Store, id: &DocId, text: &str) -> Result<usize> {
    let (bytes, units, _) = store.load_doc(id)?.context("no such case")?;
    let doc = lianxin_shared::load_document(&bytes)?.with_actor(ActorId::random());
    let mut case = CaseDoc::from_doc(doc)?;
    case.append_note(&Editor::new("mediator", now_ms()), text)?;
    let mut doc = case.into_doc();
    let change = doc
        .get_last_local_change()
        .context("no change")?
        .raw_bytes()
        .to_vec();
    let heads = protocol::heads_to_wire(&doc.get_heads());
    let size = change.len();
    store.append_changes(
        id,
        &units,
        Access::Units,
        &[change],
        &heads,
        None,
        None,
        Expect::Any,
    )?;
    Ok(size)
}

fn main() -> Result<()> {
    let a = args()?;
    let dir = std::env::temp_dir().join(format!("lianxin-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let database = match &a.postgres {
        Some(url) => Some(Store::create_postgres_database(
            url,
            &format!("bench_{}_{}", std::process::id(), now_ms()),
        )?),
        None => None,
    };
    let store = Store::open_at(&dir, database.as_deref())?;
    println!(
        "store-bench on {}: {} cases, {} changes",
        if database.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        a.cases,
        a.changes
    );

    let t = Instant::now();
    demo::seed(&store, 0, now_ms())?;
    demo::store_cases(&store, a.cases, 2026, now_ms())?;
    println!(
        "{} cases stored in {:.1} s",
        a.cases,
        t.elapsed().as_secs_f64()
    );
    let directory = store.units()?;
    let all = Scope::everything(&directory);
    let mut cases = Vec::new();
    let mut in_longxi = None;
    for d in store.changed_since(0, &all)? {
        if let Some((bytes, units, _)) = store.load_doc(&d.id)?
            && matches!(
                Kind::of(&lianxin_shared::load_document(&bytes)?),
                Ok(Kind::Case)
            )
        {
            if in_longxi.is_none() && units.iter().any(|u| u.as_str() == "longxi") {
                in_longxi = Some(d.id);
            }
            cases.push(d.id);
        }
    }

    // A million changes: each case gets its share, a device's change at a time in batches.
    let t = Instant::now();
    let per_case = a.changes / cases.len().max(1);
    let mut stored = 0usize;
    let mut change_bytes = 0usize;
    for id in &cases {
        let (bytes, units, _) = store.load_doc(id)?.context("no such case")?;
        let mut doc = lianxin_shared::load_document(&bytes)?.with_actor(ActorId::random());
        let start = doc.get_heads();
        let mut case = CaseDoc::from_doc(doc)?;
        for k in 0..per_case {
            case.append_note(&Editor::new("mediator", now_ms()), &format!("第{k}次回访"))?;
        }
        let mut doc = case.into_doc();
        let raw: Vec<Vec<u8>> = doc
            .get_changes(&start)
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let heads = protocol::heads_to_wire(&doc.get_heads());
        change_bytes += raw.iter().map(Vec::len).sum::<usize>();
        stored += raw.len();
        store.append_changes(
            id,
            &units,
            Access::Units,
            &raw,
            &heads,
            None,
            None,
            Expect::Any,
        )?;
    }
    println!(
        "{stored} changes ({:.1} MB) stored in {:.1} s",
        change_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    if database.is_none() {
        let size = std::fs::metadata(dir.join("lianxin.sqlite"))
            .map(|m| m.len())
            .unwrap_or(0);
        println!("database file: {:.0} MB", size as f64 / 1e6);
    }

    let township = Scope {
        visible: lianxin_shared::visible_units(&directory, &[UnitId::new("longxi")?]),
        own: vec![UnitId::new("longxi")?],
    };
    let hub = Arc::new(Hub::new(Arc::new(store), |_| {}));
    let store = hub.store.clone();
    let session = |units: &[&str]| -> Result<ServerSession<Store>> {
        Ok(ServerSession::new(
            1,
            hub.clone(),
            Session {
                username: "bench".into(),
                role: lianxin_server::store::Role::Leader,
                actor: ActorId::random().to_hex_string(),
                units: units
                    .iter()
                    .map(|u| UnitId::new(u))
                    .collect::<Result<_, _>>()?,
            },
            directory.clone(),
        ))
    };
    let opening = |units: &[&str], cursor: u64| -> Result<(usize, usize)> {
        let mut s = session(units)?;
        let frame = protocol::encode(&ClientMessage::Hello { cursor });
        let out = s
            .handle_frame(&frame, now_ms())
            .map_err(|f| anyhow::anyhow!(f.0))?;
        let bytes = out.iter().map(|m| protocol::encode(m).len()).sum();
        let changed = out
            .iter()
            .map(|m| match m {
                ServerMessage::Welcome { changed, .. } => changed.len(),
                _ => 0,
            })
            .sum();
        Ok((changed, bytes))
    };
    println!("{:<58} {:>9} {:>9} {:>10}", "", "changed", "ms", "bytes↓");
    for changed in [0usize, 50, 500] {
        let cursor = store.seq()?;
        for (k, id) in cases.iter().take(changed).enumerate() {
            touch(&store, id, &format!("改动{k}"))?;
        }
        let (ms, found) = time(|| Ok(store.changed_since(cursor, &all)?.len()))?;
        println!(
            "{:<58} {found:>9} {ms:>9.2} {:>10}",
            format!("changed since, county scope ({changed} changed)"),
            ""
        );
        let (ms, found) = time(|| Ok(store.changed_since(cursor, &township)?.len()))?;
        println!(
            "{:<58} {found:>9} {ms:>9.2} {:>10}",
            format!("changed since, township scope ({changed} changed)"),
            ""
        );
        let (ms, (found, bytes)) = time(|| opening(&["lianshan"], cursor))?;
        println!(
            "{:<58} {found:>9} {ms:>9.2} {bytes:>10}",
            format!("opening of a county device's hello ({changed} changed)")
        );
    }

    // Compaction: one case edited 600 times through the hub, as a device's sync would.
    let id = in_longxi.context("no case in longxi")?;
    let (before, _, _) = store.load_doc(&id)?.context("no such case")?;
    let mut s = ServerSession::new(
        2,
        hub.clone(),
        Session {
            username: "mediator".into(),
            role: lianxin_server::store::Role::Mediator,
            actor: ActorId::random().to_hex_string(),
            units: vec![UnitId::new("longxi")?],
        },
        directory.clone(),
    );
    let actor = ActorId::try_from(s.user.actor.as_str())?;
    s.handle_frame(
        &protocol::encode(&ClientMessage::Hello {
            cursor: store.seq()?,
        }),
        now_ms(),
    )
    .map_err(|f| anyhow::anyhow!(f.0))?;
    let mut replica = Replica::new(lianxin_shared::load_document(&before)?.with_actor(actor));
    let mut device = DeviceSession::hello(0).0;
    let mut sent = 0usize;
    for k in 0..600 {
        let doc = std::mem::take(&mut replica.doc);
        let mut case = CaseDoc::from_doc(doc)?;
        case.append_note(
            &Editor::new("mediator", now_ms()),
            &format!("第{k}次走访记录"),
        )?;
        replica.doc = case.into_doc();
        device.push(id, &mut replica);
        let mut frames = device.take_frames();
        while let Some(frame) = frames.pop() {
            sent += frame.len();
            for reply in s
                .handle_frame(&frame, now_ms())
                .map_err(|f| anyhow::anyhow!(f.0))?
            {
                for task in device
                    .receive(&protocol::encode(&reply))
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                {
                    device
                        .handle(&task, &mut replica)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }
            frames.extend(device.take_frames());
        }
    }
    if let Some((doc, reason)) = device.refused().first() {
        bail!("refused {doc}: {reason}");
    }
    let (after, _, appended) = store.load_doc(&id)?.context("no such case")?;
    println!(
        "compaction: a case of {} bytes edited 600 times through the hub ({} bytes of sync messages sent): stored {} bytes, {} changes appended since its last snapshot",
        before.len(),
        sent,
        after.len(),
        appended
    );
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
