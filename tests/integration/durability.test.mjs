// Durability (reliability.md R1, CI tier): a 202 means the message is on disk. Accept 200
// messages, kill -9 the server (with more requests in flight), restart on the same data dir:
// every acknowledged uuid is still there, with its content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, bearer, assertAccepted, sleep, SMS, RCS_TO_SMS } from '../support/herald.mjs';

const N = 200;
const CONCURRENCY = 20;

test(`${N} acknowledged messages survive kill -9 and a restart`, { timeout: 120_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  const app = await herald.createApp('durable');

  const acknowledged = new Map(); // uuid -> {client_ref, channel, workflow_id?}
  const send = async (i, timeout) => {
    const failover = i % 2 === 1;
    const body = failover ? { ...RCS_TO_SMS, client_ref: `d-${i}` } : { ...SMS, client_ref: `d-${i}` };
    const auth = i % 3 === 0 ? bearer(app) : basic(app);
    return { i, failover, res: await herald.post(auth, body, {}, { timeout }) };
  };
  for (let start = 0; start < N; start += CONCURRENCY) {
    const batch = await Promise.all(Array.from({ length: Math.min(CONCURRENCY, N - start) }, (_, k) => send(start + k)));
    for (const { i, failover, res } of batch) {
      const json = assertAccepted(res, { workflow: failover });
      acknowledged.set(json.message_uuid, { client_ref: `d-${i}`, channel: failover ? 'rcs' : 'sms', workflow_id: json.workflow_id });
    }
  }
  assert.equal(acknowledged.size, N);

  // More requests in flight at the moment of the kill: whichever got its 202 must survive too.
  // Kill as soon as the first few of them are answered, while the rest are still in flight.
  let answered = 0;
  const inflight = Array.from({ length: 3 * CONCURRENCY }, (_, k) => send(N + k, 5000)
    .then((r) => { answered++; return r; }, () => null));
  const deadline = Date.now() + 10_000;
  while (answered < 3 && Date.now() < deadline) await sleep(1);
  await herald.kill9();
  let lateAcks = 0;
  for (const r of await Promise.all(inflight)) {
    if (r && r.res.status === 202) {
      lateAcks++;
      acknowledged.set(r.res.json.message_uuid, {
        client_ref: `d-${r.i}`, channel: r.failover ? 'rcs' : 'sms', workflow_id: r.res.json.workflow_id,
      });
    } else if (r) {
      assert.fail(`a request during the kill got ${r.res.status}: ${r.res.text}`);
    }
  }
  t.diagnostic(`${lateAcks} of ${3 * CONCURRENCY} in-flight requests were acknowledged before the kill`);

  // The database is intact after the crash (the sqlite3 shell also recovers the WAL).
  assert.deepEqual(await herald.sql('PRAGMA integrity_check'), ['ok']);

  await herald.start();
  const auth = basic(app);
  const lost = [];
  for (const [uuid, expected] of acknowledged) {
    const res = await herald.getMessage(auth, uuid);
    if (res.status !== 200) { lost.push(uuid); continue; }
    assert.equal(res.json.client_ref, expected.client_ref, uuid);
    assert.equal(res.json.channel, expected.channel, uuid);
    if (expected.workflow_id) {
      const wf = await herald.getWorkflow(auth, expected.workflow_id);
      assert.equal(wf.status, 200, `workflow of ${uuid}`);
      assert.deepEqual(wf.json.items.map((i) => i.channel), ['rcs', 'sms']);
    }
  }
  assert.deepEqual(lost, [], `${lost.length} acknowledged messages lost`);

  // The restarted server keeps accepting, and stops cleanly.
  assertAccepted(await herald.post(auth, SMS));
  await herald.stop();
});

test('repeated kill -9 under load loses nothing acknowledged', { timeout: 180_000 }, async (t) => {
  const herald = await Herald.start();
  t.after(() => herald.close());
  const app = await herald.createApp('crash-loop');
  const acknowledged = [];
  const ROUNDS = 5;
  for (let round = 0; round < ROUNDS; round++) {
    // 10 clients post in a loop; kill -9 once this round has 10 acknowledgements, so the kill
    // lands while requests are being committed and answered.
    let acked = 0;
    let killed = false;
    let n = 0;
    const client = async () => {
      for (let k = 0; k < 1000 && !killed; k++) {
        const r = await herald.post(basic(app), { ...SMS, client_ref: `r${round}-${n++}` }, {}, { timeout: 5000 }).catch(() => null);
        if (r === null) return;
        assert.equal(r.status, 202, r.text);
        acknowledged.push(r.json.message_uuid);
        acked++;
      }
    };
    const clients = Array.from({ length: 10 }, client);
    const deadline = Date.now() + 20_000;
    while (acked < 10 && Date.now() < deadline) await sleep(5);
    killed = true;
    await herald.kill9();
    await Promise.all(clients);
    await herald.start();
  }
  t.diagnostic(`${acknowledged.length} acknowledged across ${ROUNDS} kills`);
  assert.ok(acknowledged.length >= ROUNDS * 10);
  for (const uuid of acknowledged) {
    assert.equal((await herald.getMessage(basic(app), uuid)).status, 200, `lost ${uuid}`);
  }
  await herald.stop();
  assert.deepEqual(await herald.sql('PRAGMA integrity_check'), ['ok']);
});
