// Turns any error the demo meets into what a person can read: the error's
// class, its code, and a sentence saying what happened and what to do. Never a
// server's body (a 404 page's HTML, say): only the status of an HTTP answer
// and the library's own messages, which never carry a server's text (P-28).
import {
  McpAuthError, OAuthError, DiscoveryError, InsufficientScopeError, RegistrationRejectedError,
} from 'mcp-web-auth';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface Explained {
  /** The error's class, e.g. `OAuthError`. */
  name: string;
  /** Its stable code (`access_denied`, `network_error`, `http_404` ...). */
  code: string;
  /** What happened and what to do, in words. */
  sentence: string;
  /** The library's message (safe to show), for developers. */
  detail?: string;
}

/** Where the callback page leaves a failed sign-in for the app page to show. */
export const SIGNIN_ERROR_KEY = 'mcp-web-auth-demo:signin-error';

const UNREACHABLE = 'either it is not running, or it does not allow this page\'s origin (CORS).';

function libraryCode(e: McpAuthError): string {
  switch (e.code) {
    case 'not_initialized': return 'The page used the library before `await init()` finished.';
    case 'network_error': return `A server could not be reached: ${UNREACHABLE}`;
    case 'timeout': return 'A server took too long to answer. Try again in a moment.';
    case 'discovery_failed':
      return e instanceof DiscoveryError && e.likelyCors
        ? `Could not read how to sign in to this server: ${UNREACHABLE}`
        : 'This server does not say how to sign in (no OAuth metadata was found). Is the URL an MCP server with authorization?';
    case 'resource_mismatch': return 'The server\'s metadata is for another address, so signing in was stopped for your safety.';
    case 'pkce_not_supported': return 'The authorization server does not support PKCE (S256); signing in there would not be safe.';
    case 'issuer_mismatch': return 'The sign-in answer did not come from the expected authorization server. It was ignored, for your safety.';
    case 'authorization_server_mismatch': return 'The authorization server\'s metadata names another server, so it was not used.';
    case 'oauth_error':
      if (e instanceof OAuthError && e.error === 'access_denied') {
        return 'You chose "Deny" on the sign-in page, so the app got no access. Click Connect to try again.';
      }
      if (e instanceof OAuthError && e.error === 'invalid_grant') {
        return 'The sign-in result was already used or has expired. Click Connect to sign in again.';
      }
      return `The authorization server refused (${e instanceof OAuthError ? e.error : 'an OAuth error'}). Click Connect to try again.`;
    case 'insufficient_scope':
      return `The server needs more permissions${e instanceof InsufficientScopeError && e.requiredScope ? ` (${e.requiredScope})` : ''} than were granted.`;
    case 'registration_rejected':
      return `The authorization server refused to register this app${e instanceof RegistrationRejectedError && e.status ? ` (HTTP ${e.status})` : ''}.`;
    case 'no_registration_possible': return 'The authorization server offers no way for this app to register.';
    case 'insecure_endpoint': return 'An address is not https (plain http is allowed only on localhost and 127.0.0.1).';
    case 'invalid_config': return 'The app\'s settings are not valid (see below).';
    case 'invalid_response': return 'A server answered with something that is not a valid OAuth answer.';
    case 'unknown_state': return 'This sign-in result belongs to no sign-in this tab is waiting for: it was already used, or started elsewhere.';
    case 'pending_expired': return 'The sign-in took too long and expired. Click Connect to start again.';
    case 'missing_code': return 'The authorization server sent the browser back without a result.';
    case 'storage_error': return 'The browser\'s storage is not available (a private window, or storage blocked).';
    case 'no_refresh_token': return 'The session ended and cannot be renewed without signing in again. Click Connect.';
    case 'redirect_started': return 'On the way to the sign-in page.';
    case 'popup_blocked': return 'The browser blocked the sign-in window. Click "Sign in with a popup" (or the tool again) to open it from your click, or use Connect.';
    case 'popup_closed': return 'The sign-in window was closed, timed out or cancelled before the sign-in finished. Nothing changed; try again.';
    default: return 'The sign-in library reported an error (see below).';
  }
}

function httpStatus(status: number, serverUrl?: string): string {
  if (status === 404) {
    return `No MCP server at this address (HTTP 404 Not Found). Check the URL${serverUrl ? `: ${serverUrl}` : ''}; an MCP endpoint's path usually ends in /mcp.`;
  }
  if (status === 405) return 'This address does not take MCP requests (HTTP 405 Method Not Allowed). Check the URL.';
  if (status === -1) return 'The server\'s answer was not MCP (an unexpected content type). Check the URL.';
  if (status >= 500) return `The MCP server failed (HTTP ${status}). Try again later.`;
  return `The MCP server refused the request (HTTP ${status}).`;
}

/** `{ name, code, sentence, detail? }` for anything thrown. */
export function explain(e: unknown, serverUrl?: string): Explained {
  if (e instanceof McpAuthError) {
    return { name: e.name, code: e.code, sentence: libraryCode(e), detail: e.message };
  }
  if (e instanceof StreamableHTTPError) {
    const status = typeof e.code === 'number' ? e.code : -1;
    return { name: 'StreamableHTTPError', code: status > 0 ? `http_${status}` : 'unexpected_content', sentence: httpStatus(status, serverUrl) };
  }
  if (e instanceof TypeError && /fetch|network/i.test(e.message)) {
    return { name: 'TypeError', code: 'network', sentence: `The MCP server could not be reached: ${UNREACHABLE}` };
  }
  if (e instanceof Error) {
    const code = 'code' in e && (typeof e.code === 'string' || typeof e.code === 'number') ? String(e.code) : 'error';
    // Strip anything tag-like and keep it short: never paste a page into the UI.
    const text = e.message.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    return { name: e.name, code, sentence: 'The MCP server answered with an error.', detail: text };
  }
  return { name: typeof e, code: 'error', sentence: 'Something failed.', detail: String(e).slice(0, 200) };
}

/** The one-line form used in the event log. */
export const oneLine = (x: Explained): string => `${x.name} (${x.code}): ${x.sentence}`;

/** Fills `box` with the class, code, sentence and detail. */
export function renderExplained(box: HTMLElement, x: Explained): void {
  const head = document.createElement('p');
  head.className = 'err-head';
  head.append(
    Object.assign(document.createElement('b'), { className: 'err-name', textContent: x.name }),
    ' ',
    Object.assign(document.createElement('code'), { className: 'err-code', textContent: x.code }),
  );
  const sentence = Object.assign(document.createElement('p'), { className: 'err-sentence', textContent: x.sentence });
  box.replaceChildren(head, sentence);
  if (x.detail && x.detail !== x.sentence) {
    box.append(Object.assign(document.createElement('p'), { className: 'err-detail', textContent: x.detail }));
  }
  box.hidden = false;
}
