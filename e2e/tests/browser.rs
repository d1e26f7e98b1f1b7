//! The built app in Debian's Chromium (headless, driven over CDP) against a real server on a
//! real socket. Needs `dist/` (made by `cargo run -p xtask -- bundle`, which the test command
//! runs first) and /usr/bin/chromium (installed by the test command).
//!
//! Screenshots go to `target/screenshots/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::page::ScreenshotParams;
use futures_util::StreamExt;
use lianxin_server::{AppState, demo, device::Device, now_ms, store::Store};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

async fn start_server(data: &std::path::Path) -> String {
    let store = Store::open(data).unwrap();
    demo::seed(&store, 80, now_ms()).unwrap();
    let dist = workspace().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "no app bundle in {}: run `cargo run -p xtask -- bundle` first (scripts/test.sh does)",
        dist.display()
    );
    let state = AppState::new(store).with_bundle(dist);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(lianxin_server::serve(state, listener));
    url
}

/// A command-line device, for what the test needs to know or do beside the browser.
async fn cli_device(home: PathBuf, url: &str, user: &str) -> Device {
    let url = url.to_string();
    let user = user.to_string();
    let mut device = tokio::task::spawn_blocking(move || {
        let mut d = Device::open(&home).unwrap();
        d.login(&url, &user, demo::PASSWORD).unwrap();
        d
    })
    .await
    .unwrap();
    device.sync().await.unwrap();
    device
}

fn case_ids(d: &Device) -> Vec<String> {
    let mut ids: Vec<String> = d.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn launch(profile: &std::path::Path) -> Browser {
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
async fn wait_for<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    page: &chromiumoxide::Page,
    js: &str,
    done: impl Fn(&T) -> bool,
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
            if started.elapsed() > Duration::from_secs(30) {
                panic!("gave up waiting on `{js}`; last value {v:?}");
            }
        } else if started.elapsed() > Duration::from_secs(30) {
            panic!("gave up waiting on `{js}`");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const SHOWN_IDS: &str =
    "Array.from(document.querySelectorAll('li[data-case]')).map(e => e.dataset.case).sort()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mediator_sees_the_cases_of_their_township_only_and_live_changes_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let url = start_server(&dir.path().join("data")).await;
    let mediator = cli_device(dir.path().join("cli-mediator"), &url, "mediator").await;
    let shitang = cli_device(dir.path().join("cli-shitang"), &url, "shitang").await;
    let expected = case_ids(&mediator);
    let other_unit = case_ids(&shitang);
    assert!(!expected.is_empty() && !other_unit.is_empty());

    let mut browser = launch(&dir.path().join("chromium")).await;
    let page = browser.new_page("about:blank").await.unwrap();
    page.goto(url.as_str()).await.unwrap();
    wait_for::<bool>(
        &page,
        "!!document.querySelector('input[name=username]')",
        |ok| *ok,
    )
    .await;
    // Chinese by default.
    let title: String = wait_for(
        &page,
        "document.querySelector('header h1').textContent",
        |t: &String| !t.is_empty(),
    )
    .await;
    assert!(title.contains("连心"), "{title}");

    // A wrong password is said so, in the form.
    page.find_element("input[name=username]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("mediator")
        .await
        .unwrap();
    page.find_element("input[name=password]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str("wrong")
        .await
        .unwrap();
    page.find_element("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error: String = wait_for(
        &page,
        "document.querySelector('.error')?.textContent ?? ''",
        |t: &String| !t.is_empty(),
    )
    .await;
    assert!(error.contains("wrong username or password"), "{error}");

    let password = page.find_element("input[name=password]").await.unwrap();
    password.click().await.unwrap();
    page.evaluate("(() => { const p = document.querySelector('input[name=password]'); p.value=''; p.dispatchEvent(new Event('input')); })()").await.unwrap();
    password.type_str(demo::PASSWORD).await.unwrap();
    page.find_element("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The caseload arrives: exactly the township's cases, none of another township's.
    let shown: Vec<String> = wait_for(&page, SHOWN_IDS, |ids: &Vec<String>| {
        ids.len() >= expected.len()
    })
    .await;
    assert_eq!(shown, expected);
    assert!(shown.iter().all(|id| !other_unit.contains(id)));
    let sync: String = wait_for(
        &page,
        "document.querySelector('[data-testid=sync]').textContent",
        |t: &String| t.contains("已同步"),
    )
    .await;
    assert!(sync.contains("已同步"));
    // Sorted by urgency: no red case after a case of another colour.
    let colours: Vec<String> = page
        .evaluate(
            "Array.from(document.querySelectorAll('li[data-case] .colour')).map(e => e.className)",
        )
        .await
        .unwrap()
        .into_value()
        .unwrap();
    let rank = |c: &String| {
        ["red", "yellow", "blue", "green"]
            .iter()
            .position(|k| c.contains(k))
            .unwrap()
    };
    assert!(
        colours.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])),
        "{colours:?}"
    );

    let shots = workspace().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().full_page(false).build(),
        shots.join("caseload.png"),
    )
    .await
    .unwrap();

    // A colleague registers a case on another device: it appears without a reload.
    let mut colleague = cli_device(dir.path().join("cli-mediator2"), &url, "mediator2").await;
    let new_id = colleague
        .new_case("longxi", "visit", "新登记：村民反映灌溉渠堵塞", now_ms())
        .unwrap()
        .to_string();
    colleague.sync().await.unwrap();
    let shown: Vec<String> = wait_for(&page, SHOWN_IDS, |ids: &Vec<String>| {
        ids.len() > expected.len()
    })
    .await;
    assert!(shown.contains(&new_id));

    // The English switch.
    page.find_element("header button")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let title: String = wait_for(
        &page,
        "document.querySelector('header h1').textContent",
        |t: &String| t.contains("Lianxin"),
    )
    .await;
    assert!(title.contains("petitions"), "{title}");
    browser.close().await.unwrap();
    let _ = browser.wait().await;
}

