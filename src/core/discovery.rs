//! Discovery: which URLs to try, in which order, and what to accept (P-3..P-8).
//!
//! Each step hands out *all* of its fallback probes at once, in priority order,
//! and then picks the first success in that order from the answers. The web
//! side may therefore send them in parallel: cold discovery costs one round
//! trip per step however deep the fallback chain is, yet the result is the
//! one a sequential client would get.
//!
//! Most MCP servers host their authorization server on their own origin, so
//! the first step also asks, speculatively, for that origin's AS metadata
//! (P-5 for the issuer `scheme://host[:port]`). When the PRM then names an
//! issuer whose P-5 URLs are exactly those (the origin; P-3a's origin too),
//! the answers are already in and the AS-metadata round trip is saved; for
//! any other issuer they are dropped. They are the answers to the very
//! requests the second step would send, so nothing is trusted that would not
//! be otherwise: P-5's priority order and P-6's exact issuer check apply to
//! them as to any answer. Issuer identity stays exact (RFC 8414 §3.3): a PRM
//! naming `https://h/` is served by the same URLs as `https://h`, so the
//! answers are reused, but metadata saying `"issuer": "https://h"` is then a
//! mismatch for `https://h/`, as it always was.
//!
//! The two metadata documents are read into [`PrmDocument`] and
//! [`AsMetadataDocument`] as the servers write them; validation turns them
//! into [`ProtectedResource`] and [`AsMetadata`]. Identifiers (`resource`,
//! `issuer`) stay the strings the server wrote and are compared as such
//! (P-4, P-6); endpoints become checked `Url`s.

use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::core::endpoint::{self, Source};
use crate::core::error::{DiscoveryStage, Error, Result};
use crate::core::http::{probe_too_large, probe_verdict, FetchOutcome, HttpRequest, ProbeVerdict};

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
        let as_written = s.split_once('#').map_or(s, |(before, _)| before).to_string();
        let parsed = endpoint::https_or_loopback(&as_written, Source::Config("serverUrl"))?;
        Ok(ServerUrl { as_written, parsed })
    }

    /// `scheme://host[:port]`, the resource identifier of the root probe (P-4).
    pub fn origin(&self) -> String {
        endpoint::origin(&self.parsed)
    }

    fn has_path(&self) -> bool {
        has_path(&self.parsed)
    }
}

fn has_path(url: &Url) -> bool {
    !matches!(url.path(), "" | "/")
}

/// `base` with this path and query, without fragment.
fn with_path(base: &Url, path: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(query);
    url.set_fragment(None);
    url
}

/// The path that well-known URLs are built from: one trailing `/` removed
/// (RFC 8414 §3.1, RFC 9728 §3.1), so `/` becomes empty.
fn trimmed_path(url: &Url) -> &str {
    url.path().strip_suffix('/').unwrap_or(url.path())
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
    if let Some(url) = resource_metadata {
        // Fetched over plain http, the metadata could name any AS (P-17's rule, here too).
        endpoint::https_or_loopback(url, Source::Server("resource_metadata"))?;
        return Ok(vec![PrmProbe {
            url: url.to_string(),
            expected_resource: server.as_written.clone(),
            origin_resource: !server.has_path(),
        }]);
    }
    let root = PrmProbe {
        url: with_path(&server.parsed, &format!("/.well-known/{PRM_SUFFIX}"), None).into(),
        expected_resource: server.origin(),
        origin_resource: true,
    };
    if !server.has_path() {
        return Ok(vec![root]);
    }
    // RFC 9728 §3.1 inserts the suffix before the path *and query*: the
    // query is part of the resource identifier this URL stands for.
    let base = &server.parsed;
    let path = trimmed_path(base);
    let path_aware = PrmProbe {
        url: with_path(base, &format!("/.well-known/{PRM_SUFFIX}{path}"), base.query()).into(),
        expected_resource: server.as_written.clone(),
        origin_resource: false,
    };
    Ok(vec![path_aware, root])
}

/// RFC 9728 metadata as the server writes it (the members a client uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PrmDocument {
    pub resource: Option<String>,
    pub authorization_servers: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
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

