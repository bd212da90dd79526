//! Browser adapters (wasm only): the `Io` the core flows run over.
//!
//! Everything is reached through the global object, never `window()`, so the
//! package runs in pages, Web Workers and Node ≥ 20 alike.

pub mod fetch;
pub mod lock;
pub mod storage;
pub mod task;

use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest};
use crate::core::io::{Area, Io, Status};
use fetch::Fetcher;
use storage::Store;

// A free-list allocator in well under 1 KB of wasm, where dlmalloc takes
// 7 KB. Its linear search costs nothing at this library's few hundred small
// allocations per flow.
// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread,
// so the allocator's state is never accessed concurrently.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

// The few JS types the adapters name, declared here rather than taken from
// js-sys: linking js-sys brings its JSPI task machinery (a waker vtable and
// the closure shims the function table keeps) into the module, unused.
#[wasm_bindgen]
extern "C" {
    /// A JS function.
    #[wasm_bindgen(is_type_of = JsValue::is_function, typescript_type = "Function")]
    #[derive(Clone)]
    pub type Function;
    /// A JS array, read by index.
    #[wasm_bindgen(typescript_type = "Array<any>")]
    pub type Array;
    #[wasm_bindgen(method, indexing_getter)]
    pub fn get(this: &Array, index: u32) -> JsValue;
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;
}

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpEmit)]
    fn emit_status(f: &Function, kind: &JsValue, server_url: &JsValue, error: &JsValue);
    /// Fills `buf` with random bytes: 1; undefined without
    /// `crypto.getRandomValues`, null when it throws.
    #[wasm_bindgen(js_name = __mcpRandom)]
    fn random_values(buf: &mut [u8]) -> JsValue;
    /// Copies the bytes of `src` into `dst`: 1; undefined when the lengths differ.
    #[wasm_bindgen(js_name = __mcpCopyBytes)]
    fn copy_bytes(src: &JsValue, dst: &mut [u8]) -> JsValue;
    /// `[globalThis[name]]`, or the error's name when reading it throws.
    #[wasm_bindgen(js_name = __mcpGlobal)]
    fn global_lookup(name: &JsValue) -> JsValue;
    /// `o[key]`; undefined when reading it throws.
    #[wasm_bindgen(js_name = __mcpGet)]
    fn get_property(o: &JsValue, key: &JsValue) -> JsValue;
    /// An async function: failures arrive as a rejection.
    #[wasm_bindgen(js_name = __mcpSha256)]
    fn sha256_promise(text: &JsValue) -> JsValue;
}

/// `globalThis[name]`, or the error's name when reading it throws (storage
/// in some private modes).
/// (The name stays a JS string: storage keeps it as its `Store`.)
pub fn global(name: &str) -> std::result::Result<JsValue, JsValue> {
    let r = global_lookup(&name.into());
    if !r.is_object() {
        return Err(r);
    }
    Ok(r.unchecked_into::<Array>().get(0))
}

/// `o[key]`, or undefined when reading it throws (a throwing getter, no object).
pub fn property(o: &JsValue, key: &str) -> JsValue {
    get_property(o, &key.into())
}

/// The `Io` of one `McpAuth` (or of a configuration-free `finishAuth`).
#[derive(Clone)]
pub struct WebIo {
    pub fetcher: Fetcher,
    pub session: Store,
    pub local: Store,
    pub tokens: Store,
    pub on_status: Option<Function>,
    /// For `onStatus` events, as the JS string they carry.
    pub server_url: JsValue,
}

impl WebIo {
    fn store(&self, area: Area) -> &Store {
        match area {
            Area::Session => &self.session,
            Area::Local => &self.local,
            Area::Tokens => &self.tokens,
        }
    }

    /// Calls `onStatus({ type, serverUrl, error? })` (the error when not
    /// undefined); a throwing handler is ignored.
    pub fn emit(&self, kind: &str, error: &JsValue) {
        if let Some(f) = &self.on_status {
            emit_status(f, &kind.into(), &self.server_url, error);
        }
    }
}

/// `globalThis.crypto.getRandomValues` (pages, workers, Node ≥ 20).
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    let v = random_values(buf);
    if v.is_undefined() {
        return Err(Error::config("crypto.getRandomValues is not available"));
    }
    // Null: the call threw.
    if v.is_null_or_undefined() {
        return Err(Error::config("crypto.getRandomValues failed"));
    }
    Ok(())
}

/// `crypto.subtle.digest('SHA-256', ...)`'s 32 bytes.
fn digest_bytes(v: JsValue) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    if copy_bytes(&v, &mut out).is_undefined() {
        return Err(Error::config("crypto.subtle.digest gave no SHA-256"));
    }
    Ok(out)
}

pub fn now_ms() -> u64 {
    date_now() as u64
}

impl Io for WebIo {
    type Lock = lock::WebLock;

    async fn fetch_all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome> {
        self.fetcher.all(requests).await
    }

    fn load(&self, area: Area, key: &str) -> Result<Option<String>> {
        self.store(area).get(key)
    }

    fn store(&self, area: Area, key: &str, value: &str) -> Result<()> {
        self.store(area).set(key, value)
    }

    fn remove(&self, area: Area, key: &str) -> Result<()> {
        self.store(area).remove(key)
    }

    fn keys(&self, area: Area) -> Result<Vec<String>> {
        self.store(area).keys()
    }

    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn random(&self, buf: &mut [u8]) -> Result<()> {
        random_bytes(buf)
    }

    /// `crypto.subtle.digest` (pages on https or localhost, workers, Node ≥ 20).
    async fn sha256(&self, data: &str) -> Result<[u8; 32]> {
        let unavailable =
            |_| Error::config("crypto.subtle.digest is not available (pages need https or localhost)");
        let v = task::wait(sha256_promise(&data.into()))
            .await
            .map_err(unavailable)?;
        digest_bytes(v)
    }

    fn status(&self, status: Status) {
        self.emit(status.as_str(), &JsValue::UNDEFINED);
    }

    async fn lock(&self, name: &str) -> Result<lock::WebLock> {
        lock::acquire(name).await
    }

    // P-34's BroadcastChannel is the web side's to build; until then a
    // rotation reaches no other tab, and a tab that finds its refresh
    // token consumed re-authorizes instead of sending it.
    fn publish_rotation(&self, _consumed: &str, _message: &str) {}

    async fn wait_for_rotation(&self, _consumed: &str, _timeout_ms: u32) -> Option<String> {
        None
    }
}
