//! Storage backends: Web Storage (`sessionStorage`, `localStorage`), any
//! object with `getItem`/`setItem`/`removeItem`, or memory.
//!
//! Browsers throw `SecurityError` when storage is disabled (private modes,
//! blocked cookies) and `QuotaExceededError` when full: both become a typed
//! `Error::Storage` instead of an exception escaping into the app.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::core::error::{Error, Result};
use crate::web::{error_name, property};

#[wasm_bindgen]
extern "C" {
    /// Web Storage, or an app object with the same methods (called by name,
    /// so any object with them works).
    #[derive(Clone)]
    pub type StorageLike;
    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn get_item(this: &StorageLike, key: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_item(this: &StorageLike, key: &str, value: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = removeItem)]
    fn remove_item(this: &StorageLike, key: &str) -> std::result::Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn key(this: &StorageLike, index: u32) -> std::result::Result<JsValue, JsValue>;
}

#[derive(Clone)]
pub enum Store {
    Object(StorageLike),
    Memory(Rc<RefCell<BTreeMap<String, String>>>),
    /// Reading the global storage itself threw; the error's name.
    Unavailable(String),
}

fn failed(op: &str, e: &JsValue) -> Error {
    Error::Storage {
        what: format!("{op} failed ({})", error_name(e)),
    }
}

impl Store {
    pub fn memory() -> Store {
        Store::Memory(Rc::default())
    }

    /// `globalThis[name]`; absent → memory (Node, workers), throwing → unavailable.
    pub fn global(name: &str) -> Store {
        match crate::web::global(name) {
            Err(e) => Store::Unavailable(error_name(&e)),
            Ok(v) if v.is_object() => Store::Object(v.unchecked_into()),
            Ok(_) => Store::memory(),
        }
    }

    /// An app-supplied object; checked for the three methods up front.
    pub fn custom(obj: JsValue) -> Result<Store> {
        for m in ["getItem", "setItem", "removeItem"] {
            if !property(&obj, m).is_function() {
                return Err(Error::config(format!("tokenStorage has no {m} method")));
            }
        }
        Ok(Store::Object(obj.unchecked_into()))
    }

    fn unavailable(name: &str) -> Error {
        Error::Storage {
            what: format!("storage is unavailable ({name})"),
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<String>> {
        match self {
            Store::Object(o) => Ok(o.get_item(key).map_err(|e| failed("getItem", &e))?.as_string()),
            Store::Memory(m) => Ok(m.borrow().get(key).cloned()),
            Store::Unavailable(name) => Err(Store::unavailable(name)),
        }
    }

    pub fn set(&self, key: &str, value: &str) -> Result<()> {
        match self {
            Store::Object(o) => o.set_item(key, value).map_err(|e| failed("setItem", &e)),
            Store::Memory(m) => {
                m.borrow_mut().insert(key.into(), value.into());
                Ok(())
            }
            Store::Unavailable(name) => Err(Store::unavailable(name)),
        }
    }

    pub fn remove(&self, key: &str) -> Result<()> {
        match self {
            Store::Object(o) => o.remove_item(key).map_err(|e| failed("removeItem", &e)),
            Store::Memory(m) => {
                m.borrow_mut().remove(key);
                Ok(())
            }
            Store::Unavailable(name) => Err(Store::unavailable(name)),
        }
    }

    /// All keys, by `length` and `key(i)`; a custom store without `key()`
    /// lists none.
    pub fn keys(&self) -> Result<Vec<String>> {
        match self {
            Store::Object(o) => {
                if !property(o, "key").is_function() {
                    return Ok(Vec::new());
                }
                let length = js_sys::Reflect::get(o, &"length".into()).map_err(|e| failed("length", &e))?;
                let n = length
                    .as_f64()
                    .filter(|n| n.is_finite() && *n > 0.0)
                    .unwrap_or(0.0) as u32;
                let mut keys = Vec::new();
                for i in 0..n {
                    if let Some(k) = o.key(i).map_err(|e| failed("key", &e))?.as_string() {
                        keys.push(k);
                    }
                }
                Ok(keys)
            }
            Store::Memory(m) => Ok(m.borrow().keys().cloned().collect()),
            Store::Unavailable(name) => Err(Store::unavailable(name)),
        }
    }
}
