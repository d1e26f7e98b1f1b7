//! `row_bench`: what a device spends per document on the way from a synced document to its
//! caseload row, natively (a tablet's wasm is slower; app_bench measures the app): reading a
//! case (header, single-value cells, entry lists), its personal details, the row, cloning and
//! saving. Median of five passes over N demo cases (2,000 by default).
//!
//! ```text
//! cargo run --release -p lianxin-shared --features demo --example row_bench [-- N]
//! ```

use std::time::{Duration, Instant};

use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, CaseDoc, CaseRow, DetailsDoc, demo};

fn per_case(n: usize, mut f: impl FnMut()) -> Duration {
    let mut runs: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed() / n as u32
        })
        .collect();
    runs.sort();
    runs[2]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let mut rng = demo::Rng::new(7);
    let now = 1_764_000_000_000;
    let docs: Vec<(CaseDoc, DetailsDoc)> = (0..n)
        .map(|i| demo::case(&mut rng, i, now, automerge::ActorId::random()))
        .collect();
    let (limits, calendar) = (Limits::default(), Calendar::default());
    let saved: Vec<(Vec<u8>, Vec<u8>)> = docs
        .iter()
        .map(|(c, d)| (c.doc().clone().save(), d.doc().clone().save()))
        .collect();
    let rows: [(&str, Box<dyn Fn()>); 8] = [
        (
            "load case and details",
            Box::new(|| {
                for (c, d) in &saved {
                    std::hint::black_box((
                        automerge::AutoCommit::load(c).ok(),
                        automerge::AutoCommit::load(d).ok(),
                    ));
                }
            }),
        ),
        (
            "… heads not verified",
            Box::new(|| {
                for (c, d) in &saved {
                    std::hint::black_box((
                        automerge::AutoCommit::load_unverified_heads(c).ok(),
                        automerge::AutoCommit::load_unverified_heads(d).ok(),
                    ));
                }
            }),
        ),
        (
            "clone case and details",
            Box::new(|| {
                for (c, d) in &docs {
                    std::hint::black_box((c.doc().clone(), d.doc().clone()));
                }
            }),
        ),
        (
            "read a case",
            Box::new(|| {
                for (c, _) in &docs {
                    std::hint::black_box(c.read().ok());
                }
            }),
        ),
        (
            "read its details",
            Box::new(|| {
                for (_, d) in &docs {
                    std::hint::black_box(d.read().ok());
                }
            }),
        ),
        (
            "the case's row (both read)",
            Box::new(|| {
                for (c, d) in &docs {
                    let (Ok(mut case), Ok(details)) = (c.read(), d.read()) else {
                        continue;
                    };
                    case.with_details(&details);
                    std::hint::black_box(CaseRow::of(&case, &limits, &calendar));
                }
            }),
        ),
        (
            "the details' row",
            Box::new(|| {
                for (_, d) in &docs {
                    let row = AnyDoc::open(d.doc().clone())
                        .and_then(|d| d.row_with(None, &limits, &calendar));
                    std::hint::black_box(row.ok());
                }
            }),
        ),
        (
            "save case and details",
            Box::new(|| {
                for (c, d) in &docs {
                    std::hint::black_box((c.doc().clone().save(), d.doc().clone().save()));
                }
            }),
        ),
    ];
    println!("{n} demo cases, per case (median of 5):");
    for (what, f) in rows {
        println!(
            "  {what:<28} {:>8.1} µs",
            per_case(n, f).as_secs_f64() * 1e6
        );
    }
}
