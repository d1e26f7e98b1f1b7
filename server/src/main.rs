//! `lianxin`: the server, its administration, and the command-line device.

// tidy: long because the command line is one declaration (clap derive) of every command with
// its dispatch; the commands' bodies live in the library and in office_cli.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

mod office_cli;

use clap::{Parser, Subcommand};
use lianxin_server::{AppState, auth, demo, device::Device, now_ms, store::Role, store::Store};
use lianxin_shared::{Date, StepDraft, StepKind, UnitId};

#[derive(Parser)]
#[command(
    name = "lianxin",
    version,
    about = "Lianxin 连心: petition caseload server and command-line device"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the server.
    Serve {
        /// Directory holding the database (created if missing), the TLS files and the bundle
        /// the server writes.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Keeps the data in PostgreSQL instead of `DATA/lianxin.sqlite`
        /// (`postgres://user:password@host:port/database`); several instances may share it.
        /// Also read from LIANXIN_DATABASE.
        #[arg(long, env = "LIANXIN_DATABASE")]
        database: Option<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seeds an empty database with a demo county, accounts and caseload.
        #[arg(long)]
        demo: bool,
        /// The built browser app to serve at / (made by `cargo run -p xtask -- bundle`).
        #[arg(long, default_value = "dist")]
        app: PathBuf,
        /// How many demo cases to generate with --demo.
        #[arg(long, default_value_t = 300)]
        demo_cases: usize,
        /// Serves https with this certificate chain (PEM), e.g. DATA/tls/server.pem from
        /// `lianxin admin tls init`. Without it, plain http (fit for localhost only: browsers
        /// give the app no offline storage or service worker over http on a network).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM), e.g. DATA/tls/server-key.pem.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Administers units, users and refused changes in a database.
    Admin {
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The PostgreSQL database the server keeps its data in, if it does (see `serve`).
        #[arg(long, env = "LIANXIN_DATABASE")]
        database: Option<String>,
        #[command(subcommand)]
        command: Admin,
    },
    /// Acts as a device (a tablet) whose local caseload lives in --home.
    Device {
        #[arg(long)]
        home: PathBuf,
        #[command(subcommand)]
        command: DeviceCommand,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Units: `unit add ID NAME [--parent ID]`, `unit list`.
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Users: `user add USERNAME --role ROLE --unit ID` (password on stdin), `user disable`, `user enable`.
    #[command(subcommand)]
    User(UserCommand),
    /// Lists the changes refused and kept aside.
    Quarantine,
    /// Reference numbers 连信〔YEAR〕NNNN号 below NEXT are the office's own (its paper ledger
    /// of the year): the blocks tablets are given start at NEXT or above.
    References {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        next: u32,
    },
    /// Lists every recorded ledger export and import: when, who, from which device, what,
    /// how many rows.
    LedgerLog,
    /// Imports an office's ledger (XLSX, XLS, CSV) straight into the store as cases of UNIT
    /// (as `lianxin device import`, by the administrator, who may record every step).
    Import {
        file: PathBuf,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "map")]
        map: Vec<String>,
    },
    /// The reference data every device receives: `reference show`, `reference campaign NAME
    /// --from DATE [--to DATE] [--kind TEXT]`, `reference rule NAME POINTS` (the monthly
    /// assessment's rules, DOMAIN.md's defaults until set).
    #[command(subcommand)]
    Reference(office_cli::ReferenceCommand),
    /// The office's official figures, over every case (see `lianxin device report`).
    #[command(subcommand)]
    Report(office_cli::ReportCommand),
    /// A real office's first start: creates the county's root unit and the first
    /// administrator (password on standard input; weak ones are refused). Refused on a
    /// database that already has units.
    Init {
        /// The county's name, e.g. 武冈县.
        #[arg(long)]
        county: String,
        /// The root unit's id (lowercase letters, digits, dashes).
        #[arg(long, default_value = "county")]
        id: String,
        /// The first administrator's user name.
        #[arg(long, default_value = "admin")]
        admin: String,
    },
    /// The office certificate authority and the server's certificate: `tls init --name NAME...
    /// [--ip ADDR...]`.
    #[command(subcommand)]
    Tls(TlsCommand),
    /// Devices: `device list`, `device revoke ACTOR` (a lost or stolen tablet).
    #[command(subcommand)]
    Device(DeviceAdmin),
    /// Cases: `case unshare CASE_ID UNIT` takes a unit away from a case; its devices drop
    /// the case at their next sync.
    #[command(subcommand)]
    Case(CaseAdmin),
    /// The holiday calendar: `calendar holiday DATE...`, `calendar workday DATE...` (a make-up
    /// working day), `calendar remove DATE...`, `calendar list`. Devices get it at login.
    #[command(subcommand)]
    Calendar(office_cli::CalendarCommand),
    /// Moves an office to PostgreSQL: copies the SQLite database in --data, every table, into
    /// the new, empty PostgreSQL database --database, in one transaction. The file is only
    /// read; stop the server first (docs/deploy.md).
    Copy,
}