/// P-4: the document found at `probe`, checked against what it must name.
fn protected_resource(probe: &PrmProbe, doc: PrmDocument) -> Result<ProtectedResource> {
    let resource = doc
        .resource
        .ok_or_else(|| Error::invalid("protected resource metadata has no resource"))?;
    if !resource_matches(probe, &resource) {
        return Err(Error::ResourceMismatch {
            expected: probe.expected_resource.clone(),
            received: resource,
        });
    }
    Ok(ProtectedResource {
        resource,
        authorization_servers: doc.authorization_servers.unwrap_or_default(),
        scopes_supported: doc.scopes_supported.unwrap_or_default(),
        metadata_url: probe.url.clone(),
    })
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
            ProbeVerdict::TooLarge => return Err(probe_too_large(&probe.url)),
            ProbeVerdict::Found(resp) => {
                let doc = resp.document().map_err(|_| {
                    Error::invalid("protected resource metadata is not a JSON object of the RFC 9728 shape")
                })?;
                return protected_resource(probe, doc).map(PrmResult::Found);
            }
        }
    }
    Ok(PrmResult::Absent {
        all_network: all_network && !probes.is_empty(),
    })
}

/// P-5: the AS metadata URLs in priority order.
pub fn as_metadata_urls(issuer: &str) -> Result<Vec<String>> {
    let parsed = endpoint::https_or_loopback(issuer, Source::Server("issuer"))?;
    let path = trimmed_path(&parsed);
    let mut paths = vec![
        format!("/.well-known/{OAUTH_SUFFIX}{path}"),
        format!("/.well-known/{OIDC_SUFFIX}{path}"),
    ];
    if has_path(&parsed) {
        // OIDC Discovery 1.0 §4: the suffix after the issuer's path.
        paths.push(format!("{path}/.well-known/{OIDC_SUFFIX}"));
    }
    Ok(paths.iter().map(|p| with_path(&parsed, p, None).into()).collect())
}

/// Any JSON value, told apart only as "a boolean" or "something else".
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

/// `true` only for the JSON value `true`; anything else (`"true"`, `1`,
/// `null`) is false: "advertised" means exactly `true` (P-20).
fn exactly_true<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(matches!(Flag::deserialize(d)?, Flag::Bool(true)))
}

/// RFC 8414 metadata as the server writes it (the members a client uses).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AsMetadataDocument {
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub registration_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub scopes_supported: Option<Vec<String>>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default, deserialize_with = "exactly_true")]
    pub authorization_response_iss_parameter_supported: bool,
    #[serde(default, deserialize_with = "exactly_true")]
    pub client_id_metadata_document_supported: bool,
    /// RFC 9449 §5.1 (P-35); a value that is not a list of strings is "none".
    #[serde(default, deserialize_with = "strings_or_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

fn strings_or_none<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Maybe {
        Strings(Vec<String>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Maybe::deserialize(d)? {
        Maybe::Strings(v) => Some(v),
        Maybe::Other(_) => None,
    })
}

/// RFC 8414 metadata, validated, reduced to what a public client uses; also
/// the stored form (inside [`Discovered`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AsMetadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub registration_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    pub scopes_supported: Vec<String>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// P-20: `authorization_response_iss_parameter_supported` is exactly `true`.
    pub iss_parameter_supported: bool,
    #[serde(rename = "cimd")]
    pub client_id_metadata_document_supported: bool,
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// False for P-3a's default endpoints (no metadata document at all).
    pub from_document: bool,
    /// RFC 9449 §5.1: the JWS algorithms the AS takes in DPoP proofs (P-35).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
}

/// Options that loosen discovery, each off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// P-7 opt-out for servers that omit `code_challenge_methods_supported`.
    pub allow_missing_pkce_metadata: bool,
}

/// An endpoint of the metadata, https or loopback.
fn checked_endpoint(value: Option<&str>, field: &'static str) -> Result<Option<Url>> {
    value
        .map(|url| endpoint::https_or_loopback(url, Source::Server(field)))
        .transpose()
}

fn required_endpoint(value: Option<&str>, field: &'static str) -> Result<Url> {
    checked_endpoint(value, field)?
        .ok_or_else(|| Error::invalid(format!("authorization server metadata has no {field}")))
}

