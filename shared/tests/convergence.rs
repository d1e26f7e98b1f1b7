//! Convergence: random edits on five replicas of one case, synced in random order over a
//! lossy channel (messages dropped and duplicated, sessions restarted), always end in
//! identical documents with every note and follow-up kept.

use automerge::{ActorId, AutoCommit, sync, sync::SyncDoc};
use lianxin_shared::{CaseDoc, CaseDraft, Channel, Editor, Field, FollowUpDraft, UnitId};
use proptest::prelude::*;

const REPLICAS: usize = 5;

#[derive(Clone, Debug)]
enum Op {
    SetHandler {
        replica: usize,
        value: u8,
    },
    SetPeople {
        replica: usize,
        value: u8,
    },
    Note {
        replica: usize,
    },
    FollowUp {
        replica: usize,
    },
    Summary {
        replica: usize,
        keep: u8,
    },
    /// One message from `from` to `to`; lost, or delivered twice.
    Send {
        from: usize,
        to: usize,
        drop: bool,
        duplicate: bool,
    },
    /// The connection between two replicas breaks: in-flight state is forgotten.
    Reconnect {
        a: usize,
        b: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let r = 0..REPLICAS;
    prop_oneof![
        1 => (r.clone(), any::<u8>()).prop_map(|(replica, value)| Op::SetHandler { replica, value }),
        1 => (r.clone(), 1..50u8).prop_map(|(replica, value)| Op::SetPeople { replica, value }),
        1 => r.clone().prop_map(|replica| Op::Note { replica }),
        1 => r.clone().prop_map(|replica| Op::FollowUp { replica }),
        1 => (r.clone(), any::<u8>()).prop_map(|(replica, keep)| Op::Summary { replica, keep }),
        4 => (r.clone(), r.clone(), prop::bool::weighted(0.2), prop::bool::weighted(0.2))
            .prop_map(|(from, to, drop, duplicate)| Op::Send { from, to, drop, duplicate }),
        1 => (r.clone(), r).prop_map(|(a, b)| Op::Reconnect { a, b }),
    ]
}

struct World {
    docs: Vec<CaseDoc>,
    /// states[i][j]: replica i's sync state towards replica j.
    states: Vec<Vec<sync::State>>,
    notes: Vec<String>,
    follow_ups: usize,
    clock: i64,
}

impl World {
    fn new() -> World {
        let draft = CaseDraft::new(
            UnitId::new("wugang").unwrap(),
            Channel::Visit,
            "征地补偿款未到位",
        );
        let mut origin = CaseDoc::create(&draft, &Editor::new("reg", 1), ActorId::random());
        let bytes = origin.save();
        World {
            docs: (0..REPLICAS)
                .map(|_| CaseDoc::load(&bytes, ActorId::random()).unwrap())
                .collect(),
            states: (0..REPLICAS)
                .map(|_| (0..REPLICAS).map(|_| sync::State::new()).collect())
                .collect(),
            notes: Vec::new(),
            follow_ups: 0,
            clock: 1_763_800_000_000,
        }
    }