/// A tablet's own path to the server: a TCP proxy the test can cut, closing open connections
/// and refusing new ones, so the page *and* its service worker are truly offline.
struct Link {
    url: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Link {
    async fn to(server: &str) -> Link {
        use std::sync::atomic::Ordering;
        let target = server.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
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

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A tab that will not pause service workers for the debugger (FACTS.md).
async fn tab(browser: &Browser, url: &str) -> chromiumoxide::Page {
    use chromiumoxide::cdp::browser_protocol::target::SetAutoAttachParams;
    let page = browser.new_page("about:blank").await.unwrap();
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
    page.goto(url).await.unwrap();
    page
}

async fn sign_in(page: &chromiumoxide::Page, user: &str) {
    wait_for::<bool>(
        page,
        "!!document.querySelector('input[name=username]')",
        |ok| *ok,
    )
    .await;
    page.find_element("input[name=username]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str(user)
        .await
        .unwrap();
    page.find_element("input[name=password]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str(demo::PASSWORD)
        .await
        .unwrap();
    page.find_element("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

const CACHED_SHELL: &str = "(async () => { const c = await caches.open((await caches.keys()).find(k => k.startsWith('lianxin-shell-')) || 'none'); return (await c.keys()).length; })()";
const STORED_CASES: &str = "new Promise(ok => { const r = indexedDB.open('lianxin'); r.onsuccess = () => { try { const q = r.result.transaction('docs').objectStore('docs').count(); q.onsuccess = () => ok(q.result); } catch (e) { ok(0); } }; r.onerror = () => ok(0); })";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caseload_opens_with_no_network_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let url = start_server(&dir.path().join("data")).await;
    let mediator = cli_device(dir.path().join("cli"), &url, "mediator").await;
    let expected = case_ids(&mediator);
    let link = Link::to(&url).await;

    let mut browser = launch(&dir.path().join("chromium")).await;
    let page = tab(&browser, &link.url).await;
    sign_in(&page, "mediator").await;
    wait_for(&page, SHOWN_IDS, |ids: &Vec<String>| *ids == expected).await;
    // The shell is cached and every case is in IndexedDB before the signal goes.
    wait_for(&page, CACHED_SHELL, |n: &usize| *n == 7).await;
    wait_for(&page, STORED_CASES, |n: &usize| *n == expected.len()).await;

    link.cut();
    page.reload().await.unwrap();
    let shown: Vec<String> = wait_for(&page, SHOWN_IDS, |ids: &Vec<String>| !ids.is_empty()).await;
    assert_eq!(
        shown, expected,
        "the caseload came from the cache and the local store"
    );
    let sync: String = wait_for(
        &page,
        "document.querySelector('[data-testid=sync]')?.textContent ?? ''",
        |t: &String| t.contains("离线"),
    )
    .await;
    assert!(sync.contains("离线"));
    let shots = workspace().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    page.save_screenshot(
        ScreenshotParams::builder().build(),
        shots.join("offline.png"),
    )
    .await
    .unwrap();

    // Signal returns: the app reconnects by itself.
    link.restore();
    wait_for(
        &page,
        "document.querySelector('[data-testid=sync]').textContent",
        |t: &String| t.contains("已同步"),
    )
    .await;
    browser.close().await.unwrap();
    let _ = browser.wait().await;
}
