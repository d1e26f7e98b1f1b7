//! What the server counts, for `/metrics` (Prometheus text format) — connections, frames,
//! refusals, store write latency, changes from other instances, queues — and `/healthz`.
//!
//! Counts only: no user, case or device appears in them.

use std::sync::atomic::{AtomicU64, Ordering};

/// A number that only grows, or (a gauge) goes up and down.
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Counter {
        Counter::new()
    }
}

pub static CONNECTIONS_OPENED: Counter = Counter::new();
pub static CONNECTIONS_OPEN: Counter = Counter::new();
pub static FRAMES: Counter = Counter::new();
pub static CHANGES_STORED: Counter = Counter::new();
pub static REFUSALS: Counter = Counter::new();
pub static STALE_RETRIES: Counter = Counter::new();
pub static REMOTE_CHANGES: Counter = Counter::new();
pub static LAGGED: Counter = Counter::new();
pub static FRAMES_HELD: Counter = Counter::new();

/// Store write latency, in buckets of milliseconds (Prometheus histogram).
pub const WRITE_BUCKETS_MS: [u64; 8] = [1, 2, 5, 10, 25, 50, 100, 500];
static WRITE_BUCKETS: [Counter; 8] = [const { Counter::new() }; 8];
static WRITE_COUNT: Counter = Counter::new();
static WRITE_MICROS: Counter = Counter::new();

/// Counts one store write that took `elapsed`.
pub fn store_write(elapsed: std::time::Duration) {
    let micros = elapsed.as_micros() as u64;
    WRITE_COUNT.inc();
    WRITE_MICROS.add(micros);
    for (bucket, le) in WRITE_BUCKETS.iter().zip(WRITE_BUCKETS_MS) {
        if micros <= le * 1000 {
            bucket.inc();
        }
    }
}

/// The text `/metrics` answers; `gauges` are the state's own (queues, documents in memory).
pub fn render(gauges: &[(&str, &str, u64)]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let counters: [(&str, &str, &Counter, &str); 9] = [
        (
            "lianxin_connections_opened_total",
            "Sync connections opened.",
            &CONNECTIONS_OPENED,
            "counter",
        ),
        (
            "lianxin_connections_open",
            "Sync connections open now.",
            &CONNECTIONS_OPEN,
            "gauge",
        ),
        (
            "lianxin_frames_total",
            "Sync frames received from devices.",
            &FRAMES,
            "counter",
        ),
        (
            "lianxin_changes_stored_total",
            "Document writes committed.",
            &CHANGES_STORED,
            "counter",
        ),
        (
            "lianxin_refusals_total",
            "Changes refused (kept aside in quarantine).",
            &REFUSALS,
            "counter",
        ),
        (
            "lianxin_stale_retries_total",
            "Writes done again because another instance wrote the document first.",
            &STALE_RETRIES,
            "counter",
        ),
        (
            "lianxin_remote_changes_total",
            "Changes announced by other instances.",
            &REMOTE_CHANGES,
            "counter",
        ),
        (
            "lianxin_lagged_connections_total",
            "Connections closed for falling behind the announcements.",
            &LAGGED,
            "counter",
        ),
        (
            "lianxin_frames_held_total",
            "Frames held back because their user had used up their share of the server's time.",
            &FRAMES_HELD,
            "counter",
        ),
    ];
    for (name, help, counter, kind) in counters {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
            counter.get()
        );
    }
    let name = "lianxin_store_write_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Time to commit a document write.\n# TYPE {name} histogram"
    );
    for (bucket, le) in WRITE_BUCKETS.iter().zip(WRITE_BUCKETS_MS) {
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"{}\"}} {}",
            le as f64 / 1000.0,
            bucket.get()
        );
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", WRITE_COUNT.get());
    let _ = writeln!(out, "{name}_sum {}", WRITE_MICROS.get() as f64 / 1e6);
    let _ = writeln!(out, "{name}_count {}", WRITE_COUNT.get());
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    out
}

/// CPU seconds a process has used (user + system, from `/proc/PID/stat`).
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
