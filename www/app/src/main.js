// The demo page: mcp-web-auth does OAuth, the MCP TypeScript SDK does MCP.
// The only glue between the two is `fetch: (url, init) => auth.fetch(url, init)`.
import init, { McpAuth, AuthorizationRedirectError } from 'mcp-web-auth';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

// What the page itself remembers (never tokens: those are the library's).
const CONNECTION_KEY = 'mcp-web-auth-demo:connection'; // { serverUrl, tokenStorage }
const LOG_KEY = 'mcp-web-auth-demo:log'; // this tab's event list, kept across redirects
const PENDING_KEY = 'mcp-web-auth-demo:pending'; // a tool call a redirect interrupted
const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000/mcp';
const SAMPLE_ARGS = { echo: 'hello, MCP', write_note: 'Hello from the demo' };

const $ = (sel) => document.querySelector(sel);
const ui = {
  form: $('#connect-form'),
  serverUrl: $('#server-url'),
  tokenStorage: $('#token-storage'),
  connect: $('#connect'),
  signOut: $('#sign-out'),
  state: $('#state'),
  error: $('#error'),
  scope: $('#scope'),
  expires: $('#expires'),
  refresh: $('#refresh'),
  toolsHint: $('#tools-hint'),
  toolList: $('#tool-list'),
  events: $('#status-events'),
  clearEvents: $('#clear-events'),
};

let auth = null; // McpAuth for the connected server
let client = null; // MCP SDK Client, connected through auth.fetch

// ---- the event list -------------------------------------------------------

function loadLog() {
  try { return JSON.parse(sessionStorage.getItem(LOG_KEY)) ?? []; } catch { return []; }
}

function renderEvent({ at, kind, type, detail }) {
  const li = document.createElement('li');
  li.className = `ev ev-${kind}`;
  li.dataset.kind = kind;
  li.dataset.type = type;
  const time = document.createElement('time');
  time.textContent = new Date(at).toLocaleTimeString([], { hour12: false });
  const name = document.createElement('b');
  name.textContent = type;
  li.append(time, ' ', name);
  if (detail) li.append(' ', Object.assign(document.createElement('span'), { textContent: detail }));
  ui.events.append(li);
  li.scrollIntoView({ block: 'nearest' });
}

// kind: 'status' for onStatus events, 'app' for what the page did.
function log(kind, type, detail = '') {
  const entry = { at: Date.now(), kind, type, detail };
  const all = [...loadLog(), entry].slice(-200);
  sessionStorage.setItem(LOG_KEY, JSON.stringify(all));
  renderEvent(entry);
}

function onStatus(event) {
  const e = event.error;
  log('status', event.type, e ? `${e.name} (${e.code}): ${e.message}` : '');
  showTokens();
}

// ---- display ----------------------------------------------------------------

function setState(state, text) {
  ui.state.dataset.state = state;
  ui.state.textContent = text;
  const busy = state === 'loading' || state === 'connecting' || state === 'redirecting';
  ui.connect.disabled = busy || state === 'connected';
  ui.signOut.disabled = !auth || busy;
  ui.serverUrl.readOnly = state === 'connected';
  ui.tokenStorage.disabled = state === 'connected';
  for (const b of ui.toolList.querySelectorAll('button')) b.disabled = state !== 'connected';
}

function showError(e) {
  if (!e) {
    ui.error.hidden = true;
    ui.error.textContent = '';
    return;
  }
  ui.error.hidden = false;
  ui.error.textContent = e.code ? `${e.name} (${e.code}): ${e.message}` : String(e?.message ?? e);
}

function showTokens() {
  const t = auth?.tokens() ?? null;
  ui.scope.textContent = t ? t.scope || '(none)' : '—';
  ui.refresh.textContent = t ? (t.hasRefreshToken ? 'yes' : 'no') : '—';
  if (t?.expiresAt) ui.expires.dataset.expiresAt = String(t.expiresAt);
  else delete ui.expires.dataset.expiresAt;
  tick();
}

