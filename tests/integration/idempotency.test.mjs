// Idempotency-Key (reliability.md R3): retries replay the first response byte for byte and
// create nothing new — sequentially, concurrently and across kill -9; another body is a 409.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Herald, basic, bearer, assertAccepted, assertProblem, SMS, RCS_TO_SMS } from '../support/herald.mjs';

let herald;
let app;
before(async () => {
  herald = await Herald.start();
  app = await herald.createApp('idem');
});
after(() => herald?.close({ graceful: true }));

const countByRef = async (ref) => Number((await herald.sql(`SELECT count(*) FROM message WHERE client_ref = '${ref}'`))[0]);
const countWorkflows = async () => Number((await herald.sql('SELECT count(*) FROM workflow'))[0]);

test('same key and body three times in a row: same status, byte-identical body, one message', { timeout: 30_000 }, async () => {
  const ref = `seq-${randomUUID()}`;
  const body = { ...SMS, client_ref: ref };
  const headers = { 'Idempotency-Key': randomUUID() };
  const first = await herald.post(basic(app), body, headers);
  assertAccepted(first);
  assert.equal(first.headers.get('idempotent-replayed'), null, 'the first answer is not a replay');
  for (let i = 0; i < 2; i++) {
    const again = await herald.post(basic(app), body, headers);
    assert.equal(again.status, first.status);
    assert.equal(again.text, first.text, 'byte-identical body');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.notEqual(again.requestId, first.requestId, 'each response still has its own request id');
  }
  assert.equal(await countByRef(ref), 1);
});

test('JWT and Basic retries of one key are the same application', { timeout: 30_000 }, async () => {
  const ref = `mixed-${randomUUID()}`;
  const headers = { 'Idempotency-Key': randomUUID() };
  const first = await herald.post(basic(app), { ...SMS, client_ref: ref }, headers);
  const second = await herald.post(bearer(app), { ...SMS, client_ref: ref }, headers);
  assert.equal(second.text, first.text);
  assert.equal(await countByRef(ref), 1);
});

test('concurrent retries of one key: identical bodies, exactly one message', { timeout: 30_000 }, async () => {
  for (const n of [3, 20]) {
    const ref = `burst-${n}-${randomUUID()}`;
    const headers = { 'Idempotency-Key': randomUUID() };
    const results = await Promise.all(Array.from({ length: n }, () => herald.post(basic(app), { ...SMS, client_ref: ref }, headers)));
    assertAccepted(results[0]);
    for (const r of results) {
      assert.equal(r.status, 202, r.text);
      assert.equal(r.text, results[0].text);
    }
    assert.equal(await countByRef(ref), 1, `${n} concurrent requests`);
  }
});

test('a failover request replays with the same workflow and creates one workflow', { timeout: 30_000 }, async () => {
  const before = await countWorkflows();
  const headers = { 'Idempotency-Key': randomUUID() };
  const results = await Promise.all(Array.from({ length: 5 }, () => herald.post(basic(app), RCS_TO_SMS, headers)));
  const first = assertAccepted(results[0], { workflow: true });
  for (const r of results) assert.equal(r.text, results[0].text);
  assert.equal(await countWorkflows(), before + 1);
  assert.equal((await herald.getWorkflow(basic(app), first.workflow_id)).json.items.length, 2);
});

test('same key with a different body: 409 problem, nothing stored', { timeout: 30_000 }, async () => {
  const ref = `conflict-${randomUUID()}`;
  const headers = { 'Idempotency-Key': randomUUID() };
  const first = await herald.post(basic(app), { ...SMS, client_ref: ref }, headers);
  assertAccepted(first);
  const other = await herald.post(basic(app), { ...SMS, client_ref: ref, text: 'different' }, headers);
  const problem = assertProblem(other, 409);
  assert.equal(problem.type, 'urn:herald:problem:idempotency-key-reused');
  assert.equal(await countByRef(ref), 1);
  // The original still replays after the conflict.
  assert.equal((await herald.post(basic(app), { ...SMS, client_ref: ref }, headers)).text, first.text);
});

test('a refused request is not remembered: fix it and retry with the same key', { timeout: 30_000 }, async () => {
  const headers = { 'Idempotency-Key': randomUUID() };
  assertProblem(await herald.post(basic(app), { ...SMS, to: '1' }, headers), 422);
  assertAccepted(await herald.post(basic(app), SMS, headers));
});

test('keys are per application', { timeout: 30_000 }, async () => {
  const other = await herald.createApp('idem-other');
  const headers = { 'Idempotency-Key': `shared-${randomUUID()}` };
  const a = assertAccepted(await herald.post(basic(app), SMS, headers));
  const b = assertAccepted(await herald.post(basic(other), SMS, headers));
  assert.notEqual(a.message_uuid, b.message_uuid);
});

test('an over-long key is a 400', { timeout: 30_000 }, async () => {
  assertProblem(await herald.post(basic(app), SMS, { 'Idempotency-Key': 'x'.repeat(256) }), 400);
  assertAccepted(await herald.post(basic(app), SMS, { 'Idempotency-Key': 'x'.repeat(255) }));
});

test('the key survives kill -9: the retry after a restart replays the first answer', { timeout: 60_000 }, async (t) => {
  const h = await Herald.start();
  t.after(() => h.close());
  const crashApp = await h.createApp('idem-crash');
  const ref = `crash-${randomUUID()}`;
  const headers = { 'Idempotency-Key': randomUUID() };
  const body = { ...SMS, client_ref: ref };
  const first = await h.post(basic(crashApp), body, headers);
  assertAccepted(first);
  await h.kill9();
  await h.start();
  const again = await h.post(basic(crashApp), body, headers);
  assert.equal(again.status, 202);
  assert.equal(again.text, first.text);
  assert.equal(Number((await h.sql(`SELECT count(*) FROM message WHERE client_ref = '${ref}'`))[0]), 1);
  assertProblem(await h.post(basic(crashApp), { ...body, text: 'other' }, headers), 409);
  await h.stop();
});
