//! The flows that tie the steps together: authorize, finish, refresh (with
//! its hand-over between duplicated tabs, P-34), the authenticated fetch with
//! step-up and its re-authorization cap (P-29), sign-out.
//!
//! Each flow is written once, here, against the `Io` seam: the browser runs
//! it over real `fetch` and storage, the host tests over canned responses.
//! The steps it calls are pure (`discovery`, `registration`, `authorize`,
//! `callback`, `token`, `scope`); this file only sequences them and decides
//! what to keep.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::core::authorize::{authorization_request, return_to_url, AuthorizationParams, PendingRecord};
use crate::core::callback::{
    callback_state, keeps_pending_record, read_callback, sole_pending, CallbackParams,
};
use crate::core::challenge::{auth_challenge, BearerChallenge};
use crate::core::discovery::{
    Discovered, DiscoveryOptions, ExpectAuthorizationServer, ExpectProtectedResource, ServerUrl,
};
use crate::core::dpop::{self, DpopMode};
use crate::core::encoding::base64url_nopad;
use crate::core::endpoint;
use crate::core::error::{Error, Result};
use crate::core::http::{read_object, FetchOutcome, HttpRequest};
use crate::core::io::{Area, Credentials, Io, ResourceAnswer, Status, TokenStorage};
use crate::core::pkce::{self, Pkce, RANDOM_BYTES};
use crate::core::registration::{
    choose_client, registration_response, ClientChoice, ClientConfig, ClientInfo,
};
use crate::core::scope;
use crate::core::secret::Secret;
use crate::core::store;
use crate::core::token::{
    code_request, invalidated_by, refresh_request, revocation_request, token_response, ClientAuth,
    Invalidate, TokenContext, TokenSet, TokenType,
};

/// P-14: what to do on `403 insufficient_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepUpPolicy {
    /// `onInsufficientScope: 'throw'`.
    pub throw: bool,
    /// `maxStepUpRetries`; 0 behaves like `throw`.
    pub max_retries: u32,
}

impl Default for StepUpPolicy {
    fn default() -> Self {
        StepUpPolicy {
            throw: false,
            max_retries: 1,
        }
    }
}

/// P-27: which requests get the token (`sendTokenTo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenScope {
    /// `'serverUrl'`: the server URL's origin and path, query ignored.
    #[default]
    ServerUrl,
    /// `'origin'`: every path of the server URL's origin, for the legacy
    /// HTTP+SSE transport, whose message endpoint has another path.
    Origin,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::ServerUrl => "serverUrl",
            TokenScope::Origin => "origin",
        }
    }

    pub fn parse(s: &str) -> Option<TokenScope> {
        [TokenScope::ServerUrl, TokenScope::Origin]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// One `McpAuth`'s configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerUrl,
    pub client: ClientConfig,
    pub app_scope: Vec<String>,
    pub discovery: DiscoveryOptions,
    /// Recorded in the pending flow for the callback page.
    pub token_storage: TokenStorage,
    pub step_up: StepUpPolicy,
    pub send_token_to: TokenScope,
    /// P-35: the `dpop` option.
    pub dpop: DpopMode,
}

impl Config {
    pub fn server_url(&self) -> &str {
        &self.server.as_written
    }
}

/// A synchronous step between two awaits: the flow's result already, or
/// what to send next. The async flows read as their await points; the
/// decisions live in these steps, which tests can reach.
enum Next<D, T> {
    Done(D),
    Then(T),
}

/// P-3..P-8, or the cache: the cached discovery, else the protected-resource
/// probes (with the speculative AS-metadata probes of the server's origin).
/// A challenge pointing at other metadata than the cached one means the
/// server moved: discover again (P-12).
fn plan_discovery(
    io: &impl Io,
    cfg: &Config,
    challenge: Option<&BearerChallenge>,
    fresh: bool,
) -> Result<Next<Discovered, (ExpectProtectedResource, Vec<HttpRequest>)>> {
    let hint = challenge.and_then(|c| c.resource_metadata.as_deref());
    if let Some(cached) = store::load_discovery(io, cfg.server_url())? {
        if !fresh && (hint.is_none() || hint == cached.resource_metadata_url.as_deref()) {
            return Ok(Next::Done(cached));
        }
    }
    let step = ExpectProtectedResource::new(cfg.server.clone(), hint, cfg.discovery)?;
    let reqs = step.requests();
    Ok(Next::Then((step, reqs)))
}

/// The AS-metadata answers already in, or the AS-metadata probes to send.
type AsAnswers = Next<Vec<FetchOutcome>, Vec<HttpRequest>>;

/// The AS-metadata answers already in (the speculative probes, when the
/// issuer is the server's origin), else the AS-metadata probes to send.
fn prm_answered(
    step: ExpectProtectedResource,
    answers: &[FetchOutcome],
) -> Result<(ExpectAuthorizationServer, AsAnswers)> {
    let mut next = step.handle(answers)?;
    let then = match next.take_speculative_answers() {
        Some(answers) => Next::Done(answers),
        None => Next::Then(next.requests()),
    };
    Ok((next, then))
}

