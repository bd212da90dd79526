//! The authorization request and the pending record it leaves behind
//! (P-15..P-17).

use crate::core::discovery::Discovered;
use crate::core::io::TokenStorage;
use crate::core::json::{Fields, Json, ObjectWriter};
use crate::core::pkce::Pkce;
use crate::core::registration::{AuthMethod, ClientInfo};
use crate::core::scope;
use crate::core::secret::Secret;
use crate::core::url::append_query;

/// A pending authorization expires after this long (P-16).
pub const PENDING_TTL_MS: u64 = 10 * 60 * 1000;

/// Everything `finishAuth` needs, stored in `sessionStorage` under `state`
/// before the redirect, so the callback page needs no configuration.
#[derive(Debug, Clone, PartialEq)]
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

    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::start();
        w.str("state", &self.state);
        w.str("verifier", self.verifier.expose());
        w.str("issuer", &self.issuer);
        w.bool("iss_advertised", self.iss_advertised);
        w.str("token_endpoint", &self.token_endpoint);
        w.str("client_id", &self.client_id);
        w.opt_str("client_secret", self.client_secret.as_ref().map(Secret::expose));
        w.str("auth_method", self.auth_method.as_str());
        w.str("redirect_uri", &self.redirect_uri);
        w.str("resource", &self.resource);
        w.list("scope", Some(&self.scope));
        w.str("server_url", &self.server_url);
        w.str("return_to", &self.return_to);
        w.num("created_at_ms", Some(self.created_at_ms));
        w.str("token_storage", self.token_storage.as_str());
        w.end()
    }

    pub fn from_json(j: &Json) -> Option<PendingRecord> {
        let mut f = Fields::new(j);
        let auth_method = AuthMethod::parse(j.str_field("auth_method").unwrap_or_default());
        let created_at_ms = f.num("created_at_ms");
        let token_storage = j.str_field("token_storage").and_then(TokenStorage::parse);
        let r = PendingRecord {
            state: f.str("state"),
            verifier: Secret::new(f.str("verifier")),
            issuer: f.str("issuer"),
            iss_advertised: f.bool("iss_advertised"),
            token_endpoint: f.str("token_endpoint"),
            client_id: f.str("client_id"),
            client_secret: f.opt_str("client_secret").map(Secret::new),
            auth_method: f.check(auth_method, AuthMethod::None),
            redirect_uri: f.str("redirect_uri"),
            resource: f.str("resource"),
            scope: f.list("scope"),
            server_url: f.str("server_url"),
            return_to: f.str("return_to"),
            created_at_ms: f.check(created_at_ms, 0),
            token_storage: f.check(token_storage, TokenStorage::Session),
        };
        f.done(r)
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
    let scope_str = scope::join(params.scope);
    let mut query: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &client.client_id),
        ("redirect_uri", &client.redirect_uri),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("state", &state),
        ("resource", &discovered.resource),
    ];
    if !scope_str.is_empty() {
        query.push(("scope", &scope_str));
    }
    let url = append_query(&discovered.metadata.authorization_endpoint, &query);
    let record = PendingRecord {
        state: state.clone(),
        verifier,
        issuer: discovered.metadata.issuer.clone(),
        iss_advertised: discovered.metadata.iss_parameter_supported,
        token_endpoint: discovered.metadata.token_endpoint.clone(),
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

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "authorize_tests.rs"]
mod tests;
