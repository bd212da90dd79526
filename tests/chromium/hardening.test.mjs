// P-26..P-34 through the package's public API in Chromium: the fixture
// server plays the honest MCP server and authorization server; hostile
// answers (redirects, oversized bodies, odd tokens, silence) are played by
// Playwright's request interception (`page.route`) in front of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchChromium,
  startFixture,
  openApp,
  scenario,
  withContext,
  authorizeInPage,
  fetchInPage,
  startAuthorization,
  visitAuthorizationUrl,
  finishInPage,
  tokenDue,
} from './helpers.mjs';

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

const redirectUri = () => `${fx.appUrl}/callback.html`;

/** In the page: `auth.authorize(options)`; `{ value }` or `{ error }`. */
function authorizeCall(page, options) {
  return page.evaluate(async (options) => {
    try {
      return { value: await window.auth.authorize(options) };
    } catch (e) {
      return { error: window.errInfo(e) };
    }
  }, options);
}

/** In the page: `new McpAuth(opts)`; `{ ok }` or `{ error }`. */
function construct(page, opts) {
  return page.evaluate((opts) => {
    try {
      window.auth = window.makeAuth(opts);
      return { ok: true };
    } catch (e) {
      return { error: window.errInfo(e) };
    }
  }, opts);
}

const tokensInPage = (page) => page.evaluate(() => window.auth.tokens());

test('P-26, P-33: a refresh that fails at the network level keeps the tokens and is network_error naming the token endpoint', { timeout: 30_000 }, async () => {
  const sc = scenario('allshort');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: redirectUri() });
    // Expired, not only due: the current access token cannot stand in.
    await new Promise((r) => setTimeout(r, 1_200));
    await page.route(`${fx.issuer(sc)}/token`, (route) => route.abort('connectionrefused'));
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.error?.code, 'network_error', JSON.stringify(r));
    assert.equal(r.error.own.url, `${fx.issuer(sc)}/token`);
    assert.ok((await tokensInPage(page))?.hasRefreshToken, 'the tokens are kept');
    await page.unroute(`${fx.issuer(sc)}/token`);
    const again = await fetchInPage(page, serverUrl);
    assert.equal(again.status, 200, JSON.stringify(again));
    assert.equal(fx.stats(sc).authorize.length, 1, 'no new sign-in: the kept refresh token worked');
  });
});

test('P-27: the token goes to the server URL path only by default, to the whole origin with sendTokenTo "origin"', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: redirectUri() });
    fx.reset();
    assert.equal((await fetchInPage(page, `${serverUrl}?session=1`)).status, 200, 'the query is ignored');
    assert.equal((await fetchInPage(page, `${fx.url}/echo`)).status, 200);
    assert.equal(fx.echo().at(-1).authorization, null, 'another path on the origin gets no token');
    const widened = await construct(page, { serverUrl, redirectUri: redirectUri(), sendTokenTo: 'origin' });
    assert.ok(widened.ok, JSON.stringify(widened));
    assert.equal((await fetchInPage(page, `${fx.url}/echo`)).status, 200);
    assert.match(fx.echo().at(-1).authorization ?? '', /^Bearer /, "sendTokenTo: 'origin' widens to the origin");
    const bad = await construct(page, { serverUrl, redirectUri: redirectUri(), sendTokenTo: 'everywhere' });
    assert.equal(bad.error?.code, 'invalid_config');
  });
});

test('P-27: a 401 from another path of the origin pointing elsewhere passes through and changes nothing', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: redirectUri() });
    const before = fx.stats(sc);
    await page.evaluate(() => { window.redirects.length = 0; });
    await page.route(`${fx.url}/tenant-b/mcp`, (route) =>
      route.fulfill({
        status: 401,
        headers: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Expose-Headers': 'WWW-Authenticate',
          'WWW-Authenticate': `Bearer resource_metadata="${fx.otherUrl}/.well-known/oauth-protected-resource"`,
        },
        body: 'no',
      }));
    const r = await fetchInPage(page, `${fx.url}/tenant-b/mcp`);
    assert.equal(r.status, 401, `the 401 reaches the app untouched: ${JSON.stringify(r)}`);
    const redirects = await page.evaluate(() => window.redirects.length);
    assert.equal(redirects, 0, 'no sign-in started');
    assert.equal((await fetchInPage(page, serverUrl)).status, 200, 'the tokens still work');
    const after = fx.stats(sc);
    assert.equal(after.authorize.length, before.authorize.length);
    assert.equal(after.prm, before.prm, 'no rediscovery');
  });
});

