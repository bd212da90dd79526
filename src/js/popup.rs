//! Popup mode in the opener (P-40..P-42): the sign-in window's flow from
//! the navigation to stored tokens. The window and the channel are
//! `web::popup`'s, the decisions `core::popup`'s; this only sequences them
//! around the usual `finishAuth` (P-18..P-22), run here with the verifier
//! this page holds.

use wasm_bindgen::JsValue;
use web_sys::Window;

use crate::core::callback::keeps_pending_record;
use crate::core::error::{Error, Result};
use crate::core::flow::{self, CallbackInput, Finished, TokenTarget};
use crate::core::popup::{self, PopupWatch, Watch, POLL_MS};
use crate::web::popup::{aborted, close, is_closed, navigate, sleep, Inbox};
use crate::web::{now_ms, WebIo};

/// Where a popup flow runs: its window, the server it is for, its limits.
pub struct PopupRun<'a> {
    pub io: &'a WebIo,
    pub server_url: &'a str,
    pub window: &'a Window,
    pub timeout_ms: u32,
    /// The app's `AbortSignal`, or anything else (never aborts).
    pub signal: &'a JsValue,
}

impl PopupRun<'_> {
    /// Navigates the window (opened on `about:blank`) to the authorization
    /// URL, then waits for the result.
    pub async fn navigate_and_complete(&self, url: &str) -> Result<Finished> {
        let state = popup::begin(self.io, url)?;
        let inbox = Inbox::listen(&popup::channel_name(&state), &state);
        if navigate(self.window, url).is_err() {
            close(self.window);
            let _ = popup::end(self.io, &state);
            return Err(Error::PopupBlocked);
        }
        self.complete(&state, inbox).await
    }

    /// The window is already on the authorization URL of flow `state`
    /// (`popup::begin` ran): waits for the result.
    pub async fn complete_opened(&self, state: &str) -> Result<Finished> {
        let inbox = Inbox::listen(&popup::channel_name(state), state);
        self.complete(state, inbox).await
    }

    /// P-41, P-42: results from the channel (or the `storage` fallback) go
    /// through `finishAuth`; one that fails the `iss` check or names another
    /// flow is ignored and the flow waits on. The window's `closed`, the
    /// clock and the signal decide when to give up. Whatever the end, the
    /// flow is over: a late result finds no listener and no record.
    async fn complete(&self, state: &str, inbox: Inbox) -> Result<Finished> {
        let mut watch = PopupWatch::new(now_ms(), self.timeout_ms);
        let outcome = loop {
            if let Some(done) = self.try_results(state, &inbox).await? {
                break Ok(done);
            }
            match watch.observe(is_closed(self.window), aborted(self.signal), now_ms()) {
                Watch::Wait => sleep(POLL_MS).await,
                Watch::Fail(e) => break Err(e),
            }
        };
        drop(inbox);
        if !is_closed(self.window) {
            close(self.window);
        }
        let _ = popup::end(self.io, state);
        outcome
    }

    /// The first received result that completes the flow; `Ok(None)` when
    /// none did (none arrived, or each was forged and left the flow alone).
    async fn try_results(&self, state: &str, inbox: &Inbox) -> Result<Option<Finished>> {
        let mut messages = inbox.take();
        messages.extend(popup::take_stored_result(self.io, state)?);
        for message in messages {
            let Some(params) = popup::accept(state, &message) else {
                continue;
            };
            let input = CallbackInput::Query(params);
            match flow::finish(self.io, &input, Some(self.server_url), TokenTarget::Instance).await {
                Ok(done) => return Ok(Some(done)),
                // P-19: the pending record survived; the real result may follow.
                Err(e) if keeps_pending_record(&e) => {
                    self.io.emit("error", Some(&crate::js::errors::to_js(&e)));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }
}
