// The demo page: mcp-web-auth does OAuth, the MCP TypeScript SDK does MCP.
// The only glue between the two is `fetch: auth.fetch` (a bound function).
// Every failure is shown as the error's class, code and a sentence
// (explain.ts); the state line says "Connected" only while it is true.
import init, { McpAuth, AuthorizationRedirectError, type McpAuthStatusEvent } from 'mcp-web-auth';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { explain, oneLine, renderExplained, SIGNIN_ERROR_KEY, type Explained } from './explain';

// What the page itself remembers (never tokens: those are the library's).
const CONNECTION_KEY = 'mcp-web-auth-demo:connection'; // { serverUrl, tokenStorage }
const LOG_KEY = 'mcp-web-auth-demo:log'; // this tab's event list, kept across redirects
const PENDING_KEY = 'mcp-web-auth-demo:pending'; // a tool call a redirect interrupted
const DEFAULT_SERVER_URL = 'http://127.0.0.1:3000/mcp';
const SAMPLE_ARGS: Record<string, string> = { echo: 'hello, MCP', write_note: 'Hello from the demo' };

type TokenStorage = 'session' | 'local';
type Mode = 'redirect' | 'popup';
interface Connection { serverUrl: string; tokenStorage: TokenStorage; mode?: Mode }
type State = 'idle' | 'loading' | 'connecting' | 'redirecting' | 'connected' | 'error';
interface LogEntry { at: number; kind: 'status' | 'app' | 'fail'; type: string; detail: string }
interface Tool { name: string; description?: string; inputSchema?: { properties?: Record<string, { type?: string }> } }

function el<T extends HTMLElement>(sel: string): T {
  const e = document.querySelector<T>(sel);
  if (!e) throw new Error(`the page has no ${sel}`);
  return e;
}

const ui = {
  form: el<HTMLFormElement>('#connect-form'),
  serverUrl: el<HTMLInputElement>('#server-url'),
  tokenStorage: el<HTMLSelectElement>('#token-storage'),
  connect: el<HTMLButtonElement>('#connect'),
  connectPopup: el<HTMLButtonElement>('#connect-popup'),
  cancelPopup: el<HTMLButtonElement>('#cancel-popup'),
  signOut: el<HTMLButtonElement>('#sign-out'),
  state: el<HTMLParagraphElement>('#state'),
  error: el<HTMLDivElement>('#error'),
  scope: el<HTMLElement>('#scope'),
  expires: el<HTMLElement>('#expires'),
  refresh: el<HTMLElement>('#refresh'),
  dpop: el<HTMLElement>('#dpop'),
  toolsHint: el<HTMLParagraphElement>('#tools-hint'),
  toolList: el<HTMLUListElement>('#tool-list'),
  events: el<HTMLOListElement>('#status-events'),
  clearEvents: el<HTMLButtonElement>('#clear-events'),
};

let auth: McpAuth | null = null; // McpAuth for the chosen server
let client: Client | null = null; // MCP SDK Client, connected through auth.fetch
let state: State = 'loading';

// ---- the event list -------------------------------------------------------

function loadLog(): LogEntry[] {
  try {
    const v: unknown = JSON.parse(sessionStorage.getItem(LOG_KEY) ?? '[]');
    return Array.isArray(v) ? (v as LogEntry[]) : [];
  } catch {
    return [];
  }
}

function renderEvent({ at, kind, type, detail }: LogEntry): void {
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
  ui.clearEvents.disabled = false;
}

// kind: 'status' for onStatus events, 'app' for what the page did, 'fail' for failures.
function log(kind: LogEntry['kind'], type: string, detail = ''): void {
  const entry: LogEntry = { at: Date.now(), kind, type, detail };
  const all = [...loadLog(), entry].slice(-200);
  sessionStorage.setItem(LOG_KEY, JSON.stringify(all));
  renderEvent(entry);
}

function onStatus(event: McpAuthStatusEvent): void {
  // Errors are logged once, explained, where the page catches them.
  if (event.type !== 'error') log('status', event.type);
  showTokens();
}

// ---- display ----------------------------------------------------------------

const hasTokens = (): boolean => {
  try {
    return Boolean(auth?.tokens());
  } catch {
    return false;
  }
};

function setState(next: State, text: string): void {
  state = next;
  ui.state.dataset.state = next;
  ui.state.textContent = text;
  const busy = next === 'loading' || next === 'connecting' || next === 'redirecting';
  // Each button is enabled only when clicking it can do something.
  ui.connect.disabled = busy || next === 'connected';
  ui.connectPopup.disabled = busy || next === 'connected';
  ui.signOut.disabled = busy || !hasTokens();
  ui.serverUrl.readOnly = next === 'connected';
  ui.tokenStorage.disabled = next === 'connected' || busy;
  for (const b of ui.toolList.querySelectorAll('button')) b.disabled = next !== 'connected';
}

