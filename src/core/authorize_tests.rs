use super::*;
use crate::core::discovery::AsMetadata;
use crate::core::io::TokenStorage;
use crate::core::pkce;
use crate::core::registration::ClientSource;
use crate::core::testing::form_urldecode;
use crate::core::testing::sha256;
use crate::core::testing::{from_json, to_json, url};

const AUTHZ: &str = "https://as.example.com/authorize";
const NOW: u64 = 1_700_000_000_000;

/// Bytes 0..64: the verifier comes from 0..32, the state from 32..64.
fn counting_random() -> [u8; pkce::RANDOM_BYTES] {
    let mut r = [0u8; pkce::RANDOM_BYTES];
    r.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    r
}

/// base64url(bytes 0..32), computed independently of the crate.
const VERIFIER_0_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/// base64url(SHA-256(VERIFIER_0_32)), computed independently of the crate.
const CHALLENGE_0_32: &str = "6oZqdX5MOLq_qBJ8vppAnT4fk6AP8UiP9zX8-Rev_9A";
/// base64url(bytes 32..64).
const STATE_32_64: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8";

fn metadata(authorization_endpoint: &str, iss_supported: bool) -> AsMetadata {
    AsMetadata {
        issuer: "https://as.example.com".into(),
        authorization_endpoint: url(authorization_endpoint),
        token_endpoint: url("https://as.example.com/token"),
        registration_endpoint: None,
        revocation_endpoint: None,
        scopes_supported: Vec::new(),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        iss_parameter_supported: iss_supported,
        client_id_metadata_document_supported: false,
        token_endpoint_auth_methods_supported: None,
        from_document: true,
        dpop_signing_alg_values_supported: Vec::new(),
    }
}

fn discovered(resource: &str, authorization_endpoint: &str) -> Discovered {
    Discovered {
        resource: resource.into(),
        resource_metadata_url: None,
        prm_scopes_supported: Vec::new(),
        metadata: metadata(authorization_endpoint, true),
    }
}

