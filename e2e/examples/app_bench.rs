//! `app_bench`: the tablet app's figures in Debian's Chromium.
//!
//! Prints the compressed transfer size of the app shell, then for each caseload size (2,000
//! and 10,000 cases by default): the first sync of a new tablet, and the time from a reload
//! with no network at all to the unlock screen, from the tap on "unlock" (the password
//! through PBKDF2, the data key unwrapped, every sealed row opened) to the caseload on screen,
//! and to the most urgent case open after a tap; search and filters over the whole caseload;
//! the tab's memory (CDP `Performance.getMetrics`); then each of the office's reports,
//! offline, from the tap to the report on screen. Over https by name, as on a county network.
//!
//! ```text
//! cargo run -q -p xtask -- bundle
//! cargo run --release -p lianxin-e2e --example app_bench [-- 2000 10000]
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use lianxin_server::{AppState, demo, now_ms, store::Store};
use support::*;

/// Every file of the bundle (its names carry content hashes), without the compressed copies.
fn shell(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            shell(&path, into);
        } else if !path.extension().is_some_and(|e| e == "gz" || e == "br") {
            into.push(path);
        }
    }
}

/// Where the app's time went since the page loaded (its own totals, `window.__lianxin_perf()`,
/// see app/src/perf.rs): each step's milliseconds and how many times it ran, largest first.
async fn print_perf(page: &chromiumoxide::Page, what: &str) {
    let totals: std::collections::BTreeMap<String, (f64, u64)> = page
        .evaluate("window.__lianxin_perf ? window.__lianxin_perf() : {}")
        .await
        .ok()
        .and_then(|v| v.into_value().ok())
        .unwrap_or_default();
    let mut totals: Vec<_> = totals.into_iter().collect();
    totals.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    println!("    where the time went ({what}):");
    for (name, (ms, n)) in totals {
        println!("      {name:<34} {ms:>9.1} ms in {n:>6}");
    }
}

/// Starts Chromium's sampling profiler on the page (`APP_BENCH_PROFILE=1`; build the bundle
/// with `LIANXIN_KEEP_NAMES=1` so the wasm functions are named).
async fn start_profile(page: &chromiumoxide::Page) {
    use chromiumoxide::cdp::js_protocol::profiler::{
        EnableParams, SetSamplingIntervalParams, StartParams,
    };
    page.execute(EnableParams::default()).await.unwrap();
    page.execute(SetSamplingIntervalParams::new(200))
        .await
        .unwrap();
    page.execute(StartParams::default()).await.unwrap();
}

/// Stops the profiler and prints the functions the samples found most: by their own time and
/// by the time spent in them and what they called.
async fn print_profile(page: &chromiumoxide::Page, what: &str) {
    use chromiumoxide::cdp::js_protocol::profiler::StopParams;
    use std::collections::{HashMap, HashSet};
    let profile = page
        .execute(StopParams::default())
        .await
        .unwrap()
        .result
        .profile;
    let hits: i64 = profile.nodes.iter().filter_map(|n| n.hit_count).sum();
    let ms_per_hit = (profile.end_time - profile.start_time) / 1e3 / hits.max(1) as f64;
    let name = |n: &chromiumoxide::cdp::js_protocol::profiler::ProfileNode| {
        let f = &n.call_frame.function_name;
        if f.is_empty() {
            "(anonymous)".to_string()
        } else {
            f.clone()
        }
    };
    let mut parent = HashMap::new();
    for n in &profile.nodes {
        for c in n.children.iter().flatten() {
            parent.insert(*c, n.id);
        }
    }
    let by_id: HashMap<i64, _> = profile.nodes.iter().map(|n| (n.id, n)).collect();
    let mut own: HashMap<String, i64> = HashMap::new();
    let mut total: HashMap<String, i64> = HashMap::new();
    for n in &profile.nodes {
        let hit = n.hit_count.unwrap_or(0);
        if hit == 0 {
            continue;
        }
        *own.entry(name(n)).or_default() += hit;
        let mut seen = HashSet::new();
        let mut at = Some(n.id);
        while let Some(id) = at {
            let f = name(by_id[&id]);
            if seen.insert(f.clone()) {
                *total.entry(f).or_default() += hit;
            }
            at = parent.get(&id).copied();
        }
    }
    for (title, table) in [("own time", own), ("with what it called", total)] {
        let mut rows: Vec<_> = table.into_iter().collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1));
        println!("    profile of the {what}, by {title}:");
        for (f, h) in rows.into_iter().take(40) {
            let f: String = f.chars().take(110).collect();
            println!("      {:>8.1} ms  {f}", h as f64 * ms_per_hit);
        }
    }
}

