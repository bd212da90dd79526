// Shared by the e2e tests: the demo stack (exactly what `make demo` serves,
// with random ports and the tests' token lifetime) and headless Debian Chromium.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from '../../tools/node_modules/playwright-core/index.mjs';
import { buildApp, startDemo } from '../../www/demo.mjs';

export const ARTIFACTS = new URL('../artifacts/', import.meta.url);

// TOOLCHAIN.md: this machine's closed network refuses Chromium's background connections.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchBrowser({ popupBlocker = false } = {}) {
  // Playwright passes --disable-popup-blocking by default; `popupBlocker`
  // keeps Chromium's blocker on (a window.open outside a user gesture fails).
  const ignoreDefaultArgs = popupBlocker ? ['--disable-popup-blocking'] : undefined;
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, ignoreDefaultArgs });
}

/** Builds www/app when stale, then starts the stack on random ports. */
export async function startStack({ accessTokenTtl, dpopNonces, coop } = {}) {
  buildApp({ log: () => {} });
  return startDemo({ accessTokenTtl, dpopNonces, coop });
}

export async function asEvents(stack) {
  return (await fetch(`${stack.issuer}/__test/events`)).json();
}

export async function resetAsEvents(stack) {
  await fetch(`${stack.issuer}/__test/events`, { method: 'DELETE' });
}

const onAs = (stack) => (url) => url.origin === stack.issuer && url.pathname.startsWith('/interaction/');

/** Waits for the AS's consent page, reads the scopes it asks for, clicks "Sign in and allow" / "Allow". */
export async function approveConsent(page, stack, { shot } = {}) {
  await page.waitForURL(onAs(stack));
  await page.locator('#approve').waitFor();
  const scopes = await page.locator('#scopes li[data-scope]').evaluateAll((lis) => lis.map((li) => li.dataset.scope));
  const resource = await page.locator('#resource').textContent();
  const button = await page.textContent('#approve');
  if (shot) await screenshot(page, shot);
  await page.click('#approve');
  return { scopes, resource, button };
}

/** Resolves once the demo page says it is connected (after any redirects). */
export async function waitConnected(page, stack) {
  await page.waitForURL((u) => u.href.startsWith(stack.appUrl) && !u.pathname.endsWith('/callback.html'));
  await page.locator('#state[data-state="connected"]').waitFor();
}

/** The `expiresAt` the page shows (from auth.tokens()), in ms since the epoch. */
export async function shownExpiry(page) {
  return Number(await page.locator('#expires').getAttribute('data-expires-at'));
}

/** Every `onStatus` type the page listed, in order. */
export async function statusTypes(page) {
  return page.locator('#status-events li[data-kind="status"]').evaluateAll((lis) => lis.map((li) => li.dataset.type));
}

/** Keys of the library's entries in the page's storage. */
export async function libraryKeys(page, area) {
  return page.evaluate((a) => Object.keys(window[a]).filter((k) => k.startsWith('mcp-web-auth:')), area);
}

/** The access-token lifetime the e2e stacks use (seconds). */
export const TOKEN_TTL_S = 6;

/**
 * The library refreshes an access token ahead of expiry by 30 s, but at most
 * by half its lifetime (REFRESH_MARGIN_MS, src/core/token.rs): a 6 s token is
 * refreshed once it is 3 s old.
 */
export const LIBRARY_SKEW_MS = Math.min(30_000, (TOKEN_TTL_S * 1000) / 2);

/** Waits until the token the page shows counts as expired for the library. */
export async function waitLibraryExpiry(page) {
  const expiresAt = await shownExpiry(page);
  const wait = expiresAt - LIBRARY_SKEW_MS - Date.now() + 250;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** A full-page screenshot under tests/artifacts/ (git-ignored). */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: fileURLToPath(new URL(`${name}.png`, ARTIFACTS)), fullPage: true });
}

/** The error box's parts: class, code, sentence (null when hidden). */
export async function shownError(page, box = '#error') {
  const loc = page.locator(`${box}:not([hidden])`);
  if (!(await loc.count())) return null;
  return {
    name: await loc.locator('.err-name').textContent(),
    code: await loc.locator('.err-code').textContent(),
    sentence: await loc.locator('.err-sentence').textContent(),
    text: await loc.textContent(),
  };
}
