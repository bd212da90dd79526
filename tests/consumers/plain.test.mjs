// The packed tarball installed with npm and used without a bundler: a plain
// <script type="module"> page importing node_modules/mcp-web-auth/index.js,
// served statically and loaded in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  consumersDir,
  tempDir,
  packPackage,
  installTarballProject,
  startFixture,
  launchChromium,
} from './helpers.mjs';

let tmp;
let fx;
let browser;
let packedFiles;

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>plain module page</title></head>
<body>
<script type="module">
import init, * as lib from './node_modules/mcp-web-auth/index.js';
import { check } from './check.js';
try {
  await init();
  const q = new URLSearchParams(location.search);
  window.result = await check(lib, { serverUrl: q.get('server'), redirectUri: new URL('callback.html', location.href).href });
} catch (e) {
  window.result = { failed: String(e && e.stack || e) };
}
</script>
</body></html>
`;

before(async () => {
  tmp = await tempDir('plain');
  const packed = await packPackage(tmp.dir);
  packedFiles = packed.files;
  const project = path.join(tmp.dir, 'site');
  await cp(path.join(consumersDir, 'vite-app', 'src', 'check.js'), path.join(project, 'check.js'));
  await installTarballProject(project, packed.tarball);
  await writeFile(path.join(project, 'index.html'), PAGE);
  fx = await startFixture({ staticDirs: { '/site/': project } });
  browser = await launchChromium();
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await fx?.stop();
  await tmp?.cleanup();
}, { timeout: 30_000 });

test('the tarball holds the entry, the glue, the wasm, the error snippet, the types and no build leftovers', { timeout: 10_000 }, async () => {
  for (const f of ['package.json', 'index.js', 'index.d.ts', 'mcp_web_auth.js', 'mcp_web_auth.d.ts', 'mcp_web_auth_bg.wasm', 'README.md']) {
    assert.ok(packedFiles.includes(f), `${f} is packed (files: ${packedFiles})`);
  }
  assert.ok(packedFiles.some((f) => /^snippets\/.+\/js\/errors\.js$/.test(f)), 'the error classes snippet is packed');
  assert.ok(!packedFiles.some((f) => /\.log$|^\.gitignore$/.test(f)), `no leftovers: ${packedFiles}`);
  const installed = JSON.parse(await readFile(path.join(tmp.dir, 'site', 'node_modules', 'mcp-web-auth', 'package.json'), 'utf8'));
  assert.equal(installed.type, 'module');
  assert.equal(installed.exports['.'].default, './index.js');
});

test('a plain <script type="module"> page importing node_modules/mcp-web-auth/index.js works: McpAuth constructs, errors are instances of the exported classes (P-28)', { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const serverUrl = fx.serverUrl('plain');
    await page.goto(`${fx.appUrl}/site/index.html?server=${encodeURIComponent(serverUrl)}`);
    await page.waitForFunction(() => window.result, null, { timeout: 15_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.failed, undefined, r.failed);
    for (const [name, type] of Object.entries(r.exports)) assert.equal(type, 'function', `${name} is exported`);
    assert.equal(r.constructed, true);
    assert.deepEqual(r.insecure, {
      name: 'InsecureEndpointError', code: 'insecure_endpoint',
      instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
    });
    assert.deepEqual(r.redirect, { name: 'AuthorizationRedirectError', instanceOfClass: true });
    assert.deepEqual(r.issuer, {
      name: 'IssuerMismatchError', code: 'issuer_mismatch',
      expected: fx.issuer('plain'), received: 'https://forged.example',
      instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
    });
  } finally {
    await context.close();
  }
});
