//! How large a device's changes become once inflated, found before Automerge inflates them.
//!
//! Automerge stores a large change DEFLATE-compressed (a chunk of type 2) and inflates it into
//! memory as it parses, before any check of ours can run, so a 1.8 MB message can demand
//! 1.8 GiB. This walks the chunks of a sync message the way Automerge's parser does, inflates
//! every compressed change through a fixed 32 KiB window, counting and keeping nothing, and
//! stops as soon as the total passes the limit. A whole document (a chunk of type 0, which a
//! V2 sync message carries) is refused outright: its column layout can make the parser
//! allocate gigabytes from a hundred bytes, and devices have no need to send one.
//!
//! The same walk fences what is loaded from a store (`stored_chunks`): only the chunks
//! Automerge's `save` and `save_incremental` write, so a damaged or planted record cannot reach
//! the bundle parser, whose counts a hundred bytes can make allocate gigabytes (fuzzed:
//! `shared/tests/fuzz-crashers/load/oom-7ae8af57`).

use automerge::sync::Message;
use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;

/// A bundle of changes (Automerge 0.7 and later); nothing here writes one.
const BUNDLE: u8 = 3;

/// Why a message's changes were not inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oversize {
    /// They inflate beyond the limit (the count stopped just past it).
    TooLarge { limit: usize },
    /// The chunks are not what Automerge writes.
    Malformed(String),
}

impl std::fmt::Display for Oversize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Oversize::TooLarge { limit } => {
                write!(f, "the changes inflate to more than {limit} bytes")
            }
            Oversize::Malformed(why) => write!(f, "malformed change chunks: {why}"),
        }
    }
}

/// The inflated size of every change and document the message carries, if it is at most
/// `limit` bytes.
pub fn inflated_size(message: &Message, limit: usize) -> Result<usize, Oversize> {
    let mut total = Budget { used: 0, limit };
    for bytes in message.changes.iter() {
        let mut input = Input(bytes);
        while !input.0.is_empty() {
            chunk(&mut input, &mut total)?;
        }
    }
    Ok(total.used)
}

/// Whether `bytes`, read from a store, are only what a saved document is made of: whole
/// documents and changes, each chunk framed as Automerge writes it. Reads the chunks' headers
/// and skips their data, so it costs next to nothing beside the load it guards.
pub(crate) fn stored_chunks(bytes: &[u8]) -> Result<(), Oversize> {
    let mut input = Input(bytes);
    while !input.0.is_empty() {
        if input.take(4)? != MAGIC {
            return Err(malformed("no chunk magic"));
        }
        input.take(4)?; // checksum, which Automerge checks
        let kind = input.take(1)?[0];
        let len = input.len()?;
        input.take(len)?;
        match kind {
            DOCUMENT | CHANGE | COMPRESSED_CHANGE => {}
            BUNDLE => return Err(malformed("a bundle of changes is not a saved document")),
            other => return Err(Oversize::Malformed(format!("unknown chunk type {other}"))),
        }
    }
    Ok(())
}

struct Budget {
    used: usize,
    limit: usize,
}

impl Budget {
    fn add(&mut self, n: usize) -> Result<(), Oversize> {
        self.used = self.used.saturating_add(n);
        if self.used > self.limit {
            return Err(Oversize::TooLarge { limit: self.limit });
        }
        Ok(())
    }
}

fn malformed(why: &str) -> Oversize {
    Oversize::Malformed(why.to_string())
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Oversize> {
        if n > self.0.len() {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, Oversize> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .take(1)?
                .first()
                .ok_or_else(|| malformed("truncated"))?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed("overlong number"))
    }

    fn len(&mut self) -> Result<usize, Oversize> {
        usize::try_from(self.uleb()?).map_err(|_| malformed("length out of range"))
    }
}

/// One chunk: magic, checksum, type, length, data.
fn chunk(input: &mut Input, budget: &mut Budget) -> Result<(), Oversize> {
    if input.take(4)? != MAGIC {
        return Err(malformed("no chunk magic"));
    }
    input.take(4)?; // checksum
    let kind = input.take(1)?[0];
    let len = input.len()?;
    let data = input.take(len)?;
    match kind {
        CHANGE => budget.add(data.len()),
        COMPRESSED_CHANGE => inflate_counting(data, budget),
        // A whole document's columns are where a few hostile bytes can make Automerge's
        // parser allocate gigabytes (fuzzed: `shared/tests/fuzz-crashers/`), and our devices
        // never send one: the server does not let them learn it speaks sync V2 (`reply`).
        DOCUMENT => Err(malformed(
            "whole documents are not accepted from devices, only changes",
        )),
        other => Err(Oversize::Malformed(format!(
            "chunk type {other} is not accepted from devices"
        ))),
    }
}

/// Inflates raw DEFLATE data through a small window, adding what it makes to the budget.
fn inflate_counting(mut data: &[u8], budget: &mut Budget) -> Result<(), Oversize> {
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut window = vec![0u8; 32 * 1024];
    loop {
        let result = inflate(&mut state, data, &mut window, MZFlush::None);
        data = &data[result.bytes_consumed..];
        budget.add(result.bytes_written)?;
        match result.status {
            Ok(MZStatus::StreamEnd) => return Ok(()),
            Ok(_) if result.bytes_consumed == 0 && result.bytes_written == 0 => {
                return Err(malformed("deflate data ends early"));
            }
            Ok(_) => {}
            Err(_) => return Err(malformed("bad deflate data")),
        }
    }
}

