// `tsc --strict` (TypeScript pinned in package.json) over the package's
// README snippets, the demo app's sources and typed edge cases (cases/, with
// @ts-expect-error lines that must not compile), all against pkg/index.d.ts
// as an app sees it (`mcp-web-auth` → ../../pkg).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installApp } from '../../www/demo.mjs';
import { readmeBlocks } from './readme.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const tsc = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');

function runTsc(project) {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: here, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

test('the README snippets and the typed edge cases compile with tsc --strict; @ts-expect-error lines (clientNmae, ...) do not', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(tsc), 'tests/types/node_modules is missing: run scripts/install-tools.sh');
  assert.ok(existsSync(path.join(root, 'pkg', 'index.d.ts')), 'pkg/ is missing: make build');
  const blocks = readmeBlocks();
  assert.deepEqual(Object.keys(blocks).sort(), ['callback.html', 'connect.js', 'main.js', 'sdk.ts', 'vite.config.js']);
  const out = path.join(here, 'generated');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  writeFileSync(path.join(out, 'readme-main.ts'), blocks['main.js']);
  writeFileSync(path.join(out, 'readme-sdk.ts'), blocks['sdk.ts']);
  writeFileSync(path.join(out, 'readme-connect.ts'), blocks['connect.js']);
  const script = /<script type="module">\n([\s\S]*?)<\/script>/.exec(blocks['callback.html']);
  assert.ok(script, 'callback.html has a module script');
  writeFileSync(path.join(out, 'readme-callback.ts'), script[1]);
  const { code, out: text } = await runTsc('tsconfig.json');
  assert.equal(code, 0, `tsc --strict failed:\n${text}`);
});

test('a typo in an option fails the check (the negative case is real)', { timeout: 180_000 }, async () => {
  const dir = path.join(here, 'generated-negative');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'typo.ts'), `import { McpAuth } from 'mcp-web-auth';
new McpAuth({ serverUrl: 'https://mcp.example.com/mcp', redirectUri: 'https://app.example.com/cb', clientNmae: 'typo' });
`);
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['typo.ts'] }));
  const { code, out } = await runTsc(path.join(dir, 'tsconfig.json'));
  rmSync(dir, { recursive: true, force: true });
  assert.notEqual(code, 0);
  assert.match(out, /clientNmae/);
  assert.match(out, /TS2353|TS2561/);
});

test('the demo app (www/app/src/*.ts) compiles with tsc --strict against the package', { timeout: 180_000 }, async () => {
  installApp({ log: () => {} });
  const { code, out } = await runTsc(path.join(root, 'www', 'app', 'tsconfig.json'));
  assert.equal(code, 0, `tsc --strict failed on the demo:\n${out}`);
});
