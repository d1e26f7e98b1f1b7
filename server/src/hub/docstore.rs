//! What the hub needs of durable storage ([`DocStore`]), and the real store's implementation.

use lianxin_shared::DocId;

use lianxin_shared::UnitId;

use crate::store::{ChangedDoc, Scope, Store, StoreError};

/// What sync needs of durable storage. [`Store`] (SQLite) is the real one; a change is
/// acknowledged only after `append_changes` has returned.
pub trait DocStore: Send + Sync + 'static {
    fn seq(&self) -> Result<u64, StoreError>;
    /// A document's stored bytes, its units and how many changes were appended since its
    /// snapshot.
    fn load_doc(&self, id: &DocId) -> Result<Option<(Vec<u8>, Vec<UnitId>, usize)>, StoreError>;
    /// Durably stores changes (or, with `snapshot`, replaces the stored form); the new sequence
    /// number.
    /// `access`: who may have the document (see [`Scope`]).
    #[allow(clippy::too_many_arguments)]
    fn append_changes(
        &self,
        id: &DocId,
        units: &[UnitId],
        access: lianxin_shared::Access,
        changes: &[Vec<u8>],
        heads: &[[u8; 32]],
        snapshot: Option<&[u8]>,
        received: Option<&crate::store::Received>,
        expect: crate::store::Expect,
    ) -> Result<u64, StoreError>;
    /// Documents in `scope` changed after `cursor`.
    fn changed_since(&self, cursor: u64, scope: &Scope) -> Result<Vec<ChangedDoc>, StoreError>;
    /// Several documents' stored bytes, for those that exist.
    fn load_docs(&self, ids: &[DocId]) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            if let Some((bytes, _, _)) = self.load_doc(id)? {
                out.push((*id, bytes));
            }
        }
        Ok(out)
    }
    /// The holiday calendar deadlines are worked out with (the rows sent to new devices).
    fn calendar(&self) -> Result<lianxin_shared::rules::Calendar, StoreError> {
        Ok(lianxin_shared::rules::Calendar::default())
    }
    /// A document's sequence number now, if the store can tell: a copy held in memory whose
    /// number differs was changed by someone else (the admin command line) and is reloaded.
    fn doc_seq(&self, _id: &DocId) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
    /// Documents taken away from the scope's units since `cursor` that it does not admit now.
    fn gone_since(&self, _cursor: u64, _scope: &Scope) -> Result<Vec<DocId>, StoreError> {
        Ok(Vec::new())
    }
    /// The changes of these documents stored after `cursor` by anyone but `actor`, in the
    /// order stored ([`Store::changes_after`]). A store that cannot tell gives none, and the
    /// opening names those documents with their heads instead.
    fn changes_after(
        &self,
        _ids: &[DocId],
        _cursor: u64,
        _actor: &str,
    ) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        Ok(Vec::new())
    }
    fn quarantine(
        &self,
        username: &str,
        actor: &str,
        doc: &str,
        reason: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<(), StoreError>;
}

impl DocStore for Store {
    fn seq(&self) -> Result<u64, StoreError> {
        Store::seq(self)
    }
    fn load_doc(&self, id: &DocId) -> Result<Option<(Vec<u8>, Vec<UnitId>, usize)>, StoreError> {
        Store::load_doc(self, id)
    }
    fn append_changes(
        &self,
        id: &DocId,
        units: &[UnitId],
        access: lianxin_shared::Access,
        changes: &[Vec<u8>],
        heads: &[[u8; 32]],
        snapshot: Option<&[u8]>,
        received: Option<&crate::store::Received>,
        expect: crate::store::Expect,
    ) -> Result<u64, StoreError> {
        Store::append_changes(
            self, id, units, access, changes, heads, snapshot, received, expect,
        )
    }
    fn changed_since(&self, cursor: u64, scope: &Scope) -> Result<Vec<ChangedDoc>, StoreError> {
        Store::changed_since(self, cursor, scope)
    }
    fn load_docs(&self, ids: &[DocId]) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        Store::load_docs(self, ids)
    }
    fn doc_seq(&self, id: &DocId) -> Result<Option<u64>, StoreError> {
        Store::doc_seq(self, id)
    }
    fn calendar(&self) -> Result<lianxin_shared::rules::Calendar, StoreError> {
        Store::calendar(self)
    }
    fn gone_since(&self, cursor: u64, scope: &Scope) -> Result<Vec<DocId>, StoreError> {
        Store::gone_since(self, cursor, scope)
    }
    fn changes_after(
        &self,
        ids: &[DocId],
        cursor: u64,
        actor: &str,
    ) -> Result<Vec<(DocId, Vec<u8>)>, StoreError> {
        Store::changes_after(self, ids, cursor, actor)
    }
    fn quarantine(
        &self,
        username: &str,
        actor: &str,
        doc: &str,
        reason: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        Store::quarantine(self, username, actor, doc, reason, bytes, now)
    }
}