/// The discovery round trips: one when the AS is on the server's origin
/// (or there is no PRM, P-3a), else two; cached for every later call.
async fn discover(
    io: &impl Io,
    cfg: &Config,
    step: ExpectProtectedResource,
    reqs: Vec<HttpRequest>,
) -> Result<Discovered> {
    let answers = io.fetch_all(reqs).await;
    let (as_step, then) = prm_answered(step, &answers)?;
    let answers = match then {
        Next::Done(answers) => answers,
        Next::Then(reqs) => io.fetch_all(reqs).await,
    };
    discovered(io, cfg, as_step, &answers)
}

/// `auth.prefetch()`: discovery ahead of the user's click, cached where
/// [`authorize`] reads it, so that the click costs at most the registration
/// round trip (none with a pre-registered or CIMD client). Nothing that
/// needs the user: no registration, no pending flow, no redirect; and no
/// status events, as the user asked for nothing yet. A failure caches
/// nothing: the next authorization discovers again.
pub async fn prefetch(io: &impl Io, cfg: &Config) -> Result<Discovered> {
    match plan_discovery(io, cfg, None, false)? {
        Next::Done(cached) => Ok(cached),
        Next::Then((step, reqs)) => discover(io, cfg, step, reqs).await,
    }
}

fn discovered(
    io: &impl Io,
    cfg: &Config,
    step: ExpectAuthorizationServer,
    answers: &[FetchOutcome],
) -> Result<Discovered> {
    let discovered = step.handle(answers)?;
    store::save_discovery(io, cfg.server_url(), &discovered)?;
    Ok(discovered)
}

/// P-9..P-12: a client id for this issuer, else the registration to send.
fn plan_client(io: &impl Io, cfg: &Config, d: &Discovered, wanted: &[String]) -> Result<ClientChoice> {
    let cached = store::load_client(io, &d.metadata.issuer, &cfg.client.redirect_uri)?;
    let choice = choose_client(&cfg.client, &d.metadata, cached.as_ref(), wanted)?;
    if let ClientChoice::Register(_) = choice {
        io.status(Status::Registering);
    }
    Ok(choice)
}

fn registered(
    io: &impl Io,
    cfg: &Config,
    d: &Discovered,
    wanted: &[String],
    answers: &[FetchOutcome],
) -> Result<ClientInfo> {
    let answer = answers
        .first()
        .ok_or_else(|| Error::invalid("no registration answer"))?;
    let c = registration_response(answer, &d.metadata, &cfg.client.redirect_uri, wanted)?;
    store::save_client(io, &c)?;
    Ok(c)
}

/// Where an authorization ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorization {
    /// Usable tokens already exist.
    Authorized(TokenSet),
    /// Visit this URL; the flow continues on the callback page.
    Redirect(String),
}

/// What to authorize for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizeRequest {
    pub challenge: Option<BearerChallenge>,
    /// An explicit scope (step-up, or the app's `authorize({ scope })`).
    pub scope: Option<Vec<String>>,
    /// The app's `returnTo`; the page itself when `None` (P-31).
    pub return_to: Option<String>,
    /// The page that starts the authorization (`location.href`; empty
    /// where there is none).
    pub page_url: String,
    /// Skip the "tokens already exist" shortcut.
    pub force: bool,
    /// Fetch the metadata again instead of trusting the cache: a token was
    /// just rejected, so the server may have moved to another AS (P-12).
    pub rediscover: bool,
}

/// Discovery → registration → authorization URL and pending record. The
/// steps' awaits sit here, in one state machine, not in nested async fns.
pub async fn authorize(io: &impl Io, cfg: &Config, req: &AuthorizeRequest) -> Result<Authorization> {
    let return_to = return_to_url(&req.page_url, req.return_to.as_deref())?;
    let d = match plan_discovery(io, cfg, req.challenge.as_ref(), req.rediscover)? {
        Next::Done(cached) => cached,
        Next::Then((prm_step, reqs)) => {
            io.status(Status::Discovering);
            discover(io, cfg, prm_step, reqs).await?
        }
    };
    let (wanted, reg_scope) = match plan_authorize(io, cfg, req, &d)? {
        Next::Done(t) => return Ok(Authorization::Authorized(t)),
        Next::Then(scopes) => scopes,
    };
    // P-35: `require` fails here, before a client is registered.
    let use_dpop = dpop::decide(cfg.dpop, &d.metadata)?;
    let client = match plan_client(io, cfg, &d, &reg_scope)? {
        ClientChoice::Ready(c) => c,
        ClientChoice::Register(r) => {
            let answers = io.fetch_all(vec![r]).await;
            registered(io, cfg, &d, &reg_scope, &answers)?
        }
    };
    let (verifier, state) = new_secrets(io)?;
    let digest = io.sha256(verifier.expose()).await?;
    let secrets = Pkce {
        verifier,
        challenge: pkce::challenge(&digest),
        state,
    };
    // P-38: the key is created (or loaded) now, so that the callback page
    // finds the one the authorization code is bound to.
    let dpop_jkt = match use_dpop {
        true => Some(dpop::thumbprint(io, &io.dpop_key(&d.metadata.issuer).await?).await?),
        false => None,
    };
    let redirect = Redirect {
        return_to: &return_to,
        scope: &wanted,
        dpop_jkt: dpop_jkt.as_deref(),
    };
    authorization_redirect(io, cfg, &d, &client, &redirect, secrets)
}

