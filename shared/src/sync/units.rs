//! Which units a user sees: their own and every unit below them in the unit tree. The server
//! authorises every document by it, and devices show their pickers with it.

use crate::UnitId;
use crate::protocol::Unit;

/// The unit tree as the directory lists it.
pub type UnitTree = [Unit];

/// The units a user sees: their own and every unit below them in the tree.
pub fn visible_units(all: &UnitTree, own: &[UnitId]) -> Vec<UnitId> {
    let mut out: Vec<UnitId> = own.to_vec();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].as_str().to_string();
        for u in all
            .iter()
            .filter(|u| u.parent.as_deref() == Some(parent.as_str()))
        {
            if let Ok(id) = UnitId::new(&u.id) {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: &str, parent: Option<&str>) -> Unit {
        Unit {
            id: id.into(),
            name: id.into(),
            parent: parent.map(str::to_string),
        }
    }

    #[test]
    fn a_user_sees_their_units_and_everything_below() {
        let tree = [
            unit("county", None),
            unit("town", Some("county")),
            unit("village", Some("town")),
            unit("other", Some("county")),
        ];
        let seen = |own: &[&str]| -> Vec<String> {
            let own: Vec<UnitId> = own.iter().map(|u| UnitId::new(u).unwrap()).collect();
            visible_units(&tree, &own)
                .iter()
                .map(|u| u.to_string())
                .collect()
        };
        assert_eq!(seen(&["town"]), ["town", "village"]);
        assert_eq!(seen(&["county"]), ["county", "town", "other", "village"]);
        assert_eq!(seen(&["village"]), ["village"]);
    }
}
