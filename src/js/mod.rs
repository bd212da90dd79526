//! The JavaScript API: `McpAuth`, the module-level `finishAuth`, and the
//! error classes (re-exported by the package entry). Only translation between
//! JS values and the core's flows happens here.

mod errors;
pub mod options;

use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};

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
    /// redirect has been handed to `onRedirect`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'AUTHORIZED' | 'REDIRECT'>")]
    pub fn authorize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ scope?: string; returnTo?: string }")] options: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
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

/// `auth.fetch`: the app's request through the core's fetch flow. The
/// response, or the app's `fetch` rejection, reaches the app unchanged.
async fn authenticated_fetch(inner: &Inner, input: &JsValue, init: &JsValue) -> Result<JsValue, JsValue> {
    let request = ResourceRequest::new(input, init)?;
    let io = &inner.io;
    let send = |credentials: Option<Credentials>| {
        let request = &request;
        async move { request.send(&io.fetcher, credentials.as_ref()).await }
    };
    let method = request.method();
    let end = flow::fetch(io, &inner.config, &method, &request.url(), &current_href(), send).await;
    match end {
        Ok(FetchEnd::Response) => Ok(request.response()),
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
    let f = flow::finish(io, &input, server, target)
        .await
        .map_err(|e| js_err(Some(io), e))?;
    Ok(to_js(&FinishedJs {
        server_url: &f.server_url,
        return_to: &f.return_to,
        scope: scope::join(&f.scope),
    }))
}
