//! Browser tests of the web adapters (run by `wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use mcp_web_auth::core::authorize::PendingRecord;
use mcp_web_auth::core::io::{Area, Io};
use mcp_web_auth::core::registration::AuthMethod;
use mcp_web_auth::core::secret::Secret;
use mcp_web_auth::core::store;
use mcp_web_auth::web::fetch::Fetcher;
use mcp_web_auth::web::storage::Store;
use mcp_web_auth::web::WebIo;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn io(tokens: Store) -> WebIo {
    WebIo {
        fetcher: Fetcher::new(None, 5_000).expect("global fetch"),
        session: Store::global("sessionStorage"),
        local: Store::global("localStorage"),
        tokens,
        on_status: None,
        server_url: "https://mcp.example.com/mcp".into(),
    }
}

fn record(state: &str) -> PendingRecord {
    PendingRecord {
        state: state.into(),
        verifier: Secret::new("v".repeat(43)),
        issuer: "https://as.example.com".into(),
        iss_advertised: true,
        token_endpoint: "https://as.example.com/token".into(),
        client_id: "c1".into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        redirect_uri: "http://127.0.0.1/cb".into(),
        resource: "http://localhost:1234".into(),
        scope: vec!["mcp:read".into()],
        server_url: "https://mcp.example.com/mcp".into(),
        return_to: "/".into(),
        created_at_ms: 1,
        token_storage: "session".into(),
    }
}

#[wasm_bindgen_test]
fn p16_pending_record_round_trips_through_real_session_storage() {
    let io = io(Store::memory());
    let r = record("st-browser-1");
    store::save_pending(&io, &r).expect("save");
    let raw = web_sys_session_get("mcp-web-auth:pending:st-browser-1");
    assert!(raw.is_some(), "the record is in window.sessionStorage");
    assert_eq!(store::load_pending(&io, "st-browser-1").expect("load"), Some(r));
    store::remove_pending(&io, "st-browser-1").expect("remove");
    assert_eq!(web_sys_session_get("mcp-web-auth:pending:st-browser-1"), None);
}

#[wasm_bindgen_test]
fn storage_keys_lists_session_storage_keys() {
    let io = io(Store::memory());
    io.store(Area::Session, "mcp-web-auth:test:k", "v")
        .expect("store");
    assert!(io
        .keys(Area::Session)
        .expect("keys")
        .contains(&"mcp-web-auth:test:k".to_string()));
    io.remove(Area::Session, "mcp-web-auth:test:k").expect("remove");
}

#[wasm_bindgen_test]
fn throwing_storage_gives_a_typed_storage_error() {
    let thrower = js_sys::Function::new_no_args("throw new DOMException('denied', 'SecurityError')");
    let obj = js_sys::Object::new();
    for m in ["getItem", "setItem", "removeItem"] {
        js_sys::Reflect::set(&obj, &m.into(), &thrower).expect("set");
    }
    let io = io(Store::custom(obj.into()).expect("custom store"));
    let err = io.store(Area::Tokens, "k", "v").expect_err("must fail");
    assert_eq!(err.code(), "storage_error");
    assert!(err.to_string().contains("SecurityError"), "{err}");
}

fn web_sys_session_get(key: &str) -> Option<String> {
    let s = js_sys::Reflect::get(&js_sys::global(), &"sessionStorage".into()).ok()?;
    let f: js_sys::Function = js_sys::Reflect::get(&s, &"getItem".into()).ok()?.into();
    f.call1(&s, &key.into()).ok()?.as_string()
}
