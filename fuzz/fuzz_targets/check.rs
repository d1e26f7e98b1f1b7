//! The server's check of incoming changes: whatever a device sends as a sync message for a
//! case the server holds, `check_incoming` returns the checked document or a refusal.
#![no_main]

use std::sync::OnceLock;

use automerge::{ActorId, AutoCommit, sync};
use lianxin_shared::{CaseDoc, CaseDraft, Channel, DocId, Editor, UnitId, check_incoming};
use libfuzzer_sys::fuzz_target;

fn server_copy() -> &'static (AutoCommit, DocId, ActorId) {
    static COPY: OnceLock<(AutoCommit, DocId, ActorId)> = OnceLock::new();
    COPY.get_or_init(|| {
        let actor = ActorId::from(vec![7u8; 16]);
        let mut draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "案件");
        draft.id = DocId::from_bytes([1; 16]);
        let mut case = CaseDoc::create(&draft, &Editor::new("mediator", 1), actor.clone());
        case.append_note(&Editor::new("mediator", 2), "笔记").unwrap();
        (case.into_doc(), draft.id, actor)
    })
}

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    let (doc, id, actor) = server_copy();
    let _ = check_incoming(doc, &sync::State::new(), data, *id, actor, 1 << 20);
});

/// libfuzzer-sys aborts on every panic, even one the code under test catches and turns into an
/// error (as `load_document` and `check_incoming` do with Automerge's parser's panics). A
/// panic that escapes is still a crash: libfuzzer-sys aborts when the target unwinds.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
