//! A deterministic simulation of the whole sync protocol: several devices editing every kind of
//! document, the server's real session code ([`ServerSession`] over a [`Hub`]) on an in-memory
//! store that keeps only what was committed, and a network whose schedule a seed decides: frames
//! delayed and interleaved across connections, client frames duplicated, connections cut with
//! frames in flight, and server crashes — some in the middle of a commit — that lose every
//! session and everything not committed.
//!
//! After the storm the network heals, and then: every replica is identical to the server's,
//! every change a device ever saw acknowledged is stored, every device is fully confirmed, and
//! no conversation ever ran past its round guard.
//!
//! `SIM_SEEDS=100000 cargo test --release -p lianxin-server --test simulation` runs a longer
//! storm; a failing seed is printed and `SIM_SEED=n` replays just that one.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use automerge::{ActorId, AutoCommit, ChangeHash};
use lianxin_server::hub::{DocStore, Hub, Notice, ServerSession};
use lianxin_server::store::{ChangedDoc, Role, Session, StoreError};
use lianxin_shared::protocol::{self, ServerMessage, Unit};
use lianxin_shared::{
    AnyDoc, CaseDoc, CaseDraft, Channel, Committee, DeviceSession, DisputeDoc, DisputeDraft, DocId,
    Editor, FollowUpDraft, MatterDraft, MediationKind, MediationLevel, ReceivedOutcome,
    ReceptionDoc, ReceptionDraft, Replica, Satisfaction, StepDraft, StepKind, Task, UnitId,
};

/// What the store has committed; a crash loses nothing of it.
#[derive(Default)]
struct Mem {
    seq: u64,
    docs: BTreeMap<DocId, MemDoc>,
    /// The next append fails as if the process died before its commit.
    crash_next_append: bool,
    crashed: bool,
}

struct MemDoc {
    seq: u64,
    created_seq: u64,
    snapshot: Vec<u8>,
    /// Appended changes with the sequence number and the device they came with.
    changes: Vec<(u64, Option<String>, Vec<u8>)>,
    snapshot_seq: u64,
    units: BTreeSet<UnitId>,
    access: lianxin_shared::Access,
    heads: Vec<[u8; 32]>,
    by: Option<String>,
}

#[derive(Default)]
struct MemStore(Mutex<Mem>);

