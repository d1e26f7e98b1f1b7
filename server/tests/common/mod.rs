//! What the server tests share: a real server on a real socket, devices, raw connections.

#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use automerge::{AutoCommit, sync, sync::SyncDoc};
use futures_util::{SinkExt, StreamExt};
use lianxin_server::{AppState, LoginResponse, demo, device::Device, now_ms, store::Store};
use lianxin_shared::DocId;
use lianxin_shared::protocol::{self, ClientMessage, Outcome, ServerMessage, SyncItem};
use tempfile::TempDir;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::Message};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics anywhere in the process (tokio swallows a panicking task's panic, so a test
/// could otherwise pass while a connection task died).
pub fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

pub fn panics() -> usize {
    PANICS.load(Ordering::SeqCst)
}

/// Whether this run of the suite is on PostgreSQL (`LIANXIN_TEST_STORE=postgres`, set by
/// scripts/test.sh for its second pass over the storage and sync suites).
pub fn on_postgres() -> bool {
    std::env::var("LIANXIN_TEST_STORE").as_deref() == Ok("postgres")
}

/// The throwaway PostgreSQL server the test script started.
pub fn postgres_server() -> String {
    std::env::var("LIANXIN_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "LIANXIN_TEST_POSTGRES is not set: run the tests with scripts/test.sh, or \
             `scripts/postgres.sh -- cargo test …` for a throwaway PostgreSQL"
        )
    })
}

/// A new, empty PostgreSQL database of this test's own; its address.
pub fn fresh_postgres() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t{}_{}_{}",
        std::process::id(),
        now_ms(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    Store::create_postgres_database(&postgres_server(), &name).unwrap()
}

/// The store this run of the suite tests: SQLite in `dir`, or a fresh PostgreSQL database.
pub fn test_store(dir: &Path) -> Store {
    if on_postgres() {
        Store::open_postgres(&fresh_postgres()).unwrap()
    } else {
        Store::open(dir).unwrap()
    }
}

/// A server on 127.0.0.1 with the demo units and accounts and no cases.
pub struct TestServer {
    pub url: String,
    pub state: AppState,
    _dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        // RUST_LOG=info shows the server's log when a test needs explaining.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(dir.path());
        assert!(demo::seed(&store, 0, now_ms()).unwrap());
        TestServer::serve(store, dir).await
    }

    /// A server on `store` as it is (another instance of a shared PostgreSQL database).
    pub async fn start_on(store: Store) -> TestServer {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        TestServer::serve(store, tempfile::tempdir().unwrap()).await
    }

    async fn serve(store: Store, dir: TempDir) -> TestServer {
        let state = AppState::new(store);
        let listener = lianxin_server::listen("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(lianxin_server::serve(state.clone(), listener));
        TestServer {
            url,
            state,
            _dir: dir,
        }
    }
}

/// A command-line device with its own home directory.
pub struct TestDevice {
    pub device: Device,
    pub dir: TempDir,
}

impl std::ops::Deref for TestDevice {
    type Target = Device;
    fn deref(&self) -> &Device {
        &self.device
    }
}

impl std::ops::DerefMut for TestDevice {
    fn deref_mut(&mut self) -> &mut Device {
        &mut self.device
    }
}

impl TestDevice {
    /// Reopens the device from its home directory (as a new process would).
    pub fn reopen(self) -> TestDevice {
        let TestDevice { device, dir } = self;
        drop(device);
        TestDevice {
            device: Device::open(dir.path()).unwrap(),
            dir,
        }
    }

    /// Writes a value straight into the device's own configuration table, bypassing the
    /// device's checks, as a tampered device would.
    pub fn tamper_config(&self, key: &str, value: &str) {
        let conn = rusqlite::Connection::open(self.dir.path().join("device.sqlite")).unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO config VALUES (?1, ?2)",
            [key, value],
        )
        .unwrap();
    }

    /// Copies a document (and nothing else) from another device's store into this one's.
    pub fn smuggle_doc_from(&self, other: &TestDevice, id: &str) {
        let from = rusqlite::Connection::open(other.dir.path().join("device.sqlite")).unwrap();
        let doc: Vec<u8> = from
            .query_row("SELECT doc FROM docs WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        let to = rusqlite::Connection::open(self.dir.path().join("device.sqlite")).unwrap();
        let empty_state = automerge::sync::State::new().encode();
        to.execute(
            "INSERT OR REPLACE INTO docs (id, doc, state, pending) VALUES (?1, ?2, ?3, 1)",
            rusqlite::params![id, doc, empty_state],
        )
        .unwrap();
    }
}

/// A new device logged in as `username` (demo password).
pub async fn device(url: &str, username: &str) -> TestDevice {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::open(dir.path()).unwrap();
    login(TestDevice { device, dir }, url, username)
        .await
        .unwrap()
}

/// Logs a device in on a blocking thread (login is blocking HTTP).
pub async fn login(mut d: TestDevice, url: &str, username: &str) -> Result<TestDevice, String> {
    let (url, username) = (url.to_string(), username.to_string());
    tokio::task::spawn_blocking(move || {
        let result = d.device.login(&url, &username, demo::PASSWORD);
        result.map(|_| d).map_err(|e| e.to_string())
    })
    .await
    .unwrap()
}

