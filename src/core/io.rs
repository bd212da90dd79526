//! The one I/O seam between the protocol and the world.
//!
//! The flows in `flow.rs` decide everything; an `Io` only carries out what
//! they ask: send these requests (in parallel if it likes, answering in the
//! same order, never following a redirect, reading at most
//! `MAX_RESPONSE_BYTES` of a body), read or write this key, give the time,
//! give random bytes, take a lock, tell the other tabs of a rotated refresh
//! token and wait for such news. The browser implements it over `fetch`,
//! Web Storage, `crypto`, `navigator.locks` and `BroadcastChannel`; tests
//! implement it with canned responses and maps.

use crate::core::dpop::PublicJwk;
use crate::core::error::Result;
use crate::core::http::{FetchOutcome, HttpRequest};
use crate::core::secret::Secret;
use crate::core::token::TokenType;

/// Which storage a key lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Always `sessionStorage`: pending flows, step-up counters (P-14, P-16).
    Session,
    /// Always `localStorage`, for a configuration-free callback page.
    Local,
    /// The storage the app configured for tokens, clients and metadata.
    Tokens,
}

/// Where the app keeps tokens, clients and metadata (`tokenStorage`).
/// Recorded in the pending flow so that a configuration-free callback page
/// writes the tokens where the app will look for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStorage {
    Session,
    Local,
    Memory,
    /// An app-supplied Storage-like object.
    Custom,
}

impl TokenStorage {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStorage::Session => "session",
            TokenStorage::Local => "local",
            TokenStorage::Memory => "memory",
            TokenStorage::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<TokenStorage> {
        [
            TokenStorage::Session,
            TokenStorage::Local,
            TokenStorage::Memory,
            TokenStorage::Custom,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// Progress events for the app's UI (`onStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Discovering,
    Registering,
    Redirecting,
    Exchanging,
    Refreshing,
    Authorized,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Discovering => "discovering",
            Status::Registering => "registering",
            Status::Redirecting => "redirecting",
            Status::Exchanging => "exchanging",
            Status::Refreshing => "refreshing",
            Status::Authorized => "authorized",
            Status::Error => "error",
        }
    }
}

/// What the resource server answered, reduced to what the flow reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceAnswer {
    pub status: u16,
    /// `None` when absent or unreadable (CORS without Expose-Headers, P-2).
    pub www_authenticate: Option<String>,
    /// P-30: the request was answered with a redirect that was not followed
    /// (`redirect: 'manual'`, an opaque-redirect response).
    pub redirected: bool,
    /// P-39: the `DPoP-Nonce` response header, when present and readable.
    pub dpop_nonce: Option<String>,
}

/// What a resource request carries (P-38): `Authorization: <scheme>
/// <token>`, and for a DPoP-bound token a fresh `DPoP: <proof>`.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub access_token: Secret,
    pub token_type: TokenType,
    pub proof: Option<String>,
}

impl Credentials {
    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        format!("{} {}", self.token_type.scheme(), self.access_token.expose())
    }
}

// The token and the proof are secrets to logs.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("token_type", &self.token_type)
            .field("proof", &self.proof.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

#[allow(async_fn_in_trait)]
pub trait Io {
    /// Held while refreshing; dropping it releases the lock (P-25).
    type Lock;

    /// Sends every request; the answers come back in the same order. With
    /// `redirect: 'manual'`: a redirect is `FetchOutcome::Redirected` (P-30);
    /// a body longer than `MAX_RESPONSE_BYTES` is `TooLarge`, unread (P-32).
    async fn fetch_all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome>;
    fn load(&self, area: Area, key: &str) -> Result<Option<String>>;
    fn store(&self, area: Area, key: &str, value: &str) -> Result<()>;
    fn remove(&self, area: Area, key: &str) -> Result<()>;
    fn keys(&self, area: Area) -> Result<Vec<String>>;
    fn now_ms(&self) -> u64;
    fn random(&self, buf: &mut [u8]) -> Result<()>;
    /// SHA-256 of `data` (the PKCE S256 challenge, P-16).
    async fn sha256(&self, data: &str) -> Result<[u8; 32]>;
    fn status(&self, status: Status);
    /// An exclusive lock by name, across tabs where the platform allows.
    async fn lock(&self, name: &str) -> Result<Self::Lock>;
    /// P-34: tells the other tabs of this origin (a same-origin
    /// `BroadcastChannel`) that the refresh token whose hash is `consumed`
    /// was rotated; `message` is the core's text for
    /// [`crate::core::flow::adopt_rotation`]. Never fails: a lost message only
    /// makes another tab re-authorize.
    fn publish_rotation(&self, consumed: &str, message: &str);
    /// P-34: the message published for `consumed`, whether it arrived before
    /// this call or within `timeout_ms`; `None` when none came.
    async fn wait_for_rotation(&self, consumed: &str, timeout_ms: u32) -> Option<String>;
    /// P-36: the public JWK of this issuer's DPoP key (ECDSA P-256, not
    /// extractable), created on first use and kept where the callback page
    /// and every tab find it (IndexedDB; memory where there is none).
    async fn dpop_key(&self, issuer: &str) -> Result<PublicJwk>;
    /// P-37: ECDSA P-256 SHA-256 over `signing_input` with that key, raw `r‖s`.
    async fn dpop_sign(&self, issuer: &str, signing_input: &[u8]) -> Result<[u8; 64]>;
    /// P-36: `signOut` forgets the key; the next authorization makes a new one.
    async fn delete_dpop_key(&self, issuer: &str) -> Result<()>;
    /// P-39: the latest `DPoP-Nonce` an origin sent (kept in memory).
    fn dpop_nonce(&self, origin: &str) -> Option<String>;
    fn set_dpop_nonce(&self, origin: &str, nonce: &str);
}
