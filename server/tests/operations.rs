//! What an operator watches: `/healthz` says whether the instance can serve, `/metrics`
//! counts in Prometheus text format (to the machine itself only), every answer carries a
//! request id.

use axum::extract::ConnectInfo;
use tower::ServiceExt;

mod common;
use common::*;

const NOW: i64 = 1_780_000_000_000;

fn get(url: &str) -> (u16, String, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.get(url).call().unwrap();
    let id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
        id,
    )
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_request_ids() {
    let server = TestServer::start().await;
    let base = server.url.clone();
    let (status, body, id) = tokio::task::spawn_blocking(move || get(&format!("{base}/healthz")))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ok "), "{body}");
    assert!(
        id.is_some_and(|i| !i.is_empty()),
        "the answer names its request"
    );

    let base = server.url.clone();
    let before = tokio::task::spawn_blocking(move || get(&format!("{base}/metrics")))
        .await
        .unwrap();
    assert_eq!(before.0, 200);
    let mut d = device(&server.url, "mediator").await;
    d.new_case("longxi", "visit", "计数用的案件", NOW).unwrap();
    d.sync().await.unwrap();
    let base = server.url.clone();
    let (status, text, _) = tokio::task::spawn_blocking(move || get(&format!("{base}/metrics")))
        .await
        .unwrap();
    assert_eq!(status, 200);
    for name in [
        "lianxin_connections_opened_total",
        "lianxin_frames_total",
        "lianxin_changes_stored_total",
        "lianxin_store_write_seconds_count",
    ] {
        assert!(
            metric(&text, name) > metric(&before.1, name),
            "{name} grew with a sync"
        );
    }
    assert!(text.contains("# TYPE lianxin_store_write_seconds histogram"));
    assert!(text.contains("lianxin_documents_in_memory "));
    assert!(text.contains("lianxin_sign_ins_waiting "));
    // Counts only: no user, unit or case appears.
    assert!(!text.contains("mediator") && !text.contains("longxi"));

    // From another machine: refused.
    let request = axum::http::Request::get("/metrics")
        .extension(ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 7],
            50000,
        ))))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = lianxin_server::app(server.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
