// Popup mode end to end (PROTOCOL.md P-40..P-42) in headless Chromium against
// the demo stack: the authorization server's pages with and without
// Cross-Origin-Opener-Policy: same-origin, the demo's real callback page
// (configuration-free `finishAuth`) in the window, and the built package in a
// probe page of the app's origin (served by routing, next to the demo).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  approveConsent, asEvents, launchBrowser, resetAsEvents, screenshot, shownError, startStack, waitConnected,
} from './helpers.mjs';

const PKG = fileURLToPath(new URL('../../pkg/', import.meta.url));

// The probe: the package, a client in popup mode, and a button whose click
// calls authorize({ mode: 'popup' }) in the click's task; `auto` calls it at
// load instead, outside any user gesture. It runs in the demo's own page
// (an init script; the package is routed from pkg/), so the page is served
// from the loopback address like the servers it calls: a routed document
// would count as public and Chromium's local network access checks would
// refuse its requests to 127.0.0.1.
function probeScript({ auto, options }) {
  if (window.opener || location.pathname !== '/' || !location.search.includes('probe')) return;
  window.done = null;
  window.settle = (p) => {
    window.done = false;
    window.outcome = p.then((v) => ({ ok: v }), (e) => ({ name: e.name, code: e.code, reason: e.reason ?? null, message: e.message }))
      .finally(() => { window.done = true; console.log('probe: settled'); });
  };
  (async () => {
    const lib = await import('./pkg/index.js');
    await lib.default();
    const stack = await (await fetch('./stack.json')).json();
    window.stack = stack;
    window.makeAuth = (opts = {}) => new lib.McpAuth({
      serverUrl: stack.mcpUrl, redirectUri: new URL('callback.html', location.href).href,
      clientName: 'popup probe', mode: 'popup', ...opts,
    });
    window.auth = window.makeAuth(options);
    window.signIn = (o = {}) => window.settle(window.auth.authorize({ mode: 'popup', ...o }));
    if (auto) window.signIn();
    const go = document.createElement('button');
    go.id = 'go';
    go.textContent = 'Sign in with a popup (probe)';
    go.addEventListener('click', () => window.go());
    window.go = () => window.signIn();
    document.body.prepend(go);
    window.ready = true;
  })();
}

