// The package entry (js/index.js → pkg/index.js) in Node: a clear
// McpAuthError before init, then `fetch` bound per instance, `instanceof`
// for the subclass and the errors, and disposal. Its own process (node
// --test runs each file in one), so the module starts uninitialised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pkgDir } from '../fixture/server.mjs';

const lib = await import(path.join(pkgDir, 'index.js'));
const options = { serverUrl: 'http://127.0.0.1:9/mcp', redirectUri: 'http://127.0.0.1:9/callback', tokenStorage: 'memory' };

test('before init(): new McpAuth throws McpAuthError code not_initialized naming init()', () => {
  assert.throws(() => new lib.McpAuth(options), (e) => {
    assert.ok(e instanceof lib.McpAuthError, `got ${e?.name}: ${e?.message}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'McpAuthError');
    assert.equal(e.code, 'not_initialized');
    assert.match(e.message, /await init\(\)/);
    assert.match(e.message, /initSync/);
    return true;
  });
});

test('before init(): finishAuth rejects with not_initialized (a promise, never a synchronous TypeError)', async () => {
  const p = lib.finishAuth(new URLSearchParams('code=x&state=y'));
  assert.ok(p instanceof Promise);
  await assert.rejects(p, (e) => e instanceof lib.McpAuthError && e.code === 'not_initialized' && /init\(\)/.test(e.message));
});

test('after initSync: McpAuth constructs, instanceof holds, fetch works unbound and passes other origins through', async () => {
  lib.initSync({ module: await readFile(path.join(pkgDir, 'mcp_web_auth_bg.wasm')) });
  const seen = [];
  const auth = new lib.McpAuth({
    ...options,
    fetch: async (req) => {
      seen.push(req.url);
      return new Response('ok', { status: 200 });
    },
  });
  assert.ok(auth instanceof lib.McpAuth);
  assert.equal(auth.serverUrl, options.serverUrl);
  const { fetch } = auth; // unbound, as the MCP SDK's transports hold it
  const res = await fetch('http://localhost:9/elsewhere');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
  const res2 = await [auth.fetch][0](new URL('http://localhost:9/other'), { method: 'GET' });
  assert.equal(res2.status, 200);
  assert.deepEqual(seen, ['http://localhost:9/elsewhere', 'http://localhost:9/other']);
  assert.equal(auth.tokens(), null);
});

test('errors thrown by the constructor are the exported classes (invalid_config, insecure_endpoint)', () => {
  assert.throws(() => new lib.McpAuth({ ...options, serverUrl: 'http://example.com/mcp' }), (e) => e instanceof lib.InsecureEndpointError && e.code === 'insecure_endpoint');
  assert.throws(() => new lib.McpAuth({ ...options, tokenStorage: 'cookies' }), (e) => e instanceof lib.McpAuthError && e.code === 'invalid_config');
});

test('free() and Symbol.dispose release the instance; using it afterwards throws instead of reaching freed memory', () => {
  const a = new lib.McpAuth(options);
  a.free();
  assert.throws(() => a.tokens());
  const b = new lib.McpAuth(options);
  assert.equal(typeof b[Symbol.dispose], 'function');
  b[Symbol.dispose]();
  assert.throws(() => b.tokens());
});
