//! The command-line device: what a tablet does, for scripts and tests.
//!
//! A device lives in a home directory holding one SQLite file: its session (server, token,
//! units), its Automerge actor, its cursor, and every document it holds with the sync state
//! kept for each. Every edit works offline; [`Device::sync`] sends and receives.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automerge::ActorId;
use futures_util::{SinkExt, StreamExt};
use lianxin_shared::{
    AnyDoc, CaseDoc, CaseDraft, Channel, Date, DeviceSession, DocId, Editor, Field, FollowUpDraft,
    OptionCode, Replica, StepDraft, UnitId, rules,
};
use std::collections::{HashMap, HashSet, hash_map::Entry};

use rusqlite::{Connection, OptionalExtension, params};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, protocol::Message};

use crate::LoginResponse;

mod disputes;
mod http;
mod ledger;
mod people;
pub use lianxin_shared::ledger::ImportReport;
mod trace;
use trace::{describe_client, describe_server};

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("device storage: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error(transparent)]
    Case(#[from] lianxin_shared::Error),
    #[error("not logged in: run `lianxin device --home DIR login SERVER_URL USERNAME` first")]
    NotLoggedIn,
    #[error("no case {0} on this device")]
    NoSuchCase(String),
    #[error("unit {0} is not one this user may record cases for (yours: {1})")]
    UnitNotYours(String, String),
    #[error("login failed: {0}")]
    Login(String),
    #[error("server unreachable: {0}")]
    Unreachable(String),
    #[error("the server ended this session ({0}); log in again")]
    SessionEnded(String),
    #[error("sync: {0}")]
    Sync(String),
    #[error("refused: {0}")]
    Forbidden(String),
}

pub type Result<T> = std::result::Result<T, DeviceError>;

/// Figures of one sync, for people and for the benchmark.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SyncReport {
    pub frames_sent: usize,
    pub frames_received: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub documents_stored: usize,
    pub refused: Vec<(String, String)>,
    /// Documents dropped: taken away from this user's units.
    pub dropped: usize,
    /// Documents pushed (changes since the confirmed heads), and of them those the server did
    /// not know the heads of, synced the full way instead.
    pub pushes: u64,
    pub full_way: usize,
    pub millis: u128,
}

pub struct Device {
    conn: Connection,
    actor: ActorId,
    home: PathBuf,
    /// Sessions open as the app's do, asking for rows (kept nowhere here: no list).
    with_rows: bool,
}

struct Login {
    server: String,
    token: String,
    username: String,
    visible: Vec<String>,
}

impl Device {
    /// Opens the device in `home`, creating it (and its actor id) the first time.
    pub fn open(home: &Path) -> Result<Device> {
        std::fs::create_dir_all(home)
            .map_err(|e| DeviceError::Sync(format!("cannot create {}: {e}", home.display())))?;
        let conn = Connection::open(home.join("device.sqlite"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, doc BLOB NOT NULL, state BLOB NOT NULL);",
        )?;
        // `pending`: the server has not confirmed everything in this document, so the next
        // sync sends it. A reconnect reads only these rows, not the whole caseload.
        let has_pending: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('docs') WHERE name = 'pending'")?
            .exists([])?;
        if !has_pending {
            conn.execute_batch(
                "ALTER TABLE docs ADD COLUMN pending INTEGER NOT NULL DEFAULT 1;
                 CREATE INDEX docs_pending ON docs (id) WHERE pending = 1;",
            )?;
        }
        let actor: Option<String> = conn
            .query_row("SELECT value FROM config WHERE key = 'actor'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let actor = match actor.and_then(|a| ActorId::try_from(a.as_str()).ok()) {
            Some(a) => a,
            None => {
                let a = ActorId::random();
                conn.execute(
                    "INSERT OR REPLACE INTO config VALUES ('actor', ?1)",
                    [a.to_hex_string()],
                )?;
                a
            }
        };
        Ok(Device {
            conn,
            actor,
            home: home.to_path_buf(),
            with_rows: false,
        })
    }