fn client() -> ClientInfo {
    ClientInfo {
        issuer: "https://as.example.com".into(),
        client_id: "client-1".into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        registered_scope: Vec::new(),
        redirect_uri: "https://app.example.com/callback?from=mcp".into(),
        source: ClientSource::Dynamic,
    }
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn build_with(
    d: &Discovered,
    c: &ClientInfo,
    scope: &[String],
    random: &[u8; 64],
) -> (String, PendingRecord) {
    let params = AuthorizationParams {
        server_url: "https://mcp.example.com/mcp",
        scope,
        return_to: "https://app.example.com/chat#t1",
        token_storage: TokenStorage::Local,
        now_ms: NOW,
        dpop_jkt: None,
    };
    let (verifier, state) = pkce::verifier_and_state(random);
    let challenge = pkce::challenge(&sha256(verifier.expose()));
    let secrets = Pkce {
        verifier,
        challenge,
        state,
    };
    authorization_request(d, c, &params, secrets)
}

fn build(scope: &[String]) -> (String, PendingRecord) {
    build_with(
        &discovered("https://mcp.example.com/mcp", AUTHZ),
        &client(),
        scope,
        &counting_random(),
    )
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let (_, q) = url.split_once('?').expect("the URL has a query");
    form_urldecode(q)
}

/// Every value of `name` in the URL's query.
fn values(url: &str, name: &str) -> Vec<String> {
    query_of(url)
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect()
}

fn single(url: &str, name: &str) -> String {
    let v = values(url, name);
    assert_eq!(v.len(), 1, "{name} must appear exactly once in {url}");
    v[0].clone()
}

#[test]
fn p15_url_targets_the_authorization_endpoint() {
    let (url, _) = build(&scopes(&["mcp:read"]));
    assert!(url.starts_with("https://as.example.com/authorize?"), "{url}");
}

#[test]
fn p15_response_type_is_code() {
    let (url, _) = build(&[]);
    assert_eq!(single(&url, "response_type"), "code");
}

#[test]
fn p15_client_id_and_redirect_uri_are_sent_form_decoded_intact() {
    let (url, _) = build(&[]);
    assert_eq!(single(&url, "client_id"), "client-1");
    assert_eq!(
        single(&url, "redirect_uri"),
        "https://app.example.com/callback?from=mcp"
    );
}

#[test]
fn p16_code_challenge_is_s256_of_the_stored_verifier() {
    let (url, record) = build(&[]);
    assert_eq!(record.verifier.expose(), VERIFIER_0_32);
    assert_eq!(single(&url, "code_challenge"), CHALLENGE_0_32);
    assert_eq!(
        single(&url, "code_challenge"),
        pkce::challenge(&sha256(record.verifier.expose()))
    );
}

#[test]
fn p16_code_challenge_method_is_s256() {
    let (url, _) = build(&[]);
    assert_eq!(single(&url, "code_challenge_method"), "S256");
}

#[test]
fn p16_state_in_the_url_is_the_record_key() {
    let (url, record) = build(&[]);
    assert_eq!(record.state, STATE_32_64);
    assert_eq!(single(&url, "state"), record.state);
}

#[test]
fn p16_verifier_is_never_sent_in_the_url() {
    let (url, record) = build(&[]);
    assert!(!url.contains(record.verifier.expose()), "{url}");
    assert!(values(&url, "code_verifier").is_empty());
}

#[test]
fn p15_resource_is_sent_exactly_as_the_prm_wrote_it_without_a_slash() {
    let d = discovered("http://localhost:1234", AUTHZ);
    let (url, record) = build_with(&d, &client(), &[], &counting_random());
    assert_eq!(single(&url, "resource"), "http://localhost:1234");
    // Form-encoded on the wire, and no `/` was appended before encoding.
    assert!(
        url.contains("resource=http%3A%2F%2Flocalhost%3A1234&")
            || url.ends_with("resource=http%3A%2F%2Flocalhost%3A1234"),
        "{url}"
    );
    assert_eq!(record.resource, "http://localhost:1234");
}

#[test]
fn p15_resource_with_a_trailing_slash_keeps_it() {
    let d = discovered("https://mcp.example.com/", AUTHZ);
    let (url, _) = build_with(&d, &client(), &[], &counting_random());
    assert_eq!(single(&url, "resource"), "https://mcp.example.com/");
}

#[test]
fn p15_scope_is_space_joined_and_form_encoded() {
    let (url, _) = build(&scopes(&["mcp:read", "mcp:write", "offline_access"]));
    assert_eq!(single(&url, "scope"), "mcp:read mcp:write offline_access");
    assert!(
        url.contains("scope=mcp%3Aread+mcp%3Awrite+offline_access"),
        "{url}"
    );
}

#[test]
fn p13_scope_is_omitted_when_empty() {
    let (url, _) = build(&[]);
    assert!(values(&url, "scope").is_empty(), "{url}");
    assert!(!url.contains("scope="), "{url}");
}

#[test]
fn p15_every_parameter_appears_exactly_once() {
    let (url, _) = build(&scopes(&["a"]));
    let mut names: Vec<String> = query_of(&url).into_iter().map(|(k, _)| k).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "client_id",
            "code_challenge",
            "code_challenge_method",
            "redirect_uri",
            "resource",
            "response_type",
            "scope",
            "state"
        ]
    );
}

#[test]
fn p15_existing_query_of_the_authorization_endpoint_is_kept() {
    let d = discovered(
        "https://mcp.example.com/mcp",
        "https://as.example.com/authorize?tenant=t1&p=a+b",
    );
    let (url, _) = build_with(&d, &client(), &[], &counting_random());
    assert!(
        url.starts_with("https://as.example.com/authorize?tenant=t1&p=a+b&"),
        "{url}"
    );
    assert_eq!(single(&url, "tenant"), "t1");
    assert_eq!(single(&url, "p"), "a b");
    assert_eq!(single(&url, "response_type"), "code");
    assert_eq!(url.matches('?').count(), 1, "{url}");
}

#[test]
fn p15_client_secret_is_never_in_the_url() {
    let mut c = client();
    c.client_secret = Some(Secret::new("sek-RET-42"));
    c.auth_method = AuthMethod::ClientSecretBasic;
    let (url, _) = build_with(
        &discovered("https://mcp.example.com/mcp", AUTHZ),
        &c,
        &[],
        &counting_random(),
    );
    assert!(!url.contains("sek-RET-42"), "{url}");
    assert!(values(&url, "client_secret").is_empty());
}