/// Where and for what the authorization sends the user.
struct Redirect<'a> {
    return_to: &'a str,
    scope: &'a [String],
    dpop_jkt: Option<&'a str>,
}

/// A new verifier and `state`; expired pending records go first (P-16).
fn new_secrets(io: &impl Io) -> Result<(Secret, String)> {
    store::sweep_expired_pending(io, io.now_ms())?;
    let mut random = [0u8; RANDOM_BYTES];
    io.random(&mut random)?;
    Ok(pkce::verifier_and_state(&random))
}

/// The scope to request and the scope to register with.
type Scopes = (Vec<String>, Vec<String>);

/// Usable tokens, else the scope to request and the scope to register with.
fn plan_authorize(
    io: &impl Io,
    cfg: &Config,
    req: &AuthorizeRequest,
    d: &Discovered,
) -> Result<Next<TokenSet, Scopes>> {
    if !req.force {
        if let Some(t) = store::load_tokens(io, &d.metadata.issuer, cfg.server_url())? {
            let covers = req
                .scope
                .as_ref()
                .is_none_or(|s| scope::contains_all(&t.scope, s));
            let usable = !t.is_expired(io.now_ms(), 0) || t.refresh_token.is_some();
            if covers && usable {
                return Ok(Next::Done(t));
            }
        }
    }
    let challenged: &[String] = req.challenge.as_ref().map_or(&[], |c| &c.scope);
    let meta = &d.metadata;
    let wanted = match &req.scope {
        Some(s) => s.clone(),
        None => scope::initial_scope(
            challenged,
            &cfg.app_scope,
            &d.prm_scopes_supported,
            &meta.scopes_supported,
        )
        .unwrap_or_default(),
    };
    let reg_scope = scope::union(&[
        &scope::registration_scope(
            challenged,
            &cfg.app_scope,
            &d.prm_scopes_supported,
            &meta.scopes_supported,
        ),
        &wanted,
    ]);
    Ok(Next::Then((wanted, reg_scope)))
}

/// The authorization URL, with its pending record saved.
fn authorization_redirect(
    io: &impl Io,
    cfg: &Config,
    d: &Discovered,
    client: &ClientInfo,
    redirect: &Redirect<'_>,
    secrets: Pkce,
) -> Result<Authorization> {
    let now = io.now_ms();
    let params = AuthorizationParams {
        server_url: cfg.server_url(),
        scope: redirect.scope,
        return_to: redirect.return_to,
        token_storage: cfg.token_storage,
        now_ms: now,
        dpop_jkt: redirect.dpop_jkt,
    };
    let (url, record) = authorization_request(d, client, &params, secrets);
    store::save_pending(io, &record)?;
    io.status(Status::Redirecting);
    Ok(Authorization::Redirect(url))
}

/// P-18's two call forms.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackInput {
    Query(CallbackParams),
    Code { code: String, iss: Option<String> },
}

/// What `finishAuth` resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub server_url: String,
    pub return_to: String,
    pub scope: Vec<String>,
    pub tokens: TokenSet,
}

/// Where the callback writes tokens: the instance's storage, or, for the
/// configuration-free page, the storage the pending record names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTarget {
    Instance,
    FromRecord,
}

/// P-18..P-22 then P-23: the callback, to stored tokens.
pub async fn finish(
    io: &impl Io,
    input: &CallbackInput,
    server_url: Option<&str>,
    target: TokenTarget,
) -> Result<Finished> {
    let (record, req) = plan_finish(io, input, server_url)?;
    let dpop_issuer = record.dpop.then_some(record.issuer.as_str());
    let answers = token_request(io, dpop_issuer, req).await?;
    finished(io, record, target, &answers)
}

/// The pending record the callback belongs to, checked and removed, and the
/// code exchange to send.
fn plan_finish(
    io: &impl Io,
    input: &CallbackInput,
    server_url: Option<&str>,
) -> Result<(PendingRecord, HttpRequest)> {
    let now = io.now_ms();
    let from_code;
    let (record, params) = match input {
        CallbackInput::Query(params) => {
            let state = callback_state(params)?;
            let record = store::load_pending(io, state)?.ok_or(Error::UnknownState)?;
            if server_url.is_some_and(|s| s != record.server_url) {
                return Err(Error::UnknownState);
            }
            (record, params)
        }
        CallbackInput::Code { code, iss } => {
            let all = store::load_all_pending(io)?;
            let record = sole_pending(&all, server_url, now)?.clone();
            from_code = CallbackParams::from_code(code, iss.as_deref());
            (record, &from_code)
        }
    };
    if record.is_expired(now) {
        store::remove_pending(io, &record.state)?;
        return Err(Error::PendingExpired);
    }
    let code = match read_callback(&record, params) {
        Ok(code) => code,
        Err(e) => {
            if !keeps_pending_record(&e) {
                store::remove_pending(io, &record.state)?;
            }
            return Err(e);
        }
    };
    store::remove_pending(io, &record.state)?;
    io.status(Status::Exchanging);
    let auth = ClientAuth {
        client_id: &record.client_id,
        client_secret: record.client_secret.as_ref(),
        method: record.auth_method,
    };
    let req = code_request(
        &record.token_endpoint,
        &auth,
        &code,
        &record.verifier,
        &record.redirect_uri,
        &record.resource,
    )?;
    Ok((record, req))
}

