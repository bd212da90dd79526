use super::*;
use crate::core::authorize::{Flow, PENDING_TTL_MS};
use crate::core::io::TokenStorage;
use crate::core::registration::AuthMethod;
use crate::core::secret::Secret;
use crate::core::testing::form_urldecode;

const ISSUER: &str = "https://as.example.com";
const NOW: u64 = 1_700_000_000_000;

fn record(iss_advertised: bool) -> PendingRecord {
    PendingRecord {
        state: "st-1".into(),
        verifier: Secret::new("verifier-1"),
        issuer: ISSUER.into(),
        iss_advertised,
        token_endpoint: "https://as.example.com/token".into(),
        client_id: "client-1".into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        redirect_uri: "https://app.example.com/callback".into(),
        resource: "https://mcp.example.com/mcp".into(),
        scope: vec!["mcp:read".into()],
        server_url: "https://mcp.example.com/mcp".into(),
        return_to: "https://app.example.com/".into(),
        created_at_ms: NOW,
        token_storage: TokenStorage::Session,
        dpop: false,
        flow: Flow::Redirect,
    }
}

fn record_for(state: &str, server_url: &str, created_at_ms: u64) -> PendingRecord {
    PendingRecord {
        state: state.into(),
        server_url: server_url.into(),
        created_at_ms,
        ..record(true)
    }
}

