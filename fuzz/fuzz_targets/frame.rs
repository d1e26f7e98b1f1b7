//! Frame decoding: any bytes a peer sends decode to a message or an error, never a panic.
#![no_main]

use lianxin_shared::protocol::{self, ClientMessage, ServerMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = protocol::decode::<ClientMessage>(data);
    let _ = protocol::decode::<ServerMessage>(data);
});
