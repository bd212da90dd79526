//! A JS-driven executor: each exported async operation is a `Task` that
//! `__mcpDrive` (js/host.js) polls with a no-op waker until it is done.
//!
//! A future that needs a JS promise (`wait`) hands it out on its first poll
//! and returns `Pending`; the driver awaits that promise and polls the task
//! again with how it settled. The two slots below live only for the length
//! of one `Task::poll`, and a flow awaits one thing at a time, so the outcome
//! a poll carries in reaches the one `Wait` of that task that is pending:
//! tasks in flight together cannot take each other's results. This replaces
//! `wasm-bindgen-futures` (its queue, task and closure code).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::prelude::*;

type Output = Result<JsValue, JsValue>;

thread_local! {
    /// In: how the promise the polled task waited for settled.
    static SETTLED: Cell<Option<Output>> = const { Cell::new(None) };
    /// Out: the promise the polled task waits for now.
    static WAITING: Cell<Option<JsValue>> = const { Cell::new(None) };
}

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = __mcpDrive)]
    fn drive(task: Task) -> JsValue;
}

/// One exported async operation; created and driven by [`spawn`].
#[wasm_bindgen(skip_typescript)]
pub struct Task {
    future: Pin<Box<dyn Future<Output = Output>>>,
}

#[wasm_bindgen]
impl Task {
    /// One step, given how the promise of the previous step settled (ignored
    /// on the first). Returns the promise to await before the next step;
    /// once the task is done, its value (never a promise: every value a task
    /// ends with has been awaited), or throws its error.
    pub fn poll(&mut self, ok: bool, value: JsValue) -> Output {
        // Polls never nest: `__mcpDrive` starts each task after an `await`.
        SETTLED.set(Some(if ok { Ok(value) } else { Err(value) }));
        let step = self.future.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        SETTLED.take();
        let waiting = WAITING.take();
        match step {
            Poll::Ready(out) => out,
            // Pending on anything but `wait` would never be polled again:
            // end the task with an error rather than hang or resolve.
            Poll::Pending => {
                waiting.ok_or_else(|| "mcp-web-auth: a task waited on something other than a promise".into())
            }
        }
    }
}

/// Runs `f` as a task; the promise settles with its outcome. One
/// non-generic instance for every caller: the future is boxed first.
pub fn spawn(f: impl Future<Output = Output> + 'static) -> JsValue {
    drive(Task { future: Box::pin(f) })
}

/// A JS promise, awaited through the driver.
pub struct Wait(Option<JsValue>);

impl Future for Wait {
    type Output = Output;

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Output> {
        match self.0.take() {
            Some(promise) => {
                WAITING.set(Some(promise));
                Poll::Pending
            }
            None => SETTLED.take().map_or(Poll::Pending, Poll::Ready),
        }
    }
}

/// Resolves to the promise's value, or fails with its rejection.
pub fn wait(promise: JsValue) -> Wait {
    Wait(Some(promise))
}
