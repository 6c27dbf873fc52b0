// Crash under load (issue 3 item 9; reliability.md §5.1, R1/R2/R9; decision 0005
// "At-least-once, and the duplicate bound"). CI-sized: 20 kill -9s in about a minute.
//
// A client sends a mix of SMS and RCS -> SMS failover messages (the RCS is rejected 1300 by a
// simulator rule) at a bounded rate, each with a unique Idempotency-Key and client_ref, retrying
// a request whose outcome it did not learn (connection cut by the kill) with the same key. Meanwhile
// the test kill -9s herald at random moments and restarts it on the same data dir, 20 times; then
// the client stops, the system drains, and the checker asserts:
//   - lost = 0: every acknowledged (202) message exists and reached its final state
//     (SMS delivered; RCS rejected + SMS delivered, workflow completed);
//   - every status event in each message's history has at least one webhook (dedupe on
//     message_uuid + status), and no webhook reports an event the history does not have;
//   - duplicate webhooks <= per_endpoint_concurrency x kills (decision 0005: at most one duplicate
//     POST per webhook in flight at a crash, at most per_endpoint_concurrency in flight per
//     endpoint); duplicate sends (a second `submitted` in one message's history) <= one per
//     message in flight per kill, reported;
//   - the Idempotency-Keys survived: re-posting acknowledged requests replays the same uuid;
//   - PRAGMA integrity_check = ok.
// Environment: CHAOS_KILLS (20), CHAOS_RATE (messages/s, 25), CHAOS_SEED (random).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig } from '../support/delivery.mjs';

const KILLS = Number(process.env.CHAOS_KILLS ?? 20);
const RATE = Number(process.env.CHAOS_RATE ?? 25);
const SEED = Number(process.env.CHAOS_SEED ?? (Date.now() % 1_000_000));
const MAX_OUTSTANDING = 32;
const REQUEST_BUDGET_MS = 45_000; // a request is retried (same key) at most this long
const DRAIN_MS = 120_000;
const CONCURRENCY = 8; // webhooks.per_endpoint_concurrency
const FINAL = new Set(['delivered', 'read', 'rejected', 'undeliverable', 'skipped', 'revoked']);
const EVENT_STATUSES = new Set(['submitted', 'delivered', 'read', 'rejected', 'undeliverable']);

