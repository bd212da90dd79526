//! Getting a client id: pre-registered, Client ID Metadata Document, or
//! Dynamic Client Registration, in that order (P-9..P-12).

use serde::{Deserialize, Serialize};
use url::Url;

use crate::core::discovery::AsMetadata;
use crate::core::endpoint::{self, Source};
use crate::core::error::{Error, Result};
use crate::core::http::{response, FetchOutcome, HttpRequest};
use crate::core::scope;
use crate::core::secret::Secret;

/// How the client authenticates at the token endpoint (P-23a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "none" => Some(AuthMethod::None),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            _ => None,
        }
    }
}

/// Where the client id came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    PreRegistered,
    MetadataDocument,
    Dynamic,
}

/// A client id usable at one issuer (P-12: never at another); also the
/// stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub auth_method: AuthMethod,
    /// The scope the AS registered (its ceiling for this client); empty = unlimited.
    pub registered_scope: Vec<String>,
    pub redirect_uri: String,
    pub source: ClientSource,
}

/// What the app configured about its client.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientConfig {
    pub redirect_uri: String,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_metadata_url: Option<String>,
}

/// P-10: an https URL with a non-root path, no fragment, no dot segments.
pub fn valid_metadata_document_url(s: &str) -> bool {
    // Dot segments are looked for in the text: the parser resolves them away.
    let after_scheme = s.split_once("://").map_or("", |(_, rest)| rest);
    let before_query = after_scheme.split(['?', '#']).next().unwrap_or_default();
    let path = before_query.find('/').map_or("", |at| &before_query[at..]);
    let dot_segment = path.split('/').any(|seg| {
        let seg = seg.to_ascii_lowercase().replace("%2e", ".");
        seg == "." || seg == ".."
    });
    endpoint::parse(s, Source::Config("clientMetadataUrl")).is_ok_and(|u| {
        u.scheme() == "https" && !matches!(u.path(), "" | "/") && !s.contains('#') && !dot_segment
    })
}

/// P-17, P-33: redirect URIs must be https or loopback, without fragment
/// (RFC 6749 §3.1.2).
pub fn check_redirect_uri(s: &str) -> Result<()> {
    redirect_url(s).map(|_| ())
}

fn redirect_url(s: &str) -> Result<Url> {
    if s.contains('#') {
        return Err(Error::config(
            "redirectUri must not contain a fragment (RFC 6749 §3.1.2)",
        ));
    }
    endpoint::https_or_loopback(s, Source::Config("redirectUri"))
}

/// P-23a: a pre-registered client with a secret picks basic, then post, from
/// the AS's list; with no list, basic.
fn pre_registered_method(meta: &AsMetadata, has_secret: bool) -> AuthMethod {
    if !has_secret {
        return AuthMethod::None;
    }
    match &meta.token_endpoint_auth_methods_supported {
        None => AuthMethod::ClientSecretBasic,
        Some(list) if list.iter().any(|m| m == "client_secret_basic") => AuthMethod::ClientSecretBasic,
        Some(list) if list.iter().any(|m| m == "client_secret_post") => AuthMethod::ClientSecretPost,
        Some(_) => AuthMethod::ClientSecretBasic,
    }
}

/// The registration decision (P-9).
#[derive(Debug, Clone, PartialEq)]
pub enum ClientChoice {
    Ready(ClientInfo),
    Register(HttpRequest),
}

