// make bench: mcp-web-auth against the MCP TypeScript SDK's client auth
// (@modelcontextprotocol/client, bundled for the page by esbuild), in
// headless Debian Chromium, against local servers with injected latency.
// A benchmark, not a test: it never fails on numbers (it exits non-zero only
// when it cannot run at all). Prints the tables and writes bench/results.md.
//
// Environment: BENCH_RUNS (runs per scenario, default 5; the median is
// reported), BENCH_LATENCY_MS (each way, default 50), BENCH_CALLS (auth.fetch
// overhead calls per kind, default 10000), BENCH_OUT (default bench/results.md).
//
// What is measured (see results.md for the definitions as printed):
// 1. 401 → redirect: from the app's first request's 401 reaching the page to
//    the authorization URL being handed to the app, per server layout
//    (A..D) and registration kind (DCR, pre-registered client id), for ours,
//    the SDK, and ours after `auth.prefetch()` (n/a until the package has it).
// 2. Sequential round trips ("waves") and requests, from the servers' logs.
// 3. init(): import, init() (streaming compile + instantiate of the wasm),
//    init(bytes) (compile + instantiate only); the SDK bundle's import.
// 4. auth.fetch over plain fetch with a valid token, on a no-latency server
//    and over a stub fetch (the library's own cost).

import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { startSite, startApp, asRoutes, resourceRoutes, routes, json } from './servers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const requireTools = createRequire(path.join(repo, 'tools', 'package.json'));
const { chromium } = requireTools('playwright-core');

const RUNS = Number(process.env.BENCH_RUNS || 5);
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50);
const CALLS = Number(process.env.BENCH_CALLS || 10_000);
const OUT = process.env.BENCH_OUT || path.join(here, 'results.md');
const FLOW_TIMEOUT_MS = 20_000;
const PRE_CLIENT_ID = 'pre-client';

// tests/e2e/helpers.mjs (TOOLCHAIN.md: this machine's closed network refuses
// Chromium's background connections).
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const say = (s) => console.log(`[bench] ${s}`);

// ---------------------------------------------------------------- statistics

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function quantile(xs, q) {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const range = (xs) => {
  if (!xs.length) return 'n/a';
  const lo = Math.min(...xs), hi = Math.max(...xs);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
};

/**
 * Sequential round trips in a server log: the longest chain of requests
 * where each one arrived after the previous one had been answered. Each
 * request gets its wave number (1 + the highest wave that ended before it
 * arrived). Plain "overlapping lifetimes" grouping would merge a wave of
 * preflights with the requests that follow them (their lifetimes touch when
 * parallel preflights end a few ms apart), so the chain is what is counted.
 */
function waves(entries) {
  const es = [...entries].sort((a, b) => a.arrive - b.arrive);
  const wave = new Map();
  for (const e of es) {
    let w = 1;
    for (const q of es) if (q !== e && q.end > 0 && q.end <= e.arrive) w = Math.max(w, wave.get(q) + 1);
    wave.set(e, w);
  }
  return { count: es.length ? Math.max(...wave.values()) : 0, wave };
}

// ---------------------------------------------------------------- setup

function machine(browserVersion) {
  const cpu = (() => {
    try {
      return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model;
    } catch {
      return os.cpus()[0]?.model;
    }
  })();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'js', 'Cargo.toml', 'Cargo.lock'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes to src/js/Cargo)';
  } catch {}
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu,
    cores: os.cpus().length,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: browserVersion,
    commit,
    load: os.loadavg()[0],
  };
}

