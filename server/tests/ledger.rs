//! Ledgers 台账 through real devices and a real server: an office's own Excel ledger (hundreds
//! of rows, two variants of headers, some bad rows) previewed, imported as cases with dated
//! steps, imported again without duplicates; the case ledger written as XLSX and read back
//! (calamine) and as CSV with a BOM; exports and imports allowed only to the roles DOMAIN.md
//! allows, and each recorded on the server (who, when, what, how many rows).

mod common;

use calamine::{Data, Reader};
use common::*;
use lianxin_server::device::DeviceError;
use lianxin_server::now_ms;
use lianxin_shared::Date;
use rust_xlsxwriter::Workbook;

const CATEGORIES: [&str; 4] = ["征地补偿", "劳资纠纷/欠薪", "城建拆迁", "社保"];
const UNITS: [&str; 3] = ["县人社局", "县自然资源局", "龙溪镇"];

fn today() -> Date {
    Date::from_unix_ms_china(now_ms())
}

/// 龙溪镇's ledger as its clerk keeps it: a title row, then the header; 240 rows of which the
/// 7th has no 反映问题, the 50th an unreadable date, the 89th a conclusion before it was
/// registered; the 120th an unknown category (read, with a warning).
fn xlsx_fixture(path: &std::path::Path) -> usize {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "龙溪镇2026年信访事项登记台账")
        .unwrap();
    let headers = [
        "编号",
        "登记日期",
        "信访人",
        "身份证号",
        "联系电话",
        "住址",
        "信访形式",
        "人数",
        "问题类别",
        "反映问题",
        "责任单位",
        "包案领导",
        "办理情况",
        "办结日期",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let start = today().add_days(-200);
    for i in 0..240usize {
        let r = (i + 2) as u32;
        let day = start.add_days((i / 2) as i32);
        let (y, m, d) = day.ymd();
        sheet
            .write_string(r, 0, format!("龙信〔2026〕{:03}号", i + 1))
            .unwrap();
        if i == 49 {
            sheet.write_string(r, 1, "三月初").unwrap();
        } else {
            let when =
                rust_xlsxwriter::ExcelDateTime::from_ymd(y as u16, m as u8, d as u8).unwrap();
            sheet
                .write_datetime_with_format(r, 1, &when, &date)
                .unwrap();
        }
        sheet.write_string(r, 2, format!("村民{i}")).unwrap();
        sheet
            .write_string(r, 3, format!("43058119650412{:04}", i))
            .unwrap();
        sheet
            .write_number(r, 4, 13_807_390_000.0 + i as f64)
            .unwrap();
        sheet
            .write_string(r, 5, format!("龙溪镇王庄村{i}组"))
            .unwrap();
        sheet
            .write_string(r, 6, if i % 3 == 0 { "来信" } else { "走访" })
            .unwrap();
        sheet.write_number(r, 7, (1 + i % 6) as f64).unwrap();
        let category = if i == 119 {
            "莫名类别"
        } else {
            CATEGORIES[i % 4]
        };
        sheet.write_string(r, 8, category).unwrap();
        if i != 6 {
            sheet
                .write_string(r, 9, format!("反映第{i}号土地流转款问题"))
                .unwrap();
        }
        sheet.write_string(r, 10, UNITS[i % 3]).unwrap();
        if i % 10 == 0 {
            sheet.write_string(r, 11, "刘副县长").unwrap();
        }
        // Every other case of the first hundred concluded ten days after it came.
        if i < 100 && i % 2 == 0 {
            sheet.write_string(r, 12, "已答复，支持诉求").unwrap();
            let done = if i == 88 {
                day.add_days(-3)
            } else {
                day.add_days(10)
            };
            let (y, m, d) = done.ymd();
            let when =
                rust_xlsxwriter::ExcelDateTime::from_ymd(y as u16, m as u8, d as u8).unwrap();
            sheet
                .write_datetime_with_format(r, 13, &when, &date)
                .unwrap();
        }
    }
    book.save(path).unwrap();
    240
}

