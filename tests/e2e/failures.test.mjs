// The demo off the happy path, in headless Chromium against the stack `make
// demo` serves: every failure is shown as the error's class, code and a
// sentence (never a server's HTML), the state line never says "Connected"
// after a failure, buttons are enabled only when they can act, and the
// authorization server's and the callback page's dead ends explain themselves
// with a link back. Screenshots of each go to tests/artifacts/fail-*.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  TOKEN_TTL_S, approveConsent, launchBrowser, screenshot, shownError, shownExpiry, startStack, waitConnected,
} from './helpers.mjs';

/** A fresh browser context and a page of the demo, idle. */
async function freshDemo(browser, stack, pageErrors) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(stack.appUrl);
  await page.locator('#state[data-state="idle"]').waitFor();
  return { context, page };
}

/** Everything the page shows and logged, as text: no server HTML may be in it. */
async function assertNoServerHtml(page) {
  const text = await page.locator('body').innerText();
  assert.doesNotMatch(text, /<!DOCTYPE|<html|<pre>|Cannot POST|Cannot GET/i, text);
}

async function assertNotConnected(page) {
  await page.locator('#state[data-state="error"]').waitFor();
  const state = await page.textContent('#state');
  assert.match(state, /^Not connected: /);
  assert.doesNotMatch(state, /Connected to/);
}

