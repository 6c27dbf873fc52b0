// Test harness: runs the real `herald` binary (HERALD_BIN) on a loopback port with a fresh data
// directory, and helps make applications and credentials. Every wait is bounded.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createSign, randomUUID } from 'node:crypto';

const execFileAsync = promisify(execFile);
export const BIN = process.env.HERALD_BIN;
if (!BIN) throw new Error('HERALD_BIN must point at the herald binary');

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export class Herald {
  constructor(dataDir) {
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'herald-it-'));
    this.proc = null;
    this.stderr = '';
  }

  async start({ extraArgs = [] } = {}) {
    this.stderr = '';
    this.proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', this.dataDir,
      '--admin-token', ADMIN_TOKEN, '--log-level', 'warn', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    const exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    this.base = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`herald did not start in 20 s: ${this.stderr}`)), 20000);
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/herald: listening on (http:\/\/\S+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`herald exited (${code}): ${this.stderr}`)); });
    });
    return this;
  }

  // SIGTERM and wait; returns the exit code.
  async stop() {
    if (!this.proc) return null;
    this.proc.kill('SIGTERM');
    const { code } = await withTimeout(this.exited, 15000, 'herald did not stop on SIGTERM');
    this.proc = null;
    return code;
  }

  async kill9() {
    this.proc.kill('SIGKILL');
    await withTimeout(this.exited, 10000, 'herald did not die');
    this.proc = null;
  }

  cleanup() {
    if (this.proc) this.proc.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async createApp(name = 'app') {
    const keyPath = join(this.dataDir, `${name}-${randomUUID()}.key`);
    const { stdout } = await execFileAsync(BIN, ['app', 'create', '--name', name,
      '--data-dir', this.dataDir, '--private-key-path', keyPath], { timeout: 20000 });
    const app = JSON.parse(stdout);
    app.private_key = readFileSync(keyPath, 'utf8');
    return app;
  }

  fetch(path, options = {}) {
    return fetch(this.base + path, { ...options, signal: AbortSignal.timeout(15000) });
  }
}

export function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); })])
    .finally(() => clearTimeout(timer));
}

export function basic(app, secret = app.api_secret) {
  return 'Basic ' + Buffer.from(`${app.api_key}:${secret}`).toString('base64');
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// A JWT written by hand (so tests control every byte): RS256 with the given PEM key.
export function jwt(app, { claims = {}, header = { alg: 'RS256', typ: 'JWT' }, key = app.private_key } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = { application_id: app.application_id, iat: now, jti: randomUUID(), exp: now + 900, ...claims };
  const input = `${b64url(header)}.${b64url(body)}`;
  const signer = createSign('RSA-SHA256');
  signer.update(input);
  return `${input}.${signer.sign(key).toString('base64url')}`;
}

export function unsignedJwt(header, claims) {
  return `${b64url(header)}.${b64url(claims)}`;
}

export const SMS = Object.freeze({ channel: 'sms', message_type: 'text', to: '447700900001', from: 'Herald', text: 'Hello' });
export const RCS_TO_SMS = Object.freeze({
  channel: 'rcs', message_type: 'text', to: '447700900001', from: 'HeraldRCS', text: 'Hello',
  failover: [{ channel: 'sms', message_type: 'text', to: '447700900001', from: 'Herald', text: 'Hello' }],
});

export async function post(herald, auth, body, headers = {}) {
  const res = await herald.fetch('/v1/messages', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
