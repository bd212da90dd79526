//! Popup mode (P-40..P-42): what the opening page and the callback page
//! decide, sans-IO. The web side opens the window, listens and polls; the
//! decisions (which callback belongs to which flow, when a closed window
//! means the user gave up) are here, where host tests reach them.
//!
//! Completion never uses `window.opener`, which an authorization server's
//! `Cross-Origin-Opener-Policy` severs (P-41): the callback page, in the
//! window, hands the callback query to the opener over a `BroadcastChannel`
//! named by `state`, with a `localStorage` entry as fallback (its `storage`
//! event reaches the opener too). The window's `sessionStorage` is a copy
//! taken when it was opened, before the pending record existed, so the
//! callback page learns that a flow is a popup flow from a marker in
//! `localStorage` (no secret in it: the verifier stays with the opener, who
//! redeems the code through the usual `finishAuth` checks, P-19..P-22).

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::core::authorize::{Flow, PENDING_TTL_MS};
use crate::core::callback::CallbackParams;
use crate::core::error::{Error, PopupEnd, Result};
use crate::core::http::read_object;
use crate::core::io::{Area, Io};
use crate::core::store;

/// P-42: `popupTimeoutMs` by default: five minutes.
pub const DEFAULT_TIMEOUT_MS: u32 = 5 * 60 * 1000;
/// P-42: how long `closed` must read `false` after the navigation before a
/// later `true` is believed. Under COOP it reads `true` as soon as the
/// authorization server's page loads, usually well within this.
pub const TRUST_OPEN_MS: u64 = 2_000;
/// P-42: a believed close fails the flow after this grace, for a result
/// already in flight (the callback page closes the window itself).
pub const CLOSED_GRACE_MS: u64 = 1_000;
/// How often the opener looks at the window and the signal.
pub const POLL_MS: u32 = 200;

/// The window's name (`window.open`'s target): one sign-in window at a time.
pub const WINDOW_NAME: &str = "mcp-web-auth-signin";
/// The window's features: a popup of a usual sign-in size.
pub const WINDOW_FEATURES: &str = "popup,width=520,height=700";

/// The channel the callback page posts the result of flow `state` on.
pub fn channel_name(state: &str) -> String {
    format!("{}popup:{state}", store::PREFIX)
}

fn marker_key(state: &str) -> String {
    format!("{}popup:{state}", store::PREFIX)
}

/// The `localStorage` fallback of the channel (its `storage` event).
pub fn result_key(state: &str) -> String {
    format!("{}popup-result:{state}", store::PREFIX)
}

/// P-41: tells the callback page, in the window, that flow `state` is a
/// popup flow. No secret: what the page needs to hand over and go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Marker {
    created_at_ms: u64,
    server_url: String,
    return_to: String,
}

/// What travels from the callback page to the opener: the whole callback
/// query, form-encoded, and the `state` it claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Handed {
    state: String,
    query: String,
}

/// The `state` an authorization URL carries.
pub fn state_of(authorization_url: &str) -> Option<String> {
    let url = url::Url::parse(authorization_url).ok()?;
    let state = url.query_pairs().find(|(k, _)| k == "state")?.1.into_owned();
    Some(state).filter(|s| !s.is_empty())
}

/// P-41, in the opener: turns the pending flow of `authorization_url` into
/// a popup flow (its record says so, and the marker tells the callback page)
/// and returns its `state`.
pub fn begin(io: &impl Io, authorization_url: &str) -> Result<String> {
    let missing = || Error::invalid("the authorization URL names no pending flow");
    let state = state_of(authorization_url).ok_or_else(missing)?;
    let mut record = store::load_pending(io, &state)?.ok_or_else(missing)?;
    record.flow = Flow::Popup;
    store::save_pending(io, &record)?;
    let marker = Marker {
        created_at_ms: io.now_ms(),
        server_url: record.server_url,
        return_to: record.return_to,
    };
    io.store(Area::Local, &marker_key(&state), &codec::to_string(&marker))?;
    Ok(state)
}

/// Whether flow `state` is still pending in this page.
pub fn is_pending(io: &impl Io, state: &str) -> Result<bool> {
    Ok(store::load_pending(io, state)?.is_some_and(|r| !r.is_expired(io.now_ms())))
}

/// P-40: whether the authorization a blocked window left can be resumed
/// from a click: its flow is still pending here.
pub fn can_resume(io: &impl Io, authorization_url: &str) -> Result<bool> {
    match state_of(authorization_url) {
        Some(state) => is_pending(io, &state),
        None => Ok(false),
    }
}

/// P-40: `auth.fetch` could not open the window its authorization needed.
/// The authorization did not happen, so it counts neither as a step-up
/// attempt (P-14) nor as a re-authorization (P-29): the app's retry from a
/// click must find them as they were before. The pending record stays, for
/// `authorize({ mode: 'popup' })` to resume.
pub fn blocked(io: &impl Io, server_url: &str) -> Result<()> {
    store::clear_step_up(io, server_url)?;
    store::clear_reauthorizations(io, server_url)
}

/// What the callback page does in a popup: post `message` on `channel`,
/// then close the window. `server_url` and `return_to` are for a window
/// that cannot be closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    pub channel: String,
    pub message: String,
    pub server_url: String,
    pub return_to: String,
}

