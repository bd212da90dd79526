use super::*;
use crate::core::http::{HttpResponse, MCP_PROTOCOL_VERSION};
use crate::core::testing::{from_json, to_json};
use crate::core::testing::{url, Json};

fn server(s: &str) -> ServerUrl {
    ServerUrl::parse(s).expect(s)
}

fn ok(body: &str) -> FetchOutcome {
    FetchOutcome::Response(HttpResponse::new(200, body))
}

fn status(code: u16) -> FetchOutcome {
    FetchOutcome::Response(HttpResponse::new(code, "{}"))
}

fn net() -> FetchOutcome {
    FetchOutcome::NetworkError
}

fn json(s: &str) -> Json {
    serde_json::from_str(s).expect(s)
}

/// The document read as `select_as_metadata` reads it, then validated.
fn parse_as_metadata(expected: &str, doc: &Json, opts: DiscoveryOptions) -> Result<AsMetadata> {
    let doc = serde_json::from_value(doc.clone()).map_err(|_| Error::invalid("shape"))?;
    super::parse_as_metadata(expected, doc, opts)
}

fn prm(resource: &str, issuer: &str, scope: &str) -> String {
    format!(
        r#"{{"resource":"{resource}","authorization_servers":["{issuer}"],"scopes_supported":["{scope}"]}}"#
    )
}

/// Valid metadata for `issuer`, endpoints under `base`, S256, `iss` advertised.
fn as_doc(issuer: &str, base: &str) -> String {
    format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{base}/authorize","token_endpoint":"{base}/token",
        "registration_endpoint":"{base}/register","code_challenge_methods_supported":["S256"],
        "authorization_response_iss_parameter_supported":true}}"#
    )
}

/// Valid metadata with one member replaced (or added) by `member`, e.g. `"x":1`.
fn as_with(member: &str) -> Json {
    let mut base = json(&as_doc("https://as", "https://as"));
    let extra = json(&format!("{{{member}}}"));
    if let (Json::Object(m), Json::Object(e)) = (&mut base, extra) {
        m.extend(e);
    }
    base
}

fn without(field: &str) -> Json {
    let mut base = json(&as_doc("https://as", "https://as"));
    if let Json::Object(m) = &mut base {
        m.remove(field);
    }
    base
}

fn urls(probes: &[PrmProbe]) -> Vec<&str> {
    probes.iter().map(|p| p.url.as_str()).collect()
}

fn strict() -> DiscoveryOptions {
    DiscoveryOptions::default()
}

fn opt_out() -> DiscoveryOptions {
    DiscoveryOptions {
        allow_missing_pkce_metadata: true,
    }
}

fn found(r: Result<PrmResult>) -> ProtectedResource {
    match r {
        Ok(PrmResult::Found(p)) => p,
        other => panic!("expected Found, got {other:?}"),
    }
}

fn mismatch(r: Result<PrmResult>) -> (String, String) {
    match r {
        Err(Error::ResourceMismatch { expected, received }) => (expected, received),
        other => panic!("expected ResourceMismatch, got {other:?}"),
    }
}

/// Probes for `https://h/mcp`: the path-aware one 404s, the root one answers `resource`.
fn root_answer(resource: &str) -> Result<PrmResult> {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    select_prm(&probes, &[status(404), ok(&prm(resource, "https://as", "s"))])
}

/// The path-aware probe for `server_url` answers `resource`.
fn path_answer(server_url: &str, resource: &str) -> Result<PrmResult> {
    let probes = prm_probes(&server(server_url), None).expect("probes");
    select_prm(&probes, &[ok(&prm(resource, "https://as", "s")), status(404)])
}

fn discovery_error(r: Result<Discovered>) -> (DiscoveryStage, bool, String) {
    match r {
        Err(e @ Error::Discovery { .. }) => {
            let msg = e.to_string();
            match e {
                Error::Discovery {
                    stage, likely_cors, ..
                } => (stage, likely_cors, msg),
                _ => unreachable!(),
            }
        }
        other => panic!("expected Discovery error, got {other:?}"),
    }
}

// ---- P-3: which PRM URLs, in which order ----

#[test]
fn p3_root_server_probes_only_the_root_prm() {
    for s in ["https://h", "https://h/"] {
        let probes = prm_probes(&server(s), None).expect(s);
        assert_eq!(
            urls(&probes),
            ["https://h/.well-known/oauth-protected-resource"],
            "{s}"
        );
        assert_eq!(probes[0].expected_resource, "https://h", "{s}");
        assert!(probes[0].origin_resource, "{s}");
    }
}

#[test]
fn p3_path_server_probes_path_aware_prm_then_root() {
    let probes = prm_probes(&server("https://h/p/q"), None).expect("probes");
    assert_eq!(
        urls(&probes),
        [
            "https://h/.well-known/oauth-protected-resource/p/q",
            "https://h/.well-known/oauth-protected-resource",
        ]
    );
    assert_eq!(probes[0].expected_resource, "https://h/p/q");
    assert!(!probes[0].origin_resource);
    assert_eq!(probes[1].expected_resource, "https://h");
    assert!(probes[1].origin_resource);
}

#[test]
fn p3_path_server_with_trailing_slash_loses_one_slash_in_probe_url_only() {
    let probes = prm_probes(&server("https://h/p/q/"), None).expect("probes");
    assert_eq!(
        probes[0].url,
        "https://h/.well-known/oauth-protected-resource/p/q"
    );
    assert_eq!(probes[0].expected_resource, "https://h/p/q/");
}

