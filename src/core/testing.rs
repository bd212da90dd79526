//! Test doubles for the host tests: a recording `Io` with canned answers and
//! a map for storage, a one-line executor, and a standard server fixture.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::core::discovery::{DiscoveryOptions, ServerUrl};
use crate::core::dpop::{DpopMode, PublicJwk};
use crate::core::encoding::base64url_nopad;
use crate::core::error::{Error, Result};
use crate::core::flow::{Config, StepUpPolicy, TokenScope};
use crate::core::http::{FetchOutcome, HttpRequest, HttpResponse};
use crate::core::io::TokenStorage;
use crate::core::io::{Area, Io, Status};
use crate::core::registration::ClientConfig;

/// SHA-256 by the `sha2` crate: what `crypto.subtle.digest` gives the browser.
pub fn sha256(data: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data.as_bytes()).into()
}

/// Runs two tabs' futures side by side on one thread, as a browser's event
/// loops would: each is polled in turn until both are done.
pub fn run_together<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let mut cx = Context::from_waker(Waker::noop());
    let (mut out_a, mut out_b) = (None, None);
    for _ in 0..1000 {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(&mut cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(&mut cx) {
                out_b = Some(v);
            }
        }
        if let (Some(_), Some(_)) = (&out_a, &out_b) {
            return (out_a.expect("done"), out_b.expect("done"));
        }
    }
    panic!("the two futures never both finished (a lock never released?)")
}

/// Pending once, then ready: a network round trip, for [`run_together`].
struct WaitOnce(bool);

impl Future for WaitOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

/// A held `FakeIo` lock; dropping it releases the name.
pub struct FakeLock {
    name: String,
    held: Rc<RefCell<HashSet<String>>>,
}

impl Drop for FakeLock {
    fn drop(&mut self) {
        self.held.borrow_mut().remove(&self.name);
    }
}

/// Runs a future that never waits on anything real (the fake `Io` answers at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future waited on something the fake Io does not provide"),
    }
}

/// A same-origin `BroadcastChannel`: `(consumed hash, message)` as published.
pub type Channel = Rc<RefCell<Vec<(String, String)>>>;

#[derive(Default)]
pub struct FakeIo {
    /// Queued answers per URL (method ignored); the last one repeats.
    routes: RefCell<HashMap<String, VecDeque<FetchOutcome>>>,
    pub requests: RefCell<Vec<HttpRequest>>,
    /// How many `fetch_all` calls (round trips) were made.
    pub round_trips: Cell<usize>,
    /// The URLs of each `fetch_all` call: what went out together.
    pub batches: RefCell<Vec<Vec<String>>>,
    /// `sessionStorage` and the app's token storage: one tab's own.
    pub storage: RefCell<HashMap<(Area, String), String>>,
    /// `localStorage`: shared by the tabs of [`FakeIo::duplicate_tab`].
    pub local: Rc<RefCell<HashMap<String, String>>>,
    /// Rotation messages published by any tab of this origin (P-34).
    pub channel: Channel,
    /// Whether `wait_for_rotation` sees the channel (false: the message is
    /// late, or was lost).
    pub rotations_arrive: Cell<bool>,
    pub rotation_waits: RefCell<Vec<String>>,
    pub lock_names: RefCell<Vec<String>>,
    /// The locks held in this origin (`navigator.locks`): shared by tabs.
    pub held_locks: Rc<RefCell<HashSet<String>>>,
    /// Each `fetch_all` waits once before answering, as the network does,
    /// so that another tab's future can run meanwhile (see [`run_together`]).
    pub fetch_waits: Cell<bool>,
    pub now: Cell<u64>,
    pub statuses: RefCell<Vec<Status>>,
    pub locks_taken: Cell<usize>,
    pub fail_storage: Cell<bool>,
    pub random_byte: Cell<u8>,
    /// P-36: the DPoP keys by issuer, shared by the tabs of an origin as
    /// IndexedDB is; each new key is a new deterministic test key.
    pub dpop_keys: Rc<RefCell<HashMap<String, p256::ecdsa::SigningKey>>>,
    pub dpop_keys_made: Rc<Cell<u8>>,
    /// P-39: nonces by origin, this instance's memory.
    pub dpop_nonces: RefCell<HashMap<String, String>>,
}

