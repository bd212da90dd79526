//! Whole flows over the fake `Io`: from the first 401 to stored tokens, the
//! callback's bookkeeping, refresh, step-up, and where tokens may go.

use super::*;
use crate::core::authorize::PENDING_TTL_MS;
use crate::core::http::{FetchOutcome, HttpRequest, Method};
use crate::core::io::TokenStorage;
use crate::core::testing::form_urldecode;
use crate::core::testing::*;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{ready, Ready};

const REVOKE_URL: &str = "https://as.example.com/revoke";
const ROOT_PRM_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";
const OIDC_URL: &str = "https://as.example.com/.well-known/openid-configuration";
const ORIGIN_AS_URL: &str = "https://mcp.example.com/.well-known/oauth-authorization-server";
const ORIGIN_OIDC_URL: &str = "https://mcp.example.com/.well-known/openid-configuration";
const PRM2_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp-moved";
const ISSUER2: &str = "https://as2.example.com";
const AS2_META_URL: &str = "https://as2.example.com/.well-known/oauth-authorization-server";
const REGISTER2_URL: &str = "https://as2.example.com/register";
const TOKEN2_URL: &str = "https://as2.example.com/token";

// ---------------------------------------------------------------- helpers

/// The MCP server, from the fetch wrapper's side: queued answers (the last
/// repeats) and the bearer token each call received.
struct Resource {
    answers: RefCell<VecDeque<ResourceAnswer>>,
    seen: RefCell<Vec<Option<String>>>,
    /// Everything each call carried (P-38).
    sent: RefCell<Vec<Option<Credentials>>>,
}

impl Resource {
    fn new(answers: Vec<ResourceAnswer>) -> Resource {
        Resource {
            answers: RefCell::new(answers.into()),
            seen: RefCell::new(Vec::new()),
            sent: RefCell::new(Vec::new()),
        }
    }

    fn send(&self) -> impl FnMut(Option<Credentials>) -> Ready<Result<ResourceAnswer>> + '_ {
        move |credentials| {
            self.seen
                .borrow_mut()
                .push(credentials.as_ref().map(|c| c.access_token.expose().to_string()));
            self.sent.borrow_mut().push(credentials);
            let mut q = self.answers.borrow_mut();
            let a = if q.len() > 1 {
                q.pop_front()
            } else {
                q.front().cloned()
            };
            ready(Ok(a.expect("the test queued an answer")))
        }
    }

    fn seen(&self) -> Vec<Option<String>> {
        self.seen.borrow().clone()
    }
}

fn answer(status: u16, www_authenticate: Option<&str>) -> ResourceAnswer {
    ResourceAnswer {
        status,
        www_authenticate: www_authenticate.map(String::from),
        redirected: false,
        dpop_nonce: None,
    }
}

fn ok() -> ResourceAnswer {
    answer(200, None)
}

fn unauthorized(scope: &str) -> ResourceAnswer {
    answer(
        401,
        Some(&format!(
            r#"Bearer resource_metadata="{PRM_URL}", scope="{scope}""#
        )),
    )
}

