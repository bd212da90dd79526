//! Getting a client id: pre-registered, Client ID Metadata Document, or
//! Dynamic Client Registration, in that order (P-9..P-12).

use crate::core::discovery::AsMetadata;
use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpRequest};
use crate::core::json::{Fields, Json, ObjectWriter};
use crate::core::scope;
use crate::core::secret::Secret;
use crate::core::url::{find_byte, Url};

/// How the client authenticates at the token endpoint (P-23a).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSource {
    PreRegistered,
    MetadataDocument,
    Dynamic,
}

impl ClientSource {
    fn as_str(self) -> &'static str {
        match self {
            ClientSource::PreRegistered => "pre_registered",
            ClientSource::MetadataDocument => "metadata_document",
            ClientSource::Dynamic => "dynamic",
        }
    }

    fn parse(s: &str) -> Option<ClientSource> {
        match s {
            "pre_registered" => Some(ClientSource::PreRegistered),
            "metadata_document" => Some(ClientSource::MetadataDocument),
            "dynamic" => Some(ClientSource::Dynamic),
            _ => None,
        }
    }
}

/// A client id usable at one issuer (P-12: never at another).
#[derive(Debug, Clone, PartialEq)]
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
    match Url::parse(s) {
        Ok(u) => {
            u.scheme == "https"
                && !(u.path.is_empty() || u.path == "/")
                && u.fragment.is_none()
                && find_byte(s, b"#").is_none()
                && !u.has_dot_segments()
        }
        Err(_) => false,
    }
}

/// P-17: redirect URIs must be https or loopback.
pub fn check_redirect_uri(s: &str) -> Result<()> {
    match Url::parse(s) {
        Ok(u) if u.is_https_or_loopback() => Ok(()),
        Ok(_) => Err(Error::InsecureEndpoint { url: s.to_string() }),
        Err(_) => Err(Error::config("redirectUri is not an absolute URL")),
    }
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

/// P-11: the DCR request body.
pub fn registration_request(cfg: &ClientConfig, endpoint: &str, scope: &[String]) -> Result<HttpRequest> {
    let redirect =
        Url::parse(&cfg.redirect_uri).map_err(|_| Error::config("redirectUri is not an absolute URL"))?;
    let application_type = if redirect.is_loopback() { "native" } else { "web" };
    // Written member by member (no value tree to build and serialize): the
    // same text, in the same order, as the object it replaces.
    let mut w = ObjectWriter::start();
    w.list("redirect_uris", Some(std::slice::from_ref(&cfg.redirect_uri)));
    w.str(
        "client_name",
        cfg.client_name.as_deref().unwrap_or("MCP web client"),
    );
    w.str("token_endpoint_auth_method", "none");
    w.raw("grant_types", r#"["authorization_code","refresh_token"]"#);
    w.raw("response_types", r#"["code"]"#);
    w.str("application_type", application_type);
    if !scope.is_empty() {
        w.str("scope", &scope::join(scope));
    }
    if let Some(u) = &cfg.client_uri {
        w.str("client_uri", u);
    }
    if let Some(u) = &cfg.logo_uri {
        w.str("logo_uri", u);
    }
    Ok(HttpRequest::json_post(endpoint, w.end()))
}

/// P-11: read the AS's answer; its values win over the ones we sent.
pub fn registration_response(
    outcome: &FetchOutcome,
    meta: &AsMetadata,
    redirect_uri: &str,
    sent_scope: &[String],
) -> Result<ClientInfo> {
    let resp = match outcome {
        FetchOutcome::NetworkError => {
            return Err(Error::Network {
                what: "client registration request failed".into(),
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
    // Only an object can carry `error` (str_field reads objects alone).
    let json = resp.json_object();
    if !resp.is_success() {
        let error = json.as_ref().and_then(|j| j.str_field("error")).and_then(|e| {
            match Error::oauth(e, None, None) {
                Error::OAuth { code, .. } => Some(code),
                _ => None,
            }
        });
        return Err(Error::RegistrationRejected {
            status: resp.status,
            error,
        });
    }
    let json = json.ok_or_else(|| Error::invalid("registration response is not a JSON object"))?;
    let client_id = json
        .str_field("client_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::invalid("registration response has no client_id"))?;
    let secret = json
        .str_field("client_secret")
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    let auth_method = match json
        .str_field("token_endpoint_auth_method")
        .and_then(AuthMethod::parse)
    {
        Some(m) => m,
        None if secret.is_some() => AuthMethod::ClientSecretBasic,
        None => AuthMethod::None,
    };
    let registered_scope = match json.str_field("scope") {
        Some(s) => scope::split(s),
        None => sent_scope.to_vec(),
    };
    Ok(ClientInfo {
        issuer: meta.issuer.clone(),
        client_id: client_id.to_string(),
        client_secret: secret,
        auth_method,
        registered_scope,
        redirect_uri: redirect_uri.to_string(),
        source: ClientSource::Dynamic,
    })
}

impl ClientInfo {
    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::start();
        w.str("issuer", &self.issuer);
        w.str("client_id", &self.client_id);
        w.opt_str("client_secret", self.client_secret.as_ref().map(Secret::expose));
        w.str("auth_method", self.auth_method.as_str());
        w.list("registered_scope", Some(&self.registered_scope));
        w.str("redirect_uri", &self.redirect_uri);
        w.str("source", self.source.as_str());
        w.end()
    }

    pub fn from_json(j: &Json) -> Option<ClientInfo> {
        let mut f = Fields::new(j);
        let auth_method = AuthMethod::parse(j.str_field("auth_method").unwrap_or_default());
        let source = ClientSource::parse(j.str_field("source").unwrap_or_default());
        let c = ClientInfo {
            issuer: f.str("issuer"),
            client_id: f.str("client_id"),
            client_secret: f.opt_str("client_secret").map(Secret::new),
            auth_method: f.check(auth_method, AuthMethod::None),
            registered_scope: f.list("registered_scope"),
            redirect_uri: f.str("redirect_uri"),
            source: f.check(source, ClientSource::Dynamic),
        };
        f.done(c)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "registration_tests.rs"]
mod tests;
