use super::*;
use crate::core::discovery::default_metadata;
use crate::core::http::{HttpResponse, Method};
use crate::core::testing::{from_json, to_json};
use crate::core::testing::{url, Json, JsonFields};
use crate::core::testing::{ISSUER, REDIRECT, REGISTER_URL};

const CIMD_URL: &str = "https://app.example.com/oauth/client.json";

fn meta() -> AsMetadata {
    let mut m = default_metadata(&url(ISSUER));
    m.registration_endpoint = Some(url(REGISTER_URL));
    m.code_challenge_methods_supported = Some(vec!["S256".into()]);
    m.from_document = true;
    m
}

fn cimd_meta() -> AsMetadata {
    let mut m = meta();
    m.client_id_metadata_document_supported = true;
    m
}

fn cfg() -> ClientConfig {
    ClientConfig {
        redirect_uri: REDIRECT.into(),
        client_name: Some("Test app".into()),
        ..ClientConfig::default()
    }
}

fn v(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn ready(r: Result<ClientChoice>) -> ClientInfo {
    match r {
        Ok(ClientChoice::Ready(c)) => c,
        other => panic!("expected Ready, got {other:?}"),
    }
}

fn register(r: Result<ClientChoice>) -> HttpRequest {
    match r {
        Ok(ClientChoice::Register(req)) => req,
        other => panic!("expected Register, got {other:?}"),
    }
}

/// The DCR body `choose_client` would send for `cfg` and `wanted`, parsed.
fn dcr_body(cfg: &ClientConfig, wanted: &[String]) -> Json {
    let req = register(choose_client(cfg, &meta(), None, wanted));
    serde_json::from_str(req.body.as_deref().expect("body")).expect("JSON body")
}

fn answer(status: u16, body: &str) -> FetchOutcome {
    FetchOutcome::Response(HttpResponse::new(status, body))
}

fn dynamic_client(issuer: &str, redirect: &str, scope: &str) -> ClientInfo {
    ClientInfo {
        issuer: issuer.into(),
        client_id: "dyn-1".into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        registered_scope: v(scope),
        redirect_uri: redirect.into(),
        source: ClientSource::Dynamic,
    }
}

fn pre_registered_with_secret(methods: Option<&[&str]>) -> ClientInfo {
    let mut m = meta();
    m.token_endpoint_auth_methods_supported = methods.map(|l| l.iter().map(|s| s.to_string()).collect());
    let c = ClientConfig {
        client_id: Some("pre-1".into()),
        client_secret: Some("pre-secret".into()),
        ..cfg()
    };
    ready(choose_client(&c, &m, None, &[]))
}

// ---- P-9: priority ----

#[test]
fn p9_pre_registered_client_id_beats_cimd_and_dcr() {
    let c = ClientConfig {
        client_id: Some("pre-1".into()),
        client_metadata_url: Some(CIMD_URL.into()),
        ..cfg()
    };
    let cached = dynamic_client(ISSUER, REDIRECT, "");
    let got = ready(choose_client(&c, &cimd_meta(), Some(&cached), &[]));
    assert_eq!(got.client_id, "pre-1");
    assert_eq!(got.source, ClientSource::PreRegistered);
    assert_eq!(got.issuer, ISSUER);
    assert_eq!(got.auth_method, AuthMethod::None);
}

#[test]
fn p9_cimd_beats_dcr_when_the_as_supports_it() {
    let c = ClientConfig {
        client_metadata_url: Some(CIMD_URL.into()),
        ..cfg()
    };
    let cached = dynamic_client(ISSUER, REDIRECT, "");
    let got = ready(choose_client(&c, &cimd_meta(), Some(&cached), &[]));
    assert_eq!(got.client_id, CIMD_URL);
    assert_eq!(got.source, ClientSource::MetadataDocument);
    assert_eq!(got.auth_method, AuthMethod::None);
    assert_eq!(got.client_secret, None);
}

#[test]
fn p9_cimd_url_is_ignored_when_the_as_does_not_support_cimd() {
    let c = ClientConfig {
        client_metadata_url: Some(CIMD_URL.into()),
        ..cfg()
    };
    let req = register(choose_client(&c, &meta(), None, &[]));
    assert_eq!(req.url, REGISTER_URL);
}

#[test]
fn p9_dcr_is_used_without_client_id_or_cimd() {
    let req = register(choose_client(&cfg(), &cimd_meta(), None, &[]));
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, REGISTER_URL);
}

