//! Popup mode's browser side (P-40..P-42), only I/O: open and navigate the
//! sign-in window, read its `closed`, listen on the flow's
//! `BroadcastChannel` and `storage` events, post and close on the callback
//! page, sleep. What any of it means is decided in `core::popup`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, BroadcastChannel, MessageEvent, StorageEvent, Window};

use crate::core::error::Error;
use crate::core::popup::{result_key, WINDOW_FEATURES, WINDOW_NAME};
use crate::web::property;

/// The page's window; `None` in workers and Node, where no popup can open.
pub fn page_window() -> Option<Window> {
    js_sys::global().dyn_into::<Window>().ok()
}

/// P-40: `window.open(url, name, features)`; `None` when the browser
/// blocked it, `invalid_config` where there is no window. Must run in the task of the user's
/// click, before any await, to be allowed everywhere.
pub fn open(url: &str) -> Result<Option<Window>, Error> {
    let page = page_window().ok_or_else(|| {
        Error::config(
            "popup mode needs a page with a window; in workers and Node use redirect mode with onRedirect",
        )
    })?;
    Ok(page
        .open_with_url_and_target_and_features(url, WINDOW_NAME, WINDOW_FEATURES)
        .ok()
        .flatten())
}

/// Sends the window (still on `about:blank`, our origin) to `url`.
pub fn navigate(popup: &Window, url: &str) -> Result<(), JsValue> {
    popup.location().set_href(url)
}

/// `closed`; a window that cannot be asked counts as closed.
pub fn is_closed(popup: &Window) -> bool {
    popup.closed().unwrap_or(true)
}

pub fn close(popup: &Window) {
    let _ = popup.close();
}

/// Whether the app's `signal` (an `AbortSignal`, or anything else: never)
/// has aborted.
pub fn aborted(signal: &JsValue) -> bool {
    signal.dyn_ref::<AbortSignal>().is_some_and(AbortSignal::aborted)
}

/// Resolves after `ms` milliseconds (`setTimeout`).
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(set_timeout) = property(&js_sys::global(), "setTimeout").dyn_ref::<Function>() {
            let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &ms.into());
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// P-41, in the opener: what arrives for flow `state` on its channel and in
/// `storage` events, queued for the flow to read. Dropping it stops
/// listening, so a late result for a flow that ended reaches nobody.
pub struct Inbox {
    channel: Option<BroadcastChannel>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_storage: Closure<dyn FnMut(StorageEvent)>,
    queue: Rc<RefCell<Vec<String>>>,
}

impl Inbox {
    pub fn listen(channel_name: &str, state: &str) -> Inbox {
        let queue: Rc<RefCell<Vec<String>>> = Rc::default();
        let q = queue.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                q.borrow_mut().push(text);
            }
        });
        let q = queue.clone();
        let key = result_key(state);
        let on_storage = Closure::<dyn FnMut(StorageEvent)>::new(move |e: StorageEvent| {
            if e.key().as_deref() == Some(key.as_str()) {
                q.borrow_mut().extend(e.new_value());
            }
        });
        let channel = BroadcastChannel::new(channel_name).ok();
        if let Some(c) = &channel {
            c.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        }
        if let Some(w) = page_window() {
            let _ = w.add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
        }
        Inbox {
            channel,
            on_message,
            on_storage,
            queue,
        }
    }

    /// The messages received since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.queue.borrow_mut())
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        if let Some(c) = &self.channel {
            c.set_onmessage(None);
            c.close();
        }
        if let Some(w) = page_window() {
            let _ =
                w.remove_event_listener_with_callback("storage", self.on_storage.as_ref().unchecked_ref());
        }
        // `on_message` is dropped with the channel that no longer calls it.
        let _ = &self.on_message;
    }
}

/// P-41, on the callback page: posts `message` on `channel_name`.
pub fn post(channel_name: &str, message: &str) {
    if let Ok(c) = BroadcastChannel::new(channel_name) {
        let _ = c.post_message(&message.into());
        c.close();
    }
}

/// P-41, on the callback page: closes this window (a window a script
/// opened may close itself); whether it is now closing.
pub fn close_self() -> bool {
    let Some(w) = page_window() else { return false };
    let _ = w.close();
    w.closed().unwrap_or(false)
}
