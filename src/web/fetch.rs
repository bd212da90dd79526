//! `fetch` for the core's plain-data requests, and for the app's own
//! resource requests.
//!
//! Every request goes through one function: the app's `fetch` option when
//! given, else the global `fetch` (pages, workers, Node ≥ 20). Requests are
//! built and responses read with gloo-net; gloo-net's own `send` is not used,
//! since it always calls the global `fetch`.
//!
//! The core's probes of one discovery step are sent together, so a deep
//! fallback chain costs one round trip; the answers come back in request
//! order. A rejected `fetch` is a `NetworkError` outcome (in browsers: CORS,
//! most often); a probe the core marks retryable is sent once more without
//! its headers (P-8), which spares servers that do not allow them in
//! preflights. A request still unanswered after `timeoutMs` is aborted by
//! `AbortSignal.timeout` and reported as a `Timeout` (P-33).

use std::cell::RefCell;

use futures_util::future::join_all;
use gloo_net::http::{Method as GlooMethod, RequestBuilder, Response};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestRedirect};

use crate::core::dpop;
use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest, HttpResponse, Method, MAX_RESPONSE_BYTES};
use crate::core::io::{Credentials, ResourceAnswer};
use crate::web::{error_name, global, property};

#[wasm_bindgen]
extern "C" {
    /// `AbortSignal.timeout(ms)`; throws where the platform lacks it.
    #[wasm_bindgen(catch, js_namespace = AbortSignal, js_name = timeout)]
    fn abort_signal_timeout(ms: u32) -> std::result::Result<AbortSignal, JsValue>;
}

/// Why a request produced no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Network,
    Timeout,
}

impl Failure {
    fn of(rejection: &JsValue) -> Failure {
        if error_name(rejection) == "TimeoutError" {
            Failure::Timeout
        } else {
            Failure::Network
        }
    }
}

#[derive(Clone)]
pub struct Fetcher {
    fetch_fn: Function,
    /// `this` for the call: browsers throw "Illegal invocation" for the
    /// global `fetch` called on anything but the global object.
    this: JsValue,
    /// 0: no limit.
    pub timeout_ms: u32,
}

impl Fetcher {
    /// The app's `fetch` option, else `globalThis.fetch`.
    pub fn new(custom: Option<Function>, timeout_ms: u32) -> Result<Fetcher> {
        let (fetch_fn, this) = match custom {
            Some(f) => (f, JsValue::UNDEFINED),
            None => {
                let f = global("fetch")
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .ok_or_else(|| Error::config("no global fetch; pass the fetch option"))?;
                (f, js_sys::global().into())
            }
        };
        Ok(Fetcher {
            fetch_fn,
            this,
            timeout_ms,
        })
    }

    /// Calls the fetch function with `request` and awaits its answer (a
    /// plain value from an app's `fetch` counts as the answer).
    async fn call(&self, request: &JsValue) -> std::result::Result<JsValue, JsValue> {
        let answer = self.fetch_fn.call1(&self.this, request)?;
        JsFuture::from(Promise::resolve(&answer)).await
    }

    fn signal(&self) -> Option<AbortSignal> {
        if self.timeout_ms == 0 {
            return None;
        }
        abort_signal_timeout(self.timeout_ms).ok()
    }

    /// Sends all requests at once; answers in request order.
    pub async fn all(&self, requests: &[HttpRequest]) -> Vec<FetchOutcome> {
        join_all(requests.iter().map(|r| self.send(r))).await
    }

    /// One core request, retried without its headers after a network
    /// failure when the core allows it (P-8).
    pub async fn send(&self, request: &HttpRequest) -> FetchOutcome {
        let mut answer = self.attempt(request, true).await;
        if matches!(answer, Err(Failure::Network)) && request.retry_without_headers {
            answer = self.attempt(request, false).await;
        }
        match answer {
            Ok(Answer::Response(response)) => FetchOutcome::Response(response),
            Ok(Answer::Redirected) => FetchOutcome::Redirected {
                url: request.url.clone(),
            },
            Ok(Answer::TooLarge) => FetchOutcome::TooLarge {
                url: request.url.clone(),
            },
            Err(Failure::Network) => FetchOutcome::NetworkError,
            Err(Failure::Timeout) => FetchOutcome::Timeout {
                url: request.url.clone(),
                after_ms: self.timeout_ms,
            },
        }
    }

