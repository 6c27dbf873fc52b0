// `herald escalate CONFIG.json` and `herald demo` end to end on the simulator
// (docs/escalations.md; issue 4 items 6-8): the dispatch-user-fallback sample configs in
// examples/escalation/ run unchanged against a real server whose waits are compressed
// ([engine] wait_scale), and the CLI exits 0 naming who read it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Herald, bearer, runCli, spawnHerald, withTimeout } from '../support/herald.mjs';

const EXAMPLES = resolve('examples/escalation');
// Every expiry_time and repeat_pause runs 100x faster: 600 s take 6 s.
const WAIT_SCALE = 0.01;
const ESCALATE_TIMEOUT_MS = 90_000;

// Tony never reads Messenger; his SMS is delivered (SMS has no read receipts); Michael reads
// Viber half a second after it was sent.
const MICHAEL_READS_VIBER = [
  { channel: 'messenger', to: 'tony-psid', events: [{ status: 'delivered', after_ms: 100 }] },
  { channel: 'sms', to: '447700900001', events: [{ status: 'delivered', after_ms: 100 }] },
  { channel: 'viber_service', to: '447700900002', events: [{ status: 'delivered', after_ms: 100 }, { status: 'read', after_ms: 500 }] },
];
// ... and Michael leaves Viber unread too, but reads WhatsApp.
const MICHAEL_READS_WHATSAPP = [
  ...MICHAEL_READS_VIBER.slice(0, 2),
  { channel: 'viber_service', to: '447700900002', events: [{ status: 'delivered', after_ms: 100 }] },
  { channel: 'whatsapp', to: '447700900002', events: [{ status: 'delivered', after_ms: 100 }, { status: 'read', after_ms: 300 }] },
];