test('P-29: once a re-authorization\'s fresh token is rejected again, the next 401 is token_rejected, not a third sign-in, across the redirect', { timeout: 40_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const opts = { serverUrl, redirectUri: redirectUri() };
    await authorizeInPage(page, opts);
    // From now on the server refuses every token with a 401.
    await page.route(serverUrl, (route) =>
      route.fulfill({
        status: 401,
        headers: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Expose-Headers': 'WWW-Authenticate',
          'WWW-Authenticate': `Bearer resource_metadata="${fx.prmUrl(sc)}", error="invalid_token"`,
        },
        body: 'no',
      }));
    let last;
    for (let i = 0; i < 3; i += 1) {
      await page.evaluate(() => { window.redirects.length = 0; });
      last = await fetchInPage(page, serverUrl);
      if (last.error?.code !== 'redirect_started') break;
      const url = await page.evaluate(() => window.redirects[0]);
      const callback = await visitAuthorizationUrl(new URL(url));
      // The redirect is a new page load: the count survives in sessionStorage.
      await page.reload();
      await page.waitForFunction(() => window.ready);
      await construct(page, opts);
      const done = await finishInPage(page, callback.search);
      assert.ok(done.value, JSON.stringify(done));
    }
    assert.equal(last.error?.code, 'token_rejected', JSON.stringify(last));
    assert.equal(last.error.own.serverUrl, serverUrl);
    assert.equal(fx.stats(sc).authorize.length, 2, 'the first sign-in and one re-authorization, no third');
  });
});

test('P-30: a 307 from the token endpoint is not followed: the redirect target never sees the verifier', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: redirectUri() });
    const callback = await visitAuthorizationUrl(authUrl);
    fx.reset();
    await page.route(`${fx.issuer(sc)}/token`, (route) =>
      route.fulfill({
        status: 307,
        headers: { 'Access-Control-Allow-Origin': '*', Location: `${fx.otherUrl}/echo` },
      }));
    const done = await finishInPage(page, callback.search);
    assert.equal(done.error?.code, 'invalid_response', JSON.stringify(done));
    assert.deepEqual(fx.echo(), [], 'nothing reached the Location');
  });
});

test('P-30: discovery moves on after a redirected probe', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await page.route(fx.prmUrl(sc), (route) =>
      route.fulfill({
        status: 302,
        headers: { 'Access-Control-Allow-Origin': '*', Location: `${fx.otherUrl}/echo` },
      }));
    await page.route(`${fx.url}/.well-known/oauth-protected-resource`, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' },
        body: JSON.stringify({ resource: fx.url, authorization_servers: [fx.issuer(sc)] }),
      }));
    // The 401 names no resource_metadata, so the well-known probes run.
    await page.route(serverUrl, (route) =>
      route.fulfill({ status: 401, headers: { 'Access-Control-Allow-Origin': '*' }, body: '' }));
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: redirectUri() });
    assert.equal(authUrl.origin + authUrl.pathname, `${fx.issuer(sc)}/authorize`);
  });
});

test('P-30: a resource redirect answering a request with the token is unexpected_redirect', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: redirectUri() });
    fx.reset();
    await page.route(`${serverUrl}?moved=1`, (route) =>
      route.fulfill({
        status: 307,
        headers: { 'Access-Control-Allow-Origin': '*', Location: `${fx.otherUrl}/echo` },
      }));
    const r = await fetchInPage(page, `${serverUrl}?moved=1`);
    assert.equal(r.error?.code, 'unexpected_redirect', JSON.stringify(r));
    assert.equal(r.error.own.url, `${serverUrl}?moved=1`);
    assert.deepEqual(fx.echo(), [], 'the token was not carried to the Location');
  });
});

test('P-31: returnTo off the page origin is invalid_config; finishAuth returns an absolute same-origin URL', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await construct(page, { serverUrl, redirectUri: redirectUri() });
    for (const returnTo of ['//evil.example/x', 'https://evil.example/', `${fx.otherUrl}/app.html`, 'javascript:alert(1)']) {
      const r = await authorizeCall(page, { returnTo });
      assert.equal(r.error?.code, 'invalid_config', `${returnTo}: ${JSON.stringify(r)}`);
    }
    assert.equal(await page.evaluate(() => window.redirects.length), 0);
    const r = await authorizeCall(page, { returnTo: '/after?x=1' });
    assert.equal(r.value, 'REDIRECT', JSON.stringify(r));
    const url = await page.evaluate(() => window.redirects[0]);
    const callback = await visitAuthorizationUrl(new URL(url));
    const done = await finishInPage(page, callback.search);
    assert.equal(done.value?.returnTo, `${fx.appUrl}/after?x=1`, JSON.stringify(done));
  });
});

test('P-32: a 2 MiB metadata body is refused as invalid_response', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const huge = JSON.stringify({ issuer: fx.issuer(sc), padding: 'x'.repeat(2 << 20) });
    await page.route(`${fx.url}/.well-known/oauth-authorization-server/s/${sc}`, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' },
        body: huge,
      }));
    await construct(page, { serverUrl, redirectUri: redirectUri() });
    const r = await authorizeCall(page, {});
    assert.ok(r.error, JSON.stringify(r));
    assert.ok(['invalid_response', 'discovery_failed'].includes(r.error.code), JSON.stringify(r.error));
    assert.match(r.error.message, /1048576 bytes|over/, r.error.message);
  });
});

