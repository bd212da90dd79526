//! Shared by the browser tests: the servers' addresses, an `Io` over the
//! real adapters, and small JS helpers.
#![allow(dead_code)]

use js_sys::{Function, Object, Reflect};
use mcp_web_auth::web::fetch::Fetcher;
use mcp_web_auth::web::storage::Store;
use mcp_web_auth::web::WebIo;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(inline_js = r#"
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
export async function getJson(url) {
  const r = await fetch(url);
  return r.json();
}
// An app `fetch` that records each Request it gets (method, url, headers,
// body) in `log` and answers with `answer(request)`.
export function recordingFetch(log, answer) {
  return async (request) => {
    const body = request.method === 'GET' ? null : await request.clone().text();
    log.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
      isRequest: request instanceof Request,
      hasSignal: request.signal instanceof AbortSignal,
    });
    return answer(request);
  };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: u32) -> js_sys::Promise;
    #[wasm_bindgen(js_name = getJson)]
    fn get_json_promise(url: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = recordingFetch)]
    pub fn recording_fetch(log: &js_sys::Array, answer: &Function) -> Function;
}

/// The shared fixture (tests/fixture/server.mjs): AS and MCP server.
pub fn fixture_url() -> &'static str {
    match option_env!("MCP_FIXTURE_URL") {
        Some(url) => url,
        None => panic!("MCP_FIXTURE_URL is unset: run the browser tests with `make test-browser`"),
    }
}

/// The helper server (tests/fixture/browser-helper.mjs).
pub fn helper_url() -> &'static str {
    match option_env!("MCP_HELPER_URL") {
        Some(url) => url,
        None => panic!("MCP_HELPER_URL is unset: run the browser tests with `make test-browser`"),
    }
}

pub async fn sleep(ms: u32) {
    JsFuture::from(sleep_promise(ms)).await.expect("setTimeout");
}

pub async fn get_json(url: &str) -> JsValue {
    JsFuture::from(get_json_promise(url)).await.expect("GET json")
}

/// A JS function from its parameter list and body.
pub fn js_fn(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

pub fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).expect("Reflect.get")
}

/// A plain JS object from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).expect("Reflect.set");
    }
    o.into()
}

/// An `Io` over the real adapters: the given fetcher and token store, the
/// page's session and local storage.
pub fn web_io(fetcher: Fetcher, tokens: Store) -> WebIo {
    WebIo {
        fetcher,
        session: Store::global("sessionStorage"),
        local: Store::global("localStorage"),
        tokens,
        on_status: None,
        server_url: "https://mcp.example.com/mcp".into(),
    }
}
