// A Vite app importing the installed package by name. Named imports: the
// build fails if one of them is not exported.
import init, {
  initSync,
  McpAuth,
  finishAuth,
  McpAuthError,
  IssuerMismatchError,
  InsufficientScopeError,
  OAuthError,
  AuthorizationServerMismatchError,
  RegistrationRejectedError,
  InsecureEndpointError,
  DiscoveryError,
  AuthorizationRedirectError,
} from 'mcp-web-auth';
import { check } from './check.js';

const lib = {
  default: init, initSync, McpAuth, finishAuth, McpAuthError, IssuerMismatchError,
  InsufficientScopeError, OAuthError, AuthorizationServerMismatchError, RegistrationRejectedError,
  InsecureEndpointError, DiscoveryError, AuthorizationRedirectError,
};

async function main() {
  await init();
  const q = new URLSearchParams(location.search);
  window.result = await check(lib, {
    serverUrl: q.get('server'),
    redirectUri: new URL('callback.html', location.href).href,
  });
}

main().catch((e) => {
  window.result = { failed: String((e && e.stack) || e) };
});
