// A real OAuth 2.1 authorization server (oidc-provider 9) for local tests of
// mcp-web-auth: open DCR, PKCE S256, RFC 9207 `iss`, RFC 8707 resource
// indicators with JWT access tokens, rotating refresh tokens, CORS for browser
// clients and a click-through login/consent page.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';
import { listen, close, allowOrigin, escapeHtml } from './util.js';

const RESOURCE_SCOPES = ['mcp:read', 'mcp:write'];
const OIDC_SCOPES = ['openid', 'offline_access'];
const ALLOW_HEADERS = 'Authorization, Content-Type, MCP-Protocol-Version, Accept';
// Paths a browser calls with fetch() from another origin (not the navigations).
const CORS_PATHS = /^\/(\.well-known\/|reg$|token$|token\/revocation$|jwks$|me$|__test\/)/;

export async function startAuthorizationServer({
  port = 0, host = '127.0.0.1', clientOrigins = [], accessTokenTtl = 60, autoApprove = false,
} = {}) {
  // Listen first: with port 0 the issuer is only known once the port is bound.
  const server = http.createServer();
  await listen(server, port, host);
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const isAllowed = (origin) => allowOrigin(clientOrigins, origin);

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };

  const events = newEvents();

  const provider = new Provider(issuer, {
    jwks: { keys: [jwk] },
    // Only an EC key exists: the default RS256 for ID tokens would fail registration.
    clientDefaults: {
      id_token_signed_response_alg: 'ES256',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    // Discovery's scopes_supported, and the set a client may register as its `scope`.
    scopes: [...OIDC_SCOPES, ...RESOURCE_SCOPES],
    responseTypes: ['code'], // OAuth 2.1: no implicit / hybrid
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 knows
    features: {
      devInteractions: { enabled: false }, // our own page below
      registration: { enabled: true }, // open: no initial access token
      // A client revokes only its own tokens (the default policy, stated so
      // oidc-provider stops printing a notice on every revocation).
      revocation: { enabled: true, allowedPolicy: (ctx, client, token) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx, client, oneOf) => oneOf,
        // A code exchange / refresh without `resource` still gets the granted one.
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => {
          const { protocol, hostname } = new URL(resource);
          if (protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(hostname)) {
            throw new errors.InvalidTarget('only local MCP servers are known here');
          }
          return {
            scope: RESOURCE_SCOPES.join(' '),
            audience: resource, // `aud` is exactly the resource string sent
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // The default wants `offline_access`; MCP clients should not need it.
    issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // Refresh tokens outlive the AS browser session (the app never holds that cookie).
    expiresWithSession: () => false,
    // Only reached for origins our CORS middleware did not already accept.
    clientBasedCORS: (ctx, origin) => isAllowed(origin),
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      RefreshToken: 24 * 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
    // http://127.0.0.1: oidc-provider sets `secure` only when the request is https.
    cookies: { keys: [randomBytes(32).toString('hex')] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });

  provider.on('grant.success', (ctx) => recordToken(events, ctx));
  provider.on('grant.error', (ctx, err) => recordToken(events, ctx, err));
  provider.on('authorization.success', (ctx) => {
    events.authorizations += 1;
    events.log.push({ at: Date.now(), type: 'authorization', scope: ctx.oidc.params?.scope });
  });
  provider.on('registration_create.success', (ctx, client) => {
    events.registrations += 1;
    events.log.push({ at: Date.now(), type: 'registration', clientId: client.clientId, scope: client.scope });
  });

  // CORS first, so oidc-provider's own CORS (which skips when Access-Control-*
  // is already set) only handles origins we did not allow.
  provider.use(async (ctx, next) => {
    const origin = ctx.get('Origin');
    if (!origin || !CORS_PATHS.test(ctx.path) || !isAllowed(origin)) return next();
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', clientOrigins.includes('*') ? '*' : origin);
    if (ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method')) {
      ctx.set('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
      ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return undefined;
    }
    ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce');
    return next();
  });

  provider.use(async (ctx, next) => {
    if (ctx.path === '/__test/events') {
      if (ctx.method === 'DELETE') events.reset();
      ctx.body = events;
      return undefined;
    }
    if (ctx.path === '/token/revocation' && ctx.method === 'POST') {
      await next();
      const entry = { tokenTypeHint: ctx.oidc?.params?.token_type_hint ?? null, status: ctx.status, error: ctx.body?.error ?? null };
      events.revocations.push(entry);
      events.log.push({ at: Date.now(), type: 'revocation', ...entry });
      return undefined;
    }
    if (!/^\/interaction\/[^/]+$/.test(ctx.path) || !['GET', 'POST'].includes(ctx.method)) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET' && !autoApprove) {
      const client = await provider.Client.find(details.params.client_id);
      ctx.type = 'html';
      ctx.body = consentPage(details, client);
      return undefined;
    }
    const form = ctx.method === 'POST' ? new URLSearchParams(await readBody(ctx.req)) : new URLSearchParams();
    const result = form.get('action') === 'deny'
      ? { error: 'access_denied', error_description: 'the user denied the request' }
      : await approve(provider, details, form.get('username') || 'demo');
    // interactionResult is interactionFinished without writing the response, which Koa owns.
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    ctx.status = 303;
    return undefined;
  });

  server.on('request', provider.callback());
  return { issuer, url: issuer, events, provider, stop: () => close(server) };
}

// Grant exactly what this authorization request asked for: its OIDC scopes, and
// its resource scopes for each requested resource. An earlier grant (step-up)
// is extended, not replaced.
async function approve(provider, details, username) {
  const { params, session, grantId } = details;
  const accountId = session?.accountId ?? username;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  const requested = String(params.scope ?? '').split(' ').filter(Boolean);
  // Every scope in the `scopes` option counts as an "OIDC scope" for the consent
  // check too, so mcp:* are granted both ways; the access token for the
  // resource carries only the resource scopes.
  const known = requested.filter((s) => [...OIDC_SCOPES, ...RESOURCE_SCOPES].includes(s));
  const resourceScopes = requested.filter((s) => RESOURCE_SCOPES.includes(s));
  if (known.length) grant.addOIDCScope(known.join(' '));
  for (const resource of [params.resource ?? []].flat()) {
    if (resourceScopes.length) grant.addResourceScope(resource, resourceScopes.join(' '));
  }
  const savedId = await grant.save();
  return {
    login: { accountId },
    consent: grantId ? {} : { grantId: savedId },
  };
}

function consentPage({ uid, prompt, params, session }, client) {
  const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
  const name = client?.clientName ?? params.client_id;
  const who = session?.accountId
    ? `<p>Signed in as <b>${escapeHtml(session.accountId)}</b></p><input type="hidden" name="username" value="${escapeHtml(session.accountId)}">`
    : '<label>Username <input id="username" name="username" value="demo"></label>';
  return `<!doctype html><html><head><meta charset="utf-8"><title>Authorize ${escapeHtml(name)}</title></head>
<body><h1>Authorize <span id="client-name">${escapeHtml(name)}</span></h1>
<p>Prompt: <span id="prompt">${escapeHtml(prompt.name)}</span></p>
<p>Resource: <code id="resource">${escapeHtml([params.resource ?? []].flat().join(' '))}</code></p>
<ul id="scopes">${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form method="post" action="/interaction/${escapeHtml(uid)}">${who}
<button id="approve" name="action" value="approve" type="submit">Sign in and allow</button>
<button id="deny" name="action" value="deny" type="submit">Deny</button>
</form></body></html>`;
}

// Plain data, read live by in-process tests (`as.events.refreshRequests`) and
// served as JSON at /__test/events; reset() (DELETE there) starts a new count.
function newEvents() {
  const events = {};
  const reset = () => Object.assign(events, {
    tokenRequests: {}, refreshRequests: 0, registrations: 0, authorizations: 0, revocations: [], invalidGrants: [], log: [],
  });
  Object.defineProperty(events, 'reset', { value: reset });
  return reset();
}

// Each token request, with a short hash of the refresh token it carried (so
// tests can tell whether one was sent twice without the token in the log).
function recordToken(events, ctx, err) {
  const grantType = ctx.oidc.params?.grant_type ?? ctx.oidc.body?.grant_type ?? 'unknown';
  const sent = ctx.oidc.params?.refresh_token ?? ctx.oidc.body?.refresh_token;
  const refreshTokenSeen = sent ? createHash('sha256').update(String(sent)).digest('hex').slice(0, 16) : undefined;
  events.tokenRequests[grantType] = (events.tokenRequests[grantType] ?? 0) + 1;
  if (grantType === 'refresh_token') events.refreshRequests += 1;
  if (err?.error === 'invalid_grant') events.invalidGrants.push({ grantType, description: err.error_description });
  events.log.push({ at: Date.now(), type: 'token', grantType, error: err?.error, refreshTokenSeen });
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}
