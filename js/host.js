// Object plumbing for the wasm module (src/web, src/js): reading and
// building JS objects costs a few bytes here and a few hundred through
// wasm-bindgen. Translation and I/O mechanics only: every protocol decision
// (which requests, which headers, whether a probe may be retried without
// them, what an answer means) is made in the Rust core.

// One core request, [method, url, [[name, value], ...], body | null, retry],
// sent with or without its headers; resolves to [status, text].
async function send(f, self, ms, [method, url, headers, body], withHeaders) {
  const init = { method, headers: withHeaders ? Object.fromEntries(headers) : {} };
  if (body !== null) init.body = body;
  if (ms) {
    try {
      init.signal = AbortSignal.timeout(ms);
    } catch {}
  }
  const r = await f.call(self, url, init);
  const text = await r.text();
  return [typeof r.status === 'number' ? r.status : 0, typeof text === 'string' ? text : ''];
}

// The core's requests (JSON, see `send`), all at once; resolves to
// [status, text, status, text, ...] in request order, with `null, null` for
// a network error. A failed request the core marked retryable is sent once
// more without its headers (P-8).
export async function __mcpFetchAll(f, self, ms, requests) {
  const answers = await Promise.all(
    JSON.parse(requests).map(async (q) => {
      try {
        return await send(f, self, ms, q, true);
      } catch {
        if (!q[4]) return null;
        try {
          return await send(f, self, ms, q, false);
        } catch {
          return null;
        }
      }
    }),
  );
  return answers.flatMap((a) => a ?? [null, null]);
}

// `McpAuth.fetch`'s slot: [request, response, [error], url]. Each attempt
// fills in the response (or the app's fetch's raw rejection, boxed so that
// any value, even undefined, is told apart from none), which reach the app
// unchanged. When the Request cannot be made, the slot holds only what
// `new Request` threw, boxed likewise.
export function __mcpRequest(input, init) {
  try {
    if (typeof Request !== 'function') throw 'no Request';
    const r = new Request(input, init);
    return [r, , , r.url];
  } catch (e) {
    return [, , [e]];
  }
}

// The app's request, cloned (a body reads once) with the bearer token, if
// any; keeps the response in the slot and resolves to [status, WWW-Authenticate].
export async function __mcpSendResource(f, self, slot, token) {
  let res, www;
  try {
    const r = slot[0].clone();
    if (token !== undefined) r.headers.set('Authorization', `Bearer ${token}`);
    res = slot[1] = await f.call(self, r, undefined);
  } catch (e) {
    slot[2] = [e];
    throw e;
  }
  try {
    www = res.headers.get('WWW-Authenticate');
  } catch {}
  return [typeof res?.status === 'number' ? res.status : 0, typeof www === 'string' ? www : undefined];
}

// Drives a wasm Task (src/web/task.rs) to its end: each step returns the
// promise the task waits for, or, once it is done, its value (or throws its
// error); the next step gets how that promise settled (1 and the value, or 0
// and the rejection). The first step runs as a microtask, as the futures it
// replaces did. The task is freed at its end.
export async function __mcpDrive(task) {
  let step = [1];
  let p;
  await 0;
  try {
    while ((p = task.poll(...step)) instanceof Promise) step = await p.then((v) => [1, v], (e) => [0, e]);
  } finally {
    task.free();
  }
  return p;
}

// Per lock name, the release promise of the last waiter, for platforms
// without Web Locks (Node 20, old browsers): a FIFO within this page.
const tails = new Map();

// Exclusive lock `name` (P-25: one refresh at a time, across tabs with Web
// Locks); resolves, once held, to the function that releases it.
export function __mcpLock(name) {
  return new Promise((acquired, failed) => {
    let release;
    const held = new Promise((r) => (release = r));
    const locks = globalThis.navigator?.locks;
    if (typeof locks?.request === 'function') {
      locks.request(name, () => (acquired(release), held)).catch(failed);
    } else {
      Promise.resolve(tails.get(name)).then(() => acquired(release));
      tails.set(name, held);
    }
  });
}

