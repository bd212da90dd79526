// The built package in Node: no window, no location, no sessionStorage of its
// own (a stand-in is supplied), initialised with initSync({ module }). One
// whole flow against the fixture proves that the library reaches fetch,
// storage and crypto through the global object, never `window()`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startFixture, pkgDir } from '../fixture/server.mjs';

/** A Web Storage stand-in (getItem/setItem/removeItem/key/length). */
class MemoryStorage {
  #m = new Map();
  get length() {
    return this.#m.size;
  }
  key(i) {
    return [...this.#m.keys()][i] ?? null;
  }
  getItem(k) {
    return this.#m.has(k) ? this.#m.get(k) : null;
  }
  setItem(k, v) {
    this.#m.set(String(k), String(v));
  }
  removeItem(k) {
    this.#m.delete(k);
  }
  clear() {
    this.#m.clear();
  }
}

let fx;
let lib;

before(async () => {
  assert.equal(typeof globalThis.window, 'undefined', 'Node has no window');
  assert.equal(typeof globalThis.location, 'undefined', 'Node has no location');
  assert.equal(typeof globalThis.sessionStorage, 'undefined', 'Node has no sessionStorage of its own');
  globalThis.sessionStorage = new MemoryStorage();
  fx = await startFixture();
  lib = await import(path.join(pkgDir, 'index.js'));
  const bytes = await readFile(path.join(pkgDir, 'mcp_web_auth_bg.wasm'));
  lib.initSync({ module: bytes });
}, { timeout: 60_000 });

after(async () => {
  await fx?.stop();
  delete globalThis.sessionStorage;
}, { timeout: 30_000 });

test('whole flow in Node: onRedirect follows the authorization URL with redirect: manual, finishAuth stores tokens, the next request carries the bearer', { timeout: 20_000 }, async () => {
  const sc = 'node-flow';
  const serverUrl = fx.serverUrl(sc);
  const redirectUri = 'http://127.0.0.1:9/callback'; // loopback; never fetched
  const events = [];
  const finished = [];
  const auth = new lib.McpAuth({
    serverUrl,
    redirectUri,
    clientName: 'node package test',
    onStatus: (e) => events.push(e.type),
    onRedirect: async (url) => {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 302);
      const callback = new URL(res.headers.get('location'));
      assert.equal(callback.origin + callback.pathname, redirectUri);
      finished.push(await lib.finishAuth(callback.searchParams));
    },
  });

  await assert.rejects(auth.fetch(serverUrl), (e) => {
    assert.ok(e instanceof lib.AuthorizationRedirectError, `got ${e?.name}: ${e?.message}`);
    assert.ok(e instanceof lib.McpAuthError);
    assert.equal(e.code, 'redirect_started');
    return true;
  });
  assert.equal(finished.length, 1, 'onRedirect ran the callback');
  assert.equal(finished[0].serverUrl, serverUrl);
  assert.equal(finished[0].scope, 'mcp:read');
  assert.equal(finished[0].returnTo, '', 'no location in Node: returnTo is empty');
  assert.deepEqual(events, ['discovering', 'registering', 'redirecting']);

  const res = await auth.fetch(new URL(serverUrl));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true, scope: 'mcp:read', op: 'mcp:read' });
  const stats = fx.stats(sc);
  assert.match(stats.resource.at(-1).authorization, /^Bearer at_/);
  assert.equal(stats.codeGrants, 1);
  assert.equal(stats.register[0].application_type, 'native', 'P-11: loopback redirect URI → native');
  assert.equal(auth.tokens().hasRefreshToken, true);
  const keys = Array.from({ length: sessionStorage.length }, (_, i) => sessionStorage.key(i));
  assert.ok(keys.some((k) => k.startsWith('mcp-web-auth:tokens:')), `tokens went to the sessionStorage stand-in: ${keys}`);
  assert.ok(!keys.some((k) => k.startsWith('mcp-web-auth:pending:')), 'the pending record was consumed');
});

