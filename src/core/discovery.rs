//! Discovery: which URLs to try, in which order, and what to accept (P-3..P-8).
//!
//! Each step hands out *all* of its fallback probes at once, in priority order,
//! and then picks the first success in that order from the answers. The web
//! side may therefore send them in parallel: cold discovery costs one round
//! trip per step however deep the fallback chain is, yet the result is the
//! one a sequential client would get.

use crate::core::error::{DiscoveryStage, Error, Result};
use crate::core::http::{probe_verdict, FetchOutcome, HttpRequest, ProbeVerdict};
use crate::core::json::{Fields, Json, ObjectWriter};
use crate::core::url::{strip_fragment, well_known, well_known_parts, Url};

const PRM_SUFFIX: &str = "oauth-protected-resource";
const OAUTH_SUFFIX: &str = "oauth-authorization-server";
const OIDC_SUFFIX: &str = "openid-configuration";

/// The MCP server URL as the app gave it, checked once.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerUrl {
    /// Without fragment, otherwise exactly as written (P-15).
    pub as_written: String,
    pub parsed: Url,
}

impl ServerUrl {
    pub fn parse(s: &str) -> Result<ServerUrl> {
        let as_written = strip_fragment(s).to_string();
        let parsed =
            Url::parse(&as_written).map_err(|_| Error::config("serverUrl is not an absolute URL"))?;
        if !parsed.is_https_or_loopback() {
            return Err(Error::InsecureEndpoint { url: as_written });
        }
        Ok(ServerUrl { as_written, parsed })
    }

    /// `scheme://host[:port]`, the resource identifier of the root probe (P-4).
    pub fn origin(&self) -> String {
        self.parsed.origin()
    }

    fn has_path(&self) -> bool {
        !(self.parsed.path.is_empty() || self.parsed.path == "/")
    }
}

/// One protected-resource-metadata URL and the `resource` it must name (P-4).
#[derive(Debug, Clone, PartialEq)]
pub struct PrmProbe {
    pub url: String,
    pub expected_resource: String,
    /// The root probe's resource is an origin: one trailing `/` is tolerated.
    pub origin_resource: bool,
}

/// P-3: the PRM URLs in priority order.
pub fn prm_probes(server: &ServerUrl, resource_metadata: Option<&str>) -> Result<Vec<PrmProbe>> {
    // Every list is built by `push` (one code path, no `vec![..]`).
    let mut probes = Vec::new();
    if let Some(url) = resource_metadata {
        // Fetched over plain http, the metadata could name any AS (P-17's rule, here too).
        if !Url::parse(url).is_ok_and(|u| u.is_https_or_loopback()) {
            return Err(Error::InsecureEndpoint { url: url.to_string() });
        }
        probes.push(PrmProbe {
            url: url.to_string(),
            expected_resource: server.as_written.clone(),
            origin_resource: !server.has_path(),
        });
        return Ok(probes);
    }
    if server.has_path() {
        let mut url = well_known(&server.as_written, PRM_SUFFIX).map_err(|_| Error::config("serverUrl"))?;
        // RFC 9728 §3.1 inserts the suffix before the path *and query*: the
        // query is part of the resource identifier this URL stands for.
        if let Some(q) = &server.parsed.query {
            url.push('?');
            url.push_str(q);
        }
        probes.push(PrmProbe {
            url,
            expected_resource: server.as_written.clone(),
            origin_resource: false,
        });
    }
    probes.push(PrmProbe {
        url: format!("{}/.well-known/{PRM_SUFFIX}", server.origin()),
        expected_resource: server.origin(),
        origin_resource: true,
    });
    Ok(probes)
}

/// RFC 9728 metadata, with `resource` kept exactly as received (P-4, P-15).
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedResource {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub metadata_url: String,
}

/// The outcome of the PRM step: metadata, or none (a 2025-03-26 server, P-3a).
#[derive(Debug, Clone, PartialEq)]
pub enum PrmResult {
    Found(ProtectedResource),
    /// No probe answered usefully; `all_network` when every one failed like CORS.
    Absent {
        all_network: bool,
    },
}