impl DocStore for MemStore {
    fn seq(&self) -> Result<u64, StoreError> {
        Ok(self.0.lock().unwrap().seq)
    }
    fn load_doc(&self, id: &DocId) -> Result<Option<(Vec<u8>, Vec<UnitId>, usize)>, StoreError> {
        let m = self.0.lock().unwrap();
        Ok(m.docs.get(id).map(|d| {
            let mut bytes = d.snapshot.clone();
            for (_, _, c) in &d.changes {
                bytes.extend(c);
            }
            (bytes, d.units.iter().cloned().collect(), d.changes.len())
        }))
    }
    fn append_changes(
        &self,
        id: &DocId,
        units: &[UnitId],
        access: lianxin_shared::Access,
        changes: &[Vec<u8>],
        heads: &[[u8; 32]],
        snapshot: Option<&[u8]>,
        _received: Option<&lianxin_server::store::Received>,
        _expect: lianxin_server::store::Expect,
    ) -> Result<u64, StoreError> {
        let mut m = self.0.lock().unwrap();
        if m.crash_next_append {
            m.crash_next_append = false;
            m.crashed = true;
            return Err(StoreError::Invalid(
                "the server died before committing".into(),
            ));
        }
        m.seq += 1;
        let seq = m.seq;
        let d = m.docs.entry(*id).or_insert_with(|| MemDoc {
            seq,
            created_seq: seq,
            snapshot: Vec::new(),
            changes: Vec::new(),
            snapshot_seq: seq,
            units: BTreeSet::new(),
            access,
            heads: Vec::new(),
            by: None,
        });
        d.seq = seq;
        d.by = _received.map(|r| r.actor.to_string());
        d.heads = heads.to_vec();
        d.units.extend(units.iter().cloned());
        match snapshot {
            Some(s) => {
                d.snapshot = s.to_vec();
                d.snapshot_seq = seq;
                d.changes.clear();
            }
            None => {
                let by = d.by.clone();
                d.changes
                    .extend(changes.iter().map(|c| (seq, by.clone(), c.clone())))
            }
        }
        Ok(seq)
    }
    fn changed_since(
        &self,
        cursor: u64,
        scope: &lianxin_server::hub::Scope,
    ) -> Result<Vec<ChangedDoc>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut out: Vec<(u64, ChangedDoc)> = m
            .docs
            .iter()
            .filter(|(_, d)| {
                let units: Vec<UnitId> = d.units.iter().cloned().collect();
                d.seq > cursor && scope.admits(d.access, &units)
            })
            .map(|(id, d)| {
                (
                    d.seq,
                    ChangedDoc {
                        id: *id,
                        created_seq: d.created_seq,
                        heads: d.heads.clone(),
                        by: d.by.clone(),
                        snapshot_seq: Some(d.snapshot_seq),
                    },
                )
            })
            .collect();
        out.sort_by_key(|(seq, _)| *seq);
        Ok(out.into_iter().map(|(_, d)| d).collect())
    }
    fn changes_after(
        &self,
        ids: &[DocId],
        cursor: u64,
        actor: &str,
    ) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        let m = self.0.lock().unwrap();
        let mut out = Vec::new();
        for id in ids {
            if let Some(d) = m.docs.get(id) {
                for (seq, by, bytes) in &d.changes {
                    if *seq > cursor && by.as_deref() != Some(actor) {
                        out.push((*id, bytes.clone()));
                    }
                }
            }
        }
        Ok(out)
    }
    fn quarantine(
        &self,
        _username: &str,
        _actor: &str,
        _doc: &str,
        _reason: &str,
        _bytes: &[u8],
        _now: i64,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in out.iter_mut() {
            *b = self.next() as u8;
        }
        out
    }
}

struct Conn {
    session: DeviceSession,
    server: ServerSession<MemStore>,
    to_server: VecDeque<Vec<u8>>,
    to_device: VecDeque<Vec<u8>>,
}

struct SimDevice {
    username: &'static str,
    actor: ActorId,
    replicas: HashMap<DocId, Replica>,
    cursor: u64,
    conn: Option<Conn>,
    /// Every set of heads the server confirmed to this device, per document.
    confirmed: Vec<(DocId, Vec<ChangeHash>)>,
    edits: usize,
}

struct World {
    rng: Rng,
    now: i64,
    store: Arc<MemStore>,
    hub: Arc<Hub<MemStore>>,
    notices: Arc<Mutex<Vec<Notice>>>,
    devices: Vec<SimDevice>,
    directory: Vec<Unit>,
    next_session: u64,
    /// Refusals and guard trips seen, with the device and document.
    refused: Vec<(usize, DocId, String)>,
    crashes: usize,
    log: Vec<String>,
}

fn new_hub(store: &Arc<MemStore>, notices: &Arc<Mutex<Vec<Notice>>>) -> Arc<Hub<MemStore>> {
    let sink = notices.clone();
    Arc::new(Hub::new(store.clone(), move |n| {
        sink.lock().unwrap().push(n)
    }))
}

impl World {
    fn new(seed: u64) -> World {
        let mut rng = Rng(seed);
        let store = Arc::new(MemStore::default());
        let notices = Arc::new(Mutex::new(Vec::new()));
        let hub = new_hub(&store, &notices);
        let devices = ["mediator", "mediator", "mediator2"]
            .into_iter()
            .map(|username| SimDevice {
                username,
                actor: ActorId::from(rng.bytes::<16>().to_vec()),
                replicas: HashMap::new(),
                cursor: 0,
                conn: None,
                confirmed: Vec::new(),
                edits: 0,
            })
            .collect();
        let unit = |id: &str, parent: Option<&str>| Unit {
            id: id.into(),
            name: id.into(),
            parent: parent.map(str::to_string),
        };
        World {
            rng,
            now: 1_790_000_000_000,
            store,
            hub,
            notices,
            devices,
            directory: vec![
                unit("lianshan", None),
                unit("longxi", Some("lianshan")),
                unit("shitang", Some("lianshan")),
            ],
            next_session: 1,
            refused: Vec::new(),
            crashes: 0,
            log: Vec::new(),
        }
    }