/// The token endpoint's answer to the code exchange, stored where `target` says.
fn finished(
    io: &impl Io,
    record: PendingRecord,
    target: TokenTarget,
    answers: &[FetchOutcome],
) -> Result<Finished> {
    let answer = answers.first().ok_or_else(|| Error::invalid("no token answer"))?;
    let ctx = TokenContext {
        request: "the authorization code exchange",
        endpoint: &record.token_endpoint,
        requested_scope: &record.scope,
        issuer: &record.issuer,
        resource: &record.resource,
        client_id: &record.client_id,
        now_ms: io.now_ms(),
        previous_refresh_token: None,
    };
    let tokens = token_response(answer, &ctx)?;
    let area = match (target, record.token_storage) {
        (TokenTarget::Instance, _) => Some(Area::Tokens),
        (TokenTarget::FromRecord, TokenStorage::Session) => Some(Area::Session),
        (TokenTarget::FromRecord, TokenStorage::Local) => Some(Area::Local),
        (TokenTarget::FromRecord, TokenStorage::Memory | TokenStorage::Custom) => None,
    };
    match area {
        Some(a) => store::save_tokens_in(io, a, &record.server_url, &tokens)?,
        None => store::save_handoff(io, &record.server_url, &tokens)?,
    }
    io.status(Status::Authorized);
    Ok(Finished {
        server_url: record.server_url,
        return_to: record.return_to,
        scope: tokens.scope.clone(),
        tokens,
    })
}

/// A token endpoint request (code exchange, refresh), with a fresh DPoP
/// proof of `dpop_issuer`'s key when DPoP is used (P-38). P-39: the nonce
/// of any answer is kept for the token endpoint's origin, and a `400
/// use_dpop_nonce` is retried once, with a new proof carrying that nonce.
async fn token_request(
    io: &impl Io,
    dpop_issuer: Option<&str>,
    req: HttpRequest,
) -> Result<Vec<FetchOutcome>> {
    let Some(issuer) = dpop_issuer else {
        return Ok(io.fetch_all(vec![req]).await);
    };
    let mut retried = false;
    loop {
        let mut attempt = req.clone();
        let proof = dpop::proof(io, issuer, req.method.as_str(), &req.url, None).await?;
        attempt.headers.push((dpop::HEADER.into(), proof));
        let answers = io.fetch_all(vec![attempt]).await;
        let response = dpop::token_response(answers.first());
        dpop::remember_nonce(io, &req.url, response.and_then(|r| r.header(dpop::NONCE_HEADER)));
        if !retried && response.is_some_and(dpop::as_wants_nonce) {
            retried = true;
            continue;
        }
        return Ok(answers);
    }
}

/// The stored tokens for this server, if discovery has run before.
pub fn current_tokens(io: &impl Io, cfg: &Config) -> Result<Option<TokenSet>> {
    match store::load_discovery(io, cfg.server_url())? {
        Some(d) => store::load_tokens(io, &d.metadata.issuer, cfg.server_url()),
        None => Ok(None),
    }
}

/// What a refresh holds across its one request.
struct RefreshPlan {
    issuer: String,
    tokens: TokenSet,
    client_id: String,
    endpoint: String,
    /// The hash of the refresh token sent (P-34).
    consumed: String,
}

/// How long a tab whose refresh token another tab consumed waits for that
/// tab's published token set before giving the token up (P-34).
pub const ROTATION_WAIT_MS: u32 = 2_000;

/// P-34: a refresh token named without revealing it: base64url SHA-256.
async fn token_hash(io: &impl Io, token: &Secret) -> Result<String> {
    Ok(base64url_nopad(&io.sha256(token.expose()).await?))
}

/// P-25, P-34: the lock is named by the token set, so two tabs holding the
/// same refresh token (a duplicated tab's copied `sessionStorage`) take the
/// same lock, whichever storage they keep it in.
pub fn refresh_lock_name(issuer: &str, server_url: &str, refresh_hash: &str) -> String {
    format!("{}refresh:{issuer} {server_url} {refresh_hash}", store::PREFIX)
}

/// What to do once the refresh lock is held.
// One value per refresh, moved once: boxing the plan buys nothing.
#[allow(clippy::large_enum_variant)]
enum RefreshStep {
    Send(RefreshPlan, HttpRequest),
    /// P-34: another tab consumed this refresh token: wait for its new set.
    AwaitRotation,
}