fn resource_matches(probe: &PrmProbe, received: &str) -> bool {
    if probe.expected_resource == received {
        return true;
    }
    // P-4's only tolerance: an origin written with or without one trailing '/'.
    probe.origin_resource
        && (received.strip_suffix('/') == Some(probe.expected_resource.as_str())
            || probe.expected_resource.strip_suffix('/') == Some(received))
}

/// P-3/P-4: pick the first useful answer in priority order.
pub fn select_prm(probes: &[PrmProbe], outcomes: &[FetchOutcome]) -> Result<PrmResult> {
    let mut all_network = true;
    for (probe, outcome) in probes.iter().zip(outcomes) {
        match probe_verdict(outcome) {
            ProbeVerdict::MoveOn { network } => all_network &= network,
            ProbeVerdict::Fatal(status) => {
                return Err(Error::Discovery {
                    stage: DiscoveryStage::ProtectedResource,
                    reason: format!("{} answered HTTP {status}", probe.url).into(),
                    likely_cors: false,
                })
            }
            ProbeVerdict::Found(resp) => {
                let json = resp
                    .json_object()
                    .ok_or_else(|| Error::invalid("protected resource metadata is not a JSON object"))?;
                let resource = json
                    .str_field("resource")
                    .ok_or_else(|| Error::invalid("protected resource metadata has no resource"))?;
                if !resource_matches(probe, resource) {
                    return Err(Error::ResourceMismatch {
                        expected: probe.expected_resource.clone(),
                        received: resource.to_string(),
                    });
                }
                return Ok(PrmResult::Found(ProtectedResource {
                    resource: resource.to_string(),
                    authorization_servers: json
                        .string_array_field("authorization_servers")
                        .unwrap_or_default(),
                    scopes_supported: json.string_array_field("scopes_supported").unwrap_or_default(),
                    metadata_url: probe.url.clone(),
                }));
            }
        }
    }
    Ok(PrmResult::Absent {
        all_network: all_network && !probes.is_empty(),
    })
}

/// P-5: the AS metadata URLs in priority order.
pub fn as_metadata_urls(issuer: &str) -> Result<Vec<String>> {
    // One parse for all three URLs.
    let (parsed, origin, path) =
        well_known_parts(issuer).map_err(|_| Error::invalid("issuer is not an absolute URL"))?;
    if !parsed.is_https_or_loopback() {
        return Err(Error::InsecureEndpoint {
            url: issuer.to_string(),
        });
    }
    // By push, not `vec![..]`: the String push is shared with other lists.
    let mut urls = Vec::new();
    urls.push(format!("{origin}/.well-known/{OAUTH_SUFFIX}{path}"));
    urls.push(format!("{origin}/.well-known/{OIDC_SUFFIX}{path}"));
    if !(parsed.path.is_empty() || parsed.path == "/") {
        urls.push(format!("{origin}{path}/.well-known/{OIDC_SUFFIX}"));
    }
    Ok(urls)
}

/// RFC 8414 metadata, reduced to what a public client uses.
#[derive(Debug, Clone, PartialEq)]
pub struct AsMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub scopes_supported: Vec<String>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// P-20: `authorization_response_iss_parameter_supported` is exactly `true`.
    pub iss_parameter_supported: bool,
    pub client_id_metadata_document_supported: bool,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// False for P-3a's default endpoints (no metadata document at all).
    pub from_document: bool,
}

/// Options that loosen discovery, each off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// P-7 opt-out for servers that omit `code_challenge_methods_supported`.
    pub allow_missing_pkce_metadata: bool,
}

fn checked_endpoint(json: &Json, field: &str, required: bool) -> Result<Option<String>> {
    match json.str_field(field) {
        None if required => Err(Error::invalid(format!(
            "authorization server metadata has no {field}"
        ))),
        None => Ok(None),
        Some(url) => match Url::parse(url) {
            Ok(u) if u.is_https_or_loopback() => Ok(Some(url.to_string())),
            Ok(_) => Err(Error::InsecureEndpoint { url: url.to_string() }),
            Err(_) => Err(Error::invalid(format!("{field} is not an absolute URL"))),
        },
    }
}

