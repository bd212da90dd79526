use super::*;
use crate::core::discovery::default_metadata;
use crate::core::testing::{block_on, sha256, url, FakeIo, Json, JsonFields};
use p256::ecdsa::signature::Verifier;

const ISSUER: &str = "https://as.example.com";

use crate::core::testing::base64url_decode as unbase64url;

fn json_of(part: &str) -> Json {
    serde_json::from_slice(&unbase64url(part)).expect("JSON")
}

/// A proof split into header, claims and the signature check's inputs.
fn parts(proof: &str) -> (Json, Json, String, Vec<u8>) {
    let p: Vec<&str> = proof.split('.').collect();
    assert_eq!(p.len(), 3, "{proof}");
    (
        json_of(p[0]),
        json_of(p[1]),
        format!("{}.{}", p[0], p[1]),
        unbase64url(p[2]),
    )
}

fn make_proof(io: &FakeIo, method: &str, url: &str, token: Option<&str>) -> String {
    let token = token.map(|t| Secret::new(t.to_string()));
    block_on(proof(io, ISSUER, method, url, token.as_ref())).expect("a proof")
}

fn meta_with(algs: &[&str]) -> AsMetadata {
    let mut m = default_metadata(&url(ISSUER));
    m.dpop_signing_alg_values_supported = algs.iter().map(|a| a.to_string()).collect();
    m
}

