// Idempotency-Key: replay, conflict, concurrency.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Herald, basic, post, SMS } from '../support/herald.mjs';

let herald;
let app;
before(async () => { herald = new Herald(); app = await herald.createApp('idem'); await herald.start(); });
after(async () => { await herald.stop(); herald.cleanup(); });


test('same key and body replays the first response and creates nothing new', async () => {
  const headers = { 'Idempotency-Key': 'order-1' };
  const first = await post(herald, basic(app), SMS, headers);
  assert.equal(first.status, 202);
  const second = await post(herald, basic(app), SMS, headers);
  const third = await post(herald, basic(app), SMS, headers);
  assert.equal(second.status, 202);
  assert.equal(second.text, first.text);
  assert.equal(third.text, first.text);
  assert.equal(second.headers.get('idempotent-replayed'), 'true');
});

test('concurrent retries of one key create exactly one message', async () => {
  const headers = { 'Idempotency-Key': 'burst-1' };
  const results = await Promise.all(Array.from({ length: 20 }, () => post(herald, basic(app), SMS, headers)));
  const uuids = new Set(results.map((r) => { assert.equal(r.status, 202); return r.json.message_uuid; }));
  assert.equal(uuids.size, 1);
});

test('same key with another body is a 409 and stores nothing', async () => {
  const headers = { 'Idempotency-Key': 'order-2' };
  assert.equal((await post(herald, basic(app), SMS, headers)).status, 202);
  const r = await post(herald, basic(app), { ...SMS, text: 'different' }, headers);
  assert.equal(r.status, 409);
  assert.equal(r.json.type, 'urn:herald:problem:idempotency-key-reused');
});

test('keys are per application and must be printable', async () => {
  const other = await herald.createApp('idem-2');
  const headers = { 'Idempotency-Key': 'shared-key' };
  const a = await post(herald, basic(app), SMS, headers);
  const b = await post(herald, basic(other), SMS, headers);
  assert.notEqual(a.json.message_uuid, b.json.message_uuid);
  assert.equal((await post(herald, basic(app), SMS, { 'Idempotency-Key': 'x'.repeat(256) })).status, 400);
});
