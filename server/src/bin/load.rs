//! The load generator: many devices syncing at once, and a group of live typists in one case,
//! against one or two real `lianxin serve` processes on SQLite or PostgreSQL.
//!
//! Each simulated device is what a tablet is to the server: its own account, session and
//! Automerge actor, its unit's caseload (the opening's snapshots, with their caseload rows, as
//! the app opens: `Open { rows: true }`), a few cases it works on. It
//! edits one of them every `--edit-ms` (± half), keeps its connection open and so hears of the
//! others' edits (`Changed`), and every 5–15 s goes offline for 1–3 s, edits there, and
//! reconnects with its cursor. The changes made counted below are the online ones. The device side is the app's own engine
//! ([`lianxin_shared::DeviceSession`], [`lianxin_shared::Replica`]).
//!
//! Printed: acknowledgement latency (edit → the server confirms it holds it), delivery latency
//! to devices on the same and on the other instance (edit → `Changed` heard), the typists'
//! remote latency (a keystroke → every other typist has it), reconnects, changes stored per
//! second, each server's CPU and peak RSS. The load runs in this process on the same two cores
//! as the servers, so the figures include its own cost.
//!
//! ```sh
//! cargo build --release -p lianxin-server --bin lianxin --bin load
//! target/release/load --devices 300 --seconds 30                       # SQLite, one instance
//! scripts/postgres.sh -- sh -c 'target/release/load --postgres "$LIANXIN_TEST_POSTGRES" --instances 2'
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use lianxin_server::store::{Scope, Store};
use lianxin_server::{auth, demo, now_ms};
use lianxin_shared::{CaseDoc, DeviceSession, DocId, Editor, Replica, Task};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::Message};

/// A typist fetches the keystrokes it heard of within this window in one exchange (a typist
/// hearing 15 others would otherwise send more frames than a connection may, 50 a second).
const FETCH_WINDOW_MS: u64 = 10;

struct Args {
    devices: usize,
    typists: usize,
    seconds: u64,
    instances: usize,
    cases: usize,
    edit_ms: u64,
    type_ms: u64,
    postgres: Option<String>,
    server: PathBuf,
}

const USAGE: &str = "load [--devices N] [--typists N] [--seconds S] [--instances 1|2] \
     [--cases N] [--edit-ms MS] [--type-ms MS] [--postgres URL] [--server PATH]";

