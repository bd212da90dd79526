#!/usr/bin/env node
// The client command the MCP conformance suite drives (see NOTES.md and run.sh):
//   .tools/bin/conformance client --command "node client.mjs" --scenario auth/metadata-default
// The harness appends the MCP server URL as the last argument and sets
// MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION and, for
// auth/pre-registration, MCP_CONFORMANCE_CONTEXT.
//
// All OAuth work is done by the built package (pkg/): this program only
// plays the browser's part of the redirect (GET the authorization URL, follow
// 3xx until the redirect URI, hand its query to finishAuth) and speaks MCP
// JSON-RPC through `auth.fetch`. Exit 0 once tools/call succeeded; exit 1 with
// the library error's name/code/message on stderr otherwise.
//
// MCP_WEB_AUTH_TOKEN_STORAGE=memory|session picks the token storage (default session).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('../../pkg/', import.meta.url));

// sessionStorage for Node: Map-backed, Storage-like. Installed before the
// package loads so the library finds it as `globalThis.sessionStorage`.
class MapStorage {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.has(String(k)) ? this.#m.get(String(k)) : null; }
  setItem(k, v) { this.#m.set(String(k), String(v)); }
  removeItem(k) { this.#m.delete(String(k)); }
  clear() { this.#m.clear(); }
}
globalThis.sessionStorage = new MapStorage();

const { initSync, McpAuth } = await import(`${pkgDir}index.js`);
initSync({ module: readFileSync(`${pkgDir}mcp_web_auth_bg.wasm`) });

const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const PV = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
const ctx = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
const REDIRECT_URI = 'http://localhost:3000/callback';
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
const STATELESS = PV === '2026-07-28';
const log = (...a) => console.error('[client]', ...a);

const describe = (e) =>
  e && typeof e === 'object'
    ? `${e.name ?? 'Error'}${e.code ? ` (${e.code})` : ''}: ${e.message ?? String(e)}`
    : String(e);

// An error thrown inside onRedirect (finishAuth's IssuerMismatchError, ...)
// reaches auth.fetch only as a generic "onRedirect rejected": keep the real one.
let redirectError = null;

// The browser's part: visit the authorization URL, follow redirects (never
// read by the library) until the redirect URI, then finish on the "callback page".
async function onRedirect(url) {
  try {
    let next = url;
    for (let hops = 0; ; hops++) {
      if (hops > 10) throw new Error('too many redirects from the authorization server');
      const r = await fetch(next, { redirect: 'manual' });
      await r.body?.cancel();
      const loc = r.headers.get('location');
      if (r.status < 300 || r.status >= 400 || !loc) {
        throw new Error(`authorization endpoint answered ${r.status} without a redirect`);
      }
      const target = new URL(loc, next);
      log('authorize redirect', r.status, '->', target.origin + target.pathname);
      if (target.href.startsWith(REDIRECT_URI)) {
        await auth.finishAuth(new URLSearchParams(target.search));
        log('finishAuth done');
        return;
      }
      next = target.href;
    }
  } catch (e) {
    redirectError = e;
    throw e;
  }
}

const options = {
  serverUrl,
  redirectUri: REDIRECT_URI,
  clientName: 'mcp-web-auth conformance client',
  clientMetadataUrl: CIMD_URL,
  tokenStorage: process.env.MCP_WEB_AUTH_TOKEN_STORAGE ?? 'session',
  onRedirect,
};
if (ctx.client_id) {
  options.clientId = ctx.client_id;
  if (ctx.client_secret) options.clientSecret = ctx.client_secret;
}
const auth = new McpAuth(options);

// auth.fetch, retried after a redirect that onRedirect already completed.
async function authFetch(init) {
  for (let attempt = 0; ; attempt++) {
    redirectError = null;
    try {
      return await auth.fetch(serverUrl, init);
    } catch (e) {
      if (redirectError) throw redirectError;
      if (e?.code === 'redirect_started' && attempt < 4) {
        log('authorized, retrying');
        continue;
      }
      throw e;
    }
  }
}

let nextId = 1;
async function rpc(method, params = {}, { notification = false } = {}) {
  const msg = { jsonrpc: '2.0', method };
  msg.params = STATELESS
    ? {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': PV,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      }
    : params;
  if (!notification) msg.id = nextId++;
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  if (STATELESS || method !== 'initialize') headers['MCP-Protocol-Version'] = PV;
  const r = await authFetch({ method: 'POST', headers, body: JSON.stringify(msg) });
  log('POST', method, r.status);
  const text = await r.text();
  if (!r.ok) throw new Error(`${method}: HTTP ${r.status} ${text.slice(0, 200)}`);
  if (notification) return undefined;
  let payload = text;
  if ((r.headers.get('content-type') ?? '').includes('text/event-stream')) {
    payload =
      text
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .filter(Boolean)
        .pop() ?? '';
  }
  const j = JSON.parse(payload);
  if (j.error) throw new Error(`${method}: JSON-RPC error ${JSON.stringify(j.error)}`);
  return j.result;
}

async function main() {
  log('scenario', scenario, 'wire', PV, 'server', serverUrl);
  if (!STATELESS) {
    await rpc('initialize', {
      protocolVersion: PV,
      capabilities: {},
      clientInfo: { name: 'mcp-web-auth-conformance', version: '0.0.0' },
    });
    await rpc('notifications/initialized', {}, { notification: true });
  }
  const tools = await rpc('tools/list');
  const name = tools?.tools?.[0]?.name ?? 'test-tool';
  await rpc('tools/call', { name, arguments: {} });
  log('done');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`[client] FAILED: ${describe(e)}`);
    process.exit(1);
  },
);
