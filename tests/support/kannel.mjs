// Real Kannel (Debian `kannel` + `kannel-extras`) on loopback for the Kannel connector tests:
// bearerbox with a `fake` SMSC, the `fakesmsc` test program as that SMS centre (receive-only:
// it counts the MT lines bearerbox writes to it; bearerbox's smsc_fake driver then reports
// DLR 8 "SMSC success" and 1 "delivered" itself), and smsbox with the sendsms HTTP interface.
// Modelled on /work/shared/peers/kannel/run.sh (same config shape, every process started and
// stopped by its PID, every wait bounded).
//
//   if (!Kannel.available()) t.skip(...)
//   const k = await Kannel.start({ blackListRegex: '^4477009999' });
//   k.sendsmsUrl  // http://127.0.0.1:PORT/cgi-bin/sendsms
//   await k.stop();
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep, withTimeout } from './herald.mjs';

const BEARERBOX = '/usr/sbin/bearerbox';
const SMSBOX = '/usr/sbin/smsbox';
const FAKESMSC = '/usr/lib/kannel/test/fakesmsc';
const START_TIMEOUT_MS = 20_000;

const live = new Set();
process.on('exit', () => { for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } } });

export class Kannel {
  static available() { return [BEARERBOX, SMSBOX, FAKESMSC].every((p) => existsSync(p)); }

  static async start(options = {}) {
    const k = new Kannel();
    try {
      await k.startAll(options);
    } catch (e) {
      await k.stop();
      throw e;
    }
    return k;
  }

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'herald-kannel-'));
    this.procs = []; // [{name, proc, exited}]
    this.username = 'herald';
    this.password = 'kannel-pw-1';
  }

  async startAll({ blackListRegex } = {}) {
    const [admin, box, smsc, sendsms] = [await freePort(), await freePort(), await freePort(), await freePort()];
    this.ports = { admin, box, smsc, sendsms };
    this.sendsmsUrl = `http://127.0.0.1:${sendsms}/cgi-bin/sendsms`;
    this.adminUrl = `http://127.0.0.1:${admin}`;
    const conf = `
group = core
admin-port = ${admin}
admin-interface = "127.0.0.1"
admin-password = testadmin
admin-deny-ip = "*.*.*.*"
admin-allow-ip = "127.0.0.1"
smsbox-port = ${box}
smsbox-interface = "127.0.0.1"
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "${this.dir}/bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake1
host = 127.0.0.1
our-host = 127.0.0.1
port = ${smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${box}
sendsms-port = ${sendsms}
sendsms-interface = "127.0.0.1"
log-file = "${this.dir}/smsbox.log"
log-level = 1
immediate-sendsms-reply = false

group = sendsms-user
username = ${this.username}
password = ${this.password}
max-messages = 1
concatenation = false
${blackListRegex ? `black-list-regex = "${blackListRegex}"` : ''}

group = sms-service
keyword = default
text = "ok"
max-messages = 0
catch-all = true
`;
    this.confPath = join(this.dir, 'kannel.conf');
    writeFileSync(this.confPath, conf);
    this.spawn('bearerbox', BEARERBOX, ['-v', '3', this.confPath]);
    await this.waitUntil('bearerbox status page', async () => (await this.status()) !== null);
    // Receive-only fake SMS centre: -m 0 sends no MO.
    this.spawn('fakesmsc', FAKESMSC, ['-H', '127.0.0.1', '-r', String(smsc), '-i', '0', '-m', '0', '-v', '1', '100 200 text unused']);
    this.spawn('smsbox', SMSBOX, ['-v', '3', this.confPath]);
    await this.waitUntil('fake SMSC online', async () => /FAKE:\d+ \(online/.test((await this.status()) ?? ''));
    await this.waitUntil('smsbox connected', async () => /smsbox:.*on-line/.test((await this.status()) ?? ''));
    await this.waitUntil('sendsms answering', async () => {
      try {
        const r = await fetch(this.sendsmsUrl, { signal: AbortSignal.timeout(2000) });
        await r.text();
        return r.status === 403; // no credentials: refused, so the HTTP side is up
      } catch { return false; }
    });
  }

  spawn(name, bin, args) {
    const proc = spawn(bin, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((r) => proc.once('exit', () => { live.delete(proc); r(); }));
    const entry = { name, proc, exited, output: () => out, done: false };
    exited.then(() => { entry.done = true; });
    this.procs.push(entry);
  }

  async status() {
    try {
      const r = await fetch(`${this.adminUrl}/status.txt`, { signal: AbortSignal.timeout(2000) });
      return r.ok ? await r.text() : null;
    } catch { return null; }
  }

  // Counts of MT messages bearerbox has sent to the fake SMSC.
  async sentCount() {
    const m = (await this.status() ?? '').match(/^SMS: received .*?sent (\d+)/m);
    return m ? Number(m[1]) : 0;
  }

  async waitUntil(what, fn, timeoutMs = START_TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await fn()) return;
      const dead = this.procs.find((p) => p.done);
      if (dead) throw new Error(`kannel ${dead.name} exited while waiting for ${what}:\n${dead.output()}\n${this.logs()}`);
      if (Date.now() > deadline) throw new Error(`kannel: ${what} not within ${timeoutMs} ms\n${this.logs()}`);
      await sleep(100);
    }
  }

  logs() {
    return ['bearerbox.log', 'smsbox.log'].map((f) => {
      const p = join(this.dir, f);
      return existsSync(p) ? `--- ${f}\n${readFileSync(p, 'utf8').slice(-4000)}` : '';
    }).join('\n');
  }

  // Stops smsbox, fakesmsc, bearerbox (reverse start order) by PID: SIGTERM, then SIGKILL.
  async stop() {
    for (const p of [...this.procs].reverse()) {
      if (p.done) continue;
      p.proc.kill('SIGTERM');
      try {
        await withTimeout(p.exited, 10_000, `${p.name} did not stop`);
      } catch {
        p.proc.kill('SIGKILL');
        await withTimeout(p.exited, 5_000, `${p.name} did not die`).catch(() => {});
      }
    }
    this.procs = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}
