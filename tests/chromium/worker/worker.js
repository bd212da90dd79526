// A dedicated module worker that runs mcp-web-auth: no window, no location,
// no sessionStorage or localStorage. Each message is one step of the flow,
// driven by tests/chromium/worker.test.mjs; the reply says what happened.
import init, { McpAuth, finishAuth, McpAuthError, AuthorizationRedirectError } from '/pkg/index.js';

let auth;
const events = [];
const errInfo = (e) => ({
  name: e?.name, code: e?.code, message: e?.message,
  isRedirect: e instanceof AuthorizationRedirectError, isBase: e instanceof McpAuthError,
});

const steps = {
  async start({ serverUrl, redirectUri }) {
    await init();
    auth = new McpAuth({
      serverUrl,
      redirectUri,
      clientName: 'worker test',
      onStatus: (e) => events.push(e.type),
      // The worker cannot navigate: the URL goes to the page.
      onRedirect: (url) => postMessage({ type: 'redirect', url }),
    });
    const globals = {
      window: typeof window, sessionStorage: typeof sessionStorage, localStorage: typeof localStorage, location: typeof location.assign,
    };
    try {
      const res = await auth.fetch(serverUrl);
      return { globals, status: res.status };
    } catch (e) {
      return { globals, error: errInfo(e), events: [...events] };
    }
  },
  async finishModuleLevel({ search }) {
    try {
      return { result: await finishAuth(new URLSearchParams(search)) };
    } catch (e) {
      return { error: errInfo(e) };
    }
  },
  async finish({ search }) {
    try {
      return { result: await auth.finishAuth(new URLSearchParams(search)), tokens: auth.tokens() };
    } catch (e) {
      return { error: errInfo(e) };
    }
  },
  async fetch({ url }) {
    try {
      const res = await auth.fetch(url);
      return { status: res.status, body: await res.json(), tokens: auth.tokens(), events: [...events] };
    } catch (e) {
      return { error: errInfo(e) };
    }
  },
};

onmessage = async ({ data }) => {
  let reply;
  try {
    reply = await steps[data.step](data);
  } catch (e) {
    reply = { crashed: errInfo(e) };
  }
  postMessage({ ...reply, id: data.id });
};
