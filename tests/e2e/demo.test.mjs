// The demo app end to end in headless Chromium, against the same stack `make
// demo` serves (random ports, short-lived access tokens): sign-in through the
// real login/consent page, tools over the MCP SDK through auth.fetch, refresh
// without a new sign-in, step-up to mcp:write with a second consent, sign-out.
// The steps run in order in one tab, each starting where the last one ended.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ARTIFACTS, LIBRARY_SKEW_MS, TOKEN_TTL_S, approveConsent, asEvents, launchBrowser, libraryKeys, resetAsEvents,
  shownExpiry, startStack, statusTypes, waitConnected, waitLibraryExpiry,
} from './helpers.mjs';

describe('demo app: sign-in, tools, refresh, step-up, sign-out', () => {
  let stack;
  let browser;
  let page;
  const asPages = []; // every page the tab loaded from the authorization server
  const pageErrors = [];

  before(async () => {
    stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame() && new URL(f.url()).origin === stack.issuer) asPages.push(f.url());
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('signs in through the login and consent page', async () => {
    await page.goto(stack.appUrl);
    await page.locator('#state[data-state="idle"]').waitFor();
    assert.equal(await page.inputValue('#server-url'), stack.mcpUrl, 'prefilled with the local MCP server');

    await page.click('#connect');
    const consent = await approveConsent(page, stack);
    assert.deepEqual(consent.scopes, ['mcp:read'], 'the first sign-in asks for the challenge scope only');
    assert.equal(consent.button, 'Sign in and allow');
    assert.equal(consent.resource, stack.mcpUrl);
    await waitConnected(page, stack);

    assert.deepEqual((await statusTypes(page)).slice(0, 3), ['discovering', 'registering', 'redirecting']);
    assert.equal(await page.textContent('#scope'), 'mcp:read');
    assert.equal(await page.textContent('#refresh'), 'yes');
    const expiry = await shownExpiry(page);
    assert.ok(expiry > Date.now() && expiry <= Date.now() + TOKEN_TTL_S * 1000, `expiresAt ${expiry} within the token lifetime`);
    const ev = await asEvents(stack);
    assert.equal(ev.registrations, 1);
    assert.equal(ev.authorizations, 1);
    assert.deepEqual(ev.tokenRequests, { authorization_code: 1 });
  });

  it('lists the tools and calls echo through the MCP SDK', async () => {
    const tools = await page.locator('#tool-list li').evaluateAll((lis) => lis.map((li) => li.dataset.tool));
    assert.deepEqual(tools.sort(), ['echo', 'write_note']);
    await page.fill('#arg-echo-text', 'hello from Playwright');
    await page.click('#call-echo');
    await page.locator('#result-echo:not([hidden])').waitFor();
    assert.equal(await page.textContent('#result-echo'), 'hello from Playwright');
  });

  it('refreshes an expired access token without a new sign-in', async () => {
    const before = await shownExpiry(page);
    const seenAs = asPages.length;
    await waitLibraryExpiry(page);
    await resetAsEvents(stack);
    const statusesBefore = (await statusTypes(page)).length;

    await page.fill('#arg-echo-text', 'after expiry');
    await page.click('#call-echo');
    await page.locator('#result-echo', { hasText: 'after expiry' }).waitFor();

    const ev = await asEvents(stack);
    assert.deepEqual(ev.tokenRequests, { refresh_token: 1 }, 'one refresh_token grant, no code exchange');
    assert.equal(ev.authorizations, 0, 'no new authorization');
    assert.deepEqual(ev.invalidGrants, []);
    assert.equal(asPages.length, seenAs, 'the tab never went to the authorization server');
    assert.deepEqual((await statusTypes(page)).slice(statusesBefore), ['refreshing', 'authorized']);
    assert.ok((await shownExpiry(page)) > before, 'a new expiry is shown');
    assert.equal(await page.textContent('#state'), `Connected to mcp-web-auth demo server at ${stack.mcpUrl}`);
  });

  it('steps up to mcp:write with a second consent, then write_note succeeds', async () => {
    await resetAsEvents(stack);
    await page.fill('#arg-write_note-text', 'a note from the e2e test');
    await page.click('#call-write_note');
    const consent = await approveConsent(page, stack, { shot: 'consent-step-up' });
    assert.deepEqual(consent.scopes.sort(), ['mcp:read', 'mcp:write']);
    assert.equal(consent.button, 'Allow', 'signed in already: "Allow", not "Sign in and allow"');
    await waitConnected(page, stack);

    // The page makes the interrupted call again once it is back.
    await page.locator('#result-write_note:not([hidden])').waitFor();
    assert.equal(await page.textContent('#result-write_note'), 'saved note #1');
    assert.deepEqual((await page.textContent('#scope')).split(' ').sort(), ['mcp:read', 'mcp:write']);
    const ev = await asEvents(stack);
    assert.equal(ev.authorizations, 1, 'one more authorization: the step-up');
    assert.equal(ev.registrations, 0, 'the registered client is reused');
    assert.equal(ev.tokenRequests.authorization_code, 1);
    assert.deepEqual(ev.invalidGrants, []);

    // echo still works with the wider token.
    await page.fill('#arg-echo-text', 'still here');
    await page.click('#call-echo');
    await page.locator('#result-echo', { hasText: 'still here' }).waitFor();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: fileURLToPath(new URL('demo.png', ARTIFACTS)), fullPage: true });
  });

  it('signs out: tokens gone, and revoked at the authorization server', async () => {
    assert.ok((await libraryKeys(page, 'sessionStorage')).some((k) => k.startsWith('mcp-web-auth:tokens:')));
    await resetAsEvents(stack);
    await page.click('#sign-out');
    await page.locator('#state[data-state="idle"]', { hasText: 'Signed out.' }).waitFor();

    assert.deepEqual((await libraryKeys(page, 'sessionStorage')).filter((k) => k.includes(':tokens:')), []);
    assert.deepEqual((await libraryKeys(page, 'localStorage')).filter((k) => k.includes(':tokens:')), []);
    assert.equal(await page.textContent('#scope'), '—');
    assert.equal(await page.locator('#tool-list li').count(), 0);
    const { revocations } = await asEvents(stack);
    assert.ok(revocations.some((r) => r.tokenTypeHint === 'refresh_token' && r.status === 200),
      `the refresh token was revoked: ${JSON.stringify(revocations)}`);
    // The log says what the authorization server did with each token: the
    // refresh token revoked, the JWT access token not (oidc-provider cannot
    // revoke structured tokens: 400 unsupported_token_type).
    const logged = await page.locator('#status-events li').evaluateAll((lis) => lis.map((li) => li.textContent));
    assert.ok(logged.some((t) => /revoked refresh token: revoked by the authorization server \(200\)/.test(t)), logged.join('\n'));
    assert.ok(logged.some((t) => /not revoked access token: this authorization server cannot revoke it \(400 unsupported_token_type/.test(t)), logged.join('\n'));
    assert.ok(!logged.some((t) => /revoked access token: revoked/.test(t)));
    assert.equal(await page.locator('#sign-out').isDisabled(), true, 'nothing left to sign out of');

    // A reload stays signed out; Connect would need a new sign-in.
    await page.reload();
    await page.locator('#state[data-state="idle"]', { hasText: 'Not connected.' }).waitFor();
    await page.screenshot({ path: fileURLToPath(new URL('demo-signed-out.png', ARTIFACTS)), fullPage: true });
    assert.deepEqual(pageErrors, []);
  });
});
