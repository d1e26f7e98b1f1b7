//! Every screen has its own address: `/`, `/cases`, `/case/ID`, `/board`, `/reports`… The
//! browser's history holds the screens opened, so the back and forward buttons (and the back
//! gesture) move between them, and a case's address opens it — with no signal as well, since
//! the service worker answers every page address with the app shell.
//!
//! The app keeps [`crate::Ctx::screens`] as a mirror of the history entries it made: each entry's
//! state is its depth, so a `popstate` knows how far back or forward the person went.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::Screen;

impl Screen {
    /// The screen's address.
    pub fn path(&self) -> String {
        match self {
            Screen::Home => "/".into(),
            Screen::Caseload => "/cases".into(),
            Screen::Case(id) => format!("/case/{id}"),
            Screen::NewCase => "/case/new".into(),
            Screen::Board => "/board".into(),
            Screen::Ledger => "/disputes".into(),
            Screen::Dispute(id) => format!("/dispute/{id}"),
            Screen::NewDispute => "/dispute/new".into(),
            Screen::Receptions => "/receptions".into(),
            Screen::Reception(id) => format!("/reception/{id}"),
            Screen::Reports => "/reports".into(),
            Screen::Import => "/import".into(),
        }
    }

    /// The screen at `path`; an address the app does not know opens the home screen.
    pub fn parse(path: &str) -> Screen {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let id = |s: &str| {
            (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_string())
        };
        match parts.as_slice() {
            ["cases"] => Screen::Caseload,
            ["case", "new"] => Screen::NewCase,
            ["case", x] => id(x).map_or(Screen::Home, Screen::Case),
            ["board"] => Screen::Board,
            ["disputes"] => Screen::Ledger,
            ["dispute", "new"] => Screen::NewDispute,
            ["dispute", x] => id(x).map_or(Screen::Home, Screen::Dispute),
            ["receptions"] => Screen::Receptions,
            ["reception", x] => id(x).map_or(Screen::Home, Screen::Reception),
            ["reports"] => Screen::Reports,
            ["import"] => Screen::Import,
            _ => Screen::Home,
        }
    }
}

fn history() -> Option<web_sys::History> {
    web_sys::window()?.history().ok()
}

fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// Records `screen` at `depth` in the browser's history, as a new entry or in place of the
/// current one.
pub fn record(screen: &Screen, depth: usize, push: bool) {
    let Some(h) = history() else { return };
    let state = wasm_bindgen::JsValue::from_f64(depth as f64);
    let path = screen.path();
    let _ = if push {
        h.push_state_with_url(&state, "", Some(&path))
    } else {
        h.replace_state_with_url(&state, "", Some(&path))
    };
}

/// Goes one entry back in the browser's history (its `popstate` updates the screens).
pub fn back() {
    if let Some(h) = history() {
        let _ = h.back();
    }
}

/// The screens at start: the one the address names, as the first entry.
pub fn initial() -> Vec<Screen> {
    let screen = Screen::parse(&current_path());
    record(&screen, 0, false);
    vec![screen]
}

/// Follows the browser's back and forward: the screen of the entry reached, at its depth.
pub fn follow(screens: RwSignal<Vec<Screen>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    gloo_events::EventListener::new(&window, "popstate", move |ev| {
        let depth = ev
            .dyn_ref::<web_sys::PopStateEvent>()
            .and_then(|ev| ev.state().as_f64())
            .map_or(0, |d| d.max(0.0) as usize);
        let screen = Screen::parse(&current_path());
        screens.update(|s| {
            s.truncate(depth);
            while s.len() < depth {
                s.push(Screen::Home);
            }
            s.push(screen);
        });
    })
    .forget();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_reads_back_from_its_address() {
        let id = "0123456789abcdef0123456789abcdef".to_string();
        for screen in [
            Screen::Home,
            Screen::Caseload,
            Screen::Case(id.clone()),
            Screen::NewCase,
            Screen::Board,
            Screen::Ledger,
            Screen::Dispute(id.clone()),
            Screen::NewDispute,
            Screen::Receptions,
            Screen::Reception(id.clone()),
            Screen::Reports,
            Screen::Import,
        ] {
            assert_eq!(Screen::parse(&screen.path()), screen, "{}", screen.path());
        }
        // Unknown or malformed addresses open the home screen, never a broken one.
        for path in ["/nowhere", "/case/xyz", "/case/", "//", "/case/0123/extra"] {
            assert_eq!(Screen::parse(path), Screen::Home, "{path}");
        }
    }
}
