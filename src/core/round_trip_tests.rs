//! Sequential round trips of a cold start, counted in `FakeIo` (one
//! `fetch_all` call is one round trip): the speculative AS-metadata probes
//! of the server's origin (P-5, sent with the PRM probes of P-3) and
//! `flow::prefetch`. "After the 401" means inside the authorization the 401
//! starts: the resource request itself is not a protocol round trip.

use std::future::{ready, Ready};

use crate::core::discovery::Discovered;
use crate::core::error::{DiscoveryStage, Error, Result};
use crate::core::flow::{self, Authorization, AuthorizeRequest, Config, FetchEnd};
use crate::core::http::{FetchOutcome, HttpResponse};
use crate::core::io::{Area, Credentials, ResourceAnswer, Status};
use crate::core::store;
use crate::core::testing::*;

const ORIGIN: &str = "https://mcp.example.com";
const ROOT_PRM_URL: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";
const ORIGIN_AS_URL: &str = "https://mcp.example.com/.well-known/oauth-authorization-server";
const ORIGIN_OIDC_URL: &str = "https://mcp.example.com/.well-known/openid-configuration";
const ORIGIN_REGISTER_URL: &str = "https://mcp.example.com/register";
const TENANT: &str = "https://mcp.example.com/tenant";
const TENANT_AS_URL: &str = "https://mcp.example.com/.well-known/oauth-authorization-server/tenant";
const CIMD_URL: &str = "https://app.example.com/oauth/client.json";

/// AS metadata saying `issuer`, endpoints on the server's origin.
fn origin_as_json(issuer: &str, cimd: bool) -> String {
    format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{ORIGIN}/authorize","token_endpoint":"{ORIGIN}/token",
        "registration_endpoint":"{ORIGIN_REGISTER_URL}","scopes_supported":["mcp:read","mcp:write"],
        "code_challenge_methods_supported":["S256"],"client_id_metadata_document_supported":{cimd},
        "authorization_response_iss_parameter_supported":true}}"#
    )
}

fn prm_naming(issuer: &str) -> String {
    format!(
        r#"{{"resource":"{SERVER}","authorization_servers":["{issuer}"],"scopes_supported":["mcp:read"]}}"#
    )
}

/// An MCP server whose PRM names `issuer` and whose origin serves AS metadata
/// saying `issuer` (so the speculative answers are valid for it), with DCR.
fn server_naming(issuer: &str, cimd: bool) -> FakeIo {
    let io = FakeIo::new();
    io.json(PRM_URL, 200, &prm_naming(issuer));
    io.json(ORIGIN_AS_URL, 200, &origin_as_json(issuer, cimd));
    io.json(ORIGIN_REGISTER_URL, 201, &registration_json("mcp:read"));
    io
}

/// The common case: the AS is the MCP server's origin.
fn as_on_origin() -> FakeIo {
    server_naming(ORIGIN, false)
}

fn pre_registered() -> Config {
    let mut cfg = config();
    cfg.client.client_id = Some("pre-registered".into());
    cfg
}

fn cimd() -> Config {
    let mut cfg = config();
    cfg.client.client_metadata_url = Some(CIMD_URL.into());
    cfg
}

/// The MCP server's first answer: 401 pointing at its path-aware PRM.
fn unauthorized() -> ResourceAnswer {
    ResourceAnswer {
        status: 401,
        www_authenticate: Some(format!(
            r#"Bearer resource_metadata="{PRM_URL}", scope="mcp:read""#
        )),
        redirected: false,
        dpop_nonce: None,
    }
}

/// `auth.fetch` without tokens: the 401, then the authorization it starts.
fn cold_fetch(io: &FakeIo, cfg: &Config) -> Result<FetchEnd> {
    let send = |_: Option<Credentials>| -> Ready<Result<ResourceAnswer>> { ready(Ok(unauthorized())) };
    block_on(flow::fetch(
        io,
        cfg,
        "POST",
        SERVER,
        "https://app.example.com/",
        send,
    ))
}

/// `auth.authorize()` (the "Connect" button), without a challenge.
fn click(io: &FakeIo, cfg: &Config) -> Result<Authorization> {
    block_on(flow::authorize(io, cfg, &AuthorizeRequest::default()))
}

fn prefetch(io: &FakeIo, cfg: &Config) -> Result<Discovered> {
    block_on(flow::prefetch(io, cfg))
}

fn is_redirect(end: &Result<FetchEnd>) -> bool {
    matches!(end, Ok(FetchEnd::Redirect(_)))
}