/// P-41, on the callback page: when `params` belong to a popup flow, the
/// hand-over to the opener (also left in `localStorage` for its `storage`
/// event), else `None` and the page finishes the flow itself. Nothing is
/// checked or consumed here: the opener runs `finishAuth`'s checks.
pub fn handover(io: &impl Io, params: &CallbackParams) -> Result<Option<Handover>> {
    let Some(state) = params.get("state").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let marker = io
        .load(Area::Local, &marker_key(state))?
        .and_then(|text| read_object::<Marker>(&text).ok())
        .filter(|m| io.now_ms().saturating_sub(m.created_at_ms) <= PENDING_TTL_MS);
    // A window opened after the record was written holds a copy of it.
    let own = store::load_pending(io, state)?.filter(|r| r.flow == Flow::Popup);
    let (server_url, return_to) = match (marker, own) {
        (Some(m), _) => (m.server_url, m.return_to),
        (None, Some(r)) => (r.server_url, r.return_to),
        (None, None) => return Ok(None),
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params.0)
        .finish();
    let message = codec::to_string(&Handed {
        state: state.to_string(),
        query,
    });
    io.store(Area::Local, &result_key(state), &message)?;
    Ok(Some(Handover {
        channel: channel_name(state),
        message,
        server_url,
        return_to,
    }))
}

/// P-41, in the opener: the callback parameters of a message for flow
/// `state`; `None` for anything else (another flow's, or not a hand-over),
/// which is ignored. The parameters still go through `finishAuth`'s checks.
pub fn accept(state: &str, message: &str) -> Option<CallbackParams> {
    let handed = read_object::<Handed>(message).ok()?;
    let params = CallbackParams::from_query(&handed.query);
    (handed.state == state && params.get("state") == Some(state)).then_some(params)
}

/// The `localStorage` fallback's message for flow `state`, if it is there;
/// taken, so it is read once.
pub fn take_stored_result(io: &impl Io, state: &str) -> Result<Option<String>> {
    let message = io.load(Area::Local, &result_key(state))?;
    if message.is_some() {
        io.remove(Area::Local, &result_key(state))?;
    }
    Ok(message)
}

/// Ends popup flow `state` in the opener, whatever its outcome: the marker
/// and the stored result go, and, unless it succeeded (`finishAuth` consumed
/// it), the pending record too, so a late result finds nothing (P-42).
pub fn end(io: &impl Io, state: &str) -> Result<()> {
    io.remove(Area::Local, &marker_key(state))?;
    io.remove(Area::Local, &result_key(state))?;
    store::remove_pending(io, state)
}

/// What the opener does after one look at the window.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// Keep waiting for the result.
    Wait,
    /// Give up: close the window, end the flow, reject with this.
    Fail(Error),
}

/// P-42: when a popup flow without a result gives up. Fed with what the
/// opener sees (`closed`, the app's signal) and the clock; no I/O.
///
/// Without COOP on the authorization server's pages, `closed` reads `false`
/// while the user signs in, and `true` means they closed the window: after
/// [`CLOSED_GRACE_MS`] the flow fails. With COOP, the opener loses the
/// window as soon as the server's page loads and `closed` reads `true`
/// while the user is still signing in: a `true` seen before `closed` read
/// `false` for [`TRUST_OPEN_MS`] after the navigation is not believed, and
/// only the timeout or the signal end the wait.
#[derive(Debug, Clone, PartialEq)]
pub struct PopupWatch {
    navigated_at_ms: u64,
    timeout_ms: u32,
    /// `closed` read `false` for `TRUST_OPEN_MS` after the navigation.
    trusted: bool,
    /// `closed` read `true` before it was trusted: COOP (or an instant close).
    severed: bool,
    closed_since_ms: Option<u64>,
}

impl PopupWatch {
    pub fn new(navigated_at_ms: u64, timeout_ms: u32) -> PopupWatch {
        PopupWatch {
            navigated_at_ms,
            timeout_ms,
            trusted: false,
            severed: false,
            closed_since_ms: None,
        }
    }

    pub fn observe(&mut self, closed: bool, aborted: bool, now_ms: u64) -> Watch {
        let fail = |reason| Watch::Fail(Error::PopupClosed { reason });
        if aborted {
            return fail(PopupEnd::Aborted);
        }
        let elapsed = now_ms.saturating_sub(self.navigated_at_ms);
        if elapsed >= u64::from(self.timeout_ms) {
            return fail(PopupEnd::TimedOut {
                after_ms: self.timeout_ms,
            });
        }
        if !closed {
            self.closed_since_ms = None;
            if !self.severed && elapsed >= TRUST_OPEN_MS {
                self.trusted = true;
            }
            return Watch::Wait;
        }
        if !self.trusted {
            self.severed = true;
            return Watch::Wait;
        }
        let since = *self.closed_since_ms.get_or_insert(now_ms);
        if now_ms.saturating_sub(since) >= CLOSED_GRACE_MS {
            return fail(PopupEnd::Closed);
        }
        Watch::Wait
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "popup_tests.rs"]
mod tests;