    /// Sessions open as the app's do (`Open` with rows): what sync-bench measures.
    pub fn open_with_rows(&mut self) {
        self.with_rows = true;
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    fn config(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM config WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_config(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO config VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    fn login_info(&self) -> Result<Login> {
        let get = |k| {
            self.config(k)
                .and_then(|v| v.ok_or(DeviceError::NotLoggedIn))
        };
        Ok(Login {
            server: get("server")?,
            token: get("token")?,
            username: get("username")?,
            visible: serde_json::from_str(&get("visible_units")?).unwrap_or_default(),
        })
    }

    /// An HTTP client that answers every status, trusting the office CA if one was given.
    fn agent(&self) -> Result<ureq::Agent> {
        let mut config = ureq::Agent::config_builder().http_status_as_error(false);
        if let Some(ca) = self.config("ca")? {
            let pem = std::fs::read(&ca).map_err(|e| {
                DeviceError::Unreachable(format!("cannot read the CA certificate {ca}: {e}"))
            })?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect::<Vec<_>>();
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(std::sync::Arc::new(certs)))
                    .build(),
            );
        }
        Ok(config.build().into())
    }

    /// Trusts exactly the office CA certificate in `ca` (PEM) for https and wss from now on.
    pub fn trust_ca(&mut self, ca: &Path) -> Result<()> {
        let ca = ca.canonicalize().map_err(|e| {
            DeviceError::Login(format!(
                "cannot read the CA certificate {}: {e}",
                ca.display()
            ))
        })?;
        self.set_config("ca", &ca.display().to_string())
    }

    /// Logs in (blocking HTTP) and registers this device's actor with the server.
    pub fn login(&mut self, server: &str, username: &str, password: &str) -> Result<LoginResponse> {
        let server = server.trim_end_matches('/').to_string();
        let request = crate::LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
            actor: self.actor.to_hex_string(),
            device_name: format!("cli:{}", self.home.display()),
        };
        let agent = self.agent()?;
        // A server busy with other sign-ins answers 503 at once; try again a few times, a
        // little later each time.
        let mut wait = std::time::Duration::from_millis(100);
        let mut resp = loop {
            let resp = agent
                .post(&format!("{server}/api/login"))
                .send_json(&request)
                .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
            if resp.status().as_u16() != 503 || wait > std::time::Duration::from_secs(5) {
                break resp;
            }
            std::thread::sleep(wait);
            wait *= 2;
        };
        let status = resp.status();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| DeviceError::Login(e.to_string()))?;
        if !status.is_success() {
            let reason = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
                .unwrap_or(body);
            return Err(DeviceError::Login(format!(
                "{reason} (HTTP {})",
                status.as_u16()
            )));
        }
        let login: LoginResponse =
            serde_json::from_str(&body).map_err(|e| DeviceError::Login(e.to_string()))?;
        if let Some(previous) = self.config("username")? {
            if previous != login.username {
                return Err(DeviceError::Login(format!(
                    "this device holds {previous}'s caseload; use another home directory for {}",
                    login.username
                )));
            }
        }
        let visible = serde_json::to_string(&login.visible_units).unwrap_or_default();
        if self
            .config("visible_units")?
            .is_some_and(|before| before != visible)
        {
            // The user's units changed: cases that were always there may now be visible, and
            // the cursor says nothing about them. Start over (the server then sends every visible
            // case again whole; merging a copy already here changes nothing). Rare and correct.
            self.set_config("cursor", "0")?;
        }
        self.set_config("server", &server)?;
        self.set_config("token", &login.token)?;
        self.set_config("username", &login.username)?;
        self.set_config("role", &login.role)?;
        self.set_config(
            "visible_units",
            &serde_json::to_string(&login.visible_units).unwrap_or_default(),
        )?;
        self.set_config(
            "directory",
            &serde_json::to_string(&login.directory).unwrap_or_default(),
        )?;
        self.set_config(
            "calendar",
            &serde_json::to_string(&login.calendar).unwrap_or_default(),
        )?;
        Ok(login)
    }

    fn editor(&self, now: i64) -> Result<Editor> {
        Ok(Editor::new(&self.login_info()?.username, now))
    }

    // Documents.

    fn replica(&self, id: &DocId) -> Result<Option<Replica>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT doc, state FROM docs WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            None => Ok(None),
            Some((doc, state)) => Ok(Some(Replica::restore(
                &doc,
                Some(&state),
                self.actor.clone(),
            )?)),
        }
    }

    fn store_replica(&self, id: &DocId, replica: &mut Replica) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO docs (id, doc, state, pending) VALUES (?1, ?2, ?3, ?4)",
            params![
                id.to_string(),
                replica.doc.save(),
                replica.state_bytes(),
                !replica.is_confirmed()
            ],
        )?;
        Ok(())
    }

    fn doc_ids(&self) -> Result<Vec<DocId>> {
        self.ids_where("1")
    }

    /// What the changes this device made since the server last confirmed each document take,
    /// in bytes as they travel (Automerge's change chunks): the least a sync must send.
    pub fn unsent_change_bytes(&self) -> Result<usize> {
        let mut total = 0;
        for id in self.pending_ids()? {
            if let Some(mut replica) = self.replica(&id)? {
                let since = replica.state.shared_heads.clone();
                total += replica
                    .doc
                    .get_changes(&since)
                    .into_iter()
                    .map(|mut c| c.bytes().len())
                    .sum::<usize>();
            }
        }
        Ok(total)
    }

    /// Documents the server has not confirmed yet.
    fn pending_ids(&self) -> Result<Vec<DocId>> {
        self.ids_where("pending = 1")
    }

    fn ids_where(&self, condition: &str) -> Result<Vec<DocId>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id FROM docs WHERE {condition} ORDER BY id"
        ))?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for id in ids {
            out.push(id?.parse()?);
        }
        Ok(out)
    }

    fn edit<T>(&mut self, id: &str, f: impl FnOnce(&mut CaseDoc) -> Result<T>) -> Result<T> {
        self.edit_doc(id, CaseDoc::from_doc, CaseDoc::into_doc, f)
    }

    /// Loads a stored document as `W` (a case or a dispute), applies `f`, stores it back.
    fn edit_doc<W, T>(
        &mut self,
        id: &str,
        wrap: impl FnOnce(automerge::AutoCommit) -> std::result::Result<W, lianxin_shared::Error>,
        unwrap: impl FnOnce(W) -> automerge::AutoCommit,
        f: impl FnOnce(&mut W) -> Result<T>,
    ) -> Result<T> {
        let doc_id: DocId = id
            .parse()
            .map_err(|_| DeviceError::NoSuchCase(id.to_string()))?;
        let mut replica = self
            .replica(&doc_id)?
            .ok_or_else(|| DeviceError::NoSuchCase(id.to_string()))?;
        let mut doc = wrap(replica.doc)?;
        let out = f(&mut doc)?;
        replica.doc = unwrap(doc);
        self.store_replica(&doc_id, &mut replica)?;
        Ok(out)
    }

    /// A unit this device's user may record documents for.
    fn own_unit(&self, unit: &str) -> Result<UnitId> {
        let login = self.login_info()?;
        let unit = UnitId::new(unit)?;
        if !login.visible.iter().any(|u| u == unit.as_str()) {
            return Err(DeviceError::UnitNotYours(
                unit.to_string(),
                login.visible.join(", "),
            ));
        }
        Ok(unit)
    }

    pub fn new_case(
        &mut self,
        unit: &str,
        channel: &str,
        summary: &str,
        now: i64,
    ) -> Result<DocId> {
        let unit = self.own_unit(unit)?;
        let channel = Channel::parse(channel)?;
        if summary.trim().is_empty() {
            return Err(lianxin_shared::Error::InvalidValue {
                field: "summary".into(),
                value: summary.into(),
                reason: "a case needs a summary".into(),
            }
            .into());
        }
        let others = self.handling_others(&unit, None)?;
        let draft = CaseDraft::new(unit, channel, summary);
        let (case, details) =
            CaseDoc::create_with_details(&draft, &others, &self.editor(now)?, self.actor.clone());
        let mut replica = Replica::new(case.into_doc());
        self.store_replica(&draft.id, &mut replica)?;
        let mut replica = Replica::new(details.into_doc());
        self.store_replica(&DocId::details_of(&draft.id), &mut replica)?;
        Ok(draft.id)
    }

    /// How many documents this device holds (cases, their details, disputes, reception days).
    pub fn doc_count(&self) -> Result<usize> {
        Ok(self.doc_ids()?.len())
    }

    pub fn set(&mut self, id: &str, field: &str, value: &str, now: i64) -> Result<()> {
        let editor = self.editor(now)?;
        if field == "summary" {
            return self.edit(id, |c| Ok(c.set_summary(value, &editor)?));
        }
        let field = Field::parse(field)?;
        if field == Field::ResponsibleUnit {
            let units = self.directory()?;
            if !units.iter().any(|u| u.id == value) {
                return Err(lianxin_shared::Error::InvalidValue {
                    field: field.name().into(),
                    value: value.into(),
                    reason: "no such unit in the unit directory".into(),
                }
                .into());
            }
            // The new responsible unit handles the case: it gets the personal details too.
            let case_id: DocId = id
                .parse()
                .map_err(|_| DeviceError::NoSuchCase(id.to_string()))?;
            if let Some((mut replica, mut details)) = self.details(&case_id)? {
                details.share(&editor, &UnitId::new(value)?)?;
                replica.doc = details.into_doc();
                self.store_replica(&DocId::details_of(&case_id), &mut replica)?;
            }
        }
        self.edit(id, |c| Ok(c.set(field, value, &editor)?))
    }

    pub fn note(&mut self, id: &str, text: &str, now: i64) -> Result<()> {
        let editor = self.editor(now)?;
        self.edit(id, |c| Ok(c.append_note(&editor, text)?))
    }

    pub fn follow_up(&mut self, id: &str, text: &str, now: i64) -> Result<String> {
        let editor = self.editor(now)?;
        let draft = FollowUpDraft {
            text: text.to_string(),
            ..Default::default()
        };
        self.edit(id, |c| Ok(c.add_follow_up(&editor, &draft)?.to_string()))
    }

    // Mediation disputes.

    /// Edits a case with `f` (any [`CaseDoc`] edit: petitioners, evaluations, plans), stored
    /// at once.
    pub fn edit_case<T>(
        &mut self,
        id: &str,
        now: i64,
        f: impl FnOnce(&mut CaseDoc, &Editor) -> std::result::Result<T, lianxin_shared::Error>,
    ) -> Result<T> {
        let editor = self.editor(now)?;
        self.edit(id, |c| Ok(f(c, &editor)?))
    }

    pub fn step(&mut self, id: &str, draft: &StepDraft, now: i64) -> Result<String> {
        let editor = self.editor(now)?;
        self.edit(id, |c| Ok(c.add_step(&editor, draft)?.to_string()))
    }

    /// The device's whole caseload, as documented in docs/export-format.md, without the
    /// derived lifecycle (which depends on the day).
    pub fn export(&self) -> Result<serde_json::Value> {
        self.export_inner(None)
    }

    /// The caseload with each case's derived state, current deadline and colour as of `today`
    /// (default limits; the holiday calendar the server gave at the last login).
    pub fn export_as_of(&self, today: Date) -> Result<serde_json::Value> {
        self.export_inner(Some(today))
    }

    fn export_inner(&self, today: Option<Date>) -> Result<serde_json::Value> {
        let limits = rules::Limits::default();
        let calendar: rules::Calendar = self
            .config("calendar")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default();
        let (mut cases, mut disputes, mut receptions) = (Vec::new(), Vec::new(), Vec::new());
        for id in self.doc_ids()? {
            let Some(mut replica) = self.replica(&id)? else {
                continue;
            };
            let synced = replica.is_confirmed();
            let doc = AnyDoc::open(replica.doc)?;
            let mut value = doc.to_json()?;
            value["id"] = id.to_string().into();
            value["synced"] = synced.into();
            let case = match doc {
                AnyDoc::Case(case) => {
                    // In full where this device has the details (a handling unit's).
                    let mut case = case.read()?;
                    if let Some((_, details)) = self.details(&id)? {
                        case.with_details(&details.read()?);
                        value["petitioners"] = serde_json::to_value(&case.petitioners)
                            .map_err(|e| lianxin_shared::Error::Protocol(e.to_string()))?;
                    }
                    case
                }
                AnyDoc::Dispute(_) => {
                    disputes.push(value);
                    continue;
                }
                AnyDoc::Reception(_) => {
                    receptions.push(value);
                    continue;
                }
                // Shown within their case; the reference data is not the caseload.
                AnyDoc::Details(_) | AnyDoc::Reference(_) => continue,
            };
            if let Some(today) = today {
                let received = case.received();
                let life = rules::lifecycle(&case.live_steps(), received, &limits, &calendar);
                let colour = rules::colour(&life, today, &limits);
                value["lifecycle"] = serde_json::json!({
                    "state": life.state,
                    "state_zh": life.state.zh(),
                    "deadline": life.deadline,
                    "colour": colour,
                    "colour_zh": colour.zh(),
                    "extended": life.extended,
                    "same_day": rules::same_day(&case.live_steps(), case.channel.known(), case.level.known()),
                    "irregularities": life.irregularities,
                    "route": rules::route(case.matter_kind.known(), case.category.known()),
                });
            }
            cases.push(value);
        }
        Ok(serde_json::json!({
            "format": "lianxin-device-export/1",
            "username": self.config("username")?,
            "device": self.actor.to_hex_string(),
            "cursor": self.cursor()?,
            "today": today,
            "cases": cases,
            "disputes": disputes,
            "receptions": receptions,
        }))
    }

    fn cursor(&self) -> Result<u64> {
        Ok(self
            .config("cursor")?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    /// Sends what this device has that the server lacks and receives what it may see, until
    /// both sides are in sync.
    pub async fn sync(&mut self) -> Result<SyncReport> {
        let started = Instant::now();
        let login = self.login_info()?;
        // Ledger exports and imports made offline are recorded first.
        self.flush_ledger_reports()?;
        // http → ws, https → wss.
        let url = format!("{}/api/sync", login.server.replacen("http", "ws", 1));
        let connector = match self.config("ca")? {
            Some(ca) => Some(tokio_tungstenite::Connector::Rustls(
                crate::tls::client_config(std::path::Path::new(&ca))
                    .map_err(|e| DeviceError::Unreachable(e.to_string()))?,
            )),
            None => None,
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let auth = format!("Bearer {}", login.token)
            .parse()
            .map_err(|_| DeviceError::NotLoggedIn)?;
        request.headers_mut().insert("authorization", auth);
        let (socket, _) =
            match tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector)
                .await
            {
                Ok(ok) => ok,
                Err(tungstenite::Error::Http(resp)) if resp.status() == 401 => {
                    let body = resp
                        .body()
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).to_string())
                        .unwrap_or_default();
                    return Err(DeviceError::SessionEnded(body));
                }
                Err(e) => return Err(DeviceError::Unreachable(e.to_string())),
            };
        let (mut tx, mut rx) = socket.split();
        let trace = std::env::var_os("LIANXIN_TRACE").is_some();
        let mut report = SyncReport::default();
        let (mut session, hello) = if self.with_rows {
            DeviceSession::open(self.cursor()?)
        } else {
            DeviceSession::hello(self.cursor()?)
        };
        let mut outgoing = vec![hello];
        // Replicas in play this session, with their full in-memory sync state (the stored
        // state keeps only what is worth keeping across connections).
        let mut live: HashMap<DocId, Replica> = HashMap::new();
        let mut stored: HashSet<DocId> = HashSet::new();
        for id in self.pending_ids()? {
            if let Some(mut replica) = self.replica(&id)? {
                if !replica.is_confirmed() {
                    session.push(id, &mut replica);
                    self.store_replica(&id, &mut replica)?;
                    live.insert(id, replica);
                }
            }
        }
        outgoing.extend(session.take_frames());
        loop {
            for frame in outgoing.drain(..) {
                if trace {
                    eprintln!("{} → {}", self.actor, describe_client(&frame));
                }
                report.frames_sent += 1;
                report.bytes_sent += frame.len();
                tx.send(Message::Binary(frame.into()))
                    .await
                    .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
            }
            if session.is_settled() {
                break;
            }
            let frame = match tokio::time::timeout(Duration::from_secs(120), rx.next()).await {
                Err(_) => return Err(DeviceError::Sync("the server stopped answering".into())),
                Ok(None) => return Err(DeviceError::Unreachable("connection closed".into())),
                Ok(Some(Err(e))) => return Err(DeviceError::Unreachable(e.to_string())),
                Ok(Some(Ok(Message::Binary(b)))) => b,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    return Err(DeviceError::Sync(format!(
                        "the server closed the connection: {reason}"
                    )));
                }
                Ok(Some(Ok(_))) => continue,
            };
            if trace {
                eprintln!("{} ← {}", self.actor, describe_server(&frame));
            }
            report.frames_received += 1;
            report.bytes_received += frame.len();
            let tasks = match session.receive(&frame) {
                Ok(t) => t,
                Err(lianxin_shared::Error::SessionEnded(reason)) => {
                    return Err(DeviceError::SessionEnded(reason));
                }
                Err(e) => return Err(DeviceError::Sync(e.to_string())),
            };
            let tx_db = self.conn.unchecked_transaction()?;
            for task in tasks {
                let id = task.doc();
                if let lianxin_shared::Task::Gone { .. } = task {
                    // Taken away from this user's units: not kept on this device.
                    session.handle(&task, &mut Replica::empty(self.actor.clone()))?;
                    live.remove(&id);
                    tx_db.execute("DELETE FROM docs WHERE id = ?1", [id.to_string()])?;
                    report.dropped += 1;
                    continue;
                }
                let replica = match live.entry(id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let r = self
                            .replica(&id)?
                            .unwrap_or_else(|| Replica::empty(self.actor.clone()));
                        e.insert(r)
                    }
                };
                if session.handle(&task, replica)? {
                    self.store_replica(&id, replica)?;
                    stored.insert(id);
                }
                // A document taken whole or found already in step has nothing in flight; keep
                // only documents mid-conversation in memory (a first sync brings thousands).
                if matches!(
                    task,
                    lianxin_shared::Task::Snapshot { .. }
                        | lianxin_shared::Task::Changed { .. }
                        | lianxin_shared::Task::Since { .. }
                ) && replica.is_confirmed()
                {
                    live.remove(&id);
                }
            }
            tx_db.commit()?;
            outgoing.extend(session.take_frames());
        }
        self.set_config("cursor", &session.cursor().to_string())?;
        report.documents_stored = stored.len();
        report.pushes = session.pushes();
        report.full_way = session.full_way();
        report.refused = session
            .refused()
            .iter()
            .map(|(d, r)| (d.to_string(), r.clone()))
            .collect();
        let _ = tx.send(Message::Close(None)).await;
        report.millis = started.elapsed().as_millis();
        Ok(report)
    }
}
