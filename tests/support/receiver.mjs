// A webhook receiver for the delivery tests: an HTTP/1.1 server on 127.0.0.1:0 (keep-alive) that
// records every request and checks every Vonage-style signature (contract §2.4) with the official
// verifier, @vonage/jwt `verifySignature`, plus payload_hash = SHA-256 hex of the raw body.
//
//   const rx = await Receiver.start();
//   rx.addSecret(app);                       // {application_id, api_key, signature_secret}
//   rx.url('/status')                        // http://127.0.0.1:PORT/status
//   rx.script('/status', [503, 503, 200]);   // one entry per request on that path, then 200
//   rx.script('/slow', [{ status: 429, retryAfter: 1 }, { status: 200, delayMs: 50 }]);
//   rx.blackHole('/dead');                   // accept, read the request, never answer
//   await rx.waitFor((reqs) => reqs.some(...), 5000, 'what we wait for');
//   rx.events(uuid)                          // [{status, ...}] webhooks of a message, in arrival order
//
// A whole receiver can be a black hole (`Receiver.start({ blackHole: true })`): every request is
// recorded and held open until `close()`. `maxInFlight` tells how many requests were ever open
// at once (per-endpoint concurrency checks).
//
// Every wait is bounded; `close()` destroys every socket, held ones included.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { verifySignature } from '@vonage/jwt';

export const sha256hex = (buf) => createHash('sha256').update(buf).digest('hex');

function decodeJwtParts(token) {
  try {
    const [h, p] = token.split('.');
    return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')) };
  } catch {
    return null;
  }
}

export class Receiver {
  constructor({ blackHole = false, port = 0 } = {}) {
    this.wantPort = port;
    this.requests = [];
    this.byMessage = new Map(); // message_uuid -> [record...]
    this.byEvent = new Map(); // `${message_uuid}/${status}` -> [record...]
    this.secrets = new Map(); // application_id -> {signature_secret, api_key}
    this.scripts = new Map(); // path -> [entry...] consumed one per request
    this.holes = new Set(); // paths that never answer
    this.allBlackHole = blackHole;
    this.held = new Set(); // responses we never answer
    this.sockets = new Set();
    this.waiters = new Set();
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.connections = 0;
    this.server = null;
    this.port = null;
  }

  static async start(options = {}) {
    const rx = new Receiver(options);
    await rx.listen();
    return rx;
  }

