//! Reads the `McpAuth` options object into the core's `Config` and the web
//! adapters. Only translation: every rule lives in the core.

use wasm_bindgen::{JsCast, JsValue};

use crate::core::discovery::{DiscoveryOptions, ServerUrl};
use crate::core::error::Error;
use crate::core::flow::{Config, StepUpPolicy, TokenScope};
use crate::core::io::TokenStorage;
use crate::core::registration::{check_redirect_uri, ClientConfig};
use crate::core::scope;
use crate::web::fetch::Fetcher;
use crate::web::storage::Store;
use crate::web::{Function, WebIo};

pub const DEFAULT_TIMEOUT_MS: u32 = 30_000;

fn get(o: &JsValue, key: &str) -> JsValue {
    crate::web::property(o, key)
}

/// Errors cross as the JS error already: a 4-byte value, where the core's
/// `Error` would be copied through every early return.
type Result<T> = std::result::Result<T, JsValue>;

fn js(e: Error) -> JsValue {
    super::js_err(None, e)
}

fn bad(key: &str, what: &str) -> JsValue {
    js(Error::config(format!("{key} {what}")))
}

fn string(o: &JsValue, key: &str) -> Result<Option<String>> {
    let v = get(o, key);
    if v.is_null_or_undefined() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| bad(key, "must be a string"))
}

fn required(o: &JsValue, key: &str) -> Result<String> {
    string(o, key)?.ok_or_else(|| bad(key, "is required"))
}

fn function(o: &JsValue, key: &str) -> Result<Option<Function>> {
    let v = get(o, key);
    if v.is_null_or_undefined() {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| bad(key, "must be a function"))
}

fn number(o: &JsValue, key: &str, default: f64) -> Result<f64> {
    let v = get(o, key);
    if v.is_null_or_undefined() {
        return Ok(default);
    }
    v.as_f64()
        .filter(|n| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| bad(key, "must be a non-negative number"))
}

fn token_store(v: &JsValue) -> Result<(Store, TokenStorage)> {
    Ok(match v.as_string().as_deref() {
        None if v.is_null_or_undefined() => (Store::global("sessionStorage"), TokenStorage::Session),
        Some("session") => (Store::global("sessionStorage"), TokenStorage::Session),
        Some("local") => (Store::global("localStorage"), TokenStorage::Local),
        Some("memory") => (Store::memory(), TokenStorage::Memory),
        Some(other) => {
            return Err(js(Error::config(format!(
                "tokenStorage must be 'session', 'local', 'memory' or a Storage-like object, not {}",
                crate::codec::to_string(other)
            ))))
        }
        None => (Store::custom(v.clone()).map_err(js)?, TokenStorage::Custom),
    })
}

/// Everything one `McpAuth` holds.
pub struct Parsed {
    pub config: Config,
    pub io: WebIo,
    pub on_redirect: Option<Function>,
}

pub fn parse(o: &JsValue) -> Result<Parsed> {
    if !o.is_object() {
        return Err(js(Error::config("options must be an object")));
    }
    let server = ServerUrl::parse(&required(o, "serverUrl")?).map_err(js)?;
    let redirect_uri = required(o, "redirectUri")?;
    check_redirect_uri(&redirect_uri).map_err(js)?;
    let throw = match string(o, "onInsufficientScope")?.as_deref() {
        None | Some("reauthorize") => false,
        Some("throw") => true,
        Some(_) => {
            return Err(js(Error::config(
                "onInsufficientScope must be 'reauthorize' or 'throw'",
            )))
        }
    };
    let (tokens, token_storage) = token_store(&get(o, "tokenStorage"))?;
    let timeout_ms = number(o, "timeoutMs", DEFAULT_TIMEOUT_MS as f64)? as u32;
    let client_name = string(o, "clientName")?;
    let client_uri = string(o, "clientUri")?;
    let logo_uri = string(o, "logoUri")?;
    let client_id = string(o, "clientId")?;
    let client_secret = string(o, "clientSecret")?;
    let client_metadata_url = string(o, "clientMetadataUrl")?;
    let app_scope = string(o, "scope")?;
    let max_retries = number(o, "maxStepUpRetries", 1.0)? as u32;
    let fetcher = Fetcher::new(function(o, "fetch")?, timeout_ms).map_err(js)?;
    let on_status = function(o, "onStatus")?;
    let on_redirect = function(o, "onRedirect")?;
    let config = Config {
        server: server.clone(),
        client: ClientConfig {
            redirect_uri,
            client_name,
            client_uri,
            logo_uri,
            client_id,
            client_secret,
            client_metadata_url,
        },
        app_scope: scope::split(&app_scope.unwrap_or_default()),
        discovery: DiscoveryOptions {
            allow_missing_pkce_metadata: get(o, "allowMissingPkceMetadata") == JsValue::TRUE,
        },
        token_storage,
        step_up: StepUpPolicy { throw, max_retries },
        send_token_to: TokenScope::default(),
    };
    let io = WebIo {
        fetcher,
        session: Store::global("sessionStorage"),
        local: Store::global("localStorage"),
        tokens,
        on_status,
        server_url: server.as_written.into(),
    };
    Ok(Parsed {
        config,
        io,
        on_redirect,
    })
}