    fn connect(&mut self, d: usize) {
        let dev = &mut self.devices[d];
        if dev.conn.is_some() {
            return;
        }
        let user = Session {
            username: dev.username.to_string(),
            // Every edit the simulation makes (handling steps, evaluations, disputes) is one
            // the administrator's role may make: roles are the table test's, not this one's.
            role: Role::Admin,
            actor: dev.actor.to_hex_string(),
            units: vec![UnitId::new("longxi").unwrap()],
        };
        let server = ServerSession::new(
            self.next_session,
            self.hub.clone(),
            user,
            self.directory.clone(),
        );
        self.next_session += 1;
        // Every other session opens as the app does: new documents come with heads and rows,
        // and are kept as they came (below).
        let (mut session, hello) = if self.next_session % 2 == 0 {
            DeviceSession::open(dev.cursor)
        } else {
            DeviceSession::hello(dev.cursor)
        };
        let mut to_server = VecDeque::from([hello]);
        // Every new connection starts each replica's conversation afresh.
        for (id, r) in dev.replicas.iter_mut() {
            r.new_connection();
            if !r.is_confirmed() {
                session.push(*id, r);
            }
        }
        to_server.extend(session.take_frames());
        dev.conn = Some(Conn {
            session,
            server,
            to_server,
            to_device: VecDeque::new(),
        });
        self.log.push(format!("connect {d}"));
    }

    fn cut(&mut self, d: usize, why: &str) {
        if let Some(conn) = self.devices[d].conn.take() {
            for (doc, reason) in conn.session.refused() {
                self.refused.push((d, *doc, reason.clone()));
            }
            self.log.push(format!("cut {d}: {why}"));
        }
    }

    fn crash(&mut self) {
        for d in 0..self.devices.len() {
            self.cut(d, "server crash");
        }
        self.store.0.lock().unwrap().crashed = false;
        self.notices.lock().unwrap().clear();
        self.hub = new_hub(&self.store, &self.notices);
        self.crashes += 1;
        self.log.push("crash".into());
    }

