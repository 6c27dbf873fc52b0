// Test harness for the Node integration and SDK-compatibility tests.
//
// Runs the real `herald` binary (HERALD_BIN, set by ctest) on 127.0.0.1 with a free port and a
// fresh temporary data directory, and helps make applications, credentials and requests.
// Every wait is bounded, every process it starts is killed when the test process exits, and
// every response seen through `Herald#request` is checked for an X-Request-Id header.
//
// By hand:  HERALD_BIN=build/asan/cmd/herald/herald node --test --test-concurrency=1 tests/integration/
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHmac, createSign, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const START_TIMEOUT_MS = 20_000;
export const STOP_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 15_000;
export const CLI_TIMEOUT_MS = 20_000;

export const ADMIN_TOKEN = `test-admin-${randomBytes(12).toString('hex')}`;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// message_uuid: an RFC 9562 UUID, version 7 (time-ordered, decision 0004) or 4.
export const MESSAGE_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ANY_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// Safety net: whatever a test forgets, no herald outlives the test process.
const live = new Set();
process.on('exit', () => {
  for (const proc of live) {
    try { proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

export function heraldBin() {
  const bin = process.env.HERALD_BIN;
  if (!bin) {
    throw new Error('HERALD_BIN must point at the herald binary (ctest sets it); by hand: '
      + 'HERALD_BIN=build/asan/cmd/herald/herald node --test --test-concurrency=1 tests/integration/');
  }
  const path = resolve(bin);
  if (!existsSync(path)) throw new Error(`HERALD_BIN=${bin}: no such file`);
  return path;
}

export function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs `herald ARGS...`; never throws for a non-zero exit: returns {code, stdout, stderr, json}.
export function runCli(args, { timeout = CLI_TIMEOUT_MS, env = {} } = {}) {
  const bin = heraldBin();
  return new Promise((resolvePromise, reject) => {
    execFile(bin, args, { timeout, killSignal: 'SIGKILL', env: { ...process.env, ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`herald ${args.join(' ')}: ${error.message}\n${stderr}`));
          return;
        }
        let json;
        try { json = JSON.parse(stdout); } catch { json = undefined; }
        resolvePromise({ code: error ? error.code : 0, stdout, stderr, json });
      });
  });
}

// A long-running `herald ARGS...` (e.g. `webhooks listen`): output collected, killed at exit.
//   const p = spawnHerald(['webhooks', 'listen', ...]); await p.waitForOutput(/re/, 5000); await p.kill();
export function spawnHerald(args, { env = {} } = {}) {
  const proc = spawn(heraldBin(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(proc);
  const exited = new Promise((resolveExit) => {
    proc.once('exit', (code, signal) => { live.delete(proc); resolveExit({ code, signal }); });
  });
  const handle = { proc, exited, stdout: '', stderr: '', waiters: new Set() };
  const notify = () => { for (const w of [...handle.waiters]) w(); };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { handle.stdout += d; notify(); });
  proc.stderr.on('data', (d) => { handle.stderr += d; notify(); });
  exited.then(notify);
  let done = false;
  exited.then(() => { done = true; });
  // Resolves with the match of `re` on stdout (or stderr with {stream: 'stderr'}).
  handle.waitForOutput = (re, timeoutMs = 10_000, { stream = 'stdout' } = {}) => new Promise((resolveWait, reject) => {
    let timer;
    const check = () => {
      const m = handle[stream].match(re);
      if (m) { finish(); resolveWait(m); } else if (done) { finish(); reject(new Error(`herald ${args.join(' ')} exited before printing ${re}\nstdout:\n${handle.stdout}\nstderr:\n${handle.stderr}`)); }
    };
    const finish = () => { clearTimeout(timer); handle.waiters.delete(check); };
    timer = setTimeout(() => { finish(); reject(new Error(`herald ${args.join(' ')}: no ${re} in ${timeoutMs} ms\nstdout:\n${handle.stdout}\nstderr:\n${handle.stderr}`)); }, timeoutMs);
    handle.waiters.add(check);
    check();
  });
  handle.kill = async (signal = 'SIGTERM') => {
    if (!done) proc.kill(signal);
    try {
      return await withTimeout(exited, STOP_TIMEOUT_MS, `herald ${args[0]} did not stop`);
    } catch (e) {
      proc.kill('SIGKILL');
      await exited;
      throw e;
    }
  };
  return handle;
}

// A free TCP port on 127.0.0.1 (bound then released: a tiny race, fine for tests).
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

// `herald webhooks list` output: one JSON object per line (non-JSON lines are ignored).
export function parseJsonLines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).flatMap((l) => {
    try { return [JSON.parse(l)]; } catch { return []; }
  });
}

export class Herald {
  // config: a herald.toml as an object (written with toToml) or as TOML text; it is written
  // next to the data dir and passed as `--config FILE` on every start.
  constructor({ dataDir, adminToken = ADMIN_TOKEN, config } = {}) {
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
    this.ownsDataDir = !dataDir;
    this.adminToken = adminToken;
    this.configPath = null;
    if (config !== undefined) this.writeConfig(config);
    this.lastStart = {};
    this.starts = 0;
    this.proc = null;
    this.exited = null;
    this.stdout = '';
    this.stderr = '';
    this.base = null;
    this.port = null;
  }

  // new Herald(options).start(startOptions), in one call.
  static async start(options = {}, startOptions = {}) {
    const herald = new Herald(options);
    try {
      await herald.start(startOptions);
    } catch (e) {
      await herald.close();
      throw e;
    }
    return herald;
  }

  get dbPath() { return join(this.dataDir, 'herald.db'); }

  // (Re)writes the config file; takes effect at the next start.
  writeConfig(config) {
    this.configPath = join(this.dataDir, 'herald.toml');
    this.configText = typeof config === 'string' ? config : toToml(config);
    writeFileSync(this.configPath, this.configText);
  }
  get running() { return this.proc !== null; }

  // Starts `herald serve` and waits (≤ 20 s) for its one ready line on stdout.
  // `args` replaces the default flags when `replaceArgs` is set; `env` is added to the environment.
  async start({ args = [], env = {}, replaceArgs = false, adminToken = this.adminToken } = {}) {
    assert.equal(this.proc, null, 'herald is already running');
    this.lastStart = { args, env, replaceArgs, adminToken };
    this.starts++;
    const defaults = ['--listen', '127.0.0.1:0', '--data-dir', this.dataDir, '--log-level', 'warn'];
    if (adminToken) defaults.push('--admin-token', adminToken);
    if (this.configPath) defaults.push('--config', this.configPath);
    const argv = ['serve', ...(replaceArgs ? args : [...defaults, ...args])];
    this.stdout = '';
    this.stderr = '';
    const proc = spawn(heraldBin(), argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((resolveExit) => {
      proc.once('exit', (code, signal) => { live.delete(proc); resolveExit({ code, signal }); });
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (this.stderr.length > 256 * 1024) this.stderr = this.stderr.slice(-128 * 1024);
    });
    proc.stdout.setEncoding('utf8');
    try {
      this.base = await withTimeout(new Promise((resolveReady, reject) => {
        proc.stdout.on('data', (d) => {
          this.stdout += d;
          const m = this.stdout.match(/^herald: listening on (http:\/\/127\.0\.0\.1:(\d+))$/m);
          if (m) resolveReady(m[1]);
        });
        proc.once('error', reject);
        this.exited.then(({ code, signal }) => reject(new Error(`herald exited before it was ready (code ${code}, signal ${signal})`)));
      }), START_TIMEOUT_MS, 'herald did not print its listening line');
    } catch (e) {
      proc.kill('SIGKILL');
      await withTimeout(this.exited, STOP_TIMEOUT_MS, 'herald did not die').catch(() => {});
      this.proc = null;
      throw new Error(`${e.message}\nargs: ${argv.join(' ')}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
    }
    this.port = Number(new URL(this.base).port);
    return this;
  }

  // Sends SIGTERM (or `signal`) and waits ≤ 15 s; asserts a clean exit (code 0, no signal).
  async stop({ signal = 'SIGTERM' } = {}) {
    if (!this.proc) return null;
    const proc = this.proc;
    proc.kill(signal);
    let result;
    try {
      result = await withTimeout(this.exited, STOP_TIMEOUT_MS, `herald did not stop on ${signal}`);
    } catch (e) {
      proc.kill('SIGKILL');
      await withTimeout(this.exited, STOP_TIMEOUT_MS, 'herald did not die').catch(() => {});
      this.proc = null;
      throw new Error(`${e.message}\nstderr:\n${this.stderr}`);
    }
    this.proc = null;
    assert.deepEqual(result, { code: 0, signal: null },
      `herald should exit 0 on ${signal}; stderr:\n${this.stderr}`);
    return result.code;
  }

  // kill -9: no chance to flush or clean up.
  async kill9() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await withTimeout(this.exited, STOP_TIMEOUT_MS, 'herald did not die on SIGKILL');
    this.proc = null;
  }

  // kill -9, then start again on the same data dir with the same options (a new port).
  async restart({ kill = true } = {}) {
    if (kill) await this.kill9(); else await this.stop();
    return this.start(this.lastStart);
  }

  // For t.after / after: stops (gracefully if asked, asserting exit 0) and removes the data dir.
  async close({ graceful = false } = {}) {
    try {
      if (this.proc) {
        if (graceful) await this.stop();
        else await this.kill9();
      }
    } finally {
      if (this.proc) await this.kill9().catch(() => {});
      if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  // `herald app create` on this data dir (works while the server runs). Returns the printed
  // JSON plus `private_key` (the PEM read back from the key file).
  async createApp(name = 'app', { statusUrl, inboundUrl } = {}) {
    const keyPath = join(this.dataDir, `${name}-${randomUUID()}.key`);
    const args = ['app', 'create', '--name', name, '--data-dir', this.dataDir, '--private-key-path', keyPath];
    if (statusUrl) args.push('--status-url', statusUrl);
    if (inboundUrl) args.push('--inbound-url', inboundUrl);
    const r = await runCli(args);
    assert.equal(r.code, 0, `herald app create failed (${r.code}):\n${r.stderr}`);
    assert.ok(r.json && typeof r.json === 'object', `app create printed no JSON object: ${r.stdout}`);
    return { ...r.json, private_key: readFileSync(keyPath, 'utf8') };
  }

  // `herald app ARGS... --data-dir <this data dir>`.
  cli(args, options) {
    return runCli([...args, '--data-dir', this.dataDir], options);
  }

  // Raw fetch against the server, bounded (until the response headers; `request` bounds the
  // body too). The timer is a ref'd one on purpose: AbortSignal.timeout() does not keep the
  // event loop alive, and a request stuck in fetch's pool with no socket would then end the
  // test process with "Promise resolution is still pending".
  async fetch(path, { timeout = REQUEST_TIMEOUT_MS, ...options } = {}) {
    assert.ok(this.base, 'herald is not started');
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`${options.method ?? 'GET'} ${path}: no response in ${timeout} ms`)), timeout);
    try {
      return await fetch(this.base + path, { signal: controller.signal, ...options });
    } finally {
      clearTimeout(timer);
    }
  }

  // fetch + read the body; asserts an X-Request-Id (uuid) on the response, whatever its status.
  // `body` may be a string or an object (sent as JSON with Content-Type application/json).
  async request(path, { method = 'GET', auth, body, headers = {}, timeout = REQUEST_TIMEOUT_MS } = {}) {
    assert.ok(this.base, 'herald is not started');
    const h = { ...headers };
    if (auth) h.Authorization = auth;
    let payload = body;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json';
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`${method} ${path}: no response in ${timeout} ms`)), timeout);
    let res;
    let text;
    try {
      res = await fetch(this.base + path, { method, headers: h, body: payload, signal: controller.signal });
      text = await res.text();
    } finally {
      clearTimeout(timer);
    }
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    const requestId = res.headers.get('x-request-id');
    assert.match(requestId ?? '', ANY_UUID_RE, `${method} ${path} -> ${res.status} has no X-Request-Id`);
    return { status: res.status, headers: res.headers, text, json, requestId };
  }

  post(auth, body, headers = {}, { timeout } = {}) {
    return this.request('/v1/messages', { method: 'POST', auth, body, timeout, headers: { 'Content-Type': 'application/json', ...headers } });
  }

  getMessage(auth, uuid) { return this.request(`/v1/messages/${uuid}`, { auth }); }
  patchMessage(auth, uuid, body) {
    return this.request(`/v1/messages/${uuid}`, { method: 'PATCH', auth, body, headers: { 'Content-Type': 'application/json' } });
  }
  getWorkflow(auth, id) { return this.request(`/v1/workflows/${id}`, { auth }); }

  // Polls GET path (≤ timeoutMs, every 25 ms) until predicate(json, res) holds; returns the json.
  async waitGet(auth, path, predicate, timeoutMs = 10_000, what = path) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      last = await this.request(path, { auth });
      if (last.status === 200 && predicate(last.json, last)) return last.json;
      if (Date.now() > deadline) assert.fail(`${what}: not met in ${timeoutMs} ms; last GET ${path} -> ${last.status} ${last.text}`);
      await sleep(25);
    }
  }

  waitMessage(auth, uuid, predicate, timeoutMs, what = `message ${uuid}`) {
    const p = typeof predicate === 'string' ? (m) => m.status === predicate : predicate;
    return this.waitGet(auth, `/v1/messages/${uuid}`, p, timeoutMs, typeof predicate === 'string' ? `${what} ${predicate}` : what);
  }

  waitWorkflow(auth, id, predicate, timeoutMs, what = `workflow ${id}`) {
    const p = typeof predicate === 'string' ? (w) => w.status === predicate : predicate;
    return this.waitGet(auth, `/v1/workflows/${id}`, p, timeoutMs, typeof predicate === 'string' ? `${what} ${predicate}` : what);
  }

  admin(path, { method = 'GET', body, token = this.adminToken } = {}) {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    return this.request(`/admin/v1${path}`, { method, body, headers, auth: token === null ? undefined : `Bearer ${token}` });
  }

  // Runs SQL with the sqlite3 shell on this server's database (reads are safe while it runs:
  // WAL mode). Used where the API has no way to count rows. Returns stdout lines.
  async sql(query) {
    return new Promise((resolveSql, reject) => {
      execFile('sqlite3', ['-batch', '-noheader', '-cmd', '.timeout 5000', this.dbPath, query],
        { timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
          if (error) reject(new Error(`sqlite3 ${query}: ${error.message}\n${stderr}`));
          else resolveSql(stdout.split('\n').filter((l) => l !== ''));
        });
    });
  }
}

// --- herald.toml ------------------------------------------------------------------------------

function tomlValue(v) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{ ${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${tomlKey(k)} = ${tomlValue(x)}`).join(', ')} }`;
  }
  throw new Error(`toToml: cannot write ${v}`);
}
const tomlKey = (k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
const isTable = (v) => v && typeof v === 'object' && !Array.isArray(v);
const isTableArray = (v) => Array.isArray(v) && v.length > 0 && v.every(isTable);

// The small TOML subset herald.toml needs: scalars, arrays, [tables], [a.b] sub-tables and
// [[arrays.of.tables]] (whose own nested values are written inline, e.g. simulator rule events).
export function toToml(obj) {
  const out = [];
  const table = (path, o) => {
    const entries = Object.entries(o).filter(([, v]) => v !== undefined);
    const plain = entries.filter(([, v]) => !isTable(v) && !isTableArray(v));
    if (path.length > 0 && (plain.length > 0 || entries.length === 0)) out.push(`[${path.map(tomlKey).join('.')}]`);
    for (const [k, v] of plain) out.push(`${tomlKey(k)} = ${tomlValue(v)}`);
    if (plain.length > 0) out.push('');
    for (const [k, v] of entries) {
      if (isTable(v)) table([...path, k], v);
      else if (isTableArray(v)) {
        for (const item of v) {
          out.push(`[[${[...path, k].map(tomlKey).join('.')}]]`);
          for (const [ik, iv] of Object.entries(item)) if (iv !== undefined) out.push(`${tomlKey(ik)} = ${tomlValue(iv)}`);
          out.push('');
        }
      }
    }
  };
  table([], obj);
  return out.join('\n');
}

// --- Credentials ---------------------------------------------------------------------------

export function basic(app, { key = app.api_key, secret = app.api_secret } = {}) {
  return 'Basic ' + Buffer.from(`${key}:${secret}`).toString('base64');
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// A JWT written by hand (node:crypto only), so tests control every byte. Defaults are what the
// Vonage SDKs send: header {alg: RS256, typ: JWT}; claims application_id, iat, jti, exp=iat+900.
//   claims: merged over the defaults; omit: claim names to drop; header: replaces the header;
//   key: the PEM private key to sign with (default the app's own).
export function jwtFor(app, { claims = {}, omit = [], header = { alg: 'RS256', typ: 'JWT' }, key = app.private_key } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = { application_id: app.application_id, iat: now, jti: randomUUID(), exp: now + 900, ...claims };
  for (const name of omit) delete body[name];
  const input = `${b64url(header)}.${b64url(body)}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  return `${input}.${signer.sign(key).toString('base64url')}`;
}

export const bearer = (app, options) => `Bearer ${jwtFor(app, options)}`;

// header.claims. (no signature), e.g. for alg "none".
export function unsignedJwt(header, claims) {
  return `${b64url(header)}.${b64url(claims)}.`;
}

// HS256 with an arbitrary secret (e.g. the app's RSA public key: the key-confusion attack).
export function hs256Jwt(secret, claims, header = { alg: 'HS256', typ: 'JWT' }) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function decodeJwt(token) {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(p, 'base64url')) };
}

