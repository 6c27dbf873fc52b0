// Receiver outage isolation (reliability.md R11, decision 0005 "per_endpoint_concurrency"): while
// application A's webhook endpoint is a black hole (accepts the TCP connection, never answers),
// application B's webhooks are not delayed: B's latency stays near its baseline and none of B's
// events needs a retry. A never has more than per_endpoint_concurrency requests open, and after
// A heals its backlog drains.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, assertAccepted, sleep } from '../support/herald.mjs';
import { Receiver } from '../support/receiver.mjs';
import { fastConfig, number, sms } from '../support/delivery.mjs';

const CONCURRENCY = 4;
const RESPONSE_TIMEOUT = 2000;
const cleanup = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)];

// B's webhook delay: from the event (its time in the message history) to the webhook's arrival,
// for n SMS sent 25 ms apart (so B does not queue behind itself).
async function latencies(herald, rx, app, n) {
  const sent = [];
  for (let i = 0; i < n; i++) {
    sent.push(assertAccepted(await herald.post(basic(app), sms(number()))).message_uuid);
    await sleep(25);
  }
  await rx.waitFor(() => sent.every((uuid) => rx.statuses(uuid).includes('delivered')), 15_000, `B's ${n} delivered webhooks`);
  const out = [];
  for (const uuid of sent) {
    const m = (await herald.getMessage(basic(app), uuid)).json;
    for (const e of m.events) out.push(rx.attempts(uuid, e.status)[0].at - Date.parse(e.timestamp));
  }
  return out;
}

test('a black-holed receiver of application A does not delay application B', { timeout: 90_000 }, async (t) => {
  const rxA = await Receiver.start();
  const rxB = await Receiver.start();
  cleanup.push(() => rxA.close(), () => rxB.close());
  const herald = await Herald.start({
    config: fastConfig({ webhooks: { per_endpoint_concurrency: CONCURRENCY, response_timeout_ms: RESPONSE_TIMEOUT, initial_retry_ms: 200, max_retry_ms: 800, give_up_after_ms: 120_000 } }),
  });
  cleanup.push(() => herald.close({ graceful: true }));
  const appA = await herald.createApp('A', { statusUrl: rxA.url('/a') });
  const appB = await herald.createApp('B', { statusUrl: rxB.url('/b') });
  rxA.addSecret(appA);
  rxB.addSecret(appB);

  await latencies(herald, rxA, appA, 2); // warm up: first connections, application keys
  await latencies(herald, rxB, appB, 2);
  const baseline = await latencies(herald, rxB, appB, 20);
  t.diagnostic(`B baseline: p99 ${p99(baseline)} ms, max ${Math.max(...baseline)} ms`);

  // A goes dark, with a backlog of 2 x 20 webhooks.
  rxA.allBlackHole = true;
  const aSent = [];
  for (let i = 0; i < 20; i++) aSent.push(assertAccepted(await herald.post(basic(appA), sms(number()))).message_uuid);
  await rxA.waitFor(() => rxA.inFlight >= CONCURRENCY, 10_000, `A holds ${CONCURRENCY} requests`);

  const during = await latencies(herald, rxB, appB, 20);
  t.diagnostic(`B during A's outage: p99 ${p99(during)} ms, max ${Math.max(...during)} ms`);
  const bound = Math.max(2 * p99(baseline), p99(baseline) + 500); // loose: CI machines are noisy
  assert.ok(p99(during) <= bound, `B's p99 ${p99(during)} ms <= ${bound} ms (2 x baseline p99 ${p99(baseline)})`);
  assert.ok(Math.max(...during) < RESPONSE_TIMEOUT, `no B webhook waited for A's ${RESPONSE_TIMEOUT} ms timeout (max ${Math.max(...during)} ms)`);
  const retried = rxB.requests.filter((r) => r.answered !== 200);
  assert.equal(retried.length, 0, 'B never needed a retry');
  const firstTries = new Map();
  for (const r of rxB.requests) firstTries.set(`${r.json.message_uuid}/${r.json.status}`, (firstTries.get(`${r.json.message_uuid}/${r.json.status}`) ?? 0) + 1);
  assert.ok([...firstTries.values()].every((n) => n === 1), 'each B event sent once');
  rxB.assertAllSigned();

  // Let A's held requests time out and be retried a few times: never more than the cap open.
  await sleep(RESPONSE_TIMEOUT + 1000);
  assert.ok(rxA.maxInFlight <= CONCURRENCY, `A had at most ${CONCURRENCY} requests open (max ${rxA.maxInFlight})`);
  assert.ok(rxA.requests.length >= CONCURRENCY, 'A was tried');

  // A heals: its backlog drains (every event of every A message arrives, signed).
  rxA.allBlackHole = false;
  await rxA.waitFor(() => aSent.every((u) => rxA.attempts(u, 'submitted').some((r) => r.answered === 200)
    && rxA.attempts(u, 'delivered').some((r) => r.answered === 200)), 30_000, "A's backlog drained");
  assert.ok(rxA.maxInFlight <= CONCURRENCY, `A at most ${CONCURRENCY} open while draining (max ${rxA.maxInFlight})`);
  rxA.assertAllSigned();
});