  async listen() {
    const server = createServer({ keepAlive: true }, (req, res) => this.onRequest(req, res));
    // Keep idle keep-alive connections longer than any test; never time a held request out.
    server.keepAliveTimeout = 120_000;
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    server.on('connection', (socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.wantPort, '127.0.0.1', resolve);
    });
    this.port = server.address().port;
    this.base = `http://127.0.0.1:${this.port}`;
  }

  url(path = '/status') { return this.base + path; }

  // Secrets to verify signatures with, by application_id (an app as `herald app create` prints it).
  addSecret(app) {
    this.secrets.set(app.application_id, { signature_secret: app.signature_secret, api_key: app.api_key });
    return this;
  }

  // entries: numbers (a status) or {status = 200, retryAfter, delayMs, body, headers, hang, reset},
  // one per request on `path`; once they are used up, every request gets `after`.
  script(path, entries, { after = 200 } = {}) {
    this.scripts.set(path, { entries: [...entries], after, each: false });
    return this;
  }
  // The same, but the sequence restarts for every event: keyed on the body's message_uuid +
  // status (so [503, 503, 200] makes each webhook of each message fail twice, then succeed).
  scriptEach(path, entries, { after = 200 } = {}) {
    this.scripts.set(path, { entries: [...entries], after, each: true, counts: new Map() });
    return this;
  }
  blackHole(path) { this.holes.add(path); return this; }
  heal(path) { this.holes.delete(path); this.scripts.delete(path); return this; }

  // Attempts per event (message_uuid/status) on a path, in arrival order (indexed: the crash
  // test asks this for thousands of events).
  attempts(uuid, status, path) {
    const all = this.byEvent.get(`${uuid}/${status}`) ?? [];
    return path === undefined ? [...all] : all.filter((r) => r.path === path);
  }

  nextEntry(path, record) {
    const s = this.scripts.get(path);
    if (!s) return 200;
    if (!s.each) return s.entries.length > 0 ? s.entries.shift() : s.after;
    const key = `${record.json?.message_uuid}/${record.json?.status}`;
    const n = s.counts.get(key) ?? 0;
    s.counts.set(key, n + 1);
    return n < s.entries.length ? s.entries[n] : s.after;
  }

  onRequest(req, res) {
    const chunks = [];
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let finished = false;
    const done = () => { if (!finished) { finished = true; this.inFlight--; } };
    res.on('close', done);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = req.url.split('?')[0];
      const record = {
        at: Date.now(),
        seq: this.requests.length,
        method: req.method,
        path,
        url: req.url,
        headers: req.headers,
        raw,
        text: raw.toString('utf8'),
        json: undefined,
        answered: null,
      };
      try { record.json = JSON.parse(record.text); } catch { /* not JSON: kept raw */ }
      record.signature = this.verify(record);
      this.requests.push(record);
      if (typeof record.json?.message_uuid === 'string') {
        const u = record.json.message_uuid;
        if (!this.byMessage.has(u)) this.byMessage.set(u, []);
        this.byMessage.get(u).push(record);
        const k = `${u}/${record.json.status}`;
        if (!this.byEvent.has(k)) this.byEvent.set(k, []);
        this.byEvent.get(k).push(record);
      }

      if (this.allBlackHole || this.holes.has(path)) {
        this.held.add(res);
        this.notify();
        return;
      }
      let entry = this.nextEntry(path, record);
      if (typeof entry === 'number') entry = { status: entry };
      const { status = 200, retryAfter, delayMs = 0, body = '', headers = {}, hang = false, reset = false } = entry;
      record.answered = reset ? 'reset' : status;
      this.notify();
      if (hang) { this.held.add(res); return; }
      if (reset) { req.socket.destroy(); return; } // connection dropped without an answer
      const answer = () => {
        if (res.destroyed) return;
        const h = { 'Content-Type': 'text/plain', ...headers };
        if (retryAfter !== undefined) h['Retry-After'] = String(retryAfter);
        res.writeHead(status, h);
        res.end(body);
      };
      if (delayMs > 0) setTimeout(answer, delayMs); else answer();
    });
  }

  // {ok, reason, claims, header}: HS256 JWT verified with the app's signature secret by
  // @vonage/jwt, payload_hash = sha256(raw body), iss "Vonage", api_key and application_id.
  verify(record) {
    const auth = record.headers.authorization ?? '';
    const m = auth.match(/^Bearer (\S+)$/);
    if (!m) return { ok: false, reason: `no Bearer token (Authorization: ${JSON.stringify(auth)})` };
    const token = m[1];
    const parts = decodeJwtParts(token);
    if (!parts) return { ok: false, reason: 'token is not a JWT' };
    const { header, claims } = parts;
    const app = this.secrets.get(claims.application_id);
    if (!app) return { ok: false, reason: `no secret for application_id ${claims.application_id}`, header, claims };
    const problems = [];
    if (header.alg !== 'HS256') problems.push(`alg ${header.alg}`);
    if (!verifySignature(token, app.signature_secret)) problems.push('@vonage/jwt verifySignature = false');
    if (claims.payload_hash !== sha256hex(record.raw)) problems.push(`payload_hash ${claims.payload_hash} != sha256(body) ${sha256hex(record.raw)}`);
    if (claims.iss !== 'Vonage') problems.push(`iss ${claims.iss}`);
    if (claims.api_key !== app.api_key) problems.push(`api_key ${claims.api_key} != ${app.api_key}`);
    if (!Number.isInteger(claims.iat) || Math.abs(claims.iat - Date.now() / 1000) > 300) problems.push(`iat ${claims.iat}`);
    if (typeof claims.jti !== 'string' || claims.jti.length === 0) problems.push(`jti ${claims.jti}`);
    return { ok: problems.length === 0, reason: problems.join('; '), header, claims };
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  // Resolves with predicate's truthy result as soon as it holds (checked now and after every
  // request); rejects after timeoutMs with `what` and a summary of what arrived.
  waitFor(predicate, timeoutMs = 10_000, what = 'condition') {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        let result;
        try { result = predicate(this.requests); } catch (e) { finish(); reject(e); return; }
        if (result) { finish(); resolve(result); }
      };
      const finish = () => { clearTimeout(timer); this.waiters.delete(check); };
      timer = setTimeout(() => {
        finish();
        reject(new Error(`receiver: ${what} not met in ${timeoutMs} ms; got ${this.requests.length} requests:\n${this.summary()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  // Requests whose JSON body has this message_uuid (status and inbound webhooks alike).
  forMessage(uuid, { path } = {}) {
    const all = this.byMessage.get(uuid) ?? [];
    return path === undefined ? [...all] : all.filter((r) => r.path === path);
  }

  // Status webhooks of a message, in arrival order: the parsed bodies (+ `_req`, not enumerable).
  events(uuid, options) {
    return this.forMessage(uuid, options).map((r) => Object.defineProperty({ ...r.json }, '_req', { value: r }));
  }

  statuses(uuid, options) { return this.forMessage(uuid, options).map((r) => r.json.status); }

  // Waits until the message has a webhook with each of these statuses (any order) and returns
  // its events in arrival order.
  async waitForStatuses(uuid, statuses, timeoutMs = 10_000, options = {}) {
    await this.waitFor(() => {
      const seen = this.statuses(uuid, options);
      return statuses.every((s) => seen.includes(s));
    }, timeoutMs, `webhooks ${statuses.join(',')} for ${uuid}`);
    return this.events(uuid, options);
  }

  // Waits for the first webhook matching `match` (a predicate on the parsed body).
  async waitForBody(match, timeoutMs = 10_000, what = 'a matching webhook') {
    return this.waitFor((reqs) => reqs.find((r) => r.json && match(r.json, r)), timeoutMs, what);
  }

  // Asserts every recorded request (or the ones given) carried a valid signature.
  assertAllSigned(requests = this.requests) {
    for (const r of requests) {
      assert.ok(r.signature.ok, `${r.method} ${r.path} #${r.seq} signature: ${r.signature.reason}\nbody: ${r.text.slice(0, 300)}`);
    }
  }

  summary(limit = 40) {
    const lines = this.requests.slice(-limit).map((r) => `  #${r.seq} +${r.at} ${r.method} ${r.path} -> ${r.answered ?? 'held'} `
      + `${r.json ? `${r.json.message_uuid ?? ''} ${r.json.channel ?? ''} ${typeof r.json.status === 'string' ? r.json.status : ''}` : r.text.slice(0, 80)}`);
    return lines.join('\n');
  }

  clear() { this.requests = []; this.byMessage.clear(); this.byEvent.clear(); }

  async close() {
    for (const res of this.held) { try { res.destroy(); } catch { /* gone */ } }
    this.held.clear();
    for (const s of this.sockets) s.destroy();
    this.waiters.clear();
    if (this.server) await new Promise((resolve) => this.server.close(() => resolve()));
    this.server = null;
  }
}

// The events of one message in arrival order, de-duplicated on message_uuid + status (what a
// receiver does, as Vonage advises).
export function dedupe(events) {
  const seen = new Set();
  return events.filter((e) => {
    const key = `${e.message_uuid}/${e.status}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