#[test]
fn p3_path_server_query_follows_the_path_in_the_path_aware_probe() {
    // RFC 9728 §3.1: the suffix goes between the host and the path and/or query.
    let probes = prm_probes(&server("https://h/p/q?tenant=a"), None).expect("probes");
    assert_eq!(
        urls(&probes),
        [
            "https://h/.well-known/oauth-protected-resource/p/q?tenant=a",
            "https://h/.well-known/oauth-protected-resource",
        ]
    );
    assert_eq!(probes[0].expected_resource, "https://h/p/q?tenant=a");
    assert_eq!(probes[1].expected_resource, "https://h");
}

#[test]
fn p3_root_probe_uses_the_origin_with_its_non_default_port() {
    let probes = prm_probes(&server("http://localhost:1234/mcp"), None).expect("probes");
    assert_eq!(
        probes[1].url,
        "http://localhost:1234/.well-known/oauth-protected-resource"
    );
    assert_eq!(probes[1].expected_resource, "http://localhost:1234");
}

#[test]
fn p3_resource_metadata_from_challenge_is_used_exactly_and_alone() {
    let hint = "https://meta.example/Custom/prm.json?x=1";
    let probes = prm_probes(&server("https://h/p/q"), Some(hint)).expect("probes");
    assert_eq!(urls(&probes), [hint]);
    assert_eq!(probes[0].expected_resource, "https://h/p/q");
    assert!(!probes[0].origin_resource);
}

#[test]
fn p3_select_prm_moves_on_after_4xx_and_502() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    for code in [404, 401, 403, 410, 502] {
        let got = found(select_prm(
            &probes,
            &[status(code), ok(&prm("https://h", "https://as", "s"))],
        ));
        assert_eq!(
            got.metadata_url, "https://h/.well-known/oauth-protected-resource",
            "{code}"
        );
    }
}

#[test]
fn p3_select_prm_moves_on_after_a_network_error() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let got = found(select_prm(
        &probes,
        &[net(), ok(&prm("https://h", "https://as", "s"))],
    ));
    assert_eq!(got.resource, "https://h");
}

#[test]
fn p3_select_prm_stops_with_discovery_error_on_500_and_503() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    for code in [500, 503] {
        let r = select_prm(&probes, &[status(code), ok(&prm("https://h", "https://as", "s"))]);
        match r {
            Err(Error::Discovery {
                stage: DiscoveryStage::ProtectedResource,
                likely_cors: false,
                reason,
            }) => assert!(reason.contains(&code.to_string()), "{reason}"),
            other => panic!("{code}: expected Discovery error, got {other:?}"),
        }
    }
}

#[test]
fn p3_select_prm_takes_the_first_success_in_priority_order() {
    // Parallel probes: both answered; the path-aware one has priority.
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let got = found(select_prm(
        &probes,
        &[
            ok(&prm("https://h/mcp", "https://as-path", "path")),
            ok(&prm("https://h", "https://as-root", "root")),
        ],
    ));
    assert_eq!(got.resource, "https://h/mcp");
    assert_eq!(got.authorization_servers, ["https://as-path"]);
    assert_eq!(got.scopes_supported, ["path"]);
    assert_eq!(
        got.metadata_url,
        "https://h/.well-known/oauth-protected-resource/mcp"
    );
}

#[test]
fn p3_select_prm_ignores_a_lower_priority_failure_after_a_success() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let got = found(select_prm(
        &probes,
        &[ok(&prm("https://h/mcp", "https://as", "s")), status(500)],
    ));
    assert_eq!(got.resource, "https://h/mcp");
}

#[test]
fn p3_absent_is_all_network_only_when_every_probe_failed_at_the_network() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let cases = [
        ([net(), net()], true),
        ([net(), status(404)], false),
        ([status(404), net()], false),
        ([status(404), status(502)], false),
    ];
    for (outcomes, want) in cases {
        assert_eq!(
            select_prm(&probes, &outcomes),
            Ok(PrmResult::Absent { all_network: want }),
            "{outcomes:?}"
        );
    }
}

// ---- P-4: exact resource comparison ----

#[test]
fn p4_path_aware_probe_accepts_the_server_url() {
    assert_eq!(
        found(path_answer("https://h/mcp", "https://h/mcp")).resource,
        "https://h/mcp"
    );
}

#[test]
fn p4_root_probe_expects_the_origin_not_the_server_url() {
    assert_eq!(
        mismatch(root_answer("https://h/mcp")),
        ("https://h".to_string(), "https://h/mcp".to_string())
    );
}

#[test]
fn p4_origin_tolerates_one_trailing_slash_and_keeps_it() {
    assert_eq!(found(root_answer("https://h/")).resource, "https://h/");
    assert_eq!(found(root_answer("https://h")).resource, "https://h");
}

#[test]
fn p4_origin_tolerates_only_one_trailing_slash() {
    assert_eq!(mismatch(root_answer("https://h//")).1, "https://h//");
}

#[test]
fn p4_path_resource_gets_no_trailing_slash_tolerance() {
    assert_eq!(
        mismatch(path_answer("https://h/mcp", "https://h/mcp/")),
        ("https://h/mcp".to_string(), "https://h/mcp/".to_string())
    );
    assert_eq!(
        mismatch(path_answer("https://h/mcp/", "https://h/mcp")),
        ("https://h/mcp/".to_string(), "https://h/mcp".to_string())
    );
}

