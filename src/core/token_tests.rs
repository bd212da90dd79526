use super::*;
use crate::core::http::{HttpResponse, Method};
use crate::core::testing::form_urldecode;
use crate::core::testing::{from_json, to_json, Json};

const TOKEN: &str = "https://as.example.com/token";
const RESOURCE: &str = "http://localhost:1234";
const NOW: u64 = 1_700_000_000_000;

fn public() -> ClientAuth<'static> {
    ClientAuth {
        client_id: "client-1",
        client_secret: None,
        method: AuthMethod::None,
    }
}

fn with_secret<'a>(method: AuthMethod, id: &'a str, secret: &'a Secret) -> ClientAuth<'a> {
    ClientAuth {
        client_id: id,
        client_secret: Some(secret),
        method,
    }
}

fn body_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    form_urldecode(req.body.as_deref().expect("a form body"))
}

fn body_names(req: &HttpRequest) -> Vec<String> {
    let mut n: Vec<String> = body_pairs(req).into_iter().map(|(k, _)| k).collect();
    n.sort();
    n
}

fn field(req: &HttpRequest, name: &str) -> Option<String> {
    let v: Vec<String> = body_pairs(req)
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .collect();
    assert!(v.len() <= 1, "{name} appears {} times", v.len());
    v.into_iter().next()
}

fn code_req(auth: &ClientAuth<'_>) -> Result<HttpRequest> {
    code_request(
        TOKEN,
        auth,
        "code/1+x",
        &Secret::new("verifier-abc"),
        "https://app.example.com/cb",
        RESOURCE,
    )
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

fn respond(status: u16, body: &str) -> FetchOutcome {
    FetchOutcome::Response(HttpResponse::new(status, body))
}

fn read(outcome: &FetchOutcome, requested: &[String], previous: Option<&Secret>) -> Result<TokenSet> {
    token_response(
        outcome,
        &TokenContext {
            request: "the token request",
            endpoint: "https://as.example.com/token",
            requested_scope: requested,
            issuer: "https://as.example.com",
            resource: RESOURCE,
            client_id: "client-1",
            now_ms: NOW,
            previous_refresh_token: previous,
        },
    )
}

fn read_ok(body: &str) -> Result<TokenSet> {
    read(&respond(200, body), &scopes(&["mcp:read"]), None)
}

fn token_set() -> TokenSet {
    TokenSet {
        access_token: Secret::new("AT-secret-1"),
        refresh_token: Some(Secret::new("RT-secret-1")),
        expires_at_ms: Some(NOW + 3_600_000),
        refresh_at_ms: Some(NOW + 3_570_000),
        scope: scopes(&["mcp:read", "mcp:write"]),
        requested: scopes(&["mcp:read"]),
        issuer: "https://as.example.com".into(),
        resource: RESOURCE.into(),
        client_id: "client-1".into(),
        token_type: TokenType::Bearer,
    }
}

// P-23: requests.

#[test]
fn p23_code_exchange_is_a_form_post_accepting_json() {
    let req = code_req(&public()).expect("request");
    assert_eq!(req.method, Method::Post);
    assert_eq!(req.url, TOKEN);
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.header("accept"), Some("application/json"));
}

#[test]
fn p23_code_exchange_body_has_every_field_once() {
    let req = code_req(&public()).expect("request");
    assert_eq!(
        body_names(&req),
        [
            "client_id",
            "code",
            "code_verifier",
            "grant_type",
            "redirect_uri",
            "resource"
        ]
    );
    assert_eq!(field(&req, "grant_type").as_deref(), Some("authorization_code"));
    assert_eq!(field(&req, "code").as_deref(), Some("code/1+x"));
    assert_eq!(field(&req, "code_verifier").as_deref(), Some("verifier-abc"));
    assert_eq!(
        field(&req, "redirect_uri").as_deref(),
        Some("https://app.example.com/cb")
    );
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
}

#[test]
fn p15_code_exchange_sends_resource_as_written() {
    let req = code_req(&public()).expect("request");
    assert_eq!(field(&req, "resource").as_deref(), Some("http://localhost:1234"));
    assert!(req
        .body
        .as_deref()
        .is_some_and(|b| b.contains("code=code%2F1%2Bx")));
}

