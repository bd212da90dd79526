// The built package in headless Chromium: a whole authorization with real
// browser navigations, status events, the origin rule for tokens, sign-out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchChromium,
  startFixture,
  openApp,
  waitReady,
  waitFor,
  scenario,
  withContext,
  startAuthorization,
  visitAuthorizationUrl,
  finishInPage,
  fetchInPage,
  authorizeInPage,
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

async function fullFlow(tokenStorage) {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const navigations = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations.push(frame.url());
    });
    const startUrl = `${fx.appUrl}/app.html?view=start`;
    await page.goto(startUrl);
    await waitReady(page);

    // No onRedirect: the library's default is location.assign (a real navigation).
    await page.evaluate(
      ({ serverUrl, redirectUri, tokenStorage }) => {
        const auth = new window.lib.McpAuth({ serverUrl, redirectUri, tokenStorage, clientName: 'chromium flow test' });
        auth.fetch(serverUrl).catch(() => {});
      },
      { serverUrl, redirectUri: `${fx.appUrl}/callback.html`, tokenStorage },
    );

    // app.html → /authorize (302) → callback.html → location.replace(returnTo) → app.html
    await waitFor(
      () => {
        const cb = navigations.findIndex((u) => u.includes('/callback.html'));
        return cb >= 0 && navigations.slice(cb + 1).some((u) => u === startUrl);
      },
      20_000,
      `navigation back to the app (seen: ${JSON.stringify(navigations)}; errors: ${pageErrors})`,
    );
    await page.waitForLoadState('load');
    await waitReady(page);
    assert.deepEqual(pageErrors, [], 'no uncaught error on the callback page');

    const callbackUrl = new URL(navigations.find((u) => u.includes('/callback.html')));
    assert.ok(callbackUrl.searchParams.get('code'), 'the callback carried a code');
    assert.ok(callbackUrl.searchParams.get('state'), 'the callback carried state');
    assert.equal(callbackUrl.searchParams.get('iss'), fx.issuer(sc));
    assert.equal(page.url(), startUrl, 'returnTo is the page that started the flow');

    const stats = fx.stats(sc);
    assert.equal(stats.prm, 1, 'protected resource metadata fetched once');
    assert.equal(stats.asMetadata, 1, 'authorization server metadata fetched once');
    assert.equal(stats.register.length, 1, 'one dynamic registration');
    assert.deepEqual(stats.register[0].redirect_uris, [`${fx.appUrl}/callback.html`]);
    assert.equal(stats.register[0].token_endpoint_auth_method, 'none');
    assert.equal(stats.authorize.length, 1);
    const az = stats.authorize[0];
    assert.equal(az.code_challenge_method, 'S256');
    assert.equal(az.resource, serverUrl, 'P-15: resource is the PRM resource');
    assert.equal(az.scope, 'mcp:read', 'P-13: the challenge scope');
    assert.equal(stats.codeGrants, 1);
    assert.equal(stats.token[0].status, 200, `code exchange: ${JSON.stringify(stats.token[0])}`);
    assert.equal(stats.token[0].body.resource, serverUrl);
    assert.equal(stats.resource.length, 1, 'one unauthenticated resource request before the redirect');
    assert.equal(stats.resource[0].authorization, null);

    // Back on the app page, a new McpAuth finds the tokens the callback stored.
    const r = await page.evaluate(async ({ serverUrl, redirectUri, tokenStorage }) => {
      window.auth = new window.lib.McpAuth({ serverUrl, redirectUri, tokenStorage });
      const res = await window.auth.fetch(serverUrl);
      return { status: res.status, body: await res.json(), tokens: window.auth.tokens() };
    }, { serverUrl, redirectUri: `${fx.appUrl}/callback.html`, tokenStorage });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { ok: true, scope: 'mcp:read', op: 'mcp:read' });
    assert.equal(r.tokens.scope, 'mcp:read');
    assert.equal(r.tokens.hasRefreshToken, true);
    assert.ok(!('accessToken' in r.tokens) && !('access_token' in r.tokens), 'tokens() exposes no token');

    const after = fx.stats(sc);
    const last = after.resource.at(-1);
    assert.match(last.authorization, /^Bearer at_/, 'P-27: Authorization: Bearer header');
    assert.ok(after.resource.every((x) => !/access_token|at_/.test(x.url)), 'P-27: never in the query string');
    assert.equal(after.authorize.length, 1, 'no second authorization');
    assert.equal(after.codeGrants, 1);
  });
}

test('full flow with real navigations: 401 → discovery → DCR → location.assign → /authorize 302 → callback.html (README snippet) → back, and the bearer is accepted', { timeout: 40_000 }, () =>
  fullFlow(undefined));

test("full flow with real navigations and tokenStorage 'local': the callback page stores into localStorage", { timeout: 40_000 }, () =>
  fullFlow('local'));

test("full flow with real navigations and tokenStorage 'memory': the callback page hands the tokens over through sessionStorage", { timeout: 40_000 }, () =>
  fullFlow('memory'));