fn args() -> Result<Args> {
    let mut a = Args {
        devices: 300,
        typists: 16,
        seconds: 30,
        instances: 1,
        cases: 1000,
        edit_ms: 3000,
        type_ms: 300,
        postgres: None,
        server: std::env::current_exe()?.with_file_name("lianxin"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("a flag needs a value");
        match flag.as_str() {
            "--devices" => a.devices = value()?.parse()?,
            "--typists" => a.typists = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--instances" => a.instances = value()?.parse()?,
            "--cases" => a.cases = value()?.parse()?,
            "--edit-ms" => a.edit_ms = value()?.parse()?,
            "--type-ms" => a.type_ms = value()?.parse()?,
            "--postgres" => a.postgres = Some(value()?),
            "--server" => a.server = value()?.into(),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown flag {other} ({USAGE})"),
        }
    }
    if a.instances > 1 && a.postgres.is_none() {
        bail!("several instances share a PostgreSQL database: give --postgres URL");
    }
    Ok(a)
}

/// One simulated tablet's account.
#[derive(Clone)]
struct Account {
    token: String,
    actor: ActorId,
    user: String,
    focus: Vec<DocId>,
}

/// Makes the county, the caseload and the accounts, straight in the store.
fn prepare(store: &Store, a: &Args) -> Result<(Vec<Account>, Vec<Account>)> {
    let now = now_ms();
    demo::seed(store, a.cases, now)?;
    // The cases of each unit a device may work in.
    let all = Scope::everything(&store.units()?);
    let mut by_unit: HashMap<String, Vec<DocId>> = HashMap::new();
    for changed in store.changed_since(0, &all)? {
        let Some((bytes, _, _)) = store.load_doc(&changed.id)? else {
            continue;
        };
        let doc = lianxin_shared::load_document(&bytes)?;
        if !matches!(
            lianxin_shared::Kind::of(&doc),
            Ok(lianxin_shared::Kind::Case)
        ) {
            continue;
        }
        let header = lianxin_shared::Header::of(&doc)?;
        for unit in header.units {
            by_unit
                .entry(unit.to_string())
                .or_default()
                .push(changed.id);
        }
    }
    let hash = auth::hash_password(demo::PASSWORD).map_err(anyhow::Error::msg)?;
    let places = [
        ("longxi", lianxin_server::store::Role::Mediator),
        ("shitang", lianxin_server::store::Role::Mediator),
        ("hrss", lianxin_server::store::Role::Handler),
    ];
    let account = |name: String, unit: &str, role, focus: Vec<DocId>| -> Result<Account> {
        store.add_user(&name, &hash, role, &lianxin_shared::UnitId::new(unit)?)?;
        let actor = ActorId::random();
        store.register_device(&name, &actor.to_hex_string(), "load", now)?;
        let (token, token_hash) = auth::new_token();
        store.create_session(&token_hash, &name, &actor.to_hex_string(), now)?;
        Ok(Account {
            token,
            actor,
            user: name,
            focus,
        })
    };
    let mut devices = Vec::new();
    for i in 0..a.devices {
        let (unit, role) = places[i % places.len()];
        let cases = by_unit.get(unit).context("a unit without cases")?;
        let focus = (0..3)
            .map(|k| cases[(i / places.len() * 3 + k) % cases.len()])
            .collect();
        devices.push(account(format!("load{i}"), unit, role, focus)?);
    }
    let typed = *by_unit
        .get("longxi")
        .and_then(|c| c.last())
        .context("no case in longxi")?;
    let mut typists = Vec::new();
    for i in 0..a.typists {
        typists.push(account(
            format!("typist{i}"),
            "longxi",
            lianxin_server::store::Role::Mediator,
            vec![typed],
        )?);
    }
    Ok((devices, typists))
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &PathBuf, data: &std::path::Path, database: Option<&str>) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut command = Command::new(bin);
        if let Some(url) = database {
            command.env("LIANXIN_DATABASE", url);
        }
        let child = command
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", &listen])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("RUST_LOG", "error")
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        for _ in 0..400 {
            if std::net::TcpStream::connect(&listen).is_ok() {
                return Ok(Server {
                    child,
                    url: format!("ws://{listen}/api/sync"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not listen on {listen}")
    }

    fn proc_status(&self, key: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    /// CPU seconds used so far (user + system).
    fn cpu_seconds(&self) -> f64 {
        lianxin_server::metrics::cpu_seconds_of(&self.child.id().to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every simulated device reports.
#[derive(Default)]
struct Stats {
    ack_ms: Vec<f64>,
    local_ms: Vec<f64>,
    cross_ms: Vec<f64>,
    remote_ms: Vec<f64>,
    reconnect_ms: Vec<f64>,
    failures: Vec<String>,
}

/// When each edit was sent, and through which instance.
type Sent = Arc<std::sync::RwLock<HashMap<ChangeHash, (Instant, usize)>>>;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, token: &str) -> Result<Socket> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    Ok(
        tokio_tungstenite::connect_async_with_config(request, Some(config), false)
            .await?
            .0,
    )
}

struct Peer {
    account: Account,
    instance: usize,
    url: String,
    replicas: HashMap<DocId, Replica>,
    /// Edits sent and not yet confirmed: (document, when).
    unconfirmed: Vec<(DocId, Instant)>,
    /// Others' changes heard of and not fetched yet (typists only).
    to_fetch: Vec<(ChangeHash, Instant)>,
    cursor: u64,
    typist: bool,
    edits: u64,
    stats: Stats,
    /// Changes this device has heard of (each is timed once).
    heard: std::collections::HashSet<ChangeHash>,
}

impl Peer {
    fn new(account: Account, instance: usize, url: String, typist: bool) -> Peer {
        let replicas = account
            .focus
            .iter()
            .map(|id| (*id, Replica::empty(account.actor.clone())))
            .collect();
        Peer {
            account,
            instance,
            url,
            replicas,
            unconfirmed: Vec::new(),
            to_fetch: Vec::new(),
            cursor: 0,
            typist,
            edits: 0,
            stats: Stats::default(),
            heard: Default::default(),
        }
    }

    /// Appends a note (a typist: one character) to one of the device's cases.
    /// `online`: sent at once (its delivery is timed from now); offline edits are timed from
    /// the reconnect that sends them.
    fn edit(&mut self, sent: &Sent, online: bool) -> Option<DocId> {
        let focus = &self.account.focus;
        let id = focus[(self.edits as usize) % focus.len()];
        self.edits += 1;
        let replica = self.replicas.get_mut(&id)?;
        if replica.is_empty() {
            return None;
        }
        let doc = std::mem::replace(&mut replica.doc, AutoCommit::new());
        let mut case = CaseDoc::from_doc(doc).ok()?;
        let text = if self.typist {
            "字"
        } else {
            "入户走访，群众反映情况已记录"
        };
        let editor = Editor::new(&self.account.user, now_ms());
        let ok = case.append_note(&editor, text).is_ok();
        replica.doc = case.into_doc();
        if !ok {
            return None;
        }
        let now = Instant::now();
        if online && let Ok(mut s) = sent.write() {
            for head in replica.doc.get_heads() {
                s.insert(head, (now, self.instance));
            }
        }
        self.unconfirmed.push((id, now));
        Some(id)
    }

    /// One connection: opens, edits, listens, until `leave` or `until`. Edits made offline
    /// before it (in `unconfirmed`) are pushed on opening.
    async fn session(
        &mut self,
        leave: Instant,
        until: Instant,
        edit_every: Duration,
        sent: &Sent,
        settle_only: bool,
    ) -> Result<()> {
        let opened = Instant::now();
        let socket = connect(&self.url, &self.account.token).await?;
        let (mut tx, mut rx) = socket.split();
        let (mut session, hello) = DeviceSession::open(self.cursor);
        tx.send(Message::Binary(hello.into())).await?;
        for (id, replica) in self.replicas.iter_mut() {
            replica.new_connection();
            if !replica.is_empty() && !replica.is_confirmed() {
                session.push(*id, replica);
                if let Ok(mut s) = sent.write() {
                    for head in replica.doc.get_heads() {
                        s.insert(head, (opened, self.instance));
                    }
                }
            }
        }
        for frame in session.take_frames() {
            tx.send(Message::Binary(frame.into())).await?;
        }
        let mut reconnected = self.cursor > 0;
        let jitter = (self.account.actor.to_bytes()[0] as u64 * 7) % 1000;
        let mut next_edit = Instant::now() + edit_every.mul_f64(0.5 + jitter as f64 / 1000.0);
        let mut fetch_at: Option<Instant> = None;
        let mut welcomed = false;
        loop {
            let now = Instant::now();
            if now >= leave || now >= until {
                return Ok(());
            }
            let wake = fetch_at
                .map_or(next_edit, |f| f.min(next_edit))
                .min(leave)
                .min(until);
            tokio::select! {
                frame = rx.next() => {
                    let bytes = match frame {
                        Some(Ok(Message::Binary(b))) => b,
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => bail!("connection: {e}"),
                        None => bail!("the server closed the connection"),
                    };
                    let tasks = session.receive(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
                    let heard = Instant::now();
                    for task in tasks {
                        // Only live announcements count: the opening's list of what changed
                        // while the device was away is not a delivery.
                        if let Task::Changed { heads, doc } = &task
                            && welcomed
                        {
                            if let Ok(s) = sent.read() {
                                let st = &mut self.stats;
                                for head in heads {
                                    // An edit made before this connection opened was heard
                                    // of as soon as it could be: that is the reconnect's time.
                                    if !self.heard.insert(*head) {
                                        continue; // heard of already: counted once
                                    }
                                    if let Some((t, instance)) = s.get(head).filter(|(t, _)| *t >= opened) {
                                        let ms = heard.duration_since(*t).as_secs_f64() * 1000.0;
                                        if *instance == self.instance { st.local_ms.push(ms) } else { st.cross_ms.push(ms) }
                                        if self.typist && self.replicas.contains_key(doc) {
                                            self.to_fetch.push((*head, *t));
                                        }
                                    }
                                }
                            }
                            if self.typist && self.replicas.contains_key(doc) {
                                // Keystrokes heard close together are fetched together.
                                fetch_at.get_or_insert(heard + Duration::from_millis(FETCH_WINDOW_MS));
                                continue;
                            }
                        }
                        let Some(replica) = self.replicas.get_mut(&task.doc()) else { continue };
                        if let Err(e) = session.handle(&task, replica) {
                            bail!("{e}");
                        }
                    }
                    let done = Instant::now();
                    {
                    let st = &mut self.stats;
                    if let Some((doc, reason)) = session.refused().first() {
                        st.failures.push(format!("{} refused {doc}: {reason}", self.account.user));
                    }
                    let replicas = &mut self.replicas;
                    self.unconfirmed.retain(|(doc, t)| {
                        let confirmed = replicas.get_mut(doc).is_some_and(|r| r.is_confirmed());
                        if confirmed && !reconnected {
                            st.ack_ms.push(done.duration_since(*t).as_secs_f64() * 1000.0);
                        }
                        !confirmed
                    });
                    if let Some(replica) = self.account.focus.first().and_then(|d| replicas.get_mut(d)) {
                        self.to_fetch.retain(|(hash, t)| {
                            let have = replica.doc.get_change_by_hash(hash).is_some();
                            if have {
                                st.remote_ms.push(done.duration_since(*t).as_secs_f64() * 1000.0);
                            }
                            !have
                        });
                    }
                    if session.is_settled() {
                        self.cursor = session.cursor();
                        if reconnected && self.unconfirmed.is_empty() {
                            st.reconnect_ms.push(done.duration_since(opened).as_secs_f64() * 1000.0);
                            reconnected = false;
                        }
                    }
                    }
                    for frame in session.take_frames() {
                        tx.send(Message::Binary(frame.into())).await?;
                    }
                    welcomed |= session.is_settled();
                    if settle_only && session.is_settled() {
                        return Ok(());
                    }
                }
                _ = tokio::time::sleep_until(wake.into()) => {
                    let now = Instant::now();
                    if fetch_at.is_some_and(|f| f <= now) {
                        fetch_at = None;
                        if let Some(id) = self.account.focus.first().copied()
                            && let Some(replica) = self.replicas.get_mut(&id)
                        {
                            let heads = self.to_fetch.iter().map(|(h, _)| *h).collect();
                            let _ = session.handle(&Task::Changed { doc: id, heads }, replica);
                        }
                    }
                    if now >= next_edit && session.is_settled() {
                        next_edit = now + edit_every;
                        if let Some(id) = self.edit(sent, true)
                            && let Some(replica) = self.replicas.get_mut(&id)
                        {
                            session.push(id, replica);
                        }
                    } else if now >= next_edit {
                        next_edit = now + Duration::from_millis(10);
                    }
                    for frame in session.take_frames() {
                        tx.send(Message::Binary(frame.into())).await?;
                    }
                }
            }
        }
    }
}

/// A device's whole run: sessions of 5–15 s with 1–3 s offline between them.
async fn device(mut peer: Peer, until: Instant, edit_every: Duration, sent: Sent) -> Stats {
    let mut round = peer.account.actor.to_bytes()[1] as u64;
    while Instant::now() < until {
        round += 1;
        let stay = if peer.typist {
            until.saturating_duration_since(Instant::now())
        } else {
            Duration::from_millis(5000 + round * 7919 % 10_000)
        };
        if let Err(e) = peer
            .session(Instant::now() + stay, until, edit_every, &sent, false)
            .await
        {
            peer.stats
                .failures
                .push(format!("{}: {e}", peer.account.user));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if peer.typist {
            continue;
        }
        // Offline: a visit with no signal, an edit or two there.
        let offline = Duration::from_millis(1000 + round * 104_729 % 2000);
        let back = Instant::now() + offline;
        for _ in 0..(1 + round % 2) {
            peer.edit(&sent, false);
        }
        tokio::time::sleep_until(back.min(until).into()).await;
    }
    peer.stats
}

/// CPU seconds this process has used.
fn self_cpu() -> f64 {
    lianxin_server::metrics::cpu_seconds_of("self")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn line(name: &str, mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!(
        "{name}: {} samples, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let a = args()?;
    let scratch = std::env::temp_dir().join(format!("lianxin-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let database = match &a.postgres {
        Some(url) => Some(Store::create_postgres_database(
            url,
            &format!("load_{}_{}", std::process::id(), now_ms()),
        )?),
        None => None,
    };
    let data = scratch.join("data");
    let prepared = Instant::now();
    let (devices, typists) = {
        let store = Store::open_at(&data, database.as_deref())?;
        prepare(&store, &a)?
    };
    println!(
        "{} on {}, {} instance(s): {} cases, {} devices (an edit each {} ms ± 50%, offline 1–3 s every 5–15 s), {} typists in one case (a keystroke each {} ms); prepared in {:.1} s",
        a.server.display(),
        if database.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        a.instances,
        a.cases,
        a.devices,
        a.edit_ms,
        a.typists,
        a.type_ms,
        prepared.elapsed().as_secs_f64()
    );
    let mut servers = Vec::new();
    for i in 0..a.instances {
        let dir = if database.is_some() {
            scratch.join(format!("instance{i}"))
        } else {
            data.clone()
        };
        servers.push(Server::start(&a.server, &dir, database.as_deref())?);
    }
    let sent: Sent = Arc::default();
    // Every tablet's first sync, all at once (the morning the county starts), timed apart.
    let first = Instant::now();
    let mut opening = Vec::new();
    let accounts = devices
        .into_iter()
        .map(|a| (a, false))
        .chain(typists.into_iter().map(|a| (a, true)));
    for (i, (account, typist)) in accounts.enumerate() {
        let instance = i % servers.len();
        let mut peer = Peer::new(account, instance, servers[instance].url.clone(), typist);
        let sent = sent.clone();
        opening.push(tokio::spawn(async move {
            let far = Instant::now() + Duration::from_secs(600);
            let ok = peer
                .session(far, far, Duration::from_secs(600), &sent, true)
                .await;
            (peer, ok.is_ok())
        }));
    }
    let mut peers = Vec::new();
    let mut failed_first = 0;
    for t in opening {
        let (peer, ok) = t.await?;
        failed_first += usize::from(!ok);
        peers.push(peer);
    }
    println!(
        "first sync of all {} tablets at once: {:.1} s ({failed_first} failed)",
        peers.len(),
        first.elapsed().as_secs_f64()
    );
    let cpu_before: Vec<f64> = servers.iter().map(Server::cpu_seconds).collect();
    let self_before = self_cpu();
    if let Ok(mut s) = sent.write() {
        s.clear();
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(a.seconds);
    let mut tasks = Vec::new();
    for peer in peers {
        let every = Duration::from_millis(if peer.typist { a.type_ms } else { a.edit_ms });
        tasks.push(tokio::spawn(device(peer, until, every, sent.clone())));
    }
    let mut st = Stats::default();
    for t in tasks {
        let s = t.await?;
        st.ack_ms.extend(s.ack_ms);
        st.local_ms.extend(s.local_ms);
        st.cross_ms.extend(s.cross_ms);
        st.remote_ms.extend(s.remote_ms);
        st.reconnect_ms.extend(s.reconnect_ms);
        st.failures.extend(s.failures);
    }
    let wall = started.elapsed().as_secs_f64();
    let changes = sent.read().map(|s| s.len()).unwrap_or(0);
    println!("{}", line("acknowledgement (edit → confirmed)", st.ack_ms));
    println!(
        "{}",
        line(
            "delivery, same instance (edit → Changed heard)",
            st.local_ms
        )
    );
    if a.instances > 1 {
        println!(
            "{}",
            line(
                "delivery, other instance (edit → Changed heard)",
                st.cross_ms
            )
        );
    }
    println!(
        "{}",
        line(
            "typists' remote latency (keystroke → every other typist has it)",
            st.remote_ms
        )
    );
    println!(
        "{}",
        line(
            "reconnect with offline edits (open → all confirmed)",
            st.reconnect_ms
        )
    );
    println!(
        "changes made: {changes} in {wall:.1} s ({:.0}/s)",
        changes as f64 / wall
    );
    for (i, s) in servers.iter().enumerate() {
        println!(
            "instance {i}: CPU {:.0}% of one core, peak RSS {:.0} MB",
            (s.cpu_seconds() - cpu_before[i]) / wall * 100.0,
            s.proc_status("VmHWM:").unwrap_or(f64::NAN) / 1024.0
        );
    }
    println!(
        "the load generator itself (same machine): CPU {:.0}% of one core",
        (self_cpu() - self_before) / wall * 100.0
    );
    if !st.failures.is_empty() {
        println!(
            "{} failures, the first: {}",
            st.failures.len(),
            st.failures[0]
        );
    }
    drop(servers);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}
