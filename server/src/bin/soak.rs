//! The soak benchmark: honest devices sync while one user attacks the server every way that
//! once took it down, and the figures that say whether the others were served.
//!
//! It starts a real `lianxin serve` process (a demo county, no cases) on loopback, measures
//! the honest devices' acknowledgement latency alone, then again while the attacks run, and
//! reads the server's peak resident memory from /proc. Point `--server` at another build of
//! the binary to compare (an older one may die: that is reported, not hidden).
//!
//! ```sh
//! cargo build --release -p lianxin-server --bin lianxin --bin soak
//! target/release/soak                      # 50 devices, 10 s alone, 60 s under attack
//! target/release/soak --devices 20 --seconds 20 --server path/to/lianxin
//! ```

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use lianxin_server::demo;
use lianxin_server::device::Device;
use lianxin_shared::DocId;
use lianxin_shared::protocol::{self, ClientMessage, SyncItem};
use std::io::Write;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, protocol::Message};

const ATTACKER: &str = "shitang";
/// The second account, holding sockets.
const HOLDER: &str = "mediator";

struct Args {
    devices: usize,
    warmup: u64,
    seconds: u64,
    server: PathBuf,
    /// The attacker process's niceness (0: as the others).
    attacker_nice: i32,
}

fn args() -> Result<Args> {
    let mut a = Args {
        devices: 50,
        warmup: 10,
        seconds: 60,
        server: std::env::current_exe()?.with_file_name("lianxin"),
        attacker_nice: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("a flag needs a value");
        match flag.as_str() {
            "--devices" => a.devices = value()?.parse()?,
            "--warmup" => a.warmup = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--server" => a.server = value()?.into(),
            "--attacker-nice" => a.attacker_nice = value()?.parse()?,
            other => {
                bail!(
                    "unknown flag {other} (--devices N --warmup S --seconds S --server PATH --attacker-nice N)"
                )
            }
        }
    }
    Ok(a)
}

