//! The JavaScript API: `McpAuth`, the module-level `finishAuth`, and the
//! error classes (re-exported by the package entry). Only translation between
//! JS values and the core's flows happens here.

mod errors;
pub mod options;
mod popup;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

use crate::core::authorize::Flow;
use crate::core::callback::CallbackParams;
use crate::core::error::Error;
use crate::core::flow::{
    self, Authorization, AuthorizeRequest, CallbackInput, Config, FetchEnd, TokenTarget,
};
use crate::core::io::Credentials;
use crate::core::scope;
use crate::core::token::TokenType;
use crate::web::fetch::{Fetcher, ResourceRequest};
use crate::web::storage::Store;
use crate::web::{current_href, global, property, rotation, WebIo};

struct Inner {
    config: Config,
    io: WebIo,
    on_redirect: Option<Function>,
    /// The `mode` option: how `auth.fetch`'s authorizations reach the user.
    mode: Flow,
    /// P-42: `popupTimeoutMs`.
    popup_timeout_ms: u32,
    /// P-40: the authorization URL `auth.fetch` could not open a window
    /// for; `authorize({ mode: 'popup' })` resumes it from a click.
    blocked: RefCell<Option<String>>,
    /// P-34: adopts the token sets other tabs publish, while this lives.
    _rotation: Rc<rotation::Listener>,
}

/// P-34: every rotation message another tab (or instance) publishes is
/// offered to this client: adopted only if it still holds the consumed token.
fn rotation_listener(config: &Config, io: &WebIo) -> Rc<rotation::Listener> {
    let (config, io) = (config.clone(), io.clone());
    rotation::subscribe(Rc::new(move |message: &str| {
        let (config, io, message) = (config.clone(), io.clone(), message.to_string());
        spawn_local(async move {
            // Passive: a message this client cannot use changes nothing.
            let _ = flow::adopt_rotation(&io, &config, &message).await;
        });
    }))
}

/// An OAuth client for one MCP server.
#[wasm_bindgen]
pub struct McpAuth {
    inner: Rc<Inner>,
}

/// The core error as its JS class; reported to `onStatus` as an `error`
/// event, except the redirect that is the flow going on elsewhere.
fn js_err(io: Option<&WebIo>, e: Error) -> JsValue {
    let v = errors::to_js(&e);
    if let (Some(io), false) = (io, matches!(e, Error::RedirectStarted)) {
        io.emit("error", Some(&v));
    }
    v
}

/// A result object as plain JS data.
fn to_js(value: &impl Serialize) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// What `finishAuth` resolves to.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FinishedJs<'a> {
    server_url: &'a str,
    return_to: &'a str,
    scope: String,
    /// P-41: a popup's callback page handed the result to its opener (and
    /// could not close itself); absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    popup: bool,
}

/// What `tokens()` returns: for display, never the tokens themselves.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokensJs {
    scope: String,
    expires_at: Option<u64>,
    has_refresh_token: bool,
    /// P-38: the access token is DPoP-bound (sent with a proof).
    dpop_bound: bool,
}

/// `onRedirect(url)` (awaited when it returns a promise), else
/// `location.assign(url)`. What `onRedirect` throws or rejects with reaches
/// the caller unchanged: an app that finishes the flow inside it (popups,
/// Node) sees its real error.
async fn redirect(io: &WebIo, on_redirect: Option<&Function>, url: &str) -> Result<(), JsValue> {
    let url = JsValue::from(url);
    let returned = match on_redirect {
        Some(f) => f.call1(&JsValue::UNDEFINED, &url)?,
        None => {
            let location = global("location").unwrap_or_default();
            let assign = property(&location, "assign");
            let Some(assign) = assign.dyn_ref::<Function>() else {
                return Err(js_err(
                    Some(io),
                    Error::config("no location to redirect; pass the onRedirect option"),
                ));
            };
            assign.call1(&location, &url)?
        }
    };
    if let Some(promise) = returned.dyn_ref::<Promise>() {
        JsFuture::from(promise.clone()).await?;
    }
    Ok(())
}

/// P-18: `URLSearchParams` (or any iterable of `[name, value]` pairs; pairs
/// that are not two strings are skipped) or a code string.
fn callback_input(params: &JsValue, iss: &JsValue) -> Result<CallbackInput, Error> {
    if let Some(code) = params.as_string() {
        let iss = iss.as_string();
        return Ok(CallbackInput::Code { code, iss });
    }
    let unreadable = |_| Error::config("finishAuth: unreadable parameters");
    let entries = js_sys::try_iter(params)
        .map_err(unreadable)?
        .ok_or_else(|| Error::config("finishAuth takes URLSearchParams or a code string"))?;
    let mut pairs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unreadable)?;
        let name = Reflect::get(&entry, &0.into()).map_err(unreadable)?;
        let value = Reflect::get(&entry, &1.into()).map_err(unreadable)?;
        if let (Some(name), Some(value)) = (name.as_string(), value.as_string()) {
            pairs.push((name, value));
        }
    }
    Ok(CallbackInput::Query(CallbackParams(pairs)))
}