/// P-6, P-7 and the endpoint checks, on one metadata document.
pub fn parse_as_metadata(expected_issuer: &str, json: &Json, opts: DiscoveryOptions) -> Result<AsMetadata> {
    if !json.is_object() {
        return Err(Error::invalid(
            "authorization server metadata is not a JSON object",
        ));
    }
    let issuer = json.str_field("issuer").unwrap_or_default();
    if issuer != expected_issuer {
        return Err(Error::AuthorizationServerMismatch {
            expected: expected_issuer.to_string(),
            received: issuer.to_string(),
        });
    }
    // The list is read again at the end rather than kept across the
    // endpoint checks, whose early returns would each drop it inline.
    let s256 = json
        .string_array_field("code_challenge_methods_supported")
        .is_some_and(|m| m.iter().any(|x| x == "S256"));
    // The opt-out covers servers that *omit* the field (P-7); one that lists
    // methods without S256 has said it will not do S256, so it stays refused.
    let omitted = matches!(
        json.get("code_challenge_methods_supported"),
        None | Some(Json::Null)
    );
    let pkce_ok = s256 || (omitted && opts.allow_missing_pkce_metadata);
    if !pkce_ok {
        return Err(Error::PkceNotSupported {
            issuer: issuer.to_string(),
        });
    }
    let authorization_endpoint = checked_endpoint(json, "authorization_endpoint", true)?;
    let token_endpoint = checked_endpoint(json, "token_endpoint", true)?;
    let registration_endpoint = checked_endpoint(json, "registration_endpoint", false)?;
    let revocation_endpoint = checked_endpoint(json, "revocation_endpoint", false)?;
    Ok(AsMetadata {
        issuer: issuer.to_string(),
        authorization_endpoint: authorization_endpoint.unwrap_or_default(),
        token_endpoint: token_endpoint.unwrap_or_default(),
        registration_endpoint,
        revocation_endpoint,
        scopes_supported: json.string_array_field("scopes_supported").unwrap_or_default(),
        code_challenge_methods_supported: json.string_array_field("code_challenge_methods_supported"),
        // `as_bool`, not `== Some(&Json::Bool(true))`: the deep `Json`
        // equality would be linked for these two reads alone.
        iss_parameter_supported: json
            .get("authorization_response_iss_parameter_supported")
            .and_then(Json::as_bool)
            == Some(true),
        client_id_metadata_document_supported: json
            .get("client_id_metadata_document_supported")
            .and_then(Json::as_bool)
            == Some(true),
        token_endpoint_auth_methods_supported: json
            .string_array_field("token_endpoint_auth_methods_supported"),
        from_document: true,
    })
}

/// The outcome of the AS-metadata step.
#[derive(Debug, Clone, PartialEq)]
pub enum AsResult {
    Found(AsMetadata),
    Absent { all_network: bool },
}

/// P-5: the first success in priority order, validated (P-6, P-7).
pub fn select_as_metadata(
    issuer: &str,
    urls: &[String],
    outcomes: &[FetchOutcome],
    opts: DiscoveryOptions,
) -> Result<AsResult> {
    let mut all_network = true;
    for (url, outcome) in urls.iter().zip(outcomes) {
        match probe_verdict(outcome) {
            ProbeVerdict::MoveOn { network } => all_network &= network,
            ProbeVerdict::Fatal(status) => {
                return Err(Error::Discovery {
                    stage: DiscoveryStage::AuthorizationServer,
                    reason: format!("{url} answered HTTP {status}").into(),
                    likely_cors: false,
                })
            }
            ProbeVerdict::Found(resp) => {
                let json = resp
                    .json()
                    .ok_or_else(|| Error::invalid("authorization server metadata is not JSON"))?;
                return parse_as_metadata(issuer, &json, opts).map(AsResult::Found);
            }
        }
    }
    Ok(AsResult::Absent {
        all_network: all_network && !urls.is_empty(),
    })
}

