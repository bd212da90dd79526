// A real MCP resource server (MCP TypeScript SDK, streamable HTTP, stateless)
// that accepts the authorization server's JWT access tokens, publishes RFC 9728
// protected resource metadata and answers 401 / 403 challenges as the MCP
// authorization spec describes (including scope step-up for `write_note`).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, EmbeddedJWK, calculateJwkThumbprint } from 'jose';
import { z } from 'zod';
import { listen, close, allowOrigin } from './util.js';

const SCOPES = ['mcp:read', 'mcp:write'];

export async function startMcpServer({ port = 0, host = '127.0.0.1', issuer, corsOrigins = [], dpopNonces = false } = {}) {
  if (!issuer) throw new Error('startMcpServer: issuer is required');
  // The AS runs already: take its jwks_uri from its metadata rather than guessing.
  const asMeta = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
  const jwks = createRemoteJWKSet(new URL(asMeta.jwks_uri));

  // Adds the SDK's DNS-rebinding protection (Host must be 127.0.0.1/localhost) and JSON parsing.
  const app = createMcpExpressApp({ host });
  app.disable('x-powered-by');
  const server = app.listen(port, host);
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const url = `http://127.0.0.1:${server.address().port}/mcp`;
  const prmUrl = `http://127.0.0.1:${server.address().port}/.well-known/oauth-protected-resource/mcp`;
  const notes = [];

  app.use((req, res, next) => {
    const origin = req.get('Origin');
    if (!allowOrigin(corsOrigins, origin)) return next();
    res.vary('Origin');
    res.set('Access-Control-Allow-Origin', corsOrigins.includes('*') ? '*' : origin);
    // Without this, cross-origin JavaScript cannot read the challenge (PROTOCOL P-2).
    res.set('Access-Control-Expose-Headers', 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, DPoP-Nonce');
    if (req.method !== 'OPTIONS') return next();
    res.set('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, MCP-Protocol-Version, Mcp-Session-Id, Accept, Last-Event-ID, DPoP');
    res.set('Access-Control-Max-Age', '600');
    return res.status(204).end();
  });

  // RFC 9728: `resource` is the server URL exactly (no trailing slash).
  app.get('/.well-known/oauth-protected-resource/mcp', (req, res) => {
    res.json({
      resource: url,
      authorization_servers: [issuer],
      scopes_supported: SCOPES,
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-web-auth demo server',
    });
  });

  // Our own bearer check rather than the SDK's requireBearerAuth: that one sends
  // error="invalid_token" even when no token was sent (RFC 6750 §3.1 says no
  // error code then) and cannot ask for a scope that depends on the tool called.
  // Parameter order as in the MCP spec's examples (any order is valid).
  // A DPoP-bound token is challenged in the DPoP scheme (RFC 9449 §7.1).
  const challenge = (res, status, { error, scope, error_description, scheme = 'Bearer' }) => {
    const params = error
      ? { error, scope, resource_metadata: prmUrl, error_description }
      : { resource_metadata: prmUrl, scope };
    if (scheme === 'DPoP') params.algs = 'ES256';
    const parts = Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${v}"`);
    res.set('WWW-Authenticate', `${scheme} ${parts.join(', ')}`);
    res.status(status).json({ error: error ?? 'unauthorized', error_description });
  };

  // RFC 9449 §4.3, §7: the proof of a DPoP-bound token. Nonces (§9) rotate
  // every 5 minutes; the current and the previous one are accepted.
  const seenJti = new Map();
  const nonceAt = (slot) => createHash('sha256').update(`${nonceSecret}:${slot}`).digest('base64url');
  const nonceSecret = randomBytes(32).toString('hex');
  const slot = () => Math.floor(Date.now() / 300_000);
  const currentNonce = () => nonceAt(slot());
  const verifyProof = async (req, token, claims) => {
    const proof = req.get('DPoP');
    if (!proof || proof.includes(',')) throw new Error('one DPoP proof is required');
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt', algorithms: ['ES256'], maxTokenAge: '60s', clockTolerance: 5,
    });
    if (payload.htm !== req.method) throw new Error('htm');
    if (payload.htu !== url) throw new Error('htu');
    const ath = createHash('sha256').update(token).digest('base64url');
    if (payload.ath !== ath) throw new Error('ath');
    if (await calculateJwkThumbprint(protectedHeader.jwk) !== claims.cnf?.jkt) throw new Error('jkt');
    if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) throw new Error('jti replayed');
    const now = Date.now();
    for (const [jti, at] of seenJti) if (now - at > 120_000) seenJti.delete(jti);
    seenJti.set(payload.jti, now);
    if (dpopNonces && ![currentNonce(), nonceAt(slot() - 1)].includes(payload.nonce)) return 'nonce';
    return 'ok';
  };

  app.all('/mcp', async (req, res) => {
    const [scheme, token] = (req.get('Authorization') ?? '').split(' ');
    const dpop = /^dpop$/i.test(scheme);
    if (!(dpop || /^bearer$/i.test(scheme)) || !token) return challenge(res, 401, { scope: 'mcp:read' });
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer, audience: url, typ: 'at+jwt', algorithms: ['ES256'],
      }));
    } catch (e) {
      return challenge(res, 401, { error: 'invalid_token', error_description: e.code === 'ERR_JWT_EXPIRED' ? 'token expired' : 'token invalid', scope: 'mcp:read', scheme: dpop ? 'DPoP' : 'Bearer' });
    }
    const bound = Boolean(claims.cnf?.jkt);
    if (dpopNonces) res.set('DPoP-Nonce', currentNonce());
    if (bound && !dpop) {
      // A DPoP-bound token used as a bearer token: a stolen token is refused.
      return challenge(res, 401, { error: 'invalid_token', error_description: 'DPoP-bound token used without proof', scheme: 'DPoP' });
    }
    if (dpop) {
      if (!bound) return challenge(res, 401, { error: 'invalid_token', error_description: 'token is not DPoP-bound', scheme: 'DPoP' });
      let verdict;
      try {
        verdict = await verifyProof(req, token, claims);
      } catch {
        return challenge(res, 401, { error: 'invalid_dpop_proof', error_description: 'DPoP proof invalid', scheme: 'DPoP' });
      }
      if (verdict === 'nonce') {
        return challenge(res, 401, { error: 'use_dpop_nonce', error_description: 'Resource server requires nonce in DPoP proof', scheme: 'DPoP' });
      }
    }
    const granted = String(claims.scope ?? '').split(' ');
    // Peek at the JSON-RPC body: write_note needs mcp:write (SEP-2350 step-up).
    const writes = [req.body ?? []].flat().some((m) => m?.method === 'tools/call' && m.params?.name === 'write_note');
    const required = writes ? SCOPES : ['mcp:read'];
    if (!required.every((s) => granted.includes(s))) {
      return challenge(res, 403, { error: 'insufficient_scope', scope: required.join(' '), error_description: 'this call needs a wider scope', scheme: dpop ? 'DPoP' : 'Bearer' });
    }
    req.auth = { token, clientId: claims.client_id, scopes: granted, expiresAt: claims.exp, resource: new URL(url) };

    // Stateless: a fresh server and transport per request.
    const mcp = newMcpServer(notes);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => { transport.close(); mcp.close(); });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  return { url, prmUrl, currentNonce, stop: () => close(server) };
}

function newMcpServer(notes) {
  const mcp = new McpServer({ name: 'mcp-web-auth demo server', version: '1.0.0' });
  mcp.registerTool('echo', {
    description: 'Echo the text back (needs mcp:read)',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  mcp.registerTool('write_note', {
    description: 'Store a note (needs mcp:write)',
    inputSchema: { text: z.string() },
  }, async ({ text }, extra) => {
    notes.push({ text, by: extra.authInfo?.clientId });
    return { content: [{ type: 'text', text: `saved note #${notes.length}` }] };
  });
  return mcp;
}
