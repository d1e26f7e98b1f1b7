//! Loading a stored document: any bytes load to a document of a known kind, readable through
//! its declaration, or give an error — never a panic.
#![no_main]

use lianxin_shared::{AnyDoc, Replica};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(replica) = Replica::restore(data, None, automerge::ActorId::from(vec![7u8; 16])) {
        if let Ok(doc) = AnyDoc::open(replica.doc) {
            let _ = doc.to_json();
            let _ = doc.row(&Default::default(), &Default::default());
        }
    }
});