/// A sync message whose changes are one compressed-change chunk that inflates to `n` zero
/// bytes: what a hostile device sends to exhaust a server's memory. For tests and benchmarks;
/// made by streaming, so a 1 GiB bomb costs a megabyte of memory to build.
pub fn inflation_bomb(n: usize) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        CompressorOxide, TDEFLFlush, TDEFLStatus, compress, create_comp_flags_from_zip_params,
    };
    let mut c = CompressorOxide::new(create_comp_flags_from_zip_params(9, -15, 0));
    let zeros = vec![0u8; 1 << 20];
    let (mut deflated, mut buf, mut left) = (Vec::new(), vec![0u8; 1 << 16], n);
    loop {
        let take = left.min(zeros.len());
        left -= take;
        let flush = if left == 0 {
            TDEFLFlush::Finish
        } else {
            TDEFLFlush::None
        };
        let mut input = &zeros[..take];
        loop {
            let (status, read, written) = compress(&mut c, input, &mut buf, flush);
            deflated.extend_from_slice(&buf[..written]);
            input = &input[read..];
            if input.is_empty() && (flush != TDEFLFlush::Finish || status == TDEFLStatus::Done) {
                break;
            }
        }
        if left == 0 {
            break;
        }
    }
    let mut chunk = MAGIC.to_vec();
    chunk.extend([0, 0, 0, 0, COMPRESSED_CHANGE]);
    let mut len = deflated.len();
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        chunk.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    chunk.extend(deflated);
    Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: automerge::sync::ChunkList::from(chunk),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, ROOT, sync::SyncDoc, transaction::Transactable};

    fn message_of(doc: &mut AutoCommit) -> Message {
        let mut s = automerge::sync::State::new();
        let mut empty = AutoCommit::new();
        let mut t = automerge::sync::State::new();
        // Two rounds, so the message carries the document or its changes.
        let m = doc.sync().generate_sync_message(&mut s).unwrap();
        empty.sync().receive_sync_message(&mut t, m).unwrap();
        let r = empty.sync().generate_sync_message(&mut t).unwrap();
        doc.sync().receive_sync_message(&mut s, r).unwrap();
        doc.sync().generate_sync_message(&mut s).unwrap()
    }

    #[test]
    fn counts_what_automerge_would_inflate_and_stops_past_the_limit() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "text", "字".repeat(100_000)).unwrap();
        doc.commit();
        let change = doc.get_changes(&[]).remove(0);
        let mut message = message_of(&mut doc);
        message.changes = automerge::sync::ChunkList::from(change.raw_bytes().to_vec());
        let size = inflated_size(&message, usize::MAX).unwrap();
        assert!(size >= 300_000, "{size}");
        assert_eq!(
            inflated_size(&message, 100_000),
            Err(Oversize::TooLarge { limit: 100_000 })
        );
    }

    #[test]
    fn a_small_change_counts_as_its_bytes() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let change = doc.get_changes(&[]).remove(0);
        let mut m = message_of(&mut doc);
        m.changes = automerge::sync::ChunkList::from(change.raw_bytes().to_vec());
        let n = inflated_size(&m, 1 << 20).unwrap();
        assert_eq!(n, change.raw_bytes().len() - 9 - 1);
    }

    #[test]
    fn a_whole_document_is_refused() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        let mut m = message_of(&mut doc);
        m.changes = automerge::sync::ChunkList::from(doc.save());
        assert!(matches!(
            inflated_size(&m, 1 << 20),
            Err(Oversize::Malformed(_))
        ));
    }

    #[test]
    fn a_store_holds_documents_and_changes_and_nothing_else() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        let mut saved = doc.save();
        doc.put(ROOT, "b", "字".repeat(1_000)).unwrap();
        saved.extend(doc.save_incremental());
        assert_eq!(stored_chunks(&saved), Ok(()));
        assert_eq!(stored_chunks(&[]), Ok(()));
        // The planted bytes the fuzzer found begin with a bundle.
        let planted = include_bytes!("../../tests/fuzz-crashers/load/oom-7ae8af57");
        assert_eq!(planted[8], BUNDLE);
        assert!(matches!(
            stored_chunks(planted),
            Err(Oversize::Malformed(_))
        ));
        for cut in 1..saved.len() {
            if stored_chunks(&saved[..cut]).is_ok() {
                // Only at a chunk's end may a cut look whole.
                assert!(AutoCommit::load(&saved[..cut]).is_ok(), "cut at {cut}");
            }
        }
    }

    #[test]
    fn a_bomb_is_stopped_early_and_garbage_is_malformed() {
        let m = Message::decode(&inflation_bomb(64 << 20)).unwrap();
        assert_eq!(
            inflated_size(&m, 1 << 20),
            Err(Oversize::TooLarge { limit: 1 << 20 })
        );
        let mut m = m;
        m.changes = automerge::sync::ChunkList::from(vec![1, 2, 3]);
        assert!(matches!(
            inflated_size(&m, 1 << 20),
            Err(Oversize::Malformed(_))
        ));
    }
}
