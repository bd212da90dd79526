// The packed tarball in a Vite 7 app: `vite build`, the output served
// statically and loaded in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  consumersDir,
  NPM_FLAGS,
  run,
  tempDir,
  packPackage,
  copyProject,
  startFixture,
  launchChromium,
} from './helpers.mjs';

let tmp;
let fx;
let browser;
let distDir;

before(async () => {
  tmp = await tempDir('vite');
  const { tarball } = await packPackage(tmp.dir);
  const app = path.join(tmp.dir, 'app');
  await copyProject(path.join(consumersDir, 'vite-app'), app);
  // Vite from the committed lockfile, plus the tarball (not saved: the lockfile stays as committed).
  await run('npm', ['install', ...NPM_FLAGS, '--no-save', tarball], { cwd: app, timeoutMs: 180_000 });
  distDir = path.join(app, 'dist');
  await run(process.execPath, [path.join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: app,
    timeoutMs: 120_000,
  });
  fx = await startFixture({ staticDirs: { '/vite/': distDir } });
  browser = await launchChromium();
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await fx?.stop();
  await tmp?.cleanup();
}, { timeout: 30_000 });

test('vite build bundles the package and emits its .wasm as an asset', { timeout: 10_000 }, async () => {
  const assets = await readdir(path.join(distDir, 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.wasm')), `a .wasm asset in ${assets}`);
  assert.ok(assets.some((f) => f.endsWith('.js')), `a .js chunk in ${assets}`);
});

test('the Vite-built app loads in Chromium: McpAuth constructs, every class is exported, instanceof holds for errors the library throws (P-28)', { timeout: 30_000 }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const wasmResponses = [];
    page.on('response', (r) => {
      if (r.url().endsWith('.wasm')) wasmResponses.push([r.status(), r.headers()['content-type']]);
    });
    const serverUrl = fx.serverUrl('vite');
    await page.goto(`${fx.appUrl}/vite/index.html?server=${encodeURIComponent(serverUrl)}`);
    await page.waitForFunction(() => window.result, null, { timeout: 15_000 });
    const r = await page.evaluate(() => window.result);
    assert.equal(r.failed, undefined, r.failed);
    assert.deepEqual(wasmResponses, [[200, 'application/wasm']]);

    for (const [name, type] of Object.entries(r.exports)) assert.equal(type, 'function', `${name} is exported`);
    assert.equal(r.constructed, true);
    assert.deepEqual(r.insecure, {
      name: 'InsecureEndpointError', code: 'insecure_endpoint',
      instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
    });
    assert.deepEqual(r.redirect, { name: 'AuthorizationRedirectError', instanceOfClass: true });
    assert.deepEqual(r.issuer, {
      name: 'IssuerMismatchError', code: 'issuer_mismatch',
      expected: fx.issuer('vite'), received: 'https://forged.example',
      instanceOfClass: true, instanceOfBase: true, instanceOfError: true,
    });
  } finally {
    await context.close();
  }
});
