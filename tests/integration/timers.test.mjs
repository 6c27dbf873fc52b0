// Durable timers with bounded memory (issue 4 item 4, decision 0006): the engine holds at most
// [engine] max_held_jobs jobs in memory and only those due within timer_window_ms; the rest
// wait on disk and are paged in as they come due. Here the budget is tiny (8 jobs, a 300 ms
// window) so that almost every timer, send and webhook goes through the on-disk path:
// every dispatch must still switch exactly on its expiry (never early), survive kill -9, and
// report exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number } from '../support/delivery.mjs';

const COUNT = 40;
const PREFIX = '4477005';
const RULES = [{ channel: 'whatsapp', to: `${PREFIX}*`, events: [{ status: 'delivered', after_ms: 20 }] }];

let herald;
let rx;
let auth;
before(async () => {
  rx = await Receiver.start();
  herald = await Herald.start({
    config: fastConfig({ engine: { wait_scale: 0.01, max_held_jobs: 8, timer_window_ms: 300 }, rules: RULES }),
  });
  const app = await herald.createApp('timers', { statusUrl: rx.url('/status') });
  rx.addSecret(app);
  auth = basic(app);
});
after(async () => {
  await herald?.close({ graceful: true });
  await rx?.close();
});

const wa = (to, expiry) => ({
  from: { type: 'whatsapp', number: '447700900009' }, to: { type: 'whatsapp', number: to },
  message: { content: { type: 'text', text: 'wait for read' } }, failover: { expiry_time: expiry, condition_status: 'read' },
});
const sms = (to) => ({ from: { type: 'sms', number: '447700900000' }, to: { type: 'sms', number: to }, message: { content: { type: 'text', text: 'then sms' } } });

test(`${COUNT} dispatches with staggered expiries, 8 jobs held at most, a kill -9 in the middle`, { timeout: 120_000 }, async () => {
  const ids = [];
  for (let i = 0; i < COUNT; i++) {
    // expiry_time 150..540 s, scaled 1.5..5.4 s: most are beyond the 300 ms window when made.
    const expiry = 150 + (i % 40) * 10;
    const to = number(PREFIX);
    const res = await herald.request('/v0.1/dispatch', { method: 'POST', auth, body: { template: 'failover', workflow: [wa(to, expiry), sms(to)] } });
    assert.equal(res.status, 202, res.text);
    ids.push({ id: res.json.dispatch_uuid, expiryMs: expiry * 10 });
  }
  await sleep(1000);
  await herald.restart(); // kill -9: the pending expiries live on disk only
  const deadline = Date.now() + 60_000;
  for (const { id, expiryMs } of ids) {
    const d = await herald.waitGet(auth, `/v0.1/dispatch/${id}`, (x) => x.status !== 'active', Math.max(1000, deadline - Date.now()), `dispatch ${id}`);
    assert.equal(d.status, 'completed', JSON.stringify(d));
    const [first, second] = d.workflow;
    assert.equal(first.outcome, 'expired');
    const submitted = Date.parse(first.events.find((e) => e.status === 'submitted').timestamp);
    const switched = Date.parse(second.events.find((e) => e.status === 'submitted').timestamp);
    assert.ok(switched - submitted >= expiryMs - 10, `${id}: switched after ${switched - submitted} ms, expiry ${expiryMs} ms (never early)`);
  }
  await sleep(500);
  for (const { id } of ids) {
    const reps = rx.requests.filter((r) => r.json?.dispatch_uuid === id && r.json?.template === 'failover');
    assert.ok(reps.length >= 1, `${id}: final report`);
    // At least once across the kill: a report in flight at the crash may be posted twice.
    assert.ok(reps.length <= 2, `${id}: ${reps.length} reports`);
  }
  const pending = await herald.sql("SELECT count(*) FROM job WHERE state = 'pending'");
  assert.deepEqual(pending, ['0'], 'no job left behind');
});
