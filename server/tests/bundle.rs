//! How the server gives the app's files: brotli where the browser accepts it, else gzip, else
//! the file itself; a screen's address answers the app shell, a missing file stays 404.

use lianxin_server::{AppState, store::Store};

fn get(url: &str, accept: Option<&str>) -> (u16, Option<String>, Vec<u8>) {
    let (status, encoding, body, _) = get_cached(url, accept);
    (status, encoding, body)
}

/// Also the answer's Cache-Control.
fn get_cached(url: &str, accept: Option<&str>) -> (u16, Option<String>, Vec<u8>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(a) = accept {
        request = request.header("accept-encoding", a);
    }
    let mut resp = request.call().unwrap();
    let encoding = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = resp.status().as_u16();
    (
        status,
        encoding,
        resp.body_mut().read_to_vec().unwrap_or_default(),
        cache,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_come_brotli_then_gzip_and_screens_are_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("pkg")).unwrap();
    // What the bundle step writes: each file, a .gz and a .br beside it (stand-ins here: the
    // server sends them as they are).
    for (name, body) in [
        ("index.html", "<!doctype html>shell"),
        ("pkg/app.js", "app()"),
    ] {
        std::fs::write(dist.join(name), body).unwrap();
        std::fs::write(dist.join(format!("{name}.gz")), format!("GZ:{body}")).unwrap();
        std::fs::write(dist.join(format!("{name}.br")), format!("BR:{body}")).unwrap();
    }
    let store = Store::open(&dir.path().join("data")).unwrap();
    let state = AppState::new(store).with_bundle(dist);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(lianxin_server::serve(state, listener));

    let rows = [
        (
            "/pkg/app.js",
            Some("gzip, deflate, br"),
            200,
            Some("br"),
            Some("BR:app()"),
        ),
        (
            "/pkg/app.js",
            Some("gzip"),
            200,
            Some("gzip"),
            Some("GZ:app()"),
        ),
        ("/pkg/app.js", None, 200, None, Some("app()")),
        // A screen's address is the shell, compressed the same way.
        (
            "/case/0123456789abcdef0123456789abcdef",
            Some("br"),
            200,
            Some("br"),
            Some("BR:<!doctype html>shell"),
        ),
        ("/board", None, 200, None, Some("<!doctype html>shell")),
        // A missing file is not the shell.
        ("/pkg/missing.js", Some("br"), 404, None, None),
    ];
    for (path, accept, status, encoding, body) in rows {
        let (u, path2) = (url.clone(), path.to_string());
        let accept2 = accept.map(str::to_string);
        let (s, e, b) =
            tokio::task::spawn_blocking(move || get(&format!("{u}{path2}"), accept2.as_deref()))
                .await
                .unwrap();
        assert_eq!(
            (s, e.as_deref()),
            (status, encoding),
            "{path} with {accept:?}"
        );
        if let Some(body) = body {
            assert_eq!(String::from_utf8_lossy(&b), body, "{path} with {accept:?}");
        }
    }
}

/// A file named after its content is kept by the browser for a year without asking again;
/// the shell, the service worker and unhashed names are revalidated on every load; nothing
/// missing is ever marked immutable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_hashed_files_are_immutable_and_the_rest_revalidated() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("pkg")).unwrap();
    for name in [
        "index.html",
        "sw.js",
        "style-0123456789abcdef.css",
        "pkg/lianxin_app_bg-fedcba9876543210.wasm",
        "pkg/app.js",
    ] {
        std::fs::write(dist.join(name), name).unwrap();
    }
    let store = Store::open(&dir.path().join("data")).unwrap();
    let state = AppState::new(store).with_bundle(dist);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(lianxin_server::serve(state, listener));
    let forever = "public, max-age=31536000, immutable";
    let rows = [
        ("/style-0123456789abcdef.css", 200, forever),
        ("/pkg/lianxin_app_bg-fedcba9876543210.wasm", 200, forever),
        ("/index.html", 200, "no-cache"),
        ("/", 200, "no-cache"),
        ("/sw.js", 200, "no-cache"),
        ("/pkg/app.js", 200, "no-cache"),
        ("/case/0123456789abcdef", 200, "no-cache"),
        // Not there: a 404 the browser may ask again for.
        ("/pkg/lianxin_app_bg-0000000000000000.wasm", 404, "no-cache"),
        // Not a content hash (15 digits, upper case): revalidated.
        ("/style-0123456789abcde.css", 404, "no-cache"),
    ];
    for (path, status, cache) in rows {
        let u = format!("{url}{path}");
        let (s, _, _, c) = tokio::task::spawn_blocking(move || get_cached(&u, None))
            .await
            .unwrap();
        assert_eq!((s, c.as_str()), (status, cache), "{path}");
    }
    for (path, hashed) in [
        ("/style-0123456789abcdef.css", true),
        ("/pkg/x-0123456789abcdef.wasm", true),
        ("/style-0123456789ABCDEF.css", false),
        ("/-0123456789abcdef.css", false),
        ("/style-0123456789abcdef", false),
        ("/a/b/0123456789abcdef.css", false),
    ] {
        assert_eq!(lianxin_server::content_hashed(path), hashed, "{path}");
    }
}
