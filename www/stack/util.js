// Small helpers shared by the stack's servers.

export function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
}

// Close the listener and every open (keep-alive) connection, so ports are
// free as soon as stop() resolves.
export function close(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// `origins` is a list of exact origins, or contains '*' for any origin.
export const allowOrigin = (origins, origin) => Boolean(origin) && (origins.includes('*') || origins.includes(origin));

export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