async function bundleSdk() {
  const outfile = path.join(here, '.build', 'sdk.js');
  mkdirSync(path.dirname(outfile), { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(here, 'page', 'sdk-entry.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outfile,
    logLevel: 'warning',
  });
  const bytes = readFileSync(outfile);
  const version = JSON.parse(readFileSync(path.join(here, 'node_modules', '@modelcontextprotocol', 'client', 'package.json'), 'utf8')).version;
  return { version, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

function packageSize() {
  const pkg = path.join(repo, 'pkg');
  const files = [];
  const walk = (d) => {
    for (const name of execFileSync('ls', ['-1', d], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      const f = path.join(d, name);
      if (statSync(f).isDirectory()) walk(f);
      else if (f.endsWith('.js') && !f.endsWith('.d.ts') || f.endsWith('.wasm')) files.push(f);
    }
  };
  walk(pkg);
  let raw = 0, gz = 0, wasm = 0;
  for (const f of files) {
    const b = readFileSync(f);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
    if (f.endsWith('.wasm')) wasm = b.length;
  }
  return { raw, gzip: gz, wasm };
}

// ---------------------------------------------------------------- scenarios

/**
 * Server layouts. `first`: the 401 names its PRM (`resource_metadata`), the
 * PRM is there, the AS metadata answers at the first RFC 8414 URL. `deepest`:
 * the 401 names no PRM, the PRM answers only at the root well-known URL, the
 * AS metadata only at the last OpenID fallback (for an issuer with a path,
 * `/tenant1/.well-known/openid-configuration`, the third of three).
 */
const LAYOUTS = [
  { id: 'A', depth: 'first', as: 'same', label: 'first probes, AS on the server origin' },
  { id: 'B', depth: 'first', as: 'other', label: 'first probes, AS on another origin' },
  { id: 'C', depth: 'deepest', as: 'same', label: 'deepest fallbacks, AS on the server origin' },
  { id: 'D', depth: 'deepest', as: 'other', label: 'deepest fallbacks, AS on another origin (issuer with a path)' },
];
const REGISTRATIONS = [
  { id: 'dcr', label: 'DCR' },
  { id: 'pre', label: 'pre-registered' },
];
const CLIENTS = [
  { id: 'ours', label: 'mcp-web-auth' },
  { id: 'sdk', label: 'MCP SDK' },
  { id: 'prefetch', label: 'mcp-web-auth after prefetch()' },
];

function configure(layout, sites) {
  const { rs, as } = sites;
  const serverUrl = `${rs.origin}/mcp`;
  const asSite = layout.as === 'same' ? rs : as;
  const issuer = layout.as === 'same' ? rs.origin : layout.depth === 'deepest' ? `${as.origin}/tenant1` : as.origin;
  const issuerPath = new URL(issuer).pathname.replace(/\/$/, '');
  const metadataPath =
    layout.depth === 'first'
      ? `/.well-known/oauth-authorization-server${issuerPath}`
      : issuerPath
        ? `${issuerPath}/.well-known/openid-configuration`
        : '/.well-known/openid-configuration';
  const prmPath = layout.depth === 'first' ? '/.well-known/oauth-protected-resource/mcp' : '/.well-known/oauth-protected-resource';
  const prm = {
    resource: layout.depth === 'first' ? serverUrl : rs.origin,
    authorization_servers: [issuer],
    scopes_supported: ['mcp:read'],
    bearer_methods_supported: ['header'],
  };
  const challenge =
    layout.depth === 'first' ? `Bearer resource_metadata="${rs.origin}${prmPath}", scope="mcp:read"` : 'Bearer scope="mcp:read"';
  const prmRoute = (req, url) => (req.method === 'GET' && url.pathname === prmPath ? json(200, prm) : undefined);
  const asRoute = asRoutes(issuer, metadataPath);
  rs.setRoutes(routes(resourceRoutes('/mcp', challenge), prmRoute, asSite === rs ? asRoute : undefined));
  as.setRoutes(asSite === as ? asRoute : () => undefined);
  return { serverUrl, issuer, authorizeUrl: `${issuer}/authorize`, prmPath, metadataPath };
}

function withTimeout(p, ms, what) {
  let timer;
  const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${what}: no answer after ${ms} ms`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Total time at least one request was in flight at a server (union of lifetimes). */
function busyMs(entries) {
  const iv = entries.filter((e) => e.end > 0).map((e) => [e.arrive, e.end]).sort((a, b) => a[0] - b[0]);
  let total = 0, s = -Infinity, t = -Infinity;
  for (const [a, b] of iv) {
    if (a > t) { if (t > s) total += t - s; s = a; t = b; } else t = Math.max(t, b);
  }
  if (t > s) total += t - s;
  return total;
}

async function openPage(browser, app) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${app.origin}/bench/bench.html`);
  await page.waitForFunction(() => window.benchReady, null, { timeout: 10_000 });
  return { context, page, errors };
}

const short = (e, sites) => {
  const site = e.site === 'rs' ? 'S' : 'AS';
  let p = e.path.split('?')[0];
  if (p.length > 48) p = `${p.slice(0, 45)}...`;
  return `${e.method === 'OPTIONS' ? 'OPTIONS' : e.method} ${site}${p} ${e.status}`;
};

/** One flow in a fresh browser context; returns times and the log analysis. */
async function flowOnce(browser, app, sites, layout, reg, client) {
  const env = configure(layout, sites);
  const clientId = reg.id === 'pre' ? PRE_CLIENT_ID : undefined;
  const { context, page, errors } = await openPage(browser, app);
  try {
    await page.evaluate((c) => (c === 'sdk' ? window.bench.loadSdk() : window.bench.loadOurs()), client.id);
    sites.rs.clearLog();
    sites.as.clearLog();
    let r;
    let tClickServer = -Infinity;
    let prefetch;
    if (client.id === 'sdk') {
      r = await withTimeout(page.evaluate((a) => window.bench.sdkRun(a), { serverUrl: env.serverUrl, clientId }), FLOW_TIMEOUT_MS, 'SDK flow');
    } else {
      prefetch = await withTimeout(
        page.evaluate((a) => window.bench.oursPrepare(a), { serverUrl: env.serverUrl, clientId, prefetch: client.id === 'prefetch' }),
        FLOW_TIMEOUT_MS,
        'prepare',
      );
      if (prefetch.na) return { na: prefetch.na };
      await new Promise((res) => setTimeout(res, 20)); // let the prefetch's last log entries end
      tClickServer = performance.now();
      r = await withTimeout(page.evaluate(() => window.bench.oursClick()), FLOW_TIMEOUT_MS, 'flow');
    }
    await new Promise((res) => setTimeout(res, 20));
    const all = [...sites.rs.log, ...sites.as.log].map((e) => ({ ...e }));
    const before = all.filter((e) => e.arrive < tClickServer);
    const click = all.filter((e) => e.arrive >= tClickServer);
    // The app's own request (its preflight and the POST that is answered 401)
    // is the same for both clients: counted apart, "after the 401" is the rest.
    const first401 = click.filter((e) => e.method === 'POST' && e.status === 401 && e.path.split('?')[0] === '/mcp').sort((a, b) => a.arrive - b.arrive)[0];
    const after = first401 ? click.filter((e) => e.arrive >= first401.end) : [];
    const w = waves(after);
    const wNoPre = waves(after.filter((e) => e.method !== 'OPTIONS'));
    let error = r.error || (errors.length ? errors.join('; ') : undefined);
    if (!error && !(r.url || '').startsWith(env.authorizeUrl)) error = `redirected to ${r.url}, expected ${env.authorizeUrl}`;
    if (!error) {
      const cid = new URL(r.url).searchParams.get('client_id') || '';
      if (reg.id === 'pre' ? cid !== PRE_CLIENT_ID : !cid.startsWith('bench-client-')) error = `client_id ${cid} in the authorization URL`;
    }
    const byWave = [];
    for (const [e, n] of w.wave) (byWave[n - 1] ||= []).push(short(e, sites));
    const ms = r.t401 !== undefined && r.tRedirect !== undefined ? r.tRedirect - r.t401 : NaN;
    return {
      error,
      ms,
      clientMs: ms - busyMs(after),
      clickMs: r.tRedirect !== undefined ? r.tRedirect - r.tClick : NaN,
      waves: w.count,
      wavesNoPreflight: wNoPre.count,
      requests: after.length,
      preflights: after.filter((e) => e.method === 'OPTIONS').length,
      clickRequests: click.length,
      prefetchRequests: before.length,
      prefetchMs: prefetch?.prefetchMs,
      prefetchError: prefetch?.prefetchError,
      byWave: byWave.map((ws) => ws.sort().join(', ')),
    };
  } catch (e) {
    return { error: String(e && e.message || e), ms: NaN };
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const t0 = Date.now();
  const sdkBundle = await bundleSdk();
  const ourSize = packageSize();
  say(`SDK: @modelcontextprotocol/client ${sdkBundle.version}, page bundle ${sdkBundle.raw} B (${sdkBundle.gzip} B gzip)`);

  const app = await startApp({
    mounts: {
      '/pkg/': path.join(repo, 'pkg'),
      '/sdk/': path.join(here, '.build'),
      '/bench/': path.join(here, 'page'),
    },
  });
  const rs = await startSite({ name: 'rs', latencyMs: LATENCY });
  const as = await startSite({ name: 'as', latencyMs: LATENCY });
  const fast = await startSite({ name: 'fast', latencyMs: 0 });
  const sites = { rs, as };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  const info = machine(browser.version());
  say(`${info.cpu}, ${info.cores} cores; Chromium ${info.chromium}; Node ${info.node}; ${RUNS} runs each, ${LATENCY} ms each way`);

  try {
    // 1 + 2: the flows. Runs interleave (rep outermost), each in a fresh context.
    const results = new Map(); // key → [run...]
    const key = (l, r, c) => `${l.id}/${r.id}/${c.id}`;
    const na = new Map();
    for (let rep = 0; rep < RUNS; rep++) {
      for (const layout of LAYOUTS) {
        for (const reg of REGISTRATIONS) {
          for (const client of CLIENTS) {
            const k = key(layout, reg, client);
            if (na.has(client.id)) continue;
            const r = await flowOnce(browser, app, sites, layout, reg, client);
            if (r.na) {
              na.set(client.id, r.na);
              continue;
            }
            if (!results.has(k)) results.set(k, []);
            results.get(k).push(r);
            if (r.error) say(`${k} run ${rep + 1}: ${r.error}`);
          }
        }
      }
      say(`flows: run ${rep + 1}/${RUNS} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }

    // 3: load and init, each in a fresh context.
    const loads = { import: [], init: [], initBytes: [], sdkImport: [] };
    for (let rep = 0; rep < RUNS; rep++) {
      for (const kind of ['ours', 'bytes', 'sdk']) {
        const { context, page } = await openPage(browser, app);
        try {
          if (kind === 'ours') {
            const r = await page.evaluate(() => window.bench.loadOurs());
            loads.import.push(r.importMs);
            loads.init.push(r.initMs);
          } else if (kind === 'bytes') {
            loads.initBytes.push((await page.evaluate(() => window.bench.initFromBytes())).initBytesMs);
          } else {
            loads.sdkImport.push((await page.evaluate(() => window.bench.loadSdk())).importMs);
          }
        } finally {
          await context.close();
        }
      }
    }
    say('init: done');

    // 4: auth.fetch overhead (no injected latency).
    const tokens = new Set();
    const fastIssuer = fast.origin;
    fast.setRoutes(
      routes(
        resourceRoutes('/mcp', `Bearer resource_metadata="${fast.origin}/.well-known/oauth-protected-resource/mcp"`, tokens),
        (req, url) =>
          req.method === 'GET' && url.pathname === '/.well-known/oauth-protected-resource/mcp'
            ? json(200, { resource: `${fast.origin}/mcp`, authorization_servers: [fastIssuer], scopes_supported: ['mcp:read'] })
            : undefined,
        asRoutes(fastIssuer, '/.well-known/oauth-authorization-server', tokens),
      ),
    );
    let overhead;
    {
      const { context, page } = await openPage(browser, app);
      try {
        const prep = await withTimeout(page.evaluate((a) => window.bench.overheadPrepare(a), { serverUrl: `${fast.origin}/mcp`, issuer: fastIssuer }), FLOW_TIMEOUT_MS, 'overhead sign-in');
        if (prep.error || prep.status !== 200) throw new Error(`no valid token for the overhead run: ${prep.error || `status ${prep.status}`}`);
        const token = [...tokens][0];
        const args = { token, n: CALLS, block: Math.max(100, Math.floor(CALLS / 10)), warmup: Math.min(200, CALLS) };
        fast.clearLog();
        const net = await page.evaluate((a) => window.bench.overheadRun(a), { ...args, stub: false });
        net.preflights = fast.log.filter((e) => e.method === 'OPTIONS').length;
        say('auth.fetch overhead over the network: done');
        const stub = await page.evaluate((a) => window.bench.overheadRun(a), { ...args, stub: true });
        say('auth.fetch overhead over a stub fetch: done');
        overhead = { net, stub, isolated: net.isolated };
      } catch (e) {
        overhead = { error: String(e && e.message || e) };
        say(`auth.fetch overhead: ${overhead.error}`);
      } finally {
        await context.close();
      }
    }

    info.loadEnd = os.loadavg()[0];
    const report = render({ info, results, na, key, loads, overhead, sdkBundle, ourSize, seconds: (Date.now() - t0) / 1000 });
    console.log(`\n${report}`);
    writeFileSync(OUT, report);
    say(`wrote ${path.relative(process.cwd(), OUT)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await browser.close();
    await Promise.all([app.close(), rs.close(), as.close(), fast.close()]);
  }
}

// ---------------------------------------------------------------- report

function render({ info, results, na, key, loads, overhead, sdkBundle, ourSize, seconds }) {
  const L = [];
  const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
  L.push('# make bench: results');
  L.push('');
  L.push('Written by `make bench` (bench/run.mjs); numbers move from machine to machine and run to run: compare ratios, not milliseconds.');
  L.push('');
  L.push(`- date: ${info.date}; ${RUNS} runs per cell, each in a fresh browser context (median shown); took ${seconds.toFixed(0)} s`);
  L.push(`- machine: ${info.cpu}, ${info.cores} cores, ${info.memGiB} GiB, ${info.os}; load average (1 min) ${info.load.toFixed(1)} at the start, ${info.loadEnd.toFixed(1)} at the end`);
  if (Math.max(info.load, info.loadEnd) > info.cores) L.push(`- **warning: the machine was busy (load above its ${info.cores} cores): the times are inflated and noisy; the round-trip and request counts are not affected**`);
  L.push(`- Chromium ${info.chromium} (headless, Debian), Node ${info.node}`);
  L.push(`- mcp-web-auth at ${info.commit}: ${kb(ourSize.raw)} JS + wasm (${kb(ourSize.gzip)} gzip; wasm ${kb(ourSize.wasm)})`);
  L.push(`- MCP SDK: @modelcontextprotocol/client ${sdkBundle.version}, \`auth\` + \`extractWWWAuthenticateParams\` bundled by esbuild (minified): ${kb(sdkBundle.raw)} (${kb(sdkBundle.gzip)} gzip)`);
  L.push(`- servers: Node http on 127.0.0.1, ${LATENCY} ms injected before handling and ${LATENCY} ms before answering each request, preflights included (one round trip = ${2 * LATENCY} ms); the page is on a third origin, so every request is cross-origin (CORS)`);
  L.push('');
  L.push('Server layouts: **A** first probes, AS on the server\'s origin; **B** first probes, AS on another origin; **C** deepest fallbacks, AS on the server\'s origin; **D** deepest fallbacks, AS on another origin with a path issuer.');
  L.push('"First probes": the 401 names its PRM (`resource_metadata`), the AS metadata is at the first RFC 8414 URL. "Deepest": the 401 names no PRM, the PRM answers only at the root well-known URL, the AS metadata only at the last OpenID Connect fallback.');
  L.push('The brief\'s (a) first probes = A, B; (b) deepest = C, D; (c) AS on the server\'s origin = A, C; (d) AS on another origin = B, D.');
  L.push('');

  L.push('## 1. From the first 401 to the redirect');
  L.push('');
  L.push('ms: from the app request\'s 401 reaching the page to the authorization URL handed to the app (our `onRedirect`; the SDK\'s `redirectToAuthorization`), median.');
  L.push('waves: sequential round trips after the 401, from the servers\' logs (the longest chain of requests each sent after the previous one was answered); in brackets without the CORS preflights (what a same-origin server or a warm preflight cache would cost).');
  L.push('off the network: ms minus the time at least one request was in flight at a server (the client\'s own work between round trips, in the page and in Chromium\'s network stack).');
  L.push('requests: requests after the 401 (of which preflights).');
  L.push('');
  L.push('| layout | registration | client | ms | of which off the network | waves (no preflights) | requests (preflights) | errors |');
  L.push('|---|---|---|---:|---:|---:|---:|---|');
  const cell = (layout, reg, client) => {
    if (na.has(client.id)) return null;
    const rs = results.get(key(layout, reg, client)) || [];
    const ok = rs.filter((r) => !r.error);
    return {
      ms: median(ok.map((r) => r.ms)),
      clientMs: median(ok.map((r) => r.clientMs)),
      waves: median(ok.map((r) => r.waves)),
      wavesRange: range(ok.map((r) => r.waves)),
      wavesNoPre: range(ok.map((r) => r.wavesNoPreflight)),
      requests: range(ok.map((r) => r.requests)),
      preflights: range(ok.map((r) => r.preflights)),
      prefetchRequests: range(ok.map((r) => r.prefetchRequests)),
      errors: rs.length - ok.length,
      firstError: rs.find((r) => r.error)?.error,
      n: rs.length,
      byWave: ok[0]?.byWave,
    };
  };
  for (const layout of LAYOUTS) {
    for (const reg of REGISTRATIONS) {
      for (const client of CLIENTS) {
        const c = cell(layout, reg, client);
        if (!c) {
          L.push(`| ${layout.id} | ${reg.label} | ${client.label} | n/a | n/a | n/a | n/a | ${na.get(client.id)} |`);
          continue;
        }
        const err = c.errors ? `${c.errors}/${c.n}: ${String(c.firstError).replace(/\|/g, '\\|').slice(0, 160)}` : '';
        const pre = client.id === 'prefetch' ? ` + ${c.prefetchRequests} in prefetch()` : '';
        L.push(`| ${layout.id} | ${reg.label} | ${client.label} | ${fmt(c.ms, 0)} | ${fmt(c.clientMs, 0)} | ${c.wavesRange} (${c.wavesNoPre}) | ${c.requests} (${c.preflights})${pre} | ${err} |`);
      }
    }
  }
  L.push('');
  L.push('Ratios, ours / SDK (below 1: ours is faster or needs fewer round trips):');
  L.push('');
  L.push('| layout | registration | ms ours / SDK | waves ours / SDK | ms after prefetch / SDK |');
  L.push('|---|---|---:|---:|---:|');
  for (const layout of LAYOUTS) {
    for (const reg of REGISTRATIONS) {
      const o = cell(layout, reg, CLIENTS[0]);
      const s = cell(layout, reg, CLIENTS[1]);
      const p = cell(layout, reg, CLIENTS[2]);
      L.push(
        `| ${layout.id} | ${reg.label} | ${fmt(o.ms / s.ms, 2)} | ${o.waves}/${s.waves} = ${fmt(o.waves / s.waves, 2)} | ${p ? fmt(p.ms / s.ms, 2) : 'n/a'} |`,
      );
    }
  }
  L.push('');
  L.push('<details><summary>The waves of each flow (first run; S = the MCP server\'s origin, AS = the other origin)</summary>');
  L.push('');
  for (const layout of LAYOUTS) {
    for (const reg of REGISTRATIONS) {
      for (const client of CLIENTS) {
        const c = cell(layout, reg, client);
        if (!c || !c.byWave) continue;
        L.push(`- ${layout.id}, ${reg.label}, ${client.label}:`);
        c.byWave.forEach((w, i) => L.push(`  ${i + 1}. ${w}`));
      }
    }
  }
  L.push('');
  L.push('</details>');
  L.push('');

  L.push('## 2. Loading');
  L.push('');
  L.push('Fresh browser context each time (no code cache), files from loopback without injected latency; median (min–max) of the runs, ms.');
  L.push('');
  L.push('| what | ms |');
  L.push('|---|---:|');
  const mm = (xs) => `${fmt(median(xs), 2)} (${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)})`;
  L.push(`| mcp-web-auth: \`import\` of the package entry and glue | ${mm(loads.import)} |`);
  L.push(`| mcp-web-auth: \`await init()\` (fetch + streaming compile + instantiate of the wasm) | ${mm(loads.init)} |`);
  L.push(`| mcp-web-auth: \`await init({ module_or_path: bytes })\` (compile + instantiate only) | ${mm(loads.initBytes)} |`);
  L.push(`| MCP SDK: \`import\` of its bundle (parse + evaluate; no init step) | ${mm(loads.sdkImport)} |`);
  L.push('');

  L.push('## 3. `auth.fetch` over plain `fetch`, with a valid token');
  L.push('');
  if (overhead.error) {
    L.push(`Not measured: ${overhead.error}`);
  } else {
    L.push(`${CALLS} sequential calls of each (a POST with a JSON-RPC body, the answer's body read), in alternating blocks after a warm-up; plain \`fetch\` writes \`Authorization\` by hand. "Network": a local server on another origin, no injected latency (preflight cached: max-age 7200). "Stub": both over a \`fetch\` that answers at once, i.e. the library's own cost. Per call, ms (timer resolution ${overhead.isolated ? '5 µs, cross-origin isolated page' : '100 µs'}).`);
    L.push('');
    L.push('| transport | call | mean | p50 | p95 | statuses |');
    L.push('|---|---|---:|---:|---:|---|');
    const row = (name, r) => {
      for (const kind of ['plain', 'auth']) {
        const xs = r[kind];
        L.push(`| ${name} | ${kind === 'plain' ? 'fetch' : 'auth.fetch'} | ${fmt(mean(xs), 4)} | ${fmt(quantile(xs, 0.5), 4)} | ${fmt(quantile(xs, 0.95), 4)} | ${JSON.stringify(r.statuses[kind]).replace(/[{}"]/g, '')} |`);
      }
      L.push(`| ${name} | **difference** | **${fmt(mean(r.auth) - mean(r.plain), 4)}** | ${fmt(quantile(r.auth, 0.5) - quantile(r.plain, 0.5), 4)} | ${fmt(quantile(r.auth, 0.95) - quantile(r.plain, 0.95), 4)} | |`);
    };
    row('network', overhead.net);
    L.push(`| network | preflights during the run | ${overhead.net.preflights} | | | |`);
    row('stub', overhead.stub);
  }
  L.push('');
  return `${L.join('\n')}\n`;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
