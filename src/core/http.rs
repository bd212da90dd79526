//! HTTP as plain data: the only shape in which the core talks to the network.
//!
//! The core builds `HttpRequest`s and reads `FetchOutcome`s; the web adapter
//! (or a test) does the sending. A `NetworkError` is what a browser reports as
//! a `TypeError` from `fetch`: a server that is down or unreachable, or
//! missing CORS headers; the browser does not say which (P-2, P-8, P-33).

use serde::de::DeserializeOwned;
use url::form_urlencoded;

use crate::codec::{self, DecodeError};
use crate::core::error::{Error, Result};

/// `MCP-Protocol-Version` sent on discovery requests (P-8).
pub const MCP_PROTOCOL_VERSION: &str = "2025-11-25";

/// P-32: the largest protocol response body the core reads. The adapter
/// stops reading a body at this size and reports [`FetchOutcome::TooLarge`].
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// A retry without custom headers is allowed after a network failure (P-8).
    pub retry_without_headers: bool,
}

// Bodies and Authorization headers carry codes, verifiers and secrets.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body", &self.body.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    /// A discovery GET: JSON accepted, protocol version announced (P-8).
    pub fn discovery(url: String) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url,
            headers: vec![
                ("Accept".into(), "application/json".into()),
                ("MCP-Protocol-Version".into(), MCP_PROTOCOL_VERSION.into()),
            ],
            body: None,
            retry_without_headers: true,
        }
    }

    /// A form POST to a token-style endpoint (P-23).
    pub fn form_post(url: &str, pairs: &[(&str, &str)]) -> HttpRequest {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        HttpRequest::post(url, "application/x-www-form-urlencoded", body)
    }

    /// A JSON POST (dynamic client registration, P-11); `body` is JSON text.
    pub fn json_post(url: &str, body: String) -> HttpRequest {
        HttpRequest::post(url, "application/json", body)
    }

    fn post(url: &str, content_type: &str, body: String) -> HttpRequest {
        HttpRequest {
            method: Method::Post,
            url: url.to_string(),
            headers: vec![
                ("Content-Type".into(), content_type.into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some(body),
            retry_without_headers: false,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<String>) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as the document `T` (see [`read_object`]).
    pub fn document<T: DeserializeOwned>(&self) -> std::result::Result<T, DecodeError> {
        read_object(&self.body)
    }
}

/// A JSON object read into `T`. Anything but an object is refused, although
/// serde's derive would map an array onto a struct by position.
pub fn read_object<T: DeserializeOwned>(text: &str) -> std::result::Result<T, DecodeError> {
    if !text.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('{') {
        return Err(DecodeError("not a JSON object".into()));
    }
    codec::from_str(text)
}

/// What came back from one request.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    Response(HttpResponse),
    /// `fetch` rejected: no response to read (CORS, DNS, refused connection).
    NetworkError,
    /// No answer within the request's time limit (`AbortSignal.timeout`, P-33).
    Timeout {
        url: String,
        after_ms: u32,
    },
    /// P-30: the server answered with a redirect, which protocol requests
    /// never follow (`redirect: 'manual'`); `url` is the request's URL.
    Redirected {
        url: String,
    },
    /// P-32: the body is longer than [`MAX_RESPONSE_BYTES`]; reading stopped there.
    TooLarge {
        url: String,
    },
}

/// The response of a protocol request (registration, token, revocation), or
/// the error its absence is: `what` names the request in a network error
/// (P-33); a redirect (P-30) or an oversized body (P-32) is `invalid_response`.
pub fn response<'a>(outcome: &'a FetchOutcome, what: &str, url: &str) -> Result<&'a HttpResponse> {
    match outcome {
        FetchOutcome::Response(r) if (300..400).contains(&r.status) => Err(redirected(url)),
        FetchOutcome::Response(r) if r.body.len() > MAX_RESPONSE_BYTES => Err(too_large(url)),
        FetchOutcome::Response(r) => Ok(r),
        FetchOutcome::NetworkError => Err(Error::Network {
            what: what.to_string(),
            url: url.to_string(),
        }),
        FetchOutcome::Timeout { url, after_ms } => Err(Error::Timeout {
            url: url.clone(),
            after_ms: *after_ms,
        }),
        FetchOutcome::Redirected { url } => Err(redirected(url)),
        FetchOutcome::TooLarge { url } => Err(too_large(url)),
    }
}

fn redirected(url: &str) -> Error {
    Error::invalid(format!(
        "{} answered with a redirect, which protocol requests never follow",
        codec::to_string(url)
    ))
}

fn too_large(url: &str) -> Error {
    Error::invalid(format!(
        "{} answered with a body over {MAX_RESPONSE_BYTES} bytes",
        codec::to_string(url)
    ))
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// How a probe answered, in the terms of P-3 and P-5.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeVerdict<'a> {
    /// 2xx: use this answer.
    Found(&'a HttpResponse),
    /// 4xx, 502, a redirect (P-30) or a network (CORS) failure: try the next URL.
    MoveOn { network: bool },
    /// Any other status: discovery stops with an error.
    Fatal(u16),
    /// P-32: a body over [`MAX_RESPONSE_BYTES`]: discovery stops with `invalid_response`.
    TooLarge,
}

pub fn probe_verdict(outcome: &FetchOutcome) -> ProbeVerdict<'_> {
    match outcome {
        FetchOutcome::NetworkError | FetchOutcome::Timeout { .. } => ProbeVerdict::MoveOn { network: true },
        FetchOutcome::Redirected { .. } => ProbeVerdict::MoveOn { network: false },
        FetchOutcome::TooLarge { .. } => ProbeVerdict::TooLarge,
        FetchOutcome::Response(r) if r.body.len() > MAX_RESPONSE_BYTES => ProbeVerdict::TooLarge,
        FetchOutcome::Response(r) if r.is_success() => ProbeVerdict::Found(r),
        FetchOutcome::Response(r) if (300..500).contains(&r.status) || r.status == 502 => {
            ProbeVerdict::MoveOn { network: false }
        }
        FetchOutcome::Response(r) => ProbeVerdict::Fatal(r.status),
    }
}

