//! `fetch` for the core's plain-data requests, and for the app's own
//! resource requests.
//!
//! The core's probes of one discovery step are sent together and awaited
//! with `Promise.all`, so a deep fallback chain costs one round trip. A
//! rejected `fetch` is a `NetworkError` outcome (in browsers: CORS, most
//! often); a discovery probe is retried once without custom headers (P-8),
//! which spares servers that do not allow them in preflights.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest, HttpResponse};

#[derive(Clone)]
pub struct Fetcher {
    fetch_fn: Function,
    /// `this` for the call: browsers throw "Illegal invocation" otherwise.
    this: JsValue,
    pub timeout_ms: u32,
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &key.into(), value);
}

impl Fetcher {
    /// The app's `fetch` option, else `globalThis.fetch`.
    pub fn new(custom: Option<Function>, timeout_ms: u32) -> Result<Fetcher> {
        let global: JsValue = js_sys::global().into();
        let (fetch_fn, this) = match custom {
            Some(f) => (f, JsValue::UNDEFINED),
            None => {
                let f = Reflect::get(&global, &"fetch".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .ok_or_else(|| Error::config("no global fetch; pass the fetch option"))?;
                (f, global)
            }
        };
        Ok(Fetcher {
            fetch_fn,
            this,
            timeout_ms,
        })
    }

    /// `AbortSignal.timeout(ms)` where the platform has it.
    fn timeout_signal(&self) -> Option<JsValue> {
        if self.timeout_ms == 0 {
            return None;
        }
        let ctor = Reflect::get(&js_sys::global(), &"AbortSignal".into()).ok()?;
        let f = Reflect::get(&ctor, &"timeout".into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        f.call1(&ctor, &self.timeout_ms.into()).ok()
    }

    /// Calls `fetch(input, init)` and awaits the Response.
    pub async fn call(&self, input: &JsValue, init: &JsValue) -> std::result::Result<JsValue, JsValue> {
        let p = self.fetch_fn.call2(&self.this, input, init)?;
        JsFuture::from(Promise::resolve(&p)).await
    }

    async fn send(
        &self,
        req: &HttpRequest,
        with_headers: bool,
    ) -> std::result::Result<HttpResponse, JsValue> {
        let init = Object::new();
        set(&init, "method", &req.method.as_str().into());
        let headers = Object::new();
        if with_headers {
            for (k, v) in &req.headers {
                set(&headers, k, &v.into());
            }
        }
        set(&init, "headers", &headers);
        if let Some(b) = &req.body {
            set(&init, "body", &b.into());
        }
        if let Some(s) = self.timeout_signal() {
            set(&init, "signal", &s);
        }
        let resp = self.call(&req.url.as_str().into(), &init).await?;
        let status = Reflect::get(&resp, &"status".into())?.as_f64().unwrap_or(0.0) as u16;
        let text_fn: Function = Reflect::get(&resp, &"text".into())?.dyn_into()?;
        let body = JsFuture::from(Promise::resolve(&text_fn.call0(&resp)?)).await?;
        Ok(HttpResponse::new(status, body.as_string().unwrap_or_default()))
    }

    async fn outcome(&self, req: HttpRequest) -> FetchOutcome {
        match self.send(&req, true).await {
            Ok(r) => FetchOutcome::Response(r),
            Err(_) if req.retry_without_headers => match self.send(&req, false).await {
                Ok(r) => FetchOutcome::Response(r),
                Err(_) => FetchOutcome::NetworkError,
            },
            Err(_) => FetchOutcome::NetworkError,
        }
    }

    /// Sends all requests at once; answers in request order.
    pub async fn all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome> {
        let n = requests.len();
        let slots: Rc<RefCell<Vec<Option<FetchOutcome>>>> = Rc::new(RefCell::new(vec![None; n]));
        let promises = Array::new();
        for (i, req) in requests.into_iter().enumerate() {
            let me = self.clone();
            let slots = slots.clone();
            promises.push(&super::promise(async move {
                let o = me.outcome(req).await;
                slots.borrow_mut()[i] = Some(o);
                Ok(JsValue::UNDEFINED)
            }));
        }
        // The futures never reject: each records its own outcome.
        let _ = JsFuture::from(Promise::all(&promises)).await;
        let mut slots = slots.borrow_mut();
        slots
            .iter_mut()
            .map(|s| s.take().unwrap_or(FetchOutcome::NetworkError))
            .collect()
    }
}
