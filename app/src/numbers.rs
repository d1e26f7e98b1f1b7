//! Reference numbers 连信〔YYYY〕NNNN号 on the tablet. The server gives each device blocks of
//! numbers (`POST /api/references`, kept in `lianxin.refs.USER`); a case registered here takes
//! the next one, with a signal or without, so numbers stay unique across devices working
//! offline. With none left (a first sign-in made offline, a very busy day) the case is
//! registered without one and shows "编号待分配" until the next block arrives, when this device
//! numbers its waiting cases itself (`lianxin.refs_waiting.USER`).

use lianxin_shared::protocol::ReferenceBlock;
use lianxin_shared::{DocId, Field};

use crate::{storage, with_engine};

/// Below this many numbers left, the next sync asks for another block.
const LOW: u32 = 10;

fn key(kind: &str, user: &str) -> String {
    format!("lianxin.{kind}.{user}")
}

fn load<T: serde::de::DeserializeOwned + Default>(k: &str) -> T {
    storage()
        .and_then(|s| s.get_item(k).ok().flatten())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default()
}

fn save<T: serde::Serialize>(k: &str, v: &T) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(v)) {
        let _ = s.set_item(k, &json);
    }
}

/// The numbers not yet used: (block, next number).
fn blocks(user: &str) -> Vec<(ReferenceBlock, u32)> {
    load(&key("refs", user))
}

/// Numbers left for `year`.
fn left(user: &str, year: i32) -> u32 {
    blocks(user)
        .iter()
        .filter(|(b, _)| b.year == year)
        .map(|(b, next)| b.first + b.count - next)
        .sum()
}

/// The next reference of `year` for a case registered by `user` on this device, if it holds one.
pub fn take(user: &str, year: i32) -> Option<String> {
    let mut all = blocks(user);
    let (block, next) = all
        .iter_mut()
        .find(|(b, next)| b.year == year && *next < b.first + b.count)?;
    let reference = block.number(*next);
    *next += 1;
    save(&key("refs", user), &all);
    Some(reference)
}

/// Remembers a case registered with no number left, to number it when a block arrives.
pub fn wait_for_number(user: &str, case: DocId) {
    let k = key("refs_waiting", user);
    let mut waiting: Vec<String> = load(&k);
    waiting.push(case.to_string());
    save(&k, &waiting);
}

/// After a sync: asks for a block if few numbers are left, then numbers the cases waiting.
pub async fn top_up(user: String) {
    // One at a time: two syncs settling close together each asked for a block, and a block
    // taken and never used leaves a gap in the office's numbering.
    thread_local! {
        static ASKING: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    }
    crate::one_at_a_time(&ASKING, || top_up_now(&user)).await;
}

async fn top_up_now(user: &str) {
    let year = crate::today().ymd().0;
    if left(user, year) < LOW {
        let Some(token) = with_engine(|e| e.token()) else {
            return;
        };
        if let Ok((200, body)) = crate::gate::post("/api/references", None, Some(&token)).await
            && let Ok(block) = serde_json::from_str::<ReferenceBlock>(&body)
        {
            let mut all = blocks(user);
            all.retain(|(b, next)| b.year >= year && *next < b.first + b.count);
            all.push((block, block.first));
            save(&key("refs", user), &all);
        }
    }
    let k = key("refs_waiting", user);
    let waiting: Vec<String> = load(&k);
    let mut still = Vec::new();
    for id in waiting {
        let Ok(doc) = id.parse::<DocId>() else {
            continue;
        };
        let has = with_engine(|e| e.read(doc))
            .flatten()
            .is_some_and(|c| c.reference.is_some_and(|r| !r.is_empty()));
        if has {
            continue;
        }
        let Some(reference) = take(user, year) else {
            still.push(id);
            continue;
        };
        let ed = lianxin_shared::Editor::new(user, js_sys::Date::now() as i64);
        let done = with_engine(|e| {
            e.edit(doc, |c| match c {
                Some(c) => c.set(Field::Reference, &reference, &ed),
                None => Err(crate::not_here("case")),
            })
        });
        if !matches!(done, Some(Ok(()))) {
            still.push(id);
        }
    }
    save(&k, &still);
}
