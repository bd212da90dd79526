//! Popup mode's decisions: the P-42 watch fed with observations, and the
//! P-41 hand-over between the callback page (another window: its own
//! `sessionStorage`, the same `localStorage`) and the opener.

use super::*;
use crate::core::flow::{self, Authorization, AuthorizeRequest, CallbackInput, TokenTarget};
use crate::core::testing::*;

const T0: u64 = 1_700_000_000_000;
const FIVE_MIN: u32 = DEFAULT_TIMEOUT_MS;

/// Feeds `closed` at each of `times` (ms after the navigation); the first
/// verdict that is not `Wait`, with its time.
fn watch(timeout_ms: u32, seen: &[(u64, bool)]) -> Option<(u64, Error)> {
    let mut w = PopupWatch::new(T0, timeout_ms);
    seen.iter()
        .find_map(|&(at, closed)| match w.observe(closed, false, T0 + at) {
            Watch::Wait => None,
            Watch::Fail(e) => Some((at, e)),
        })
}

/// One look every `POLL_MS` from `from` to `to` (ms after the navigation).
fn polls(from: u64, to: u64, closed: impl Fn(u64) -> bool) -> Vec<(u64, bool)> {
    (from..=to)
        .step_by(POLL_MS as usize)
        .map(|t| (t, closed(t)))
        .collect()
}

fn closed_by(reason: PopupEnd) -> Error {
    Error::PopupClosed { reason }
}

#[test]
fn p42_without_coop_a_window_the_user_closes_fails_after_the_grace() {
    // Open (closed = false) for 5 s, then closed by the user.
    let seen = polls(0, 20_000, |t| t >= 5_000);
    let (at, e) = watch(FIVE_MIN, &seen).expect("fails");
    assert_eq!(e, closed_by(PopupEnd::Closed));
    assert!(
        (5_000 + CLOSED_GRACE_MS..5_000 + CLOSED_GRACE_MS + 2 * u64::from(POLL_MS)).contains(&at),
        "{at}"
    );
    assert_eq!(e.code(), "popup_closed");
}

#[test]
fn p42_a_result_in_flight_has_the_grace_to_arrive() {
    // Closed at 5 s, looked at again 900 ms later: still waiting.
    assert_eq!(
        watch(
            FIVE_MIN,
            &[(0, false), (2_000, false), (5_000, true), (5_900, true)]
        ),
        None
    );
}

#[test]
fn p42_under_coop_closed_from_the_first_second_is_not_believed() {
    // COOP: `closed` reads true once the AS page loads (300 ms), and stays
    // so while a slow user spends a minute, or four, on the consent page.
    let seen = polls(0, u64::from(FIVE_MIN) - 1, |t| t >= 300);
    assert_eq!(watch(FIVE_MIN, &seen), None);
}

#[test]
fn p42_under_coop_the_wait_ends_at_popup_timeout() {
    let seen = polls(0, 10_000, |t| t >= 300);
    let (at, e) = watch(4_000, &seen).expect("times out");
    assert_eq!(at, 4_000);
    assert_eq!(e, closed_by(PopupEnd::TimedOut { after_ms: 4_000 }));
    assert!(e.to_string().contains("popupTimeoutMs"), "{e}");
}

#[test]
fn p42_closed_at_once_is_severed_for_good_even_if_it_reads_open_later() {
    let seen = [(0, true), (2_500, false), (3_000, true), (9_000, true)];
    assert_eq!(watch(FIVE_MIN, &seen), None);
}

#[test]
fn p42_a_window_open_for_less_than_two_seconds_is_not_yet_trusted() {
    let seen = polls(0, 10_000, |t| t >= TRUST_OPEN_MS - u64::from(POLL_MS));
    assert_eq!(watch(FIVE_MIN, &seen), None);
}

#[test]
fn p42_the_apps_signal_ends_the_wait_at_once() {
    let mut w = PopupWatch::new(T0, FIVE_MIN);
    assert_eq!(w.observe(true, false, T0 + 300), Watch::Wait);
    let verdict = w.observe(true, true, T0 + 20_000);
    assert_eq!(verdict, Watch::Fail(closed_by(PopupEnd::Aborted)));
    assert_eq!(closed_by(PopupEnd::Aborted).js_class(), "PopupClosedError");
}

