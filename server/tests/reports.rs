//! The office's reports computed on a device that holds the whole caseload equal the server's
//! official figures over the same synced data, report by report; a township's device computes
//! the same reports over its own cases only.

mod common;

use common::*;
use lianxin_server::now_ms;
use lianxin_server::reports::{self, Ask};
use lianxin_shared::Date;
use lianxin_shared::rules::Limits;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_holding_the_whole_caseload_computes_exactly_the_servers_figures() {
    let server = TestServer::start().await;
    lianxin_server::demo::store_cases(&server.state.store, 400, 9, now_ms()).unwrap();
    let url = server.url.clone();
    // The bureau's registrar holds every case and every case's details.
    let mut registrar = device(&url, "registrar").await;
    registrar.sync().await.unwrap();
    // Work done since on another device reaches both.
    let mut handler = device(&url, "handler").await;
    handler.sync().await.unwrap();
    let today = Date::from_unix_ms_china(now_ms());
    let open = handler.export_as_of(today).unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["lifecycle"]["state"] == "handling")
        .map(|c| c["id"].as_str().unwrap().to_string());
    if let Some(id) = open {
        handler
            .step(
                &id,
                &lianxin_shared::StepDraft {
                    kind: lianxin_shared::StepKind::Concluded,
                    on: today,
                    reason: None,
                    outcome: Some("explained".into()),
                },
                now_ms(),
            )
            .unwrap();
        assert!(handler.sync().await.unwrap().refused.is_empty());
    }
    registrar.sync().await.unwrap();

    let on_device = registrar.caseload().unwrap();
    let on_server = reports::from_store(&server.state.store).unwrap();
    assert_eq!((on_device.len(), on_server.len()), (400, 400));
    let month = {
        let (y, m, _) = today.ymd();
        format!("{y:04}-{m:02}")
    };
    let asks = [
        Ask::Bulletin { on: today },
        Ask::Bulletin {
            on: today.add_days(-3),
        },
        Ask::Figures {
            from: today.add_days(-99),
            to: today,
            unit: None,
        },
        Ask::Figures {
            from: today.add_days(-99),
            to: today,
            unit: Some("longxi".into()),
        },
        Ask::Rates {
            from: today.add_days(-89),
            to: today,
        },
        Ask::Rates {
            from: today.add_days(-30),
            to: today,
        },
        Ask::Assessment { month },
    ];
    let limits = Limits::default();
    for ask in &asks {
        let (d, s) = (
            on_device.report(ask, &limits),
            on_server.report(ask, &limits),
        );
        assert_eq!(d, s, "{ask:?}");
    }
    // The figures are not empty: the demo county's cases all came in the last 100 days.
    let figures = on_server.report(&asks[2], &limits);
    assert_eq!(figures["total"]["now"]["matters"], 400);
    let rates = on_server.report(&asks[4], &limits);
    assert!(
        rates["overall"]["on_time"]["den"].as_u64().unwrap() > 0,
        "{rates}"
    );
    assert!(
        rates["overall"]["repeat"]["num"].as_u64().unwrap() > 0,
        "{rates}"
    );
    let assessment = on_server.report(&asks[6], &limits);
    assert_eq!(assessment["months"].as_array().unwrap().len(), 6);
    assert!(
        !assessment["months"][5]["scores"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{assessment}"
    );

    // Every report's tables written as XLSX and read back: a sheet each, Chinese headers.
    use calamine::Reader;
    let files = tempfile::tempdir().unwrap();
    let asks_and_sheets: [(&Ask, &[&str]); 4] = [
        (&asks[0], &["日通报", "四色督办"]),
        (
            &asks[2],
            &[
                "合计",
                "按渠道",
                "按去向",
                "按形式",
                "按类别",
                "按来源",
                "按单位",
            ],
        ),
        (&asks[4], &["考核指标"]),
        (&asks[6], &["历月名次"]),
    ];
    for (i, (ask, sheets)) in asks_and_sheets.into_iter().enumerate() {
        let path = files.path().join(format!("report{i}.xlsx"));
        let tables = on_server.tables(ask, &limits);
        lianxin_server::ledger::write_xlsx(&tables, &path).unwrap();
        let mut book = calamine::open_workbook_auto(&path).unwrap();
        let names = book.sheet_names();
        for sheet in sheets {
            assert!(names.iter().any(|n| n == sheet), "{ask:?}: {names:?}");
        }
        let first = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(
            first.rows().next().unwrap()[0].to_string(),
            tables[0].columns[0].header
        );
        assert_eq!(first.height(), tables[0].rows.len() + 1);
    }
    // The rates table's overall row says what the JSON says.
    let table = &on_server.tables(&asks[4], &limits)[0];
    let on_time = &rates["overall"]["on_time"];
    let shown = lianxin_shared::report::Rate {
        num: on_time["num"].as_u64().unwrap() as usize,
        den: on_time["den"].as_u64().unwrap() as usize,
    }
    .shown();
    assert_eq!(table.rows[0][2].display(), shown);
    let csv = files.path().join("rates.csv");
    lianxin_server::ledger::write_csv_tables(&on_server.tables(&asks[6], &limits), &csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("\u{feff}月考评"),
        "{}",
        &text[..40.min(text.len())]
    );

    // 龙溪镇's mediator: the same reports over the township's own cases.
    let mut mediator = device(&url, "mediator").await;
    mediator.sync().await.unwrap();
    let township = mediator.caseload().unwrap();
    assert!(township.len() < 400 && !township.is_empty());
    let theirs = township.report(&asks[2], &limits);
    assert_eq!(
        theirs["total"]["now"]["matters"].as_u64().unwrap() as usize,
        township.len()
    );
}
