//! The rows a tablet keeps in one piece (`pack_rows` / `unpack_rows`): every kind of row comes
//! back as it went in, JSON rows and packed rows agree, and a pack of another format or
//! damaged bytes is not read (its rows are then made again from their documents).
#![cfg(feature = "demo")]

use automerge::ActorId;
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{
    AnyDoc, DocId, Editor, Header, ROW_PACK_FORMAT, ReferenceDoc, StoredRow, UnitId, demo,
    demo_field, pack_rows, unpack_rows,
};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_764_000_000_000;

/// Rows of every kind from the demo caseload: cases (with and without details), their
/// details, disputes, reception days and the office's reference document.
fn rows() -> Vec<(DocId, StoredRow)> {
    let (limits, calendar) = (Limits::default(), Calendar::default());
    let actor = || ActorId::from([7u8; 16].as_slice());
    let mut rng = demo::Rng::new(7);
    let mut docs: Vec<(automerge::AutoCommit, Option<automerge::AutoCommit>)> = Vec::new();
    for i in 0..40 {
        let (case, details) = demo::case(&mut rng, i, NOW, actor());
        let with = (i % 2 == 0).then(|| details.doc().clone());
        docs.push((case.doc().clone(), with));
        docs.push((details.doc().clone(), None));
    }
    for d in demo_field::disputes(&mut rng, 10, NOW, actor()) {
        docs.push((d.doc().clone(), None));
    }
    for r in demo_field::receptions(&mut rng, NOW, actor()) {
        docs.push((r.doc().clone(), None));
    }
    let editor = Editor::new("admin", NOW);
    let mut reference = ReferenceDoc::create(&UnitId::new("county").unwrap(), &editor, actor());
    reference.set_rule(&editor, "on_time", 12).unwrap();
    docs.push((reference.doc().clone(), None));
    docs.iter()
        .map(|(doc, details)| {
            let id = Header::of(doc).unwrap().id;
            let mut row = AnyDoc::row_of(doc, details.as_ref(), &limits, &calendar).unwrap();
            // Some waiting to go up, as on a tablet with offline edits.
            if id.to_string().ends_with(['0', '5', 'a']) {
                row.set_pending(true);
            }
            (id, row)
        })
        .collect()
}

