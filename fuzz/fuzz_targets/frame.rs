//! Frame decoding: any bytes a peer sends decode to a message or an error, never a panic.
#![no_main]

use lianxin_shared::protocol::{self, ClientMessage, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    quiet_caught_panics();
    let _ = protocol::decode::<ClientMessage>(data);
    let _ = protocol::decode::<ServerMessage>(data);
});

/// libfuzzer-sys aborts on every panic, even one the code under test catches and turns into an
/// error (as `load_document` and `check_incoming` do with Automerge's parser's panics). A
/// panic that escapes is still a crash: libfuzzer-sys aborts when the target unwinds.
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}
