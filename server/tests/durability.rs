//! The real `lianxin` binary killed with SIGKILL while many devices sync: every change it
//! acknowledged is still there after a restart, and the devices recover by reconnecting.

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use lianxin_server::{demo, device::Device};

mod common;

/// The server's database on this run: SQLite in `data`, or (on the PostgreSQL pass) one
/// PostgreSQL database per data directory, the same across restarts.
fn database_of(data: &Path) -> Option<String> {
    if !common::on_postgres() {
        return None;
    }
    let file = data.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    let url = common::fresh_postgres();
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

fn start_server(data: &Path, addr: &str, log: &str) -> Child {
    common::serve_process(data, database_of(data).as_deref(), addr, log)
}

use common::{free_addr, runtime};

fn notes(device: &Device) -> String {
    let export = device.export().unwrap();
    export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["notes"].as_str().unwrap().to_string())
        .collect()
}

struct Writer {
    device: Device,
    /// Notes written, as (case, text).
    written: Vec<(String, String)>,
    /// How many of `written` a successful sync covered.
    acked: usize,
    syncs_ok: usize,
    syncs_failed: usize,
}

#[test]
fn sigkill_during_many_syncs_loses_no_acknowledged_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let addr = free_addr();
    let url = format!("http://{addr}");
    let mut server = start_server(&data, &addr, "first.log");
    let rt = runtime();

    // Six tablets: two of them the same user, three of them sharing one case.
    let users = [
        "mediator",
        "mediator",
        "mediator2",
        "shitang",
        "shitang",
        "handler",
    ];
    let units = ["longxi", "longxi", "longxi", "shitang", "shitang", "hrss"];
    let mut devices = Vec::new();
    for (k, user) in users.iter().enumerate() {
        let mut d = Device::open(&dir.path().join(format!("tablet{k}"))).unwrap();
        d.login(&url, user, demo::PASSWORD).unwrap();
        devices.push(d);
    }
    let shared = devices[0]
        .new_case("longxi", "visit", "三台平板共同办理的案件", 0)
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
            thread::spawn(move || {
                let rt = runtime();
                let mut w = Writer {
                    device,
                    written: Vec::new(),
                    acked: 0,
                    syncs_ok: 0,
                    syncs_failed: 0,
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
                        }
                        Err(_) => {
                            w.syncs_failed += 1;
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
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    thread::sleep(Duration::from_millis(300)); // the tablets go on writing, offline
    stop.store(true, Ordering::SeqCst);
    let mut writers: Vec<Writer> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let acked: usize = writers.iter().map(|w| w.acked).sum();
    let written: usize = writers.iter().map(|w| w.written.len()).sum();
    let ok: usize = writers.iter().map(|w| w.syncs_ok).sum();
    let failed: usize = writers.iter().map(|w| w.syncs_failed).sum();
    eprintln!("{written} notes written, {acked} acknowledged in {ok} syncs; {failed} syncs failed");
    assert!(ok >= 12, "the devices synced while the server ran ({ok})");
    assert!(
        failed >= writers.len(),
        "every device saw the server die ({failed})"
    );
    assert!(
        written > acked,
        "some notes were written after the last acknowledgement"
    );

    // Restarted, before any device reconnects: everything acknowledged is there.
    let mut server = start_server(&data, &addr, "second.log");
    let mut observer = Device::open(&dir.path().join("observer")).unwrap();
    observer.login(&url, "admin", demo::PASSWORD).unwrap();
    rt.block_on(observer.sync()).unwrap();
    let seen = notes(&observer);
    for w in &writers {
        for (_, text) in &w.written[..w.acked] {
            assert!(
                seen.contains(text.as_str()),
                "acknowledged note {text} was lost"
            );
        }
    }

    // The devices reconnect and send what was not acknowledged; nothing anyone typed is lost.
    for w in &mut writers {
        let report = rt
            .block_on(w.device.sync())
            .unwrap_or_else(|e| panic!("the device recovers by reconnecting: {e:#}"));
        assert!(report.refused.is_empty(), "{:?}", report.refused);
    }
    for w in &mut writers {
        let report = rt.block_on(w.device.sync()).unwrap();
        assert!(report.refused.is_empty(), "{:?}", report.refused);
        let export = w.device.export().unwrap();
        let unsynced: Vec<&serde_json::Value> = export["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["synced"] != true)
            .collect();
        assert!(
            unsynced.is_empty(),
            "after reconnecting, a device still holds unconfirmed cases: {unsynced:?}"
        );
    }
    rt.block_on(observer.sync()).unwrap();
    let seen = notes(&observer);
    for w in &writers {
        for (_, text) in &w.written {
            if !seen.contains(text.as_str()) {
                let mine = notes(&w.device);
                panic!(
                    "note {text} is not on the server; the device {} it",
                    if mine.contains(text.as_str()) {
                        "still holds"
                    } else {
                        "lost"
                    }
                );
            }
        }
    }
    let shared_on = |d: &Device| {
        d.export().unwrap()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == shared.as_str())
            .cloned()
            .unwrap()
    };
    let reference = shared_on(&observer);
    for w in writers
        .iter()
        .filter(|w| w.written.iter().any(|(c, _)| *c == shared))
    {
        assert_eq!(
            shared_on(&w.device)["notes"],
            reference["notes"],
            "the shared case converged"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
