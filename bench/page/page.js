// The benchmark page (make bench): `window.bench`, called by bench/run.mjs
// through Playwright. Nothing is imported up front: each measurement loads
// what it measures (this package from /pkg/, the MCP SDK bundle from /sdk/).
//
// Both clients start from the same app request, an MCP `initialize` POST;
// "t401" is when its 401 answer reaches the page, "tRedirect" when the
// authorization URL is handed to the app (our `onRedirect`, the SDK's
// OAuthClientProvider.redirectToAuthorization). Times: performance.now(), ms
// (5 µs resolution: the page is cross-origin isolated).

const now = () => performance.now();
const redirectUri = new URL('/callback.html', location.href).href;
const INIT_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
const INIT_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
});
const initRequest = () => ({ method: 'POST', headers: INIT_HEADERS, body: INIT_BODY });
const errText = (e) => (e && typeof e === 'object' ? `${e.name}${e.code ? ` (${e.code})` : ''}: ${e.message}` : String(e));

let ours; // the package module, once loaded
let sdk; // the SDK bundle, once loaded
let run; // the current flow's record

async function loadOurs() {
  if (ours) return {};
  const t0 = now();
  const m = await import('/pkg/index.js');
  const t1 = now();
  await m.default();
  const t2 = now();
  ours = m;
  return { importMs: t1 - t0, initMs: t2 - t1 };
}

/** init() from bytes already in the page: compile + instantiate only. */
async function initFromBytes() {
  const m = await import('/pkg/index.js');
  const bytes = await (await fetch('/pkg/mcp_web_auth_bg.wasm')).arrayBuffer();
  const t = now();
  await m.default({ module_or_path: bytes });
  const initBytesMs = now() - t;
  ours = m;
  return { initBytesMs, wasmBytes: bytes.byteLength };
}

async function loadSdk() {
  if (sdk) return {};
  const t = now();
  sdk = await import('/sdk/sdk.js');
  return { importMs: now() - t };
}

/**
 * Ours, step 1: the McpAuth instance (and, with `prefetch`, `auth.prefetch()`
 * before the click, when the package has it).
 */
async function oursPrepare({ serverUrl, clientId, prefetch }) {
  await loadOurs();
  run = { serverUrl };
  const timedFetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status === 401 && run.t401 === undefined) run.t401 = now();
    return res;
  };
  const auth = new ours.McpAuth({
    serverUrl,
    redirectUri,
    clientName: 'bench',
    ...(clientId ? { clientId } : {}),
    fetch: timedFetch,
    onRedirect: (url) => {
      run.tRedirect = now();
      run.url = String(url);
    },
  });
  run.auth = auth;
  if (!prefetch) return { ok: true };
  if (typeof auth.prefetch !== 'function') return { na: 'auth.prefetch() does not exist in this build' };
  const t = now();
  try {
    await auth.prefetch();
  } catch (e) {
    run.prefetchError = errText(e); // the issue says prefetch keeps errors for the next call
  }
  return { ok: true, prefetchMs: now() - t, prefetchError: run.prefetchError };
}

/** Ours, step 2: the app's first request (the user's click). */
async function oursClick() {
  const tClick = now();
  let error;
  try {
    const res = await run.auth.fetch(run.serverUrl, initRequest());
    error = `auth.fetch resolved with ${res.status} instead of redirecting`;
  } catch (e) {
    if (e?.name !== 'AuthorizationRedirectError') error = errText(e);
  }
  const { t401, tRedirect, url } = run;
  return { tClick, t401, tRedirect, url, error };
}

/**
 * The SDK, the way its StreamableHTTPClientTransport handles a 401 with an
 * OAuthClientProvider (handleOAuthUnauthorized in @modelcontextprotocol/client
 * 2.4): extractWWWAuthenticateParams(response), then
 * auth(provider, { serverUrl, resourceMetadataUrl, scope }).
 */