#[test]
fn p16_pending_record_holds_every_field() {
    let mut c = client();
    c.client_secret = Some(Secret::new("s3cret"));
    c.auth_method = AuthMethod::ClientSecretPost;
    let mut d = discovered("https://mcp.example.com/mcp", AUTHZ);
    d.metadata.issuer = "https://as.example.com/tenant".into();
    d.metadata.token_endpoint = url("https://as.example.com/tenant/token");
    d.metadata.iss_parameter_supported = false;
    let requested = scopes(&["mcp:read", "offline_access"]);
    let (_, r) = build_with(&d, &c, &requested, &counting_random());
    let expected = PendingRecord {
        state: STATE_32_64.into(),
        verifier: Secret::new(VERIFIER_0_32),
        issuer: "https://as.example.com/tenant".into(),
        iss_advertised: false,
        token_endpoint: "https://as.example.com/tenant/token".into(),
        client_id: "client-1".into(),
        client_secret: Some(Secret::new("s3cret")),
        auth_method: AuthMethod::ClientSecretPost,
        redirect_uri: "https://app.example.com/callback?from=mcp".into(),
        resource: "https://mcp.example.com/mcp".into(),
        scope: requested,
        server_url: "https://mcp.example.com/mcp".into(),
        return_to: "https://app.example.com/chat#t1".into(),
        created_at_ms: NOW,
        token_storage: TokenStorage::Local,
        dpop: false,
        flow: Flow::Redirect,
    };
    assert_eq!(r, expected);
}

#[test]
fn p20_pending_record_remembers_an_advertised_iss_parameter() {
    let (_, r) = build(&[]);
    assert!(r.iss_advertised);
    assert_eq!(r.issuer, "https://as.example.com");
}

#[test]
fn p16_record_json_round_trips_with_a_secret() {
    let mut c = client();
    c.client_secret = Some(Secret::new("s3cret"));
    c.auth_method = AuthMethod::ClientSecretBasic;
    let (_, r) = build_with(
        &discovered("http://localhost:1234", AUTHZ),
        &c,
        &scopes(&["a", "b"]),
        &counting_random(),
    );
    let text = to_json(&r);
    let back = from_json::<PendingRecord>(&text);
    assert_eq!(back, Some(r));
}

#[test]
fn p16_record_json_round_trips_without_secret_or_scope() {
    let (_, r) = build(&[]);
    assert_eq!(r.client_secret, None);
    let back = from_json::<PendingRecord>(&to_json(&r));
    assert_eq!(back, Some(r));
}

#[test]
fn p16_record_from_json_rejects_a_record_without_verifier() {
    let (_, r) = build(&[]);
    let text = to_json(&r).replace("\"verifier\"", "\"verifier_gone\"");
    assert_eq!(from_json::<PendingRecord>(&text), None);
}

#[test]
fn p16_record_is_live_at_exactly_ten_minutes() {
    let (_, r) = build(&[]);
    assert_eq!(PENDING_TTL_MS, 600_000);
    assert!(!r.is_expired(NOW));
    assert!(!r.is_expired(NOW + 600_000));
}

#[test]
fn p16_record_expires_just_after_ten_minutes() {
    let (_, r) = build(&[]);
    assert!(r.is_expired(NOW + 600_001));
}

#[test]
fn p16_record_with_a_clock_that_went_back_is_not_expired() {
    let (_, r) = build(&[]);
    assert!(!r.is_expired(NOW - 5_000));
}

#[test]
fn p16_different_random_bytes_give_different_state_and_verifier() {
    let d = discovered("https://mcp.example.com/mcp", AUTHZ);
    let mut other = counting_random();
    other[0] ^= 1;
    other[63] ^= 1;
    let (url_a, a) = build_with(&d, &client(), &[], &counting_random());
    let (url_b, b) = build_with(&d, &client(), &[], &other);
    assert_ne!(a.state, b.state);
    assert_ne!(a.verifier, b.verifier);
    assert_ne!(single(&url_a, "code_challenge"), single(&url_b, "code_challenge"));
}

#[test]
fn p16_state_and_verifier_come_from_independent_halves() {
    // Only the state half changes: the verifier must stay, the state must not.
    let d = discovered("https://mcp.example.com/mcp", AUTHZ);
    let mut other = counting_random();
    other[40] ^= 0xff;
    let (_, a) = build_with(&d, &client(), &[], &counting_random());
    let (_, b) = build_with(&d, &client(), &[], &other);
    assert_eq!(a.verifier, b.verifier);
    assert_ne!(a.state, b.state);
}

#[test]
fn p28_pending_record_debug_hides_verifier_and_secret() {
    let mut c = client();
    c.client_secret = Some(Secret::new("s3cret-value"));
    let (_, r) = build_with(
        &discovered("https://mcp.example.com/mcp", AUTHZ),
        &c,
        &[],
        &counting_random(),
    );
    let dbg = format!("{r:?}");
    assert!(!dbg.contains(VERIFIER_0_32), "{dbg}");
    assert!(!dbg.contains("s3cret-value"), "{dbg}");
}