let herald;
let app;
let work;
before(async () => {
  herald = await Herald.start({
    config: { engine: { wait_scale: WAIT_SCALE }, simulator: { rules: MICHAEL_READS_VIBER } },
  });
  app = await herald.createApp('escalate-cli');
  work = mkdtempSync(join(tmpdir(), 'herald-escalate-'));
});
after(async () => {
  await herald?.close({ graceful: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

async function setRules(rules) {
  const put = await herald.admin('/simulator/rules', { method: 'PUT', body: { rules } });
  assert.equal(put.status, 200, put.text);
}

// A copy of an example (or any config object) in its own folder, with APP_ID set and the
// private key written where APP.PRIVATE_KEY says (relative to the config, as the tutorial).
function configDir(name, config) {
  const dir = mkdtempSync(join(work, `${name}-`));
  const c = structuredClone(config);
  c.APP.APP_ID = app.application_id;
  writeFileSync(join(dir, c.APP.PRIVATE_KEY), app.private_key, { mode: 0o600 });
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(c, null, 4));
  return path;
}

const example = (name) => JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8'));
const escalate = (args, timeout = ESCALATE_TIMEOUT_MS) => runCli(['escalate', ...args, '--url', herald.base, '--interval-ms', '100'], { timeout });
const show = (r) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nserver stderr:\n${herald.stderr.slice(-4000)}`;
const escalationIdOf = (stdout) => stdout.match(/^escalation (\S+) started/m)?.[1];

// The text each step sent (GET /v1/messages does not show content; the store has it).
async function textsOf(steps) {
  const texts = [];
  for (const step of steps) {
    const rows = await herald.sql(`SELECT json_extract(payload_json, '$.text') FROM message WHERE uuid = '${step.message_uuid}'`);
    texts.push(rows[0]);
  }
  return texts;
}

function assertTimeline(stdout, lines) {
  for (const re of lines) assert.match(stdout, re, `timeline line ${re}`);
}

test('the example configs keep the tutorial format', () => {
  for (const name of ['case-2.json', 'case-3.json']) {
    const c = example(name);
    assert.deepEqual(Object.keys(c), ['APP', 'FROM', 'USERS'], name);
    assert.deepEqual(Object.keys(c.APP), ['APP_ID', 'PRIVATE_KEY'], name);
    assert.deepEqual(Object.keys(c.FROM), ['MESSENGER', 'VIBER', 'WHATSAPP', 'SMS'], name);
    assert.deepEqual(c.USERS.map((u) => u.name), ['Tony', 'Michael'], name);
    assert.deepEqual(c.USERS.map((u) => u.channels.map((ch) => ch.type)),
      [['messenger', 'sms'], ['viber_service_msg', 'whatsapp', 'sms']], name);
  }
  // case-3: string expiry_time and condition_status on every channel but each user's last.
  const c3 = example('case-3.json');
  assert.deepEqual(c3.USERS.map((u) => u.channels.map((ch) => ch.expiry_time)), [['600', undefined], ['300', '200', undefined]]);
  assert.deepEqual(c3.USERS.map((u) => u.channels.map((ch) => ch.condition_status)), [['read', undefined], ['read', 'read', undefined]]);
});

test('case-2, unchanged (--app-id, --private-key): Tony never reads, Michael reads on Viber', { timeout: 120_000 }, async () => {
  await setRules(MICHAEL_READS_VIBER);
  const keyPath = join(work, 'case-2.key');
  writeFileSync(keyPath, app.private_key, { mode: 0o600 });
  const r = await escalate([join(EXAMPLES, 'case-2.json'), '--app-id', app.application_id, '--private-key', keyPath]);
  assert.equal(r.code, 0, show(r));
  assertTimeline(r.stdout, [
    /^t\+\s*\d+\.\ds\s+Tony\s+messenger\s+submitted/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+messenger\s+delivered/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+messenger\s+expired/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+sms\s+delivered/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+sms\s+expired/m,
    /^t\+\s*\d+\.\ds\s+Michael\s+viber_service\s+read/m,
    /completed: Michael read it on viber_service at \d{4}-\d\d-\d\dT/,
  ]);
  assert.doesNotMatch(r.stdout, /whatsapp/, 'nothing after the read');
  assert.ok(!r.stdout.includes('447700900001'), 'no phone numbers in the progress output');

  // What the server ran: the tutorial's "[<name>]: <text>" on every step, case-2 defaults.
  const id = escalationIdOf(r.stdout);
  assert.ok(id, 'printed the escalation id');
  const esc = await herald.request(`/v1/escalations/${id}`, { auth: bearer(app) });
  assert.equal(esc.status, 200, esc.text);
  assert.equal(esc.json.status, 'completed');
  assert.deepEqual(esc.json.outcome && [esc.json.outcome.how, esc.json.outcome.person, esc.json.outcome.channel], ['read', 'Michael', 'viber_service']);
  const tony = esc.json.people.find((p) => p.name === 'Tony');
  assert.deepEqual(tony.steps.map((s) => [s.channel, s.condition_status, s.expiry_time]),
    [['messenger', 'read', 600], ['sms', 'read', 600]]);
  assert.deepEqual(await textsOf(tony.steps), ['[Tony]: Important message!', '[Tony]: Important message!']);
  // Michael's WhatsApp and SMS were never needed.
  const michael = esc.json.people.find((p) => p.name === 'Michael');
  assert.deepEqual(michael.steps.map((s) => [s.channel, s.status]),
    [['viber_service', 'read'], ['whatsapp', 'skipped'], ['sms', 'skipped']]);
});

test('case-3 (its own folder, APP.PRIVATE_KEY relative to it): Michael reads on WhatsApp', { timeout: 120_000 }, async () => {
  await setRules(MICHAEL_READS_WHATSAPP);
  const path = configDir('case-3', example('case-3.json'));
  const r = await escalate([path, '--text', 'Server is about to melt!']);
  assert.equal(r.code, 0, show(r));
  assertTimeline(r.stdout, [
    /^t\+\s*\d+\.\ds\s+Tony\s+messenger\s+expired: not read within 600 s/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+sms\s+delivered/m,
    /^t\+\s*\d+\.\ds\s+Michael\s+viber_service\s+expired: not read within 300 s/m,
    /^t\+\s*\d+\.\ds\s+Michael\s+whatsapp\s+read/m,
    /completed: Michael read it on whatsapp at \d{4}-/,
  ]);
  const id = escalationIdOf(r.stdout);
  const esc = await herald.request(`/v1/escalations/${id}`, { auth: bearer(app) });
  assert.equal(esc.status, 200, esc.text);
  const michael = esc.json.people.find((p) => p.name === 'Michael');
  // case-3's string expiry_time values, its conditions, and the last channel's defaults.
  assert.deepEqual(michael.steps.map((s) => [s.channel, s.condition_status, s.expiry_time, s.status]),
    [['viber_service', 'read', 300, 'delivered'], ['whatsapp', 'read', 200, 'read'], ['sms', 'read', 600, 'skipped']]);
  assert.deepEqual(await textsOf(michael.steps.slice(0, 2)), ['[Michael]: Server is about to melt!', '[Michael]: Server is about to melt!']);
});

// Starts `herald escalate` on case-2 and waits until Tony's Messenger message is delivered.
async function escalateInBackground() {
  await setRules(MICHAEL_READS_VIBER);
  const path = configDir('background', example('case-2.json'));
  const p = spawnHerald(['escalate', path, '--url', herald.base, '--interval-ms', '100']);
  const [, id] = await p.waitForOutput(/^escalation (\S+) started/m, 20_000);
  await p.waitForOutput(/Tony\s+messenger\s+delivered/, 20_000);
  return { p, id };
}

test('acknowledged while Tony\'s Messenger step waits: exit 0 naming who acknowledged it', { timeout: 60_000 }, async () => {
  const { p, id } = await escalateInBackground();
  const ack = await herald.request(`/v1/escalations/${id}/acknowledge`, { method: 'POST', auth: bearer(app), body: { by: 'Tony' } });
  assert.equal(ack.status, 200, ack.text);
  const { code } = await withTimeout(p.exited, 20_000, 'herald escalate did not end after the acknowledgement');
  assert.equal(code, 0, `stdout:\n${p.stdout}\nstderr:\n${p.stderr}`);
  assert.match(p.stdout, /completed: Tony acknowledged it on messenger at \d{4}-/);
  assert.doesNotMatch(p.stdout, /Tony\s+sms\s+submitted/, 'nothing sent after the acknowledgement');
});

test('cancelled (DELETE) while it runs: exit 1, "cancelled"', { timeout: 60_000 }, async () => {
  const { p, id } = await escalateInBackground();
  const del = await herald.request(`/v1/escalations/${id}`, { method: 'DELETE', auth: bearer(app) });
  assert.equal(del.status, 200, del.text);
  const { code } = await withTimeout(p.exited, 20_000, 'herald escalate did not end after the DELETE');
  assert.equal(code, 1, `stdout:\n${p.stdout}\nstderr:\n${p.stderr}`);
  assert.match(p.stdout, /cancelled: it was cancelled before anyone read it/);
});

test('--timeout-s: gives up (exit 1) and says the escalation goes on', { timeout: 60_000 }, async () => {
  await setRules(MICHAEL_READS_VIBER);
  const r = await escalate([configDir('timeout', example('case-2.json')), '--timeout-s', '1']);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /gave up waiting after 1 s: escalation (\S+) goes on on the server \(DELETE \/v1\/escalations\/\1 cancels it\)/);
  const id = escalationIdOf(r.stdout);
  assert.equal((await herald.request(`/v1/escalations/${id}`, { method: 'DELETE', auth: bearer(app) })).status, 200);
});

test('nobody reads it: exit 1, "nobody read it"', { timeout: 60_000 }, async () => {
  await setRules(MICHAEL_READS_VIBER);
  const path = configDir('nobody', {
    APP: { APP_ID: '', PRIVATE_KEY: 'private.key' },
    FROM: { MESSENGER: 'x', VIBER: 'x', WHATSAPP: '447700900100', SMS: 'Herald' },
    USERS: [{ name: 'Fred', channels: [{ type: 'sms', id_num: '447700900009', condition_status: 'read', expiry_time: '100' }] }],
  });
  const r = await escalate([path]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stdout, /failed: nobody read it/);
  assert.match(r.stdout, /Fred\s+sms\s+expired: not read within 100 s/);
});

test('an unknown channel type: exit 2 naming USERS[i].channels[j].type, nothing sent', { timeout: 30_000 }, async () => {
  const c = example('case-2.json');
  c.USERS[1].channels[0].type = 'viber';  // the tutorial README's type, which its code cannot send
  const path = configDir('bad-type', c);
  const r = await escalate([path]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /USERS\[1\]\.channels\[0\]\.type: unknown channel type 'viber'/);
  assert.equal(r.stdout, '');
});

test('usage errors exit 2: no such file, missing key file, bad JSON', { timeout: 30_000 }, async () => {
  let r = await escalate([join(work, 'does-not-exist.json')]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /cannot read config/);
  r = await runCli(['escalate']);
  assert.equal(r.code, 2, show(r));
  const noKey = join(mkdtempSync(join(work, 'nokey-')), 'config.json');
  writeFileSync(noKey, readFileSync(join(EXAMPLES, 'case-3.json')));
  r = await escalate([noKey]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /private key .*private\.key/);
  const badJson = join(work, 'bad.json');
  writeFileSync(badJson, '{"APP": ');
  r = await escalate([badJson]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /not valid JSON/);
});

test('the server refuses the request: exit 2 with its problem detail, mapped to the config', { timeout: 30_000 }, async () => {
  const c = example('case-2.json');
  c.USERS[0].channels[1].id_num = '12';  // not an E.164 number
  const r = await escalate([configDir('bad-number', c)]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /HTTP 422/);
  assert.match(r.stderr, /people\[0\]\.steps\[1\]\.to \(USERS\[0\]\.channels\[1\]\.id_num\)/);
});

test('a key the server does not know: exit 2 with the 401', { timeout: 30_000 }, async () => {
  const path = configDir('wrong-key', example('case-2.json'));
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(join(path, '..', 'private.key'), other);
  const r = await escalate([path]);
  assert.equal(r.code, 2, show(r));
  assert.match(r.stderr, /HTTP 401/);
});

test('herald demo: the walk-through ends with Michael reading on Viber, and cleans up', { timeout: 90_000 }, async () => {
  const r = await runCli(['demo'], { timeout: 60_000 });
  assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assertTimeline(r.stdout, [
    /^started herald serve on http:\/\/127\.0\.0\.1:\d+/m,
    /^created application [0-9a-f-]{36}, status webhooks to http:\/\/127\.0\.0\.1:\d+\/webhooks\/status$/m,
    /^t\+\s*0\.\ds\s+Tony\s+messenger\s+submitted/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+messenger\s+expired: not read within 300 s/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+sms\s+delivered/m,
    /^t\+\s*\d+\.\ds\s+Tony\s+sms\s+expired: not read within 300 s/m,
    /^t\+\s*\d+\.\ds\s+Michael\s+viber_service\s+delivered/m,
    /^t\+\s*\d+\.\ds\s+Michael\s+viber_service\s+read/m,
    /completed: Michael read it on viber_service at \d{4}-/,
    /^escalation \S+: completed$/m,
    /^the final report, as POSTed \(signed\) to the status URL:$/m,
    /^ {4}"how": "read",$/m,
    /^ {4}"person": "Michael",$/m,
    /^\(besides \d+ status webhooks of the steps\)$/m,
    /^stopped herald serve \(exit code 0\)/m,
  ]);
  // The order of the timeline.
  const order = ['Tony\\s+messenger\\s+submitted', 'Tony\\s+messenger\\s+expired', 'Tony\\s+sms\\s+submitted',
    'Tony\\s+sms\\s+expired', 'Michael\\s+viber_service\\s+submitted', 'Michael\\s+viber_service\\s+read', 'completed: Michael']
    .map((p) => r.stdout.search(new RegExp(p)));
  assert.deepEqual([...order].sort((a, b) => a - b), order, `timeline order:\n${r.stdout}`);
  // Compressed time: Tony's 300 s waits took about 3 s each.
  const readAt = Number(r.stdout.match(/^t\+\s*(\d+\.\d)s\s+Michael\s+viber_service\s+read/m)[1]);
  assert.ok(readAt > 5 && readAt < 20, `Michael read at t+${readAt}s`);
  const dir = r.stdout.match(/removed (\S+)/)?.[1];
  assert.ok(dir && !existsSync(dir), `temporary directory ${dir} removed`);
});

test('herald demo: a bad --speed is a usage error', { timeout: 30_000 }, async () => {
  const r = await runCli(['demo', '--speed', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--speed/);
});
