//! One refresh at a time (P-25): `navigator.locks` across tabs and workers,
//! or, where the platform has no Web Locks (Node 20, old browsers), a FIFO
//! lock within this page.

use std::cell::RefCell;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::core::error::{Error, Result};

thread_local! {
    /// Per lock name, the promise the next waiter must wait for. Few names
    /// (one per server), so a Vec beats a map in code size.
    static TAILS: RefCell<Vec<(String, Promise)>> = const { RefCell::new(Vec::new()) };
}

/// Held while the lock is; dropping it releases.
pub struct WebLock {
    release: Function,
    /// Keeps the Web Locks callback alive until release.
    _callback: Option<Closure<dyn FnMut(JsValue) -> JsValue>>,
}

impl Drop for WebLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// A promise and its `resolve` function.
fn deferred() -> (Promise, Function) {
    let mut resolve = None;
    let p = Promise::new(&mut |res, _rej| resolve = Some(res));
    let resolve = resolve.unwrap_or_else(|| Function::new_no_args(""));
    (p, resolve)
}

fn web_locks() -> Option<(JsValue, Function)> {
    let nav = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = Reflect::get(&nav, &"locks".into())
        .ok()
        .filter(|l| l.is_object())?;
    let request = Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    Some((locks, request))
}

pub async fn acquire(name: &str) -> Result<WebLock> {
    let (release_p, release) = deferred();
    if let Some((locks, request)) = web_locks() {
        let (acquired_p, acquired) = deferred();
        let cb = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |_lock: JsValue| {
            let _ = acquired.call0(&JsValue::UNDEFINED);
            release_p.clone().into()
        });
        request
            .call2(&locks, &name.into(), cb.as_ref().unchecked_ref())
            .map_err(|_| Error::Storage {
                what: "navigator.locks.request failed".into(),
            })?;
        let _ = JsFuture::from(acquired_p).await;
        return Ok(WebLock {
            release,
            _callback: Some(cb),
        });
    }
    let prev = TAILS.with(|t| {
        let mut t = t.borrow_mut();
        match t.iter_mut().find(|(n, _)| n == name) {
            Some((_, tail)) => Some(std::mem::replace(tail, release_p)),
            None => {
                t.push((name.to_string(), release_p));
                None
            }
        }
    });
    if let Some(prev) = prev {
        let _ = JsFuture::from(prev).await;
    }
    Ok(WebLock {
        release,
        _callback: None,
    })
}
