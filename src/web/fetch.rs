//! `fetch` for the core's plain-data requests, and for the app's own
//! resource requests.
//!
//! The core's probes of one discovery step are sent together and awaited
//! with `Promise.all` (in `js/host.js`), so a deep fallback chain costs one
//! round trip. A rejected `fetch` is a `NetworkError` outcome (in browsers:
//! CORS, most often); a probe the core marks retryable is sent once more
//! without custom headers (P-8), which spares servers that do not allow them
//! in preflights.

use crate::web::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::codec::to_string as quote;
use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest, HttpResponse};
use crate::web::global;
use crate::web::task::{wait, Wait};

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpFetchAll)]
    fn fetch_all(f: &Function, this: &JsValue, timeout_ms: f64, requests: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = __mcpSendResource)]
    fn send_resource(f: &Function, this: &JsValue, slot: &JsValue, token: &JsValue) -> JsValue;
}

#[derive(Clone)]
pub struct Fetcher {
    fetch_fn: Function,
    /// `this` for the call: browsers throw "Illegal invocation" otherwise.
    this: JsValue,
    pub timeout_ms: u32,
}

/// `[method, url, [[name, value], ...], body | null, retry]` per request.
fn requests_json(requests: &[HttpRequest]) -> String {
    let mut s = String::from("[");
    for (i, r) in requests.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('[');
        s.push_str(&quote(r.method.as_str()));
        s.push(',');
        s.push_str(&quote(&r.url));
        s.push_str(",[");
        for (j, (k, v)) in r.headers.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            s.push('[');
            s.push_str(&quote(k));
            s.push(',');
            s.push_str(&quote(v));
            s.push(']');
        }
        s.push_str("],");
        s.push_str(r.body.as_deref().map(quote).as_deref().unwrap_or("null"));
        s.push_str(if r.retry_without_headers { ",1]" } else { ",0]" });
    }
    s.push(']');
    s
}

impl Fetcher {
    /// The app's `fetch` option, else `globalThis.fetch`.
    pub fn new(custom: Option<Function>, timeout_ms: u32) -> Result<Fetcher> {
        let (fetch_fn, this) = match custom {
            Some(f) => (f, JsValue::UNDEFINED),
            None => {
                let f = global("fetch")
                    .unwrap_or_default()
                    .dyn_into::<Function>()
                    .map_err(|_| Error::config("no global fetch; pass the fetch option"))?;
                (f, global("globalThis").unwrap_or_default())
            }
        };
        Ok(Fetcher {
            fetch_fn,
            this,
            timeout_ms,
        })
    }

    /// The app's resource request (the JS `Request` in `slot`, see
    /// `__mcpRequest`), cloned, with the bearer token if any. The response,
    /// or the raw rejection, stays in the slot; resolves to
    /// `[status, WWW-Authenticate]`.
    pub fn resource(&self, slot: &JsValue, token: Option<&str>) -> Wait {
        let token = token.map_or(JsValue::UNDEFINED, JsValue::from);
        wait(send_resource(&self.fetch_fn, &self.this, slot, &token))
    }

    /// Sends all requests at once; answers in request order.
    pub async fn all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome> {
        let n = requests.len();
        let p = fetch_all(
            &self.fetch_fn,
            &self.this,
            self.timeout_ms.into(),
            &requests_json(&requests).into(),
        );
        // Never rejects: each request reports its own outcome.
        let answers: Array = wait(p).await.unwrap_or_default().into();
        (0..n as u32)
            .map(|i| match answers.get(2 * i).as_f64() {
                Some(status) => FetchOutcome::Response(HttpResponse::new(
                    status as u16,
                    answers.get(2 * i + 1).as_string().unwrap_or_default(),
                )),
                None => FetchOutcome::NetworkError,
            })
            .collect()
    }
}
