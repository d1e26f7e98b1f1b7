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