/// The same office's older CSV, with other headers and dates written out in Chinese.
fn csv_fixture(path: &std::path::Path) {
    // 来访事由 is not a header the import knows: the user maps it.
    let mut text = String::from(
        "\u{feff}序号,来访日期,姓名,手机,地址,渠道,来访人数,类别,来访事由,承办单位,处理情况\n",
    );
    let start = today().add_days(-300);
    for i in 0..60 {
        let (y, m, d) = start.add_days(i).ymd();
        let date = if i % 2 == 0 {
            format!("{y}年{m}月{d}日")
        } else {
            format!("{y}/{m}/{d}")
        };
        text.push_str(&format!(
            "{i},{date},老户{i},1390739{i:04},石塘乡{i}号,来访,{},社保,要求补缴养老保险第{i}件,县人社局,在办\n",
            1 + i % 3
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn recorded(server: &TestServer) -> Vec<lianxin_server::store::LedgerEntry> {
    server.state.store.ledger_log().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offices_excel_ledger_is_previewed_imported_once_and_exported_back_with_every_export_recorded()
 {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let files = tempfile::tempdir().unwrap();
    let xlsx = files.path().join("龙溪镇台账.xlsx");
    let rows = xlsx_fixture(&xlsx);
    let csv = files.path().join("旧台账.csv");
    csv_fixture(&csv);

    // A mediator may neither import nor export; nothing is recorded.
    let mut mediator = device(&url, "mediator").await;
    let err = mediator
        .import_ledger(&xlsx, "longxi", &[], true, now_ms(), &mut |_, _| {})
        .unwrap_err();
    assert!(matches!(err, DeviceError::Forbidden(_)), "{err}");
    let out = files.path().join("调解员.xlsx");
    let err = tokio::task::block_in_place(|| mediator.export_ledger(&out, today(), now_ms()))
        .unwrap_err();
    assert!(
        err.to_string().contains("a mediator may not export"),
        "{err}"
    );
    assert!(!out.exists());
    // A tampered device that calls its mediator a registrar writes its file, but the server
    // refuses to take the record (and says so in its log).
    mediator.tamper_config("role", "registrar");
    let mut mediator = mediator.reopen();
    let err = tokio::task::block_in_place(|| mediator.export_ledger(&out, today(), now_ms()))
        .unwrap_err();
    assert!(err.to_string().contains("server refuses"), "{err}");
    assert!(recorded(&server).is_empty());

    // The registrar previews: every column recognised, the bad rows named with the reason,
    // nothing written or recorded.
    let mut registrar = device(&url, "registrar").await;
    let docs = registrar.doc_count().unwrap();
    let preview = tokio::task::block_in_place(|| {
        registrar.import_ledger(&xlsx, "longxi", &[], true, now_ms(), &mut |_, _| {})
    })
    .unwrap();
    assert!(
        preview.mapping.iter().all(|(_, t)| t.is_some()),
        "{:?}",
        preview.mapping
    );
    let problems: Vec<(usize, &str)> = preview
        .problems
        .iter()
        .map(|p| (p.row, p.reason.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (9, "没有反映问题（诉求摘要）"),
            (52, "登记日期“三月初”无法识别"),
            (91, "办结日期早于登记日期"),
        ],
        "rows counted as the sheet numbers them (title row 1, header row 2)"
    );
    assert_eq!(preview.created, rows - 3);
    assert!(
        preview
            .warnings
            .iter()
            .any(|(row, w)| *row == 122 && w[0].contains("莫名类别")),
        "{:?}",
        preview.warnings
    );
    assert_eq!(registrar.doc_count().unwrap(), docs);
    assert!(recorded(&server).is_empty());

    // Imported: each row a case with its details, dated steps; what a registrar may not
    // record (a conclusion) left out and said.
    let mut seen = Vec::new();
    let report = tokio::task::block_in_place(|| {
        registrar.import_ledger(&xlsx, "longxi", &[], false, now_ms(), &mut |done, all| {
            seen.push((done, all))
        })
    })
    .unwrap();
    assert_eq!(
        seen.last(),
        Some(&(rows - 3, rows - 3)),
        "progress to the end"
    );
    assert_eq!((report.created, report.updated), (rows - 3, 0));
    assert!(
        report
            .warnings
            .iter()
            .any(|(_, w)| w.iter().any(|l| l.contains("办结日期须由承办单位录入"))),
        "{:?}",
        report.warnings
    );
    let sync = registrar.sync().await.unwrap();
    assert!(sync.refused.is_empty(), "{:?}", sync.refused);
    assert_eq!(registrar.doc_count().unwrap(), docs + 2 * (rows - 3));
    let log = recorded(&server);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].user.as_str(), log[0].action.as_str(), log[0].rows),
        ("registrar", "import", rows - 3)
    );
    assert!(log[0].what.contains("龙溪镇台账.xlsx"), "{}", log[0].what);

    // Imported again: matched by 编号, nothing duplicated.
    let again = tokio::task::block_in_place(|| {
        registrar.import_ledger(&xlsx, "longxi", &[], false, now_ms(), &mut |_, _| {})
    })
    .unwrap();
    assert_eq!((again.created, again.updated), (0, rows - 3));
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    assert_eq!(registrar.doc_count().unwrap(), docs + 2 * (rows - 3));

    // An imported case is what the ledger said: received on its day, assigned to its unit,
    // its details in full here, its deadline from its own day.
    let export = registrar.export_as_of(today()).unwrap();
    let case = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reference"] == "龙信〔2026〕001号")
        .unwrap()
        .clone();
    let day0 = today().add_days(-200);
    assert_eq!(case["steps"][0]["kind"], "registered");
    assert_eq!(case["steps"][0]["on"], day0.to_string());
    assert_eq!(case["responsible_unit"], "hrss");
    assert_eq!(case["petitioners"][0]["id_number"], "430581196504120000");
    assert_eq!(case["petitioners"][0]["phone"], "13807390000");
    assert_eq!(case["category"], "land");
    assert_eq!(case["people"], 1);
    assert_eq!(case["lifecycle"]["state"], "assigned");
    assert!(
        case["notes"].as_str().unwrap().contains("台账记载办结日期"),
        "{}",
        case["notes"]
    );

    // The handler of 县人社局 may import (its own units) and records conclusions; it brings
    // the same ledger's conclusions in for the cases it handles.
    let mut handler = device(&url, "handler").await;
    let unmapped = tokio::task::block_in_place(|| {
        handler.import_ledger(&csv, "hrss", &[], true, now_ms(), &mut |_, _| {})
    })
    .unwrap();
    assert_eq!(
        unmapped.problems.len(),
        60,
        "no summary without the mapping"
    );
    assert_eq!(unmapped.problems[0].row, 2);
    let map = [
        (
            "来访事由".to_string(),
            Some(lianxin_shared::ledger::Target::Summary),
        ),
        ("处理情况".to_string(), None),
    ];
    let csv_report = tokio::task::block_in_place(|| {
        handler.import_ledger(&csv, "hrss", &map, false, now_ms(), &mut |_, _| {})
    })
    .unwrap();
    assert_eq!(csv_report.created, 60, "{:?}", csv_report.problems);
    assert!(
        csv_report.mapping.contains(&("处理情况".to_string(), None)),
        "处理情况 ignored as the user said: {:?}",
        csv_report.mapping
    );
    assert!(handler.sync().await.unwrap().refused.is_empty());
    let imported = handler.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["summary"] == "要求补缴养老保险第0件")
        .cloned()
        .unwrap();
    assert_eq!(imported["notes"], "", "the ignored column wrote nothing");
    assert_eq!(imported["petitioners"][0]["phone"], "13907390000");

    // The ledger written as XLSX and read back: the headers, a row per case, real dates, the
    // details in full where the registrar's unit handles the case.
    let mut township = device(&url, "mediator").await;
    township
        .new_dispute("longxi", "local", "邻里宅基地界址纠纷", now_ms())
        .unwrap();
    assert!(township.sync().await.unwrap().refused.is_empty());
    let out = files.path().join("信访事项台账.xlsx");
    registrar.sync().await.unwrap();
    let cases = registrar.export().unwrap()["cases"]
        .as_array()
        .unwrap()
        .len();
    let written =
        tokio::task::block_in_place(|| registrar.export_ledger(&out, today(), now_ms())).unwrap();
    assert_eq!(written, cases);
    let mut book = calamine::open_workbook_auto(&out).unwrap();
    assert_eq!(
        book.sheet_names(),
        ["信访事项台账", "矛盾纠纷台账", "领导接访台账"]
    );
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        &header[..6],
        ["编号", "登记日期", "信访人", "身份证号", "联系电话", "住址"]
    );
    assert_eq!(range.height(), written + 1);
    let row = range
        .rows()
        .find(|r| r[0] == Data::String("龙信〔2026〕001号".into()))
        .unwrap();
    assert!(
        matches!(row[1], Data::DateTime(_)),
        "a real date: {:?}",
        row[1]
    );
    assert_eq!(row[3], Data::String("430581196504120000".into()));
    let disputes = book.worksheet_range("矛盾纠纷台账").unwrap();
    assert!(
        disputes
            .rows()
            .any(|r| r[2] == Data::String("邻里宅基地界址纠纷".into())),
        "the dispute ledger"
    );

    // CSV: UTF-8 with a BOM, the same rows.
    let out_csv = files.path().join("台账.csv");
    tokio::task::block_in_place(|| registrar.export_ledger(&out_csv, today(), now_ms())).unwrap();
    let bytes = std::fs::read(&out_csv).unwrap();
    assert!(bytes.starts_with("\u{feff}编号,登记日期".as_bytes()));

    // Each export recorded: who, what, how many rows.
    let log = recorded(&server);
    let exports: Vec<_> = log.iter().filter(|e| e.action == "export").collect();
    assert_eq!(exports.len(), 2, "{log:?}");
    assert!(
        exports
            .iter()
            .all(|e| e.user == "registrar" && e.rows == written)
    );
    assert!(
        log.iter()
            .any(|e| e.user == "handler" && e.action == "import" && e.rows == 60)
    );
}