#[derive(Subcommand)]
enum TlsCommand {
    /// Makes DATA/tls/ca.pem (kept if it exists), server.pem and their keys.
    Init {
        /// The county's name, written in the CA certificate.
        #[arg(long, default_value = "连心")]
        county: String,
        /// Names tablets use for the server (e.g. lianxin.wugang.lan).
        #[arg(long)]
        name: Vec<String>,
        /// Addresses tablets use for the server (e.g. 192.168.1.20).
        #[arg(long)]
        ip: Vec<std::net::IpAddr>,
    },
}

#[derive(Subcommand)]
enum CaseAdmin {
    Unshare { id: String, unit: String },
}

#[derive(Subcommand)]
enum DeviceAdmin {
    /// Every registered device: key, user, name, registered, last seen, live sessions.
    List,
    /// Ends the device's sessions and refuses its key for ever (a unique prefix is enough).
    Revoke { actor: String },
}

#[derive(Subcommand)]
enum UnitCommand {
    Add {
        id: String,
        name: String,
        #[arg(long)]
        parent: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Adds a user; the password is read from standard input.
    Add {
        username: String,
        /// registrar, handler, mediator, leader or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: String,
        /// The name the cases write for them (周书记), if they lead packages or handle cases.
        #[arg(long)]
        name: Option<String>,
    },
    /// Disables a user and ends their sessions at once.
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Logs in (password on standard input) and registers this device. An https server with
    /// the office's own certificate needs `--ca` (its CA certificate, from /ca.pem), kept for
    /// later syncs.
    Login {
        server: String,
        username: String,
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// Sends local changes and receives what changed elsewhere.
    Sync,
    #[command(subcommand)]
    Case(CaseCommand),
    /// Mediation disputes 矛盾纠纷: their own documents, synced like cases.
    #[command(subcommand)]
    Dispute(DisputeCommand),
    /// Prints the whole local caseload as JSON (docs/export-format.md), with each case's
    /// derived state, deadline and colour as of --today (default: today, China time).
    Export {
        #[arg(long)]
        today: Option<String>,
    },
    /// Writes the case ledger 信访事项台账 as XLSX (FILE.xlsx) or CSV (UTF-8, BOM); personal
    /// details in full only for cases this user's units handle. Recorded on the server.
    Ledger {
        file: PathBuf,
        #[arg(long)]
        today: Option<String>,
    },
    /// The office's reports over this device's own copy (offline), as JSON.
    #[command(subcommand)]
    Report(office_cli::ReportCommand),
    /// Imports an office's ledger (XLSX, XLS, CSV) as cases of UNIT, matched by 编号 (again
    /// updates, never duplicates); prints the mapping, unreadable rows and why, what was done.
    /// `--map HEADER=FIELD` (`HEADER=`: ignore) corrects the mapping; `--dry-run` changes nothing.
    Import {
        file: PathBuf,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        dry_run: bool,
        #[arg(long = "map")]
        map: Vec<String>,
    },
}

#[derive(Subcommand)]
enum CaseCommand {
    /// Registers a new case and prints its id.
    New {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        channel: String,
        #[arg(long)]
        summary: String,
    },
    /// Sets a single-value field (or the summary).
    Set {
        id: String,
        field: String,
        value: String,
    },
    /// Appends a paragraph to the notes.
    Note { id: String, text: String },
    /// The case's history from the server: who changed what, when, from which device
    /// (refused changes too, for the administrator).
    History { id: String },
    /// Records a follow-up visit; prints its id.
    FollowUp { id: String, text: String },
    /// Tags the case to a campaign of the reference data (`--off` untags it).
    Campaign {
        id: String,
        campaign: String,
        #[arg(long)]
        off: bool,
    },
    /// Adds a petitioner; prints their entry id. The ID number, phone and address go into the
    /// case's personal details, which only devices of the units handling the case hold.
    Petitioner {
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        id_number: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        address: Option<String>,
    },
    /// Records a lifecycle step (KIND as in docs/export-format.md); prints its id.
    Step {
        id: String,
        kind: String,
        /// The day the step happened (YYYY-MM-DD); today (China time) if omitted.
        #[arg(long)]
        on: Option<String>,
        /// Required for not_accepted, not_reaccepted and extended.
        #[arg(long)]
        reason: Option<String>,
        /// For a concluded step: upheld, explained, not_upheld or agreement.
        #[arg(long)]
        outcome: Option<String>,
    },
}

#[derive(Subcommand)]
enum DisputeCommand {
    /// Registers a dispute found by screening (at the village group level); prints its id.
    New {
        #[arg(long)]
        unit: String,
        /// local, traffic, medical, environmental, land, education, consumer, labour, property.
        #[arg(long, default_value = "local")]
        committee: String,
        #[arg(long)]
        summary: String,
    },
    /// Sets kind, committee, level, mediator or result (or the agreement text).
    Set {
        id: String,
        field: String,
        value: String,
    },
    /// Adds a party; prints its id.
    Party {
        id: String,
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// Records a mediation session; prints its id.
    Session {
        id: String,
        text: String,
        #[arg(long)]
        mediator: String,
        #[arg(long)]
        on: Option<String>,
    },
    /// Sends the dispute one level up; prints the new level.
    Escalate {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        on: Option<String>,
    },
    /// Turns the dispute into a case; prints the case's id.
    ToCase { id: String },
}

/// glibc gives each thread that allocates an arena of its own (up to 8 per core), and each
/// keeps what was freed in it: with the blocking threads that decode frames, the resident size
/// grew to twice what was in use (soak: 444 → 236 MB with two arenas, the same latency).
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; called first in main, before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    few_malloc_arenas();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause shown only if the message above does not already
/// include it (our error types embed their source in their own message).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    let password = s.lines().next().unwrap_or("").to_string();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password)
}

/// Threads for blocking work (decoding and applying changes, SQLite) at most: enough to keep
/// the cores busy while some wait on the disk, few enough that what they hold at once stays
/// bounded (tokio's default is 512).
const BLOCKING_THREADS: usize = 16;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            data,
            database,
            listen,
            demo: with_demo,
            app,
            demo_cases,
            tls_cert,
            tls_key,
        } => {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into());
            // LIANXIN_LOG=json: one JSON object a line, for a log collector.
            if std::env::var("LIANXIN_LOG").as_deref() == Ok("json") {
                tracing_subscriber::fmt()
                    .json()
                    .with_current_span(true)
                    .with_env_filter(filter)
                    .init();
            } else {
                tracing_subscriber::fmt().with_env_filter(filter).init();
            }
            let store = Store::open_at(&data, database.as_deref())?;
            if with_demo && demo::seed(&store, demo_cases, now_ms())? {
                if demo_cases > 0 {
                    demo::seed_field(&store, now_ms())?;
                }
                println!(
                    "demo: seeded {demo_cases} cases; accounts {} (password {})",
                    demo::USERS
                        .iter()
                        .map(|u| u.0)
                        .collect::<Vec<_>>()
                        .join(", "),
                    demo::PASSWORD
                );
            }
            if !store.is_initialised()? {
                println!(
                    "this database is empty: set the office up with `lianxin admin --data {} init --county NAME` (or serve --demo to try)",
                    data.display()
                );
            }
            let purged = store.purge_sessions(now_ms())?;
            if purged > 0 {
                println!("purged {purged} ended sessions");
            }
            let tls = match (&tls_cert, &tls_key) {
                (Some(cert), Some(key)) => Some(lianxin_server::tls::server_config(cert, key)?),
                _ => None,
            };
            runtime()?.block_on(async {
                let listener = lianxin_server::listen(&listen).await?;
                let scheme = if tls.is_some() { "https" } else { "http" };
                println!("lianxin listening on {scheme}://{}", listener.local_addr()?);
                if !app.join("index.html").is_file() {
                    println!(
                        "no app bundle in {} (build it with `cargo run -p xtask -- bundle`); serving the API only",
                        app.display()
                    );
                }
                let state = AppState::new(store).with_bundle(app);
                match tls {
                    Some(tls) => {
                        let (ca, _, _, _) = lianxin_server::tls::paths(&data);
                        let ca = ca.is_file().then_some(ca);
                        lianxin_server::serve_tls(state.with_https(ca), listener, tls).await?
                    }
                    None => lianxin_server::serve(state, listener).await?,
                }
                anyhow::Ok(())
            })
        }
        Command::Admin {
            data,
            database,
            command,
        } => {
            if let Admin::Copy = command {
                let url = database.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("`admin copy` needs --database postgres://… (the new database)")
                })?;
                anyhow::ensure!(
                    data.join("lianxin.sqlite").is_file(),
                    "no SQLite database in {} (give its directory with --data)",
                    data.display()
                );
                let from = Store::open(&data)?;
                let to = Store::open_postgres(url)?;
                let copied = from.copy_into(&to)?;
                for (table, n) in &copied {
                    println!("{table}\t{n}");
                }
                println!(
                    "copied {} rows into {}",
                    copied.iter().map(|(_, n)| n).sum::<u64>(),
                    lianxin_server::store::db::redact(url)
                );
                return Ok(());
            }
            let store = Store::open_at(&data, database.as_deref())?;
            match command {
                Admin::Unit(UnitCommand::Add { id, name, parent }) => {
                    let parent = parent.as_deref().map(UnitId::new).transpose()?;
                    store.add_unit(&UnitId::new(&id)?, &name, parent.as_ref())?;
                }
                Admin::Unit(UnitCommand::List) => {
                    for u in store.units()? {
                        println!("{}\t{}\t{}", u.id, u.name, u.parent.unwrap_or_default());
                    }
                }
                Admin::User(UserCommand::Add {
                    username,
                    role,
                    unit,
                    name,
                }) => {
                    let role = lianxin_server::store::parse_role(&role)?;
                    let unit = UnitId::new(&unit)?;
                    let hash =
                        auth::hash_password(&read_password()?).map_err(anyhow::Error::msg)?;
                    store.add_user(&username, &hash, role, &unit)?;
                    if let Some(name) = name {
                        store.set_user_name(&username, &name)?;
                    }
                }
                Admin::User(UserCommand::Disable { username }) => {
                    store.set_disabled(&username, true)?
                }
                Admin::User(UserCommand::Enable { username }) => {
                    store.set_disabled(&username, false)?
                }
                Admin::Calendar(command) => office_cli::calendar(&store, command)?,
                // Done above, before one store was opened.
                Admin::Copy => {}
                Admin::Init { county, id, admin } => {
                    anyhow::ensure!(
                        !store.is_initialised()?,
                        "this database already has units; `init` is for an office's first start"
                    );
                    let password = read_password()?;
                    auth::check_strength(&password, &admin).map_err(anyhow::Error::msg)?;
                    let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
                    let unit = UnitId::new(&id)?;
                    store.add_unit(&unit, &county, None)?;
                    store.add_user(&admin, &hash, Role::Admin, &unit)?;
                    // The reference data: the default assessment rules, no campaign yet.
                    lianxin_server::reference::change(&store, now_ms(), "created", |_, _| Ok(()))?;
                    println!(
                        "{county} ({id}) set up; administrator {admin}. Next: units (`admin unit add`), users (`admin user add`), https (`admin tls init`)"
                    );
                }
                Admin::Tls(TlsCommand::Init { county, name, ip }) => {
                    let issued = lianxin_server::tls::init(&data, &county, &name, &ip, now_ms())?;
                    println!(
                        "CA certificate (install on tablets): {}",
                        issued.ca_cert.display()
                    );
                    println!("server certificate: {}", issued.cert.display());
                    println!("server key: {}", issued.key.display());
                    println!("server key SHA-256 (SPKI, base64): {}", issued.spki_sha256);
                    println!(
                        "serve with: lianxin serve --data {} --tls-cert {} --tls-key {}",
                        data.display(),
                        issued.cert.display(),
                        issued.key.display()
                    );
                }
                Admin::Device(DeviceAdmin::List) => {
                    let day = |ms: i64| Date::from_unix_ms_china(ms).to_string();
                    for d in store.devices(now_ms())? {
                        println!(
                            "{}\t{}\t{}\tregistered {}\tlast seen {}\t{} live sessions{}",
                            d.actor,
                            d.username,
                            d.name,
                            day(d.created_at),
                            d.last_seen.map(day).unwrap_or_else(|| "-".into()),
                            d.live_sessions,
                            d.revoked_at
                                .map(|at| format!("\trevoked {}", day(at)))
                                .unwrap_or_default()
                        );
                    }
                }
                Admin::Case(CaseAdmin::Unshare { id, unit }) => {
                    let doc: lianxin_shared::DocId = id.parse()?;
                    let unit = UnitId::new(&unit)?;
                    store.unshare(&doc, &unit, now_ms())?;
                    println!(
                        "case {id} is no longer shared with {unit}; its devices drop it at their next sync"
                    );
                }
                Admin::Device(DeviceAdmin::Revoke { actor }) => {
                    let full = store.revoke_device(&actor, now_ms())?;
                    println!("revoked {full}: its sessions have ended and its key is refused");
                }
                Admin::Import {
                    file,
                    unit,
                    dry_run,
                    map,
                } => office_cli::admin_import(&store, &file, &unit, dry_run, &map)?,
                Admin::Reference(command) => office_cli::reference(&store, command)?,
                Admin::Report(command) => {
                    let ask = office_cli::ask(&command, Date::from_unix_ms_china(now_ms()))?;
                    office_cli::print(
                        &lianxin_server::reports::from_store(&store)?,
                        &command,
                        &ask,
                    )?;
                }
                Admin::References { year, next } => {
                    store.set_reference_floor(year, next)?;
                    println!("tablets number the cases of {year} from {next} up");
                }
                Admin::LedgerLog => {
                    for e in store.ledger_log()? {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{} rows\t(device time {})",
                            e.at, e.user, e.actor, e.action, e.what, e.rows, e.device_at
                        );
                    }
                }
                Admin::Quarantine => {
                    for (id, at, user, doc, reason, size) in store.quarantined()? {
                        println!("{id}\t{at}\t{user}\t{doc}\t{size} bytes\t{reason}");
                    }
                    for (user, refused, bytes) in store.quarantine_overflow()? {
                        println!(
                            "-\t-\t{user}\t-\t{bytes} bytes\t{refused} more refused and only counted: this user's quarantine is full"
                        );
                    }
                }
            }
            Ok(())
        }
        Command::Device { home, command } => {
            let mut device = Device::open(&home)?;
            let now = now_ms();
            match command {
                DeviceCommand::Login {
                    server,
                    username,
                    ca,
                } => {
                    if let Some(ca) = ca {
                        device.trust_ca(&ca)?;
                    }
                    let login = device.login(&server, &username, &read_password()?)?;
                    println!(
                        "logged in as {} ({}); units {}",
                        login.username,
                        login.role,
                        login.units.join(", ")
                    );
                }
                DeviceCommand::Sync => {
                    let report = runtime()?.block_on(device.sync())?;
                    println!(
                        "synced: sent {} frames ({} bytes), received {} frames ({} bytes), stored {} documents in {} ms",
                        report.frames_sent,
                        report.bytes_sent,
                        report.frames_received,
                        report.bytes_received,
                        report.documents_stored,
                        report.millis
                    );
                    if !report.refused.is_empty() {
                        for (doc, reason) in &report.refused {
                            eprintln!("refused: case {doc}: {reason}");
                        }
                        anyhow::bail!(
                            "the server refused {} change(s); they are kept on this device",
                            report.refused.len()
                        );
                    }
                }
                DeviceCommand::Case(CaseCommand::New {
                    unit,
                    channel,
                    summary,
                }) => {
                    println!("{}", device.new_case(&unit, &channel, &summary, now)?);
                }
                DeviceCommand::Case(CaseCommand::Set { id, field, value }) => {
                    device.set(&id, &field, &value, now)?
                }
                DeviceCommand::Case(CaseCommand::History { id }) => {
                    let history = device.history(&id)?;
                    for e in history["entries"].as_array().into_iter().flatten() {
                        let at = e["received_at"].as_i64().unwrap_or(0);
                        let when = format!(
                            "{} {:02}:{:02}",
                            Date::from_unix_ms_china(at),
                            (at / 3_600_000 + 8) % 24,
                            at / 60_000 % 60
                        );
                        let what: Vec<&str> = e["what"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|w| w.as_str())
                            .collect();
                        let device_id = e["device"].as_str().unwrap_or("");
                        let short = device_id.get(..8).unwrap_or(device_id);
                        match e["refused"].as_str() {
                            Some(reason) => println!(
                                "{when}\t{}\t{short} {}\tREFUSED: {reason}",
                                e["user"].as_str().unwrap_or(""),
                                e["device_name"].as_str().unwrap_or("")
                            ),
                            None => println!(
                                "{when}\t#{}\t{}\t{short} {}\t{}",
                                e["seq"],
                                e["user"].as_str().unwrap_or(""),
                                e["device_name"].as_str().unwrap_or(""),
                                what.join(", ")
                            ),
                        }
                    }
                }
                DeviceCommand::Case(CaseCommand::Note { id, text }) => {
                    device.note(&id, &text, now)?
                }
                DeviceCommand::Case(CaseCommand::FollowUp { id, text }) => {
                    println!("{}", device.follow_up(&id, &text, now)?);
                }
                DeviceCommand::Case(CaseCommand::Campaign { id, campaign, off }) => {
                    let campaign = lianxin_shared::EntryId::parse(&campaign)?;
                    device.edit_case(&id, now, |c, ed| c.set_campaign(ed, &campaign, !off))?;
                }
                DeviceCommand::Case(CaseCommand::Petitioner {
                    id,
                    name,
                    id_number,
                    phone,
                    address,
                }) => {
                    let details = [id_number, phone, address];
                    println!("{}", device.add_petitioner(&id, &name, details, now)?);
                }
                DeviceCommand::Case(CaseCommand::Step {
                    id,
                    kind,
                    on,
                    reason,
                    outcome,
                }) => {
                    let kind = StepKind::parse(&kind)?;
                    let on: Date = match on {
                        Some(text) => text.parse()?,
                        None => Date::from_unix_ms_china(now),
                    };
                    let draft = StepDraft {
                        kind,
                        on,
                        reason,
                        outcome,
                    };
                    println!("{}", device.step(&id, &draft, now)?);
                }
                DeviceCommand::Dispute(command) => {
                    let day = |on: Option<String>| -> anyhow::Result<Date> {
                        Ok(match on {
                            Some(text) => text.parse()?,
                            None => Date::from_unix_ms_china(now),
                        })
                    };
                    match command {
                        DisputeCommand::New {
                            unit,
                            committee,
                            summary,
                        } => println!("{}", device.new_dispute(&unit, &committee, &summary, now)?),
                        DisputeCommand::Set { id, field, value } => {
                            device.edit_dispute(&id, now, |d, ed| {
                                if field == "agreement" {
                                    d.set_agreement(&value, ed)
                                } else {
                                    d.set(&field, &value, ed)
                                }
                            })?
                        }
                        DisputeCommand::Party {
                            id,
                            name,
                            role,
                            phone,
                        } => println!(
                            "{}",
                            device.edit_dispute(&id, now, |d, ed| {
                                d.add_party(ed, &name, role.as_deref(), phone.as_deref())
                            })?
                        ),
                        DisputeCommand::Session {
                            id,
                            text,
                            mediator,
                            on,
                        } => {
                            let on = day(on)?;
                            println!(
                                "{}",
                                device.edit_dispute(&id, now, |d, ed| d
                                    .add_session(ed, on, &mediator, &text))?
                            )
                        }
                        DisputeCommand::Escalate { id, reason, on } => {
                            let on = day(on)?;
                            println!(
                                "{}",
                                device
                                    .edit_dispute(&id, now, |d, ed| d.escalate(ed, on, &reason))?
                            )
                        }
                        DisputeCommand::ToCase { id } => {
                            println!("{}", device.dispute_to_case(&id, now)?)
                        }
                    }
                }
                DeviceCommand::Report(command) => {
                    let ask = office_cli::ask(&command, Date::from_unix_ms_china(now))?;
                    office_cli::print(&device.caseload()?, &command, &ask)?;
                }
                DeviceCommand::Ledger { file, today } => {
                    let today: Date = match today {
                        Some(text) => text.parse()?,
                        None => Date::from_unix_ms_china(now),
                    };
                    let rows = device.export_ledger(&file, today, now)?;
                    println!("{rows} rows written to {}", file.display());
                }
                DeviceCommand::Import {
                    file,
                    unit,
                    dry_run,
                    map,
                } => office_cli::import(&mut device, &file, &unit, dry_run, &map, now)?,
                DeviceCommand::Export { today } => {
                    let today: Date = match today {
                        Some(text) => text.parse()?,
                        None => Date::from_unix_ms_china(now),
                    };
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&device.export_as_of(today)?)?
                    );
                }
            }
            Ok(())
        }
    }
}