impl FakeIo {
    pub fn new() -> FakeIo {
        let io = FakeIo::default();
        io.now.set(1_700_000_000_000);
        io.random_byte.set(7);
        io.rotations_arrive.set(true);
        io
    }

    /// A duplicated tab (P-34): `sessionStorage` copied, `localStorage` and
    /// the broadcast channel shared, nothing queued.
    pub fn duplicate_tab(&self) -> FakeIo {
        let tab = FakeIo::new();
        tab.now.set(self.now.get());
        tab.random_byte.set(self.random_byte.get().wrapping_add(100));
        tab.storage.replace(self.storage.borrow().clone());
        tab.same_origin_as(self)
    }

    /// This tab with `other`'s `localStorage` and broadcast channel.
    pub fn same_origin_as(self, other: &FakeIo) -> FakeIo {
        FakeIo {
            local: other.local.clone(),
            channel: other.channel.clone(),
            held_locks: other.held_locks.clone(),
            dpop_keys: other.dpop_keys.clone(),
            dpop_keys_made: other.dpop_keys_made.clone(),
            ..self
        }
    }

    pub fn on(&self, url: &str, outcome: FetchOutcome) -> &Self {
        self.routes
            .borrow_mut()
            .entry(url.to_string())
            .or_default()
            .push_back(outcome);
        self
    }

    pub fn json(&self, url: &str, status: u16, body: &str) -> &Self {
        self.on(url, FetchOutcome::Response(HttpResponse::new(status, body)))
    }

    /// Forget every queued answer for `url`.
    pub fn clear_route(&self, url: &str) {
        self.routes.borrow_mut().remove(url);
    }

    pub fn requests_to(&self, url: &str) -> Vec<HttpRequest> {
        self.requests
            .borrow()
            .iter()
            .filter(|r| r.url == url)
            .cloned()
            .collect()
    }

    pub fn urls(&self) -> Vec<String> {
        self.requests.borrow().iter().map(|r| r.url.clone()).collect()
    }

    pub fn get(&self, area: Area, key: &str) -> Option<String> {
        match area {
            Area::Local => self.local.borrow().get(key).cloned(),
            _ => self.storage.borrow().get(&(area, key.to_string())).cloned(),
        }
    }

    pub fn keys_with(&self, area: Area, prefix: &str) -> Vec<String> {
        let mut k: Vec<String> = match area {
            Area::Local => self.local.borrow().keys().cloned().collect(),
            _ => self
                .storage
                .borrow()
                .keys()
                .filter(|(a, _)| *a == area)
                .map(|(_, k)| k.clone())
                .collect(),
        };
        k.retain(|k| k.starts_with(prefix));
        k.sort();
        k
    }

    fn answer(&self, url: &str) -> FetchOutcome {
        let mut routes = self.routes.borrow_mut();
        match routes.get_mut(url) {
            Some(q) if q.len() > 1 => q.pop_front().unwrap_or(FetchOutcome::NetworkError),
            Some(q) => q.front().cloned().unwrap_or(FetchOutcome::NetworkError),
            None => FetchOutcome::Response(HttpResponse::new(404, "not found")),
        }
    }

    fn check(&self) -> Result<()> {
        if self.fail_storage.get() {
            Err(Error::Storage {
                what: "SecurityError: storage is disabled".into(),
            })
        } else {
            Ok(())
        }
    }
}

impl Io for FakeIo {
    type Lock = FakeLock;

    async fn fetch_all(&self, requests: Vec<HttpRequest>) -> Vec<FetchOutcome> {
        if self.fetch_waits.get() {
            WaitOnce(false).await;
        }
        self.round_trips.set(self.round_trips.get() + 1);
        self.batches
            .borrow_mut()
            .push(requests.iter().map(|r| r.url.clone()).collect());
        requests
            .into_iter()
            .map(|r| {
                let a = self.answer(&r.url);
                self.requests.borrow_mut().push(r);
                a
            })
            .collect()
    }

    fn load(&self, area: Area, key: &str) -> Result<Option<String>> {
        self.check()?;
        Ok(self.get(area, key))
    }

