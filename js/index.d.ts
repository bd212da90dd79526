// Types of the mcp-web-auth package entry (js/index.js). McpAuth and
// finishAuth are declared here rather than re-exported from the wasm glue's
// .d.ts, whose constructor takes `any` and whose `fetch` requires `init`.
import type { InitInput, InitOutput, SyncInitInput } from './mcp_web_auth.js';
export type { InitInput, InitOutput, SyncInitInput };

/**
 * Loads and instantiates the WebAssembly module. Call it once, and await it,
 * before `new McpAuth(...)` or `finishAuth(...)`: before it, both fail with
 * `McpAuthError` code `not_initialized`. With no argument it fetches
 * `mcp_web_auth_bg.wasm` next to the package's JS (bundlers rewrite that URL).
 */
export default function init(
  module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the module synchronously from its bytes or a compiled `WebAssembly.Module` (Node, workers, tests). */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/** What `finishAuth` resolves to. */
export interface FinishedAuth {
  /** The MCP server the tokens are for. */
  serverUrl: string;
  /** Where to send the browser now: the page that started the flow (an absolute URL of your origin; `''` where there is no `location`). */
  returnTo: string;
  /** The scope granted. */
  scope: string;
  /**
   * `true` when this page is a popup's callback page that handed the result
   * to the page that opened it (popup mode) and could not close itself.
   * When it can close itself (the usual case), the promise never settles.
   */
  popup?: true;
}

/** Options of `auth.authorize(options)`. */
export interface AuthorizeOptions {
  /** The scope to ask for (default: the server's challenge or metadata, P-13). */
  scope?: string;
  /** Where `finishAuth` sends the browser back (redirect mode): a path or URL of this origin. */
  returnTo?: string;
  /**
   * `'popup'`: sign in in a window opened at once (call `authorize` from a
   * click handler, before any `await`); the promise resolves to `'AUTHORIZED'`
   * when the sign-in in it is complete. Default: the instance's `mode` option.
   */
  mode?: 'redirect' | 'popup';
  /** Popup mode: aborting it closes the window and rejects with `PopupClosedError` (`reason: 'aborted'`). */
  signal?: AbortSignal;
}

/** What `auth.prefetch()` resolves to: the error it would have thrown, kept for you to look at. */
export type PrefetchResult = { ready: true } | { ready: false; error: McpAuthError };

/** What `auth.tokens()` shows: never the tokens themselves. */
export interface TokenInfo {
  scope: string;
  /** Milliseconds since the epoch, or null when the server gave no `expires_in`. */
  expiresAt: number | null;
  hasRefreshToken: boolean;
  /** The access token is DPoP-bound (RFC 9449): it is sent as `Authorization: DPoP` with a proof, and is useless without the key. */
  dpopBound: boolean;
}

/** An OAuth 2.1 client for one MCP server. */
export class McpAuth {
  /** Throws `McpAuthError` (`invalid_config`, `insecure_endpoint`, ...) on bad options, `not_initialized` before `init()`. */
  constructor(options: McpAuthOptions);
  /**
   * `fetch` with authorization: takes what `fetch` takes. A bound property, so
   * it may be passed around unbound: `new StreamableHTTPClientTransport(url, { fetch: auth.fetch })`.
   */
  readonly fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /**
   * Starts or confirms authorization without a resource request. In popup
   * mode the window opens synchronously (rejects with `PopupBlockedError`
   * when the browser refuses it) and a sign-in that `auth.fetch` could not
   * open a window for is resumed.
   */
  authorize(options?: AuthorizeOptions): Promise<'AUTHORIZED' | 'REDIRECT'>;
  /** Starts or confirms authorization without a resource request. */
  authorize(options?: { scope?: string; returnTo?: string }): Promise<'AUTHORIZED' | 'REDIRECT'>;
  /**
   * Discovery ahead of the user's click (the server's metadata, cached): the
   * click then redirects after at most the registration request, or at once
   * with `clientId` or `clientMetadataUrl`. No registration, no redirect, no
   * `onStatus` events. Never rejects: a failed discovery resolves to
   * `{ ready: false, error }`, keeps nothing, and the next `authorize`/`fetch`
   * discovers again (throwing its own error if the problem persists).
   */
  prefetch(): Promise<PrefetchResult>;
  /** Completes this server's pending flow on the redirect page (or in a worker, see the README). */
  finishAuth(params: URLSearchParams | string, iss?: string | null): Promise<FinishedAuth>;
  /** For display: scope, expiry, whether a refresh token exists; `null` when signed out. */
  tokens(): TokenInfo | null;
  /** Forgets this server's tokens, asking the server to revoke them first where it can (RFC 7009). */
  signOut(): Promise<void>;
  /** The MCP server this client is for. */
  readonly serverUrl: string;
  /**
   * Releases the instance's WebAssembly memory now rather than when it is
   * garbage-collected (it is released then anyway). The instance is unusable
   * afterwards. Tokens stay in their storage.
   */
  free(): void;
  /** `free()`, for `using auth = new McpAuth(...)` (TypeScript 5.2+, lib `esnext.disposable`). */
  [Symbol.dispose](): void;
}

/**
 * Completes authorization on the redirect page with no configuration: the
 * pending flow is found by the callback's `state`. Pass
 * `new URLSearchParams(location.search)`; the `(code, iss)` form works when
 * exactly one flow is pending.
 */
export function finishAuth(params: URLSearchParams | string, iss?: string | null): Promise<FinishedAuth>;

/** Options of `new McpAuth(options)`. */
export interface McpAuthOptions {
  /** The MCP server URL (https, or http on localhost/127.0.0.1/[::1]). */
  serverUrl: string;
  /** Where the authorization server sends the browser back (https or loopback). */
  redirectUri: string;
  /** Shown by the authorization server on its consent page (dynamic registration). */
  clientName?: string;
  clientUri?: string;
  logoUri?: string;
  /** A pre-registered client id (wins over everything else). */
  clientId?: string;
  /** The pre-registered client's secret, if it has one. */
  clientSecret?: string;
  /** An https URL of your Client ID Metadata Document, used when the server supports it. */
  clientMetadataUrl?: string;
  /** Scopes to ask for when the server's challenge names none. */
  scope?: string;
  /** What a `403 insufficient_scope` does: re-authorize (default) or throw `InsufficientScopeError`. */
  onInsufficientScope?: 'reauthorize' | 'throw';
  /** Step-up attempts per scope set before giving up (default 1; 0 behaves like 'throw'). */
  maxStepUpRetries?: number;
  /** Where tokens, clients and metadata are kept (default 'session'). */
  tokenStorage?: 'session' | 'local' | 'memory' | StorageLike;
  /** Called with the authorization URL (default `location.assign(url)`); may return a promise. */
  onRedirect?: (url: string) => void | Promise<void>;
  /** Replaces `fetch` for every request the library makes. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Progress events for your UI. */
  onStatus?: (event: McpAuthStatusEvent) => void;
  /** Proceed with servers that do not advertise PKCE S256 (P-7). Default false. */
  allowMissingPkceMetadata?: boolean;
  /** Timeout of each discovery, registration and token request in ms (default 30000; 0 = none). */
  timeoutMs?: number;
  /**
   * DPoP (RFC 9449) sender-constrained tokens (default 'auto'): 'auto' uses DPoP when the authorization
   * server lists ES256 in `dpop_signing_alg_values_supported`; 'off' never; 'require' throws
   * `McpAuthError` with code `dpop_not_supported` (and `issuer`) when the server does not offer it.
   */
  dpop?: 'auto' | 'off' | 'require';
  /**
   * Which of your requests get the token (P-27): `'serverUrl'` (default) only
   * the server URL's origin and path (any query); `'origin'` every path of its
   * origin, for the legacy HTTP+SSE transport.
   */
  sendTokenTo?: 'serverUrl' | 'origin';
  /**
   * How the sign-ins `auth.fetch` starts (first sign-in, expired session,
   * step-up) reach the user: the page goes to the authorization server
   * (`'redirect'`, default), or a window does and the call is made again
   * once it is done (`'popup'`); see the README's "Popup mode".
   */
  mode?: 'redirect' | 'popup';
  /** Popup mode: how long to wait for the window's result, in ms (default 300000, 5 minutes). */
  popupTimeoutMs?: number;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key?(index: number): string | null;
  readonly length?: number;
}

export interface McpAuthStatusEvent {
  type: 'discovering' | 'registering' | 'redirecting' | 'exchanging' | 'refreshing' | 'authorized' | 'error';
  serverUrl: string;
  /** On `error`: the error that is about to be thrown. */
  error?: McpAuthError;
}

/** The codes of plain `McpAuthError`s (the subclasses below have their own). */
export type McpAuthErrorCode =
  | 'not_initialized'
  | 'unknown_state'
  | 'pending_expired'
  | 'missing_code'
  | 'invalid_config'
  | 'invalid_response'
  | 'network_error'
  | 'timeout'
  | 'storage_error'
  | 'no_refresh_token'
  | 'token_rejected'
  | 'unexpected_redirect'
  /** `dpop: 'require'` and the authorization server does not offer DPoP with ES256; `issuer` names it. */
  | 'dpop_not_supported';

/** Base class of every error the library throws; `code` is stable (switch on it, not on `message`). */
export class McpAuthError extends Error {
  readonly code: McpAuthErrorCode | (string & {});
  /** `timeout`, `network_error`, `unexpected_redirect`: the URL of the request that failed. */
  readonly url?: string;
  /** `timeout`: the limit that was reached, in ms. */
  readonly afterMs?: number;
  /** `token_rejected`: the MCP server whose tokens were refused. */
  readonly serverUrl?: string;
}
/** The callback's `iss` is missing or not the expected issuer (RFC 9207). Carries nothing else from the callback. */
export class IssuerMismatchError extends McpAuthError {
  readonly code: 'issuer_mismatch';
  readonly expected: string;
  readonly received: string | null;
}
export class InsufficientScopeError extends McpAuthError {
  readonly code: 'insufficient_scope';
  readonly requiredScope: string;
  readonly resourceMetadataUrl: string | null;
  readonly errorDescription: string | null;
}
/** The authorization server answered with an OAuth error. */
export class OAuthError extends McpAuthError {
  readonly code: 'oauth_error';
  readonly error: string;
  readonly errorDescription: string | null;
  readonly errorUri: string | null;
}
/** The metadata's `issuer` differs from the issuer it was fetched for. */
export class AuthorizationServerMismatchError extends McpAuthError {
  readonly code: 'authorization_server_mismatch';
  readonly expected: string;
  readonly received: string;
}
export class RegistrationRejectedError extends McpAuthError {
  readonly code: 'registration_rejected' | 'no_registration_possible';
  readonly status?: number;
  readonly error?: string | null;
}
export class InsecureEndpointError extends McpAuthError {
  readonly code: 'insecure_endpoint';
  readonly url: string;
}
export class DiscoveryError extends McpAuthError {
  readonly code: 'discovery_failed' | 'resource_mismatch' | 'pkce_not_supported';
  readonly stage?: 'protected_resource' | 'authorization_server';
  readonly likelyCors?: boolean;
  readonly expected?: string;
  readonly received?: string;
  readonly issuer?: string;
}
/** `auth.fetch` started a redirect to the authorization server. */
export class AuthorizationRedirectError extends McpAuthError {
  readonly code: 'redirect_started';
}
/**
 * Popup mode: the browser refused to open the sign-in window. Nothing was
 * lost: call `auth.authorize({ mode: 'popup' })` from a click handler (then
 * retry the call), or use redirect mode.
 */
export class PopupBlockedError extends McpAuthError {
  readonly code: 'popup_blocked';
}
/** Popup mode: the sign-in window ended without a result. */
export class PopupClosedError extends McpAuthError {
  readonly code: 'popup_closed';
  /** Closed by the user, out of time (`popupTimeoutMs`), or aborted by your `signal`. */
  readonly reason: 'closed' | 'timeout' | 'aborted';
}