/// P-25, P-34: one refresh at a time per token set, across tabs. Once the
/// lock is held, storage is read again: if another call already replaced
/// `stale`, its result is used and no request is sent; if another tab
/// consumed the refresh token, its published set is adopted, and the token
/// is never sent again.
pub async fn refresh(io: &impl Io, cfg: &Config, stale: Option<&Secret>) -> Result<TokenSet> {
    let (issuer, refresh_token) = refresh_target(io, cfg)?;
    let hash = token_hash(io, &refresh_token).await?;
    let _lock = io
        .lock(&refresh_lock_name(&issuer, cfg.server_url(), &hash))
        .await?;
    match plan_refresh(io, cfg, stale, &refresh_token, &hash)? {
        Next::Done(current) => Ok(current),
        Next::Then(RefreshStep::Send(plan, req)) => {
            let dpop_issuer = (plan.tokens.token_type == TokenType::DPoP).then_some(plan.issuer.as_str());
            let answers = token_request(io, dpop_issuer, req).await?;
            refreshed(io, cfg, plan, &answers)
        }
        Next::Then(RefreshStep::AwaitRotation) => {
            if let Some(message) = io.wait_for_rotation(&hash, ROTATION_WAIT_MS).await {
                if let Some(adopted) = adopt_rotation(io, cfg, &message).await? {
                    return Ok(adopted);
                }
            }
            consumed_without_successor(io, cfg, &issuer, &refresh_token)
        }
    }
}

/// The issuer and refresh token the lock is named by.
fn refresh_target(io: &impl Io, cfg: &Config) -> Result<(String, Secret)> {
    let d = store::load_discovery(io, cfg.server_url())?.ok_or(Error::NoRefreshToken)?;
    let issuer = d.metadata.issuer;
    let tokens = store::load_tokens(io, &issuer, cfg.server_url())?.ok_or(Error::NoRefreshToken)?;
    let refresh_token = tokens.refresh_token.ok_or(Error::NoRefreshToken)?;
    Ok((issuer, refresh_token))
}

/// Under the lock: the tokens when another call already refreshed them, the
/// wait when another tab consumed the refresh token, else the request.
fn plan_refresh(
    io: &impl Io,
    cfg: &Config,
    stale: Option<&Secret>,
    locked_for: &Secret,
    hash: &str,
) -> Result<Next<TokenSet, RefreshStep>> {
    let d = store::load_discovery(io, cfg.server_url())?.ok_or(Error::NoRefreshToken)?;
    let issuer = &d.metadata.issuer;
    let tokens = store::load_tokens(io, issuer, cfg.server_url())?.ok_or(Error::NoRefreshToken)?;
    let now = io.now_ms();
    if stale.is_some_and(|s| *s != tokens.access_token) && !tokens.is_expired(now, 0) {
        return Ok(Next::Done(tokens));
    }
    let refresh_token = tokens.refresh_token.as_ref().ok_or(Error::NoRefreshToken)?;
    if refresh_token != locked_for {
        // Rotated while this call waited for the lock: a newer set.
        return Ok(Next::Done(tokens));
    }
    if store::is_consumed(io, hash)? {
        return Ok(Next::Then(RefreshStep::AwaitRotation));
    }
    let client = token_client(io, cfg, &d, &tokens)?.ok_or(Error::NoRefreshToken)?;
    io.status(Status::Refreshing);
    let auth = ClientAuth {
        client_id: &client.client_id,
        client_secret: client.client_secret.as_ref(),
        method: client.auth_method,
    };
    let endpoint = d.metadata.token_endpoint.as_str();
    let req = refresh_request(endpoint, &auth, refresh_token, &tokens.resource)?;
    let plan = RefreshPlan {
        issuer: d.metadata.issuer.clone(),
        tokens,
        client_id: client.client_id,
        endpoint: endpoint.to_string(),
        consumed: hash.to_string(),
    };
    Ok(Next::Then(RefreshStep::Send(plan, req)))
}

/// The token endpoint's answer to a refresh: store the new tokens (and, when
/// the refresh token rotated, mark the old one consumed and publish the new
/// set, P-34), or clear what the error proves is dead (P-26).
fn refreshed(io: &impl Io, cfg: &Config, plan: RefreshPlan, answers: &[FetchOutcome]) -> Result<TokenSet> {
    let RefreshPlan {
        issuer,
        tokens,
        client_id,
        endpoint,
        consumed,
    } = plan;
    let issuer = &issuer;
    let answer = answers.first().ok_or_else(|| Error::invalid("no token answer"))?;
    let ctx = TokenContext {
        request: "the token refresh request",
        endpoint: &endpoint,
        requested_scope: &tokens.scope,
        issuer,
        resource: &tokens.resource,
        client_id: &client_id,
        now_ms: io.now_ms(),
        previous_refresh_token: tokens.refresh_token.as_ref(),
    };
    match token_response(answer, &ctx) {
        Ok(mut new) => {
            new.requested = tokens.requested.clone();
            store::save_tokens_in(io, Area::Tokens, cfg.server_url(), &new)?;
            if new.refresh_token != tokens.refresh_token {
                // Before the lock is released: a tab that takes it next
                // finds the old token consumed even if the broadcast is late.
                store::mark_consumed(io, &consumed, io.now_ms())?;
                let rotation = Rotation {
                    server_url: cfg.server_url().to_string(),
                    consumed: consumed.clone(),
                    tokens: new.clone(),
                };
                io.publish_rotation(&consumed, &codec::to_string(&rotation));
            }
            io.status(Status::Authorized);
            Ok(new)
        }
        Err(e) => {
            // P-26: clear only what the error proves is dead, and only if
            // the stored set is still the one whose refresh token was sent.
            let dead = invalidated_by(&e);
            if dead == Invalidate::Nothing {
                return Err(e);
            }
            let sent = tokens.refresh_token.as_ref();
            match store::load_tokens(io, issuer, cfg.server_url())? {
                Some(newer) if newer.refresh_token.as_ref() != sent => return Ok(newer),
                Some(_) => store::remove_tokens(io, issuer, cfg.server_url())?,
                None => {}
            }
            if dead == Invalidate::ClientAndTokens {
                store::remove_client(io, issuer, &cfg.client.redirect_uri, &client_id)?;
            }
            Err(e)
        }
    }
}

