//! What the browser tests and the app benchmark share: Chromium, tablets with their own
//! network link, waiting on the page.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use lianxin_server::demo;

pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The server's name as tablets use it. Chromium maps it to loopback
/// (`--host-resolver-rules`): not localhost, so the browser treats the page as it would on a
/// county network, where only https makes a secure context.
pub const NAME: &str = "lianxin.test";

/// The office CA and a server certificate for [`NAME`] and 127.0.0.1, made once per test
/// binary by the same code as `lianxin admin tls init`.
pub struct OfficeTls {
    pub ca: PathBuf,
    pub config: std::sync::Arc<rustls::ServerConfig>,
    pub spki: String,
}

pub fn office_tls() -> &'static OfficeTls {
    static TLS: std::sync::OnceLock<OfficeTls> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lianxin-e2e-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let issued = lianxin_server::tls::init(
            &dir,
            "测试县",
            &[NAME.to_string()],
            &["127.0.0.1".parse().unwrap()],
            lianxin_server::now_ms(),
        )
        .unwrap();
        OfficeTls {
            config: lianxin_server::tls::server_config(&issued.cert, &issued.key).unwrap(),
            ca: issued.ca_cert,
            spki: issued.spki_sha256,
        }
    })
}

/// The same server by address, for the command-line devices (which have no resolver rules;
/// the certificate names 127.0.0.1 too).
pub fn by_address(url: &str) -> String {
    url.replace(NAME, "127.0.0.1")
}

pub async fn launch(profile: &std::path::Path) -> Browser {
    let resolve = format!("host-resolver-rules=MAP {NAME} 127.0.0.1");
    // Trusts the office's server key as a tablet with the office CA installed trusts its
    // certificate (the certificate is valid, so service workers register).
    let trust = format!("ignore-certificate-errors-spki-list={}", office_tls().spki);
    let config = BrowserConfig::builder()
        .chrome_executable("/usr/bin/chromium")
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(1024, 768)
        .viewport(None)
        .args([
            "disable-gpu",
            "disable-quic",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
            resolve.as_str(),
            trust.as_str(),
        ])
        .build()
        .unwrap();
    let (browser, mut handler) = Browser::launch(config)
        .await
        .expect("Chromium starts (apt-get install chromium)");
    tokio::spawn(async move { while handler.next().await.is_some() {} });
    browser
}

/// Evaluates `js` every 100 ms until `done` accepts its value, for at most 30 s.
pub async fn wait_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    page: &chromiumoxide::Page,
    js: &str,
    done: impl Fn(&T) -> bool,
) -> T {
    wait_for_within(page, js, done, Duration::from_secs(30)).await
}

