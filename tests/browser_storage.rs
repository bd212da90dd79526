//! The storage adapter (src/web/storage.rs) in a real browser: Web Storage,
//! memory, app objects, and storage that throws.
#![cfg(target_arch = "wasm32")]

mod support;

use mcp_web_auth::core::io::{Area, Io};
use mcp_web_auth::web::fetch::Fetcher;
use mcp_web_auth::web::storage::Store;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn io(tokens: Store) -> mcp_web_auth::web::WebIo {
    web_io(Fetcher::new(None, 5_000).expect("global fetch"), tokens)
}

/// What the page's own `globalThis[storage].getItem(key)` says.
fn page_get(storage: &str, key: &str) -> Option<String> {
    js_fn("s, k", "return globalThis[s].getItem(k);")
        .call2(&JsValue::UNDEFINED, &storage.into(), &key.into())
        .expect("getItem")
        .as_string()
}

/// A Storage-like object over a Map, as an app might pass.
fn map_storage() -> JsValue {
    js_fn(
        "",
        "const m = new Map();
         return {
           getItem: (k) => (m.has(k) ? m.get(k) : null),
           setItem: (k, v) => void m.set(k, String(v)),
           removeItem: (k) => void m.delete(k),
           key: (i) => [...m.keys()][i] ?? null,
           get length() { return m.size; },
           map: m,
         };",
    )
    .call0(&JsValue::UNDEFINED)
    .expect("storage object")
}

#[wasm_bindgen_test]
fn p16_session_area_is_the_pages_session_storage() {
    let io = io(Store::memory());
    io.store(Area::Session, "mcp-web-auth:test:s", "v1")
        .expect("store");
    assert_eq!(
        page_get("sessionStorage", "mcp-web-auth:test:s").as_deref(),
        Some("v1")
    );
    assert_eq!(
        io.load(Area::Session, "mcp-web-auth:test:s")
            .expect("load")
            .as_deref(),
        Some("v1")
    );
    assert!(io
        .keys(Area::Session)
        .expect("keys")
        .contains(&"mcp-web-auth:test:s".to_string()));
    io.remove(Area::Session, "mcp-web-auth:test:s").expect("remove");
    assert_eq!(page_get("sessionStorage", "mcp-web-auth:test:s"), None);
}

#[wasm_bindgen_test]
fn local_area_is_the_pages_local_storage() {
    let io = io(Store::memory());
    io.store(Area::Local, "mcp-web-auth:test:l", "v2").expect("store");
    assert_eq!(
        page_get("localStorage", "mcp-web-auth:test:l").as_deref(),
        Some("v2")
    );
    io.remove(Area::Local, "mcp-web-auth:test:l").expect("remove");
    assert_eq!(page_get("localStorage", "mcp-web-auth:test:l"), None);
}

#[wasm_bindgen_test]
fn memory_tokens_stay_out_of_web_storage() {
    let io = io(Store::memory());
    io.store(Area::Tokens, "mcp-web-auth:test:m", "secret")
        .expect("store");
    assert_eq!(
        io.load(Area::Tokens, "mcp-web-auth:test:m")
            .expect("load")
            .as_deref(),
        Some("secret")
    );
    assert_eq!(io.keys(Area::Tokens).expect("keys"), ["mcp-web-auth:test:m"]);
    assert_eq!(page_get("sessionStorage", "mcp-web-auth:test:m"), None);
    assert_eq!(page_get("localStorage", "mcp-web-auth:test:m"), None);
    io.remove(Area::Tokens, "mcp-web-auth:test:m").expect("remove");
    assert_eq!(io.load(Area::Tokens, "mcp-web-auth:test:m").expect("load"), None);
}

#[wasm_bindgen_test]
fn custom_storage_object_receives_every_call() {
    let obj = map_storage();
    let io = io(Store::custom(obj.clone()).expect("custom store"));
    io.store(Area::Tokens, "k1", "v1").expect("store");
    io.store(Area::Tokens, "k2", "v2").expect("store");
    let map: js_sys::Map = get(&obj, "map").unchecked_into();
    assert_eq!(map.get(&"k1".into()).as_string().as_deref(), Some("v1"));
    assert_eq!(io.load(Area::Tokens, "k2").expect("load").as_deref(), Some("v2"));
    assert_eq!(io.keys(Area::Tokens).expect("keys"), ["k1", "k2"]);
    io.remove(Area::Tokens, "k1").expect("remove");
    assert_eq!(map.size(), 1);
}

#[wasm_bindgen_test]
fn custom_storage_without_key_lists_no_keys() {
    let obj = object(&[
        ("getItem", js_fn("k", "return null;").into()),
        ("setItem", js_fn("k, v", "").into()),
        ("removeItem", js_fn("k", "").into()),
    ]);
    let store = Store::custom(obj).expect("custom store");
    assert_eq!(store.keys().expect("keys"), Vec::<String>::new());
}

#[wasm_bindgen_test]
fn custom_storage_without_the_three_methods_is_invalid_config() {
    let obj = object(&[("getItem", js_fn("k", "return null;").into())]);
    let err = Store::custom(obj).err().expect("refused");
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("setItem"), "{err}");
}

#[wasm_bindgen_test]
fn throwing_storage_gives_a_typed_storage_error_naming_the_exception() {
    let thrower = js_fn("", "throw new DOMException('denied', 'SecurityError');");
    let quota = js_fn("", "throw new DOMException('full', 'QuotaExceededError');");
    let obj = object(&[
        ("getItem", thrower.clone().into()),
        ("setItem", quota.into()),
        ("removeItem", thrower.into()),
    ]);
    let io = io(Store::custom(obj).expect("custom store"));
    let err = io.load(Area::Tokens, "k").expect_err("getItem throws");
    assert_eq!(err.code(), "storage_error");
    assert!(err.to_string().contains("SecurityError"), "{err}");
    let err = io.store(Area::Tokens, "k", "v").expect_err("setItem throws");
    assert_eq!(err.code(), "storage_error");
    assert!(err.to_string().contains("QuotaExceededError"), "{err}");
}

#[wasm_bindgen_test]
fn global_storage_that_throws_on_access_is_unavailable_not_a_crash() {
    js_fn(
        "",
        "Object.defineProperty(globalThis, 'mcpBlockedStorage', {
           configurable: true,
           get() { throw new DOMException('blocked', 'SecurityError'); },
         });",
    )
    .call0(&JsValue::UNDEFINED)
    .expect("define");
    let store = Store::global("mcpBlockedStorage");
    let err = store.get("k").expect_err("unavailable");
    assert_eq!(err.code(), "storage_error");
    assert!(err.to_string().contains("SecurityError"), "{err}");
    assert_eq!(store.keys().expect_err("unavailable").code(), "storage_error");
}

#[wasm_bindgen_test]
fn absent_global_storage_falls_back_to_memory() {
    let store = Store::global("mcpNoSuchStorage");
    store.set("k", "v").expect("set");
    assert_eq!(store.get("k").expect("get").as_deref(), Some("v"));
}