test('P-32: an access token with a space is invalid_response; a tampered stored record is treated as absent', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: redirectUri() });
    const callback = await visitAuthorizationUrl(authUrl);
    await page.route(`${fx.issuer(sc)}/token`, (route) =>
      route.fulfill({
        status: 200,
        headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' },
        body: JSON.stringify({ access_token: 'a b', token_type: 'Bearer', expires_in: 3600 }),
      }));
    const done = await finishInPage(page, callback.search);
    assert.equal(done.error?.code, 'invalid_response', JSON.stringify(done));
    assert.doesNotMatch(done.error.message, /a b/);
    await page.unroute(`${fx.issuer(sc)}/token`);

    await authorizeInPage(page, { serverUrl, redirectUri: redirectUri() });
    assert.ok(await tokensInPage(page));
    const tampered = await page.evaluate(() => {
      let n = 0;
      for (let i = 0; i < sessionStorage.length; i += 1) {
        const k = sessionStorage.key(i);
        const v = sessionStorage.getItem(k);
        if (v && v.includes('access_token')) {
          sessionStorage.setItem(k, v.replace(/"access_token":"[^"]*"/, '"access_token":"javascript:alert(1) x"'));
          n += 1;
        }
      }
      return n;
    });
    assert.ok(tampered > 0, 'a token record was found');
    assert.equal(await tokensInPage(page), null, 'the tampered record is absent');
    assert.deepEqual(page.consoleErrors, []);
  });
});

test('P-33: a timeout is code timeout with the url and the limit', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await page.route(`${fx.url}/.well-known/**`, async (route) => {
      await new Promise((r) => setTimeout(r, 2_000));
      await route.fulfill({ status: 404, body: '' }).catch(() => {});
    });
    await construct(page, { serverUrl, redirectUri: redirectUri(), timeoutMs: 300 });
    const r = await authorizeCall(page, {});
    assert.equal(r.error?.code, 'timeout', JSON.stringify(r));
    assert.equal(r.error.own.afterMs, 300);
    assert.ok(r.error.own.url.startsWith(`${fx.url}/.well-known/`), r.error.own.url);
  });
});

test('P-33: an unreachable token endpoint is network_error naming it; an unreachable server names both causes; redirectUri with a fragment is invalid_config', { timeout: 30_000 }, async () => {
  const sc = scenario();
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl: fx.serverUrl(sc), redirectUri: redirectUri() });
    const callback = await visitAuthorizationUrl(authUrl);
    await page.route(`${fx.issuer(sc)}/token`, (route) => route.abort('connectionrefused'));
    const done = await finishInPage(page, callback.search);
    assert.equal(done.error?.code, 'network_error', JSON.stringify(done));
    assert.equal(done.error.own.url, `${fx.issuer(sc)}/token`);
    assert.match(done.error.message, /down/);
    assert.match(done.error.message, /CORS/);

    // Discovery of a server nobody answers for: every probe failed.
    const serverUrl = 'http://127.0.0.1:9/mcp';
    await construct(page, { serverUrl, redirectUri: redirectUri() });
    const r = await authorizeCall(page, {});
    assert.equal(r.error?.code, 'discovery_failed', JSON.stringify(r));
    assert.match(r.error.message, /down/);
    assert.match(r.error.message, /CORS/);
    const bad = await construct(page, { serverUrl, redirectUri: `${redirectUri()}#frag` });
    assert.equal(bad.error?.code, 'invalid_config', JSON.stringify(bad));
  });
});

test('P-34: a page holding a refresh token another page of the origin rotated adopts the new set from the BroadcastChannel', { timeout: 30_000 }, async () => {
  const sc = scenario('allshort');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const a = await openApp(context, fx.appUrl);
    await authorizeInPage(a, { serverUrl, redirectUri: redirectUri() });
    // A duplicate: same sessionStorage contents, its own copy.
    const copy = await a.evaluate(() => JSON.stringify(Object.entries(sessionStorage)));
    const b = await openApp(context, fx.appUrl);
    await b.evaluate((copy) => {
      for (const [k, v] of JSON.parse(copy)) sessionStorage.setItem(k, v);
    }, copy);
    await construct(b, { serverUrl, redirectUri: redirectUri() });
    await tokenDue();
    assert.equal((await fetchInPage(a, serverUrl)).status, 200);
    assert.equal((await fetchInPage(b, serverUrl)).status, 200);
    const stats = fx.stats(sc);
    const refreshes = stats.token.filter((t) => t.grant_type === 'refresh_token');
    assert.equal(refreshes.length, 1, `one refresh: the duplicate adopted the new set: ${JSON.stringify(refreshes)}`);
    assert.equal(stats.invalidGrant, 0);
    assert.equal(stats.authorize.length, 1);
  });
});