async function sdkRun({ serverUrl, clientId }) {
  await loadSdk();
  const st = {};
  let info = clientId ? { client_id: clientId } : undefined;
  let tokens, verifier, discovery;
  const provider = {
    get redirectUrl() {
      return redirectUri;
    },
    get clientMetadata() {
      return {
        client_name: 'bench',
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
    },
    state: () => {
      const b = crypto.getRandomValues(new Uint8Array(16));
      return btoa(String.fromCharCode(...b)).replace(/[+/=]/g, (c) => ({ '+': '-', '/': '_', '=': '' })[c]);
    },
    clientInformation: () => info,
    saveClientInformation: (i) => {
      info = i;
    },
    tokens: () => tokens,
    saveTokens: (t) => {
      tokens = t;
    },
    redirectToAuthorization: (url) => {
      st.tRedirect = now();
      st.url = String(url);
    },
    saveCodeVerifier: (v) => {
      verifier = v;
    },
    codeVerifier: () => verifier,
    saveDiscoveryState: (s) => {
      discovery = s;
    },
    discoveryState: () => discovery,
  };
  const tClick = now();
  let error;
  try {
    const res = await fetch(serverUrl, initRequest());
    if (res.status !== 401) throw new Error(`the resource answered ${res.status}, not 401`);
    st.t401 = now();
    const { resourceMetadataUrl, scope } = sdk.extractWWWAuthenticateParams(res);
    const result = await sdk.auth(provider, { serverUrl: new URL(serverUrl), resourceMetadataUrl, scope });
    await res.text().catch(() => {});
    if (result !== 'REDIRECT') error = `auth() returned ${result}`;
  } catch (e) {
    error = errText(e);
  }
  return { tClick, t401: st.t401, tRedirect: st.tRedirect, url: st.url, error };
}

/**
 * auth.fetch overhead, step 1: a token for `serverUrl` (sign-in with a fake
 * code: the bench AS's /token answers any code). `fetch` is switchable so that
 * the same instance also runs over a stub fetch.
 */
let ovh;
async function overheadPrepare({ serverUrl, issuer }) {
  await loadOurs();
  ovh = { serverUrl, impl: fetch };
  let url;
  const auth = new ours.McpAuth({
    serverUrl,
    redirectUri,
    clientName: 'bench',
    fetch: (input, init) => {
      const f = ovh.impl;
      return f(input, init);
    },
    onRedirect: (u) => {
      url = new URL(u);
    },
  });
  try {
    await auth.fetch(serverUrl, initRequest());
  } catch (e) {
    if (e?.name !== 'AuthorizationRedirectError') return { error: errText(e) };
  }
  const state = url.searchParams.get('state');
  await auth.finishAuth(new URLSearchParams({ code: 'bench-code', state, iss: issuer }));
  ovh.auth = auth;
  const res = await auth.fetch(serverUrl, initRequest());
  await res.text();
  return { status: res.status, tokens: auth.tokens() };
}

const STUB_ANSWER = JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} });
const stubFetch = async () => new Response(STUB_ANSWER, { status: 200, headers: { 'Content-Type': 'application/json' } });

/**
 * Step 2: `n` calls each of plain fetch (with the token written by hand) and
 * auth.fetch, in alternating blocks (ABBA) after a warm-up; sequential
 * (each awaited with its body). `stub`: both over a fetch that answers at
 * once, i.e. the library's own cost without the network.
 */
async function overheadRun({ token, n, block, warmup, stub }) {
  const { serverUrl, auth } = ovh;
  ovh.impl = stub ? stubFetch : fetch;
  const base = stub ? stubFetch : fetch;
  const plainInit = () => ({
    method: 'POST',
    headers: { ...INIT_HEADERS, Authorization: `Bearer ${token}` },
    body: INIT_BODY,
  });
  const plain = () => base(serverUrl, plainInit());
  const wrapped = () => auth.fetch(serverUrl, initRequest());
  const statuses = { plain: {}, auth: {} };
  const one = async (kind, call, out, i) => {
    const t = now();
    const res = await call();
    await res.text();
    if (out) out[i] = now() - t;
    statuses[kind][res.status] = (statuses[kind][res.status] || 0) + 1;
  };
  for (let i = 0; i < warmup; i++) {
    await one('plain', plain);
    await one('auth', wrapped);
  }
  const times = { plain: new Float64Array(n), auth: new Float64Array(n) };
  const done = { plain: 0, auth: 0 };
  let b = 0;
  while (done.plain < n || done.auth < n) {
    const order = b++ % 2 === 0 ? ['plain', 'auth'] : ['auth', 'plain'];
    for (const kind of order) {
      const call = kind === 'plain' ? plain : wrapped;
      const end = Math.min(n, done[kind] + block);
      for (let i = done[kind]; i < end; i++) await one(kind, call, times[kind], i);
      done[kind] = end;
    }
  }
  ovh.impl = fetch;
  return { plain: Array.from(times.plain), auth: Array.from(times.auth), statuses, isolated: crossOriginIsolated };
}

window.bench = { loadOurs, initFromBytes, loadSdk, oursPrepare, oursClick, sdkRun, overheadPrepare, overheadRun };
window.benchReady = true;