#[test]
fn p9_no_registration_endpoint_means_no_registration_possible() {
    let mut m = meta();
    m.registration_endpoint = None;
    assert_eq!(
        choose_client(&cfg(), &m, None, &[]),
        Err(Error::NoRegistrationPossible)
    );
    let c = ClientConfig {
        client_metadata_url: Some(CIMD_URL.into()),
        ..cfg()
    };
    assert_eq!(
        choose_client(&c, &m, None, &[]),
        Err(Error::NoRegistrationPossible)
    );
}

// ---- P-10: CIMD URL ----

#[test]
fn p10_cimd_url_must_be_https() {
    assert!(valid_metadata_document_url(CIMD_URL));
    assert!(!valid_metadata_document_url("http://app.example.com/client.json"));
    assert!(!valid_metadata_document_url("http://localhost:3000/client.json"));
}

#[test]
fn p10_cimd_url_needs_a_non_root_path() {
    assert!(!valid_metadata_document_url("https://app.example.com"));
    assert!(!valid_metadata_document_url("https://app.example.com/"));
    assert!(!valid_metadata_document_url("https://app.example.com?x=1"));
}

#[test]
fn p10_cimd_url_must_not_have_a_fragment() {
    assert!(!valid_metadata_document_url(
        "https://app.example.com/client.json#x"
    ));
    assert!(!valid_metadata_document_url(
        "https://app.example.com/client.json#"
    ));
}

#[test]
fn p10_cimd_url_must_not_have_dot_segments() {
    for s in [
        "https://app.example.com/a/../b",
        "https://app.example.com/./client.json",
        "https://app.example.com/a/%2e%2e/b",
        "https://app.example.com/a/..",
    ] {
        assert!(!valid_metadata_document_url(s), "{s}");
    }
    assert!(valid_metadata_document_url("https://app.example.com/a..b/.c"));
}

#[test]
fn p10_invalid_cimd_url_is_a_config_error_when_cimd_would_be_used() {
    let c = ClientConfig {
        client_metadata_url: Some("https://app.example.com/a/../client.json".into()),
        ..cfg()
    };
    let r = choose_client(&c, &cimd_meta(), None, &[]);
    assert!(matches!(r, Err(Error::InvalidConfig { .. })), "{r:?}");
}

#[test]
fn p10_cimd_url_is_used_as_is() {
    let url = "https://App.example.com/oauth/Client.json?v=2";
    let c = ClientConfig {
        client_metadata_url: Some(url.into()),
        ..cfg()
    };
    assert_eq!(ready(choose_client(&c, &cimd_meta(), None, &[])).client_id, url);
}

// ---- P-11: the DCR request ----

#[test]
fn p11_dcr_request_is_a_json_post_to_the_registration_endpoint() {
    let req = register(choose_client(&cfg(), &meta(), None, &[]));
    assert_eq!((req.method, req.url.as_str()), (Method::Post, REGISTER_URL));
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(req.header("Accept"), Some("application/json"));
}

#[test]
fn p11_dcr_body_carries_redirect_uris_and_client_name() {
    let body = dcr_body(&cfg(), &[]);
    assert_eq!(
        body.string_array_field("redirect_uris"),
        Some(vec![REDIRECT.to_string()])
    );
    assert_eq!(body.str_field("client_name"), Some("Test app"));
}

