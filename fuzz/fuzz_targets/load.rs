//! Loading a stored document: any bytes load to a document of a known kind, readable through
//! its declaration, or give an error — never a panic.
#![no_main]

use lianxin_shared::{AnyDoc, Replica};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    if let Ok(replica) = Replica::restore(data, None, automerge::ActorId::from(vec![7u8; 16])) {
        if let Ok(doc) = AnyDoc::open(replica.doc) {
            let _ = doc.to_json();
            let _ = doc.row(&Default::default(), &Default::default());
        }
    }
});

/// libfuzzer-sys aborts on every panic, even one the code under test catches and turns into an
/// error (as `load_document` and `check_incoming` do with Automerge's parser's panics). A
/// panic that escapes is still a crash: libfuzzer-sys aborts when the target unwinds.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
