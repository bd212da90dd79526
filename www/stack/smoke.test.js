// Plays a public OAuth client by hand (plain fetch, manual redirects) against
// the real stack, to prove the stack behaves as PROTOCOL.md expects.
// Run: node --test www/stack/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startStack } from './start.js';
import { startAuthorizationServer } from './as.js';

const REDIRECT_URI = 'http://127.0.0.1:1/callback'; // never reached: we stop at the Location
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

// Authorization-code flow through the AS, carrying cookies like a browser.
// `onPage(html)` answers an interaction page with 'approve' or 'deny'.
async function authorize(meta, clientId, { scope, resource, onPage }) {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  let url = new URL(meta.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, scope, state, resource,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  const jar = authorize.jar; // one "browser" for all flows of a test, so the AS session persists
  const pages = [];
  let init = {};
  for (let hop = 0; hop < 10; hop += 1) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [, name, value] = /^([^=]+)=([^;]*)/.exec(c);
      if (value) jar.set(name, value); else jar.delete(name);
    }
    init = {};
    if (process.env.DEBUG_FLOW) console.log(res.status, url.href, res.headers.get('location'), res.headers.getSetCookie());
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location'), url);
      if (url.href.startsWith(REDIRECT_URI)) return { params: url.searchParams, state, verifier, pages };
    } else if (res.status === 200 && onPage) {
      const html = await res.text();
      pages.push(html);
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `action=${onPage(html)}&username=demo` };
    } else {
      assert.fail(`unexpected ${res.status} at ${url}: ${await res.text()}`);
    }
  }
  throw new Error(`too many redirects, last ${url}`);
}

const tokenRequest = async (meta, form) => {
  const res = await fetch(meta.token_endpoint, {
    method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
};

// One JSON-RPC call; the SDK answers with SSE (or JSON), we read the first message.
let rpcId = 0;
async function mcpCall(url, token, method, params = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
  });
  const text = await res.text();
  const data = text.split('\n').find((l) => l.startsWith('data: '));
  let body;
  try { body = JSON.parse(data ? data.slice(6) : text); } catch { body = text; }
  return { status: res.status, www: res.headers.get('www-authenticate'), body };
}

const INIT = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'smoke', version: '0' } };

async function register(meta, scope, applicationType = 'native') {
  const res = await fetch(meta.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: 'Smoke test client', redirect_uris: [REDIRECT_URI], application_type: applicationType,
      token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope,
    }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

// A raw TCP connect (fetch might reuse a pooled keep-alive socket).
async function assertClosed(url) {
  const { hostname, port } = new URL(url);
  await assert.rejects(new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname, () => { s.destroy(); resolve(); }).on('error', reject);
  }), { code: 'ECONNREFUSED' });
}

