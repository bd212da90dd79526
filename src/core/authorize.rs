//! The authorization request and the pending record it leaves behind
//! (P-15..P-17).

use serde::{Deserialize, Serialize};

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
    let mut url = discovered.metadata.authorization_endpoint.clone();
    // A query placed after a fragment would not be a query.
    url.set_fragment(None);
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", &client.redirect_uri)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state)
            .append_pair("resource", &discovered.resource);
        if !params.scope.is_empty() {
            query.append_pair("scope", &scope::join(params.scope));
        }
    }
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
    (url.into(), record)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "authorize_tests.rs"]
mod tests;
