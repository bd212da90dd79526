//! The JavaScript API: `McpAuth`, the module-level `finishAuth`, and the
//! error classes (re-exported by the package entry). Only translation between
//! JS values and the core's flows happens here.

mod errors;
mod options;

use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::core::callback::CallbackParams;
use crate::core::error::Error;
use crate::core::flow::{
    self, Authorization, AuthorizeRequest, CallbackInput, Config, FetchEnd, TokenTarget,
};
use crate::core::io::ResourceAnswer;
use crate::core::scope;
use crate::core::secret::Secret;
use crate::web::fetch::Fetcher;
use crate::web::storage::Store;
use crate::web::task::{spawn, wait};
use crate::web::{global, property, Array, Function, WebIo};
use serde::Serialize;

struct Inner {
    config: Config,
    io: WebIo,
    on_redirect: Option<Function>,
}

#[wasm_bindgen]
extern "C" {
    /// Our own JSON: it always parses (so no catching import).
    #[wasm_bindgen(js_namespace = JSON, js_name = parse)]
    fn json_parse(json: &JsValue) -> JsValue;
}

/// An OAuth client for one MCP server.
#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// The slot of one `fetch` call (see `js/host.js`); what `new Request`
    /// throws is boxed in it, at 2.
    #[wasm_bindgen(js_name = __mcpRequest)]
    fn new_request(input: &JsValue, init: &JsValue) -> Array;
    /// Resolves to undefined once redirected, to 0 when there is no `location`.
    #[wasm_bindgen(js_name = __mcpRedirect)]
    fn js_redirect(on_redirect: Option<&Function>, url: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = __mcpPairs)]
    fn pairs(params: &JsValue) -> JsValue;
}

#[wasm_bindgen]
pub struct McpAuth {
    inner: Rc<Inner>,
}

fn js_err(io: Option<&WebIo>, e: Error) -> JsValue {
    let v = errors::to_js(&e);
    if let (Some(io), false) = (io, matches!(e, Error::RedirectStarted)) {
        io.emit("error", &v);
    }
    v
}

/// A result object, written as JSON: cheaper than setting each field from wasm.
fn object<T: Serialize>(value: &T) -> JsValue {
    json_parse(&crate::codec::to_string(value).into())
}

fn current_href() -> String {
    property(&global("location").unwrap_or_default(), "href")
        .as_string()
        .unwrap_or_default()
}

/// `onRedirect(url)` (awaited when it returns a promise), else
/// `location.assign(url)`, through `__mcpRedirect`. What `onRedirect` throws
/// or rejects with reaches the caller unchanged: an app that finishes the
/// flow inside it (popups, Node) sees its real error.
async fn redirect(io: &WebIo, on_redirect: Option<&Function>, url: &str) -> Result<(), JsValue> {
    if wait(js_redirect(on_redirect, &url.into())).await?.is_undefined() {
        return Ok(());
    }
    Err(js_err(
        Some(io),
        Error::config("no location to redirect; pass the onRedirect option"),
    ))
}

/// P-18: `URLSearchParams` (or any iterable of pairs) or a code string.
/// The pairs arrive from `js/host.js` as one flat array of strings.
fn callback_input(params: &JsValue, iss: JsValue) -> Result<CallbackInput, Error> {
    if let Some(code) = params.as_string() {
        let iss = iss.as_string();
        return Ok(CallbackInput::Code { code, iss });
    }
    let flat = pairs(params);
    if flat.is_undefined() {
        return Err(Error::config("finishAuth takes URLSearchParams or a code string"));
    }
    // Null: iterating threw.
    if !flat.is_object() {
        return Err(Error::config("finishAuth: unreadable parameters"));
    }
    let flat: Array = flat.into();
    let s = |i| flat.get(i).as_string();
    let pairs = (0..).map_while(|i| Some((s(2 * i)?, s(2 * i + 1)?))).collect();
    Ok(CallbackInput::Query(CallbackParams(pairs)))
}

fn finished_to_js(f: &flow::Finished) -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct FinishedObject<'a> {
        server_url: &'a str,
        return_to: &'a str,
        scope: String,
    }
    object(&FinishedObject {
        server_url: &f.server_url,
        return_to: &f.return_to,
        scope: scope::join(&f.scope),
    })
}