test('public client end to end: discovery, DCR, PKCE + iss, tokens, MCP, step-up 403, refresh rotation', async () => {
  const stack = await startStack({ autoApprove: true });
  authorize.jar = new Map();
  try {
    const { issuer, mcpUrl } = stack;

    // 401 without a token: no error code (RFC 6750 §3.1), scope and PRM hints.
    const unauth = await mcpCall(mcpUrl, null, 'initialize', INIT);
    assert.equal(unauth.status, 401);
    const prmUrl = `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`;
    assert.match(unauth.www, /^Bearer /);
    assert.ok(unauth.www.includes(`resource_metadata="${prmUrl}"`), unauth.www);
    assert.ok(unauth.www.includes('scope="mcp:read"'), unauth.www);
    assert.ok(!unauth.www.includes('error='), unauth.www);

    const prm = await (await fetch(prmUrl)).json();
    assert.equal(prm.resource, mcpUrl);
    assert.deepEqual(prm.authorization_servers, [issuer]);
    assert.deepEqual(prm.scopes_supported, ['mcp:read', 'mcp:write']);

    const meta = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(await (await fetch(`${issuer}/.well-known/openid-configuration`)).json(), meta);
    assert.equal(meta.issuer, issuer);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.ok(meta.revocation_endpoint && meta.registration_endpoint);

    const client = await register(meta, 'mcp:read mcp:write');
    assert.equal(client.token_endpoint_auth_method, 'none');
    assert.equal(client.scope, 'mcp:read mcp:write');

    const flow = await authorize(meta, client.client_id, { scope: 'mcp:read', resource: prm.resource });
    assert.ok(flow.params.get('code'));
    assert.equal(flow.params.get('state'), flow.state);
    assert.equal(flow.params.get('iss'), issuer); // RFC 9207

    const common = { client_id: client.client_id, resource: prm.resource };
    const t1 = await tokenRequest(meta, {
      ...common, grant_type: 'authorization_code', code: flow.params.get('code'), code_verifier: flow.verifier, redirect_uri: REDIRECT_URI,
    });
    assert.equal(t1.status, 200, JSON.stringify(t1.body));
    assert.equal(t1.body.token_type, 'Bearer');
    assert.equal(t1.body.scope, 'mcp:read');
    assert.equal(t1.body.expires_in, 60);
    assert.ok(t1.body.refresh_token, 'refresh token without offline_access');
    const claims = jwtPayload(t1.body.access_token);
    assert.equal(claims.aud, mcpUrl);
    assert.equal(claims.iss, issuer);

    const init = await mcpCall(mcpUrl, t1.body.access_token, 'initialize', INIT);
    assert.equal(init.status, 200);
    assert.equal(init.body.result.serverInfo.name, 'mcp-web-auth demo server');
    const echo = await mcpCall(mcpUrl, t1.body.access_token, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    assert.equal(echo.status, 200);
    assert.equal(echo.body.result.content[0].text, 'hi');

    const bad = await mcpCall(mcpUrl, `${t1.body.access_token.slice(0, -4)}AAAA`, 'tools/list');
    assert.equal(bad.status, 401);
    assert.match(bad.www, /error="invalid_token"/);

    // Step-up challenge (SEP-2350).
    const write = await mcpCall(mcpUrl, t1.body.access_token, 'tools/call', { name: 'write_note', arguments: { text: 'x' } });
    assert.equal(write.status, 403);
    assert.match(write.www, /^Bearer error="insufficient_scope"/);
    assert.ok(write.www.includes('scope="mcp:read mcp:write"'), write.www);
    assert.ok(write.www.includes(`resource_metadata="${prmUrl}"`), write.www);

    // Refresh with rotation.
    const t2 = await tokenRequest(meta, { ...common, grant_type: 'refresh_token', refresh_token: t1.body.refresh_token });
    assert.equal(t2.status, 200, JSON.stringify(t2.body));
    assert.ok(t2.body.refresh_token && t2.body.refresh_token !== t1.body.refresh_token, 'rotated');
    assert.notEqual(t2.body.access_token, t1.body.access_token);
    assert.equal(jwtPayload(t2.body.access_token).aud, mcpUrl);
    assert.equal((await mcpCall(mcpUrl, t2.body.access_token, 'tools/list')).status, 200);

    let events = await (await fetch(`${issuer}/__test/events`)).json();
    assert.deepEqual(events.tokenRequests, { authorization_code: 1, refresh_token: 1 });
    assert.equal(events.refreshRequests, 1);
    assert.equal(events.registrations, 1);
    assert.deepEqual(events.invalidGrants, []);

    const replay = await tokenRequest(meta, { ...common, grant_type: 'refresh_token', refresh_token: t1.body.refresh_token });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    events = await (await fetch(`${issuer}/__test/events`)).json();
    assert.equal(events.refreshRequests, 2);
    assert.equal(events.invalidGrants.length, 1);
    assert.equal(stack.as.events.refreshRequests, 2); // the same counters, in process
  } finally {
    await stack.stop();
  }
  await assertClosed(stack.issuer);
  await assertClosed(stack.mcpUrl);
});

test('consent page: shown for the first grant and again for a step-up; deny returns access_denied with iss', async () => {
  const stack = await startStack({ autoApprove: false });
  authorize.jar = new Map();
  try {
    const { issuer, mcpUrl } = stack;
    const meta = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
    const client = await register(meta, 'mcp:read mcp:write', 'web');

    const first = await authorize(meta, client.client_id, { scope: 'mcp:read', resource: mcpUrl, onPage: () => 'approve' });
    assert.equal(first.pages.length, 1);
    assert.match(first.pages[0], /id="approve"/);
    assert.match(first.pages[0], /Smoke test client/);
    assert.match(first.pages[0], /data-scope="mcp:read"/);
    assert.match(first.pages[0], /Sign in and allow/, 'not signed in yet: the button says so');
    assert.match(first.pages[0], /value="demo"/);

    // Same scope again: the session and grant cover it, no page (web client).
    const again = await authorize(meta, client.client_id, { scope: 'mcp:read', resource: mcpUrl, onPage: () => 'approve' });
    assert.equal(again.pages.length, 0);
    assert.ok(again.params.get('code'));

    // oidc-provider asks native clients (loopback redirect URIs) for consent on every request.
    const native = await register(meta, 'mcp:read mcp:write', 'native');
    for (let i = 0; i < 2; i += 1) {
      const n = await authorize(meta, native.client_id, { scope: 'mcp:read', resource: mcpUrl, onPage: () => 'approve' });
      assert.equal(n.pages.length, 1);
      assert.match(n.pages[0], /data-prompt="consent"/);
      assert.match(n.pages[0], /id="approve"[^>]*>Allow</, 'already signed in: "Allow", not "Sign in and allow"');
    }

    // Wider scope: consent again, then a token that can write.
    const wider = await authorize(meta, client.client_id, { scope: 'mcp:read mcp:write', resource: mcpUrl, onPage: () => 'approve' });
    assert.equal(wider.pages.length, 1);
    assert.match(wider.pages[0], /data-scope="mcp:write"/);
    assert.match(wider.pages[0], /Change data on the MCP server/);
    const t = await tokenRequest(meta, {
      grant_type: 'authorization_code', code: wider.params.get('code'), code_verifier: wider.verifier,
      redirect_uri: REDIRECT_URI, client_id: client.client_id, resource: mcpUrl,
    });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body.scope, 'mcp:read mcp:write');
    const write = await mcpCall(mcpUrl, t.body.access_token, 'tools/call', { name: 'write_note', arguments: { text: 'x' } });
    assert.equal(write.status, 200);

    authorize.jar = new Map(); // a fresh browser: login page, then deny
    const denied = await authorize(meta, client.client_id, { scope: 'mcp:read', resource: mcpUrl, onPage: () => 'deny' });
    assert.equal(denied.params.get('error'), 'access_denied');
    assert.equal(denied.params.get('iss'), issuer);
  } finally {
    await stack.stop();
  }
});