/// P-6, P-7 and the endpoint checks, on one metadata document.
pub fn parse_as_metadata(
    expected_issuer: &str,
    doc: AsMetadataDocument,
    opts: DiscoveryOptions,
) -> Result<AsMetadata> {
    let issuer = doc.issuer.unwrap_or_default();
    if issuer != expected_issuer {
        return Err(Error::AuthorizationServerMismatch {
            expected: expected_issuer.to_string(),
            received: issuer,
        });
    }
    let methods = doc.code_challenge_methods_supported;
    let s256 = methods.as_ref().is_some_and(|m| m.iter().any(|x| x == "S256"));
    // The opt-out covers servers that *omit* the field (P-7); one that lists
    // methods without S256 has said it will not do S256, so it stays refused.
    let pkce_ok = s256 || (methods.is_none() && opts.allow_missing_pkce_metadata);
    if !pkce_ok {
        return Err(Error::PkceNotSupported { issuer });
    }
    Ok(AsMetadata {
        authorization_endpoint: required_endpoint(
            doc.authorization_endpoint.as_deref(),
            "authorization_endpoint",
        )?,
        token_endpoint: required_endpoint(doc.token_endpoint.as_deref(), "token_endpoint")?,
        registration_endpoint: checked_endpoint(
            doc.registration_endpoint.as_deref(),
            "registration_endpoint",
        )?,
        revocation_endpoint: checked_endpoint(doc.revocation_endpoint.as_deref(), "revocation_endpoint")?,
        issuer,
        scopes_supported: doc.scopes_supported.unwrap_or_default(),
        code_challenge_methods_supported: methods,
        iss_parameter_supported: doc.authorization_response_iss_parameter_supported,
        client_id_metadata_document_supported: doc.client_id_metadata_document_supported,
        token_endpoint_auth_methods_supported: doc.token_endpoint_auth_methods_supported,
        from_document: true,
        dpop_signing_alg_values_supported: doc.dpop_signing_alg_values_supported.unwrap_or_default(),
    })
}

/// The outcome of the AS-metadata step.
// One value per discovery, moved once: boxing the metadata buys nothing.
#[allow(clippy::large_enum_variant)]
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
            ProbeVerdict::TooLarge => return Err(probe_too_large(url)),
            ProbeVerdict::Found(resp) => {
                let doc = resp.document().map_err(|_| {
                    Error::invalid("authorization server metadata is not a JSON object of the RFC 8414 shape")
                })?;
                return parse_as_metadata(issuer, doc, opts).map(AsResult::Found);
            }
        }
    }
    Ok(AsResult::Absent {
        all_network: all_network && !urls.is_empty(),
    })
}

/// P-3a: a 2025-03-26 server with no metadata at all: default endpoints on
/// its origin, no advertised `iss` support.
pub fn default_metadata(origin: &Url) -> AsMetadata {
    let at = |path: &str| with_path(origin, path, None);
    AsMetadata {
        issuer: endpoint::origin(origin),
        authorization_endpoint: at("/authorize"),
        token_endpoint: at("/token"),
        registration_endpoint: Some(at("/register")),
        revocation_endpoint: None,
        scopes_supported: Vec::new(),
        code_challenge_methods_supported: None,
        iss_parameter_supported: false,
        client_id_metadata_document_supported: false,
        token_endpoint_auth_methods_supported: None,
        from_document: false,
        dpop_signing_alg_values_supported: Vec::new(),
    }
}

/// Everything discovery learned, cached per server URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Discovered {
    /// The `resource` parameter to send (P-15).
    pub resource: String,
    pub resource_metadata_url: Option<String>,
    pub prm_scopes_supported: Vec<String>,
    pub metadata: AsMetadata,
}

impl Discovered {
    /// A stored record is trusted no more than the network: its endpoints
    /// pass the same check again (P-32: tampered storage never yields a
    /// `javascript:` or plain-http endpoint).
    pub fn is_valid(&self) -> bool {
        let m = &self.metadata;
        let hint_ok = self
            .resource_metadata_url
            .as_deref()
            .is_none_or(|u| endpoint::https_or_loopback(u, Source::Server("resource_metadata")).is_ok());
        hint_ok
            && [&m.authorization_endpoint, &m.token_endpoint]
                .into_iter()
                .chain(&m.registration_endpoint)
                .chain(&m.revocation_endpoint)
                .all(endpoint::is_https_or_loopback)
    }
}

/// P-33: when every probe of a step got no response and one of them timed
/// out, the timeout is the better report than "likely CORS".
fn first_timeout(outcomes: &[FetchOutcome]) -> Option<Error> {
    outcomes.iter().find_map(|o| match o {
        FetchOutcome::Timeout { url, after_ms } => Some(Error::Timeout {
            url: url.clone(),
            after_ms: *after_ms,
        }),
        _ => None,
    })
}

