// The benchmark's servers (make bench): small Node `http` servers on loopback.
//
// - `startSite({ name, latencyMs })`: an origin whose routes the runner sets
//   per scenario (an MCP-ish resource, PRM and AS metadata at chosen
//   well-known paths, /register, /token, /authorize). Every request, CORS
//   preflights included, waits `latencyMs` before it is handled and again
//   before it is answered (50 + 50 ms: one 100 ms round trip), and is logged
//   with its arrival and end times so that the runner can count sequential
//   round trips (waves) from the server side.
// - `startApp({ root })`: the page's own origin (no latency): the bench page,
//   pkg/, the SDK bundle; cross-origin isolated (COOP + COEP) so that
//   performance.now() has 5 µs resolution instead of 100 µs.
//
// Nothing here is a real authorization server: /authorize is never visited
// by the latency scenarios; /token answers any code (the auth.fetch overhead
// scenario needs one valid access token, nothing more).

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const sleep = (ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
const now = () => performance.now();

const ALLOW_HEADERS = 'Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Session-Id, Mcp-Method, Mcp-Name, Last-Event-ID';

function corsHeaders(req) {
  const h = {
    'Access-Control-Allow-Origin': req.headers.origin || '*',
    Vary: 'Origin',
    'Access-Control-Expose-Headers': 'WWW-Authenticate, Mcp-Session-Id',
  };
  if (req.method === 'OPTIONS') {
    h['Access-Control-Allow-Methods'] = 'GET, POST, DELETE, OPTIONS';
    h['Access-Control-Allow-Headers'] = ALLOW_HEADERS;
    // Chromium caps this at 2 h. It matters only for the auth.fetch overhead
    // scenario (10,000 calls to one URL); every latency run starts in a fresh
    // browser context with an empty preflight cache.
    h['Access-Control-Max-Age'] = '7200';
  }
  return h;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export const json = (status, body, headers = {}) => ({
  status,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

/**
 * One origin with injected latency and a request log.
 * Returns { origin, log, setRoutes(fn), clearLog(), close() }, where
 * fn(req, url, body) returns { status, headers, body } or undefined (404).
 */
export async function startSite({ name, latencyMs = 0 }) {
  const site = { name, latencyMs, log: [], routes: () => undefined };
  const server = http.createServer(async (req, res) => {
    const entry = { site: name, method: req.method, path: req.url, arrive: now(), end: 0, status: 0 };
    site.log.push(entry);
    res.on('finish', () => { entry.end = now(); });
    try {
      const body = await readBody(req);
      await sleep(site.latencyMs); // the request's trip to the server
      let out;
      if (req.method === 'OPTIONS') out = { status: 204, headers: {}, body: '' };
      else out = site.routes(req, new URL(req.url, 'http://x'), body) ?? json(404, { error: 'not_found' });
      await sleep(site.latencyMs); // the answer's trip back
      entry.status = out.status;
      res.writeHead(out.status, { ...corsHeaders(req), ...out.headers });
      res.end(out.body);
    } catch (e) {
      entry.status = 500;
      if (!res.headersSent) res.writeHead(500, corsHeaders(req));
      res.end(String(e));
    }
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  site.origin = `http://127.0.0.1:${server.address().port}`;
  site.setRoutes = (fn) => { site.routes = fn; };
  site.clearLog = () => { site.log.length = 0; };
  site.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); });
  return site;
}

/** RFC 8414 / OIDC metadata for `issuer` (fields the SDK's OIDC schema requires included). */
export function asMetadata(issuer) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['mcp:read'],
    authorization_response_iss_parameter_supported: true,
  };
}

/**
 * Routes of an authorization server with issuer `issuer` (its origin is the
 * site's), its metadata served only at `metadataPath`. Returns a route
 * function or undefined for paths it does not own.
 */
export function asRoutes(issuer, metadataPath, tokens) {
  const base = new URL(issuer).pathname.replace(/\/$/, '');
  let next = 1;
  return (req, url, body) => {
    if (req.method === 'GET' && url.pathname === metadataPath) return json(200, asMetadata(issuer));
    if (req.method === 'POST' && url.pathname === `${base}/register`) {
      let meta = {};
      try { meta = JSON.parse(body); } catch {}
      return json(201, { ...meta, client_id: `bench-client-${next++}`, client_id_issued_at: Math.floor(Date.now() / 1000), token_endpoint_auth_method: 'none' });
    }
    if (req.method === 'POST' && url.pathname === `${base}/token`) {
      const form = new URLSearchParams(body);
      const access = `at_${randomBytes(18).toString('base64url')}`;
      tokens?.add(access);
      return json(200, { access_token: access, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') || 'mcp:read' });
    }
    if (url.pathname === `${base}/authorize`) return { status: 400, headers: { 'Content-Type': 'text/plain' }, body: 'the benchmark never signs in' };
    return undefined;
  };
}

/**
 * Routes of the MCP-ish resource at `resourcePath`: 401 with `challenge`
 * without a known token, a small JSON-RPC answer with one.
 */
export function resourceRoutes(resourcePath, challenge, tokens) {
  const answer = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-06-18', capabilities: {}, serverInfo: { name: 'bench', version: '0' } } });
  return (req, url) => {
    if (url.pathname !== resourcePath) return undefined;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    if (m && tokens?.has(m[1])) return { status: 200, headers: { 'Content-Type': 'application/json' }, body: answer };
    return json(401, { error: 'unauthorized' }, { 'WWW-Authenticate': challenge });
  };
}

/** Combines route functions: the first that answers wins. */
export const routes = (...fns) => (req, url, body) => {
  for (const f of fns) {
    const out = f && f(req, url, body);
    if (out) return out;
  }
  return undefined;
};

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** The page's origin: static files under `mounts` ({ '/prefix/': dir }), no latency. */
export async function startApp({ mounts }) {
  const server = http.createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const isolation = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!p.startsWith(prefix)) continue;
      const file = path.join(dir, p.slice(prefix.length));
      if (!file.startsWith(dir)) break;
      try {
        if (!(await stat(file)).isFile()) break;
        const data = await readFile(file);
        res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', ...isolation });
        res.end(data);
        return;
      } catch {
        break;
      }
    }
    res.writeHead(404, isolation);
    res.end('not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}
