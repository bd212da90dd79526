// A real OAuth 2.1 authorization server (oidc-provider 9) for local tests of
// mcp-web-auth: open DCR, PKCE S256, RFC 9207 `iss`, RFC 8707 resource
// indicators with JWT access tokens, rotating refresh tokens, CORS for browser
// clients and a click-through login/consent page.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';
import { listen, close, allowOrigin, escapeHtml } from './util.js';
import { createMemoryAdapter } from './memory-adapter.js';

const RESOURCE_SCOPES = ['mcp:read', 'mcp:write'];
const OIDC_SCOPES = ['openid', 'offline_access'];
// `DPoP`: token requests carry a proof (RFC 9449); DPoP-Nonce is exposed below.
const ALLOW_HEADERS = 'Authorization, Content-Type, MCP-Protocol-Version, Accept, DPoP';
// Paths a browser calls with fetch() from another origin (not the navigations).
const CORS_PATHS = /^\/(\.well-known\/|reg$|token$|token\/revocation$|jwks$|me$|__test\/)/;

export async function startAuthorizationServer({
  port = 0, host = '127.0.0.1', clientOrigins = [], accessTokenTtl = 60, autoApprove = false, dpopNonces = false, coop = false,
} = {}) {
  // Listen first: with port 0 the issuer is only known once the port is bound.
  const server = http.createServer();
  await listen(server, port, host);
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const isAllowed = (origin) => allowOrigin(clientOrigins, origin);
  // Where "Back to the app" links point on the AS's own pages (the app's origin when there is one).
  const appOrigin = clientOrigins.find((o) => o !== '*');
  const appUrl = appOrigin ? `${appOrigin}/` : null;

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: randomBytes(8).toString('hex') };

  const events = newEvents();

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
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
      // RFC 9449 (on by default in oidc-provider 9, stated here): with
      // `dpopNonces` every DPoP proof must carry the AS's nonce (`use_dpop_nonce`).
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => dpopNonces },
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
    // oidc-provider's own error page is a bare "invalid_request"; this one says
    // what happened in words and links back to the app.
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = errorPage(out, appUrl);
    },
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

  // coop: the pages a browser navigates to (authorization, sign-in, consent)
  // are sent with Cross-Origin-Opener-Policy: same-origin, as many real
  // authorization servers do; a popup's opener then loses the window
  // (`closed` reads true) while the user signs in (PROTOCOL.md P-42).
  if (coop) {
    provider.use(async (ctx, next) => {
      await next();
      if (!CORS_PATHS.test(ctx.path)) ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    });
  }

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
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      // Back after sign-in, a reload of a finished page, or a page left open too
      // long: the interaction is gone. Say so instead of "invalid_request".
      ctx.status = 400;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = expiredPage(appUrl);
      return undefined;
    }
    if (ctx.method === 'GET' && !autoApprove) {
      const client = await provider.Client.find(details.params.client_id);
      ctx.type = 'html';
      // no-store: Back must not show a consent form whose sign-in is over.
      ctx.set('Cache-Control', 'no-store');
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

// What each scope lets the app do, in words (the consent page lists these).
const SCOPE_WORDS = {
  'mcp:read': ['Use the MCP server\'s tools that only read', 'such as echo'],
  'mcp:write': ['Change data on the MCP server', 'save notes with write_note'],
  openid: ['Know your user name', 'OpenID Connect'],
  offline_access: ['Stay connected while you are away', 'a refresh token'],
};

const PAGE_STYLE = `
:root { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; background: #eef1f6; }
body { margin: 0; display: grid; place-items: start center; min-height: 100vh; }
.box { background: #fff; border: 1px solid #d9dee7; border-radius: 10px; padding: 1.6rem 1.8rem; margin: 3rem 1rem; max-width: 30rem; box-shadow: 0 2px 10px #0001; }
.brand { color: #5d6677; font-size: 0.85rem; margin: 0 0 1rem; letter-spacing: 0.02em; }
h1 { font-size: 1.3rem; margin: 0 0 0.4rem; }
.sub { color: #5d6677; margin: 0 0 1.1rem; }
h2 { font-size: 0.95rem; margin: 1rem 0 0.4rem; }
ul { margin: 0 0 1rem; padding: 0; list-style: none; display: grid; gap: 0.45rem; }
li { border: 1px solid #d9dee7; border-radius: 6px; padding: 0.45rem 0.7rem; }
li small, .hint { color: #5d6677; font-size: 0.85rem; }
code { font: 0.85em ui-monospace, SFMono-Regular, Menlo, monospace; }
label { display: block; font-weight: 600; font-size: 0.9rem; margin: 0.6rem 0 0.25rem; }
input { width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem 0.55rem; border: 1px solid #c5ccd8; border-radius: 5px; }
.buttons { display: flex; gap: 0.6rem; margin: 1.1rem 0 0.6rem; }
button, a.button { font: inherit; padding: 0.45rem 1.1rem; border-radius: 6px; border: 1px solid #2f5bd3; background: #2f5bd3; color: #fff; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: #2f5bd3; }
.who { background: #f4f6f9; border-radius: 6px; padding: 0.45rem 0.7rem; }
`;

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style></head><body><main class="box">
<p class="brand">Demo authorization server · local, for mcp-web-auth</p>
${body}
</main></body></html>`;

function consentPage({ uid, prompt, params, session }, client) {
  const scopes = String(params.scope ?? '').split(' ').filter(Boolean);
  const name = client?.clientName ?? params.client_id;
  const resources = [params.resource ?? []].flat();
  const signedIn = Boolean(session?.accountId);
  const items = scopes.map((s) => {
    const [what, detail] = SCOPE_WORDS[s] ?? [`Use "${s}"`, 'a permission this demo does not describe'];
    return `<li data-scope="${escapeHtml(s)}"><b>${escapeHtml(what)}</b><br><small>${escapeHtml(detail)} · <code>${escapeHtml(s)}</code></small></li>`;
  }).join('');
  const where = resources.length
    ? `<p class="sub">on the MCP server <code id="resource">${escapeHtml(resources.join(' '))}</code></p>`
    : '<p class="sub"><code id="resource"></code></p>';
  const who = signedIn
    ? `<p class="who">Signed in as <b>${escapeHtml(session.accountId)}</b></p><input type="hidden" name="username" value="${escapeHtml(session.accountId)}">`
    : `<label for="username">Your user name</label><input id="username" name="username" value="demo" autocomplete="username">
<p class="hint">Any name works: this demo server has no passwords.</p>`;
  const title = signedIn ? `Allow ${name} to use your account?` : `Sign in to let ${name} use your account`;
  return page(`${title} — demo sign-in`, `<h1><span id="client-name">${escapeHtml(name)}</span> ${signedIn ? 'asks for access' : 'asks you to sign in'}</h1>
${where}
<h2>It wants to</h2>
<ul id="scopes">${items || '<li>Use the MCP server (no specific permission asked)</li>'}</ul>
<form method="post" action="/interaction/${escapeHtml(uid)}" data-prompt="${escapeHtml(prompt.name)}">${who}
<div class="buttons"><button id="approve" name="action" value="approve" type="submit">${signedIn ? 'Allow' : 'Sign in and allow'}</button>
<button id="deny" class="secondary" name="action" value="deny" type="submit">Deny</button></div>
</form>
<p class="hint">Allow: ${escapeHtml(name)} gets a token for exactly these permissions. Deny: you go back to the app and nothing is shared.</p>`);
}

const backLink = (appUrl) => (appUrl
  ? `<p class="buttons"><a class="button" id="back-to-app" href="${escapeHtml(appUrl)}">Back to the app</a></p>`
  : '<p class="hint">Go back to the app you came from.</p>');

function expiredPage(appUrl) {
  return page('This sign-in page has expired — demo sign-in', `<h1 id="expired">This sign-in page has expired</h1>
<p>You have probably finished signing in already (and came back here with the Back button), or the page was open too long. Nothing was changed.</p>
<p>To sign in again, go back to the app and connect.</p>
${backLink(appUrl)}`);
}

function errorPage(out, appUrl) {
  return page('Sign-in could not continue — demo sign-in', `<h1 id="as-error">Sign-in could not continue</h1>
<p>The request that brought you here was not valid for this server, so nothing was signed in or shared. Go back to the app and try again.</p>
<p class="hint">For developers: <code id="as-error-code">${escapeHtml(out?.error ?? 'error')}</code> ${escapeHtml(out?.error_description ?? '')}</p>
${backLink(appUrl)}`);
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