#[test]
fn p4_resource_on_another_origin_is_rejected() {
    assert_eq!(
        mismatch(path_answer("https://h/mcp", "https://evil.example/mcp")),
        (
            "https://h/mcp".to_string(),
            "https://evil.example/mcp".to_string()
        )
    );
    assert_eq!(mismatch(root_answer("https://h:8443")).1, "https://h:8443");
}

#[test]
fn p4_resource_with_another_path_or_a_path_prefix_is_rejected() {
    assert_eq!(
        mismatch(path_answer("https://h/mcp/sub", "https://h/mcp")).1,
        "https://h/mcp"
    );
    assert_eq!(
        mismatch(path_answer("https://h/mcp", "https://h/other")).1,
        "https://h/other"
    );
}

#[test]
fn p4_resource_differing_in_case_is_rejected() {
    assert_eq!(
        mismatch(path_answer("https://h/mcp", "https://H/mcp")).1,
        "https://H/mcp"
    );
    assert_eq!(
        mismatch(path_answer("https://h/mcp", "https://h/MCP")).1,
        "https://h/MCP"
    );
    assert_eq!(mismatch(root_answer("HTTPS://h")).1, "HTTPS://h");
}

#[test]
fn p4_resource_metadata_hint_must_name_the_server_url_and_aborts_before_as_requests() {
    let hint = "https://h/.well-known/oauth-protected-resource/mcp";
    let step = ExpectProtectedResource::new(server("https://h/mcp"), Some(hint), strict()).expect("step");
    let r = step.handle(&[ok(&prm("https://h", "https://as", "s"))]);
    match r {
        Err(Error::ResourceMismatch { expected, received }) => {
            assert_eq!(
                (expected.as_str(), received.as_str()),
                ("https://h/mcp", "https://h")
            );
        }
        other => panic!("expected ResourceMismatch, got {other:?}"),
    }
}

#[test]
fn p4_resource_kept_exactly_without_trailing_slash() {
    let origin = "http://localhost:1234";
    let step =
        ExpectProtectedResource::new(server("http://localhost:1234/mcp"), None, strict()).expect("step");
    let as_step = step
        .handle(&[status(404), ok(&prm(origin, origin, "mcp"))])
        .expect("prm");
    let d = as_step
        .handle(&[ok(&as_doc(origin, origin))])
        .expect("discovered");
    assert_eq!(d.resource, "http://localhost:1234");
}