/// P-34: what a tab received from the tab that rotated a refresh token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    pub server_url: String,
    /// The hash of the refresh token that was consumed.
    pub consumed: String,
    pub tokens: TokenSet,
}

/// P-34: adopts a token set another tab published, compare-and-swap: only
/// when this server's stored refresh token is still the one consumed. The
/// web side calls this for every rotation message it receives; `refresh`
/// calls it with the message it waited for. `None` when the message is not
/// for this server, does not parse, or this tab holds another set.
pub async fn adopt_rotation(io: &impl Io, cfg: &Config, message: &str) -> Result<Option<TokenSet>> {
    let Ok(rotation) = read_object::<Rotation>(message) else {
        return Ok(None);
    };
    if rotation.server_url != cfg.server_url() || !rotation.tokens.is_valid() {
        return Ok(None);
    }
    let issuer = &rotation.tokens.issuer;
    let Some(stored) = store::load_tokens(io, issuer, cfg.server_url())? else {
        return Ok(None);
    };
    let Some(held) = &stored.refresh_token else {
        return Ok(None);
    };
    if stored.resource != rotation.tokens.resource || token_hash(io, held).await? != rotation.consumed {
        return Ok(None);
    }
    // The hash was awaited: read again, so a set stored meanwhile is kept.
    if store::load_tokens(io, issuer, cfg.server_url())? != Some(stored) {
        return Ok(None);
    }
    store::save_tokens_in(io, Area::Tokens, cfg.server_url(), &rotation.tokens)?;
    Ok(Some(rotation.tokens))
}

/// P-34: the refresh token was consumed by another tab whose new set never
/// arrived: it is unusable, so the set is dropped (compare-and-delete, P-26)
/// and the caller re-authorizes; the token is not sent.
fn consumed_without_successor(
    io: &impl Io,
    cfg: &Config,
    issuer: &str,
    consumed: &Secret,
) -> Result<TokenSet> {
    match store::load_tokens(io, issuer, cfg.server_url())? {
        Some(newer) if newer.refresh_token.as_ref() != Some(consumed) => Ok(newer),
        Some(_) => {
            store::remove_tokens(io, issuer, cfg.server_url())?;
            Err(Error::NoRefreshToken)
        }
        None => Err(Error::NoRefreshToken),
    }
}

/// The client `tokens` were issued to (a refresh token is bound to it, RFC
/// 6749 §6): a step-up that registered a new client and was then abandoned
/// must not make the old refresh token be sent under the new client id.
/// Older records without a client id fall back to the current client.
fn token_client(io: &impl Io, cfg: &Config, d: &Discovered, tokens: &TokenSet) -> Result<Option<ClientInfo>> {
    let issuer = &d.metadata.issuer;
    if !tokens.client_id.is_empty() {
        if let Some(c) = store::load_client_by_id(io, issuer, &tokens.client_id)? {
            return Ok(Some(c));
        }
    }
    let cached = store::load_client(io, issuer, &cfg.client.redirect_uri)?;
    Ok(
        match choose_client(&cfg.client, &d.metadata, cached.as_ref(), &[])? {
            ClientChoice::Ready(c) => Some(c),
            ClientChoice::Register(_) => None,
        },
    )
}

/// P-27: a token goes only to the protected resource: the server URL's
/// origin and path (query ignored), or its whole origin when the app widened
/// the scope for HTTP+SSE. Paths compare as the URL parser writes them (dot
/// segments resolved), which is the path the browser requests.
pub fn may_attach_token(cfg: &Config, request_url: &str) -> bool {
    let Ok(request) = url::Url::parse(request_url) else {
        return false;
    };
    let server = &cfg.server.parsed;
    request.origin() == server.origin()
        && match cfg.send_token_to {
            TokenScope::ServerUrl => endpoint::same_path(request.path(), server.path()),
            TokenScope::Origin => true,
        }
}

/// How an authenticated fetch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchEnd {
    /// The last answer `send` produced is the caller's response.
    Response,
    /// Authorization is needed: visit this URL.
    Redirect(String),
}

fn insufficient_scope(c: &BearerChallenge, d: Option<&Discovered>) -> Error {
    Error::InsufficientScope {
        required_scope: scope::join(&c.scope),
        resource_metadata_url: c
            .resource_metadata
            .clone()
            .or_else(|| d.and_then(|d| d.resource_metadata_url.clone())),
        error_description: c.error_description.clone(),
    }
}