    async fn attempt(
        &self,
        request: &HttpRequest,
        with_headers: bool,
    ) -> std::result::Result<Answer, Failure> {
        let method = match request.method {
            Method::Get => GlooMethod::GET,
            Method::Post => GlooMethod::POST,
        };
        // P-30: a protocol request never follows a redirect.
        let mut builder = RequestBuilder::new(&request.url)
            .method(method)
            .redirect(RequestRedirect::Manual);
        if with_headers {
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
        }
        let signal = self.signal();
        builder = builder.abort_signal(signal.as_ref());
        let built = match &request.body {
            Some(body) => builder.body(body.as_str()),
            None => builder.build(),
        };
        let js_request: web_sys::Request = built.map_err(|_| Failure::Network)?.into();
        let answer = self.call(&js_request).await.map_err(|e| Failure::of(&e))?;
        let js_response = response_like(answer).ok_or(Failure::Network)?;
        let status = property(&js_response, "status").as_f64().unwrap_or_default() as u16;
        // Browsers give an opaque-redirect response (status 0), Node the 3xx.
        if is_redirect(&js_response) {
            return Ok(Answer::Redirected);
        }
        let Some(body) = read_limited(&js_response).await? else {
            return Ok(Answer::TooLarge);
        };
        let response = Response::from(js_response);
        let mut answer = HttpResponse::new(status, body);
        answer.headers = response.headers().entries().collect();
        Ok(Answer::Response(answer))
    }
}

/// What one attempt of a protocol request got.
enum Answer {
    Response(HttpResponse),
    Redirected,
    TooLarge,
}

/// P-30: a redirect that `redirect: 'manual'` did not follow.
fn is_redirect(response: &JsValue) -> bool {
    let status = property(response, "status").as_f64().unwrap_or_default();
    property(response, "type").as_string().as_deref() == Some("opaqueredirect")
        || (300.0..400.0).contains(&status)
}

/// P-32: the body as text, or `None` when it is longer than
/// `MAX_RESPONSE_BYTES`: a declared `Content-Length` over the limit is not
/// read at all, a stream is read chunk by chunk and cancelled at the limit.
/// A Response-shaped object without a stream is read whole, then measured.
async fn read_limited(response: &web_sys::Response) -> std::result::Result<Option<String>, Failure> {
    let declared = response
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
        cancel(&property(response, "body"));
        return Ok(None);
    }
    let stream = property(response, "body");
    let reader = match property(&stream, "getReader").dyn_into::<Function>() {
        Ok(get_reader) => get_reader.call0(&stream).map_err(|e| Failure::of(&e))?,
        Err(_) => {
            let text = response.text().map_err(|e| Failure::of(&e))?;
            let text = JsFuture::from(text).await.map_err(|e| Failure::of(&e))?;
            let text = text.as_string().unwrap_or_default();
            return Ok((text.len() <= MAX_RESPONSE_BYTES).then_some(text));
        }
    };
    let read: Function = property(&reader, "read")
        .dyn_into()
        .map_err(|_| Failure::Network)?;
    let mut bytes = Vec::new();
    loop {
        let chunk = read.call0(&reader).map_err(|e| Failure::of(&e))?;
        let chunk = JsFuture::from(Promise::resolve(&chunk))
            .await
            .map_err(|e| Failure::of(&e))?;
        if property(&chunk, "done").is_truthy() {
            break;
        }
        let value = property(&chunk, "value");
        let Some(value) = value.dyn_ref::<Uint8Array>() else {
            return Err(Failure::Network);
        };
        if bytes.len() + value.length() as usize > MAX_RESPONSE_BYTES {
            cancel(&reader);
            return Ok(None);
        }
        bytes.extend(value.to_vec());
    }
    // As `Response.text()` decodes: UTF-8, a leading BOM dropped, bad bytes replaced.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// Stops a body download (a stream or its reader); a failure changes nothing.
fn cancel(stream_or_reader: &JsValue) {
    if let Ok(cancel) = property(stream_or_reader, "cancel").dyn_into::<Function>() {
        if let Ok(promise) = cancel.call0(stream_or_reader) {
            // A rejected cancel must not surface as an unhandled rejection:
            // `JsFuture` attaches its handlers at once.
            if let Some(promise) = promise.dyn_ref::<Promise>() {
                drop(JsFuture::from(promise.clone()));
            }
        }
    }
}

