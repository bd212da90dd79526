// The package README's quick start, as written: its `main.js`, `callback.html`
// and `vite.config.js` blocks are copied out of README.npm.md into a fresh
// Vite 7 app (Vite from the committed lockfile of vite-app/, the packed
// tarball), built, served, and run in headless Chromium against the local
// stack (oidc-provider + the MCP SDK server, auto-approving). The only change
// made to the code: the placeholder server URL becomes the local MCP server's.
// It must sign in and come back with the server's answer to `initialize`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { consumersDir, NPM_FLAGS, run, tempDir, packPackage, launchChromium } from './helpers.mjs';
import { readmeBlocks } from '../types/readme.mjs';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// The stack runs on Node 22 LTS from npm (tools/node22) when it is there, as in
// `make demo`: oidc-provider warns on Node 20. This process stays on the machine's Node.
const NODE22 = path.join(repo, 'tools/node22/node_modules/node/bin/node');

/** www/stack/start.js in its own process; resolves to { issuer, mcpUrl, appUrl, stop }. */
async function startStack({ staticDir }) {
  const node = existsSync(NODE22) ? NODE22 : process.execPath;
  const child = spawn(node, [path.join(repo, 'www/stack/start.js'), '--auto-approve', '--static', staticDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolve(out.slice(0, nl)); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the stack exited (${code}): ${out}`)); });
  });
  return {
    ...JSON.parse(line),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.stdin.end(); // start.js stops when its stdin closes
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const PLACEHOLDER = "'https://mcp.example.com/mcp'";
let tmp;
let stack;
let browser;
let app;

before(async () => {
  tmp = await tempDir('quickstart');
  const { tarball } = await packPackage(tmp.dir);
  app = path.join(tmp.dir, 'app');
  await mkdir(app);
  for (const f of ['package.json', 'package-lock.json']) await copyFile(path.join(consumersDir, 'vite-app', f), path.join(app, f));
  await run('npm', ['install', ...NPM_FLAGS, '--no-save', tarball], { cwd: app, timeoutMs: 180_000 });
  stack = await startStack({ staticDir: path.join(app, 'dist') });

  const blocks = readmeBlocks();
  const main = blocks['main.js'];
  assert.equal(main.split(PLACEHOLDER).length, 2, 'the quick start names its server URL once');
  await writeFile(path.join(app, 'main.js'), main.replace(PLACEHOLDER, JSON.stringify(stack.mcpUrl)));
  await writeFile(path.join(app, 'callback.html'), blocks['callback.html']);
  await writeFile(path.join(app, 'vite.config.js'), blocks['vite.config.js']);
  // The page the README describes: index.html loading main.js as a module.
  await writeFile(path.join(app, 'index.html'), '<!doctype html>\n<meta charset="utf-8">\n<title>quick start</title>\n<script type="module" src="./main.js"></script>\n');
  await run(process.execPath, [path.join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, timeoutMs: 120_000 });
  browser = await launchChromium();
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await stack?.stop();
  await tmp?.cleanup();
}, { timeout: 30_000 });

test('the README quick start builds with Vite and runs: sign-in, back through callback.html, an MCP initialize answered 200 with the server\'s info', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const mcpRequests = [];
    page.on('request', (r) => {
      if (r.url() === stack.mcpUrl && r.method() === 'POST') mcpRequests.push(r.headers());
    });
    await page.goto(stack.appUrl);
    await page.waitForFunction(() => /^\d{3}: /.test(document.body.textContent ?? ''), null, { timeout: 30_000 });
    const text = await page.textContent('body');
    assert.match(text, /^200: /, text);
    assert.match(text, /"serverInfo"/);
    assert.match(text, /mcp-web-auth demo server/);
    assert.equal(new URL(page.url()).pathname, '/', 'back on the app page (callback.html replaced itself)');
    const last = mcpRequests.at(-1);
    assert.equal(last['content-type'], 'application/json');
    assert.equal(last.accept, 'application/json, text/event-stream');
    // The local authorization server offers DPoP, so the library binds the
    // token to its key (P-35, P-38): a DPoP token with a proof of that key.
    assert.match(last.authorization, /^DPoP /);
    assert.match(last.dpop ?? '', /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'a DPoP proof was sent');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