    fn store(&self, area: Area, key: &str, value: &str) -> Result<()> {
        self.check()?;
        match area {
            Area::Local => self.local.borrow_mut().insert(key.to_string(), value.to_string()),
            _ => self
                .storage
                .borrow_mut()
                .insert((area, key.to_string()), value.to_string()),
        };
        Ok(())
    }

    fn remove(&self, area: Area, key: &str) -> Result<()> {
        self.check()?;
        match area {
            Area::Local => self.local.borrow_mut().remove(key),
            _ => self.storage.borrow_mut().remove(&(area, key.to_string())),
        };
        Ok(())
    }

    fn keys(&self, area: Area) -> Result<Vec<String>> {
        self.check()?;
        Ok(self.keys_with(area, ""))
    }

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn random(&self, buf: &mut [u8]) -> Result<()> {
        // Distinct per call, so two flows get two states.
        let b = self.random_byte.get();
        self.random_byte.set(b.wrapping_add(1));
        buf.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = b.wrapping_add(i as u8));
        Ok(())
    }

    async fn sha256(&self, data: &str) -> Result<[u8; 32]> {
        Ok(sha256(data))
    }

    fn status(&self, status: Status) {
        self.statuses.borrow_mut().push(status);
    }

    async fn lock(&self, name: &str) -> Result<FakeLock> {
        std::future::poll_fn(|_| {
            if self.held_locks.borrow().contains(name) {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        self.held_locks.borrow_mut().insert(name.to_string());
        self.locks_taken.set(self.locks_taken.get() + 1);
        self.lock_names.borrow_mut().push(name.to_string());
        Ok(FakeLock {
            name: name.to_string(),
            held: self.held_locks.clone(),
        })
    }

    fn publish_rotation(&self, consumed: &str, message: &str) {
        self.channel
            .borrow_mut()
            .push((consumed.to_string(), message.to_string()));
    }

    async fn wait_for_rotation(&self, consumed: &str, _timeout_ms: u32) -> Option<String> {
        self.rotation_waits.borrow_mut().push(consumed.to_string());
        if !self.rotations_arrive.get() {
            return None;
        }
        self.channel
            .borrow()
            .iter()
            .rev()
            .find(|(hash, _)| hash == consumed)
            .map(|(_, message)| message.clone())
    }

    async fn dpop_key(&self, issuer: &str) -> Result<PublicJwk> {
        let mut keys = self.dpop_keys.borrow_mut();
        let key = keys.entry(issuer.to_string()).or_insert_with(|| {
            let n = self.dpop_keys_made.get().wrapping_add(1);
            self.dpop_keys_made.set(n);
            p256::ecdsa::SigningKey::from_bytes(&[n; 32].into()).expect("a valid test scalar")
        });
        Ok(public_jwk(key.verifying_key()))
    }

    async fn dpop_sign(&self, issuer: &str, signing_input: &[u8]) -> Result<[u8; 64]> {
        use p256::ecdsa::signature::Signer;
        let keys = self.dpop_keys.borrow();
        let key = keys
            .get(issuer)
            .ok_or_else(|| Error::config("no DPoP key for this issuer"))?;
        let signature: p256::ecdsa::Signature = key.sign(signing_input);
        Ok(signature.to_bytes().into())
    }

    async fn delete_dpop_key(&self, issuer: &str) -> Result<()> {
        self.dpop_keys.borrow_mut().remove(issuer);
        Ok(())
    }

    fn dpop_nonce(&self, origin: &str) -> Option<String> {
        self.dpop_nonces.borrow().get(origin).cloned()
    }

    fn set_dpop_nonce(&self, origin: &str, nonce: &str) {
        self.dpop_nonces
            .borrow_mut()
            .insert(origin.to_string(), nonce.to_string());
    }
}

/// base64url without padding, decoded (the inverse of `base64url_nopad`).
pub fn base64url_decode(s: &str) -> Vec<u8> {
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut bits, mut n, mut out) = (0u32, 0, Vec::new());
    for c in s.bytes() {
        let v = URL.iter().position(|&a| a == c).expect("a base64url character") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// A P-256 public key as the JWK WebCrypto exports.
pub fn public_jwk(key: &p256::ecdsa::VerifyingKey) -> PublicJwk {
    let point = key.to_encoded_point(false);
    let b64 = |c: Option<&p256::FieldBytes>| base64url_nopad(c.expect("an uncompressed point"));
    PublicJwk {
        crv: "P-256".into(),
        kty: "EC".into(),
        x: b64(point.x()),
        y: b64(point.y()),
    }
}

pub const SERVER: &str = "https://mcp.example.com/mcp";
pub const PRM_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
pub const ISSUER: &str = "https://as.example.com";
pub const AS_META_URL: &str = "https://as.example.com/.well-known/oauth-authorization-server";
pub const TOKEN_URL: &str = "https://as.example.com/token";
pub const REGISTER_URL: &str = "https://as.example.com/register";
pub const REDIRECT: &str = "https://app.example.com/callback";

pub fn prm_json() -> String {
    format!(
        r#"{{"resource":"{SERVER}","authorization_servers":["{ISSUER}"],"scopes_supported":["mcp:read","mcp:write"]}}"#
    )
}

pub fn as_json() -> String {
    format!(
        r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/authorize","token_endpoint":"{TOKEN_URL}",
        "registration_endpoint":"{REGISTER_URL}","revocation_endpoint":"{ISSUER}/revoke",
        "scopes_supported":["openid","offline_access","mcp:read","mcp:write"],
        "code_challenge_methods_supported":["S256"],
        "authorization_response_iss_parameter_supported":true}}"#
    )
}

pub fn registration_json(scope: &str) -> String {
    format!(r#"{{"client_id":"dyn-client-1","token_endpoint_auth_method":"none","scope":"{scope}"}}"#)
}

pub fn token_json(access: &str, refresh: Option<&str>, scope: Option<&str>) -> String {
    let mut s = format!(r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":3600"#);
    if let Some(r) = refresh {
        s.push_str(&format!(r#","refresh_token":"{r}""#));
    }
    if let Some(sc) = scope {
        s.push_str(&format!(r#","scope":"{sc}""#));
    }
    s.push('}');
    s
}

/// A fake with the standard PRM, AS metadata and a DCR answer queued.
pub fn standard_io() -> FakeIo {
    let io = FakeIo::new();
    io.json(PRM_URL, 200, &prm_json());
    io.json(AS_META_URL, 200, &as_json());
    io.json(
        REGISTER_URL,
        201,
        &registration_json("mcp:read mcp:write offline_access"),
    );
    io
}

pub fn config() -> Config {
    Config {
        server: ServerUrl::parse(SERVER).expect("test server URL"),
        client: ClientConfig {
            redirect_uri: REDIRECT.into(),
            client_name: Some("Test app".into()),
            ..ClientConfig::default()
        },
        app_scope: Vec::new(),
        discovery: DiscoveryOptions::default(),
        token_storage: TokenStorage::Session,
        step_up: StepUpPolicy::default(),
        send_token_to: TokenScope::default(),
        dpop: DpopMode::default(),
    }
}

/// A JSON value, for tests that look inside a document.
pub type Json = serde_json::Value;

/// A record as the store writes it.
pub fn to_json<T: serde::Serialize>(record: &T) -> String {
    crate::codec::to_string(record)
}

/// A record as the store reads it: `None` when it does not parse.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    crate::core::http::read_object(text).ok()
}

/// A query or form body decoded as `URLSearchParams` decodes it.
pub fn form_urldecode(s: &str) -> Vec<(String, String)> {
    crate::core::callback::CallbackParams::from_query(s).0
}

/// A URL the test knows to be valid.
pub fn url(s: &str) -> url::Url {
    url::Url::parse(s).expect(s)
}

/// The two reads tests make inside a JSON object.
pub trait JsonFields {
    fn str_field(&self, key: &str) -> Option<&str>;
    fn string_array_field(&self, key: &str) -> Option<Vec<String>>;
}

impl JsonFields for Json {
    fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    fn string_array_field(&self, key: &str) -> Option<Vec<String>> {
        serde_json::from_value(self.get(key)?.clone()).ok()
    }
}
