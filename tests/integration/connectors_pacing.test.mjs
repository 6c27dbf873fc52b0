// Pacing (issue 5 item 4, docs/connectors/pacing.md): token buckets per connector and per
// sender make sends wait instead of failing. The paced connectors here are simulators, so the
// spacing measured is Herald's own (the submitted times in each message's history).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted } from '../support/herald.mjs';
import { fastConfig, number, sms, mms, rcs } from '../support/delivery.mjs';

let herald;
let app;
let auth;

before(async () => {
  herald = await Herald.start({
    config: fastConfig({
      engine: { send_attempts: 5 },
      routes: { sms: ['long-code'], mms: ['per-sender'], rcs: ['tiny-queue'] },
      connectors: {
        'long-code': { type: 'simulator', rate_per_s: 1 },
        'per-sender': { type: 'simulator', per_sender_rate_per_s: 2 },
        'tiny-queue': { type: 'simulator', rate_per_s: 2, queue_limit: 1 },
      },
    }),
  });
  app = await herald.createApp('pacing');
  auth = basic(app);
});

after(async () => { await herald?.close({ graceful: true }); });

async function submittedAt(uuid) {
  const m = await herald.waitMessage(auth, uuid, (x) => x.events?.some((e) => e.status === 'submitted'), 20_000);
  return Date.parse(m.events.find((e) => e.status === 'submitted').timestamp);
}

async function sendAll(bodies) {
  const res = await Promise.all(bodies.map((b) => herald.post(auth, b)));
  return res.map((r) => assertAccepted(r).message_uuid);
}

test('1 msg/s on a connector: four messages accepted at once go out about a second apart, none refused', { timeout: 40_000 }, async () => {
  const uuids = await sendAll([1, 2, 3, 4].map(() => sms(number())));
  const times = (await Promise.all(uuids.map(submittedAt))).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) {
    assert.ok(times[i] - times[i - 1] >= 900, `send ${i} came ${times[i] - times[i - 1]} ms after the previous one (want ~1000)`);
  }
  assert.ok(times[3] - times[0] < 5000, `all four within ~3 s (${times[3] - times[0]} ms)`);
  for (const u of uuids) await herald.waitMessage(auth, u, 'delivered', 10_000);
});

test('per-sender rate: one sender is spaced at 2/s, another sender is not held behind it', { timeout: 40_000 }, async () => {
  const to = number();
  const a = await sendAll([1, 2, 3].map(() => mms(to, { from: '447700900101' })));
  const [b] = await sendAll([mms(to, { from: '447700900102' })]);
  const ta = (await Promise.all(a.map(submittedAt))).sort((x, y) => x - y);
  for (let i = 1; i < ta.length; i++) assert.ok(ta[i] - ta[i - 1] >= 400, `sender A spacing ${ta[i] - ta[i - 1]} ms (want ~500)`);
  const tb = await submittedAt(b);
  assert.ok(tb - ta[0] < 400, `sender B went out at once (${tb - ta[0]} ms after A's first)`);
});

test('a full waiting room sends the message back to the engine\'s queue: it is retried later, never rejected', { timeout: 40_000 }, async () => {
  const uuids = await sendAll([1, 2, 3, 4].map(() => rcs(number())));
  const finals = await Promise.all(uuids.map((u) => herald.waitMessage(auth, u, (m) => ['delivered', 'read', 'rejected', 'undeliverable'].includes(m.status), 30_000)));
  assert.deepEqual(finals.map((m) => m.status === 'delivered' || m.status === 'read'), [true, true, true, true], JSON.stringify(finals.map((m) => m.status)));
  const times = (await Promise.all(uuids.map(submittedAt))).sort((x, y) => x - y);
  for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 400, `spacing ${times[i] - times[i - 1]} ms (want >= 500)`);
});

test('pacing settings are checked at start-up with the key named', { timeout: 30_000 }, async () => {
  const bad = new Herald({ config: fastConfig({ routes: { sms: ['x'] }, connectors: { x: { type: 'simulator', rate_per_s: -1 } } }) });
  try {
    await assert.rejects(bad.start(), /connectors\.x\.rate_per_s: must be between 0 and 100000/);
  } finally {
    await bad.close();
  }
});
