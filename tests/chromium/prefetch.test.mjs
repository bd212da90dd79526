// `auth.prefetch()` through the built package in Chromium: discovery ahead
// of the click, so that the click reaches `onRedirect` after at most the
// registration (none with a pre-registered client). The fixture logs every
// request to its main origin (the AS and the MCP server), preflights
// included; what a step sent is the log's growth across it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, startFixture, openApp, scenario, withContext } from './helpers.mjs';
import { PRE_CLIENT_ID, PRE_CLIENT_SECRET } from '../fixture/server.mjs';

let browser;
let fx;

before(async () => {
  fx = await startFixture();
  browser = await launchChromium();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await fx?.stop();
}, { timeout: 30_000 });

/** In the page: a new `window.auth` and its `prefetch()` result (the error as plain data). */
async function prefetchInPage(page, opts) {
  return page.evaluate(async (opts) => {
    window.auth = window.makeAuth(opts);
    const r = await window.auth.prefetch();
    const events = window.events.map((e) => e.type);
    return { ready: r.ready, keys: Object.keys(r).sort(), error: r.error && window.errInfo(r.error), events };
  }, opts);
}

/** In the page: the "Connect" click, `auth.authorize()`; resolves once `onRedirect` has run. */
async function clickConnect(page) {
  return page.evaluate(async () => {
    window.redirects.length = 0;
    try {
      return { value: await window.auth.authorize(), redirects: [...window.redirects] };
    } catch (e) {
      return { error: window.errInfo(e), redirects: [...window.redirects] };
    }
  });
}

/** The requests `fn` made the page send to the fixture's AS and MCP server. */
async function requestsDuring(fn) {
  const before = fx.requests().length;
  const result = await fn();
  return { result, sent: fx.requests().slice(before) };
}

const notPreflight = (r) => r.method !== 'OPTIONS';

test('prefetch: then connecting with a pre-registered client sends no request before onRedirect', { timeout: 30_000 }, async () => {
  const sc = scenario('noreg');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const opts = {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientId: PRE_CLIENT_ID,
      clientSecret: PRE_CLIENT_SECRET,
    };
    const pre = await requestsDuring(() => prefetchInPage(page, opts));
    assert.equal(pre.result.ready, true, JSON.stringify(pre.result));
    assert.deepEqual(pre.result.keys, ['ready']);
    assert.deepEqual(pre.result.events, [], 'prefetch reports no onStatus events');
    const paths = pre.sent.filter(notPreflight).map((r) => r.path);
    assert.ok(paths.includes(`/.well-known/oauth-protected-resource/s/${sc}/mcp`), JSON.stringify(paths));
    assert.ok(paths.includes(`/.well-known/oauth-authorization-server/s/${sc}`), JSON.stringify(paths));
    assert.equal(fx.stats(sc).authorize.length + fx.stats(sc).register.length, 0);

    const click = await requestsDuring(() => clickConnect(page));
    assert.equal(click.result.value, 'REDIRECT', JSON.stringify(click.result));
    assert.equal(click.result.redirects.length, 1);
    assert.equal(new URL(click.result.redirects[0]).searchParams.get('client_id'), PRE_CLIENT_ID);
    assert.deepEqual(click.sent, [], 'no request at all between the click and onRedirect');
  });
});

test('prefetch: then connecting with Dynamic Client Registration sends exactly the registration', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const pre = await prefetchInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    assert.equal(pre.ready, true, JSON.stringify(pre));
    assert.equal(fx.stats(sc).register.length, 0, 'prefetch registers nothing');

    const click = await requestsDuring(() => clickConnect(page));
    assert.equal(click.result.value, 'REDIRECT', JSON.stringify(click.result));
    assert.equal(click.result.redirects.length, 1);
    assert.deepEqual(click.sent.filter(notPreflight), [{ method: 'POST', path: `/s/${sc}/register` }]);
    // A JSON POST across origins is preflighted: the browser's own request, at most one.
    const preflights = click.sent.filter((r) => !notPreflight(r));
    assert.ok(preflights.every((r) => r.path === `/s/${sc}/register`) && preflights.length <= 1, JSON.stringify(preflights));
    assert.equal(fx.stats(sc).register.length, 1);
  });
});

test('prefetch: then the first 401 of auth.fetch redirects with no protocol request (pre-registered client)', { timeout: 30_000 }, async () => {
  const sc = scenario('noreg');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const pre = await prefetchInPage(page, {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientId: PRE_CLIENT_ID,
      clientSecret: PRE_CLIENT_SECRET,
    });
    assert.equal(pre.ready, true, JSON.stringify(pre));
    const { result, sent } = await requestsDuring(() =>
      page.evaluate(async (serverUrl) => {
        window.redirects.length = 0;
        try {
          await window.auth.fetch(serverUrl);
          return { resolved: true };
        } catch (e) {
          return { error: window.errInfo(e), redirects: [...window.redirects] };
        }
      }, serverUrl),
    );
    assert.equal(result.error?.name, 'AuthorizationRedirectError', JSON.stringify(result));
    assert.equal(result.redirects.length, 1);
    // The 401's resource_metadata is the URL prefetch probed: the cache is used.
    assert.deepEqual(sent.filter(notPreflight), [{ method: 'GET', path: `/s/${sc}/mcp` }]);
  });
});

test('prefetch: a failed discovery resolves with the error, keeps nothing, and the click discovers again', { timeout: 30_000 }, async () => {
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    // Nothing listens on port 9 of the loopback: every probe fails at the network.
    const opts = { serverUrl: 'http://127.0.0.1:9/mcp', redirectUri: `${fx.appUrl}/callback.html`, clientId: 'c', timeoutMs: 5_000 };
    const pre = await prefetchInPage(page, opts);
    assert.equal(pre.ready, false);
    assert.deepEqual(pre.keys, ['error', 'ready']);
    assert.equal(pre.error.name, 'DiscoveryError', JSON.stringify(pre.error));
    assert.ok(pre.error.instances.includes('McpAuthError'));
    assert.deepEqual(pre.events, [], 'not reported to onStatus either');
    const click = await clickConnect(page);
    assert.equal(click.error?.name, 'DiscoveryError', JSON.stringify(click));
    assert.equal(click.redirects.length, 0);
    const events = await page.evaluate(() => window.events.map((e) => e.type));
    assert.deepEqual(events, ['discovering', 'error'], 'the click discovered again and reported its own error');
  });
});