test('P-25 in Node: concurrent requests cause one refresh (navigator.locks where Node has it, else the in-page lock)', { timeout: 20_000 }, async () => {
  const sc = 'node-short-slowrefresh';
  const serverUrl = fx.serverUrl(sc);
  const auth = new lib.McpAuth({
    serverUrl,
    redirectUri: 'http://127.0.0.1:9/callback',
    tokenStorage: 'memory',
    onRedirect: async (url) => {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      await auth.finishAuth(new URL(res.headers.get('location')).searchParams);
    },
  });
  await assert.rejects(auth.fetch(serverUrl), lib.AuthorizationRedirectError);
  await new Promise((r) => setTimeout(r, 600)); // the 1 s token is due at half its lifetime
  const statuses = await Promise.all([auth.fetch(serverUrl), auth.fetch(serverUrl)]).then((rs) => rs.map((r) => r.status));
  assert.deepEqual(statuses, [200, 200]);
  assert.equal(fx.stats(sc).refresh, 1);
  assert.equal(fx.stats(sc).invalidGrant, 0);
});

test('P-20 in Node: a wrong iss is an IssuerMismatchError (instanceof the exported class) and the pending record survives', { timeout: 20_000 }, async () => {
  const sc = 'node-isswrong';
  const serverUrl = fx.serverUrl(sc);
  let callback;
  const auth = new lib.McpAuth({
    serverUrl,
    redirectUri: 'http://127.0.0.1:9/callback',
    onRedirect: async (url) => {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
      callback = new URL(res.headers.get('location'));
    },
  });
  await assert.rejects(auth.fetch(serverUrl), lib.AuthorizationRedirectError);
  await assert.rejects(lib.finishAuth(callback.searchParams), (e) => {
    assert.ok(e instanceof lib.IssuerMismatchError);
    assert.equal(e.name, 'IssuerMismatchError');
    assert.equal(e.expected, fx.issuer(sc));
    assert.equal(e.received, 'https://attacker.example/');
    return true;
  });
  const fixed = new URLSearchParams(callback.search);
  fixed.set('iss', fx.issuer(sc));
  const done = await lib.finishAuth(fixed.get('code'), fixed.get('iss')); // P-18's code form
  assert.equal(done.serverUrl, serverUrl);
  assert.equal((await auth.fetch(serverUrl)).status, 200);
});

test('calls in flight together keep their own outcomes: answers settling in reverse order reach their own auth.fetch, a raw fetch error its own call', { timeout: 20_000 }, async () => {
  // Requests to another origin pass through; the app's fetch answers the
  // first call last, so the library's steps for the three calls interleave.
  const delays = { '/a': 60, '/b': 30, '/c': 0 };
  const boom = new TypeError('network down for /c');
  const auth = new lib.McpAuth({
    serverUrl: 'http://127.0.0.1:9/mcp',
    redirectUri: 'http://127.0.0.1:9/callback',
    tokenStorage: 'memory',
    fetch: async (req) => {
      const p = new URL(req.url).pathname;
      await new Promise((r) => setTimeout(r, delays[p]));
      if (p === '/c') throw boom;
      return new Response(p, { status: p === '/a' ? 201 : 202 });
    },
  });
  const [a, b, c] = await Promise.allSettled(['/a', '/b', '/c'].map((p) => auth.fetch(`http://localhost:9${p}`)));
  assert.equal(a.status, 'fulfilled');
  assert.equal(a.value.status, 201);
  assert.equal(await a.value.text(), '/a');
  assert.equal(b.status, 'fulfilled');
  assert.equal(b.value.status, 202);
  assert.equal(await b.value.text(), '/b');
  assert.equal(c.status, 'rejected');
  assert.equal(c.reason, boom, 'the app fetch error itself, not a wrapper');
});

test('P-40 in Node: popup mode needs a window (invalid_config, no PopupBlockedError); mode is a closed set; the popup errors are exported classes', { timeout: 20_000 }, async () => {
  const options = { serverUrl: fx.serverUrl('node-popup'), redirectUri: 'http://127.0.0.1:9/callback' };
  const auth = new lib.McpAuth({ ...options, mode: 'popup' });
  await assert.rejects(auth.authorize({ mode: 'popup' }), (e) => {
    assert.equal(e.code, 'invalid_config');
    assert.match(e.message, /popup mode needs a page/);
    return true;
  });
  assert.throws(() => new lib.McpAuth({ ...options, mode: 'tab' }), (e) => e.code === 'invalid_config' && /'redirect' or 'popup'/.test(e.message));
  await assert.rejects(new lib.McpAuth(options).authorize({ mode: 'window' }), (e) => e.code === 'invalid_config');
  for (const name of ['PopupBlockedError', 'PopupClosedError']) {
    assert.equal(typeof lib[name], 'function', name);
    assert.ok(lib[name].prototype instanceof lib.McpAuthError, name);
    assert.equal(lib[name].prototype.name, name);
  }
});
