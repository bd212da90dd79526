// Typed edge cases of the package's .d.ts that the README does not spell out.
// Lines marked @ts-expect-error MUST fail to compile: if the types accept
// them (a typo in an option, a missing required field), tsc reports the
// unused directive and the check fails.
import init, {
  initSync, McpAuth, finishAuth, McpAuthError, OAuthError, IssuerMismatchError, DiscoveryError,
  AuthorizationRedirectError, PopupBlockedError, PopupClosedError, type McpAuthOptions, type FinishedAuth,
  type TokenInfo,
} from 'mcp-web-auth';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

await init();
await init({ module_or_path: new URL('mcp_web_auth_bg.wasm', import.meta.url) });
initSync({ module: new Uint8Array(8) });

const serverUrl = 'https://mcp.example.com/mcp';
const options: McpAuthOptions = {
  serverUrl,
  redirectUri: 'https://app.example.com/callback.html',
  clientName: 'typed',
  tokenStorage: 'local',
  onInsufficientScope: 'throw',
  onStatus: (e) => console.log(e.type, e.serverUrl, e.error?.code),
  onRedirect: async (url: string) => { console.log(url); },
  fetch: (input, init) => fetch(input, init),
};
const auth = new McpAuth(options);

// fetch: init optional, URL and Request accepted, usable unbound.
const r1: Response = await auth.fetch(serverUrl);
const r2: Response = await auth.fetch(new URL(serverUrl), { method: 'POST', body: '{}' });
const r3: Response = await auth.fetch(new Request(serverUrl));
const unbound = auth.fetch;
await unbound(serverUrl);
console.log(r1.status, r2.status, r3.status);

// The MCP SDK's FetchLike, as the transports take it.
const fl: FetchLike = auth.fetch;
new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: auth.fetch });
new SSEClientTransport(new URL(serverUrl), { fetch: fl });

const t: TokenInfo | null = auth.tokens();
if (t) console.log(t.scope, t.expiresAt ?? 'no expiry', t.hasRefreshToken);
const done: FinishedAuth = await finishAuth(new URLSearchParams('code=c&state=s'));
console.log(done.returnTo, done.serverUrl, done.scope);
await auth.finishAuth('code', 'https://as.example.com');
const how: 'AUTHORIZED' | 'REDIRECT' = await auth.authorize({ scope: 'mcp:read' });
await auth.authorize();
await auth.signOut();
console.log(how, auth.serverUrl);

// Errors: classes, codes, fields.
try {
  await auth.fetch(serverUrl);
} catch (e) {
  if (e instanceof IssuerMismatchError) console.log(e.expected, e.received);
  else if (e instanceof OAuthError) console.log(e.error, e.errorDescription);
  else if (e instanceof DiscoveryError) console.log(e.likelyCors);
  else if (e instanceof AuthorizationRedirectError) console.log(e.code === 'redirect_started');
  else if (e instanceof McpAuthError && e.code === 'not_initialized') console.log(e.message);
}

// Popup mode (P-40..P-42).
const popupAuth = new McpAuth({ ...options, mode: 'popup', popupTimeoutMs: 60_000 });
const cancel = new AbortController();
try {
  const signedIn: 'AUTHORIZED' | 'REDIRECT' = await popupAuth.authorize({ mode: 'popup', signal: cancel.signal });
  console.log(signedIn);
} catch (e) {
  if (e instanceof PopupBlockedError) console.log(e.code === 'popup_blocked');
  else if (e instanceof PopupClosedError) {
    const reason: 'closed' | 'timeout' | 'aborted' = e.reason;
    console.log(reason, e.code === 'popup_closed');
  }
}
const handedOver: FinishedAuth = await finishAuth(new URLSearchParams('state=s&code=c'));
if (handedOver.popup) console.log('in a popup that could not close');

// Disposal.
auth.free();
{
  using scoped = new McpAuth(options);
  console.log(scoped.serverUrl);
}

// ---- must NOT compile ----
// @ts-expect-error: a misspelt option (clientNmae) is not an McpAuthOptions field
new McpAuth({ serverUrl, redirectUri: 'https://app.example.com/cb', clientNmae: 'typo' });
// @ts-expect-error: redirectUri is required
new McpAuth({ serverUrl });
// @ts-expect-error: tokenStorage is a closed set or a Storage-like object
new McpAuth({ serverUrl, redirectUri: 'https://app.example.com/cb', tokenStorage: 'cookies' });
// @ts-expect-error: fetch takes a URL, a string or a Request, not a number
await auth.fetch(42);
// @ts-expect-error: the McpAuth fetch is read-only
auth.fetch = fetch;
// @ts-expect-error: mode is a closed set
new McpAuth({ serverUrl, redirectUri: 'https://app.example.com/cb', mode: 'tab' });
// @ts-expect-error: authorize's mode is a closed set too
await auth.authorize({ mode: 'window' });
// @ts-expect-error: tokens() never hands out the access token
console.log(auth.tokens()?.accessToken);
