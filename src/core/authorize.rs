//! The authorization request and the pending record it leaves behind
//! (P-15..P-17).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::core::discovery::Discovered;
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
}

impl PendingRecord {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.created_at_ms) > PENDING_TTL_MS
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