#[wasm_bindgen]
impl McpAuth {
    /// Creates a client for `options.serverUrl`. Throws `McpAuthError`
    /// (`invalid_config`) or `InsecureEndpointError` on bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<McpAuth, JsValue> {
        let p = options::parse(&options).map_err(|e| js_err(None, e))?;
        Ok(McpAuth {
            inner: Rc::new(Inner {
                _rotation: rotation_listener(&p.config, &p.io),
                config: p.config,
                io: p.io,
                on_redirect: p.on_redirect,
                mode: p.mode,
                popup_timeout_ms: p.popup_timeout_ms,
                blocked: RefCell::default(),
            }),
        })
    }

    /// The MCP server URL this client authorizes for.
    #[wasm_bindgen(getter, js_name = serverUrl)]
    pub fn server_url(&self) -> String {
        self.inner.config.server_url().to_string()
    }

    /// Like `fetch`, with `Authorization: Bearer` attached for the server's
    /// origin only. On 401 it refreshes or starts authorization (then rejects
    /// with `AuthorizationRedirectError` after `onRedirect`); on 403
    /// `insufficient_scope` it steps up or throws `InsufficientScopeError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { authenticated_fetch(&inner, &input, &init).await })
    }

    /// Starts or confirms authorization without a resource request. Resolves
    /// to `'AUTHORIZED'` when usable tokens exist, else `'REDIRECT'` once the
    /// redirect has been handed to `onRedirect`. In popup mode the window
    /// opens now, in the caller's task (P-40), and the promise resolves to
    /// `'AUTHORIZED'` once the sign-in in it is complete.
    #[wasm_bindgen(unchecked_return_type = "Promise<'AUTHORIZED' | 'REDIRECT'>")]
    pub fn authorize(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "{ scope?: string; returnTo?: string; mode?: 'redirect' | 'popup'; signal?: AbortSignal }"
        )]
        options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        let mode = match options::authorize_mode(&options, inner.mode) {
            Ok(mode) => mode,
            Err(e) => return Promise::reject(&js_err(Some(&inner.io), e)),
        };
        if mode == Flow::Popup {
            // P-40: before any await, or the browser blocks the window.
            let window = match crate::web::popup::open("") {
                Ok(Some(window)) => window,
                Ok(None) => return Promise::reject(&js_err(Some(&inner.io), Error::PopupBlocked)),
                Err(e) => return Promise::reject(&js_err(Some(&inner.io), e)),
            };
            return future_to_promise(async move {
                authorize_in_popup(&inner, &window, &options)
                    .await
                    .map_err(|e| js_err(Some(&inner.io), e))
            });
        }
        future_to_promise(async move {
            let req = AuthorizeRequest {
                challenge: None,
                scope: property(&options, "scope").as_string().map(|s| scope::split(&s)),
                return_to: property(&options, "returnTo").as_string(),
                page_url: current_href(),
                force: false,
                rediscover: false,
            };
            let io = &inner.io;
            match flow::authorize(io, &inner.config, &req)
                .await
                .map_err(|e| js_err(Some(io), e))?
            {
                Authorization::Authorized(_) => Ok("AUTHORIZED".into()),
                Authorization::Redirect(url) => {
                    redirect(io, inner.on_redirect.as_ref(), &url).await?;
                    Ok("REDIRECT".into())
                }
            }
        })
    }

    /// Runs discovery now (the server's metadata, cached where `authorize`
    /// and `fetch` read it), so that a later click redirects after at most
    /// the registration. Nothing that needs the user, and no `onStatus`
    /// events. Never rejects: resolves to `{ ready: true }`, or
    /// `{ ready: false, error }` when discovery failed, in which case nothing
    /// is kept and the next `authorize`/`fetch` discovers again.
    #[wasm_bindgen(unchecked_return_type = "Promise<{ ready: true } | { ready: false; error: Error }>")]
    pub fn prefetch(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let status = Object::new();
            let outcome = flow::prefetch(&inner.io, &inner.config).await;
            Reflect::set(&status, &"ready".into(), &outcome.is_ok().into())?;
            if let Err(e) = outcome {
                Reflect::set(&status, &"error".into(), &errors::to_js(&e))?;
            }
            Ok(status.into())
        })
    }

    /// Completes authorization on the redirect page; resolves to
    /// `{ serverUrl, returnTo, scope }`. Throws `IssuerMismatchError` when the
    /// RFC 9207 `iss` check fails (the pending flow survives), `OAuthError`
    /// when the server returned an error.
    #[wasm_bindgen(js_name = finishAuth, unchecked_return_type = "Promise<{ serverUrl: string; returnTo: string; scope: string }>")]
    pub fn finish_auth(
        &self,
        #[wasm_bindgen(unchecked_param_type = "URLSearchParams | string")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] iss: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { finish(Some(&inner), &params, &iss).await })
    }

    /// For display: `{ scope, expiresAt, hasRefreshToken, dpopBound }` or `null`. Never the tokens themselves.
    #[wasm_bindgen(
        unchecked_return_type = "{ scope: string; expiresAt: number | null; hasRefreshToken: boolean; dpopBound: boolean } | null"
    )]
    pub fn tokens(&self) -> Result<JsValue, JsValue> {
        let io = &self.inner.io;
        let tokens = flow::current_tokens(io, &self.inner.config).map_err(|e| js_err(Some(io), e))?;
        Ok(match tokens {
            None => JsValue::NULL,
            Some(t) => to_js(&TokensJs {
                scope: scope::join(&t.scope),
                expires_at: t.expires_at_ms,
                has_refresh_token: t.refresh_token.is_some(),
                dpop_bound: t.token_type == TokenType::DPoP,
            }),
        })
    }

    /// Forgets this server's tokens, revoking them where the server supports RFC 7009.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let io = &inner.io;
            flow::sign_out(io, &inner.config)
                .await
                .map_err(|e| js_err(Some(io), e))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// P-40..P-42: `authorize({ mode: 'popup' })` once its window is open: the
