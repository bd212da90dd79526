//! Reads the `McpAuth` options object into the core's `Config` and the web
//! adapters. Only translation: every rule lives in the core.

use js_sys::Function;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::core::authorize::Flow;
use crate::core::discovery::{DiscoveryOptions, ServerUrl};
use crate::core::dpop::DpopMode;
use crate::core::error::{Error, Result};
use crate::core::flow::{Config, StepUpPolicy, TokenScope};
use crate::core::io::TokenStorage;
use crate::core::registration::{check_redirect_uri, ClientConfig};
use crate::core::scope;
use crate::web::fetch::Fetcher;
use crate::web::storage::Store;
use crate::web::WebIo;

pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

/// The options object as the app wrote it (js/index.d.ts `McpAuthOptions`).
/// Unknown keys are ignored; `null` counts as absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    server_url: Option<String>,
    redirect_uri: Option<String>,
    client_name: Option<String>,
    client_uri: Option<String>,
    logo_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_metadata_url: Option<String>,
    scope: Option<String>,
    on_insufficient_scope: Option<OnInsufficientScope>,
    timeout_ms: Option<f64>,
    max_step_up_retries: Option<f64>,
    allow_missing_pkce_metadata: Option<bool>,
    /// `'auto' | 'off' | 'require'` (P-35).
    dpop: Option<String>,
    /// P-27: `'serverUrl'` (default) or `'origin'`.
    send_token_to: Option<String>,
    /// `'redirect' | 'popup'` (P-40).
    mode: Option<Flow>,
    popup_timeout_ms: Option<f64>,
    /// `'session' | 'local' | 'memory'` or a Storage-like object.
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    token_storage: JsValue,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    fetch: JsValue,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    on_status: JsValue,
    #[serde(default, with = "serde_wasm_bindgen::preserve")]
    on_redirect: JsValue,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum OnInsufficientScope {
    #[default]
    Reauthorize,
    Throw,
}

/// Everything one `McpAuth` holds.
pub struct Parsed {
    pub config: Config,
    pub io: WebIo,
    pub on_redirect: Option<Function>,
    pub mode: Flow,
    pub popup_timeout_ms: u32,
}

const MODE_VALUES: &str = "mode must be 'redirect' or 'popup'";

/// `authorize({ mode })`: the instance's `mode` when absent.
pub fn authorize_mode(options: &JsValue, default: Flow) -> Result<Flow> {
    let mode = crate::web::property(options, "mode");
    if mode.is_null_or_undefined() {
        return Ok(default);
    }
    serde_wasm_bindgen::from_value(mode).map_err(|_| Error::config(MODE_VALUES))
}

fn read(options: &JsValue) -> Result<Options> {
    if !options.is_object() {
        return Err(Error::config("options must be an object"));
    }
    let deserializer = serde_wasm_bindgen::Deserializer::from(options.clone());
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        if key == "onInsufficientScope" {
            Error::config("onInsufficientScope must be 'reauthorize' or 'throw'")
        } else if key == "mode" {
            Error::config(MODE_VALUES)
        } else {
            Error::config(format!("{key}: {inner}"))
        }
    })
}

fn required(value: Option<String>, key: &str) -> Result<String> {
    value.ok_or_else(|| Error::config(format!("{key} is required")))
}

fn function(value: JsValue, key: &str) -> Result<Option<Function>> {
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| Error::config(format!("{key} must be a function")))
}

fn count(value: Option<f64>, key: &str, default: u32) -> Result<u32> {
    match value {
        None => Ok(default),
        Some(n) if n.is_finite() && n >= 0.0 => Ok(n.min(f64::from(u32::MAX)) as u32),
        Some(_) => Err(Error::config(format!("{key} must be a non-negative number"))),
    }
}

/// `tokenStorage`: the core's `TokenStorage` and the store behind it.
fn token_storage(value: JsValue) -> Result<(TokenStorage, Store)> {
    if value.is_null_or_undefined() {
        return Ok((TokenStorage::Session, Store::global("sessionStorage")));
    }
    match value.as_string().as_deref() {
        Some("session") => Ok((TokenStorage::Session, Store::global("sessionStorage"))),
        Some("local") => Ok((TokenStorage::Local, Store::global("localStorage"))),
        Some("memory") => Ok((TokenStorage::Memory, Store::memory())),
        Some(other) => Err(Error::config(format!(
            "tokenStorage must be 'session', 'local', 'memory' or a Storage-like object, not {other:?}"
        ))),
        None if value.is_object() => Ok((TokenStorage::Custom, Store::custom(value)?)),
        None => Err(Error::config(
            "tokenStorage must be 'session', 'local', 'memory' or a Storage-like object",
        )),
    }
}

/// `sendTokenTo` (P-27): which requests get the token.
fn send_token_to(value: Option<String>) -> Result<TokenScope> {
    match value {
        None => Ok(TokenScope::default()),
        Some(s) => TokenScope::parse(&s)
            .ok_or_else(|| Error::config(format!("sendTokenTo must be 'serverUrl' or 'origin', not {s:?}"))),
    }
}

pub fn parse(options: &JsValue) -> Result<Parsed> {
    let o = read(options)?;
    let server = ServerUrl::parse(&required(o.server_url, "serverUrl")?)?;
    let redirect_uri = required(o.redirect_uri, "redirectUri")?;
    check_redirect_uri(&redirect_uri)?;
    let (token_storage, tokens) = token_storage(o.token_storage)?;
    let timeout_ms = count(o.timeout_ms, "timeoutMs", DEFAULT_TIMEOUT_MS)?;
    let max_retries = count(o.max_step_up_retries, "maxStepUpRetries", 1)?;
    let popup_timeout_ms = count(
        o.popup_timeout_ms,
        "popupTimeoutMs",
        crate::core::popup::DEFAULT_TIMEOUT_MS,
    )?;
    let fetcher = Fetcher::new(function(o.fetch, "fetch")?, timeout_ms)?;
    let on_status = function(o.on_status, "onStatus")?;
    let on_redirect = function(o.on_redirect, "onRedirect")?;
    let dpop = match o.dpop.as_deref() {
        None => DpopMode::default(),
        Some(written) => DpopMode::parse(written)
            .ok_or_else(|| Error::config("dpop must be 'auto', 'off' or 'require'"))?,
    };
    let config = Config {
        server: server.clone(),
        client: ClientConfig {
            redirect_uri,
            client_name: o.client_name,
            client_uri: o.client_uri,
            logo_uri: o.logo_uri,
            client_id: o.client_id,
            client_secret: o.client_secret,
            client_metadata_url: o.client_metadata_url,
        },
        app_scope: scope::split(o.scope.as_deref().unwrap_or_default()),
        discovery: DiscoveryOptions {
            allow_missing_pkce_metadata: o.allow_missing_pkce_metadata.unwrap_or(false),
        },
        token_storage,
        step_up: StepUpPolicy {
            throw: o.on_insufficient_scope.unwrap_or_default() == OnInsufficientScope::Throw,
            max_retries,
        },
        send_token_to: send_token_to(o.send_token_to)?,
        dpop,
    };
    let io = WebIo {
        fetcher,
        session: Store::global("sessionStorage"),
        local: Store::global("localStorage"),
        tokens,
        on_status,
        server_url: config.server_url().to_string(),
    };
    Ok(Parsed {
        config,
        io,
        on_redirect,
        mode: o.mode.unwrap_or_default(),
        popup_timeout_ms,
    })
}