describe('demo failures, explained', () => {
  let stack;
  let browser;
  const pageErrors = [];

  before(async () => {
    stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('not connected: "Sign out" is disabled, "Connect" enabled, no tools to call', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      assert.equal(await page.locator('#sign-out').isDisabled(), true);
      assert.equal(await page.locator('#connect').isEnabled(), true);
      assert.equal(await page.locator('#tool-list button').count(), 0);
      assert.equal(await shownError(page), null);
      await screenshot(page, 'fail-not-connected');
    } finally {
      await context.close();
    }
  });

  it('wrong path: "No MCP server at this address" with class and code, not the server\'s 404 page', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      const wrong = new URL('/wrong', stack.mcpUrl).href;
      await page.fill('#server-url', wrong);
      await page.click('#connect');
      await assertNotConnected(page);
      const err = await shownError(page);
      assert.equal(err.name, 'StreamableHTTPError');
      assert.equal(err.code, 'http_404');
      assert.match(err.sentence, /^No MCP server at this address \(HTTP 404 Not Found\)\. Check the URL/);
      await assertNoServerHtml(page);
      const failLog = await page.locator('#status-events li[data-kind="fail"]').allTextContents();
      assert.ok(failLog.some((t) => /connect failed StreamableHTTPError \(http_404\)/.test(t)), failLog.join('\n'));
      assert.equal(await page.locator('#sign-out').isDisabled(), true);
      assert.equal(await page.locator('#connect').isEnabled(), true, 'Connect stays available to retry');
      await screenshot(page, 'fail-wrong-path');
    } finally {
      await context.close();
    }
  });

  it('deny on the consent page: back in the app, the denial is shown and logged', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      await page.click('#connect');
      await page.waitForURL((u) => u.origin === stack.issuer && u.pathname.startsWith('/interaction/'));
      await page.locator('#deny').waitFor();
      assert.equal(await page.textContent('#approve'), 'Sign in and allow', 'not signed in yet');
      assert.match(await page.locator('#scopes').innerText(), /Use the MCP server's tools that only read/);
      assert.match(await page.locator('body').innerText(), /mcp-web-auth demo asks you to sign in/);
      await screenshot(page, 'fail-consent-page');
      await page.click('#deny');

      await page.waitForURL((u) => u.href.startsWith(stack.appUrl) && !u.pathname.endsWith('/callback.html'));
      await assertNotConnected(page);
      const err = await shownError(page);
      assert.equal(err.name, 'OAuthError');
      assert.equal(err.code, 'oauth_error');
      assert.match(err.sentence, /You chose "Deny" on the sign-in page/);
      assert.match(await page.textContent('#state'), /Deny/);
      const failLog = await page.locator('#status-events li[data-kind="fail"]').allTextContents();
      assert.ok(failLog.some((t) => /sign-in failed OAuthError \(oauth_error\)/.test(t)), failLog.join('\n'));
      assert.equal(await page.locator('#sign-out').isDisabled(), true);
      await screenshot(page, 'fail-deny');
    } finally {
      await context.close();
    }
  });

  it('Back after sign-in: the authorization server says its page has expired and links back to the app', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      await page.click('#connect');
      await approveConsent(page, stack);
      await waitConnected(page, stack);

      await page.goBack();
      await page.locator('#expired').waitFor();
      assert.equal(new URL(page.url()).origin, stack.issuer);
      assert.match(await page.locator('body').innerText(), /You have probably finished signing in already/);
      assert.doesNotMatch(await page.locator('body').innerText(), /invalid_request/);
      await screenshot(page, 'fail-back-after-sign-in');

      await page.click('#back-to-app');
      await waitConnected(page, stack);
      assert.match(await page.textContent('#state'), /^Connected to mcp-web-auth demo server at /);
    } finally {
      await context.close();
    }
  });

  it('stale callback address: explained in plain words with a link back; no state at all too', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      const stale = new URL('callback.html', stack.appUrl);
      stale.search = new URLSearchParams({ code: 'old-code', state: 'no-such-sign-in', iss: stack.issuer }).toString();
      await page.goto(stale.href);
      await page.locator('body[data-result="stale"]').waitFor();
      assert.equal(await page.textContent('h2'), 'This sign-in link is out of date');
      assert.match(await page.textContent('#callback-plain'), /is not waiting any more: it was already finished/);
      const err = await shownError(page, '#callback-error');
      assert.equal(err.name, 'McpAuthError');
      assert.equal(err.code, 'unknown_state');
      assert.equal(await page.getAttribute('#back', 'href'), './');
      await screenshot(page, 'fail-stale-callback');

      await page.goto(new URL('callback.html', stack.appUrl).href);
      await page.locator('body[data-result="stale"]').waitFor();
      assert.equal(await page.textContent('h2'), 'Nothing to finish here');
      assert.match(await page.textContent('#callback-plain'), /no sign-in result in it/);
      await screenshot(page, 'fail-callback-no-state');

      await page.click('#back');
      await page.locator('#state[data-state="idle"]').waitFor();
    } finally {
      await context.close();
    }
  });

  it('a forged iss: the issuer mismatch is shown in the app, not "Connected"', async () => {
    const { context, page } = await freshDemo(browser, stack, pageErrors);
    try {
      await page.route(`${stack.issuer}/auth?**`, (route) => {
        const state = new URL(route.request().url()).searchParams.get('state');
        const to = new URL('callback.html', stack.appUrl);
        to.search = new URLSearchParams({ code: 'forged', state, iss: 'http://127.0.0.1:9' }).toString();
        return route.fulfill({ status: 302, headers: { location: to.href } });
      });
      await page.click('#connect');
      await page.waitForURL((u) => u.href.startsWith(stack.appUrl) && !u.pathname.endsWith('/callback.html'));
      await assertNotConnected(page);
      const err = await shownError(page);
      assert.equal(err.name, 'IssuerMismatchError');
      assert.equal(err.code, 'issuer_mismatch');
      assert.match(err.sentence, /did not come from the expected authorization server/);
    } finally {
      await context.close();
    }
  });

  it('no page errors', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('demo with the authorization server down', () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack({ accessTokenTtl: TOKEN_TTL_S });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a refresh that cannot reach the authorization server: explained, and the state line stops saying "Connected"', async () => {
    const { context, page } = await freshDemo(browser, stack, []);
    try {
      await page.click('#connect');
      await approveConsent(page, stack);
      await waitConnected(page, stack);
      const { token_endpoint: tokenEndpoint } = await (await fetch(`${stack.issuer}/.well-known/oauth-authorization-server`)).json();
      await stack.as.stop();

      // Past the token's real expiry: a token merely due for refresh is still
      // used when the refresh fails at the network level (P-26).
      const wait = (await shownExpiry(page)) - Date.now() + 500;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await page.click('#call-echo');
      await assertNotConnected(page);
      const err = await shownError(page);
      // P-33: the refresh failed at the network level: network_error naming
      // the token endpoint, not a discovery failure.
      assert.equal(err.name, 'McpAuthError');
      assert.equal(err.code, 'network_error');
      assert.ok(err.text.includes(tokenEndpoint), `the message names ${tokenEndpoint}: ${err.text}`);
      assert.match(err.sentence, /not running, or it does not allow this page's origin \(CORS\)/);
      assert.equal(await page.locator('#call-echo').count(), 0, 'no tool buttons while not connected');
      assert.equal(await page.locator('#connect').isEnabled(), true);
      await assertNoServerHtml(page);
      await screenshot(page, 'fail-as-down-refresh');
    } finally {
      await context.close();
    }
  });

  it('connecting while the authorization server is down: explained, never "Connected"', async () => {
    const { context, page } = await freshDemo(browser, stack, []);
    try {
      await page.click('#connect');
      await assertNotConnected(page);
      const err = await shownError(page);
      assert.ok(['McpAuthError', 'DiscoveryError'].includes(err.name), err.name);
      assert.ok(['network_error', 'discovery_failed'].includes(err.code), err.code);
      assert.match(err.sentence, /not running, or it does not allow this page's origin \(CORS\)/);
      assert.equal(await page.locator('#sign-out').isDisabled(), true);
      await screenshot(page, 'fail-as-down-connect');
    } finally {
      await context.close();
    }
  });
});
