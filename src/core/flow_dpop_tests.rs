//! DPoP through the whole flows (P-35..P-39): the authorization's
//! `dpop_jkt`, proofs on the code exchange, refresh and resource requests,
//! nonces from both servers, and sign-out.

use super::*;
use crate::core::dpop::Claims;
use crate::core::http::HttpResponse;

const NONCE_BODY: &str =
    r#"{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}"#;

fn as_json_with_dpop(algs: &str) -> String {
    as_json().replacen(
        '{',
        &format!(r#"{{"dpop_signing_alg_values_supported":{algs},"#),
        1,
    )
}

/// The standard fake, its AS offering DPoP with `algs`.
fn dpop_io(algs: &str) -> FakeIo {
    let io = standard_io();
    io.clear_route(AS_META_URL);
    io.json(AS_META_URL, 200, &as_json_with_dpop(algs));
    io
}

fn dpop_token_json(access: &str, refresh: Option<&str>) -> String {
    token_json(access, refresh, None).replace(r#""token_type":"Bearer""#, r#""token_type":"DPoP""#)
}

/// Signed in with DPoP-bound tokens.
fn dpop_signed_in() -> (FakeIo, Config) {
    let io = dpop_io(r#"["ES256"]"#);
    let cfg = config();
    sign_in(&io, &cfg, &dpop_token_json("at-1", Some("rt-1")));
    (io, cfg)
}

fn claims(proof: &str) -> Claims {
    let payload = proof.split('.').nth(1).expect("a JWS");
    let json = crate::core::testing::base64url_decode(payload);
    serde_json::from_slice(&json).expect("claims")
}

fn proof_of(req: &HttpRequest) -> Option<Claims> {
    req.header("DPoP").map(claims)
}

fn jkt(io: &FakeIo) -> String {
    let key = block_on(io.dpop_key(ISSUER)).unwrap();
    block_on(dpop::thumbprint(io, &key)).unwrap()
}

fn with_nonce(status: u16, body: &str, nonce: &str) -> FetchOutcome {
    FetchOutcome::Response(HttpResponse::new(status, body).with_header("DPoP-Nonce", nonce))
}

fn resource_answer(status: u16, www_authenticate: Option<&str>, nonce: Option<&str>) -> ResourceAnswer {
    ResourceAnswer {
        dpop_nonce: nonce.map(String::from),
        ..answer(status, www_authenticate)
    }
}

#[test]
fn p35_p38_auto_with_es256_offered_sends_the_key_thumbprint_as_dpop_jkt() {
    let io = dpop_io(r#"["RS256","ES256"]"#);
    let url = start(&io, &config());
    assert_eq!(param(&url, "dpop_jkt"), Some(jkt(&io)));
}

#[test]
fn p35_auto_without_es256_sends_no_dpop_jkt_and_no_proof() {
    let io = dpop_io(r#"["RS256"]"#);
    let cfg = config();
    let url = start(&io, &cfg);
    assert_eq!(param(&url, "dpop_jkt"), None);
    sign_in(&io, &cfg, &token_json("at-1", None, None));
    assert!(token_requests(&io).iter().all(|r| r.header("DPoP").is_none()));
    assert!(io.dpop_keys.borrow().is_empty(), "no key is made");
}

#[test]
fn p35_off_never_uses_dpop_even_when_offered() {
    let io = dpop_io(r#"["ES256"]"#);
    let cfg = Config {
        dpop: DpopMode::Off,
        ..config()
    };
    let url = start(&io, &cfg);
    assert_eq!(param(&url, "dpop_jkt"), None);
}

#[test]
fn p35_require_fails_with_dpop_not_supported_before_registering() {
    let io = dpop_io(r#"["RS256"]"#);
    let cfg = Config {
        dpop: DpopMode::Require,
        ..config()
    };
    let err = block_on(authorize(&io, &cfg, &AuthorizeRequest::default())).expect_err("not offered");
    assert_eq!(err.code(), "dpop_not_supported");
    assert!(io.requests_to(REGISTER_URL).is_empty());
}

#[test]
fn p35_require_with_es256_offered_uses_dpop() {
    let io = dpop_io(r#"["ES256"]"#);
    let cfg = Config {
        dpop: DpopMode::Require,
        ..config()
    };
    assert!(param(&start(&io, &cfg), "dpop_jkt").is_some());
}

#[test]
fn p38_code_exchange_carries_a_fresh_proof_and_the_dpop_token_is_recorded() {
    let (io, _) = dpop_signed_in();
    let reqs = token_requests(&io);
    assert_eq!(reqs.len(), 1);
    let c = proof_of(&reqs[0]).expect("a DPoP header");
    assert_eq!(c.htm, "POST");
    assert_eq!(c.htu, TOKEN_URL);
    assert_eq!(c.ath, None, "no access token goes to the token endpoint");
    let t = stored_tokens(&io).expect("tokens");
    assert_eq!(t.token_type, TokenType::DPoP);
}

#[test]
fn p38_callback_page_uses_the_key_the_authorization_was_bound_to() {
    // The callback page is another `Io` of the same origin: the key is
    // found by issuer in the shared store (IndexedDB in the browser).
    let io = dpop_io(r#"["ES256"]"#);
    let url = start(&io, &config());
    let callback_page = reload(&io);
    callback_page.json(TOKEN_URL, 200, &dpop_token_json("at-1", None));
    block_on(finish(
        &callback_page,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::FromRecord,
    ))
    .expect("finish");
    assert_eq!(jkt(&callback_page), param(&url, "dpop_jkt").unwrap());
    assert_eq!(io.dpop_keys_made.get(), 1);
}

#[test]
fn p39_token_endpoint_use_dpop_nonce_is_retried_once_with_that_nonce() {
    let io = dpop_io(r#"["ES256"]"#);
    let url = start(&io, &config());
    io.on(TOKEN_URL, with_nonce(400, NONCE_BODY, "as-nonce-1"));
    io.json(TOKEN_URL, 200, &dpop_token_json("at-1", None));
    block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    let reqs = token_requests(&io);
    assert_eq!(reqs.len(), 2);
    let (first, second) = (proof_of(&reqs[0]).unwrap(), proof_of(&reqs[1]).unwrap());
    assert_eq!(first.nonce, None);
    assert_eq!(second.nonce.as_deref(), Some("as-nonce-1"));
    assert_ne!(first.jti, second.jti, "P-37: a fresh proof for the retry");
}

#[test]
fn p39_token_endpoint_nonce_is_retried_only_once() {
    let io = dpop_io(r#"["ES256"]"#);
    let url = start(&io, &config());
    io.on(TOKEN_URL, with_nonce(400, NONCE_BODY, "n1"));
    io.on(TOKEN_URL, with_nonce(400, NONCE_BODY, "n2"));
    let err = block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect_err("still refused");
    assert_eq!(token_requests(&io).len(), 2);
    assert!(
        matches!(err, Error::OAuth { ref code, .. } if code == "use_dpop_nonce"),
        "{err:?}"
    );
}

#[test]
fn p39_a_nonce_from_any_token_response_is_used_next_time() {
    let io = dpop_io(r#"["ES256"]"#);
    let cfg = config();
    let url = start(&io, &cfg);
    io.on(
        TOKEN_URL,
        with_nonce(200, &dpop_token_json("at-1", Some("rt-1")), "from-success"),
    );
    block_on(finish(
        &io,
        &real_callback(&url, "code-1"),
        None,
        TokenTarget::Instance,
    ))
    .expect("finish");
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &dpop_token_json("at-2", Some("rt-2")));
    block_on(refresh(&io, &cfg, None)).expect("refresh");
    let refresh_proof = proof_of(&token_requests(&io)[1]).expect("a proof on refresh");
    assert_eq!(refresh_proof.nonce.as_deref(), Some("from-success"));
}

#[test]
fn p38_every_refresh_of_a_dpop_token_carries_a_fresh_proof() {
    let (io, cfg) = dpop_signed_in();
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &dpop_token_json("at-2", Some("rt-2")));
    block_on(refresh(&io, &cfg, None)).expect("first refresh");
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &dpop_token_json("at-3", Some("rt-3")));
    block_on(refresh(&io, &cfg, None)).expect("second refresh");
    let proofs: Vec<Claims> = token_requests(&io)
        .iter()
        .map(|r| proof_of(r).expect("a proof"))
        .collect();
    assert_eq!(proofs.len(), 3);
    assert!(proofs[0].jti != proofs[1].jti && proofs[1].jti != proofs[2].jti);
    assert_eq!(access(&io).as_deref(), Some("at-3"));
}

#[test]
fn p38_refresh_of_a_bearer_token_carries_no_proof() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &token_json("at-2", Some("rt-2"), None));
    block_on(refresh(&io, &cfg, None)).expect("refresh");
    assert!(token_requests(&io).iter().all(|r| r.header("DPoP").is_none()));
}

#[test]
fn p38_resource_request_sends_dpop_scheme_and_a_proof_with_ath() {
    let (io, cfg) = dpop_signed_in();
    let res = Resource::new(vec![ok()]);
    block_on(fetch(
        &io,
        &cfg,
        "GET",
        "https://mcp.example.com/mcp?x=1",
        "/",
        res.send(),
    ))
    .expect("fetch");
    let sent = res.sent.borrow();
    let c = sent[0].as_ref().expect("credentials");
    assert_eq!(c.authorization(), "DPoP at-1");
    let proof = claims(c.proof.as_deref().expect("a proof"));
    assert_eq!(proof.htm, "GET");
    assert_eq!(proof.htu, SERVER);
    assert_eq!(
        proof.ath.as_deref(),
        Some(base64url_nopad(&sha256("at-1")).as_str())
    );
}

#[test]
fn p38_bearer_token_is_sent_as_bearer_without_a_proof() {
    let (io, cfg) = signed_in(&token_json("at-1", Some("rt-1"), None));
    let res = Resource::new(vec![ok()]);
    block_on(fetch(&io, &cfg, "GET", SERVER, "/", res.send())).expect("fetch");
    let sent = res.sent.borrow();
    let c = sent[0].as_ref().expect("credentials");
    assert_eq!(c.authorization(), "Bearer at-1");
    assert_eq!(c.proof, None);
}

#[test]
fn p39_resource_use_dpop_nonce_is_retried_once_with_a_new_proof() {
    let (io, cfg) = dpop_signed_in();
    let challenge =
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
    let res = Resource::new(vec![
        resource_answer(401, Some(challenge), Some("rs-nonce-1")),
        ok(),
    ]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    assert_eq!(end, FetchEnd::Response);
    let sent = res.sent.borrow();
    assert_eq!(sent.len(), 2);
    let proofs: Vec<Claims> = sent
        .iter()
        .map(|c| claims(c.as_ref().unwrap().proof.as_deref().unwrap()))
        .collect();
    assert_eq!(proofs[0].nonce, None);
    assert_eq!(proofs[1].nonce.as_deref(), Some("rs-nonce-1"));
    assert_ne!(proofs[0].jti, proofs[1].jti);
    assert_eq!(token_requests(&io).len(), 1, "no refresh for a nonce");
}

#[test]
fn p39_resource_nonce_retry_happens_once_then_the_401_is_handled_as_usual() {
    let (io, cfg) = dpop_signed_in();
    let challenge = r#"DPoP error="use_dpop_nonce""#;
    let res = Resource::new(vec![resource_answer(401, Some(challenge), Some("n"))]);
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 200, &dpop_token_json("at-2", Some("rt-2")));
    let _ = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send()));
    // first try, the nonce retry, then one refresh and its try: no loop.
    assert_eq!(res.sent.borrow().len(), 3);
}

#[test]
fn p39_invalid_dpop_proof_on_refresh_leads_to_a_new_authorization() {
    let (io, cfg) = dpop_signed_in();
    io.clear_route(TOKEN_URL);
    io.json(TOKEN_URL, 400, r#"{"error":"invalid_dpop_proof"}"#);
    let res = Resource::new(vec![answer(401, Some(r#"DPoP error="invalid_token""#))]);
    let end = block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch");
    let url = fetch_redirect(end);
    assert!(param(&url, "dpop_jkt").is_some());
    assert_eq!(stored_tokens(&io), None, "the unusable tokens are gone");
    assert_eq!(token_requests(&io).len(), 2, "one code exchange, one refresh");
}

#[test]
fn p38_dpop_challenge_with_insufficient_scope_steps_up() {
    let (io, cfg) = dpop_signed_in();
    let res = Resource::new(vec![answer(
        403,
        Some(r#"DPoP error="insufficient_scope", scope="mcp:admin", algs="ES256""#),
    )]);
    let url = fetch_redirect(block_on(fetch(&io, &cfg, "POST", SERVER, "/", res.send())).expect("fetch"));
    assert!(
        param(&url, "scope").is_some_and(|s| s.contains("mcp:admin")),
        "{url}"
    );
}

#[test]
fn p36_sign_out_deletes_the_dpop_key() {
    let (io, cfg) = dpop_signed_in();
    assert!(io.dpop_keys.borrow().contains_key(ISSUER));
    block_on(sign_out(&io, &cfg)).expect("sign out");
    assert!(!io.dpop_keys.borrow().contains_key(ISSUER));
    let url = start(&io, &cfg);
    assert_eq!(
        io.dpop_keys_made.get(),
        2,
        "the next authorization makes a new key"
    );
    assert_eq!(param(&url, "dpop_jkt"), Some(jkt(&io)));
}
