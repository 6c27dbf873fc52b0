// Everything the engine still has to do is a job row (decision 0005) or, for the first send of an
// accepted plan, its queued message row (decision 0014), so a restart — kill -9 or SIGTERM — in
// the middle of a workflow loses nothing: first sends, scheduled receipts, ttl timers, webhook
// retries and failovers all carry on after the next start, at the times they were due.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number, sms, rcs } from '../support/delivery.mjs';

const N = { slow: number(), failover: number(), ttl: number() };
const RULES = [
  { channel: 'rcs', to: N.slow, events: [{ status: 'delivered', after_ms: 1500 }, { status: 'read', after_ms: 1600 }] },
  { channel: 'rcs', to: N.failover, events: [{ status: 'rejected', after_ms: 1500, error: 1300 }] },
  { channel: 'sms', to: N.ttl, events: [] },
];

let herald;
let rx;
let app;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({ config: fastConfig({ rules: RULES, webhooks: { initial_retry_ms: 1000, max_retry_ms: 2000, give_up_after_ms: 60_000 } }) });
  app = await herald.createApp('restart', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

test('scheduled receipts and a pending failover survive kill -9, at their times', { timeout: 30_000 }, async () => {
  const t0 = Date.now();
  const slow = assertAccepted(await herald.post(auth, rcs(N.slow))).message_uuid;
  const wf = assertAccepted(await herald.post(auth, { ...rcs(N.failover), failover: [sms(N.failover)] }), { workflow: true });
  await rx.waitForStatuses(slow, ['submitted'], 5000);
  await rx.waitForStatuses(wf.message_uuid, ['submitted'], 5000);
  await herald.restart(); // kill -9, start on the same data dir
  await rx.waitForStatuses(slow, ['delivered', 'read'], 10_000);
  const delivered = rx.attempts(slow, 'delivered')[0].at - t0;
  assert.ok(delivered >= 1400, `delivered ${delivered} ms after the send: not early because of the restart`);
  const w = await herald.waitWorkflow(auth, wf.workflow_id, 'completed', 10_000);
  assert.deepEqual(w.items.map((i) => i.status), ['rejected', 'delivered']);
  assert.equal(rx.attempts(wf.message_uuid, 'rejected').length, 1);
});

test('a webhook retry survives kill -9 and is sent after the restart', { timeout: 30_000 }, async () => {
  rx.scriptEach('/retry', [503]);
  const uuid = assertAccepted(await herald.post(auth, sms(number(), { webhook_url: rx.url('/retry') }))).message_uuid;
  await rx.waitFor(() => rx.attempts(uuid, 'delivered').length >= 1, 10_000, 'first attempts (503)');
  // Let the failed attempts be recorded (a kill before that would repeat them at once, which is
  // the documented at-least-once case, not what this test is about).
  await sleep(300);
  await herald.restart();
  await rx.waitFor(() => rx.attempts(uuid, 'submitted').some((r) => r.answered === 200)
    && rx.attempts(uuid, 'delivered').some((r) => r.answered === 200), 10_000, 'the retries after the restart');
  const a = rx.attempts(uuid, 'delivered');
  assert.ok(a[1].at - a[0].at >= 1000 * 0.75, 'not before the scheduled retry');
});

test('a ttl timer survives a graceful restart', { timeout: 60_000 }, async () => {
  const wf = assertAccepted(await herald.post(auth, { ...sms(N.ttl, { ttl: 20 }), failover: [rcs(N.ttl)] }), { workflow: true });
  await rx.waitForStatuses(wf.message_uuid, ['submitted'], 5000);
  await sleep(2000);
  await herald.restart({ kill: false }); // SIGTERM, exit 0, start again
  const w = await herald.waitWorkflow(auth, wf.workflow_id, 'completed', 35_000);
  assert.equal(w.items[0].events.find((e) => e.status === 'rejected').error.code, 1360);
});

test('SIGTERM while webhooks hang on a black hole: exits 0 in time, the webhooks come after the restart', { timeout: 60_000 }, async () => {
  const hole = await Receiver.start({ blackHole: true });
  hole.addSecret(app);
  try {
    const uuid = assertAccepted(await herald.post(auth, sms(number(), { webhook_url: hole.url('/hole') }))).message_uuid;
    await hole.waitFor(() => hole.inFlight >= 1, 10_000, 'a held webhook');
    const t0 = Date.now();
    await herald.stop(); // asserts exit code 0, within STOP_TIMEOUT_MS
    const took = Date.now() - t0;
    assert.ok(took <= 11_000, `stopped in ${took} ms (docs/configuration.md: in-flight work gets at most 10 s)`);
    hole.allBlackHole = false;
    await herald.start(herald.lastStart);
    await hole.waitFor(() => hole.attempts(uuid, 'submitted').some((r) => r.answered === 200)
      && hole.attempts(uuid, 'delivered').some((r) => r.answered === 200), 20_000, 'both webhooks after the restart');
    hole.assertAllSigned();
  } finally {
    await hole.close();
  }
});

// Decision 0014: an accept writes no job for its first send while the engine holds fewer than
// engine.max_held_jobs such sends; the queued message row is the record that the send is still
// to do. Past the budget, accepts write the job as before. Both kinds survive kill -9 while
// every send hangs in a connector that never answers, and go out after the restart.
test('accepted messages whose sends hang at kill -9 are sent after the restart, with and without a job row', { timeout: 60_000 }, async () => {
  const hole = await Receiver.start({ blackHole: true });
  const rx2 = await Receiver.start();
  const MAX_HELD = 8;
  const COUNT = 12;
  const engine = { max_held_jobs: MAX_HELD };
  const h = await Herald.start({
    config: fastConfig({
      engine,
      routes: { sms: ['hole'] },
      connectors: { hole: { type: 'kannel', sendsms_url: hole.url('/cgi-bin/sendsms'), username: 'u', password: 'p', dlr_mask: 0 } },
    }),
  });
  try {
    const a = await h.createApp('outbox', { statusUrl: rx2.url('/status') });
    rx2.addSecret(a);
    const uuids = [];
    for (let i = 0; i < COUNT; i++) { // one after the other: the budget is checked per accept
      uuids.push(assertAccepted(await h.post(basic(a), sms(number()))).message_uuid);
    }
    await hole.waitFor(() => hole.inFlight >= 1, 10_000, 'a send held by the black hole');
    const [queued] = await h.sql("SELECT count(*) FROM message WHERE state = 'queued'");
    assert.equal(Number(queued), COUNT, 'every message is still queued');
    const [jobs] = await h.sql("SELECT count(*) FROM job WHERE kind = 'send'");
    assert.equal(Number(jobs), COUNT - MAX_HELD, `the first ${MAX_HELD} sends have no job row, the others have one`);
    await h.kill9();
    h.writeConfig(fastConfig({ engine })); // the simulator now takes SMS
    await h.start(h.lastStart);
    for (const uuid of uuids) await rx2.waitForStatuses(uuid, ['submitted', 'delivered'], 15_000);
    for (const uuid of uuids) assert.equal(rx2.attempts(uuid, 'submitted').length, 1, `${uuid}: sent once after the restart`);
    const [left] = await h.sql("SELECT count(*) FROM message WHERE state = 'queued'");
    assert.equal(Number(left), 0);
  } finally {
    await h.close();
    await hole.close();
    await rx2.close();
  }
});

// Decision 0015: a status webhook is carried by its history row (message_event.webhook_pending)
// while the engine holds fewer than engine.max_held_jobs such webhooks; past that budget it is a
// job row as before. Both kinds survive kill -9 while every POST hangs, are POSTed after the
// restart, and once delivered leave neither a mark nor a row.
test('status webhooks pending at kill -9 are POSTed after the restart, carried by the history or by a job row', { timeout: 60_000 }, async () => {
  const hole = await Receiver.start({ blackHole: true });
  const MAX_HELD = 8; // the least engine.max_held_jobs takes
  const COUNT = 10;
  const engine = { max_held_jobs: MAX_HELD };
  const h = await Herald.start({ config: fastConfig({ engine }) });
  const owed = async () => {
    const [carried] = await h.sql('SELECT count(*) FROM message_event WHERE webhook_pending = 1');
    const [rows] = await h.sql("SELECT count(*) FROM job WHERE kind = 'webhook'");
    return { carried: Number(carried), rows: Number(rows) };
  };
  try {
    const a = await h.createApp('carried', { statusUrl: hole.url('/status') });
    hole.addSecret(a);
    const uuids = [];
    for (let i = 0; i < COUNT; i++) { // one after the other: the budget is checked per status
      uuids.push(assertAccepted(await h.post(basic(a), sms(number()))).message_uuid);
    }
    // Each message's `submitted` and (30 ms later) `delivered` are recorded; their webhooks hang
    // in the black hole or wait behind the one that does.
    for (let t0 = Date.now(); ; await sleep(100)) {
      const [n] = await h.sql("SELECT count(*) FROM message_event WHERE status = 'delivered'");
      if (Number(n) === COUNT) break;
      assert.ok(Date.now() - t0 < 10_000, `only ${n} of ${COUNT} receipts recorded`);
    }
    await hole.waitFor(() => hole.inFlight >= 1, 10_000, 'a held webhook');
    const before = await owed();
    assert.ok(before.carried >= MAX_HELD, `at least ${MAX_HELD} carried by their history row: ${JSON.stringify(before)}`);
    assert.ok(before.rows >= 1, `past the budget, job rows: ${JSON.stringify(before)}`);
    assert.equal(before.carried + before.rows, 2 * COUNT, `one record per webhook owed: ${JSON.stringify(before)}`);
    await h.kill9();
    hole.allBlackHole = false;
    await h.start(h.lastStart);
    for (const uuid of uuids) {
      await hole.waitFor(() => ['submitted', 'delivered'].every((s) => hole.attempts(uuid, s).some((r) => r.answered === 200)),
        20_000, `${uuid}: both webhooks after the restart`);
    }
    hole.assertAllSigned();
    for (let t0 = Date.now(); ; await sleep(100)) { // the marks are cleared in batches after the POSTs
      const left = await owed();
      if (left.carried === 0 && left.rows === 0) break;
      assert.ok(Date.now() - t0 < 10_000, `still owed after delivery: ${JSON.stringify(left)}`);
    }
    const [events] = await h.sql('SELECT count(*) FROM message_event');
    assert.equal(Number(events), 2 * COUNT, 'the history itself stays');
  } finally {
    await h.close();
    await hole.close();
  }
});