    /// A local edit on a random document this device holds, or a new document.
    fn edit(&mut self, d: usize) {
        let now = self.now;
        let pick = self.rng.below(100);
        let dev = &mut self.devices[d];
        let ed = Editor::new(dev.username, now);
        let unit = UnitId::new("longxi").unwrap();
        let known: Vec<DocId> = {
            let mut ids: Vec<DocId> = dev
                .replicas
                .iter_mut()
                .filter_map(|(id, r)| (!r.is_empty()).then_some(*id))
                .collect();
            ids.sort();
            ids
        };
        dev.edits += 1;
        let n = dev.edits;
        let (id, doc) = if known.is_empty() || pick < 15 {
            let id = DocId::from_bytes(self.rng.bytes());
            let doc = match pick % 3 {
                0 | 1 if pick < 10 || known.is_empty() => {
                    let mut draft = CaseDraft::new(unit, Channel::Visit, &format!("案件{d}-{n}"));
                    draft.id = id;
                    CaseDoc::create(&draft, &ed, dev.actor.clone()).into_doc()
                }
                0 => {
                    let draft = DisputeDraft {
                        id,
                        unit,
                        summary: format!("纠纷{d}-{n}"),
                        kind: MediationKind::People,
                        committee: Committee::Local,
                        level: MediationLevel::Group,
                    };
                    DisputeDoc::create(&draft, &ed, dev.actor.clone()).into_doc()
                }
                _ => {
                    let draft = ReceptionDraft {
                        id,
                        unit,
                        on: "2026-11-25".parse().unwrap(),
                        leader: "刘副县长".into(),
                        place: "接待室".into(),
                    };
                    ReceptionDoc::create(&draft, &ed, dev.actor.clone())
                        .unwrap()
                        .into_doc()
                }
            };
            (id, doc)
        } else {
            let id = known[self.rng.below(known.len())];
            let replica = dev.replicas.get_mut(&id).unwrap();
            let doc = replica.doc.clone();
            let edited = match AnyDoc::open(doc) {
                Ok(AnyDoc::Case(mut c)) => {
                    let r = match pick % 6 {
                        0 => c.append_note(&ed, &format!("笔记{d}-{n}")),
                        1 => c.set(lianxin_shared::Field::Handler, &format!("经办{d}-{n}"), &ed),
                        2 => c
                            .add_follow_up(
                                &ed,
                                &FollowUpDraft {
                                    text: format!("走访{d}-{n}"),
                                    ..Default::default()
                                },
                            )
                            .map(|_| ()),
                        3 => c
                            .add_step(
                                &ed,
                                &StepDraft {
                                    kind: StepKind::Handling,
                                    on: "2026-11-26".parse().unwrap(),
                                    reason: None,
                                    outcome: None,
                                },
                            )
                            .map(|_| ()),
                        4 => c
                            .evaluate(
                                &ed,
                                "2026-11-30".parse().unwrap(),
                                Satisfaction::Satisfied,
                                Satisfaction::Unsatisfied,
                            )
                            .map(|_| ()),
                        _ => c.set_summary(&format!("摘要{d}-{n}"), &ed),
                    };
                    r.map(|_| c.into_doc())
                }
                Ok(AnyDoc::Dispute(mut x)) => {
                    let r = if pick % 2 == 0 {
                        x.add_session(
                            &ed,
                            "2026-11-26".parse().unwrap(),
                            "赵",
                            &format!("调解{d}-{n}"),
                        )
                        .map(|_| ())
                    } else {
                        x.set("mediator", &format!("调解员{d}-{n}"), &ed)
                    };
                    r.map(|_| x.into_doc())
                }
                Ok(AnyDoc::Reception(mut x)) => {
                    let m = MatterDraft {
                        summary: format!("事项{d}-{n}"),
                        people: 1 + (pick % 7) as i64,
                        petitioner: "李某".into(),
                        phone: None,
                        outcome: ReceivedOutcome::OnTheSpot,
                        due: None,
                    };
                    x.receive(&ed, &m).map(|_| x.into_doc())
                }
                Ok(AnyDoc::Details(mut x)) => x
                    .share(&ed, &UnitId::new("longxi").unwrap())
                    .map(|_| x.into_doc()),
                // The simulation makes no reference data.
                Ok(AnyDoc::Reference(x)) => Ok(x.into_doc()),
                Err(e) => panic!("a stored document does not open: {e}"),
            };
            (id, edited.expect("a valid edit"))
        };
        let replica = dev
            .replicas
            .entry(id)
            .or_insert_with(|| Replica::new(AutoCommit::new().with_actor(dev.actor.clone())));
        // Keep the sync state; take the edited document.
        replica.doc = doc.with_actor(dev.actor.clone());
        if let Some(conn) = dev.conn.as_mut() {
            conn.session.push(id, replica);
            conn.to_server.extend(conn.session.take_frames());
        }
        self.log.push(format!("edit {d} {}", id.short()));
    }

    /// Delivers the next frame of device `d`'s connection to the server.
    fn deliver_up(&mut self, d: usize, duplicate: bool) {
        let now = self.now;
        let Some(conn) = self.devices[d].conn.as_mut() else {
            return;
        };
        let Some(frame) = conn.to_server.pop_front() else {
            return;
        };
        let times = if duplicate { 2 } else { 1 };
        for _ in 0..times {
            let Some(conn) = self.devices[d].conn.as_mut() else {
                return;
            };
            let out = conn
                .server
                .take_frame_token(now)
                .and_then(|_| conn.server.handle_frame(&frame, now));
            if self.store.0.lock().unwrap().crashed {
                self.crash();
                return;
            }
            match out {
                Ok(messages) => {
                    for m in messages {
                        conn.to_device.push_back(protocol::encode(&m));
                    }
                }
                Err(e) => {
                    self.cut(d, &format!("server: {}", e.0));
                    return;
                }
            }
        }
        self.route_notices();
    }

