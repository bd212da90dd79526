// P-14 scope step-up in Chromium: re-authorization with the union scope,
// the 'throw' mode and a cap of 0, and the attempt cap surviving a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchChromium,
  startFixture,
  openApp,
  waitReady,
  scenario,
  withContext,
  authorizeInPage,
  visitAuthorizationUrl,
  finishInPage,
  fetchInPage,
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

const writeUrl = (sc) => `${fx.serverUrl(sc)}?op=write`;

/** In the page: auth.fetch(url) that must start a redirect; returns the authorization URL. */
async function expectStepUpRedirect(page, url) {
  const r = await page.evaluate(async (u) => {
    window.redirects.length = 0;
    try {
      const res = await window.auth.fetch(u);
      return { status: res.status };
    } catch (e) {
      return { error: window.errInfo(e), redirects: [...window.redirects] };
    }
  }, url);
  assert.equal(r.error?.name, 'AuthorizationRedirectError', JSON.stringify(r));
  assert.equal(r.redirects.length, 1);
  return new URL(r.redirects[0]);
}

test("P-14 'reauthorize': 403 insufficient_scope redirects with the union scope, and the stepped-up token writes", { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    assert.equal((await fetchInPage(page, serverUrl)).status, 200);

    const authUrl = await expectStepUpRedirect(page, writeUrl(sc));
    assert.deepEqual(authUrl.searchParams.get('scope').split(' '), ['mcp:read', 'mcp:write'], 'union, first-seen order');
    assert.equal(authUrl.searchParams.get('resource'), serverUrl);
    const callback = await visitAuthorizationUrl(authUrl);
    const done = await finishInPage(page, callback.search);
    assert.ok(done.value, JSON.stringify(done.error));
    assert.equal(done.value.scope, 'mcp:read mcp:write');

    const w = await fetchInPage(page, writeUrl(sc));
    assert.equal(w.status, 200, JSON.stringify(w));
    assert.equal(w.body.op, 'mcp:write');
    const stats = fx.stats(sc);
    assert.equal(stats.authorize.length, 2);
    assert.equal(stats.register.length, 1, 'P-11: the registered scope already covered mcp:write');
    assert.equal(stats.refresh, 0, 'P-14: a refresh cannot add scopes; not attempted');
  });
});

test('P-14: the step-up attempt count survives the reload, so a server that keeps answering 403 ends in InsufficientScopeError, not a loop', { timeout: 30_000 }, async () => {
  const sc = scenario('denywrite');
  const serverUrl = fx.serverUrl(sc);
  const opts = { serverUrl, redirectUri: `${fx.appUrl}/callback.html` };
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, opts);
    const authUrl = await expectStepUpRedirect(page, writeUrl(sc));
    const callback = await visitAuthorizationUrl(authUrl);
    assert.ok((await finishInPage(page, callback.search)).value);

    // As after a real redirect: a new document, a new McpAuth.
    await page.reload();
    await waitReady(page);
    await page.evaluate((o) => {
      window.auth = window.makeAuth(o);
    }, opts);
    const r = await fetchInPage(page, writeUrl(sc));
    assert.deepEqual(r.error?.instances, ['McpAuthError', 'InsufficientScopeError'], JSON.stringify(r));
    assert.equal(r.error.own.requiredScope, 'mcp:read mcp:write');
    assert.equal(await page.evaluate(() => window.redirects.length), 0, 'no third trip to the authorization server');
    assert.equal(fx.stats(sc).authorize.length, 2);
    // Reading still works with the token it has.
    assert.equal((await fetchInPage(page, serverUrl)).status, 200);
  });
});

for (const [label, extra] of [
  ["onInsufficientScope: 'throw'", { onInsufficientScope: 'throw' }],
  ['maxStepUpRetries: 0', { maxStepUpRetries: 0 }],
]) {
  test(`P-14 ${label}: 403 insufficient_scope throws InsufficientScopeError with requiredScope, resourceMetadataUrl, errorDescription and no redirect`, { timeout: 30_000 }, async () => {
    const sc = scenario();
    const serverUrl = fx.serverUrl(sc);
    await withContext(browser, async (context) => {
      const page = await openApp(context, fx.appUrl);
      await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html`, ...extra });
      await page.evaluate(() => { window.redirects.length = 0; });
      const r = await fetchInPage(page, writeUrl(sc));
      const e = r.error;
      assert.ok(e, `auth.fetch resolved: ${JSON.stringify(r)}`);
      assert.equal(e.isError, true);
      assert.deepEqual(e.instances, ['McpAuthError', 'InsufficientScopeError']);
      assert.equal(e.name, 'InsufficientScopeError');
      assert.equal(e.code, 'insufficient_scope');
      assert.equal(e.own.requiredScope, 'mcp:read mcp:write');
      assert.equal(e.own.resourceMetadataUrl, fx.prmUrl(sc));
      assert.equal(e.own.errorDescription, 'writing needs mcp:write');
      assert.equal(await page.evaluate(() => window.redirects.length), 0, 'onRedirect not called');
      const stats = fx.stats(sc);
      assert.equal(stats.authorize.length, 1, 'no re-authorization');
      assert.equal(stats.resource.at(-1).status, 403);
    });
  });
}
