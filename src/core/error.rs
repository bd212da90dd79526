//! The one error type of the library (P-28).
//!
//! Every variant has a stable string code that JavaScript callers switch on and
//! that the facade maps to an `Error` subclass. `Display` never contains a
//! token, a verifier, an authorization code, a client secret, or a server's
//! `error_description`: descriptions travel as fields, never in the message,
//! and every value that came from the network is JSON-quoted so that it cannot
//! forge log lines (P-21).

use std::borrow::Cow;
use std::fmt;

/// A value from the network as a JSON string literal: quotes and control
/// characters escaped, so it cannot forge log lines (P-21).
fn quote(s: &str) -> String {
    crate::codec::to_string(s)
}

/// Where a discovery failure happened, for `DiscoveryError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryStage {
    ProtectedResource,
    AuthorizationServer,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// P-20: the callback's `iss` is missing where required, or differs.
    IssuerMismatch {
        expected: String,
        received: Option<String>,
    },
    /// P-14: more scope is needed and the app asked us to throw (or the cap is reached).
    InsufficientScope {
        required_scope: String,
        resource_metadata_url: Option<String>,
        error_description: Option<String>,
    },
    /// An OAuth error from the authorization server (callback `error`, token endpoint).
    OAuth {
        code: String,
        description: Option<String>,
        uri: Option<String>,
    },
    /// P-6: the metadata `issuer` is not the issuer it was fetched for.
    AuthorizationServerMismatch { expected: String, received: String },
    /// P-4: the PRM `resource` is not the resource the metadata URL was built from.
    ResourceMismatch { expected: String, received: String },
    /// P-11: the registration endpoint refused us.
    RegistrationRejected { status: u16, error: Option<String> },
    /// P-9: no pre-registered id, no usable CIMD, no registration endpoint.
    NoRegistrationPossible,
    /// P-17/P-23: an endpoint or redirect URI that is neither https nor loopback.
    InsecureEndpoint { url: String },
    /// P-7: the AS does not advertise S256 and the app did not opt out.
    PkceNotSupported { issuer: String },
    /// P-3/P-5: discovery could not complete.
    Discovery {
        stage: DiscoveryStage,
        reason: Cow<'static, str>,
        /// Every probe failed as a browser fails on missing CORS headers.
        likely_cors: bool,
    },
    /// A server answered with something we cannot use (bad JSON, missing field).
    InvalidResponse { what: Cow<'static, str> },
    /// P-19: the callback's `state` is missing or matches no pending flow.
    UnknownState,
    /// P-16: the pending flow expired before the callback came back.
    PendingExpired,
    /// P-22: the callback had neither `code` nor `error`.
    MissingCode,
    /// A configuration value the app passed is unusable.
    InvalidConfig { what: Cow<'static, str> },
    /// P-33: a request outside discovery got no response at all (`fetch`
    /// rejected): `what` names the request, `url` where it went.
    Network { what: String, url: String },
    /// A request got no answer within its time limit (P-33).
    Timeout { url: String, after_ms: u32 },
    /// P-29: a second authorization in a row gave a token the server
    /// answered 401 again; no further redirect is started.
    TokenRejected { server_url: String },
    /// P-30: a resource request that carried a token was answered with a
    /// redirect, which is not followed (the token must not go elsewhere).
    UnexpectedRedirect { url: String },
    /// The storage backend refused to read or write (private mode, quota).
    Storage { what: String },
    /// Refreshing is impossible (no refresh token) or was rejected.
    NoRefreshToken,
    /// The flow continues in a new page: the redirect to the AS has started.
    RedirectStarted,
    /// P-35: `dpop: 'require'` and the AS does not list `ES256` in
    /// `dpop_signing_alg_values_supported`.
    DpopNotSupported { issuer: String },
    /// P-40: `window.open` returned `null`: the browser blocked the sign-in
    /// window. Nothing was lost; the app may retry from a click or redirect.
    PopupBlocked,
    /// P-42: the sign-in window ended without a result: closed by the user,
    /// out of time (`popupTimeoutMs`), or aborted by the app's `signal`.
    PopupClosed { reason: PopupEnd },
}

/// P-42: why a popup flow ended without a result (`PopupClosedError.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupEnd {
    /// The window was seen closed, after the short grace.
    Closed,
    /// `popupTimeoutMs` passed without a result.
    TimedOut { after_ms: u32 },
    /// The app's `AbortSignal` aborted.
    Aborted,
}