test('onStatus reports discovering, registering, redirecting, then error for a forged callback, then exchanging, authorized, refreshing', { timeout: 30_000 }, async () => {
  const sc = scenario('short');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const types = () => page.evaluate(() => window.events.map((e) => e.type));
    assert.deepEqual(await types(), ['discovering', 'registering', 'redirecting']);
    const serverUrls = await page.evaluate(() => [...new Set(window.events.map((e) => e.serverUrl))]);
    assert.deepEqual(serverUrls, [serverUrl], 'every event names the server');

    const callback = await visitAuthorizationUrl(authUrl);
    const forged = new URLSearchParams(callback.search);
    forged.set('iss', 'https://forged.example');
    forged.set('code', 'forged-code');
    const identity = await page.evaluate(async (q) => {
      window.events.length = 0;
      try {
        await window.auth.finishAuth(new URLSearchParams(q));
        return 'resolved';
      } catch (e) {
        const ev = window.events.find((x) => x.type === 'error');
        return { same: ev?.error === e, name: e.name };
      }
    }, forged.toString());
    assert.deepEqual(identity, { same: true, name: 'IssuerMismatchError' }, 'the error event carries the thrown error');
    assert.deepEqual(await types(), ['error']);

    await page.evaluate(() => { window.events.length = 0; });
    const done = await finishInPage(page, callback.search, { onInstance: true });
    assert.ok(done.value, JSON.stringify(done.error));
    assert.deepEqual(await types(), ['exchanging', 'authorized']);

    // `short`: the code grant's token expires in 1 s; once due, the next request refreshes.
    await page.evaluate(() => { window.events.length = 0; });
    await tokenDue();
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.deepEqual(await types(), ['refreshing', 'authorized']);
    assert.equal(fx.stats(sc).refresh, 1);
  });
});

test('P-27: the token goes to the server URL only (not the app origin, not a third origin, not another path of its origin), for string, URL and Request inputs', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    fx.reset();

    const results = await page.evaluate(async ({ serverUrl, other, app, server }) => {
      const out = [];
      for (const input of [
        serverUrl,
        new URL(serverUrl),
        new Request(serverUrl),
        `${other}/echo?string`,
        new URL(`${other}/echo?url`),
        new Request(`${other}/echo?request`, { method: 'POST', body: 'x' }),
        `${app}/echo?app-origin`,
        `${server}/echo?server-origin`,
      ]) {
        const res = await window.auth.fetch(input);
        out.push(res.status);
      }
      return out;
    }, { serverUrl, other: fx.otherUrl, app: fx.appUrl, server: fx.url });
    assert.deepEqual(results, [200, 200, 200, 200, 200, 200, 200, 200]);

    const resource = fx.stats(sc).resource;
    assert.equal(resource.length, 3);
    for (const r of resource) assert.match(r.authorization, /^Bearer at_/);

    const echo = fx.echo();
    const elsewhere = echo.filter((e) => e.origin !== fx.url);
    assert.deepEqual(elsewhere.map((e) => e.url), ['/echo?string', '/echo?url', '/echo?request', '/echo?app-origin']);
    for (const e of elsewhere) assert.equal(e.authorization, null, `token leaked to ${e.origin}${e.url}`);
    // P-27 (issue 9) reverses the old control here: another path of the
    // server's own origin gets no token either by default (sendTokenTo
    // 'origin' widens it: tests/chromium/hardening.test.mjs). The resource
    // requests above show the recorder does see tokens.
    const same = echo.find((e) => e.origin === fx.url);
    assert.equal(same.authorization, null, 'another path of the server origin');
  });
});

test('P-2/P-3: when CORS hides WWW-Authenticate, discovery falls back to the well-known PRM URL and P-13 asks for the PRM scopes_supported', { timeout: 30_000 }, async () => {
  const sc = scenario('noexpose');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const { authUrl } = await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    assert.equal(authUrl.searchParams.get('scope'), 'mcp:read mcp:write', 'no challenge scope readable: PRM scopes_supported');
    const stats = fx.stats(sc);
    assert.ok(
      stats.discoveryHeaders.some((h) => h.url === `/.well-known/oauth-protected-resource/s/${sc}/mcp`),
      'the path-aware well-known PRM URL was probed',
    );
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.status, 200, JSON.stringify(r));
  });
});

test('P-8/P-23: discovery sends MCP-Protocol-Version and Accept: application/json; token requests are form-encoded with Accept: application/json', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const stats = fx.stats(sc);
    assert.ok(stats.discoveryHeaders.length >= 2);
    for (const h of stats.discoveryHeaders) {
      assert.match(h.accept ?? '', /application\/json/, `Accept on ${h.url}`);
      assert.match(h.protocolVersion ?? '', /^\d{4}-\d{2}-\d{2}$/, `MCP-Protocol-Version on ${h.url}`);
    }
    const t = stats.token[0];
    assert.match(t.contentType, /^application\/x-www-form-urlencoded/);
    assert.match(t.accept ?? '', /application\/json/);
    assert.equal(t.body.grant_type, 'authorization_code');
    assert.equal(t.body.redirect_uri, `${fx.appUrl}/callback.html`);
    assert.match(t.body.code_verifier, /^[A-Za-z0-9_-]{43}$/, 'P-16: base64url of 32 bytes');
  });
});