// --- Fixtures and assertions -----------------------------------------------------------------

export const SMS = Object.freeze({ channel: 'sms', message_type: 'text', to: '447700900001', from: 'Herald', text: 'Hello from Herald' });
export const WHATSAPP = Object.freeze({ channel: 'whatsapp', message_type: 'text', to: '447700900001', from: '447700900002', text: 'Hello' });
export const RCS_TO_SMS = Object.freeze({
  channel: 'rcs', message_type: 'text', to: '447700900001', from: 'HeraldRCS', text: 'Hello',
  failover: [{ channel: 'sms', message_type: 'text', to: '447700900001', from: 'Herald', text: 'Hello' }],
});

// Compatibility with the first version of the harness.
export const jwt = jwtFor;
export function post(herald, auth, body, headers = {}) { return herald.post(auth, body, headers); }

// An RFC 7807 problem as Herald sends it: application/problem+json with type, title and
// instance (the request id without dashes); `detail` a string when present.
export function assertProblem(res, status, { title, type } = {}) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json\b/, `content-type for ${status}`);
  assert.ok(res.json && typeof res.json === 'object', `problem body is not JSON: ${res.text}`);
  assert.equal(typeof res.json.type, 'string', 'problem.type');
  assert.equal(typeof res.json.title, 'string', 'problem.title');
  assert.match(res.json.instance ?? '', /^[0-9a-f]{32}$/, 'problem.instance');
  assert.equal(res.json.instance, res.requestId.replaceAll('-', '').toLowerCase(), 'instance = X-Request-Id without dashes');
  if ('detail' in res.json) assert.equal(typeof res.json.detail, 'string', 'problem.detail');
  if (title !== undefined) assert.equal(res.json.title, title);
  if (type !== undefined) assert.equal(res.json.type, type);
  return res.json;
}

