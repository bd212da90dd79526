#!/usr/bin/env node
// Starts the local stack and prints one JSON line once everything listens:
//   node www/stack/start.js [--as-port N] [--mcp-port N] [--auto-approve]
//                           [--static DIR --static-port N] [--cors-origin O]... [--coop]
// --cors-origin (repeatable) limits browser origins; default '*', because test
// pages (wasm-pack test, Playwright) run on ports nobody knows in advance.
// --coop sends Cross-Origin-Opener-Policy: same-origin on the AS's pages.
// Stops on SIGINT, SIGTERM, or when stdin (a pipe or terminal) closes, so a
// parent process that dies takes the stack with it.
import http from 'node:http';
import { fstatSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startAuthorizationServer } from './as.js';
import { startMcpServer } from './mcp.js';
import { listen, close } from './util.js';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8',
};

// Serves DIR read-only; `/stack.json` tells a page where the AS and MCP server are.
export async function startStaticServer({ dir, port = 0, host = '127.0.0.1', info = () => ({}) }) {
  const root = path.resolve(dir);
  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/stack.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify(info()));
    }
    let file = path.join(root, decodeURIComponent(pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await listen(server, port, host);
  return { url: `http://127.0.0.1:${server.address().port}/`, stop: () => close(server) };
}

// Starts AS, then MCP server, then (optionally) the static server.
export async function startStack({
  asPort = 0, mcpPort = 0, autoApprove = false, staticDir, staticPort = 0, corsOrigins = ['*'], accessTokenTtl,
  dpopNonces = false, coop = false,
} = {}) {
  const stops = [];
  try {
    const as = await startAuthorizationServer({ port: asPort, clientOrigins: corsOrigins, autoApprove, accessTokenTtl, dpopNonces, coop });
    stops.push(as.stop);
    const mcp = await startMcpServer({ port: mcpPort, issuer: as.issuer, corsOrigins, dpopNonces });
    stops.push(mcp.stop);
    const info = { issuer: as.issuer, mcpUrl: mcp.url, appUrl: null };
    if (staticDir) {
      const web = await startStaticServer({ dir: staticDir, port: staticPort, info: () => info });
      stops.push(web.stop);
      info.appUrl = web.url;
    }
    return { ...info, as, mcp, stop: () => Promise.all(stops.reverse().map((s) => s())) };
  } catch (e) {
    await Promise.all(stops.map((s) => s()));
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      'as-port': { type: 'string', default: '0' },
      'mcp-port': { type: 'string', default: '0' },
      'auto-approve': { type: 'boolean', default: false },
      static: { type: 'string' },
      'static-port': { type: 'string', default: '0' },
      'cors-origin': { type: 'string', multiple: true, default: ['*'] },
      // Both servers require DPoP nonces (RFC 9449 §8, §9).
      'dpop-nonces': { type: 'boolean', default: false },
      coop: { type: 'boolean', default: false },
    },
  });
  const stack = await startStack({
    asPort: Number(values['as-port']),
    mcpPort: Number(values['mcp-port']),
    autoApprove: values['auto-approve'],
    staticDir: values.static,
    staticPort: Number(values['static-port']),
    corsOrigins: values['cors-origin'],
    dpopNonces: values['dpop-nonces'],
    coop: values.coop,
  });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Watch stdin only when it is a pipe, socket or terminal: a background job
  // (`node start.js &`) gets /dev/null, which would "close" at once.
  const st = fstatSync(0);
  if (process.stdin.isTTY || st.isFIFO() || st.isSocket()) {
    process.stdin.on('end', shutdown).on('close', shutdown).resume();
  }
  // Printed last: whoever reads this line may signal us at once.
  process.stdout.write(`${JSON.stringify({ issuer: stack.issuer, mcpUrl: stack.mcpUrl, appUrl: stack.appUrl })}\n`);
}
