// The packed tarball in a Node project that imports `mcp-web-auth` by
// package name (the `exports` map), runs in a child process of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { consumersDir, run, tempDir, packPackage, installTarballProject, startFixture } from './helpers.mjs';

let tmp;
let fx;
let project;

const MAIN = `
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as lib from 'mcp-web-auth';
import { check } from './check.js';

globalThis.sessionStorage = new (class {
  #m = new Map();
  get length() { return this.#m.size; }
  key(i) { return [...this.#m.keys()][i] ?? null; }
  getItem(k) { return this.#m.get(k) ?? null; }
  setItem(k, v) { this.#m.set(k, String(v)); }
  removeItem(k) { this.#m.delete(k); }
})();
const wasmPath = fileURLToPath(import.meta.resolve('mcp-web-auth/mcp_web_auth_bg.wasm'));
lib.initSync({ module: await readFile(wasmPath) });
const out = await check(lib, { serverUrl: process.argv[2], redirectUri: 'http://127.0.0.1:9/callback' });
out.resolvedEntry = fileURLToPath(import.meta.resolve('mcp-web-auth'));
process.stdout.write(JSON.stringify(out));
`;

before(async () => {
  tmp = await tempDir('node');
  const { tarball } = await packPackage(tmp.dir);
  project = path.join(tmp.dir, 'project');
  await cp(path.join(consumersDir, 'vite-app', 'src', 'check.js'), path.join(project, 'check.js'));
  await installTarballProject(project, tarball);
  await writeFile(path.join(project, 'main.js'), MAIN);
  fx = await startFixture();
}, { timeout: 240_000 });

after(async () => {
  await fx?.stop();
  await tmp?.cleanup();
}, { timeout: 30_000 });

test('a Node project imports mcp-web-auth by name: initSync with the exported wasm path, McpAuth constructs, errors are instances of the exported classes (P-28)', { timeout: 30_000 }, async () => {
  const serverUrl = fx.serverUrl('nodeconsumer');
  const { stdout } = await run(process.execPath, ['main.js', serverUrl], { cwd: project, timeoutMs: 20_000 });
  const r = JSON.parse(stdout);
  assert.equal(r.resolvedEntry, path.join(project, 'node_modules', 'mcp-web-auth', 'index.js'));
  for (const [name, type] of Object.entries(r.exports)) assert.equal(type, 'function', `${name} is exported`);
  assert.equal(r.constructed, true);
  assert.deepEqual(r.insecure, {
    name: 'InsecureEndpointError', code: 'insecure_endpoint',
    instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
  });
  assert.deepEqual(r.redirect, { name: 'AuthorizationRedirectError', instanceOfClass: true });
  assert.deepEqual(r.issuer, {
    name: 'IssuerMismatchError', code: 'issuer_mismatch',
    expected: fx.issuer('nodeconsumer'), received: 'https://forged.example',
    instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
  });
  assert.equal(fx.stats('nodeconsumer').register.length, 1, 'the flow reached the fixture from the child process');
});