function showError(x: Explained | null): void {
  if (!x) {
    ui.error.hidden = true;
    ui.error.replaceChildren();
    return;
  }
  renderExplained(ui.error, x);
}

/** A failure: explained in the error box and the log; the state line says it is not connected. */
function fail(what: string, e: unknown, serverUrl?: string): Explained {
  const x = explain(e, serverUrl);
  log('fail', what, oneLine(x));
  showError(x);
  client = null;
  renderTools([]);
  setState('error', `Not connected: ${x.sentence}`);
  showTokens();
  return x;
}

function showTokens(): void {
  let t = null;
  try {
    t = auth?.tokens() ?? null;
  } catch {
    t = null;
  }
  ui.scope.textContent = t ? t.scope || '(none)' : '—';
  ui.refresh.textContent = t ? (t.hasRefreshToken ? 'yes' : 'no') : '—';
  // DPoP-bound (RFC 9449): useless without this browser's non-extractable key.
  ui.dpop.textContent = t ? (t.dpopBound ? 'yes' : 'no (bearer)') : '—';
  if (t?.expiresAt) ui.expires.dataset.expiresAt = String(t.expiresAt);
  else delete ui.expires.dataset.expiresAt;
  ui.signOut.disabled = state === 'loading' || state === 'connecting' || state === 'redirecting' || !t;
  tick();
}

// The expiry countdown, updated every second.
function tick(): void {
  const at = Number(ui.expires.dataset.expiresAt);
  if (!at) {
    ui.expires.textContent = hasTokens() ? 'no expiry given' : '—';
    return;
  }
  const s = Math.round((at - Date.now()) / 1000);
  const when = new Date(at).toLocaleTimeString([], { hour12: false });
  ui.expires.textContent = s >= 0 ? `${when} (in ${s} s)` : `${when} (expired ${-s} s ago)`;
  ui.expires.classList.toggle('expired', s < 0);
}
setInterval(tick, 1000);

function renderTools(tools: Tool[]): void {
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
    button.disabled = state !== 'connected';
    const result = document.createElement('pre');
    result.className = 'result';
    result.id = `result-${tool.name}`;
    result.hidden = true;
    button.addEventListener('click', () => {
      const args = Object.fromEntries(inputs.map((i) => [i.dataset.arg ?? '', i.value]));
      void callTool(tool.name, args);
    });
    row.append(...inputs, button);
    li.append(head, row, result);
    ui.toolList.append(li);
  }
}

function showResult(name: string, text: string, isError = false): void {
  const pre = document.getElementById(`result-${name}`);
  if (!pre) return;
  pre.hidden = false;
  pre.textContent = text;
  pre.classList.toggle('error', isError);
}

// ---- revocation, reported as it happened ----------------------------------------

interface Revocation { hint: string; status: number; error: string | null }
let revocations: Revocation[] = [];

// The library's `fetch` option: plain fetch, noting each RFC 7009 revocation
// request (a form with `token` and `token_type_hint`) and its answer, so that
// sign-out can say which token the server revoked. Never the token itself.
// The library calls it with a `Request` (and no init); other callers may
// pass a URL and init.
async function observingFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const body = input instanceof Request
    ? await input.clone().text()
    : typeof init?.body === 'string' ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : '';
  const res = await fetch(input, init);
  if (body.includes('token_type_hint=')) {
    const form = new URLSearchParams(body);
    const hint = form.get('token_type_hint');
    if (form.has('token') && hint) {
      let error: string | null = null;
      if (!res.ok) {
        try {
          const j: unknown = await res.clone().json();
          if (j && typeof j === 'object' && 'error' in j && typeof j.error === 'string') error = j.error;
        } catch { /* not JSON */ }
      }
      revocations.push({ hint, status: res.status, error });
    }
  }
  return res;
}

// ---- MCP over auth.fetch --------------------------------------------------------

const isRedirect = (e: unknown): boolean => e instanceof AuthorizationRedirectError
  || (typeof e === 'object' && e !== null && 'code' in e && e.code === 'redirect_started');

// `?popupTimeoutMs=N` shortens the popup's wait (the e2e tests use it).
const popupTimeoutMs = Number(new URLSearchParams(location.search).get('popupTimeoutMs')) || undefined;

function newAuth({ serverUrl, tokenStorage, mode }: Connection): McpAuth {
  return new McpAuth({
    serverUrl,
    redirectUri: new URL('callback.html', location.href).href,
    clientName: 'mcp-web-auth demo',
    tokenStorage,
    // Popup mode: auth.fetch's sign-ins and step-ups happen in a window; this page stays.
    mode: mode ?? 'redirect',
    popupTimeoutMs,
    onStatus,
    fetch: observingFetch,
  });
}

