// Shared by tests/chromium/*.test.mjs: headless Debian Chromium through
// playwright-core (from tools/node_modules), the fixture server, and the
// steps of an authorization flow driven through the package's public API.

import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const requireTools = createRequire(new URL('../../tools/package.json', import.meta.url));
const { chromium } = requireTools('playwright-core');

export { startFixture } from '../fixture/server.mjs';

/** TOOLCHAIN.md: this machine's closed network refuses Chromium's background connections. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/** A page of `app.html` with the package initialised (`window.lib`, `makeAuth`, `errInfo`). */
export async function openApp(context, baseUrl, query = '') {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.consoleErrors = consoleErrors;
  await page.goto(`${baseUrl}/app.html${query}`);
  await waitReady(page);
  return page;
}

export async function waitReady(page) {
  await page.waitForFunction(() => window.ready || window.loadError, null, { timeout: 15_000 });
  const loadError = await page.evaluate(() => window.loadError);
  assert.equal(loadError, undefined, `the package failed to load: ${loadError}`);
}

/** Polls `cond` until it is truthy or `ms` pass. */
export async function waitFor(cond, ms = 10_000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Plays the browser's hop through the authorization server from Node: GET the
 * authorization URL without following the redirect and return the callback
 * URL from `Location` (the fixture auto-approves).
 */
export async function visitAuthorizationUrl(authorizationUrl) {
  const res = await fetch(authorizationUrl, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
  assert.equal(res.status, 302, `the authorization endpoint answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location'));
}

/**
 * In the page: `makeAuth(opts)` then `auth.fetch(resource)`, which must end in
 * a redirect (AuthorizationRedirectError). Returns the authorization URL.
 */
export async function startAuthorization(page, opts, resource = opts.serverUrl) {
  const r = await page.evaluate(
    async ({ opts, resource }) => {
      window.redirects.length = 0;
      window.auth = window.makeAuth(opts);
      try {
        const res = await window.auth.fetch(resource);
        return { status: res.status };
      } catch (e) {
        return { error: window.errInfo(e), redirects: [...window.redirects] };
      }
    },
    { opts, resource },
  );
  assert.ok(r.error, `auth.fetch resolved (${r.status}) instead of starting authorization`);
  assert.equal(r.error.name, 'AuthorizationRedirectError', JSON.stringify(r.error));
  assert.equal(r.redirects.length, 1, 'onRedirect called exactly once');
  return new URL(r.redirects[0]);
}

/** In the page: `finishAuth(new URLSearchParams(query))`, module-level or on `window.auth`. */
export async function finishInPage(page, query, { onInstance = false } = {}) {
  return page.evaluate(
    async ({ query, onInstance }) => {
      try {
        const params = new URLSearchParams(query);
        const v = onInstance ? await window.auth.finishAuth(params) : await window.lib.finishAuth(params);
        return { value: v };
      } catch (e) {
        return { error: window.errInfo(e) };
      }
    },
    { query, onInstance },
  );
}

/** In the page: `auth.fetch(input)`; the answer as { status, body } or { error }. */
export async function fetchInPage(page, input, { authVar = 'auth' } = {}) {
  return page.evaluate(
    async ({ input, authVar }) => {
      try {
        const res = await window[authVar].fetch(input);
        const text = await res.text();
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {}
        return { status: res.status, body };
      } catch (e) {
        return { error: window.errInfo(e) };
      }
    },
    { input, authVar },
  );
}

/** A whole authorization through the public API, ending with tokens stored in the page. */
export async function authorizeInPage(page, opts, { onInstance = false } = {}) {
  const authUrl = await startAuthorization(page, opts);
  const callback = await visitAuthorizationUrl(authUrl);
  const done = await finishInPage(page, callback.search, { onInstance });
  assert.ok(done.value, `finishAuth failed: ${JSON.stringify(done.error)}`);
  return { authUrl, callback, finished: done.value };
}

/** A scenario name unique within this process, with the given flags. */
let counter = 0;
export function scenario(...flags) {
  counter += 1;
  return [...flags, `t${process.pid}x${counter}`].join('-');
}

/** Opens a fresh context (own storage) and closes it, whatever `fn` does. */
export async function withContext(browser, fn) {
  const context = await browser.newContext();
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

/**
 * Waits until a `short` (1 s) access token is due for refresh: the library
 * refreshes 30 s ahead of expiry, but at most half the lifetime ahead
 * (P-25, REFRESH_MARGIN_MS in src/core/token.rs).
 */
export function tokenDue() {
  return new Promise((r) => setTimeout(r, 600));
}