#[wasm_bindgen]
impl McpAuth {
    /// Creates a client for `options.serverUrl`. Throws `McpAuthError`
    /// (`invalid_config`) or `InsecureEndpointError` on bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<McpAuth, JsValue> {
        let p = options::parse(&options)?;
        Ok(McpAuth {
            inner: Rc::new(Inner {
                config: p.config,
                io: p.io,
                on_redirect: p.on_redirect,
            }),
        })
    }

    /// The MCP server URL this client authorizes for.
    /// (A JS string made here: no copy to hand out and free in the glue.)
    #[wasm_bindgen(getter, js_name = serverUrl, unchecked_return_type = "string")]
    pub fn server_url(&self) -> JsValue {
        self.inner.config.server_url().into()
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
    ) -> JsValue {
        let inner = self.inner.clone();
        spawn(async move { authenticated_fetch(inner, input, init).await })
    }

    /// Starts or confirms authorization without a resource request. Resolves
    /// to `'AUTHORIZED'` when usable tokens exist, else `'REDIRECT'` once the
    /// redirect has been handed to `onRedirect`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'AUTHORIZED' | 'REDIRECT'>")]
    pub fn authorize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ scope?: string; returnTo?: string }")] options: JsValue,
    ) -> JsValue {
        let inner = self.inner.clone();
        spawn(async move {
            let scope = property(&options, "scope").as_string();
            let req = AuthorizeRequest {
                challenge: None,
                scope: scope.map(|s| scope::split(&s)),
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

    /// Completes authorization on the redirect page; resolves to
    /// `{ serverUrl, returnTo, scope }`. Throws `IssuerMismatchError` when the
    /// RFC 9207 `iss` check fails (the pending flow survives), `OAuthError`
    /// when the server returned an error.
    #[wasm_bindgen(js_name = finishAuth, unchecked_return_type = "Promise<{ serverUrl: string; returnTo: string; scope: string }>")]
    pub fn finish_auth(
        &self,
        #[wasm_bindgen(unchecked_param_type = "URLSearchParams | string")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string | null")] iss: JsValue,
    ) -> JsValue {
        spawn(finish(Some(self.inner.clone()), params, iss))
    }

    /// For display: `{ scope, expiresAt, hasRefreshToken }` or `null`. Never the tokens themselves.
    #[wasm_bindgen(
        unchecked_return_type = "{ scope: string; expiresAt: number | null; hasRefreshToken: boolean } | null"
    )]
    pub fn tokens(&self) -> Result<JsValue, JsValue> {
        let io = &self.inner.io;
        let t = flow::current_tokens(io, &self.inner.config).map_err(|e| js_err(Some(io), e))?;
        Ok(match t {
            None => JsValue::NULL,
            Some(t) => {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct TokensObject {
                    scope: String,
                    expires_at: Option<u64>,
                    has_refresh_token: bool,
                }
                object(&TokensObject {
                    scope: scope::join(&t.scope),
                    expires_at: t.expires_at_ms,
                    has_refresh_token: t.refresh_token.is_some(),
                })
            }
        })
    }

    /// Forgets this server's tokens, revoking them where the server supports RFC 7009.
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(&self) -> JsValue {
        let inner = self.inner.clone();
        spawn(async move {
            let io = &inner.io;
            flow::sign_out(io, &inner.config)
                .await
                .map_err(|e| js_err(Some(io), e))?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The resource request, kept as a JS `Request` so bodies, streams and
/// signals behave as with plain `fetch`; cloned per attempt because a body
/// can be read once. The last response and the raw network error stay on the
/// JS side, in the slot `__mcpRequest` made.
async fn authenticated_fetch(inner: Rc<Inner>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    let slot = new_request(&input, &init);
    let raw_error = slot.get(2);
    if !raw_error.is_undefined() {
        return Err(raw_error.unchecked_into::<Array>().get(0));
    }
    let url = slot.get(3).as_string().unwrap_or_default();
    let io = &inner.io;
    let send = |token: Option<Secret>| {
        let slot = &slot;
        let url = &url;
        async move {
            let answer: Array = io
                .fetcher
                .resource(slot, token.as_ref().map(Secret::expose))
                .await
                .map_err(|_| Error::Network {
                    what: "the resource request".into(),
                    url: url.clone(),
                })?
                .into();
            Ok(ResourceAnswer {
                status: answer.get(0).as_f64().unwrap_or_default() as u16,
                www_authenticate: answer.get(1).as_string(),
                redirected: false,
            })
        }
    };
    let end = flow::fetch(io, &inner.config, &url, &current_href(), send).await;
    let raw_error = slot.get(2);
    match end {
        Ok(FetchEnd::Response) => Ok(slot.get(1)),
        Ok(FetchEnd::Redirect(to)) => {
            redirect(io, inner.on_redirect.as_ref(), &to).await?;
            Err(js_err(Some(io), Error::RedirectStarted))
        }
        Err(Error::Network { .. }) if !raw_error.is_undefined() => {
            Err(raw_error.unchecked_into::<Array>().get(0))
        }
        Err(e) => Err(js_err(Some(io), e)),
    }
}

/// Completes authorization on a callback page with no configuration: the
/// pending flow is found by `state` (or, for a bare code, by being the only
/// one). Tokens go where the app's `tokenStorage` said (`session`, `local`),
/// or wait in `sessionStorage` for the next `McpAuth` (memory, custom).
#[wasm_bindgen(js_name = finishAuth, unchecked_return_type = "Promise<{ serverUrl: string; returnTo: string; scope: string }>")]
pub fn finish_auth(
    #[wasm_bindgen(unchecked_param_type = "URLSearchParams | string")] params: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "string | null")] iss: JsValue,
) -> JsValue {
    spawn(finish(None, params, iss))
}

/// Both `finishAuth`s, one task type: an instance's (its server only, its
/// token storage), or the module-level one's (any pending flow, the storage
/// its record names).
async fn finish(inner: Option<Rc<Inner>>, params: JsValue, iss: JsValue) -> Result<JsValue, JsValue> {
    let page_io;
    let (io, server, target) = match &inner {
        Some(inner) => (&inner.io, Some(inner.config.server_url()), TokenTarget::Instance),
        None => {
            page_io = WebIo {
                fetcher: Fetcher::new(None, options::DEFAULT_TIMEOUT_MS).map_err(|e| js_err(None, e))?,
                session: Store::global("sessionStorage"),
                local: Store::global("localStorage"),
                tokens: Store::memory(),
                on_status: None,
                server_url: JsValue::UNDEFINED,
            };
            (&page_io, None, TokenTarget::FromRecord)
        }
    };
    let input = callback_input(&params, iss).map_err(|e| js_err(Some(io), e))?;
    let f = flow::finish(io, &input, server, target)
        .await
        .map_err(|e| js_err(Some(io), e))?;
    Ok(finished_to_js(&f))
}
