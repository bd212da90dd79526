//! P-34: rotated refresh tokens told to the other tabs of this origin.
//!
//! One same-origin `BroadcastChannel` per JavaScript realm carries
//! `{ consumed, message }`: the hash of the refresh token a tab used, and the
//! core's text of the set it got in return. What arrives is kept (a tab that
//! starts waiting after the news came still finds it) and offered to every
//! live `McpAuth` of this realm, which adopts it only when it still holds
//! the consumed token (`flow::adopt_rotation`, compare-and-swap).
//!
//! Where `BroadcastChannel` is absent (old browsers) nothing is sent or
//! received: a tab that finds its refresh token consumed then waits in vain
//! and re-authorizes, but never sends the consumed token. In Node the
//! channel is `unref`'d, so it never keeps a process alive.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::web::{global, property};

/// The channel's name; every version of the package on this origin shares it.
pub const CHANNEL_NAME: &str = "mcp-web-auth";

/// Received messages kept for late waiters; the oldest go first.
const KEPT_MESSAGES: usize = 64;

/// Called with every rotation message received.
pub type Listener = dyn Fn(&str);

#[derive(Default)]
struct Hub {
    /// `None` until first used; `Some(None)` where there is no BroadcastChannel.
    channel: Option<Option<JsValue>>,
    /// `consumed` → message, oldest first.
    received: VecDeque<(String, String)>,
    /// Who waits for which `consumed`, with the function that wakes them.
    waiters: Vec<(String, Function)>,
    /// The live `McpAuth`s' adopters; dead ones are dropped on delivery.
    listeners: Vec<Weak<Listener>>,
}

thread_local! {
    static HUB: RefCell<Hub> = RefCell::default();
}

/// The realm's channel, opened on first use.
fn channel() -> Option<JsValue> {
    if let Some(open) = HUB.with(|h| h.borrow().channel.clone()) {
        return open;
    }
    let open = open_channel();
    HUB.with(|h| h.borrow_mut().channel = Some(open.clone()));
    open
}

fn open_channel() -> Option<JsValue> {
    let constructor: Function = global("BroadcastChannel").ok()?.dyn_into().ok()?;
    let channel = Reflect::construct(&constructor, &js_sys::Array::of1(&CHANNEL_NAME.into())).ok()?;
    let on_message = Closure::<dyn Fn(JsValue)>::new(|event: JsValue| {
        let data = property(&event, "data");
        let consumed = property(&data, "consumed").as_string();
        let message = property(&data, "message").as_string();
        if let (Some(consumed), Some(message)) = (consumed, message) {
            deliver(consumed, message);
        }
    });
    Reflect::set(&channel, &"onmessage".into(), on_message.as_ref()).ok()?;
    // Lives as long as the realm's channel, which is never closed.
    on_message.forget();
    if let Ok(unref) = property(&channel, "unref").dyn_into::<Function>() {
        let _ = unref.call0(&channel);
    }
    Some(channel)
}

/// Keeps the message, wakes who waits for it, offers it to every listener.
fn deliver(consumed: String, message: String) {
    let (woken, listeners) = HUB.with(|h| {
        let mut hub = h.borrow_mut();
        hub.received.retain(|(c, _)| *c != consumed);
        if hub.received.len() >= KEPT_MESSAGES {
            hub.received.pop_front();
        }
        hub.received.push_back((consumed.clone(), message.clone()));
        let (woken, waiting) = std::mem::take(&mut hub.waiters)
            .into_iter()
            .partition(|(c, _)| *c == consumed);
        hub.waiters = waiting;
        hub.listeners.retain(|l| l.strong_count() > 0);
        let listeners: Vec<Rc<Listener>> = hub.listeners.iter().filter_map(Weak::upgrade).collect();
        (woken, listeners)
    });
    // Outside the borrow: what these call may reach the hub again.
    for (_, wake) in woken {
        let _ = wake.call1(&JsValue::UNDEFINED, &message.as_str().into());
    }
    for listener in listeners {
        listener(&message);
    }
}

/// Registers an adopter for as long as the returned `Rc` (held by its
/// `McpAuth`) lives; opening the channel so that news is received from now on.
pub fn subscribe(listener: Rc<Listener>) -> Rc<Listener> {
    channel();
    HUB.with(|h| h.borrow_mut().listeners.push(Rc::downgrade(&listener)));
    listener
}

/// Tells the other tabs (and the other `McpAuth`s of this one) of a rotation.
/// Never fails: a lost message only costs another tab a re-authorization.
pub fn publish(consumed: &str, message: &str) {
    if let Some(channel) = channel() {
        let data = Object::new();
        let _ = Reflect::set(&data, &"consumed".into(), &consumed.into());
        let _ = Reflect::set(&data, &"message".into(), &message.into());
        if let Ok(post) = property(&channel, "postMessage").dyn_into::<Function>() {
            let _ = post.call1(&channel, &data);
        }
    }
    deliver(consumed.to_string(), message.to_string());
}

/// The message for `consumed`, already received or arriving within `timeout_ms`.
pub async fn wait(consumed: &str, timeout_ms: u32) -> Option<String> {
    channel();
    let known = HUB.with(|h| {
        let hub = h.borrow();
        hub.received
            .iter()
            .find(|(c, _)| c == consumed)
            .map(|(_, m)| m.clone())
    });
    if known.is_some() {
        return known;
    }
    let mut wake = None;
    let arrived = Promise::new(&mut |resolve, _| wake = Some(resolve));
    let wake = wake.expect("the Promise executor runs synchronously");
    HUB.with(|h| h.borrow_mut().waiters.push((consumed.to_string(), wake.clone())));
    let outcome = Promise::race(&js_sys::Array::of2(&arrived, &timeout(timeout_ms)));
    let message = JsFuture::from(outcome).await.ok().and_then(|v| v.as_string());
    // Timed out: no longer waiting.
    HUB.with(|h| h.borrow_mut().waiters.retain(|(_, f)| *f != wake));
    message
}

/// Resolves to `undefined` after `ms` (at once, where there is no `setTimeout`).
fn timeout(ms: u32) -> Promise {
    Promise::new(&mut |resolve, _| {
        if let Some(set_timeout) = global("setTimeout")
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &ms.into());
        } else {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    })
}
