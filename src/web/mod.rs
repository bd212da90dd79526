//! Browser adapters (wasm only): the `Io` the core flows run over.
//!
//! Everything is reached through the global object (`js_sys::global()`),
//! never `window()`, so the package runs in pages, Web Workers and Node ≥ 20
//! alike.

pub mod crypto;
pub mod dpop;
pub mod fetch;
pub mod lock;
pub mod popup;
pub mod rotation;
pub mod storage;

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::dpop::PublicJwk;
use crate::core::error::Result;
use crate::core::http::{FetchOutcome, HttpRequest};
use crate::core::io::{Area, Io, Status};
use fetch::Fetcher;
use storage::Store;

// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread,
// so the allocator's state is never accessed concurrently.
#[cfg(not(target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// `globalThis[name]`; the error when reading it throws (storage in some
/// private modes throws `SecurityError`).
pub fn global(name: &str) -> std::result::Result<JsValue, JsValue> {
    Reflect::get(&js_sys::global(), &name.into())
}

/// `o[key]`, or undefined when `o` is not an object (or a function) or
/// reading it throws.
pub fn property(o: &JsValue, key: &str) -> JsValue {
    if !o.is_object() && !o.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &key.into()).unwrap_or_default()
}

/// The `name` of a thrown value (`SecurityError`, `TimeoutError`...), or
/// `Error` when it has none.
pub fn error_name(e: &JsValue) -> String {
    property(e, "name").as_string().unwrap_or_else(|| "Error".into())
}

/// The page's address, or empty where there is none (Node, some workers).
pub fn current_href() -> String {
    property(&global("location").unwrap_or_default(), "href")
        .as_string()
        .unwrap_or_default()
}

pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The `Io` of one `McpAuth` (or of a configuration-free `finishAuth`).
#[derive(Clone)]
pub struct WebIo {
    pub fetcher: Fetcher,
    pub session: Store,
    pub local: Store,
    pub tokens: Store,
    pub on_status: Option<Function>,
    /// For `onStatus` events.
    pub server_url: String,
}

impl WebIo {
    fn area(&self, area: Area) -> &Store {
        match area {
            Area::Session => &self.session,
            Area::Local => &self.local,
            Area::Tokens => &self.tokens,
        }
    }

    /// Calls `onStatus({ type, serverUrl, error? })`; the error is set when
    /// given. A throwing handler is ignored: progress reports must not break
    /// the flow.
    pub fn emit(&self, kind: &str, error: Option<&JsValue>) {
        let Some(f) = &self.on_status else { return };
        let event = Object::new();
        let set = |k: &str, v: &JsValue| Reflect::set(&event, &k.into(), v).map(drop);
        let built = set("type", &kind.into())
            .and_then(|()| set("serverUrl", &self.server_url.as_str().into()))
            .and_then(|()| error.map_or(Ok(()), |e| set("error", e)));
        if built.is_ok() {
            let _ = f.call1(&JsValue::UNDEFINED, &event);
        }
    }
}

impl Io for WebIo {
    type Lock = lock::WebLock;

    async fn fetch_all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome> {
        self.fetcher.all(&requests).await
    }

    fn load(&self, area: Area, key: &str) -> Result<Option<String>> {
        self.area(area).get(key)
    }

    fn store(&self, area: Area, key: &str, value: &str) -> Result<()> {
        self.area(area).set(key, value)
    }

    fn remove(&self, area: Area, key: &str) -> Result<()> {
        self.area(area).remove(key)
    }

    fn keys(&self, area: Area) -> Result<Vec<String>> {
        self.area(area).keys()
    }

    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn random(&self, buf: &mut [u8]) -> Result<()> {
        crypto::random_bytes(buf)
    }

    async fn sha256(&self, data: &str) -> Result<[u8; 32]> {
        crypto::sha256(data.as_bytes()).await
    }

    fn status(&self, status: Status) {
        self.emit(status.as_str(), None);
    }

    async fn lock(&self, name: &str) -> Result<lock::WebLock> {
        lock::acquire(name).await
    }

    fn publish_rotation(&self, consumed: &str, message: &str) {
        rotation::publish(consumed, message);
    }

    async fn wait_for_rotation(&self, consumed: &str, timeout_ms: u32) -> Option<String> {
        rotation::wait(consumed, timeout_ms).await
    }

    async fn dpop_key(&self, issuer: &str) -> Result<PublicJwk> {
        dpop::key(issuer).await
    }

    async fn dpop_sign(&self, issuer: &str, signing_input: &[u8]) -> Result<[u8; 64]> {
        dpop::sign(issuer, signing_input).await
    }

    async fn delete_dpop_key(&self, issuer: &str) -> Result<()> {
        dpop::delete(issuer).await
    }

    fn dpop_nonce(&self, origin: &str) -> Option<String> {
        dpop::nonce(origin)
    }

    fn set_dpop_nonce(&self, origin: &str, nonce: &str) {
        dpop::set_nonce(origin, nonce);
    }
}
