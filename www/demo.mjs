#!/usr/bin/env node
// `make demo`: builds the demo app (www/app → www/app/dist, skipped when up to
// date) and serves it on 127.0.0.1 with the local stack: the authorization
// server with its login/consent page, the MCP server, and a static server for
// the app. CORS allows the app's origin only. Ctrl-C stops everything.
//
//   node www/demo.mjs [--app-port 5173] [--as-port 4000] [--mcp-port 3000]
//                     [--token-ttl 60] [--rebuild]
//
// A busy default port falls back to a random one. The e2e tests import
// buildApp() and startDemo() from here, so they run exactly what `make demo` runs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
export const APP_DIR = path.join(here, 'app');
export const DIST_DIR = path.join(APP_DIR, 'dist');
const PKG_DIR = path.join(here, '..', 'pkg');
const STAMP = path.join(DIST_DIR, '.inputs.sha256');

export const LOGIN_HINT = 'Sign in as any username (prefilled "demo", no password), then "Sign in and allow".';

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}

// Everything the build reads besides node_modules: the app's sources and config
// and the package in pkg/ (linked as the `mcp-web-auth` dependency).
function inputsHash() {
  const h = createHash('sha256');
  const inputs = [
    ...['index.html', 'callback.html', 'vite.config.js', 'tsconfig.json', 'package.json', 'package-lock.json'].map((f) => path.join(APP_DIR, f)),
    ...files(path.join(APP_DIR, 'src')),
    ...files(PKG_DIR).filter((f) => !f.endsWith('README.md')),
  ].sort();
  for (const f of inputs) h.update(path.relative(here, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

function run(cmd, args, log, label = `${cmd} ${args.join(' ')}`) {
  log(`[demo] ${label}  (in www/app)`);
  const r = spawnSync(cmd, args, { cwd: APP_DIR, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
}

/** npm install in www/app (from the committed lockfile) when its lockfile is newer than node_modules. */
export function installApp({ log = console.log } = {}) {
  if (!existsSync(path.join(PKG_DIR, 'index.js'))) {
    throw new Error('pkg/ is missing: build the package first (`make build`, or `bash scripts/build-pkg.sh`)');
  }
  const lock = path.join(APP_DIR, 'package-lock.json');
  const installed = path.join(APP_DIR, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], log);
  }
}

/**
 * npm install (from the committed lockfile) + vite build, each skipped when
 * its inputs have not changed. Returns whether it built. Not `npm ci`: it
 * refuses this lockfile over rollup's per-platform optional packages, which
 * this machine's npm records without versions.
 */
export function buildApp({ force = false, log = console.log } = {}) {
  installApp({ log });
  const hash = inputsHash();
  if (!force && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash) return false;
  run(process.execPath, [path.join('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], log, 'vite build');
  writeFileSync(STAMP, `${hash}\n`);
  return true;
}

// `start(port)`, and again on a random port if the preferred one is taken.
async function withFallback(port, start) {
  try {
    return await start(port);
  } catch (e) {
    if (e?.code !== 'EADDRINUSE' || port === 0) throw e;
    return start(0);
  }
}

/**
 * The app's static server, then the AS and MCP server with CORS for its origin.
 * Resolves to { appUrl, issuer, mcpUrl, as, mcp, stop }.
 */
export async function startDemo({
  appPort = 0, asPort = 0, mcpPort = 0, accessTokenTtl = 60, autoApprove = false, dpopNonces = false, coop = false,
} = {}) {
  // Imported here, not at the top: buildApp/installApp users (the types
  // check) must not load oidc-provider, which warns on Node 20.
  const { startAuthorizationServer } = await import('./stack/as.js');
  const { startMcpServer } = await import('./stack/mcp.js');
  const { startStaticServer } = await import('./stack/start.js');
  const stops = [];
  const stop = () => Promise.all(stops.splice(0).reverse().map((s) => s()));
  try {
    const info = { issuer: null, mcpUrl: null, appUrl: null };
    const web = await withFallback(appPort, (port) => startStaticServer({ dir: DIST_DIR, port, info: () => info }));
    stops.push(web.stop);
    const appOrigin = new URL(web.url).origin;
    const as = await withFallback(asPort, (port) => startAuthorizationServer({
      port, clientOrigins: [appOrigin], accessTokenTtl, autoApprove, dpopNonces, coop,
    }));
    stops.push(as.stop);
    const mcp = await withFallback(mcpPort, (port) => startMcpServer({ port, issuer: as.issuer, corsOrigins: [appOrigin], dpopNonces }));
    stops.push(mcp.stop);
    Object.assign(info, { issuer: as.issuer, mcpUrl: mcp.url, appUrl: web.url });
    return { ...info, as, mcp, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      'app-port': { type: 'string', default: '5173' },
      'as-port': { type: 'string', default: '4000' },
      'mcp-port': { type: 'string', default: '3000' },
      'token-ttl': { type: 'string', default: '60' },
      rebuild: { type: 'boolean', default: false },
      // The AS's pages with Cross-Origin-Opener-Policy: same-origin (popup mode, P-42).
      coop: { type: 'boolean', default: false },
    },
  });
  try {
    if (!buildApp({ force: values.rebuild })) console.log('[demo] www/app/dist is up to date');
  } catch (e) {
    console.error(`[demo] ${e.message}`);
    process.exit(1);
  }
  const demo = await startDemo({
    appPort: Number(values['app-port']),
    asPort: Number(values['as-port']),
    mcpPort: Number(values['mcp-port']),
    accessTokenTtl: Number(values['token-ttl']),
    coop: values.coop,
  });
  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[demo] ${signal}: stopping …`);
    await demo.stop();
    console.log('[demo] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  console.log(`
  mcp-web-auth demo

    Open           ${demo.appUrl}
    MCP server     ${demo.mcpUrl}
    Auth server    ${demo.issuer}   (access tokens live ${values['token-ttl']} s)

  ${LOGIN_HINT}
  Open the app at exactly this address: the servers allow only its origin (CORS).
  Ctrl-C stops the demo.
`);
}
