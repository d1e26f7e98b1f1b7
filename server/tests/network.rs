//! Ready for a county network: https with the office's own CA, the headers every answer
//! carries, sign-in throttling and the dummy-hash path, session lifetimes, revoked devices,
//! the token kept out of URLs.

mod common;

use std::sync::Mutex;

use common::*;
use futures_util::SinkExt;
use lianxin_server::device::{Device, DeviceError};
use lianxin_server::store::{SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, Store};
use lianxin_server::throttle::{FREE_ACCOUNT_FAILURES, FREE_ADDRESS_FAILURES};
use lianxin_server::{AppState, auth, demo, now_ms};
use lianxin_shared::protocol::{self, ClientMessage, ServerMessage};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::Message};

/// Everything the server logs, for the test that reads the log.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;
impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Held by every test here: one counts the server's password checks, which the others'
/// sign-ins would add to.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn capture_log() {
    let _ = tracing_subscriber::fmt()
        .with_writer(|| LogWriter)
        .with_ansi(false)
        .with_env_filter("warn")
        .try_init();
}

/// A sign-in over HTTP from a new device: (status, body).
async fn sign_in(url: &str, username: &str, password: &str) -> (u16, String) {
    let actor = automerge::ActorId::random().to_hex_string();
    sign_in_from(url, username, password, &actor).await
}