fn params(pairs: &[(&str, &str)]) -> CallbackParams {
    CallbackParams(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// The callback query as the browser's `URLSearchParams` would decode it.
fn query(q: &str) -> CallbackParams {
    CallbackParams(form_urldecode(q))
}

fn mismatch(received: Option<&str>) -> Error {
    Error::IssuerMismatch {
        expected: ISSUER.into(),
        received: received.map(String::from),
    }
}

fn with_iss(iss: &str) -> Result<String> {
    read_callback(
        &record(true),
        &params(&[("code", "c1"), ("state", "st-1"), ("iss", iss)]),
    )
}

// P-18 / P-19: state.

#[test]
fn p19_missing_state_is_unknown_state() {
    assert_eq!(
        callback_state(&params(&[("code", "c1")])),
        Err(Error::UnknownState)
    );
}

#[test]
fn p19_empty_state_is_unknown_state() {
    assert_eq!(
        callback_state(&params(&[("code", "c1"), ("state", "")])),
        Err(Error::UnknownState)
    );
}

#[test]
fn p19_state_is_read_form_decoded() {
    let p = query("code=c1&state=a%2Bb+c&iss=x");
    assert_eq!(callback_state(&p), Ok("a+b c"));
}

#[test]
fn p18_get_returns_the_first_value_like_url_search_params() {
    let p = query("iss=https%3A%2F%2Fas.example.com&iss=https%3A%2F%2Fevil.example");
    assert_eq!(p.get("iss"), Some(ISSUER));
}

// P-20: the six rows of the decision table.

#[test]
fn p20_advertised_and_equal_iss_proceeds() {
    assert_eq!(check_issuer(&record(true), Some(ISSUER)), Ok(()));
}

#[test]
fn p20_advertised_and_different_iss_is_mismatch() {
    assert_eq!(
        check_issuer(&record(true), Some("https://evil.example.com")),
        Err(mismatch(Some("https://evil.example.com")))
    );
}

#[test]
fn p20_advertised_and_absent_iss_is_mismatch() {
    assert_eq!(check_issuer(&record(true), None), Err(mismatch(None)));
}

#[test]
fn p20_not_advertised_and_equal_iss_proceeds() {
    assert_eq!(check_issuer(&record(false), Some(ISSUER)), Ok(()));
}

#[test]
fn p20_not_advertised_and_different_iss_is_mismatch() {
    assert_eq!(
        check_issuer(&record(false), Some("https://evil.example.com")),
        Err(mismatch(Some("https://evil.example.com")))
    );
}

#[test]
fn p20_not_advertised_and_absent_iss_proceeds() {
    assert_eq!(check_issuer(&record(false), None), Ok(()));
}

// P-20: no normalisation of any kind.

#[test]
fn p20_scheme_case_is_not_normalised() {
    assert_eq!(
        with_iss("HTTPS://as.example.com"),
        Err(mismatch(Some("HTTPS://as.example.com")))
    );
}

#[test]
fn p20_host_case_is_not_normalised() {
    assert_eq!(
        with_iss("https://AS.example.com"),
        Err(mismatch(Some("https://AS.example.com")))
    );
}

#[test]
fn p20_explicit_default_port_is_not_removed() {
    assert_eq!(
        with_iss("https://as.example.com:443"),
        Err(mismatch(Some("https://as.example.com:443")))
    );
}

#[test]
fn p20_trailing_slash_is_not_removed() {
    assert_eq!(
        with_iss("https://as.example.com/"),
        Err(mismatch(Some("https://as.example.com/")))
    );
}

#[test]
fn p20_percent_encoding_in_the_decoded_value_is_not_decoded_again() {
    // `iss=https%3A%2F%2Fas.exa%256Dple.com` decodes once to a literal `%6D`.
    let p = query("code=c1&state=st-1&iss=https%3A%2F%2Fas.exa%256Dple.com");
    assert_eq!(
        read_callback(&record(true), &p),
        Err(mismatch(Some("https://as.exa%6Dple.com")))
    );
}

#[test]
fn p20_form_encoded_iss_is_compared_after_decoding() {
    let p = query("code=c1&state=st-1&iss=https%3A%2F%2Fas.exa%6Dple.com");
    assert_eq!(read_callback(&record(true), &p), Ok("c1".into()));
}

#[test]
fn p20_empty_iss_is_present_and_different_even_when_not_advertised() {
    let p = query("code=c1&state=st-1&iss=");
    assert_eq!(read_callback(&record(false), &p), Err(mismatch(Some(""))));
}

// P-19 order and P-22.

#[test]
fn p19_wrong_iss_with_error_is_issuer_mismatch_not_oauth() {
    let p = params(&[
        ("state", "st-1"),
        ("iss", "https://evil.example.com"),
        ("error", "access_denied"),
        ("error_description", "forged"),
    ]);
    let err = read_callback(&record(true), &p).expect_err("must fail");
    assert_eq!(err, mismatch(Some("https://evil.example.com")));
    assert!(keeps_pending_record(&err));
}

#[test]
fn p19_missing_advertised_iss_with_error_is_issuer_mismatch() {
    let p = params(&[("state", "st-1"), ("error", "access_denied")]);
    let err = read_callback(&record(true), &p).expect_err("must fail");
    assert_eq!(err, mismatch(None));
    assert!(keeps_pending_record(&err));
}

#[test]
fn p22_error_with_valid_iss_becomes_oauth_error_with_all_fields() {
    let p = params(&[
        ("state", "st-1"),
        ("iss", ISSUER),
        ("error", "access_denied"),
        ("error_description", "The user said no"),
        ("error_uri", "https://as.example.com/help"),
    ]);
    assert_eq!(
        read_callback(&record(true), &p),
        Err(Error::OAuth {
            code: "access_denied".into(),
            description: Some("The user said no".into()),
            uri: Some("https://as.example.com/help".into()),
        })
    );
}

#[test]
fn p22_error_wins_over_code() {
    let p = params(&[
        ("state", "st-1"),
        ("iss", ISSUER),
        ("code", "c1"),
        ("error", "server_error"),
    ]);
    assert!(
        matches!(read_callback(&record(true), &p), Err(Error::OAuth { code, .. }) if code == "server_error")
    );
}

#[test]
fn p19_oauth_error_consumes_the_pending_record() {
    let p = params(&[("state", "st-1"), ("iss", ISSUER), ("error", "access_denied")]);
    let err = read_callback(&record(true), &p).expect_err("must fail");
    assert!(!keeps_pending_record(&err));
}

#[test]
fn p22_neither_code_nor_error_is_missing_code() {
    let p = params(&[("state", "st-1"), ("iss", ISSUER)]);
    assert_eq!(read_callback(&record(true), &p), Err(Error::MissingCode));
    assert!(!keeps_pending_record(&Error::MissingCode));
}

#[test]
fn p22_empty_code_is_missing_code() {
    let p = params(&[("state", "st-1"), ("iss", ISSUER), ("code", "")]);
    assert_eq!(read_callback(&record(true), &p), Err(Error::MissingCode));
}

#[test]
fn p19_valid_callback_yields_the_code() {
    assert_eq!(with_iss(ISSUER), Ok("c1".into()));
}

#[test]
fn p19_unknown_state_keeps_pending_records() {
    assert!(keeps_pending_record(&Error::UnknownState));
}

// P-21: sanitised issuer mismatch.

#[test]
fn p21_issuer_mismatch_carries_nothing_else_from_the_query() {
    let p = params(&[
        ("code", "CODE-zq81"),
        ("state", "STATE-kx93"),
        ("iss", "https://evil.example.com"),
        ("error", "ERRCODEvb27"),
        ("error_description", "DESC-pw55"),
        ("error_uri", "https://URI-mm04.example"),
    ]);
    let err = read_callback(&record(true), &p).expect_err("must fail");
    let shown = format!("{err} {err:?}");
    for secret in ["CODE-zq81", "STATE-kx93", "ERRCODEvb27", "DESC-pw55", "URI-mm04"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("https://evil.example.com"), "{shown}");
    assert!(shown.contains(ISSUER), "{shown}");
}

#[test]
fn p21_received_iss_with_newline_and_quote_is_json_escaped() {
    let forged = "https://evil\"\n[INFO] login ok";
    let err = with_iss(forged).expect_err("must fail");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.contains(r#""https://evil\"\n[INFO] login ok""#), "{msg}");
}

// P-18 code form.

#[test]
fn p18_from_code_with_iss_holds_code_and_iss() {
    let p = CallbackParams::from_code("c1", Some(ISSUER));
    assert_eq!(p.get("code"), Some("c1"));
    assert_eq!(p.get("iss"), Some(ISSUER));
    assert_eq!(p.get("state"), None);
    assert_eq!(read_callback(&record(true), &p), Ok("c1".into()));
}

#[test]
fn p18_from_code_without_iss_fails_when_iss_is_advertised() {
    let p = CallbackParams::from_code("c1", None);
    assert_eq!(p.get("iss"), None);
    assert_eq!(read_callback(&record(true), &p), Err(mismatch(None)));
    assert_eq!(read_callback(&record(false), &p), Ok("c1".into()));
}

#[test]
fn p18_sole_pending_returns_the_one_live_record() {
    let records = [record_for("a", "https://mcp.example.com/mcp", NOW)];
    assert_eq!(
        sole_pending(&records, None, NOW + 1).map(|r| r.state.as_str()),
        Ok("a")
    );
}

#[test]
fn p18_sole_pending_with_no_record_is_unknown_state() {
    assert_eq!(sole_pending(&[], None, NOW), Err(Error::UnknownState));
}

#[test]
fn p18_sole_pending_with_two_live_records_is_unknown_state() {
    let records = [
        record_for("a", "https://mcp.example.com/mcp", NOW),
        record_for("b", "https://other.example.com/mcp", NOW),
    ];
    assert_eq!(sole_pending(&records, None, NOW), Err(Error::UnknownState));
}

#[test]
fn p18_sole_pending_ignores_expired_records() {
    let records = [
        record_for("old", "https://mcp.example.com/mcp", NOW - PENDING_TTL_MS - 1),
        record_for("new", "https://mcp.example.com/mcp", NOW),
    ];
    assert_eq!(
        sole_pending(&records, None, NOW).map(|r| r.state.as_str()),
        Ok("new")
    );
}

#[test]
fn p18_sole_pending_with_only_expired_records_is_unknown_state() {
    let records = [record_for("old", "https://mcp.example.com/mcp", NOW)];
    assert_eq!(
        sole_pending(&records, None, NOW + PENDING_TTL_MS + 1),
        Err(Error::UnknownState)
    );
}

#[test]
fn p18_sole_pending_filters_by_server_url() {
    let records = [
        record_for("a", "https://mcp.example.com/mcp", NOW),
        record_for("b", "https://other.example.com/mcp", NOW),
    ];
    assert_eq!(
        sole_pending(&records, Some("https://other.example.com/mcp"), NOW).map(|r| r.state.as_str()),
        Ok("b")
    );
    assert_eq!(
        sole_pending(&records, Some("https://third.example.com/"), NOW),
        Err(Error::UnknownState)
    );
}

#[test]
fn p28_callback_oauth_error_message_omits_description_uri_and_code() {
    let p = params(&[
        ("state", "st-1"),
        ("iss", ISSUER),
        ("code", "CODE-zq81"),
        ("error", "access_denied"),
        ("error_description", "DESC-pw55"),
        ("error_uri", "https://URI-mm04.example"),
    ]);
    let msg = read_callback(&record(true), &p)
        .expect_err("must fail")
        .to_string();
    for leak in ["CODE-zq81", "DESC-pw55", "URI-mm04"] {
        assert!(!msg.contains(leak), "{leak} in {msg}");
    }
    assert!(msg.contains("access_denied"), "{msg}");
}
