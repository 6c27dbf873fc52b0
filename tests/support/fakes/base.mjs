// A tiny HTTP server for the provider fakes: 127.0.0.1:0, records every request (method, path,
// query, headers, raw body, parsed JSON), hands each to `handler(req, res, record)`, and posts
// callbacks to Herald with bounded retries (as providers do on non-2xx). Every wait is bounded;
// close() destroys every socket.
import { createServer } from 'node:http';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class FakeServer {
  constructor(name) {
    this.name = name;
    this.requests = [];
    this.callbacks = []; // {url, status, body} of every callback this fake made
    this.sockets = new Set();
    this.waiters = new Set();
  }

  async listen(handler) {
    this.server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url, 'http://x');
        let json;
        try { json = raw ? JSON.parse(raw) : undefined; } catch { json = undefined; }
        const record = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, raw, json, at: Date.now() };
        this.requests.push(record);
        this.notify();
        Promise.resolve(handler(req, res, record)).catch((e) => {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(String(e));
        });
      });
    });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }

  notify() { for (const w of [...this.waiters]) w(); }

  // Resolves with predicate's truthy result (checked on every request/callback), bounded.
  waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const v = predicate(this);
        if (v) { clearTimeout(timer); this.waiters.delete(check); resolve(v); }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.name}: ${what} not met in ${timeoutMs} ms; requests: ${this.requests.map((r) => `${r.method} ${r.path}`).join(', ')}; callbacks: ${this.callbacks.map((c) => `${c.status} ${c.url}`).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  // POSTs (or GETs) to Herald, retrying non-2xx up to `attempts` times (providers retry).
  async callback(url, { method = 'POST', body, headers = {}, attempts = 5, delayMs = 100 } = {}) {
    let last;
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(10_000) });
        last = { url, status: res.status, text: await res.text(), body };
      } catch (e) {
        last = { url, status: 0, text: String(e), body };
      }
      this.callbacks.push(last);
      this.notify();
      if (last.status >= 200 && last.status < 300) return last;
      await sleep(delayMs * 2 ** i);
    }
    return last;
  }

  json(res, status, obj, headers = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(obj));
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(() => r()) ?? r());
  }
}