#[test]
fn p11_dcr_body_registers_a_public_client_for_code_and_refresh() {
    let body = dcr_body(&cfg(), &[]);
    assert_eq!(body.str_field("token_endpoint_auth_method"), Some("none"));
    assert_eq!(
        body.string_array_field("grant_types"),
        Some(v("authorization_code refresh_token"))
    );
    assert_eq!(body.string_array_field("response_types"), Some(v("code")));
}

#[test]
fn p11_dcr_body_scope_is_the_wanted_scopes_space_joined() {
    let body = dcr_body(&cfg(), &v("mcp:read mcp:write offline_access"));
    assert_eq!(body.str_field("scope"), Some("mcp:read mcp:write offline_access"));
}

#[test]
fn p11_dcr_body_omits_scope_when_none_is_wanted() {
    assert_eq!(dcr_body(&cfg(), &[]).get("scope"), None);
}

#[test]
fn p11_application_type_is_web_for_an_https_redirect() {
    assert_eq!(dcr_body(&cfg(), &[]).str_field("application_type"), Some("web"));
}

#[test]
fn p11_application_type_is_native_for_a_loopback_redirect() {
    for redirect in [
        "http://localhost:3000/cb",
        "http://127.0.0.1:8080/cb",
        "http://[::1]/cb",
    ] {
        let c = ClientConfig {
            redirect_uri: redirect.into(),
            ..cfg()
        };
        assert_eq!(
            dcr_body(&c, &[]).str_field("application_type"),
            Some("native"),
            "{redirect}"
        );
    }
}

#[test]
fn p11_dcr_body_has_a_default_client_name_and_optional_uris() {
    let c = ClientConfig {
        client_name: None,
        client_uri: Some("https://app.example.com".into()),
        logo_uri: Some("https://app.example.com/logo.png".into()),
        ..cfg()
    };
    let body = dcr_body(&c, &[]);
    assert!(body.str_field("client_name").is_some_and(|n| !n.is_empty()));
    assert_eq!(body.str_field("client_uri"), Some("https://app.example.com"));
    assert_eq!(
        body.str_field("logo_uri"),
        Some("https://app.example.com/logo.png")
    );
}

// ---- P-11: the DCR response ----

#[test]
fn p11_response_values_from_the_as_win_over_the_ones_sent() {
    let body = r#"{"client_id":"c-9","client_secret":"s3cr3t","token_endpoint_auth_method":"client_secret_post","scope":"mcp:read other"}"#;
    let c =
        registration_response(&answer(201, body), &meta(), REDIRECT, &v("mcp:read mcp:write")).expect("ok");
    assert_eq!(c.client_id, "c-9");
    assert_eq!(c.client_secret.as_ref().map(Secret::expose), Some("s3cr3t"));
    assert_eq!(c.auth_method, AuthMethod::ClientSecretPost);
    assert_eq!(c.registered_scope, v("mcp:read other"));
    assert_eq!(c.source, ClientSource::Dynamic);
}

