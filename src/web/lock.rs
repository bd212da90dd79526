//! One refresh at a time (P-25). The lock itself is `__mcpLock` in
//! `js/host.js`: `navigator.locks` across tabs and workers, or, where the
//! platform has no Web Locks (Node 20, old browsers), a FIFO within this page.

use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::web::task::wait;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// Resolves, once the lock is held, to the function that releases it.
    #[wasm_bindgen(js_name = __mcpLock)]
    fn request(name: &JsValue) -> JsValue;
}

#[wasm_bindgen]
extern "C" {
    /// The function that releases a lock: a promise's resolver, which never
    /// throws (so no catching import).
    type Release;
    #[wasm_bindgen(method, js_name = call)]
    fn call(this: &Release);
}

/// Held while the lock is; dropping it releases.
pub struct WebLock {
    release: Release,
}

impl Drop for WebLock {
    fn drop(&mut self) {
        self.release.call();
    }
}

pub async fn acquire(name: &str) -> Result<WebLock> {
    let release = wait(request(&name.into())).await.map_err(|_| Error::Storage {
        what: "navigator.locks.request failed".into(),
    })?;
    Ok(WebLock {
        release: release.unchecked_into(),
    })
}