/// P-3a: a 2025-03-26 server with no metadata at all: default endpoints on
/// its origin, no advertised `iss` support.
pub fn default_metadata(origin: &str) -> AsMetadata {
    AsMetadata {
        issuer: origin.to_string(),
        authorization_endpoint: format!("{origin}/authorize"),
        token_endpoint: format!("{origin}/token"),
        registration_endpoint: Some(format!("{origin}/register")),
        revocation_endpoint: None,
        scopes_supported: Vec::new(),
        code_challenge_methods_supported: None,
        iss_parameter_supported: false,
        client_id_metadata_document_supported: false,
        token_endpoint_auth_methods_supported: None,
        from_document: false,
    }
}

/// Everything discovery learned, cached per server URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    /// The `resource` parameter to send (P-15).
    pub resource: String,
    pub resource_metadata_url: Option<String>,
    pub prm_scopes_supported: Vec<String>,
    pub metadata: AsMetadata,
}

impl AsMetadata {
    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::start();
        w.str("issuer", &self.issuer);
        w.str("authorization_endpoint", &self.authorization_endpoint);
        w.str("token_endpoint", &self.token_endpoint);
        w.opt_str("registration_endpoint", self.registration_endpoint.as_deref());
        w.opt_str("revocation_endpoint", self.revocation_endpoint.as_deref());
        w.list("scopes_supported", Some(&self.scopes_supported));
        w.list(
            "code_challenge_methods_supported",
            self.code_challenge_methods_supported.as_deref(),
        );
        w.bool("iss_parameter_supported", self.iss_parameter_supported);
        w.bool("cimd", self.client_id_metadata_document_supported);
        w.list(
            "token_endpoint_auth_methods_supported",
            self.token_endpoint_auth_methods_supported.as_deref(),
        );
        w.bool("from_document", self.from_document);
        w.end()
    }

    pub fn from_json(j: &Json) -> Option<AsMetadata> {
        let mut f = Fields::new(j);
        let m = AsMetadata {
            issuer: f.str("issuer"),
            authorization_endpoint: f.str("authorization_endpoint"),
            token_endpoint: f.str("token_endpoint"),
            registration_endpoint: f.opt_str("registration_endpoint"),
            revocation_endpoint: f.opt_str("revocation_endpoint"),
            scopes_supported: f.list("scopes_supported"),
            code_challenge_methods_supported: f.opt_list("code_challenge_methods_supported"),
            iss_parameter_supported: f.bool("iss_parameter_supported"),
            client_id_metadata_document_supported: f.bool("cimd"),
            token_endpoint_auth_methods_supported: f.opt_list("token_endpoint_auth_methods_supported"),
            from_document: f.bool("from_document"),
        };
        f.done(m)
    }
}

impl Discovered {
    pub fn to_json(&self) -> String {
        let mut w = ObjectWriter::start();
        w.str("resource", &self.resource);
        w.opt_str("resource_metadata_url", self.resource_metadata_url.as_deref());
        w.list("prm_scopes_supported", Some(&self.prm_scopes_supported));
        w.raw("metadata", &self.metadata.to_json());
        w.end()
    }

    pub fn from_json(j: &Json) -> Option<Discovered> {
        let metadata = AsMetadata::from_json(j.get("metadata")?)?;
        let mut f = Fields::new(j);
        let d = Discovered {
            resource: f.str("resource"),
            resource_metadata_url: f.opt_str("resource_metadata_url"),
            prm_scopes_supported: f.list("prm_scopes_supported"),
            metadata,
        };
        f.done(d)
    }
}

/// One discovery GET per URL, in order. A loop, not `map(..).collect()`,
/// whose adapters core links once per caller.
fn discovery_requests<'a>(urls: impl Iterator<Item = &'a String>) -> Vec<HttpRequest> {
    let mut out = Vec::new();
    for url in urls {
        out.push(HttpRequest::discovery(url.clone()));
    }
    out
}