export function assertAccepted(res, { workflow = false } = {}) {
  assert.equal(res.status, 202, `expected 202, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/);
  assert.match(res.json?.message_uuid ?? '', MESSAGE_UUID_RE, 'message_uuid');
  if (workflow) {
    assert.match(res.json.workflow_id ?? '', /^[0-9A-Za-z]{55}$/, 'workflow_id (55 alphanumerics, as Vonage)');
    assert.deepEqual(Object.keys(res.json).sort(), ['message_uuid', 'workflow_id']);
  } else {
    assert.deepEqual(Object.keys(res.json), ['message_uuid']);
  }
  return res.json;
}

// Sends one raw HTTP/1.1 request over TCP (for what fetch cannot send or must not wait for) and
// resolves with {status, headers, body} as soon as a full response arrived, or when the server
// closes. Write errors (EPIPE/ECONNRESET after an early answer) are tolerated.
export function rawRequest(base, data, { timeout = REQUEST_TIMEOUT_MS } = {}) {
  const { hostname, port } = new URL(base);
  return withTimeout(new Promise((resolveRaw, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (err) => {
      if (done) return;
      const parsed = parseResponse(buf);
      if (parsed) { done = true; socket.destroy(); resolveRaw(parsed); return; }
      if (err !== undefined) { done = true; socket.destroy(); reject(err ?? new Error(`no HTTP response; got ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`)); }
    };
    socket.on('data', (d) => { buf = Buffer.concat([buf, d]); finish(); });
    socket.on('end', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('error', (e) => { if (!['EPIPE', 'ECONNRESET'].includes(e.code)) finish(e); });
    socket.on('connect', () => { socket.write(data, () => {}); });
  }), timeout, 'raw request got no response');
}

function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.[01] (\d{3})/);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return null;
  const body = buf.subarray(end + 4, end + 4 + length).toString('utf8');
  return { status: Number(m[1]), headers, body };
}
