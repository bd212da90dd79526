// Two tabs of the demo sharing tokens through localStorage
// (`tokenStorage: 'local'`): the second tab is signed in without a sign-in of
// its own, and when both refresh at once the authorization server sees
// exactly one refresh request and no invalid_grant (the library's
// navigator.locks refresh lock, P-25).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  approveConsent, asEvents, launchBrowser, resetAsEvents, shownExpiry, startStack, statusTypes,
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
    const stack = await startStack({ accessTokenTtl: 33 });
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

  // Known library limitation (reported): the refresh margin EXPIRY_SKEW_MS
  // (30 s, src/core/flow.rs) exceeds a 4 s token lifetime, so a token is
  // "expired" as soon as it is issued: every request refreshes, and the tab
  // that waited for the refresh lock refreshes again instead of taking the
  // other tab's fresh token (flow.rs refresh(): `!tokens.is_expired(now, SKEW)`).
  it('with a token lifetime under 30 s, still one refresh for both tabs', {
    todo: 'library: 30 s refresh margin > token lifetime refreshes on every request (see report)',
  }, async () => {
    const stack = await startStack({ accessTokenTtl: 4 });
    stops.push(stack.stop);
    const { a, b } = await twoSignedInTabs(browser, stack);
    await resetAsEvents(stack);
    await echoInBoth(a, b, 'short-lived');
    const ev = await asEvents(stack);
    assert.deepEqual(ev.invalidGrants, []);
    assert.equal(ev.refreshRequests, 1, `refresh requests: ${ev.refreshRequests}`);
  });
});