/// Step one of the state machine: waiting for the PRM answers.
#[derive(Debug)]
pub struct ExpectProtectedResource {
    server: ServerUrl,
    probes: Vec<PrmProbe>,
    /// The 401 named the metadata URL: the server is not a 2025-03-26 one.
    hinted: bool,
    opts: DiscoveryOptions,
}

/// Step two: waiting for the AS metadata answers.
#[derive(Debug)]
pub struct ExpectAuthorizationServer {
    server: ServerUrl,
    prm: Option<ProtectedResource>,
    issuer: String,
    urls: Vec<String>,
    prm_all_network: bool,
    opts: DiscoveryOptions,
}

impl ExpectProtectedResource {
    pub fn new(server: ServerUrl, resource_metadata: Option<&str>, opts: DiscoveryOptions) -> Result<Self> {
        let probes = prm_probes(&server, resource_metadata)?;
        Ok(ExpectProtectedResource {
            server,
            probes,
            hinted: resource_metadata.is_some(),
            opts,
        })
    }

    /// All probes, in priority order; answer them in the same order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        discovery_requests(self.probes.iter().map(|p| &p.url))
    }

    pub fn handle(self, outcomes: &[FetchOutcome]) -> Result<ExpectAuthorizationServer> {
        let (prm, issuer, prm_all_network) = match select_prm(&self.probes, outcomes)? {
            PrmResult::Found(prm) => {
                // No listed AS: the server's own origin, as in P-3a.
                let issuer = prm
                    .authorization_servers
                    .first()
                    .cloned()
                    .unwrap_or_else(|| self.server.origin());
                (Some(prm), issuer, false)
            }
            // A server that pointed at its metadata is no legacy server: the
            // P-3a defaults would only hide the real failure (often CORS).
            PrmResult::Absent { all_network } if self.hinted => {
                return Err(Error::Discovery {
                    stage: DiscoveryStage::ProtectedResource,
                    reason: "the resource_metadata URL from the 401 did not answer".into(),
                    likely_cors: all_network,
                })
            }
            PrmResult::Absent { all_network } => (None, self.server.origin(), all_network),
        };
        let urls = as_metadata_urls(&issuer)?;
        Ok(ExpectAuthorizationServer {
            server: self.server,
            prm,
            issuer,
            urls,
            prm_all_network,
            opts: self.opts,
        })
    }
}

impl ExpectAuthorizationServer {
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn requests(&self) -> Vec<HttpRequest> {
        discovery_requests(self.urls.iter())
    }

    pub fn handle(self, outcomes: &[FetchOutcome]) -> Result<Discovered> {
        let metadata = match select_as_metadata(&self.issuer, &self.urls, outcomes, self.opts)? {
            AsResult::Found(m) => m,
            AsResult::Absent { all_network } => {
                if self.prm.is_some() {
                    return Err(Error::Discovery {
                        stage: DiscoveryStage::AuthorizationServer,
                        reason: format!(
                            "no metadata found for issuer {}",
                            crate::core::json::quote(&self.issuer)
                        )
                        .into(),
                        likely_cors: all_network,
                    });
                }
                if all_network && self.prm_all_network {
                    // Nothing answered at all: defaults would only hide the cause.
                    return Err(Error::Discovery {
                        stage: DiscoveryStage::ProtectedResource,
                        reason: "no metadata could be fetched".into(),
                        likely_cors: true,
                    });
                }
                default_metadata(&self.issuer)
            }
        };
        let (resource, resource_metadata_url, prm_scopes_supported) = match self.prm {
            Some(p) => (p.resource, Some(p.metadata_url), p.scopes_supported),
            None => (self.server.as_written.clone(), None, Vec::new()),
        };
        Ok(Discovered {
            resource,
            resource_metadata_url,
            prm_scopes_supported,
            metadata,
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "discovery_tests.rs"]
mod tests;