/// P-9 priority; `cached` is a DCR client previously stored for this issuer.
/// A cached client is reused when it was made for this issuer and redirect URI
/// and its registered scope covers `wanted` (P-12, P-14).
pub fn choose_client(
    cfg: &ClientConfig,
    meta: &AsMetadata,
    cached: Option<&ClientInfo>,
    wanted: &[String],
) -> Result<ClientChoice> {
    check_redirect_uri(&cfg.redirect_uri)?;
    if let Some(id) = &cfg.client_id {
        return Ok(ClientChoice::Ready(ClientInfo {
            issuer: meta.issuer.clone(),
            client_id: id.clone(),
            client_secret: cfg.client_secret.clone().map(Secret::new),
            auth_method: pre_registered_method(meta, cfg.client_secret.is_some()),
            registered_scope: Vec::new(),
            redirect_uri: cfg.redirect_uri.clone(),
            source: ClientSource::PreRegistered,
        }));
    }
    if let Some(url) = &cfg.client_metadata_url {
        if meta.client_id_metadata_document_supported {
            if !valid_metadata_document_url(url) {
                return Err(Error::config(
                    "clientMetadataUrl must be an https URL with a path, no fragment and no dot segments",
                ));
            }
            return Ok(ClientChoice::Ready(ClientInfo {
                issuer: meta.issuer.clone(),
                client_id: url.clone(),
                client_secret: None,
                auth_method: AuthMethod::None,
                registered_scope: Vec::new(),
                redirect_uri: cfg.redirect_uri.clone(),
                source: ClientSource::MetadataDocument,
            }));
        }
    }
    if let Some(c) = cached {
        if c.issuer == meta.issuer
            && c.redirect_uri == cfg.redirect_uri
            && !scope::needs_reregistration(wanted, &c.registered_scope)
        {
            return Ok(ClientChoice::Ready(c.clone()));
        }
    }
    match &meta.registration_endpoint {
        Some(endpoint) => Ok(ClientChoice::Register(registration_request(
            cfg, endpoint, wanted,
        )?)),
        None => Err(Error::NoRegistrationPossible),
    }
}

/// P-11: the registration request (RFC 7591 §2), as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationRequest {
    pub redirect_uris: Vec<String>,
    pub client_name: String,
    pub token_endpoint_auth_method: AuthMethod,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub application_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
}

/// P-11: the DCR request.
pub fn registration_request(cfg: &ClientConfig, endpoint: &Url, scope: &[String]) -> Result<HttpRequest> {
    let redirect = redirect_url(&cfg.redirect_uri)?;
    let application_type = if endpoint::is_loopback(&redirect) {
        "native"
    } else {
        "web"
    };
    let body = RegistrationRequest {
        redirect_uris: vec![cfg.redirect_uri.clone()],
        client_name: cfg.client_name.clone().unwrap_or_else(|| "MCP web client".into()),
        token_endpoint_auth_method: AuthMethod::None,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        response_types: vec!["code".into()],
        application_type: application_type.into(),
        scope: (!scope.is_empty()).then(|| scope::join(scope)),
        client_uri: cfg.client_uri.clone(),
        logo_uri: cfg.logo_uri.clone(),
    };
    Ok(HttpRequest::json_post(
        endpoint.as_str(),
        crate::codec::to_string(&body),
    ))
}

/// RFC 7591 §3.2.1: the registration response (the members a client uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RegistrationResponse {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub scope: Option<String>,
}

/// RFC 7591 §3.2.2 / RFC 6749 §5.2: only the `error` code of an error
/// answer, so that no other member (an odd `error_description`) can hide it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorCode {
    pub error: String,
}

/// P-11: read the AS's answer; its values win over the ones we sent.
pub fn registration_response(
    outcome: &FetchOutcome,
    meta: &AsMetadata,
    redirect_uri: &str,
    sent_scope: &[String],
) -> Result<ClientInfo> {
    let url = meta.registration_endpoint.as_ref().map_or("", Url::as_str);
    let resp = response(outcome, "the client registration request", url)?;
    if !resp.is_success() {
        let error =
            resp.document::<ErrorCode>()
                .ok()
                .and_then(|e| match Error::oauth(&e.error, None, None) {
                    Error::OAuth { code, .. } => Some(code),
                    _ => None,
                });
        return Err(Error::RegistrationRejected {
            status: resp.status,
            error,
        });
    }
    let doc: RegistrationResponse = resp
        .document()
        .map_err(|_| Error::invalid("registration response is not a JSON object of the RFC 7591 shape"))?;
    let client_id = doc
        .client_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("registration response has no client_id"))?;
    let secret = doc.client_secret.filter(|s| !s.is_empty()).map(Secret::new);
    let auth_method = match doc
        .token_endpoint_auth_method
        .as_deref()
        .and_then(AuthMethod::parse)
    {
        Some(m) => m,
        None if secret.is_some() => AuthMethod::ClientSecretBasic,
        None => AuthMethod::None,
    };
    let registered_scope = match doc.scope {
        Some(s) => scope::split(&s),
        None => sent_scope.to_vec(),
    };
    Ok(ClientInfo {
        issuer: meta.issuer.clone(),
        client_id,
        client_secret: secret,
        auth_method,
        registered_scope,
        redirect_uri: redirect_uri.to_string(),
        source: ClientSource::Dynamic,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "registration_tests.rs"]
mod tests;