#[test]
fn p4_prm_without_resource_is_an_invalid_response() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let r = select_prm(
        &probes,
        &[ok(r#"{"authorization_servers":["https://as"]}"#), status(404)],
    );
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

// ---- P-3a: servers without PRM ----

#[test]
fn p3a_without_prm_the_origin_is_probed_as_the_authorization_server() {
    let step =
        ExpectProtectedResource::new(server("https://mcp.example.com/v1/mcp"), None, strict()).expect("step");
    let as_step = step.handle(&[status(404), status(404)]).expect("no prm");
    assert_eq!(as_step.issuer(), "https://mcp.example.com");
    let requested: Vec<String> = as_step.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(
        requested,
        [
            "https://mcp.example.com/.well-known/oauth-authorization-server",
            "https://mcp.example.com/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn p3a_origin_metadata_is_used_when_present() {
    let o = "https://mcp.example.com";
    let step =
        ExpectProtectedResource::new(server("https://mcp.example.com/mcp"), None, strict()).expect("step");
    let as_step = step.handle(&[status(404), status(404)]).expect("no prm");
    let d = as_step
        .handle(&[status(404), ok(&as_doc(o, "https://login.example.com"))])
        .expect("discovered");
    assert!(d.metadata.from_document);
    assert_eq!(
        d.metadata.token_endpoint.as_str(),
        "https://login.example.com/token"
    );
    assert_eq!(d.resource, "https://mcp.example.com/mcp");
    assert_eq!(d.resource_metadata_url, None);
}

#[test]
fn p3a_no_metadata_at_all_uses_default_endpoints_on_the_origin() {
    let step = ExpectProtectedResource::new(server("https://mcp.example.com:8443/mcp#frag"), None, strict())
        .expect("step");
    let as_step = step.handle(&[status(404), net()]).expect("no prm");
    let d = as_step.handle(&[status(404), status(404)]).expect("defaults");
    let m = &d.metadata;
    assert_eq!(m.issuer, "https://mcp.example.com:8443");
    assert_eq!(
        m.authorization_endpoint.as_str(),
        "https://mcp.example.com:8443/authorize"
    );
    assert_eq!(m.token_endpoint.as_str(), "https://mcp.example.com:8443/token");
    assert_eq!(
        m.registration_endpoint.as_ref().map(Url::as_str),
        Some("https://mcp.example.com:8443/register")
    );
    assert!(!m.iss_parameter_supported);
    assert!(!m.from_document);
    // P-15 without PRM: the server URL as written, fragment removed.
    assert_eq!(d.resource, "https://mcp.example.com:8443/mcp");
    assert!(d.prm_scopes_supported.is_empty());
}

#[test]
fn p3a_network_errors_everywhere_are_reported_as_likely_cors() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let as_step = step.handle(&[net(), net()]).expect("no prm");
    let (_, likely_cors, msg) = discovery_error(as_step.handle(&[net(), net()]));
    assert!(likely_cors);
    assert!(msg.contains("CORS"), "{msg}");
}

#[test]
fn p3a_some_real_answer_means_defaults_not_a_cors_error() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let as_step = step.handle(&[net(), net()]).expect("no prm");
    let d = as_step.handle(&[net(), status(404)]).expect("defaults");
    assert!(!d.metadata.from_document);
}

#[test]
fn p5_listed_authorization_server_without_metadata_is_a_discovery_error() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let as_step = step
        .handle(&[ok(&prm("https://h/mcp", "https://as", "s")), status(404)])
        .expect("prm");
    let (stage, likely_cors, _) = discovery_error(as_step.handle(&[status(404), status(404)]));
    assert_eq!(stage, DiscoveryStage::AuthorizationServer);
    assert!(!likely_cors);
}

// ---- P-5: AS metadata URLs ----

#[test]
fn p5_issuer_with_path_tries_three_urls_in_order() {
    assert_eq!(
        as_metadata_urls("https://as/t1").expect("urls"),
        [
            "https://as/.well-known/oauth-authorization-server/t1",
            "https://as/.well-known/openid-configuration/t1",
            "https://as/t1/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn p5_issuer_without_path_tries_two_urls_in_order() {
    for issuer in ["https://as", "https://as/"] {
        assert_eq!(
            as_metadata_urls(issuer).expect(issuer),
            [
                "https://as/.well-known/oauth-authorization-server",
                "https://as/.well-known/openid-configuration",
            ],
            "{issuer}"
        );
    }
}

#[test]
fn p5_issuer_path_with_trailing_slash_loses_one_slash() {
    assert_eq!(
        as_metadata_urls("https://as/t1/").expect("urls"),
        [
            "https://as/.well-known/oauth-authorization-server/t1",
            "https://as/.well-known/openid-configuration/t1",
            "https://as/t1/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn p5_insecure_issuer_is_refused() {
    assert_eq!(
        as_metadata_urls("http://as.example/t1"),
        Err(Error::InsecureEndpoint {
            url: "http://as.example/t1".into()
        })
    );
    assert!(as_metadata_urls("http://127.0.0.1:9000").is_ok());
}

#[test]
fn p5_select_takes_the_first_success_in_priority_order() {
    let issuer = "https://as/t1";
    let urls = as_metadata_urls(issuer).expect("urls");
    let second = ok(&as_doc(issuer, "https://second"));
    let third = ok(&as_doc(issuer, "https://third"));
    let got = select_as_metadata(issuer, &urls, &[status(404), second, third], strict());
    match got {
        Ok(AsResult::Found(m)) => assert_eq!(m.token_endpoint.as_str(), "https://second/token"),
        other => panic!("expected Found, got {other:?}"),
    }
}

#[test]
fn p5_select_moves_on_after_4xx_502_and_network_errors() {
    let issuer = "https://as/t1";
    let urls = as_metadata_urls(issuer).expect("urls");
    for first in [status(401), status(502), net()] {
        let got = select_as_metadata(
            issuer,
            &urls,
            &[first, status(404), ok(&as_doc(issuer, "https://x"))],
            strict(),
        );
        assert!(matches!(got, Ok(AsResult::Found(_))), "{got:?}");
    }
}

#[test]
fn p5_select_stops_on_other_5xx() {
    let issuer = "https://as";
    let urls = as_metadata_urls(issuer).expect("urls");
    let got = select_as_metadata(
        issuer,
        &urls,
        &[status(503), ok(&as_doc(issuer, issuer))],
        strict(),
    );
    assert!(
        matches!(
            got,
            Err(Error::Discovery {
                stage: DiscoveryStage::AuthorizationServer,
                likely_cors: false,
                ..
            })
        ),
        "{got:?}"
    );
}

// ---- P-6: issuer echo ----

#[test]
fn p6_issuer_echo_must_be_identical() {
    let cases = [
        ("https://as", "https://as/"),
        ("https://as/t1", "https://as/t1/"),
        ("https://as", "https://AS"),
        ("https://as", "https://other.example"),
    ];
    for (expected, received) in cases {
        let r = parse_as_metadata(expected, &json(&as_doc(received, "https://as")), strict());
        assert_eq!(
            r,
            Err(Error::AuthorizationServerMismatch {
                expected: expected.into(),
                received: received.into()
            })
        );
    }
}

#[test]
fn p6_metadata_without_issuer_is_a_mismatch() {
    let r = parse_as_metadata("https://as", &without("issuer"), strict());
    assert!(
        matches!(r, Err(Error::AuthorizationServerMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn p6_mismatch_in_the_state_machine_stops_discovery() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let as_step = step
        .handle(&[ok(&prm("https://h/mcp", "https://as.example", "s")), status(404)])
        .expect("prm");
    let r = as_step.handle(&[
        ok(&as_doc("https://evil.example", "https://evil.example")),
        status(404),
    ]);
    assert_eq!(
        r,
        Err(Error::AuthorizationServerMismatch {
            expected: "https://as.example".into(),
            received: "https://evil.example".into()
        })
    );
}

// ---- P-7: PKCE gate ----

#[test]
fn p7_pkce_refused_when_s256_is_absent_or_missing() {
    let cases = [
        without("code_challenge_methods_supported"),
        as_with(r#""code_challenge_methods_supported":["plain"]"#),
        as_with(r#""code_challenge_methods_supported":[]"#),
        as_with(r#""code_challenge_methods_supported":["s256"]"#),
    ];
    for doc in cases {
        assert_eq!(
            parse_as_metadata("https://as", &doc, strict()),
            Err(Error::PkceNotSupported {
                issuer: "https://as".into()
            }),
            "{doc}"
        );
    }
}

#[test]
fn p7_s256_among_other_methods_is_accepted() {
    let doc = as_with(r#""code_challenge_methods_supported":["plain","S256"]"#);
    assert!(parse_as_metadata("https://as", &doc, strict()).is_ok());
}

#[test]
fn p7_opt_out_allows_metadata_that_omits_the_methods() {
    let m = parse_as_metadata(
        "https://as",
        &without("code_challenge_methods_supported"),
        opt_out(),
    )
    .expect("opt-out");
    assert_eq!(m.code_challenge_methods_supported, None);
}

#[test]
fn p7_opt_out_does_not_allow_a_list_without_s256() {
    for list in [r#"["plain"]"#, "[]"] {
        let doc = as_with(&format!(r#""code_challenge_methods_supported":{list}"#));
        assert!(
            matches!(
                parse_as_metadata("https://as", &doc, opt_out()),
                Err(Error::PkceNotSupported { .. })
            ),
            "{list}"
        );
    }
}

// ---- P-20 / P-9 flags ----

#[test]
fn p20_iss_support_is_advertised_only_by_exactly_true() {
    let field = "authorization_response_iss_parameter_supported";
    let cases = [
        ("true", true),
        (r#""true""#, false),
        ("1", false),
        ("false", false),
        ("null", false),
    ];
    for (value, want) in cases {
        let m = parse_as_metadata("https://as", &as_with(&format!(r#""{field}":{value}"#)), strict())
            .expect(value);
        assert_eq!(m.iss_parameter_supported, want, "{value}");
    }
    let m = parse_as_metadata("https://as", &without(field), strict()).expect("absent");
    assert!(!m.iss_parameter_supported);
}

#[test]
fn p9_cimd_support_is_advertised_only_by_exactly_true() {
    let field = "client_id_metadata_document_supported";
    for (value, want) in [("true", true), (r#""true""#, false), ("1", false)] {
        let m = parse_as_metadata("https://as", &as_with(&format!(r#""{field}":{value}"#)), strict())
            .expect(value);
        assert_eq!(m.client_id_metadata_document_supported, want, "{value}");
    }
}

// ---- Endpoint checks ----

#[test]
fn endpoints_on_http_non_loopback_are_refused() {
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
    ] {
        let url = "http://as.example/x";
        let doc = as_with(&format!(r#""{field}":"{url}""#));
        assert_eq!(
            parse_as_metadata("https://as", &doc, strict()),
            Err(Error::InsecureEndpoint { url: url.into() }),
            "{field}"
        );
    }
}

#[test]
fn endpoints_on_http_loopback_are_allowed() {
    let issuer = "http://localhost:9000";
    let m = parse_as_metadata(issuer, &json(&as_doc(issuer, "http://127.0.0.1:9000")), strict())
        .expect("loopback");
    assert_eq!(m.token_endpoint.as_str(), "http://127.0.0.1:9000/token");
}

#[test]
fn missing_token_endpoint_is_an_invalid_response() {
    let r = parse_as_metadata("https://as", &without("token_endpoint"), strict());
    assert!(matches!(r, Err(Error::InvalidResponse { .. })), "{r:?}");
}

#[test]
fn prm_listing_an_insecure_authorization_server_is_refused() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let r = step.handle(&[ok(&prm("https://h/mcp", "http://as.example", "s")), status(404)]);
    assert!(
        matches!(&r, Err(Error::InsecureEndpoint { url }) if url == "http://as.example"),
        "{r:?}"
    );
}

#[test]
fn server_url_on_http_non_loopback_is_refused() {
    assert_eq!(
        ServerUrl::parse("http://mcp.example.com/mcp"),
        Err(Error::InsecureEndpoint {
            url: "http://mcp.example.com/mcp".into()
        })
    );
    assert!(ServerUrl::parse("http://localhost:3000/mcp").is_ok());
    assert!(matches!(
        ServerUrl::parse("/mcp"),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn p15_server_url_keeps_its_spelling_without_the_fragment() {
    let s = server("https://MCP.example.com:443/Mcp?x=1#frag");
    assert_eq!(s.as_written, "https://MCP.example.com:443/Mcp?x=1");
    assert_eq!(s.origin(), "https://mcp.example.com");
}

// ---- P-8 ----

#[test]
fn p8_discovery_requests_send_accept_and_protocol_version() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let mut requests = step.requests();
    let as_step = step
        .handle(&[ok(&prm("https://h/mcp", "https://as", "s")), status(404)])
        .expect("prm");
    requests.extend(as_step.requests());
    // Two PRM probes, two speculative probes of the origin, three for `https://as`.
    assert_eq!(requests.len(), 6);
    for r in &requests {
        assert_eq!(r.method, crate::core::http::Method::Get, "{}", r.url);
        assert_eq!(r.header("Accept"), Some("application/json"), "{}", r.url);
        assert_eq!(
            r.header("MCP-Protocol-Version"),
            Some(MCP_PROTOCOL_VERSION),
            "{}",
            r.url
        );
    }
}

// ---- The state machine ----

#[test]
fn state_machine_runs_from_prm_to_discovered() {
    let s = "https://mcp.example.com/mcp";
    let step = ExpectProtectedResource::new(server(s), None, strict()).expect("step");
    let prm_urls: Vec<String> = step.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(
        prm_urls,
        [
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            "https://mcp.example.com/.well-known/oauth-protected-resource",
            // The speculative AS-metadata probes of the server's origin.
            "https://mcp.example.com/.well-known/oauth-authorization-server",
            "https://mcp.example.com/.well-known/openid-configuration",
        ]
    );
    let as_step = step
        .handle(&[ok(&prm(s, "https://as.example/t1", "mcp:read")), status(404)])
        .expect("prm");
    assert_eq!(as_step.issuer(), "https://as.example/t1");
    assert_eq!(as_step.requests().len(), 3);
    let d = as_step
        .handle(&[
            ok(&as_doc("https://as.example/t1", "https://as.example")),
            net(),
            net(),
        ])
        .expect("discovered");
    assert_eq!(d.resource, s);
    assert_eq!(
        d.resource_metadata_url.as_deref(),
        Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(d.prm_scopes_supported, ["mcp:read"]);
    assert_eq!(d.metadata.issuer, "https://as.example/t1");
    assert_eq!(d.metadata.token_endpoint.as_str(), "https://as.example/token");
    assert!(d.metadata.iss_parameter_supported);
    assert!(d.metadata.from_document);
}

#[test]
fn prm_without_authorization_servers_falls_back_to_the_origin() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let as_step = step
        .handle(&[ok(r#"{"resource":"https://h/mcp"}"#), status(404)])
        .expect("prm");
    assert_eq!(as_step.issuer(), "https://h");
    let d = as_step
        .handle(&[ok(&as_doc("https://h", "https://h"))])
        .expect("discovered");
    assert_eq!(d.resource, "https://h/mcp");
    assert_eq!(d.metadata.issuer, "https://h");
}

// ---- Persistence ----

#[test]
fn as_metadata_json_round_trip_keeps_every_field() {
    let full = AsMetadata {
        issuer: "https://as/t1".into(),
        authorization_endpoint: url("https://as/authorize"),
        token_endpoint: url("https://as/token"),
        registration_endpoint: Some(url("https://as/register")),
        revocation_endpoint: Some(url("https://as/revoke")),
        scopes_supported: vec!["openid".into(), "offline_access".into()],
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
        token_endpoint_auth_methods_supported: Some(vec!["none".into(), "client_secret_post".into()]),
        from_document: true,
        dpop_signing_alg_values_supported: Vec::new(),
    };
    let minimal = default_metadata(&url("http://localhost:1234"));
    for m in [full, minimal] {
        let text = to_json(&m);
        let back = from_json::<AsMetadata>(&text);
        assert_eq!(back.as_ref(), Some(&m), "{text}");
    }
}

#[test]
fn discovered_json_round_trip_keeps_the_resource_string_exactly() {
    let with_prm = Discovered {
        resource: "http://localhost:1234".into(),
        resource_metadata_url: Some("http://localhost:1234/.well-known/oauth-protected-resource".into()),
        prm_scopes_supported: vec!["mcp:read".into(), "mcp:write".into()],
        metadata: default_metadata(&url("http://localhost:1234")),
    };
    let without_prm = Discovered {
        resource: "https://h/mcp?x=1".into(),
        resource_metadata_url: None,
        prm_scopes_supported: Vec::new(),
        metadata: default_metadata(&url("https://h")),
    };
    for d in [with_prm, without_prm] {
        let back = from_json::<Discovered>(&to_json(&d));
        assert_eq!(back.as_ref(), Some(&d));
    }
}

#[test]
fn p3_plain_http_resource_metadata_hint_is_refused() {
    let server = ServerUrl::parse("https://mcp.example.com/mcp").expect("server");
    let err = prm_probes(&server, Some("http://evil.example.com/prm")).expect_err("insecure hint");
    assert_eq!(
        err,
        Error::InsecureEndpoint {
            url: "http://evil.example.com/prm".into()
        }
    );
}

#[test]
fn p3_failed_resource_metadata_hint_is_a_discovery_error_not_legacy_mode() {
    let server = ServerUrl::parse("https://mcp.example.com/mcp").expect("server");
    let step = ExpectProtectedResource::new(
        server,
        Some("https://mcp.example.com/prm"),
        DiscoveryOptions::default(),
    )
    .expect("step");
    let err = step
        .handle(&[FetchOutcome::NetworkError])
        .expect_err("no legacy fallback");
    assert!(
        matches!(
            err,
            Error::Discovery {
                stage: DiscoveryStage::ProtectedResource,
                likely_cors: true,
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- Well-known URLs (P-3, P-5), built with the url crate ----

const OAUTH_WK: &str = "/.well-known/oauth-authorization-server";

#[test]
fn p5_well_known_for_root_issuers() {
    for issuer in ["https://as.example", "https://as.example/"] {
        assert_eq!(
            as_metadata_urls(issuer).expect(issuer),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration"
            ]
        );
    }
}

#[test]
fn p3_well_known_inserts_before_path() {
    let probes = prm_probes(&server("http://localhost:1234/mcp"), None).expect("probes");
    assert_eq!(
        probes[0].url,
        "http://localhost:1234/.well-known/oauth-protected-resource/mcp"
    );
}

#[test]
fn p5_well_known_removes_one_trailing_slash() {
    assert_eq!(
        as_metadata_urls("https://h/t1/").expect("urls")[0],
        format!("https://h{OAUTH_WK}/t1")
    );
    assert_eq!(
        as_metadata_urls("https://h/t1//").expect("urls")[0],
        format!("https://h{OAUTH_WK}/t1/")
    );
}

#[test]
fn p5_well_known_drops_query_and_fragment() {
    assert_eq!(
        as_metadata_urls("https://h/mcp?a=1#f").expect("urls")[0],
        format!("https://h{OAUTH_WK}/mcp")
    );
    assert_eq!(
        as_metadata_urls("https://h?a=1").expect("urls")[0],
        format!("https://h{OAUTH_WK}")
    );
}

/// The probe URL is the WHATWG-normalised origin (a fetch sends that
/// anyway); the resource it must name stays the server URL as written (P-4).
#[test]
fn p3_well_known_uses_the_normalised_origin_and_keeps_the_resource_as_written() {
    let probes = prm_probes(&server("HTTPS://H:443/p"), None).expect("probes");
    assert_eq!(probes[0].url, "https://h/.well-known/oauth-protected-resource/p");
    assert_eq!(probes[0].expected_resource, "HTTPS://H:443/p");
}

#[test]
fn p5_issuer_with_userinfo_is_refused() {
    assert!(as_metadata_urls("https://u@h/").is_err());
}

#[test]
fn p5_oidc_suffix_is_appended_after_the_path() {
    for issuer in ["https://as/t1", "https://as/t1/?q#f"] {
        assert_eq!(
            as_metadata_urls(issuer).expect(issuer)[2],
            "https://as/t1/.well-known/openid-configuration"
        );
    }
}

// ---- P-4 exactness where url::Url would add a '/' ----

#[test]
fn p4_origin_resource_is_kept_exactly_without_the_slash_url_would_add() {
    let probes = prm_probes(&server("https://h:1"), None).expect("probes");
    assert_eq!(
        urls(&probes),
        ["https://h:1/.well-known/oauth-protected-resource"]
    );
    assert_eq!(probes[0].expected_resource, "https://h:1");
    let p = found(select_prm(&probes, &[ok(&prm("https://h:1", "https://as", "s"))]));
    assert_eq!(p.resource, "https://h:1");
    let p = found(select_prm(
        &probes,
        &[ok(&prm("https://h:1/", "https://as", "s"))],
    ));
    assert_eq!(p.resource, "https://h:1/", "kept as the server wrote it");
}

#[test]
fn p15_legacy_server_resource_is_the_server_url_as_written_without_a_slash() {
    let step = ExpectProtectedResource::new(server("https://h:1"), None, strict()).expect("step");
    let as_step = step.handle(&[status(404)]).expect("no PRM");
    let d = as_step.handle(&[status(404), status(404)]).expect("defaults");
    assert_eq!(d.resource, "https://h:1");
    assert_eq!(d.metadata.issuer, "https://h:1");
    assert_eq!(d.metadata.token_endpoint.as_str(), "https://h:1/token");
}

#[test]
fn p4_path_resource_with_an_added_slash_is_a_mismatch() {
    let (expected, received) = mismatch(path_answer("https://h:1/mcp", "https://h:1/mcp/"));
    assert_eq!(
        (expected.as_str(), received.as_str()),
        ("https://h:1/mcp", "https://h:1/mcp/")
    );
}

#[test]
fn server_url_with_a_non_ascii_host_is_invalid_config_naming_punycode() {
    let err = ServerUrl::parse("https://bücher.example/mcp").expect_err("non-ASCII");
    assert_eq!(err.code(), "invalid_config");
    assert!(err.to_string().contains("punycode"), "{err}");
    assert!(ServerUrl::parse("https://xn--bcher-kva.example/mcp").is_ok());
}

#[test]
fn server_url_on_ipv6_loopback_in_any_spelling_is_allowed() {
    for s in ["http://[::1]:3000/mcp", "http://[0:0:0:0:0:0:0:1]:3000/mcp"] {
        assert!(ServerUrl::parse(s).is_ok(), "{s}");
    }
}

// ---- Documents by serde ----

#[test]
fn prm_ignores_unknown_fields() {
    let body = r#"{"resource":"https://h/mcp","authorization_servers":["https://as"],"bearer_methods_supported":["header"],"x":{"y":[1]}}"#;
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    let p = found(select_prm(&probes, &[ok(body), status(404)]));
    assert_eq!(p.authorization_servers, ["https://as"]);
}

#[test]
fn prm_field_of_the_wrong_type_is_invalid_response() {
    let probes = prm_probes(&server("https://h/mcp"), None).expect("probes");
    for body in [
        r#"{"resource":"https://h/mcp","authorization_servers":"https://as"}"#,
        r#"{"resource":5}"#,
        r#"{"resource":"https://h/mcp","scopes_supported":[1]}"#,
        r#"["https://h/mcp"]"#,
    ] {
        let err = select_prm(&probes, &[ok(body), status(404)]).expect_err(body);
        assert_eq!(err.code(), "invalid_response", "{body}");
    }
}

#[test]
fn as_metadata_field_of_the_wrong_type_is_invalid_response() {
    for member in [
        r#""token_endpoint":5"#,
        r#""scopes_supported":"openid""#,
        r#""issuer":["https://as"]"#,
    ] {
        let body = as_with(member).to_string();
        let r = select_as_metadata("https://as", &["https://as/x".into()], &[ok(&body)], strict());
        assert_eq!(r.expect_err(member).code(), "invalid_response", "{member}");
    }
}

#[test]
fn as_metadata_ignores_unknown_fields() {
    let body = as_with(r#""jwks_uri":"https://as/jwks","ext":{"a":[true]}"#).to_string();
    let r = select_as_metadata("https://as", &["https://as/x".into()], &[ok(&body)], strict());
    assert!(matches!(r, Ok(AsResult::Found(_))), "{r:?}");
}

#[test]
fn as_metadata_endpoint_that_is_not_a_url_is_invalid_response() {
    let r = parse_as_metadata("https://as", &as_with(r#""token_endpoint":"/token""#), strict());
    assert_eq!(r.expect_err("relative").code(), "invalid_response");
}

#[test]
fn p32_stored_discovery_with_an_insecure_endpoint_is_not_valid() {
    let mut d = Discovered {
        resource: "https://h/mcp".into(),
        resource_metadata_url: None,
        prm_scopes_supported: Vec::new(),
        metadata: default_metadata(&url("https://h")),
    };
    assert!(d.is_valid());
    d.metadata.token_endpoint = url("javascript:alert(1)");
    assert!(!d.is_valid());
    d.metadata.token_endpoint = url("http://evil.example/token");
    assert!(!d.is_valid());
}

// ---- P-30, P-32, P-33 ----

fn timeout(url: &str) -> FetchOutcome {
    FetchOutcome::Timeout {
        url: url.into(),
        after_ms: 30_000,
    }
}

#[test]
fn p33_discovery_where_nothing_answers_and_a_probe_timed_out_is_a_timeout() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let prm_url = step.requests()[0].url.clone();
    let as_step = step.handle(&[timeout(&prm_url), net()]).expect("no prm");
    let err = as_step.handle(&[net(), net()]).expect_err("nothing answered");
    assert_eq!(
        err,
        Error::Timeout {
            url: prm_url,
            after_ms: 30_000
        }
    );
}

#[test]
fn p33_hinted_metadata_url_that_timed_out_is_a_timeout() {
    let hint = "https://h/.well-known/oauth-protected-resource/mcp";
    let step = ExpectProtectedResource::new(server("https://h/mcp"), Some(hint), strict()).expect("step");
    let err = step.handle(&[timeout(hint)]).expect_err("no answer");
    assert_eq!(err.code(), "timeout");
}

#[test]
fn p33_timed_out_probe_followed_by_an_answer_moves_on() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let prm_url = step.requests()[0].url.clone();
    let as_step = step
        .handle(&[
            timeout(&prm_url),
            ok(r#"{"resource":"https://h","authorization_servers":["https://as"]}"#),
        ])
        .expect("root PRM");
    assert_eq!(as_step.issuer(), "https://as");
}

#[test]
fn p30_redirected_probe_moves_on_to_the_next_url() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let prm_url = step.requests()[0].url.clone();
    let as_step = step
        .handle(&[
            FetchOutcome::Redirected { url: prm_url },
            ok(r#"{"resource":"https://h","authorization_servers":["https://as"]}"#),
        ])
        .expect("root PRM");
    assert_eq!(as_step.issuer(), "https://as");
}

#[test]
fn p32_oversized_metadata_stops_discovery_with_invalid_response() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let prm_url = step.requests()[0].url.clone();
    let err = step
        .handle(&[FetchOutcome::TooLarge { url: prm_url }, net()])
        .expect_err("refused");
    assert_eq!(err.code(), "invalid_response");
}

// ---- P-5: the speculative AS-metadata probes of the server's origin ----

#[test]
fn p5_speculative_origin_probes_follow_the_prm_probes_in_one_batch() {
    let step =
        ExpectProtectedResource::new(server("https://h:8443/mcp"), Some("https://h:8443/prm"), strict())
            .expect("step");
    let urls: Vec<String> = step.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(
        urls,
        [
            "https://h:8443/prm",
            "https://h:8443/.well-known/oauth-authorization-server",
            "https://h:8443/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn p5_speculative_answers_are_kept_only_for_the_origin_issuer() {
    let cases = [
        ("https://h", true),
        // Same well-known URLs: the same answers (P-6 then judges the issuer string).
        ("https://h/", true),
        ("https://h/tenant", false),
        ("https://as.example", false),
    ];
    for (issuer, kept) in cases {
        let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
        let doc = ok(&as_doc("https://h", "https://h"));
        let mut as_step = step
            .handle(&[
                ok(&prm("https://h/mcp", issuer, "s")),
                status(404),
                doc.clone(),
                status(404),
            ])
            .expect("prm");
        assert_eq!(
            as_step.take_speculative_answers(),
            kept.then(|| vec![doc, status(404)]),
            "{issuer}"
        );
        assert_eq!(as_step.take_speculative_answers(), None, "taken once");
    }
}

#[test]
fn p5_without_speculative_answers_the_next_step_sends_its_probes() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let mut as_step = step
        .handle(&[
            ok(&prm("https://h/mcp", "https://h", "s")),
            status(404),
            status(404),
        ])
        .expect("prm");
    assert_eq!(as_step.take_speculative_answers(), None);
    assert_eq!(as_step.requests().len(), 2);
}

#[test]
fn p33_a_timed_out_speculative_probe_is_not_the_prm_step_timeout() {
    let step = ExpectProtectedResource::new(server("https://h/mcp"), None, strict()).expect("step");
    let timeout = FetchOutcome::Timeout {
        url: "https://h/.well-known/oauth-authorization-server".into(),
        after_ms: 5,
    };
    let mut as_step = step
        .handle(&[net(), net(), timeout.clone(), net()])
        .expect("no prm: P-3a");
    let answers = as_step.take_speculative_answers().expect("origin is the issuer");
    // The AS step reports its own timeout, the one in its answers.
    assert!(matches!(as_step.handle(&answers), Err(Error::Timeout { .. })));
}
