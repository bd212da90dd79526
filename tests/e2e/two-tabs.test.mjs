// Two tabs of the demo sharing tokens through localStorage
// (`tokenStorage: 'local'`): the second tab is signed in without a sign-in of
// its own, and when both refresh at once the authorization server sees
// exactly one refresh request and no invalid_grant (the library's
// navigator.locks refresh lock, P-25).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_TTL_S, approveConsent, asEvents, launchBrowser, resetAsEvents, shownExpiry, startStack, statusTypes,
  waitConnected, waitLibraryExpiry,
} from './helpers.mjs';

// Signs in tab A with localStorage tokens and opens tab B in the same context.
async function twoSignedInTabs(browser, stack) {
  const context = await browser.newContext();
  const a = await context.newPage();
  await a.goto(`${stack.appUrl}?storage=local`);
  await a.locator('#state[data-state="idle"]').waitFor();
  assert.equal(await a.inputValue('#token-storage'), 'local');
  await a.click('#connect');
  await approveConsent(a, stack);
  await waitConnected(a, stack);

  const authorizations = (await asEvents(stack)).authorizations;
  const b = await context.newPage();
  await b.goto(stack.appUrl);
  await waitConnected(b, stack);
  assert.equal((await asEvents(stack)).authorizations, authorizations, 'tab B needed no sign-in');
  assert.equal(await b.inputValue('#token-storage'), 'local');
  return { context, a, b };
}

// Clicks "Call echo" in both tabs in the same task, so both requests start together.
async function echoInBoth(a, b, text) {
  await Promise.all([a, b].map((p) => p.fill('#arg-echo-text', text)));
  await Promise.all([a.click('#call-echo'), b.click('#call-echo')]);
  await Promise.all([a, b].map((p) => p.locator('#result-echo', { hasText: text }).waitFor()));
}

describe('two tabs sharing localStorage tokens', () => {
  let browser;
  const stops = [];

  before(async () => { browser = await launchBrowser(); });
  after(async () => {
    await browser?.close();
    await Promise.all(stops.map((s) => s()));
  });

  it('refresh at once in both tabs: one refresh request, no invalid_grant', async () => {
    const stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    stops.push(stack.stop);
    const { a, b } = await twoSignedInTabs(browser, stack);
    const before = await shownExpiry(a);
    assert.equal(await shownExpiry(b), before, 'both tabs show the same tokens');

    await waitLibraryExpiry(a);
    await resetAsEvents(stack);
    await echoInBoth(a, b, 'both at once');

    const ev = await asEvents(stack);
    assert.equal(ev.refreshRequests, 1, `exactly one refresh: ${JSON.stringify(ev.log)}`);
    assert.deepEqual(ev.invalidGrants, []);
    assert.deepEqual(ev.tokenRequests, { refresh_token: 1 });
    assert.equal(ev.authorizations, 0);
    const [ea, eb] = [await shownExpiry(a), await shownExpiry(b)];
    assert.ok(ea > before && ea === eb, 'both tabs use the one refreshed token');
    const refreshing = [...await statusTypes(a), ...await statusTypes(b)].filter((t) => t === 'refreshing');
    assert.equal(refreshing.length, 1, 'one tab refreshed, the other took its result');
  });

  // P-25: a token shorter-lived than the 30 s margin is not "expired" on
  // arrival, so the tab that waited for the lock takes the other's result.
  it('with a token lifetime under 30 s, still one refresh for both tabs (P-25)', async () => {
    const stack = await startStack({ accessTokenTtl: 4 });
    stops.push(stack.stop);
    const { a, b } = await twoSignedInTabs(browser, stack);
    await resetAsEvents(stack);
    // Fresh 4 s tokens are not due yet: no refresh on arrival.
    await echoInBoth(a, b, 'fresh');
    assert.equal((await asEvents(stack)).refreshRequests, 0, 'a fresh short-lived token is used as is');
    // Due at half their lifetime (2 s): both tabs at once, one refresh.
    const due = (await shownExpiry(a)) - 2_000 - Date.now() + 250;
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    await echoInBoth(a, b, 'short-lived');
    const ev = await asEvents(stack);
    assert.deepEqual(ev.invalidGrants, []);
    assert.equal(ev.refreshRequests, 1, `refresh requests: ${ev.refreshRequests}`);
  });
});
