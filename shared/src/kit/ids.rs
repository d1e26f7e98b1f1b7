//! Identifiers: documents, units and list entries. Each is validated when made.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Error;

/// Random bytes from the operating system (the browser's crypto in wasm). Without a source of
/// randomness nothing can be created safely, so its absence is a bug of the platform.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the platform provides random numbers");
    bytes
}

/// A document's id: 16 random bytes, shown as 32 lowercase hex digits. Binary encodings
/// (the sync protocol) carry the 16 bytes; human-readable ones (JSON export) the hex string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId([u8; 16]);

impl Serialize for DocId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for DocId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            <[u8; 16]>::deserialize(d).map(DocId)
        }
    }
}

impl DocId {
    pub fn random() -> Self {
        DocId(random_bytes())
    }
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        DocId(bytes)
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// The first eight hex digits, enough for a person to tell cases apart in a message.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl std::str::FromStr for DocId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(s, &mut bytes)
            .map_err(|_| Error::InvalidId(s.to_string(), "a case id is 32 hex digits"))?;
        Ok(DocId(bytes))
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocId({})", self.short())
    }
}

/// A unit of the unit tree (county, township, department, village): a short code such as
/// `wugang` or `dengjiashan`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct UnitId(String);

impl UnitId {
    pub fn new(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(UnitId(s.to_string()))
        } else {
            Err(Error::InvalidId(
                s.to_string(),
                "a unit id is 1-64 letters, digits, '-' or '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stable id of an entry in a list (a follow-up, a lifecycle step, a petitioner), so that
/// concurrent inserts and edits never collide.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
pub struct EntryId(String);

impl EntryId {
    pub fn random() -> Self {
        EntryId(hex::encode(random_bytes::<8>()))
    }
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.len() == 16 && s.chars().all(|c| c.is_ascii_hexdigit()) {
            Ok(EntryId(s.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidId(
                s.to_string(),
                "an entry id is 16 hex digits",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