/// A sign-in over HTTP from the device `actor`: (status, body).
async fn sign_in_from(url: &str, username: &str, password: &str, actor: &str) -> (u16, String) {
    let request = serde_json::json!({
        "username": username,
        "password": password,
        "actor": actor,
        "device_name": "test",
    });
    let url = format!("{url}/api/login");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent.post(&url).send_json(&request).unwrap();
        (
            resp.status().as_u16(),
            resp.body_mut().read_to_string().unwrap(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account_and_per_address_and_logged_without_the_password()
{
    capture_log();
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await;
    // An account: its free failures, then refused unchecked — even the right password.
    for _ in 0..FREE_ACCOUNT_FAILURES + 1 {
        let (status, _) = sign_in(&server.url, "mediator", "secret-guess-1").await;
        assert_eq!(status, 401);
    }
    let asked = std::time::Instant::now();
    let (status, body) = sign_in(&server.url, "mediator", demo::PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("try again in"), "{body}");
    // Answered after a pause (the lock's time, at most a second), so a script trying again at
    // once is slowed to about a try a second per connection.
    assert!(
        asked.elapsed() >= std::time::Duration::from_millis(900),
        "{:?}",
        asked.elapsed()
    );
    // Another account from the same address is not locked by that.
    let (status, _) = sign_in(&server.url, "mediator2", demo::PASSWORD).await;
    assert_eq!(status, 200);

    // A name that is no account is answered exactly as a wrong password, and throttled the
    // same way, so neither the answers nor the throttling tell which names exist.
    let (wrong_status, wrong_body) = sign_in(&server.url, "shitang", "secret-guess-1").await;
    let (unknown_status, unknown_body) =
        sign_in(&server.url, "nobody-here", "secret-guess-1").await;
    assert_eq!((wrong_status, &wrong_body), (unknown_status, &unknown_body));
    for _ in 0..FREE_ACCOUNT_FAILURES {
        sign_in(&server.url, "nobody-here", "secret-guess-1").await;
    }
    assert_eq!(sign_in(&server.url, "nobody-here", "x").await.0, 429);

    // The leader's tablet has signed in from this address before.
    let tablet = automerge::ActorId::random().to_hex_string();
    let (status, body) = sign_in_from(&server.url, "leader", demo::PASSWORD, &tablet).await;
    assert_eq!(status, 200, "{body}");

    // The address: after its free failures (spread over many names), every name from it waits.
    let mut n = 0;
    while sign_in(&server.url, &format!("guess{n}"), "secret-guess-1")
        .await
        .0
        == 401
    {
        n += 1;
        assert!(
            n <= FREE_ADDRESS_FAILURES as usize,
            "the address was never throttled"
        );
    }
    // Failures while locked are not checked, so do not lengthen the lock; more failures after
    // it (as from a colleague's tablets over a morning) double it each time: long enough
    // here that each refusal's one-second pause does not outlast it.
    for _ in 0..8 {
        server.state.throttle.failed("guess", "127.0.0.1", now_ms());
    }
    assert_eq!(sign_in(&server.url, "leader", demo::PASSWORD).await.0, 429);
    // ...except a tablet its account has signed in from before: failures behind the office's
    // one router do not keep out the tablets already in use there.
    let (status, body) = sign_in_from(&server.url, "leader", demo::PASSWORD, &tablet).await;
    assert_eq!(status, 200, "{body}");
    // A known tablet of another account is no way in for this one.
    let (status, _) = sign_in_from(&server.url, "registrar", demo::PASSWORD, &tablet).await;
    assert_eq!(status, 429);

    let log = String::from_utf8(LOG.lock().unwrap().clone()).unwrap();
    assert!(log.contains("failed sign-in"), "{log}");
    assert!(
        log.contains("mediator") && log.contains("127.0.0.1"),
        "{log}"
    );
    assert!(
        !log.contains("secret-guess-1"),
        "a password reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_is_checked_against_the_dummy_hash_and_a_disabled_account_says_nothing() {
    capture_log();
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await;
    // The decision, not a time: one Argon2 check is done for a name that is no account, as
    // for a wrong password.
    let before = auth::verifications();
    let (status, body) = sign_in(&server.url, "no-such-user", demo::PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(auth::verifications() - before, 1);
    let before = auth::verifications();
    let (status, wrong) = sign_in(&server.url, "mediator", "not-the-password").await;
    assert_eq!(status, 401);
    assert_eq!(auth::verifications() - before, 1);
    assert_eq!(body, wrong);

    // A disabled account with its right password: the same answer as a wrong one.
    server.state.store.set_disabled("mediator2", true).unwrap();
    let (status, disabled) = sign_in(&server.url, "mediator2", demo::PASSWORD).await;
    assert_eq!((status, &disabled), (401, &wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers_and_api_answers_are_never_stored() {
    capture_log();
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await;
    let url = server.url.clone();
    let answers = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let page = agent.get(&format!("{url}/")).call().unwrap();
        let api = agent
            .post(&format!("{url}/api/login"))
            .send_json(serde_json::json!({"username": "x", "password": "y", "actor": "00", "device_name": ""}))
            .unwrap();
        let header = |r: &ureq::http::Response<ureq::Body>, name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let names = [
            "content-security-policy",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "cache-control",
            "strict-transport-security",
        ];
        [&page, &api].map(|r| names.map(|n| header(r, n)))
    })
    .await
    .unwrap();
    for [csp, nosniff, frame, referrer, cache, hsts] in &answers {
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(nosniff, "nosniff");
        assert_eq!(frame, "DENY");
        assert_eq!(referrer, "no-referrer");
        assert!(!cache.is_empty());
        // Plain http (localhost): no HSTS.
        assert_eq!(hsts, "");
    }
    assert_eq!(answers[0][4], "no-cache");
    assert_eq!(answers[1][4], "no-store");
}

/// A server over https with a certificate from the office CA for `lianxin.test` and
/// 127.0.0.1, as `lianxin admin tls init` makes it.
async fn https_server(dir: &std::path::Path) -> (String, std::path::PathBuf, AppState) {
    let store = Store::open(&dir.join("data")).unwrap();
    demo::seed(&store, 0, now_ms()).unwrap();
    let issued = lianxin_server::tls::init(
        &dir.join("data"),
        "测试县",
        &["lianxin.test".into()],
        &["127.0.0.1".parse().unwrap()],
        now_ms(),
    )
    .unwrap();
    let tls = lianxin_server::tls::server_config(&issued.cert, &issued.key).unwrap();
    let state = AppState::new(store).with_https(Some(issued.ca_cert.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(lianxin_server::serve_tls(state.clone(), listener, tls));
    (url, issued.ca_cert, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_device_syncs_over_https_trusting_the_office_ca() {
    capture_log();
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (url, ca, _state) = https_server(dir.path()).await;

    // Without the office CA the device does not trust the server.
    let (u, home) = (url.clone(), dir.path().join("untrusting"));
    let err = tokio::task::spawn_blocking(move || {
        Device::open(&home)
            .unwrap()
            .login(&u, "mediator", demo::PASSWORD)
            .unwrap_err()
            .to_string()
    })
    .await
    .unwrap();
    assert!(err.contains("UnknownIssuer"), "{err}");

    // With it (`device login --ca FILE`), sign-in and sync go over https and wss.
    let (u, home, ca2) = (url.clone(), dir.path().join("tablet"), ca.clone());
    let mut device = tokio::task::spawn_blocking(move || {
        let mut d = Device::open(&home).unwrap();
        d.trust_ca(&ca2).unwrap();
        d.login(&u, "mediator", demo::PASSWORD).unwrap();
        d
    })
    .await
    .unwrap();
    let id = device
        .new_case("longxi", "visit", "经 https 登记的案件", now_ms())
        .unwrap();
    device.sync().await.unwrap();
    let (u, home, ca2) = (url.clone(), dir.path().join("second"), ca.clone());
    let mut second = tokio::task::spawn_blocking(move || {
        let mut d = Device::open(&home).unwrap();
        d.trust_ca(&ca2).unwrap();
        d.login(&u, "mediator2", demo::PASSWORD).unwrap();
        d
    })
    .await
    .unwrap();
    second.sync().await.unwrap();
    assert!(
        second.export().unwrap()["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.to_string())
    );

    // Tablets download the CA at /ca.pem; https answers carry HSTS.
    let (u, ca2) = (url.clone(), ca.clone());
    let (served, hsts) = tokio::task::spawn_blocking(move || {
        let pem = std::fs::read(&ca2).unwrap();
        let cert = ureq::tls::Certificate::from_pem(&pem).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                    .build(),
            )
            .build()
            .into();
        let mut resp = agent.get(&format!("{u}/ca.pem")).call().unwrap();
        let hsts = resp
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_string());
        (resp.body_mut().read_to_vec().unwrap(), hsts)
    })
    .await
    .unwrap();
    assert_eq!(served, std::fs::read(&ca).unwrap());
    assert_eq!(hsts.as_deref(), Some("max-age=31536000"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_travels_in_the_first_frame_never_in_the_url() {
    capture_log();
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await;
    let actor = automerge::ActorId::random();
    let session = raw_login(&server.url, "mediator", &actor).await;
    let ws = format!("{}/api/sync", server.url.replacen("http", "ws", 1));

    // A token in the URL is ignored: the connection gets no session.
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{ws}?token={}", session.token))
        .await
        .unwrap();
    socket
        .send(Message::Binary(
            protocol::encode(&ClientMessage::Hello { cursor: 0 }).into(),
        ))
        .await
        .unwrap();
    match next(&mut socket).await {
        Heard::Message(ServerMessage::SessionEnded(reason)) => {
            assert!(reason.contains("no session token"), "{reason}")
        }
        other => panic!("expected a refusal, heard {other:?}"),
    }

    // The token as the first frame opens the session.
    let (mut socket, _) =
        tokio_tungstenite::connect_async(ws.clone().into_client_request().unwrap())
            .await
            .unwrap();
    for message in [
        ClientMessage::Auth {
            token: session.token.clone(),
        },
        ClientMessage::Hello { cursor: 0 },
    ] {
        socket
            .send(Message::Binary(protocol::encode(&message).into()))
            .await
            .unwrap();
    }
    loop {
        match next(&mut socket).await {
            Heard::Message(ServerMessage::Welcome { .. }) => break,
            Heard::Message(ServerMessage::Snapshots(_)) => continue,
            other => panic!("expected the welcome, heard {other:?}"),
        }
    }

    // A wrong token in the first frame: the session has ended, says the server.
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.unwrap();
    socket
        .send(Message::Binary(
            protocol::encode(&ClientMessage::Auth {
                token: "forged".into(),
            })
            .into(),
        ))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut socket).await,
        Heard::Message(ServerMessage::SessionEnded(_))
    ));
}

#[test]
fn sessions_end_after_their_idle_and_their_absolute_lifetime_and_are_purged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    demo::seed(&store, 0, 0).unwrap();
    let t0 = 1_800_000_000_000;
    store
        .register_device("mediator", "aa00", "tablet", t0)
        .unwrap();
    // Idle: unused for longer than the idle lifetime.
    let idle = auth::token_hash("idle");
    store.create_session(&idle, "mediator", "aa00", t0).unwrap();
    assert!(
        store
            .session(&idle, t0 + SESSION_IDLE_MS - 1)
            .unwrap()
            .is_some()
    );
    let idle2 = auth::token_hash("idle2");
    store
        .create_session(&idle2, "mediator", "aa00", t0)
        .unwrap();
    assert!(
        store
            .session(&idle2, t0 + SESSION_IDLE_MS + 1)
            .unwrap()
            .is_none()
    );
    // Absolute: used every ten days, it still ends a month after sign-in.
    let busy = auth::token_hash("busy");
    store.create_session(&busy, "mediator", "aa00", t0).unwrap();
    let day = 24 * 3600 * 1000;
    for used in [10 * day, 20 * day, SESSION_ABSOLUTE_MS - day] {
        assert!(store.session(&busy, t0 + used).unwrap().is_some());
    }
    assert!(
        store
            .session(&busy, t0 + SESSION_ABSOLUTE_MS)
            .unwrap()
            .is_none()
    );
    // Purged: the idle ones and the ended one.
    assert_eq!(store.purge_sessions(t0 + SESSION_ABSOLUTE_MS).unwrap(), 3);
    assert_eq!(store.purge_sessions(t0 + SESSION_ABSOLUTE_MS).unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_stops_syncing_keeps_its_edits_and_cannot_sign_in_again() {
    capture_log();
    let _serial = SERIAL.lock().await;
    let server = TestServer::start().await;
    let mut lost = device(&server.url, "mediator").await;
    let id = lost
        .new_case("longxi", "visit", "丢失平板上的案件", now_ms())
        .unwrap();
    lost.sync().await.unwrap();
    let devices = server.state.store.devices(now_ms()).unwrap();
    let listed = devices
        .iter()
        .find(|d| d.actor == lost.actor().to_hex_string())
        .unwrap();
    assert_eq!(
        (listed.username.as_str(), listed.live_sessions),
        ("mediator", 1)
    );

    server
        .state
        .store
        .revoke_device(&lost.actor().to_hex_string()[..12], now_ms())
        .unwrap();
    lost.note(&id.to_string(), "吊销后写的", now_ms()).unwrap();
    let err = lost.sync().await.unwrap_err();
    assert!(matches!(err, DeviceError::SessionEnded(_)), "{err}");
    assert!(lost.export().unwrap().to_string().contains("吊销后写的"));
    let err = match login(lost, &server.url, "mediator").await {
        Ok(_) => panic!("a revoked device signed in"),
        Err(e) => e,
    };
    assert!(err.contains("revoked"), "{err}");
    let listed = server.state.store.devices(now_ms()).unwrap();
    assert!(
        listed
            .iter()
            .any(|d| d.revoked_at.is_some() && d.live_sessions == 0)
    );
}

#[tokio::test]
async fn an_offices_tablets_connecting_at_once_are_all_taken_in() {
    // The morning, or a restart: 300 tablets connect within the same moment, faster than the
    // server accepts. The kernel holds them for the server up to the listen backlog; past it
    // Linux drops the SYN and the tablet waits a second for its retry (and three, and seven).
    // Nothing is accepted here, so every connection must fit in the backlog.
    let listener = lianxin_server::listen("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::task::spawn_blocking(move || {
        let mut held = Vec::new();
        for i in 0..300 {
            match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
            {
                Ok(s) => held.push(s),
                Err(e) => panic!("connection {i} was not taken in: {e}"),
            }
        }
        held.len()
    })
    .await
    .unwrap();
    assert_eq!(held, 300);
    drop(listener);
}