// Fills `buf` (a view of wasm memory) with random bytes: 1; undefined
// without crypto.getRandomValues, null when it throws.
export function __mcpRandom(buf) {
  let c, f;
  try {
    c = globalThis.crypto;
    f = c.getRandomValues;
  } catch {}
  if (typeof f !== 'function') return;
  try {
    f.call(c, buf);
    return 1;
  } catch {
    return null;
  }
}

// Copies the bytes of `src` (a Uint8Array) into `dst` (a view of wasm
// memory): 1; undefined when the lengths differ.
export function __mcpCopyBytes(src, dst) {
  if (src?.length !== dst.length) return;
  dst.set(src);
  return 1;
}

function method(o, name) {
  try {
    const f = o[name];
    if (typeof f === 'function') return f;
  } catch {}
}

// `[globalThis[name]]`, or the error's name when reading it throws (a
// `SecurityError` for storage in some private modes).
export function __mcpGlobal(name) {
  try {
    return [globalThis[name]];
  } catch (e) {
    return errorName(e);
  }
}

// A Storage-like object's `op`: 'getItem', 'setItem', 'removeItem', or
// 'keys' (every string key, by `length` and `key(i)`; none without `key`),
// or 'has' (method `k` exists). Returns [result]; undefined when the object
// has no such method; 'op failed (ErrorName)' when it throws (a typed
// storage error in wasm, not an exception).
export function __mcpStore(o, op, k, v) {
  let at = op === 'keys' ? 'length' : op;
  if (op === 'has') return method(o, k) && [];
  try {
    if (op !== 'keys') {
      const f = method(o, op);
      return f && [v === undefined ? f.call(o, k) : f.call(o, k, v)];
    }
    const n = o.length;
    const key = method(o, (at = 'key'));
    const keys = [];
    for (let i = 0; key && i < (typeof n === 'number' ? Math.floor(n) : 0); i++) {
      const s = key.call(o, i);
      if (typeof s === 'string') keys.push(s);
    }
    return [keys];
  } catch (e) {
    return `${at} failed (${errorName(e)})`;
  }
}

function errorName(e) {
  let name;
  try {
    name = Reflect.get(e, 'name');
  } catch {}
  return typeof name === 'string' ? name : 'Error';
}

// SHA-256 of a string's UTF-8 bytes (the PKCE S256 challenge).
export async function __mcpSha256(text) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

// `onStatus({ type, serverUrl, error? })`; a throwing handler is ignored.
export function __mcpEmit(f, type, serverUrl, error) {
  try {
    f(error === undefined ? { type, serverUrl } : { type, serverUrl, error });
  } catch {}
}

// `onRedirect(url)`, awaited when it returns a Promise, else
// `location.assign(url)`; what they throw or reject with passes unchanged.
// Resolves to 0 when there is no location to assign.
export async function __mcpRedirect(f, url) {
  let self;
  if (!f) {
    try {
      self = globalThis.location;
      f = self.assign;
    } catch {}
    if (typeof f !== 'function') return 0;
  }
  const v = f.call(self, url);
  if (v instanceof Promise) await v;
}

// finishAuth's parameters (P-18): any iterable of [name, value] pairs, as
// one flat array [name, value, ...] of its string pairs (others are
// skipped); undefined when not iterable, null when iterating throws.
export function __mcpPairs(p) {
  if (typeof p?.[Symbol.iterator] !== 'function') return;
  try {
    return Array.from(p, (e) => [e?.[0], e?.[1]]).flatMap((kv) => (kv.every((s) => typeof s === 'string') ? kv : []));
  } catch {
    return null;
  }
}

// The 'memory' token storage (and the stand-in where a global storage is
// absent): a Storage-like object over a Map, for `__mcpStore`.
export function __mcpMemory() {
  const m = new Map();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    key: (i) => [...m.keys()][i],
    get length() {
      return m.size;
    },
  };
}

// `o[key]`; undefined when reading it throws (a throwing getter, no object).
export function __mcpGet(o, key) {
  try {
    return o[key];
  } catch {}
}