/// An assisting unit's handler exports: the case it only assists on shows its petitioner's
/// details masked in the ledger, as on its screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_carries_personal_details_only_for_cases_the_exporter_handles() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut registrar = device(&url, "registrar").await;
    let id = registrar
        .new_case("longxi", "visit", "协办的案件", now_ms())
        .unwrap()
        .to_string();
    registrar
        .add_petitioner(
            &id,
            "赵某",
            [
                Some("430581196504120017".into()),
                Some("13807390011".into()),
                None,
            ],
            now_ms(),
        )
        .unwrap();
    let hrss = lianxin_shared::UnitId::new("hrss").unwrap();
    registrar
        .edit_case(&id, now_ms(), |c, ed| c.set_assisting(ed, &hrss, true))
        .unwrap();
    registrar.sync().await.unwrap();
    let mut handler = device(&url, "handler").await;
    handler.sync().await.unwrap();
    let files = tempfile::tempdir().unwrap();
    let out = files.path().join("协办.csv");
    tokio::task::block_in_place(|| handler.export_ledger(&out, today(), now_ms())).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let line = text.lines().find(|l| l.contains("协办的案件")).unwrap();
    assert!(
        line.contains("4305**********0017") && line.contains("138****0011"),
        "{line}"
    );
    assert!(!text.contains("430581196504120017") && !text.contains("13807390011"));
    assert_eq!(recorded(&server).len(), 1);

    // With no signal the export is made and its record waits on the device; the next sync
    // sends it.
    handler.tamper_config("server", "http://127.0.0.1:9");
    let mut handler = handler.reopen();
    tokio::task::block_in_place(|| handler.export_ledger(&out, today(), now_ms())).unwrap();
    assert_eq!(recorded(&server).len(), 1, "not yet");
    handler.tamper_config("server", &url);
    let mut handler = handler.reopen();
    handler.sync().await.unwrap();
    let log = recorded(&server);
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter()
            .all(|e| e.user == "handler" && e.action == "export")
    );
}

