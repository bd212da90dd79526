// The package in a dedicated module Worker in Chromium: a whole flow
// (discovery, registration, PKCE redirect handed to the page, finishAuth,
// bearer requests, refresh) with no window, location or Web Storage. What it
// proves is what README.npm.md's "Web Workers" section says: where
// sessionStorage is missing, the pending record (PKCE verifier, state) and the
// tokens live in the McpAuth instance's memory, so the same instance's
// finishAuth completes the flow and the module-level finishAuth cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, startFixture, visitAuthorizationUrl, waitFor } from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
let fx;
let browser;

before(async () => {
  fx = await startFixture({ staticDirs: { '/worker/': path.join(here, 'worker') } });
  browser = await launchChromium();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
  await fx?.stop();
}, { timeout: 30_000 });

test('a dedicated Worker runs a whole flow: redirect via the page, the same instance\'s finishAuth, bearer requests, a refresh; the module-level finishAuth finds nothing (no sessionStorage)', { timeout: 60_000 }, async () => {
  const sc = 'worker-short';
  const serverUrl = fx.serverUrl(sc);
  const redirectUri = `${fx.appUrl}/callback.html`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${fx.appUrl}/worker/page.html`);
    await page.waitForFunction(() => window.ready);
    const call = (msg) => page.evaluate((m) => window.call(m), msg);

    const started = await call({ step: 'start', serverUrl, redirectUri });
    assert.deepEqual(started.globals, { window: 'undefined', sessionStorage: 'undefined', localStorage: 'undefined', location: 'undefined' });
    assert.equal(started.error?.code, 'redirect_started', JSON.stringify(started));
    assert.equal(started.error.isRedirect, true, 'AuthorizationRedirectError, instanceof in the worker');
    assert.deepEqual(started.events, ['discovering', 'registering', 'redirecting']);
    const [authUrl] = await waitFor(() => page.evaluate(() => (window.redirects.length ? window.redirects : null)), 5_000, 'onRedirect');
    assert.equal(new URL(authUrl).searchParams.get('code_challenge_method'), 'S256');

    // The browser's hop through the authorization server (the fixture auto-approves).
    const callback = await visitAuthorizationUrl(authUrl);
    assert.equal(callback.origin + callback.pathname, redirectUri);

    const moduleLevel = await call({ step: 'finishModuleLevel', search: callback.search });
    assert.equal(moduleLevel.error?.code, 'unknown_state', 'the module-level finishAuth has its own, empty memory');
    assert.equal(moduleLevel.error.isBase, true);

    const finished = await call({ step: 'finish', search: callback.search });
    assert.equal(finished.error, undefined, JSON.stringify(finished.error));
    assert.equal(finished.result.serverUrl, serverUrl);
    assert.equal(finished.result.scope, 'mcp:read');
    assert.equal(finished.tokens.hasRefreshToken, true);

    const first = await call({ step: 'fetch', url: serverUrl });
    assert.equal(first.status, 200, JSON.stringify(first));
    assert.deepEqual(first.body, { ok: true, scope: 'mcp:read', op: 'mcp:read' });
    assert.match(fx.stats(sc).resource.at(-1).authorization, /^Bearer /);

    // 'short': the access token lives 1 s; the next request refreshes it first.
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await call({ step: 'fetch', url: serverUrl });
    assert.equal(second.status, 200, JSON.stringify(second));
    assert.equal(fx.stats(sc).refresh, 1, 'one refresh, from the worker');
    assert.equal(fx.stats(sc).codeGrants, 1);
    assert.ok(second.events.includes('refreshing'));
    assert.equal(await page.evaluate(() => window.workerError), undefined);
  } finally {
    await context.close();
  }
});