// mulberry32: reproducible kill times for a given CHAOS_SEED.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`crash loop: ${KILLS} x kill -9 under load loses no message, no event, no webhook`, { timeout: 600_000 }, async (t) => {
  const random = rng(SEED);
  t.diagnostic(`CHAOS_SEED=${SEED} CHAOS_KILLS=${KILLS} CHAOS_RATE=${RATE}`);
  const rx = await Receiver.start();
  const herald = new Herald({
    config: fastConfig({
      engine: { send_retry_initial_ms: 50 },
      webhooks: { initial_retry_ms: 200, max_retry_ms: 1000, give_up_after_ms: 3_600_000, per_endpoint_concurrency: CONCURRENCY },
      simulator: { delivered_after_ms: 20, read_after_ms: 40 },
      rules: [{ channel: 'rcs', to: '4477008*', events: [{ status: 'rejected', after_ms: 30, error: 1300 }] }],
    }),
  });
  t.after(async () => { await herald.close(); await rx.close(); });
  await herald.start();
  const app = await herald.createApp('chaos', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  const auth = basic(app);

  // --- the client ---------------------------------------------------------------------------
  const acked = new Map(); // key -> {uuid, workflow_id, failover, body, replayed}
  const unknown = []; // keys whose outcome the client never learned within its budget
  const refused = []; // non-retryable answers (must be none)
  let attempts = 0;
  let retries = 0;
  let outstanding = 0;
  let sending = true;
  let i = 0;
  const bodyFor = (n) => {
    const to = `4477007${String(n).padStart(5, '0')}`;
    if (n % 2 === 1) {
      const rto = `4477008${String(n).padStart(5, '0')}`;
      return {
        channel: 'rcs', message_type: 'text', to: rto, from: 'HeraldRCS', text: `m${n}`, client_ref: `c-${n}`,
        failover: [{ channel: 'sms', message_type: 'text', to: rto, from: 'Herald', text: `m${n}`, client_ref: `c-${n}` }],
      };
    }
    return { channel: 'sms', message_type: 'text', to, from: 'Herald', text: `m${n}`, client_ref: `c-${n}` };
  };
  const sendOne = async (n) => {
    const key = `chaos-${SEED}-${n}`;
    const body = bodyFor(n);
    const deadline = Date.now() + REQUEST_BUDGET_MS;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      if (attempt > 0) { retries++; await sleep(100); }
      if (!herald.running) continue;
      attempts++;
      let res;
      try {
        res = await herald.post(auth, body, { 'Idempotency-Key': key }, { timeout: 5000 });
      } catch {
        continue; // connection refused/reset by the kill: outcome unknown, retry with the same key
      }
      if (res.status === 202) {
        acked.set(key, { n, uuid: res.json.message_uuid, workflow_id: res.json.workflow_id, failover: Array.isArray(body.failover), body, replayed: res.headers.get('idempotent-replayed') === 'true' });
        return;
      }
      if (res.status >= 500 || res.status === 429) continue;
      refused.push({ key, status: res.status, text: res.text });
      return;
    }
    unknown.push(key);
  };
  const client = (async () => {
    const tasks = new Set();
    const start = Date.now();
    while (sending) {
      const due = start + (i * 1000) / RATE;
      if (Date.now() < due) { await sleep(Math.min(50, due - Date.now())); continue; }
      if (outstanding >= MAX_OUTSTANDING) { await sleep(10); continue; }
      outstanding++;
      const p = sendOne(i++).finally(() => { outstanding--; tasks.delete(p); });
      tasks.add(p);
    }
    await Promise.all([...tasks]);
  })();

  // --- the killer ---------------------------------------------------------------------------
  const t0 = Date.now();
  let integrityChecks = 0;
  for (let k = 1; k <= KILLS; k++) {
    await sleep(800 + Math.floor(random() * 3200)); // 0.8..4 s apart
    await herald.kill9();
    if (k % 5 === 0) {
      assert.deepEqual(await herald.sql('PRAGMA integrity_check'), ['ok'], `integrity after kill ${k}`);
      integrityChecks++;
    }
    await herald.start(herald.lastStart);
  }
  const loadMs = Date.now() - t0;
  await sleep(1000);
  sending = false;
  await client;
  t.diagnostic(`${KILLS} kills in ${loadMs} ms; ${i} requests started, ${acked.size} acknowledged, `
    + `${[...acked.values()].filter((a) => a.replayed).length} learned through an idempotent replay, `
    + `${unknown.length} unknown, ${attempts} attempts (${retries} retries)`);
  assert.deepEqual(refused, [], 'no request was refused');
  assert.ok(acked.size >= RATE * 10, `enough load: ${acked.size} acknowledged`);

  // --- drain --------------------------------------------------------------------------------
  const state = new Map(); // key -> {items: [message json...], workflowStatus}
  const look = async (a) => {
    if (a.failover) {
      const r = await herald.getWorkflow(auth, a.workflow_id);
      if (r.status !== 200) return { missing: r.status };
      return { items: r.json.items, workflowStatus: r.json.status };
    }
    const r = await herald.getMessage(auth, a.uuid);
    if (r.status !== 200) return { missing: r.status };
    return { items: [r.json] };
  };
  const isDone = (a, s) => {
    if (!s || s.missing) return false;
    if (a.failover) return ['completed', 'failed'].includes(s.workflowStatus) && s.items.every((m) => FINAL.has(m.status));
    return FINAL.has(s.items[0].status);
  };
  const hasAllWebhooks = (s) => s.items.every((m) => (m.events ?? []).filter((e) => EVENT_STATUSES.has(e.status))
    .every((e) => rx.attempts(m.message_uuid, e.status).length > 0));
  const drainStart = Date.now();
  const drainLog = [];
  let pending = [...acked.entries()];
  while (pending.length > 0 && Date.now() - drainStart < DRAIN_MS) {
    const next = [];
    const passStart = Date.now();
    for (const [key, a] of pending) {
      const s = await look(a);
      state.set(key, s);
      if (!(isDone(a, s) && hasAllWebhooks(s))) next.push([key, a]);
    }
    drainLog.push(`pass over ${pending.length} in ${Date.now() - passStart} ms`);
    pending = next;
    const notFinalYet = pending.filter(([key, a]) => !isDone(a, state.get(key))).length;
    drainLog.push(`${Math.round((Date.now() - drainStart) / 1000)}s: ${pending.length} pending (${notFinalYet} not final)`);
    if (pending.length > 0) await sleep(500);
  }
  t.diagnostic(`drain: ${drainLog.join('; ')}`);
  t.diagnostic(`drained in ${Date.now() - drainStart} ms; ${pending.length} not drained; last webhook `
    + `${(rx.requests.at(-1)?.at ?? 0) - drainStart} ms after the drain started`);

  // --- check --------------------------------------------------------------------------------
  const lost = [];
  const notFinal = [];
  const wrongOutcome = [];
  const missingWebhooks = [];
  const phantomWebhooks = [];
  let duplicateSends = 0;
  let maxSendsOfOne = 0;
  const known = new Set();
  for (const [key, a] of acked) {
    const s = state.get(key);
    if (!s || s.missing) { lost.push(`${key} ${a.uuid} -> ${s?.missing}`); continue; }
    if (!isDone(a, s)) { notFinal.push(`${key} ${a.uuid} ${s.workflowStatus ?? ''} ${s.items.map((m) => m.status)}`); continue; }
    const outcome = s.items.map((m) => m.status).join(',');
    const expected = a.failover ? 'rejected,delivered' : 'delivered';
    if (outcome !== expected || (a.failover && s.workflowStatus !== 'completed')) wrongOutcome.push(`${key} ${a.uuid}: ${outcome} ${s.workflowStatus ?? ''}`);
    for (const m of s.items) {
      known.add(m.message_uuid);
      const statuses = (m.events ?? []).map((e) => e.status);
      const submitted = statuses.filter((x) => x === 'submitted').length;
      if (submitted > 1) duplicateSends += submitted - 1;
      maxSendsOfOne = Math.max(maxSendsOfOne, submitted);
      for (const st of new Set(statuses.filter((x) => EVENT_STATUSES.has(x)))) {
        if (rx.attempts(m.message_uuid, st).length === 0) missingWebhooks.push(`${m.message_uuid} ${m.channel} ${st}`);
      }
      for (const st of new Set(rx.statuses(m.message_uuid))) {
        if (!statuses.includes(st)) phantomWebhooks.push(`${m.message_uuid} ${st} (history ${statuses})`);
      }
    }
  }
  // Webhook duplicates (dedupe key message_uuid + status), over every request received.
  const perKey = new Map();
  for (const r of rx.requests) {
    const k = `${r.json?.message_uuid}/${r.json?.status}`;
    perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
  const duplicateWebhooks = [...perKey.values()].reduce((sum, c) => sum + c - 1, 0);
  const unexpected = new Set(rx.requests.map((r) => r.json?.message_uuid).filter((u) => !known.has(u)));
  const unsigned = rx.requests.filter((r) => !r.signature.ok);
  const webhookBound = CONCURRENCY * KILLS;
  t.diagnostic(`${rx.requests.length} webhooks received, ${perKey.size} distinct events; duplicates ${duplicateWebhooks} `
    + `(bound ${webhookBound} = per_endpoint_concurrency ${CONCURRENCY} x ${KILLS} kills); duplicate sends ${duplicateSends} `
    + `(bound: one per message in flight per kill; max ${maxSendsOfOne} submitted events for one message); webhooks of messages the client never saw acknowledged: ${unexpected.size} `
    + `(recovered: outcome unknown to the client)`);

  // Idempotency keys survived the crashes: a sample of acknowledged requests replays.
  const sample = [...acked.entries()].filter((_, j) => j % Math.max(1, Math.floor(acked.size / 50)) === 0);
  const idemWrong = [];
  for (const [key, a] of sample) {
    let r;
    try {
      // A replay is idempotent: one retry on a connection error is what any client does.
      r = await herald.post(auth, a.body, { 'Idempotency-Key': key }).catch(() => herald.post(auth, a.body, { 'Idempotency-Key': key }));
    } catch (e) {
      const exit = herald.proc ? await Promise.race([herald.exited, sleep(100).then(() => 'still running')]) : 'not running';
      assert.fail(`POST (idempotent replay of ${key}) failed: ${e.message} ${e.cause?.message ?? ''}; herald: ${JSON.stringify(exit)}\nstderr:\n${herald.stderr.slice(-4000)}`);
    }
    if (r.status !== 202 || r.json.message_uuid !== a.uuid || r.headers.get('idempotent-replayed') !== 'true') idemWrong.push(`${key}: ${r.status} ${r.text}`);
  }

  await herald.stop();
  assert.deepEqual(await herald.sql('PRAGMA integrity_check'), ['ok'], 'integrity at the end');
  t.diagnostic(`integrity_check ok after ${integrityChecks} of the kills and at the end`);

  const show = (xs) => `${xs.length}: ${xs.slice(0, 20).join('\n  ')}`;
  assert.equal(lost.length, 0, `acknowledged messages lost ${show(lost)}`);
  assert.equal(notFinal.length, 0, `acknowledged messages not final after ${DRAIN_MS} ms ${show(notFinal)}`);
  assert.equal(wrongOutcome.length, 0, `messages with the wrong outcome ${show(wrongOutcome)}`);
  assert.equal(missingWebhooks.length, 0, `status events without a webhook ${show(missingWebhooks)}`);
  assert.equal(phantomWebhooks.length, 0, `webhooks for events not in the history ${show(phantomWebhooks)}`);
  assert.equal(unsigned.length, 0, `unsigned or badly signed webhooks ${show(unsigned.map((r) => r.signature.reason))}`);
  assert.ok(duplicateWebhooks <= webhookBound, `duplicate webhooks ${duplicateWebhooks} > bound ${webhookBound}`);
  // One duplicate send per message per kill at most (a message is in flight at one kill or a few).
  assert.ok(maxSendsOfOne <= 1 + KILLS, `a message was submitted ${maxSendsOfOne} times`);
  assert.equal(idemWrong.length, 0, `Idempotency-Key replays after the crashes ${show(idemWrong)}`);
});
