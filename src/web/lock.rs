//! One refresh at a time (P-25): `navigator.locks` across tabs and workers,
//! or, where the platform has no Web Locks (Node 20, old browsers), a FIFO
//! within this page.
//!
//! A Web Lock is held while the promise its callback returned is pending, so
//! the callback returns a promise that `WebLock` resolves when dropped.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::error::{Error, Result};
use crate::web::{global, property};

#[wasm_bindgen]
extern "C" {
    type LockManager;
    #[wasm_bindgen(method, catch)]
    fn request(this: &LockManager, name: &str, callback: &Function) -> std::result::Result<Promise, JsValue>;
}

thread_local! {
    /// Without Web Locks: per name, the promise the last holder or waiter
    /// resolves on release.
    static TAILS: RefCell<HashMap<String, Promise>> = RefCell::default();
}

/// Held while the lock is; dropping it releases.
pub struct WebLock {
    release: Function,
}

impl Drop for WebLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// A pending promise and the function that resolves it.
fn deferred() -> (Promise, Function) {
    let mut resolve = None;
    let promise = Promise::new(&mut |r, _| resolve = Some(r));
    (promise, resolve.expect("the Promise executor runs synchronously"))
}

fn lock_manager() -> Option<LockManager> {
    let locks = property(&global("navigator").unwrap_or_default(), "locks");
    property(&locks, "request")
        .is_function()
        .then(|| locks.unchecked_into())
}

pub async fn acquire(name: &str) -> Result<WebLock> {
    let (held, release) = deferred();
    match lock_manager() {
        Some(locks) => {
            let (granted, grant) = deferred();
            let callback = Closure::once_into_js(move |_lock: JsValue| -> Promise {
                let _ = grant.call0(&JsValue::UNDEFINED);
                held
            });
            let failed = |_| Error::Storage {
                what: "navigator.locks.request failed".into(),
            };
            let request = locks.request(name, callback.unchecked_ref()).map_err(failed)?;
            // A rejected request (a lock manager that refuses us) must not
            // leave us waiting for a grant that never comes.
            let outcome = Promise::race(&js_sys::Array::of2(&granted, &request));
            JsFuture::from(outcome).await.map_err(failed)?;
        }
        None => {
            let previous = TAILS.with(|t| t.borrow_mut().insert(name.to_string(), held));
            if let Some(previous) = previous {
                let _ = JsFuture::from(previous).await;
            }
        }
    }
    Ok(WebLock { release })
}