/// Logs in over HTTP with the given actor and returns the session.
pub async fn raw_login(url: &str, username: &str, actor: &automerge::ActorId) -> LoginResponse {
    let request = serde_json::json!({
        "username": username,
        "password": demo::PASSWORD,
        "actor": actor.to_hex_string(),
        "device_name": "test",
    });
    let url = format!("{url}/api/login");
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        let mut resp = agent.post(&url).send_json(&request).unwrap();
        resp.body_mut().read_json::<LoginResponse>().unwrap()
    })
    .await
    .unwrap()
}

/// A WebSocket to the sync endpoint with the given token.
pub async fn connect(url: &str, token: &str) -> Socket {
    let ws = format!("{}/api/sync", url.replacen("http", "ws", 1));
    let mut request = ws.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false)
        .await
        .unwrap();
    socket
}

/// What the server said next: a decoded message, or how the connection ended.
#[derive(Debug)]
pub enum Heard {
    Message(ServerMessage),
    Closed(Option<u16>),
    Undecodable(String),
}

pub async fn next(socket: &mut Socket) -> Heard {
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(20), socket.next())
            .await
            .expect("the server answered within 20 s");
        return match frame {
            None => Heard::Closed(None),
            Some(Err(_)) => Heard::Closed(None),
            Some(Ok(Message::Close(frame))) => Heard::Closed(frame.map(|f| u16::from(f.code))),
            Some(Ok(Message::Binary(bytes))) => match protocol::decode::<ServerMessage>(&bytes) {
                Ok(m) => Heard::Message(m),
                Err(e) => Heard::Undecodable(e.to_string()),
            },
            Some(Ok(_)) => continue,
        };
    }
}

pub async fn send(socket: &mut Socket, frame: Vec<u8>) {
    // A server that has already closed may refuse the write; what it said is read next.
    let _ = socket.send(Message::Binary(frame.into())).await;
}

/// Sends hello and reads the opening up to and including the welcome.
pub async fn open(socket: &mut Socket, cursor: u64) -> Vec<ServerMessage> {
    send(
        socket,
        protocol::encode(&protocol::ClientMessage::Hello { cursor }),
    )
    .await;
    let mut out = Vec::new();
    loop {
        match next(socket).await {
            Heard::Message(m @ ServerMessage::Welcome { .. }) => {
                out.push(m);
                return out;
            }
            Heard::Message(m) => out.push(m),
            other => panic!("expected the opening, heard {other:?}"),
        }
    }
}

/// The device's export with the parts that differ between devices of the same caseload
/// (which device, how far its cursor is) removed.
pub fn caseload(d: &Device) -> serde_json::Value {
    let mut export = d.export().unwrap();
    export["cases"].take()
}

pub fn case_ids(d: &Device) -> Vec<String> {
    caseload(d)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

pub fn find_case(d: &Device, id: &str) -> serde_json::Value {
    caseload(d)
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("case {id}"))
}

pub fn home(d: &TestDevice) -> &Path {
    d.dir.path()
}

/// Pushes `doc` over `socket` as a device would, until the server has it or refuses it.
pub async fn push_doc(socket: &mut Socket, id: DocId, doc: &mut AutoCommit) -> Result<(), String> {
    push_with(socket, id, doc, |data| data).await
}

/// Like [`push_doc`], with every outgoing sync message passed through `mangle`.
pub async fn push_with(
    socket: &mut Socket,
    id: DocId,
    doc: &mut AutoCommit,
    mangle: impl Fn(Vec<u8>) -> Vec<u8>,
) -> Result<(), String> {
    let mut state = sync::State::new();
    for _ in 0..10 {
        let Some(message) = doc.sync().generate_sync_message(&mut state) else {
            return Ok(());
        };
        let data = mangle(message.encode());
        send(
            socket,
            protocol::encode(&ClientMessage::Sync(vec![SyncItem { doc: id, data }])),
        )
        .await;
        let replies = loop {
            match next(socket).await {
                Heard::Message(ServerMessage::Replies(r)) => break r,
                Heard::Message(ServerMessage::Changed(_)) => continue,
                other => panic!("expected a reply, heard {other:?}"),
            }
        };
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].doc, id);
        match &replies[0].outcome {
            Outcome::Refused(reason) => return Err(reason.clone()),
            Outcome::Sync(Some(data)) => {
                let m = sync::Message::decode(data).unwrap();
                doc.sync().receive_sync_message(&mut state, m).unwrap();
            }
            Outcome::Sync(None) => {}
        }
    }
    panic!("no agreement after 10 rounds");
}

/// The real `lianxin` binary serving `data` (and `database`, when given) on `addr` with the
/// demo accounts and no cases, its log in `data/LOG`; returns once it listens.
pub fn serve_process(
    data: &Path,
    database: Option<&str>,
    addr: &str,
    log: &str,
) -> std::process::Child {
    std::fs::create_dir_all(data).unwrap();
    let log = std::fs::File::create(data.join(log)).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lianxin"));
    if let Some(url) = database {
        command.env("LIANXIN_DATABASE", url);
    }
    let child = command
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", addr, "--demo", "--demo-cases", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

/// A free address on loopback.
pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A runtime of one thread, for a test thread that drives command-line devices.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
