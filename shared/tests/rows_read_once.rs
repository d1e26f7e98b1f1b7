//! A tablet's first sync makes each case's row and its details' row from one reading of the
//! details (`AnyDoc::details_in`, `AnyDoc::row_of_read`): those rows are the rows the opened
//! documents give (`AnyDoc::row_with`), and details that are not a case's details (another
//! kind, or a damaged header) leave the case's row as it is without them.
#![cfg(feature = "demo")]

use automerge::ActorId;
use lianxin_shared::rules::{Calendar, Limits};
use lianxin_shared::{AnyDoc, DetailsDoc, DetailsRow, StoredRow, demo};

const NOW: i64 = 1_764_000_000_000;

#[test]
fn rows_from_details_read_once_are_the_rows_of_the_opened_documents() {
    let (limits, calendar) = (Limits::default(), Calendar::default());
    let mut rng = demo::Rng::new(11);
    for i in 0..60 {
        let (case, details) = demo::case(&mut rng, i, NOW, ActorId::from([3u8; 16].as_slice()));
        let read = AnyDoc::details_in(details.doc()).unwrap().unwrap();
        let opened = AnyDoc::open(case.doc().clone()).unwrap();
        let expected = opened
            .row_with(
                Some(&DetailsDoc::from_doc(details.doc().clone()).unwrap()),
                &limits,
                &calendar,
            )
            .unwrap();
        let row = AnyDoc::row_of_read(case.doc(), Some(&read), &limits, &calendar).unwrap();
        assert_eq!(row, expected, "case {i}");
        assert_eq!(
            AnyDoc::row_of(case.doc(), Some(details.doc()), &limits, &calendar).unwrap(),
            expected
        );
        // The details' own row from the same reading.
        let own = AnyDoc::open(details.doc().clone())
            .unwrap()
            .row_with(None, &limits, &calendar)
            .unwrap();
        assert_eq!(StoredRow::Details(DetailsRow::of(&read)), own);
        // Without the details, the row the opened case gives alone.
        let bare = AnyDoc::row_of_read(case.doc(), None, &limits, &calendar).unwrap();
        assert_eq!(bare, opened.row_with(None, &limits, &calendar).unwrap());
        // A case is not a case's details: read as none, and the row is the bare one.
        assert_eq!(AnyDoc::details_in(case.doc()).unwrap(), None);
        assert_eq!(
            AnyDoc::row_of(case.doc(), Some(case.doc()), &limits, &calendar).unwrap(),
            bare
        );
        // Nor is an empty document (no header).
        let empty = automerge::AutoCommit::new();
        assert_eq!(AnyDoc::details_in(&empty).unwrap(), None);
        assert_eq!(
            AnyDoc::row_of(case.doc(), Some(&empty), &limits, &calendar).unwrap(),
            bare
        );
    }
}

#[test]
fn the_details_change_the_rows_of_the_cases_whose_petitioners_they_hold() {
    let (limits, calendar) = (Limits::default(), Calendar::default());
    let mut rng = demo::Rng::new(11);
    let differ = (0..60)
        .filter(|i| {
            let (case, details) =
                demo::case(&mut rng, *i, NOW, ActorId::from([3u8; 16].as_slice()));
            let read = AnyDoc::details_in(details.doc()).unwrap();
            AnyDoc::row_of_read(case.doc(), read.as_ref(), &limits, &calendar).unwrap()
                != AnyDoc::row_of_read(case.doc(), None, &limits, &calendar).unwrap()
        })
        .count();
    assert!(differ > 10, "{differ} of 60");
}