    fn editor(&mut self, replica: usize) -> Editor {
        self.clock += 1000;
        Editor::new(&format!("user{replica}"), self.clock)
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::SetHandler { replica, value } => {
                let e = self.editor(replica);
                self.docs[replica]
                    .set(Field::Handler, &format!("经办人{value}"), &e)
                    .unwrap();
            }
            Op::SetPeople { replica, value } => {
                let e = self.editor(replica);
                self.docs[replica]
                    .set(Field::People, &value.to_string(), &e)
                    .unwrap();
            }
            Op::Note { replica } => {
                let e = self.editor(replica);
                let note = format!("第{}条记录，来自{replica}号平板", self.notes.len());
                self.docs[replica].append_note(&e, &note).unwrap();
                self.notes.push(note);
            }
            Op::FollowUp { replica } => {
                let e = self.editor(replica);
                let draft = FollowUpDraft {
                    text: format!("走访{}", self.follow_ups),
                    ..Default::default()
                };
                self.docs[replica].add_follow_up(&e, &draft).unwrap();
                self.follow_ups += 1;
            }
            Op::Summary { replica, keep } => {
                let e = self.editor(replica);
                let old = self.docs[replica].read().unwrap().summary;
                let kept: String = old.chars().take(keep as usize % 8).collect();
                self.docs[replica]
                    .set_summary(&format!("{kept}（{replica}改）"), &e)
                    .unwrap();
            }
            Op::Send {
                from,
                to,
                drop,
                duplicate,
            } => {
                if from == to {
                    return;
                }
                let Some(message) = self.generate(from, to) else {
                    return;
                };
                if drop {
                    return;
                }
                let encoded = message.encode();
                self.deliver(from, to, &encoded);
                if duplicate {
                    self.deliver(from, to, &encoded);
                }
            }
            Op::Reconnect { a, b } => {
                for (x, y) in [(a, b), (b, a)] {
                    let kept = self.states[x][y].encode();
                    self.states[x][y] = sync::State::decode(&kept).unwrap();
                }
            }
        }
    }

    fn generate(&mut self, from: usize, to: usize) -> Option<sync::Message> {
        let mut doc = std::mem::replace(&mut self.docs[from], placeholder()).into_doc();
        let message = doc.sync().generate_sync_message(&mut self.states[from][to]);
        self.docs[from] = CaseDoc::from_doc(doc).unwrap();
        message
    }

    fn deliver(&mut self, from: usize, to: usize, encoded: &[u8]) {
        let mut doc = std::mem::replace(&mut self.docs[to], placeholder()).into_doc();
        let message = sync::Message::decode(encoded).unwrap();
        doc.sync()
            .receive_sync_message(&mut self.states[to][from], message)
            .unwrap();
        self.docs[to] = CaseDoc::from_doc(doc).unwrap();
    }

    /// Every pair reconnects and syncs until nobody has anything to say.
    fn settle(&mut self) {
        for a in 0..REPLICAS {
            for b in 0..REPLICAS {
                self.apply(&Op::Reconnect { a, b });
            }
        }
        for _round in 0..50 {
            let mut quiet = true;
            for from in 0..REPLICAS {
                for to in 0..REPLICAS {
                    if from != to {
                        if let Some(m) = self.generate(from, to) {
                            quiet = false;
                            self.deliver(from, to, &m.encode());
                        }
                    }
                }
            }
            if quiet {
                return;
            }
        }
        panic!("replicas did not settle in 50 rounds");
    }
}

fn placeholder() -> CaseDoc {
    let draft = CaseDraft::new(UnitId::new("x").unwrap(), Channel::Visit, "");
    CaseDoc::create(&draft, &Editor::new("x", 0), ActorId::random())
}

fn sorted_heads(doc: &CaseDoc) -> Vec<automerge::ChangeHash> {
    let mut d: AutoCommit = doc.doc().clone();
    let mut h = d.get_heads();
    h.sort();
    h
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_and_lose_nothing(ops in prop::collection::vec(op(), 1..80)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
        }
        world.settle();

        let first = world.docs[0].read().unwrap();
        for doc in &world.docs[1..] {
            prop_assert_eq!(sorted_heads(doc), sorted_heads(&world.docs[0]));
            prop_assert_eq!(&doc.read().unwrap(), &first);
        }
        for note in &world.notes {
            prop_assert!(first.notes.contains(note.as_str()), "note {} lost from {:?}", note, first.notes);
        }
        prop_assert_eq!(first.follow_ups.len(), world.follow_ups);
        // The handler field shows a conflict exactly when more than one value competes,
        // and every competing value says who set it.
        for conflict in &first.conflicts {
            prop_assert!(conflict.values.len() > 1);
            prop_assert!(conflict.values.iter().all(|v| v.by.starts_with("user")));
        }
    }
}
