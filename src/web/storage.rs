//! Storage backends: Web Storage (`sessionStorage`, `localStorage`), any
//! object with `getItem`/`setItem`/`removeItem`, or memory.
//!
//! Browsers throw `SecurityError` when storage is disabled (private modes,
//! blocked cookies) and `QuotaExceededError` when full: both become a typed
//! `Error::Storage` instead of an exception escaping into the app.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::core::error::{Error, Result};

#[derive(Clone)]
pub enum Store {
    /// A Storage-like JS object.
    Js(JsValue),
    /// Key-value pairs; a handful at most, so a Vec beats a map in code size.
    Memory(Rc<RefCell<Vec<(String, String)>>>),
    /// Reading the global storage itself threw (e.g. `SecurityError`).
    Unavailable(String),
}

fn js_error_name(e: &JsValue) -> String {
    Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_else(|| "Error".into())
}

fn storage_error(op: &str, e: &JsValue) -> Error {
    Error::Storage {
        what: format!("{op} failed ({})", js_error_name(e)),
    }
}

fn method(obj: &JsValue, name: &str) -> Result<Function> {
    Reflect::get(obj, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or_else(|| Error::config(format!("tokenStorage has no {name} method")))
}

impl Store {
    pub fn memory() -> Store {
        Store::Memory(Rc::default())
    }

    /// `globalThis[name]`; absent → memory (Node, workers), throwing → unavailable.
    pub fn global(name: &str) -> Store {
        match Reflect::get(&js_sys::global(), &name.into()) {
            Ok(v) if v.is_object() => Store::Js(v),
            Ok(_) => Store::memory(),
            Err(e) => Store::Unavailable(js_error_name(&e)),
        }
    }

    /// An app-supplied object; checked for the three methods up front.
    pub fn custom(obj: JsValue) -> Result<Store> {
        for m in ["getItem", "setItem", "removeItem"] {
            method(&obj, m)?;
        }
        Ok(Store::Js(obj))
    }

    fn unavailable(name: &str) -> Error {
        Error::Storage {
            what: format!("storage is unavailable ({name})"),
        }
    }

    pub fn get(&self, key: &str) -> Result<Option<String>> {
        match self {
            Store::Memory(m) => Ok(m.borrow().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())),
            Store::Unavailable(n) => Err(Store::unavailable(n)),
            Store::Js(o) => method(o, "getItem")?
                .call1(o, &key.into())
                .map(|v| v.as_string())
                .map_err(|e| storage_error("getItem", &e)),
        }
    }

    pub fn set(&self, key: &str, value: &str) -> Result<()> {
        match self {
            Store::Memory(m) => {
                let mut m = m.borrow_mut();
                match m.iter_mut().find(|(k, _)| k == key) {
                    Some((_, v)) => *v = value.into(),
                    None => m.push((key.into(), value.into())),
                }
                Ok(())
            }
            Store::Unavailable(n) => Err(Store::unavailable(n)),
            Store::Js(o) => method(o, "setItem")?
                .call2(o, &key.into(), &value.into())
                .map(|_| ())
                .map_err(|e| storage_error("setItem", &e)),
        }
    }

    pub fn remove(&self, key: &str) -> Result<()> {
        match self {
            Store::Memory(m) => {
                m.borrow_mut().retain(|(k, _)| k != key);
                Ok(())
            }
            Store::Unavailable(n) => Err(Store::unavailable(n)),
            Store::Js(o) => method(o, "removeItem")?
                .call1(o, &key.into())
                .map(|_| ())
                .map_err(|e| storage_error("removeItem", &e)),
        }
    }

    /// All keys; a custom store without `key()`/`length` lists none.
    pub fn keys(&self) -> Result<Vec<String>> {
        match self {
            Store::Memory(m) => Ok(m.borrow().iter().map(|(k, _)| k.clone()).collect()),
            Store::Unavailable(n) => Err(Store::unavailable(n)),
            Store::Js(o) => {
                let len = Reflect::get(o, &"length".into())
                    .map_err(|e| storage_error("length", &e))?
                    .as_f64()
                    .unwrap_or(0.0) as u32;
                let Ok(key) = method(o, "key") else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let k = key.call1(o, &i.into()).map_err(|e| storage_error("key", &e))?;
                    out.extend(k.as_string());
                }
                Ok(out)
            }
        }
    }
}
