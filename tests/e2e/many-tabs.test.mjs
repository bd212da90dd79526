// Many tabs, one refresh token family, against oidc-provider with refresh
// token rotation (a reused refresh token is answered invalid_grant and
// revokes the whole grant: reuse detection).
// - Five tabs sharing localStorage tokens call at once with an expired access
//   token: exactly one refresh request reaches the AS, no invalid_grant, all
//   five calls succeed (P-25: navigator.locks, storage re-read once held).
// - A duplicated tab (window.open copies sessionStorage, default storage):
//   both tabs hold the same refresh token; it is never sent twice (P-34).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_TTL_S, approveConsent, asEvents, launchBrowser, resetAsEvents, shownExpiry, startStack, waitConnected,
} from './helpers.mjs';

const TABS = 5;

/** Clicks "Call echo" in every page in one go and waits for every result. */
async function echoInAll(pages, text) {
  await Promise.all(pages.map((p) => p.fill('#arg-echo-text', text)));
  await Promise.all(pages.map((p) => p.click('#call-echo')));
  await Promise.all(pages.map((p) => p.locator('#result-echo', { hasText: text }).waitFor({ timeout: 15_000 })));
}

/**
 * The stored token set's refresh time (the library's own record, so a tab that
 * refreshed while the others were loading is taken into account).
 */
async function storedRefreshAt(page, area) {
  return page.evaluate((a) => {
    const key = Object.keys(window[a]).find((k) => k.startsWith('mcp-web-auth:tokens:'));
    return JSON.parse(window[a].getItem(key)).refresh_at_ms;
  }, area);
}

/** Waits until the stored tokens are due for a refresh. */
async function waitStoredRefresh(page, area) {
  const wait = (await storedRefreshAt(page, area)) - Date.now() + 250;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** The refresh tokens the AS was sent, from its log (each one a hash, never the token). */
function sentRefreshTokens(ev) {
  return ev.log.filter((e) => e.type === 'token' && e.grantType === 'refresh_token').map((e) => e.refreshTokenSeen);
}

describe('many tabs, one token family', () => {
  let browser;
  const stops = [];

  before(async () => { browser = await launchBrowser(); });
  after(async () => {
    await browser?.close();
    await Promise.all(stops.map((s) => s()));
  });

  it('five tabs with localStorage tokens refresh at once: one refresh request, no invalid_grant, five results (P-25)', async () => {
    const stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    stops.push(stack.stop);
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${stack.appUrl}?storage=local`);
    await first.locator('#state[data-state="idle"]').waitFor();
    await first.click('#connect');
    await approveConsent(first, stack);
    await waitConnected(first, stack);
    const authorizations = (await asEvents(stack)).authorizations;

    const pages = [first];
    for (let i = 1; i < TABS; i++) {
      const p = await context.newPage();
      await p.goto(stack.appUrl);
      await waitConnected(p, stack);
      pages.push(p);
    }
    assert.equal((await asEvents(stack)).authorizations, authorizations, 'the other tabs needed no sign-in');
    // Loading the tabs may have taken long enough for one of them to refresh
    // already: wait for the stored set, whichever it is, to be due.
    await waitStoredRefresh(first, 'localStorage');
    const before = await storedRefreshAt(first, 'localStorage');
    await resetAsEvents(stack);
    await echoInAll(pages, 'five at once');

    const ev = await asEvents(stack);
    assert.equal(ev.refreshRequests, 1, `exactly one refresh: ${JSON.stringify(ev.log)}`);
    assert.deepEqual(ev.invalidGrants, []);
    assert.equal(ev.authorizations, 0, 'nobody was sent to sign in again');
    assert.ok((await storedRefreshAt(first, 'localStorage')) > before, 'the stored set was refreshed');
    await context.close();
  });

  it('a duplicated tab never sends the refresh token the other tab already used (P-34)', async () => {
    const stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    stops.push(stack.stop);
    const context = await browser.newContext();
    const a = await context.newPage();
    await a.goto(stack.appUrl);
    await a.locator('#state[data-state="idle"]').waitFor();
    assert.equal(await a.inputValue('#token-storage'), 'session');
    await a.click('#connect');
    await approveConsent(a, stack);
    await waitConnected(a, stack);

    // "Duplicate tab": a same-origin window.open copies sessionStorage.
    const [b] = await Promise.all([context.waitForEvent('page'), a.evaluate(() => void window.open(location.href))]);
    await waitConnected(b, stack);
    assert.equal(await shownExpiry(b), await shownExpiry(a), 'the duplicate holds the same tokens');

    await waitStoredRefresh(a, 'sessionStorage');
    await resetAsEvents(stack);
    await echoInAll([a, b], 'duplicated');
    let ev = await asEvents(stack);
    assert.deepEqual(ev.invalidGrants, [], `no reused refresh token: ${JSON.stringify(ev.log)}`);
    assert.equal(ev.refreshRequests, 1, 'one tab refreshed, the other adopted its tokens');
    assert.equal(ev.authorizations, 0);

    // Later refreshes of each tab on its own still use a live token.
    await waitStoredRefresh(b, 'sessionStorage');
    await echoInAll([b], 'b alone');
    await waitStoredRefresh(a, 'sessionStorage');
    await echoInAll([a], 'a alone');
    ev = await asEvents(stack);
    assert.deepEqual(ev.invalidGrants, [], `no reused refresh token later either: ${JSON.stringify(ev.log)}`);
    const sent = sentRefreshTokens(ev);
    assert.equal(new Set(sent).size, sent.length, `no refresh token sent twice: ${sent}`);
    await context.close();
  });
});