/// P-14: the step-up decision on a `403 insufficient_scope`: the
/// authorization to start, or the error to throw.
fn plan_step_up(
    io: &impl Io,
    cfg: &Config,
    challenge: BearerChallenge,
    tokens: Option<&TokenSet>,
    page_url: &str,
) -> Result<AuthorizeRequest> {
    let d = store::load_discovery(io, cfg.server_url())?;
    if cfg.step_up.throw || cfg.step_up.max_retries == 0 {
        return Err(insufficient_scope(&challenge, d.as_ref()));
    }
    let token_scope: &[String] = tokens.map_or(&[], |t| &t.scope);
    let requested: &[String] = tokens.map_or(&[], |t| &t.requested);
    let union = scope::step_up_scope(requested, token_scope, &challenge.scope);
    // The token already holds every challenged scope (or none was named): a
    // new authorization cannot give the server what it says is missing. The
    // union can still exceed the token when the AS granted less than was
    // requested (an unechoed `offline_access`), which would otherwise send
    // the user through the authorization server for nothing.
    let challenge_held = tokens.is_some() && scope::contains_all(token_scope, &challenge.scope);
    if challenge_held || !scope::needs_new_authorization(&union, token_scope) {
        return Err(insufficient_scope(&challenge, d.as_ref()));
    }
    let key = scope::canonical(&union);
    let attempts = store::step_up_attempts(io, cfg.server_url(), &key)?;
    if attempts >= cfg.step_up.max_retries {
        return Err(insufficient_scope(&challenge, d.as_ref()));
    }
    store::record_step_up_attempt(io, cfg.server_url(), &key, attempts + 1)?;
    Ok(AuthorizeRequest {
        challenge: Some(challenge),
        scope: Some(union),
        return_to: None,
        page_url: page_url.to_string(),
        force: true,
        rediscover: false,
    })
}

/// P-29: the second authorization in a row whose token the server answers
/// 401 again ends in `token_rejected` instead of another redirect.
pub const REJECTED_AUTHORIZATIONS_LIMIT: u32 = 2;

/// P-29: on a 401 that needs an authorization, how many authorizations in a
/// row gave a token the server rejected, this 401 included; an error once
/// that reaches the limit. The count lives in `sessionStorage`, set when the
/// redirect starts (it survives it) and cleared by any answer but 401. A
/// 401 to a request without a token rejects no authorization's token.
fn rejected_authorizations(io: &impl Io, cfg: &Config, token_sent: bool) -> Result<u32> {
    let rejected = match store::reauthorizations(io, cfg.server_url())? {
        Some(count) if token_sent => count + 1,
        Some(count) => count,
        None => 0,
    };
    if rejected >= REJECTED_AUTHORIZATIONS_LIMIT {
        // The count stays: every later 401 fails the same way until an
        // answer that is not a 401, or `signOut`.
        return Err(Error::TokenRejected {
            server_url: cfg.server_url().to_string(),
        });
    }
    Ok(rejected)
}

