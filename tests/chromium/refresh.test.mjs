// P-25/P-26 in Chromium: refresh with rotation, single-flight within a page
// and across tabs (navigator.locks), and what a dead refresh token does.
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

async function postToken(sc, form) {
  const res = await fetch(`${fx.issuer(sc)}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: res.status, body: await res.json() };
}

test('P-25: expired tokens are refreshed with rotation; each refresh presents the newest refresh token with resource and client_id', { timeout: 30_000 }, async () => {
  const sc = scenario('allshort');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    for (let i = 0; i < 3; i += 1) {
      await tokenDue();
      const r = await fetchInPage(page, serverUrl);
      assert.equal(r.status, 200, `request ${i}: ${JSON.stringify(r)}`);
    }
    const stats = fx.stats(sc);
    const refreshes = stats.token.filter((t) => t.grant_type === 'refresh_token');
    assert.equal(refreshes.length, 3, 'one refresh per request: every token is due again');
    assert.ok(refreshes.every((t) => t.status === 200), JSON.stringify(refreshes));
    const presented = refreshes.map((t) => t.body.refresh_token);
    assert.equal(new Set(presented).size, 3, 'a rotated refresh token is never presented twice');
    for (const t of refreshes) {
      assert.equal(t.body.resource, serverUrl, 'P-25: resource on every refresh');
      assert.match(t.body.client_id, /^dcr-/);
      assert.ok(!t.body.scope || t.body.scope === 'mcp:read', 'P-25: no wider scope');
      assert.match(t.contentType, /application\/x-www-form-urlencoded/);
    }
    assert.equal(stats.invalidGrant, 0);
    assert.equal(stats.authorize.length, 1, 'no new authorization');
    // The fixture really rejects a rotated token (so the single-flight tests below can fail).
    const replay = await postToken(sc, {
      grant_type: 'refresh_token',
      refresh_token: presented[0],
      client_id: refreshes[0].body.client_id,
      resource: serverUrl,
    });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
  });
});

test('P-25: a 401 for a token the client thinks valid triggers one refresh, and the POST is retried with its body and headers', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    fx.expireAccessTokens(sc);
    const payload = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const r = await page.evaluate(async ({ serverUrl, payload }) => {
      const res = await window.auth.fetch(new URL(serverUrl), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'MCP-Protocol-Version': '2025-11-25' },
        body: payload,
      });
      return { status: res.status, body: await res.json() };
    }, { serverUrl, payload });
    assert.equal(r.status, 200, JSON.stringify(r));
    const stats = fx.stats(sc);
    assert.equal(stats.refresh, 1);
    const posts = stats.resource.filter((x) => x.method === 'POST');
    assert.deepEqual(posts.map((x) => x.status), [401, 200], 'rejected token, then the refreshed one');
    for (const p of posts) {
      assert.equal(p.body, payload, 'the body is sent on every attempt');
      assert.equal(p.contentType, 'application/json');
      assert.equal(p.protocolVersion, '2025-11-25');
    }
    assert.notEqual(posts[0].authorization, posts[1].authorization);
    assert.equal(stats.authorize.length, 1);
  });
});

test('P-25: concurrent auth.fetch calls in one page cause exactly one refresh request', { timeout: 30_000 }, async () => {
  const sc = scenario('short', 'slowrefresh');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    await tokenDue();
    const statuses = await page.evaluate(async (u) => {
      const rs = await Promise.all([window.auth.fetch(u), window.auth.fetch(u), window.auth.fetch(new URL(u))]);
      return rs.map((r) => r.status);
    }, serverUrl);
    assert.deepEqual(statuses, [200, 200, 200]);
    const stats = fx.stats(sc);
    assert.equal(stats.refresh, 1, 'single-flight refresh');
    assert.equal(stats.invalidGrant, 0);
    const bearers = new Set(stats.resource.filter((x) => x.status === 200).map((x) => x.authorization));
    assert.equal(bearers.size, 1, 'all three used the one refreshed token');
  });
});

test('P-25: two tabs with tokenStorage local refreshing at once send exactly one refresh request (navigator.locks)', { timeout: 30_000 }, async () => {
  const sc = scenario('short', 'slowrefresh');
  const serverUrl = fx.serverUrl(sc);
  const opts = { serverUrl, redirectUri: `${fx.appUrl}/callback.html`, tokenStorage: 'local' };
  await withContext(browser, async (context) => {
    const tabA = await openApp(context, fx.appUrl);
    await authorizeInPage(tabA, opts);
    const tabB = await openApp(context, fx.appUrl);
    const hasLocks = await tabB.evaluate(() => typeof navigator.locks?.request === 'function');
    assert.equal(hasLocks, true, 'Chromium has the Web Locks API');
    await tabB.evaluate((o) => {
      window.auth = window.makeAuth(o);
    }, opts);
    const seen = await tabB.evaluate(() => window.auth.tokens());
    assert.equal(seen?.hasRefreshToken, true, 'tab B sees the tokens tab A stored in localStorage');

    const run = (page) =>
      page.evaluate(async (u) => {
        const start = performance.timeOrigin + performance.now();
        const r = await window.auth.fetch(u);
        return { status: r.status, start, end: performance.timeOrigin + performance.now() };
      }, serverUrl);
    await tokenDue();
    const [a, b] = await Promise.all([run(tabA), run(tabB)]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    assert.ok(Math.max(a.start, b.start) < Math.min(a.end, b.end), `the two requests overlapped in time: ${JSON.stringify([a, b])}`);
    const stats = fx.stats(sc);
    assert.equal(stats.refresh, 1, 'one refresh across both tabs');
    assert.equal(stats.invalidGrant, 0, 'no replay of the rotated refresh token');
  });
});

test('P-26: invalid_grant on refresh clears the tokens and the next request starts a new authorization', { timeout: 30_000 }, async () => {
  const sc = scenario('short');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    // Another party uses the refresh token first: the client's copy is now a replay.
    const code = fx.stats(sc).token[0];
    const stolen = await page.evaluate(() => {
      for (let i = 0; i < sessionStorage.length; i += 1) {
        const k = sessionStorage.key(i);
        if (k.includes(':tokens:')) return JSON.parse(sessionStorage.getItem(k));
      }
      return null;
    });
    const rt = stolen && Object.entries(stolen).find(([k]) => /refresh/.test(k))?.[1];
    assert.ok(rt, `found the stored refresh token (keys: ${stolen && Object.keys(stolen)})`);
    const used = await postToken(sc, { grant_type: 'refresh_token', refresh_token: rt, client_id: code.body.client_id, resource: serverUrl });
    assert.equal(used.status, 200);
    await tokenDue();

    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.error?.name, 'AuthorizationRedirectError', JSON.stringify(r));
    const tokens = await page.evaluate(() => window.auth.tokens());
    assert.equal(tokens, null, 'tokens cleared after invalid_grant');
    assert.equal(fx.stats(sc).invalidGrant, 1);
    assert.equal(fx.stats(sc).register.length, 1, 'the client registration is kept (only invalid_client clears it)');
  });
});