async function probe(context, stack, { auto = false, options = {} } = {}) {
  await context.route(`${stack.appUrl}pkg/**`, (route) => {
    const rel = new URL(route.request().url()).pathname.replace(/^\/pkg\//, '');
    return route.fulfill({ path: PKG + rel });
  });
  await context.addInitScript(probeScript, { auto, options });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // Every Playwright evaluation counts as a user gesture: with `auto`, none
  // may run before the call has settled on its own.
  const settled = auto && page.waitForEvent('console', (m) => m.text() === 'probe: settled');
  await page.goto(`${stack.appUrl}?probe`);
  await settled;
  await page.waitForFunction(() => window.ready === true, null, { timeout: 15_000, polling: 100 });
  return { page, errors };
}

/** Clicks the probe's button and returns the sign-in window once it is on the consent page. */
async function openPopup(page, stack) {
  const opened = page.waitForEvent('popup');
  await page.click('#go');
  const popup = await opened;
  await popup.waitForURL((u) => u.origin === stack.issuer && u.pathname.startsWith('/interaction/'));
  await popup.locator('#approve').waitFor();
  return popup;
}

// Polled by time, not animation frames: a page whose popup was blocked may not paint.
const waitDone = (page, timeout = 30_000) => page.waitForFunction(() => window.done === true, null, { timeout, polling: 100 });
const outcome = (page) => page.evaluate(() => window.outcome);
const isDone = (page) => page.evaluate(() => window.done);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('popup mode under COOP (the AS pages send Cross-Origin-Opener-Policy: same-origin)', () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack({ coop: true });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('P-40 P-41: signs in in a popup; the result reaches the page without window.opener, which never reloads', async () => {
    const context = await browser.newContext();
    const { page, errors } = await probe(context, stack);
    await page.evaluate(() => { window.marker = 'still this document'; });
    const loads = [];
    page.on('load', () => loads.push(page.url()));
    const coopHeaders = [];
    context.on('response', (r) => {
      if (new URL(r.url()).origin === stack.issuer && r.request().isNavigationRequest()) {
        coopHeaders.push(r.headers()['cross-origin-opener-policy']);
      }
    });
    const popup = await openPopup(page, stack);
    // COOP severed the opener: the page sees the window as closed already.
    assert.equal(await page.evaluate(() => window.done), false);
    const closed = popup.waitForEvent('close');
    const consent = await approveConsent(popup, stack);
    // No challenge yet: the server's scopes_supported (P-13).
    assert.deepEqual(consent.scopes.sort(), ['mcp:read', 'mcp:write']);
    await closed; // the callback page closed its own window
    await waitDone(page);
    assert.deepEqual(await outcome(page), { ok: 'AUTHORIZED' });
    assert.ok(coopHeaders.length > 0 && coopHeaders.every((h) => h === 'same-origin'), JSON.stringify(coopHeaders));
    assert.equal(await page.evaluate(() => window.marker), 'still this document');
    assert.deepEqual(loads, [], 'the page never loaded again');
    const tokens = await page.evaluate(() => window.auth.tokens());
    assert.deepEqual(tokens.scope.split(' ').sort(), ['mcp:read', 'mcp:write']);
    // Nothing of the flow is left behind: no pending record, marker or result.
    const left = await page.evaluate(() => [...Object.keys(sessionStorage), ...Object.keys(localStorage)]
      .filter((k) => /:(pending|popup|popup-result):/.test(k)));
    assert.deepEqual(left, []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('P-42: a user who stays 20 s on the consent page gets no error, then signs in', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack);
    const popup = await openPopup(page, stack);
    await sleep(20_000);
    assert.equal(await isDone(page), false, 'still waiting after 20 s, no PopupClosedError');
    await approveConsent(popup, stack);
    await waitDone(page);
    assert.deepEqual(await outcome(page), { ok: 'AUTHORIZED' });
    await context.close();
  });

  it('P-42: a window closed under COOP ends the wait at popupTimeoutMs, not before', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack, { options: { popupTimeoutMs: 6000 } });
    const started = Date.now();
    const popup = await openPopup(page, stack);
    await popup.close();
    await sleep(2_500);
    assert.equal(await isDone(page), false, 'a closed that COOP makes unreadable is not believed');
    await waitDone(page, 15_000);
    const elapsed = Date.now() - started;
    const o = await outcome(page);
    assert.equal(o.name, 'PopupClosedError');
    assert.equal(o.code, 'popup_closed');
    assert.equal(o.reason, 'timeout');
    assert.ok(elapsed >= 5_500 && elapsed < 12_000, `ended after ${elapsed} ms`);
    // The flow is over: its pending record is gone.
    const pending = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.includes(':pending:')));
    assert.deepEqual(pending, []);
    await context.close();
  });

  it('P-42: a window closed under COOP ends the wait when the app\'s signal aborts', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack);
    await page.evaluate(() => {
      window.cancel = new AbortController();
      window.go = () => window.signIn({ signal: window.cancel.signal });
    });
    const popup = await openPopup(page, stack);
    await popup.close();
    await sleep(3_000);
    assert.equal(await isDone(page), false);
    const aborted = Date.now();
    await page.evaluate(() => window.cancel.abort());
    await waitDone(page, 5_000);
    assert.ok(Date.now() - aborted < 2_000);
    const o = await outcome(page);
    assert.equal(o.name, 'PopupClosedError');
    assert.equal(o.reason, 'aborted');
    await context.close();
  });

  it('step-up in a popup: auth.fetch opens the window on 403 insufficient_scope and the call succeeds without a reload', async () => {
    const context = await browser.newContext();
    const { page, errors } = await probe(context, stack);
    const loads = [];
    page.on('load', () => loads.push(page.url()));
    await page.evaluate(() => { window.go = () => window.signIn({ scope: 'mcp:read' }); });
    let popup = await openPopup(page, stack);
    await approveConsent(popup, stack);
    await waitDone(page);
    assert.deepEqual(await outcome(page), { ok: 'AUTHORIZED' });
    assert.equal((await page.evaluate(() => window.auth.tokens())).scope, 'mcp:read');

    await resetAsEvents(stack);
    await page.evaluate(() => {
      window.go = () => window.settle(window.auth.fetch(window.stack.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_note', arguments: { text: 'from a popup' } } }),
      }).then(async (r) => `${r.status} ${await r.text()}`));
    });
    popup = await openPopup(page, stack);
    const consent = await approveConsent(popup, stack);
    assert.deepEqual(consent.scopes.sort(), ['mcp:read', 'mcp:write']);
    assert.equal(consent.button, 'Allow');
    await waitDone(page, 15_000);
    const o = await outcome(page);
    assert.match(o.ok ?? JSON.stringify(o), /^200 [\s\S]*saved note #1/);
    assert.deepEqual((await page.evaluate(() => window.auth.tokens())).scope.split(' ').sort(), ['mcp:read', 'mcp:write']);
    assert.deepEqual(loads, [], 'the page never reloaded');
    const ev = await asEvents(stack);
    assert.equal(ev.authorizations, 1, 'one authorization: the step-up');
    assert.equal(ev.tokenRequests.authorization_code, 1);
    assert.deepEqual(errors, []);
    await context.close();
  });

  it('demo: "Sign in with a popup" connects without leaving the page; tools work', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const loads = [];
    page.on('load', () => loads.push(page.url()));
    await page.goto(stack.appUrl);
    await page.locator('#state[data-state="idle"]').waitFor();
    const opened = page.waitForEvent('popup');
    await page.click('#connect-popup');
    const popup = await opened;
    await approveConsent(popup, stack);
    await waitConnected(page, stack);
    await page.fill('#arg-write_note-text', 'a note from a popup sign-in');
    await page.click('#call-write_note');
    await page.locator('#result-write_note:not([hidden])').waitFor();
    assert.match(await page.textContent('#result-write_note'), /^saved note #\d+$/);
    assert.equal(loads.length, 1, `the page loaded once: ${loads.join(', ')}`);
    await screenshot(page, 'demo-popup');
    await context.close();
  });
});