/// authorization a blocked `auth.fetch` left (when no other scope is asked
/// for), else a new one; then the sign-in in the window.
async fn authorize_in_popup(
    inner: &Inner,
    window: &web_sys::Window,
    options: &JsValue,
) -> Result<JsValue, Error> {
    let io = &inner.io;
    let scope = property(options, "scope").as_string().map(|s| scope::split(&s));
    let resumed = match inner.blocked.take() {
        Some(url) if scope.is_none() && crate::core::popup::can_resume(io, &url)? => Some(url),
        _ => None,
    };
    let url = match resumed {
        Some(url) => url,
        None => {
            let req = AuthorizeRequest {
                challenge: None,
                scope,
                return_to: property(options, "returnTo").as_string(),
                page_url: current_href(),
                force: false,
                rediscover: false,
            };
            match flow::authorize(io, &inner.config, &req).await {
                Ok(Authorization::Redirect(url)) => url,
                Ok(Authorization::Authorized(_)) => {
                    crate::web::popup::close(window);
                    return Ok("AUTHORIZED".into());
                }
                Err(e) => {
                    crate::web::popup::close(window);
                    return Err(e);
                }
            }
        }
    };
    let signal = property(options, "signal");
    let run = popup::PopupRun {
        io,
        server_url: inner.config.server_url(),
        window,
        timeout_ms: inner.popup_timeout_ms,
        signal: &signal,
    };
    run.navigate_and_complete(&url).await?;
    Ok("AUTHORIZED".into())
}

/// P-40: a fetch's authorization in a window. The window is opened now,
/// after the awaits that found the 401 or 403: browsers that keep a click's
/// activation for a few seconds (Chromium, Firefox) allow it when the call
/// came from a click; otherwise it is `PopupBlockedError`, and the
/// authorization waits for `authorize({ mode: 'popup' })` from a click.
async fn fetch_in_popup(inner: &Inner, url: String, signal: &JsValue) -> Result<(), Error> {
    let io = &inner.io;
    let state = crate::core::popup::begin(io, &url)?;
    let Some(window) = crate::web::popup::open(&url)? else {
        crate::core::popup::blocked(io, inner.config.server_url())?;
        *inner.blocked.borrow_mut() = Some(url);
        return Err(Error::PopupBlocked);
    };
    let run = popup::PopupRun {
        io,
        server_url: inner.config.server_url(),
        window: &window,
        timeout_ms: inner.popup_timeout_ms,
        signal,
    };
    run.complete_opened(&state).await.map(drop)
}

/// At most this many windows per `auth.fetch` call; the core's own caps
/// (P-14, P-29) normally end the retries first.
const POPUPS_PER_CALL: u32 = 3;

