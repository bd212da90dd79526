//! Token endpoint requests and responses: code exchange, refresh, revocation
//! (P-23..P-26).

use crate::core::encoding::{base64_std, form_urlencode_component};
use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest};
use crate::core::json::{Fields, Json, ObjectWriter};
use crate::core::registration::AuthMethod;
use crate::core::scope;
use crate::core::secret::Secret;
use crate::core::url::Url;

/// Who we are at a token-style endpoint (P-23a).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub method: AuthMethod,
}

/// Tokens for one resource at one issuer (P-12).
#[derive(Debug, Clone, PartialEq)]
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
    pub requested: Vec<String>,
    pub issuer: String,
    pub resource: String,
    /// The client the tokens were issued to: a refresh token is bound to it,
    /// even after a step-up registered a new client (empty in old records).
    pub client_id: String,
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

    /// Expired, or about to be within `skew_ms`.
    pub fn is_expired(&self, now_ms: u64, skew_ms: u64) -> bool {
        self.expires_at_ms
            .is_some_and(|t| now_ms.saturating_add(skew_ms) >= t)
    }

    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::start();
        w.str("access_token", self.access_token.expose());
        w.opt_str("refresh_token", self.refresh_token.as_ref().map(Secret::expose));
        w.num("expires_at_ms", self.expires_at_ms);
        w.num("refresh_at_ms", self.refresh_at_ms);
        w.list("scope", Some(&self.scope));
        w.list("requested", Some(&self.requested));
        w.str("issuer", &self.issuer);
        w.str("resource", &self.resource);
        w.str("client_id", &self.client_id);
        w.end()
    }

    pub fn from_json(j: &Json) -> Option<TokenSet> {
        let mut f = Fields::new(j);
        let t = TokenSet {
            access_token: Secret::new(f.str("access_token")),
            refresh_token: f.opt_str("refresh_token").map(Secret::new),
            expires_at_ms: f.num("expires_at_ms"),
            refresh_at_ms: f.num("refresh_at_ms"),
            scope: f.list("scope"),
            requested: f.opt_list("requested").unwrap_or_default(),
            issuer: f.str("issuer"),
            resource: f.str("resource"),
            client_id: f.opt_str("client_id").unwrap_or_default(),
        };
        f.done(t)
    }
}

fn secure_endpoint(url: &str) -> Result<()> {
    match Url::parse(url) {
        Ok(u) if u.is_https_or_loopback() => Ok(()),
        Ok(_) => Err(Error::InsecureEndpoint { url: url.to_string() }),
        Err(_) => Err(Error::invalid("token endpoint is not an absolute URL")),
    }
}

/// A form POST with the client authenticated as P-23a says.
fn authenticated_post<'a>(
    url: &str,
    mut pairs: Vec<(&'a str, &'a str)>,
    auth: &ClientAuth<'a>,
) -> Result<HttpRequest> {
    secure_endpoint(url)?;
    let secret = auth.client_secret.map(Secret::expose);
    match (auth.method, secret) {
        (AuthMethod::ClientSecretPost, Some(s)) => {
            pairs.push(("client_id", auth.client_id));
            pairs.push(("client_secret", s));
            Ok(HttpRequest::form_post(url, &pairs))
        }
        (AuthMethod::ClientSecretBasic, Some(s)) => {
            // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
            let raw = format!(
                "{}:{}",
                form_urlencode_component(auth.client_id),
                form_urlencode_component(s)
            );
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
    pub requested_scope: &'a [String],
    pub issuer: &'a str,
    pub resource: &'a str,
    pub client_id: &'a str,
    pub now_ms: u64,
    /// P-25: kept when a refresh response carries no new refresh token.
    pub previous_refresh_token: Option<&'a Secret>,
}

/// P-23, P-24, P-25: read a token endpoint answer.
pub fn token_response(outcome: &FetchOutcome, ctx: &TokenContext<'_>) -> Result<TokenSet> {
    let resp = match outcome {
        FetchOutcome::NetworkError => {
            return Err(Error::Network {
                what: "token request failed".into(),
            })
        }
        FetchOutcome::Timeout { url, after_ms } => {
            return Err(Error::Timeout {
                url: url.clone(),
                after_ms: *after_ms,
            })
        }
        FetchOutcome::Response(r) => r,
    };
    let json = resp.json_object();
    // P-23: an `error` member is an error even in a 200.
    if let Some(code) = json.as_ref().and_then(|j| j.str_field("error")) {
        let j = json.as_ref();
        return Err(Error::oauth(
            code,
            j.and_then(|j| j.str_field("error_description")).map(String::from),
            j.and_then(|j| j.str_field("error_uri")).map(String::from),
        ));
    }
    if !resp.is_success() {
        return Err(Error::invalid(format!(
            "token endpoint answered HTTP {}",
            resp.status
        )));
    }
    let json = json.ok_or_else(|| Error::invalid("token response is not a JSON object"))?;
    let access = json
        .str_field("access_token")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("token response has no access_token"))?;
    match json.str_field("token_type") {
        Some(t) if t.eq_ignore_ascii_case("bearer") => {}
        _ => return Err(Error::invalid("token_type is not Bearer")),
    }
    let scope = match json.str_field("scope") {
        Some(s) => scope::split(s),
        None => ctx.requested_scope.to_vec(),
    };
    let lifetime_ms = json
        .get("expires_in")
        .and_then(Json::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0) as u64);
    let expires_at_ms = lifetime_ms.map(|l| ctx.now_ms.saturating_add(l));
    let refresh_at_ms = lifetime_ms.map(|l| ctx.now_ms.saturating_add(l - REFRESH_MARGIN_MS.min(l / 2)));
    let refresh_token = json
        .str_field("refresh_token")
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
        Error::OAuth { code, .. } if code == "invalid_grant" => Invalidate::Tokens,
        Error::OAuth { code, .. } if code == "invalid_client" || code == "unauthorized_client" => {
            Invalidate::ClientAndTokens
        }
        _ => Invalidate::Nothing,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "token_tests.rs"]
mod tests;
