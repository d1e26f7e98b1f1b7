//! Where the time goes: the app adds up the milliseconds of its heavy steps (opening the
//! sealed rows, applying a sync frame, storing documents, building the caseload…) by name,
//! and `window.__lianxin_perf()` gives the totals as `{name: [ms, times]}`, for app_bench and
//! for DevTools' console. Nothing leaves the tablet; it holds no data, only durations.

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::JsCast;

thread_local! {
    static TOTALS: RefCell<BTreeMap<&'static str, (f64, u32)>> = const { RefCell::new(BTreeMap::new()) };
    static SHOWN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static OPENED_AT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    static DRAWN: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// The tap on "sign in" or "unlock": what [`since_open`] counts from.
pub fn mark_open() {
    OPENED_AT.with(|t| t.set(now()));
    DRAWN.with(|d| d.set(false));
}

/// The caseload's count is being drawn with cases in it: counted once after each open.
pub fn drawn_since_open() {
    if !DRAWN.with(|d| d.replace(true)) {
        since_open("open: caseload count drawn");
    }
}

/// Adds the time since the last [`mark_open`] to `name` (a point on the way to the caseload).
pub fn since_open(name: &'static str) {
    add(name, OPENED_AT.with(|t| t.get()));
}

/// The totals as a JS object.
fn totals() -> wasm_bindgen::JsValue {
    let out = js_sys::Object::new();
    TOTALS.with(|t| {
        for (k, (ms, n)) in t.borrow().iter() {
            let pair = js_sys::Array::of2(&(*ms).into(), &(*n).into());
            let _ = js_sys::Reflect::set(&out, &(*k).into(), &pair);
        }
    });
    out.into()
}

/// Puts `window.__lianxin_perf` there, once.
fn show() {
    if SHOWN.with(|s| s.replace(true)) {
        return;
    }
    if let Some(w) = web_sys::window() {
        let f = wasm_bindgen::closure::Closure::<dyn Fn() -> wasm_bindgen::JsValue>::new(totals);
        let _ = js_sys::Reflect::set(&w, &"__lianxin_perf".into(), f.as_ref());
        f.forget();
        // The app's own memory (wasm linear memory: the documents' bytes, the rows), which the
        // browser's JS heap figures leave out.
        let m = wasm_bindgen::closure::Closure::<dyn Fn() -> f64>::new(|| {
            wasm_bindgen::memory()
                .unchecked_into::<js_sys::WebAssembly::Memory>()
                .buffer()
                .unchecked_into::<js_sys::ArrayBuffer>()
                .byte_length() as f64
        });
        let _ = js_sys::Reflect::set(&w, &"__lianxin_wasm_bytes".into(), m.as_ref());
        m.forget();
    }
}

/// Milliseconds since the page started (the browser's monotonic clock).
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Adds the time since `start` (from [`now`]) to the total of `name`.
pub fn add(name: &'static str, start: f64) {
    let ms = now() - start;
    TOTALS.with(|t| {
        let mut t = t.borrow_mut();
        let e = t.entry(name).or_insert((0.0, 0));
        e.0 += ms;
        e.1 += 1;
    });
    show();
}

/// Runs `f`, adding its time to `name`.
pub fn timed<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let start = now();
    let out = f();
    add(name, start);
    out
}