fn insufficient(scope: &str) -> ResourceAnswer {
    answer(
        403,
        Some(&format!(
            r#"Bearer error="insufficient_scope", scope="{scope}", resource_metadata="{PRM_URL}", error_description="need write""#
        )),
    )
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

fn v(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn query(url: &str) -> Vec<(String, String)> {
    form_urldecode(url.split_once('?').map_or("", |(_, q)| q))
}

fn param(url: &str, name: &str) -> Option<String> {
    query(url).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn form(req: &HttpRequest) -> Vec<(String, String)> {
    form_urldecode(req.body.as_deref().unwrap_or(""))
}

fn form_param(req: &HttpRequest, name: &str) -> Option<String> {
    form(req).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn callback(pairs: &[(&str, &str)]) -> CallbackInput {
    CallbackInput::Query(CallbackParams(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    ))
}

/// The callback the AS sends back for the authorization URL `url`.
fn real_callback(url: &str, code: &str) -> CallbackInput {
    let state = param(url, "state").expect("state in the authorization URL");
    callback(&[("code", code), ("state", &state), ("iss", ISSUER)])
}

fn redirect_url(a: Authorization) -> String {
    match a {
        Authorization::Redirect(url) => url,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

fn fetch_redirect(end: FetchEnd) -> String {
    match end {
        FetchEnd::Redirect(url) => url,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

fn start(io: &FakeIo, cfg: &Config) -> String {
    redirect_url(block_on(authorize(io, cfg, &AuthorizeRequest::default())).expect("authorize"))
}

/// A whole sign-in: authorization, then the callback with `token` answered.
fn sign_in(io: &FakeIo, cfg: &Config, token: &str) -> Finished {
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, token);
    let url = start(io, cfg);
    block_on(finish(
        io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish")
}

fn signed_in(token: &str) -> (FakeIo, Config) {
    let io = standard_io();
    let cfg = config();
    sign_in(&io, &cfg, token);
    (io, cfg)
}

fn pending_keys(io: &FakeIo) -> Vec<String> {
    io.keys_with(Area::Session, store::PENDING_PREFIX)
}

fn stored_tokens(io: &FakeIo) -> Option<TokenSet> {
    current_tokens(io, &config()).expect("storage works")
}

fn access(io: &FakeIo) -> Option<String> {
    stored_tokens(io).map(|t| t.access_token.expose().to_string())
}

/// A page reload: storage survives, queued answers and records do not.
fn reload(io: &FakeIo) -> FakeIo {
    let fresh = FakeIo::new();
    fresh.now.set(io.now.get());
    fresh.random_byte.set(io.random_byte.get());
    fresh.storage.replace(io.storage.borrow().clone());
    fresh.same_origin_as(io)
}

fn token_requests(io: &FakeIo) -> Vec<HttpRequest> {
    io.requests_to(TOKEN_URL)
}

fn as_json_without_offline_access() -> String {
    as_json().replace(r#""offline_access","#, "")
}

// ---------------------------------------------------------------- whole flow

#[test]
fn whole_flow_from_first_401_to_authenticated_response() {
    let io = standard_io();
    let cfg = config();
    let first = Resource::new(vec![unauthorized("mcp:read")]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/app", first.send())).expect("fetch");
    let url = fetch_redirect(end);
    assert_eq!(first.seen(), vec![None]);
    assert!(url.starts_with("https://as.example.com/authorize?"), "{url}");
    assert_eq!(param(&url, "client_id"), some("dyn-client-1"));
    assert_eq!(param(&url, "resource"), some(SERVER));
    assert_eq!(param(&url, "scope"), some("mcp:read offline_access"));
    assert_eq!(param(&url, "code_challenge_method"), some("S256"));

    let reg = &io.requests_to(REGISTER_URL)[0];
    assert!(
        reg.body
            .as_deref()
            .unwrap_or("")
            .contains(r#""scope":"mcp:read mcp:write offline_access""#),
        "P-11: the challenge scope united with the PRM scopes"
    );

    io.json(
        TOKEN_URL,
        200,
        &token_json("at-1", Some("rt-1"), Some("mcp:read")),
    );
    let done = block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    assert_eq!(done.return_to, "/app");
    assert_eq!(done.server_url, SERVER);
    let exchange = &token_requests(&io)[0];
    assert_eq!(form_param(exchange, "grant_type"), some("authorization_code"));
    assert_eq!(form_param(exchange, "code"), some("code-1"));
    assert_eq!(form_param(exchange, "resource"), some(SERVER));
    assert_eq!(access(&io), some("at-1"));

    let second = Resource::new(vec![ok()]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/app", second.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(second.seen(), vec![some("at-1")]);
    assert_eq!(
        *io.statuses.borrow(),
        vec![
            Status::Discovering,
            Status::Registering,
            Status::Redirecting,
            Status::Exchanging,
            Status::Authorized
        ]
    );
}

// ---------------------------------------------------------------- discovery cost

#[test]
fn p3_cold_discovery_with_root_prm_fallback_takes_two_round_trips() {
    let io = FakeIo::new();
    io.json(PRM_URL, 404, "not found");
    io.json(
        ROOT_PRM_URL,
        200,
        &format!(r#"{{"resource":"https://mcp.example.com","authorization_servers":["{ISSUER}"]}}"#),
    );
    io.on(AS_META_URL, FetchOutcome::NetworkError);
    io.json(OIDC_URL, 200, &as_json());
    let mut cfg = config();
    cfg.client.client_id = Some("pre-registered".into());
    block_on(authorize(&io, &cfg, &AuthorizeRequest::default())).expect("authorize");
    assert_eq!(io.round_trips.get(), 2);
    // The first round trip also carries the speculative probes of the
    // server's origin (P-5 for `https://mcp.example.com`), dropped here.
    assert_eq!(
        io.urls(),
        vec![
            PRM_URL,
            ROOT_PRM_URL,
            ORIGIN_AS_URL,
            ORIGIN_OIDC_URL,
            AS_META_URL,
            OIDC_URL
        ]
    );
    let d = store::load_discovery(&io, SERVER).expect("load").expect("saved");
    assert_eq!(d.resource, "https://mcp.example.com");
    assert_eq!(d.metadata.issuer, ISSUER);
}

#[test]
fn p3_warm_start_makes_no_discovery_or_registration_requests() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let page = reload(&io);
    let res = Resource::new(vec![ok()]);
    let end = block_on(fetch(&page, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen(), vec![some("at-1")]);
    let again = block_on(authorize(&page, &cfg, &AuthorizeRequest::default())).expect("authorize");
    assert!(matches!(again, Authorization::Authorized(_)));
    assert_eq!(page.round_trips.get(), 0);
    assert!(page.requests.borrow().is_empty());
}

// ---------------------------------------------------------------- P-12

#[test]
fn p12_new_authorization_server_means_new_registration_and_old_tokens_unsent() {
    let (io, cfg) = signed_in(&token_json("at-old", None, None));
    io.json(
        PRM2_URL,
        200,
        &format!(r#"{{"resource":"{SERVER}","authorization_servers":["{ISSUER2}"]}}"#),
    );
    io.json(AS2_META_URL, 200, &as_json().replace(ISSUER, ISSUER2));
    io.json(
        REGISTER2_URL,
        201,
        r#"{"client_id":"as2-client","token_endpoint_auth_method":"none"}"#,
    );
    let moved = Resource::new(vec![answer(
        401,
        Some(&format!(r#"Bearer resource_metadata="{PRM2_URL}""#)),
    )]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", moved.send())).expect("fetch"));
    assert!(url.starts_with("https://as2.example.com/authorize?"), "{url}");
    assert_eq!(param(&url, "client_id"), some("as2-client"));
    assert_eq!(io.requests_to(REGISTER2_URL).len(), 1);

    let next = Resource::new(vec![ok()]);
    block_on(fetch(&io, &cfg, "POST", SERVER, "/", next.send())).expect("fetch");
    assert_eq!(next.seen(), vec![None]);
}

#[test]
fn p12_rejected_token_refetches_unchanged_prm_url_and_follows_new_authorization_server() {
    // The conformance "authorization-server-migration" case: same PRM URL,
    // new content, and a 401 for the old AS's token.
    let (io, cfg) = signed_in(&token_json("at-old", None, None));
    io.clear_route(PRM_URL);
    io.json(
        PRM_URL,
        200,
        &format!(r#"{{"resource":"{SERVER}","authorization_servers":["{ISSUER2}"]}}"#),
    );
    io.json(AS2_META_URL, 200, &as_json().replace(ISSUER, ISSUER2));
    io.json(
        REGISTER2_URL,
        201,
        r#"{"client_id":"as2-client","token_endpoint_auth_method":"none"}"#,
    );
    let rejected = Resource::new(vec![unauthorized("mcp:read")]);
    let url =
        fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", rejected.send())).expect("fetch"));
    assert!(url.starts_with("https://as2.example.com/authorize?"), "{url}");
    assert_eq!(param(&url, "client_id"), some("as2-client"));
    assert_eq!(io.requests_to(REGISTER2_URL).len(), 1);
}

#[test]
fn p3_missing_token_uses_cached_discovery_without_refetching() {
    let (io, cfg) = signed_in(&token_json("at-1", None, None));
    block_on(sign_out(&io, &cfg)).expect("sign out");
    let before = io.requests_to(PRM_URL).len();
    let first = Resource::new(vec![unauthorized("mcp:read")]);
    fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", first.send())).expect("fetch"));
    assert_eq!(io.requests_to(PRM_URL).len(), before);
}

// ---------------------------------------------------------------- P-19 .. P-22

#[test]
fn p19_forged_callback_leaves_real_pending_flow_intact() {
    let io = standard_io();
    let cfg = config();
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = start(&io, &cfg);
    let state = param(&url, "state").expect("state");
    let forged = callback(&[
        ("code", "evil"),
        ("state", &state),
        ("iss", "https://evil.example"),
    ]);
    let err = block_on(finish(&io, &forged, None, TokenTarget::Instance)).expect_err("forged");
    assert!(matches!(err, Error::IssuerMismatch { .. }), "{err:?}");
    assert_eq!(pending_keys(&io).len(), 1);
    assert!(token_requests(&io).is_empty());

    block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("real");
    assert_eq!(access(&io), some("at-1"));
}

#[test]
fn p19_successful_callback_consumes_record_so_replay_is_unknown_state() {
    let io = standard_io();
    let cfg = config();
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = start(&io, &cfg);
    let cb = real_callback(&url, "code-1");
    block_on(finish(&io, &cb, None, TokenTarget::Instance)).expect("first");
    assert!(pending_keys(&io).is_empty());
    let replay = block_on(finish(&io, &cb, None, TokenTarget::Instance));
    assert_eq!(replay, Err(Error::UnknownState));
    assert_eq!(token_requests(&io).len(), 1);
}

#[test]
fn p22_error_callback_with_valid_iss_consumes_record_and_gives_oauth_error() {
    let io = standard_io();
    let url = start(&io, &config());
    let state = param(&url, "state").expect("state");
    let cb = callback(&[
        ("error", "access_denied"),
        ("error_description", "user said no"),
        ("state", &state),
        ("iss", ISSUER),
    ]);
    let err = block_on(finish(&io, &cb, None, TokenTarget::Instance)).expect_err("error callback");
    match err {
        Error::OAuth {
            code, description, ..
        } => {
            assert_eq!(code, "access_denied");
            assert_eq!(description, some("user said no"));
        }
        other => panic!("expected OAuth, got {other:?}"),
    }
    assert!(pending_keys(&io).is_empty());
    assert!(token_requests(&io).is_empty());
}

#[test]
fn p19_unknown_state_leaves_storage_untouched() {
    let io = standard_io();
    start(&io, &config());
    let before = io.storage.borrow().clone();
    let cb = callback(&[("code", "c"), ("state", "no-such-state"), ("iss", ISSUER)]);
    let res = block_on(finish(&io, &cb, None, TokenTarget::Instance));
    assert_eq!(res, Err(Error::UnknownState));
    assert_eq!(*io.storage.borrow(), before);
    assert!(token_requests(&io).is_empty());
}

#[test]
fn p16_expired_pending_record_gives_pending_expired_and_is_removed() {
    let io = standard_io();
    let url = start(&io, &config());
    io.now.set(io.now.get() + PENDING_TTL_MS + 1);
    let res = block_on(finish(
        &io,
        &real_callback(&url, "c"),
        None,
        TokenTarget::Instance,
    ));
    assert_eq!(res, Err(Error::PendingExpired));
    assert!(pending_keys(&io).is_empty());
    assert!(token_requests(&io).is_empty());
}

#[test]
fn p16_starting_a_flow_sweeps_expired_pending_records() {
    let io = standard_io();
    let cfg = config();
    let old = start(&io, &cfg);
    io.now.set(io.now.get() + PENDING_TTL_MS + 1);
    let fresh = start(&io, &cfg);
    let keys = pending_keys(&io);
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0],
        store::pending_key(&param(&fresh, "state").expect("state"))
    );
    assert_ne!(param(&old, "state"), param(&fresh, "state"));
}

#[test]
fn p18_code_form_finishes_the_single_pending_flow() {
    let io = standard_io();
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    start(&io, &config());
    let input = CallbackInput::Code {
        code: "code-9".into(),
        iss: some(ISSUER),
    };
    let done = block_on(finish(&io, &input, None, TokenTarget::Instance)).expect("finish");
    assert_eq!(done.tokens.access_token.expose(), "at-1");
    assert_eq!(form_param(&token_requests(&io)[0], "code"), some("code-9"));
    assert!(pending_keys(&io).is_empty());
}

#[test]
fn p16_two_servers_pending_at_once_finish_independently() {
    const OTHER: &str = "https://tools.example.net/mcp";
    const OTHER_PRM: &str = "https://tools.example.net/.well-known/oauth-protected-resource/mcp";
    let io = standard_io();
    io.json(
        OTHER_PRM,
        200,
        &format!(r#"{{"resource":"{OTHER}","authorization_servers":["{ISSUER2}"]}}"#),
    );
    io.json(AS2_META_URL, 200, &as_json().replace(ISSUER, ISSUER2));
    io.json(REGISTER2_URL, 201, r#"{"client_id":"as2-client"}"#);
    io.json(TOKEN_URL, 200, &token_json("at-one", None, None));
    io.json(TOKEN2_URL, 200, &token_json("at-two", None, None));
    let cfg_one = config();
    let mut cfg_two = config();
    cfg_two.server = ServerUrl::parse(OTHER).expect("url");

    let url_one = start(&io, &cfg_one);
    let url_two = start(&io, &cfg_two);
    assert_eq!(pending_keys(&io).len(), 2);

    let state_two = param(&url_two, "state").expect("state");
    let cb_two = callback(&[("code", "c2"), ("state", &state_two), ("iss", ISSUER2)]);
    let two = block_on(finish(&io, &cb_two, None, TokenTarget::Instance)).expect("second");
    assert_eq!(two.server_url, OTHER);
    assert_eq!(pending_keys(&io).len(), 1);

    let one = block_on(finish(
        &io,
        &real_callback(&url_one, "c1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("first");
    assert_eq!(one.server_url, SERVER);
    assert_eq!(access(&io), some("at-one"));
    let t2 = current_tokens(&io, &cfg_two).expect("storage").expect("tokens");
    assert_eq!(t2.access_token.expose(), "at-two");
    assert_eq!(t2.issuer, ISSUER2);
}

// ---------------------------------------------------------------- token targets

#[test]
fn callback_from_record_with_local_storage_writes_local_area() {
    let io = standard_io();
    let mut cfg = config();
    cfg.token_storage = TokenStorage::Local;
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = start(&io, &cfg);
    block_on(finish(
        &io,
        &real_callback(&url, "c"),
        None,
        TokenTarget::FromRecord,
    ))
    .expect("finish");
    let key = store::tokens_key(ISSUER, SERVER);
    assert!(io.get(Area::Local, &key).is_some());
    assert!(io.get(Area::Tokens, &key).is_none());
}

#[test]
fn callback_from_record_with_memory_storage_hands_off_through_session() {
    let io = standard_io();
    let mut cfg = config();
    cfg.token_storage = TokenStorage::Memory;
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = start(&io, &cfg);
    block_on(finish(
        &io,
        &real_callback(&url, "c"),
        None,
        TokenTarget::FromRecord,
    ))
    .expect("finish");
    assert!(io.get(Area::Session, &store::handoff_key(SERVER)).is_some());
    assert!(io.get(Area::Tokens, &store::tokens_key(ISSUER, SERVER)).is_none());

    let t = store::load_tokens(&io, ISSUER, SERVER)
        .expect("storage")
        .expect("handed off");
    assert_eq!(t.access_token.expose(), "at-1");
    assert!(io.get(Area::Session, &store::handoff_key(SERVER)).is_none());
    assert!(io.get(Area::Tokens, &store::tokens_key(ISSUER, SERVER)).is_some());
}

#[test]
fn memory_hand_off_is_used_by_fetch_after_reload_instead_of_a_new_redirect() {
    let io = standard_io();
    let mut cfg = config();
    cfg.token_storage = TokenStorage::Memory;
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = start(&io, &cfg);
    block_on(finish(
        &io,
        &real_callback(&url, "c"),
        None,
        TokenTarget::FromRecord,
    ))
    .expect("finish");
    // Memory storage does not survive the reload; sessionStorage does.
    io.storage
        .borrow_mut()
        .retain(|(area, _), _| *area != Area::Tokens);
    let page = reload(&io);
    page.json(PRM_URL, 200, &prm_json());
    page.json(AS_META_URL, 200, &as_json());
    let res = Resource::new(vec![unauthorized("mcp:read"), ok()]);
    let end = block_on(fetch(&page, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen(), vec![None, some("at-1")]);
    assert!(pending_keys(&page).is_empty());
}

// ---------------------------------------------------------------- P-25, P-26 refresh

#[test]
fn p25_expired_token_is_refreshed_once_and_old_refresh_token_kept() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), Some("mcp:read")));
    io.now.set(io.now.get() + 3_600_000);
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", None, None));
    let res = Resource::new(vec![ok()]);
    block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(res.seen(), vec![some("at-2")]);
    let reqs = token_requests(&io);
    assert_eq!(reqs.len(), 2, "one exchange, one refresh");
    let r = &reqs[1];
    assert_eq!(form_param(r, "grant_type"), some("refresh_token"));
    assert_eq!(form_param(r, "refresh_token"), some("rt-1"));
    assert_eq!(form_param(r, "resource"), some(SERVER));
    assert_eq!(form_param(r, "client_id"), some("dyn-client-1"));
    assert_eq!(form_param(r, "scope"), None);
    let t = stored_tokens(&io).expect("tokens");
    assert_eq!(t.access_token.expose(), "at-2");
    assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("rt-1"));
    assert_eq!(t.scope, v("mcp:read"));
}

#[test]
fn p25_rotated_refresh_token_is_stored() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", Some("rt-2"), None));
    block_on(refresh(&io, &cfg, None)).expect("refresh");
    let t = stored_tokens(&io).expect("tokens");
    assert_eq!(t.refresh_token.as_ref().map(Secret::expose), Some("rt-2"));
    assert_eq!(io.locks_taken.get(), 1);
}

#[test]
fn p25_refresh_after_another_tab_refreshed_sends_no_request() {
    let (io, cfg) = signed_in(&token_json("at-2", Some("rt-2"), None));
    let requests_before = io.requests.borrow().len();
    let got = block_on(refresh(&io, &cfg, Some(&Secret::new("at-1")))).expect("refresh");
    assert_eq!(got.access_token.expose(), "at-2");
    assert_eq!(io.requests.borrow().len(), requests_before);
    assert_eq!(io.locks_taken.get(), 1);
}

#[test]
fn p26_invalid_grant_clears_tokens_but_keeps_client_and_discovery() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 400, r#"{"error":"invalid_grant"}"#);
    let err = block_on(refresh(&io, &cfg, None)).expect_err("rejected");
    assert!(
        matches!(&err, Error::OAuth { code, .. } if code == "invalid_grant"),
        "{err:?}"
    );
    assert!(stored_tokens(&io).is_none());
    assert!(store::load_client(&io, ISSUER, REDIRECT)
        .expect("storage")
        .is_some());
    assert!(store::load_discovery(&io, SERVER).expect("storage").is_some());
}

#[test]
fn p26_invalid_client_clears_client_and_tokens_but_keeps_discovery() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 401, r#"{"error":"invalid_client"}"#);
    let err = block_on(refresh(&io, &cfg, None)).expect_err("rejected");
    assert!(
        matches!(&err, Error::OAuth { code, .. } if code == "invalid_client"),
        "{err:?}"
    );
    assert!(stored_tokens(&io).is_none());
    assert!(store::load_client(&io, ISSUER, REDIRECT)
        .expect("storage")
        .is_none());
    assert!(store::load_discovery(&io, SERVER).expect("storage").is_some());
}

#[test]
fn p26_transient_refresh_failure_keeps_everything() {
    for outcome in [
        FetchOutcome::NetworkError,
        FetchOutcome::Response(crate::core::http::HttpResponse::new(503, "busy")),
    ] {
        let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
        io.clear_route(TOKEN_URL);
        io.on(TOKEN_URL, outcome.clone());
        let before = io.storage.borrow().clone();
        block_on(refresh(&io, &cfg, None)).expect_err("transient");
        assert_eq!(*io.storage.borrow(), before, "{outcome:?}");
    }
}

#[test]
fn p25_401_with_refresh_token_refreshes_and_retries_once() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", None, None));
    let res = Resource::new(vec![answer(401, Some(r#"Bearer error="invalid_token""#)), ok()]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen(), vec![some("at-1"), some("at-2")]);
    assert_eq!(token_requests(&io).len(), 2, "one exchange, one refresh");
    assert!(pending_keys(&io).is_empty());
}

#[test]
fn p25_token_refreshed_before_sending_is_not_refreshed_again_on_401() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.now.set(io.now.get() + 3_600_000);
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", None, None));
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert!(matches!(end, FetchEnd::Redirect(_)));
    assert_eq!(res.seen(), vec![some("at-2")]);
    assert_eq!(token_requests(&io).len(), 2, "one exchange, one refresh");
}

// ---------------------------------------------------------------- P-14 step-up

/// Signed in with `mcp:read` through a DCR client registered for `mcp:read` only.
fn narrow_client_signed_in() -> (FakeIo, Config) {
    let io = standard_io();
    let cfg = config();
    io.clear_route(REGISTER_URL);
    io.json(REGISTER_URL, 201, &registration_json("mcp:read"));
    io.json(
        REGISTER_URL,
        201,
        r#"{"client_id":"dyn-client-2","token_endpoint_auth_method":"none","scope":"mcp:read mcp:write offline_access"}"#,
    );
    io.json(
        TOKEN_URL,
        200,
        &token_json("at-1", Some("rt-1"), Some("mcp:read")),
    );
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch"));
    block_on(finish(
        &io,
        &real_callback(&url, "c1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    (io, cfg)
}

#[test]
fn p14_step_up_reauthorizes_with_union_and_reregisters_narrow_client() {
    let (io, cfg) = narrow_client_signed_in();
    let res = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(res.seen(), vec![some("at-1")]);
    assert_eq!(param(&url, "scope"), some("mcp:read offline_access mcp:write"));
    let regs = io.requests_to(REGISTER_URL);
    assert_eq!(regs.len(), 2);
    assert!(regs[1].body.as_deref().unwrap_or("").contains("mcp:write"));
    assert_eq!(param(&url, "client_id"), some("dyn-client-2"));
}

#[test]
fn p25_abandoned_step_up_registration_still_refreshes_with_the_client_the_tokens_belong_to() {
    let (io, cfg) = narrow_client_signed_in();
    let res = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(param(&url, "client_id"), some("dyn-client-2"));
    // The user never comes back from the step-up; later the old token is due.
    io.clear_route(TOKEN_URL);
    io.json(
        TOKEN_URL,
        200,
        &token_json("at-1b", Some("rt-1b"), Some("mcp:read")),
    );
    let stale = Secret::new("at-1");
    block_on(refresh(&io, &cfg, Some(&stale))).expect("refresh");
    let refreshes = token_requests(&io);
    let last = refreshes.last().expect("a refresh request");
    assert_eq!(form_param(last, "grant_type"), some("refresh_token"));
    assert_eq!(form_param(last, "refresh_token"), some("rt-1"));
    assert_eq!(
        form_param(last, "client_id"),
        some("dyn-client-1"),
        "bound to the issuing client"
    );
    assert_eq!(access(&io), some("at-1b"));
}

#[test]
fn p14_step_up_count_survives_the_redirect_and_caps_a_second_403() {
    let (io, cfg) = narrow_client_signed_in();
    let res = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch"));
    // The AS grants only part of the union again.
    let callback_page = reload(&io);
    callback_page.json(
        TOKEN_URL,
        200,
        &token_json("at-2", Some("rt-2"), Some("mcp:read")),
    );
    block_on(finish(
        &callback_page,
        &real_callback(&url, "c2"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");

    let app = reload(&callback_page);
    let again = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    let err = block_on(fetch(&app, &cfg, "POST", SERVER, "/", again.send())).expect_err("capped");
    assert_eq!(
        err,
        Error::InsufficientScope {
            required_scope: "mcp:read mcp:write".into(),
            resource_metadata_url: some(PRM_URL),
            error_description: some("need write"),
        }
    );
    assert!(pending_keys(&app).is_empty());
    assert_eq!(app.round_trips.get(), 0);
}

fn assert_throws_without_redirect(step_up: StepUpPolicy) {
    let (io, mut cfg) = signed_in(&token_json("at-1", Some("rt-1"), Some("mcp:read")));
    cfg.step_up = step_up;
    let trips = io.round_trips.get();
    let res = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    let err = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect_err("throws");
    assert_eq!(
        err,
        Error::InsufficientScope {
            required_scope: "mcp:read mcp:write".into(),
            resource_metadata_url: some(PRM_URL),
            error_description: some("need write"),
        }
    );
    assert!(pending_keys(&io).is_empty());
    assert_eq!(io.round_trips.get(), trips);
}

#[test]
fn p14_throw_mode_gives_insufficient_scope_without_redirect() {
    assert_throws_without_redirect(StepUpPolicy {
        throw: true,
        max_retries: 1,
    });
}

#[test]
fn p14_cap_zero_gives_insufficient_scope_without_redirect() {
    assert_throws_without_redirect(StepUpPolicy {
        throw: false,
        max_retries: 0,
    });
}

#[test]
fn p14_403_for_scope_the_token_already_has_does_not_reauthorize() {
    // The AS granted less than was requested (no offline_access echoed):
    // asking again cannot give the server what it says it lacks.
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), Some("mcp:read mcp:write")));
    let trips = io.round_trips.get();
    let res = Resource::new(vec![insufficient("mcp:write")]);
    let err = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect_err("no loop");
    assert!(matches!(err, Error::InsufficientScope { .. }), "{err:?}");
    assert!(pending_keys(&io).is_empty());
    assert_eq!(io.round_trips.get(), trips);
}

#[test]
fn p14_successful_response_clears_the_step_up_counter() {
    let (io, cfg) = narrow_client_signed_in();
    let res = Resource::new(vec![insufficient("mcp:read mcp:write")]);
    block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("step-up");
    assert!(io.get(Area::Session, &store::step_up_key(SERVER)).is_some());
    let res = Resource::new(vec![ok()]);
    block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert!(io.get(Area::Session, &store::step_up_key(SERVER)).is_none());
}

#[test]
fn p14_403_without_insufficient_scope_is_returned_as_is() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), Some("mcp:read")));
    let trips = io.round_trips.get();
    let res = Resource::new(vec![answer(403, Some(r#"Bearer error="access_denied""#))]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen().len(), 1);
    assert_eq!(io.round_trips.get(), trips);
    assert!(pending_keys(&io).is_empty());
}

// ---------------------------------------------------------------- P-27

#[test]
fn a_server_path_with_a_bar_gets_the_token_as_chromium_encodes_it_p27() {
    let mut cfg = config();
    cfg.server = ServerUrl::parse("https://mcp.example.com/tenant|a/mcp").expect("valid");
    assert!(may_attach_token(&cfg, "https://mcp.example.com/tenant%7Ca/mcp"));
    assert!(may_attach_token(&cfg, "https://mcp.example.com/tenant|a/mcp?x=1"));
    assert!(!may_attach_token(&cfg, "https://mcp.example.com/tenant%7Cb/mcp"));
}

#[test]
fn p27_other_origin_gets_no_token_and_no_auth_handling() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let trips = io.round_trips.get();
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let end = block_on(fetch(
        &io,
        &cfg,
        "POST",
        "https://evil.example.org/mcp",
        "/",
        res.send(),
    ))
    .expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen(), vec![None]);
    assert_eq!(io.round_trips.get(), trips);
    assert!(pending_keys(&io).is_empty());
}

#[test]
fn p27_origin_scope_gives_the_token_to_other_paths_of_the_origin() {
    let (io, mut cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    cfg.send_token_to = TokenScope::Origin;
    let res = Resource::new(vec![ok()]);
    block_on(fetch(
        &io,
        &cfg,
        "POST",
        "https://mcp.example.com/other/path?x=1",
        "/",
        res.send(),
    ))
    .expect("fetch");
    assert_eq!(res.seen(), vec![some("at-1")]);
}

fn token_seen_by(cfg: &Config, request_url: &str) -> Vec<Option<String>> {
    let (io, _) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let res = Resource::new(vec![ok()]);
    block_on(fetch(&io, cfg, "POST", request_url, "/", res.send())).expect("fetch");
    res.seen()
}

#[test]
fn p27_other_path_of_the_server_origin_gets_no_token_by_default() {
    assert_eq!(
        token_seen_by(&config(), "https://mcp.example.com/other/path?x=1"),
        vec![None]
    );
}

#[test]
fn p27_server_path_with_a_query_gets_the_token() {
    assert_eq!(
        token_seen_by(&config(), "https://mcp.example.com/mcp?session=1"),
        vec![some("at-1")]
    );
}

#[test]
fn p27_path_that_only_starts_like_the_server_path_gets_no_token() {
    for url in [
        "https://mcp.example.com/mcp/",
        "https://mcp.example.com/mcp-other",
        "https://mcp.example.com/mcp/../tenant-b/mcp",
        "https://mcp.example.com/MCP",
    ] {
        assert_eq!(token_seen_by(&config(), url), vec![None], "{url}");
    }
    assert_eq!(
        token_seen_by(&config(), "https://mcp.example.com/x/../mcp"),
        vec![some("at-1")],
        "the path the browser requests"
    );
}

#[test]
fn p27_origin_scope_still_keeps_the_token_from_other_origins() {
    let mut cfg = config();
    cfg.send_token_to = TokenScope::Origin;
    assert_eq!(
        token_seen_by(&cfg, "https://mcp.example.com:8443/mcp"),
        vec![None]
    );
    assert_eq!(token_seen_by(&cfg, "http://mcp.example.com/mcp"), vec![None]);
}

#[test]
fn p27_401_from_another_path_of_the_origin_never_repoints_discovery() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let storage_before = io.storage.borrow().clone();
    let requests_before = io.requests.borrow().len();
    let tenant_b = Resource::new(vec![answer(
        401,
        Some(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/tenant-b""#,
        ),
    )]);
    let end = block_on(fetch(
        &io,
        &cfg,
        "POST",
        "https://mcp.example.com/tenant-b/mcp",
        "/",
        tenant_b.send(),
    ))
    .expect("passes through");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(tenant_b.seen(), vec![None]);
    assert_eq!(io.requests.borrow().len(), requests_before);
    assert_eq!(*io.storage.borrow(), storage_before);
}

#[test]
fn p27_send_token_to_is_a_closed_set() {
    assert_eq!(TokenScope::parse("serverUrl"), Some(TokenScope::ServerUrl));
    assert_eq!(TokenScope::parse("origin"), Some(TokenScope::Origin));
    assert_eq!(TokenScope::parse("Origin"), None);
    assert_eq!(TokenScope::parse("path"), None);
    assert_eq!(TokenScope::default(), TokenScope::ServerUrl);
}

// ---------------------------------------------------------------- P-13 scope selection

#[test]
fn p13_challenge_scope_is_requested() {
    let io = standard_io();
    let res = Resource::new(vec![unauthorized("mcp:write")]);
    let url =
        fetch_redirect(block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(param(&url, "scope"), some("mcp:write offline_access"));
}

#[test]
fn p13_without_challenge_scope_prm_scopes_are_requested() {
    let io = standard_io();
    let res = Resource::new(vec![answer(
        401,
        Some(&format!(r#"Bearer resource_metadata="{PRM_URL}""#)),
    )]);
    let url =
        fetch_redirect(block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(param(&url, "scope"), some("mcp:read mcp:write offline_access"));
}

#[test]
fn p13_offline_access_is_not_added_when_the_as_does_not_list_it() {
    let io = standard_io();
    io.clear_route(AS_META_URL);
    io.json(AS_META_URL, 200, &as_json_without_offline_access());
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let url =
        fetch_redirect(block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(param(&url, "scope"), some("mcp:read"));
    let reg = &io.requests_to(REGISTER_URL)[0];
    assert!(!reg.body.as_deref().unwrap_or("").contains("offline_access"));
}

// ---------------------------------------------------------------- misc

#[test]
fn p9_pre_registered_client_skips_registration() {
    let io = standard_io();
    let mut cfg = config();
    cfg.client.client_id = some("pre-registered-id");
    let url = start(&io, &cfg);
    assert_eq!(param(&url, "client_id"), some("pre-registered-id"));
    assert!(io.requests_to(REGISTER_URL).is_empty());
    assert!(!io.statuses.borrow().contains(&Status::Registering));
}

#[test]
fn failing_storage_surfaces_storage_error() {
    let io = standard_io();
    io.fail_storage.set(true);
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let err = block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect_err("storage");
    assert!(matches!(err, Error::Storage { .. }), "{err:?}");
}

#[test]
fn sign_out_removes_tokens_and_revokes_refresh_and_access_tokens() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    block_on(sign_out(&io, &cfg)).expect("sign out");
    assert!(stored_tokens(&io).is_none());
    let revs = io.requests_to(REVOKE_URL);
    let sent: Vec<_> = revs
        .iter()
        .map(|r| (form_param(r, "token"), form_param(r, "token_type_hint")))
        .collect();
    assert_eq!(
        sent,
        vec![
            (some("rt-1"), some("refresh_token")),
            (some("at-1"), some("access_token"))
        ]
    );
    assert!(revs.iter().all(|r| r.method == Method::Post));
}

#[test]
fn p2_401_without_readable_www_authenticate_discovers_by_probing() {
    let io = standard_io();
    let res = Resource::new(vec![answer(401, None)]);
    let url =
        fetch_redirect(block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect("fetch"));
    assert_eq!(io.urls().first().map(String::as_str), Some(PRM_URL));
    assert_eq!(io.requests_to(PRM_URL).len(), 1);
    // The challenge's scope hint is lost: the PRM scopes are asked for.
    assert_eq!(param(&url, "scope"), some("mcp:read mcp:write offline_access"));
}

#[test]
fn p15_resource_is_sent_on_code_exchange_and_refresh() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", None, None));
    block_on(refresh(&io, &cfg, None)).expect("refresh");
    let reqs = token_requests(&io);
    assert_eq!(reqs.len(), 2);
    assert!(reqs
        .iter()
        .all(|r| form_param(r, "resource").as_deref() == Some(SERVER)));
}

// ---------------------------------------------------------------- P-26 compare-and-delete, P-33 refresh failures

fn refresh_token_of(io: &FakeIo) -> Option<String> {
    stored_tokens(io).and_then(|t| t.refresh_token.map(|r| r.expose().to_string()))
}

/// The refresh request planned under the lock, for tests that change
/// storage while it is in flight.
fn planned_refresh(io: &FakeIo, cfg: &Config) -> RefreshPlan {
    let rt = Secret::new(refresh_token_of(io).expect("a refresh token"));
    let hash = block_on(token_hash(io, &rt)).expect("hash");
    match plan_refresh(io, cfg, None, &rt, &hash).expect("plan") {
        Next::Then(RefreshStep::Send(plan, _)) => plan,
        _ => panic!("expected a refresh request"),
    }
}

fn error_answer(status: u16, error: &str) -> Vec<FetchOutcome> {
    vec![FetchOutcome::Response(crate::core::http::HttpResponse::new(
        status,
        format!(r#"{{"error":"{error}"}}"#),
    ))]
}

/// Another tab (or a `finishAuth`) stores a newer set while the refresh is in flight.
fn store_newer_set(io: &FakeIo, cfg: &Config) {
    let mut newer = stored_tokens(io).expect("tokens");
    newer.access_token = Secret::new("at-newer");
    newer.refresh_token = Some(Secret::new("rt-newer"));
    store::save_tokens_in(io, Area::Tokens, cfg.server_url(), &newer).expect("store");
}

#[test]
fn p26_invalid_grant_keeps_tokens_another_tab_stored_meanwhile() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let plan = planned_refresh(&io, &cfg);
    store_newer_set(&io, &cfg);
    let got = refreshed(&io, &cfg, plan, &error_answer(400, "invalid_grant")).expect("the newer set");
    assert_eq!(got.access_token.expose(), "at-newer");
    assert_eq!(refresh_token_of(&io), some("rt-newer"));
}

#[test]
fn p26_invalid_client_keeps_client_and_tokens_another_tab_stored_meanwhile() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let plan = planned_refresh(&io, &cfg);
    store_newer_set(&io, &cfg);
    refreshed(&io, &cfg, plan, &error_answer(401, "invalid_client")).expect("the newer set");
    assert_eq!(access(&io), some("at-newer"));
    assert!(store::load_client(&io, ISSUER, REDIRECT)
        .expect("storage")
        .is_some());
}

#[test]
fn p26_invalid_grant_clears_tokens_still_holding_the_sent_refresh_token() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let plan = planned_refresh(&io, &cfg);
    let err = refreshed(&io, &cfg, plan, &error_answer(400, "invalid_grant")).expect_err("dead");
    assert_eq!(err.code(), "oauth_error");
    assert!(stored_tokens(&io).is_none());
}

#[test]
fn p26_refresh_timeout_keeps_tokens_and_is_reported_as_timeout() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.on(
        TOKEN_URL,
        FetchOutcome::Timeout {
            url: TOKEN_URL.into(),
            after_ms: 30_000,
        },
    );
    let err = block_on(refresh(&io, &cfg, None)).expect_err("timeout");
    assert_eq!(
        err,
        Error::Timeout {
            url: TOKEN_URL.into(),
            after_ms: 30_000
        }
    );
    assert_eq!(refresh_token_of(&io), some("rt-1"));
}

#[test]
fn p33_refresh_without_response_on_401_is_a_network_error_naming_the_token_endpoint() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.on(TOKEN_URL, FetchOutcome::NetworkError);
    let discovery_before = io.requests_to(PRM_URL).len();
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let err = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect_err("refresh failed");
    assert_eq!(
        err,
        Error::Network {
            what: "the token refresh request".into(),
            url: TOKEN_URL.into()
        }
    );
    assert_eq!(
        io.requests_to(PRM_URL).len(),
        discovery_before,
        "not reported as discovery"
    );
    assert_eq!(refresh_token_of(&io), some("rt-1"));
    assert!(pending_keys(&io).is_empty());
}

#[test]
fn p33_expired_token_whose_refresh_gets_no_response_fails_with_that_refresh_error() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.now.set(io.now.get() + 3_600_000);
    io.clear_route(TOKEN_URL);
    io.on(TOKEN_URL, FetchOutcome::NetworkError);
    let res = Resource::new(vec![ok()]);
    let err = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect_err("refresh failed");
    assert_eq!(err.code(), "network_error");
    assert!(res.seen().is_empty(), "the expired token is not sent");
    assert_eq!(refresh_token_of(&io), some("rt-1"));
}

// ---------------------------------------------------------------- P-34 duplicated tabs

fn refresh_tokens_sent(tabs: &[&FakeIo]) -> Vec<String> {
    tabs.iter()
        .flat_map(|tab| token_requests(tab))
        .filter_map(|r| form_param(&r, "refresh_token"))
        .collect()
}

/// Tab A signed in with `rt-1`, then duplicated (`sessionStorage` copied);
/// A's next refresh rotates `rt-1` to `rt-2`.
fn duplicated_tabs() -> (FakeIo, FakeIo, Config) {
    let (a, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let b = a.duplicate_tab();
    a.clear_route(TOKEN_URL);
    a.json(TOKEN_URL, 200, &token_json("at-2", Some("rt-2"), None));
    b.json(TOKEN_URL, 200, &token_json("at-b", Some("rt-b"), None));
    (a, b, cfg)
}

#[test]
fn p34_both_tabs_take_the_same_lock_named_by_the_refresh_token_hash() {
    let (a, b, cfg) = duplicated_tabs();
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    block_on(refresh(&b, &cfg, None)).expect("adopted");
    let (lock_a, lock_b) = (a.lock_names.borrow()[0].clone(), b.lock_names.borrow()[0].clone());
    assert_eq!(lock_a, lock_b);
    let hash = base64url_nopad(&sha256("rt-1"));
    assert_eq!(lock_a, refresh_lock_name(ISSUER, SERVER, &hash));
    assert!(!lock_a.contains("rt-1"), "the lock name carries no secret");
}

#[test]
fn p34_duplicated_tab_adopts_the_published_set_and_never_resends_the_consumed_token() {
    let (a, b, cfg) = duplicated_tabs();
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    let got = block_on(refresh(&b, &cfg, None)).expect("adopted");
    assert_eq!(got.access_token.expose(), "at-2");
    assert_eq!(refresh_token_of(&b), some("rt-2"));
    assert!(token_requests(&b).is_empty());
    assert_eq!(refresh_tokens_sent(&[&a, &b]), vec!["rt-1"]);
}

#[test]
fn p34_tab_that_takes_the_lock_before_the_broadcast_drops_the_consumed_token_unsent() {
    let (a, b, cfg) = duplicated_tabs();
    b.rotations_arrive.set(false);
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    let err = block_on(refresh(&b, &cfg, None)).expect_err("unusable");
    assert_eq!(err, Error::NoRefreshToken);
    assert_eq!(*b.rotation_waits.borrow(), vec![base64url_nopad(&sha256("rt-1"))]);
    assert!(stored_tokens(&b).is_none(), "re-authorization, not a replay");
    assert_eq!(refresh_tokens_sent(&[&a, &b]), vec!["rt-1"]);
}

#[test]
fn p34_fetch_in_a_tab_whose_refresh_token_was_consumed_reauthorizes_without_sending_it() {
    let (a, b, cfg) = duplicated_tabs();
    b.rotations_arrive.set(false);
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    b.now.set(b.now.get() + 3_600_000);
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let end = block_on(fetch(&b, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert!(matches!(end, FetchEnd::Redirect(_)), "{end:?}");
    assert_eq!(res.seen(), vec![None]);
    assert_eq!(refresh_tokens_sent(&[&a, &b]), vec!["rt-1"]);
}

#[test]
fn p34_consumed_marker_holds_only_the_hash_and_a_time() {
    let (a, _b, cfg) = duplicated_tabs();
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    let hash = base64url_nopad(&sha256("rt-1"));
    assert_eq!(
        a.keys_with(Area::Local, store::CONSUMED_PREFIX),
        vec![store::consumed_key(&hash)]
    );
    let value = a.get(Area::Local, &store::consumed_key(&hash)).expect("marker");
    assert_eq!(value, a.now.get().to_string());
}

#[test]
fn p34_refresh_without_rotation_marks_and_publishes_nothing() {
    let (a, _b, cfg) = duplicated_tabs();
    a.clear_route(TOKEN_URL);
    a.json(TOKEN_URL, 200, &token_json("at-2", None, None));
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    assert!(a.keys_with(Area::Local, store::CONSUMED_PREFIX).is_empty());
    assert!(a.channel.borrow().is_empty());
}

#[test]
fn p34_listening_tab_adopts_a_published_set_only_while_it_holds_the_consumed_token() {
    let (a, b, cfg) = duplicated_tabs();
    let c = b.duplicate_tab();
    store_newer_set(&c, &cfg);
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    let message = a.channel.borrow()[0].1.clone();
    let adopted = block_on(adopt_rotation(&b, &cfg, &message)).expect("storage");
    assert_eq!(adopted.map(|t| t.access_token.expose().to_string()), some("at-2"));
    assert_eq!(refresh_token_of(&b), some("rt-2"));
    assert_eq!(block_on(adopt_rotation(&c, &cfg, &message)), Ok(None));
    assert_eq!(refresh_token_of(&c), some("rt-newer"));
}

#[test]
fn p34_rotation_message_for_another_server_or_malformed_is_ignored() {
    let (a, b, cfg) = duplicated_tabs();
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    let message = a.channel.borrow()[0].1.clone();
    let elsewhere = message.replace(SERVER, "https://other.example.com/mcp");
    for bad in [
        elsewhere.as_str(),
        "not json",
        "{}",
        &message.replace("at-2", "at 2"),
    ] {
        assert_eq!(block_on(adopt_rotation(&b, &cfg, bad)), Ok(None), "{bad}");
    }
    assert_eq!(refresh_token_of(&b), some("rt-1"));
}

// ---------------------------------------------------------------- P-29 re-authorization cap

/// The app page after the callback of `url` answered `token` (a reload:
/// sessionStorage survives).
fn come_back(io: &FakeIo, url: &str, token: &str) -> FakeIo {
    let callback_page = reload(io);
    callback_page.json(TOKEN_URL, 200, &token_json(token, None, None));
    block_on(finish(
        &callback_page,
        &real_callback(url, "code"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    let app = reload(&callback_page);
    app.json(PRM_URL, 200, &prm_json());
    app.json(AS_META_URL, 200, &as_json());
    app
}

fn fetch_401(io: &FakeIo) -> (Result<FetchEnd>, Vec<Option<String>>) {
    let res = Resource::new(vec![unauthorized("mcp:read")]);
    let end = block_on(fetch(io, &config(), "POST", SERVER, "/", res.send()));
    (end, res.seen())
}

#[test]
fn p29_second_authorization_in_a_row_whose_token_is_answered_401_is_token_rejected() {
    let io = standard_io();
    let (first, _) = fetch_401(&io);
    let page = come_back(&io, &fetch_redirect(first.expect("fetch")), "at-1");
    let (second, seen) = fetch_401(&page);
    assert_eq!(seen, vec![some("at-1")]);
    let page = come_back(&page, &fetch_redirect(second.expect("fetch")), "at-2");
    let pending_before = pending_keys(&page).len();
    let (third, seen) = fetch_401(&page);
    assert_eq!(seen, vec![some("at-2")]);
    assert_eq!(
        third,
        Err(Error::TokenRejected {
            server_url: SERVER.into()
        })
    );
    assert_eq!(pending_keys(&page).len(), pending_before, "no new redirect");
}

#[test]
fn p29_count_lives_in_session_storage_and_survives_the_redirect() {
    let io = standard_io();
    let (first, _) = fetch_401(&io);
    let page = come_back(&io, &fetch_redirect(first.expect("fetch")), "at-1");
    assert_eq!(
        page.get(Area::Session, &store::reauthorization_key(SERVER)),
        some("0")
    );
    fetch_redirect(fetch_401(&page).0.expect("fetch"));
    assert_eq!(
        page.get(Area::Session, &store::reauthorization_key(SERVER)),
        some("1")
    );
}

#[test]
fn p29_answer_other_than_401_resets_the_count() {
    let io = standard_io();
    let (first, _) = fetch_401(&io);
    let page = come_back(&io, &fetch_redirect(first.expect("fetch")), "at-1");
    let (second, _) = fetch_401(&page);
    let page = come_back(&page, &fetch_redirect(second.expect("fetch")), "at-2");
    let res = Resource::new(vec![answer(404, None)]);
    block_on(fetch(&page, &config(), "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(page.get(Area::Session, &store::reauthorization_key(SERVER)), None);
    let (later, _) = fetch_401(&page);
    assert!(matches!(later, Ok(FetchEnd::Redirect(_))), "{later:?}");
}

#[test]
fn p29_authorizations_abandoned_before_any_token_are_not_counted() {
    let io = standard_io();
    for _ in 0..4 {
        let (end, seen) = fetch_401(&io);
        assert_eq!(seen, vec![None]);
        assert!(matches!(end, Ok(FetchEnd::Redirect(_))), "{end:?}");
    }
}

#[test]
fn p29_sign_out_clears_the_count() {
    let (io, cfg) = signed_in(&token_json("at-1", None, None));
    store::record_reauthorizations(&io, SERVER, 1).expect("store");
    block_on(sign_out(&io, &cfg)).expect("sign out");
    assert_eq!(io.get(Area::Session, &store::reauthorization_key(SERVER)), None);
}

// ---------------------------------------------------------------- P-30 redirected resource requests

fn redirected() -> ResourceAnswer {
    ResourceAnswer {
        status: 0,
        www_authenticate: None,
        redirected: true,
        dpop_nonce: None,
    }
}

#[test]
fn p30_redirect_answering_a_request_with_a_token_is_unexpected_redirect() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let res = Resource::new(vec![redirected()]);
    let err = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect_err("refused");
    assert_eq!(err, Error::UnexpectedRedirect { url: SERVER.into() });
    assert_eq!(res.seen(), vec![some("at-1")], "sent once, never re-sent");
}

#[test]
fn p30_redirect_answering_a_request_without_a_token_passes_through() {
    let io = standard_io();
    let res = Resource::new(vec![redirected()]);
    let end = block_on(fetch(&io, &config(), "POST", SERVER, "/", res.send())).expect("passes through");
    assert_eq!(end, FetchEnd::Response);
    assert_eq!(res.seen(), vec![None]);
}

// ---------------------------------------------------------------- P-31 returnTo

fn authorize_returning_to(io: &FakeIo, return_to: &str) -> Result<Authorization> {
    let req = AuthorizeRequest {
        return_to: Some(return_to.into()),
        page_url: "https://app.example.com/chat".into(),
        ..AuthorizeRequest::default()
    };
    block_on(authorize(io, &config(), &req))
}

#[test]
fn p31_foreign_return_to_is_invalid_config_before_any_request() {
    let io = standard_io();
    let err = authorize_returning_to(&io, "//evil.example/").expect_err("refused");
    assert_eq!(err.code(), "invalid_config");
    assert!(io.requests.borrow().is_empty());
    assert!(pending_keys(&io).is_empty());
}

#[test]
fn p31_finish_auth_returns_the_return_to_as_an_absolute_url_of_the_app_origin() {
    let io = standard_io();
    io.json(TOKEN_URL, 200, &token_json("at-1", None, None));
    let url = redirect_url(authorize_returning_to(&io, "/done?tab=2").expect("authorize"));
    let done = block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    assert_eq!(done.return_to, "https://app.example.com/done?tab=2");
}

#[test]
fn p32_pending_record_tampered_to_return_to_javascript_is_absent() {
    let io = standard_io();
    let url = redirect_url(authorize_returning_to(&io, "/done").expect("authorize"));
    let key = pending_keys(&io)[0].clone();
    let text = io.get(Area::Session, &key).expect("record");
    let tampered = text.replace("https://app.example.com/done", "javascript:alert(1)");
    assert_ne!(text, tampered);
    io.store(Area::Session, &key, &tampered).expect("store");
    let res = block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ));
    assert_eq!(res, Err(Error::UnknownState));
    assert!(token_requests(&io).is_empty());
}

#[test]
fn p34_tabs_refreshing_at_once_send_the_shared_refresh_token_once() {
    for rotations_arrive in [true, false] {
        let (a, b, cfg) = duplicated_tabs();
        a.fetch_waits.set(true);
        b.fetch_waits.set(true);
        b.rotations_arrive.set(rotations_arrive);
        let (got_a, got_b) = run_together(refresh(&a, &cfg, None), refresh(&b, &cfg, None));
        assert_eq!(got_a.expect("A refreshed").access_token.expose(), "at-2");
        assert_eq!(
            b.lock_names.borrow().clone(),
            a.lock_names.borrow().clone(),
            "B waited on A's lock"
        );
        match got_b {
            Ok(t) => {
                assert!(rotations_arrive);
                assert_eq!(t.access_token.expose(), "at-2");
            }
            Err(e) => {
                assert!(!rotations_arrive, "{e:?}");
                assert_eq!(e, Error::NoRefreshToken);
            }
        }
        assert_eq!(
            refresh_tokens_sent(&[&a, &b]),
            vec!["rt-1"],
            "arrive: {rotations_arrive}"
        );
    }
}

#[test]
fn p34_sign_out_in_a_tab_whose_refresh_token_was_consumed_revokes_only_the_access_token() {
    let (a, b, cfg) = duplicated_tabs();
    block_on(refresh(&a, &cfg, None)).expect("refresh");
    block_on(sign_out(&b, &cfg)).expect("sign out");
    let revoked: Vec<_> = b
        .requests_to(REVOKE_URL)
        .iter()
        .map(|r| form_param(r, "token"))
        .collect();
    assert_eq!(revoked, vec![some("at-1")]);
    assert!(stored_tokens(&b).is_none());
}

#[path = "flow_dpop_tests.rs"]
mod dpop_flows;