/// The authenticated fetch (P-14, P-25, P-27, P-29, P-30). `send` performs the real
/// request with the given bearer token (or none) and reports what came back;
/// the caller keeps the real response object.
pub async fn fetch<I, S, F>(
    io: &I,
    cfg: &Config,
    method: &str,
    request_url: &str,
    page_url: &str,
    mut send: S,
) -> Result<FetchEnd>
where
    I: Io,
    S: FnMut(Option<Credentials>) -> F,
    F: Future<Output = Result<ResourceAnswer>>,
{
    if !may_attach_token(cfg, request_url) {
        send(None).await?;
        return Ok(FetchEnd::Response);
    }
    let mut tokens = current_tokens(io, cfg)?;
    // A token refreshed just now is not refreshed again on a 401 (P-25).
    let mut refreshed = false;
    if let Some(t) = &tokens {
        if t.wants_refresh(io.now_ms()) && t.refresh_token.is_some() {
            tokens = match refresh(io, cfg, Some(&t.access_token)).await {
                Ok(new) => {
                    refreshed = true;
                    Some(new)
                }
                // P-33: an expired token cannot be sent instead; the
                // refresh's own failure is the answer (the tokens are kept).
                Err(e) if e.is_transient() && t.is_expired(io.now_ms(), 0) => return Err(e),
                Err(_) => current_tokens(io, cfg)?,
            };
        }
    }
    // Tokens found by `authorize` (a callback page's hand-off, another tab)
    // are tried once instead of redirecting.
    let mut adopted = false;
    // P-39: one retry with the resource server's nonce.
    let mut nonce_retried = false;
    loop {
        let token_sent = tokens.is_some();
        let credentials = match &tokens {
            Some(t) => Some(credentials(io, t, method, request_url).await?),
            None => None,
        };
        let answer = send(credentials).await?;
        if answer.redirected && token_sent {
            return Err(Error::UnexpectedRedirect {
                url: request_url.to_string(),
            });
        }
        let dpop_bound = tokens.as_ref().is_some_and(|t| t.token_type == TokenType::DPoP);
        if dpop_bound {
            dpop::remember_nonce(io, request_url, answer.dpop_nonce.as_deref());
            let nonce_wanted = dpop::resource_wants_nonce(
                answer.status,
                answer.www_authenticate.as_deref(),
                answer.dpop_nonce.as_deref(),
            );
            if nonce_wanted && !nonce_retried {
                nonce_retried = true;
                continue;
            }
        }
        if answer.status != 401 {
            store::clear_reauthorizations(io, cfg.server_url())?;
        }
        let challenge = answer.www_authenticate.as_deref().and_then(auth_challenge);
        // One authorization await for both the 401 (with its P-29 count)
        // and the step-up (403).
        let (req, rejected) = match answer.status {
            401 => {
                let can_refresh = tokens.as_ref().is_some_and(|t| t.refresh_token.is_some());
                if can_refresh && !refreshed {
                    refreshed = true;
                    let stale = tokens.as_ref().map(|t| t.access_token.clone());
                    match refresh(io, cfg, stale.as_ref()).await {
                        Ok(new) => {
                            tokens = Some(new);
                            continue;
                        }
                        // P-33: reported as the refresh it was, not as the
                        // discovery a re-authorization would then fail in.
                        Err(e) if e.is_transient() => return Err(e),
                        Err(_) => {}
                    }
                }
                let rejected = rejected_authorizations(io, cfg, token_sent)?;
                // Without a token, stored ones may exist that `current_tokens`
                // could not see: a hand-off from the callback page into
                // memory storage waits for discovery, which memory lost.
                let req = AuthorizeRequest {
                    challenge,
                    scope: None,
                    return_to: None,
                    page_url: page_url.to_string(),
                    force: tokens.is_some(),
                    rediscover: tokens.is_some(),
                };
                (req, Some(rejected))
            }
            403 if challenge.as_ref().and_then(|c| c.error.as_deref()) == Some("insufficient_scope") => {
                let c = challenge.unwrap_or_default();
                (plan_step_up(io, cfg, c, tokens.as_ref(), page_url)?, None)
            }
            s => {
                if s < 400 && tokens.is_some() {
                    store::clear_step_up(io, cfg.server_url())?;
                }
                return Ok(FetchEnd::Response);
            }
        };
        match authorize(io, cfg, &req).await? {
            Authorization::Redirect(url) => {
                if let Some(rejected) = rejected {
                    store::record_reauthorizations(io, cfg.server_url(), rejected)?;
                }
                return Ok(FetchEnd::Redirect(url));
            }
            Authorization::Authorized(t) if rejected.is_some() && !adopted => {
                adopted = true;
                tokens = Some(t);
            }
            Authorization::Authorized(_) => return Ok(FetchEnd::Response),
        }
    }
}

/// P-38: what a resource request carries: the token in its scheme and,
/// for a DPoP-bound token, a fresh proof with `ath` (P-37).
async fn credentials(io: &impl Io, t: &TokenSet, method: &str, request_url: &str) -> Result<Credentials> {
    let proof = match t.token_type {
        TokenType::DPoP => {
            Some(dpop::proof(io, &t.issuer, method, request_url, Some(&t.access_token)).await?)
        }
        TokenType::Bearer => None,
    };
    Ok(Credentials {
        access_token: t.access_token.clone(),
        token_type: t.token_type,
        proof,
    })
}

/// Clears this server's tokens and, where the AS offers RFC 7009
/// revocation, revokes them first (failures there do not keep the tokens).
pub async fn sign_out(io: &impl Io, cfg: &Config) -> Result<()> {
    store::clear_reauthorizations(io, cfg.server_url())?;
    let Some(d) = store::load_discovery(io, cfg.server_url())? else {
        return Ok(());
    };
    let issuer = &d.metadata.issuer;
    let Some(tokens) = store::load_tokens(io, issuer, cfg.server_url())? else {
        // P-36: the key goes with the sign-out, tokens or not.
        return io.delete_dpop_key(issuer).await;
    };
    store::remove_tokens(io, issuer, cfg.server_url())?;
    store::clear_step_up(io, cfg.server_url())?;
    if let Some(endpoint) = &d.metadata.revocation_endpoint {
        if let Ok(Some(c)) = token_client(io, cfg, &d, &tokens) {
            let auth = ClientAuth {
                client_id: &c.client_id,
                client_secret: c.client_secret.as_ref(),
                method: c.auth_method,
            };
            // P-34: a refresh token another tab consumed is not sent again,
            // not even to be revoked (reuse detection would end that tab's
            // set); one that cannot be checked is not sent either.
            let mut refresh = tokens.refresh_token.as_ref().map(|rt| (rt, "refresh_token"));
            if let Some((rt, _)) = refresh {
                let consumed = match token_hash(io, rt).await {
                    Ok(hash) => store::is_consumed(io, &hash)?,
                    Err(_) => true,
                };
                if consumed {
                    refresh = None;
                }
            }
            let access = Some((&tokens.access_token, "access_token"));
            let reqs = refresh
                .into_iter()
                .chain(access)
                .filter_map(|(token, hint)| revocation_request(endpoint.as_str(), &auth, token, hint).ok())
                .collect();
            io.fetch_all(reqs).await;
        }
    }
    // P-36: after revocation (which carries no proof): the key is forgotten.
    io.delete_dpop_key(issuer).await
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "flow_tests.rs"]
mod tests;
