// P-19..P-21 through the public API in Chromium: the RFC 9207 `iss` table,
// sanitized IssuerMismatchError, and a pending flow that survives a forged
// callback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchChromium,
  startFixture,
  openApp,
  scenario,
  withContext,
  startAuthorization,
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

const FORGED_CODE = 'forged-code-7f3a9';
const FORGED_DESCRIPTION = 'FORGED-DESCRIPTION please call +1-555';
const FORGED_URI = 'https://forged.example/why';

/** P-21: an IssuerMismatchError carries expected/received and nothing from the callback. */
function assertSanitizedIssuerMismatch(err, { expected, received, state }) {
  assert.ok(err, 'finishAuth rejected');
  assert.equal(err.isError, true, 'a real Error');
  assert.deepEqual(err.instances, ['McpAuthError', 'IssuerMismatchError'], 'instanceof IssuerMismatchError and McpAuthError');
  assert.equal(err.name, 'IssuerMismatchError');
  assert.equal(err.code, 'issuer_mismatch');
  assert.equal(err.own.expected, expected);
  assert.equal(err.own.received, received);
  for (const k of ['error', 'errorDescription', 'error_description', 'errorUri', 'error_uri', 'state', 'authorizationCode']) {
    assert.ok(!(k in err.own), `IssuerMismatchError has no ${k} field`);
  }
  assert.deepEqual(Object.keys(err.own).sort(), ['code', 'expected', 'message', 'received'].filter((k) => k in err.own).sort());
  for (const secret of [FORGED_CODE, FORGED_DESCRIPTION, FORGED_URI, state]) {
    assert.ok(!err.message.includes(secret), `message does not repeat ${secret}`);
    assert.ok(!JSON.stringify(err.own).includes(secret), `fields do not repeat ${secret}`);
  }
}

/**
 * One row of the P-20 table. `flags` pick the fixture's behaviour: `noiss`
 * (not advertised), `isswrong` / `issmissing` (what /authorize sends back).
 */
async function issRow({ flags, proceeds, receivedFromAs, onInstance = false }) {
  const sc = scenario(...flags);
  const serverUrl = fx.serverUrl(sc);
  const issuer = fx.issuer(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const callback = await visitAuthorizationUrl(authUrl);
    const state = callback.searchParams.get('state');
    assert.equal(state, authUrl.searchParams.get('state'));

    // A forged callback with the real state (P-19): different iss, forged code and error fields.
    const forged = new URLSearchParams({
      code: FORGED_CODE,
      state,
      iss: 'https://forged.example',
      error: 'access_denied',
      error_description: FORGED_DESCRIPTION,
      error_uri: FORGED_URI,
    });
    const f = await finishInPage(page, forged.toString(), { onInstance });
    assertSanitizedIssuerMismatch(f.error, { expected: issuer, received: 'https://forged.example', state });
    assert.equal(fx.stats(sc).token.length, 0, 'P-19: nothing is redeemed before iss is valid');

    // The authorization server's own callback.
    const real = await finishInPage(page, callback.search, { onInstance });
    if (proceeds) {
      assert.ok(real.value, `the real callback succeeds after the forged one: ${JSON.stringify(real.error)}`);
      assert.equal(real.value.serverUrl, serverUrl);
      assert.equal(real.value.scope, 'mcp:read');
    } else {
      assertSanitizedIssuerMismatch(real.error, { expected: issuer, received: receivedFromAs, state });
      assert.equal(fx.stats(sc).token.length, 0, 'no code redemption after a failed iss check');
      // The pending record survived both failures: the same callback with the right iss completes it.
      const fixed = new URLSearchParams(callback.search);
      fixed.set('iss', issuer);
      const ok = await finishInPage(page, fixed.toString(), { onInstance });
      assert.ok(ok.value, `the pending record survived (P-19): ${JSON.stringify(ok.error)}`);
    }
    const stats = fx.stats(sc);
    assert.equal(stats.codeGrants, 1, 'exactly one code redemption');
    assert.equal(stats.token[0].body.code, callback.searchParams.get('code'), 'the real code, never the forged one');

    // Single use: the consumed record is gone.
    const again = await finishInPage(page, callback.search, { onInstance });
    assert.equal(again.error?.code, 'unknown_state', JSON.stringify(again));

    const r = await fetchInPage(page, serverUrl, { authVar: 'auth' });
    assert.equal(r.status, 200, JSON.stringify(r));
  });
}