    /// Live notices of stored changes, to every other connection that may see them.
    fn route_notices(&mut self) {
        let notices: Vec<Notice> = std::mem::take(&mut *self.notices.lock().unwrap());
        for n in notices {
            for dev in self.devices.iter_mut() {
                if let Some(conn) = dev.conn.as_mut() {
                    if conn.server.id != n.origin
                        && conn.server.hello
                        && conn.server.may_see(n.access, &n.units)
                    {
                        let m = ServerMessage::Changed(vec![(n.doc, n.heads.clone())]);
                        conn.to_device.push_back(protocol::encode(&m));
                    }
                }
            }
        }
    }

    /// Delivers the next frame from the server to device `d`.
    fn deliver_down(&mut self, d: usize) {
        let dev = &mut self.devices[d];
        let Some(conn) = dev.conn.as_mut() else {
            return;
        };
        let Some(frame) = conn.to_device.pop_front() else {
            return;
        };
        let tasks = match conn.session.receive(&frame) {
            Ok(t) => t,
            Err(e) => {
                let why = e.to_string();
                self.cut(d, &why);
                return;
            }
        };
        for task in tasks {
            let id = task.doc();
            // A document new to the device that came with its heads: kept as it came, the
            // heads marked confirmed, as the app keeps it (loaded again when next used).
            if let Task::Snapshot { bytes, heads, .. } = &task
                && !heads.is_empty()
                && dev.replicas.get_mut(&id).is_none_or(|r| r.is_empty())
            {
                let state = Replica::confirmed_state(heads);
                match Replica::restore(bytes, Some(&state), dev.actor.clone()) {
                    Ok(replica) => {
                        dev.confirmed.push((id, heads.clone()));
                        dev.replicas.insert(id, replica);
                        continue;
                    }
                    Err(e) => {
                        let why = e.to_string();
                        self.cut(d, &why);
                        return;
                    }
                }
            }
            let replica = dev
                .replicas
                .entry(id)
                .or_insert_with(|| Replica::empty(dev.actor.clone()));
            if let Err(e) = conn.session.handle(&task, replica) {
                let why = e.to_string();
                self.cut(d, &why);
                return;
            }
            if matches!(
                task,
                Task::Reply { .. } | Task::Snapshot { .. } | Task::Changed { .. }
            ) && !replica.is_empty()
                && replica.is_confirmed()
            {
                let heads = replica.doc.get_heads();
                dev.confirmed.push((id, heads));
            }
        }
        conn.to_server.extend(conn.session.take_frames());
        if conn.session.is_settled() {
            dev.cursor = conn.session.cursor();
        }
    }

    fn busy(&self) -> bool {
        self.devices.iter().any(|d| {
            d.conn
                .as_ref()
                .is_some_and(|c| !c.to_server.is_empty() || !c.to_device.is_empty())
        })
    }

    /// One step of the storm.
    fn storm_step(&mut self) {
        self.now += 25;
        let d = self.rng.below(self.devices.len());
        match self.rng.below(100) {
            0..=14 => self.edit(d),
            15..=49 => {
                let dup = self.rng.chance(3);
                self.deliver_up(d, dup)
            }
            50..=84 => self.deliver_down(d),
            85..=89 => self.connect(d),
            90..=95 => self.cut(d, "network"),
            96..=97 => {
                // A crash in the middle of a commit, or between two.
                if self.rng.chance(50) {
                    self.store.0.lock().unwrap().crash_next_append = true;
                } else {
                    self.crash();
                }
            }
            _ => {}
        }
    }

