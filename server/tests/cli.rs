//! The `lianxin` command line as a script would use it: administration, a device working with
//! no server, clear errors and non-zero exits for bad input, then a sync.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn lianxin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // A command that fails before reading its standard input (an unknown role, say) may
        // have exited already: the write then meets a closed pipe, which is no error here;
        // the exit status and output say what happened.
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: Option<&str>) -> String {
    let out = lianxin(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn fails(args: &[&str], expected: &str) {
    let out = lianxin(args, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?} must fail: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

/// Starts `lianxin serve` and waits until it listens.
fn serve(data: &str, addr: &str) -> std::process::Child {
    let server = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args(["serve", "--data", data, "--listen", addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn the_command_line_administers_works_offline_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let home = dir.path().join("tablet");
    let (data, home) = (p(&data), p(&home));

    ok(
        &[
            "admin",
            "--data",
            data,
            "unit",
            "add",
            "wugang",
            "武冈市信访局",
        ],
        None,
    );
    ok(
        &[
            "admin",
            "--data",
            data,
            "unit",
            "add",
            "dengjiashan",
            "邓家铺镇",
            "--parent",
            "wugang",
        ],
        None,
    );
    assert!(ok(&["admin", "--data", data, "unit", "list"], None).contains("邓家铺镇"));
    ok(
        &[
            "admin",
            "--data",
            data,
            "user",
            "add",
            "liu",
            "--role",
            "mediator",
            "--unit",
            "dengjiashan",
        ],
        Some("pw-liu-2026\n"),
    );
    let out = lianxin(
        &[
            "admin", "--data", data, "user", "add", "x", "--role", "king", "--unit", "wugang",
        ],
        Some("pw\n"),
    );
    assert_eq!(out.status.code(), Some(1), "an unknown role is refused");

    // The office's paper ledger of 2026 ends at 1200: tablets' numbers start above it.
    ok(
        &[
            "admin",
            "--data",
            data,
            "references",
            "--year",
            "2026",
            "--next",
            "1201",
        ],
        None,
    );
    let store = lianxin_server::store::Store::open(std::path::Path::new(data)).unwrap();
    let block = store
        .issue_references(2026, 50, "aa", "liu", 0)
        .unwrap()
        .unwrap();
    assert_eq!(
        (block.first, block.number(block.first).as_str()),
        (1201, "连信〔2026〕1201号")
    );
    drop(store);

    // The holiday calendar: Saturday 2026-12-05 made a working day, New Year's Day a holiday.
    fn cal<'a>(data: &'a str, args: &[&'a str]) -> Vec<&'a str> {
        [&["admin", "--data", data, "calendar"], args].concat()
    }
    ok(&cal(data, &["workday", "2026-12-05"]), None);
    ok(&cal(data, &["holiday", "2027-01-01", "2027-01-02"]), None);
    ok(&cal(data, &["remove", "2027-01-02"]), None);
    fails(
        &cal(data, &["holiday", "2027-01-03", "2027-13-01"]),
        "2027-13-01",
    );
    fails(&cal(data, &["remove", "2026-01-01"]), "not in the calendar");
    fails(&cal(data, &["holiday"]), "one or more dates");
    assert_eq!(
        ok(&cal(data, &["list"]), None),
        "2026-12-05\tworkday\n2027-01-01\tholiday",
        "a bad date writes none of the dates given with it"
    );

    // A server on a free port.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let url = format!("http://{addr}");
    let mut server = serve(data, &addr);
    fails(
        &["device", "--home", home, "login", &url, "liu"],
        "no password",
    );
    let wrong = lianxin(
        &["device", "--home", home, "login", &url, "liu"],
        Some("guess\n"),
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong username or password"));
    ok(
        &["device", "--home", home, "login", &url, "liu"],
        Some("pw-liu-2026\n"),
    );
    server.kill().unwrap();
    server.wait().unwrap();

    // No server from here on: every edit works offline.
    let id = ok(
        &[
            "device",
            "--home",
            home,
            "case",
            "new",
            "--unit",
            "dengjiashan",
            "--channel",
            "visit",
            "--summary",
            "刘某反映山林权属纠纷",
        ],
        None,
    );
    assert_eq!(id.len(), 32);
    ok(
        &[
            "device", "--home", home, "case", "set", &id, "level", "township",
        ],
        None,
    );
    ok(
        &[
            "device",
            "--home",
            home,
            "case",
            "note",
            &id,
            "第一次调解，双方各执一词。",
        ],
        None,
    );
    let visit = ok(
        &[
            "device",
            "--home",
            home,
            "case",
            "follow-up",
            &id,
            "到山场现场勘察",
        ],
        None,
    );
    ok(
        &[
            "device",
            "--home",
            home,
            "case",
            "step",
            &id,
            "registered",
            "--on",
            "2026-11-20",
        ],
        None,
    );
    let export: serde_json::Value = serde_json::from_str(&ok(
        &["device", "--home", home, "export", "--today", "2026-11-22"],
        None,
    ))
    .unwrap();
    let case = &export["cases"][0];
    assert_eq!(case["id"], id.as_str());
    assert_eq!(case["level"], "township");
    assert_eq!(case["notes"], "第一次调解，双方各执一词。");
    assert_eq!(case["follow_ups"][0]["id"], visit.as_str());
    assert_eq!(case["synced"], false);
    assert_eq!(case["lifecycle"]["state"], "registered");
    // Registered on Friday 11-20: 15 days later is Saturday 12-05, a working day in the
    // calendar the device got at login (else it would move to Monday 12-07).
    assert_eq!(case["lifecycle"]["deadline"]["due"], "2026-12-05");
    assert_eq!(export["today"], "2026-11-22");

    // Unknown fields, ids and values: a clear error and exit 1, and nothing changed.
    fails(
        &[
            "device", "--home", home, "case", "set", &id, "colour", "red",
        ],
        "unknown field \"colour\"",
    );
    fails(
        &[
            "device", "--home", home, "case", "set", &id, "level", "moon",
        ],
        "invalid value \"moon\" for level",
    );
    fails(
        &["device", "--home", home, "case", "set", &id, "people", "0"],
        "number of people",
    );
    fails(
        &[
            "device",
            "--home",
            home,
            "case",
            "note",
            "0123456789abcdef0123456789abcdef",
            "x",
        ],
        "no case",
    );
    fails(
        &["device", "--home", home, "case", "note", "not-an-id", "x"],
        "no case",
    );
    fails(
        &[
            "device",
            "--home",
            home,
            "case",
            "new",
            "--unit",
            "wugang",
            "--channel",
            "visit",
            "--summary",
            "x",
        ],
        "not one this user",
    );
    fails(
        &[
            "device",
            "--home",
            home,
            "case",
            "new",
            "--unit",
            "dengjiashan",
            "--channel",
            "pigeon",
            "--summary",
            "x",
        ],
        "channel",
    );
    fails(
        &["device", "--home", home, "case", "step", &id, "extended"],
        "needs a reason",
    );
    fails(
        &[
            "device",
            "--home",
            home,
            "case",
            "step",
            &id,
            "registered",
            "--on",
            "2026-02-30",
        ],
        "2026-02-30",
    );
    fails(
        &["device", "--home", home, "export", "--today", "yesterday"],
        "yesterday",
    );
    fails(&["device", "--home", home, "sync"], "unreachable");
    let again: serde_json::Value = serde_json::from_str(&ok(
        &["device", "--home", home, "export", "--today", "2026-11-22"],
        None,
    ))
    .unwrap();
    assert_eq!(again, export, "refused commands changed nothing");

    // The server is back: sync sends it, and a second device of the same user receives it.
    let mut server = serve(data, &addr);
    assert!(ok(&["device", "--home", home, "sync"], None).starts_with("synced"));
    let other = dir.path().join("tablet2");
    ok(
        &["device", "--home", p(&other), "login", &url, "liu"],
        Some("pw-liu-2026\n"),
    );
    ok(&["device", "--home", p(&other), "sync"], None);
    let there: serde_json::Value =
        serde_json::from_str(&ok(&["device", "--home", p(&other), "export"], None)).unwrap();
    assert_eq!(there["cases"][0]["notes"], "第一次调解，双方各执一词。");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_real_offices_first_start_sets_up_the_county_its_admin_https_and_lists_devices() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = p(&data);
    // A weak password is refused and nothing is created.
    let out = lianxin(
        &["admin", "--data", data, "init", "--county", "武冈县"],
        Some("short1\n"),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 10 characters"));
    let out = lianxin(
        &["admin", "--data", data, "init", "--county", "武冈县"],
        Some("password2026\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(ok(&["admin", "--data", data, "unit", "list"], None), "");
    let said = ok(
        &[
            "admin",
            "--data",
            data,
            "init",
            "--county",
            "武冈县",
            "--id",
            "wugang",
        ],
        Some("Bamboo river 7\n"),
    );
    assert!(said.contains("administrator admin"), "{said}");
    assert_eq!(
        ok(&["admin", "--data", data, "unit", "list"], None),
        "wugang\t武冈县"
    );
    // Only once.
    let out = lianxin(
        &["admin", "--data", data, "init", "--county", "别的县"],
        Some("Bamboo river 7\n"),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has units"));

    // The office CA and the server's certificate.
    let said = ok(
        &[
            "admin",
            "--data",
            data,
            "tls",
            "init",
            "--name",
            "lianxin.wugang.lan",
            "--ip",
            "192.168.1.20",
        ],
        None,
    );
    assert!(said.contains("SPKI"), "{said}");
    let tls = Path::new(data).join("tls");
    for file in ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"] {
        assert!(tls.join(file).is_file(), "{file}");
    }
    let ca = std::fs::read(tls.join("ca.pem")).unwrap();
    // Run again for a new name: the CA stays (tablets need not install a new one).
    ok(
        &[
            "admin",
            "--data",
            data,
            "tls",
            "init",
            "--name",
            "lianxin2.wugang.lan",
        ],
        None,
    );
    assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca);

    // `serve` without --demo seeds nothing: the admin signs in, nobody else exists.
    let addr = "127.0.0.1:38471";
    let mut server = Command::new(env!("CARGO_BIN_EXE_lianxin"))
        .args([
            "serve",
            "--data",
            data,
            "--listen",
            addr,
            "--tls-cert",
            p(&tls.join("server.pem")),
            "--tls-key",
            p(&tls.join("server-key.pem")),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    }
    // The certificate names 192.168.1.20 and the two names, not 127.0.0.1: reach it by name
    // the way a tablet would is the browser test's job; here the device must refuse it.
    let home = dir.path().join("tablet");
    let home = p(&home);
    let out = lianxin(
        &[
            "device",
            "--home",
            home,
            "login",
            &format!("https://{addr}"),
            "admin",
            "--ca",
            p(&tls.join("ca.pem")),
        ],
        Some("Bamboo river 7\n"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("certificate"),
        "{stderr}"
    );
    server.kill().unwrap();
    let _ = server.wait();
    let store = lianxin_server::store::Store::open(Path::new(data)).unwrap();
    assert!(store.user("mediator").unwrap().is_none());
    assert!(store.user("admin").unwrap().is_some());
    assert_eq!(ok(&["admin", "--data", data, "device", "list"], None), "");
}