fn discovery_requests<'a>(urls: impl Iterator<Item = &'a String>) -> Vec<HttpRequest> {
    urls.map(|url| HttpRequest::discovery(url.clone())).collect()
}

/// Step one of the state machine: waiting for the PRM answers (and the
/// speculative AS-metadata answers for the server's origin).
#[derive(Debug)]
pub struct ExpectProtectedResource {
    server: ServerUrl,
    probes: Vec<PrmProbe>,
    /// P-5's URLs for the server's origin as issuer, sent after the PRM probes.
    speculative: Vec<String>,
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
    /// The answers to `urls`, when they came with the PRM probes.
    speculative_answers: Option<Vec<FetchOutcome>>,
    prm_all_network: bool,
    /// A PRM probe that timed out, for when nothing answers at all (P-33).
    prm_timeout: Option<Error>,
    opts: DiscoveryOptions,
}

impl ExpectProtectedResource {
    pub fn new(server: ServerUrl, resource_metadata: Option<&str>, opts: DiscoveryOptions) -> Result<Self> {
        let probes = prm_probes(&server, resource_metadata)?;
        let speculative = as_metadata_urls(&server.origin())?;
        Ok(ExpectProtectedResource {
            server,
            probes,
            speculative,
            hinted: resource_metadata.is_some(),
            opts,
        })
    }

    /// The PRM probes in priority order, then the speculative AS-metadata
    /// probes for the server's origin (P-5 order); answer them in this order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        discovery_requests(self.probes.iter().map(|p| &p.url).chain(&self.speculative))
    }

    /// `outcomes` answers [`Self::requests`] in order. Without the
    /// speculative answers (a shorter slice) the next step simply sends its
    /// own probes.
    pub fn handle(self, outcomes: &[FetchOutcome]) -> Result<ExpectAuthorizationServer> {
        let (outcomes, speculative) = outcomes.split_at(self.probes.len().min(outcomes.len()));
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
                if let Some(timeout) = first_timeout(outcomes).filter(|_| all_network) {
                    return Err(timeout);
                }
                return Err(Error::Discovery {
                    stage: DiscoveryStage::ProtectedResource,
                    reason: "the resource_metadata URL from the 401 did not answer".into(),
                    likely_cors: all_network,
                });
            }
            PrmResult::Absent { all_network } => (None, self.server.origin(), all_network),
        };
        let urls = as_metadata_urls(&issuer)?;
        // The same requests already answered: reuse, never re-send (P-5, P-6
        // still judge them against `issuer`).
        let speculative_answers =
            (urls == self.speculative && speculative.len() == urls.len()).then(|| speculative.to_vec());
        Ok(ExpectAuthorizationServer {
            server: self.server,
            prm,
            issuer,
            urls,
            speculative_answers,
            prm_all_network,
            prm_timeout: first_timeout(outcomes),
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

    /// The answers to [`Self::requests`] when they already arrived with the
    /// PRM probes (the issuer is the server's origin): pass them to
    /// [`Self::handle`] instead of sending the requests. `None` afterwards.
    pub fn take_speculative_answers(&mut self) -> Option<Vec<FetchOutcome>> {
        self.speculative_answers.take()
    }

    pub fn handle(self, outcomes: &[FetchOutcome]) -> Result<Discovered> {
        let metadata = match select_as_metadata(&self.issuer, &self.urls, outcomes, self.opts)? {
            AsResult::Found(m) => m,
            AsResult::Absent { all_network } => {
                if self.prm.is_some() {
                    if let Some(timeout) = first_timeout(outcomes).filter(|_| all_network) {
                        return Err(timeout);
                    }
                    return Err(Error::Discovery {
                        stage: DiscoveryStage::AuthorizationServer,
                        reason: format!(
                            "no metadata found for issuer {}",
                            crate::codec::to_string(&self.issuer)
                        )
                        .into(),
                        likely_cors: all_network,
                    });
                }
                if all_network && self.prm_all_network {
                    // Nothing answered at all: defaults would only hide the cause.
                    if let Some(timeout) = first_timeout(outcomes).or_else(|| self.prm_timeout.clone()) {
                        return Err(timeout);
                    }
                    return Err(Error::Discovery {
                        stage: DiscoveryStage::ProtectedResource,
                        reason: "no metadata could be fetched".into(),
                        likely_cors: true,
                    });
                }
                default_metadata(&self.server.parsed)
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
