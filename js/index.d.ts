// Types of the mcp-web-auth package entry.
export { default, initSync, McpAuth, finishAuth } from './mcp_web_auth.js';
export type { InitInput, InitOutput, SyncInitInput } from './mcp_web_auth.js';

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
  fetch?: typeof fetch;
  /** Progress events for your UI. */
  onStatus?: (event: McpAuthStatusEvent) => void;
  /** Proceed with servers that do not advertise PKCE S256 (P-7). Default false. */
  allowMissingPkceMetadata?: boolean;
  /** Timeout of each discovery, registration and token request in ms (default 30000; 0 = none). */
  timeoutMs?: number;
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

/** Base class of every error the library throws; `code` is stable. */
export class McpAuthError extends Error {
  readonly code: string;
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