// ---- The authorization URL's query (url crate) ----

#[test]
fn p15_query_is_started_form_encoded() {
    assert_eq!(
        with_query(&url("https://h/a"), &[("x", "1 2"), ("y", "&")]),
        "https://h/a?x=1+2&y=%26"
    );
}

#[test]
fn p15_query_extends_the_endpoints_own_query() {
    assert_eq!(
        with_query(&url("https://h/a?k=v"), &[("x", "1")]),
        "https://h/a?k=v&x=1"
    );
    assert_eq!(with_query(&url("https://h/a?"), &[("x", "1")]), "https://h/a?x=1");
    assert_eq!(
        with_query(&url("https://h/a?k=v&"), &[("x", "1")]),
        "https://h/a?k=v&x=1"
    );
}

#[test]
fn p15_query_drops_the_fragment() {
    assert_eq!(
        with_query(&url("https://h/a?k#f?g"), &[("x", "1")]),
        "https://h/a?k&x=1"
    );
    assert_eq!(with_query(&url("https://h/a#f"), &[]), "https://h/a");
}

#[test]
fn p32_stored_pending_record_with_a_field_of_the_wrong_type_is_absent() {
    let (_, r) = build(&[]);
    let text = to_json(&r).replace("\"created_at_ms\":", "\"created_at_ms\":\"x\",\"was\":");
    assert_eq!(from_json::<PendingRecord>(&text), None);
    let text = to_json(&r).replace("\"token_storage\":\"", "\"token_storage\":\"cookie-");
    assert_eq!(from_json::<PendingRecord>(&text), None);
}

// ---- P-31 returnTo, P-32 tampered pending records ----

const PAGE: &str = "https://app.example.com/chat?x=1#t";

#[test]
fn p31_return_to_defaults_to_the_page() {
    assert_eq!(return_to_url(PAGE, None), Ok(PAGE.to_string()));
}

#[test]
fn p31_return_to_path_becomes_an_absolute_url_of_the_page_origin() {
    assert_eq!(
        return_to_url(PAGE, Some("/done?y=2#z")),
        Ok("https://app.example.com/done?y=2#z".to_string())
    );
    assert_eq!(
        return_to_url(PAGE, Some("next")),
        Ok("https://app.example.com/next".to_string())
    );
}

#[test]
fn p31_return_to_absolute_url_of_the_page_origin_is_kept() {
    assert_eq!(
        return_to_url(PAGE, Some("https://app.example.com/a")),
        Ok("https://app.example.com/a".to_string())
    );
}

#[test]
fn p31_return_to_elsewhere_is_invalid_config() {
    for bad in [
        "//evil.example/x",
        "https://evil.example/",
        "http://app.example.com/",
        "https://app.example.com:8443/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "data:text/html,x",
        "https://app.example.com.evil.example/",
    ] {
        let err = return_to_url(PAGE, Some(bad)).expect_err(bad);
        assert_eq!(err.code(), "invalid_config", "{bad}");
    }
}

#[test]
fn p31_without_a_page_only_a_path_is_accepted_and_kept_as_given() {
    assert_eq!(return_to_url("", Some("/done")), Ok("/done".to_string()));
    assert_eq!(return_to_url("", None), Ok(String::new()));
    for bad in ["//evil.example", "https://app.example.com/", "javascript:x"] {
        assert!(return_to_url("", Some(bad)).is_err(), "{bad}");
    }
}

fn pending(return_to: &str, token_endpoint: &str) -> PendingRecord {
    let (_, mut r) = build(&[]);
    r.return_to = return_to.into();
    r.token_endpoint = token_endpoint.into();
    r
}

#[test]
fn p32_pending_record_with_a_foreign_or_script_return_to_is_invalid() {
    let token = "https://as.example.com/token";
    assert!(pending("https://app.example.com/chat", token).is_valid());
    assert!(pending("/chat", token).is_valid());
    assert!(pending("", token).is_valid());
    for bad in ["javascript:alert(1)", "https://evil.example/", "//evil.example"] {
        assert!(!pending(bad, token).is_valid(), "{bad}");
    }
}

#[test]
fn p32_pending_record_with_an_insecure_token_endpoint_is_invalid() {
    for bad in ["javascript:alert(1)", "http://evil.example/token", "not a url"] {
        assert!(!pending("/chat", bad).is_valid(), "{bad}");
    }
}
