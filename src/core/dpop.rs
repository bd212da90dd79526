//! DPoP (RFC 9449): when to use it, the proof JWS, the key's RFC 7638
//! thumbprint and the nonces servers hand out (P-35..P-39).
//!
//! The key itself never comes here: the `Io` seam creates or loads it (a
//! non-extractable WebCrypto key in the browser), gives its public JWK and
//! signs the bytes this module builds. Everything else (header, claims,
//! `htu`, `ath`, encoding, the nonce rules) is decided here and host-tested.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::codec;
use crate::core::challenge::parse_www_authenticate;
use crate::core::discovery::AsMetadata;
use crate::core::encoding::base64url_nopad;
use crate::core::error::{Error, Result};
use crate::core::http::{FetchOutcome, HttpResponse};
use crate::core::io::Io;
use crate::core::secret::Secret;

/// The one JWS algorithm we sign with: ECDSA P-256 SHA-256 (P-37).
pub const ALG: &str = "ES256";

/// The `DPoP` request header, and the `DPoP-Nonce` response header (P-39).
pub const HEADER: &str = "DPoP";
pub const NONCE_HEADER: &str = "DPoP-Nonce";

/// The `dpop` option (P-35).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// Use DPoP when the AS lists `ES256` in `dpop_signing_alg_values_supported`.
    #[default]
    Auto,
    Off,
    /// Fail with `dpop_not_supported` when the AS does not offer it.
    Require,
}

impl DpopMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DpopMode::Auto => "auto",
            DpopMode::Off => "off",
            DpopMode::Require => "require",
        }
    }

    pub fn parse(s: &str) -> Option<DpopMode> {
        [DpopMode::Auto, DpopMode::Off, DpopMode::Require]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// P-35: whether the AS offers DPoP with the algorithm we sign with.
pub fn offered(meta: &AsMetadata) -> bool {
    meta.dpop_signing_alg_values_supported.iter().any(|a| a == ALG)
}

/// P-35: whether this authorization uses DPoP, or the `require` error.
pub fn decide(mode: DpopMode, meta: &AsMetadata) -> Result<bool> {
    match mode {
        DpopMode::Off => Ok(false),
        DpopMode::Auto => Ok(offered(meta)),
        DpopMode::Require if offered(meta) => Ok(true),
        DpopMode::Require => Err(Error::DpopNotSupported {
            issuer: meta.issuer.clone(),
        }),
    }
}

/// A P-256 public key as a JWK: the four members RFC 7638 §3.2 hashes for
/// an EC key, declared in its lexicographic order, so that serializing this
/// struct *is* the canonical form. Reading a JWK into it keeps these four
/// members only: a private `d`, `key_ops` or `ext` can never be copied into
/// a proof (P-37).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    pub crv: String,
    pub kty: String,
    pub x: String,
    pub y: String,
}

impl PublicJwk {
    /// A P-256 key whose coordinates are 32 bytes each (43 base64url characters).
    pub fn is_p256(&self) -> bool {
        let coordinate = |c: &str| {
            c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        self.kty == "EC" && self.crv == "P-256" && coordinate(&self.x) && coordinate(&self.y)
    }

    /// RFC 7638 §3: the required members, sorted, without whitespace.
    pub fn thumbprint_input(&self) -> String {
        codec::to_string(self)
    }
}

/// RFC 7638: base64url(SHA-256(canonical JSON)); the `dpop_jkt` of P-38.
pub async fn thumbprint(io: &impl Io, jwk: &PublicJwk) -> Result<String> {
    Ok(base64url_nopad(&io.sha256(&jwk.thumbprint_input()).await?))
}

/// RFC 9449 §4.3: `htu` is the request URL without query and fragment, in
/// the URL parser's normal form (lower-case scheme and host, default port
/// dropped, path percent-encoded), which is what servers compare against.
pub fn htu(request_url: &str) -> Result<String> {
    let mut url =
        Url::parse(request_url).map_err(|_| Error::config("a DPoP request URL is not a valid URL"))?;
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.into())
}

