//! The adapters in a dedicated Web Worker: no `window`, no Web Storage.
//! Everything is reached through the global object, so fetch, crypto, locks
//! and a whole flow work there as in a page.
#![cfg(target_arch = "wasm32")]

mod support;

use mcp_web_auth::core::flow::{self, Authorization, AuthorizeRequest};
use mcp_web_auth::core::http::{FetchOutcome, HttpRequest};
use mcp_web_auth::core::io::{Area, Io};
use mcp_web_auth::js::options::parse;
use mcp_web_auth::web::crypto::sha256;
use mcp_web_auth::web::fetch::Fetcher;
use mcp_web_auth::web::lock::acquire;
use mcp_web_auth::web::storage::Store;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
fn runs_in_a_worker_without_window_or_web_storage() {
    let global = js_sys::global();
    assert!(get(&global, "window").is_undefined());
    assert!(get(&global, "sessionStorage").is_undefined());
}

#[wasm_bindgen_test]
async fn global_fetch_is_reached_in_a_worker() {
    let url = format!("{}/headers", helper_url());
    let outcome = Fetcher::new(None, 5_000)
        .expect("global fetch")
        .send(&HttpRequest::discovery(url))
        .await;
    let FetchOutcome::Response(r) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(r.status, 401);
    assert_eq!(r.header("dpop-nonce"), Some("nonce-1"));
}

#[wasm_bindgen_test]
fn session_area_falls_back_to_memory_in_a_worker() {
    let io = web_io(Fetcher::new(None, 5_000).expect("fetch"), Store::memory());
    io.store(Area::Session, "k", "v").expect("store");
    assert_eq!(io.load(Area::Session, "k").expect("load").as_deref(), Some("v"));
}

#[wasm_bindgen_test]
async fn p16_p25_crypto_and_locks_work_in_a_worker() {
    let digest = sha256(b"abc").await.expect("digest");
    assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
    let mut bytes = [0u8; 16];
    mcp_web_auth::web::crypto::random_bytes(&mut bytes).expect("random");
    assert_ne!(bytes, [0u8; 16]);
    let lock = acquire("mcp-worker-lock").await.expect("lock");
    drop(lock);
}

#[wasm_bindgen_test]
async fn authorization_starts_in_a_worker() {
    let sc = "wasm-worker";
    let p = parse(&object(&[
        ("serverUrl", format!("{}/s/{sc}/mcp", fixture_url()).into()),
        ("redirectUri", "http://127.0.0.1:9/callback".into()),
        ("tokenStorage", "memory".into()),
    ]))
    .expect("valid options");
    let req = AuthorizeRequest {
        return_to: Some("/".into()),
        ..AuthorizeRequest::default()
    };
    match flow::authorize(&p.io, &p.config, &req).await.expect("authorize") {
        Authorization::Redirect(url) => assert!(url.contains("code_challenge="), "{url}"),
        Authorization::Authorized(_) => panic!("no tokens yet"),
    }
}

#[wasm_bindgen_test]
fn worker_has_no_location_to_redirect_to() {
    let assign = get(&get(&js_sys::global(), "location"), "assign");
    assert!(
        assign.is_undefined(),
        "WorkerLocation has no assign: onRedirect is needed"
    );
}