describe('popup mode without COOP', () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('P-42: closing the window on the consent page gives PopupClosedError within seconds', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack);
    const popup = await openPopup(page, stack);
    await sleep(2_500); // past the 2 s in which `closed` is not yet believed
    const closedAt = Date.now();
    await popup.close();
    await waitDone(page, 5_000);
    const elapsed = Date.now() - closedAt;
    const o = await outcome(page);
    assert.equal(o.name, 'PopupClosedError');
    assert.equal(o.code, 'popup_closed');
    assert.equal(o.reason, 'closed');
    assert.ok(elapsed < 3_000, `failed ${elapsed} ms after the close`);
    await context.close();
  });

  it('demo: the popup sign-in\'s failure is explained in the page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(stack.appUrl);
    await page.locator('#state[data-state="idle"]').waitFor();
    const opened = page.waitForEvent('popup');
    await page.click('#connect-popup');
    const popup = await opened;
    await popup.locator('#approve').waitFor();
    await page.click('#cancel-popup');
    await page.locator('#error:not([hidden])').waitFor();
    const shown = await shownError(page);
    assert.equal(shown.name, 'PopupClosedError');
    assert.equal(shown.code, 'popup_closed');
    await context.close();
  });
});

describe('popup mode with Chromium\'s popup blocker on', () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser({ popupBlocker: true });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('P-40: authorize({ mode: "popup" }) outside a user gesture is PopupBlockedError; from a click it works', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack, { auto: true });
    await waitDone(page);
    const o = await outcome(page);
    assert.equal(o.name, 'PopupBlockedError');
    assert.equal(o.code, 'popup_blocked');
    assert.match(o.message, /from a click handler/);
    const pending = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.includes(':pending:')));
    assert.deepEqual(pending, [], 'nothing was started');
    // Nothing lost: the same client signs in from a click.
    const popup = await openPopup(page, stack);
    await approveConsent(popup, stack);
    await waitDone(page);
    assert.deepEqual(await outcome(page), { ok: 'AUTHORIZED' });
    await context.close();
  });

  it('P-40: a step-up whose window is blocked is PopupBlockedError; authorize from a click resumes it, and the call then succeeds', async () => {
    const context = await browser.newContext();
    const { page } = await probe(context, stack);
    await page.evaluate(() => { window.go = () => window.signIn({ scope: 'mcp:read' }); });
    let popup = await openPopup(page, stack);
    await approveConsent(popup, stack);
    await waitDone(page);
    await page.evaluate(() => {
      window.writeNote = () => window.settle(window.auth.fetch(window.stack.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_note', arguments: { text: 'resumed' } } }),
      }).then(async (r) => `${r.status} ${await r.text()}`));
      // Past the few seconds a user activation lasts: no gesture any more.
      setTimeout(() => window.writeNote(), 6_000);
    });
    // No evaluation (a gesture) until the call has settled on its own.
    await page.waitForEvent('console', { predicate: (m) => m.text() === 'probe: settled', timeout: 30_000 });
    const blocked = await outcome(page);
    assert.equal(blocked.name, 'PopupBlockedError', JSON.stringify(blocked));
    // The click resumes the very authorization the call needed (the wider scope).
    await page.evaluate(() => { window.go = () => window.signIn(); });
    popup = await openPopup(page, stack);
    const consent = await approveConsent(popup, stack);
    assert.deepEqual(consent.scopes.sort(), ['mcp:read', 'mcp:write']);
    await waitDone(page);
    assert.deepEqual(await outcome(page), { ok: 'AUTHORIZED' });
    // The app retries its call: no window needed now, and no step-up attempt was spent.
    await page.evaluate(() => { window.go = () => window.writeNote(); });
    await page.click('#go');
    await waitDone(page);
    assert.match((await outcome(page)).ok ?? '', /^200 [\s\S]*saved note/);
    await context.close();
  });
});