/// Evaluates `js` every 50 ms until `done` accepts its value, for at most `limit`.
pub async fn wait_for_within<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    page: &chromiumoxide::Page,
    js: &str,
    done: impl Fn(&T) -> bool,
    limit: Duration,
) -> T {
    let started = Instant::now();
    loop {
        let value = page
            .evaluate(js)
            .await
            .ok()
            .and_then(|v| v.into_value::<T>().ok());
        if let Some(v) = value {
            if done(&v) {
                return v;
            }
            if started.elapsed() > limit {
                panic!(
                    "gave up waiting on `{js}`; last value {v:?}; the page said: {}",
                    page_text(page).await
                );
            }
        } else if started.elapsed() > limit {
            panic!(
                "gave up waiting on `{js}`; the page said: {}",
                page_text(page).await
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The start of what the page shows, and its URL, for failure messages.
pub async fn page_text(page: &chromiumoxide::Page) -> String {
    page.evaluate("String(location.href) + ' | ' + String(document.body ? document.body.innerText : '').slice(0, 800)")
        .await
        .ok()
        .and_then(|v| v.into_value::<String>().ok())
        .unwrap_or_default()
}

/// Saves what the tablet shows to target/screenshots/NAME.png.
pub async fn screenshot(page: &chromiumoxide::Page, name: &str, full_page: bool) {
    let shots = workspace().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().full_page(full_page).build(),
        shots.join(format!("{name}.png")),
    )
    .await
    .unwrap();
}

pub const SHOWN_IDS: &str =
    "Array.from(document.querySelectorAll('li[data-case]')).map(e => e.dataset.case).sort()";

/// A tablet's own path to the server: a TCP proxy the test can cut, closing open connections
/// and refusing new ones, so the page *and* its service worker are truly offline.
pub struct Link {
    pub url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Link {
    pub async fn to(server: &str) -> Link {
        use std::sync::atomic::Ordering;
        let target = by_address(server)
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{NAME}:{}", listener.local_addr().unwrap().port());
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (cut2, open2) = (cut.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if cut2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open2.lock().unwrap().push(task.abort_handle());
            }
        });
        Link { url, cut, open }
    }

    /// No signal: open connections are closed and new ones refused.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A tab that will not pause service workers for the debugger (FACTS.md).
pub async fn tab(browser: &Browser, url: &str) -> chromiumoxide::Page {
    tab_in(browser, url, None).await
}

/// A tab in its own browser context (separate storage and service workers): another tablet.
pub async fn tablet(browser: &Browser, url: &str) -> chromiumoxide::Page {
    use chromiumoxide::cdp::browser_protocol::target::CreateBrowserContextParams;
    let context = browser
        .create_browser_context(CreateBrowserContextParams::default())
        .await
        .unwrap();
    tab_in(browser, url, Some(context)).await
}

pub async fn tab_in(
    browser: &Browser,
    url: &str,
    context: Option<chromiumoxide::cdp::browser_protocol::browser::BrowserContextId>,
) -> chromiumoxide::Page {
    use chromiumoxide::cdp::browser_protocol::target::{CreateTargetParams, SetAutoAttachParams};
    let mut params = CreateTargetParams::new("about:blank");
    params.browser_context_id = context;
    let page = browser.new_page(params).await.unwrap();
    page.execute(
        SetAutoAttachParams::builder()
            .auto_attach(false)
            .wait_for_debugger_on_start(false)
            .flatten(true)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    // What the page prints to its console, and its uncaught exceptions, go to the test's
    // output: a failing journey says why.
    use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
    if let Ok(mut events) = page.event_listener::<EventConsoleApiCalled>().await {
        tokio::spawn(async move {
            while let Some(e) = events.next().await {
                let text: Vec<String> = e
                    .args
                    .iter()
                    .map(|a| {
                        a.value
                            .as_ref()
                            .map(|v| v.to_string())
                            .or_else(|| a.description.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                eprintln!("[page {:?}] {}", e.r#type, text.join(" "));
            }
        });
    }
    let _ = page
        .execute(chromiumoxide::cdp::js_protocol::runtime::EnableParams::default())
        .await;
    if let Ok(mut events) = page.event_listener::<EventExceptionThrown>().await {
        tokio::spawn(async move {
            while let Some(e) = events.next().await {
                eprintln!("[page exception] {:?}", e.exception_details);
            }
        });
    }
    page.goto(url).await.unwrap();
    page
}

/// Unlocks the tablet (after a reload, a restart or the idle lock) with the demo password:
/// no network needed.
pub async fn unlock(page: &chromiumoxide::Page) {
    wait_for::<bool>(
        page,
        "!!document.querySelector('[data-testid=locked]')",
        |ok| *ok,
    )
    .await;
    set_value(page, "password", demo::PASSWORD, "input").await;
    page.evaluate("document.querySelector('form.login button[type=submit]').click()")
        .await
        .unwrap();
}

pub async fn sign_in(page: &chromiumoxide::Page, user: &str) {
    sign_in_with(page, user, demo::PASSWORD).await;
}

/// Fills the login form afresh (whatever it held) and submits it.
pub async fn sign_in_with(page: &chromiumoxide::Page, user: &str, password: &str) {
    wait_for::<bool>(
        page,
        "!!document.querySelector('input[name=username]')",
        |ok| *ok,
    )
    .await;
    for (field, text) in [("username", user), ("password", password)] {
        set_value(page, field, "", "input").await;
        let input = page
            .find_element(format!("input[name={field}]"))
            .await
            .unwrap();
        input.click().await.unwrap().type_str(text).await.unwrap();
    }
    page.find_element("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Sets the value of the form field named `name` as a person would, announcing it with a
/// bubbling `event` (`change` for selects, `input` for text) so the app's handlers see it.
pub async fn set_value(page: &chromiumoxide::Page, name: &str, value: &str, event: &str) {
    js(
        page,
        &format!(
            "(() => {{ const s = document.querySelector('[name={name}]'); s.value = '{value}'; s.dispatchEvent(new Event('{event}', {{ bubbles: true }})); }})()"
        ),
    )
    .await;
}

/// The files of the app shell the service worker caches: /, index.html, the boot script, the
/// style sheet, the manifest, the icon, the JS glue, the gate's wasm, the split loader and
/// the signed-in part of the wasm.
pub const SHELL_FILES: usize = 10;
pub const CACHED_SHELL: &str = "(async () => { const c = await caches.open((await caches.keys()).find(k => k.startsWith('lianxin-shell-')) || 'none'); return (await c.keys()).length; })()";
pub const STORED_DRAFTS: &str = "new Promise(async ok => { const d = (await indexedDB.databases()).find(d => d.name.startsWith('lianxin-')); if (!d) return ok(0); const r = indexedDB.open(d.name); r.onsuccess = () => { try { const q = r.result.transaction('drafts').objectStore('drafts').count(); q.onsuccess = () => ok(q.result); } catch (e) { ok(0); } }; r.onerror = () => ok(0); })";
/// How many documents the tablet's local store holds (cases, their details, disputes, days).
/// The local store's caseload rows: the byte length of the sealed pack of all rows (0 without
/// one) and how many rows are kept on their own beside it (see app/src/store.rs).
pub const STORED_ROWS: &str = "new Promise(async ok => { const d = (await indexedDB.databases()).find(d => d.name.startsWith('lianxin-')); if (!d) return ok([0, 0]); const r = indexedDB.open(d.name); r.onsuccess = () => { try { const tx = r.result.transaction(['meta', 'rows']); const p = tx.objectStore('meta').get('rowpack'); const n = tx.objectStore('rows').count(); tx.oncomplete = () => ok([p.result ? p.result.byteLength : 0, n.result]); } catch (e) { ok([0, 0]); } }; r.onerror = () => ok([0, 0]); })";
pub const STORED_DOCS: &str = "new Promise(async ok => { const d = (await indexedDB.databases()).find(d => d.name.startsWith('lianxin-')); if (!d) return ok(0); const r = indexedDB.open(d.name); r.onsuccess = () => { try { const q = r.result.transaction('docs').objectStore('docs').count(); q.onsuccess = () => ok(q.result); } catch (e) { ok(0); } }; r.onerror = () => ok(0); })";

pub async fn js(page: &chromiumoxide::Page, code: &str) {
    page.evaluate(code)
        .await
        .unwrap_or_else(|e| panic!("{code}: {e}"));
}

/// Types text, Chinese included, as an input method would commit it.
pub async fn type_into(page: &chromiumoxide::Page, selector: &str, text: &str) {
    use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
    // The screen may redraw the field between finding and focusing it (a sync arriving):
    // found again then, a few times.
    let mut last = None;
    for _ in 0..5 {
        match page.find_element(selector).await {
            Ok(field) => match field.click().await {
                Ok(_) => {
                    page.execute(InsertTextParams::new(text)).await.unwrap();
                    return;
                }
                Err(e) => last = Some(e.to_string()),
            },
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("cannot type into {selector}: {}", last.unwrap_or_default());
}

/// The first file with extension `ext` to appear in `dir` (a download), waited for.
pub async fn downloaded(dir: &std::path::Path, ext: &str) -> std::path::PathBuf {
    // Complete: no partial download beside it, and the same size over 100 ms (a file was
    // once read while Chromium was still writing it).
    let mut last: Option<(std::path::PathBuf, u64)> = None;
    for _ in 0..100 {
        let paths: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let partial = paths
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "crdownload"));
        let found = paths
            .into_iter()
            .find(|p| p.extension().is_some_and(|x| x == ext))
            .map(|p| {
                let size = std::fs::metadata(&p).map_or(0, |m| m.len());
                (p, size)
            });
        match (&found, &last) {
            (Some((file, size)), Some((before, was)))
                if !partial && *size > 0 && file == before && size == was =>
            {
                return file.clone();
            }
            _ => last = found,
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no .{ext} downloaded into {} after 10 s", dir.display());
}

/// Puts `file` into the file input `selector`, as a person choosing it would.
pub async fn choose_file(page: &chromiumoxide::Page, selector: &str, file: &std::path::Path) {
    use chromiumoxide::cdp::browser_protocol::dom::SetFileInputFilesParams;
    let input = page.find_element(selector).await.unwrap();
    page.execute(
        SetFileInputFilesParams::builder()
            .file(file.to_string_lossy().to_string())
            .backend_node_id(input.backend_node_id)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
}

/// Makes the page's viewport `width`×`height` CSS pixels (a tablet held this way or that).
pub async fn resize(page: &chromiumoxide::Page, width: i64, height: i64) {
    use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
    page.execute(
        SetDeviceMetricsOverrideParams::builder()
            .width(width)
            .height(height)
            .device_scale_factor(1.0)
            .mobile(false)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
}
