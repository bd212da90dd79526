//! Token endpoint requests and responses: code exchange, refresh, revocation
//! (P-23..P-26).

use serde::{Deserialize, Deserializer, Serialize};
use url::form_urlencoded;

use crate::core::encoding::base64_std;
use crate::core::endpoint::{self, Source};
use crate::core::error::{Error, Result};
use crate::core::http::{response, FetchOutcome, HttpRequest, HttpResponse};
use crate::core::registration::{AuthMethod, ErrorCode};
use crate::core::scope;
use crate::core::secret::Secret;

/// Who we are at a token-style endpoint (P-23a).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub method: AuthMethod,
}

/// Tokens for one resource at one issuer (P-12); also the stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at_ms: Option<u64>,
    /// When to refresh ahead of expiry: a margin of `REFRESH_MARGIN_MS`, but at
    /// most half the token's lifetime, so a short-lived token is not "expired"
    /// the moment it arrives.
    pub refresh_at_ms: Option<u64>,
    /// P-24: the granted scope (the requested one when the response omits it).
    pub scope: Vec<String>,
    /// The scope this token's authorization asked for (P-14 unions it).
    #[serde(default)]
    pub requested: Vec<String>,
    pub issuer: String,
    pub resource: String,
    /// The client the tokens were issued to: a refresh token is bound to it,
    /// even after a step-up registered a new client (empty in old records).
    #[serde(default)]
    pub client_id: String,
    /// P-38: how the access token is presented (`Bearer` in old records).
    #[serde(default)]
    pub token_type: TokenType,
}

/// The token response's `token_type` (P-38), read case-insensitively.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenType {
    #[default]
    Bearer,
    /// RFC 9449: DPoP-bound; every use carries a proof.
    DPoP,
}

impl TokenType {
    /// The `Authorization` scheme, as RFC 6750 and RFC 9449 §7.1 write it.
    pub fn scheme(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::DPoP => "DPoP",
        }
    }

    pub fn parse(s: &str) -> Option<TokenType> {
        [TokenType::Bearer, TokenType::DPoP]
            .into_iter()
            .find(|t| t.scheme().eq_ignore_ascii_case(s))
    }
}

/// Refresh this long before expiry, so a token does not lapse in flight.
pub const REFRESH_MARGIN_MS: u64 = 30_000;

impl TokenSet {
    /// Due for a refresh before it is sent (P-25).
    pub fn wants_refresh(&self, now_ms: u64) -> bool {
        self.refresh_at_ms
            .or(self.expires_at_ms)
            .is_some_and(|t| now_ms >= t)
    }

    /// P-32: what a stored or received set must be to be used: an access
    /// token of `b64token` characters (it goes into a header) and an issuer.
    pub fn is_valid(&self) -> bool {
        is_b64token(self.access_token.expose()) && !self.issuer.is_empty()
    }