/// How the local store keeps the caseload rows: the sealed pack of all rows and how many are
/// kept on their own beside it (a start reads both), once the writes queued have settled.
async fn print_rows_kept(page: &chromiumoxide::Page) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let [pack, alone]: [usize; 2] = page
        .evaluate(STORED_ROWS)
        .await
        .ok()
        .and_then(|v| v.into_value().ok())
        .unwrap_or_default();
    println!("    rows kept: a pack of {pack} bytes sealed, {alone} rows on their own");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![2_000, 10_000]
    } else {
        sizes
    };
    let dist = workspace().join("dist");
    let mut files = Vec::new();
    shell(&dist, &mut files);
    files.sort();
    let size = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut total = [0u64; 3];
    for file in &files {
        let f = file.display().to_string();
        let row = [
            size(f.clone()),
            size(format!("{f}.gz")),
            size(format!("{f}.br")),
        ];
        for (t, r) in total.iter_mut().zip(row) {
            *t += r;
        }
        let name = file.strip_prefix(&dist).unwrap_or(file).display();
        println!(
            "  {name:<40} {:>9} B raw, {:>9} gzip, {:>9} brotli",
            row[0], row[1], row[2]
        );
    }
    println!(
        "app shell: {:.0} KB raw, {:.0} KB gzip, {:.0} KB brotli (what a tablet downloads once)",
        total[0] as f64 / 1e3,
        total[1] as f64 / 1e3,
        total[2] as f64 / 1e3
    );

    // What the service worker keeps: the entries of its list (the bundle step writes it).
    let sw = std::fs::read_to_string(dist.join("sw.js")).unwrap_or_default();
    let shell_entries = sw
        .split_once("const SHELL = [")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map_or(0, |(list, _)| list.matches("\"/").count());

    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        demo::seed(&store, 0, now_ms()).unwrap();
        demo::store_cases(&store, n, 7, now_ms()).unwrap();
        let tls = office_tls();
        let state = AppState::new(store)
            .with_bundle(dist.clone())
            .with_https(Some(tls.ca.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{NAME}:{}", listener.local_addr().unwrap().port());
        tokio::spawn(lianxin_server::serve_tls(
            state,
            listener,
            tls.config.clone(),
        ));
        let link = Link::to(&url).await;

        let mut browser = launch(&dir.path().join("chromium")).await;
        let page = tab(&browser, &link.url).await;
        let profiling = std::env::var_os("APP_BENCH_PROFILE").is_some();
        if profiling {
            start_profile(&page).await;
        }
        let started = Instant::now();
        sign_in(&page, "admin").await; // the county bureau sees every case
        wait_count(&page, n).await;
        let first = started.elapsed();
        if profiling {
            print_profile(&page, "first sync").await;
        }
        wait_for_within(
            &page,
            STORED_DOCS,
            // The bureau handles every case: each case with its details.
            |c: &usize| *c == 2 * n,
            Duration::from_secs(600),
        )
        .await;
        let stored = started.elapsed();
        wait_for(&page, CACHED_SHELL, |c: &usize| *c == shell_entries).await;
        println!(
            "{n:>6} cases: first sync on screen {:>6} ms, all in IndexedDB {:>6} ms",
            first.as_millis(),
            stored.as_millis()
        );
        print_perf(&page, "first sync").await;
        print_rows_kept(&page).await;

        link.cut();
        for round in 1..=3 {
            let t_reload = Instant::now();
            page.reload().await.unwrap();
            wait_for_within(
                &page,
                "!!document.querySelector('[data-testid=locked]')",
                |ok: &bool| *ok,
                Duration::from_secs(60),
            )
            .await;
            let lock_screen = t_reload.elapsed();
            set_value(&page, "password", demo::PASSWORD, "input").await;
            let t0 = Instant::now();
            page.evaluate("document.querySelector('form.login button[type=submit]').click()")
                .await
                .unwrap();
            wait_count(&page, n).await;
            let listed = t0.elapsed();
            // Interactive: the most urgent case opens when tapped (its document is loaded
            // from IndexedDB on demand).
            page.evaluate("document.querySelector('li[data-case]').click()")
                .await
                .unwrap();
            wait_for_within(
                &page,
                "!!document.querySelector('[data-testid=notes]')",
                |ok: &bool| *ok,
                Duration::from_secs(600),
            )
            .await;
            let opened = t0.elapsed();
            // Back to the caseload, so the next reload opens there (a reload reopens the
            // screen of the address).
            page.evaluate("document.querySelector('button.back').click()")
                .await
                .unwrap();
            wait_count(&page, n).await;
            println!(
                "{n:>6} cases: offline reload to unlock screen {:>5} ms; run {round}: unlock to caseload on screen {:>6} ms; first case open {:>6} ms",
                lock_screen.as_millis(),
                listed.as_millis(),
                opened.as_millis()
            );
            if round == 1 {
                print_perf(&page, "offline start, unlock, first case").await;
                print_rows_kept(&page).await;
            }
        }
        // Search and filters over the whole caseload, offline: from the keystroke (or the
        // choice) to the count on screen; then the tab's memory.
        for (what, name, value, event, expect) in [
            (
                "search, no match (every row read)",
                "search",
                "无此词语",
                "input",
                Some(0),
            ),
            (
                "search cleared (all shown again)",
                "search",
                "",
                "input",
                Some(n),
            ),
            ("filter by state", "f-state", "concluded", "change", None),
            ("filter cleared", "f-state", "", "change", Some(n)),
        ] {
            if profiling {
                start_profile(&page).await;
            }
            let t = Instant::now();
            set_value(&page, name, value, event).await;
            let shown = wait_shown(&page, |c| expect.map_or(c != n, |e| c == e)).await;
            println!(
                "{n:>6} cases: {what:<34} {:>6} ms ({shown} shown)",
                t.elapsed().as_millis()
            );
            if profiling {
                print_profile(&page, what).await;
            }
        }
        page.execute(chromiumoxide::cdp::browser_protocol::performance::EnableParams::default())
            .await
            .unwrap();
        let metrics = page
            .execute(chromiumoxide::cdp::browser_protocol::performance::GetMetricsParams::default())
            .await
            .unwrap();
        let metric = |name: &str| {
            metrics
                .metrics
                .iter()
                .find(|m| m.name == name)
                .map_or(0.0, |m| m.value)
        };
        let wasm: f64 = page
            .evaluate("window.__lianxin_wasm_bytes ? window.__lianxin_wasm_bytes() : 0")
            .await
            .ok()
            .and_then(|v| v.into_value().ok())
            .unwrap_or(0.0);
        println!(
            "{n:>6} cases: tab memory (CDP Performance.getMetrics) JS heap used {:.0} MB of {:.0} MB, {:.0} DOM nodes; the app's wasm memory {:.0} MB",
            metric("JSHeapUsedSize") / 1e6,
            metric("JSHeapTotalSize") / 1e6,
            metric("Nodes"),
            wasm / 1e6
        );
        // The office's reports over the whole caseload, offline, on the tablet: from the tap
        // to the report on screen (worked out from the stored rows, then drawn).
        let tabs = [
            ("reports-button", "[data-testid=bulletin]", "bulletin"),
            (
                "tab-figures",
                "[data-testid=figures-total]",
                "figures with charts",
            ),
            (
                "tab-rates",
                "[data-testid=rates] tr[data-unit='']",
                "rates per unit",
            ),
            (
                "tab-assessment",
                "[data-testid=assessment] tbody tr",
                "assessment, 6 months",
            ),
            (
                "tab-campaigns",
                "[data-testid=campaigns-report]",
                "campaigns",
            ),
            (
                "tab-reception_figures",
                "[data-testid=receptions-report] table",
                "reception figures",
            ),
        ];
        for (button, shown, name) in tabs {
            let t = Instant::now();
            page.evaluate(format!(
                "document.querySelector('[data-testid={button}]').click()"
            ))
            .await
            .unwrap();
            wait_for_within(
                &page,
                &format!("!!document.querySelector(\"{shown}\")"),
                |ok: &bool| *ok,
                Duration::from_secs(600),
            )
            .await;
            println!(
                "{n:>6} cases: report {name:<24} {:>6} ms",
                t.elapsed().as_millis()
            );
        }
        browser.close().await.unwrap();
        let _ = browser.wait().await;
    }
}

/// Waits until the caseload's count line satisfies `done`; returns the count.
async fn wait_shown(page: &chromiumoxide::Page, done: impl Fn(usize) -> bool) -> usize {
    let js = "parseInt(document.querySelector('[data-testid=count]')?.textContent ?? '0') || 0";
    let started = Instant::now();
    loop {
        let shown = page
            .evaluate(js)
            .await
            .ok()
            .and_then(|v| v.into_value::<usize>().ok())
            .unwrap_or(0);
        if done(shown) {
            return shown;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the count stayed at {shown}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the caseload's count line shows `n` cases.
async fn wait_count(page: &chromiumoxide::Page, n: usize) {
    wait_shown(page, |shown| shown == n).await;
}