/// A fresh directory under the system's temporary directory for this run.
fn scratch(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir()
        .join(format!("lianxin-soak-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &PathBuf, devices: usize) -> Result<Server> {
        let dir = scratch("server")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(bin)
            .args(["serve", "--data"])
            .arg(&dir)
            .args(["--listen", &listen, "--demo", "--demo-cases", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .env("RUST_LOG", "error")
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        for _ in 0..200 {
            if std::net::TcpStream::connect(&listen).is_ok() {
                // One account per honest device, added beside the running server.
                for i in 0..devices {
                    let mut add = Command::new(bin)
                        .args(["admin", "--data"])
                        .arg(&dir)
                        .args([
                            "user",
                            "add",
                            &format!("soak{i}"),
                            "--role",
                            "mediator",
                            "--unit",
                            "longxi",
                        ])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::null())
                        .spawn()?;
                    if let Some(mut stdin) = add.stdin.take() {
                        writeln!(stdin, "{}", demo::PASSWORD)?;
                    }
                    add.wait()?;
                }
                return Ok(Server {
                    child,
                    url: format!("http://{listen}"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the server did not listen on {listen}")
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Peak resident memory (VmHWM) in MB, while the process lives.
    fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(
            std::env::temp_dir().join(format!("lianxin-soak-{}", std::process::id())),
        );
    }
}

/// Milliseconds from an edit to the server's acknowledgement, for each sync of each device.
async fn honest(url: String, devices: usize, until: Instant) -> Result<Vec<f64>> {
    let mut tasks = Vec::new();
    for i in 0..devices {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let dir = scratch(&format!("device-{i}"))?;
            let mut device = Device::open(&dir)?;
            let user = format!("soak{i}");
            let u = url.clone();
            let mut device = tokio::task::spawn_blocking(move || -> Result<Device> {
                device.login(&u, &user, demo::PASSWORD)?;
                Ok(device)
            })
            .await??;
            let unit = "longxi";
            let case = device.new_case(unit, "visit", &format!("压力测试 {i}"), now())?;
            let case = case.to_string();
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                device.note(&case, &format!("第{n}次记录"), now())?;
                let t = Instant::now();
                match device.sync().await {
                    Ok(report) if report.refused.is_empty() => {
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0)
                    }
                    Ok(report) => bail!("an honest edit was refused: {:?}", report.refused),
                    // A sync that failed outright counts as never acknowledged.
                    Err(_) => latencies.push(f64::INFINITY),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

fn now() -> i64 {
    lianxin_server::now_ms()
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(url: &str, token: &str) -> Option<Socket> {
    let ws = format!("{}/api/sync", url.replacen("http", "ws", 1));
    let mut request = ws.into_client_request().ok()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().ok()?);
    let (mut s, _) = tokio_tungstenite::connect_async(request).await.ok()?;
    let hello = protocol::encode(&ClientMessage::Hello {
        cursor: u64::MAX / 2,
    });
    s.send(Message::Binary(hello.into())).await.ok()?;
    Some(s)
}

fn frame(items: Vec<SyncItem>) -> Vec<u8> {
    protocol::encode(&ClientMessage::Sync(items))
}

/// Every attack's frames, made once: the load generator shares the server's cores, and making
/// 100,000 random ids every round took more of them than the server's refusals did.
fn attack_frames() -> Vec<Vec<Vec<u8>>> {
    let bomb = lianxin_shared::inflation_bomb(1 << 30);
    vec![
        // Inflation bombs.
        (0..4)
            .map(|_| {
                frame(vec![SyncItem {
                    doc: DocId::random(),
                    data: bomb.clone(),
                }])
            })
            .collect(),
        // Random ids, a thousand a frame.
        (0..4)
            .map(|_| {
                frame(
                    (0..protocol::MAX_ITEMS)
                        .map(|_| SyncItem {
                            doc: DocId::random(),
                            data: vec![0x42],
                        })
                        .collect(),
                )
            })
            .collect(),
        // A hundred thousand items in one frame.
        vec![frame(
            (0..100_000)
                .map(|_| SyncItem {
                    doc: DocId::random(),
                    data: vec![0x42],
                })
                .collect(),
        )],
        // Megabytes of garbage to be quarantined.
        (0..2)
            .map(|_| {
                frame(
                    (0..4)
                        .map(|_| SyncItem {
                            doc: DocId::random(),
                            data: vec![0x42; 1 << 20],
                        })
                        .collect(),
                )
            })
            .collect(),
        // Empty frames as fast as the socket takes them.
        (0..2_000).map(|_| frame(Vec::new())).collect(),
    ]
}

/// The attacker process (`soak --attack URL TOKEN HOLDER_TOKEN SECONDS`, started by the benchmark): every
/// attack at once for SECONDS, then one line of what it sent.
async fn attacker() -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(2).collect();
    let [url, token, holder, seconds] = argv.as_slice() else {
        bail!("soak --attack URL TOKEN HOLDER_TOKEN SECONDS");
    };
    let attacks = Arc::new(attack_frames());
    let until = Instant::now() + Duration::from_secs(seconds.parse()?);
    let sent = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let tried = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for _ in 0..2 {
        attackers.push(tokio::spawn(attack(
            url.clone(),
            token.clone(),
            until,
            sent.clone(),
            attacks.clone(),
        )));
    }
    attackers.push(tokio::spawn(hold_connections(
        url.clone(),
        holder.clone(),
        until,
        refused.clone(),
    )));
    let (u, b, t, s) = (url.clone(), busy.clone(), tried.clone(), stop.clone());
    let storm = std::thread::spawn(move || login_storm(u, until, b, t, s));
    for a in attackers {
        let _ = a.await;
    }
    stop.store(true, Ordering::Relaxed);
    let _ = storm.join();
    println!(
        "{} frames sent, {} connections refused, {} wrong-password sign-ins sent ({} answered 503); the attacker used {:.0} s of CPU",
        sent.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        tried.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        lianxin_server::metrics::cpu_seconds_of("self"),
    );
    Ok(())
}

/// One attacker's every attack, in turns, until `until`; counts frames sent.
async fn attack(
    url: String,
    token: String,
    until: Instant,
    sent: Arc<AtomicU64>,
    attacks: Arc<Vec<Vec<Vec<u8>>>>,
) {
    let mut round = 0usize;
    while Instant::now() < until {
        round += 1;
        let Some(mut s) = socket(&url, &token).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let frames = attacks[round % attacks.len()].clone();
        for f in frames {
            if s.send(Message::Binary(f.into())).await.is_err() {
                break;
            }
            sent.fetch_add(1, Ordering::Relaxed);
        }
        // Read whatever comes back for a moment, then let the socket go.
        let _ = tokio::time::timeout(Duration::from_millis(200), async {
            while let Some(Ok(_)) = s.next().await {}
        })
        .await;
    }
}

/// Opens sockets on one token as fast as it can and holds them.
async fn hold_connections(url: String, token: String, until: Instant, refused: Arc<AtomicU64>) {
    let mut held = Vec::new();
    while Instant::now() < until {
        match socket(&url, &token).await {
            Some(s) => held.push(s),
            None => {
                refused.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        if held.len() > 3_000 {
            held.clear();
        }
    }
}

/// Wrong-password logins, 32 at a time, for accounts and for no account.
fn login_storm(
    url: String,
    until: Instant,
    busy: Arc<AtomicU64>,
    tried: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    std::thread::scope(|s| {
        for i in 0..32 {
            let (url, busy, tried, stop) = (url.clone(), busy.clone(), tried.clone(), stop.clone());
            s.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let body = serde_json::json!({
                    "username": if i % 2 == 0 { "admin" } else { "nobody" },
                    "password": "not the password",
                    "actor": automerge::ActorId::random().to_hex_string(),
                });
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    tried.fetch_add(1, Ordering::Relaxed);
                    match agent.post(format!("{url}/api/login")).send_json(&body) {
                        Ok(r) if r.status().as_u16() == 503 => {
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(_) => {}
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            });
        }
    });
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn summary(mut v: Vec<f64>) -> String {
    let failed = v.iter().filter(|x| !x.is_finite()).count();
    v.retain(|x| x.is_finite());
    v.sort_by(|a, b| a.total_cmp(b));
    format!(
        "{} syncs, p50 {:.1} ms, p99 {:.1} ms{}",
        v.len(),
        percentile(&v, 0.5),
        percentile(&v, 0.99),
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("--attack") {
        return attacker().await;
    }
    let args = args()?;
    let mut server = Server::start(&args.server, args.devices)?;
    println!(
        "soak: {} honest devices; server {}",
        args.devices,
        args.server.display()
    );

    let alone = honest(
        server.url.clone(),
        args.devices,
        Instant::now() + Duration::from_secs(args.warmup),
    )
    .await?;
    println!("alone:        {}", summary(alone));
    let rss_alone = server.peak_rss_mb();

    // The attacker signs in twice, as two users: one holds sockets (its connections are soon
    // all taken: the per-user limit), the other sends every kind of bad frame through its own.
    let sign_in = |username: &'static str| {
        let url = server.url.clone();
        tokio::task::spawn_blocking(move || -> Result<String> {
            let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
            let body = serde_json::json!({
                "username": username,
                "password": demo::PASSWORD,
                "actor": automerge::ActorId::random().to_hex_string(),
            });
            let mut resp = agent.post(format!("{url}/api/login")).send_json(&body)?;
            let login: lianxin_server::LoginResponse = resp.body_mut().read_json()?;
            Ok(login.token)
        })
    };
    let token = sign_in(ATTACKER).await??;
    let holder = sign_in(HOLDER).await??;
    let server_pid = server.child.id().to_string();
    let cpu_before = (
        lianxin_server::metrics::cpu_seconds_of(&server_pid),
        lianxin_server::metrics::cpu_seconds_of("self"),
    );
    let started = Instant::now();
    let until = Instant::now() + Duration::from_secs(args.seconds);
    // The attacker is a process of its own, at a lower priority: on this one machine its
    // making of traffic would otherwise take the cores from the honest devices and the server
    // alike, and the figures would be of the generator. What it sent is printed beside them.
    let attacker = Command::new("nice")
        .arg("-n")
        .arg(args.attacker_nice.to_string())
        .arg(std::env::current_exe()?)
        .args(["--attack", &server.url, &token, &holder])
        .arg(args.seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the attacker")?;
    let attacked = honest(server.url.clone(), args.devices, until).await;
    let report = tokio::task::spawn_blocking(move || attacker.wait_with_output()).await??;
    let report = String::from_utf8_lossy(&report.stdout).to_string();
    let wall = started.elapsed().as_secs_f64();
    let share = |before: f64, pid: &str| {
        100.0 * (lianxin_server::metrics::cpu_seconds_of(pid) - before) / wall
    };
    let (server_cpu, generator_cpu) = (
        share(cpu_before.0, &server_pid),
        share(cpu_before.1, "self"),
    );
    let alive = server.alive();
    let rss = server.peak_rss_mb();
    match attacked {
        Ok(v) => println!("under attack: {}", summary(v)),
        Err(e) => println!("under attack: the honest devices failed: {e}"),
    }
    println!("attacks: {}", report.trim());
    println!(
        "CPU under attack (100% = one core; the machine's cores are shared): server {server_cpu:.0}%, \
         the honest devices {generator_cpu:.0}%"
    );
    println!(
        "server: {}; peak RSS {} (alone: {})",
        if alive { "alive" } else { "DIED" },
        rss.map(|r| format!("{r:.0} MB"))
            .unwrap_or_else(|| "unknown".into()),
        rss_alone
            .map(|r| format!("{r:.0} MB"))
            .unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}