function connectionStore(tokenStorage: TokenStorage): Storage {
  return tokenStorage === 'local' ? localStorage : sessionStorage;
}

function savedConnection(): Connection | null {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const c: unknown = JSON.parse(store.getItem(CONNECTION_KEY) ?? 'null');
      if (c && typeof c === 'object' && 'serverUrl' in c && typeof c.serverUrl === 'string') {
        const tokenStorage: TokenStorage = 'tokenStorage' in c && c.tokenStorage === 'local' ? 'local' : 'session';
        const mode: Mode = 'mode' in c && c.mode === 'popup' ? 'popup' : 'redirect';
        return { serverUrl: c.serverUrl, tokenStorage, mode };
      }
    } catch { /* ignore */ }
  }
  return null;
}

function forgetConnection(): void {
  sessionStorage.removeItem(CONNECTION_KEY);
  localStorage.removeItem(CONNECTION_KEY);
}

async function connect(conn: Connection): Promise<void> {
  showError(null);
  setState('connecting', `Connecting to ${conn.serverUrl} …`);
  try {
    await client?.close();
    client = null;
    auth?.free();
    auth = null;
    auth = newAuth(conn);
    forgetConnection();
    connectionStore(conn.tokenStorage).setItem(CONNECTION_KEY, JSON.stringify(conn));
    showTokens();
    const transport = new StreamableHTTPClientTransport(new URL(conn.serverUrl), { fetch: auth.fetch });
    const c = new Client({ name: 'mcp-web-auth-demo', version: '0.1.0' });
    await c.connect(transport);
    const v = c.getServerVersion();
    log('app', 'connected', `${v?.name ?? 'server'} ${v?.version ?? ''}`.trim());
    const { tools } = await c.listTools();
    log('app', 'tools/list', tools.map((t) => t.name).join(', '));
    client = c;
    setState('connected', `Connected to ${v?.name ?? 'the MCP server'} at ${conn.serverUrl}`);
    renderTools(tools);
    showTokens();
    await resumePendingCall();
  } catch (e) {
    if (isRedirect(e)) {
      setState('redirecting', 'Signing in at the authorization server …');
      return;
    }
    fail('connect failed', e, conn.serverUrl);
  }
}

async function callTool(name: string, args: Record<string, string>): Promise<void> {
  if (!client || state !== 'connected') return;
  showError(null);
  // Kept until the call ends: a step-up redirect leaves the page mid-call.
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ name, args }));
  log('app', 'tools/call', name);
  try {
    const res = await client.callTool({ name, arguments: args });
    sessionStorage.removeItem(PENDING_KEY);
    const content = Array.isArray(res.content) ? (res.content as Array<{ type: string; text?: string }>) : [];
    const text = content.map((c) => (c.type === 'text' ? c.text ?? '' : JSON.stringify(c))).join('\n');
    showResult(name, text, Boolean(res.isError));
    log('app', 'result', `${name}: ${text}`);
  } catch (e) {
    if (isRedirect(e)) {
      setState('redirecting', `Asking for more access for ${name} …`);
      return;
    }
    sessionStorage.removeItem(PENDING_KEY);
    // Any failure of the call itself (network, sign-in, HTTP) ends the
    // connection as far as this page knows: say so, and show why.
    const x = fail(`${name} failed`, e, auth?.serverUrl);
    showResult(name, oneLine(x), true);
  } finally {
    showTokens();
  }
}

// After a step-up (or any sign-in a call started), make that call again, once.
async function resumePendingCall(): Promise<void> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!raw) return;
  const { name, args } = JSON.parse(raw) as { name: string; args: Record<string, string> };
  const input = document.getElementById(`arg-${name}-text`);
  if (input instanceof HTMLInputElement && typeof args?.text === 'string') input.value = args.text;
  log('app', 'resuming', name);
  await callTool(name, args);
}

const TOKEN_WORDS: Record<string, string> = { refresh_token: 'refresh token', access_token: 'access token' };

function reportRevocations(expiresAt: number | null): void {
  if (!revocations.length) {
    log('app', 'revocation', 'the authorization server has no revocation endpoint: the tokens were only forgotten here');
    return;
  }
  for (const r of revocations) {
    const what = TOKEN_WORDS[r.hint] ?? r.hint;
    if (r.status === 200) {
      log('app', 'revoked', `${what}: revoked by the authorization server (200)`);
    } else if (r.error === 'unsupported_token_type') {
      const until = expiresAt ? ` until it expires at ${new Date(expiresAt).toLocaleTimeString([], { hour12: false })}` : ' until it expires';
      log('fail', 'not revoked', `${what}: this authorization server cannot revoke it (${r.status} unsupported_token_type: a self-contained JWT); the MCP server accepts it${until}. This app has forgotten it.`);
    } else {
      log('fail', 'not revoked', `${what}: the authorization server answered ${r.status}${r.error ? ` ${r.error}` : ''}; this app has forgotten it.`);
    }
  }
}

