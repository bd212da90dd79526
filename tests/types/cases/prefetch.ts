// auth.prefetch(): never rejects; its result narrows on `ready`.
import init, { McpAuth, type PrefetchResult } from 'mcp-web-auth';

await init();
const auth = new McpAuth({ serverUrl: 'https://mcp.example.com/mcp', redirectUri: 'https://app.example.com/cb' });
const r: PrefetchResult = await auth.prefetch();
if (r.ready) {
  // @ts-expect-error a successful prefetch carries no error
  console.log(r.error);
} else {
  console.log(r.error.code, r.error.message);
}
