// A recording HTTP proxy on 127.0.0.1: point a client (the Vonage SDK) at it, it forwards every
// request to Herald and remembers what went over the wire (method, path, headers, body, and
// the answer), so a test can check which credentials and which JSON the client really sent.
import { createServer } from 'node:http';
import { withTimeout, REQUEST_TIMEOUT_MS } from './herald.mjs';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length', 'upgrade']);

export async function startRecordingProxy(target) {
  const exchanges = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {};
      for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
      const exchange = { method: req.method, path: req.url, headers: req.headers, body, status: null, response: null };
      exchanges.push(exchange);
      try {
        const upstream = await fetch(target + req.url, {
          method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await upstream.text();
        exchange.status = upstream.status;
        exchange.response = text;
        const out = {};
        upstream.headers.forEach((v, k) => { if (!HOP_BY_HOP.has(k) && k !== 'content-encoding') out[k] = v; });
        res.writeHead(upstream.status, out);
        res.end(text);
      } catch (e) {
        exchange.status = 502;
        exchange.response = String(e);
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String(e));
      }
    });
  });
  await withTimeout(new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  }), 5000, 'proxy did not listen');
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    exchanges,
    last() { return exchanges[exchanges.length - 1]; },
    clear() { exchanges.length = 0; },
    close() {
      server.closeAllConnections?.();
      return withTimeout(new Promise((resolve) => server.close(() => resolve())), 5000, 'proxy did not close');
    },
  };
}
