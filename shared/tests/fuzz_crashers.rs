//! Inputs that once crashed (or were built to crash) the parts the fuzz targets cover, kept so
//! that they must go on returning an error: frame decoding, the server's check of incoming
//! changes, and loading a stored document. Files under `tests/fuzz-crashers/<target>/` are
//! the fuzzers' finds (see fuzz/README.md); the hostile inputs below are made here.

use std::path::Path;

use automerge::{ActorId, AutoCommit, sync};
use lianxin_shared::protocol::{self, ClientMessage, ServerMessage};
use lianxin_shared::{
    AnyDoc, CaseDoc, CaseDraft, Channel, DocId, Editor, Replica, UnitId, check_incoming,
};

fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-crashers")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn server_copy() -> (AutoCommit, DocId, ActorId) {
    let actor = ActorId::from(vec![7u8; 16]);
    let mut draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "案件");
    draft.id = DocId::from_bytes([1; 16]);
    let mut case = CaseDoc::create(&draft, &Editor::new("mediator", 1), actor.clone());
    // The same copy as the fuzz target's (fuzz/fuzz_targets/check.rs).
    case.append_note(&Editor::new("mediator", 2), "笔记")
        .unwrap();
    (case.into_doc(), draft.id, actor)
}

#[test]
fn frames_that_crashed_decoding_return_errors() {
    for (name, data) in files("frame") {
        assert!(
            protocol::decode::<ClientMessage>(&data).is_err()
                && protocol::decode::<ServerMessage>(&data).is_err(),
            "{name} decodes"
        );
    }
}

#[test]
fn changes_that_crashed_the_check_are_refused() {
    let (doc, id, actor) = server_copy();
    let mut inputs = files("check");
    inputs.push((
        "a 64 MiB inflation bomb".into(),
        lianxin_shared::inflation_bomb(64 << 20),
    ));
    inputs.push(("a bomb's chunk cut short".into(), {
        let mut b = lianxin_shared::inflation_bomb(1 << 20);
        b.truncate(b.len() - 5);
        b
    }));
    inputs.push(("nothing".into(), Vec::new()));
    for (name, data) in inputs {
        // Refused, or (when a later schema has moved the server copy's objects, so the input
        // no longer reaches the code it once crashed) bringing nothing: never a crash, never
        // a change accepted.
        let checked = check_incoming(&doc, &sync::State::new(), &data, id, &actor, 1 << 20);
        assert!(
            checked.as_ref().map_or(true, |c| c.changes.is_empty()),
            "{name} was accepted"
        );
    }
}

#[test]
fn documents_that_crashed_loading_give_errors() {
    let mut inputs = files("load");
    inputs.push((
        "a chunk header alone".into(),
        vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 0xff],
    ));
    for (name, data) in inputs {
        let opened = Replica::restore(&data, None, ActorId::from(vec![7u8; 16]))
            .and_then(|r| AnyDoc::open(r.doc));
        assert!(opened.is_err(), "{name} opened");
    }
}
