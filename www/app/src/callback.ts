// The redirect URI's page: the README's few lines, plus what a person needs
// when it fails. A sign-in that failed (denied, wrong issuer, ...) goes back to
// the app, which shows why; an address whose sign-in is not waiting any more
// (a stale `state`: already used, another tab, a reload, Back) or one with no
// `state` at all is explained here, with a link back.
import init, { finishAuth } from 'mcp-web-auth';
import { explain, renderExplained, SIGNIN_ERROR_KEY } from './explain';

const title = document.querySelector<HTMLElement>('h2');
const box = document.querySelector<HTMLElement>('#callback-error');
const plain = document.querySelector<HTMLElement>('#callback-plain');

function explainHere(heading: string, words: string): void {
  if (title) title.textContent = heading;
  if (plain) {
    plain.textContent = words;
    plain.hidden = false;
  }
  document.body.dataset.result = 'stale';
}

const params = new URLSearchParams(location.search);
if (!params.has('state')) {
  explainHere(
    'Nothing to finish here',
    'This page is where the sign-in page sends you back to the demo. This address has no sign-in result in it (no "state"), so there is nothing to finish. Go back to the demo and click Connect.',
  );
} else {
  await init();
  try {
    const { returnTo } = await finishAuth(params);
    location.replace(returnTo);
  } catch (e) {
    const x = explain(e);
    if (x.code === 'unknown_state' || x.code === 'pending_expired') {
      explainHere(
        'This sign-in link is out of date',
        x.code === 'pending_expired'
          ? 'The sign-in this address belongs to took too long and has expired. Nothing was changed. Go back to the demo and click Connect to sign in again.'
          : 'The sign-in this address belongs to is not waiting any more: it was already finished (you may have come back here with Back or a reload), or it was started in another tab or browser. Nothing was changed. Go back to the demo: if you are signed in, it reconnects by itself; otherwise click Connect.',
      );
      if (box) renderExplained(box, x);
    } else {
      // The app page shows it (and logs it) when it loads.
      sessionStorage.setItem(SIGNIN_ERROR_KEY, JSON.stringify(x));
      location.replace(new URL('./', location.href).href);
    }
  }
}
