// Error classes of mcp-web-auth (PROTOCOL.md P-28): real Error subclasses, so
// `instanceof` works, with a stable `code` and typed fields. The wasm module
// creates them through `__mcpWebAuthError` from one plain object,
// `{ message, code, ...fields }`; the package entry re-exports the
// classes from this same module instance.

export class McpAuthError extends Error {
  constructor(message, code, fields) {
    super(message);
    this.code = code;
    if (fields) Object.assign(this, fields);
  }
}
McpAuthError.prototype.name = 'McpAuthError';

export class IssuerMismatchError extends McpAuthError {}
IssuerMismatchError.prototype.name = 'IssuerMismatchError';

export class InsufficientScopeError extends McpAuthError {}
InsufficientScopeError.prototype.name = 'InsufficientScopeError';

export class OAuthError extends McpAuthError {}
OAuthError.prototype.name = 'OAuthError';

export class AuthorizationServerMismatchError extends McpAuthError {}
AuthorizationServerMismatchError.prototype.name = 'AuthorizationServerMismatchError';

export class RegistrationRejectedError extends McpAuthError {}
RegistrationRejectedError.prototype.name = 'RegistrationRejectedError';

export class InsecureEndpointError extends McpAuthError {}
InsecureEndpointError.prototype.name = 'InsecureEndpointError';

export class DiscoveryError extends McpAuthError {}
DiscoveryError.prototype.name = 'DiscoveryError';

export class AuthorizationRedirectError extends McpAuthError {}
AuthorizationRedirectError.prototype.name = 'AuthorizationRedirectError';

// P-40: the browser refused to open the sign-in window (`window.open`
// returned null). Nothing is lost: retry from a click, or use redirect mode.
export class PopupBlockedError extends McpAuthError {}
PopupBlockedError.prototype.name = 'PopupBlockedError';

// P-42: the sign-in window ended without a result; `reason` is 'closed',
// 'timeout' (popupTimeoutMs) or 'aborted' (the app's signal).
export class PopupClosedError extends McpAuthError {}
PopupClosedError.prototype.name = 'PopupClosedError';

// The class of each code, as `Error::js_class` (src/core/error.rs) says;
// any other code is a plain McpAuthError.
const classes = {
  issuer_mismatch: IssuerMismatchError,
  insufficient_scope: InsufficientScopeError,
  oauth_error: OAuthError,
  authorization_server_mismatch: AuthorizationServerMismatchError,
  registration_rejected: RegistrationRejectedError,
  no_registration_possible: RegistrationRejectedError,
  insecure_endpoint: InsecureEndpointError,
  resource_mismatch: DiscoveryError,
  pkce_not_supported: DiscoveryError,
  discovery_failed: DiscoveryError,
  redirect_started: AuthorizationRedirectError,
  popup_blocked: PopupBlockedError,
  popup_closed: PopupClosedError,
};

export function __mcpWebAuthError({ message, code, ...fields }) {
  const C = classes[code] || McpAuthError;
  return new C(message, code, fields);
}