fn batches(io: &FakeIo) -> Vec<Vec<String>> {
    io.batches.borrow().clone()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ok_metadata(io: &FakeIo) -> Discovered {
    store::load_discovery(io, SERVER)
        .expect("storage")
        .expect("discovery cached")
}

// ---------------------------------------------------------------- cold start, AS on the server's origin

#[test]
fn p5_as_on_the_server_origin_cold_start_with_dcr_takes_two_round_trips_not_three() {
    let io = as_on_origin();
    let end = cold_fetch(&io, &config());
    assert!(is_redirect(&end), "{end:?}");
    assert_eq!(io.round_trips.get(), 2);
    assert_eq!(
        batches(&io),
        vec![
            vec![PRM_URL.to_string(), ORIGIN_AS_URL.into(), ORIGIN_OIDC_URL.into()],
            vec![ORIGIN_REGISTER_URL.into()],
        ]
    );
    assert_eq!(ok_metadata(&io).metadata.issuer, ORIGIN);
}

#[test]
fn p5_as_on_the_server_origin_cold_start_with_a_pre_registered_client_takes_one_round_trip() {
    let io = as_on_origin();
    assert!(is_redirect(&cold_fetch(&io, &pre_registered())));
    assert_eq!(io.round_trips.get(), 1);
}

#[test]
fn p5_as_on_the_server_origin_cold_start_with_a_cimd_client_takes_one_round_trip() {
    let io = server_naming(ORIGIN, true);
    let end = cold_fetch(&io, &cimd());
    assert!(is_redirect(&end), "{end:?}");
    assert_eq!(io.round_trips.get(), 1);
    assert!(io.requests_to(ORIGIN_REGISTER_URL).is_empty());
}

#[test]
fn p5_as_on_the_server_origin_without_a_challenge_hint_also_saves_the_round_trip() {
    // The "Connect" button: both PRM probes (path-aware, root) and both
    // speculative probes go out together.
    let io = as_on_origin();
    assert!(matches!(
        click(&io, &pre_registered()),
        Ok(Authorization::Redirect(_))
    ));
    assert_eq!(io.round_trips.get(), 1);
    assert_eq!(
        batches(&io)[0],
        [PRM_URL, ROOT_PRM_URL, ORIGIN_AS_URL, ORIGIN_OIDC_URL]
    );
}

#[test]
fn p5_speculative_answers_keep_the_priority_order() {
    // The oauth-authorization-server document fails; OIDC discovery answers.
    let io = as_on_origin();
    io.clear_route(ORIGIN_AS_URL);
    io.json(ORIGIN_AS_URL, 404, "not found");
    io.json(ORIGIN_OIDC_URL, 200, &origin_as_json(ORIGIN, false));
    assert!(is_redirect(&cold_fetch(&io, &pre_registered())));
    assert_eq!(io.round_trips.get(), 1);
    // Both answer: the first in P-5 order wins (its CIMD flag tells them apart).
    let io = as_on_origin();
    io.json(ORIGIN_OIDC_URL, 200, &origin_as_json(ORIGIN, true));
    assert!(is_redirect(&cold_fetch(&io, &cimd())));
    assert!(!ok_metadata(&io).metadata.client_id_metadata_document_supported);
    assert_eq!(io.requests_to(ORIGIN_REGISTER_URL).len(), 1);
}

// ---------------------------------------------------------------- the speculative answers dropped

#[test]
fn p5_as_on_another_origin_drops_the_speculative_answers_and_takes_three_round_trips_with_dcr() {
    let io = standard_io();
    // Even a valid document on the server's origin is not the named AS's.
    io.json(ORIGIN_AS_URL, 200, &origin_as_json(ORIGIN, false));
    assert!(is_redirect(&cold_fetch(&io, &config())));
    assert_eq!(io.round_trips.get(), 3);
    assert_eq!(
        batches(&io)[1],
        [
            AS_META_URL,
            "https://as.example.com/.well-known/openid-configuration"
        ]
    );
    assert_eq!(ok_metadata(&io).metadata.issuer, ISSUER);
    assert_eq!(io.requests_to(REGISTER_URL).len(), 1);
    assert!(io.requests_to(ORIGIN_REGISTER_URL).is_empty());
}

#[test]
fn p5_as_on_another_origin_takes_two_round_trips_with_a_pre_registered_client() {
    let io = standard_io();
    assert!(is_redirect(&cold_fetch(&io, &pre_registered())));
    assert_eq!(io.round_trips.get(), 2);
}

#[test]
fn p5_prm_naming_the_origin_with_a_path_drops_the_speculative_answers() {
    let io = server_naming(TENANT, false);
    // The origin's document says the origin, not the tenant: unused, not an error.
    io.clear_route(ORIGIN_AS_URL);
    io.json(ORIGIN_AS_URL, 200, &origin_as_json(ORIGIN, false));
    io.json(TENANT_AS_URL, 200, &origin_as_json(TENANT, false));
    assert!(is_redirect(&cold_fetch(&io, &config())));
    assert_eq!(io.round_trips.get(), 3);
    assert_eq!(
        batches(&io)[1],
        [
            TENANT_AS_URL,
            "https://mcp.example.com/.well-known/openid-configuration/tenant",
            "https://mcp.example.com/tenant/.well-known/openid-configuration",
        ]
    );
    assert_eq!(ok_metadata(&io).metadata.issuer, TENANT);
}

#[test]
fn p5_failed_speculative_probes_do_not_matter_when_the_as_is_elsewhere() {
    for failure in [
        FetchOutcome::Response(HttpResponse::new(500, "boom")),
        FetchOutcome::NetworkError,
        FetchOutcome::Timeout {
            url: ORIGIN_AS_URL.into(),
            after_ms: 10_000,
        },
        FetchOutcome::TooLarge {
            url: ORIGIN_AS_URL.into(),
        },
    ] {
        let io = standard_io();
        io.on(ORIGIN_AS_URL, failure.clone());
        io.on(ORIGIN_OIDC_URL, failure.clone());
        let end = cold_fetch(&io, &pre_registered());
        assert!(is_redirect(&end), "{failure:?}: {end:?}");
        assert_eq!(io.round_trips.get(), 2, "{failure:?}");
    }
}

// ---------------------------------------------------------------- P-6: never trusted

#[test]
fn p6_speculative_answer_naming_another_issuer_is_never_used() {
    let io = as_on_origin();
    io.clear_route(ORIGIN_AS_URL);
    io.json(ORIGIN_AS_URL, 200, &origin_as_json("https://evil.example", false));
    let end = cold_fetch(&io, &config());
    assert_eq!(
        end,
        Err(Error::AuthorizationServerMismatch {
            expected: ORIGIN.into(),
            received: "https://evil.example".into(),
        })
    );
    assert_eq!(io.round_trips.get(), 1);
    assert!(io.requests_to(ORIGIN_REGISTER_URL).is_empty());
    assert_eq!(store::load_discovery(&io, SERVER), Ok(None));
}

#[test]
fn p6_prm_naming_the_origin_with_a_trailing_slash_is_another_issuer_string() {
    // RFC 8414 §3.3: identity is exact. `https://mcp.example.com/` has the
    // same well-known URLs as the origin, so the answers are reused (no
    // second round trip for the same requests), but metadata saying the
    // origin without the slash is a mismatch, as it was before.
    let slash = "https://mcp.example.com/";
    let io = as_on_origin();
    io.clear_route(PRM_URL);
    io.json(PRM_URL, 200, &prm_naming(slash));
    let end = cold_fetch(&io, &pre_registered());
    assert_eq!(
        end,
        Err(Error::AuthorizationServerMismatch {
            expected: slash.into(),
            received: ORIGIN.into(),
        })
    );
    assert_eq!(io.round_trips.get(), 1);
    // Metadata that says exactly what the PRM says is used.
    let io = server_naming(slash, false);
    assert!(is_redirect(&cold_fetch(&io, &pre_registered())));
    assert_eq!(io.round_trips.get(), 1);
    assert_eq!(ok_metadata(&io).metadata.issuer, slash);
}

// ---------------------------------------------------------------- P-3a: no PRM

#[test]
fn p3a_without_prm_the_speculative_answers_are_the_origin_metadata_probes() {
    let io = FakeIo::new();
    io.json(ORIGIN_AS_URL, 200, &origin_as_json(ORIGIN, false));
    io.json(ORIGIN_REGISTER_URL, 201, &registration_json("mcp:read"));
    assert!(matches!(
        click(&io, &pre_registered()),
        Ok(Authorization::Redirect(_))
    ));
    assert_eq!(io.round_trips.get(), 1);
    let d = ok_metadata(&io);
    assert!(d.metadata.from_document);
    assert_eq!(d.resource_metadata_url, None);

    let io = FakeIo::new();
    io.json(ORIGIN_AS_URL, 200, &origin_as_json(ORIGIN, false));
    io.json(ORIGIN_REGISTER_URL, 201, &registration_json("mcp:read"));
    assert!(matches!(click(&io, &config()), Ok(Authorization::Redirect(_))));
    assert_eq!(io.round_trips.get(), 2);
}

#[test]
fn p3a_no_metadata_at_all_reaches_the_default_endpoints_in_one_round_trip() {
    let io = FakeIo::new();
    assert!(matches!(
        click(&io, &pre_registered()),
        Ok(Authorization::Redirect(_))
    ));
    assert_eq!(io.round_trips.get(), 1);
    assert!(!ok_metadata(&io).metadata.from_document);
}

#[test]
fn p3a_nothing_answering_at_all_is_still_a_likely_cors_error() {
    let io = FakeIo::new();
    for u in [PRM_URL, ROOT_PRM_URL, ORIGIN_AS_URL, ORIGIN_OIDC_URL] {
        io.on(u, FetchOutcome::NetworkError);
    }
    match click(&io, &pre_registered()) {
        Err(Error::Discovery {
            stage, likely_cors, ..
        }) => {
            assert_eq!(stage, DiscoveryStage::ProtectedResource);
            assert!(likely_cors);
        }
        other => panic!("expected a discovery error, got {other:?}"),
    }
    assert_eq!(io.round_trips.get(), 1);
}

// ---------------------------------------------------------------- prefetch

#[test]
fn prefetch_then_connect_with_dcr_takes_exactly_the_registration_round_trip() {
    let io = as_on_origin();
    prefetch(&io, &config()).expect("prefetch");
    assert_eq!(io.round_trips.get(), 1);
    assert!(matches!(click(&io, &config()), Ok(Authorization::Redirect(_))));
    assert_eq!(io.round_trips.get(), 2);
    assert_eq!(batches(&io)[1], [ORIGIN_REGISTER_URL]);

    // AS elsewhere: prefetch pays two round trips, the click still one.
    let io = standard_io();
    prefetch(&io, &config()).expect("prefetch");
    assert_eq!(io.round_trips.get(), 2);
    assert!(matches!(click(&io, &config()), Ok(Authorization::Redirect(_))));
    assert_eq!(io.round_trips.get(), 3);
}

#[test]
fn prefetch_then_connect_with_a_pre_registered_or_cimd_client_takes_no_round_trip() {
    for (io, cfg) in [
        (as_on_origin(), pre_registered()),
        (server_naming(ORIGIN, true), cimd()),
        (standard_io(), pre_registered()),
    ] {
        prefetch(&io, &cfg).expect("prefetch");
        let before = io.round_trips.get();
        assert!(matches!(click(&io, &cfg), Ok(Authorization::Redirect(_))));
        assert_eq!(io.round_trips.get(), before);
    }
}

#[test]
fn prefetch_then_the_first_401_uses_the_cache_when_it_names_the_same_prm() {
    let io = as_on_origin();
    prefetch(&io, &config()).expect("prefetch");
    let before = io.round_trips.get();
    assert!(is_redirect(&cold_fetch(&io, &config())));
    assert_eq!(io.round_trips.get() - before, 1, "only the registration");

    let io = as_on_origin();
    prefetch(&io, &pre_registered()).expect("prefetch");
    let before = io.round_trips.get();
    assert!(is_redirect(&cold_fetch(&io, &pre_registered())));
    assert_eq!(io.round_trips.get(), before);
}

#[test]
fn prefetch_needs_nothing_from_the_user_registers_nothing_and_reports_no_status() {
    let io = as_on_origin();
    let d = prefetch(&io, &config()).expect("prefetch");
    assert_eq!(d, ok_metadata(&io));
    assert!(io.requests_to(ORIGIN_REGISTER_URL).is_empty());
    assert!(io.keys_with(Area::Session, store::PENDING_PREFIX).is_empty());
    assert_eq!(store::load_client(&io, ORIGIN, REDIRECT), Ok(None));
    assert!(io.statuses.borrow().is_empty());
    // The click reports what it does, without a "discovering" it did not do.
    click(&io, &config()).expect("click");
    assert_eq!(*io.statuses.borrow(), [Status::Registering, Status::Redirecting]);
}

#[test]
fn prefetch_twice_uses_the_cache() {
    let io = as_on_origin();
    prefetch(&io, &config()).expect("prefetch");
    prefetch(&io, &config()).expect("prefetch again");
    assert_eq!(io.round_trips.get(), 1);
}

#[test]
fn prefetch_failure_caches_nothing_and_the_next_call_discovers_again() {
    let io = as_on_origin();
    io.clear_route(PRM_URL);
    io.json(PRM_URL, 503, "down");
    let e = prefetch(&io, &pre_registered()).expect_err("a 503 is an error (P-3)");
    assert_eq!(e.code(), "discovery_failed");
    assert_eq!(store::load_discovery(&io, SERVER), Ok(None));
    // The server is back: the click discovers again and goes on.
    io.clear_route(PRM_URL);
    io.json(PRM_URL, 200, &prm_naming(ORIGIN));
    assert!(matches!(
        click(&io, &pre_registered()),
        Ok(Authorization::Redirect(_))
    ));
    assert_eq!(io.round_trips.get(), 2);
    assert_eq!(
        sorted(io.urls()),
        sorted(
            [PRM_URL, ROOT_PRM_URL, ORIGIN_AS_URL, ORIGIN_OIDC_URL]
                .iter()
                .chain(&[PRM_URL, ROOT_PRM_URL, ORIGIN_AS_URL, ORIGIN_OIDC_URL])
                .map(|s| s.to_string())
                .collect()
        )
    );
}
