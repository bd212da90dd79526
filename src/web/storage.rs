//! Storage backends: Web Storage (`sessionStorage`, `localStorage`), any
//! object with `getItem`/`setItem`/`removeItem`, or memory.
//!
//! Browsers throw `SecurityError` when storage is disabled (private modes,
//! blocked cookies) and `QuotaExceededError` when full: both become a typed
//! `Error::Storage` instead of an exception escaping into the app.

use crate::web::Array;
use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// `[result]` of a Storage call (`'keys'`: every key; `'has'`: whether
    /// method `key` exists); undefined when there is no such method; the
    /// storage error's text when it throws.
    #[wasm_bindgen(js_name = __mcpStore)]
    fn js_store(o: &JsValue, op: &JsValue, key: &JsValue, value: &JsValue) -> JsValue;
    /// A new Storage-like object over a `Map`.
    #[wasm_bindgen(js_name = __mcpMemory)]
    fn js_memory() -> JsValue;
}

/// A Storage-like JS object (a memory store is one too, from
/// `__mcpMemory`), or, when reading the global storage itself threw (e.g.
/// `SecurityError`), that error's name as a JS string.
#[derive(Clone)]
pub struct Store(JsValue);

fn no_method(name: &str) -> Error {
    Error::config(format!("tokenStorage has no {name} method"))
}

impl Store {
    pub fn memory() -> Store {
        Store(js_memory())
    }

    /// `globalThis[name]`; absent → memory (Node, workers), throwing → unavailable.
    pub fn global(name: &str) -> Store {
        match crate::web::global(name) {
            Err(error_name) => Store(error_name),
            Ok(v) if v.is_object() => Store(v),
            Ok(_) => Store::memory(),
        }
    }

    /// An app-supplied object; checked for the three methods up front.
    pub fn custom(obj: JsValue) -> Result<Store> {
        for m in ["getItem", "setItem", "removeItem"] {
            if js_store(&obj, &"has".into(), &m.into(), &JsValue::UNDEFINED).is_undefined() {
                return Err(no_method(m));
            }
        }
        Ok(Store(obj))
    }

    /// `o[op](key, value)` through `__mcpStore`.
    fn call(&self, op: &str, key: &str, value: Option<&str>) -> Result<JsValue> {
        if let Some(name) = self.0.as_string() {
            return Err(Error::Storage {
                what: format!("storage is unavailable ({name})"),
            });
        }
        let value = value.map_or(JsValue::UNDEFINED, JsValue::from);
        let r = js_store(&self.0, &op.into(), &key.into(), &value);
        if r.is_undefined() {
            return Err(no_method(op));
        }
        match r.as_string() {
            Some(what) => Err(Error::Storage { what }),
            None => Ok(r.unchecked_into::<Array>().get(0)),
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.call("getItem", key, None)?.as_string())
    }

    pub fn set(&self, key: &str, value: &str) -> Result<()> {
        self.call("setItem", key, Some(value)).map(drop)
    }

    pub fn remove(&self, key: &str) -> Result<()> {
        self.call("removeItem", key, None).map(drop)
    }

    /// All keys; a custom store without `key()`/`length` lists none.
    pub fn keys(&self) -> Result<Vec<String>> {
        let keys: Array = self.call("keys", "", None)?.into();
        Ok((0..).map_while(|i| keys.get(i).as_string()).collect())
    }
}
