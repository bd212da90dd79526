//! The options reader and the JS error objects (src/js): what the
//! `McpAuth` constructor accepts and how it refuses the rest.
#![cfg(target_arch = "wasm32")]

mod support;

use mcp_web_auth::core::error::Error;
use mcp_web_auth::core::io::TokenStorage;
use mcp_web_auth::js::options::{parse, Parsed};
use mcp_web_auth::js::McpAuth;
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVER: &str = "https://mcp.example.com/mcp";
const REDIRECT: &str = "http://127.0.0.1:8080/callback";

/// Valid options plus the given ones.
fn options(extra: &[(&str, JsValue)]) -> JsValue {
    let mut pairs = vec![("serverUrl", SERVER.into()), ("redirectUri", REDIRECT.into())];
    pairs.extend(extra.iter().cloned());
    object(&pairs)
}

fn refused(o: &JsValue) -> Error {
    match parse(o) {
        Ok(_) => panic!("options accepted"),
        Err(e) => e,
    }
}

fn assert_invalid_config(o: JsValue, mentions: &str) {
    let e = refused(&o);
    assert_eq!(e.code(), "invalid_config", "{e}");
    assert!(
        e.to_string().contains(mentions),
        "{e:?} should mention {mentions}"
    );
}

#[wasm_bindgen_test]
fn options_that_are_not_an_object_are_invalid_config() {
    assert_invalid_config(
        JsValue::from("https://mcp.example.com/mcp"),
        "options must be an object",
    );
    assert_invalid_config(JsValue::UNDEFINED, "options must be an object");
}

#[wasm_bindgen_test]
fn missing_server_url_or_redirect_uri_is_invalid_config() {
    assert_invalid_config(
        object(&[("redirectUri", REDIRECT.into())]),
        "serverUrl is required",
    );
    assert_invalid_config(object(&[("serverUrl", SERVER.into())]), "redirectUri is required");
}

#[wasm_bindgen_test]
fn a_string_option_of_another_type_is_invalid_config_naming_the_option() {
    assert_invalid_config(options(&[("clientId", 42.into())]), "clientId");
    assert_invalid_config(
        object(&[("serverUrl", true.into()), ("redirectUri", REDIRECT.into())]),
        "serverUrl",
    );
}

#[wasm_bindgen_test]
fn p14_on_insufficient_scope_takes_only_reauthorize_or_throw() {
    assert_invalid_config(
        options(&[("onInsufficientScope", "sometimes".into())]),
        "onInsufficientScope must be 'reauthorize' or 'throw'",
    );
    let Parsed { config, .. } = parse(&options(&[("onInsufficientScope", "throw".into())])).expect("valid");
    assert!(config.step_up.throw);
    let Parsed { config, .. } = parse(&options(&[])).expect("valid");
    assert!(!config.step_up.throw);
    assert_eq!(config.step_up.max_retries, 1, "P-14: the default cap");
}

#[wasm_bindgen_test]
fn numbers_must_be_non_negative() {
    assert_invalid_config(
        options(&[("timeoutMs", (-1).into())]),
        "timeoutMs must be a non-negative number",
    );
    assert_invalid_config(
        options(&[("maxStepUpRetries", f64::NAN.into())]),
        "maxStepUpRetries",
    );
    assert_invalid_config(options(&[("timeoutMs", "5000".into())]), "timeoutMs");
    let Parsed { config, io, .. } = parse(&options(&[
        ("timeoutMs", 0.into()),
        ("maxStepUpRetries", 3.into()),
    ]))
    .expect("valid");
    assert_eq!(io.fetcher.timeout_ms, 0);
    assert_eq!(config.step_up.max_retries, 3);
}