#[test]
fn p42_a_slow_user_without_coop_never_gets_an_error_before_the_timeout() {
    let seen = polls(0, u64::from(FIVE_MIN) - 1, |_| false);
    assert_eq!(watch(FIVE_MIN, &seen), None);
}

#[test]
fn p40_popup_blocked_is_its_own_class_and_tells_what_to_do() {
    let e = Error::PopupBlocked;
    assert_eq!((e.code(), e.js_class()), ("popup_blocked", "PopupBlockedError"));
    assert!(e.to_string().contains("authorize({ mode: 'popup' })"), "{e}");
}

// ------------------------------------------------------- P-41 hand-over

/// The opener's authorization, turned into a popup flow: its URL and state.
fn opener_flow(io: &FakeIo) -> (String, String) {
    let cfg = config();
    let req = AuthorizeRequest {
        page_url: "https://app.example.com/chat".into(),
        ..AuthorizeRequest::default()
    };
    let url = match block_on(flow::authorize(io, &cfg, &req)).expect("authorize") {
        Authorization::Redirect(url) => url,
        other => panic!("expected a redirect, got {other:?}"),
    };
    let state = begin(io, &url).expect("begin");
    (url, state)
}

/// The callback page in the window: its own (empty) `sessionStorage`, the
/// opener's `localStorage`.
fn window_of(opener: &FakeIo) -> FakeIo {
    FakeIo::new().same_origin_as(opener)
}

fn query(state: &str, iss: &str) -> CallbackParams {
    CallbackParams(vec![
        ("code".into(), "code-1".into()),
        ("state".into(), state.into()),
        ("iss".into(), iss.into()),
    ])
}

#[test]
fn p41_begin_records_the_popup_flow_and_a_marker_without_secrets() {
    let io = standard_io();
    let (url, state) = opener_flow(&io);
    assert_eq!(state_of(&url).as_deref(), Some(state.as_str()));
    let record = store::load_pending(&io, &state)
        .expect("storage")
        .expect("pending");
    assert_eq!(record.flow, Flow::Popup);
    let marker = io.get(Area::Local, &marker_key(&state)).expect("marker");
    assert!(!marker.contains(record.verifier.expose()), "{marker}");
    assert!(marker.contains("https://app.example.com/chat"), "{marker}");
}

#[test]
fn p41_records_written_before_popup_mode_default_to_redirect() {
    let io = standard_io();
    let (_, state) = opener_flow(&io);
    let key = store::pending_key(&state);
    let text = io.get(Area::Session, &key).expect("record");
    let old = text.replace(",\"flow\":\"popup\"", "");
    assert_ne!(old, text);
    io.store(Area::Session, &key, &old).expect("store");
    let record = store::load_pending(&io, &state)
        .expect("storage")
        .expect("still valid");
    assert_eq!(record.flow, Flow::Redirect);
}

#[test]
fn p41_the_callback_page_in_the_window_hands_the_query_over_and_redeems_nothing() {
    let opener = standard_io();
    let (_, state) = opener_flow(&opener);
    let window = window_of(&opener);
    let params = query(&state, ISSUER);
    let h = handover(&window, &params)
        .expect("storage")
        .expect("a popup flow");
    assert_eq!(h.channel, channel_name(&state));
    assert_eq!(h.return_to, "https://app.example.com/chat");
    assert_eq!(h.server_url, SERVER);
    assert!(window.requests_to(TOKEN_URL).is_empty());
    // The opener accepts it from the channel or from the storage fallback.
    assert_eq!(accept(&state, &h.message), Some(params.clone()));
    let stored = take_stored_result(&opener, &state)
        .expect("storage")
        .expect("fallback");
    assert_eq!(accept(&state, &stored), Some(params));
    assert_eq!(take_stored_result(&opener, &state).expect("storage"), None);
}

