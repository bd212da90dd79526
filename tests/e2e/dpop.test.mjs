// DPoP (RFC 9449, P-35..P-39) end to end in headless Chromium: the demo app
// against oidc-provider with DPoP and nonces required at both servers, and the
// MCP server verifying proofs. Sign-in, a call, a refresh and a step-up with
// DPoP-bound tokens; a stolen access token replayed as Bearer from Node is
// refused; the key lives in IndexedDB, survives a reload, is the one the
// callback page used, and sign-out deletes it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_TTL_S, approveConsent, asEvents, launchBrowser, resetAsEvents, startStack, waitConnected, waitLibraryExpiry,
} from './helpers.mjs';

/** The issuers whose DPoP key pair is in the page's IndexedDB, and each public key's `x`. */
function storedKeys(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('mcp-web-auth');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('dpop-keys')) { db.close(); resolve({}); return; }
      const store = db.transaction('dpop-keys').objectStore('dpop-keys');
      // Answered in request order: the keys are read when `all` succeeds.
      const keys = store.getAllKeys();
      const all = store.getAll();
      all.onerror = () => reject(all.error);
      all.onsuccess = async () => {
        const out = {};
        for (const [i, pair] of all.result.entries()) {
          const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
          out[keys.result[i]] = { x: jwk.x, extractable: pair.privateKey.extractable };
        }
        db.close();
        resolve(out);
      };
    };
  }));
}

/** What an XSS could read: the stored access token. */
function stolenAccessToken(page) {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('mcp-web-auth:tokens:'));
    return JSON.parse(sessionStorage.getItem(key)).access_token;
  });
}

const INITIALIZE = {
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'thief', version: '1' } },
};

describe('DPoP with nonces required: sign-in, call, refresh, step-up, stolen token, key storage, sign-out', { timeout: 120_000 }, () => {
  let stack;
  let browser;
  let page;
  let keyX;

  before(async () => {
    stack = await startStack({ accessTokenTtl: TOKEN_TTL_S, dpopNonces: true });
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('P-35/P-38: signs in with DPoP-bound tokens and calls a tool with proofs (nonces at both servers)', { timeout: 30_000 }, async () => {
    const authorizeUrls = [];
    page.on('request', (r) => { if (r.url().startsWith(`${stack.issuer}/auth`)) authorizeUrls.push(r.url()); });
    await page.goto(stack.appUrl);
    await page.locator('#state[data-state="idle"]').waitFor();
    await page.click('#connect');
    await approveConsent(page, stack);
    await waitConnected(page, stack);
    assert.equal(await page.textContent('#dpop'), 'yes', 'auth.tokens().dpopBound');
    assert.ok(authorizeUrls.some((u) => new URL(u).searchParams.get('dpop_jkt')), `dpop_jkt sent: ${authorizeUrls}`);

    await page.fill('#arg-echo-text', 'bound call');
    await page.click('#call-echo');
    await page.locator('#result-echo', { hasText: 'bound call' }).waitFor();
  });

  it('P-36: the key is in IndexedDB, not extractable, and the one the callback page bound the tokens to', { timeout: 30_000 }, async () => {
    const keys = await storedKeys(page);
    assert.deepEqual(Object.keys(keys), [stack.issuer]);
    assert.equal(keys[stack.issuer].extractable, false);
    keyX = keys[stack.issuer].x;
    // The code exchange ran on callback.html; the calls above succeeded with
    // proofs of this page's key against `cnf.jkt`: one key for both pages.
  });

  it('P-38/P-39: a refresh carries a proof with the nonce, and the key survives a reload', { timeout: 30_000 }, async () => {
    await page.reload();
    await waitConnected(page, stack);
    assert.equal((await storedKeys(page))[stack.issuer].x, keyX, 'the same key after a reload');
    await waitLibraryExpiry(page);
    await resetAsEvents(stack);
    await page.fill('#arg-echo-text', 'after refresh');
    await page.click('#call-echo');
    await page.locator('#result-echo', { hasText: 'after refresh' }).waitFor();
    const ev = await asEvents(stack);
    // The reload lost the in-memory nonce: the AS answers `use_dpop_nonce`
    // once, the retry with its nonce succeeds (P-39). No other attempt.
    const refreshes = ev.log.filter((e) => e.type === 'token' && e.grantType === 'refresh_token').map((e) => e.error ?? 'ok');
    assert.deepEqual(refreshes, ['use_dpop_nonce', 'ok'], JSON.stringify(ev.log));
    assert.equal(ev.authorizations, 0, 'no new authorization');
    assert.deepEqual(ev.invalidGrants, []);
    assert.equal(await page.textContent('#dpop'), 'yes');
  });

  it('P-38: steps up to mcp:write with DPoP, then write_note succeeds', { timeout: 30_000 }, async () => {
    await page.fill('#arg-write_note-text', 'a bound note');
    await page.click('#call-write_note');
    await approveConsent(page, stack);
    await waitConnected(page, stack);
    await page.locator('#result-write_note:not([hidden])').waitFor();
    assert.match(await page.textContent('#result-write_note'), /saved note #1/);
    assert.equal(await page.textContent('#dpop'), 'yes');
  });

  it('a stolen access token replayed from Node is refused, as Bearer and as DPoP without a proof', { timeout: 30_000 }, async () => {
    const token = await stolenAccessToken(page);
    assert.ok(token, 'the test, playing XSS, read the token');
    const send = (authorization) => fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify(INITIALIZE),
    });
    const asBearer = await send(`Bearer ${token}`);
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('www-authenticate'), /^DPoP /);
    const withoutProof = await send(`DPoP ${token}`);
    assert.equal(withoutProof.status, 401);
    assert.match(withoutProof.headers.get('www-authenticate'), /error="invalid_dpop_proof"/);
  });

  it('P-36: sign-out deletes the key', { timeout: 30_000 }, async () => {
    await page.click('#sign-out');
    await page.locator('#state[data-state="idle"]', { hasText: 'Signed out.' }).waitFor();
    assert.deepEqual(await storedKeys(page), {});
  });
});
