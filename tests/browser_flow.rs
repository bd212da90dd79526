//! Whole flows through the Rust API (`flow::authorize` → the authorization
//! server → `flow::finish` → `flow::fetch`) over the real web adapters,
//! against the shared fixture server.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::Array;
use mcp_web_auth::core::callback::CallbackParams;
use mcp_web_auth::core::flow::{self, AuthorizeRequest, CallbackInput, FetchEnd, TokenTarget};
use mcp_web_auth::core::io::Credentials;
use mcp_web_auth::js::options::{parse, Parsed};
use mcp_web_auth::web::fetch::ResourceRequest;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn server_url(scenario: &str) -> String {
    format!("{}/s/{scenario}/mcp", fixture_url())
}

/// A client for the scenario, with its `onStatus` events pushed to `events`.
fn client(scenario: &str, events: &Array, extra: &[(&str, JsValue)]) -> Parsed {
    let on_status = js_fn("events", "return (e) => events.push(e.type);")
        .call1(&JsValue::UNDEFINED, events)
        .expect("onStatus");
    let mut pairs = vec![
        ("serverUrl", server_url(scenario).into()),
        ("redirectUri", REDIRECT.into()),
        ("tokenStorage", "memory".into()),
        ("onStatus", on_status),
    ];
    pairs.extend(extra.iter().cloned());
    parse(&object(&pairs)).expect("valid options")
}

/// The first `auth.fetch` of the server URL: the 401 starts authorization
/// with the challenge's scope.
async fn authorization_url(p: &Parsed) -> String {
    let (end, _) = resource_fetch(p, p.config.server_url()).await;
    match end.expect("fetch") {
        FetchEnd::Redirect(url) => url,
        FetchEnd::Response => panic!("no tokens yet: expected a redirect"),
    }
}

/// The browser's hop through the auto-approving authorization server,
/// played from Node by the helper; the callback URL's query pairs.
async fn visit(authorization_url: &str) -> Vec<(String, String)> {
    let encoded: String = js_sys::encode_uri_component(authorization_url).into();
    let hop = get_json(&format!("{}/follow?url={encoded}", helper_url())).await;
    assert_eq!(get(&hop, "status").as_f64(), Some(302.0));
    let location = get(&hop, "location").as_string().expect("Location");
    assert!(location.starts_with(REDIRECT), "{location}");
    let pairs = js_fn("u", "return [...new URL(u).searchParams];")
        .call1(&JsValue::UNDEFINED, &location.into())
        .expect("query");
    Array::from(&pairs)
        .iter()
        .map(|p| {
            let p = Array::from(&p);
            (
                p.get(0).as_string().unwrap_or_default(),
                p.get(1).as_string().unwrap_or_default(),
            )
        })
        .collect()
}

async fn stats(scenario: &str) -> JsValue {
    get_json(&format!("{}/__stats?scenario={scenario}", fixture_url())).await
}

/// `flow::fetch` of `url` with the app's request kept as a JS `Request`.
async fn resource_fetch(
    p: &Parsed,
    url: &str,
) -> (
    Result<FetchEnd, mcp_web_auth::core::error::Error>,
    ResourceRequest,
) {
    let request = ResourceRequest::new(&url.into(), &JsValue::UNDEFINED).expect("Request");
    let send = |credentials: Option<Credentials>| {
        let request = &request;
        let fetcher = &p.io.fetcher;
        async move { request.send(fetcher, credentials.as_ref()).await }
    };
    let end = flow::fetch(&p.io, &p.config, "GET", url, "/after", send).await;
    (end, request)
}