    /// Expired, or about to be within `skew_ms`.
    pub fn is_expired(&self, now_ms: u64, skew_ms: u64) -> bool {
        self.expires_at_ms
            .is_some_and(|t| now_ms.saturating_add(skew_ms) >= t)
    }
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`, the only characters an access token may have (P-32).
pub fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/'))
}

/// A form POST with the client authenticated as P-23a says.
fn authenticated_post<'a>(
    url: &str,
    mut pairs: Vec<(&'a str, &'a str)>,
    auth: &ClientAuth<'a>,
) -> Result<HttpRequest> {
    endpoint::https_or_loopback(url, Source::Server("token endpoint"))?;
    let secret = auth.client_secret.map(Secret::expose);
    match (auth.method, secret) {
        (AuthMethod::ClientSecretPost, Some(s)) => {
            pairs.push(("client_id", auth.client_id));
            pairs.push(("client_secret", s));
            Ok(HttpRequest::form_post(url, &pairs))
        }
        (AuthMethod::ClientSecretBasic, Some(s)) => {
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
            let encode = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            let raw = format!("{}:{}", encode(auth.client_id), encode(s));
            let mut req = HttpRequest::form_post(url, &pairs);
            req.headers.push((
                "Authorization".into(),
                format!("Basic {}", base64_std(raw.as_bytes())),
            ));
            Ok(req)
        }
        _ => {
            pairs.push(("client_id", auth.client_id));
            Ok(HttpRequest::form_post(url, &pairs))
        }
    }
}

/// P-23: the authorization-code exchange.
pub fn code_request(
    token_endpoint: &str,
    auth: &ClientAuth<'_>,
    code: &str,
    verifier: &Secret,
    redirect_uri: &str,
    resource: &str,
) -> Result<HttpRequest> {
    authenticated_post(
        token_endpoint,
        vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier.expose()),
            ("redirect_uri", redirect_uri),
            ("resource", resource),
        ],
        auth,
    )
}

/// P-25: a refresh never asks for more scope, so it sends none.
pub fn refresh_request(
    token_endpoint: &str,
    auth: &ClientAuth<'_>,
    refresh_token: &Secret,
    resource: &str,
) -> Result<HttpRequest> {
    authenticated_post(
        token_endpoint,
        vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
            ("resource", resource),
        ],
        auth,
    )
}

/// RFC 7009 revocation, with the same client authentication (P-23a).
pub fn revocation_request(
    endpoint: &str,
    auth: &ClientAuth<'_>,
    token: &Secret,
    hint: &str,
) -> Result<HttpRequest> {
    authenticated_post(
        endpoint,
        vec![("token", token.expose()), ("token_type_hint", hint)],
        auth,
    )
}

/// The context a token response is read in.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenContext<'a> {
    /// The request, as a network error names it (P-33): "the token refresh request"...
    pub request: &'a str,
    /// The token endpoint the request went to.
    pub endpoint: &'a str,
    pub requested_scope: &'a [String],
    pub issuer: &'a str,
    pub resource: &'a str,
    pub client_id: &'a str,
    pub now_ms: u64,
    /// P-25: kept when a refresh response carries no new refresh token.
    pub previous_refresh_token: Option<&'a Secret>,
}

/// RFC 6749 §5.1: the token response (the members a client uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenResponse {
    pub access_token: Option<String>,
    pub token_type: Option<String>,
    pub expires_in: Option<f64>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// RFC 6749 §5.2: the details of an error answer. A detail that is not a
/// string is dropped, never the error it describes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorDetails {
    #[serde(default, deserialize_with = "string_or_none")]
    pub error_description: Option<String>,
    #[serde(default, deserialize_with = "string_or_none")]
    pub error_uri: Option<String>,
}

/// Any JSON value, kept only when it is a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum MaybeString {
    String(String),
    Other(serde::de::IgnoredAny),
}

fn string_or_none<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match MaybeString::deserialize(d)? {
        MaybeString::String(s) => Some(s),
        MaybeString::Other(_) => None,
    })
}

/// JavaScript numbers are exact up to 2^53 - 1: stored times stay below it.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// P-23: an `error` member makes any answer an OAuth error, even a 200. The
/// code is read on its own, so that an odd `error_description` (a lone
/// surrogate, a number) cannot hide `invalid_grant`.
fn oauth_error(resp: &HttpResponse) -> Option<Error> {
    let code = resp.document::<ErrorCode>().ok()?.error;
    let details = resp.document::<ErrorDetails>().unwrap_or_default();
    Some(Error::oauth(&code, details.error_description, details.error_uri))
}

/// P-23, P-24, P-25: read a token endpoint answer.
pub fn token_response(outcome: &FetchOutcome, ctx: &TokenContext<'_>) -> Result<TokenSet> {
    let resp = response(outcome, ctx.request, ctx.endpoint)?;
    if let Some(e) = oauth_error(resp) {
        return Err(e);
    }
    if !resp.is_success() {
        return Err(Error::invalid(format!(
            "token endpoint answered HTTP {}",
            resp.status
        )));
    }
    let doc: TokenResponse = resp
        .document()
        .map_err(|_| Error::invalid("token response is not a JSON object of the RFC 6749 shape"))?;
    let access = doc
        .access_token
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("token response has no access_token"))?;
    if !is_b64token(&access) {
        return Err(Error::invalid(
            "access_token has characters outside RFC 6750 b64token",
        ));
    }
    let token_type = doc
        .token_type
        .as_deref()
        .and_then(TokenType::parse)
        .ok_or_else(|| Error::invalid("token_type is neither Bearer nor DPoP"))?;
    let scope = match doc.scope {
        Some(s) => scope::split(&s),
        None => ctx.requested_scope.to_vec(),
    };
    let lifetime_ms = doc
        .expires_in
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| ((s * 1000.0) as u64).min(MAX_SAFE_INTEGER));
    let at = |ms: u64| ctx.now_ms.saturating_add(ms).min(MAX_SAFE_INTEGER);
    let expires_at_ms = lifetime_ms.map(at);
    let refresh_at_ms = lifetime_ms.map(|l| at(l - REFRESH_MARGIN_MS.min(l / 2)));
    let refresh_token = doc
        .refresh_token
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .or_else(|| ctx.previous_refresh_token.cloned());
    Ok(TokenSet {
        access_token: Secret::new(access),
        refresh_token,
        expires_at_ms,
        refresh_at_ms,
        scope,
        requested: ctx.requested_scope.to_vec(),
        issuer: ctx.issuer.to_string(),
        resource: ctx.resource.to_string(),
        client_id: ctx.client_id.to_string(),
        token_type,
    })
}

/// What a failed token request invalidates (P-26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidate {
    /// A transient failure: keep everything.
    Nothing,
    Tokens,
    ClientAndTokens,
}

pub fn invalidated_by(err: &Error) -> Invalidate {
    match err {
        // P-39: the AS refused the proof of a DPoP-bound refresh token
        // (another key, a lost key): the tokens are unusable, a new
        // authorization follows instead of another refresh.
        Error::OAuth { code, .. } if code == "invalid_grant" || code == "invalid_dpop_proof" => {
            Invalidate::Tokens
        }
        Error::OAuth { code, .. } if code == "invalid_client" || code == "unauthorized_client" => {
            Invalidate::ClientAndTokens
        }
        _ => Invalidate::Nothing,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "token_tests.rs"]
mod tests;
