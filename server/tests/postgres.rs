//! Several server instances on one PostgreSQL database: a change stored through one reaches
//! devices connected to another, live; a listener whose connection is killed catches up; two
//! instances writing one case lose no update; SIGKILL of one of two instances while devices
//! sync loses nothing acknowledged, and its devices go on through the other.
//!
//! Needs the throwaway PostgreSQL of scripts/test.sh (LIANXIN_TEST_POSTGRES).

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use lianxin_server::device::Device;
use lianxin_server::store::{Expect, Store, StoreError};
use lianxin_server::{demo, now_ms};
use lianxin_shared::protocol::ServerMessage;
use lianxin_shared::{Access, DocId, UnitId};

mod common;
use common::*;

const NOW: i64 = 1_780_000_000_000;

fn token_of(d: &TestDevice) -> String {
    let conn = rusqlite::Connection::open(home(d).join("device.sqlite")).unwrap();
    conn.query_row("SELECT value FROM config WHERE key = 'token'", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Waits for the live connection to hear that `id` changed; how long it took.
async fn hear_changed(live: &mut Socket, id: &str) -> Duration {
    let started = Instant::now();
    loop {
        match next(live).await {
            Heard::Message(ServerMessage::Changed(docs))
                if docs.iter().any(|(d, _)| d.to_string() == id) =>
            {
                return started.elapsed();
            }
            Heard::Message(_) => continue,
            other => panic!("expected to hear of {id}, heard {other:?}"),
        }
    }
}

fn notes_of(d: &Device, id: &str) -> String {
    d.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["notes"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// Ends the change listeners' connections to `url`'s database (as a network fault or a
/// PostgreSQL restart would).
fn kill_listeners(url: &str) -> usize {
    let database = url.rsplit('/').next().unwrap();
    Store::terminate_listeners(&postgres_server(), database).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_reaches_devices_on_the_other() {
    let url = fresh_postgres();
    let first = Store::open_postgres(&url).unwrap();
    assert!(demo::seed(&first, 0, now_ms()).unwrap());
    let one = TestServer::start_on(first).await;
    let two = TestServer::start_on(Store::open_postgres(&url).unwrap()).await;

    let mut writer = device(&one.url, "mediator").await;
    let id = writer
        .new_case("longxi", "visit", "两台服务器共同办理的案件", NOW)
        .unwrap()
        .to_string();
    writer.sync().await.unwrap();
    let mut reader = device(&two.url, "mediator2").await;
    reader.sync().await.unwrap();
    let mut live = connect(&two.url, &token_of(&reader)).await;
    open(&mut live, 0).await;

    // Stored through the first instance, heard at once by a device on the second.
    writer.note(&id, "第一次走访：经由一号服务器", NOW).unwrap();
    let sent = Instant::now();
    writer.sync().await.unwrap();
    hear_changed(&mut live, &id).await;
    eprintln!(
        "cross-instance delivery: {:?} from the sync",
        sent.elapsed()
    );
    reader.sync().await.unwrap();
    assert!(notes_of(&reader, &id).contains("第一次走访"));

    // The second instance's listener loses its connection; what is stored meanwhile still
    // reaches its devices (it catches up from the stored sequence when it is back).
    for round in 0..3 {
        assert_eq!(kill_listeners(&url), 2, "both instances were listening");
        let text = format!("断线期间的记录{round}");
        writer.note(&id, &text, NOW).unwrap();
        writer.sync().await.unwrap();
        hear_changed(&mut live, &id).await;
        reader.sync().await.unwrap();
        assert!(notes_of(&reader, &id).contains(&text), "{text}");
    }

    // And the other way round.
    reader.note(&id, "经由二号服务器的回复", NOW).unwrap();
    let mut live_one = connect(&one.url, &token_of(&writer)).await;
    open(&mut live_one, 0).await;
    reader.sync().await.unwrap();
    hear_changed(&mut live_one, &id).await;
    writer.sync().await.unwrap();
    assert_eq!(notes_of(&writer, &id), notes_of(&reader, &id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_writing_one_case_lose_no_update() {
    let url = fresh_postgres();
    let first = Store::open_postgres(&url).unwrap();
    assert!(demo::seed(&first, 0, now_ms()).unwrap());
    let one = TestServer::start_on(first).await;
    let two = TestServer::start_on(Store::open_postgres(&url).unwrap()).await;

    let mut a = device(&one.url, "mediator").await;
    let id = a
        .new_case("longxi", "visit", "两人同时记录的案件", NOW)
        .unwrap()
        .to_string();
    a.sync().await.unwrap();
    let mut b = device(&two.url, "mediator2").await;
    b.sync().await.unwrap();

    const NOTES: usize = 25;
    let write = |mut d: TestDevice, who: &'static str, id: String| {
        tokio::spawn(async move {
            for i in 0..NOTES {
                d.note(&id, &format!("<{who}{i}>"), NOW + i as i64).unwrap();
                let report = d.sync().await.unwrap();
                assert!(report.refused.is_empty(), "{:?}", report.refused);
            }
            d
        })
    };
    let (a, b) = (write(a, "a", id.clone()), write(b, "b", id.clone()));
    let (mut a, mut b) = (a.await.unwrap(), b.await.unwrap());
    for _ in 0..2 {
        a.sync().await.unwrap();
        b.sync().await.unwrap();
    }
    let mut observer = device(&two.url, "admin").await;
    observer.sync().await.unwrap();
    let seen = notes_of(&observer, &id);
    for who in ["a", "b"] {
        for i in 0..NOTES {
            assert!(seen.contains(&format!("<{who}{i}>")), "<{who}{i}> was lost");
        }
    }
    assert_eq!(notes_of(&a, &id), seen);
    assert_eq!(notes_of(&b, &id), seen);
    eprintln!(
        "writes redone on a fresh copy: {}",
        lianxin_server::metrics::STALE_RETRIES.get()
    );
}

/// The check underneath: a write made on a copy read at an older sequence number is refused
/// as stale, on either database, so the hub reads the document again and redoes it.
#[test]
fn a_write_on_a_stale_copy_is_refused_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_postgres();
    let pairs = [
        (
            Store::open(dir.path()).unwrap(),
            Store::open(dir.path()).unwrap(),
        ),
        (
            Store::open_postgres(&url).unwrap(),
            Store::open_postgres(&url).unwrap(),
        ),
    ];
    for (one, two) in pairs {
        let id = DocId::from_bytes([7; 16]);
        let units = [UnitId::new("longxi").unwrap()];
        let write = |store: &Store, change: &[u8], expect| {
            store.append_changes(
                &id,
                &units,
                Access::Units,
                &[change.to_vec()],
                &[[1; 32]],
                None,
                None,
                expect,
            )
        };
        let first = write(&one, b"a", Expect::Seq(None)).unwrap();
        // The other instance still thinks there is no such document.
        assert!(matches!(
            write(&two, b"b", Expect::Seq(None)),
            Err(StoreError::Stale)
        ));
        // Read again, the write goes through; and the first one is now stale in turn.
        let second = write(&two, b"b", Expect::Seq(Some(first))).unwrap();
        assert!(second > first);
        assert!(matches!(
            write(&one, b"c", Expect::Seq(Some(first))),
            Err(StoreError::Stale)
        ));
        let (bytes, _, appended) = one.load_doc(&id).unwrap().unwrap();
        assert_eq!((bytes, appended), (b"ab".to_vec(), 2));
    }
}

fn start_server(data: &Path, database: &str, addr: &str, log: &str) -> Child {
    serve_process(data, Some(database), addr, log)
}

struct Writer {
    device: Device,
    written: Vec<(String, String)>,
    acked: usize,
    syncs_ok: usize,
    syncs_failed: usize,
    moved: bool,
    /// Syncs that succeeded after moving to the other instance.
    ok_after_move: usize,
}

#[test]
fn sigkill_of_one_of_two_instances_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_postgres();
    let (addr_a, addr_b) = (free_addr(), free_addr());
    let (url_a, url_b) = (format!("http://{addr_a}"), format!("http://{addr_b}"));
    let mut a = start_server(&dir.path().join("a"), &database, &addr_a, "a.log");
    let mut b = start_server(&dir.path().join("b"), &database, &addr_b, "b.log");
    let rt = runtime();

    // Six tablets, half on each instance; three of them share one case.
    let users = [
        "mediator",
        "mediator2",
        "mediator",
        "shitang",
        "shitang",
        "handler",
    ];
    let units = ["longxi", "longxi", "longxi", "shitang", "shitang", "hrss"];
    let mut devices = Vec::new();
    for (k, user) in users.iter().enumerate() {
        let mut d = Device::open(&dir.path().join(format!("tablet{k}"))).unwrap();
        let url = if k % 2 == 0 { &url_a } else { &url_b };
        d.login(url, user, demo::PASSWORD).unwrap();
        devices.push(d);
    }
    let shared = devices[0]
        .new_case("longxi", "visit", "两台服务器上三台平板共同办理的案件", 0)
        .unwrap()
        .to_string();
    rt.block_on(devices[0].sync()).unwrap();
    let mut cases = Vec::new();
    for (k, d) in devices.iter_mut().enumerate() {
        let own = d
            .new_case(units[k], "visit", &format!("平板{k}的案件"), 0)
            .unwrap()
            .to_string();
        rt.block_on(d.sync()).unwrap();
        cases.push(own);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = devices
        .into_iter()
        .enumerate()
        .map(|(k, device)| {
            let stop = stop.clone();
            let own = cases[k].clone();
            let shared = (units[k] == "longxi").then(|| shared.clone());
            let (user, other) = (users[k], url_b.clone());
            thread::spawn(move || {
                let rt = runtime();
                let mut w = Writer {
                    device,
                    written: Vec::new(),
                    acked: 0,
                    syncs_ok: 0,
                    syncs_failed: 0,
                    moved: false,
                    ok_after_move: 0,
                };
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let case = match &shared {
                        Some(s) if i % 2 == 1 => s.clone(),
                        _ => own.clone(),
                    };
                    let text = format!("<t{k}-n{i}>");
                    w.device.note(&case, &text, i).unwrap();
                    w.written.push((case, text));
                    let before = w.written.len();
                    match rt.block_on(w.device.sync()) {
                        Ok(report) => {
                            assert!(report.refused.is_empty(), "{:?}", report.refused);
                            w.acked = before;
                            w.syncs_ok += 1;
                            w.ok_after_move += usize::from(w.moved);
                        }
                        Err(_) => {
                            // Its server is gone: the tablet signs in to the other one.
                            w.syncs_failed += 1;
                            if k % 2 == 0 && !w.moved {
                                w.moved = w.device.login(&other, user, demo::PASSWORD).is_ok();
                            }
                            thread::sleep(Duration::from_millis(20));
                        }
                    }
                    i += 1;
                }
                w
            })
        })
        .collect();

    thread::sleep(Duration::from_millis(2500));
    a.kill().unwrap(); // SIGKILL
    a.wait().unwrap();
    thread::sleep(Duration::from_millis(2000)); // the others go on, through instance b
    stop.store(true, Ordering::SeqCst);
    let mut writers: Vec<Writer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let acked: usize = writers.iter().map(|w| w.acked).sum();
    let written: usize = writers.iter().map(|w| w.written.len()).sum();
    let ok: usize = writers.iter().map(|w| w.syncs_ok).sum();
    eprintln!("{written} notes written, {acked} acknowledged in {ok} syncs over two instances");
    assert!(
        writers.iter().step_by(2).all(|w| w.moved),
        "every tablet of the killed instance moved to the other"
    );
    assert!(
        writers.iter().step_by(2).all(|w| w.ok_after_move > 0),
        "the moved tablets synced through the other instance"
    );
    assert!(
        writers.iter().all(|w| w.syncs_failed == 0 || w.moved),
        "the tablets of the surviving instance never lost it"
    );

    // Through the surviving instance: everything acknowledged by either is there.
    let mut observer = Device::open(&dir.path().join("observer")).unwrap();
    observer.login(&url_b, "admin", demo::PASSWORD).unwrap();
    rt.block_on(observer.sync()).unwrap();
    let seen: String = observer.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["notes"].as_str().unwrap().to_string())
        .collect();
    for w in &writers {
        for (_, text) in &w.written[..w.acked] {
            assert!(
                seen.contains(text.as_str()),
                "acknowledged note {text} was lost"
            );
        }
    }
    // Every tablet syncs once more: nothing anyone typed is lost, and the shared case agrees.
    for w in &mut writers {
        let report = rt.block_on(w.device.sync()).unwrap();
        assert!(report.refused.is_empty(), "{:?}", report.refused);
    }
    rt.block_on(observer.sync()).unwrap();
    for w in &mut writers {
        rt.block_on(w.device.sync()).unwrap();
    }
    for w in &writers {
        for (case, text) in &w.written {
            assert!(
                notes_of(&observer, case).contains(text.as_str()),
                "note {text} is not on the server"
            );
        }
    }
    let reference = notes_of(&observer, &shared);
    for w in writers
        .iter()
        .filter(|w| w.written.iter().any(|(c, _)| *c == shared))
    {
        assert_eq!(
            notes_of(&w.device, &shared),
            reference,
            "the shared case converged"
        );
    }
    b.kill().unwrap();
    b.wait().unwrap();
}

/// An office moves from its SQLite file to PostgreSQL with `lianxin admin copy`: every table
/// comes along, row for row; a tablet signed in before the move goes on against a server on
/// PostgreSQL with its session, its cursor and its actor; what it writes there is stored after
/// what was copied; a colleague's new tablet finds all of it; a second copy into the same
/// database is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_copied_from_sqlite_to_postgresql_goes_on_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path()).unwrap();
    assert!(demo::seed(&sqlite, 40, now_ms()).unwrap());
    let before = TestServer::start_on(sqlite).await;
    let mut tablet = device(&before.url, "mediator").await;
    let id = tablet
        .new_case("longxi", "visit", "搬迁前登记的案件", NOW)
        .unwrap()
        .to_string();
    tablet.sync().await.unwrap();
    // Stored as a change appended to the case's snapshot.
    tablet.note(&id, "搬迁前的走访记录", NOW).unwrap();
    tablet.sync().await.unwrap();
    let seq_before = Store::open(dir.path()).unwrap().seq().unwrap();

    let url = fresh_postgres();
    let copy = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"))
            .args(["admin", "--data"])
            .arg(dir.path())
            .args(["--database", &url, "copy"])
            .output()
            .unwrap()
    };
    let out = copy();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every table the file has, with as many rows as the file holds.
    let file = rusqlite::Connection::open(dir.path().join("lianxin.sqlite")).unwrap();
    let tables: Vec<String> = file
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.len() >= 18, "{tables:?}");
    for table in &tables {
        let n: i64 = file
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert!(
            printed.lines().any(|l| l == format!("{table}\t{n}")),
            "{table}: {n} rows in the file; the copy said:\n{printed}"
        );
    }
    for busy in [
        "docs",
        "changes",
        "sessions",
        "devices",
        "change_log",
        "users",
    ] {
        let n: i64 = file
            .query_row(&format!("SELECT count(*) FROM {busy}"), [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "the test's office has no {busy}");
    }
    let pg = Store::open_postgres(&url).unwrap();
    assert_eq!(pg.seq().unwrap(), seq_before);

    // The tablet is pointed at the new server and goes on as it was.
    let after = TestServer::start_on(pg).await;
    rusqlite::Connection::open(home(&tablet).join("device.sqlite"))
        .unwrap()
        .execute(
            "UPDATE config SET value = ?1 WHERE key = 'server'",
            [&after.url],
        )
        .unwrap();
    tablet.note(&id, "搬迁后的第一条记录", NOW).unwrap();
    let report = tablet.sync().await.unwrap();
    // Accepted, and the short way: the server on PostgreSQL knew the heads it had confirmed.
    assert!(report.refused.is_empty() && report.pushes > 0, "{report:?}");
    assert_eq!(report.full_way, 0, "{report:?}");
    assert_eq!(tablet.unsent_change_bytes().unwrap(), 0);
    assert!(Store::open_postgres(&url).unwrap().seq().unwrap() > seq_before);
    let colleague = {
        let mut d = device(&after.url, "mediator2").await;
        d.sync().await.unwrap();
        d
    };
    let notes = notes_of(&colleague, &id);
    assert!(
        notes.contains("搬迁前的走访记录") && notes.contains("搬迁后的第一条记录"),
        "{notes}"
    );
    assert_eq!(case_ids(&colleague).len(), case_ids(&tablet).len());

    // Once is enough: the database now holds an office.
    let seq = Store::open_postgres(&url).unwrap().seq().unwrap();
    let again = copy();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(Store::open_postgres(&url).unwrap().seq().unwrap(), seq);
}
