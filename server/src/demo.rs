//! Seeds an empty database with the demo county, demo accounts and a demo caseload
//! (`lianxin serve --demo`). Does nothing to a database that already has units.

use automerge::ActorId;
use lianxin_shared::{AnyDoc, UnitId, demo};

use crate::auth;
use crate::store::{Role, Store, StoreError};

/// The password of every demo account.
pub const PASSWORD: &str = "lianxin-demo";

/// Demo accounts: username, role, unit.
pub const USERS: &[(&str, Role, &str)] = &[
    ("admin", Role::Admin, "lianshan"),
    ("registrar", Role::Registrar, "lianshan"),
    ("leader", Role::Leader, "lianshan"),
    ("handler", Role::Handler, "hrss"),
    ("mediator", Role::Mediator, "longxi"),
    ("mediator2", Role::Mediator, "longxi"),
    ("shitang", Role::Mediator, "shitang"),
];

/// The names the demo cases write for the demo people: the leader is 周书记, whose case
/// packages are theirs on their home screen.
pub const NAMES: &[(&str, &str)] = &[("leader", "周书记"), ("handler", "肖科长")];

/// Seeds `store` unless it already holds units. Returns whether it seeded.
pub fn seed(store: &Store, cases: usize, now_ms: i64) -> Result<bool, StoreError> {
    if !store.units()?.is_empty() {
        return Ok(false);
    }
    for (id, name, parent) in demo::UNITS {
        let parent = parent
            .map(UnitId::new)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        store.add_unit(&unit(id)?, name, parent.as_ref())?;
    }
    let hash = auth::hash_password(PASSWORD).map_err(StoreError::Invalid)?;
    for (username, role, unit_id) in USERS {
        store.add_user(username, &hash, *role, &unit(unit_id)?)?;
    }
    for (username, name) in NAMES {
        store.set_user_name(username, name)?;
    }
    // A demo calendar: the fixed-date holidays only (National Day week, New Year's Day). For
    // real use the administrator enters the State Council's notice for the year, make-up
    // working days included (`lianxin admin calendar`).
    let holidays = (1..=7)
        .filter_map(|day| lianxin_shared::Date::from_ymd(2026, 10, day))
        .chain(lianxin_shared::Date::from_ymd(2027, 1, 1));
    for day in holidays {
        store.set_calendar_day(day, false)?;
    }
    let campaigns = if cases > 0 {
        demo_reference(store, now_ms)?
    } else {
        Vec::new()
    };
    store_cases_tagged(store, cases, 2026, now_ms, &campaigns)?;
    // The demo's cases are numbered 1 to `cases` of their year: tablets' blocks start above.
    if cases > 0 {
        let (year, _, _) = lianxin_shared::Date::from_unix_ms_china(now_ms).ymd();
        for y in [year - 1, year] {
            store.set_reference_floor(y, cases as u32 + 1)?;
        }
    }
    Ok(true)
}

/// The demo county's reference data: the default assessment rules and two campaigns, the
/// housing one 问题楼盘 (cases of that category are tagged to it).
fn demo_reference(store: &Store, now_ms: i64) -> Result<Vec<lianxin_shared::EntryId>, StoreError> {
    let today = lianxin_shared::Date::from_unix_ms_china(now_ms);
    crate::reference::change(store, now_ms, "campaigns + (demo)", |r, ed| {
        let housing = r.add_campaign(
            ed,
            "问题楼盘专项治理",
            today.add_days(-80),
            None,
            Some("问题楼盘"),
        )?;
        r.add_campaign(
            ed,
            "重复信访积案化解",
            today.add_days(-60),
            Some(today.add_days(30)),
            Some("积案化解"),
        )?;
        Ok(vec![housing])
    })
}

/// Stores `count` generated cases (seeded by `seed`) as compacted snapshots.
pub fn store_cases(store: &Store, count: usize, seed: u64, now_ms: i64) -> Result<(), StoreError> {
    store_cases_tagged(store, count, seed, now_ms, &[])
}

/// [`store_cases`], the housing cases tagged to `housing` (the first campaign given).
fn store_cases_tagged(
    store: &Store,
    count: usize,
    seed: u64,
    now_ms: i64,
    housing: &[lianxin_shared::EntryId],
) -> Result<(), StoreError> {
    let actor = ActorId::from(*b"lianxin-demo-srv");
    let mut rng = demo::Rng::new(seed);
    for i in 0..count {
        let (mut case, details) = demo::case(&mut rng, i, now_ms, actor.clone());
        if let Some(campaign) = housing.first()
            && case
                .read()
                .is_ok_and(|c| c.category.as_ref().is_some_and(|k| k.code() == "housing"))
        {
            let header = case
                .header()
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            let ed = lianxin_shared::Editor::new("registrar", header.created_at + 600_000);
            case.set_campaign(&ed, campaign, true)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
        }
        for doc in [AnyDoc::Case(case), AnyDoc::Details(details)] {
            put(store, doc, "created (demo caseload)", now_ms)?;
        }
    }
    Ok(())
}

fn unit(id: &str) -> Result<UnitId, StoreError> {
    UnitId::new(id).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// The demo's mediation ledger and leader reception days (`serve --demo`): a dozen disputes
/// at the townships' committees and ten reception days, eight held and two to come.
pub fn seed_field(store: &Store, now_ms: i64) -> Result<(), StoreError> {
    let actor = ActorId::from(*b"lianxin-demo-srv");
    let mut rng = demo::Rng::new(7);
    let disputes = lianxin_shared::demo_field::disputes(&mut rng, 12, now_ms, actor.clone());
    let days = lianxin_shared::demo_field::receptions(&mut rng, now_ms, actor);
    let docs = disputes
        .into_iter()
        .map(AnyDoc::Dispute)
        .chain(days.into_iter().map(AnyDoc::Reception));
    for doc in docs {
        put(store, doc, "created (demo ledger)", now_ms)?;
    }
    Ok(())
}

/// Stores a demo document as made by its author, received from the demo's own actor.
fn put(store: &Store, doc: AnyDoc, what: &str, now_ms: i64) -> Result<(), StoreError> {
    let access = doc.kind().access();
    let mut doc = doc.into_doc();
    let header =
        lianxin_shared::Header::of(&doc).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let what = [what.to_string()];
    let received = crate::store::Received {
        user: &header.created_by,
        actor: "lianxin-demo-srv",
        at: now_ms,
        what: &what,
    };
    store.put_snapshot(&mut doc, access, &received).map(|_| ())
}
