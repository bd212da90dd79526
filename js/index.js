// The package entry of mcp-web-auth (pkg/index.js; scripts/build-pkg.sh
// copies it without its comments and fills in the errors module's path).
//
// - The error classes come from the very module the wasm glue imports, so
//   `instanceof` holds for thrown errors.
// - `init()` / `initSync()` are the glue's, remembered here, so that using
//   the package before them is a clear McpAuthError (code `not_initialized`)
//   rather than "Cannot read properties of undefined (reading 'mcpauth_new')".
//   The entry does not initialise itself: a top-level await would make every
//   importer async, and Node needs initSync with the bytes anyway.
// - McpAuth is the glue's class with `fetch` bound per instance, so
//   `{ fetch: auth.fetch }` works unbound (the MCP SDK's transports call it so).
import wasmInit, { initSync as wasmInitSync, McpAuth as WasmMcpAuth, finishAuth as wasmFinishAuth } from './mcp_web_auth.js';
import { McpAuthError } from './@ERRORS@';

export {
  McpAuthError,
  IssuerMismatchError,
  InsufficientScopeError,
  OAuthError,
  AuthorizationServerMismatchError,
  RegistrationRejectedError,
  InsecureEndpointError,
  DiscoveryError,
  AuthorizationRedirectError,
  PopupBlockedError,
  PopupClosedError,
} from './@ERRORS@';

let ready = false;

const notInitialized = (what) => new McpAuthError(
  `mcp-web-auth is not initialized: call \`await init()\` (the package's default export) once before ${what}; in Node, \`initSync({ module })\` with the bytes of mcp_web_auth_bg.wasm`,
  'not_initialized',
);

export default async function init(input) {
  const out = await wasmInit(input);
  ready = true;
  return out;
}

export function initSync(input) {
  const out = wasmInitSync(input);
  ready = true;
  return out;
}

export class McpAuth extends WasmMcpAuth {
  constructor(options) {
    if (!ready) throw notInitialized('`new McpAuth(options)`');
    super(options);
    const fetch = super.fetch;
    Object.defineProperty(this, 'fetch', {
      value: (input, init) => fetch.call(this, input, init),
      writable: false,
      enumerable: false,
      configurable: true,
    });
  }
}

export function finishAuth(params, iss) {
  if (!ready) return Promise.reject(notInitialized('`finishAuth(params)`'));
  return wasmFinishAuth(params, iss);
}