test('authorize() resolves REDIRECT before tokens exist and AUTHORIZED after', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const first = await page.evaluate(async (o) => {
      window.auth = window.makeAuth(o);
      return { result: await window.auth.authorize({}), redirects: [...window.redirects] };
    }, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    assert.equal(first.result, 'REDIRECT');
    assert.equal(first.redirects.length, 1);
    const callback = await visitAuthorizationUrl(first.redirects[0]);
    assert.ok((await finishInPage(page, callback.search)).value);
    const second = await page.evaluate(() => window.auth.authorize({}));
    assert.equal(second, 'AUTHORIZED');
    assert.equal(fx.stats(sc).authorize.length, 1);
  });
});

test('P-16/P-18: two servers pending at once in one page; the bare-code form is refused while ambiguous, the instance form and URLSearchParams pick the right flow', { timeout: 30_000 }, async () => {
  const scA = scenario();
  const scB = scenario();
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const redirectUri = `${fx.appUrl}/callback.html`;
    const urls = await page.evaluate(async ({ a, b, redirectUri }) => {
      window.authA = window.makeAuth({ serverUrl: a, redirectUri });
      window.authB = window.makeAuth({ serverUrl: b, redirectUri });
      for (const [auth, u] of [[window.authA, a], [window.authB, b]]) {
        try {
          await auth.fetch(u);
        } catch {}
      }
      return [...window.redirects];
    }, { a: fx.serverUrl(scA), b: fx.serverUrl(scB), redirectUri });
    assert.equal(urls.length, 2);
    const cbA = await visitAuthorizationUrl(urls[0]);
    const cbB = await visitAuthorizationUrl(urls[1]);

    const ambiguous = await page.evaluate(async (code) => {
      try {
        await window.lib.finishAuth(code);
        return 'resolved';
      } catch (e) {
        return window.errInfo(e);
      }
    }, cbB.searchParams.get('code'));
    assert.equal(ambiguous.code, 'unknown_state', 'a bare code cannot choose between two pending flows');

    const viaInstance = await page.evaluate(async ({ code, iss }) => (await window.authB.finishAuth(code, iss)).serverUrl,
      { code: cbB.searchParams.get('code'), iss: cbB.searchParams.get('iss') });
    assert.equal(viaInstance, fx.serverUrl(scB));
    const viaParams = await finishInPage(page, cbA.search);
    assert.equal(viaParams.value?.serverUrl, fx.serverUrl(scA), JSON.stringify(viaParams));

    assert.equal((await fetchInPage(page, fx.serverUrl(scA), { authVar: 'authA' })).status, 200);
    assert.equal((await fetchInPage(page, fx.serverUrl(scB), { authVar: 'authB' })).status, 200);
    assert.equal(fx.stats(scA).codeGrants, 1);
    assert.equal(fx.stats(scB).codeGrants, 1);
  });
});

test('auth.fetch behaves like fetch for what is not an auth matter: an aborted signal rejects with AbortError, a 404 is returned as is', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const r = await page.evaluate(async ({ serverUrl, missing }) => {
      const out = {};
      try {
        await window.auth.fetch(serverUrl, { signal: AbortSignal.abort() });
        out.aborted = 'resolved';
      } catch (e) {
        out.aborted = { name: e.name, isMcp: e instanceof window.lib.McpAuthError };
      }
      const res = await window.auth.fetch(missing);
      out.missing = res.status;
      return out;
    }, { serverUrl, missing: `${fx.serverUrl(sc).replace(/\/mcp$/, '/nothing-here')}` });
    assert.deepEqual(r.aborted, { name: 'AbortError', isMcp: false });
    assert.equal(r.missing, 404);
    assert.equal(fx.stats(sc).authorize.length, 1, 'no authorization for a 404');
  });
});

test('signOut revokes both tokens at the revocation endpoint and forgets them', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    await authorizeInPage(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const before = await page.evaluate(() => window.auth.tokens());
    assert.equal(before.hasRefreshToken, true);
    const after = await page.evaluate(async () => {
      await window.auth.signOut();
      return window.auth.tokens();
    });
    assert.equal(after, null);
    const revoke = fx.stats(sc).revoke;
    assert.deepEqual(revoke.map((r) => r.body.token_type_hint).sort(), ['access_token', 'refresh_token']);
    for (const r of revoke) assert.match(r.body.client_id, /^dcr-/);
    // The next request starts a new authorization instead of using a revoked token.
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.error?.name, 'AuthorizationRedirectError', JSON.stringify(r));
  });
});
