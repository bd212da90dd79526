//! The fetch adapter (src/web/fetch.rs) in a real browser: the global
//! `fetch` against the helper server, and the app's `fetch` option.
#![cfg(target_arch = "wasm32")]

mod support;

use js_sys::{Array, Function};
use mcp_web_auth::core::http::{FetchOutcome, HttpRequest, HttpResponse};
use mcp_web_auth::core::io::Credentials;
use mcp_web_auth::core::secret::Secret;
use mcp_web_auth::core::token::TokenType;
use mcp_web_auth::web::fetch::{Fetcher, ResourceRequest};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn global_fetcher(timeout_ms: u32) -> Fetcher {
    Fetcher::new(None, timeout_ms).expect("global fetch")
}

fn app_fetcher(f: Function, timeout_ms: u32) -> Fetcher {
    Fetcher::new(Some(f), timeout_ms).expect("app fetch")
}

fn response(outcome: FetchOutcome) -> HttpResponse {
    match outcome {
        FetchOutcome::Response(r) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("JSON body")
}

/// A request with a custom header that a strict preflight refuses.
fn probe(url: String, retry_without_headers: bool) -> HttpRequest {
    HttpRequest {
        retry_without_headers,
        ..HttpRequest::discovery(url)
    }
}

#[wasm_bindgen_test]
async fn global_fetch_reads_status_and_body() {
    let url = format!("{}/slow?ms=0", helper_url());
    let r = response(global_fetcher(5_000).send(&HttpRequest::discovery(url)).await);
    assert_eq!(r.status, 200);
    assert_eq!(get(&json(&r.body), "waited").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
async fn p2_response_headers_the_core_reads_are_filled_in() {
    let url = format!("{}/headers", helper_url());
    let r = response(global_fetcher(5_000).send(&HttpRequest::discovery(url)).await);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", scope="mcp:read""#)
    );
    assert_eq!(r.header("DPoP-Nonce"), Some("nonce-1"));
    assert_eq!(r.header("Content-Type"), Some("application/json"));
}

#[wasm_bindgen_test]
async fn p8_discovery_headers_reach_the_server() {
    let url = format!("{}/echo", helper_url());
    let r = response(global_fetcher(5_000).send(&HttpRequest::discovery(url)).await);
    let headers = get(&json(&r.body), "headers");
    assert_eq!(
        get(&headers, "accept").as_string().as_deref(),
        Some("application/json")
    );
    assert!(get(&headers, "mcp-protocol-version").is_string());
}

#[wasm_bindgen_test]
async fn p23_form_post_sends_method_content_type_and_body() {
    let url = format!("{}/echo", helper_url());
    let req = HttpRequest::form_post(&url, &[("grant_type", "authorization_code"), ("code", "a b&c")]);
    let r = response(global_fetcher(5_000).send(&req).await);
    let echo = json(&r.body);
    assert_eq!(get(&echo, "method").as_string().as_deref(), Some("POST"));
    let content_type = get(&get(&echo, "headers"), "content-type")
        .as_string()
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/x-www-form-urlencoded"),
        "{content_type}"
    );
    let body = get(&echo, "body").as_string().unwrap_or_default();
    assert!(body.contains("grant_type=authorization_code"), "{body}");
    assert!(
        body.contains("code=a+b%26c") || body.contains("code=a%20b%26c"),
        "{body}"
    );
}

#[wasm_bindgen_test]
async fn p5_probes_of_one_step_go_out_together_and_answer_in_request_order() {
    // Distinct URLs, like real probes: Chromium's cache lock queues
    // identical GETs behind each other.
    let slow = format!("{}/slow?ms=600&probe=1", helper_url());
    let fast = format!("{}/slow?ms=0&probe=2", helper_url());
    let also_slow = format!("{}/slow?ms=600&probe=3", helper_url());
    let started = js_sys::Date::now();
    let answers = global_fetcher(5_000)
        .all(&[
            HttpRequest::discovery(slow),
            HttpRequest::discovery(fast),
            HttpRequest::discovery(also_slow),
        ])
        .await;
    let elapsed = js_sys::Date::now() - started;
    let waited: Vec<f64> = answers
        .into_iter()
        .map(|o| get(&json(&response(o).body), "waited").as_f64().unwrap_or(-1.0))
        .collect();
    assert_eq!(waited, [600.0, 0.0, 600.0], "answers in request order");
    assert!(
        elapsed < 1_100.0,
        "two 600 ms probes took {elapsed} ms: not in parallel"
    );
}

#[wasm_bindgen_test]
async fn p8_a_probe_refused_by_a_strict_preflight_is_retried_without_its_headers() {
    let url = format!("{}/strict", helper_url());
    let r = response(global_fetcher(5_000).send(&probe(url, true)).await);
    assert_eq!(r.status, 200);
    let headers = get(&json(&r.body), "headers");
    assert!(
        get(&headers, "mcp-protocol-version").is_undefined(),
        "the retry has no custom header"
    );
}

#[wasm_bindgen_test]
async fn p8_no_retry_when_the_request_does_not_allow_it() {
    let url = format!("{}/strict", helper_url());
    let outcome = global_fetcher(5_000).send(&probe(url, false)).await;
    assert_eq!(outcome, FetchOutcome::NetworkError);
}

#[wasm_bindgen_test]
async fn p8_app_fetch_sees_the_retry_without_custom_headers() {
    let log = Array::new();
    let refuse_custom = js_fn(
        "request",
        "if (request.headers.has('mcp-protocol-version')) throw new TypeError('Failed to fetch');
         return new Response('{}', { status: 200 });",
    );
    let fetcher = app_fetcher(recording_fetch(&log, &refuse_custom), 5_000);
    let outcome = fetcher
        .send(&probe("https://as.example/.well-known/x".into(), true))
        .await;
    assert_eq!(response(outcome).status, 200);
    assert_eq!(log.length(), 2, "one attempt with headers, one without");
    let retry_headers = get(&log.get(1), "headers");
    assert!(get(&retry_headers, "mcp-protocol-version").is_undefined());
    assert!(get(&retry_headers, "accept").is_undefined());
}

#[wasm_bindgen_test]
async fn app_fetch_is_used_for_every_request_with_a_real_request_object() {
    let log = Array::new();
    let answer = js_fn("request", "return new Response(request.url, { status: 200 });");
    let fetcher = app_fetcher(recording_fetch(&log, &answer), 5_000);
    let reqs = [
        HttpRequest::discovery("https://as.example/a".into()),
        HttpRequest::form_post("https://as.example/token", &[("code", "c1")]),
    ];
    let answers = fetcher.all(&reqs).await;
    let bodies: Vec<String> = answers.into_iter().map(|o| response(o).body).collect();
    assert_eq!(bodies, ["https://as.example/a", "https://as.example/token"]);
    assert_eq!(log.length(), 2);
    let post = log.get(1);
    assert_eq!(get(&post, "isRequest"), JsValue::TRUE);
    assert_eq!(get(&post, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(get(&post, "body").as_string().as_deref(), Some("code=c1"));
    assert_eq!(get(&post, "hasSignal"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn app_fetch_rejection_is_a_network_error() {
    let fetcher = app_fetcher(
        js_fn("r", "return Promise.reject(new TypeError('offline'));"),
        5_000,
    );
    let req = HttpRequest::form_post("https://as.example/token", &[("code", "c")]);
    assert_eq!(fetcher.send(&req).await, FetchOutcome::NetworkError);
}

#[wasm_bindgen_test]
async fn app_fetch_answering_something_other_than_a_response_is_a_network_error() {
    let fetcher = app_fetcher(js_fn("r", "return { status: 200 };"), 5_000);
    let req = HttpRequest::form_post("https://as.example/token", &[("code", "c")]);
    assert_eq!(fetcher.send(&req).await, FetchOutcome::NetworkError);
}

#[wasm_bindgen_test]
async fn unreachable_server_is_a_network_error() {
    let outcome = global_fetcher(5_000)
        .send(&HttpRequest::discovery("http://127.0.0.1:9/.well-known/x".into()))
        .await;
    assert_eq!(outcome, FetchOutcome::NetworkError);
}

#[wasm_bindgen_test]
async fn p33_global_fetch_past_timeout_ms_is_a_timeout_naming_url_and_limit() {
    let url = format!("{}/slow?ms=3000", helper_url());
    let started = js_sys::Date::now();
    let outcome = global_fetcher(200)
        .send(&HttpRequest::discovery(url.clone()))
        .await;
    assert_eq!(outcome, FetchOutcome::Timeout { url, after_ms: 200 });
    assert!(js_sys::Date::now() - started < 2_500.0, "aborted, not waited out");
}

#[wasm_bindgen_test]
async fn p33_app_fetch_honouring_the_signal_times_out_as_timeout() {
    let hang_until_aborted = js_fn(
        "request",
        "return new Promise((_, reject) =>
           request.signal.addEventListener('abort', () => reject(request.signal.reason)));",
    );
    let fetcher = app_fetcher(hang_until_aborted, 100);
    let req = HttpRequest::form_post("https://as.example/token", &[("code", "c")]);
    let outcome = fetcher.send(&req).await;
    assert_eq!(
        outcome,
        FetchOutcome::Timeout {
            url: "https://as.example/token".into(),
            after_ms: 100
        }
    );
}

#[wasm_bindgen_test]
async fn p33_timeout_ms_zero_sets_no_limit() {
    let log = Array::new();
    let answer = js_fn("request", "return new Response('ok');");
    let fetcher = app_fetcher(recording_fetch(&log, &answer), 0);
    let outcome = fetcher
        .send(&HttpRequest::discovery("https://as.example/x".into()))
        .await;
    assert_eq!(response(outcome).body, "ok");
    let url = format!("{}/slow?ms=300", helper_url());
    let slow = global_fetcher(0).send(&HttpRequest::discovery(url)).await;
    assert_eq!(response(slow).status, 200);
}

#[wasm_bindgen_test]
async fn p27_resource_request_keeps_the_app_request_and_adds_the_bearer_token() {
    let url = format!("{}/echo", helper_url());
    let init = object(&[
        ("method", "POST".into()),
        ("body", "payload".into()),
        ("headers", object(&[("X-App", "1".into())])),
    ]);
    let request = ResourceRequest::new(&url.as_str().into(), &init).expect("new Request");
    assert_eq!(request.url(), url);
    let fetcher = global_fetcher(5_000);
    let bearer = Credentials {
        access_token: Secret::new("at-123"),
        token_type: TokenType::Bearer,
        proof: None,
    };
    for _ in 0..2 {
        let answer = request.send(&fetcher, Some(&bearer)).await.expect("sent");
        assert_eq!(answer.status, 200);
    }
    let response: web_sys::Response = request.response().dyn_into().expect("the app gets a Response");
    let echo = wasm_bindgen_futures::JsFuture::from(response.json().expect("json"))
        .await
        .expect("body");
    assert_eq!(
        get(&echo, "body").as_string().as_deref(),
        Some("payload"),
        "the body is sent on every attempt"
    );
    let headers = get(&echo, "headers");
    assert_eq!(
        get(&headers, "authorization").as_string().as_deref(),
        Some("Bearer at-123")
    );
    assert_eq!(get(&headers, "x-app").as_string().as_deref(), Some("1"));
}

#[wasm_bindgen_test]
async fn resource_request_reads_www_authenticate_and_keeps_a_raw_rejection() {
    let request = ResourceRequest::new(&format!("{}/headers", helper_url()).into(), &JsValue::UNDEFINED)
        .expect("new Request");
    let answer = request.send(&global_fetcher(5_000), None).await.expect("sent");
    assert_eq!(answer.status, 401);
    assert!(answer
        .www_authenticate
        .unwrap_or_default()
        .contains("invalid_token"));

    let boom = js_fn(
        "r",
        "throw globalThis.__boom = new TypeError('app fetch failed');",
    );
    let request =
        ResourceRequest::new(&"https://mcp.example/x".into(), &JsValue::UNDEFINED).expect("new Request");
    let err = request
        .send(&app_fetcher(boom, 5_000), None)
        .await
        .expect_err("rejected");
    assert_eq!(err.code(), "network_error");
    let raw = request.rejection().expect("the raw rejection is kept");
    assert!(
        js_sys::Object::is(&raw, &get(&js_sys::global(), "__boom")),
        "the very value the app threw"
    );
}

#[wasm_bindgen_test]
fn resource_request_that_cannot_be_built_hands_back_the_constructor_error() {
    let err = ResourceRequest::new(&"http://user:pass@example.com/".into(), &JsValue::UNDEFINED)
        .err()
        .expect("new Request refuses credentials in the URL");
    assert_eq!(
        support::get(&err, "name").as_string().as_deref(),
        Some("TypeError")
    );
}

#[wasm_bindgen_test]
async fn app_fetch_answering_a_response_shaped_object_is_read_like_a_response() {
    let polyfill = js_fn(
        "r",
        "return { status: 201, headers: new Headers({ 'DPoP-Nonce': 'n2' }), text: async () => 'from a polyfill' };",
    );
    let req = HttpRequest::discovery("https://as.example/x".into());
    let r = response(app_fetcher(polyfill, 5_000).send(&req).await);
    assert_eq!(r.status, 201);
    assert_eq!(r.body, "from a polyfill");
    assert_eq!(r.header("dpop-nonce"), Some("n2"));
}
