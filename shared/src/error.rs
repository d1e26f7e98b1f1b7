//! The one error type of this crate's boundary.

/// What can go wrong reading or editing a document, or speaking the sync protocol.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("malformed document: {0}")]
    Malformed(String),
    #[error("wrong kind of document: {0}")]
    WrongKind(String),
    #[error("unknown field {0:?} (known: {1})")]
    UnknownField(String, String),
    #[error("invalid value {value:?} for {field}: {reason}")]
    InvalidValue {
        field: String,
        value: String,
        reason: String,
    },
    #[error("invalid id {0:?}: {1}")]
    InvalidId(String, &'static str),
    #[error("no entry {0} in this document")]
    NoSuchEntry(String),
    #[error("automerge: {0}")]
    Automerge(String),
    #[error("protocol: {0}")]
    Protocol(String),
    /// The server ended the session: sign in again (local edits are kept).
    #[error("session ended: {0}")]
    SessionEnded(String),
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Automerge(e.to_string())
    }
}
