//! The authorization request and the pending record it leaves behind
//! (P-15..P-17).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::core::discovery::Discovered;
use crate::core::endpoint;
use crate::core::error::{Error, Result};
use crate::core::io::TokenStorage;
use crate::core::pkce::Pkce;
use crate::core::registration::{AuthMethod, ClientInfo};
use crate::core::scope;
use crate::core::secret::Secret;

/// A pending authorization expires after this long (P-16).
pub const PENDING_TTL_MS: u64 = 10 * 60 * 1000;

/// Everything `finishAuth` needs, stored in `sessionStorage` under `state`
/// before the redirect, so the callback page needs no configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRecord {
    pub state: String,
    pub verifier: Secret,
    /// The validated metadata's `issuer` (P-20 compares against it).
    pub issuer: String,
    pub iss_advertised: bool,
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub auth_method: AuthMethod,
    pub redirect_uri: String,
    pub resource: String,
    pub scope: Vec<String>,
    pub server_url: String,
    pub return_to: String,
    pub created_at_ms: u64,
    /// Which token storage the app uses, so the callback page writes there.
    pub token_storage: TokenStorage,
    /// P-38: the authorization carried `dpop_jkt`, so the code exchange
    /// carries a proof of that key (false in old records).
    #[serde(default)]
    pub dpop: bool,
    /// Whether the callback page redeems the code itself (redirect) or
    /// hands it to the opening page (popup, P-41). Older records: redirect.
    #[serde(default)]
    pub flow: Flow,
}

/// How the user reaches the authorization server: the page itself goes
/// there (`'redirect'`), or a window it opens (`'popup'`, P-40..P-42). Also
/// the `mode` option's closed set of values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    #[default]
    Redirect,
    Popup,
}

impl PendingRecord {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.created_at_ms) > PENDING_TTL_MS
    }

    /// P-32: a stored record is trusted no more than what made it: its token
    /// endpoint passes the endpoint check again, and its `return_to` is
    /// empty, a path, or a URL of the redirect URI's origin (the callback
    /// page reads this record from its own `sessionStorage`, so that origin
    /// is the app's), never `javascript:` or another site (P-31).
    pub fn is_valid(&self) -> bool {
        let redirect = url::Url::parse(&self.redirect_uri);
        let token_endpoint = url::Url::parse(&self.token_endpoint);
        token_endpoint.is_ok_and(|t| endpoint::is_https_or_loopback(&t))
            && redirect.is_ok_and(|r| {
                self.return_to.is_empty()
                    || is_plain_path(&self.return_to)
                    || url::Url::parse(&self.return_to).is_ok_and(|back| back.origin() == r.origin())
            })
    }
}

/// A path of this origin: one leading `/`, not `//` or `/\` (another host
/// to a URL parser), no control characters (which parsers drop).
fn is_plain_path(s: &str) -> bool {
    s.starts_with('/') && !s[1..].starts_with(['/', '\\']) && !s.chars().any(char::is_control)
}

/// P-31: where `finishAuth` will send the user back. Without `return_to`,
/// the page itself. Otherwise `return_to` must stay on the page's origin:
/// a path, or an absolute URL of that origin, returned absolute. Anything
/// else (`//evil.example`, another origin, `javascript:`) is
/// `invalid_config`. Resolved as the browser would (backslashes, dropped
/// tabs and newlines), then compared by origin.
pub fn return_to_url(page_url: &str, return_to: Option<&str>) -> Result<String> {
    let Some(wanted) = return_to else {
        return Ok(page_url.to_string());
    };
    let refused = || {
        Error::config(format!(
            "returnTo {} is not on this page's origin: pass a path or a URL of this origin",
            crate::codec::to_string(wanted)
        ))
    };
    let page = url::Url::parse(page_url)
        .ok()
        .filter(|p| matches!(p.scheme(), "http" | "https"));
    match page {
        Some(page) => {
            let back = page.join(wanted).map_err(|_| refused())?;
            if back.origin() != page.origin() || wanted.chars().any(char::is_control) {
                return Err(refused());
            }
            Ok(back.into())
        }
        // No page (Node): only a path can be known to stay on the app.
        None if is_plain_path(wanted) => Ok(wanted.to_string()),
        None => Err(refused()),
    }
}

/// What the app asks for in one authorization.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationParams<'a> {
    pub server_url: &'a str,
    pub scope: &'a [String],
    pub return_to: &'a str,
    pub token_storage: TokenStorage,
    pub now_ms: u64,
    /// P-38: the RFC 7638 thumbprint of the DPoP key, when DPoP is used.
    pub dpop_jkt: Option<&'a str>,
}

/// Builds the URL to visit and the record to store first (P-15, P-16).
pub fn authorization_request(
    discovered: &Discovered,
    client: &ClientInfo,
    params: &AuthorizationParams<'_>,
    pkce: Pkce,
) -> (String, PendingRecord) {
    let Pkce {
        verifier,
        challenge,
        state,
    } = pkce;
    let scope = scope::join(params.scope);
    let mut query = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &client.redirect_uri),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", &state),
        ("resource", &discovered.resource),
    ];
    if !scope.is_empty() {
        query.push(("scope", &scope));
    }
    if let Some(jkt) = params.dpop_jkt {
        query.push(("dpop_jkt", jkt));
    }
    let url = with_query(&discovered.metadata.authorization_endpoint, &query);
    let record = PendingRecord {
        state: state.clone(),
        verifier,
        issuer: discovered.metadata.issuer.clone(),
        iss_advertised: discovered.metadata.iss_parameter_supported,
        token_endpoint: discovered.metadata.token_endpoint.to_string(),
        client_id: client.client_id.clone(),
        client_secret: client.client_secret.clone(),
        auth_method: client.auth_method,
        redirect_uri: client.redirect_uri.clone(),
        resource: discovered.resource.clone(),
        scope: params.scope.to_vec(),
        server_url: params.server_url.to_string(),
        return_to: params.return_to.to_string(),
        created_at_ms: params.now_ms,
        token_storage: params.token_storage,
        dpop: params.dpop_jkt.is_some(),
        flow: Flow::Redirect,
    };
    (url, record)
}

/// `endpoint` with `pairs` form-encoded after its own query (RFC 6749 §3.1
/// keeps that query). The fragment goes: a query after it would not be one.
pub fn with_query(endpoint: &Url, pairs: &[(&str, &str)]) -> String {
    let mut url = endpoint.clone();
    url.set_fragment(None);
    if !pairs.is_empty() {
        // A query ending in `&` is already separated: no empty pair between.
        let own = url.query().map(|q| q.trim_end_matches('&').to_string());
        url.set_query(own.as_deref());
        url.query_pairs_mut().extend_pairs(pairs);
    }
    url.into()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "authorize_tests.rs"]
mod tests;
