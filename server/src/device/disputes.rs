//! Disputes on the command-line device: registering one found by screening, editing it, and
//! turning it into a case.

use lianxin_shared::{
    Committee, DisputeDoc, DisputeDraft, DocId, Editor, MediationKind, MediationLevel, Replica,
};

use super::{Device, DeviceError, Result};

impl Device {
    /// Registers a dispute found by screening, at the village group level.
    pub fn new_dispute(
        &mut self,
        unit: &str,
        committee: &str,
        summary: &str,
        now: i64,
    ) -> Result<DocId> {
        let unit = self.own_unit(unit)?;
        if summary.trim().is_empty() {
            return Err(lianxin_shared::Error::InvalidValue {
                field: "summary".into(),
                value: summary.into(),
                reason: "a dispute needs a summary".into(),
            }
            .into());
        }
        let draft = DisputeDraft {
            id: DocId::random(),
            unit,
            summary: summary.trim().to_string(),
            kind: MediationKind::People,
            committee: Committee::parse(committee)?,
            level: MediationLevel::Group,
        };
        let dispute = DisputeDoc::create(&draft, &self.editor(now)?, self.actor.clone());
        let mut replica = Replica::new(dispute.into_doc());
        self.store_replica(&draft.id, &mut replica)?;
        Ok(draft.id)
    }

    /// Edits a dispute with `f` (set, session, escalate, party, agreement), stored at once.
    pub fn edit_dispute<T>(
        &mut self,
        id: &str,
        now: i64,
        f: impl FnOnce(&mut DisputeDoc, &Editor) -> std::result::Result<T, lianxin_shared::Error>,
    ) -> Result<T> {
        let editor = self.editor(now)?;
        self.edit_doc(id, DisputeDoc::from_doc, DisputeDoc::into_doc, |d| {
            Ok(f(d, &editor)?)
        })
    }

    /// Turns a dispute into a case (both then name each other); returns the case's id.
    pub fn dispute_to_case(&mut self, id: &str, now: i64) -> Result<DocId> {
        let actor = self.actor.clone();
        let dispute_id: DocId = id
            .parse()
            .map_err(|_| DeviceError::NoSuchCase(id.to_string()))?;
        let unit = self
            .replica(&dispute_id)?
            .and_then(|r| lianxin_shared::Header::of(&r.doc).ok())
            .and_then(|h| h.units.first().cloned())
            .ok_or_else(|| DeviceError::NoSuchCase(id.to_string()))?;
        let others = self.handling_others(&unit, None)?;
        let (case, details) =
            self.edit_dispute(id, now, |d, ed| d.make_case(ed, actor, &others))?;
        let case_id = case.id()?;
        let mut replica = Replica::new(case.into_doc());
        self.store_replica(&case_id, &mut replica)?;
        let mut replica = Replica::new(details.into_doc());
        self.store_replica(&DocId::details_of(&case_id), &mut replica)?;
        Ok(case_id)
    }
}
