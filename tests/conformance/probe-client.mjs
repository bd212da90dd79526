#!/usr/bin/env node
// Throwaway probe: a hand-written OAuth 2.1 MCP client in plain Node (fetch
// only, no SDK, not our library), used to learn the conformance harness's
// mechanics. See NOTES.md. Usage (the harness appends the server URL):
//   .tools/bin/conformance client --command "node probe-client.mjs" --scenario auth/metadata-default
// Env from the harness: MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION,
// MCP_CONFORMANCE_CONTEXT (JSON, only for scenarios that have context).
// Exit 0 = flow completed; exit 1 = rejected/failed (message on stderr).

const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const PV = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
const ctx = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
const REDIRECT_URI = 'http://localhost:3000/callback';
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
const log = (...a) => console.error('[probe]', ...a);

// ---------- helpers ----------
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const rand = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
async function s256(v) { return b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v))); }
const origin = (u) => new URL(u).origin; // scheme://host[:port], no trailing slash

// RFC 9110 auth-param parsing (enough for the harness's headers).
function parseChallenge(h) {
  if (!h) return null;
  const m = /^\s*Bearer\s+(.*)$/i.exec(h);
  if (!m) return null;
  const params = {};
  const re = /([A-Za-z0-9_\-.]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  let x;
  while ((x = re.exec(m[1]))) params[x[1].toLowerCase()] = x[2] !== undefined ? x[2].replace(/\\(.)/g, '$1') : x[3];
  return params;
}

async function getJson(url) {
  try {
    const r = await fetch(url, { headers: { Accept: 'application/json', 'MCP-Protocol-Version': PV } });
    log('GET', url, r.status);
    if (!r.ok) return null;
    return await r.json();
  } catch (e) { log('GET', url, 'failed', e.message); return null; }
}

// ---------- state ----------
const state = {
  token: null, tokenScopes: [], requestedScopes: [],
  clients: new Map(), // issuer -> { client_id, client_secret, auth_method }
};

// ---------- discovery ----------
async function discoverPrm(challenge) {
  const tries = [];
  if (challenge?.resource_metadata) tries.push([challenge.resource_metadata, serverUrl]);
  const u = new URL(serverUrl);
  if (u.pathname && u.pathname !== '/') tries.push([`${u.origin}/.well-known/oauth-protected-resource${u.pathname}`, serverUrl]);
  tries.push([`${u.origin}/.well-known/oauth-protected-resource`, u.origin]);
  for (const [url, expected] of tries) {
    const prm = await getJson(url);
    if (!prm) continue;
    const ok = prm.resource === expected || prm.resource === expected + '/' || prm.resource + '/' === expected;
    if (!ok) throw new Error(`PRM resource ${JSON.stringify(prm.resource)} != ${JSON.stringify(expected)}`);
    return prm;
  }
  return null; // 2025-03-26 server: no PRM
}

function asMetadataUrls(issuer) {
  const u = new URL(issuer);
  const p = u.pathname.replace(/\/$/, '');
  if (p) return [`${u.origin}/.well-known/oauth-authorization-server${p}`, `${u.origin}/.well-known/openid-configuration${p}`, `${u.origin}${p}/.well-known/openid-configuration`];
  return [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
}

async function discoverAs(issuer) {
  for (const url of asMetadataUrls(issuer)) {
    const md = await getJson(url);
    if (!md) continue;
    if (md.issuer !== issuer) throw new Error(`AS metadata issuer ${JSON.stringify(md.issuer)} != ${JSON.stringify(issuer)}`);
    return md;
  }
  return null;
}

// ---------- registration ----------
async function getClient(issuer, md, scope) {
  if (state.clients.has(issuer)) return state.clients.get(issuer);
  let c;
  if (ctx.client_id) {
    const methods = md?.token_endpoint_auth_methods_supported;
    const auth_method = !ctx.client_secret ? 'none'
      : !methods || methods.includes('client_secret_basic') ? 'client_secret_basic'
      : methods.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
    c = { client_id: ctx.client_id, client_secret: ctx.client_secret, auth_method };
  } else if (md?.client_id_metadata_document_supported === true) {
    c = { client_id: CIMD_URL, auth_method: 'none' };
  } else {
    const regEndpoint = md ? md.registration_endpoint : `${issuer}/register`;
    if (!regEndpoint) throw new Error('no way to register a client');
    const body = {
      redirect_uris: [REDIRECT_URI], client_name: 'probe-client', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], application_type: 'native',
      ...(scope && { scope }),
    };
    const r = await fetch(regEndpoint, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    log('POST', regEndpoint, r.status);
    if (!r.ok) throw new Error(`registration rejected: ${r.status}`);
    const j = await r.json();
    const auth_method = j.token_endpoint_auth_method ?? (j.client_secret ? 'client_secret_basic' : 'none');
    c = { client_id: j.client_id, client_secret: j.client_secret, auth_method };
  }
  state.clients.set(issuer, c);
  return c;
}

// ---------- the flow ----------
function union(...lists) { const out = []; for (const l of lists) for (const s of l) if (s && !out.includes(s)) out.push(s); return out; }

async function authorize(challenge, { stepUp = false } = {}) {
  const prm = await discoverPrm(challenge);
  let issuer, md, resource;
  if (prm) {
    issuer = prm.authorization_servers?.[0];
    if (!issuer) throw new Error('PRM has no authorization_servers');
    md = await discoverAs(issuer);
    if (!md) throw new Error(`no AS metadata for ${issuer}`);
    resource = prm.resource;
  } else {
    issuer = origin(serverUrl); // 2025-03-26 fallback
    md = await discoverAs(issuer);
    resource = serverUrl;
  }
  if (md && !(md.code_challenge_methods_supported ?? []).includes('S256')) throw new Error('AS does not advertise PKCE S256');
  const ep = md
    ? { authz: md.authorization_endpoint, token: md.token_endpoint }
    : { authz: `${issuer}/authorize`, token: `${issuer}/token` };

  const challenged = challenge?.scope ? challenge.scope.split(/\s+/) : [];
  let scopes = stepUp ? union(state.requestedScopes, state.tokenScopes, challenged)
    : challenged.length ? challenged : (prm?.scopes_supported ?? []);
  if (scopes.length && md?.scopes_supported?.includes('offline_access')) scopes = union(scopes, ['offline_access']);
  const scope = scopes.join(' ');
  state.requestedScopes = scopes;

  const client = await getClient(issuer, md, scope);
  const verifier = rand(32), st = rand(16);
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.client_id, redirect_uri: REDIRECT_URI,
    code_challenge: await s256(verifier), code_challenge_method: 'S256', state: st, resource,
  });
  if (scope) q.set('scope', scope);
  const authUrl = `${ep.authz}?${q}`;
  const r = await fetch(authUrl, { redirect: 'manual' });
  log('GET', authUrl, r.status);
  const loc = r.headers.get('location');
  if (!loc) throw new Error(`authorization endpoint gave no redirect (${r.status})`);
  const cb = new URL(loc).searchParams;
  if (cb.get('state') !== st) throw new Error('state mismatch');
  // RFC 9207 / SEP-2468 (PROTOCOL.md P-20)
  const advertised = md?.authorization_response_iss_parameter_supported === true;
  const expectedIss = md ? md.issuer : issuer;
  if (cb.has('iss')) {
    if (cb.get('iss') !== expectedIss) throw new Error(`iss mismatch: expected ${JSON.stringify(expectedIss)}, got ${JSON.stringify(cb.get('iss'))}`);
  } else if (advertised) throw new Error('iss missing though advertised');
  if (cb.get('error')) throw new Error(`authorization error ${cb.get('error')}`);
  const code = cb.get('code');

  const body = new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, resource });
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (client.auth_method === 'client_secret_basic') {
    headers.Authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64');
  } else {
    body.set('client_id', client.client_id);
    if (client.auth_method === 'client_secret_post') body.set('client_secret', client.client_secret);
  }
  const tr = await fetch(ep.token, { method: 'POST', headers, body });
  log('POST', ep.token, tr.status);
  const tj = await tr.json();
  if (!tr.ok || tj.error) throw new Error(`token error ${tr.status} ${tj.error}`);
  state.token = tj.access_token;
  state.tokenScopes = tj.scope ? tj.scope.split(' ') : scopes;
}

