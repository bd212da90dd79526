// What every consumer checks with the installed package (the Vite app, the
// plain module page and the Node project): the exports exist, McpAuth
// constructs, and errors thrown by the library are instances of the exported
// classes. `lib` holds the package's named exports; `serverUrl` is the
// fixture's MCP server; `redirectUri` any https or loopback URL.
export async function check(lib, { serverUrl, redirectUri }) {
  const out = { exports: {} };
  for (const name of [
    'default', 'initSync', 'McpAuth', 'finishAuth', 'McpAuthError', 'IssuerMismatchError',
    'InsufficientScopeError', 'OAuthError', 'AuthorizationServerMismatchError',
    'RegistrationRejectedError', 'InsecureEndpointError', 'DiscoveryError', 'AuthorizationRedirectError',
  ]) {
    out.exports[name] = typeof lib[name];
  }

  const redirects = [];
  const auth = new lib.McpAuth({ serverUrl, redirectUri, onRedirect: (u) => { redirects.push(u); } });
  out.constructed = auth instanceof lib.McpAuth && auth.serverUrl === serverUrl;

  // Thrown synchronously by the constructor.
  try {
    new lib.McpAuth({ serverUrl: 'http://mcp.example/mcp', redirectUri });
    out.insecure = 'constructed';
  } catch (e) {
    out.insecure = {
      name: e.name, code: e.code,
      instanceOfClass: e instanceof lib.InsecureEndpointError,
      instanceOfBase: e instanceof lib.McpAuthError,
      instanceOfError: e instanceof Error,
    };
  }

  // Thrown asynchronously: a redirect, then a forged callback for the real state.
  try {
    await auth.fetch(serverUrl);
    out.redirect = 'resolved';
  } catch (e) {
    out.redirect = { name: e.name, instanceOfClass: e instanceof lib.AuthorizationRedirectError };
  }
  const state = redirects.length === 1 ? new URL(redirects[0]).searchParams.get('state') : null;
  try {
    await lib.finishAuth(new URLSearchParams({ state, code: 'forged', iss: 'https://forged.example' }));
    out.issuer = 'resolved';
  } catch (e) {
    out.issuer = {
      name: e.name, code: e.code, expected: e.expected, received: e.received,
      instanceOfClass: e instanceof lib.IssuerMismatchError,
      instanceOfBase: e instanceof lib.McpAuthError,
      instanceOfError: e instanceof Error,
    };
  }
  return out;
}