#[wasm_bindgen_test]
fn callbacks_must_be_functions() {
    assert_invalid_config(options(&[("fetch", "fetch".into())]), "fetch must be a function");
    assert_invalid_config(options(&[("onStatus", 1.into())]), "onStatus must be a function");
    assert_invalid_config(
        options(&[("onRedirect", object(&[]))]),
        "onRedirect must be a function",
    );
    let f: JsValue = js_fn("u", "").into();
    let p = parse(&options(&[
        ("onRedirect", f.clone()),
        ("onStatus", f),
        ("fetch", JsValue::NULL),
    ]))
    .expect("valid");
    assert!(p.on_redirect.is_some());
    assert!(p.io.on_status.is_some());
}

#[wasm_bindgen_test]
fn p7_allow_missing_pkce_metadata_is_a_boolean_off_by_default() {
    assert_invalid_config(
        options(&[("allowMissingPkceMetadata", "yes".into())]),
        "allowMissingPkceMetadata",
    );
    assert!(
        !parse(&options(&[]))
            .expect("valid")
            .config
            .discovery
            .allow_missing_pkce_metadata
    );
    let on = parse(&options(&[("allowMissingPkceMetadata", true.into())])).expect("valid");
    assert!(on.config.discovery.allow_missing_pkce_metadata);
}

#[wasm_bindgen_test]
fn token_storage_is_one_of_the_closed_set_or_a_storage_object() {
    let kind = |v: JsValue| {
        parse(&options(&[("tokenStorage", v)]))
            .expect("valid")
            .config
            .token_storage
    };
    assert_eq!(kind(JsValue::UNDEFINED), TokenStorage::Session);
    assert_eq!(kind("session".into()), TokenStorage::Session);
    assert_eq!(kind("local".into()), TokenStorage::Local);
    assert_eq!(kind("memory".into()), TokenStorage::Memory);
    let storage = js_fn("", "return sessionStorage;")
        .call0(&JsValue::UNDEFINED)
        .expect("storage");
    assert_eq!(kind(storage), TokenStorage::Custom);
    assert_invalid_config(options(&[("tokenStorage", "disk".into())]), "\"disk\"");
    assert_invalid_config(options(&[("tokenStorage", 7.into())]), "tokenStorage");
    assert_invalid_config(
        options(&[("tokenStorage", object(&[("getItem", js_fn("k", "").into())]))]),
        "tokenStorage has no setItem method",
    );
}

#[wasm_bindgen_test]
fn unknown_options_are_ignored_and_scope_is_split() {
    let p = parse(&options(&[
        ("somethingNew", 1.into()),
        ("scope", " mcp:read  mcp:write ".into()),
    ]))
    .expect("valid");
    assert_eq!(p.config.app_scope, ["mcp:read", "mcp:write"]);
    assert_eq!(p.config.server_url(), SERVER);
}

#[wasm_bindgen_test]
fn p28_constructor_throws_a_real_mcp_auth_error_with_its_code() {
    let err = McpAuth::new(options(&[("timeoutMs", (-5).into())]))
        .err()
        .expect("refused");
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "name").as_string().as_deref(), Some("McpAuthError"));
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("invalid_config"));
    assert!(get(&err, "message")
        .as_string()
        .unwrap_or_default()
        .contains("timeoutMs"));
}

#[wasm_bindgen_test]
fn p17_insecure_server_url_is_an_insecure_endpoint_error_with_its_url() {
    let o = object(&[
        ("serverUrl", "http://mcp.example/mcp".into()),
        ("redirectUri", REDIRECT.into()),
    ]);
    let err = McpAuth::new(o).err().expect("refused");
    assert_eq!(
        get(&err, "name").as_string().as_deref(),
        Some("InsecureEndpointError")
    );
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("insecure_endpoint")
    );
    assert!(get(&err, "url")
        .as_string()
        .unwrap_or_default()
        .starts_with("http://mcp.example"));
}

#[wasm_bindgen_test]
fn a_wrong_type_message_names_the_option_and_what_it_expects() {
    let e = refused(&options(&[("clientName", false.into())]));
    let message = e.to_string();
    assert!(
        message.contains("clientName") && message.contains("string"),
        "{message}"
    );
}