#[test]
fn every_kind_of_row_comes_back_as_it_went_in() {
    let rows = rows();
    let kinds = |rows: &[(DocId, StoredRow)]| {
        let mut k: Vec<&str> = rows
            .iter()
            .map(|(_, r)| match r {
                StoredRow::Case(_) => "case",
                StoredRow::Dispute(_) => "dispute",
                StoredRow::Reception(_) => "reception",
                StoredRow::Details(_) => "details",
                StoredRow::Reference(_) => "reference",
            })
            .collect();
        k.dedup();
        k.sort();
        k.dedup();
        k
    };
    assert_eq!(
        kinds(&rows),
        ["case", "details", "dispute", "reception", "reference"]
    );
    assert!(rows.iter().any(|(_, r)| r.pending()));
    // Petitioners with and without an ID number (the digests a row keeps for linking).
    let keys: Vec<_> = rows
        .iter()
        .filter_map(|(_, r)| match r {
            StoredRow::Case(c) => Some(c.petitioners.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(keys.iter().any(|k| k.id.is_some()) && keys.iter().any(|k| k.id.is_none()));

    let packed = pack_rows(rows.iter().map(|(id, r)| (id, r))).unwrap();
    let back = unpack_rows(&packed).expect("a pack reads back");
    assert_eq!(back, rows);
    // The same rows as the JSON each row is kept as on its own.
    for (_, row) in &back {
        let json = serde_json::to_string(row).unwrap();
        assert_eq!(&serde_json::from_str::<StoredRow>(&json).unwrap(), row);
    }
    assert_eq!(
        unpack_rows(&pack_rows(std::iter::empty()).unwrap()),
        Some(vec![])
    );
}

#[test]
fn a_pack_of_another_format_or_damaged_is_not_read() {
    let rows = rows();
    let packed = pack_rows(rows.iter().map(|(id, r)| (id, r))).unwrap();
    // Another format number: not read, even though the rest would decode.
    let mut other = packed.clone();
    other[4..8].copy_from_slice(&(ROW_PACK_FORMAT + 1).to_le_bytes());
    assert_eq!(unpack_rows(&other), None);
    // Not a pack at all, cut short, or a JSON row.
    assert_eq!(unpack_rows(b""), None);
    assert_eq!(unpack_rows(b"LXRP"), None);
    assert_eq!(unpack_rows(&packed[..packed.len() / 2]), None);
    let json = serde_json::to_vec(&rows[0].1).unwrap();
    assert_eq!(unpack_rows(&json), None);
}

/// One row of each kind, written out in full (JSON, as each row is also kept on its own).
const FIXED: [(&str, &str); 5] = [
    (
        "1a82e79b05b5faebf5ba4eb728dd632c",
        r#"{"type":"case","reference":"连信〔2025〕0001号","summary":"代表1名农民工反映工程款结算后工资仍未发放","unit":"hrss","channel":"online","state":"handling","deadline":{"kind":"conclude","due":"2025-12-01"},"registered":"2025-09-28","category":"wages","petitioners":[{"id":null,"name_phone":"cf380f97070eeede"},{"id":"0b1c2d3e4f506172","name_phone":null}],"evaluation":{"office":"satisfied","unit":"satisfied"},"facts":{"received":"2025-09-28","level":"county","form":"individual","source":"local","people":1,"leader":"刘副县长","handler":"罗主任","register_due":"2025-10-13","assigned":"2025-09-29","accept_due":"2025-10-14","accepted":"2025-10-01","conclude_due":"2025-12-01","concluded":null,"evaluated":null,"resolved":false,"archived":false,"campaigns":["winter"]},"names":["杨小军"],"conflicted":true,"package_due":"2025-12-20","last_visit":"2025-10-28","evenings":[["2025-10-20"],[["2025-10-20",true],["2025-10-21",false]]],"pending":true}"#,
    ),
    (
        "fb4ebb95a0f1c689f17b3ed2c55cb17f",
        r#"{"type":"details","case":"1a82e79b05b5faebf5ba4eb728dd632c","pending":false}"#,
    ),
    (
        "aec1332ed594e6f5e5583858904596ec",
        r#"{"type":"dispute","summary":"石桥村两户村民因宅基地界址发生纠纷，一方砌墙占用通道","unit":"longxi","committee":"local","level":"township","result":"settled","sessions":1,"case":null,"pending":false}"#,
    ),
    (
        "14690f6735bf5a023befe0241eac4a0b",
        r#"{"type":"reception","on":"2025-11-22","leader":"周书记","place":"县信访局接待大厅","unit":"lianshan","tally":{"matters":2,"people":3,"on_the_spot":1,"deadline":1,"cases":0},"pending":false}"#,
    ),
    (
        "1baaebd60c3420be3a29729a4186f50b",
        r#"{"type":"reference","rules":{"on_time":12.0,"timely_acceptance":20.0,"satisfaction_unit":20.0,"participation":10.0,"no_repeat":10.0,"online":10.0,"capital":-5.0,"province":-2.0,"red":-1.0,"reception_day":1.0,"reception_days_max":3},"campaigns":[],"pending":false}"#,
    ),
];

/// Postcard reads fields by position, so a row type that gains, loses or reorders a field (or
/// a vocabulary that reorders its values) reads old packs wrongly unless ROW_PACK_FORMAT is
/// raised. If this fails, a row type changed: raise ROW_PACK_FORMAT, then put the new JSON and
/// digest here.
#[test]
fn a_pack_of_rows_keeps_its_bytes() {
    let rows: Vec<(DocId, StoredRow)> = FIXED
        .iter()
        .map(|(id, json)| {
            let row: StoredRow = serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("a row type changed ({e}): raise ROW_PACK_FORMAT"));
            (id.parse().unwrap(), row)
        })
        .collect();
    for ((_, json), (_, row)) in FIXED.iter().zip(&rows) {
        assert_eq!(
            &serde_json::to_string(row).unwrap(),
            json,
            "a row type changed: raise ROW_PACK_FORMAT"
        );
    }
    let packed = pack_rows(rows.iter().map(|(id, r)| (id, r))).unwrap();
    assert_eq!(unpack_rows(&packed).as_ref(), Some(&rows));
    let digest = hex::encode(Sha256::digest(&packed));
    assert_eq!(ROW_PACK_FORMAT, 2);
    assert_eq!(
        digest, "d40c6a9b7ca99d9af30aab9161fc41382499f989753bcd51a0cf585b6ffbc332",
        "the packed rows changed: raise ROW_PACK_FORMAT if a row type did"
    );
}

/// A date is its day number in a binary format (a packed row reads it without making and
/// parsing a string) and `YYYY-MM-DD` in JSON; a day number no date can be is refused.
#[test]
fn a_date_is_a_day_number_in_postcard_and_text_in_json() {
    use lianxin_shared::Date;
    for text in [
        "1970-01-01",
        "2024-02-29",
        "2026-12-02",
        "0000-01-01",
        "9999-12-31",
    ] {
        let day: Date = text.parse().unwrap();
        let bytes = postcard::to_stdvec(&day).unwrap();
        assert!(bytes.len() <= 5, "{text}: {bytes:?}");
        assert_eq!(postcard::from_bytes::<Date>(&bytes).unwrap(), day);
        assert_eq!(serde_json::to_string(&day).unwrap(), format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<Date>(&format!("\"{text}\"")).unwrap(),
            day
        );
    }
    for wild in [i32::MAX, i32::MIN, 3_000_000, -800_000] {
        let bytes = postcard::to_stdvec(&wild).unwrap();
        assert!(postcard::from_bytes::<Date>(&bytes).is_err(), "{wild}");
    }
}