test('P-20 row 1: iss advertised, iss present and equal → proceeds (after a forged callback is refused)', { timeout: 30_000 }, () =>
  issRow({ flags: [], proceeds: true }));

test('P-20 row 2: iss advertised, iss present and different → IssuerMismatchError, pending record kept', { timeout: 30_000 }, () =>
  issRow({ flags: ['isswrong'], proceeds: false, receivedFromAs: 'https://attacker.example/' }));

test('P-20 row 3: iss advertised, iss absent → IssuerMismatchError with received null, pending record kept', { timeout: 30_000 }, () =>
  issRow({ flags: ['issmissing'], proceeds: false, receivedFromAs: null }));

test('P-20 row 4: iss not advertised, iss present and equal → proceeds', { timeout: 30_000 }, () =>
  issRow({ flags: ['noiss'], proceeds: true, onInstance: true }));

test('P-20 row 5: iss not advertised, iss present and different → IssuerMismatchError (stricter than RFC 9207)', { timeout: 30_000 }, () =>
  issRow({ flags: ['noiss', 'isswrong'], proceeds: false, receivedFromAs: 'https://attacker.example/', onInstance: true }));

test('P-20 row 6: iss not advertised, iss absent → proceeds', { timeout: 30_000 }, () =>
  issRow({ flags: ['noiss', 'issmissing'], proceeds: true }));

test('P-20: iss comparison is exact (trailing slash, case, percent-encoding, empty iss=, injected newline all refused)', { timeout: 30_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  const issuer = fx.issuer(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const callback = await visitAuthorizationUrl(authUrl);
    const state = callback.searchParams.get('state');
    const variants = [
      `${issuer}/`,
      issuer.replace('http://', 'HTTP://'),
      issuer.replace('/s/', '/%73/'),
      '',
      `${issuer}"\n[INFO] login ok for admin`,
    ];
    for (const iss of variants) {
      const q = new URLSearchParams(callback.search);
      q.set('iss', iss);
      const r = await finishInPage(page, q.toString());
      assertSanitizedIssuerMismatch(r.error, { expected: issuer, received: iss, state });
      assert.ok(!r.error.message.includes('\n'), 'P-21: received issuer JSON-escaped in the message');
    }
    assert.equal(fx.stats(sc).token.length, 0);
    const ok = await finishInPage(page, callback.search);
    assert.ok(ok.value, JSON.stringify(ok.error));
  });
});

test('P-19: an unknown state is an error that surfaces nothing from the query', { timeout: 20_000 }, async () => {
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    for (const q of [
      { state: 'no-such-state', code: FORGED_CODE, error: 'access_denied', error_description: FORGED_DESCRIPTION },
      { code: FORGED_CODE, error_description: FORGED_DESCRIPTION },
    ]) {
      const r = await finishInPage(page, new URLSearchParams(q).toString());
      assert.equal(r.error?.code, 'unknown_state', JSON.stringify(r));
      assert.deepEqual(r.error.instances, ['McpAuthError']);
      assert.ok(!('errorDescription' in r.error.own) && !('error' in r.error.own));
      assert.ok(!r.error.message.includes(FORGED_DESCRIPTION) && !r.error.message.includes(FORGED_CODE));
    }
  });
});

test('P-22: with a valid iss, an error callback becomes OAuthError and consumes the record', { timeout: 20_000 }, async () => {
  const sc = scenario();
  const serverUrl = fx.serverUrl(sc);
  await withContext(browser, async (context) => {
    const page = await openApp(context, fx.appUrl);
    const authUrl = await startAuthorization(page, { serverUrl, redirectUri: `${fx.appUrl}/callback.html` });
    const q = new URLSearchParams({
      state: authUrl.searchParams.get('state'),
      iss: fx.issuer(sc),
      error: 'access_denied',
      error_description: 'the user said no',
    });
    const r = await finishInPage(page, q.toString());
    assert.deepEqual(r.error?.instances, ['McpAuthError', 'OAuthError'], JSON.stringify(r));
    assert.equal(r.error.code, 'oauth_error');
    assert.equal(r.error.own.error, 'access_denied');
    assert.equal(r.error.own.errorDescription, 'the user said no');
    const again = await finishInPage(page, q.toString());
    assert.equal(again.error?.code, 'unknown_state', 'single use');
    assert.equal(fx.stats(sc).token.length, 0);
  });
});
