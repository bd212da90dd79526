//! The refresh lock (src/web/lock.rs, P-25): Web Locks in Chromium, and the
//! in-page FIFO where `navigator.locks` is absent.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::join_all;
use mcp_web_auth::web::lock::{acquire, WebLock};
use support::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Three tasks ask for the same lock in order; each holds it for a while
/// and logs when it starts and ends.
async fn three_holders(name: &str) -> Vec<String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let holders = (0..3).map(|i| {
        let log = log.clone();
        async move {
            let lock = acquire(name).await.expect("lock");
            log.borrow_mut().push(format!("start {i}"));
            sleep(30).await;
            log.borrow_mut().push(format!("end {i}"));
            drop(lock);
        }
    });
    join_all(holders).await;
    let log = log.borrow().clone();
    log
}

const SERIAL: [&str; 6] = ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"];

#[wasm_bindgen_test]
async fn p25_web_lock_is_exclusive_and_granted_in_request_order() {
    assert!(!get(&get(&js_sys::global(), "navigator"), "locks").is_undefined());
    assert_eq!(three_holders("mcp-test-fifo").await, SERIAL);
}

#[wasm_bindgen_test]
async fn p25_web_lock_is_released_on_drop() {
    let first = acquire("mcp-test-drop").await.expect("lock");
    drop(first);
    let again =
        futures_util::future::select(Box::pin(acquire("mcp-test-drop")), Box::pin(sleep(1_000))).await;
    assert!(
        matches!(again, futures_util::future::Either::Left(_)),
        "granted again after drop"
    );
}

#[wasm_bindgen_test]
async fn p25_a_held_lock_makes_the_next_request_wait() {
    let held = acquire("mcp-test-wait").await.expect("lock");
    let waiting =
        futures_util::future::select(Box::pin(acquire("mcp-test-wait")), Box::pin(sleep(200))).await;
    assert!(
        matches!(waiting, futures_util::future::Either::Right(_)),
        "not granted while held"
    );
    drop(held);
}

#[wasm_bindgen_test]
async fn p25_locks_with_other_names_do_not_wait_for_each_other() {
    let _a: WebLock = acquire("mcp-test-a").await.expect("lock a");
    let b = futures_util::future::select(Box::pin(acquire("mcp-test-b")), Box::pin(sleep(1_000))).await;
    assert!(matches!(b, futures_util::future::Either::Left(_)));
}

#[wasm_bindgen_test]
async fn p25_without_web_locks_the_in_page_fifo_is_exclusive_and_ordered() {
    let hide = "Object.defineProperty(navigator, 'locks', { configurable: true, value: undefined });";
    js_fn("", hide).call0(&JsValue::UNDEFINED).expect("hide locks");
    let log = three_holders("mcp-test-fallback").await;
    js_fn("", "delete navigator.locks;")
        .call0(&JsValue::UNDEFINED)
        .expect("restore locks");
    assert_eq!(log, SERIAL);
    assert!(
        !get(&get(&js_sys::global(), "navigator"), "locks").is_undefined(),
        "restored"
    );
}
