// Client registration paths (P-9..P-11, P-23a) and storage failures, through
// the built package in Chromium.
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

const CIMD_URL = 'https://app.example/oauth/client-metadata.json';

test('P-9/P-10: with client_id_metadata_document_supported, clientMetadataUrl is the client_id and no DCR happens', { timeout: 30_000 }, async () => {
  const sc = scenario('cimd');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const { authUrl } = await authorizeInPage(page, {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientMetadataUrl: CIMD_URL,
    });
    assert.equal(authUrl.searchParams.get('client_id'), CIMD_URL);
    const stats = fx.stats(sc);
    assert.equal(stats.register.length, 0, 'no dynamic registration');
    assert.equal(stats.token[0].body.client_id, CIMD_URL, 'the token request names the CIMD URL');
    assert.equal(stats.token[0].authorization, null, 'a CIMD client is public');
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.status, 200, JSON.stringify(r));
  });
});

test('P-9: clientMetadataUrl is ignored when the AS does not advertise CIMD; DCR is used', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const { authUrl } = await authorizeInPage(page, {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientMetadataUrl: CIMD_URL,
    });
    assert.match(authUrl.searchParams.get('client_id'), /^dcr-/);
    assert.equal(fx.stats(sc).register.length, 1);
  });
});

test('P-9/P-23a: a pre-registered client with a secret uses client_secret_basic (form-urlencoded) for code, refresh and revocation', { timeout: 30_000 }, async () => {
  const sc = scenario('noreg', 'basic', 'short');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const { authUrl } = await authorizeInPage(page, {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientId: PRE_CLIENT_ID,
      clientSecret: PRE_CLIENT_SECRET,
    });
    assert.equal(authUrl.searchParams.get('client_id'), PRE_CLIENT_ID);
    const expectedBasic =
      'Basic ' + Buffer.from(`${encodeURIComponent(PRE_CLIENT_ID)}:${encodeURIComponent(PRE_CLIENT_SECRET)}`).toString('base64');

    // `short`: once due, the next request refreshes, with the same client authentication.
    await tokenDue();
    const r = await fetchInPage(page, serverUrl);
    assert.equal(r.status, 200, JSON.stringify(r));
    await page.evaluate(() => window.auth.signOut());

    const stats = fx.stats(sc);
    assert.equal(stats.register.length, 0, 'no registration for a pre-registered client');
    assert.deepEqual(stats.token.map((t) => [t.grant_type, t.status]), [['authorization_code', 200], ['refresh_token', 200]]);
    for (const t of stats.token) {
      assert.equal(t.authorization, expectedBasic, 'HTTP Basic with the form-urlencoded id and secret');
      assert.ok(!('client_secret' in t.body), 'no secret in the body with basic');
    }
    assert.equal(stats.revoke.length, 2);
    for (const rv of stats.revoke) assert.equal(rv.authorization, expectedBasic);
    // No secret anywhere a page could leak it.
    assert.ok(!authUrl.href.includes(encodeURIComponent(PRE_CLIENT_SECRET)) && !authUrl.href.includes(PRE_CLIENT_SECRET));
  });
});

test('P-9: a pre-registered clientId wins over clientMetadataUrl and DCR', { timeout: 30_000 }, async () => {
  const sc = scenario('cimd');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const { authUrl } = await authorizeInPage(page, {
      serverUrl,
      redirectUri: `${fx.appUrl}/callback.html`,
      clientId: PRE_CLIENT_ID,
      clientSecret: PRE_CLIENT_SECRET,
      clientMetadataUrl: CIMD_URL,
    });
    assert.equal(authUrl.searchParams.get('client_id'), PRE_CLIENT_ID);
    assert.equal(fx.stats(sc).register.length, 0);
  });
});

test('P-9: no clientId, no CIMD support and no registration endpoint → RegistrationRejectedError (no_registration_possible) before any redirect', { timeout: 20_000 }, async () => {
  const sc = scenario('noreg');
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const r = await page.evaluate(async (opts) => {
      const auth = window.makeAuth(opts);
      try {
        await auth.fetch(opts.serverUrl);
        return 'resolved';
      } catch (e) {
        return { error: window.errInfo(e), redirects: window.redirects.length };
      }
    }, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    assert.deepEqual(r.error.instances, ['McpAuthError', 'RegistrationRejectedError'], JSON.stringify(r));
    assert.equal(r.error.code, 'no_registration_possible');
    assert.equal(r.redirects, 0);
    assert.equal(fx.stats(sc).authorize.length, 0);
  });
});

test('a tokenStorage object that throws → McpAuthError with code storage_error (not a raw exception), and an error event', { timeout: 20_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const r = await page.evaluate(async (opts) => {
      const boom = () => {
        throw new DOMException('storage is disabled', 'SecurityError');
      };
      const auth = window.makeAuth({ ...opts, tokenStorage: { getItem: boom, setItem: boom, removeItem: boom } });
      const out = {};
      try {
        await auth.fetch(opts.serverUrl);
        out.fetch = 'resolved';
      } catch (e) {
        out.fetch = window.errInfo(e);
      }
      try {
        out.tokens = auth.tokens();
      } catch (e) {
        out.tokens = window.errInfo(e);
      }
      out.events = window.events.map((e) => [e.type, e.error?.code ?? null]);
      return out;
    }, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    for (const e of [r.fetch, r.tokens]) {
      assert.equal(e.isError, true, JSON.stringify(r));
      assert.deepEqual(e.instances, ['McpAuthError']);
      assert.equal(e.name, 'McpAuthError');
      assert.equal(e.code, 'storage_error');
      assert.match(e.message, /SecurityError/);
    }
    assert.deepEqual(r.events.filter(([t]) => t === 'error'), [['error', 'storage_error'], ['error', 'storage_error']]);
  });
});

test('a tokenStorage object without getItem/setItem/removeItem is refused by the constructor (invalid_config)', { timeout: 20_000 }, async () => {
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const r = await page.evaluate((opts) => {
      try {
        new window.lib.McpAuth({ ...opts, tokenStorage: { getItem() { return null; } } });
        return 'constructed';
      } catch (e) {
        return window.errInfo(e);
      }
    }, { serverUrl: fx.serverUrl('x'), redirectUri: `${fx.appUrl}/callback.html` });
    assert.deepEqual(r.instances, ['McpAuthError'], JSON.stringify(r));
    assert.equal(r.code, 'invalid_config');
  });
});

test('P-17: constructor refuses a plain-http non-loopback serverUrl or redirectUri with InsecureEndpointError', { timeout: 20_000 }, async () => {
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const r = await page.evaluate((good) => {
      const out = [];
      for (const opts of [
        { serverUrl: 'http://mcp.example/mcp', redirectUri: good.redirectUri },
        { serverUrl: good.serverUrl, redirectUri: 'http://app.example/callback' },
      ]) {
        try {
          new window.lib.McpAuth(opts);
          out.push('constructed');
        } catch (e) {
          out.push(window.errInfo(e));
        }
      }
      return out;
    }, { serverUrl: fx.serverUrl('x'), redirectUri: `${fx.appUrl}/callback.html` });
    for (const e of r) {
      assert.deepEqual(e.instances, ['McpAuthError', 'InsecureEndpointError'], JSON.stringify(e));
      assert.equal(e.code, 'insecure_endpoint');
    }
    assert.equal(r[0].own.url, 'http://mcp.example/mcp');
    assert.equal(r[1].own.url, 'http://app.example/callback');
  });
});