#[test]
fn p25_refresh_body_has_grant_token_resource_client_id_and_no_scope() {
    let req = refresh_request(TOKEN, &public(), &Secret::new("RT-1"), RESOURCE).expect("request");
    assert_eq!(
        body_names(&req),
        ["client_id", "grant_type", "refresh_token", "resource"]
    );
    assert_eq!(field(&req, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(field(&req, "refresh_token").as_deref(), Some("RT-1"));
    assert_eq!(field(&req, "resource").as_deref(), Some(RESOURCE));
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
    assert_eq!(field(&req, "scope"), None);
    assert_eq!(req.header("accept"), Some("application/json"));
}

#[test]
fn p23_http_non_loopback_token_endpoint_is_insecure() {
    let r = code_request(
        "http://as.example.com/token",
        &public(),
        "c",
        &Secret::new("v"),
        "https://app.example.com/cb",
        RESOURCE,
    );
    assert_eq!(
        r,
        Err(Error::InsecureEndpoint {
            url: "http://as.example.com/token".into()
        })
    );
}

#[test]
fn p25_refresh_to_http_non_loopback_endpoint_is_insecure() {
    let r = refresh_request(
        "http://as.example.com/token",
        &public(),
        &Secret::new("RT"),
        RESOURCE,
    );
    assert!(matches!(r, Err(Error::InsecureEndpoint { .. })), "{r:?}");
}

#[test]
fn p23_http_loopback_token_endpoint_is_allowed() {
    for url in [
        "http://localhost:9000/token",
        "http://127.0.0.1:9000/token",
        "http://[::1]:9000/token",
    ] {
        let r = code_request(
            url,
            &public(),
            "c",
            &Secret::new("v"),
            "http://localhost/cb",
            RESOURCE,
        );
        assert!(r.is_ok(), "{url}: {r:?}");
    }
}

#[test]
fn p23_relative_token_endpoint_is_rejected() {
    let r = code_request(
        "/token",
        &public(),
        "c",
        &Secret::new("v"),
        "https://a/cb",
        RESOURCE,
    );
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

// P-23a: client authentication.

#[test]
fn p23a_none_sends_client_id_in_body_and_no_authorization_header() {
    let req = code_req(&public()).expect("request");
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
    assert_eq!(field(&req, "client_secret"), None);
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn p23a_none_ignores_a_secret_it_was_given() {
    let secret = Secret::new("unused-secret");
    let auth = with_secret(AuthMethod::None, "client-1", &secret);
    let req = code_req(&auth).expect("request");
    assert!(!req.body.as_deref().unwrap_or_default().contains("unused-secret"));
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn p23a_client_secret_post_puts_id_and_secret_in_body() {
    let secret = Secret::new("s3cr et");
    let auth = with_secret(AuthMethod::ClientSecretPost, "client-1", &secret);
    let req = code_req(&auth).expect("request");
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
    assert_eq!(field(&req, "client_secret").as_deref(), Some("s3cr et"));
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn p23a_client_secret_basic_header_form_encodes_id_and_secret() {
    // base64("my+client%3A1:p%40ss+word%3Ax"), computed independently.
    let secret = Secret::new("p@ss word:x");
    let auth = with_secret(AuthMethod::ClientSecretBasic, "my client:1", &secret);
    let req = code_req(&auth).expect("request");
    assert_eq!(
        req.header("authorization"),
        Some("Basic bXkrY2xpZW50JTNBMTpwJTQwc3Mrd29yZCUzQXg=")
    );
}

#[test]
fn p23a_client_secret_basic_keeps_the_secret_out_of_the_body() {
    let secret = Secret::new("p@ss word:x");
    let auth = with_secret(AuthMethod::ClientSecretBasic, "my client:1", &secret);
    let req = code_req(&auth).expect("request");
    assert_eq!(field(&req, "client_secret"), None);
    let body = req.body.clone().unwrap_or_default();
    assert!(!body.contains("p%40ss") && !body.contains("p@ss"), "{body}");
}

#[test]
fn p23a_secret_method_without_a_secret_falls_back_to_public() {
    let auth = ClientAuth {
        client_id: "client-1",
        client_secret: None,
        method: AuthMethod::ClientSecretBasic,
    };
    let req = code_req(&auth).expect("request");
    assert_eq!(req.header("authorization"), None);
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
}

#[test]
fn p23a_refresh_uses_client_secret_basic_too() {
    let secret = Secret::new("p@ss word:x");
    let auth = with_secret(AuthMethod::ClientSecretBasic, "my client:1", &secret);
    let req = refresh_request(TOKEN, &auth, &Secret::new("RT-1"), RESOURCE).expect("request");
    assert_eq!(
        req.header("authorization"),
        Some("Basic bXkrY2xpZW50JTNBMTpwJTQwc3Mrd29yZCUzQXg=")
    );
    assert_eq!(field(&req, "client_secret"), None);
}

#[test]
fn p23a_revocation_uses_client_secret_basic_too() {
    let secret = Secret::new("p@ss word:x");
    let auth = with_secret(AuthMethod::ClientSecretBasic, "my client:1", &secret);
    let req = revocation_request(
        "https://as.example.com/revoke",
        &auth,
        &Secret::new("RT-1"),
        "refresh_token",
    )
    .expect("request");
    assert_eq!(req.url, "https://as.example.com/revoke");
    assert_eq!(
        req.header("authorization"),
        Some("Basic bXkrY2xpZW50JTNBMTpwJTQwc3Mrd29yZCUzQXg=")
    );
    assert_eq!(body_names(&req), ["token", "token_type_hint"]);
    assert_eq!(field(&req, "token").as_deref(), Some("RT-1"));
    assert_eq!(field(&req, "token_type_hint").as_deref(), Some("refresh_token"));
}

#[test]
fn p23a_revocation_uses_client_secret_post_too() {
    let secret = Secret::new("s3cret");
    let auth = with_secret(AuthMethod::ClientSecretPost, "client-1", &secret);
    let req = revocation_request(
        "https://as.example.com/revoke",
        &auth,
        &Secret::new("AT-1"),
        "access_token",
    )
    .expect("request");
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
    assert_eq!(field(&req, "client_secret").as_deref(), Some("s3cret"));
    assert_eq!(req.header("authorization"), None);
}

#[test]
fn p23a_public_revocation_sends_client_id() {
    let req = revocation_request(
        "https://as.example.com/revoke",
        &public(),
        &Secret::new("AT-1"),
        "access_token",
    )
    .expect("request");
    assert_eq!(field(&req, "client_id").as_deref(), Some("client-1"));
    assert_eq!(req.header("authorization"), None);
}

// P-23..P-25: responses.

#[test]
fn p23_200_with_an_error_member_is_an_oauth_error() {
    let r = read_ok(r#"{"error":"invalid_request","access_token":"AT","token_type":"Bearer"}"#);
    assert!(
        matches!(r, Err(Error::OAuth { ref code, .. }) if code == "invalid_request"),
        "{r:?}"
    );
}

#[test]
fn p23_400_invalid_grant_is_an_oauth_error_with_code_and_description() {
    let r = read(
        &respond(
            400,
            r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://as/e"}"#,
        ),
        &[],
        None,
    );
    assert_eq!(
        r,
        Err(Error::OAuth {
            code: "invalid_grant".into(),
            description: Some("expired".into()),
            uri: Some("https://as/e".into()),
        })
    );
}

#[test]
fn p23_non_json_500_is_not_an_oauth_error() {
    let r = read(&respond(500, "<html>Internal Server Error</html>"), &[], None);
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

#[test]
fn p23_json_error_status_without_error_member_is_not_an_oauth_error() {
    let r = read(&respond(401, r#"{"message":"nope"}"#), &[], None);
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

#[test]
fn p26_network_failure_is_a_network_error_that_invalidates_nothing() {
    let err = read(&FetchOutcome::NetworkError, &[], None).expect_err("must fail");
    assert!(matches!(err, Error::Network { .. }), "{err:?}");
    assert_eq!(invalidated_by(&err), Invalidate::Nothing);
}

#[test]
fn p23_missing_access_token_is_rejected() {
    let r = read_ok(r#"{"token_type":"Bearer","expires_in":60}"#);
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

#[test]
fn p23_empty_access_token_is_rejected() {
    let r = read_ok(r#"{"access_token":"","token_type":"Bearer"}"#);
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

// P-38 reverses P-23's "Bearer only": DPoP is accepted, any case, and recorded.
#[test]
fn p38_dpop_token_type_is_accepted_case_insensitively_and_recorded() {
    for written in ["DPoP", "dpop", "DPOP"] {
        let t = read_ok(&format!(r#"{{"access_token":"AT","token_type":"{written}"}}"#)).expect("tokens");
        assert_eq!(t.token_type, TokenType::DPoP, "{written}");
    }
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer"}"#).expect("tokens");
    assert_eq!(t.token_type, TokenType::Bearer);
}

#[test]
fn p38_other_token_types_are_rejected() {
    for other in ["MAC", "N_A", ""] {
        let r = read_ok(&format!(r#"{{"access_token":"AT","token_type":"{other}"}}"#));
        assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{other}: {r:?}");
    }
}

#[test]
fn p39_invalid_dpop_proof_on_refresh_invalidates_the_tokens() {
    assert_eq!(
        invalidated_by(&Error::oauth("invalid_dpop_proof", None, None)),
        Invalidate::Tokens
    );
}

#[test]
fn p38_token_type_defaults_to_bearer_in_old_records() {
    let mut old: Json = serde_json::from_str(&to_json(&token_set())).unwrap();
    old.as_object_mut().unwrap().remove("token_type");
    let back = from_json::<TokenSet>(&old.to_string()).expect("an old record");
    assert_eq!(back.token_type, TokenType::Bearer);
}

#[test]
fn p23_missing_token_type_is_rejected() {
    let r = read_ok(r#"{"access_token":"AT"}"#);
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

#[test]
fn p23_lowercase_bearer_is_accepted() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"bearer"}"#).expect("tokens");
    assert_eq!(t.access_token.expose(), "AT");
}

#[test]
fn p24_granted_scope_is_the_response_scope() {
    let t = read(
        &respond(
            200,
            r#"{"access_token":"AT","token_type":"Bearer","scope":"mcp:read  mcp:admin"}"#,
        ),
        &scopes(&["mcp:read", "mcp:write"]),
        None,
    )
    .expect("tokens");
    assert_eq!(t.scope, scopes(&["mcp:read", "mcp:admin"]));
    assert_eq!(t.requested, scopes(&["mcp:read", "mcp:write"]));
}

#[test]
fn p24_absent_scope_means_the_requested_scope() {
    let t = read(
        &respond(200, r#"{"access_token":"AT","token_type":"Bearer"}"#),
        &scopes(&["mcp:read", "mcp:write"]),
        None,
    )
    .expect("tokens");
    assert_eq!(t.scope, scopes(&["mcp:read", "mcp:write"]));
}

#[test]
fn p24_null_scope_means_the_requested_scope() {
    let t = read(
        &respond(200, r#"{"access_token":"AT","token_type":"Bearer","scope":null}"#),
        &scopes(&["mcp:read"]),
        None,
    )
    .expect("tokens");
    assert_eq!(t.scope, scopes(&["mcp:read"]));
}

#[test]
fn p24_expires_in_is_added_to_the_injected_clock() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer","expires_in":3600}"#).expect("tokens");
    assert_eq!(t.expires_at_ms, Some(NOW + 3_600_000));
}

#[test]
fn p24_absent_expires_in_means_no_expiry() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer"}"#).expect("tokens");
    assert_eq!(t.expires_at_ms, None);
    assert!(!t.is_expired(u64::MAX, 0));
}

#[test]
fn p24_negative_expires_in_is_ignored() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer","expires_in":-5}"#).expect("tokens");
    assert_eq!(t.expires_at_ms, None);
}

#[test]
fn p24_token_set_records_issuer_and_resource_of_the_context() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer"}"#).expect("tokens");
    assert_eq!(t.issuer, "https://as.example.com");
    assert_eq!(t.resource, RESOURCE);
}

#[test]
fn p25_rotated_refresh_token_replaces_the_previous_one() {
    let old = Secret::new("RT-old");
    let t = read(
        &respond(
            200,
            r#"{"access_token":"AT","token_type":"Bearer","refresh_token":"RT-new"}"#,
        ),
        &[],
        Some(&old),
    )
    .expect("tokens");
    assert_eq!(t.refresh_token, Some(Secret::new("RT-new")));
}

#[test]
fn p25_absent_refresh_token_keeps_the_previous_one() {
    let old = Secret::new("RT-old");
    let t = read(
        &respond(200, r#"{"access_token":"AT","token_type":"Bearer"}"#),
        &[],
        Some(&old),
    )
    .expect("tokens");
    assert_eq!(t.refresh_token, Some(old));
}

#[test]
fn p13_code_exchange_without_refresh_token_has_none() {
    let t = read_ok(r#"{"access_token":"AT","token_type":"Bearer"}"#).expect("tokens");
    assert_eq!(t.refresh_token, None);
}

#[test]
fn p24_is_expired_counts_the_skew() {
    let t = token_set();
    let exp = NOW + 3_600_000;
    assert!(!t.is_expired(exp - 30_001, 30_000));
    assert!(t.is_expired(exp - 30_000, 30_000));
    assert!(!t.is_expired(exp - 1, 0));
    assert!(t.is_expired(exp, 0));
}

// P-26.

#[test]
fn p26_invalid_grant_invalidates_tokens() {
    assert_eq!(
        invalidated_by(&Error::oauth("invalid_grant", None, None)),
        Invalidate::Tokens
    );
}

#[test]
fn p26_invalid_client_invalidates_client_and_tokens() {
    assert_eq!(
        invalidated_by(&Error::oauth("invalid_client", None, None)),
        Invalidate::ClientAndTokens
    );
}

#[test]
fn p26_unauthorized_client_invalidates_client_and_tokens() {
    assert_eq!(
        invalidated_by(&Error::oauth("unauthorized_client", None, None)),
        Invalidate::ClientAndTokens
    );
}

#[test]
fn p26_other_errors_invalidate_nothing() {
    for e in [
        Error::oauth("invalid_scope", None, None),
        Error::oauth("server_error", None, None),
        Error::oauth("temporarily_unavailable", None, None),
        Error::invalid("token endpoint answered HTTP 500"),
        Error::InsecureEndpoint {
            url: "http://x".into(),
        },
    ] {
        assert_eq!(invalidated_by(&e), Invalidate::Nothing, "{e:?}");
    }
}

#[test]
fn p26_invalid_grant_from_a_400_response_invalidates_tokens() {
    let err = read(&respond(400, r#"{"error":"invalid_grant"}"#), &[], None).expect_err("must fail");
    assert_eq!(invalidated_by(&err), Invalidate::Tokens);
}

// Storage and secrecy.

#[test]
fn p12_token_set_json_round_trips() {
    let t = token_set();
    let back = from_json::<TokenSet>(&to_json(&t));
    assert_eq!(back, Some(t));
}

#[test]
fn p12_token_set_without_refresh_or_expiry_round_trips() {
    let t = TokenSet {
        refresh_token: None,
        expires_at_ms: None,
        refresh_at_ms: None,
        scope: Vec::new(),
        ..token_set()
    };
    let back = from_json::<TokenSet>(&to_json(&t));
    assert_eq!(back, Some(t));
}

#[test]
fn p28_token_set_debug_shows_no_token() {
    let dbg = format!("{:?}", token_set());
    assert!(!dbg.contains("AT-secret-1"), "{dbg}");
    assert!(!dbg.contains("RT-secret-1"), "{dbg}");
}

#[test]
fn p28_request_debug_shows_no_code_verifier_or_secret() {
    let secret = Secret::new("p@ss word:x");
    let auth = with_secret(AuthMethod::ClientSecretBasic, "my client:1", &secret);
    let dbg = format!("{:?}", code_req(&auth).expect("request"));
    for s in ["code/1", "verifier-abc", "p@ss", "bXkr"] {
        assert!(!dbg.contains(s), "{s} leaked: {dbg}");
    }
}

#[test]
fn p28_token_error_messages_contain_no_token_code_verifier_or_secret() {
    let leaks = [
        "AT-leak-77",
        "RT-leak-88",
        "CODE-leak-99",
        "VERIFIER-leak-11",
        "SECRET-leak-22",
    ];
    let description = leaks.join(" ");
    let bodies = [
        (
            400,
            format!(
                r#"{{"error":"invalid_grant","error_description":"{description}","error_uri":"https://as/{}"}}"#,
                leaks[0]
            ),
        ),
        (
            200,
            format!(
                r#"{{"error":"server_error","error_description":"{description}","access_token":"{}"}}"#,
                leaks[0]
            ),
        ),
        (
            400,
            format!(
                r#"{{"error":"{} with spaces","error_description":"{description}"}}"#,
                leaks[2]
            ),
        ),
        (500, format!("upstream failed: {description}")),
        (401, format!(r#"{{"message":"{description}"}}"#)),
        (
            200,
            format!(
                // An unknown type (this case read "DPoP" before P-38 made DPoP valid).
                r#"{{"access_token":"{}","token_type":"MAC","refresh_token":"{}"}}"#,
                leaks[0], leaks[1]
            ),
        ),
        (
            200,
            format!(r#"{{"token_type":"Bearer","refresh_token":"{}"}}"#, leaks[1]),
        ),
    ];
    for (status, body) in bodies {
        let err = read(&respond(status, &body), &[], None).expect_err("must fail");
        let msg = err.to_string();
        for leak in leaks {
            assert!(!msg.contains(leak), "{leak} in {msg:?} from {body}");
        }
    }
}

#[test]
fn p25_long_lived_token_is_refreshed_30_seconds_before_expiry() {
    let t = read_ok(r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#).expect("tokens");
    assert_eq!(t.refresh_at_ms, Some(NOW + 3_570_000));
    assert!(!t.wants_refresh(NOW + 3_569_999));
    assert!(t.wants_refresh(NOW + 3_570_000));
}

#[test]
fn p25_short_lived_token_is_not_due_for_refresh_on_arrival() {
    let t = read_ok(r#"{"access_token":"a","token_type":"Bearer","expires_in":4}"#).expect("tokens");
    assert!(!t.wants_refresh(NOW + 1));
    assert_eq!(t.refresh_at_ms, Some(NOW + 2_000));
    assert!(t.wants_refresh(NOW + 2_000));
}

// Documents by serde: what the reader tolerates and what it refuses.

#[test]
fn p26_lone_surrogate_in_description_does_not_hide_invalid_grant() {
    let body = r#"{"error":"invalid_grant","error_description":"\ud800"}"#;
    let err = read(&respond(400, body), &[], None).expect_err("an OAuth error");
    assert!(
        matches!(&err, Error::OAuth { code, .. } if code == "invalid_grant"),
        "{err:?}"
    );
    assert_eq!(invalidated_by(&err), Invalidate::Tokens);
}

#[test]
fn p26_number_in_description_does_not_hide_invalid_grant() {
    let body = r#"{"error":"invalid_grant","error_description":42,"error_uri":"https://as/e"}"#;
    assert_eq!(
        read(&respond(400, body), &[], None),
        Err(Error::OAuth {
            code: "invalid_grant".into(),
            description: None,
            uri: Some("https://as/e".into()),
        })
    );
}

#[test]
fn p23_error_in_a_200_with_an_odd_description_is_still_an_error() {
    let body = r#"{"error":"invalid_client","error_description":{"x":[1]},"access_token":"t"}"#;
    let err = read_ok(body).expect_err("an OAuth error");
    assert_eq!(invalidated_by(&err), Invalidate::ClientAndTokens);
}

#[test]
fn p23_token_response_ignores_unknown_fields() {
    let body = r#"{"access_token":"at","token_type":"Bearer","id_token":"x.y.z","ext":{"a":[1,null]},"expires_in":60}"#;
    let t = read_ok(body).expect("tokens");
    assert_eq!(t.access_token.expose(), "at");
}

#[test]
fn p23_token_response_field_of_the_wrong_type_is_invalid_response() {
    for body in [
        r#"{"access_token":5,"token_type":"Bearer"}"#,
        r#"{"access_token":"at","token_type":"Bearer","expires_in":"3600"}"#,
        r#"{"access_token":"at","token_type":"Bearer","scope":["a"]}"#,
        r#"{"access_token":"at","token_type":"Bearer","refresh_token":true}"#,
        r#"["at","Bearer"]"#,
    ] {
        let err = read_ok(body).expect_err(body);
        assert_eq!(err.code(), "invalid_response", "{body}: {err:?}");
    }
}

#[test]
fn p23_wrong_type_message_does_not_repeat_the_document() {
    let err = read_ok(r#"{"access_token":"at","token_type":"Bearer","expires_in":"SECRETISH"}"#)
        .expect_err("wrong type");
    assert!(!err.to_string().contains("SECRETISH"), "{err}");
}

#[test]
fn p32_huge_expires_in_stays_within_javascript_safe_integers() {
    let t = read_ok(r#"{"access_token":"at","token_type":"Bearer","expires_in":1e300}"#).expect("tokens");
    assert_eq!(t.expires_at_ms, Some((1 << 53) - 1));
    let back = from_json::<TokenSet>(&to_json(&t));
    assert_eq!(back, Some(t));
}

#[test]
fn p32_stored_token_set_with_a_field_of_the_wrong_type_is_absent() {
    let text = to_json(&token_set()).replace("\"issuer\":", "\"issuer\":1,\"was\":");
    assert_eq!(from_json::<TokenSet>(&text), None);
}

// ---- P-30, P-32, P-33 ----

#[test]
fn p30_redirect_answer_to_a_token_request_is_invalid_response() {
    for outcome in [
        FetchOutcome::Redirected { url: TOKEN.into() },
        FetchOutcome::Response(HttpResponse::new(307, "").with_header("Location", "https://evil.example/t")),
    ] {
        let err = read(&outcome, &[], None).expect_err("refused");
        assert_eq!(err.code(), "invalid_response", "{outcome:?}");
        assert!(err.to_string().contains("redirect"), "{err}");
    }
}

#[test]
fn p32_token_response_body_over_one_mib_is_invalid_response() {
    let err = read(&FetchOutcome::TooLarge { url: TOKEN.into() }, &[], None).expect_err("refused");
    assert_eq!(err.code(), "invalid_response");
    let padded = format!(
        r#"{{"access_token":"at","token_type":"Bearer","pad":"{}"}}"#,
        "x".repeat(crate::core::http::MAX_RESPONSE_BYTES)
    );
    let err = read_ok(&padded).expect_err("refused");
    assert_eq!(err.code(), "invalid_response");
}

#[test]
fn p32_access_token_outside_b64token_characters_is_invalid_response() {
    for bad in ["a b", "tok\\\"en", "ünï", "abc=def", "=", "a,b", "a\\u0000"] {
        let body = format!(r#"{{"access_token":"{bad}","token_type":"Bearer"}}"#);
        let err = read_ok(&body).expect_err(bad);
        assert_eq!(err.code(), "invalid_response", "{bad}");
        assert!(!err.to_string().contains(bad), "the token is not repeated: {err}");
    }
    let good = r#"{"access_token":"aZ09-._~+/==","token_type":"Bearer"}"#;
    assert_eq!(
        read_ok(good).expect("b64token").access_token.expose(),
        "aZ09-._~+/=="
    );
}

#[test]
fn p33_token_request_without_response_is_a_network_error_naming_the_endpoint() {
    let err = read(&FetchOutcome::NetworkError, &[], None).expect_err("no response");
    assert_eq!(
        err,
        Error::Network {
            what: "the token request".into(),
            url: "https://as.example.com/token".into()
        }
    );
}