// The expiry countdown, updated every second.
function tick() {
  const at = Number(ui.expires.dataset.expiresAt);
  if (!at) {
    ui.expires.textContent = auth?.tokens() ? 'no expiry given' : '—';
    return;
  }
  const s = Math.round((at - Date.now()) / 1000);
  const when = new Date(at).toLocaleTimeString([], { hour12: false });
  ui.expires.textContent = s >= 0 ? `${when} (in ${s} s)` : `${when} (expired ${-s} s ago)`;
  ui.expires.classList.toggle('expired', s < 0);
}
setInterval(tick, 1000);

function renderTools(tools) {
  ui.toolList.replaceChildren();
  ui.toolsHint.hidden = tools.length > 0;
  for (const tool of tools) {
    const li = document.createElement('li');
    li.dataset.tool = tool.name;
    const head = document.createElement('div');
    head.className = 'tool-head';
    head.append(Object.assign(document.createElement('code'), { textContent: tool.name }), ' ',
      Object.assign(document.createElement('span'), { textContent: tool.description ?? '' }));
    const row = document.createElement('div');
    row.className = 'row';
    // One text field per string argument (both demo tools take `text`).
    const props = Object.entries(tool.inputSchema?.properties ?? {}).filter(([, s]) => s.type === 'string');
    const inputs = props.map(([arg]) => {
      const input = document.createElement('input');
      input.dataset.arg = arg;
      input.id = `arg-${tool.name}-${arg}`;
      input.placeholder = arg;
      input.value = SAMPLE_ARGS[tool.name] ?? '';
      input.setAttribute('aria-label', `${tool.name} ${arg}`);
      return input;
    });
    const button = document.createElement('button');
    button.type = 'button';
    button.id = `call-${tool.name}`;
    button.textContent = `Call ${tool.name}`;
    const result = document.createElement('pre');
    result.className = 'result';
    result.id = `result-${tool.name}`;
    result.hidden = true;
    button.addEventListener('click', () => {
      const args = Object.fromEntries(inputs.map((i) => [i.dataset.arg, i.value]));
      callTool(tool.name, args);
    });
    row.append(...inputs, button);
    li.append(head, row, result);
    ui.toolList.append(li);
  }
}

function showResult(name, text, isError = false) {
  const pre = document.getElementById(`result-${name}`);
  if (!pre) return;
  pre.hidden = false;
  pre.textContent = text;
  pre.classList.toggle('error', isError);
}

// ---- MCP over auth.fetch --------------------------------------------------------

const isRedirect = (e) => e instanceof AuthorizationRedirectError || e?.code === 'redirect_started';

function newAuth({ serverUrl, tokenStorage }) {
  return new McpAuth({
    serverUrl,
    redirectUri: new URL('callback.html', location.href).href,
    clientName: 'mcp-web-auth demo',
    tokenStorage,
    onStatus,
  });
}

function connectionStore(tokenStorage) {
  return tokenStorage === 'local' ? localStorage : sessionStorage;
}

function savedConnection() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const c = JSON.parse(store.getItem(CONNECTION_KEY));
      if (c?.serverUrl) return c;
    } catch { /* ignore */ }
  }
  return null;
}

function forgetConnection() {
  sessionStorage.removeItem(CONNECTION_KEY);
  localStorage.removeItem(CONNECTION_KEY);
}

async function connect(conn) {
  showError(null);
  setState('connecting', `Connecting to ${conn.serverUrl} …`);
  try {
    await client?.close();
    auth = newAuth(conn);
    forgetConnection();
    connectionStore(conn.tokenStorage).setItem(CONNECTION_KEY, JSON.stringify(conn));
    showTokens();
    const transport = new StreamableHTTPClientTransport(new URL(conn.serverUrl), {
      fetch: (url, init) => auth.fetch(url, init),
    });
    client = new Client({ name: 'mcp-web-auth-demo', version: '0.1.0' });
    await client.connect(transport);
    const v = client.getServerVersion();
    log('app', 'connected', `${v?.name ?? 'server'} ${v?.version ?? ''}`.trim());
    const { tools } = await client.listTools();
    log('app', 'tools/list', tools.map((t) => t.name).join(', '));
    renderTools(tools);
    setState('connected', `Connected to ${conn.serverUrl}`);
    showTokens();
    await resumePendingCall();
  } catch (e) {
    client = null;
    if (isRedirect(e)) {
      setState('redirecting', 'Signing in at the authorization server …');
      return;
    }
    log('app', 'connect failed', e?.message ?? String(e));
    setState('error', 'Not connected.');
    showError(e);
  }
}

