//! The county's reference data on the server: made at the office's first start (and with the
//! demo), changed by the administrator's command line (`lianxin admin campaign add`, `admin
//! rule set`) as a change by the server, stored as the new snapshot; every device gets it at
//! its next sync (the running server reloads its cached copy by sequence number).

use lianxin_shared::{Access, DocId, Editor, ReferenceDoc, UnitId};

use crate::store::{Received, Store, StoreError};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// The reference document as stored, if there is one.
pub fn load(store: &Store) -> Result<Option<ReferenceDoc>, StoreError> {
    let Some((bytes, _, _)) = store.load_doc(&DocId::reference())? else {
        return Ok(None);
    };
    let doc = lianxin_shared::load_document(&bytes).map_err(invalid)?;
    Ok(Some(ReferenceDoc::from_doc(doc).map_err(invalid)?))
}

/// Applies `f` to the reference document (made first, belonging to the root unit, if there is
/// none) as the administrator, and stores it.
pub fn change<T>(
    store: &Store,
    now: i64,
    what: &str,
    f: impl FnOnce(&mut ReferenceDoc, &Editor) -> Result<T, lianxin_shared::Error>,
) -> Result<T, StoreError> {
    let actor = automerge::ActorId::from(&b"lianxin-server-admin"[..]);
    let editor = Editor::new("admin", now);
    let mut doc = match load(store)? {
        Some(d) => ReferenceDoc::from_doc(d.into_doc().with_actor(actor)).map_err(invalid)?,
        None => {
            let root = store
                .units()?
                .into_iter()
                .find(|u| u.parent.is_none())
                .ok_or_else(|| StoreError::Invalid("no root unit: run admin init first".into()))?;
            ReferenceDoc::create(&UnitId::new(&root.id).map_err(invalid)?, &editor, actor)
        }
    };
    let out = f(&mut doc, &editor).map_err(invalid)?;
    let what = [what.to_string()];
    let received = Received {
        user: "admin (command line)",
        actor: "lianxin-server-admin",
        at: now,
        what: &what,
    };
    store.put_snapshot(&mut doc.into_doc(), Access::Everyone, &received)?;
    Ok(out)
}