/// The administrator's import, straight into the store: every step recorded (conclusions
/// too), each case with its details and its history; importing again updates; devices get
/// the cases at their next sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrators_import_goes_into_the_store_with_conclusions_and_once_only() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let files = tempfile::tempdir().unwrap();
    let xlsx = files.path().join("台账.xlsx");
    let rows = xlsx_fixture(&xlsx);
    let store = &server.state.store;
    let unit = lianxin_shared::UnitId::new("longxi").unwrap();
    let import = |dry| {
        lianxin_server::ledger::import_into_store(store, &xlsx, &unit, &[], dry, now_ms()).unwrap()
    };
    let dry = import(true);
    assert_eq!((dry.created, dry.problems.len()), (rows - 3, 3));
    assert_eq!(store.seq().unwrap(), 0, "a dry run stores nothing");
    let done = import(false);
    assert_eq!((done.created, done.updated), (rows - 3, 0));
    let again = import(false);
    assert_eq!((again.created, again.updated), (0, rows - 3));
    let log = recorded(&server);
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|e| e.action == "import" && e.rows == rows - 3)
    );

    let mut registrar = device(&url, "registrar").await;
    assert!(registrar.sync().await.unwrap().refused.is_empty());
    assert_eq!(registrar.doc_count().unwrap(), 2 * (rows - 3));
    let export = registrar.export_as_of(today()).unwrap();
    let case = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reference"] == "龙信〔2026〕001号")
        .unwrap()
        .clone();
    // Concluded ten days after it came, with the outcome its 办理情况 names.
    assert_eq!(case["lifecycle"]["state"], "concluded", "{}", case["steps"]);
    let concluded = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "concluded")
        .unwrap();
    assert_eq!(concluded["on"], today().add_days(-190).to_string());
    assert_eq!(concluded["outcome"], "upheld");
    assert_eq!(case["petitioners"][0]["phone"], "13807390000");
    let id = case["id"].as_str().unwrap();
    let history = registrar.history(id).unwrap();
    assert!(
        history["entries"][0]["what"][0]
            .as_str()
            .unwrap()
            .contains("ledger import"),
        "{history}"
    );
}