test('registration endpoint answers CORS preflights for allowed origins only', async () => {
  const origin = 'http://127.0.0.1:4444';
  const as = await startAuthorizationServer({ clientOrigins: [origin] });
  try {
    const preflight = (o) => fetch(`${as.issuer}/reg`, {
      method: 'OPTIONS',
      headers: { origin: o, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-protocol-version' },
    });
    const ok = await preflight(origin);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), origin);
    assert.match(ok.headers.get('access-control-allow-headers'), /Content-Type/);
    assert.match(ok.headers.get('access-control-allow-headers'), /MCP-Protocol-Version/);
    assert.match(ok.headers.get('access-control-allow-methods'), /POST/);
    const other = await preflight('http://127.0.0.1:5555');
    assert.equal(other.headers.get('access-control-allow-origin'), null);

    // The token endpoint too (oidc-provider's own route, our headers).
    const tok = await fetch(`${as.issuer}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    assert.equal(tok.headers.get('access-control-allow-origin'), origin);
  } finally {
    await as.stop();
  }
  await assertClosed(as.issuer);
});

test('--coop: the AS pages a browser navigates to send Cross-Origin-Opener-Policy: same-origin, its fetch endpoints do not', async () => {
  const plain = await startAuthorizationServer({ clientOrigins: ['*'] });
  const coop = await startAuthorizationServer({ clientOrigins: ['*'], coop: true });
  try {
    const authorizeUrl = (as) => `${as.issuer}/auth?client_id=x&response_type=code`;
    const on = await fetch(authorizeUrl(coop), { redirect: 'manual' });
    assert.equal(on.headers.get('cross-origin-opener-policy'), 'same-origin');
    const metadata = await fetch(`${coop.issuer}/.well-known/openid-configuration`);
    assert.equal(metadata.status, 200);
    assert.equal(metadata.headers.get('cross-origin-opener-policy'), null);
    const off = await fetch(authorizeUrl(plain), { redirect: 'manual' });
    assert.equal(off.headers.get('cross-origin-opener-policy'), null);
  } finally {
    await plain.stop();
    await coop.stop();
  }
});
