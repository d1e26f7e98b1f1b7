//! A case's people on the command-line device: petitioners, and the personal details that
//! only the devices of the units handling the case hold (the case's details document).

use lianxin_shared::{DetailsDoc, DocId, Replica, UnitId};

use super::{Device, DeviceError, Result};

impl Device {
    /// The unit directory the server gave at the last login.
    pub(super) fn directory(&self) -> Result<Vec<crate::store::Unit>> {
        let directory = self.config("directory")?.unwrap_or_default();
        Ok(serde_json::from_str(&directory).unwrap_or_default())
    }

    /// The units besides `unit` that handle a case registered by `unit` (see
    /// [`lianxin_shared::handling_units`]).
    pub(super) fn handling_others(
        &self,
        unit: &UnitId,
        responsible: Option<&UnitId>,
    ) -> Result<Vec<UnitId>> {
        let directory = self.directory()?;
        Ok(
            lianxin_shared::handling_units(&directory, unit, responsible)
                .into_iter()
                .filter(|u| u != unit)
                .collect(),
        )
    }

    /// A case's details document, if this device has it (its user's units handle the case).
    pub(super) fn details(&self, case: &DocId) -> Result<Option<(Replica, DetailsDoc)>> {
        let Some(replica) = self.replica(&DocId::details_of(case))? else {
            return Ok(None);
        };
        let details = DetailsDoc::from_doc(replica.doc.clone())?;
        Ok(Some((replica, details)))
    }

    /// Changes one detail of a petitioner (name, id_number, phone or address): the name in the
    /// case, the others in its details document (refused on a device that does not have it).
    pub fn set_petitioner_detail(
        &mut self,
        id: &str,
        petitioner: &str,
        key: &str,
        value: &str,
        now: i64,
    ) -> Result<()> {
        let editor = self.editor(now)?;
        let case_id: DocId = id
            .parse()
            .map_err(|_| DeviceError::NoSuchCase(id.to_string()))?;
        let petitioner = lianxin_shared::EntryId::parse(petitioner)?;
        let mut held = self.details(&case_id)?;
        self.edit(id, |c| {
            Ok(c.set_petitioner(
                &editor,
                &petitioner,
                key,
                value,
                held.as_mut().map(|(_, d)| d),
            )?)
        })?;
        if let Some((mut replica, details)) = held {
            replica.doc = details.into_doc();
            self.store_replica(&DocId::details_of(&case_id), &mut replica)?;
        }
        Ok(())
    }

    /// Adds a petitioner to a case: the name to the case; an ID number, phone and address to
    /// its details document (refused on a device that does not have it).
    pub fn add_petitioner(
        &mut self,
        id: &str,
        name: &str,
        details: [Option<String>; 3],
        now: i64,
    ) -> Result<String> {
        let editor = self.editor(now)?;
        let case_id: DocId = id
            .parse()
            .map_err(|_| DeviceError::NoSuchCase(id.to_string()))?;
        let mut held = self.details(&case_id)?;
        let [id_number, phone, address] = details;
        let p = lianxin_shared::Petitioner::new(name, id_number, phone, address);
        let added = self.edit(id, |c| {
            Ok(c.add_petitioner(&editor, &p, held.as_mut().map(|(_, d)| d))?)
        })?;
        if let Some((mut replica, details)) = held {
            replica.doc = details.into_doc();
            self.store_replica(&DocId::details_of(&case_id), &mut replica)?;
        }
        Ok(added.to_string())
    }
}