#[wasm_bindgen_test]
async fn whole_flow_discovers_registers_redirects_finishes_and_sends_the_bearer() {
    let sc = "wasm-flow";
    let events = Array::new();
    let p = client(sc, &events, &[]);
    let url = authorization_url(&p).await;
    assert!(url.contains("code_challenge_method=S256"), "P-16: {url}");
    let events_before: Vec<String> = events.iter().filter_map(|e| e.as_string()).collect();
    assert_eq!(events_before, ["discovering", "registering", "redirecting"]);

    let query = visit(&url).await;
    let input = CallbackInput::Query(CallbackParams(query));
    let done = flow::finish(&p.io, &input, Some(p.config.server_url()), TokenTarget::Instance)
        .await
        .expect("finish");
    assert_eq!(done.server_url, server_url(sc));
    assert_eq!(done.return_to, "/after");
    assert_eq!(done.scope, ["mcp:read"]);

    let (end, request) = resource_fetch(&p, &server_url(sc)).await;
    assert_eq!(end.expect("fetch"), FetchEnd::Response);
    assert_eq!(get(&request.response(), "status").as_f64(), Some(200.0));
    let s = stats(sc).await;
    assert_eq!(get(&s, "codeGrants").as_f64(), Some(1.0));
    let resource = Array::from(&get(&s, "resource"));
    let last = resource.get(resource.length() - 1);
    assert!(get(&last, "authorization")
        .as_string()
        .unwrap_or_default()
        .starts_with("Bearer at_"));
}

#[wasm_bindgen_test]
async fn p20_wrong_iss_is_refused_and_the_pending_flow_survives_for_the_real_callback() {
    let sc = "wasm-isswrong";
    let p = client(sc, &Array::new(), &[]);
    let query = visit(&authorization_url(&p).await).await;
    let forged = CallbackInput::Query(CallbackParams(query.clone()));
    let err = flow::finish(&p.io, &forged, Some(p.config.server_url()), TokenTarget::Instance)
        .await
        .expect_err("wrong iss");
    assert_eq!(err.code(), "issuer_mismatch");

    let issuer = format!("{}/s/{sc}", fixture_url());
    let fixed: Vec<(String, String)> = query
        .into_iter()
        .map(|(k, v)| if k == "iss" { (k, issuer.clone()) } else { (k, v) })
        .collect();
    let real = CallbackInput::Query(CallbackParams(fixed));
    let done = flow::finish(&p.io, &real, Some(p.config.server_url()), TokenTarget::Instance)
        .await
        .expect("the real callback still finishes");
    assert_eq!(done.scope, ["mcp:read"]);
}

#[wasm_bindgen_test]
async fn p14_insufficient_scope_with_throw_policy_is_an_insufficient_scope_error() {
    let sc = "wasm-stepup";
    let p = client(sc, &Array::new(), &[("onInsufficientScope", "throw".into())]);
    let query = visit(&authorization_url(&p).await).await;
    flow::finish(
        &p.io,
        &CallbackInput::Query(CallbackParams(query)),
        Some(p.config.server_url()),
        TokenTarget::Instance,
    )
    .await
    .expect("finish");
    let (end, _) = resource_fetch(&p, &format!("{}?op=write", server_url(sc))).await;
    let err = end.expect_err("403 insufficient_scope");
    assert_eq!(err.code(), "insufficient_scope");
}

#[wasm_bindgen_test]
async fn p3_unreachable_server_fails_discovery_with_a_typed_error() {
    let events = Array::new();
    let on_status = js_fn("events", "return (e) => events.push(e.type);")
        .call1(&JsValue::UNDEFINED, &events)
        .expect("onStatus");
    let p = parse(&object(&[
        ("serverUrl", "http://127.0.0.1:9/mcp".into()),
        ("redirectUri", REDIRECT.into()),
        ("tokenStorage", "memory".into()),
        ("onStatus", on_status),
        ("timeoutMs", 2_000.into()),
    ]))
    .expect("valid");
    let req = AuthorizeRequest::default();
    let err = flow::authorize(&p.io, &p.config, &req)
        .await
        .expect_err("nothing listens");
    assert!(
        ["discovery_failed", "network_error"].contains(&err.code()),
        "{err:?}"
    );
}