/// A `Response`, or an object shaped like one: an app's `fetch` may come
/// from another realm or a polyfill, whose responses are no `instanceof
/// Response` here.
fn response_like(v: JsValue) -> Option<web_sys::Response> {
    let shaped =
        property(&v, "text").is_function() && property(&property(&v, "headers"), "entries").is_function();
    shaped.then(|| v.unchecked_into())
}

/// One `auth.fetch` call: the app's request, kept as a JS `Request` so that
/// bodies, streams and signals behave as with plain `fetch`, and cloned per
/// attempt because a body can be read once. The last response and a raw
/// rejection of the app's `fetch` are kept to reach the app unchanged.
pub struct ResourceRequest {
    request: web_sys::Request,
    /// The app chose a redirect mode (`init.redirect`, or a `Request` whose
    /// mode is not the default): P-30 leaves it alone.
    own_redirect: bool,
    response: RefCell<JsValue>,
    rejection: RefCell<Option<JsValue>>,
}

impl ResourceRequest {
    /// `new Request(input, init)`; the error is what the constructor threw.
    pub fn new(input: &JsValue, init: &JsValue) -> std::result::Result<ResourceRequest, JsValue> {
        let constructor: Function = global("Request")?
            .dyn_into()
            .map_err(|_| JsValue::from(js_sys::TypeError::new("Request is not available")))?;
        let request = Reflect::construct(&constructor, &js_sys::Array::of2(input, init))?;
        let own_redirect = !property(init, "redirect").is_undefined()
            || property(input, "redirect")
                .as_string()
                .is_some_and(|mode| mode != "follow");
        Ok(ResourceRequest {
            request: request.unchecked_into(),
            own_redirect,
            response: RefCell::new(JsValue::UNDEFINED),
            rejection: RefCell::new(None),
        })
    }

    pub fn url(&self) -> String {
        self.request.url()
    }

    /// The request's method (`GET`, `POST`...), for the DPoP proof's `htm`.
    pub fn method(&self) -> String {
        self.request.method()
    }

    /// Sends a clone of the request, with `Authorization` (and, for a
    /// DPoP-bound token, `DPoP`) when credentials are given (P-27, P-38:
    /// the flow decides), then with `redirect: 'manual'` unless the app
    /// chose a mode (P-30): a redirect is reported, not followed with the
    /// token.
    pub async fn send(&self, fetcher: &Fetcher, credentials: Option<&Credentials>) -> Result<ResourceAnswer> {
        let manual = credentials.is_some() && !self.own_redirect;
        let attempt = async {
            let mut request = self.request.clone()?;
            if manual {
                let init = web_sys::RequestInit::new();
                init.set_redirect(RequestRedirect::Manual);
                request = web_sys::Request::new_with_request_and_init(&request, &init)?;
            }
            if let Some(c) = credentials {
                let headers = request.headers();
                headers.set("Authorization", &c.authorization())?;
                if let Some(proof) = &c.proof {
                    headers.set(dpop::HEADER, proof)?;
                }
            }
            fetcher.call(&request).await
        };
        let response = attempt.await.map_err(|e| {
            self.rejection.replace(Some(e));
            Error::Network {
                what: "the resource request".into(),
                url: self.request.url(),
            }
        })?;
        let status = property(&response, "status").as_f64().unwrap_or_default() as u16;
        let headers = property(&response, "headers");
        let header = |name: &str| {
            if headers.is_object() {
                headers
                    .unchecked_ref::<web_sys::Headers>()
                    .get(name)
                    .ok()
                    .flatten()
            } else {
                None
            }
        };
        let www_authenticate = header("WWW-Authenticate");
        let dpop_nonce = header(dpop::NONCE_HEADER);
        let redirected = manual && is_redirect(&response);
        self.response.replace(response);
        Ok(ResourceAnswer {
            status,
            www_authenticate,
            redirected,
            dpop_nonce,
        })
    }

    /// The last response the app's `fetch` gave.
    pub fn response(&self) -> JsValue {
        self.response.borrow().clone()
    }

    /// What the app's `fetch` rejected with, if it did.
    pub fn rejection(&self) -> Option<JsValue> {
        self.rejection.borrow().clone()
    }
}