/// `auth.fetch`: the app's request through the core's fetch flow. The
/// response, or the app's `fetch` rejection, reaches the app unchanged. In
/// popup mode an authorization happens in a window and the call is made
/// again with the new token, without leaving the page.
async fn authenticated_fetch(inner: &Inner, input: &JsValue, init: &JsValue) -> Result<JsValue, JsValue> {
    let mut popups = 0;
    loop {
        match fetch_once(inner, input, init).await? {
            FetchStep::Done(response) => return Ok(response),
            FetchStep::Authorize(url) if popups < POPUPS_PER_CALL => {
                popups += 1;
                let signal = property(init, "signal");
                fetch_in_popup(inner, url, &signal)
                    .await
                    .map_err(|e| js_err(Some(&inner.io), e))?;
            }
            FetchStep::Authorize(_) => {
                return Err(js_err(
                    Some(&inner.io),
                    Error::TokenRejected {
                        server_url: inner.config.server_url().to_string(),
                    },
                ))
            }
        }
    }
}

enum FetchStep {
    Done(JsValue),
    /// Popup mode: authorize at this URL, then call again.
    Authorize(String),
}

async fn fetch_once(inner: &Inner, input: &JsValue, init: &JsValue) -> Result<FetchStep, JsValue> {
    let request = ResourceRequest::new(input, init)?;
    let io = &inner.io;
    let send = |credentials: Option<Credentials>| {
        let request = &request;
        async move { request.send(&io.fetcher, credentials.as_ref()).await }
    };
    let method = request.method();
    let end = flow::fetch(io, &inner.config, &method, &request.url(), &current_href(), send).await;
    match end {
        Ok(FetchEnd::Response) => Ok(FetchStep::Done(request.response())),
        Ok(FetchEnd::Redirect(to)) if inner.mode == Flow::Popup => Ok(FetchStep::Authorize(to)),
        Ok(FetchEnd::Redirect(to)) => {
            redirect(io, inner.on_redirect.as_ref(), &to).await?;
            Err(js_err(Some(io), Error::RedirectStarted))
        }
        Err(e @ Error::Network { .. }) => Err(request.rejection().unwrap_or_else(|| js_err(Some(io), e))),
        Err(e) => Err(js_err(Some(io), e)),
    }
}

/// Completes authorization on a callback page with no configuration: the
/// pending flow is found by `state` (or, for a bare code, by being the only
/// one). Tokens go where the app's `tokenStorage` said (`session`, `local`),
/// or wait in `sessionStorage` for the next `McpAuth` (memory, custom).
#[wasm_bindgen(js_name = finishAuth, unchecked_return_type = "Promise<{ serverUrl: string; returnTo: string; scope: string }>")]
pub async fn finish_auth(
    #[wasm_bindgen(unchecked_param_type = "URLSearchParams | string")] params: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string | null")] iss: JsValue,
) -> Result<JsValue, JsValue> {
    finish(None, &params, &iss).await
}

/// Both `finishAuth`s: an instance's (its server only, its token storage),
/// or the module-level one's (any pending flow, the storage its record
/// names).
async fn finish(inner: Option<&Inner>, params: &JsValue, iss: &JsValue) -> Result<JsValue, JsValue> {
    let page_io;
    let (io, server, target) = match inner {
        Some(inner) => (&inner.io, Some(inner.config.server_url()), TokenTarget::Instance),
        None => {
            page_io = WebIo {
                fetcher: Fetcher::new(None, options::DEFAULT_TIMEOUT_MS).map_err(|e| js_err(None, e))?,
                session: Store::global("sessionStorage"),
                local: Store::global("localStorage"),
                tokens: Store::memory(),
                on_status: None,
                server_url: String::new(),
            };
            (&page_io, None, TokenTarget::FromRecord)
        }
    };
    let input = callback_input(params, iss).map_err(|e| js_err(Some(io), e))?;
    if let CallbackInput::Query(query) = &input {
        if let Some(h) = crate::core::popup::handover(io, query).map_err(|e| js_err(Some(io), e))? {
            // P-41: in the sign-in window: the opener finishes the flow.
            crate::web::popup::post(&h.channel, &h.message);
            if crate::web::popup::close_self() {
                // The page is going away: nothing after `await finishAuth`
                // (the README's `location.replace(returnTo)`) runs.
                std::future::pending::<()>().await;
            }
            return Ok(to_js(&FinishedJs {
                server_url: &h.server_url,
                return_to: &h.return_to,
                scope: String::new(),
                popup: true,
            }));
        }
    }
    let f = flow::finish(io, &input, server, target)
        .await
        .map_err(|e| js_err(Some(io), e))?;
    Ok(to_js(&FinishedJs {
        server_url: &f.server_url,
        return_to: &f.return_to,
        scope: scope::join(&f.scope),
        popup: false,
    }))
}