    /// The network heals: every device connects and talks until nothing is in flight, then
    /// reconnects so that it hears of whatever others stored meanwhile.
    fn heal(&mut self) {
        self.store.0.lock().unwrap().crash_next_append = false;
        for _round in 0..6 {
            for d in 0..self.devices.len() {
                self.cut(d, "heal");
                self.connect(d);
            }
            let mut steps = 0;
            while self.busy() {
                steps += 1;
                assert!(steps < 100_000, "the healed network never goes quiet");
                self.now += 25;
                for d in 0..self.devices.len() {
                    self.deliver_up(d, false);
                    self.deliver_down(d);
                }
            }
        }
    }
}

fn run(seed: u64, steps: usize) -> World {
    let mut w = World::new(seed);
    for d in 0..w.devices.len() {
        w.connect(d);
    }
    for _ in 0..steps {
        w.storm_step();
    }
    w.heal();
    w
}

/// Checks what must hold after the storm healed; the reason otherwise.
fn verify(w: &mut World) -> Result<(), String> {
    for d in 0..w.devices.len() {
        w.cut(d, "end");
    }
    if let Some((d, doc, why)) = w.refused.first() {
        return Err(format!("device {d} was refused on {}: {why}", doc.short()));
    }
    let stored: Vec<DocId> = w.store.0.lock().unwrap().docs.keys().copied().collect();
    let mut server_heads = HashMap::new();
    for id in &stored {
        let (bytes, _, _) = w.store.load_doc(id).unwrap().unwrap();
        let mut doc = AutoCommit::load(&bytes)
            .map_err(|e| format!("stored {} does not load: {e}", id.short()))?;
        if !doc.get_missing_deps(&[]).is_empty() {
            return Err(format!(
                "stored {} has changes waiting for others",
                id.short()
            ));
        }
        server_heads.insert(*id, (doc.get_heads(), doc));
    }
    for (d, dev) in w.devices.iter_mut().enumerate() {
        for (id, replica) in dev.replicas.iter_mut() {
            if replica.is_empty() {
                continue;
            }
            let Some((heads, _)) = server_heads.get(id) else {
                return Err(format!(
                    "device {d}'s {} never reached the server",
                    id.short()
                ));
            };
            if &replica.doc.get_heads() != heads {
                return Err(format!(
                    "device {d}'s {} differs from the server's",
                    id.short()
                ));
            }
            if !replica.is_confirmed() {
                return Err(format!(
                    "device {d}'s {} is not confirmed: shared {:?} heads {:?}",
                    id.short(),
                    replica.state.shared_heads,
                    replica.doc.get_heads()
                ));
            }
        }
        for id in &stored {
            if dev.replicas.get_mut(id).is_none_or(|r| r.is_empty()) {
                return Err(format!("device {d} never received {}", id.short()));
            }
        }
        for (id, heads) in &dev.confirmed {
            let Some((_, doc)) = server_heads.get_mut(id) else {
                return Err(format!(
                    "{} was acknowledged to device {d} but is gone",
                    id.short()
                ));
            };
            for h in heads {
                if doc.get_change_by_hash(h).is_none() {
                    return Err(format!(
                        "a change of {} acknowledged to device {d} was lost",
                        id.short()
                    ));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn the_protocol_survives_a_storm_of_cuts_duplicates_and_crashes() {
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let only: Option<u64> = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok());
    let (mut crashes, mut docs, mut edits) = (0, 0, 0);
    let range: Vec<u64> = match only {
        Some(s) => vec![s],
        None => (0..seeds).collect(),
    };
    for seed in range {
        let mut w = run(seed, 200);
        crashes += w.crashes;
        edits += w.devices.iter().map(|d| d.edits).sum::<usize>();
        docs += w.store.0.lock().unwrap().docs.len();
        if let Err(why) = verify(&mut w) {
            let tail: Vec<&String> = w.log.iter().rev().take(40).collect();
            panic!("seed {seed}: {why}\nlast events, newest first: {tail:#?}");
        }
    }
    eprintln!("simulation: {crashes} server crashes, {docs} documents, {edits} edits");
    assert!(
        crashes > 0 && docs > 0 && edits > 0,
        "the storm did something"
    );
}