async function callTool(name, args) {
  if (!client) return;
  showError(null);
  // Kept until the call ends: a step-up redirect leaves the page mid-call.
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ name, args }));
  log('app', 'tools/call', name);
  try {
    const res = await client.callTool({ name, arguments: args });
    sessionStorage.removeItem(PENDING_KEY);
    const text = (res.content ?? []).map((c) => (c.type === 'text' ? c.text : JSON.stringify(c))).join('\n');
    showResult(name, text, Boolean(res.isError));
    log('app', 'result', `${name}: ${text}`);
  } catch (e) {
    if (isRedirect(e)) {
      setState('redirecting', `Asking for more access for ${name} …`);
      return;
    }
    sessionStorage.removeItem(PENDING_KEY);
    showResult(name, e?.message ?? String(e), true);
    showError(e);
  } finally {
    showTokens();
  }
}

// After a step-up (or any sign-in a call started), make that call again, once.
async function resumePendingCall() {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!raw) return;
  const { name, args } = JSON.parse(raw);
  const input = document.getElementById(`arg-${name}-text`);
  if (input && typeof args?.text === 'string') input.value = args.text;
  log('app', 'resuming', name);
  await callTool(name, args);
}

async function signOut() {
  if (!auth) return;
  showError(null);
  try {
    await client?.close();
    await auth.signOut();
    log('app', 'signed out', 'tokens forgotten and revoked');
  } catch (e) {
    showError(e);
  }
  forgetConnection();
  sessionStorage.removeItem(PENDING_KEY);
  client = null;
  auth = null;
  renderTools([]);
  ui.toolsHint.hidden = false;
  showTokens();
  setState('idle', 'Signed out.');
}

// ---- start ------------------------------------------------------------------------

async function defaultServerUrl() {
  const q = new URLSearchParams(location.search).get('server');
  if (q) return q;
  try {
    const r = await fetch(new URL('stack.json', location.href), { cache: 'no-store' });
    if (r.ok) return (await r.json()).mcpUrl ?? DEFAULT_SERVER_URL;
  } catch { /* not served by the demo stack */ }
  return DEFAULT_SERVER_URL;
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const conn = { serverUrl: ui.serverUrl.value.trim(), tokenStorage: ui.tokenStorage.value };
  log('app', 'connect', `${conn.serverUrl} (tokens in ${conn.tokenStorage}Storage)`);
  connect(conn);
});
ui.signOut.addEventListener('click', signOut);
ui.clearEvents.addEventListener('click', () => {
  sessionStorage.removeItem(LOG_KEY);
  ui.events.replaceChildren();
});

for (const entry of loadLog()) renderEvent(entry);
setState('loading', 'Loading …');
await init();
const saved = savedConnection();
const storage = new URLSearchParams(location.search).get('storage');
ui.serverUrl.value = saved?.serverUrl ?? (await defaultServerUrl());
ui.tokenStorage.value = saved?.tokenStorage ?? (storage === 'local' ? 'local' : 'session');
setState('idle', 'Not connected.');
if (saved) {
  // Back from the authorization server, a reload, or another tab's tokens in
  // localStorage: reconnect when tokens exist, without a new sign-in.
  auth = newAuth(saved);
  showTokens();
  const last = loadLog().at(-1);
  if (auth.tokens() && last?.type === 'redirecting') log('app', 'back', 'callback.html exchanged the code for tokens');
  if (auth.tokens()) await connect(saved);
  else setState('idle', 'Not connected.');
}