impl PopupEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            PopupEnd::Closed => "closed",
            PopupEnd::TimedOut { .. } => "timeout",
            PopupEnd::Aborted => "aborted",
        }
    }
}

impl Error {
    /// The stable machine code (P-28).
    pub fn code(&self) -> &'static str {
        match self {
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::InsufficientScope { .. } => "insufficient_scope",
            Error::OAuth { .. } => "oauth_error",
            Error::AuthorizationServerMismatch { .. } => "authorization_server_mismatch",
            Error::ResourceMismatch { .. } => "resource_mismatch",
            Error::RegistrationRejected { .. } => "registration_rejected",
            Error::NoRegistrationPossible => "no_registration_possible",
            Error::InsecureEndpoint { .. } => "insecure_endpoint",
            Error::PkceNotSupported { .. } => "pkce_not_supported",
            Error::Discovery { .. } => "discovery_failed",
            Error::InvalidResponse { .. } => "invalid_response",
            Error::UnknownState => "unknown_state",
            Error::PendingExpired => "pending_expired",
            Error::MissingCode => "missing_code",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::Network { .. } => "network_error",
            Error::Timeout { .. } => "timeout",
            Error::TokenRejected { .. } => "token_rejected",
            Error::UnexpectedRedirect { .. } => "unexpected_redirect",
            Error::Storage { .. } => "storage_error",
            Error::NoRefreshToken => "no_refresh_token",
            Error::RedirectStarted => "redirect_started",
            Error::DpopNotSupported { .. } => "dpop_not_supported",
            Error::PopupBlocked => "popup_blocked",
            Error::PopupClosed { .. } => "popup_closed",
        }
    }

    /// The JavaScript class this error becomes (P-28). `js/errors.js`
    /// picks it by code from the same table (a test keeps the two equal).
    pub fn js_class(&self) -> &'static str {
        match self {
            Error::IssuerMismatch { .. } => "IssuerMismatchError",
            Error::InsufficientScope { .. } => "InsufficientScopeError",
            Error::OAuth { .. } => "OAuthError",
            Error::AuthorizationServerMismatch { .. } => "AuthorizationServerMismatchError",
            Error::RegistrationRejected { .. } | Error::NoRegistrationPossible => "RegistrationRejectedError",
            Error::InsecureEndpoint { .. } => "InsecureEndpointError",
            Error::ResourceMismatch { .. } | Error::PkceNotSupported { .. } | Error::Discovery { .. } => {
                "DiscoveryError"
            }
            Error::RedirectStarted => "AuthorizationRedirectError",
            Error::PopupBlocked => "PopupBlockedError",
            Error::PopupClosed { .. } => "PopupClosedError",
            _ => "McpAuthError",
        }
    }

    /// An OAuth error whose code a server chose; the code is kept only if it
    /// is a plain RFC 6749 error token, so it cannot smuggle text.
    pub fn oauth(code: &str, description: Option<String>, uri: Option<String>) -> Error {
        let clean = !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        Error::OAuth {
            code: if clean {
                code.to_string()
            } else {
                "invalid_error_code".to_string()
            },
            description,
            uri,
        }
    }

    /// No answer came (network failure, timeout): nothing is proven dead,
    /// so nothing is cleared (P-26), and it may work later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Network { .. } | Error::Timeout { .. })
    }

    pub(crate) fn invalid(what: impl Into<Cow<'static, str>>) -> Error {
        Error::InvalidResponse { what: what.into() }
    }

    pub(crate) fn config(what: impl Into<Cow<'static, str>>) -> Error {
        Error::InvalidConfig { what: what.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IssuerMismatch { expected, received } => match received {
                Some(r) => write!(
                    f,
                    "authorization response issuer {} does not match the expected issuer {}",
                    quote(r),
                    quote(expected)
                ),
                None => write!(
                    f,
                    "authorization response has no iss parameter; expected issuer {}",
                    quote(expected)
                ),
            },
            Error::InsufficientScope { required_scope, .. } => {
                write!(f, "the server requires scope {}", quote(required_scope))
            }
            Error::OAuth { code, .. } => {
                write!(f, "the authorization server answered with error {}", quote(code))
            }
            Error::AuthorizationServerMismatch { expected, received } => write!(
                f,
                "authorization server metadata names issuer {} but was fetched for {}",
                quote(received),
                quote(expected)
            ),
            Error::ResourceMismatch { expected, received } => write!(
                f,
                "protected resource metadata names resource {} but was fetched for {}",
                quote(received),
                quote(expected)
            ),
            Error::RegistrationRejected { status, error } => match error {
                Some(e) => write!(f, "client registration rejected (HTTP {status}, {})", quote(e)),
                None => write!(f, "client registration rejected (HTTP {status})"),
            },
            Error::NoRegistrationPossible => f.write_str(
                "no client id: configure clientId or clientMetadataUrl, or use a server that supports dynamic client registration",
            ),
            Error::InsecureEndpoint { url } => {
                write!(f, "refusing a non-https, non-loopback URL {}", quote(url))
            }
            Error::PkceNotSupported { issuer } => write!(
                f,
                "authorization server {} does not advertise PKCE S256 (if it omits code_challenge_methods_supported yet supports S256, set allowMissingPkceMetadata)",
                quote(issuer)
            ),
            Error::Discovery { stage, reason, likely_cors } => {
                let what = match stage {
                    DiscoveryStage::ProtectedResource => "protected resource metadata",
                    DiscoveryStage::AuthorizationServer => "authorization server metadata",
                };
                write!(f, "{what} discovery failed: {reason}")?;
                if *likely_cors {
                    f.write_str(" (every request got no response: the server may be down, or it does not allow requests from this origin (CORS); check that it is up and that its CORS headers allow this origin)")?;
                }
                Ok(())
            }
            Error::InvalidResponse { what } => write!(f, "invalid response: {what}"),
            Error::UnknownState => {
                f.write_str("the callback's state matches no pending authorization")
            }
            Error::PendingExpired => f.write_str("the pending authorization has expired; start again"),
            Error::MissingCode => f.write_str("the callback has neither code nor error"),
            Error::InvalidConfig { what } => write!(f, "invalid configuration: {what}"),
            Error::Network { what, url } => write!(
                f,
                "{what} to {} got no response: the server may be down, or it does not allow requests from this origin (CORS); check that it is up and that its CORS headers allow this origin",
                quote(url)
            ),
            Error::Timeout { url, after_ms } => write!(
                f,
                "no answer from {} within {after_ms} ms: the server may be down or slow; check it, or raise the timeoutMs option",
                quote(url)
            ),
            Error::TokenRejected { server_url } => write!(
                f,
                "{} rejected (401) the tokens of two authorizations in a row, so no further authorization is started; check that the server accepts tokens of its authorization server for this resource",
                quote(server_url)
            ),
            Error::UnexpectedRedirect { url } => write!(
                f,
                "{} answered a request carrying a token with a redirect, which is not followed so the token goes nowhere else; use the final URL as serverUrl, or set redirect on the request yourself",
                quote(url)
            ),
            Error::Storage { what } => write!(f, "storage error: {what}"),
            Error::NoRefreshToken => f.write_str("no refresh token is available"),
            Error::RedirectStarted => {
                f.write_str("redirecting to the authorization server; the flow continues on the callback page")
            }
            Error::DpopNotSupported { issuer } => write!(
                f,
                "authorization server {} does not offer DPoP with ES256 (dpop_signing_alg_values_supported), and the dpop option is 'require'",
                quote(issuer)
            ),
            Error::PopupBlocked => f.write_str(
                "the browser blocked the sign-in window: call auth.authorize({ mode: 'popup' }) from a click handler (then retry the call), or use redirect mode",
            ),
            Error::PopupClosed { reason } => match reason {
                PopupEnd::Closed => f.write_str("the sign-in window was closed before the sign-in finished"),
                PopupEnd::TimedOut { after_ms } => write!(
                    f,
                    "the sign-in window gave no result within {after_ms} ms (popupTimeoutMs); it may have been closed"
                ),
                PopupEnd::Aborted => f.write_str("the sign-in in a window was aborted by the app's signal"),
            },
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn p28_codes_are_stable_strings() {
        assert_eq!(
            Error::IssuerMismatch {
                expected: "a".into(),
                received: None
            }
            .code(),
            "issuer_mismatch"
        );
        assert_eq!(Error::UnknownState.code(), "unknown_state");
        assert_eq!(Error::RedirectStarted.js_class(), "AuthorizationRedirectError");
    }

    /// `js/errors.js` picks the class by code: its table must say what
    /// `js_class` says, for every variant.
    #[test]
    fn p28_js_class_table_in_errors_js_matches_js_class() {
        let js = include_str!("../../js/errors.js");
        let s = || String::new();
        let all = [
            Error::IssuerMismatch {
                expected: s(),
                received: None,
            },
            Error::InsufficientScope {
                required_scope: s(),
                resource_metadata_url: None,
                error_description: None,
            },
            Error::OAuth {
                code: s(),
                description: None,
                uri: None,
            },
            Error::AuthorizationServerMismatch {
                expected: s(),
                received: s(),
            },
            Error::ResourceMismatch {
                expected: s(),
                received: s(),
            },
            Error::RegistrationRejected {
                status: 400,
                error: None,
            },
            Error::NoRegistrationPossible,
            Error::InsecureEndpoint { url: s() },
            Error::PkceNotSupported { issuer: s() },
            Error::Discovery {
                stage: DiscoveryStage::ProtectedResource,
                reason: s().into(),
                likely_cors: false,
            },
            Error::InvalidResponse { what: s().into() },
            Error::UnknownState,
            Error::PendingExpired,
            Error::MissingCode,
            Error::InvalidConfig { what: s().into() },
            Error::Network { what: s(), url: s() },
            Error::Timeout {
                url: s(),
                after_ms: 1,
            },
            Error::TokenRejected { server_url: s() },
            Error::UnexpectedRedirect { url: s() },
            Error::Storage { what: s() },
            Error::NoRefreshToken,
            Error::RedirectStarted,
            Error::DpopNotSupported { issuer: s() },
            Error::PopupBlocked,
            Error::PopupClosed {
                reason: PopupEnd::Closed,
            },
        ];
        for e in all {
            let entry = format!("\n  {}: ", e.code());
            match js.find(&entry) {
                Some(at) => {
                    let class = js[at + entry.len()..].split(',').next().unwrap_or_default();
                    assert_eq!(class, e.js_class(), "{}", e.code());
                }
                None => assert_eq!(
                    e.js_class(),
                    "McpAuthError",
                    "{} is missing from js/errors.js",
                    e.code()
                ),
            }
        }
    }

    #[test]
    fn p21_issuer_mismatch_message_json_escapes_received_value() {
        let e = Error::IssuerMismatch {
            expected: "https://as".into(),
            received: Some("https://evil\n[INFO] forged".into()),
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains("\\n"));
    }

    #[test]
    fn p33_network_error_names_the_url_and_both_likely_causes() {
        let msg = Error::Network {
            what: "the token refresh request".into(),
            url: "https://as.example.com/token".into(),
        }
        .to_string();
        assert!(msg.contains("the token refresh request"), "{msg}");
        assert!(msg.contains("\"https://as.example.com/token\""), "{msg}");
        assert!(msg.contains("down") && msg.contains("CORS"), "{msg}");
        assert!(!msg.contains("likely cause)"), "{msg}");
    }

    #[test]
    fn p33_timeout_names_the_url_the_limit_and_the_option() {
        let msg = Error::Timeout {
            url: "https://as.example.com/token".into(),
            after_ms: 30_000,
        }
        .to_string();
        assert!(msg.contains("https://as.example.com/token"), "{msg}");
        assert!(msg.contains("30000 ms") && msg.contains("timeoutMs"), "{msg}");
    }

    #[test]
    fn p33_discovery_without_any_response_names_both_likely_causes() {
        let msg = Error::Discovery {
            stage: DiscoveryStage::ProtectedResource,
            reason: "no metadata could be fetched".into(),
            likely_cors: true,
        }
        .to_string();
        assert!(msg.contains("down") && msg.contains("CORS"), "{msg}");
        assert!(!msg.contains("CORS configuration is the likely cause"), "{msg}");
    }

    #[test]
    fn p29_p30_new_codes_are_plain_mcp_auth_errors() {
        let rejected = Error::TokenRejected {
            server_url: "https://mcp/x".into(),
        };
        let redirect = Error::UnexpectedRedirect {
            url: "https://mcp/x".into(),
        };
        assert_eq!(rejected.code(), "token_rejected");
        assert_eq!(redirect.code(), "unexpected_redirect");
        assert_eq!(rejected.js_class(), "McpAuthError");
        assert_eq!(redirect.js_class(), "McpAuthError");
    }

    #[test]
    fn p28_oauth_error_message_omits_description() {
        let e = Error::oauth("invalid_grant", Some("secret-ish text".into()), None);
        assert!(!e.to_string().contains("secret-ish"));
    }

    #[test]
    fn p28_oauth_error_code_with_odd_characters_is_replaced() {
        let e = Error::oauth("x\" injected", None, None);
        assert_eq!(
            e,
            Error::OAuth {
                code: "invalid_error_code".into(),
                description: None,
                uri: None
            }
        );
    }
}