/// The error a [`ProbeVerdict::TooLarge`] probe stops discovery with.
pub fn probe_too_large(url: &str) -> Error {
    too_large(url)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn p8_discovery_request_sends_accept_and_protocol_version() {
        let r = HttpRequest::discovery("https://x/.well-known/y".into());
        assert_eq!(r.header("accept"), Some("application/json"));
        assert_eq!(r.header("mcp-protocol-version"), Some(MCP_PROTOCOL_VERSION));
        assert!(r.retry_without_headers);
    }

    #[test]
    fn p3_probe_moves_on_after_4xx_502_and_network_errors() {
        for s in [400, 401, 403, 404, 410, 499, 502] {
            let o = FetchOutcome::Response(HttpResponse::new(s, ""));
            assert_eq!(probe_verdict(&o), ProbeVerdict::MoveOn { network: false }, "{s}");
        }
        assert_eq!(
            probe_verdict(&FetchOutcome::NetworkError),
            ProbeVerdict::MoveOn { network: true }
        );
    }

    #[test]
    fn p3_probe_stops_on_other_5xx() {
        for s in [500, 501, 503, 504] {
            let o = FetchOutcome::Response(HttpResponse::new(s, ""));
            assert_eq!(probe_verdict(&o), ProbeVerdict::Fatal(s));
        }
    }

    #[test]
    fn p30_redirect_is_a_failed_probe_in_discovery() {
        let redirected = FetchOutcome::Redirected {
            url: "https://x/y".into(),
        };
        assert_eq!(
            probe_verdict(&redirected),
            ProbeVerdict::MoveOn { network: false }
        );
        for s in [301, 302, 303, 307, 308] {
            let o = FetchOutcome::Response(HttpResponse::new(s, ""));
            assert_eq!(probe_verdict(&o), ProbeVerdict::MoveOn { network: false }, "{s}");
        }
    }

    #[test]
    fn p32_probe_over_one_mib_stops_discovery() {
        let too_large = FetchOutcome::TooLarge {
            url: "https://x/y".into(),
        };
        assert_eq!(probe_verdict(&too_large), ProbeVerdict::TooLarge);
        let big = FetchOutcome::Response(HttpResponse::new(200, "x".repeat(MAX_RESPONSE_BYTES + 1)));
        assert_eq!(probe_verdict(&big), ProbeVerdict::TooLarge);
        let at_limit = FetchOutcome::Response(HttpResponse::new(200, "x".repeat(MAX_RESPONSE_BYTES)));
        assert!(matches!(probe_verdict(&at_limit), ProbeVerdict::Found(_)));
        assert_eq!(probe_too_large("https://x/y").code(), "invalid_response");
    }

    #[test]
    fn p32_limit_is_one_mib() {
        assert_eq!(MAX_RESPONSE_BYTES, 1_048_576);
    }

    #[test]
    fn p33_timeout_outcome_is_a_timeout_error_with_url_and_limit() {
        let o = FetchOutcome::Timeout {
            url: "https://as/token".into(),
            after_ms: 5000,
        };
        assert_eq!(
            response(&o, "the token request", "https://as/token"),
            Err(Error::Timeout {
                url: "https://as/token".into(),
                after_ms: 5000
            })
        );
    }

    #[test]
    fn p23_form_body_is_www_form_urlencoded() {
        let body = |pairs: &[(&str, &str)]| HttpRequest::form_post("https://as/t", pairs).body;
        assert_eq!(
            body(&[("a", "1"), ("b c", "x&y=z")]).as_deref(),
            Some("a=1&b+c=x%26y%3Dz")
        );
        assert_eq!(body(&[("k", "aZ09*-._")]).as_deref(), Some("k=aZ09*-._"));
        assert_eq!(body(&[("k", "a b~/:")]).as_deref(), Some("k=a+b%7E%2F%3A"));
        assert_eq!(body(&[("k", "é")]).as_deref(), Some("k=%C3%A9"));
        assert_eq!(body(&[]).as_deref(), Some(""));
    }

    #[test]
    fn documents_must_be_json_objects() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            a: String,
        }
        assert!(read_object::<Doc>(r#" {"a":"x","unknown":[1]}"#).is_ok());
        assert!(read_object::<Doc>(r#"["x"]"#).is_err());
        assert!(read_object::<Doc>("").is_err());
        assert!(read_object::<Doc>(r#"{"a":1}"#).is_err());
    }

    #[test]
    fn request_debug_redacts_body() {
        let r = HttpRequest::form_post("https://as/token", &[("code", "SECRETCODE")]);
        assert!(!format!("{r:?}").contains("SECRETCODE"));
    }
}
