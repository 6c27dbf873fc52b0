// The test harness checks itself: the webhook receiver verifies good signatures and refuses bad
// ones, follows its scripts, holds black-holed requests, and its waits are bounded; toToml writes
// what herald.toml needs. No herald needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Receiver, sha256hex } from '../support/receiver.mjs';
import { hs256Jwt, toToml } from '../support/herald.mjs';

const APP = { application_id: 'aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab', api_key: 'abc123', signature_secret: 'sig-secret-0123456789abcdef' };

function signed(body, { secret = APP.signature_secret, claims = {} } = {}) {
  return hs256Jwt(secret, {
    iat: Math.floor(Date.now() / 1000), jti: `${Math.random()}`, iss: 'Vonage', payload_hash: sha256hex(Buffer.from(body)),
    api_key: APP.api_key, application_id: APP.application_id, ...claims,
  });
}

function post(url, body, token, timeout = 3000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
    });
    req.setTimeout(timeout, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

test('receiver: verifies signatures with @vonage/jwt and payload_hash; scripts; black hole; bounded waits', { timeout: 20_000 }, async () => {
  const rx = await Receiver.start();
  try {
    rx.addSecret(APP);
    const body = JSON.stringify({ message_uuid: 'u1', status: 'submitted' });
    assert.equal((await post(rx.url('/s'), body, signed(body))).status, 200);
    assert.equal((await post(rx.url('/s'), body, signed(body, { secret: 'wrong' }))).status, 200);
    assert.equal((await post(rx.url('/s'), body, signed('{}'))).status, 200);
    assert.equal((await post(rx.url('/s'), body, signed(body, { claims: { iss: 'x' } }))).status, 200);
    assert.equal((await post(rx.url('/s'), body)).status, 200);
    const [good, wrongKey, wrongHash, wrongIss, none] = rx.requests;
    assert.ok(good.signature.ok, good.signature.reason);
    assert.match(wrongKey.signature.reason, /verifySignature = false/);
    assert.match(wrongHash.signature.reason, /payload_hash/);
    assert.match(wrongIss.signature.reason, /iss/);
    assert.match(none.signature.reason, /no Bearer/);
    assert.throws(() => rx.assertAllSigned());

    rx.scriptEach('/e', [503, { status: 429, retryAfter: 7 }]);
    const b2 = JSON.stringify({ message_uuid: 'u2', status: 'delivered' });
    const b3 = JSON.stringify({ message_uuid: 'u3', status: 'delivered' });
    assert.equal((await post(rx.url('/e'), b2)).status, 503);
    assert.equal((await post(rx.url('/e'), b3)).status, 503, 'each event has its own sequence');
    const r = await post(rx.url('/e'), b2);
    assert.deepEqual([r.status, r.retryAfter], [429, '7']);
    assert.equal((await post(rx.url('/e'), b2)).status, 200);
    assert.equal(rx.attempts('u2', 'delivered').length, 3);

    rx.script('/q', [500], { after: 404 });
    assert.equal((await post(rx.url('/q'), body)).status, 500);
    assert.equal((await post(rx.url('/q'), body)).status, 404);

    rx.blackHole('/hole');
    await assert.rejects(post(rx.url('/hole'), body, undefined, 300), /timeout/);
    assert.equal(rx.requests.at(-1).answered, null, 'recorded, never answered');
    await assert.rejects(rx.waitFor(() => false, 100, 'never'), /never not met in 100 ms/);
    assert.equal((await rx.waitForStatuses('u1', ['submitted'], 100)).length, 8, 'five on /s, two on /q, one held');
  } finally {
    await rx.close();
  }
});

test('toToml writes tables, sub-tables, arrays of tables with inline events', () => {
  const text = toToml({
    engine: { send_attempts: 3, undeliverable_failover: false },
    routes: { sms: ['simulator', 'sim-backup'] },
    connectors: { 'sim-backup': { type: 'simulator' } },
    simulator: { delivered_after_ms: 30, rules: [{ channel: 'rcs', to: '4477*', events: [{ status: 'rejected', after_ms: 50, error: 1300 }] }] },
  });
  assert.equal(text, [
    '[engine]', 'send_attempts = 3', 'undeliverable_failover = false', '',
    '[routes]', 'sms = ["simulator", "sim-backup"]', '',
    '[connectors.sim-backup]', 'type = "simulator"', '',
    '[simulator]', 'delivered_after_ms = 30', '',
    '[[simulator.rules]]', 'channel = "rcs"', 'to = "4477*"', 'events = [{ status = "rejected", after_ms = 50, error = 1300 }]', '',
  ].join('\n'));
});