/// The tablet's own XLSX, without a spreadsheet library: what it writes, calamine (as Excel)
/// reads with real dates and a frozen header; what rust_xlsxwriter (as Excel) writes, it reads
/// as the command line does.
#[test]
fn the_tablets_small_xlsx_writer_and_reader_agree_with_the_libraries() {
    use lianxin_shared::ledger::{Cell, Column, Table, xlsx};
    let files = tempfile::tempdir().unwrap();
    let table = Table {
        name: "信访事项台账".into(),
        columns: ["编号", "登记日期", "信访人", "人数"]
            .iter()
            .map(|h| Column {
                header: h.to_string(),
                width: 12,
            })
            .collect(),
        rows: (0..50)
            .map(|i| {
                vec![
                    Cell::Text(format!("连信〔2026〕{i:04}号")),
                    Cell::Date(Date::from_ymd(2026, 3, 1 + (i % 28) as u32).unwrap()),
                    Cell::Text(format!("王某{i} & 李某")),
                    Cell::Int(i as i64 + 1),
                ]
            })
            .collect(),
    };
    let ours = files.path().join("tablet.xlsx");
    std::fs::write(&ours, xlsx::write(std::slice::from_ref(&table))).unwrap();
    let mut book = calamine::open_workbook_auto(&ours).unwrap();
    assert_eq!(book.sheet_names(), ["信访事项台账"]);
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.height(), 51);
    let row = range.rows().nth(3).unwrap();
    assert_eq!(row[0], Data::String("连信〔2026〕0002号".into()));
    assert!(
        matches!(row[1], Data::DateTime(_)),
        "a real date: {:?}",
        row[1]
    );
    assert_eq!(row[2], Data::String("王某2 & 李某".into()));
    assert_eq!(row[3], Data::Float(3.0));

    // The office's workbook from Excel (here rust_xlsxwriter: shared strings, a title row).
    let theirs = files.path().join("office.xlsx");
    let rows = xlsx_fixture(&theirs);
    let read = xlsx::read_first_sheet(&std::fs::read(&theirs).unwrap()).unwrap();
    let (header, body, first) = lianxin_server::ledger::read_sheet(&theirs).unwrap();
    let at = lianxin_shared::ledger::find_header(&read).unwrap();
    assert_eq!(read[at], header);
    assert_eq!(read.len() - at - 1, body.len());
    assert_eq!(at + 2, first);
    for (a, b) in read[at + 1..].iter().zip(&body) {
        let trim = |r: &[String]| {
            let mut r = r.to_vec();
            while r.last().is_some_and(|c| c.is_empty()) {
                r.pop();
            }
            r
        };
        assert_eq!(trim(a), trim(b));
    }
    assert_eq!(body.len(), rows);
}