async function signOut(): Promise<void> {
  if (!auth || !hasTokens()) return;
  showError(null);
  const expiresAt = auth.tokens()?.expiresAt ?? null;
  revocations = [];
  try {
    await client?.close();
    await auth.signOut();
    log('app', 'signed out', 'this app forgot its tokens');
    reportRevocations(expiresAt);
  } catch (e) {
    const x = explain(e, auth.serverUrl);
    log('fail', 'sign-out failed', oneLine(x));
    showError(x);
  }
  forgetConnection();
  sessionStorage.removeItem(PENDING_KEY);
  client = null;
  auth.free();
  auth = null;
  renderTools([]);
  showTokens();
  setState('idle', 'Signed out.');
}

// ---- start ------------------------------------------------------------------------

async function defaultServerUrl(): Promise<string> {
  const q = new URLSearchParams(location.search).get('server');
  if (q) return q;
  try {
    const r = await fetch(new URL('stack.json', location.href), { cache: 'no-store' });
    if (r.ok) {
      const j: unknown = await r.json();
      if (j && typeof j === 'object' && 'mcpUrl' in j && typeof j.mcpUrl === 'string') return j.mcpUrl;
    }
  } catch { /* not served by the demo stack */ }
  return DEFAULT_SERVER_URL;
}

/** A sign-in that failed on callback.html (denied, wrong issuer ...): shown here, once. */
function takeSignInError(): Explained | null {
  const raw = sessionStorage.getItem(SIGNIN_ERROR_KEY);
  sessionStorage.removeItem(SIGNIN_ERROR_KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Explained;
  } catch {
    return null;
  }
}

function formConnection(mode: Mode): Connection {
  return { serverUrl: ui.serverUrl.value.trim(), tokenStorage: ui.tokenStorage.value === 'local' ? 'local' : 'session', mode };
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const conn = formConnection('redirect');
  log('app', 'connect', `${conn.serverUrl} (tokens in ${conn.tokenStorage}Storage)`);
  void connect(conn);
});
// Popup mode: authorize() opens the window right here, in the click's task
// (after an await the browser would block it), then the page connects.
ui.connectPopup.addEventListener('click', () => {
  const conn = formConnection('popup');
  log('app', 'connect', `${conn.serverUrl} (tokens in ${conn.tokenStorage}Storage, sign-in in a popup)`);
  showError(null);
  let popupAuth: McpAuth;
  try {
    popupAuth = newAuth(conn);
  } catch (e) {
    fail('sign-in failed', e, conn.serverUrl);
    return;
  }
  const cancel = new AbortController();
  const signedIn = popupAuth.authorize({ mode: 'popup', signal: cancel.signal });
  setState('connecting', 'Signing in in the popup window …');
  ui.cancelPopup.hidden = false;
  ui.cancelPopup.onclick = () => cancel.abort();
  signedIn.then(
    () => connect(conn),
    (e: unknown) => { fail('sign-in failed', e, conn.serverUrl); },
  ).finally(() => {
    ui.cancelPopup.hidden = true;
    popupAuth.free();
  });
});
ui.signOut.addEventListener('click', () => void signOut());
ui.clearEvents.addEventListener('click', () => {
  sessionStorage.removeItem(LOG_KEY);
  ui.events.replaceChildren();
  ui.clearEvents.disabled = true;
});

ui.clearEvents.disabled = true;
for (const entry of loadLog()) renderEvent(entry);
setState('loading', 'Loading …');
await init();
const saved = savedConnection();
const storage = new URLSearchParams(location.search).get('storage');
ui.serverUrl.value = saved?.serverUrl ?? (await defaultServerUrl());
ui.tokenStorage.value = saved?.tokenStorage ?? (storage === 'local' ? 'local' : 'session');
const signInError = takeSignInError();
if (signInError) {
  // Back from a sign-in that failed: say why, in the box and the log.
  log('fail', 'sign-in failed', oneLine(signInError));
  showError(signInError);
  if (saved) auth = newAuth(saved);
  showTokens();
  setState('error', `Not connected: ${signInError.sentence}`);
} else {
  setState('idle', 'Not connected.');
  if (saved) {
    // Back from the authorization server, a reload, or another tab's tokens in
    // localStorage: reconnect when tokens exist, without a new sign-in.
    auth = newAuth(saved);
    showTokens();
    const last = loadLog().at(-1);
    if (hasTokens() && last?.type === 'redirecting') log('app', 'back', 'callback.html exchanged the code for tokens');
    if (hasTokens()) await connect(saved);
    else setState('idle', 'Not connected.');
  }
}