#[test]
fn rfc7638_thumbprint_procedure_matches_the_rsa_example_of_section_3_1() {
    // §3.1's key is RSA: its required members are e, kty, n, in that order.
    #[derive(Serialize)]
    struct RsaJwk<'a> {
        e: &'a str,
        kty: &'a str,
        n: &'a str,
    }
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJE\
             CPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2\
             QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ\
             Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let canonical = codec::to_string(&RsaJwk {
        e: "AQAB",
        kty: "RSA",
        n,
    });
    assert!(
        canonical.starts_with(r#"{"e":"AQAB","kty":"RSA","n":"0vx7"#),
        "{canonical}"
    );
    assert_eq!(
        base64url_nopad(&sha256(&canonical)),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn p38_ec_thumbprint_hashes_crv_kty_x_y_in_that_order_without_whitespace() {
    let jwk = PublicJwk {
        crv: "P-256".into(),
        kty: "EC".into(),
        x: "x".repeat(43),
        y: "y".repeat(43),
    };
    let canonical = jwk.thumbprint_input();
    assert_eq!(
        canonical,
        format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, jwk.x, jwk.y)
    );
    let io = FakeIo::new();
    assert_eq!(
        block_on(thumbprint(&io, &jwk)).unwrap(),
        base64url_nopad(&sha256(&canonical))
    );
}

#[test]
fn p37_reading_a_jwk_keeps_public_members_only() {
    let exported = r#"{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "y":"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB","d":"PRIVATE","ext":true,"key_ops":["verify"]}"#;
    let jwk: PublicJwk = serde_json::from_str(exported).unwrap();
    let text = jwk.thumbprint_input();
    assert!(!text.contains("PRIVATE") && !text.contains("ext") && !text.contains("key_ops"));
    assert!(jwk.is_p256());
}

#[test]
fn p37_proof_has_the_dpop_header_and_a_public_jwk_only() {
    let io = FakeIo::new();
    let proof = make_proof(&io, "POST", "https://as.example.com/token", None);
    let (header, _, _, _) = parts(&proof);
    assert_eq!(header.str_field("typ"), Some("dpop+jwt"));
    assert_eq!(header.str_field("alg"), Some("ES256"));
    let jwk = header.get("jwk").and_then(|j| j.as_object()).expect("a jwk");
    let members: Vec<&str> = jwk.keys().map(String::as_str).collect();
    assert_eq!(members, ["crv", "kty", "x", "y"]);
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert!(!proof.contains("\"d\""));
    let raw = String::from_utf8(unbase64url(proof.split('.').next().unwrap())).unwrap();
    assert!(
        raw.starts_with(r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"crv""#),
        "{raw}"
    );
}

#[test]
fn p37_proof_signature_is_raw_r_s_and_verifies_with_the_header_key() {
    let io = FakeIo::new();
    let proof = make_proof(&io, "POST", "https://as.example.com/token", None);
    let (header, _, input, signature) = parts(&proof);
    assert_eq!(signature.len(), 64);
    let x = unbase64url(header["jwk"].str_field("x").unwrap());
    let y = unbase64url(header["jwk"].str_field("y").unwrap());
    let point = p256::EncodedPoint::from_affine_coordinates(
        p256::FieldBytes::from_slice(&x),
        p256::FieldBytes::from_slice(&y),
        false,
    );
    let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&signature).unwrap();
    key.verify(input.as_bytes(), &sig).expect("the proof verifies");
    let mut tampered = input.into_bytes();
    tampered[0] ^= 1;
    assert!(key.verify(&tampered, &sig).is_err());
}

#[test]
fn p37_claims_are_jti_htm_htu_iat_without_nonce_or_ath_when_none_apply() {
    let io = FakeIo::new();
    let (_, claims, _, _) = parts(&make_proof(&io, "POST", "https://as.example.com/token", None));
    assert_eq!(claims.str_field("htm"), Some("POST"));
    assert_eq!(claims.str_field("htu"), Some("https://as.example.com/token"));
    assert_eq!(claims["iat"].as_u64(), Some(io.now.get() / 1000));
    let jti = unbase64url(claims.str_field("jti").unwrap());
    assert!(jti.len() * 8 >= 96, "{}", jti.len());
    assert!(claims.get("nonce").is_none() && claims.get("ath").is_none());
    let members: Vec<&str> = claims.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(members.len(), 4);
}

#[test]
fn p37_every_proof_has_a_fresh_jti() {
    let io = FakeIo::new();
    let jti = |p: String| parts(&p).1.str_field("jti").unwrap().to_string();
    let a = jti(make_proof(&io, "GET", "https://mcp.example.com/mcp", None));
    let b = jti(make_proof(&io, "GET", "https://mcp.example.com/mcp", None));
    assert_ne!(a, b);
}

#[test]
fn p37_htu_drops_query_and_fragment_and_is_normalised() {
    assert_eq!(
        htu("HTTPS://MCP.Example.COM:443/a/../mcp?x=1&y=2#frag").unwrap(),
        "https://mcp.example.com/mcp"
    );
    assert_eq!(
        htu("https://mcp.example.com").unwrap(),
        "https://mcp.example.com/"
    );
    assert_eq!(
        htu("http://127.0.0.1:8080/p q").unwrap(),
        "http://127.0.0.1:8080/p%20q"
    );
    assert_eq!(htu("not a url").unwrap_err().code(), "invalid_config");
    let io = FakeIo::new();
    let (_, claims, _, _) = parts(&make_proof(
        &io,
        "GET",
        "https://MCP.example.com/mcp?session=1",
        None,
    ));
    assert_eq!(claims.str_field("htu"), Some("https://mcp.example.com/mcp"));
}

#[test]
fn p37_ath_is_base64url_sha256_of_the_access_token_rfc9449_example() {
    // RFC 9449 §7.1's access token and its `ath`.
    let token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
    assert_eq!(ath(&sha256(token)), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
    let io = FakeIo::new();
    let (_, claims, _, _) = parts(&make_proof(
        &io,
        "POST",
        "https://mcp.example.com/mcp",
        Some(token),
    ));
    assert_eq!(
        claims.str_field("ath"),
        Some("fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")
    );
}

#[test]
fn p39_nonce_is_the_latest_for_the_request_origin() {
    let io = FakeIo::new();
    assert!(remember_nonce(&io, "https://as.example.com/token", Some("n1")));
    assert!(!remember_nonce(&io, "https://as.example.com/other", Some("n1")));
    assert!(remember_nonce(&io, "https://as.example.com/token", Some("n2")));
    let nonce = |u: &str| {
        parts(&make_proof(&io, "POST", u, None))
            .1
            .str_field("nonce")
            .map(str::to_string)
    };
    assert_eq!(nonce("https://as.example.com/token").as_deref(), Some("n2"));
    assert_eq!(nonce("https://mcp.example.com/mcp"), None);
}

#[test]
fn p39_a_nonce_outside_nqchar_is_ignored() {
    let io = FakeIo::new();
    for bad in ["", "a b", "a\"b", "a\\b", "é"] {
        assert!(
            !remember_nonce(&io, "https://as.example.com/token", Some(bad)),
            "{bad}"
        );
    }
    assert_eq!(io.dpop_nonce("https://as.example.com"), None);
}

#[test]
fn p39_as_use_dpop_nonce_needs_400_the_error_and_a_nonce_header() {
    let body = r#"{"error":"use_dpop_nonce","error_description":"x"}"#;
    let with = HttpResponse::new(400, body).with_header("DPoP-Nonce", "abc");
    assert!(as_wants_nonce(&with));
    assert!(!as_wants_nonce(&HttpResponse::new(400, body)));
    assert!(!as_wants_nonce(
        &HttpResponse::new(400, r#"{"error":"invalid_grant"}"#).with_header("DPoP-Nonce", "abc")
    ));
    assert!(!as_wants_nonce(
        &HttpResponse::new(401, body).with_header("DPoP-Nonce", "abc")
    ));
}

#[test]
fn p39_resource_use_dpop_nonce_is_read_from_the_dpop_challenge() {
    let h =
        r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
    assert!(resource_wants_nonce(401, Some(h), Some("n")));
    assert!(!resource_wants_nonce(401, Some(h), None));
    assert!(!resource_wants_nonce(403, Some(h), Some("n")));
    let bearer = r#"Bearer error="use_dpop_nonce""#;
    assert!(!resource_wants_nonce(401, Some(bearer), Some("n")));
    let both = r#"Bearer realm="x", DPoP algs="ES256", error="use_dpop_nonce""#;
    assert_eq!(dpop_error(both).as_deref(), Some("use_dpop_nonce"));
}

#[test]
fn p35_auto_uses_dpop_only_when_es256_is_offered() {
    assert!(decide(DpopMode::Auto, &meta_with(&["RS256", "ES256"])).unwrap());
    assert!(!decide(DpopMode::Auto, &meta_with(&["RS256"])).unwrap());
    assert!(!decide(DpopMode::Auto, &meta_with(&[])).unwrap());
}

#[test]
fn p35_off_never_uses_dpop() {
    assert!(!decide(DpopMode::Off, &meta_with(&["ES256"])).unwrap());
}

#[test]
fn p35_require_fails_with_dpop_not_supported_when_not_offered() {
    assert!(decide(DpopMode::Require, &meta_with(&["ES256"])).unwrap());
    let e = decide(DpopMode::Require, &meta_with(&["EdDSA"])).unwrap_err();
    assert_eq!(e.code(), "dpop_not_supported");
    assert!(e.to_string().contains("as.example.com"));
}

#[test]
fn p35_mode_parses_the_three_values_only() {
    for m in [DpopMode::Auto, DpopMode::Off, DpopMode::Require] {
        assert_eq!(DpopMode::parse(m.as_str()), Some(m));
    }
    assert_eq!(DpopMode::parse("on"), None);
    assert_eq!(DpopMode::default(), DpopMode::Auto);
}

#[test]
fn p36_one_key_per_issuer_and_deleting_makes_a_new_one() {
    let io = FakeIo::new();
    let a = block_on(io.dpop_key(ISSUER)).unwrap();
    assert_eq!(block_on(io.dpop_key(ISSUER)).unwrap(), a);
    assert_ne!(block_on(io.dpop_key("https://other.example.com")).unwrap(), a);
    block_on(io.delete_dpop_key(ISSUER)).unwrap();
    assert_ne!(block_on(io.dpop_key(ISSUER)).unwrap(), a);
}
