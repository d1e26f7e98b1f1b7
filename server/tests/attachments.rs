//! The bytes of a case's photos and scanned pages over `PUT`/`GET
//! /api/cases/{case}/attachments/{hash}`: taken only for an attachment the case lists, with its
//! very SHA-256 and size, within the cap, from and to users who may see the case.

mod common;

use common::*;
use lianxin_server::now_ms;

fn call(method: &str, url: &str, token: &str, body: Option<Vec<u8>>) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = format!("Bearer {token}");
    let mut resp = match (method, body) {
        ("PUT", Some(b)) => agent.put(url).header("authorization", &auth).send(&b[..]),
        _ => agent.get(url).header("authorization", &auth).call(),
    }
    .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    (status, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_bytes_follow_the_case_and_its_access() {
    count_panics();
    let server = TestServer::start().await;
    let url = server.url.clone();
    let mut mediator = device(&url, "mediator").await;
    let id = mediator
        .new_case("longxi", "visit", "走访时拍摄的现场照片", now_ms())
        .unwrap()
        .to_string();
    let photo: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let hash = lianxin_shared::content_hash(&photo);
    mediator
        .edit_case(&id, now_ms(), |c, ed| {
            c.attach(ed, &hash, "现场.jpg", "image/jpeg", photo.len() as i64)
        })
        .unwrap();
    mediator.sync().await.unwrap();

    let actor = automerge::ActorId::random;
    let token = |user: &'static str| {
        let url = url.clone();
        async move { raw_login(&url, user, &actor()).await.token }
    };
    let (m, shitang, registrar) = (
        token("mediator").await,
        token("shitang").await,
        token("registrar").await,
    );
    let at = |h: &str| format!("{url}/api/cases/{id}/attachments/{h}");
    let run = |method: &'static str, path: String, token: String, body: Option<Vec<u8>>| {
        tokio::task::spawn_blocking(move || call(method, &path, &token, body))
    };

    // Not there yet: said so.
    let (status, _) = run("GET", at(&hash), registrar.clone(), None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    // Bytes that are not the listed ones; a hash the case does not list; over the cap.
    let mut wrong = photo.clone();
    wrong[0] ^= 1;
    let (status, body) = run("PUT", at(&hash), m.clone(), Some(wrong)).await.unwrap();
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    let other = lianxin_shared::content_hash(b"x");
    assert_eq!(
        run("PUT", at(&other), m.clone(), Some(b"x".to_vec()))
            .await
            .unwrap()
            .0,
        404
    );
    let huge = vec![0u8; lianxin_shared::MAX_ATTACHMENT_BYTES as usize + 1];
    assert_eq!(
        run("PUT", at(&hash), m.clone(), Some(huge))
            .await
            .unwrap()
            .0,
        413
    );
    // A user of a unit that may not see the case can neither send nor fetch.
    assert_eq!(
        run("PUT", at(&hash), shitang.clone(), Some(photo.clone()))
            .await
            .unwrap()
            .0,
        404
    );
    // No token; a malformed case id.
    assert_eq!(
        run("GET", at(&hash), String::new(), None).await.unwrap().0,
        401
    );
    let bad = format!("{url}/api/cases/not-a-case/attachments/{hash}");
    assert_eq!(run("GET", bad, m.clone(), None).await.unwrap().0, 404);

    // The right bytes are kept (twice changes nothing) and reach the office.
    assert_eq!(
        run("PUT", at(&hash), m.clone(), Some(photo.clone()))
            .await
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        run("PUT", at(&hash), m.clone(), Some(photo.clone()))
            .await
            .unwrap()
            .0,
        200
    );
    let (status, got) = run("GET", at(&hash), registrar, None).await.unwrap();
    assert_eq!((status, got), (200, photo));
    assert_eq!(run("GET", at(&hash), shitang, None).await.unwrap().0, 404);
    assert_eq!(panics(), 0, "no request crashed a handler");
}