/// The key nonces are kept under: the URL's origin (P-39).
pub fn nonce_key(request_url: &str) -> Option<String> {
    Url::parse(request_url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// The JWS protected header (P-37).
#[derive(Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    jwk: &'a PublicJwk,
}

/// The proof's claims (RFC 9449 §4.2, P-37).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub jti: String,
    pub htm: String,
    pub htu: String,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

/// `base64url(header).base64url(claims)`: the bytes the key signs.
pub fn signing_input(jwk: &PublicJwk, claims: &Claims) -> String {
    let header = Header {
        typ: "dpop+jwt",
        alg: ALG,
        jwk,
    };
    format!(
        "{}.{}",
        base64url_nopad(codec::to_string(&header).as_bytes()),
        base64url_nopad(codec::to_string(claims).as_bytes())
    )
}

/// The compact JWS: the signing input and the raw `r‖s` signature (P-37).
pub fn compact(signing_input: &str, signature: &[u8; 64]) -> String {
    format!("{signing_input}.{}", base64url_nopad(signature))
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
pub fn ath(digest: &[u8; 32]) -> String {
    base64url_nopad(digest)
}

/// How many random bytes a `jti` has: 128 bits, above P-37's 96.
pub const JTI_BYTES: usize = 16;

/// A fresh proof for one request (P-37): a new `jti` every time, retries
/// included; the origin's latest nonce when one is known; `ath` when an
/// access token goes with the request.
pub async fn proof(
    io: &impl Io,
    issuer: &str,
    method: &str,
    request_url: &str,
    access_token: Option<&Secret>,
) -> Result<String> {
    let jwk = io.dpop_key(issuer).await?;
    if !jwk.is_p256() {
        return Err(Error::config("the DPoP key is not a P-256 key"));
    }
    let mut jti = [0u8; JTI_BYTES];
    io.random(&mut jti)?;
    let ath = match access_token {
        Some(t) => Some(ath(&io.sha256(t.expose()).await?)),
        None => None,
    };
    let claims = Claims {
        jti: base64url_nopad(&jti),
        htm: method.to_string(),
        htu: htu(request_url)?,
        iat: io.now_ms() / 1000,
        nonce: nonce_key(request_url).and_then(|origin| io.dpop_nonce(&origin)),
        ath,
    };
    let input = signing_input(&jwk, &claims);
    let signature = io.dpop_sign(issuer, input.as_bytes()).await?;
    Ok(compact(&input, &signature))
}

/// A `DPoP-Nonce` value as RFC 9449 §8.1 allows it: `1*NQCHAR`, printable
/// ASCII without `"` and `\`; anything else is not a nonce and is ignored.
fn usable_nonce(value: &str) -> Option<&str> {
    let ok = !value.is_empty()
        && value.len() <= 1024
        && value
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    ok.then_some(value)
}

/// P-39: keeps the nonce a response carries as the latest for its origin;
/// true when it differs from the one known before.
pub fn remember_nonce(io: &impl Io, request_url: &str, nonce_header: Option<&str>) -> bool {
    let (Some(origin), Some(nonce)) = (nonce_key(request_url), nonce_header.and_then(usable_nonce)) else {
        return false;
    };
    let fresh = io.dpop_nonce(&origin).as_deref() != Some(nonce);
    io.set_dpop_nonce(&origin, nonce);
    fresh
}

/// The response of a token request, when it is one.
pub fn token_response(outcome: Option<&FetchOutcome>) -> Option<&HttpResponse> {
    match outcome {
        Some(FetchOutcome::Response(r)) => Some(r),
        _ => None,
    }
}

/// P-39: the AS's `400 {"error":"use_dpop_nonce"}` (RFC 9449 §8) with a
/// `DPoP-Nonce` header: retry once with that nonce.
pub fn as_wants_nonce(resp: &HttpResponse) -> bool {
    #[derive(Deserialize)]
    struct ErrorCode {
        error: String,
    }
    resp.status == 400
        && resp.header(NONCE_HEADER).and_then(usable_nonce).is_some()
        && resp
            .document::<ErrorCode>()
            .is_ok_and(|e| e.error == "use_dpop_nonce")
}

/// P-39: the resource server's `401` with `WWW-Authenticate: DPoP
/// error="use_dpop_nonce"` (RFC 9449 §9) and a `DPoP-Nonce` header.
pub fn resource_wants_nonce(status: u16, www_authenticate: Option<&str>, nonce: Option<&str>) -> bool {
    status == 401
        && nonce.and_then(usable_nonce).is_some()
        && www_authenticate.is_some_and(|h| dpop_error(h).as_deref() == Some("use_dpop_nonce"))
}

/// The `error` parameter of a `DPoP` challenge in a `WWW-Authenticate`
/// value, if there is one (P-1's parser; other schemes are skipped).
pub fn dpop_error(header: &str) -> Option<String> {
    parse_www_authenticate(header)
        .into_iter()
        .find(|c| c.is_scheme(HEADER))
        .and_then(|c| c.param("error").map(str::to_string))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "dpop_tests.rs"]
mod tests;
