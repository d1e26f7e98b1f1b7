//! `sync-bench`: what a sync costs with a county-sized caseload.
//!
//! Starts a server in-process on 127.0.0.1 with the demo units and N generated cases (10,000
//! by default), then measures, with the command-line device over a real socket:
//! the first sync of a new device, a reconnect with nothing changed, and a reconnect with 50
//! cases changed on the device and 50 other cases changed on the server by another device.
//! Prints bytes, messages (WebSocket frames) and wall time for each.
//!
//! ```text
//! cargo run --release -p lianxin-server --bin sync-bench [-- CASES [REPEATS]]
//! ```

use std::time::Instant;

use lianxin_server::{AppState, demo, device::Device, device::SyncReport, now_ms, store::Store};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let cases: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let repeats: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let dir = tempfile_dir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let started = Instant::now();
    let store = Store::open(&dir.join("server"))?;
    demo::seed(&store, 0, now_ms())?;
    demo::store_cases(&store, cases, 2026, now_ms())?;
    let db_bytes = std::fs::metadata(dir.join("server").join("lianxin.sqlite"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "caseload: {cases} generated cases stored in {:.1} s, database {:.1} MB",
        started.elapsed().as_secs_f64(),
        db_bytes as f64 / 1e6
    );
    let state = AppState::new(store);
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    rt.spawn(lianxin_server::serve(state, listener));

    println!(
        "{:<44} {:>8} {:>12} {:>8} {:>12} {:>9}",
        "", "frames↑", "bytes↑", "frames↓", "bytes↓", "ms"
    );
    let row = |label: &str, r: &SyncReport| {
        println!(
            "{label:<44} {:>8} {:>12} {:>8} {:>12} {:>9}",
            r.frames_sent, r.bytes_sent, r.frames_received, r.bytes_received, r.millis
        );
    };

    // The county bureau's account sees every case.
    let mut tablet = Device::open(&dir.join("tablet"))?;
    tablet.login(&url, "admin", demo::PASSWORD)?;
    let report = rt.block_on(tablet.sync())?;
    // Each case and, apart, its petitioners' details (the bureau may see both).
    anyhow::ensure!(
        report.documents_stored >= cases,
        "first sync stored {} documents for {cases} cases",
        report.documents_stored
    );
    row("first sync of a new device", &report);

    for _ in 0..repeats {
        let report = rt.block_on(tablet.sync())?;
        row("reconnect, nothing changed", &report);
    }

    // A colleague's device changes other cases while the tablet is away.
    let mut colleague = Device::open(&dir.join("colleague"))?;
    colleague.login(&url, "registrar", demo::PASSWORD)?;
    rt.block_on(colleague.sync())?;
    let ids: Vec<String> = tablet.export()?["cases"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(
        ids.len() >= 100 * repeats,
        "need at least {} cases",
        100 * repeats
    );
    for round in 0..repeats {
        let base = round * 100;
        for id in &ids[base..base + 50] {
            tablet.note(id, &format!("第{round}轮：平板上的记录"), now_ms())?;
        }
        for id in &ids[base + 50..base + 100] {
            colleague.note(id, &format!("第{round}轮：同事的记录"), now_ms())?;
        }
        // The least these must move: each side's new changes, once.
        let (ours, theirs) = (
            tablet.unsent_change_bytes()?,
            colleague.unsent_change_bytes()?,
        );
        rt.block_on(colleague.sync())?;
        let report = rt.block_on(tablet.sync())?;
        anyhow::ensure!(report.refused.is_empty(), "refused: {:?}", report.refused);
        row("reconnect, 50 changed here + 50 on server", &report);
        let wire = report.bytes_sent + report.bytes_received;
        println!(
            "{:<44} changes {ours} B up + {theirs} B down; on the wire {wire} B = {:.2}× \
             ({} pushed, {} the full way)",
            "",
            wire as f64 / (ours + theirs).max(1) as f64,
            report.pushes,
            report.full_way
        );
    }

    // A second new device, for the figure without a warm server cache.
    let mut fresh = Device::open(&dir.join("fresh"))?;
    fresh.login(&url, "leader", demo::PASSWORD)?;
    let report = rt.block_on(fresh.sync())?;
    row("first sync of another new device", &report);
    // New devices opening as the tablet app does: documents with their heads and caseload
    // rows. The first makes the bureau's rows on the server, the second finds them made.
    for (n, label) in [
        "first sync, with rows (the app's open)",
        "… another, the rows made already",
    ]
    .into_iter()
    .enumerate()
    {
        let mut app = Device::open(&dir.join(format!("app-{n}")))?;
        app.open_with_rows();
        app.login(&url, "admin", demo::PASSWORD)?;
        let report = rt.block_on(app.sync())?;
        row(label, &report);
    }
    let local = std::fs::metadata(dir.join("tablet").join("device.sqlite"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("device store after the runs: {:.1} MB", local as f64 / 1e6);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("lianxin-sync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