#[test]
fn p11_response_without_scope_keeps_the_scope_sent() {
    let sent = v("mcp:read mcp:write");
    let c =
        registration_response(&answer(200, r#"{"client_id":"c-1"}"#), &meta(), REDIRECT, &sent).expect("ok");
    assert_eq!(c.registered_scope, sent);
    assert_eq!(c.auth_method, AuthMethod::None);
    assert_eq!(c.client_secret, None);
}

#[test]
fn p11_response_secret_without_a_method_means_client_secret_basic() {
    // RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    let c = registration_response(
        &answer(201, r#"{"client_id":"c-1","client_secret":"s"}"#),
        &meta(),
        REDIRECT,
        &[],
    )
    .expect("ok");
    assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
}

#[test]
fn p12_registered_client_is_bound_to_the_issuer_and_redirect_uri() {
    let c =
        registration_response(&answer(201, r#"{"client_id":"c-1"}"#), &meta(), REDIRECT, &[]).expect("ok");
    assert_eq!((c.issuer.as_str(), c.redirect_uri.as_str()), (ISSUER, REDIRECT));
}

#[test]
fn p11_rejection_carries_status_and_error_code_but_not_the_description() {
    let body = r#"{"error":"invalid_redirect_uri","error_description":"SENSITIVE-DESCRIPTION"}"#;
    let e = registration_response(&answer(400, body), &meta(), REDIRECT, &[]).expect_err("rejected");
    assert_eq!(
        e,
        Error::RegistrationRejected {
            status: 400,
            error: Some("invalid_redirect_uri".into())
        }
    );
    let msg = e.to_string();
    assert!(!msg.contains("SENSITIVE-DESCRIPTION"), "{msg}");
    assert!(
        msg.contains("400") && msg.contains("invalid_redirect_uri"),
        "{msg}"
    );
}

#[test]
fn p11_rejection_without_a_json_body_has_no_error_code() {
    let e = registration_response(&answer(403, "<html>Forbidden</html>"), &meta(), REDIRECT, &[]);
    assert_eq!(
        e,
        Err(Error::RegistrationRejected {
            status: 403,
            error: None
        })
    );
}

#[test]
fn p11_rejection_error_code_with_odd_characters_is_replaced() {
    let body = r#"{"error":"bad\n[INFO] forged"}"#;
    let e = registration_response(&answer(400, body), &meta(), REDIRECT, &[]).expect_err("rejected");
    assert_eq!(
        e,
        Error::RegistrationRejected {
            status: 400,
            error: Some("invalid_error_code".into())
        }
    );
    assert!(!e.to_string().contains("forged"));
}

#[test]
fn p11_success_without_client_id_is_an_invalid_response() {
    for body in [
        "{}",
        r#"{"client_id":""}"#,
        r#"{"client_id":42}"#,
        "[]",
        "not json",
    ] {
        let r = registration_response(&answer(200, body), &meta(), REDIRECT, &[]);
        assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{body}: {r:?}");
    }
}

#[test]
fn p11_network_failure_during_registration_is_a_network_error() {
    let r = registration_response(&FetchOutcome::NetworkError, &meta(), REDIRECT, &[]);
    assert!(matches!(r, Err(Error::Network { .. })), "{r:?}");
}

// ---- P-12 / P-14: reuse of a cached DCR client ----

#[test]
fn p12_cached_client_for_the_same_issuer_and_redirect_is_reused() {
    let cached = dynamic_client(ISSUER, REDIRECT, "mcp:read mcp:write");
    let got = ready(choose_client(&cfg(), &meta(), Some(&cached), &v("mcp:read")));
    assert_eq!(got, cached);
}

#[test]
fn p12_cached_client_for_another_issuer_is_not_reused() {
    let cached = dynamic_client("https://old-as.example.com", REDIRECT, "");
    let req = register(choose_client(&cfg(), &meta(), Some(&cached), &[]));
    assert_eq!(req.url, REGISTER_URL);
}

#[test]
fn p12_cached_client_for_another_redirect_uri_is_not_reused() {
    let cached = dynamic_client(ISSUER, "https://app.example.com/other-callback", "");
    register(choose_client(&cfg(), &meta(), Some(&cached), &[]));
}

#[test]
fn p14_cached_client_whose_registered_scope_is_too_narrow_registers_again() {
    let cached = dynamic_client(ISSUER, REDIRECT, "mcp:read");
    let wanted = v("mcp:read mcp:admin");
    let req = register(choose_client(&cfg(), &meta(), Some(&cached), &wanted));
    let body: Json = serde_json::from_str(req.body.as_deref().expect("body")).expect("JSON");
    assert_eq!(body["scope"].as_str(), Some("mcp:read mcp:admin"));
}

#[test]
fn p14_cached_client_registered_without_scope_limit_is_reused() {
    let cached = dynamic_client(ISSUER, REDIRECT, "");
    assert_eq!(
        ready(choose_client(&cfg(), &meta(), Some(&cached), &v("anything"))),
        cached
    );
}

// ---- P-17: redirect URIs ----

#[test]
fn p17_http_non_loopback_redirect_uri_is_refused() {
    let insecure = "http://app.example.com/callback";
    for client_id in [None, Some("pre-1".to_string())] {
        let c = ClientConfig {
            redirect_uri: insecure.into(),
            client_id,
            ..cfg()
        };
        assert_eq!(
            choose_client(&c, &meta(), None, &[]),
            Err(Error::InsecureEndpoint { url: insecure.into() })
        );
    }
}

#[test]
fn p17_loopback_and_https_redirect_uris_are_accepted() {
    for r in [
        "https://app.example.com/cb",
        "http://localhost:5173/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
    ] {
        assert_eq!(check_redirect_uri(r), Ok(()), "{r}");
    }
    assert!(check_redirect_uri("http://localhost.evil.com/cb").is_err());
}

#[test]
fn p17_relative_redirect_uri_is_a_config_error() {
    assert!(matches!(
        check_redirect_uri("/callback"),
        Err(Error::InvalidConfig { .. })
    ));
}

// ---- P-23a: pre-registered client with a secret ----

#[test]
fn p23a_pre_registered_secret_uses_basic_when_the_as_lists_basic() {
    let c = pre_registered_with_secret(Some(&["client_secret_post", "client_secret_basic"]));
    assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(c.client_secret.as_ref().map(Secret::expose), Some("pre-secret"));
}

#[test]
fn p23a_pre_registered_secret_uses_basic_when_the_as_lists_nothing() {
    assert_eq!(
        pre_registered_with_secret(None).auth_method,
        AuthMethod::ClientSecretBasic
    );
}

#[test]
fn p23a_pre_registered_secret_uses_post_when_the_as_lists_only_post() {
    let c = pre_registered_with_secret(Some(&["none", "client_secret_post"]));
    assert_eq!(c.auth_method, AuthMethod::ClientSecretPost);
}

#[test]
fn p23a_pre_registered_client_without_secret_is_public() {
    let c = ClientConfig {
        client_id: Some("pre-1".into()),
        ..cfg()
    };
    let got = ready(choose_client(&c, &meta(), None, &[]));
    assert_eq!((got.auth_method, got.client_secret), (AuthMethod::None, None));
}

// ---- Persistence and redaction ----

#[test]
fn client_info_json_round_trip_keeps_every_field() {
    let with_secret = ClientInfo {
        issuer: ISSUER.into(),
        client_id: "c-1".into(),
        client_secret: Some(Secret::new("s3cr3t")),
        auth_method: AuthMethod::ClientSecretPost,
        registered_scope: v("mcp:read offline_access"),
        redirect_uri: REDIRECT.into(),
        source: ClientSource::Dynamic,
    };
    let cimd = ClientInfo {
        client_id: CIMD_URL.into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        registered_scope: Vec::new(),
        source: ClientSource::MetadataDocument,
        ..with_secret.clone()
    };
    let pre = ClientInfo {
        auth_method: AuthMethod::ClientSecretBasic,
        source: ClientSource::PreRegistered,
        ..with_secret.clone()
    };
    for c in [with_secret, cimd, pre] {
        let text = to_json(&c);
        let back = from_json::<ClientInfo>(&text);
        assert_eq!(back.as_ref(), Some(&c), "{text}");
    }
}

#[test]
fn p28_client_info_debug_does_not_show_the_secret() {
    let c = ClientInfo {
        client_secret: Some(Secret::new("TOP-SECRET-VALUE")),
        ..dynamic_client(ISSUER, REDIRECT, "")
    };
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("TOP-SECRET-VALUE"), "{dbg}");
    assert!(dbg.contains("dyn-1"));
}

// Documents by serde, URLs by the url crate.

#[test]
fn p11_registration_response_ignores_unknown_fields() {
    let body = r#"{"client_id":"c1","client_id_issued_at":1,"redirect_uris":["x"],"ext":{"a":null}}"#;
    let c = registration_response(&answer(201, body), &meta(), REDIRECT, &[]).expect("client");
    assert_eq!(c.client_id, "c1");
}

#[test]
fn p11_registration_response_field_of_the_wrong_type_is_invalid_response() {
    for body in [
        r#"{"client_id":5}"#,
        r#"{"client_id":"c1","scope":["a"]}"#,
        r#"["c1"]"#,
    ] {
        let err = registration_response(&answer(201, body), &meta(), REDIRECT, &[]).expect_err(body);
        assert_eq!(err.code(), "invalid_response", "{body}");
    }
}

#[test]
fn p11_rejection_keeps_the_error_code_when_the_description_is_odd() {
    let body = r#"{"error":"invalid_client_metadata","error_description":"\ud800"}"#;
    assert_eq!(
        registration_response(&answer(400, body), &meta(), REDIRECT, &[]),
        Err(Error::RegistrationRejected {
            status: 400,
            error: Some("invalid_client_metadata".into())
        })
    );
}

#[test]
fn p33_redirect_uri_with_a_fragment_is_invalid_config() {
    for uri in [
        "https://app.example.com/cb#x",
        "https://app.example.com/cb#",
        "http://localhost/cb#a",
    ] {
        assert!(
            matches!(check_redirect_uri(uri), Err(Error::InvalidConfig { .. })),
            "{uri}"
        );
    }
}

#[test]
fn p17_redirect_uri_on_ipv6_loopback_in_any_spelling_is_native() {
    for uri in [
        "http://[::1]:8080/cb",
        "http://[0:0:0:0:0:0:0:1]:8080/cb",
        "http://[0000::0001]/cb",
    ] {
        assert_eq!(check_redirect_uri(uri), Ok(()), "{uri}");
        let c = ClientConfig {
            redirect_uri: uri.into(),
            ..cfg()
        };
        assert_eq!(
            dcr_body(&c, &[]).str_field("application_type"),
            Some("native"),
            "{uri}"
        );
    }
    assert!(matches!(
        check_redirect_uri("http://[::2]/cb"),
        Err(Error::InsecureEndpoint { .. })
    ));
}

#[test]
fn p17_redirect_uri_with_a_non_ascii_host_asks_for_punycode() {
    let err = check_redirect_uri("https://bücher.example/cb").expect_err("non-ASCII host");
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("punycode"), "{err}");
    assert_eq!(check_redirect_uri("https://xn--bcher-kva.example/cb"), Ok(()));
}

#[test]
fn p10_metadata_document_url_rules() {
    assert!(valid_metadata_document_url(
        "https://app.example.com/oauth/client.json"
    ));
    for bad in [
        "http://app.example.com/client.json",
        "https://app.example.com",
        "https://app.example.com/",
        "https://app.example.com/client.json#f",
        "https://app.example.com/a/../client.json",
        "https://app.example.com/a/./client.json",
        "https://app.example.com/%2E%2e/client.json",
        "https://app.example.com/.%2E",
    ] {
        assert!(!valid_metadata_document_url(bad), "{bad}");
    }
    assert!(valid_metadata_document_url(
        "https://app.example.com/a.b/..c/.well-known/x"
    ));
    assert!(valid_metadata_document_url(
        "https://app.example.com/c.json?x=/../"
    ));
}

#[test]
fn p30_redirect_answer_to_registration_is_invalid_response_not_a_rejection() {
    for outcome in [
        FetchOutcome::Redirected {
            url: REGISTER_URL.into(),
        },
        FetchOutcome::Response(HttpResponse::new(308, "")),
    ] {
        let r = registration_response(&outcome, &meta(), REDIRECT, &[]);
        assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
    }
}

#[test]
fn p33_network_failure_during_registration_names_the_registration_endpoint() {
    let r = registration_response(&FetchOutcome::NetworkError, &meta(), REDIRECT, &[]);
    match r {
        Err(Error::Network { url, .. }) => assert_eq!(url, REGISTER_URL),
        other => panic!("{other:?}"),
    }
}
