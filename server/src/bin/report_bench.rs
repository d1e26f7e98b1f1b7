//! `report-bench`: what the office's reports and the case ledger cost over a county-sized
//! caseload, natively (a tablet's wasm is slower; `e2e/examples/app_bench.rs` measures the app).
//!
//! Generates N demo cases (10,000 by default) with their details, works out their rows as a
//! device does, then times each report (median of 5 runs) and the XLSX of the case ledger.
//!
//! ```text
//! cargo run --release -p lianxin-server --bin report-bench [-- CASES]
//! ```

use std::time::Instant;

use lianxin_server::reports::{Ask, Caseload};
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{Date, DocId, demo};

fn main() -> anyhow::Result<()> {
    let cases: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let now = lianxin_server::now_ms();
    let today = Date::from_unix_ms_china(now);
    let mut rng = demo::Rng::new(7);
    let started = Instant::now();
    let mut docs = Vec::with_capacity(2 * cases);
    let mut whole = Vec::with_capacity(cases);
    for i in 0..cases {
        let (case, details) = demo::case(&mut rng, i, now, automerge::ActorId::random());
        let mut c = case.read()?;
        c.with_details(&details.read()?);
        whole.push(c);
        let id = case.id()?;
        docs.push((id, case.into_doc()));
        docs.push((DocId::details_of(&id), details.into_doc()));
    }
    println!(
        "{cases} demo cases generated in {} ms",
        started.elapsed().as_millis()
    );
    let directory: Vec<lianxin_shared::protocol::Unit> = demo::UNITS
        .iter()
        .map(|(id, name, parent)| lianxin_shared::protocol::Unit {
            id: id.to_string(),
            name: name.to_string(),
            parent: parent.map(str::to_string),
        })
        .collect();
    let (limits, calendar) = (Limits::default(), Calendar::default());
    let started = Instant::now();
    let caseload = Caseload::of(docs, &directory, &limits, &calendar);
    println!(
        "rows of {} cases (each document opened and read) in {} ms",
        caseload.len(),
        started.elapsed().as_millis()
    );
    let (y, m, _) = today.ymd();
    let asks = [
        ("bulletin", Ask::Bulletin { on: today }),
        (
            "figures, 90 days with 同比",
            Ask::Figures {
                from: today.add_days(-89),
                to: today,
                unit: None,
            },
        ),
        (
            "rates, 90 days, per unit",
            Ask::Rates {
                from: today.add_days(-89),
                to: today,
            },
        ),
        (
            "assessment, 6 months",
            Ask::Assessment {
                month: format!("{y:04}-{m:02}"),
            },
        ),
    ];
    for (name, ask) in &asks {
        let mut times: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(caseload.report(ask, &limits));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("{name:<28} {:>8.1} ms (median of 5)", times[2]);
    }
    let dir = std::env::temp_dir().join(format!("report-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let name = |id: &str| id.to_string();
    let started = Instant::now();
    let table = lianxin_shared::ledger::case_ledger(&whole, &name, &limits, &calendar, today);
    let built = started.elapsed();
    let path = dir.join("ledger.xlsx");
    lianxin_server::ledger::write_xlsx(std::slice::from_ref(&table), &path)?;
    println!(
        "case ledger of {} rows: table {} ms, XLSX written in {} ms ({} KB)",
        table.rows.len(),
        built.as_millis(),
        started.elapsed().as_millis(),
        std::fs::metadata(&path)?.len() / 1024
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
