// What the benchmark page takes from the MCP TypeScript SDK (bundled by
// esbuild into bench/.build/sdk.js): the pieces its StreamableHTTP transport
// runs on a 401 with an OAuthClientProvider.
export { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/client';