#[test]
fn p41_a_redirect_flows_callback_is_not_handed_over() {
    let io = standard_io();
    let cfg = config();
    let url = match block_on(flow::authorize(&io, &cfg, &AuthorizeRequest::default())).expect("authorize") {
        Authorization::Redirect(url) => url,
        other => panic!("{other:?}"),
    };
    let state = state_of(&url).expect("state");
    assert_eq!(handover(&io, &query(&state, ISSUER)).expect("storage"), None);
    assert_eq!(handover(&io, &CallbackParams::default()).expect("storage"), None);
}

#[test]
fn p41_a_message_for_another_flow_or_garbage_is_ignored() {
    let opener = standard_io();
    let (_, state) = opener_flow(&opener);
    let window = window_of(&opener);
    let h = handover(&window, &query(&state, ISSUER))
        .expect("storage")
        .expect("popup");
    assert_eq!(accept("another-state", &h.message), None);
    assert_eq!(accept(&state, "not json"), None);
    // A message whose query names another state than it claims.
    let forged = h.message.replace(&format!("state={state}"), "state=x");
    assert_eq!(accept(&state, &forged), None);
}

#[test]
fn p41_p19_a_forged_result_failing_iss_leaves_the_flow_to_the_real_one() {
    let opener = standard_io();
    opener.json(TOKEN_URL, 200, &token_json("at-1", None, Some("mcp:read")));
    let (_, state) = opener_flow(&opener);
    let server = config().server_url().to_string();
    let finish = |params: CallbackParams| {
        block_on(flow::finish(
            &opener,
            &CallbackInput::Query(params),
            Some(&server),
            TokenTarget::Instance,
        ))
    };
    let forged = finish(query(&state, "https://evil.example")).expect_err("iss fails");
    assert_eq!(forged.code(), "issuer_mismatch");
    assert!(crate::core::callback::keeps_pending_record(&forged));
    assert!(opener.requests_to(TOKEN_URL).is_empty());
    // The real result still completes the flow.
    let done = finish(query(&state, ISSUER)).expect("real result");
    assert_eq!(done.return_to, "https://app.example.com/chat");
    end(&opener, &state).expect("end");
    assert!(opener.keys_with(Area::Local, &marker_key("")).is_empty());
}

#[test]
fn p42_a_late_result_for_a_flow_that_failed_finds_nothing() {
    let opener = standard_io();
    let (_, state) = opener_flow(&opener);
    end(&opener, &state).expect("end");
    assert!(!is_pending(&opener, &state).expect("storage"));
    // The callback page no longer sees a popup flow; the opener's finish
    // would find no record either.
    let window = window_of(&opener);
    assert_eq!(handover(&window, &query(&state, ISSUER)).expect("storage"), None);
    let server = config().server_url().to_string();
    let late = block_on(flow::finish(
        &opener,
        &CallbackInput::Query(query(&state, ISSUER)),
        Some(&server),
        TokenTarget::Instance,
    ));
    assert_eq!(late.map(|_| ()), Err(Error::UnknownState));
}

#[test]
fn p41_an_expired_marker_hands_nothing_over() {
    let opener = standard_io();
    let (_, state) = opener_flow(&opener);
    let window = window_of(&opener);
    window.now.set(window.now.get() + PENDING_TTL_MS + 1);
    assert_eq!(handover(&window, &query(&state, ISSUER)).expect("storage"), None);
}

#[test]
fn p40_p14_p29_a_blocked_window_spends_no_step_up_attempt_or_reauthorization() {
    let io = standard_io();
    let (_, state) = opener_flow(&io);
    store::record_step_up_attempt(&io, SERVER, "mcp:read mcp:write", 1).expect("store");
    store::record_reauthorizations(&io, SERVER, 1).expect("store");
    blocked(&io, SERVER).expect("blocked");
    assert_eq!(store::step_up_attempts(&io, SERVER, "mcp:read mcp:write"), Ok(0));
    assert_eq!(store::reauthorizations(&io, SERVER), Ok(None));
    // The authorization itself stays, for `authorize({ mode: 'popup' })` to resume.
    assert!(is_pending(&io, &state).expect("storage"));
    let url = format!("https://as.example.com/authorize?state={state}");
    assert!(can_resume(&io, &url).expect("storage"));
    end(&io, &state).expect("end");
    assert!(!can_resume(&io, &url).expect("storage"));
    assert!(!can_resume(&io, "https://as.example.com/authorize").expect("storage"));
}
