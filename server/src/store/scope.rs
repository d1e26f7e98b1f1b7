//! Which documents a session may have (see [`Scope`]).

use lianxin_shared::UnitId;

use super::{Result, StoreError};

/// Which documents a user may have: ordinary ones by the units they see (their own and every
/// unit below), a case's personal details by their own units only (DOMAIN.md "Privacy and
/// scope": units above the responsible one see the case, not the details).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub visible: Vec<UnitId>,
    pub own: Vec<UnitId>,
}

impl Scope {
    /// Every document of every unit (the office's own figures and imports).
    pub fn everything(directory: &[lianxin_shared::protocol::Unit]) -> Scope {
        let all: Vec<UnitId> = directory
            .iter()
            .filter_map(|u| UnitId::new(&u.id).ok())
            .collect();
        Scope {
            visible: all.clone(),
            own: all,
        }
    }

    /// Whether a document of these units, of this access, is in the scope.
    pub fn admits(&self, access: lianxin_shared::Access, units: &[UnitId]) -> bool {
        let set = match access {
            lianxin_shared::Access::Everyone => return true,
            lianxin_shared::Access::Own => &self.own,
            lianxin_shared::Access::Units => &self.visible,
        };
        units.iter().any(|u| set.contains(u))
    }

    pub(super) fn json(units: &[UnitId]) -> Result<String> {
        serde_json::to_string(&units.iter().map(UnitId::as_str).collect::<Vec<_>>())
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }
}