// ---------- MCP over HTTP with auth retry ----------
let sessionId = null, nextId = 1;
async function rpc(method, params = {}, { notification = false } = {}) {
  const stateless = PV === '2026-07-28';
  const msg = { jsonrpc: '2.0', method, params: stateless ? { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': PV, 'io.modelcontextprotocol/clientCapabilities': {} } } : params };
  if (!notification) msg.id = nextId++;
  let stepUps = 0, reauths = 0;
  for (;;) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (stateless || method !== 'initialize') headers['MCP-Protocol-Version'] = PV;
    if (sessionId) headers['Mcp-Session-Id'] = sessionId;
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const r = await fetch(serverUrl, { method: 'POST', headers, body: JSON.stringify(msg) });
    log('POST', serverUrl, method, r.status);
    const ch = parseChallenge(r.headers.get('www-authenticate'));
    if (r.status === 401) {
      if (reauths++ >= 1) throw new Error('401 after re-authorization');
      state.token = null;
      await authorize(ch);
      continue;
    }
    if (r.status === 403 && ch?.error === 'insufficient_scope') {
      if (stepUps++ >= 1) throw new Error(`insufficient_scope after step-up (scope=${ch.scope})`);
      await authorize(ch, { stepUp: true });
      continue;
    }
    if (r.headers.get('mcp-session-id')) sessionId = r.headers.get('mcp-session-id');
    if (notification) return;
    const text = await r.text();
    let payload = text;
    if ((r.headers.get('content-type') ?? '').includes('text/event-stream')) {
      payload = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean).pop() ?? '';
    }
    if (!r.ok) throw new Error(`${method}: HTTP ${r.status} ${text.slice(0, 200)}`);
    const j = JSON.parse(payload);
    if (j.error) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
    return j.result;
  }
}

async function main() {
  log('scenario', scenario, 'pv', PV, 'server', serverUrl, 'context', JSON.stringify(ctx));
  if (PV !== '2026-07-28') {
    await rpc('initialize', { protocolVersion: PV, capabilities: {}, clientInfo: { name: 'probe-client', version: '0.0.0' } });
    await rpc('notifications/initialized', {}, { notification: true });
  }
  const tools = await rpc('tools/list');
  const name = tools.tools?.[0]?.name ?? 'test-tool';
  await rpc('tools/call', { name, arguments: {} });
  log('done');
}

main().then(() => process.exit(0), (e) => { log('FAILED:', e.message); process.exit(1); });
